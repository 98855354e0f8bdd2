"""The committee's queue of replied proposals: re-handling (重新办理) and closing (办结)."""

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.paginator import Paginator
from django.db.models import OuterRef, Subquery
from django.shortcuts import redirect, render
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_POST

from accounts.models import Unit
from core.views import add_refusal_to_form, require
from core.workflow import Refused
from proposals import access, deadlines, exports
from proposals import services as proposal_services
from proposals.models import Assignment, Proposal
from proposals.views.proposer import first_proposer_name

from .. import services
from ..closing_forms import BulkCloseForm, CloseForm, RehandleForm

RECENTLY_CLOSED = 20
State = Proposal.State


def require_committee(user):
    require(access.is_committee(user))


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
    services.attach_receipt_status(
        replied, services.current_round_receipts(state=State.REPLIED), today
    )
    decide = [p for p in replied if p.receipt_status.dissatisfied]
    ready = [p for p in replied if p.receipt_status.closable]
    # A hundred at a time: after a session's replies, thousands may be ready.
    ready_page = Paginator(ready, 100).get_page(request.GET.get("page"))
    ready = list(ready_page.object_list)
    waiting = [
        p for p in replied if not p.receipt_status.dissatisfied and not p.receipt_status.closable
    ]
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
    closed_receipts = (
        services.current_round_receipts(pk__in=[p.pk for p in closed]) if closed else []
    )
    services.attach_receipt_status(closed, closed_receipts, today)
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
def queue_export(request):
    """The replied proposals of the queue as .xlsx, each with where it stands for closing."""
    require_committee(request.user)
    today = deadlines.local_today()
    unit = Unit.objects.filter(pk=OuterRef("lead_unit_id")).values("short_name")[:1]
    replied = list(
        Proposal.objects.filter(state=State.REPLIED)
        .only("id", "number", "title", "current_round")
        .annotate(lead_unit_id=_lead_unit_id(), first_proposer=first_proposer_name())
        .annotate(lead_unit=Subquery(unit))
        .order_by("number", "id")
    )
    services.attach_receipt_status(
        replied, services.current_round_receipts(state=State.REPLIED), today
    )

    def standing(status):
        if status.dissatisfied:
            return "待决定重新办理或办结"
        return "可以办结" if status.closable else "等待回执"

    return exports.xlsx_response(
        "办结",
        "办结",
        [
            "提案号",
            "案由",
            "第一提案人",
            "主办单位",
            "办理轮次",
            "回执份数",
            "未反馈",
            "不满意",
            "状态",
        ],
        (
            (
                exports.number_label(p.number),
                p.title,
                p.first_proposer or "",
                p.lead_unit or "",
                p.current_round,
                len(p.receipt_status.receipts),
                "、".join(str(r.proposer) for r in p.receipt_status.missing),
                "、".join(str(r.proposer) for r in p.receipt_status.dissatisfied),
                standing(p.receipt_status),
            )
            for p in replied
        ),
        [10, 44, 12, 14, 8, 6, 20, 20, 18],
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
    proposal = access.get_proposal_for_user(request.user, proposal_pk)
    form = RehandleForm(
        request.POST, unit_choices=rehandling_unit_choices(), auto_id=f"rh{proposal.pk}_%s"
    )
    if form.is_valid():
        data = form.cleaned_data
        try:
            proposal_services.order_rehandling(
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
    proposal = access.get_proposal_for_user(request.user, proposal_pk)
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
