"""Load the demo data: the real case of proposal 069, and a few proposals of every kind.

Run it as often as you like; nothing is duplicated. Reference data, the demo
accounts and the 069 case are brought to the state written here (a row is
saved only when it differs). Every other demo proposal is created once, with
dates around the day it is created, and then left alone, so what people do
with it in the demo is kept.

This writes final states directly instead of calling the workflow services:
the demo needs a history dated 2022, which the services (rightly) cannot make.
Events use the services' verbs. It is the only place that creates demo accounts.
"""

import calendar
import datetime
from types import SimpleNamespace

from django.conf import settings
from django.contrib.auth.models import Group
from django.core.management.base import BaseCommand, CommandError
from django.db import models, transaction
from django.utils import timezone
from django.utils.translation import gettext as _

from accounts import roles
from accounts.models import Membership, Notification, Proposer, Unit, User
from demo import reference, synthetic
from demo import seed as demo_seed
from proposals import search
from proposals.models import (
    Assignment,
    Category,
    ContactRecord,
    CoOpinion,
    Event,
    ExtensionRequest,
    Proposal,
    ProposalProposer,
    RejectionReason,
    Session,
    SupervisionNote,
    Term,
)
from replies import search as reply_search
from replies.models import DocNumberSequence, Publication, Receipt, ReplyLetter, ReplyRevision

DEMO_PASSWORD = "demo-pass-069"

S, L = Proposal.State, ReplyLetter.State
HANDLER, LEADER = Membership.Role.HANDLER, Membership.Role.LEADER

CATEGORIES = ["经济建设", "科教文卫", "城乡建设", "社会事业", "农业农村", "生态环境", "政治法治"]

REJECTION_REASONS = reference.REJECTION_REASONS

# fmt: off
UNITS = {
    # key: (full name, short name, kind, document number template, office phone — invented)
    "kjj": ("重庆市梁平区科学技术局", "区科技局", "government", "梁平科技函〔{year}〕{n}号", "023-53000001"),
    "jxw": ("重庆市梁平区经济和信息化委员会", "区经济信息委", "government", "梁平经信函〔{year}〕{n}号", "023-53000002"),
    "gyyq": ("重庆梁平工业园区管理委员会", "工业园区管委会", "government", "梁平园区函〔{year}〕{n}号", "023-53000003"),
    "zsj": ("重庆市梁平区招商投资促进局", "区招商投资局", "government", "梁平招商函〔{year}〕{n}号", "023-53000004"),
    "jw": ("重庆市梁平区教育委员会", "区教委", "government", "梁平教函〔{year}〕{n}号", "023-53000005"),
    "jtj": ("重庆市梁平区交通局", "区交通局", "government", "梁平交函〔{year}〕{n}号", "023-53000006"),
    "nyw": ("重庆市梁平区农业农村委员会", "区农业农村委", "government", "梁平农函〔{year}〕{n}号", "023-53000007"),
    "zjw": ("重庆市梁平区住房和城乡建设委员会", "区住房城乡建委", "government", "梁平建函〔{year}〕{n}号", "023-53000008"),
    "wjw": ("重庆市梁平区卫生健康委员会", "区卫生健康委", "government", "梁平卫函〔{year}〕{n}号", "023-53000009"),
    "sthj": ("重庆市梁平区生态环境局", "区生态环境局", "government", "梁平环函〔{year}〕{n}号", "023-53000010"),
    "sgjd": ("重庆市梁平区双桂街道办事处", "双桂街道", "township", "双桂街道函〔{year}〕{n}号", "023-53000011"),
    "tiwei": ("政协重庆市梁平区委员会提案委员会", "区政协提案委", "committee", "", "023-53000012"),
    "dcb": ("重庆市梁平区人民政府督查办公室", "区政府督查办", "supervision", "", "023-53000013"),
}

ACCOUNTS = [
    # username, full name, flags, (unit, role, leader's title)
    ("admin", "系统管理员", {"is_staff": True, "is_superuser": True}, None),
    ("tiwei", "提案委工作人员", {"is_committee_staff": True}, None),
    ("kjj", "科技局经办人", {}, ("kjj", HANDLER, "")),
    ("kjj_leader", "科技局局长", {}, ("kjj", LEADER, "主要领导")),
    ("jxw", "经信委经办人", {}, ("jxw", HANDLER, "")),
    ("zhanghua", "张华", {}, None),
    ("wangfang", "王芳", {}, None),
]

