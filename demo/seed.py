"""What the demo contains: the real reply letter to proposal 069, and invented proposals.

`fixtures/reply-letter-069.txt` is the 069 page as copied from the district
website, kept byte for byte. The copy lost the full-width punctuation of the
original letter (，：；（）became ,:;()), so `seed_letter` puts it back; the
wording is the seed's, unchanged. Everything else here is invented; the
`load_demo` command turns it into rows.
"""

import datetime
import re
from pathlib import Path

from proposals.models import Proposal
from replies.models import ReplyLetter

SEED_FILE = Path(__file__).resolve().parent / "fixtures" / "reply-letter-069.txt"

# Half-width punctuation in the web copy → what a Chinese letter uses. Decimal
# points ("2.6亿元") stay as they are.
FULL_WIDTH = str.maketrans({",": "，", ":": "：", ";": "；", "(": "（", ")": "）"})


def seed_paragraphs():
    """The page's non-empty lines, stripped (the page puts one paragraph per line)."""
    text = SEED_FILE.read_text(encoding="utf-8")
    return [line.strip() for line in text.splitlines() if line.strip()]


def seed_letter():
    """The letter's parts, as the demo data stores them."""
    paragraphs = seed_paragraphs()
    title = next(p for p in paragraphs if p.endswith("第069号提案的答复函"))
    start = next(i for i, p in enumerate(paragraphs) if p.startswith("你提出的"))
    closing = next(i for i, p in enumerate(paragraphs) if p.startswith("此答复函"))
    # The closing paragraph is the attestation followed by the standard receipt
    # invitation, which the public page adds itself.
    attestation = paragraphs[closing].split("。")[0] + "。"
    date_text = next(p for p in paragraphs if p.startswith("日期"))
    letter_date = datetime.date.fromisoformat(re.search(r"\d{4}-\d{2}-\d{2}", date_text)[0])
    return {
        "title": title,
        "proposer": paragraphs[paragraphs.index(date_text) + 1],
        "body": "\n\n".join(p.translate(FULL_WIDTH) for p in paragraphs[start:closing]),
        "attestation": attestation,
        "unit_name": paragraphs[closing + 1],
        "letter_date": letter_date,
    }


# Invented letters for the other demo proposals.

BODY_012 = """你提出的《关于加强中小学课后服务的建议》（第012号提案）收悉，现答复如下：

课后服务是解决家长按时接送学生困难、促进学生健康成长的重要举措。你提出的建议对我区做好课后服务工作很有参考价值。

一、扩大课后服务覆盖面

全区义务教育学校全面开展课后服务，实行家长自愿、学校组织、分类实施，做到有需求的学生应管尽管。

二、丰富课后服务内容

各校在做好作业辅导的同时，开设体育、艺术、科普、劳动等兴趣活动，引入校外优质资源进校园。

三、健全保障机制

将课后服务工作量纳入教师绩效考核，合理安排教师弹性上下班，确保课后服务可持续开展。

感谢你对教育工作的关心和支持！"""

BODY_031 = """你提出的《关于完善农村公路养护机制的建议》（第031号提案）收悉，现答复如下：

一、落实分级养护责任

全面推行农村公路“路长制”，落实区、镇、村三级路长责任，明确各级养护主体和养护标准。

二、拓宽养护资金渠道

积极争取上级补助资金，区级财政按规定安排养护资金，鼓励社会力量参与农村公路养护。

三、推进专业化养护

逐步推行农村公路养护市场化改革，通过政府购买服务方式选择专业养护队伍，提高养护质量和效率。

感谢你对交通工作的关心和支持！"""

BODY_047 = """你们提出的《关于推进城区老旧小区改造的建议》（第047号提案）收悉，经与双桂街道共同研究办理，现答复如下：

一、纳入年度改造计划

对城区2000年以前建成的老旧小区进行全面摸底，将符合条件的小区纳入年度改造计划，分批实施。

二、一小区一方案

改造前入户征求居民意见，居民反映集中的屋面漏水、雨污管网、停车难等问题优先纳入改造内容。

三、建立长效管理机制

指导改造后的小区成立业主委员会或引入物业服务，探索社会资本参与改造和后续管理。

感谢你们对城市建设工作的关心和支持！"""

