from django.conf import settings
from django.db import models
from django.db.models import Q
from django.urls import reverse
from django.utils.translation import gettext_lazy as _

from accounts.models import Proposer, Unit
from proposals.models import Assignment, ContactRecord, Session, copied_session, copy_session


class ReplyLetter(models.Model):
    """答复函: one unit's reply to one proposal, in one handling round."""

    class State(models.TextChoices):
        DRAFT = "draft", _("Draft")
        AWAITING_SIGNOFF = "awaiting_signoff", _("Awaiting sign-off")
        SIGNED = "signed", _("Signed")
        SENT = "sent", _("Sent")
        PUBLISHED = "published", _("Published")
        UNPUBLISHED = "unpublished", _("Unpublished")

    class ResultClass(models.TextChoices):
        A = "A", _("A: solved or basically solved")
        B = "B", _("B: being solved or planned")
        C = "C", _("C: cannot be solved for now")
        D = "D", _("D: kept for reference")

    class Disclosure(models.TextChoices):
        FULL = "full", _("Full text")
        SUMMARY = "summary", _("Summary")
        NONE = "none", _("Not public")

    assignment = models.ForeignKey(
        Assignment, on_delete=models.PROTECT, related_name="letters", verbose_name=_("assignment")
    )
    session = copied_session()
    round = models.PositiveSmallIntegerField(_("round"), default=1)
    state = models.CharField(
        _("state"), max_length=20, choices=State, default=State.DRAFT, db_index=True
    )
    doc_number = models.CharField(_("document number"), max_length=60, blank=True)
    title = models.CharField(_("title"), max_length=200)
    salutation = models.CharField(_("salutation"), max_length=200)
    body = models.TextField(_("body"))
    result_class = models.CharField(
        _("result class"), max_length=1, choices=ResultClass, blank=True
    )
    letter_date = models.DateField(_("date of the letter"), null=True, blank=True)
    contact_person = models.CharField(_("contact person"), max_length=60, blank=True)
    contact_phone = models.CharField(_("contact phone"), max_length=30, blank=True)
    cc_units = models.ManyToManyField(
        Unit, blank=True, related_name="letters_copied", verbose_name=_("copied to")
    )
    disclosure = models.CharField(
        _("disclosure"), max_length=10, choices=Disclosure, default=Disclosure.FULL
    )
    public_summary = models.TextField(_("public summary"), blank=True)
    nondisclosure_reason = models.CharField(
        _("reason for not publishing"), max_length=200, blank=True
    )
    outstanding_opinions_reason = models.CharField(
        _("why it goes to sign-off before every co-handling opinion is in"),
        max_length=200,
        blank=True,
    )
    no_contact_reason = models.CharField(
        _("why it goes to sign-off without a contact with the proposer"),
        max_length=200,
        blank=True,
    )
    signoff_comment = models.TextField(_("last sign-off comment"), blank=True)
    drafted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("drafted by"),
    )
    signed_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("signed by"),
    )
    signer_title = models.CharField(_("signer's title"), max_length=30, blank=True)
    attestation = models.CharField(_("sign-off attestation"), max_length=100, blank=True)
    signed_at = models.DateTimeField(_("signed at"), null=True, blank=True)
    sent_at = models.DateTimeField(_("sent at"), null=True, blank=True)
    published_at = models.DateTimeField(_("published at"), null=True, blank=True)
    # On the public site now: kept by the workflow (publish, unpublish), so the public
    # column reads one indexed column instead of working it out from the publications.
    is_public = models.BooleanField(_("on the public site"), default=False)
    created_at = models.DateTimeField(_("created at"), auto_now_add=True)
    updated_at = models.DateTimeField(_("updated at"), auto_now=True)

    class Meta:
        verbose_name = _("reply letter")
        verbose_name_plural = _("reply letters")
        ordering = ["-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["assignment", "round"], name="letter_unique_round"),
            models.UniqueConstraint(
                fields=["doc_number"], condition=~Q(doc_number=""), name="letter_unique_doc_number"
            ),
            models.CheckConstraint(
                condition=Q(result_class__in=["", "A", "B", "C", "D"]),
                name="letter_result_class_valid",
            ),
        ]
        indexes = [
            models.Index(fields=["state", "-published_at"], name="letter_state_published"),
            models.Index(
                fields=["-published_at", "-id"],
                condition=Q(is_public=True),
                name="letter_public_list",
            ),
            models.Index(fields=["state", "sent_at"]),
            # The receipts overview: sent letters, newest first.
            models.Index(fields=["-sent_at", "-id"], name="letter_sent_newest"),
            # Statistics count sent letters by class and join their receipts, by assignment.
            models.Index(
                fields=["assignment", "round"],
                include=["id", "result_class"],
                condition=Q(sent_at__isnull=False),
                name="letter_statistics",
            ),
            # ... and a session's sent letters, read from the index alone (the rows are wide).
            models.Index(
                fields=["session"],
                include=["id", "assignment", "round", "result_class"],
                condition=Q(sent_at__isnull=False),
                name="letter_session_statistics",
            ),
        ]

    def __str__(self):
        return self.title

    def save(self, *args, **kwargs):
        copy_session(self, "assignment")
        super().save(*args, **kwargs)

    def get_absolute_url(self):
        return reverse("replies:detail", args=[self.pk])

    def get_public_url(self):
        return reverse("public:reply", args=[self.pk])

    @property
    def proposal(self):
        return self.assignment.proposal

    @property
    def round_label(self):
        """第2轮答复 for a reply after re-handling; empty for the first round."""
        return _("Round %(round)s reply") % {"round": self.round} if self.round > 1 else ""

    @property
    def unit(self):
        return self.assignment.unit


