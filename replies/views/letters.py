"""The staff screens of reply letters (答复函): drafting, sign-off, sending, publishing, the PDF.

Every change goes through `replies.services`; who may see a letter is `replies.access`.
"""

import datetime
import difflib

from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.exceptions import PermissionDenied
from django.db.models import Max
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import ngettext
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Membership
from accounts.notifications import absolute_url
from accounts.sessions import recent_password_required
from core.views import add_refusal_to_form, require, run, safe_next
from core.workflow import Refused
from proposals import access as proposal_access
from proposals import deadlines
from proposals.models import Event

from .. import access, services
from ..forms import (
    CorrectionForm,
    CorrectTypoForm,
    LetterForm,
    ReopenForm,
    SendBackForm,
    SignForm,
    SubmitForm,
    UnpublishForm,
)
from ..models import Receipt, ReplyLetter, ReplyRevision
from ..pdf import render_letter_pdf

State = ReplyLetter.State
LEADER = Membership.Role.LEADER


# --- role checks (403 for a role that may never use the view) ----------------------------------


def _require_unit_person(user):
    require(proposal_access.unit_ids(user))


def _require_leader(user):
    require(proposal_access.unit_ids(user, LEADER))


def _publishable(request, pk):
    """A letter the user publishes: 404 if they may not read it, 403 if only read it."""
    letter = access.get_letter_for_user(request.user, pk)
    if not services.can_publish(request.user, letter):
        raise PermissionDenied
    return letter


# --- what the pages share ----------------------------------------------------------------------


def nav(user):
    """The reply-letter lists the user may open (templates/replies/_nav.html)."""
    return {
        "mine": bool(proposal_access.unit_ids(user)),
        "signoff": bool(proposal_access.unit_ids(user, LEADER)),
        "unpublished": services.is_publisher(user),
    }


def letter_context(letter):
    """What the letter as it will print needs (templates/replies/_letter.html)."""
    return {
        "letter": letter,
        "unit": letter.assignment.unit,
        "proposal": letter.assignment.proposal,
        "paragraphs": services.letter_paragraphs(letter.body),
        "cc_units": list(letter.cc_units.all()),
        "receipt_invitation": services.RECEIPT_INVITATION,
    }


def _detail(letter):
    return redirect("replies:detail", letter.pk)


def _back(request, letter):
    """Where the action was started (detail or sign-off page), if it is ours; else the letter."""
    return redirect(safe_next(request, letter.get_absolute_url()))


def _act(request, action, letter, *args, success, **kwargs):
    """Run a workflow action: on success to the letter, on refusal back to where it started."""
    _result, ok = run(request, action, letter, request.user, *args, success=success, **kwargs)
    return _detail(letter) if ok else _back(request, letter)


def _form_refused(request, form):
    for errors in form.errors.values():
        for error in errors:
            messages.error(request, error)


def last_sent_back(letter):
    """The audit event of the last send-back (who, when), for the comment on the letter."""
    return (
        Event.objects.filter(
            proposal_id=letter.assignment.proposal_id,
            object_id=letter.pk,
            verb="reply_sent_back",
        )
        .select_related("actor")
        .order_by("-created_at", "-id")
        .first()
    )


# --- what changed between two revisions -----------------------------------------------------

# Paragraphs longer than this (product of lengths) are compared whole, not character by
# character: difflib is quadratic and a leader on a phone is waiting.
INLINE_DIFF_MAX = 4_000_000
# Below this similarity a changed paragraph reads better as deleted and rewritten.
INLINE_DIFF_MIN_RATIO = 0.3


def inline_diff(old, new):
    """[(mark, text)] for one changed paragraph; mark is "", "ins" or "del"."""
    if len(old) * len(new) <= INLINE_DIFF_MAX:
        matcher = difflib.SequenceMatcher(None, old, new, autojunk=False)
        if matcher.ratio() >= INLINE_DIFF_MIN_RATIO:
            parts = []
            for op, i1, i2, j1, j2 in matcher.get_opcodes():
                if op in ("delete", "replace"):
                    parts.append(("del", old[i1:i2]))
                if op in ("insert", "replace"):
                    parts.append(("ins", new[j1:j2]))
                if op == "equal":
                    parts.append(("", old[i1:i2]))
            return parts
    return [("del", old), ("ins", new)]


