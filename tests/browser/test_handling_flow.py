"""Stages 1–5 in the browser: a joint proposal from submission to a co-handling opinion.

Each person works in their own browser context, as they would on their own machine.
Buttons are found by their name/value or form, never by their text: the catalog may
still be English or already Chinese.
"""

import re

import pytest
from django.urls import reverse
from playwright.sync_api import expect

from proposals import access
from proposals.models import Assignment, CoOpinion, Proposal, ProposalProposer

from .conftest import log_in

State = Proposal.State
TITLE = "关于建设梁平区科技成果转化中心的建议"
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"


@pytest.fixture
def private_media(settings, tmp_path):
    # The live server runs in this process, so the override reaches it.
    settings.MEDIA_ROOT = tmp_path / "private"
    return settings.MEDIA_ROOT


@pytest.fixture
def open_as(browser, live_server):
    """A logged-in page for a user, in a browser context of their own."""
    contexts = []

    def open_page(username, **options):
        context = browser.new_context(locale="zh-CN", timezone_id="Asia/Shanghai", **options)
        context.set_default_timeout(15_000)
        contexts.append(context)
        page = context.new_page()
        log_in(page, live_server, username)
        return page

    yield open_page
    for context in contexts:
        context.close()


def url(live_server, name, *args):
    return live_server.url + reverse(name, args=args)


def detail_url_pattern(live_server):
    """The page of some proposal (its pk is not known before it is created)."""
    example = reverse("proposals:detail", args=[1])
    return re.compile(re.escape(live_server.url + example[: -len("1/")]) + r"\d+/$")


