"""Every field of every admin form, changed one at a time: refused, read-only, audited or
configuration.

The rule (from the issue): every field the workflow owns is read-only in the admin; what an
administrator must change goes through an admin action that calls the workflow and leaves an
event. So an admin change to a workflow-owned field is either impossible or written to the
proposal's audit trail as one `changed_in_admin` event naming the old and the new value.

The walk builds one realistic object of every model the admin shows (through the services,
as the workflow would), opens its change page as the superuser and posts the page back once
per field with only that field changed: the fields the form offers, the fields it shows
read-only (a forged value), and the first row of each inline. Each post runs in a savepoint
that is rolled back, so every field meets the same record.

Run with `-s` to see the counts and every field that moved.
"""

import dataclasses
import datetime
import functools
from collections import Counter

import pytest
from django import forms
from django.apps import apps
from django.contrib import admin
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.contrib.admin.utils import flatten_fieldsets
from django.contrib.auth.models import Group
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import transaction
from django.db.models.fields.files import FieldFile
from django.forms.models import modelform_factory
from django.urls import reverse
from django.utils import timezone

from accounts import roles
from accounts.models import (
    Membership,
    Notification,
    OutboxMessage,
    Proposer,
    RateCount,
    RosterImport,
    SecurityEvent,
    Unit,
    User,
)
from proposals import services as proposal_services
from proposals.admin import WorkflowOnlyAdmin
from proposals.models import (
    Assignment,
    CalendarDay,
    Category,
    ContactRecord,
    CoOpinion,
    DeadlineRule,
    Event,
    ExtensionRequest,
    Proposal,
    ProposalProposer,
    RejectionReason,
    Reminder,
    SearchWord,
    Session,
    SpreadsheetImport,
    SupervisionNote,
    Term,
)
from replies import services as reply_services
from replies.models import (
    Compendium,
    DocNumberSequence,
    Publication,
    Receipt,
    ReplyLetter,
    ReplyRevision,
)

from .conftest import contact

APPS = {"accounts", "proposals", "replies"}

# Configuration: what these fields say is the committee's set-up, not a step of any proposal,
# so changing them is what the admin is for and needs no event (an event belongs to one
# proposal). Django's own admin history still notes which fields were changed, and by whom.
CONFIG = {
    # Who logs in and what they may do. An event keeps the actor's name as it was then.
    "accounts.User": [
        "username",
        "full_name",
        "phone",
        "email",
        "is_active",
        "is_committee_staff",
        "is_staff",
        "is_superuser",
        "groups",
        "user_permissions",
        "last_login",
        "date_joined",
    ],
    # The units and their people. A signed letter keeps its own number and attestation, so a
    # new template or a leader's new title does not reach it (the unit's name is read live).
    "accounts.Unit": [
        "name",
        "short_name",
        "kind",
        "doc_number_template",
        "publishes_own_replies",
        "types_doc_numbers",
        "is_active",
    ],
    "accounts.Membership": ["user", "unit", "role", "title", "DELETE"],
    # The register of proposers; a letter keeps the salutation it was written with.
    "accounts.Proposer": [
        "kind",
        "name",
        "user",
        "sector",
        "party",
        "phone",
        "email",
        "address",
        "is_active",
        # The roster's key of a member, and where they work (the roster import).
        "number",
        "workplace",
    ],
    # Terms, sessions, the working-day calendar and the lists offered in forms.
    "proposals.Term": ["number", "committee", "started_on"],
    "proposals.Session": ["term", "number", "opened_on", "is_current"],
    "proposals.Category": ["name", "position", "is_active"],
    "proposals.RejectionReason": ["code", "label", "is_active"],
    "proposals.CalendarDay": ["date", "is_working_day", "note"],
    # (The deadline rules' length and unit are saved through services.change_rule, which
    # needs a reason — the walk posts none, so it meets a refusal — and moves the open
    # deadlines with an event on each proposal: tests/test_deadlines_follow_the_chinese_calendar.)
    # The search dictionary (proposals/search.py).
    "proposals.SearchWord": ["word", "note"],
}
CONFIG_FIELDS = {(model, field) for model, fields in CONFIG.items() for field in fields}

