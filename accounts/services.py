"""The accounts' changes that are more than a form: importing the roster, activating an
imported account. Views and commands call these; each runs in one transaction, locks the
rows it changes, and leaves a record of every change (Django's admin history, `LogEntry`,
which the admin shows on each record's history page).
"""

from django.contrib.admin.models import ADDITION, CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import transaction
from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from core.workflow import Refused

from . import roster as roster_sheet
from .access import is_committee
from .models import Membership, Proposer, RosterImport, Unit, User
from .signals import password_changed


def require_committee(actor):
    if not is_committee(actor):
        raise Refused(_("Only committee staff can do this."))


class _Record:
    """LogEntry rows for what an import did, written at the end in one insert."""

    def __init__(self, actor, source):
        self.actor = actor
        self.source = source
        self.entries = []

    def add(self, obj, created, row, changes=()):
        if created:
            message = _("Created by the roster import: %(source)s, sheet %(sheet)s, row %(row)d.")
        else:
            message = _(
                "Changed by the roster import (%(fields)s): %(source)s, sheet %(sheet)s, "
                "row %(row)d."
            )
        self.entries.append(
            LogEntry(
                user=self.actor,
                content_type=ContentType.objects.get_for_model(obj),
                object_id=str(obj.pk),
                object_repr=str(obj)[:200],
                action_flag=ADDITION if created else CHANGE,
                change_message=message
                % {
                    "source": self.source,
                    "sheet": roster_sheet.SHEET_BY_KEY[row.sheet].title,
                    "row": row.number,
                    "fields": "、".join(changes),
                },
            )
        )

    def save(self):
        LogEntry.objects.bulk_create(self.entries)


def _lock(data):
    """Lock every row the file may touch, before it is read again and saved: two imports
    (or an import and an edit) of the same people run one after the other."""
    preview = roster_sheet.read_roster(data)
    keys = {sheet.key: sheet.rows for sheet in preview.sheets}
    numbers = [r.cleaned.get("number") for r in keys.get("members", [])]
    names = [r.cleaned.get("name") for r in keys.get("members", []) + keys.get("collectives", [])]
    list(Proposer.objects.select_for_update().filter(Q(number__in=numbers) | Q(name__in=names)))
    list(
        Unit.objects.select_for_update().filter(
            name__in=[r.cleaned.get("name") for r in keys.get("units", [])]
        )
    )
    list(
        User.objects.select_for_update().filter(
            username__in=[r.cleaned.get("username") for r in keys.get("people", [])]
        )
    )


@transaction.atomic
def import_roster(upload, actor):
    """Save every row of a clean roster (a `RosterImport`) in one transaction; Refused if
    anything is wrong. New accounts are inactive, without a password: each person sets one
    through their activation link. Returns the counts."""
    require_committee(actor)
    upload = RosterImport.objects.select_for_update().get(pk=upload.pk)
    if upload.status == RosterImport.Status.IMPORTED:
        raise Refused(_("This file was imported already."))
    data = bytes(upload.data)
    _lock(data)
    preview = roster_sheet.read_roster(data, file_name=upload.file_name)
    if not preview.ok:
        raise Refused(
            _("The file has %(count)d problems; nothing was imported.")
            % {"count": preview.problem_count}
        )
    record = _Record(actor, upload.file_name)
    counts = {"created": 0, "updated": 0, "unchanged": 0}

    def tally(row):
        key = {"create": "created", "update": "updated"}.get(row.action, "unchanged")
        counts[key] += 1

    for sheet in preview.sheets:
        if sheet.key == "people":
            continue
        for row in sheet.rows:
            tally(row)
            if sheet.key == "members":
                _save_proposer(row, Proposer.Kind.MEMBER, record)
            elif sheet.key == "collectives":
                _save_proposer(row, row.cleaned["kind"], record)
            elif sheet.key == "units":
                _save_unit(row, record)
    created_users = []
    people = preview.sheet("people")
    accounts = {}
    for row in people.rows if people else []:
        user = _save_person(row, record, accounts)
        if row.action == "create":
            created_users.append(user)
        if row.action != "create_membership":
            tally(row)
    record.save()
    upload.status = RosterImport.Status.IMPORTED
    upload.imported_at = timezone.now()
    upload.counts = counts
    upload.data = b""
    upload.save(update_fields=["status", "imported_at", "counts", "data"])
    upload.created_accounts.add(*created_users)
    return counts