def body_diff(old, new):
    """The paragraphs of `new` against `old`, as rows for templates/replies/_diff.html.

    A row is {"op": "change" | "insert" | "delete", "parts": [(mark, text)]}, or
    {"op": "same", "label": "…"} for a run of unchanged paragraphs.
    """
    a = [text for _kind, text in services.letter_paragraphs(old)]
    b = [text for _kind, text in services.letter_paragraphs(new)]
    rows = []
    matcher = difflib.SequenceMatcher(None, a, b, autojunk=False)
    for op, i1, i2, j1, j2 in matcher.get_opcodes():
        if op == "equal":
            count = i2 - i1
            label = ngettext(
                "%(count)d unchanged paragraph", "%(count)d unchanged paragraphs", count
            ) % {"count": count}
            rows.append({"op": "same", "label": label})
            continue
        removed, added = a[i1:i2], b[j1:j2]
        # In a replaced block, paragraphs are paired in order and marked inside.
        for k in range(max(len(removed), len(added))):
            if k >= len(added):
                rows.append({"op": "delete", "parts": [("del", removed[k])]})
            elif k >= len(removed):
                rows.append({"op": "insert", "parts": [("ins", added[k])]})
            else:
                rows.append({"op": "change", "parts": inline_diff(removed[k], added[k])})
    return rows


def field_changes(previous, current):
    """[(label, old, new)] for the parts of the letter outside the body that changed."""
    changes = []
    for name, label in (
        ("title", _("Title")),
        ("salutation", _("Salutation")),
        ("result_class", _("Result class")),
    ):
        old, new = getattr(previous, name), getattr(current, name)
        if old != new:
            changes.append((label, old, new))
    return changes


# --- drafting ------------------------------------------------------------------------------------


@login_required
@require_POST
def start(request, assignment_pk):
    """The proposal page's "Draft the reply": start (or reopen) the unit's letter."""
    _require_unit_person(request.user)
    assignment = proposal_access.get_assignment_for_unit_member(request.user, assignment_pk)
    letter, ok = run(request, services.start_draft, assignment, request.user)
    if not ok:
        return redirect(assignment.proposal.get_absolute_url())
    if letter.state == State.DRAFT:
        return redirect("replies:edit", letter.pk)
    return _detail(letter)


