"""Stage 8–9 screens: which receipts are in, paper receipts, re-handling and closing (办结)."""

import datetime
from collections import defaultdict

from django import forms
from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q, Subquery
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from accounts.models import Unit
from replies import services as reply_services
from replies.models import Receipt, ReplyLetter
from replies.receipt_forms import ReceiptForm

from .. import access, deadlines, services
from ..forms import ProposalChoiceField
from ..models import Assignment, Proposal, Session
from ..services import Refused
from .common import add_refusal_to_form, require

PAGE_SIZE = 50
RECENTLY_CLOSED = 20
SENT_STATES = [ReplyLetter.State.SENT, ReplyLetter.State.PUBLISHED, ReplyLetter.State.WITHDRAWN]
DISSATISFIED = Receipt.Rating.DISSATISFIED
State = Proposal.State


# --- forms -------------------------------------------------------------------------------------


class OverviewFilterForm(forms.Form):
    SHOW_CHOICES = [
        ("", gettext_lazy("All letters")),
        ("missing", gettext_lazy("Receipts missing")),
        ("dissatisfied", gettext_lazy("Dissatisfied")),
    ]

    show = forms.ChoiceField(label=gettext_lazy("Show"), choices=SHOW_CHOICES, required=False)
    session = forms.ModelChoiceField(
        label=gettext_lazy("Session"),
        queryset=Session.objects.select_related("term"),
        required=False,
        empty_label=gettext_lazy("All sessions"),
    )


class RehandleForm(forms.Form):
    unit = forms.TypedChoiceField(label=gettext_lazy("Unit that handles it again"), coerce=int)
    reply_due = forms.DateField(
        label=gettext_lazy("Reply due"),
        widget=forms.DateInput(format="%Y-%m-%d", attrs={"type": "date"}),
    )
    comment = forms.CharField(
        label=gettext_lazy("Why it is handled again"),
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={"required": gettext_lazy("Please explain why it is handled again.")},
    )

    def __init__(self, *args, unit_choices=(), **kwargs):
        super().__init__(*args, **kwargs)
        # Given by the page, so that many forms share one query for the units.
        self.fields["unit"].choices = unit_choices

    def clean_unit(self):
        unit = Unit.objects.filter(pk=self.cleaned_data["unit"], is_active=True).first()
        if unit is None:
            raise forms.ValidationError(_("Choose an active unit."))
        return unit


class CloseForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Explanation for closing (sent to the proposers)"),
        required=False,
        max_length=1000,
        widget=forms.Textarea(attrs={"rows": 2}),
    )


class BulkCloseForm(forms.Form):
    proposals = ProposalChoiceField(
        queryset=Proposal.objects.filter(state=State.REPLIED).order_by("number", "id"),
        widget=forms.MultipleHiddenInput,
        error_messages={
            "required": gettext_lazy("Tick the proposals to close."),
            "invalid_choice": gettext_lazy("A ticked proposal can no longer be closed."),
        },
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"),
        required=False,
        max_length=1000,
        widget=forms.TextInput,
    )


# --- receipts of a round, many proposals at once -----------------------------------------------


def current_round_receipts(proposals_filter):
    """The receipts of each matching proposal's current round, in one query."""
    return (
        Receipt.objects.filter(letter__round=F("letter__assignment__proposal__current_round"))
        .filter(**{f"letter__assignment__proposal__{k}": v for k, v in proposals_filter.items()})
        .select_related("proposer")
        .annotate(proposal_id=F("letter__assignment__proposal_id"), sent_at=F("letter__sent_at"))
        .order_by("letter_id", "id")
    )


def receipt_dues(sent_days):
    """{sent day: last day of the receipt period}, with one query for the calendar."""
    if not sent_days:
        return {}
    span = datetime.timedelta(days=2 * settings.TIAN["RECEIPT_WORKING_DAYS"] + 30)
    corrections = deadlines.load_corrections(min(sent_days), max(sent_days) + span)
    return {day: deadlines.receipt_due(day, corrections).due for day in sent_days}


