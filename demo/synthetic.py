"""Word lists and text builders for synthetic scale data (`manage.py generate_data`).

Pure functions of a `random.Random`: the same seed gives the same text. Nothing here
touches the database.
"""

import datetime

from proposals.models import chinese_numeral

from . import reference

# Generated rows are told apart from real and demo rows by these marks.
USERNAME_PREFIX = "gen_"
UNIT_MARK = "（样本）"

DISTRICT = "重庆市梁平区"

# (full name after the district, short name, unit kind, document-number abbreviation)
UNITS = [
    ("发展和改革委员会", "区发展改革委", "government", "发改"),
    ("经济和信息化委员会", "区经济信息委", "government", "经信"),
    ("教育委员会", "区教委", "government", "教"),
    ("科学技术局", "区科技局", "government", "科技"),
    ("民政局", "区民政局", "government", "民政"),
    ("司法局", "区司法局", "government", "司法"),
    ("财政局", "区财政局", "government", "财"),
    ("人力资源和社会保障局", "区人力社保局", "government", "人社"),
    ("规划和自然资源局", "区规划自然资源局", "government", "规资"),
    ("生态环境局", "区生态环境局", "government", "环"),
    ("住房和城乡建设委员会", "区住房城乡建委", "government", "建"),
    ("城市管理局", "区城市管理局", "government", "城管"),
    ("交通运输委员会", "区交通运输委", "government", "交"),
    ("水利局", "区水利局", "government", "水"),
    ("农业农村委员会", "区农业农村委", "government", "农"),
    ("商务委员会", "区商务委", "government", "商务"),
    ("文化和旅游发展委员会", "区文化旅游委", "government", "文旅"),
    ("卫生健康委员会", "区卫生健康委", "government", "卫健"),
    ("退役军人事务局", "区退役军人事务局", "government", "退役"),
    ("应急管理局", "区应急管理局", "government", "应急"),
    ("审计局", "区审计局", "government", "审"),
    ("市场监督管理局", "区市场监管局", "government", "市监"),
    ("统计局", "区统计局", "government", "统"),
    ("医疗保障局", "区医保局", "government", "医保"),
    ("林业局", "区林业局", "government", "林"),
    ("体育局", "区体育局", "government", "体"),
    ("乡村振兴局", "区乡村振兴局", "government", "振兴"),
    ("大数据应用发展管理局", "区大数据发展局", "government", "数据"),
    ("招商投资促进局", "区招商投资局", "government", "招商"),
    ("机关事务管理局", "区机关事务局", "government", "机关"),
    ("公安局", "区公安局", "government", "公"),
    ("工业园区管理委员会", "工业园区管委会", "government", "园区"),
    ("梁山街道办事处", "梁山街道", "township", "梁山街"),
    ("双桂街道办事处", "双桂街道", "township", "双桂街"),
    ("仁贤街道办事处", "仁贤街道", "township", "仁贤街"),
    ("金带街道办事处", "金带街道", "township", "金带街"),
    ("礼让镇人民政府", "礼让镇", "township", "礼让府"),
    ("云龙镇人民政府", "云龙镇", "township", "云龙府"),
    ("屏锦镇人民政府", "屏锦镇", "township", "屏锦府"),
    ("袁驿镇人民政府", "袁驿镇", "township", "袁驿府"),
    ("新盛镇人民政府", "新盛镇", "township", "新盛府"),
    ("福禄镇人民政府", "福禄镇", "township", "福禄府"),
    ("聚奎镇人民政府", "聚奎镇", "township", "聚奎府"),
    ("明达镇人民政府", "明达镇", "township", "明达府"),
    ("合兴镇人民政府", "合兴镇", "township", "合兴府"),
    ("碧山镇人民政府", "碧山镇", "township", "碧山府"),
    ("虎城镇人民政府", "虎城镇", "township", "虎城府"),
    ("星桥镇人民政府", "星桥镇", "township", "星桥府"),
    ("龙门镇人民政府", "龙门镇", "township", "龙门府"),
    ("文化镇人民政府", "文化镇", "township", "文化府"),
    ("竹山镇人民政府", "竹山镇", "township", "竹山府"),
    ("蟠龙镇人民政府", "蟠龙镇", "township", "蟠龙府"),
    ("供电公司", "梁平供电公司", "public_body", "供电"),
    ("自来水有限公司", "区自来水公司", "public_body", "水司"),
    ("人民医院", "区人民医院", "public_body", "区医院"),
    ("公共交通有限公司", "区公交公司", "public_body", "公交"),
    ("共青团委员会", "团区委", "party_mass", "团"),
    ("妇女联合会", "区妇联", "party_mass", "妇"),
    ("政协提案委员会", "区政协提案委", "committee", "政协提"),
    ("人民政府督查室", "区政府督查室", "supervision", "督查"),
]

