"""Who reaches the proposals app's views: every view, every role of `world`.

One table: for each view, object and method, the status each role gets. 200 for a page
the role may use, 302 after an action (or a refusal reported as a message), 403 for a
role that may never use the view, 404 for an object the user may not see, 405 for GET
on a POST-only view, and a redirect to the login page for an anonymous visitor.
A cell that answers wrongly today is an expected failure with the reason: the table
states the right answer. (test_access_by_role.py walks every URL that takes an id, reply
letters and receipts included, as every role, from rules rather than a table of statuses.)
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.urls import reverse
from django.utils import timezone, translation

from proposals import services
from proposals.models import (
    Assignment,
    CoOpinion,
    Event,
    ExtensionRequest,
    Proposal,
    ProposalProposer,
    SupervisionNote,
)

State = Proposal.State
Status = ProposalProposer.Status

ROLES = ("tiwei", "kjj", "kjj_leader", "jxw", "outsider", "zhanghua", "lisi", "anonymous")
PDF = b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n1 0 obj <<>> endobj\ntrailer <<>>\n%%EOF\n"
MISSING = 987654


@pytest.fixture(autouse=True)
def private_media(settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path
    return tmp_path


# --- the objects the views are walked on ---------------------------------------------------------


def make_proposal(world, state, number=None, cosigners=(), title="关于完善社区养老服务的建议"):
    """A proposal of 张华's (with co-signers as (proposer, status) pairs)."""
    proposal = Proposal.objects.create(
        session=world.session,
        number=number,
        title=title,
        reasons="理由",
        suggestions="建议",
        category=world.category,
        state=state,
        kind=Proposal.Kind.COSIGNED if cosigners else Proposal.Kind.INDIVIDUAL,
        submitted_at=None if state == State.DRAFT else timezone.now(),
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.zhanghua_proposer, position=0)
    for position, (proposer, status) in enumerate(cosigners, start=1):
        ProposalProposer.objects.create(
            proposal=proposal, proposer=proposer, position=position, status=status
        )
    return proposal


def draft(world):
    return make_proposal(world, State.DRAFT)


def awaiting(world):
    """张华's joint proposal, waiting for 李四 to co-sign."""
    return make_proposal(
        world, State.AWAITING_COSIGNERS, cosigners=[(world.lisi_proposer, Status.PENDING)]
    )


def submitted(world):
    return make_proposal(world, State.SUBMITTED)


def accepted(world):
    return make_proposal(world, State.ACCEPTED, number=70)


def declined(world):
    """张华's accepted proposal that 李四 was asked to co-sign and declined."""
    return make_proposal(
        world, State.ACCEPTED, number=71, cosigners=[(world.lisi_proposer, Status.DECLINED)]
    )


def return_request(world):
    """区经济信息委 asks to return a proposal assigned to it alone."""
    proposal = make_proposal(world, State.ASSIGNED, number=72)
    proposal.handling_mode = Proposal.HandlingMode.SINGLE
    proposal.save(update_fields=["handling_mode"])
    assignment = Assignment.objects.create(
        proposal=proposal,
        unit=world.jxw_unit,
        role=Assignment.Role.LEAD,
        assigned_at=timezone.now(),
        reply_due=datetime.date.today() + datetime.timedelta(days=90),
    )
    return services.request_return(assignment, world.jxw, "不属于我委职责")


def opinion(world):
    """区经济信息委's sent opinion on 069, with a PDF attached."""
    return services.send_opinion(
        world.co,
        world.jxw,
        title="重庆市梁平区经济和信息化委员会关于第069号提案的会办意见",
        body="支持创建国家级高新区。",
        attachment=SimpleUploadedFile("意见.pdf", PDF),
    )


def opinion_beside_a_second_co_unit(world):
    """The same opinion, with 区教委 (outsider's unit) as a second co-handling unit of 069."""
    Assignment.objects.create(
        proposal=world.proposal,
        unit=world.other_unit,
        role=Assignment.Role.CO,
        assigned_at=timezone.now(),
        opinion_due=datetime.date.today() + datetime.timedelta(days=30),
    )
    return opinion(world)


def proposal_with_a_second_co_unit(world):
    """069 with 区教委 as a second co-handling unit, after 区经济信息委 sent its opinion."""
    opinion_beside_a_second_co_unit(world)
    return world.proposal


def extension_request(world):
    """区科技局 asks to extend 069's reply deadline."""
    return services.request_extension(
        world.lead, world.kjj, datetime.date.today() + datetime.timedelta(days=120), "协调资金"
    )


def supervision_note(world):
    """A 督办 note from the committee to 区科技局 on 069."""
    return services.supervise(world.lead, world.tiwei, "请加快办理进度")