# 三员分立 (accounts/roles.py): one person in each administrator role, none with a business role.
ADMINISTRATORS = [
    ("sysadmin", "系统管理员（演示）", roles.SYSTEM_ADMIN),
    ("secadmin", "安全管理员（演示）", roles.SECURITY_ADMIN),
    ("auditor", "审计管理员（演示）", roles.AUDIT_ADMIN),
]

# Phones, emails and addresses are invented, and private: no public page shows them.
PROPOSERS = [
    # name, kind, sector, political affiliation, phone, email, address, login
    ("张华", "member", "科技界", "", "13900000069", "zhanghua@example.invalid", "重庆市梁平区双桂街道", "zhanghua"),
    ("王芳", "member", "教育界", "民盟", "13900000012", "wangfang@example.invalid", "重庆市梁平区梁山街道", "wangfang"),
    ("刘强", "member", "经济界", "", "13900000015", "", "重庆市梁平区双桂街道", None),
    ("陈静", "member", "医药卫生界", "九三学社", "13900000058", "", "重庆市梁平区梁山街道", None),
    ("赵磊", "member", "农业界", "", "13900000031", "", "重庆市梁平区礼让镇", None),
    ("民盟梁平区委", "party", "", "", "", "", "", None),
    ("梁平区工商联", "group", "", "", "", "", "", None),
]

NOTIFICATIONS = [
    # recipient, verb, proposal, message, read
    ("kjj_leader", "signoff_requested", "关于建设科技创新公共服务平台的建议", "第156号提案的答复函已提交审签。", False),
    ("kjj", "assigned", "关于加快科技型企业培育的建议", "第152号提案已交办区科技局，请签收。", False),
    ("zhanghua", "cosign_requested", "关于推进中小学科学教育的建议", "王芳邀请你联名提出《关于推进中小学科学教育的建议》。", False),
    ("zhanghua", "reply_received", "关于加快创建国家级高新区的建议", "区科技局已送达第069号提案的答复函，请填写回执。", True),
    ("tiwei", "submitted", "关于加强明月山生态保护的建议", "民盟梁平区委提交了《关于加强明月山生态保护的建议》。", False),
]
# fmt: on

# --- helpers ----------------------------------------------------------------------------------


def moment(value):
    """'2022-07-20 10:30' → an aware datetime in the project's time zone."""
    if value is None or isinstance(value, datetime.datetime):
        return value
    return timezone.make_aware(datetime.datetime.fromisoformat(value))


def day_of(value):
    if value is None or isinstance(value, datetime.date):
        return value
    return datetime.date.fromisoformat(value[:10])


def add_months(day, months):
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return day.replace(
        year=year, month=month, day=min(day.day, calendar.monthrange(year, month)[1])
    )


def upsert(model, lookup, **values):
    """Get or create the row, then save only the fields that differ from `values`."""
    obj, _created = model.objects.get_or_create(**lookup, defaults=values)
    changed = []
    for name, value in values.items():
        is_row = isinstance(value, models.Model)
        current = getattr(obj, f"{name}_id" if is_row else name)
        if current != (value.pk if is_row else value):
            setattr(obj, name, value)
            changed.append(name)
    if changed:
        # This is also how created_at (auto_now_add) gets the demo's date.
        obj.save(update_fields=changed)
    return obj


def record(proposal, verb, when, actor=None, obj=None, from_state="", to_state="", comment=""):
    """An audit event, once: events are append-only, so an existing one is left as it is."""
    Event.objects.get_or_create(
        proposal=proposal,
        verb=verb,
        object_type=obj._meta.model_name if obj else "",
        object_id=obj.pk if obj else None,
        defaults={
            "created_at": moment(when),
            "actor": actor,
            "from_state": from_state,
            "to_state": to_state,
            "comment": comment,
        },
    )


def doc_number(unit, year, n):
    """The unit's document number n of the year; its sequence moves past n."""
    sequence, _created = DocNumberSequence.objects.get_or_create(unit=unit, year=year)
    if sequence.last < n:
        sequence.last = n
        sequence.save(update_fields=["last"])
    return unit.doc_number_template.format(year=year, n=n)