# Category → (topics, short names of the units that usually handle them).
CATEGORIES = {
    "经济建设": (
        [
            "数字经济产业发展",
            "中小微企业融资难问题",
            "招商引资项目落地",
            "营商环境优化",
            "工业园区标准厂房建设",
            "民营企业纾困解难",
            "电子商务进农村",
            "夜间经济发展",
            "国家级高新区创建",
            "县域商业体系建设",
        ],
        [
            "区发展改革委",
            "区经济信息委",
            "区商务委",
            "区招商投资局",
            "工业园区管委会",
            "区科技局",
            "区市场监管局",
            "区大数据发展局",
        ],
    ),
    "城乡建设": (
        [
            "老旧小区改造",
            "城市停车难问题",
            "农村公路养护",
            "城区雨污分流改造",
            "背街小巷环境整治",
            "城市公交线网优化",
            "农村危房改造",
            "物业管理服务规范",
            "城市绿道建设",
            "高铁站片区综合开发",
        ],
        [
            "区住房城乡建委",
            "区规划自然资源局",
            "区城市管理局",
            "区交通运输委",
            "区公交公司",
            "区自来水公司",
        ],
    ),
    "农业农村": (
        [
            "梁平柚产业提质增效",
            "高标准农田建设",
            "稻渔综合种养",
            "农村集体经济发展",
            "农产品冷链物流体系",
            "农村人居环境整治",
            "新型职业农民培育",
            "乡村旅游与农业融合",
            "农村宅基地管理",
            "防止规模性返贫",
        ],
        ["区农业农村委", "区乡村振兴局", "区林业局", "区水利局", "区商务委"],
    ),
    "教育科技": (
        [
            "学前教育资源配置",
            "职业教育产教融合",
            "义务教育阶段课后服务",
            "乡村教师队伍建设",
            "校园周边交通安全",
            "科技创新平台建设",
            "中小学心理健康教育",
            "城区学校大班额问题",
            "科技特派员制度",
        ],
        ["区教委", "区科技局", "区人力社保局", "区公安局"],
    ),
    "医疗卫生": (
        [
            "基层医疗卫生服务能力",
            "医养结合服务",
            "家庭医生签约服务",
            "县域医共体建设",
            "院前急救体系",
            "中医药传承发展",
            "城乡居民医保缴费",
            "公共卫生应急能力",
        ],
        ["区卫生健康委", "区医保局", "区人民医院", "区民政局"],
    ),
    "文化旅游": (
        [
            "百里竹海景区提档升级",
            "梁平木版年画保护传承",
            "非物质文化遗产传承",
            "全民健身设施建设",
            "双桂堂文化旅游开发",
            "公共文化服务体系",
            "乡村文化振兴",
            "旅游公共服务设施",
        ],
        ["区文化旅游委", "区体育局", "区林业局"],
    ),
    "生态环境": (
        [
            "河长制落实",
            "农村生活污水治理",
            "双桂湖湿地生态保护",
            "餐厨垃圾分类处理",
            "大气污染联防联控",
            "森林防火能力建设",
            "畜禽养殖污染治理",
        ],
        ["区生态环境局", "区林业局", "区水利局", "区城市管理局"],
    ),
    "社会保障": (
        [
            "居家社区养老服务",
            "高校毕业生就业创业",
            "农民工工资支付保障",
            "困难群众救助",
            "退役军人服务保障",
            "残疾人托养服务",
            "灵活就业人员社会保险",
            "婴幼儿照护服务",
        ],
        ["区人力社保局", "区民政局", "区退役军人事务局", "区医保局", "区妇联", "团区委"],
    ),
    "社会治理": (
        [
            "基层社会治理网格化",
            "电动自行车安全管理",
            "食品安全监管",
            "道路交通安全",
            "矛盾纠纷多元化解",
            "自建房安全排查",
            "防汛减灾体系",
            "社区志愿服务",
        ],
        ["区公安局", "区司法局", "区应急管理局", "区市场监管局", "区民政局"],
    ),
    "政府建设": (
        [
            "政务服务一网通办",
            "财政资金绩效管理",
            "政务数据共享",
            "公共机构节能",
            "审计整改长效机制",
            "统计数据质量",
        ],
        ["区财政局", "区审计局", "区大数据发展局", "区机关事务局", "区统计局"],
    ),
}

