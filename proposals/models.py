from django.conf import settings
from django.db import models
from django.db.models import F, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Proposer, Unit

CN_DIGITS = "零一二三四五六七八九"

# Statistics keep a session's figures in this many parts, a proposal in part id % PARTS
# (replies/statistics.py): a workflow step changes one proposal, so one part is counted again.
# (Measured at 100,000 proposals, 7,500 in the session: once the five queries of a part were
# compiled once per process, a part of 32 took 29 ms to count again and of 64 19 ms, while
# counting a whole session part by part, on the first step or a new day, took 560 and
# 690 ms.) The index below has the number too.
STATISTICS_PARTS = 64


def statistics_part(proposal_field):
    """The statistics part of a row, from its proposal's id: the same expression in the
    index below and in the queries that filter by it, so that the index serves them. The
    operator, not MOD(): SQLite has only Django's Python function of that name."""
    return F(proposal_field) % STATISTICS_PARTS


def copied_session():
    """The proposal's session, copied onto a row that belongs to the proposal (assignments,
    events, letters, receipts), so that statistics read a session's rows without going through
    its proposals. Set on save by `copy_session`; a proposal changes session only as a draft,
    before it has any such row."""
    return models.ForeignKey(
        "proposals.Session",
        on_delete=models.PROTECT,
        related_name="+",
        editable=False,
        db_index=False,
        verbose_name=_("session"),
    )


def copy_session(row, source):
    """Set `row.session` from the row it belongs to (`source`: "proposal", "assignment",
    "letter") unless it is set already."""
    if row.session_id is None and getattr(row, f"{source}_id") is not None:
        row.session_id = getattr(row, source).session_id


