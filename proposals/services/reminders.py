"""Deadline reminders (`manage.py send_reminders`, daily): each unit person gets one digest.

Before each of a unit's deadlines — the return window, the co-handling opinion, the first
contact with the proposer, the reply (an approved extension's date when there is one) —
within `DUE_SOON_WORKING_DAYS`, and once it has passed, the unit's people get one message a
day listing them (in the app and by email; by SMS too where the user has a phone); committee
staff get one listing what became overdue. A `Reminder` row per (assignment, kind, stage, due
date) makes every reminder go once: a second run the same day, or any later day, sends
nothing again, while a deadline that moved is reminded anew.

Other apps add their deadlines (publishing a sent reply) through the `reminder_items` hook:
`(today, soon)` → iterable of (assignment, kind, due).
"""

import datetime
from collections import defaultdict
from dataclasses import dataclass

from django.conf import settings
from django.db import transaction
from django.db.models import Exists, F, OuterRef, Q
from django.db.models.functions import Coalesce
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from accounts.notifications import notify
from accounts.outbox import enqueue_sms

from .. import deadlines, hooks
from ..models import Assignment, ContactRecord, CoOpinion, Proposal, Reminder
from ..workflow import committee_people, unit_people

Kind, Stage, Role = Reminder.Kind, Reminder.Stage, Assignment.Role
OPEN_STATES = (Proposal.State.ASSIGNED, Proposal.State.HANDLING)
# How far back an assignment's working-day deadlines (return window, first contact) can
# still be due soon or newly overdue: their longest rule plus holidays, generously.
LOOKBACK_DAYS = 60


@dataclass(frozen=True)
class Item:
    assignment: Assignment
    kind: str
    due: datetime.date
    stage: str

    @property
    def key(self):
        return (self.assignment.pk, self.kind, self.stage, self.due)


def _open():
    return Assignment.objects.filter(
        is_active=True,
        round=F("proposal__current_round"),
        proposal__state__in=OPEN_STATES,
    ).select_related("proposal", "unit")


def _candidates(today, soon):
    """(assignment, kind, due) of every open deadline due by `soon`, or passed."""
    sent_opinion = CoOpinion.objects.filter(assignment=OuterRef("pk"), sent_at__isnull=False)
    replies = (
        _open()
        .filter(role__in=[Role.LEAD, Role.SPLIT], replied_at__isnull=True)
        .annotate(in_force=Coalesce("extended_due", "reply_due"))
        .filter(in_force__lte=soon)
    )
    for a in replies:
        yield a, Kind.REPLY, a.in_force
    opinions = _open().filter(role=Role.CO, opinion_due__lte=soon).filter(~Exists(sent_opinion))
    for a in opinions:
        yield a, Kind.CO_OPINION, a.opinion_due
    # Working-day deadlines are counted from the assignment: recent assignments only.
    since = timezone.make_aware(
        datetime.datetime.combine(today - datetime.timedelta(days=LOOKBACK_DAYS), datetime.time())
    )
    recent = list(
        _open()
        .filter(assigned_at__gte=since)
        .filter(Q(acknowledged_at__isnull=True) | (~Q(role=Role.CO) & Q(replied_at__isnull=True)))
        .annotate(contacted=Exists(ContactRecord.objects.filter(assignment=OuterRef("pk"))))
    )
    if recent:
        first = min(deadlines.as_local_date(a.assigned_at) for a in recent)
        corrections = deadlines.load_corrections(first, soon + datetime.timedelta(days=60))
        for a in recent:
            if a.acknowledged_at is None and not a.return_status:
                yield a, Kind.RETURN_WINDOW, deadlines.return_window(a.assigned_at, corrections).due
            if not a.contacted and a.role != Role.CO and a.replied_at is None:
                due = deadlines.first_contact_due(a.assigned_at, corrections).due
                yield a, Kind.FIRST_CONTACT, due
    for extra in hooks.call("reminder_items", today, soon):
        yield from extra


def due_items(today, soon):
    """The reminders due today: due soon (not yet passed) or overdue."""
    items = []
    for assignment, kind, due in _candidates(today, soon):
        if due is None or due > soon:
            continue
        if due < today:
            if kind == Kind.RETURN_WINDOW:
                continue  # A closed window is nothing left to do.
            items.append(Item(assignment, kind, due, Stage.OVERDUE))
        else:
            items.append(Item(assignment, kind, due, Stage.DUE_SOON))
    return items


def _line(item):
    proposal = item.assignment.proposal
    text = (
        _("Overdue since %(date)s: %(kind)s of %(number)s “%(title)s”")
        if item.stage == Stage.OVERDUE
        else _("Due %(date)s: %(kind)s of %(number)s “%(title)s”")
    )
    return "· " + text % {
        "date": item.due.isoformat(),
        "kind": Kind(item.kind).label,
        "number": proposal.display_number or proposal.pk,
        "title": proposal.title,
    }


def send_reminders(today=None):
    """Send today's reminders once; returns (units reminded, reminders recorded)."""
    today = today or deadlines.local_today()
    soon = deadlines.add_working_days(today, settings.TIAN["DUE_SOON_WORKING_DAYS"])
    items = due_items(today, soon)
    if not items:
        return 0, 0
    ids = {item.assignment.pk for item in items}
    done = set(
        Reminder.objects.filter(assignment_id__in=ids).values_list(
            "assignment_id", "kind", "stage", "due"
        )
    )
    new = list({item.key: item for item in items if item.key not in done}.values())
    if not new:
        return 0, 0
    with transaction.atomic():
        # All or nothing: a parallel run that got there first makes this one fail on the
        # unique key and send nothing, so no digest goes twice.
        Reminder.objects.bulk_create(
            [
                Reminder(
                    assignment=item.assignment,
                    kind=item.kind,
                    stage=item.stage,
                    due=item.due,
                    sent_on=today,
                )
                for item in new
            ]
        )
        by_unit = defaultdict(list)
        for item in new:
            by_unit[item.assignment.unit].append(item)
        inbox = reverse("proposals:inbox")
        for unit, unit_items in sorted(by_unit.items(), key=lambda pair: pair[0].name):
            unit_items.sort(key=lambda item: (item.stage != Stage.OVERDUE, item.due))
            heading = ngettext(
                "%(unit)s: %(count)d deadline to watch.",
                "%(unit)s: %(count)d deadlines to watch.",
                len(unit_items),
            ) % {"unit": unit.short_name, "count": len(unit_items)}
            message = "\n".join([heading, *map(_line, unit_items)])
            people = list(unit_people([unit]))
            notify(people, "deadline_reminder", message, inbox, subject=heading)
            _sms(people, heading)
        overdue = [item for item in new if item.stage == Stage.OVERDUE]
        if overdue:
            heading = ngettext(
                "%(count)d deadline became overdue.",
                "%(count)d deadlines became overdue.",
                len(overdue),
            ) % {"count": len(overdue)}
            lines = [
                f"{item.assignment.unit.short_name} {_line(item)}"
                for item in sorted(overdue, key=lambda i: (i.assignment.unit.name, i.due))
            ]
            notify(
                committee_people(),
                "deadline_overdue",
                "\n".join([heading, *lines]),
                reverse("proposals:supervision"),
                subject=heading,
            )
    return len(by_unit), len(new)


def _sms(people, text):
    """One short SMS per person with a phone, in the outbox with the reminders."""
    for phone in sorted({person.phone for person in people if person.phone}):
        enqueue_sms(phone, text)