PLACES = [
    "我区",
    "城区",
    "全区",
    "农村地区",
    "各镇街",
    "工业园区",
    "双桂湖片区",
    "高铁站片区",
    "明月山沿线",
    "梁山街道",
    "双桂街道",
    "礼让镇",
    "屏锦镇",
    "袁驿镇",
    "福禄镇",
    "碧山镇",
    "竹山镇",
]

ACTIONS = [
    "加快推进",
    "进一步加强",
    "大力发展",
    "切实解决",
    "完善",
    "优化",
    "提升",
    "规范",
    "支持",
    "促进",
    "推动",
    "深化",
]

PROBLEM_ACTIONS = ["切实解决", "着力破解", "妥善解决"]

PROBLEMS = [
    "统筹规划不够，部门之间协调联动不足，存在多头管理、责任不清的现象",
    "资金投入不足，保障机制不健全，项目推进较为缓慢",
    "专业人才缺乏，基层工作人员身兼数职，队伍建设相对滞后",
    "基础设施薄弱，配套服务不完善，群众获得感不强",
    "政策宣传不到位，群众知晓率不高，参与积极性有待提升",
    "监管机制不健全，重建设轻管理，长效管护机制缺失",
    "信息化水平不高，数据共享不畅，工作效率有待提高",
    "区域发展不平衡，城乡之间差距较大，资源配置不够均衡",
    "市场主体培育不足，龙头带动作用不明显，产业链条较短",
    "考核评价体系不完善，激励约束机制作用发挥不充分",
]

SUGGESTIONS = [
    "加强统筹协调，建立由区政府分管领导牵头、相关部门参与的联席会议制度，定期研究解决重点难点问题",
    "加大资金投入，积极争取上级专项资金，同时引导社会资本参与，形成多元化投入格局",
    "加强人才队伍建设，通过定向培养、公开招聘、柔性引进等方式充实专业力量",
    "完善基础设施和配套服务，按照轻重缓急分年度实施，逐步补齐短板",
    "加强政策宣传，充分利用新媒体平台和基层宣讲队伍，提高群众知晓率和参与度",
    "健全长效管理机制，明确管护主体和责任，落实管护经费，确保建得好、管得住",
    "推进数字化建设，打通部门数据壁垒，实现信息共享和业务协同",
    "坚持试点先行，选择基础较好的镇街先行先试，总结经验后在全区推广",
    "完善考核激励机制，将相关工作纳入年度目标考核，强化督查问效",
    "学习借鉴先进地区经验，结合我区实际制定切实可行的实施方案",
]

MEASURES = [
    "制定出台了专项工作方案，明确了目标任务、责任分工和时间节点",
    "会同相关部门开展专题调研，摸清了底数，梳理形成问题清单和任务清单",
    "积极争取上级资金支持，安排专项资金用于项目建设",
    "建立部门联动工作机制，定期召开推进会，协调解决具体问题",
    "组织开展业务培训，提升基层工作人员的专业能力",
    "通过政务新媒体、宣传栏等多种渠道加强政策宣传",
    "选取部分镇街开展试点，形成了可复制可推广的经验做法",
    "将相关工作纳入部门年度目标考核，压实工作责任",
]

NEXT_STEPS = [
    "我们将继续加强与相关部门的沟通协作，持续推动工作落地见效",
    "下一步将把你提出的建议纳入明年工作计划，分步骤组织实施",
    "我们将积极争取政策和资金支持，逐步解决存在的困难和问题",
    "我们将认真研究吸纳你的意见建议，不断完善相关制度措施",
]