class DocNumberSequence(models.Model):
    """The last document number a unit used in a year; numbers are never reused."""

    unit = models.ForeignKey(Unit, on_delete=models.CASCADE, verbose_name=_("unit"))
    year = models.PositiveSmallIntegerField(_("year"))
    last = models.PositiveIntegerField(_("last number used"), default=0)

    class Meta:
        verbose_name = _("document number sequence")
        verbose_name_plural = _("document number sequences")
        constraints = [models.UniqueConstraint(fields=["unit", "year"], name="doc_sequence_unique")]

    def __str__(self):
        return f"{self.unit} {self.year}: {self.last}"


class ReplyRevision(models.Model):
    """The letter's text as submitted for sign-off; the signer sees what changed."""

    class Decision(models.TextChoices):
        SIGNED = "signed", _("Signed")
        SENT_BACK = "sent_back", _("Sent back")

    letter = models.ForeignKey(
        ReplyLetter, on_delete=models.CASCADE, related_name="revisions", verbose_name=_("letter")
    )
    number = models.PositiveSmallIntegerField(_("revision"))
    title = models.CharField(_("title"), max_length=200)
    salutation = models.CharField(_("salutation"), max_length=200)
    body = models.TextField(_("body"))
    result_class = models.CharField(_("result class"), max_length=1, blank=True)
    submitted_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("submitted by"),
    )
    submitted_at = models.DateTimeField(_("submitted at"))
    seen_by_signer_at = models.DateTimeField(_("seen by the signer at"), null=True, blank=True)
    # A revision submitted after the letter was sent corrects its substance: it says why,
    # and the leader signs it (or sends it back) on its own.
    correction_reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    decision = models.CharField(_("decision"), max_length=10, choices=Decision, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("decided by"),
    )
    decided_at = models.DateTimeField(_("decided at"), null=True, blank=True)
    decision_comment = models.TextField(_("comment on the decision"), blank=True)

    class Meta:
        verbose_name = _("reply revision")
        verbose_name_plural = _("reply revisions")
        ordering = ["letter", "number"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "number"], name="revision_unique_number")
        ]

    def __str__(self):
        return f"{self.letter} r{self.number}"

    @property
    def is_correction(self):
        return bool(self.correction_reason)

    @property
    def is_pending(self):
        return self.decision == ""


