"""提案及办理答复汇编: committee staff make a session's book of replies and download it.

The page shows the book of the chosen session as its replies stand now: ready to download,
being made (with its progress, polled by static/js/compendium-progress.js; without script the
page says to reload), or not made yet (a button starts it). See replies/services/compendium.py.
"""

from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from core.views import require, run
from proposals import access as proposal_access
from proposals.models import Session

from ..compendium_forms import CompendiumForm
from ..models import Compendium
from ..services import compendium as books


def _committee(request):
    require(proposal_access.is_committee(request.user))


def status_of(session, compendium):
    """What the page and the poll show of a session's book."""
    if compendium is None:
        return {"state": "none", "finished": True}
    return {
        "state": compendium.state,
        "stage": compendium.stage,
        "stage_label": compendium.get_stage_display(),
        "letters": compendium.letters,
        "done": compendium.done,
        "pages": compendium.pages,
        "finished": compendium.state != Compendium.State.RUNNING,
        "download_url": (
            reverse("compendium:download", args=[session.pk])
            if compendium.state == Compendium.State.READY
            else ""
        ),
        "error": compendium.error,
    }


@login_required
@require_GET
def index(request):
    _committee(request)
    current = Session.objects.select_related("term").filter(is_current=True).first()
    data = request.GET.copy()
    data.setdefault("session", current.pk if current else "")
    form = CompendiumForm(data)
    session = form.cleaned_data["session"] if form.is_valid() else current
    compendium = books.current(session) if session else None
    context = {
        "form": form,
        "session": session,
        "compendium": compendium,
        "status": status_of(session, compendium) if session else None,
        "letters": books.session_letters(session).count() if session else 0,
        "current": "compendium",
        "committee": True,
    }
    return render(request, "work/compendium/index.html", context)


@login_required
@require_POST
def start(request, pk):
    _committee(request)
    session = get_object_or_404(Session, pk=pk)
    run(request, books.start, session, request.user)
    return redirect(reverse("compendium:index") + f"?session={session.pk}")


@login_required
@require_GET
def status(request, pk):
    _committee(request)
    session = get_object_or_404(Session, pk=pk)
    return JsonResponse(status_of(session, books.current(session)))


@login_required
@require_GET
def download(request, pk):
    _committee(request)
    session = get_object_or_404(Session.objects.select_related("term"), pk=pk)
    compendium = books.current(session)
    if compendium is None or compendium.state != Compendium.State.READY:
        raise Http404(_("The compendium is not ready."))
    response = HttpResponse(books.read_file(compendium), content_type="application/pdf")
    filename = f"{session}提案及办理答复汇编.pdf"
    response["Content-Disposition"] = content_disposition_header(True, filename)
    return response