# Holes the walk found and that are closed; each keeps a test of its own below. A new hole
# goes here with its reason (and a strict xfail) until it is closed.
KNOWN_HOLES = {}
CLOSED_HOLES = [
    # Notifications carry a proposer's personal receipt link: never readdressed or rewritten.
    *[("accounts.Notification", name) for name in ("recipient", "verb", "message", "url")],
    ("accounts.Notification", "read_at"),
    # A foreign key is audited by the related object's name, not its id.
    ("proposals.Proposal", "category"),
]


def label(model):
    return f"{model._meta.app_label}.{model.__name__}"


def admin_url(model, view, *args):
    return reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_{view}", args=args)


# --- the record: one realistic object of each model ----------------------------------------


def build_record(world):
    """Proposal 069 handled to its end through the services: a co-handling opinion, a contact,
    a letter signed, sent and published, and a dissatisfied receipt. Returns one object per
    model registered in the admin, and adds the spare rows the forms may choose instead."""
    proposal_services.acknowledge(world.co, world.jxw)
    opinion = proposal_services.send_opinion(
        world.co,
        world.jxw,
        title="区经济信息委关于第069号提案的会办意见",
        body="支持创建国家级高新区。",
        doc_number="梁平经信函〔2022〕12号",
        signatory="经信委主任",
    )
    contact_record = contact(world.lead, world.kjj, method="meeting")
    extension = proposal_services.request_extension(
        world.lead,
        world.kjj,
        wished_due=timezone.localdate() + datetime.timedelta(days=120),
        reason="需协调市级部门",
    )
    proposal_services.decide_extension(extension, world.tiwei, approve=True, comment="同意")
    note = proposal_services.supervise(world.co, world.tiwei, "请抓紧报送协办意见")
    proposal_services.answer_supervision(note, world.jxw, "已报送")
    letter = reply_services.start_draft(world.lead, world.kjj)
    reply_services.save_draft(
        letter,
        world.kjj,
        body=letter.body + "一、总体情况\n区科技局已将创建工作纳入规划。",
        result_class="B",
        letter_date=timezone.localdate(),
        contact_phone="023-53222222",
    )
    reply_services.submit_for_signoff(letter, world.kjj)
    reply_services.sign(letter, world.kjj_leader)
    reply_services.send(letter, world.kjj)
    reply_services.publish(letter, world.tiwei)
    receipt = Receipt.objects.get(letter=letter, proposer=world.zhanghua_proposer)
    reply_services.submit_receipt(
        receipt,
        world.zhanghua,
        attitude=Receipt.Rating.DISSATISFIED,
        result=Receipt.Rating.DISSATISFIED,
        contacted=True,
        contact_method=ContactRecord.Method.MEETING,
        opinion="建设进度慢于预期。",
    )
    letter.refresh_from_db()
    spare_rows(world)
    return {
        User: world.kjj,
        Unit: world.kjj_unit,
        Membership: Membership.objects.get(user=world.kjj_leader),
        Proposer: world.zhanghua_proposer,
        Notification: Notification.objects.filter(recipient=world.zhanghua).first(),
        OutboxMessage: OutboxMessage.objects.filter(address=world.zhanghua_proposer.phone).first(),
        # The security record: read-only in the admin, whoever asks.
        SecurityEvent: SecurityEvent.objects.create(
            kind=SecurityEvent.Kind.LOGIN, actor=world.kjj, actor_name="kjj"
        ),
        Term: world.term,
        Session: world.session,
        Category: world.category,
        RejectionReason: RejectionReason.objects.create(code="secret", label="涉及国家秘密"),
        CalendarDay: CalendarDay.objects.create(
            date=datetime.date(2026, 2, 28), is_working_day=True, note="春节调休"
        ),
        DeadlineRule: DeadlineRule.objects.get(clock="reply"),
        SearchWord: SearchWord.objects.create(word="明月山", note="地名"),
        Proposal: world.proposal,
        ProposalProposer: world.proposal.proposer_list.get(),
        Assignment: world.lead,
        CoOpinion: opinion,
        ContactRecord: contact_record,
        Event: world.proposal.events.get(verb="receipt_submitted"),
        ReplyLetter: letter,
        DocNumberSequence: DocNumberSequence.objects.get(unit=world.kjj_unit),
        ReplyRevision: letter.revisions.get(),
        Publication: letter.publications.get(),
        Receipt: receipt,
        ExtensionRequest: ExtensionRequest.objects.get(pk=extension.pk),
        SupervisionNote: SupervisionNote.objects.get(pk=note.pk),
        RosterImport: RosterImport.objects.create(
            token="walk", file_name="名册.xlsx", data=b"PK", created_by=world.tiwei
        ),
        SpreadsheetImport: SpreadsheetImport.objects.create(
            token="walk",
            file_name="提案.xlsx",
            data=b"PK",
            session=world.session,
            created_by=world.tiwei,
        ),
        Reminder: Reminder.objects.create(
            assignment=world.co,
            kind=Reminder.Kind.CO_OPINION,
            stage=Reminder.Stage.DUE_SOON,
            due=timezone.localdate(),
            sent_on=timezone.localdate(),
        ),
        RateCount: RateCount.objects.create(
            key="receipt:127.0.0.1", count=3, expires=timezone.now() + datetime.timedelta(hours=1)
        ),
        Compendium: Compendium.objects.create(
            session=world.session,
            digest="walk",
            started_by=world.tiwei,
            started_at=timezone.now(),
            heartbeat_at=timezone.now(),
        ),
    }