def chinese_numeral(n):
    """1 → 一, 15 → 十五, 23 → 二十三, 105 → 一百零五, 19772 → 一万九千七百七十二.

    Any whole number: a term or session number the admin accepted (the column holds up to
    32767, SQLite more) once made the page that names it a 500 (IndexError)."""
    if n < 0:
        return "负" + chinese_numeral(-n)
    if n < 10:
        return CN_DIGITS[n]
    if n < 20:
        return "十" + (CN_DIGITS[n % 10] if n % 10 else "")
    groups = []
    while n:
        n, group = divmod(n, 10000)
        groups.append(group)
    text, gap = "", False
    for i in reversed(range(len(groups))):
        group = groups[i]
        if not group:
            gap = bool(text)
            continue
        if text and (gap or group < 1000):
            text += "零"
        text += _below_ten_thousand(group) + ("万" if i % 2 else "") + "亿" * (i // 2)
        gap = False
    return text


def _below_ten_thousand(n):
    """1..9999 in full: 1005 → 一千零五, 110 → 一百一十."""
    text, gap = "", False
    for value, unit in ((1000, "千"), (100, "百"), (10, "十"), (1, "")):
        digit, n = divmod(n, value)
        if digit:
            text += ("零" if gap else "") + CN_DIGITS[digit] + unit
            gap = False
        elif text:
            gap = True
    return text


class Term(models.Model):
    """届: a committee's five-year term."""

    number = models.PositiveSmallIntegerField(_("number"), unique=True)
    committee = models.CharField(_("committee"), max_length=60, default="重庆市梁平区")
    started_on = models.DateField(_("started on"), null=True, blank=True)

    class Meta:
        verbose_name = _("term")
        verbose_name_plural = _("terms")
        ordering = ["-number"]

    def __str__(self):
        return f"第{chinese_numeral(self.number)}届"


class Session(models.Model):
    """次会议: a plenary session of a term, and the period until the next one."""

    term = models.ForeignKey(
        Term, on_delete=models.PROTECT, related_name="sessions", verbose_name=_("term")
    )
    number = models.PositiveSmallIntegerField(_("number"))
    opened_on = models.DateField(_("opened on"), null=True, blank=True)
    is_current = models.BooleanField(_("current"), default=False)

    class Meta:
        verbose_name = _("session")
        verbose_name_plural = _("sessions")
        ordering = ["-term__number", "-number"]
        constraints = [
            models.UniqueConstraint(fields=["term", "number"], name="session_unique_number")
        ]

    def __str__(self):
        return (
            f"第{chinese_numeral(self.term.number)}届委员会第{chinese_numeral(self.number)}次会议"
        )


class Category(models.Model):
    name = models.CharField(_("name"), max_length=40, unique=True)
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("category")
        verbose_name_plural = _("categories")
        ordering = ["position", "name"]

    def __str__(self):
        return self.name


class RejectionReason(models.Model):
    """A coded reason for 不予立案 (configurable list)."""

    code = models.CharField(_("code"), max_length=20, unique=True)
    label = models.CharField(_("label"), max_length=60)
    is_active = models.BooleanField(_("active"), default=True)

    class Meta:
        verbose_name = _("rejection reason")
        verbose_name_plural = _("rejection reasons")
        ordering = ["code"]

    def __str__(self):
        return self.label


class CalendarDay(models.Model):
    """A correction to the working-day calendar: a holiday, or a make-up working day (调休)."""

    date = models.DateField(_("date"), unique=True)
    is_working_day = models.BooleanField(_("working day"))
    note = models.CharField(_("note"), max_length=60, blank=True)

    class Meta:
        verbose_name = _("calendar correction")
        verbose_name_plural = _("calendar corrections")
        ordering = ["date"]

    def __str__(self):
        return f"{self.date} {self.note}"


class DeadlineRule(models.Model):
    """One clock of DESIGN.md's "Deadlines" table, as the committee counts it.

    Rows are made by migration 0009 (today's values: `TIAN` in settings) and changed in the
    admin through `services.change_rule`, which moves the open deadlines that followed the
    rule as it was. `proposals.deadlines` reads them (cached; see `deadlines.current_rules`).
    """

    class Clock(models.TextChoices):
        RETURN_WINDOW = "return_window", _("return request window")
        CO_OPINION = "co_opinion", _("co-handling opinion")
        FIRST_CONTACT = "first_contact", _("first contact with the proposer")
        REPLY = "reply", _("reply")
        PLENARY_REPLY = "plenary_reply", _("reply to a plenary proposal")
        REPLY_MAX = "reply_max", _("latest reply, even with an extension")
        PUBLISH = "publish", _("publishing")
        RECEIPT = "receipt", _("receipt")
        REHANDLING = "rehandling", _("second-round reply")

    class Start(models.TextChoices):
        ASSIGNMENT = "assignment", _("Assignment")
        SENDING = "sending", _("Sending of the reply")
        REHANDLING = "rehandling", _("Re-handling decision")

    class Unit(models.TextChoices):
        WORKING_DAYS = "working_days", _("working days")
        DAYS = "days", _("calendar days")
        MONTHS = "months", _("calendar months")

    clock = models.CharField(_("deadline"), max_length=20, choices=Clock, unique=True)
    starts_at = models.CharField(_("counted from"), max_length=20, choices=Start)
    length = models.PositiveSmallIntegerField(
        _("length"),
        null=True,
        blank=True,
        help_text=_("Empty only for plenary proposals: they then follow the reply rule."),
    )
    unit = models.CharField(_("unit of time"), max_length=20, choices=Unit)
    note = models.CharField(_("reason for the last change"), max_length=200, blank=True)
    changed_at = models.DateTimeField(_("changed at"), null=True, blank=True)
    changed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("changed by"),
    )

    class Meta:
        verbose_name = _("deadline rule")
        verbose_name_plural = _("deadline rules")
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=Q(length__isnull=False) | Q(clock="plenary_reply"),
                name="deadline_rule_has_a_length",
            ),
            models.CheckConstraint(
                condition=Q(length__isnull=True) | Q(length__gte=1, length__lte=400),
                name="deadline_rule_length_in_range",
            ),
        ]

    def __str__(self):
        return self.get_clock_display()