def test_a_joint_proposal_goes_from_submission_to_a_co_handling_opinion(
    live_world, live_server, open_as, private_media, tmp_path
):
    world = live_world
    on_detail = detail_url_pattern(live_server)

    # 1. 张华 writes a joint proposal with 李四 and submits it: it waits for 李四.
    zhanghua = open_as("zhanghua")
    zhanghua.click(f"a[href='{reverse('proposals:create')}']")
    zhanghua.wait_for_url(url(live_server, "proposals:create"))
    zhanghua.fill("input[name=title]", TITLE)
    zhanghua.fill("textarea[name=reasons]", "梁平区科技成果转化渠道不畅，企业承接能力弱。")
    zhanghua.fill("textarea[name=suggestions]", "一、建设区级科技成果转化中心；二、设立转化基金。")
    zhanghua.select_option("select[name=category]", str(world.category.pk))
    zhanghua.check(f"input[name=cosigners][value='{world.lisi_proposer.pk}']")
    zhanghua.click("button[name=action][value=submit]")
    zhanghua.wait_for_url(on_detail)

    proposal = Proposal.objects.get(title=TITLE)
    assert zhanghua.url == url(live_server, "proposals:detail", proposal.pk)
    assert proposal.state == State.AWAITING_COSIGNERS
    assert proposal.kind == Proposal.Kind.COSIGNED
    assert proposal.category == world.category
    assert proposal.session == world.session
    assert [
        (s.proposer, s.position, s.status) for s in proposal.proposer_list.order_by("position")
    ] == [
        (world.zhanghua_proposer, 0, ProposalProposer.Status.CONFIRMED),
        (world.lisi_proposer, 1, ProposalProposer.Status.PENDING),
    ]
    expect(zhanghua.locator(".proposal-facts .state-awaiting_cosigners")).to_be_visible()
    expect(zhanghua.locator("ol.proposers li", has_text="李四")).to_contain_text(
        re.compile("待|Awaiting")
    )

    # 2. 李四, on his phone, finds the request among his proposals and co-signs: to review.
    lisi = open_as("lisi", viewport={"width": 375, "height": 740}, is_mobile=True, has_touch=True)
    lisi.goto(url(live_server, "proposals:mine"))
    request = lisi.locator(".cosign-requests li", has_text=TITLE)
    expect(request).to_contain_text("张华")
    request.locator("button[name=decision][value=confirm]").click()
    lisi.wait_for_url(url(live_server, "proposals:detail", proposal.pk))

    proposal.refresh_from_db()
    assert proposal.state == State.SUBMITTED
    assert proposal.proposer_list.get(proposer=world.lisi_proposer).status == "confirmed"
    expect(lisi.locator(".proposal-facts .state-submitted")).to_be_visible()
    lisi.goto(url(live_server, "proposals:mine"))
    expect(lisi.locator(".cosign-requests")).to_have_count(0)

    # 3. 提案委 accepts it from the review queue: it gets the next number, 070.
    tiwei = open_as("tiwei")
    tiwei.click(f"a[href='{reverse('proposals:review_queue')}']")
    tiwei.wait_for_url(url(live_server, "proposals:review_queue"))
    row = tiwei.locator("table.list tbody tr", has_text=TITLE)
    expect(row).to_contain_text("张华")
    expect(row).to_contain_text("李四")
    row.locator(f"a[href='{reverse('proposals:review', args=[proposal.pk])}']").click()
    tiwei.wait_for_url(url(live_server, "proposals:review", proposal.pk))
    tiwei.check("input[name=outcome][value=accept]")
    tiwei.click("form.review-form button[type=submit]")
    tiwei.wait_for_url(url(live_server, "proposals:detail", proposal.pk))

    proposal.refresh_from_db()
    assert proposal.state == State.ACCEPTED
    assert proposal.number == 70
    assert proposal.review_outcome == Proposal.ReviewOutcome.ACCEPT
    expect(tiwei.locator("h1")).to_contain_text("第070号")

    # 4. … and assigns it in 会办: 区科技局 leads, 区经济信息委 co-handles.
    tiwei.click(f"a[href='{reverse('proposals:assign', args=[proposal.pk])}']")
    tiwei.wait_for_url(url(live_server, "proposals:assign", proposal.pk))
    # The deadlines come filled in from the rules.
    expect(tiwei.locator("input[name=reply_due]")).not_to_have_value("")
    expect(tiwei.locator("input[name=opinion_due]")).not_to_have_value("")
    # Only the pickers of the chosen mode show: 单办 one unit, 分办 the units, 会办 both lists.
    tiwei.check(f"input[name=mode][value={Proposal.HandlingMode.SPLIT}]")
    expect(tiwei.locator(".field-split_units")).to_be_visible()
    expect(tiwei.locator(".field-lead")).to_be_hidden()
    expect(tiwei.locator(".field-co_units")).to_be_hidden()
    tiwei.check(f"input[name=mode][value={Proposal.HandlingMode.SINGLE}]")
    expect(tiwei.locator(".field-lead")).to_be_visible()
    expect(tiwei.locator(".field-co_units")).to_be_hidden()
    tiwei.check(f"input[name=mode][value={Proposal.HandlingMode.JOINT}]")
    expect(tiwei.locator(".field-co_units")).to_be_visible()
    expect(tiwei.locator(".field-split_units")).to_be_hidden()
    tiwei.select_option("select[name=lead]", str(world.kjj_unit.pk))
    tiwei.check(f"input[name=co_units][value='{world.jxw_unit.pk}']")
    tiwei.click("form.assign-form button[type=submit]")
    tiwei.wait_for_url(url(live_server, "proposals:detail", proposal.pk))

    proposal.refresh_from_db()
    assert proposal.state == State.ASSIGNED
    assert proposal.handling_mode == Proposal.HandlingMode.JOINT
    assignments = list(proposal.assignments.order_by("role"))
    assert [(a.unit, a.role, a.is_active) for a in assignments] == [
        (world.jxw_unit, Assignment.Role.CO, True),
        (world.kjj_unit, Assignment.Role.LEAD, True),
    ]
    co, lead = assignments
    assert lead.reply_due is not None and co.opinion_due is not None
    assert co.opinion_due < lead.reply_due
    assert lead.assigned_by == world.tiwei
    expect(tiwei.locator("section.assignments li.assignment")).to_have_count(2)

    # 5. 区科技局 acknowledges it in the unit inbox: the proposal is in handling.
    kjj = open_as("kjj")
    kjj.click(f"a[href='{reverse('proposals:inbox')}']")
    kjj.wait_for_url(url(live_server, "proposals:inbox"))
    new_row = kjj.locator(f"#new tr[data-assignment='{lead.pk}']")
    expect(new_row).to_contain_text("第070号")
    expect(new_row).to_contain_text(TITLE)
    new_row.locator("form[action$='/acknowledge/'] button[type=submit]").click()
    kjj.wait_for_url(url(live_server, "proposals:inbox"))

    lead.refresh_from_db()
    proposal.refresh_from_db()
    assert lead.acknowledged_by == world.kjj
    assert lead.acknowledged_at is not None
    assert proposal.state == State.HANDLING
    expect(kjj.locator(f"#new tr[data-assignment='{lead.pk}']")).to_have_count(0)
    expect(kjj.locator(f"#handling tr[data-assignment='{lead.pk}']")).to_have_count(1)
    # The lead now waits for 区经济信息委.
    expect(kjj.locator(f"#waiting tr[data-assignment='{lead.pk}'] .outstanding")).to_have_text(
        "区经济信息委"
    )

    # 6. 区经济信息委 writes its opinion, with a PDF, and sends it to the lead unit.
    attachment = tmp_path / "会办意见.pdf"
    attachment.write_bytes(PDF)
    jxw = open_as("jxw")
    jxw.goto(url(live_server, "proposals:detail", proposal.pk))
    jxw.click(f"a[href='{reverse('proposals:opinion', args=[co.pk])}']")
    jxw.wait_for_url(url(live_server, "proposals:opinion", co.pk))
    opinion_title = "重庆市梁平区经济和信息化委员会关于第070号提案的会办意见"
    expect(jxw.locator("input[name=title]")).to_have_value(opinion_title)
    jxw.fill("input[name=doc_number]", "梁平经信函〔2024〕8号")
    jxw.fill("textarea[name=body]", "一、支持建设科技成果转化中心；二、在工业园区提供场地。")
    jxw.fill("input[name=signatory]", "王局长")
    jxw.set_input_files("input[name=attachment]", str(attachment))
    jxw.click("form[enctype='multipart/form-data'] button[type=submit]")
    jxw.wait_for_url(url(live_server, "proposals:detail", proposal.pk))

    opinion = CoOpinion.objects.get(assignment=co)
    assert opinion.sent_at is not None
    assert opinion.title == opinion_title
    assert opinion.doc_number == "梁平经信函〔2024〕8号"
    assert opinion.created_by == world.jxw
    assert opinion.attachment.name.endswith(".pdf")
    assert (private_media / opinion.attachment.name).read_bytes() == PDF
    proposal.refresh_from_db()
    assert proposal.state == State.HANDLING
    assert access.visible_opinions(world.kjj, proposal).filter(pk=opinion.pk).exists()

    # 7. 区科技局 sees the opinion on the proposal page, and nothing is outstanding any more.
    kjj.goto(url(live_server, "proposals:detail", proposal.pk))
    article = kjj.locator(f"article.opinion[data-opinion='{opinion.pk}']")
    expect(article.locator("h3")).to_have_text(opinion_title)
    expect(article).to_contain_text("梁平经信函〔2024〕8号")
    expect(article).to_contain_text("二、在工业园区提供场地。")
    expect(kjj.locator(".opinions .outstanding")).to_have_count(0)
    download = kjj.request.get(
        live_server.url + reverse("proposals:opinion_attachment", args=[opinion.pk])
    )
    assert download.status == 200
    assert download.headers["content-type"] == "application/pdf"
    assert download.body() == PDF