def spare_rows(world):
    """What a changed field may point at instead: another term, session, category, group,
    and a second proposal in handling by 区教委 with a draft letter."""
    earlier = Term.objects.create(number=14, started_on=datetime.date(2016, 12, 1))
    session = Session.objects.create(term=earlier, number=2)
    Category.objects.create(name="社会建设")
    Group.objects.create(name="统计员")
    now = timezone.now()
    proposal = Proposal.objects.create(
        session=session,
        number=1,
        title="关于完善社区养老服务的建议",
        reasons="理由",
        suggestions="建议",
        state=Proposal.State.HANDLING,
        review_outcome=Proposal.ReviewOutcome.ACCEPT,
        handling_mode=Proposal.HandlingMode.SINGLE,
        submitted_at=now,
    )
    ProposalProposer.objects.create(proposal=proposal, proposer=world.lisi_proposer)
    assignment = Assignment.objects.create(
        proposal=proposal, unit=world.other_unit, assigned_at=now, acknowledged_at=now
    )
    reply_services.start_draft(assignment, world.outsider)


def registered_models():
    return {m for m in admin.site._registry if m._meta.app_label in APPS}


def model_fields(model):
    return [
        f
        for f in model._meta.get_fields()
        if (f.concrete or f.many_to_many) and not f.auto_created and not f.primary_key
    ]


# --- posting a page back, with one field changed ---------------------------------------------


def local(value):
    """A datetime as the page shows it: local time (forms hand some over naive already)."""
    return value if timezone.is_naive(value) else timezone.localtime(value)


def as_text(value):
    if value is None:
        return ""
    if isinstance(value, datetime.datetime):
        return local(value).strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(value, datetime.date):
        return value.isoformat()
    return str(getattr(value, "pk", value))