class Proposal(models.Model):
    class Kind(models.TextChoices):
        INDIVIDUAL = "individual", _("Individual")
        COSIGNED = "cosigned", _("Co-signed")
        PARTY = "party", _("Party or group")
        SECTOR = "sector", _("Sector group")
        SPECIAL_COMMITTEE = "special_committee", _("Special committee")

    class Period(models.TextChoices):
        PLENARY = "plenary", _("During the plenary")
        INTERIM = "interim", _("Between sessions")

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_COSIGNERS = "awaiting_cosigners", _("Awaiting co-signers")
        SUBMITTED = "submitted", _("Submitted")
        ACCEPTED = "accepted", _("Accepted")
        ASSIGNED = "assigned", _("Assigned")
        HANDLING = "handling", _("In handling")
        REPLIED = "replied", _("Replied")
        CLOSED = "closed", _("Closed")
        MERGED = "merged", _("Merged")
        CONVERTED = "converted", _("Turned into an opinion")
        REJECTED = "rejected", _("Not accepted")
        WITHDRAWN = "withdrawn", _("Withdrawn")

    class ReviewOutcome(models.TextChoices):
        ACCEPT = "accept", _("Accept")
        MERGE = "merge", _("Merge")
        CONVERT = "convert", _("Turn into an opinion")
        REJECT = "reject", _("Reject")
        WITHDRAW = "withdraw", _("Withdraw")

    class HandlingMode(models.TextChoices):
        SINGLE = "single", _("Single unit")
        SPLIT = "split", _("Split")
        JOINT = "joint", _("Joint (lead and co-handling units)")

    session = models.ForeignKey(
        Session, on_delete=models.PROTECT, related_name="proposals", verbose_name=_("session")
    )
    number = models.PositiveIntegerField(_("proposal number"), null=True, blank=True)
    title = models.CharField(_("title"), max_length=200)
    reasons = models.TextField(_("reasons"), blank=True)
    suggestions = models.TextField(_("suggestions"), blank=True)
    category = models.ForeignKey(
        Category,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="proposals",
        verbose_name=_("category"),
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.INDIVIDUAL)
    period = models.CharField(_("period"), max_length=10, choices=Period, default=Period.PLENARY)
    proposers = models.ManyToManyField(
        Proposer,
        through="ProposalProposer",
        related_name="proposals",
        verbose_name=_("proposers"),
    )
    suggested_units = models.ManyToManyField(
        Unit, blank=True, related_name="suggested_for", verbose_name=_("suggested units")
    )
    consent_to_publish = models.BooleanField(_("consent to publish"), default=True)
    no_publish_reason = models.CharField(_("reason for not publishing"), max_length=200, blank=True)
    state = models.CharField(
        _("state"), max_length=20, choices=State, default=State.DRAFT, db_index=True
    )
    review_outcome = models.CharField(
        _("review outcome"), max_length=10, choices=ReviewOutcome, blank=True
    )
    rejection_reason = models.ForeignKey(
        RejectionReason,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        verbose_name=_("rejection reason"),
    )
    review_comment = models.TextField(_("review comment"), blank=True)
    merged_into = models.ForeignKey(
        "self",
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="merged_proposals",
        verbose_name=_("merged into"),
    )
    is_key = models.BooleanField(_("key proposal"), default=False)
    supervising_leader = models.CharField(_("supervising leader"), max_length=60, blank=True)
    handling_mode = models.CharField(
        _("handling mode"), max_length=10, choices=HandlingMode, blank=True
    )
    current_round = models.PositiveSmallIntegerField(_("handling round"), default=1)
    on_paper = models.BooleanField(_("registered from paper"), default=False)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("created by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)
    reviewed_at = models.DateTimeField(_("reviewed at"), null=True, blank=True)
    closed_at = models.DateTimeField(_("closed at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposal")
        verbose_name_plural = _("proposals")
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["session", "number"], name="proposal_unique_number_in_session"
            ),
        ]
        indexes = [
            # The workspace filters by session and state and lists newest first.
            models.Index(
                fields=["session", "state", "-created_at", "-id"], name="proposal_session_state"
            ),
            models.Index(fields=["category", "state"]),
            models.Index(fields=["-created_at", "-id"], name="proposal_newest"),
            # "Recently closed" in the closing queue.
            models.Index(fields=["state", "-closed_at", "-id"], name="proposal_state_closed"),
            # Statistics group a session's proposals by category and kind, and join them to
            # their assignments: read from the index alone, not from the wide rows.
            models.Index(
                fields=["session", "state"],
                include=["category", "kind", "id"],
                name="proposal_statistics",
            ),
        ]

    def __str__(self):
        if self.number:
            return f"{self.display_number} {self.title}"
        return self.title

    def get_absolute_url(self):
        return reverse("proposals:detail", args=[self.pk])

    @property
    def display_number(self):
        if self.number is None:
            return ""
        width = settings.TIAN["PROPOSAL_NUMBER_WIDTH"]
        return f"第{self.number:0{width}d}号"