class Publication(models.Model):
    """A published version of a letter; a correction ends one and adds the next, unpublishing
    ends the last.

    A version is either the text as the unit's leader signed it, or a correction of typing
    errors in it made without a new sign-off; the page says which (更正说明).
    """

    class Kind(models.TextChoices):
        SIGNED = "signed", _("As signed")
        TYPO = "typo", _("Typing errors corrected")

    letter = models.ForeignKey(
        ReplyLetter,
        on_delete=models.CASCADE,
        related_name="publications",
        verbose_name=_("letter"),
    )
    version = models.PositiveSmallIntegerField(_("version"), default=1)
    kind = models.CharField(_("kind"), max_length=10, choices=Kind, default=Kind.SIGNED)
    title = models.CharField(_("title"), max_length=200)
    text = models.TextField(_("public text"))
    # As the letter stood when this version was published: a later correction in sign-off
    # changes the letter, never what is on the site.
    letter_date = models.DateField(_("date of the letter"), null=True, blank=True)
    attestation = models.CharField(_("sign-off attestation"), max_length=100, blank=True)
    unit_name = models.CharField(_("issuing unit"), max_length=100, blank=True)
    published_at = models.DateTimeField(_("published at"))
    published_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("published by"),
    )
    reason = models.CharField(_("reason for the correction"), max_length=200, blank=True)
    ended_at = models.DateTimeField(_("ended at"), null=True, blank=True)
    end_reason = models.CharField(_("why it ended"), max_length=200, blank=True)

    class Meta:
        verbose_name = _("publication")
        verbose_name_plural = _("publications")
        ordering = ["letter", "version"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "version"], name="publication_unique")
        ]

    def __str__(self):
        return f"{self.title} v{self.version}"


class Receipt(models.Model):
    """回执: one proposer's feedback on one letter (so one per proposer per round)."""

    class Rating(models.TextChoices):
        SATISFIED = "satisfied", _("Satisfied")
        BASICALLY = "basically", _("Basically satisfied")
        UNDERSTAND = "understand", _("Understand")
        DISSATISFIED = "dissatisfied", _("Dissatisfied")

    class Channel(models.TextChoices):
        ONLINE = "online", _("Online")
        PAPER = "paper", _("Paper")

    ATTITUDE_RATINGS = ["satisfied", "basically", "dissatisfied"]
    RESULT_RATINGS = ["satisfied", "basically", "understand", "dissatisfied"]

    letter = models.ForeignKey(
        ReplyLetter, on_delete=models.CASCADE, related_name="receipts", verbose_name=_("letter")
    )
    session = copied_session()
    proposer = models.ForeignKey(
        Proposer, on_delete=models.PROTECT, related_name="receipts", verbose_name=_("proposer")
    )
    contacted = models.BooleanField(_("contacted before the reply"), null=True, blank=True)
    contact_method = models.CharField(
        _("how"), max_length=10, choices=ContactRecord.Method, blank=True
    )
    leader_took_part = models.BooleanField(_("a leader took part"), null=True, blank=True)
    attitude = models.CharField(_("handling attitude"), max_length=12, choices=Rating, blank=True)
    result = models.CharField(_("handling result"), max_length=12, choices=Rating, blank=True)
    opinion = models.TextField(_("opinion"), blank=True)
    channel = models.CharField(_("channel"), max_length=10, choices=Channel, blank=True)
    entered_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.PROTECT,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("entered by"),
    )
    requested_at = models.DateTimeField(_("requested at"), null=True, blank=True)
    reminded_at = models.DateTimeField(_("reminded at"), null=True, blank=True)
    submitted_at = models.DateTimeField(_("submitted at"), null=True, blank=True)

    class Meta:
        verbose_name = _("receipt")
        verbose_name_plural = _("receipts")
        ordering = ["letter", "id"]
        constraints = [
            models.UniqueConstraint(fields=["letter", "proposer"], name="receipt_one_per_round"),
            models.CheckConstraint(
                condition=Q(attitude__in=["", "satisfied", "basically", "dissatisfied"]),
                name="receipt_attitude_valid",
            ),
            models.CheckConstraint(
                condition=Q(
                    result__in=["", "satisfied", "basically", "understand", "dissatisfied"]
                ),
                name="receipt_result_valid",
            ),
            # A submitted receipt carries both ratings.
            models.CheckConstraint(
                condition=Q(submitted_at__isnull=True) | (~Q(attitude="") & ~Q(result="")),
                name="receipt_submitted_is_rated",
            ),
        ]
        indexes = [
            models.Index(fields=["submitted_at"]),
            models.Index(fields=["session"], name="receipt_session"),
        ]

    def __str__(self):
        return f"{self.proposer} · {self.letter}"

    def save(self, *args, **kwargs):
        copy_session(self, "letter")
        super().save(*args, **kwargs)

    @property
    def is_submitted(self):
        return self.submitted_at is not None

    @property
    def is_dissatisfied(self):
        return self.Rating.DISSATISFIED in (self.attitude, self.result)