def post_data(field, name, value):
    """What a browser sends for `value` in this form field."""
    if isinstance(field, forms.NullBooleanField):
        return {name: {True: "true", False: "false"}.get(value, "unknown")}
    if isinstance(field, forms.BooleanField):
        return {name: "on"} if value else {}
    if isinstance(field, forms.SplitDateTimeField):
        return {
            f"{name}_0": local(value).date().isoformat() if value else "",
            f"{name}_1": local(value).strftime("%H:%M:%S") if value else "",
        }
    if isinstance(field, forms.FileField):
        return {name: value} if value and hasattr(value, "read") else {}
    if isinstance(field, (forms.ModelMultipleChoiceField, forms.MultipleChoiceField)):
        return {name: [as_text(v) for v in value or []]}
    return {name: as_text(value)}


def posted_names(field, name):
    if isinstance(field, forms.SplitDateTimeField):
        return {f"{name}_0", f"{name}_1"}
    return {name}


def form_data(form):
    """A form posted back unchanged: every field's initial value, as the page shows it."""
    data = {}
    for bf in form:
        if not bf.field.disabled:
            data.update(post_data(bf.field, bf.html_name, bf.value()))
    return data


def page_data(page):
    """The whole change page posted back unchanged, inline formsets included."""
    data = form_data(page.context["adminform"].form)
    for inline in page.context["inline_admin_formsets"]:
        data.update(form_data(inline.formset.management_form))
        for form in inline.formset.forms:
            data.update(form_data(form))
    return data


def changed_value(field, old, model_field=None):
    """A different, valid value for the form field: what an administrator might enter."""
    if isinstance(field, forms.BooleanField):  # NullBooleanField too
        return not old
    if isinstance(field, forms.ModelMultipleChoiceField):
        pks = {getattr(o, "pk", o) for o in old or []}
        others = field.queryset.exclude(pk__in=pks)
        if others.model is Group:
            # An administrator role is refused to a unit's people (accounts/roles.py): the
            # walk gives a plain group.
            others = others.exclude(name__in=roles.ROLES)
        return [*pks, others.values_list("pk", flat=True)[0]]
    if isinstance(field, forms.ModelChoiceField):
        others = field.queryset.exclude(pk=getattr(old, "pk", old))
        if model_field is not None and model_field.one_to_one:
            # A row no other one points at yet, or the change fails on uniqueness.
            taken = model_field.model._default_manager.exclude(**{model_field.attname: None})
            others = others.exclude(pk__in=taken.values(model_field.attname))
        assert others.exists(), f"the record needs another {field.queryset.model.__name__}"
        return others.values_list("pk", flat=True)[0]
    if isinstance(field, forms.ChoiceField):
        return next(
            (
                value
                for value, _label in field.choices
                if value not in ("", None) and str(value) != str(old)
            ),
            old,
        )
    if isinstance(field, (forms.SplitDateTimeField, forms.DateTimeField)):
        return (old or timezone.now()).replace(microsecond=0) + datetime.timedelta(days=1)
    if isinstance(field, forms.DateField):
        return (old or timezone.localdate()) + datetime.timedelta(days=1)
    if isinstance(field, forms.IntegerField):
        return (old or 0) + 1
    if isinstance(field, forms.FileField):
        return SimpleUploadedFile("forged.txt", b"forged")
    if isinstance(field, forms.EmailField):
        return "changed@example.org"
    if isinstance(field, forms.CharField):
        old = old or ""
        return old + "改" if len(old) < (field.max_length or 1000) else old[:-1] + "改"
    raise AssertionError(f"no changed value for {type(field).__name__}")


# --- what the database holds, and how an audit event names it --------------------------------


def stored(model, pk, name):
    """The stored value of a field (the keys, for many-to-many); False once the row is gone."""
    obj = model._default_manager.filter(pk=pk).first()
    if obj is None or name == "DELETE":
        return obj is not None
    field = model._meta.get_field(name)
    if field.many_to_many:
        return sorted(getattr(obj, name).values_list("pk", flat=True))
    value = getattr(obj, field.attname)
    return value.name if isinstance(value, FieldFile) else value


