"""Receipts (回执): the proposer's page, reached by a personal link without logging in; a
member's own receipts; and, for staff, which receipts are in and paper receipts.

A link opens exactly one receipt (one proposer, one reply round). A bad link answers 404,
an expired one 410, a used one shows what was submitted; none of them shows anyone else's
data. Every request, good link or bad, counts against the client's hourly limit.
"""

import functools
import time

from django.conf import settings
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.core.paginator import Paginator
from django.db.models import Count, Exists, F, OuterRef, Prefetch, Q
from django.http import Http404
from django.shortcuts import get_object_or_404, redirect, render
from django.utils.translation import gettext as _
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from core.views import add_refusal_to_form, require
from core.workflow import Refused
from proposals import access, deadlines, exports
from proposals.models import Session

from .. import ratelimit, services
from ..closing_forms import OverviewFilterForm
from ..models import Receipt, ReplyLetter
from ..receipt_forms import ReceiptForm

SENT_STATES = services.SENT_STATES
PAGE_SIZE = 50
DISSATISFIED = Receipt.Rating.DISSATISFIED


def rate_limited(view):
    """429 once the client's address is over RECEIPT_RATE_LIMIT_PER_HOUR."""

    @functools.wraps(view)
    def wrapper(request, *args, **kwargs):
        limit = settings.TIAN["RECEIPT_RATE_LIMIT_PER_HOUR"]
        if not ratelimit.hit(request, "receipt", limit):
            response = render(request, "receipts/rate_limited.html", status=429)
            window = ratelimit.WINDOW_SECONDS
            response["Retry-After"] = str(window - int(time.time()) % window)
            return response
        return view(request, *args, **kwargs)

    return wrapper


def letter_context(receipt):
    letter = receipt.letter
    return {
        "receipt": receipt,
        "letter": letter,
        "proposal": letter.assignment.proposal,
        "unit": letter.assignment.unit,
        "paragraphs": services.letter_paragraphs(letter.body),
    }


@never_cache
@rate_limited
@require_http_methods(["GET", "POST"])
def form(request, token):
    try:
        receipt = services.receipt_from_token(token)
    except services.BadReceiptLink as exc:
        if exc.reason == "expired":
            return _expired(request, exc.receipt)
        return render(request, "receipts/invalid.html", status=404)
    context = letter_context(receipt)
    if receipt.is_submitted:
        return render(request, "receipts/submitted.html", context)
    form = ReceiptForm(request.POST or None)
    if request.method == "POST" and form.is_valid():
        actor = request.user if request.user.is_authenticated else None
        try:
            services.submit_receipt(
                receipt, actor, channel=Receipt.Channel.ONLINE, **form.service_arguments()
            )
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            # Back to the link, which now shows the thanks and what was submitted.
            return redirect(request.path)
    context.update(form=form, expires_on=services.receipt_link_expires_on(receipt))
    return render(request, "receipts/form.html", context)


def _expired(request, receipt):
    """410, naming the day the link expired and whom to contact instead."""
    if receipt is None:
        return render(request, "receipts/invalid.html", status=404)
    context = {
        "letter": receipt.letter,
        "proposal": receipt.letter.assignment.proposal,
        "unit": receipt.letter.assignment.unit,
        "expired_on": services.receipt_link_expires_on(receipt),
        "committee": settings.TIAN["COMMITTEE_NAME"],
    }
    return render(request, "receipts/expired.html", context, status=410)


@login_required
def mine(request):
    """A logged-in member's receipts: those to give (with their link) and those given."""
    proposer = access.proposer_of(request.user)
    if proposer is None:
        raise PermissionDenied
    receipts = list(
        Receipt.objects.filter(proposer=proposer, letter__sent_at__isnull=False)
        .select_related("letter__assignment__unit", "letter__assignment__proposal")
        .order_by("-letter__sent_at", "-id")
    )
    for receipt in receipts:
        receipt.expired = not receipt.is_submitted and services.receipt_link_expired(receipt)
        if not receipt.is_submitted and not receipt.expired:
            receipt.url = services.receipt_url(receipt)
    pending = [r for r in receipts if not r.is_submitted]
    given = [r for r in receipts if r.is_submitted]
    return render(request, "receipts/mine.html", {"pending": pending, "given": given})