def person(ctx, unit, role=HANDLER):
    """The demo account working for the unit in that role, if there is one."""
    return ctx.people_by_unit.get((unit.pk, role))


# --- loading ----------------------------------------------------------------------------------


def load_reference(ctx):
    opened = day_of("2022-01-10")
    ctx.term = upsert(Term, {"number": 15}, committee="重庆市梁平区", started_on=opened)
    ctx.session = upsert(
        Session, {"term": ctx.term, "number": 1}, opened_on=opened, is_current=True
    )
    ctx.categories = {
        name: upsert(Category, {"name": name}, position=i, is_active=True)
        for i, name in enumerate(CATEGORIES, start=1)
    }
    ctx.reasons = {
        code: upsert(RejectionReason, {"code": code}, label=label, is_active=True)
        for code, label in REJECTION_REASONS
    }
    ctx.units, ctx.phones = {}, {}
    for key, (name, short, kind, template, phone) in UNITS.items():
        unit = upsert(
            Unit,
            {"name": name},
            short_name=short,
            kind=kind,
            doc_number_template=template,
            is_active=True,
        )
        ctx.units[key], ctx.phones[unit.pk] = unit, phone


def load_people(ctx):
    ctx.users, ctx.people_by_unit = {}, {}
    for username, full_name, flags, membership in ACCOUNTS:
        user = upsert(User, {"username": username}, full_name=full_name, is_active=True, **flags)
        # Set once: someone who changed a demo password keeps it.
        if not user.password:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        ctx.users[username] = user
        if membership:
            key, role, title = membership
            unit = ctx.units[key]
            upsert(Membership, {"user": user, "unit": unit, "role": role}, title=title)
            ctx.people_by_unit[(unit.pk, role)] = user
    for username, full_name, role in ADMINISTRATORS:
        user = upsert(User, {"username": username}, full_name=full_name, is_staff=True)
        if not user.password:
            user.set_password(DEMO_PASSWORD)
            user.save(update_fields=["password"])
        user.groups.add(Group.objects.get(name=role))
    # 区科技局 publishes its own replies on the district site, as in the seed: the committee
    # grants it to the unit, and its people publish its letters only.
    kjj = ctx.units["kjj"]
    if not kjj.publishes_own_replies:
        kjj.publishes_own_replies = True
        kjj.save(update_fields=["publishes_own_replies"])
    ctx.proposers = {}
    for name, kind, sector, party, phone, email, address, login in PROPOSERS:
        ctx.proposers[name] = upsert(
            Proposer,
            {"name": name, "kind": kind},
            sector=sector,
            party=party,
            phone=phone,
            email=email,
            address=address,
            user=ctx.users[login] if login else None,
            is_active=True,
        )


REVIEW_OUTCOMES = {
    S.MERGED: Proposal.ReviewOutcome.MERGE,
    S.CONVERTED: Proposal.ReviewOutcome.CONVERT,
    S.REJECTED: Proposal.ReviewOutcome.REJECT,
    S.WITHDRAWN: Proposal.ReviewOutcome.WITHDRAW,
}