class ProposalProposer(models.Model):
    """A proposer of a proposal, in order: position 0 is the first proposer (第一提案人)."""

    class Status(models.TextChoices):
        PENDING = "pending", _("Awaiting confirmation")
        CONFIRMED = "confirmed", _("Confirmed")
        DECLINED = "declined", _("Declined")

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="proposer_list", verbose_name=_("proposal")
    )
    proposer = models.ForeignKey(
        Proposer, on_delete=models.PROTECT, related_name="listings", verbose_name=_("proposer")
    )
    position = models.PositiveSmallIntegerField(_("position"), default=0)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.CONFIRMED)
    responded_at = models.DateTimeField(_("responded at"), null=True, blank=True)

    class Meta:
        verbose_name = _("proposer of a proposal")
        verbose_name_plural = _("proposers of a proposal")
        ordering = ["proposal", "position"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "proposer"], name="proposer_once_per_proposal"
            ),
        ]

    def __str__(self):
        return str(self.proposer)

    @property
    def is_first(self):
        return self.position == 0


class Assignment(models.Model):
    """A proposal handed to one unit (交办), as lead, co-handling or split unit."""

    class Role(models.TextChoices):
        LEAD = "lead", _("Lead unit")
        CO = "co", _("Co-handling unit")
        SPLIT = "split", _("Split unit")

    class ReturnStatus(models.TextChoices):
        NONE = "", _("None")
        REQUESTED = "requested", _("Requested")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    proposal = models.ForeignKey(
        Proposal, on_delete=models.CASCADE, related_name="assignments", verbose_name=_("proposal")
    )
    session = copied_session()
    unit = models.ForeignKey(
        Unit, on_delete=models.PROTECT, related_name="assignments", verbose_name=_("unit")
    )
    role = models.CharField(_("role"), max_length=10, choices=Role, default=Role.LEAD)
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    is_active = models.BooleanField(
        _("active"), default=True, help_text=_("Off once a return request is approved.")
    )
    assigned_at = models.DateTimeField(_("assigned at"))
    assigned_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("assigned by"),
    )
    acknowledged_at = models.DateTimeField(_("acknowledged at"), null=True, blank=True)
    acknowledged_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("acknowledged by"),
    )
    replied_at = models.DateTimeField(
        _("replied at"),
        null=True,
        blank=True,
        help_text=_("When this unit's reply letter of this round was sent."),
    )
    # The day of the first face-to-face contact recorded (meeting, forum, visit), kept by
    # ContactRecord.save: statistics count a reply as met face to face (见面) from it, not
    # by looking up each reply's contact records.
    face_to_face_on = models.DateField(
        _("first met face to face on"), null=True, blank=True, editable=False
    )
    reply_due = models.DateField(_("reply due"), null=True, blank=True)
    opinion_due = models.DateField(_("co-handling opinion due"), null=True, blank=True)
    due_change_reason = models.CharField(
        _("reason for changed deadline"), max_length=200, blank=True
    )
    extended_due = models.DateField(_("extended to"), null=True, blank=True)
    extension_reason = models.CharField(_("extension reason"), max_length=200, blank=True)
    return_status = models.CharField(
        _("return request"), max_length=10, choices=ReturnStatus, blank=True, default=""
    )
    return_reason = models.TextField(_("return reason"), blank=True)
    return_requested_at = models.DateTimeField(_("return requested at"), null=True, blank=True)
    return_requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("return requested by"),
    )
    return_decided_at = models.DateTimeField(_("return decided at"), null=True, blank=True)
    return_decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("return decided by"),
    )
    return_comment = models.TextField(_("return decision comment"), blank=True)
    replaced_by = models.ForeignKey(
        "self",
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="replaces",
        verbose_name=_("replaced by"),
    )

    class Meta:
        verbose_name = _("assignment")
        verbose_name_plural = _("assignments")
        ordering = ["proposal", "round", "role", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["proposal", "round"],
                condition=Q(role="lead", is_active=True),
                name="assignment_one_lead_per_round",
            ),
            models.UniqueConstraint(
                fields=["proposal", "unit", "round"],
                condition=Q(is_active=True),
                name="assignment_unit_once_per_round",
            ),
        ]
        indexes = [
            models.Index(fields=["unit", "is_active", "role"]),
            models.Index(fields=["proposal", "is_active", "role"]),
            models.Index(fields=["reply_due"]),
            # The supervision page: what is overdue or due soon, whichever date is in force.
            models.Index(fields=["extended_due"]),
            models.Index(fields=["opinion_due"]),
            # Reminders count the working-day deadlines of recent assignments.
            models.Index(fields=["assigned_at"]),
            # The committee's return-request count on every workspace page, and its list.
            models.Index(
                fields=["return_requested_at", "id"],
                condition=Q(return_status="requested", is_active=True),
                name="assignment_return_requests",
            ),
            # Statistics: a session's assignments, or those of some parts of it.
            models.Index(F("session"), statistics_part("proposal"), name="assignment_statistics"),
            # ... and its open work alone: what is overdue, counted again on a new day.
            models.Index(
                F("session"),
                statistics_part("proposal"),
                # The replying roles (Role.LEAD, Role.SPLIT: the class is not in scope here).
                condition=Q(replied_at__isnull=True, is_active=True, role__in=["lead", "split"]),
                name="assignment_open_statistics",
            ),
        ]

    def __str__(self):
        return f"{self.proposal.display_number or self.proposal_id} → {self.unit} ({self.get_role_display()})"

    def save(self, *args, **kwargs):
        copy_session(self, "proposal")
        super().save(*args, **kwargs)

    @property
    def due(self):
        """The reply deadline in force: an approved extension replaces the original."""
        return self.extended_due or self.reply_due