def snapshot(obj):
    return {f.name: stored(type(obj), obj.pk, f.name) for f in model_fields(type(obj))}


def named(model, name, value):
    """The ways an audit comment may name a stored value: its name, or a choice's label."""
    if value in (None, "", []):
        return {"—"}
    field = model._meta.get_field(name)
    if field.many_to_many:
        return {"、".join(str(o) for o in field.related_model.objects.filter(pk__in=value))}
    if field.is_relation:
        return {str(field.related_model._default_manager.get(pk=value))}
    return {str(value), str(dict(field.flatchoices).get(value, value))}


# --- the walk ------------------------------------------------------------------------------

FAILURES = ("changed without an event", "audit does not say old → new", "not saved")


@dataclasses.dataclass
class Outcome:
    page: str  # the change page's model
    model: str  # the model the form edits: the page's, or an inline's
    field: str
    kind: str  # refused, read-only, audited, config, or one of FAILURES
    detail: str = ""
    posted: bool = True  # False for a field no form can hold: nothing to post

    @property
    def key(self):
        return (self.model, self.field)

    @property
    def failed(self):
        return self.kind in FAILURES

    def __str__(self):
        where = self.model if self.page == self.model else f"{self.model} (on {self.page})"
        return f"{where}.{self.field}: {self.kind} {self.detail}".rstrip()


@dataclasses.dataclass
class Target:
    """One field of one form on a change page, and whether the page offers it for editing."""

    model: type
    pk: int
    form_field: forms.Field
    name: str  # the model field's name, or DELETE
    html_name: str
    initial: object
    editable: bool

    @property
    def key(self):
        return (label(self.model), self.name)


def targets_of(page, model):
    """Every field of the model's form (offered or shown read-only), and every field of the
    first row of each inline; and the fields no form can hold (`editable=False`, such as
    `auto_now` times), read-only by construction."""
    form = page.context["adminform"].form
    obj = form.instance
    targets, structural = [], []
    for f in model_fields(model):
        if not f.editable:
            structural.append(Outcome(label(model), label(model), f.name, "read-only", "", False))
            continue
        offered = f.name in form.fields and not form.fields[f.name].disabled
        if offered:
            field, initial = form.fields[f.name], form[f.name].value()
        else:
            # Read-only on this page: forge the value a browser could still send.
            field, initial = f.formfield(), f.value_from_object(obj)
        if field is not None:
            targets.append(Target(model, obj.pk, field, f.name, f.name, initial, offered))
    for inline in page.context["inline_admin_formsets"]:
        formset = inline.formset
        if not formset.initial_forms:
            continue
        row = formset.initial_forms[0]
        shown_read_only = set(inline.readonly_fields)
        if not inline.has_change_permission:
            shown_read_only |= set(flatten_fieldsets(inline.fieldsets))
        for bf in row:
            if bf.name in ("id", formset.fk.name) or bf.field.disabled:
                continue
            offered = bf.name not in shown_read_only and (
                bf.name != "DELETE" or inline.has_delete_permission
            )
            targets.append(
                Target(
                    formset.model,
                    row.instance.pk,
                    bf.field,
                    bf.name,
                    bf.html_name,
                    bf.value(),
                    offered,
                )
            )
    return targets, structural


def form_errors(response):
    context = response.context
    if response.status_code != 200 or context is None or "adminform" not in context:
        return []
    errors = list(context["adminform"].form.errors.values())
    for inline in context["inline_admin_formsets"]:
        errors += [e for e in inline.formset.errors if e] + list(inline.formset.non_form_errors())
    return errors