SUMMARY_047 = (
    "区住房城乡建委会同双桂街道对城区老旧小区改造工作进行了研究：一是将符合条件的老旧小区纳入"
    "年度改造计划，分批实施；二是改造前充分征求居民意见，做到一小区一方案；三是建立改造后小区"
    "长效管理机制。"
)

BODY_058 = """你提出的《关于加强基层医疗机构药品配备的建议》（第058号提案）收悉，现答复如下：

一、完善基层药品目录

指导各镇街卫生院根据常见病、慢性病用药需求调整药品目录，保障基层群众基本用药。

二、加强药品供应保障

对个别患者反映的短缺药品逐一核实，协调配送企业及时补货。

感谢你对卫生健康工作的关心和支持！"""

GENERIC_BODY = """{you}提出的《{title}》（{number}提案）收悉，现答复如下：

一、高度重视提案办理

我单位将该提案列入重点工作，主要领导亲自研究，明确分管领导和经办人员，认真研究办理。

二、下一步工作打算

认真吸纳提案所提建议，结合全区实际细化工作措施，加强与相关部门的协调配合，及时向提案人通报进展。

感谢{you}对我们工作的关心和支持！"""


# --- the proposals ----------------------------------------------------------------------------
# Each spec says how far a proposal got; the load_demo command builds it and its history.

S, L = Proposal.State, ReplyLetter.State
MEETING, FORUM, PHONE, VISIT = "meeting", "forum", "phone", "visit"

CASE_069 = {
    "number": 69,
    "title": "关于加快创建国家级高新区的建议",
    "category": "经济建设",
    "proposers": ["张华"],
    "state": S.CLOSED,
    "reasons": (
        "高新区是推动区域科技创新和产业转型升级的重要载体。梁平工业园区经过多年发展，"
        "已形成集成电路、食品加工、新材料等主导产业，具备创建国家级高新区的基础，"
        "但在体制机制、政策支持、创新资源集聚等方面与先进地区相比仍有差距。"
    ),
    "suggestions": (
        "一是创新工作机制，抓实企业服务；二是加大政策支持，强化资源统筹；"
        "三是积极引资引智，集聚发展动能，力争“十四五”期间成功创建国家级高新区。"
    ),
    "submitted": "2022-01-11 09:30",
    "reviewed": "2022-02-14 15:00",
    "lead": "kjj",
    "co": ["jxw", "gyyq", "zsj"],
    "assigned": "2022-03-01 10:00",
    "reply_due": "2022-08-01",  # plenary proposals here get five months
    "acknowledged": {
        "kjj": "2022-03-02 09:15",
        "jxw": "2022-03-02 10:40",
        "gyyq": "2022-03-03 09:00",
        "zsj": "2022-03-03 14:30",
    },
    "opinions": {
        # unit: (sent, document number, text)
        "jxw": (
            "2022-04-06 16:00",
            33,
            "我委结合工作职能，提出会办意见如下：一是完善服务专员工作制度，组织业务骨干组成企业"
            "服务专员，每月至少走访企业1次，及时解决企业生产经营中的实际问题；二是落实《推动经济"
            "高质量发展纾困惠企十条激励措施（试行）》，加大对园区工业企业的支持力度。",
        ),
        "gyyq": (
            "2022-04-07 11:00",
            15,
            "我委提出会办意见如下：一是设立高新区一站式服务大厅，为企业提供一站式政务服务；"
            "二是加快推进科创中心商业配套设施、高新区租赁性保障住房等项目建设，完善园区公共服务体系。",
        ),
        "zsj": (
            "2022-04-08 15:30",
            21,
            "我局提出会办意见如下：一是坚持以商招商、外引内培，围绕集成电路、食品加工、新材料三大"
            "主导产业组建产业招商组；二是建立签约项目落地服务专班，按照一个项目、一名领导、"
            "一名专员的要求抓好项目落地服务。",
        ),
    },
    "contact": (
        "2022-05-18",
        MEETING,
        True,
        "区科技局主要领导、经办人；张华委员",
        "当面听取张华委员对创建国家级高新区的意见建议，通报办理思路和工作进展，张华委员表示认可。",
    ),
    # Title, body, attestation and date come from the seed file.
    "letter": {
        "state": L.PUBLISHED,
        "result_class": "B",
        "doc": 45,
        "drafted": "2022-07-11 16:00",
        "submitted": "2022-07-18 10:00",
        "signed": "2022-07-20 09:00",
        "sent": "2022-07-20 10:30",
        "published": "2022-07-20 16:00",
    },
    "receipt": {
        "submitted": "2022-07-27 20:15",
        "attitude": "satisfied",
        "result": "satisfied",
        "channel": "online",
        "contact_method": MEETING,
        "leader": True,
    },
    "closed": "2022-08-10 10:00",
}