def attach_receipt_status(proposals, receipts, today):
    """Give each proposal its receipts, missing, dissatisfied, period_over and closable.

    The same rules as services.receipt_status and services.closable, computed for a whole
    list without a query per proposal; the services decide again when staff act.
    """
    by_proposal = defaultdict(list)
    for receipt in receipts:
        by_proposal[receipt.proposal_id].append(receipt)
    sent = {r.pk: deadlines.as_local_date(r.sent_at) for r in receipts if r.sent_at}
    dues = receipt_dues(set(sent.values()))
    for proposal in proposals:
        rows = by_proposal[proposal.pk]
        proposal.round_receipts = rows
        proposal.missing = [r for r in rows if not r.is_submitted]
        proposal.dissatisfied = [r for r in rows if r.is_submitted and r.is_dissatisfied]
        days = {sent[r.pk] for r in rows if r.pk in sent}
        proposal.period_over = bool(days) and all(dues[d] < today for d in days)
        proposal.closable = not proposal.dissatisfied and (
            not proposal.missing or proposal.period_over
        )
    return proposals


def require_committee(user):
    require(access.is_committee(user))


def require_committee_or_unit(user):
    require(access.is_committee(user) or bool(access.unit_ids(user)))


# --- which receipts are in ---------------------------------------------------------------------


@login_required
def receipts(request):
    """Sent letters of the current round with their receipts: in (with ratings) or missing."""
    user = request.user
    require_committee_or_unit(user)
    committee = access.is_committee(user)
    if "session" in request.GET or "show" in request.GET:
        filter_form = OverviewFilterForm(request.GET)
        filter_form.is_valid()
        session = filter_form.cleaned_data.get("session")
        show = filter_form.cleaned_data.get("show", "")
    else:
        session = Session.objects.filter(is_current=True).first()
        show = ""
        filter_form = OverviewFilterForm(initial={"session": session})
    letters = ReplyLetter.objects.filter(
        state__in=SENT_STATES, round=F("assignment__proposal__current_round")
    )
    if not committee:
        letters = letters.filter(assignment__unit_id__in=access.unit_ids(user))
    if session is not None:
        letters = letters.filter(assignment__proposal__session=session)
    totals = Receipt.objects.filter(letter__in=letters).aggregate(
        asked=Count("id"),
        given=Count("id", filter=Q(submitted_at__isnull=False)),
        dissatisfied=Count(
            "id",
            filter=Q(submitted_at__isnull=False)
            & (Q(attitude=DISSATISFIED) | Q(result=DISSATISFIED)),
        ),
    )
    totals["missing"] = totals["asked"] - totals["given"]
    receipts_of = Receipt.objects.filter(letter=OuterRef("pk"))
    if show == "missing":
        letters = letters.filter(Exists(receipts_of.filter(submitted_at__isnull=True)))
    elif show == "dissatisfied":
        letters = letters.filter(
            Exists(
                receipts_of.filter(submitted_at__isnull=False).filter(
                    Q(attitude=DISSATISFIED) | Q(result=DISSATISFIED)
                )
            )
        )
    letters = (
        letters.select_related("assignment__unit", "assignment__proposal")
        .prefetch_related(
            Prefetch(
                "receipts",
                queryset=Receipt.objects.select_related("proposer", "entered_by").order_by("id"),
            )
        )
        .order_by("-sent_at", "-id")
    )
    page = Paginator(letters, PAGE_SIZE).get_page(request.GET.get("page"))
    dues = receipt_dues({deadlines.as_local_date(letter.sent_at) for letter in page})
    for letter in page:
        letter.receipt_due = dues[deadlines.as_local_date(letter.sent_at)]
    query = request.GET.copy()
    query.pop("page", None)
    return render(
        request,
        "work/closing/receipts.html",
        {
            "filter_form": filter_form,
            "page": page,
            "totals": totals,
            "query": query.urlencode(),
            "committee": committee,
            "today": deadlines.local_today(),
        },
    )


