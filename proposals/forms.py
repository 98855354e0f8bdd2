"""Forms of the proposer and committee screens. They validate input; the workflow is in services."""

from django import forms
from django.core.validators import MaxLengthValidator
from django.db import transaction
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from accounts.models import Proposer, Unit
from core.forms import BoundedDateField, IdsChoiceField, validate_single_line

from . import search, services
from .models import Category, Proposal, ProposalProposer, RejectionReason, Session

# Far beyond a real proposal's reasons or suggestions; the model column is unbounded text.
TEXT_MAX = 20_000


def active_units():
    return Unit.objects.filter(is_active=True)


def proposal_kind(first_proposer, has_cosigners):
    """A proposal's kind follows its first proposer (and, for a member, the co-signers)."""
    PK = Proposer.Kind
    if first_proposer.kind == PK.MEMBER:
        return Proposal.Kind.COSIGNED if has_cosigners else Proposal.Kind.INDIVIDUAL
    return {
        PK.PARTY: Proposal.Kind.PARTY,
        PK.GROUP: Proposal.Kind.PARTY,
        PK.SECTOR: Proposal.Kind.SECTOR,
        PK.SPECIAL_COMMITTEE: Proposal.Kind.SPECIAL_COMMITTEE,
    }[first_proposer.kind]


class SessionChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return str(obj)