C_EXPLANATIONS = [
    "受财力和用地指标等条件限制，该事项目前暂不具备实施条件，我们将在条件成熟时积极推动",
    "该事项涉及上级事权，我们已将有关情况向上级部门反映，待政策明确后再行研究",
]

SURNAMES = (
    "王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗郑梁谢宋唐许韩冯邓曹彭曾肖田董袁潘蒋蔡余杜叶程"
    "魏苏吕丁任沈姚卢傅钟姜崔谭廖范汪陆金石戴贾韦夏邱方侯邹熊孟秦白江阎薛尹段雷黎史龙陶贺顾毛"
)
GIVEN_CHARS = (
    "华明国建军平志勇红英杰敏静丽强磊洋艳娟涛超霞秀兰云鹏飞宇晨欣怡浩然婷玲芳斌波辉刚健亮俊峰"
    "文武春梅雪松林海燕萍琳珊佳悦诚德庆祥瑞鑫嘉思远"
)

# 界别 and the political affiliation that usually goes with it.
SECTORS = [
    ("中共", "中共党员"),
    ("民革", "民革党员"),
    ("民盟", "民盟盟员"),
    ("民建", "民建会员"),
    ("民进", "民进会员"),
    ("农工党", "农工党党员"),
    ("九三学社", "九三学社社员"),
    ("无党派人士", "无党派人士"),
    ("共青团", ""),
    ("工会", ""),
    ("妇联", ""),
    ("工商联", ""),
    ("科技界", ""),
    ("经济界", ""),
    ("农业界", ""),
    ("教育界", ""),
    ("文化艺术界", ""),
    ("医药卫生界", ""),
    ("体育界", ""),
    ("新闻出版界", ""),
    ("社会福利和社会保障界", ""),
    ("少数民族界", ""),
    ("宗教界", ""),
    ("特邀", ""),
]
OPEN_SECTOR_PARTIES = ["中共党员", "中共党员", "群众", "群众", "无党派人士", "民盟盟员", "民建会员"]

# Collective proposers: (proposer kind, name).
COLLECTIVES = [
    ("party", "民革梁平区委员会"),
    ("party", "民盟梁平区委员会"),
    ("party", "民建梁平区委员会"),
    ("party", "民进梁平区委员会"),
    ("party", "农工党梁平区委员会"),
    ("party", "九三学社梁平区基层委员会"),
    ("party", "致公党梁平区支部"),
    ("party", "区工商联"),
    ("group", "区总工会"),
    ("group", "共青团梁平区委"),
    ("group", "区妇联"),
    ("group", "区科协"),
    ("group", "区侨联"),
    ("group", "区残联"),
    ("group", "区文联"),
    ("sector", "区政协经济界别组"),
    ("sector", "区政协教育界别组"),
    ("sector", "区政协科技界别组"),
    ("sector", "区政协农业界别组"),
    ("sector", "区政协医药卫生界别组"),
    ("sector", "区政协文化艺术界别组"),
    ("sector", "区政协社会福利和社会保障界别组"),
    ("sector", "区政协特邀界别组"),
    ("sector", "区政协工商联界别组"),
    ("special_committee", "区政协提案委员会"),
    ("special_committee", "区政协经济委员会"),
    ("special_committee", "区政协农业和农村委员会"),
    ("special_committee", "区政协人口资源环境委员会"),
    ("special_committee", "区政协教科卫体委员会"),
    ("special_committee", "区政协文化文史和学习委员会"),
    ("special_committee", "区政协社会和法制委员会"),
    ("special_committee", "区政协民族宗教委员会"),
    ("special_committee", "区政协港澳台侨和外事委员会"),
    ("special_committee", "区政协城乡建设委员会"),
]

REJECTION_REASONS = reference.REJECTION_REASONS

NO_PUBLISH_REASONS = ["涉及个人隐私", "涉及商业秘密", "涉及正在调查的事项"]
NONDISCLOSURE_REASONS = ["涉及国家秘密", "涉及个人隐私", "涉及商业秘密"]

RECEIPT_OPINIONS = [
    "办理认真，答复具体，感谢承办单位。",
    "希望加快落实，持续跟进。",
    "答复较为原则，建议细化措施和时间表。",
    "承办单位多次沟通，态度诚恳。",
    "问题尚未根本解决，希望继续关注。",
]