@login_required
def paper_receipt(request, receipt_pk):
    """Staff enter a receipt the proposer filled in on paper."""
    user = request.user
    require_committee_or_unit(user)
    receipt = get_object_or_404(
        Receipt.objects.select_related(
            "proposer", "entered_by", "letter__assignment__unit", "letter__assignment__proposal"
        ),
        pk=receipt_pk,
        letter__state__in=SENT_STATES,
    )
    unit = receipt.letter.assignment.unit
    if not access.is_committee(user):
        # The unit may see the receipt is missing, but not enter ratings of its own work.
        if access.is_unit_member(user, unit):
            raise PermissionDenied
        raise Http404
    context = {
        "receipt": receipt,
        "letter": receipt.letter,
        "proposal": receipt.letter.assignment.proposal,
        "unit": unit,
    }
    if receipt.is_submitted:
        # Never the form again: a receipt takes one answer, online or on paper.
        return render(request, "work/closing/paper_receipt.html", context)
    form = ReceiptForm(request.POST or None, paper=True)
    if request.method == "POST" and form.is_valid():
        try:
            reply_services.submit_receipt(
                receipt, user, channel=Receipt.Channel.PAPER, **form.service_arguments()
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                _("The paper receipt of %(proposer)s on %(number)s was entered.")
                % {"proposer": receipt.proposer, "number": context["proposal"].display_number},
            )
            return redirect("closing:receipts")
    context["form"] = form
    return render(request, "work/closing/paper_receipt.html", context)


# --- the committee's queue: re-handling and closing ---------------------------------------------


def rehandling_unit_choices():
    units = Unit.objects.filter(is_active=True).exclude(
        kind__in=[Unit.Kind.COMMITTEE, Unit.Kind.SUPERVISION]
    )
    return [(unit.pk, str(unit)) for unit in units]


def _lead_unit_id():
    """The unit that replied in the proposal's current round (lead or first split unit)."""
    return Subquery(
        Assignment.objects.filter(
            proposal=OuterRef("pk"),
            round=OuterRef("current_round"),
            is_active=True,
            role__in=[Assignment.Role.LEAD, Assignment.Role.SPLIT],
        )
        .order_by("role", "id")
        .values("unit_id")[:1]
    )


def _queue_page(request, rehandle_forms=None, close_forms=None, bulk_form=None):
    """The queue; forms that failed come back bound, keeping what was typed."""
    rehandle_forms, close_forms = rehandle_forms or {}, close_forms or {}
    today = deadlines.local_today()
    replied = list(
        Proposal.objects.filter(state=State.REPLIED)
        .defer("reasons", "suggestions", "review_comment")
        .annotate(lead_unit_id=_lead_unit_id())
        .order_by("number", "id")
    )
    attach_receipt_status(replied, current_round_receipts({"state": State.REPLIED}), today)
    decide = [p for p in replied if p.dissatisfied]
    ready = [p for p in replied if p.closable]
    # A hundred at a time: after a session's replies, thousands may be ready.
    ready_page = Paginator(ready, 100).get_page(request.GET.get("page"))
    ready = list(ready_page.object_list)
    waiting = [p for p in replied if not p.dissatisfied and not p.closable]
    if decide:
        unit_choices = rehandling_unit_choices()
        due = deadlines.rehandling_due(today)
        for p in decide:
            p.rehandle_form = rehandle_forms.get(p.pk) or RehandleForm(
                initial={"unit": p.lead_unit_id, "reply_due": due.due},
                unit_choices=unit_choices,
                auto_id=f"rh{p.pk}_%s",
            )
        rehandling_rule = due.rule
    else:
        rehandling_rule = ""
    for p in decide + ready + waiting:
        p.close_form = close_forms.get(p.pk) or CloseForm(auto_id=f"cl{p.pk}_%s")
    shown = {p.pk for p in decide}
    for pk, form in rehandle_forms.items():
        if pk not in shown:
            # The row left the list meanwhile; its errors go to the top of the page.
            for error in form.non_field_errors():
                messages.error(request, error)
    closed = list(
        Proposal.objects.filter(state=State.CLOSED).order_by("-closed_at", "-id")[:RECENTLY_CLOSED]
    )
    closed_receipts = current_round_receipts({"pk__in": [p.pk for p in closed]}) if closed else []
    attach_receipt_status(closed, closed_receipts, today)
    return render(
        request,
        "work/closing/queue.html",
        {
            "decide": decide,
            "ready": ready,
            "ready_page": ready_page,
            "waiting": waiting,
            "closed": closed,
            "bulk_form": bulk_form or BulkCloseForm(),
            "selected": set(request.POST.getlist("proposals")),
            "rehandling_rule": rehandling_rule,
        },
    )