def require_committee_or_unit(user):
    require(access.is_committee(user) or bool(access.unit_ids(user)))


# --- which receipts are in ---------------------------------------------------------------------


def filtered_letters(request):
    """The overview's filter, the sent letters it covers and those its "show" leaves.

    Returns (filter form, letters, letters shown); the page and its download share it.
    """
    user = request.user
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
        sent_at__isnull=False, round=F("assignment__proposal__current_round")
    )
    if not committee:
        letters = letters.filter(assignment__unit_id__in=access.unit_ids(user))
    if session is not None:
        letters = letters.filter(assignment__proposal__session=session)
    shown = letters
    receipts_of = Receipt.objects.filter(letter=OuterRef("pk"))
    if show == "missing":
        shown = letters.filter(Exists(receipts_of.filter(submitted_at__isnull=True)))
    elif show == "dissatisfied":
        shown = letters.filter(
            Exists(
                receipts_of.filter(submitted_at__isnull=False).filter(
                    Q(attitude=DISSATISFIED) | Q(result=DISSATISFIED)
                )
            )
        )
    return filter_form, letters, shown


RECEIPT_HEADERS = [
    "提案号",
    "案由",
    "承办单位",
    "答复函文号",
    "送达时间",
    "提案人",
    "是否反馈",
    "是否联系",
    "办理态度",
    "办理结果",
    "意见",
    "反馈时间",
]


@login_required
def receipts_export(request):
    """The receipts overview as .xlsx, one row a receipt, with the page's filters."""
    require_committee_or_unit(request.user)
    _form, _letters, shown = filtered_letters(request)
    ratings = exports.labels(Receipt.Rating.choices)
    rows = (
        Receipt.objects.filter(letter__in=shown)
        .order_by("-letter__sent_at", "-letter_id", "id")
        .values_list(
            "letter__assignment__proposal__number",
            "letter__assignment__proposal__title",
            "letter__assignment__unit__short_name",
            "letter__doc_number",
            "letter__sent_at",
            "proposer__name",
            "submitted_at",
            "contacted",
            "attitude",
            "result",
            "opinion",
        )
        .iterator(chunk_size=exports.CHUNK_SIZE)
    )
    yes_no = {True: "是", False: "否", None: ""}
    return exports.xlsx_response(
        "回执",
        "回执",
        RECEIPT_HEADERS,
        (
            (
                exports.number_label(number),
                title,
                unit,
                doc_number,
                sent_at,
                proposer,
                "已反馈" if submitted_at else "未反馈",
                yes_no[contacted] if submitted_at else "",
                ratings.get(attitude, attitude),
                ratings.get(result, result),
                opinion,
                submitted_at,
            )
            for (
                number,
                title,
                unit,
                doc_number,
                sent_at,
                proposer,
                submitted_at,
                contacted,
                attitude,
                result,
                opinion,
            ) in rows
        ),
        [10, 40, 14, 24, 12, 10, 10, 10, 10, 10, 40, 12],
    )


@login_required
def receipts(request):
    """Sent letters of the current round with their receipts: in (with ratings) or missing."""
    user = request.user
    require_committee_or_unit(user)
    committee = access.is_committee(user)
    filter_form, letters, shown = filtered_letters(request)
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
    letters = (
        shown.select_related("assignment__unit", "assignment__proposal")
        .prefetch_related(
            Prefetch(
                "receipts",
                queryset=Receipt.objects.select_related("proposer", "entered_by").order_by("id"),
            )
        )
        .order_by("-sent_at", "-id")
    )
    page = Paginator(letters, PAGE_SIZE).get_page(request.GET.get("page"))
    dues = services.receipt_dues({deadlines.as_local_date(letter.sent_at) for letter in page})
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
        letter__sent_at__isnull=False,
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
            services.submit_receipt(
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