def build_proposal(ctx, spec):
    """One proposal and everything that happened to it, as `spec` says."""
    tiwei = ctx.users["tiwei"]
    signers = [ctx.proposers[name] for name in spec["proposers"]]
    pending = [ctx.proposers[name] for name in spec.get("pending", [])]
    first, state = signers[0], spec["state"]
    submitted, reviewed = moment(spec.get("submitted")), moment(spec.get("reviewed"))
    lead_key, co_keys = spec.get("lead"), spec.get("co", [])
    if len(signers) + len(pending) > 1:
        kind = Proposal.Kind.COSIGNED
    else:
        kind = Proposal.Kind.INDIVIDUAL if first.is_member else Proposal.Kind.PARTY
    outcome = REVIEW_OUTCOMES.get(state, Proposal.ReviewOutcome.ACCEPT if reviewed else "")
    mode = ""
    if lead_key:
        mode = Proposal.HandlingMode.JOINT if co_keys else Proposal.HandlingMode.SINGLE
    topic = spec["title"].removeprefix("关于").removesuffix("的建议")
    reason, merged_into = spec.get("rejection_reason"), spec.get("merged_into")
    proposal = upsert(
        Proposal,
        {"session": ctx.session, "title": spec["title"]},
        number=spec.get("number"),
        reasons=spec.get("reasons", f"围绕“{topic}”，我区在工作机制、投入和保障等方面仍有不足。"),
        suggestions=spec.get("suggestions", "建议相关部门加强统筹，完善措施，抓好落实。"),
        category=ctx.categories[spec["category"]],
        kind=kind,
        period=spec.get("period", Proposal.Period.PLENARY),
        consent_to_publish=spec.get("consent_to_publish", True),
        no_publish_reason=spec.get("no_publish_reason", ""),
        state=state,
        review_outcome=outcome,
        rejection_reason=ctx.reasons[reason] if reason else None,
        review_comment=spec.get("review_comment", ""),
        merged_into=ctx.proposals[merged_into] if merged_into else None,
        handling_mode=mode,
        on_paper=first.user is None,
        created_by=first.user or tiwei,
        created_at=moment(spec.get("drafted")) or submitted,
        submitted_at=submitted,
        reviewed_at=reviewed,
        closed_at=moment(spec.get("closed")),
    )
    if proposal.number:
        ctx.proposals[proposal.number] = proposal
    confirmed_at = submitted or moment(spec.get("drafted"))
    for position, proposer in enumerate(signers + pending):
        is_pending = proposer in pending
        upsert(
            ProposalProposer,
            {"proposal": proposal, "proposer": proposer},
            position=position,
            status="pending" if is_pending else "confirmed",
            responded_at=None if is_pending else confirmed_at,
        )
    proposal.suggested_units.set([ctx.units[key] for key in filter(None, [lead_key, *co_keys])])

    if submitted:
        record(proposal, "submitted", submitted, first.user or tiwei, None, S.DRAFT, S.SUBMITTED)
    if reviewed:
        # The services' verbs are the outcomes' states: accepted, merged, rejected, …
        to_state = S.ACCEPTED if outcome == Proposal.ReviewOutcome.ACCEPT else state
        into = proposal.merged_into
        record(
            proposal,
            to_state,
            reviewed,
            tiwei,
            into,
            S.SUBMITTED,
            to_state,
            proposal.review_comment,
        )
        if into:
            record(into, "merged_in", reviewed, tiwei, proposal, comment=str(proposal))
    if lead_key:
        build_handling(ctx, spec, proposal)
    return proposal


def build_handling(ctx, spec, proposal):
    """Assignments, co-handling opinions, the contact, the reply letter."""
    tiwei = ctx.users["tiwei"]
    lead_key, co_keys = spec["lead"], spec.get("co", [])
    assigned = moment(spec["assigned"])
    reply_due = day_of(spec.get("reply_due")) or add_months(assigned.date(), 3)
    assignments = {}
    for key in [lead_key, *co_keys]:
        unit, is_lead = ctx.units[key], key == lead_key
        acknowledged = moment(spec.get("acknowledged", {}).get(key))
        assignments[key] = upsert(
            Assignment,
            {"proposal": proposal, "unit": unit, "round": 1},
            role=Assignment.Role.LEAD if is_lead else Assignment.Role.CO,
            is_active=True,
            assigned_at=assigned,
            assigned_by=tiwei,
            acknowledged_at=acknowledged,
            acknowledged_by=person(ctx, unit) if acknowledged else None,
            reply_due=reply_due if is_lead else None,
            opinion_due=None if is_lead else add_months(assigned.date(), 1),
        )
    units = "、".join(a.unit.short_name for a in assignments.values())
    record(proposal, "assigned", assigned, tiwei, None, S.ACCEPTED, S.ASSIGNED, units)
    for key, when in spec.get("acknowledged", {}).items():
        assignment = assignments[key]
        states = (S.ASSIGNED, S.HANDLING) if key == lead_key else (S.HANDLING, S.HANDLING)
        record(
            proposal,
            "acknowledged",
            when,
            assignment.acknowledged_by,
            assignment,
            *states,
            assignment.unit.short_name,
        )

    for key, (sent, n, text) in spec.get("opinions", {}).items():
        unit, sent = ctx.units[key], moment(sent)
        title = f"{unit.name}关于{proposal.display_number}提案的会办意见"
        opinion = upsert(
            CoOpinion,
            {"assignment": assignments[key]},
            doc_number=doc_number(unit, sent.year, n),
            title=title,
            body=f"关于{proposal.proposer_list.first().proposer.salutation}提出的《{proposal.title}》"
            f"（{proposal.display_number}提案），{text}",
            signatory="分管领导",
            created_by=person(ctx, unit),
            created_at=sent - datetime.timedelta(days=2),
            sent_at=sent,
        )
        record(
            proposal,
            "opinion_sent",
            sent,
            person(ctx, unit),
            opinion,
            comment=f"{unit.short_name}：{title}",
        )

    lead = assignments[lead_key]
    build_supervision(ctx, spec, proposal, lead)
    if "contact" in spec:
        on, method, leader, participants, summary = spec["contact"]
        on, handler = day_of(on), person(ctx, lead.unit)
        contact = upsert(
            ContactRecord,
            {"assignment": lead, "contacted_on": on, "method": method},
            participants=participants,
            leader_took_part=leader,
            summary=summary or "听取提案人意见，沟通办理思路。",
            created_by=handler,
            created_at=moment(f"{on} 17:00"),
        )
        record(proposal, "contact_recorded", contact.created_at, handler, contact)

    if "letter" in spec:
        build_letter(ctx, spec, proposal, lead, [assignments[key].unit for key in co_keys])