@login_required
def queue(request):
    require_committee(request.user)
    return _queue_page(request)


def _gone_from_queue(request, proposal, form):
    """Decided by someone else meanwhile: say so at the top and show the queue afresh."""
    errors = form.non_field_errors() or [
        _("%(number)s is no longer waiting: it is “%(state)s”.")
        % {"number": proposal.display_number, "state": proposal.get_state_display()}
    ]
    for error in errors:
        messages.error(request, error)
    return redirect("closing:queue")


@login_required
@require_POST
def rehandle(request, proposal_pk):
    """重新办理: a second round, by the same or another unit."""
    require_committee(request.user)
    proposal = get_object_or_404(Proposal, pk=proposal_pk)
    form = RehandleForm(
        request.POST, unit_choices=rehandling_unit_choices(), auto_id=f"rh{proposal.pk}_%s"
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            services.order_rehandling(
                proposal,
                request.user,
                unit=data["unit"],
                comment=data["comment"],
                reply_due=data["reply_due"],
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                _("%(number)s goes to %(unit)s for handling again, reply due %(due)s.")
                % {
                    "number": proposal.display_number,
                    "unit": data["unit"],
                    "due": data["reply_due"].isoformat(),
                },
            )
            return redirect("closing:queue")
    proposal.refresh_from_db(fields=["state"])
    if proposal.state != State.REPLIED:
        return _gone_from_queue(request, proposal, form)
    return _queue_page(request, rehandle_forms={proposal.pk: form})


@login_required
@require_POST
def close(request, proposal_pk):
    """办结 one proposal; without every receipt in (or with a dissatisfied one) only with a why."""
    require_committee(request.user)
    proposal = get_object_or_404(Proposal, pk=proposal_pk)
    form = CloseForm(request.POST, auto_id=f"cl{proposal.pk}_%s")
    if form.is_valid():
        try:
            services.close(proposal, request.user, form.cleaned_data["comment"])
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request, _("%(number)s is closed.") % {"number": proposal.display_number}
            )
            return redirect("closing:queue")
    proposal.refresh_from_db(fields=["state"])
    if proposal.state != State.REPLIED:
        return _gone_from_queue(request, proposal, form)
    return _queue_page(request, close_forms={proposal.pk: form})


@login_required
@require_POST
def close_bulk(request):
    """办结 the ticked proposals together: all of them, or none if one cannot be closed."""
    require_committee(request.user)
    form = BulkCloseForm(request.POST)
    if form.is_valid():
        try:
            done = services.bulk_close(
                list(form.cleaned_data["proposals"]), request.user, form.cleaned_data["comment"]
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(
                request,
                ngettext(
                    "%(count)d proposal was closed.", "%(count)d proposals were closed.", len(done)
                )
                % {"count": len(done)},
            )
            return redirect("closing:queue")
    return _queue_page(request, bulk_form=form)
