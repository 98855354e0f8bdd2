import datetime

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.db import models
from django.db.models.functions import Lower
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from core.fields import EncryptedCharField, mask_phone


class User(AbstractUser):
    """A person who logs in: committee staff, unit people, proposers, administrators."""

    full_name = models.CharField(_("full name"), max_length=60, blank=True)
    # Encrypted at rest (core/fields.py); shown masked (mask_phone) except to who calls.
    phone = EncryptedCharField(_("phone"), max_length=30, blank=True)
    is_committee_staff = models.BooleanField(
        _("committee staff"),
        default=False,
        help_text=_("Registers, reviews, assigns and supervises proposals."),
    )
    # Set when an administrator sets the password: the next login must choose a new one.
    must_change_password = models.BooleanField(
        _("must change the password"),
        default=False,
        help_text=_("Set when an administrator sets the password; cleared when the user sets one."),
    )
    password_changed_at = models.DateTimeField(_("password changed"), null=True, blank=True)

    class Meta:
        verbose_name = _("user")
        verbose_name_plural = _("users")
        permissions = [
            # The security administrator's: groups, permissions, staff and committee flags.
            # Changing a user's personal data is `change_user`, the system administrator's.
            ("assign_roles", _("Can assign roles and permissions")),
        ]

    def __str__(self):
        return self.full_name or self.username

    def get_full_name(self):
        return self.full_name or self.username

    @property
    def masked_phone(self):
        return mask_phone(self.phone)


class Unit(models.Model):
    """A handling unit (承办单位), or another office that receives copies."""

    class Kind(models.TextChoices):
        GOVERNMENT = "government", _("Government department")
        TOWNSHIP = "township", _("Town or street")
        PUBLIC_BODY = "public_body", _("Public body or enterprise")
        PARTY_MASS = "party_mass", _("Party or mass organisation")
        COMMITTEE = "committee", _("CPPCC office")
        SUPERVISION = "supervision", _("Supervision office")

    name = models.CharField(_("full name"), max_length=100, unique=True)
    short_name = models.CharField(_("short name"), max_length=40)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.GOVERNMENT)
    doc_number_template = models.CharField(
        _("document number template"),
        max_length=60,
        blank=True,
        help_text=_("For example 梁平科技函〔{year}〕{n}号."),
    )
    publishes_own_replies = models.BooleanField(
        _("publishes its own replies"),
        default=False,
        help_text=_(
            "Granted by the committee: this unit's people publish, correct and unpublish "
            "the unit's own reply letters (committee staff can always)."
        ),
    )
    types_doc_numbers = models.BooleanField(
        _("numbers from its own register"),
        default=False,
        help_text=_(
            "The signing leader may type the document number from the unit's own register "
            "instead of taking the next one of the year."
        ),
    )
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("unit")
        verbose_name_plural = _("units")
        ordering = ["name"]
        indexes = [models.Index(fields=["short_name"])]

    def __str__(self):
        return self.short_name or self.name


class Membership(models.Model):
    """A user's role in a unit."""

    class Role(models.TextChoices):
        HANDLER = "handler", _("Handler")
        LEADER = "leader", _("Leader (signer)")

    user = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("user")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="memberships", verbose_name=_("unit")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.HANDLER)
    title = models.CharField(
        _("leader's title"),
        max_length=30,
        blank=True,
        help_text=_("As named in the sign-off attestation, e.g. 主要领导."),
    )

    class Meta:
        verbose_name = _("unit membership")
        verbose_name_plural = _("unit memberships")
        constraints = [
            models.UniqueConstraint(
                fields=["user", "unit", "role"], name="membership_unique_user_unit_role"
            )
        ]

    def __str__(self):
        return f"{self.user} · {self.unit} · {self.get_role_display()}"