class ProposalForm(forms.ModelForm):
    """What a member writes: the proposal text, where it should go, and who signs it with them."""

    session = SessionChoiceField(
        label=_("Session"),
        queryset=Session.objects.select_related("term"),
        required=False,
        help_text=_("The current session unless you choose another."),
    )
    cosigners = IdsChoiceField(
        label=_("Co-signers"),
        queryset=Proposer.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
        help_text=_("Other members who sign the proposal with you; each confirms it."),
    )

    # Drafts and paper registrations differ in these; see RegisterForm.
    cosigners_confirmed = False
    on_paper = False

    suggested_units = IdsChoiceField(
        label=_("Suggested units"),
        queryset=Unit.objects.none(),
        required=False,
        widget=forms.CheckboxSelectMultiple,
    )

    class Meta:
        model = Proposal
        fields = [
            "title",
            "reasons",
            "suggestions",
            "category",
            "suggested_units",
            "consent_to_publish",
            "no_publish_reason",
            "period",
            "session",
        ]
        widgets = {
            "reasons": forms.Textarea(attrs={"rows": 8}),
            "suggestions": forms.Textarea(attrs={"rows": 10}),
            "suggested_units": forms.CheckboxSelectMultiple,
            "period": forms.RadioSelect,
        }
        help_texts = {
            "title": _("One issue per proposal, e.g. 关于加快创建国家级高新区的建议."),
            "no_publish_reason": _("Required when the proposal should not be published."),
        }

    def __init__(self, *args, proposer=None, submitting=False, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposer = proposer
        # The title goes into mail subjects: one line. The texts have a ceiling.
        self.fields["title"].validators.append(validate_single_line)
        self.fields["no_publish_reason"].validators.append(validate_single_line)
        for name in ("reasons", "suggestions"):
            self.fields[name].max_length = TEXT_MAX
            self.fields[name].widget.attrs["maxlength"] = TEXT_MAX
            self.fields[name].validators.append(MaxLengthValidator(TEXT_MAX))
        # Submitting needs the full text; a draft may be saved half-written.
        self.submitting = submitting
        self.fields["category"].queryset = Category.objects.filter(is_active=True)
        self.fields["suggested_units"].queryset = active_units()
        self.fields["suggested_units"].required = False
        self.fields["period"].choices = Proposal.Period.choices
        members = Proposer.objects.filter(kind=Proposer.Kind.MEMBER, is_active=True)
        if proposer is not None:
            members = members.exclude(pk=proposer.pk)
        self.fields["cosigners"].queryset = members
        if self.instance.pk:
            self.initial["cosigners"] = [
                s.proposer_id for s in self.instance.proposer_list.all() if s.position > 0
            ]
        elif not self.is_bound:
            # Only an empty form shows its initial session; a bound one (an import's row
            # among thousands) spares the query.
            current = Session.objects.filter(is_current=True).first()
            if current is not None:
                self.initial.setdefault("session", current.pk)

    def clean_session(self):
        session = self.cleaned_data.get("session")
        if session is None:
            session = Session.objects.filter(is_current=True).first()
        if session is None:
            raise forms.ValidationError(
                _("No session is open for proposals. Please ask the committee staff.")
            )
        return session

    def clean(self):
        cleaned = super().clean()
        if (
            not cleaned.get("consent_to_publish")
            and not (cleaned.get("no_publish_reason") or "").strip()
        ):
            self.add_error(
                "no_publish_reason",
                _("Please give the reason why the proposal should not be published."),
            )
        if self.submitting:
            for name in ("reasons", "suggestions"):
                if name in cleaned and not (cleaned[name] or "").strip():
                    self.add_error(name, _("This field is required to submit the proposal."))
        return cleaned

    def get_first_proposer(self):
        return self.proposer

    @transaction.atomic
    def save_draft(self, actor):
        """Create or update the draft and its signers; audited. Not a workflow transition."""
        proposal = self.save(commit=False)
        creating = proposal.pk is None
        first = self.get_first_proposer()
        cosigners = list(self.cleaned_data["cosigners"])
        proposal.kind = proposal_kind(first, bool(cosigners))
        if creating:
            proposal.state = Proposal.State.DRAFT
            proposal.created_by = actor
            proposal.on_paper = self.on_paper
        proposal.save()
        self.save_m2m()
        self._save_signers(proposal, first, cosigners, creating)
        # The proposers were written in bulk (no signals): the search columns anew.
        search.reindex_proposals([proposal.pk])
        services.record_event(proposal, actor, "created" if creating else "edited")
        return proposal

    def _save_signers(self, proposal, first, cosigners, creating):
        Status = ProposalProposer.Status
        cosigner_status = Status.CONFIRMED if self.cosigners_confirmed else Status.PENDING
        now = timezone.now()
        wanted = [(first, Status.CONFIRMED)] + [(p, cosigner_status) for p in cosigners]
        if creating:
            ProposalProposer.objects.bulk_create(
                ProposalProposer(
                    proposal=proposal,
                    proposer=proposer,
                    position=position,
                    status=status,
                    responded_at=now if position and status == Status.CONFIRMED else None,
                )
                for position, (proposer, status) in enumerate(wanted)
            )
            return
        proposal.proposer_list.exclude(proposer__in=[p for p, _status in wanted]).delete()
        existing = {s.proposer_id: s for s in proposal.proposer_list.all()}
        for position, (proposer, status) in enumerate(wanted):
            signer = existing.get(proposer.pk)
            if signer is None:
                ProposalProposer.objects.create(
                    proposal=proposal, proposer=proposer, position=position, status=status
                )
            elif signer.position != position:
                signer.position = position
                signer.save(update_fields=["position"])


class ProposerChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj):
        return f"{obj.name}（{obj.get_kind_display()}）"


class RegisterForm(ProposalForm):
    """A proposal received on paper, registered by committee staff for its proposers."""

    first_proposer = ProposerChoiceField(
        label=_("First proposer"),
        queryset=Proposer.objects.filter(is_active=True),
        help_text=_("A member, or a party, group, sector or special committee."),
    )

    # The paper carries the co-signers' signatures.
    cosigners_confirmed = True
    on_paper = True

    field_order = ["first_proposer", "cosigners"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["first_proposer"].widget.attrs["autofocus"] = True
        self.fields["cosigners"].help_text = _("Members who signed the paper proposal too.")

    def clean(self):
        cleaned = super().clean()
        first = cleaned.get("first_proposer")
        if first is not None and first in (cleaned.get("cosigners") or []):
            self.add_error(
                "cosigners", _("The first proposer cannot also be one of the co-signers.")
            )
        return cleaned

    def get_first_proposer(self):
        return self.cleaned_data["first_proposer"]


class CosignForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("confirm", _("Co-sign")), ("decline", _("Decline"))],
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=500)


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
    )