class CoOpinion(models.Model):
    """协办意见: a co-handling unit's opinion, sent to the lead unit."""

    assignment = models.OneToOneField(
        Assignment,
        on_delete=models.CASCADE,
        related_name="opinion",
        verbose_name=_("assignment"),
    )
    doc_number = models.CharField(_("document number"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=200)
    body = models.TextField(_("body"))
    signatory = models.CharField(_("signatory"), max_length=60, blank=True)
    attachment = models.FileField(_("attachment"), upload_to="opinions/%Y/", blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)

    class Meta:
        verbose_name = _("co-handling opinion")
        verbose_name_plural = _("co-handling opinions")
        ordering = ["assignment"]

    def __str__(self):
        return self.title


class ContactRecord(models.Model):
    """沟通记录: a unit's contact with the proposer."""

    class Method(models.TextChoices):
        MEETING = "meeting", _("Face-to-face meeting")
        FORUM = "forum", _("Forum")
        PHONE = "phone", _("Phone")
        EMAIL = "email", _("Email")
        LETTER = "letter", _("Letter")
        VISIT = "visit", _("Visit")

    FACE_TO_FACE = (Method.MEETING, Method.FORUM, Method.VISIT)

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="contacts",
        verbose_name=_("assignment"),
    )
    contacted_on = models.DateField(_("date"))
    method = models.CharField(_("method"), max_length=10, choices=Method)
    participants = models.CharField(_("who took part"), max_length=200, blank=True)
    leader_took_part = models.BooleanField(_("a leader took part"), default=False)
    summary = models.TextField(_("summary"), blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("recorded by"),
    )
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)

    class Meta:
        verbose_name = _("contact record")
        verbose_name_plural = _("contact records")
        ordering = ["contacted_on", "id"]
        indexes = [
            # 见面率: was there a face-to-face contact by the day the reply was sent?
            models.Index(
                fields=["assignment", "contacted_on"],
                condition=Q(method__in=["meeting", "forum", "visit"]),
                name="contact_face_to_face",
            ),
        ]

    def __str__(self):
        return f"{self.contacted_on} {self.get_method_display()}"

    def save(self, *args, **kwargs):
        super().save(*args, **kwargs)
        # A contact record is never changed or deleted, only added: the first day is kept.
        if self.method in self.FACE_TO_FACE:
            Assignment.objects.filter(pk=self.assignment_id).filter(
                Q(face_to_face_on__isnull=True) | Q(face_to_face_on__gt=self.contacted_on)
            ).update(face_to_face_on=self.contacted_on)