def try_field(client, url, base, target, page_model):
    """Post the page with only this field changed, and say what became of it."""
    if target.name == "DELETE":
        new = True
    else:
        model_field = target.model._meta.get_field(target.name)
        try:
            new = changed_value(target.form_field, target.initial, model_field)
        except AssertionError as exc:
            raise AssertionError(f"{target.key}: {exc}") from None
    data = {
        k: v for k, v in base.items() if k not in posted_names(target.form_field, target.html_name)
    }
    data.update(post_data(target.form_field, target.html_name, new))
    events_before = list(Event.objects.values_list("pk", flat=True))
    before = stored(target.model, target.pk, target.name)
    response = client.post(url, data)
    after = stored(target.model, target.pk, target.name)
    new_events = list(Event.objects.exclude(pk__in=events_before))
    outcome = functools.partial(Outcome, label(page_model), *target.key)

    if before != after and not new_events:
        if target.editable and target.key in CONFIG_FIELDS:
            return outcome("config")
        return outcome("changed without an event", f"{before!r} → {after!r}")
    if response.status_code == 403 or form_errors(response):
        return outcome("refused", str(form_errors(response)) if form_errors(response) else "")
    assert response.status_code == 302, (target.key, response.status_code)
    if before == after:
        # A value shown read-only is dropped; one offered for editing must have been saved.
        return outcome("read-only" if not target.editable else "not saved")
    olds, news = named(target.model, target.name, before), named(target.model, target.name, after)
    said = (
        len(new_events) == 1
        and new_events[0].verb == "changed_in_admin"
        and new_events[0].actor_id == response.wsgi_request.user.pk
        and any(f"{old} → {new}" in new_events[0].comment for old in olds for new in news)
    )
    if not said:
        comments = [f"{e.verb}: {e.comment}" for e in new_events]
        return outcome("audit does not say old → new", f"wanted {olds} → {news} in {comments}")
    return outcome("audited")


def walk(client, model, obj, only=None):
    """Every field of the model's change page, tried one at a time; `only` picks one."""
    url = admin_url(model, "change", obj.pk)
    page = client.get(url)
    assert page.status_code == 200, (model, page.status_code)
    base = page_data(page)
    targets, outcomes = targets_of(page, model)
    if only is not None:
        outcomes = []
    for target in targets:
        if only is None or target.key == only:
            with transaction.atomic():
                outcomes.append(try_field(client, url, base, target, model))
                transaction.set_rollback(True)
    return outcomes


@pytest.fixture
def admin_client(client, world):
    client.force_login(world.admin)
    return client


def test_every_admin_change_to_a_workflow_field_is_refused_or_on_the_record(admin_client, world):
    record = build_record(world)
    # A newly registered model joins the walk, or this fails.
    assert set(record) == registered_models()

    outcomes = []
    for model, obj in record.items():
        outcomes += walk(admin_client, model, obj)

    counts = Counter("failed" if o.failed else o.kind for o in outcomes)
    posted = sum(o.posted for o in outcomes)
    summary = (
        f"{len(outcomes)} (model, field) pairs on {len(record)} change pages, {posted} posted "
        "one at a time: "
        + ", ".join(f"{counts[k]} {k}" for k in ("read-only", "refused", "audited", "config"))
        + f", {counts['failed']} failed ({len(KNOWN_HOLES)} known holes)"
    )
    print(f"\n{summary}")
    for kind in ("audited", "config"):
        print(
            f"{kind}: " + ", ".join(sorted({".".join(o.key) for o in outcomes if o.kind == kind}))
        )
    for outcome in outcomes:
        if outcome.failed or (outcome.kind == "refused" and outcome.detail):
            print(f"  {outcome}")
    unexpected = [str(o) for o in outcomes if o.failed and o.key not in KNOWN_HOLES]
    assert not unexpected, summary + "\n" + "\n".join(unexpected)
    # Configuration is only what is listed as such, and every listed field was offered.
    assert {o.key for o in outcomes if o.kind == "config"} == CONFIG_FIELDS


def test_the_changelists_edit_nothing_but_configuration():
    # list_editable is a form too, one the walk of the change pages does not reach.
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.list_editable:
            assert (label(model), name) in CONFIG_FIELDS, (model, name)