def build_supervision(ctx, spec, proposal, lead):
    """A key proposal and its supervising leader, a 督办 note and its answer, an extension."""
    tiwei, handler = ctx.users["tiwei"], person(ctx, lead.unit)
    if "key" in spec:
        leader, when = spec["key"]
        Proposal.objects.filter(pk=proposal.pk).update(is_key=True, supervising_leader=leader)
        record(proposal, "key_marked", when, tiwei, comment=f"否 → 是 {leader}")
    if "supervision" in spec:
        at, text, answered_at, answer = spec["supervision"]
        note = upsert(
            SupervisionNote,
            {"assignment": lead, "text": text},
            created_by=tiwei,
            created_at=moment(at),
            answer=answer,
            answered_by=handler,
            answered_at=moment(answered_at),
        )
        record(proposal, "supervised", at, tiwei, note, comment=f"{lead.unit.short_name}：{text}")
        record(
            proposal,
            "supervision_answered",
            answered_at,
            handler,
            note,
            comment=f"{lead.unit.short_name}：{answer}",
        )
    if "extension" in spec:
        asked, wished, reason, decided = spec["extension"]
        wished = day_of(wished)
        request = upsert(
            ExtensionRequest,
            {"assignment": lead},
            status=ExtensionRequest.Status.APPROVED,
            reason=reason,
            wished_due=wished,
            previous_due=lead.reply_due,
            requested_by=handler,
            requested_at=moment(asked),
            granted_due=wished,
            decided_by=tiwei,
            decided_at=moment(decided),
            comment="同意延期。",
        )
        Assignment.objects.filter(pk=lead.pk).update(extended_due=wished, extension_reason=reason)
        change = f"{lead.unit.short_name}：{lead.reply_due} → {wished}"
        record(
            proposal, "extension_requested", asked, handler, request, comment=f"{change}；{reason}"
        )
        record(proposal, "extension_approved", decided, tiwei, request, comment=change)