class Event(models.Model):
    """The audit trail: one append-only row for every change of a proposal or its parts."""

    proposal = models.ForeignKey(
        Proposal, on_delete=models.PROTECT, related_name="events", verbose_name=_("proposal")
    )
    # A session's latest event is the version of its statistics, one index probe away.
    session = copied_session()
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("actor"),
    )
    # Who acted without a login (a proposer through their personal receipt link), or the
    # actor's name as it was then.
    actor_name = models.CharField(_("actor's name"), max_length=100, blank=True)
    verb = models.CharField(_("action"), max_length=40)
    # What the event is about when it is not the proposal itself: "assignment", "reply", …
    object_type = models.CharField(_("object type"), max_length=20, blank=True)
    object_id = models.PositiveBigIntegerField(_("object id"), null=True, blank=True)
    from_state = models.CharField(_("from state"), max_length=20, blank=True)
    to_state = models.CharField(_("to state"), max_length=20, blank=True)
    comment = models.TextField(_("comment"), blank=True)
    created_at = models.DateTimeField(_("time"), default=timezone.now, db_index=True)

    class Meta:
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        ordering = ["created_at", "id"]
        indexes = [
            models.Index(fields=["proposal", "created_at"]),
            # Statistics: each session's latest event, and the events since a kept version.
            models.Index(
                fields=["session", "id"], include=["created_at"], name="event_session_latest"
            ),
        ]

    def __str__(self):
        return f"{self.created_at:%Y-%m-%d %H:%M} {self.verb}"

    def save(self, *args, **kwargs):
        if self.pk is not None and not kwargs.get("force_insert"):
            raise ValueError("Audit events are append-only.")
        copy_session(self, "proposal")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise ValueError("Audit events are append-only.")