# The other plenary proposals of the session, all decided or finished in 2022.
PLENARY_PROPOSALS = [
    {
        "number": 12,
        "title": "关于加强中小学课后服务的建议",
        "category": "科教文卫",
        "proposers": ["王芳"],
        "state": S.CLOSED,
        "submitted": "2022-01-11 14:00",
        "reviewed": "2022-02-14 15:00",
        "lead": "jw",
        "assigned": "2022-03-01 10:00",
        "acknowledged": {"jw": "2022-03-02 09:00"},
        "contact": ("2022-05-10", PHONE, False, "区教委经办人；王芳委员", ""),
        "letter": {
            "state": L.PUBLISHED,
            "result_class": "A",
            "body": BODY_012,
            "doc": 31,
            "drafted": "2022-06-15 15:00",
            "submitted": "2022-06-20 10:00",
            "signed": "2022-06-27 17:00",
            "sent": "2022-06-28 09:00",
            "published": "2022-06-28 15:00",
        },
        "receipt": {
            "submitted": "2022-07-05 19:40",
            "attitude": "satisfied",
            "result": "basically",
            "channel": "online",
            "contact_method": PHONE,
            "leader": False,
        },
        "closed": "2022-07-15 10:00",
    },
    {
        "number": 31,
        "title": "关于完善农村公路养护机制的建议",
        "category": "城乡建设",
        "proposers": ["赵磊"],
        "state": S.REPLIED,
        "submitted": "2022-01-12 10:00",
        "reviewed": "2022-02-14 15:00",
        "lead": "jtj",
        "assigned": "2022-03-01 10:00",
        "acknowledged": {"jtj": "2022-03-03 10:00"},
        "contact": ("2022-04-20", VISIT, True, "区交通局分管领导；赵磊委员", ""),
        "letter": {
            "state": L.PUBLISHED,
            "result_class": "B",
            "body": BODY_031,
            "doc": 27,
            "drafted": "2022-06-25 15:00",
            "submitted": "2022-06-30 10:00",
            "signed": "2022-07-06 16:00",
            "sent": "2022-07-07 09:30",
            "published": "2022-07-08 10:00",
            # (when, reason, right, wrong): the first version said 县、乡、村.
            "correction": (
                "2022-07-12 14:00",
                "将“县、乡、村”更正为“区、镇、村”。",
                "区、镇、村",
                "县、乡、村",
            ),
        },
    },
    {
        "number": 47,
        "title": "关于推进城区老旧小区改造的建议",
        "category": "城乡建设",
        "proposers": ["民盟梁平区委"],
        "state": S.CLOSED,
        "submitted": "2022-01-12 11:00",
        "reviewed": "2022-02-14 15:00",
        "lead": "zjw",
        "co": ["sgjd"],
        "assigned": "2022-03-01 10:00",
        "acknowledged": {"zjw": "2022-03-02 11:00", "sgjd": "2022-03-02 15:00"},
        "opinions": {
            "sgjd": ("2022-03-28 16:00", 9, "我街道将配合做好辖区老旧小区摸底和居民意见征集工作。")
        },
        "contact": ("2022-05-06", FORUM, True, "区住房城乡建委、双桂街道；民盟梁平区委", ""),
        "letter": {
            "state": L.PUBLISHED,
            "result_class": "B",
            "body": BODY_047,
            "disclosure": ReplyLetter.Disclosure.SUMMARY,
            "public_summary": SUMMARY_047,
            "doc": 52,
            "drafted": "2022-07-20 15:00",
            "submitted": "2022-07-25 10:00",
            "signed": "2022-07-29 16:00",
            "sent": "2022-08-01 09:30",
            "published": "2022-08-05 10:00",
        },
        "receipt": {
            "submitted": "2022-08-12 10:00",
            "attitude": "basically",
            "result": "basically",
            "channel": "paper",
            "contact_method": FORUM,
            "leader": True,
        },
        "closed": "2022-08-20 10:00",
    },
    {
        "number": 58,
        "title": "关于加强基层医疗机构药品配备的建议",
        "category": "社会事业",
        "proposers": ["陈静"],
        "state": S.REPLIED,
        "consent_to_publish": False,
        "no_publish_reason": "答复涉及患者个人信息。",
        "submitted": "2022-01-11 16:00",
        "reviewed": "2022-02-14 15:00",
        "lead": "wjw",
        "assigned": "2022-03-01 10:00",
        "acknowledged": {"wjw": "2022-03-02 09:30"},
        "contact": ("2022-05-25", MEETING, False, "区卫生健康委经办人；陈静委员", ""),
        "letter": {
            "state": L.SENT,
            "result_class": "A",
            "body": BODY_058,
            "disclosure": ReplyLetter.Disclosure.NONE,
            "nondisclosure_reason": "答复涉及患者个人信息，不予公开。",
            "doc": 38,
            "drafted": "2022-07-15 15:00",
            "submitted": "2022-07-20 10:00",
            "signed": "2022-07-27 16:00",
            "sent": "2022-07-28 09:30",
        },
    },
    {
        "title": "关于支持梁平高新区建设的建议",
        "category": "经济建设",
        "proposers": ["刘强"],
        "state": S.MERGED,
        "submitted": "2022-01-11 15:00",
        "reviewed": "2022-02-14 15:00",
        "merged_into": 69,
        "review_comment": "与第069号提案内容相近，并入第069号提案办理。",
    },
    {
        "title": "关于解决本人子女入学问题的建议",
        "category": "科教文卫",
        "proposers": ["刘强"],
        "state": S.REJECTED,
        "submitted": "2022-01-12 09:00",
        "reviewed": "2022-02-14 15:00",
        "rejection_reason": "personal",
        "review_comment": "所提事项属个人事务，不予立案，建议通过信访等渠道反映。",
    },
    {
        "title": "关于增设双桂街道公交站台的建议",
        "category": "城乡建设",
        "proposers": ["赵磊"],
        "state": S.CONVERTED,
        "submitted": "2022-01-12 15:00",
        "reviewed": "2022-02-14 15:00",
        "review_comment": "所提事项具体单一，转为意见建议，送区交通局研究办理。",
    },
    {
        "title": "关于举办梁平柚文化节的建议",
        "category": "农业农村",
        "proposers": ["梁平区工商联"],
        "state": S.WITHDRAWN,
        "submitted": "2022-01-11 11:00",
        "reviewed": "2022-02-10 10:00",
        "review_comment": "提案单位申请撤案。",
    },
]


