"""The proposer's receipt (回执) page, reached by a personal link without logging in.

A link opens exactly one receipt (one proposer, one reply round). A bad link answers 404,
an expired one 410, a used one shows what was submitted; none of them shows anyone else's
data. Every request, good link or bad, counts against the client's hourly limit.
"""

import functools
import time

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.shortcuts import redirect, render
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_http_methods

from proposals import access
from proposals.services import Refused
from proposals.views.common import add_refusal_to_form

from . import ratelimit, services
from .models import Receipt, ReplyLetter
from .receipt_forms import ReceiptForm

SENT_STATES = [ReplyLetter.State.SENT, ReplyLetter.State.PUBLISHED, ReplyLetter.State.WITHDRAWN]


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
        Receipt.objects.filter(proposer=proposer, letter__state__in=SENT_STATES)
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