def _set(obj, row, names):
    changed = []
    for name in names:
        value = row.cleaned.get(name, "")
        if value not in ("", None) and getattr(obj, name) != value:
            setattr(obj, name, value)
            changed.append(name)
    return changed


PROPOSER_FIELDS = ["number", "name", "sector", "party", "workplace", "phone", "address", "email"]


def _save_proposer(row, kind, record):
    if row.target is None:
        proposer = Proposer(kind=kind or Proposer.Kind.PARTY)
        _set(proposer, row, PROPOSER_FIELDS)
        proposer.save()
        record.add(proposer, True, row)
        return proposer
    proposer = Proposer.objects.get(pk=row.target.pk)
    row.cleaned.setdefault("kind", kind)
    changed = _set(proposer, row, [*PROPOSER_FIELDS, "kind"] if kind else PROPOSER_FIELDS)
    if changed:
        proposer.save(update_fields=changed)
        record.add(proposer, False, row, changed)
    return proposer


def _save_unit(row, record):
    if row.target is None:
        unit = Unit(kind=row.cleaned.get("kind") or Unit.Kind.GOVERNMENT)
        _set(unit, row, ["name", "short_name"])
        unit.save()
        record.add(unit, True, row)
        return unit
    unit = Unit.objects.get(pk=row.target.pk)
    changed = _set(unit, row, ["short_name", "kind"])
    if not unit.is_active:
        unit.is_active = True
        changed.append("is_active")
    if changed:
        unit.save(update_fields=changed)
        record.add(unit, False, row, changed)
    return unit


def _save_person(row, record, accounts):
    username = row.cleaned["username"]
    user = accounts.get(username)
    if user is None:
        if row.target is None:
            user = User(username=username, is_active=False)
            _set(user, row, ["full_name", "phone", "email"])
            # No password until the person sets one through the activation link.
            user.set_unusable_password()
            user.save()
            record.add(user, True, row)
        else:
            user = User.objects.get(pk=row.target.pk)
            changed = _set(user, row, ["full_name", "phone", "email"])
            if changed:
                user.save(update_fields=changed)
                record.add(user, False, row, changed)
        accounts[username] = user
    unit = Unit.objects.get(name=row.cleaned["unit_name"])
    role = row.cleaned["role"]
    membership, created = Membership.objects.get_or_create(
        user=user, unit=unit, role=role, defaults={"title": row.cleaned.get("title", "")}
    )
    if created:
        record.add(membership, True, row)
    elif row.cleaned.get("title") and membership.title != row.cleaned["title"]:
        membership.title = row.cleaned["title"]
        membership.save(update_fields=["title"])
        record.add(membership, False, row, ["title"])
    return user


@transaction.atomic
def activate_account(user, password, request=None):
    """The person sets their first password through their activation link; the account
    becomes active. Refused for an account already active (the link is spent)."""
    user = User.objects.select_for_update().get(pk=user.pk)
    if user.is_active or user.has_usable_password():
        raise Refused(_("This account is active already: log in, or ask for a password reset."))
    user.set_password(password)
    user.is_active = True
    user.save(update_fields=["password", "is_active"])
    LogEntry.objects.create(
        user=user,
        content_type=ContentType.objects.get_for_model(user),
        object_id=str(user.pk),
        object_repr=str(user)[:200],
        action_flag=CHANGE,
        change_message=_("Activated through the activation link; password set."),
    )
    transaction.on_commit(
        lambda: password_changed.send(sender=User, user=user, by=user, how="reset", request=request)
    )
    return user