class Proposer(models.Model):
    """Who a proposal can come from: a member, or a collective (party, group, committee)."""

    class Kind(models.TextChoices):
        MEMBER = "member", _("Member")
        PARTY = "party", _("Democratic party")
        GROUP = "group", _("People's organisation")
        SECTOR = "sector", _("Sector group")
        SPECIAL_COMMITTEE = "special_committee", _("Special committee")

    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.MEMBER)
    name = models.CharField(_("name"), max_length=100)
    # The committee's own number of a member (委员编号): what a re-imported roster is
    # matched by, whatever else about the member changed.
    number = models.CharField(
        _("member number"),
        max_length=30,
        blank=True,
        help_text=_("The committee's number of a member; the roster import matches by it."),
    )
    user = models.OneToOneField(
        User,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="proposer",
        verbose_name=_("login account"),
    )
    sector = models.CharField(_("sector"), max_length=60, blank=True)
    party = models.CharField(_("political affiliation"), max_length=60, blank=True)
    workplace = models.CharField(_("workplace and position"), max_length=200, blank=True)
    # Private: never on a public page. Encrypted at rest, masked but for who calls them.
    phone = EncryptedCharField(_("phone"), max_length=30, blank=True)
    email = models.EmailField(_("email"), blank=True)
    address = models.CharField(_("address"), max_length=200, blank=True)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("proposer")
        verbose_name_plural = _("proposers")
        ordering = ["name"]
        indexes = [models.Index(Lower("name"), name="proposer_name_lower")]
        constraints = [
            models.UniqueConstraint(
                fields=["number"],
                condition=~models.Q(number=""),
                name="proposer_unique_number",
            )
        ]

    def __str__(self):
        return self.name

    @property
    def is_member(self):
        return self.kind == self.Kind.MEMBER

    @property
    def masked_phone(self):
        return mask_phone(self.phone)

    @property
    def salutation(self):
        """How a reply letter addresses this proposer: 张华委员 / 民盟梁平区委."""
        return f"{self.name}委员" if self.is_member else self.name


class Notification(models.Model):
    """An in-app message; email and SMS copies are sent after commit."""

    recipient = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="notifications", verbose_name=_("recipient")
    )
    verb = models.CharField(_("verb"), max_length=40)
    message = models.TextField(_("message"))
    url = models.CharField(_("link"), max_length=300, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    read_at = models.DateTimeField(_("read at"), null=True, blank=True)

    class Meta:
        verbose_name = _("notification")
        verbose_name_plural = _("notifications")
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["recipient", "read_at"])]

    def __str__(self):
        return self.message[:50]


class OutboxMessage(models.Model):
    """One email or SMS to send, written in the transaction of the step that caused it.

    `manage.py send_outbox` sends what is due, retries with back-off and gives up after
    settings.OUTBOX["MAX_ATTEMPTS"] attempts (accounts/outbox.py). A row is claimed with
    SELECT … FOR UPDATE SKIP LOCKED and marked `sending` until `next_attempt_at` (its lease),
    so that two workers never take the same message.
    """

    class Channel(models.TextChoices):
        EMAIL = "email", _("Email")
        SMS = "sms", _("SMS")

    class State(models.TextChoices):
        PENDING = "pending", _("Waiting to be sent")
        SENDING = "sending", _("Being sent")
        SENT = "sent", _("Sent out")
        FAILED = "failed", _("Failed")

    channel = models.CharField(_("channel of the message"), max_length=10, choices=Channel)
    address = models.CharField(_("recipient address"), max_length=254)
    subject = models.CharField(_("subject"), max_length=200, blank=True)
    body = models.TextField(_("body"))
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.PENDING)
    attempts = models.PositiveSmallIntegerField(_("attempts"), default=0)
    next_attempt_at = models.DateTimeField(_("next attempt at"), default=timezone.now)
    last_error = models.TextField(_("last error"), blank=True)
    sent_at = models.DateTimeField(_("sent out at"), null=True, blank=True)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("outgoing message")
        verbose_name_plural = _("outgoing messages")
        ordering = ["-created_at", "-id"]
        indexes = [
            # The worker's question: what is due now? (pending, or sending past its lease)
            models.Index(fields=["state", "next_attempt_at"], name="outbox_due"),
        ]

    def __str__(self):
        return f"{self.get_channel_display()} → {self.address}: {self.subject or self.body[:30]}"