def interim_proposals(today):
    """Proposals between sessions, still in progress, dated around `today`."""

    def ago(days, hhmm="10:00"):
        return f"{today - datetime.timedelta(days=days)} {hhmm}"

    def ahead(days):
        return f"{today + datetime.timedelta(days=days)}"

    specs = [
        {
            "title": "关于支持梁平柚产业科技创新的建议",
            "category": "农业农村",
            "proposers": ["张华"],
            "state": S.DRAFT,
            "drafted": ago(1, "21:00"),
        },
        {
            "title": "关于推进中小学科学教育的建议",
            "category": "科教文卫",
            "proposers": ["王芳"],
            "pending": ["张华"],
            "state": S.AWAITING_COSIGNERS,
            "drafted": ago(2, "20:00"),
        },
        {
            "title": "关于加强高标准农田建设管护的建议",
            "category": "农业农村",
            "proposers": ["赵磊"],
            "state": S.SUBMITTED,
            "submitted": ago(3),
        },
        {
            "title": "关于加强明月山生态保护的建议",
            "category": "生态环境",
            "proposers": ["民盟梁平区委"],
            "state": S.SUBMITTED,
            "submitted": ago(2, "15:00"),
        },
        {
            "number": 151,
            "title": "关于优化基层医疗卫生服务的建议",
            "category": "社会事业",
            "proposers": ["陈静"],
            "state": S.ACCEPTED,
            "submitted": ago(9),
            "reviewed": ago(2, "16:00"),
        },
        {
            "number": 152,
            "title": "关于加快科技型企业培育的建议",
            "category": "经济建设",
            "proposers": ["刘强"],
            "state": S.ASSIGNED,
            "submitted": ago(12),
            "reviewed": ago(6),
            "lead": "kjj",
            "assigned": ago(1, "09:30"),
        },
        {
            "number": 153,
            "title": "关于完善农产品冷链物流体系的建议",
            "category": "农业农村",
            "proposers": ["赵磊"],
            "state": S.ASSIGNED,
            "submitted": ago(14),
            "reviewed": ago(7),
            "lead": "nyw",
            "co": ["jtj"],
            "assigned": ago(2, "09:30"),
        },
        {
            "number": 154,
            "title": "关于加强科技人才引进培养的建议",
            "category": "科教文卫",
            "proposers": ["刘强", "张华"],
            "state": S.HANDLING,
            "submitted": ago(40),
            "reviewed": ago(30),
            "lead": "kjj",
            "co": ["jw"],
            "assigned": ago(25, "09:30"),
            "acknowledged": {"kjj": ago(24), "jw": ago(24, "15:00")},
            # Past its deadline, a key proposal the committee supervises (督办).
            "reply_due": ago(1),
            "key": ("区政协副主席王明", ago(20, "15:00")),
            "supervision": (
                ago(3, "09:00"),
                "请区科技局抓紧推进人才引进政策落地，本周内报送办理进展。",
                ago(2, "16:30"),
                "已召开专题会研究，政策文件正在会签，预计下周报送办理进展。",
            ),
        },
        {
            "number": 155,
            "title": "关于推进农业科技成果转化的建议",
            "category": "农业农村",
            "proposers": ["赵磊"],
            "state": S.HANDLING,
            "submitted": ago(60),
            "reviewed": ago(50),
            "lead": "kjj",
            "co": ["nyw"],
            "assigned": ago(45, "09:30"),
            "acknowledged": {"kjj": ago(44), "nyw": ago(44, "14:00")},
            # Due in three days; an extension was asked and approved.
            "reply_due": ahead(3),
            "extension": (
                ago(6, "10:00"),
                ahead(40),
                "需等待市农业农村委年度项目批复后方能明确支持措施。",
                ago(5, "15:00"),
            ),
            "opinions": {
                "nyw": (ago(20, "16:00"), 8, "我委将配合做好农业科技成果转化项目的遴选和推广。")
            },
            "contact": (ago(10)[:10], PHONE, False, "区科技局经办人；赵磊委员", ""),
            "letter": {"state": L.DRAFT, "result_class": "B", "drafted": ago(3, "16:00")},
        },
        {
            "number": 156,
            "title": "关于建设科技创新公共服务平台的建议",
            "category": "经济建设",
            "proposers": ["陈静"],
            "state": S.HANDLING,
            "submitted": ago(70),
            "reviewed": ago(60),
            "lead": "kjj",
            "assigned": ago(55, "09:30"),
            "acknowledged": {"kjj": ago(54)},
            "contact": (ago(20)[:10], MEETING, True, "区科技局主要领导；陈静委员", ""),
            "letter": {
                "state": L.AWAITING_SIGNOFF,
                "result_class": "A",
                "drafted": ago(5, "16:00"),
                "submitted": ago(1, "11:00"),
            },
        },
        {
            "number": 157,
            "title": "关于优化营商环境助推民营经济发展的建议",
            "category": "经济建设",
            "proposers": ["刘强"],
            "state": S.REPLIED,
            "submitted": ago(90),
            "reviewed": ago(80),
            "lead": "jxw",
            "assigned": ago(75, "09:30"),
            "acknowledged": {"jxw": ago(74)},
            "contact": (ago(30)[:10], PHONE, False, "区经济信息委经办人；刘强委员", ""),
            "letter": {
                "state": L.SENT,
                "result_class": "B",
                "doc": 12,
                "drafted": ago(10, "16:00"),
                "submitted": ago(8),
                "signed": ago(6, "17:00"),
                "sent": ago(4),
            },
        },
    ]
    return [{**spec, "period": Proposal.Period.INTERIM} for spec in specs]


def demo_numbers():
    """The proposal numbers the demo gives in its session (第十五届一次会议): 069 and the rest.

    Synthetic data skips them, so the demo and `generate_data` load in either order."""
    specs = [CASE_069, *PLENARY_PROPOSALS, *interim_proposals(datetime.date.today())]
    return {spec["number"] for spec in specs if spec.get("number")}