class ReviewForm(forms.Form):
    """审查: one outcome; merging names the accepted proposal by its number in the session."""

    OUTCOMES = [
        (value, label)
        for value, label in Proposal.ReviewOutcome.choices
        if value != Proposal.ReviewOutcome.WITHDRAW
    ]

    outcome = forms.ChoiceField(label=_("Outcome"), choices=OUTCOMES, widget=forms.RadioSelect)
    merge_into = forms.IntegerField(
        label=_("Merge into proposal number"),
        required=False,
        min_value=1,
        help_text=_("The number of an accepted proposal of the same session, e.g. 69."),
    )
    rejection_reason = forms.ModelChoiceField(
        label=_("Reason for not accepting"),
        queryset=RejectionReason.objects.filter(is_active=True),
        required=False,
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the proposers with the outcome."),
    )

    def __init__(self, *args, proposal, **kwargs):
        super().__init__(*args, **kwargs)
        self.proposal = proposal

    def clean(self):
        cleaned = super().clean()
        outcome = cleaned.get("outcome")
        if outcome == Proposal.ReviewOutcome.MERGE:
            number = cleaned.get("merge_into")
            if number is None:
                if "merge_into" not in self.errors:
                    self.add_error(
                        "merge_into", _("Give the number of the proposal to merge into.")
                    )
            else:
                into = Proposal.objects.filter(session=self.proposal.session, number=number).first()
                if into is None:
                    self.add_error(
                        "merge_into",
                        _("There is no proposal number %(number)s in this session.")
                        % {"number": number},
                    )
                cleaned["merge_into_proposal"] = into
        if (
            outcome == Proposal.ReviewOutcome.REJECT
            and cleaned.get("rejection_reason") is None
            and "rejection_reason" not in self.errors
        ):
            self.add_error("rejection_reason", _("Choose the reason for not accepting."))
        return cleaned


class UnitChoicesMixin:
    """Mode and units of an assignment, as the service expects them."""

    def add_unit_fields(self):
        units = active_units()
        self.fields["mode"] = forms.ChoiceField(
            label=_("Handling mode"),
            choices=Proposal.HandlingMode.choices,
            widget=forms.RadioSelect,
        )
        self.fields["lead"] = forms.ModelChoiceField(
            label=_("Lead unit"),
            queryset=units,
            required=False,
            help_text=_("For single and joint handling."),
        )
        self.fields["co_units"] = IdsChoiceField(
            label=_("Co-handling units"),
            queryset=units,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("For joint handling."),
        )
        self.fields["split_units"] = IdsChoiceField(
            label=_("Split units"),
            queryset=units,
            required=False,
            widget=forms.CheckboxSelectMultiple,
            help_text=_("For split handling: each unit replies separately."),
        )
        # Three fields, one list of units: rendered from one query, validated by the queryset.
        choices = [(unit.pk, str(unit)) for unit in units]
        self.fields["lead"].choices = [("", "---------"), *choices]
        self.fields["co_units"].choices = choices
        self.fields["split_units"].choices = choices

    def unit_arguments(self):
        data = self.cleaned_data
        return {
            "mode": data["mode"],
            "lead": data.get("lead"),
            "co_units": list(data.get("co_units") or []),
            "split_units": list(data.get("split_units") or []),
        }