class RosterImport(models.Model):
    """An uploaded roster (members, collectives, units and their people) between its
    preview and the confirmation, then the record of what it created.

    The file's bytes are kept in the database so that the confirm may reach another app
    server; the confirm reads and checks them again. After the import the file is dropped
    and the ids of the accounts it created are kept, for their activation links.
    """

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        IMPORTED = "imported", _("Imported")

    token = models.CharField(_("token"), max_length=64, unique=True)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PREVIEWED)
    file_name = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField(_("file"))
    created_by = models.ForeignKey(
        User, on_delete=models.CASCADE, related_name="+", verbose_name=_("uploaded by")
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)
    # {"created": n, "updated": n, "unchanged": n} of the import.
    counts = models.JSONField(_("counts"), default=dict, blank=True)
    created_accounts = models.ManyToManyField(
        User, blank=True, related_name="+", verbose_name=_("accounts created")
    )

    class Meta:
        verbose_name = _("roster import")
        verbose_name_plural = _("roster imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.file_name


class RateCount(models.Model):
    """A rate limit's counter in the database, shared by every worker and server, for when
    the cache is one process's memory (replies/ratelimit.py). With Redis, the cache counts."""

    key = models.CharField(max_length=200, primary_key=True)
    count = models.PositiveIntegerField(default=0)
    expires = models.DateTimeField(db_index=True)

    class Meta:
        verbose_name = _("rate limit count")
        verbose_name_plural = _("rate limit counts")

    def __str__(self):
        return f"{self.key}: {self.count}"


# --- the security record ---------------------------------------------------------------------

# 网络安全法 art. 21: network logs are kept at least six months. Nothing shorter is accepted.
MINIMUM_RETENTION_DAYS = 183


class RecordProtected(Exception):
    """A change to the security record that is refused: rows are append-only and kept."""


def retention_days():
    """How long the security record is kept (settings.AUDIT_RETENTION_DAYS, ≥ six months)."""
    return max(int(getattr(settings, "AUDIT_RETENTION_DAYS", 3 * 365)), MINIMUM_RETENTION_DAYS)


def retention_cutoff(now=None):
    """Rows created at or before this moment are past retention and may be purged."""
    return (now or timezone.now()) - datetime.timedelta(days=retention_days())


class SecurityEventQuerySet(models.QuerySet):
    def past_retention(self):
        return self.filter(created_at__lte=retention_cutoff())

    def update(self, **kwargs):
        raise RecordProtected("The security record is append-only.")

    def delete(self):
        if self.filter(created_at__gt=retention_cutoff()).exists():
            raise RecordProtected(
                "Rows of the security record younger than the retention period are kept."
            )
        return super().delete()

    delete.alters_data = True
    delete.queryset_only = True

    def purge(self):
        """Delete these rows whatever their age: only `purge_audit --override`, recorded."""
        return super().delete()

    purge.alters_data = True
    purge.queryset_only = True


class SecurityEvent(models.Model):
    """One row of the security record: logins, lockouts, passwords, roles, personal data
    looked at, exports. Append-only; deleted only past retention (`purge_audit`)."""

    class Kind(models.TextChoices):
        LOGIN = "login", _("Logged in")
        LOGIN_FAILED = "login_failed", _("Login failed")
        LOGOUT = "logout", _("Logged out")
        LOCKED_OUT = "locked_out", _("Locked out")
        PASSWORD_CHANGED = "password_changed", _("Password changed")
        PASSWORD_RESET_ISSUED = "password_reset_issued", _("Password reset issued")
        ROLES_CHANGED = "roles_changed", _("Roles or permissions changed")
        ADMIN_CHANGE = "admin_change", _("Changed in the admin")
        PERSONAL_DATA_VIEWED = "personal_data_viewed", _("Personal data viewed")
        EXPORTED = "exported", _("Exported")
        RECORD_PURGED = "record_purged", _("Record purged")

    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)
    kind = models.CharField(_("kind"), max_length=30, choices=Kind)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("who"),
    )
    # The actor's username as it was then, or the username a failed login tried.
    actor_name = models.CharField(_("username"), max_length=150, blank=True)
    object_type = models.CharField(_("object type"), max_length=60, blank=True)
    object_id = models.CharField(_("object id"), max_length=64, blank=True)
    object_repr = models.CharField(_("object"), max_length=200, blank=True)
    ip_address = models.GenericIPAddressField(_("IP address"), null=True, blank=True)
    details = models.JSONField(_("details"), default=dict, blank=True)

    objects = SecurityEventQuerySet.as_manager()

    class Meta:
        verbose_name = _("security event")
        verbose_name_plural = _("security events")
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["kind", "created_at"], name="securityevent_kind_time"),
            models.Index(fields=["actor", "created_at"], name="securityevent_actor_time"),
            models.Index(fields=["actor_name", "created_at"], name="securityevent_name_time"),
            models.Index(fields=["object_type", "object_id"], name="securityevent_object"),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.get_kind_display()}"

    def save(self, *args, **kwargs):
        if not self._state.adding and not kwargs.get("force_insert"):
            raise RecordProtected("The security record is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        if self.created_at > retention_cutoff():
            raise RecordProtected(
                "Rows of the security record younger than the retention period are kept."
            )
        return super().delete(*args, **kwargs)