@pytest.mark.parametrize(
    "model_label, field",
    [
        *[
            pytest.param(
                *key, marks=pytest.mark.xfail(strict=True, reason=reason), id=".".join(key)
            )
            for key, reason in sorted(KNOWN_HOLES.items())
        ],
        *[pytest.param(*key, id=".".join(key)) for key in CLOSED_HOLES],
    ],
)
def test_a_hole_once_found_is_refused_or_on_the_record(admin_client, world, model_label, field):
    record = build_record(world)
    model = apps.get_model(model_label)

    outcomes = walk(admin_client, model, record[model], only=(model_label, field))

    assert outcomes and not any(o.failed for o in outcomes), [str(o) for o in outcomes]


# --- the workflow's own tables, and the people in the record ---------------------------------


def workflow_only_models():
    return [
        model
        for model, model_admin in admin.site._registry.items()
        if isinstance(model_admin, WorkflowOnlyAdmin)
    ]


def test_the_workflow_tables_are_the_ones_the_issue_names():
    assert {m.__name__ for m in workflow_only_models()} == {
        "Assignment",
        "CoOpinion",
        "ContactRecord",
        "ReplyLetter",
        "ReplyRevision",
        "Publication",
        "Receipt",
        "ProposalProposer",
        "ExtensionRequest",
        "SupervisionNote",
        "Reminder",
        "SpreadsheetImport",
        "Compendium",
    }


def test_the_workflow_tables_refuse_any_post_to_change_or_add(admin_client, world):
    record = build_record(world)
    for model in workflow_only_models():
        obj = record[model]
        # What a full model form would post, every field changed: the form the admin had.
        form = modelform_factory(model, fields="__all__")(instance=obj)
        forged = {}
        for bf in form:
            new = changed_value(bf.field, bf.value(), model._meta.get_field(bf.name))
            forged.update(post_data(bf.field, bf.html_name, new))
        before = snapshot(obj)

        assert admin_client.post(admin_url(model, "change", obj.pk), forged).status_code == 403
        assert admin_client.get(admin_url(model, "add")).status_code == 403
        assert admin_client.post(admin_url(model, "add"), forged).status_code == 403
        delete = admin_client.post(admin_url(model, "delete", obj.pk), {"post": "yes"})
        assert delete.status_code == 403
        assert snapshot(obj) == before, model
        assert model.objects.filter(pk=obj.pk).exists(), model


def changelist(model):
    return admin_url(model, "changelist")


def test_a_user_in_the_record_is_not_deleted_but_deactivated(admin_client, world):
    build_record(world)
    kjj = world.kjj
    events = Event.objects.filter(actor=kjj).count()
    assert events

    # The record protects the people it names: the delete page lists what stands in the way.
    page = admin_client.post(admin_url(User, "delete", kjj.pk), {"post": "yes"})
    assert page.status_code == 200 and page.context["protected"]
    admin_client.post(
        changelist(User),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: [kjj.pk], "post": "yes"},
    )
    assert User.objects.filter(pk=kjj.pk).exists()

    admin_client.post(changelist(User), {"action": "deactivate", ACTION_CHECKBOX_NAME: [kjj.pk]})

    kjj.refresh_from_db()
    assert not kjj.is_active
    assert Event.objects.filter(actor=kjj).count() == events


def test_bulk_delete_keeps_the_proposals_with_events(admin_client, world):
    build_record(world)
    spare = Proposal.objects.create(session=world.session, title="关于新建图书馆的建议")
    selected = [world.proposal.pk, spare.pk]

    admin_client.post(
        changelist(Proposal),
        {"action": "delete_selected", ACTION_CHECKBOX_NAME: selected, "post": "yes"},
    )

    assert Proposal.objects.filter(pk=world.proposal.pk).exists()
    assert world.proposal.events.exists()
    assert not Proposal.objects.filter(pk=spare.pk).exists()