TARGETS = {
    None: lambda world: None,
    "missing": lambda world: MISSING,
    "proposal": lambda world: world.proposal,
    "lead": lambda world: world.lead,
    "co": lambda world: world.co,
    "draft": draft,
    "awaiting": awaiting,
    "submitted": submitted,
    "accepted": accepted,
    "declined": declined,
    "return_request": return_request,
    "opinion": opinion,
    "opinion_2co": opinion_beside_a_second_co_unit,
    "second_co": proposal_with_a_second_co_unit,
    "extension_request": extension_request,
    "note": supervision_note,
}


# --- form data that a role allowed to act would send -------------------------------------------

OPINION = {
    "doc_number": "梁平经信函〔2022〕12号",
    "title": "重庆市梁平区经济和信息化委员会关于第069号提案的会办意见",
    "body": "一、支持创建国家级高新区。",
    "signer": "王局长",
}
CONTACT = {
    "contacted_on": datetime.date.today().isoformat(),
    "method": "meeting",
    "participants": "张华、科技局局长",
    "leader_took_part": "on",
    "summary": "当面听取意见。",
}
DATA = {
    None: None,
    "empty": {},
    "confirm": {"decision": "confirm"},
    "refuse": {"decision": "refuse", "comment": "属于你委职责"},
    "reason": {"reason": "不属于我委职责"},
    "opinion": OPINION,
    "contact": CONTACT,
    "extension": {
        "wished_due": (datetime.date.today() + datetime.timedelta(days=120)).isoformat(),
        "reason": "需协调资金",
    },
    "answer": {"answer": "已召开协调会"},
}


# --- the table -----------------------------------------------------------------------------------