class ExtensionRequest(models.Model):
    """延期申请: a replying unit asks for a later reply deadline; committee staff decide.

    Committee staff extending a deadline directly leave an approved request too, so that
    every extension of an assignment is counted and read in one place.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", _("Awaiting decision")
        APPROVED = "approved", _("Approved")
        REFUSED = "refused", _("Refused")

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="extension_requests",
        verbose_name=_("assignment"),
    )
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.REQUESTED)
    reason = models.TextField(_("reason"))
    wished_due = models.DateField(_("wished date"))
    previous_due = models.DateField(_("deadline before"), null=True, blank=True)
    requested_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("requested by"),
    )
    requested_at = models.DateTimeField(_("requested at"), default=timezone.now)
    granted_due = models.DateField(_("extended to"), null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    comment = models.TextField(_("decision comment"), blank=True)

    class Meta:
        verbose_name = _("extension request")
        verbose_name_plural = _("extension requests")
        ordering = ["requested_at", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment"],
                condition=Q(status="requested"),
                name="extension_one_waiting_per_assignment",
            ),
            models.CheckConstraint(
                condition=~Q(status="approved") | Q(granted_due__isnull=False),
                name="extension_approved_has_a_date",
            ),
        ]
        indexes = [
            # The committee's count on every workspace page, and its list.
            models.Index(
                fields=["requested_at", "id"],
                condition=Q(status="requested"),
                name="extension_waiting",
            ),
        ]

    def __str__(self):
        return f"{self.assignment} · {self.wished_due}"


class SupervisionNote(models.Model):
    """督办: committee staff press a unit on one assignment; the unit answers."""

    assignment = models.ForeignKey(
        Assignment,
        on_delete=models.CASCADE,
        related_name="supervision_notes",
        verbose_name=_("assignment"),
    )
    text = models.TextField(_("supervision note"))
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("written by"),
    )
    created_at = models.DateTimeField(_("created at"), default=timezone.now)
    answer = models.TextField(_("answer"), blank=True)
    answered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("answered by"),
    )
    answered_at = models.DateTimeField(_("answered at"), null=True, blank=True)

    class Meta:
        verbose_name = _("supervision note")
        verbose_name_plural = _("supervision notes")
        ordering = ["created_at", "id"]
        indexes = [
            # The unit inbox's "supervision" section: the unanswered notes.
            models.Index(
                fields=["assignment", "created_at"],
                condition=Q(answered_at__isnull=True),
                name="supervision_unanswered",
            ),
        ]

    def __str__(self):
        return f"{self.assignment} · {self.created_at:%Y-%m-%d}"


class Reminder(models.Model):
    """A deadline reminder sent: one per assignment, deadline kind, stage and due date.

    The unique key makes `send_reminders` idempotent: a second run the same day (or any
    later day) finds the reminder taken; a moved deadline is a new due date and is
    reminded again.
    """

    class Kind(models.TextChoices):
        RETURN_WINDOW = "return_window", _("return request window")
        CO_OPINION = "co_opinion", _("co-handling opinion")
        FIRST_CONTACT = "first_contact", _("first contact with the proposer")
        REPLY = "reply", _("reply")
        PUBLISH = "publish", _("publishing")

    class Stage(models.TextChoices):
        DUE_SOON = "due_soon", _("Due soon")
        OVERDUE = "overdue", _("Overdue")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.CASCADE, related_name="reminders", verbose_name=_("assignment")
    )
    kind = models.CharField(_("kind"), max_length=20, choices=Kind)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage)
    due = models.DateField(_("due"))
    sent_on = models.DateField(_("sent on"))

    class Meta:
        verbose_name = _("deadline reminder")
        verbose_name_plural = _("deadline reminders")
        ordering = ["-sent_on", "id"]
        constraints = [
            models.UniqueConstraint(
                fields=["assignment", "kind", "stage", "due"], name="reminder_once"
            )
        ]

    def __str__(self):
        return f"{self.assignment} · {self.get_kind_display()} · {self.get_stage_display()}"


class SpreadsheetImport(models.Model):
    """An uploaded spreadsheet between its preview and the confirmation that imports it.

    The file's bytes are kept in the database, not in one process's memory, so the confirm
    may reach another worker; the confirm reads and checks them again.
    """

    class Kind(models.TextChoices):
        PROPOSALS = "proposals", _("Proposals")

    class Status(models.TextChoices):
        PREVIEWED = "previewed", _("Previewed")
        IMPORTED = "imported", _("Imported")

    token = models.CharField(_("token"), max_length=64, unique=True)
    kind = models.CharField(_("kind"), max_length=20, choices=Kind, default=Kind.PROPOSALS)
    status = models.CharField(_("status"), max_length=10, choices=Status, default=Status.PREVIEWED)
    file_name = models.CharField(_("file name"), max_length=200)
    data = models.BinaryField(_("file"))
    session = models.ForeignKey(
        Session,
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("session"),
    )
    period = models.CharField(
        _("period"), max_length=10, choices=Proposal.Period, default=Proposal.Period.PLENARY
    )
    accept_at_once = models.BooleanField(_("accept at once"), default=False)
    row_count = models.PositiveIntegerField(_("rows"), default=0)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.CASCADE,
        related_name="+",
        verbose_name=_("uploaded by"),
    )
    created_at = models.DateTimeField(_("uploaded at"), auto_now_add=True)
    imported_at = models.DateTimeField(_("imported at"), null=True, blank=True)

    class Meta:
        verbose_name = _("spreadsheet import")
        verbose_name_plural = _("spreadsheet imports")
        ordering = ["-created_at", "-id"]

    def __str__(self):
        return self.file_name


class SearchWord(models.Model):
    """A word search keeps whole: a place, a programme, a name (the unit names are in already).

    Added to the segmenter's user dictionary; text indexed before the word was added keeps its
    old tokens until `manage.py reindex_search` runs.
    """

    word = models.CharField(_("word"), max_length=40, unique=True)
    note = models.CharField(_("note"), max_length=100, blank=True)

    class Meta:
        verbose_name = _("search dictionary word")
        verbose_name_plural = _("search dictionary words")
        ordering = ["word"]

    def __str__(self):
        return self.word


class ProposalSearch(models.Model):
    """A proposal's search tokens (proposals/search.py), in a narrow table of their own.

    `search_title`: the segmented number and title; `search_text`: the segmented proposers,
    reasons, suggestions and sent replies. On PostgreSQL two generated tsvector columns
    (migration 0010) are what queries read: `search_vector` over both (title weighted A,
    GIN-indexed) to match, `title_vector` (small, kept in the row) to rank. Narrow rows keep a
    search over thousands of matches from reading the proposals' wide rows; `created_at`, the
    proposal's, lets the matches be ordered here too (search.Ranked).
    """

    proposal = models.OneToOneField(
        Proposal,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_entry",
        verbose_name=_("proposal"),
    )
    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="+", verbose_name=_("session")
    )
    search_title = models.TextField(_("search tokens of the title"), blank=True)
    search_text = models.TextField(_("search tokens of the text"), blank=True)
    created_at = models.DateTimeField(_("created at"))

    class Meta:
        verbose_name = _("proposal search entry")
        verbose_name_plural = _("proposal search entries")

    def __str__(self):
        return str(self.proposal_id)