class Compendium(models.Model):
    """提案及办理答复汇编: a session's published replies as one printable book (a PDF).

    One per session and state of its replies (`digest` of the letters on the site and their
    current publication): kept until the replies change, then made anew on request. The
    progress of a compendium being made and the finished file (core.storage.DatabaseStorage)
    are in the database, so every app server sees them.
    """

    class State(models.TextChoices):
        RUNNING = "running", _("Being made")
        READY = "ready", _("Ready")
        FAILED = "failed", _("Failed")

    class Stage(models.TextChoices):
        LETTERS = "letters", _("Collecting the replies")
        LAYOUT = "layout", _("Laying out the pages")
        WRITING = "writing", _("Writing the PDF file")
        DONE = "done", _("Done")

    session = models.ForeignKey(
        Session, on_delete=models.CASCADE, related_name="compendia", verbose_name=_("session")
    )
    digest = models.CharField(_("digest of the published replies"), max_length=64)
    state = models.CharField(_("state"), max_length=10, choices=State, default=State.RUNNING)
    stage = models.CharField(_("stage"), max_length=10, choices=Stage, default=Stage.LETTERS)
    letters = models.PositiveIntegerField(_("replies"), default=0)
    done = models.PositiveIntegerField(_("replies collected"), default=0)
    pages = models.PositiveIntegerField(_("pages"), default=0)
    file_name = models.CharField(_("file"), max_length=255, blank=True)
    size = models.PositiveBigIntegerField(_("size"), default=0)
    error = models.TextField(_("error"), blank=True)
    started_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        on_delete=models.SET_NULL,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("started by"),
    )
    started_at = models.DateTimeField(_("started at"))
    heartbeat_at = models.DateTimeField(_("last progress at"))
    finished_at = models.DateTimeField(_("finished at"), null=True, blank=True)

    class Meta:
        verbose_name = _("compendium")
        verbose_name_plural = _("compendia")
        constraints = [
            models.UniqueConstraint(fields=["session", "digest"], name="compendium_unique_digest")
        ]

    def __str__(self):
        return f"{self.session} · {self.get_state_display()}"


class PublicReplySearch(models.Model):
    """A public letter's search entry: the tokens of the version on the public site and what
    the public search filters by, in a narrow table (replies/search.py).

    There is an entry exactly while the letter is public (kept by the workflow's steps that
    change what the public sees), so the public search reads this table alone. On PostgreSQL
    generated tsvector columns (migration 0007): `search_vector` (GIN) to match, `title_vector`
    to rank.
    """

    letter = models.OneToOneField(
        ReplyLetter,
        on_delete=models.CASCADE,
        primary_key=True,
        related_name="search_entry",
        verbose_name=_("letter"),
    )
    session = models.ForeignKey(
        "proposals.Session", on_delete=models.CASCADE, related_name="+", verbose_name=_("session")
    )
    unit = models.ForeignKey(
        Unit, on_delete=models.CASCADE, related_name="+", verbose_name=_("unit")
    )
    category = models.ForeignKey(
        "proposals.Category",
        on_delete=models.CASCADE,
        null=True,
        blank=True,
        related_name="+",
        verbose_name=_("category"),
    )
    result_class = models.CharField(_("result class"), max_length=1, blank=True)
    published_at = models.DateTimeField(_("published at"))
    search_title = models.TextField(_("search tokens of the title"), blank=True)
    search_text = models.TextField(_("search tokens of the text"), blank=True)

    class Meta:
        verbose_name = _("public reply search entry")
        verbose_name_plural = _("public reply search entries")
        indexes = [models.Index(fields=["-published_at", "letter"], name="public_search_newest")]

    def __str__(self):
        return str(self.letter_id)