def build_letter(ctx, spec, proposal, lead, co_units):
    """The lead unit's reply letter, as far as it got, with its receipts and publications."""
    data, unit = spec["letter"], lead.unit
    first = proposal.proposer_list.first().proposer
    drafted, submitted = moment(data["drafted"]), moment(data.get("submitted"))
    signed, sent = moment(data.get("signed")), moment(data.get("sent"))
    drafter, leader = person(ctx, unit), person(ctx, unit, LEADER)
    you = "你" if first.is_member else "你们"
    body = data.get("body") or demo_seed.GENERIC_BODY.format(
        you=you, title=proposal.title, number=proposal.display_number
    )
    committee = ctx.term.committee
    title = data.get("title") or (
        f"{unit.name}关于政协{committee}{ctx.session}{proposal.display_number}提案的答复函"
    )
    attestation = data.get("attestation", f"此答复函已经{unit.short_name}主要领导审签。")
    letter = upsert(
        ReplyLetter,
        {"assignment": lead, "round": 1},
        state=data["state"],
        doc_number=doc_number(unit, signed.year, data["doc"]) if "doc" in data else "",
        title=title,
        salutation=f"{first.salutation}：",
        body=body,
        result_class=data["result_class"],
        letter_date=day_of(data.get("letter_date")) or (sent.date() if sent else None),
        contact_person=drafter.full_name if drafter else f"{unit.short_name}办公室",
        contact_phone=ctx.phones[unit.pk],
        disclosure=data.get("disclosure", ReplyLetter.Disclosure.FULL),
        public_summary=data.get("public_summary", ""),
        nondisclosure_reason=data.get("nondisclosure_reason", ""),
        drafted_by=drafter,
        signed_by=leader if signed else None,
        signer_title="主要领导" if signed else "",
        attestation=attestation if signed else "",
        signed_at=signed,
        sent_at=sent,
        published_at=moment(data.get("published")),
        is_public=data["state"] == L.PUBLISHED,
        created_at=drafted,
    )
    letter.cc_units.set([*co_units, ctx.units["tiwei"], ctx.units["dcb"]])

    record(proposal, "reply_drafted", drafted, drafter, letter, "", L.DRAFT)
    if submitted:
        upsert(
            ReplyRevision,
            {"letter": letter, "number": 1},
            title=title,
            salutation=letter.salutation,
            body=body,
            result_class=letter.result_class,
            submitted_by=drafter,
            submitted_at=submitted,
            seen_by_signer_at=signed,
        )
        record(proposal, "reply_submitted", submitted, drafter, letter, L.DRAFT, L.AWAITING_SIGNOFF)
    if signed:
        record(
            proposal,
            "reply_signed",
            signed,
            leader,
            letter,
            L.AWAITING_SIGNOFF,
            L.SIGNED,
            letter.doc_number,
        )
    if sent:
        record(proposal, "reply_sent", sent, drafter, letter, L.SIGNED, L.SENT, letter.doc_number)
        Assignment.objects.filter(pk=lead.pk).update(replied_at=sent)
        record(proposal, "replied", sent, drafter, None, S.HANDLING, S.REPLIED)
        build_receipts(ctx, spec, proposal, letter)
    if letter.published_at:
        build_publications(ctx, data, proposal, letter)
    if spec.get("closed"):
        record(proposal, "closed", spec["closed"], ctx.users["tiwei"], None, S.REPLIED, S.CLOSED)


def build_receipts(ctx, spec, proposal, letter):
    """Every proposer is asked for a receipt; the first proposer's may be in."""
    answer = spec.get("receipt")
    for signer in proposal.proposer_list.filter(status="confirmed").select_related(
        "proposer__user"
    ):
        values = {"requested_at": letter.sent_at}
        if answer and signer.is_first:
            paper = answer["channel"] == "paper"
            values.update(
                contacted=True,
                contact_method=answer["contact_method"],
                leader_took_part=answer["leader"],
                attitude=answer["attitude"],
                result=answer["result"],
                channel=answer["channel"],
                entered_by=ctx.users["tiwei"] if paper else None,
                submitted_at=moment(answer["submitted"]),
            )
        receipt = upsert(Receipt, {"letter": letter, "proposer": signer.proposer}, **values)
        if receipt.submitted_at:
            actor = receipt.entered_by or signer.proposer.user
            record(proposal, "receipt_submitted", receipt.submitted_at, actor, receipt)