# (url name, target, method, data in DATA): statuses in ROLES order
#  tiwei kjj  leader jxw  outsider zhanghua lisi  anonymous
MATRIX = {
    # Everyone who may see it
    ("detail", "proposal", "get", None): (200, 200, 200, 200, 404, 200, 404, 302),
    ("detail", "awaiting", "get", None): (200, 404, 404, 404, 404, 200, 200, 302),
    # access.visible_proposals: committee staff see every proposal but a member's draft.
    ("detail", "draft", "get", None): (404, 404, 404, 404, 404, 200, 404, 302),
    ("detail", "declined", "get", None): (200, 404, 404, 404, 404, 200, 404, 302),
    ("detail", "second_co", "get", None): (200, 200, 200, 200, 200, 200, 404, 302),
    ("detail", "missing", "get", None): (404, 404, 404, 404, 404, 404, 404, 302),
    ("workspace", None, "get", None): (200, 200, 200, 200, 200, 200, 200, 302),
    ("notifications", None, "get", None): (200, 200, 200, 200, 200, 200, 200, 302),
    # Proposers
    ("mine", None, "get", None): (403, 403, 403, 403, 403, 200, 200, 302),
    ("create", None, "get", None): (403, 403, 403, 403, 403, 200, 200, 302),
    ("create", None, "post", "empty"): (403, 403, 403, 403, 403, 200, 200, 302),
    ("edit", "draft", "get", None): (403, 403, 403, 403, 403, 200, 404, 302),
    ("edit", "draft", "post", "empty"): (403, 403, 403, 403, 403, 200, 404, 302),
    # Not a draft any more: the first proposer is sent back to the page; a co-signer never edits.
    ("edit", "awaiting", "get", None): (403, 403, 403, 403, 403, 302, 403, 302),
    ("submit", "draft", "get", None): (405, 405, 405, 405, 405, 405, 405, 302),
    # A member's draft is theirs: committee staff register paper proposals instead.
    ("submit", "draft", "post", "empty"): (404, 403, 403, 403, 403, 302, 404, 302),
    ("cosign", "awaiting", "get", None): (405, 405, 405, 405, 405, 405, 405, 302),
    ("cosign", "awaiting", "post", "confirm"): (403, 403, 403, 403, 403, 302, 302, 302),
    ("cosign", "proposal", "post", "confirm"): (403, 403, 403, 403, 403, 302, 404, 302),
    ("withdraw", "submitted", "get", None): (405, 405, 405, 405, 405, 405, 405, 302),
    ("withdraw", "submitted", "post", "empty"): (302, 403, 403, 403, 403, 302, 404, 302),
    # The audit administrator's alone (tests/test_separation_of_duties.py): nobody here.
    ("events", None, "get", None): (403, 403, 403, 403, 403, 403, 403, 302),
    ("events_export", None, "get", None): (403, 403, 403, 403, 403, 403, 403, 302),
    # Committee staff
    ("register", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("register", None, "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("review_queue", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("review_queue_export", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("export", None, "get", None): (200, 200, 200, 200, 200, 403, 403, 302),
    ("import_upload", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("import_upload", None, "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("import_template", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("review", "submitted", "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("review", "submitted", "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("review", "proposal", "get", None): (302, 403, 403, 403, 403, 403, 403, 302),
    ("review", "missing", "get", None): (404, 403, 403, 403, 403, 403, 403, 302),
    ("assign", "accepted", "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("assign", "accepted", "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("assign", "missing", "get", None): (404, 403, 403, 403, 403, 403, 403, 302),
    ("assign_bulk", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("assign_bulk", None, "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("return_requests", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("decide_return", "return_request", "get", None): (405, 405, 405, 405, 405, 405, 405, 302),
    ("decide_return", "return_request", "post", "refuse"): (302, 403, 403, 403, 403, 403, 403, 302),
    ("decide_return", "missing", "post", "refuse"): (404, 403, 403, 403, 403, 403, 403, 302),
    # Handling units (outsider is a handler of 区教委: an inbox, but none of 069's work)
    ("inbox", None, "get", None): (403, 200, 200, 200, 200, 403, 403, 302),
    ("inbox", None, "post", "empty"): (405, 405, 405, 405, 405, 405, 405, 302),
    ("inbox_export", None, "get", None): (403, 200, 200, 200, 200, 403, 403, 302),
    ("acknowledge", "co", "get", None): (405, 405, 405, 405, 405, 405, 405, 302),
    ("acknowledge", "co", "post", "empty"): (403, 404, 404, 302, 404, 403, 403, 302),
    ("acknowledge", "missing", "post", "empty"): (403, 404, 404, 404, 404, 403, 403, 302),
    ("request_return", "co", "get", None): (403, 404, 404, 200, 404, 403, 403, 302),
    ("request_return", "co", "post", "reason"): (403, 404, 404, 302, 404, 403, 403, 302),
    ("opinion", "co", "get", None): (403, 404, 404, 200, 404, 403, 403, 302),
    ("opinion", "co", "post", "opinion"): (403, 404, 404, 302, 404, 403, 403, 302),
    ("contact", "lead", "get", None): (403, 200, 200, 404, 404, 403, 403, 302),
    ("contact", "lead", "post", "contact"): (403, 302, 302, 404, 404, 403, 403, 302),
    ("contact", "co", "get", None): (403, 404, 404, 200, 404, 403, 403, 302),
    # The committee and the lead unit read every co-opinion; a co-unit its own; others nothing.
    ("opinion_attachment", "opinion", "get", None): (200, 200, 200, 200, 404, 404, 404, 302),
    ("opinion_attachment", "opinion_2co", "get", None): (200, 200, 200, 200, 404, 404, 404, 302),
    ("opinion_attachment", "missing", "get", None): (404, 404, 404, 404, 404, 404, 404, 302),
    # Extensions: a replying unit's people ask; committee staff decide.
    ("request_extension", "lead", "get", None): (403, 200, 200, 404, 404, 403, 403, 302),
    ("request_extension", "lead", "post", "extension"): (403, 302, 302, 404, 404, 403, 403, 302),
    ("request_extension", "missing", "get", None): (403, 404, 404, 404, 404, 403, 403, 302),
    ("extension_requests", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("decide_extension", "extension_request", "get", None): (405, 405, 405, 405, 405, 405, 405, 302),
    ("decide_extension", "extension_request", "post", "refuse"): (302, 403, 403, 403, 403, 403, 403, 302),
    ("decide_extension", "missing", "post", "refuse"): (404, 403, 403, 403, 403, 403, 403, 302),
    # Key proposals and 督办: committee staff; the unit answers its own notes.
    ("mark_key", "proposal", "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("mark_key", "proposal", "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("mark_key", "missing", "get", None): (404, 403, 403, 403, 403, 403, 403, 302),
    ("supervise", "proposal", "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("supervise", "proposal", "post", "empty"): (200, 403, 403, 403, 403, 403, 403, 302),
    ("supervise", "missing", "get", None): (404, 403, 403, 403, 403, 403, 403, 302),
    ("supervision", None, "get", None): (200, 403, 403, 403, 403, 403, 403, 302),
    ("answer_supervision", "note", "get", None): (403, 200, 200, 404, 404, 403, 403, 302),
    ("answer_supervision", "note", "post", "answer"): (403, 302, 302, 404, 404, 403, 403, 302),
    ("answer_supervision", "missing", "get", None): (403, 404, 404, 404, 404, 403, 403, 302),
}  # fmt: skip

# Views whose designed answer the table does not yet meet: (view, target, method, role) → why.
WRONG: dict = {}


def cases():
    params = []
    for (name, target, method, data), statuses in MATRIX.items():
        assert len(statuses) == len(ROLES)
        for role, status in zip(ROLES, statuses, strict=True):
            reason = WRONG.get((name, target, method, role))
            marks = [pytest.mark.xfail(strict=True, reason=reason)] if reason else []
            params.append(
                pytest.param(
                    name,
                    target,
                    method,
                    data,
                    role,
                    status,
                    marks=marks,
                    id=f"{name}-{target or '-'}-{method}-{role}-{status}",
                )
            )
    return params


# The model whose pk is in the URL, where it is not a proposal's.
MODEL_OF_PK = {
    "acknowledge": Assignment,
    "request_return": Assignment,
    "opinion": Assignment,
    "contact": Assignment,
    "decide_return": Assignment,
    "opinion_attachment": CoOpinion,
    "request_extension": Assignment,
    "decide_extension": ExtensionRequest,
    "answer_supervision": SupervisionNote,
}

# The views walked here that are outside the proposals namespace.
UNNAMESPACED = {"workspace", "notifications"}


# An import's steps are addressed by its random token, not a pk: who may reach them (its
# uploader only; others 404) is in test_importing_proposals.py.
BY_TOKEN = {"import_preview", "import_confirm", "import_progress", "import_done"}


def test_the_table_walks_every_url_of_the_proposals_app():
    from proposals.urls import urlpatterns

    walked = {name for name, *_rest in MATRIX} | BY_TOKEN
    assert walked >= {p.name for p in urlpatterns} | UNNAMESPACED


@pytest.mark.parametrize(("name", "target", "method", "data", "role", "status"), cases())
def test_every_view_answers_every_role_as_designed(
    client, world, name, target, method, data, role, status
):
    obj = TARGETS[target](world)
    if obj is not None and not isinstance(obj, int):
        # A pk of the wrong model could pass by coincidence (ids start at 1 everywhere).
        assert isinstance(obj, MODEL_OF_PK.get(name, Proposal)), (name, obj)
    args = [obj if isinstance(obj, int) else obj.pk] if obj is not None else []
    url = reverse(name if name in UNNAMESPACED else f"proposals:{name}", args=args)
    if role != "anonymous":
        client.force_login(getattr(world, role))
    events = Event.objects.count()

    response = client.post(url, DATA[data]) if method == "post" else client.get(url)

    assert response.status_code == status
    if role == "anonymous":
        assert response["Location"].startswith(reverse("login"))
    elif status == 302:
        assert not response["Location"].startswith(reverse("login"))
    if status != 302 or role == "anonymous":
        # Refused, shown or invalid: nothing was done.
        assert Event.objects.count() == events


# --- what the pages show, beyond the status ------------------------------------------------------


def test_a_second_co_unit_sees_the_proposal_but_not_the_other_co_units_opinion(client, world):
    sent = opinion_beside_a_second_co_unit(world)
    client.force_login(world.outsider)
    response = client.get(reverse("proposals:detail", args=[world.proposal.pk]))
    assert response.status_code == 200
    html = response.content.decode()
    assert world.proposal.title in html
    assert sent.title not in html
    assert reverse("proposals:opinion_attachment", args=[sent.pk]) not in html


def test_the_lead_unit_sees_the_sent_opinion_and_a_proposer_does_not(client, world):
    sent = opinion(world)
    client.force_login(world.kjj)
    html = client.get(reverse("proposals:detail", args=[world.proposal.pk])).content.decode()
    assert sent.title in html
    assert reverse("proposals:opinion_attachment", args=[sent.pk]) in html
    client.force_login(world.zhanghua)
    html = client.get(reverse("proposals:detail", args=[world.proposal.pk])).content.decode()
    assert sent.title not in html


def test_a_unit_acts_on_its_own_assignment_only_and_the_refusal_changes_nothing(client, world):
    client.force_login(world.kjj)
    response = client.post(reverse("proposals:acknowledge", args=[world.co.pk]))
    assert response.status_code == 404
    world.co.refresh_from_db()
    assert world.co.acknowledged_at is None
    client.force_login(world.outsider)
    response = client.post(reverse("proposals:opinion", args=[world.co.pk]), OPINION)
    assert response.status_code == 404
    assert not CoOpinion.objects.exists()


# --- a co-signer who declined ------------------------------------------------------------------


def test_a_co_signer_who_declined_is_not_told_the_review_outcome(world):
    proposal = make_proposal(
        world, State.SUBMITTED, cosigners=[(world.lisi_proposer, Status.DECLINED)]
    )
    services.accept(proposal, world.tiwei)
    assert world.zhanghua.notifications.filter(verb="accepted").exists()
    assert not world.lisi.notifications.filter(verb="accepted").exists()


def test_the_proposal_page_does_not_present_a_declined_co_signer_as_a_proposer(client, world):
    proposal = declined(world)
    client.force_login(world.tiwei)
    html = client.get(reverse("proposals:detail", args=[proposal.pk])).content.decode()
    signers = html.split('<ol class="proposers">', 1)[1].split("</ol>", 1)[0]
    assert "张华" in signers
    with translation.override("zh-hans"):
        declined_label = str(Status.DECLINED.label)
    assert "李四" not in signers or declined_label in signers