@login_required
def edit(request, pk):
    _require_unit_person(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    if not proposal_access.is_unit_member(request.user, letter.assignment.unit_id):
        raise PermissionDenied
    why = services.why_not_editable(letter)
    if request.method == "GET" and why:
        messages.error(request, why)
        return _detail(letter)
    form = LetterForm(request.POST if request.method == "POST" else None, letter=letter)
    if form.is_bound and form.is_valid():
        cc_units, fields = form.draft_fields()
        try:
            services.save_draft(letter, request.user, cc_units=cc_units, **fields)
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The draft was saved."))
            return _detail(letter)
    return render(
        request,
        "replies/edit.html",
        {
            "letter": letter,
            "proposal": letter.assignment.proposal,
            "form": form,
            "outstanding": services.outstanding_opinions(letter.assignment),
        },
    )


# --- the letter page -----------------------------------------------------------------------------


@login_required
@require_GET
def detail(request, pk):
    """The letter as it will print, its state and history, and the actions open to the viewer."""
    user = request.user
    letter = access.get_letter_for_user(user, pk)
    actions = access.available_actions(user, letter)
    internal = access.is_internal(user, letter)
    context = {**letter_context(letter), "actions": actions, "internal": internal}
    if internal:
        context["revisions"] = letter.revisions.select_related(
            "submitted_by", "decided_by"
        ).order_by("-number")
        context["publications"] = letter.publications.select_related("published_by").order_by(
            "-version"
        )
        if letter.state == State.DRAFT and letter.signoff_comment:
            context["sent_back"] = last_sent_back(letter)
        if letter.state in (State.DRAFT, State.AWAITING_SIGNOFF):
            context["outstanding"] = services.outstanding_opinions(letter.assignment)
            context["has_contact"] = services.has_contact(letter.assignment)
            context["not_expected"] = services.why_not_expected(letter)
        if letter.state == State.SENT and letter.disclosure != ReplyLetter.Disclosure.NONE:
            deadline = deadlines.publish_due(letter.sent_at)
            context["publish_deadline"] = deadline
            context["publish_overdue"] = deadline.is_overdue(deadlines.local_today())
    # The proposer's own copy: their receipt, while it is open.
    proposer = access.receiving_proposer(user, letter)
    if proposer is not None:
        receipt = Receipt.objects.filter(letter=letter, proposer=proposer).first()
        if receipt is not None:
            context["my_receipt"] = receipt
            if not receipt.is_submitted and not services.receipt_link_expired(receipt):
                context["my_receipt_url"] = services.receipt_url(receipt)
    if actions["submit"]:
        context["submit_form"] = SubmitForm(auto_id="submit_%s")
    if actions["sign"]:
        context["sign_form"] = SignForm(auto_id="sign_%s", unit=letter.assignment.unit)
    if actions["send_back"]:
        context["send_back_form"] = SendBackForm(auto_id="send_back_%s")
    if actions["reopen"]:
        context["reopen_form"] = ReopenForm(auto_id="reopen_%s")
    if actions["correct_typo"]:
        current = services.current_publication(letter)
        context["correct_form"] = CorrectTypoForm(
            auto_id="correct_%s",
            initial={"title": current.title, "text": current.text} if current else None,
        )
    if actions["unpublish"]:
        context["unpublish_form"] = UnpublishForm(auto_id="unpublish_%s")
    return render(request, "replies/detail.html", context)


# --- the workflow actions (POST only) ------------------------------------------------------------


@login_required
@require_POST
def submit(request, pk):
    _require_unit_person(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    form = SubmitForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    return _act(
        request,
        services.submit_for_signoff,
        letter,
        outstanding_reason=form.cleaned_data["outstanding_reason"],
        no_contact_reason=form.cleaned_data["no_contact_reason"],
        success=_("The letter was submitted for sign-off."),
    )


@login_required
@require_POST
@recent_password_required
def sign(request, pk):
    _require_leader(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    form = SignForm(request.POST, unit=letter.assignment.unit)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    signed, ok = run(
        request, services.sign, letter, request.user, doc_number=form.cleaned_data["doc_number"]
    )
    if not ok:
        return _back(request, letter)
    messages.success(
        request, _("The letter is signed: %(number)s.") % {"number": signed.doc_number or "—"}
    )
    return redirect(safe_next(request, letter.get_absolute_url()))


@login_required
@require_POST
def send_back(request, pk):
    _require_leader(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    return _act(
        request,
        services.send_back,
        letter,
        form.cleaned_data["comment"],
        success=_("The letter was sent back to the drafter with your comment."),
    )


@login_required
@require_POST
def reopen(request, pk):
    _require_unit_person(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    form = ReopenForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    return _act(
        request,
        services.reopen,
        letter,
        form.cleaned_data["reason"],
        success=_("The letter can be changed again; it must then be signed again."),
    )


@login_required
@require_POST
def send(request, pk):
    _require_unit_person(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    return _act(
        request,
        services.send,
        letter,
        success=_("The letter was sent to the proposers and copied to the cc units."),
    )


@login_required
@require_POST
def publish(request, pk):
    letter = _publishable(request, pk)
    return _act(request, services.publish, letter, success=_("The reply is published."))


@login_required
@require_POST
def correct_typo(request, pk):
    letter = _publishable(request, pk)
    form = CorrectTypoForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    data = form.cleaned_data
    return _act(
        request,
        services.correct_typo,
        letter,
        data["reason"],
        title=data["title"] or None,
        text=data["text"] or None,
        success=_(
            "The corrected reply is published, marked as corrected; the signed version is kept."
        ),
    )


@login_required
@require_POST
def unpublish(request, pk):
    letter = _publishable(request, pk)
    form = UnpublishForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    return _act(
        request,
        services.unpublish,
        letter,
        form.cleaned_data["reason"],
        success=_("The reply was taken off the public site."),
    )


# --- corrections of a sent letter ---------------------------------------------------------------


@login_required
def propose_correction(request, pk):
    """The unit corrects the substance of a sent letter; its leader signs the correction."""
    _require_unit_person(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    if not access.is_handler(request.user, letter):
        raise PermissionDenied
    form = CorrectionForm(request.POST or None, letter=letter)
    if request.method == "POST" and form.is_valid():
        try:
            services.propose_correction(letter, request.user, **form.cleaned_data)
        except Refused as exc:
            add_refusal_to_form(form, exc)
        else:
            messages.success(request, _("The correction was submitted to the leader for sign-off."))
            return _detail(letter)
    return render(
        request,
        "replies/correction.html",
        {"letter": letter, "proposal": letter.assignment.proposal, "form": form},
    )


@login_required
@require_POST
@recent_password_required
def sign_correction(request, pk):
    _require_leader(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    return _act(
        request,
        services.sign_correction,
        letter,
        success=_("The correction is signed and sent to the proposers."),
    )


@login_required
@require_POST
def send_back_correction(request, pk):
    _require_leader(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    form = SendBackForm(request.POST)
    if not form.is_valid():
        _form_refused(request, form)
        return _back(request, letter)
    return _act(
        request,
        services.send_back_correction,
        letter,
        form.cleaned_data["comment"],
        success=_("The correction was sent back with your comment."),
    )


# --- sign-off (a leader's queue, usable on a phone) ----------------------------------------------


@login_required
@require_GET
def signoff_queue(request):
    """Letters and corrections waiting for the user's sign-off across their units, oldest first."""
    units = proposal_access.unit_ids(request.user, LEADER)
    require(units)
    letters = (
        ReplyLetter.objects.filter(state=State.AWAITING_SIGNOFF, assignment__unit_id__in=units)
        .select_related("assignment__unit", "assignment__proposal", "drafted_by")
        .annotate(submitted_at=Max("revisions__submitted_at"), revision=Max("revisions__number"))
        .order_by("submitted_at", "pk")
    )
    corrections = (
        ReplyRevision.objects.filter(letter__assignment__unit_id__in=units, decision="")
        .exclude(correction_reason="")
        .select_related("letter__assignment__unit", "letter__assignment__proposal", "submitted_by")
        .order_by("submitted_at", "pk")
    )
    return render(
        request,
        "replies/signoff_queue.html",
        {"letters": letters, "corrections": corrections, "nav": nav(request.user)},
    )


@login_required
@require_GET
def signoff(request, pk):
    """The letter as it will print and what changed since the leader last read it — or, for a
    correction of a sent letter, what the correction changes — to sign or send back."""
    _require_leader(request.user)
    letter = access.get_letter_for_user(request.user, pk)
    if not proposal_access.is_unit_leader(request.user, letter.assignment.unit_id):
        raise PermissionDenied
    actions = access.available_actions(request.user, letter)
    correction = actions["pending_correction"]
    if letter.state != State.AWAITING_SIGNOFF and correction is None:
        messages.info(request, _("This letter is not waiting for sign-off."))
        return _detail(letter)
    context = {
        **letter_context(letter),
        "actions": actions,
        "send_back_form": SendBackForm(auto_id="send_back_%s"),
        "has_contact": services.has_contact(letter.assignment),
    }
    if correction is not None:
        # Compared with the letter as sent; shown as it will read once signed.
        context["correction"] = correction
        context["previous"], context["current"] = letter, correction
        context["diff"] = body_diff(letter.body, correction.body)
        context["field_changes"] = field_changes(letter, correction)
        context["paragraphs"] = services.letter_paragraphs(correction.body)
        context["shown"] = correction
    else:
        previous, current = services.diff_since_last_seen(letter)
        context.update(previous=previous, current=current, shown=letter)
        context["sign_form"] = SignForm(auto_id="sign_%s", unit=letter.assignment.unit)
        if previous is not None:
            context["diff"] = body_diff(previous.body, current.body)
            context["field_changes"] = field_changes(previous, current)
    return render(request, "replies/signoff.html", context)


# --- lists ---------------------------------------------------------------------------------------


@login_required
@require_GET
def unpublished(request):
    """Sent but not yet published, with the publication deadline; and the sent not-public ones.

    Of the letters the user publishes only: every unit's for committee staff, the unit's own
    for the people of a unit the committee lets publish.
    """
    require(services.is_publisher(request.user))
    sent = (
        access.publishable_letters(request.user)
        .filter(state=State.SENT)
        .select_related("assignment__unit", "assignment__proposal")
        .only(
            "sent_at",
            "disclosure",
            "nondisclosure_reason",
            "state",
            "assignment__unit__short_name",
            "round",
            "assignment__proposal__number",
            "assignment__proposal__title",
        )
        .order_by("sent_at", "pk")
    )
    letters = list(sent.exclude(disclosure=ReplyLetter.Disclosure.NONE))
    today = deadlines.local_today()
    if letters:
        first = deadlines.as_local_date(letters[0].sent_at)
        last = deadlines.as_local_date(letters[-1].sent_at)
        # 20 working days never take more than 70 calendar days (see deadlines._window_for).
        corrections = deadlines.load_corrections(first, last + datetime.timedelta(days=90))
        for letter in letters:
            letter.deadline = deadlines.publish_due(letter.sent_at, corrections)
            letter.is_overdue = letter.deadline.is_overdue(today)
    # The newest only: letters that are never published stay "sent" for good.
    not_public = sent.filter(disclosure=ReplyLetter.Disclosure.NONE).order_by("-sent_at", "-pk")[
        :50
    ]
    return render(
        request,
        "replies/unpublished.html",
        {"letters": letters, "not_public": not_public, "nav": nav(request.user)},
    )


@login_required
@require_GET
def mine(request):
    """The letters of the user's units still in the unit's hands: drafts, sign-off, signed."""
    units = proposal_access.unit_ids(request.user)
    require(units)
    letters = (
        ReplyLetter.objects.filter(
            assignment__unit_id__in=units,
            state__in=[State.DRAFT, State.AWAITING_SIGNOFF, State.SIGNED],
        )
        .select_related("assignment__unit", "assignment__proposal", "drafted_by")
        .order_by("-updated_at", "-pk")
    )
    return render(request, "replies/mine.html", {"letters": letters, "nav": nav(request.user)})


# --- paper ---------------------------------------------------------------------------------------


def _receipt_url(letter, proposer):
    """The absolute link of the proposer's own receipt, for the QR code on their copy."""
    receipt = Receipt.objects.filter(letter=letter, proposer=proposer).first()
    if receipt is None:
        return None
    return absolute_url(services.receipt_url(receipt))


@login_required
@require_GET
def pdf(request, pk):
    """The printable letter; a proposer it was sent to gets their own copy with the receipt QR."""
    letter = access.get_letter_for_user(request.user, pk)
    proposer = access.receiving_proposer(request.user, letter)
    receipt_url = _receipt_url(letter, proposer) if proposer else None
    content = render_letter_pdf(letter, proposer=proposer, receipt_url=receipt_url)
    response = HttpResponse(content, content_type="application/pdf")
    filename = f"{letter.doc_number or f'reply-letter-{letter.pk}'}.pdf"
    response["Content-Disposition"] = content_disposition_header(False, filename)
    return response