class AssignForm(UnitChoicesMixin, forms.Form):
    """交办 of one proposal, with the deadlines from the rules; a change needs a reason."""

    reply_due = BoundedDateField(label=_("Reply due"))
    opinion_due = BoundedDateField(label=_("Co-handling opinion due"))
    due_change_reason = forms.CharField(
        label=_("Reason for changed deadline"), required=False, max_length=200
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text=_("Sent to the units with the assignment."),
    )

    field_order = ["mode", "lead", "co_units", "split_units", "reply_due", "opinion_due"]

    def __init__(self, *args, proposal, reply_deadline, opinion_deadline, **kwargs):
        """The deadlines are the rule's `Deadline`s for today: due date and explanation."""
        super().__init__(*args, **kwargs)
        self.add_unit_fields()
        self.order_fields(self.field_order)
        session = proposal.session
        year = session.opened_on.year if session.opened_on else None
        self.fields["reply_due"].set_year(year)
        self.fields["opinion_due"].set_year(year)
        self.default_reply_due = reply_deadline.due
        self.default_opinion_due = opinion_deadline.due
        self.initial.setdefault("reply_due", reply_deadline.due)
        self.initial.setdefault("opinion_due", opinion_deadline.due)
        self.fields["reply_due"].help_text = reply_deadline.explanation
        self.fields["opinion_due"].help_text = opinion_deadline.explanation
        # The proposers' suggestion is a convenience only: staff decide.
        suggested = list(proposal.suggested_units.filter(is_active=True))
        if suggested:
            Mode = Proposal.HandlingMode
            self.initial.setdefault("mode", Mode.JOINT if len(suggested) > 1 else Mode.SINGLE)
            self.initial.setdefault("lead", suggested[0].pk)
            self.initial.setdefault("co_units", [u.pk for u in suggested[1:]])
            self.initial.setdefault("split_units", [u.pk for u in suggested])

    def clean(self):
        cleaned = super().clean()
        # The service enforces this too; checking here puts the message at the field.
        changed = cleaned.get("reply_due", self.default_reply_due) != self.default_reply_due or (
            cleaned.get("opinion_due", self.default_opinion_due) != self.default_opinion_due
        )
        if changed and not cleaned.get("due_change_reason", "").strip():
            self.add_error(
                "due_change_reason", _("Please give the reason for changing the deadline.")
            )
        return cleaned


class ProposalChoiceField(IdsChoiceField):
    """Proposal ids from checkboxes."""


class BulkAssignForm(UnitChoicesMixin, forms.Form):
    """Many accepted proposals, handed to the same unit(s) at the assignment meeting."""

    proposals = ProposalChoiceField(
        label=_("Proposals"),
        # Any proposal: one no longer accepted is refused by name, not as "invalid choice".
        queryset=Proposal.objects.all(),
        widget=forms.CheckboxSelectMultiple,
        error_messages={"required": _("Select the proposals to assign.")},
    )
    comment = forms.CharField(
        label=_("Comment"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
        help_text=_("Sent to the units with the assignment."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.add_unit_fields()

    def selected_proposals(self):
        return list(self.cleaned_data["proposals"].select_related("session").order_by("number"))


class BulkFilterForm(forms.Form):
    session = SessionChoiceField(
        label=_("Session"), queryset=Session.objects.select_related("term"), required=False
    )
    category = forms.ModelChoiceField(
        label=_("Category"), queryset=Category.objects.filter(is_active=True), required=False
    )


class ReturnDecisionForm(forms.Form):
    decision = forms.ChoiceField(
        label=_("Decision"),
        choices=[("approve", _("Approve and reassign")), ("refuse", _("Refuse"))],
        widget=forms.RadioSelect,
    )
    new_unit = forms.ModelChoiceField(
        label=_("New unit"),
        queryset=active_units(),
        required=False,
        help_text=_("The unit that takes the proposal over, when approving."),
    )
    comment = forms.CharField(label=_("Comment"), required=False, max_length=1000)

    def clean(self):
        cleaned = super().clean()
        if cleaned.get("decision") == "approve" and cleaned.get("new_unit") is None:
            self.add_error("new_unit", _("Choose the unit that takes the proposal over."))
        return cleaned