def build_publications(ctx, data, proposal, letter):
    """Version 1, and a correction where there was one (it ends version 1, as the service does)."""
    summary = letter.disclosure == ReplyLetter.Disclosure.SUMMARY
    text = letter.public_summary if summary else letter.body
    publisher = ctx.users["tiwei"]
    versions = [(letter.published_at, text, "")]
    if "correction" in data:
        at, why, right, wrong = data["correction"]
        versions = [(letter.published_at, text.replace(right, wrong), ""), (moment(at), text, why)]
    for number, (at, version_text, why) in enumerate(versions, start=1):
        ended = versions[number][0] if number < len(versions) else None
        upsert(
            Publication,
            {"letter": letter, "version": number},
            # A later version corrects typing errors only (a few characters, no figure).
            kind=Publication.Kind.TYPO if number > 1 else Publication.Kind.SIGNED,
            title=letter.title,
            text=version_text,
            letter_date=letter.letter_date,
            attestation=letter.attestation,
            unit_name=letter.assignment.unit.name,
            published_at=at,
            published_by=publisher,
            reason=why,
            ended_at=ended,
            end_reason=versions[number][2] if ended else "",
        )
    record(proposal, "reply_published", letter.published_at, publisher, letter, L.SENT, L.PUBLISHED)
    if len(versions) > 1:
        at, _text, why = versions[-1]
        record(proposal, "reply_typo_corrected", at, publisher, letter, comment=why)


def load_notifications(ctx):
    for username, verb, title, message, read in NOTIFICATIONS:
        proposal = Proposal.objects.get(session=ctx.session, title=title)
        last_event = proposal.events.order_by("-created_at").first()
        when = last_event.created_at if last_event else proposal.created_at
        notification, created = Notification.objects.get_or_create(
            recipient=ctx.users[username],
            verb=verb,
            url=proposal.get_absolute_url(),
            defaults={"message": message, "read_at": when if read else None},
        )
        if created:
            # created_at is auto_now_add: date the message with the proposal's last event.
            Notification.objects.filter(pk=notification.pk).update(created_at=when)


def load():
    ctx = SimpleNamespace(proposals={})
    load_reference(ctx)
    load_people(ctx)
    seed = demo_seed.seed_letter()
    from_seed = {key: seed[key] for key in ("title", "body", "attestation", "letter_date")}
    build_proposal(
        ctx, {**demo_seed.CASE_069, "letter": {**demo_seed.CASE_069["letter"], **from_seed}}
    )
    for spec in demo_seed.PLENARY_PROPOSALS + demo_seed.interim_proposals(timezone.localdate()):
        existing = Proposal.objects.filter(session=ctx.session, title=spec["title"]).first()
        if existing is None:
            build_proposal(ctx, spec)
    load_notifications(ctx)
    # The rows were written directly, not through the workflow: their search columns now.
    search.reindex_proposals(
        Proposal.objects.filter(session=ctx.session).values_list("pk", flat=True)
    )
    reply_search.reindex_letters(
        ReplyLetter.objects.filter(assignment__proposal__session=ctx.session).values_list(
            "pk", flat=True
        )
    )
    return ctx


class Command(BaseCommand):
    help = "Load the demo data: proposal 069 as it was really handled, and one of everything else."

    def add_arguments(self, parser):
        parser.add_argument(
            "--force",
            action="store_true",
            help="Load even with DEBUG off or accounts other than the demo ones.",
        )

    def handle(self, *args, **options):
        # The demo accounts share a published password: keep them out of production
        # databases (DEBUG off) and out of any database with real accounts.
        demo_usernames = [account[0] for account in ACCOUNTS + ADMINISTRATORS]
        real_accounts = (
            User.objects.exclude(username__in=demo_usernames)
            # Accounts made by `generate_data` for performance work are not real people.
            .exclude(username__startswith=synthetic.USERNAME_PREFIX)
            .exists()
        )
        if (real_accounts or not settings.DEBUG) and not options["force"]:
            raise CommandError(
                _(
                    "This looks like a real database (DEBUG is off, or it has accounts other "
                    "than the demo ones), and the demo accounts have a published password. "
                    "Use --force to load the demo anyway."
                )
            )
        with transaction.atomic():
            ctx = load()
        letter = ReplyLetter.objects.get(assignment__proposal=ctx.proposals[69], round=1)
        self.stdout.write(
            _(
                "Demo data loaded: %(proposals)d proposals, %(units)d units, %(accounts)d "
                "accounts (password %(password)s). The 069 reply: %(url)s"
            )
            % {
                "proposals": Proposal.objects.filter(session=ctx.session).count(),
                "units": len(ctx.units),
                "accounts": len(ctx.users),
                "password": DEMO_PASSWORD,
                "url": letter.get_public_url(),
            }
        )