def person_name(rng):
    given = rng.choice(GIVEN_CHARS) + (rng.choice(GIVEN_CHARS) if rng.random() < 0.75 else "")
    return rng.choice(SURNAMES) + given


def session_label(term_number, session_number):
    """第十五届委员会第一次会议 — the form used in letter titles."""
    return f"第{chinese_numeral(term_number)}届委员会第{chinese_numeral(session_number)}次会议"


def proposal_title(rng, topic, place):
    """关于加快推进梁山街道老旧小区改造的建议."""
    action = rng.choice(PROBLEM_ACTIONS if topic.endswith("问题") else ACTIONS)
    if place in ("我区", "全区"):
        place = ""
    return f"关于{action}{place}{topic}的建议"


def _numbered(items, style):
    marks = ["一", "二", "三", "四", "五"]
    if style == "paragraph":
        return "\n".join(f"{marks[i]}、{item}。" for i, item in enumerate(items))
    return "".join(f"{marks[i]}是{item}；" for i, item in enumerate(items))[:-1] + "。"


def proposal_reasons(rng, topic, place):
    problems = rng.sample(PROBLEMS, rng.randint(3, 4))
    where = "我区" if place in ("我区", "全区") else place
    return (
        f"{topic}事关群众切身利益，是推动高质量发展、创造高品质生活的重要内容。"
        f"近年来，{where}在{topic}方面做了大量工作，取得了一定成效，但通过调研发现，"
        f"仍存在一些不容忽视的问题：{_numbered(problems, 'inline')}"
        f"这些问题在一定程度上制约了{topic}工作的深入推进，群众反映较为强烈，亟待研究解决。"
    )


def proposal_suggestions(rng, topic):
    suggestions = rng.sample(SUGGESTIONS, rng.randint(3, 4))
    return f"为进一步做好{topic}工作，建议：\n{_numbered(suggestions, 'paragraph')}"


def letter_body(
    rng,
    *,
    title,
    number_label,
    co_units,
    result_class,
    unit_name,
    letter_date,
    unit_short,
    signer_title,
    topic,
):
    """The text of a reply letter, in the order of the seed letter."""
    worked = f"经与{'、'.join(co_units)}等协办单位共同研究办理" if co_units else "经认真研究办理"
    measures = rng.sample(MEASURES, 3)
    parts = [
        f"你提出的《{title}》（{number_label}提案）收悉，{worked}，现答复如下：",
        f"一、基本情况\n{topic}是我们的重点工作之一。近年来，我们{'；'.join(measures)}，"
        "相关工作取得了阶段性成效。",
    ]
    if result_class == "C":
        parts.append(f"二、存在的困难\n{rng.choice(C_EXPLANATIONS)}。")
    else:
        parts.append(f"二、下一步工作\n{rng.choice(NEXT_STEPS)}。")
    parts.append(f"感谢你对{topic}工作的关心和支持！")
    parts.append(f"{unit_name}\n{letter_date.year}年{letter_date.month}月{letter_date.day}日")
    parts.append(f"此答复函已经{unit_short}{signer_title}审签。")
    parts.append("对以上答复有什么意见，请填写在答复函回执单上，以便进一步改进工作。")
    return "\n\n".join(parts)


def co_opinion_body(rng, topic, lead_short):
    return (
        f"{lead_short}：\n贵单位转来的提案收悉。结合我单位职能，现就{topic}提出会办意见如下："
        f"{rng.choice(MEASURES)}。下一步，我们将积极配合做好相关工作。"
    )


def contact_summary(rng, topic):
    return f"就{topic}与提案人沟通，介绍了办理思路，听取了意见，{rng.choice(NEXT_STEPS)}。"


def add_months(day, months):
    """The same day `months` later, or the month's last day (31 Jan + 1 month → 28/29 Feb)."""
    month_index = day.month - 1 + months
    year, month = day.year + month_index // 12, month_index % 12 + 1
    for last in (31, 30, 29, 28):
        try:
            return datetime.date(year, month, min(day.day, last))
        except ValueError:
            continue
    raise ValueError(day)
