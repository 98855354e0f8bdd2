"""Committee staff import a session's proposals from a spreadsheet: upload, preview, confirm.

The uploaded file is kept in a `SpreadsheetImport` row between the preview and the
confirmation (another worker may answer the confirm); the confirm reads it again.
"""

import io
import secrets
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth.decorators import login_required
from django.core.cache import cache
from django.db import transaction
from django.http import Http404, HttpResponse, JsonResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy, ngettext
from django.views.decorators.http import require_POST

from core.workflow import Refused

from .. import access, imports
from ..forms import SessionChoiceField
from ..models import Proposal, Session, SpreadsheetImport
from ..spreadsheets import MAX_UPLOAD_BYTES, XLSX_CONTENT_TYPE
from .committee import require_committee

# An upload nobody confirmed is of no use after a day.
KEEP_UPLOADS = timedelta(days=1)


class ImportForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Spreadsheet (.xlsx)"),
        help_text=imports.UPLOAD_HELP,
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )
    session = SessionChoiceField(
        label=gettext_lazy("Session"), queryset=Session.objects.select_related("term")
    )
    period = forms.ChoiceField(
        label=gettext_lazy("Period"),
        choices=Proposal.Period.choices,
        initial=Proposal.Period.PLENARY,
        widget=forms.RadioSelect,
    )
    accept_at_once = forms.BooleanField(
        label=gettext_lazy("Accept them at once, numbered in row order"),
        required=False,
        help_text=gettext_lazy("Otherwise they wait for review (待审查)."),
    )

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        current = Session.objects.filter(is_current=True).first()
        if current is not None:
            self.fields["session"].initial = current.pk

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB.")
                % {"size": MAX_UPLOAD_BYTES // 1024 // 1024}
            )
        return upload


PROGRESS_KEY = "proposals:import-progress:{token}"
PROGRESS_TIMEOUT = 60 * 60


def write_progress(token, done, total):
    """How far a confirm has got, in the shared cache (Redis in production): the importing
    transaction's rows are invisible to the request that polls, which another app server
    may answer. Without a shared cache the page shows the count when the import ends."""
    cache.set(PROGRESS_KEY.format(token=token), {"done": done, "total": total}, PROGRESS_TIMEOUT)


def read_progress(token):
    return cache.get(PROGRESS_KEY.format(token=token)) or {"done": 0, "total": None}


def clear_progress(token):
    cache.delete(PROGRESS_KEY.format(token=token))


def get_import_for_user(user, token):
    upload = SpreadsheetImport.objects.filter(token=token, created_by=user).first()
    if upload is None:
        raise Http404
    return upload


@login_required
def import_template(request):
    require_committee(request.user)
    buffer = io.BytesIO()
    imports.template_workbook().save(buffer)
    response = HttpResponse(buffer.getvalue(), content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = (
        "attachment; filename*=UTF-8''%E6%8F%90%E6%A1%88%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )
    return response


@login_required
def import_upload(request):
    require_committee(request.user)
    form = ImportForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        data = form.cleaned_data
        SpreadsheetImport.objects.filter(created_at__lt=timezone.now() - KEEP_UPLOADS).delete()
        upload = SpreadsheetImport.objects.create(
            token=secrets.token_urlsafe(32),
            file_name=data["file"].name[:200],
            data=data["file"].read(),
            session=data["session"],
            period=data["period"],
            accept_at_once=data["accept_at_once"],
            created_by=request.user,
        )
        return redirect("proposals:import_preview", token=upload.token)
    return render(request, "work/committee/import_upload.html", {"form": form})


def _preview(upload):
    return imports.read_proposals(
        bytes(upload.data),
        session=upload.session,
        period=upload.period,
        file_name=upload.file_name,
    )


@login_required
def import_preview(request, token):
    require_committee(request.user)
    upload = get_import_for_user(request.user, token)
    if upload.status == SpreadsheetImport.Status.IMPORTED:
        return redirect("proposals:import_done", token=upload.token)
    preview = _preview(upload)
    return render(
        request,
        "work/committee/import_preview.html",
        {"upload": upload, "preview": preview, "form": ImportForm()},
    )


@login_required
@require_POST
def import_confirm(request, token):
    require_committee(request.user)
    get_import_for_user(request.user, token)
    try:
        with transaction.atomic():
            # Locked: a second click waits, then finds the file imported.
            upload = SpreadsheetImport.objects.select_for_update().get(
                token=token, created_by=request.user
            )
            if upload.status == SpreadsheetImport.Status.IMPORTED:
                return redirect("proposals:import_done", token=upload.token)
            saved = imports.import_proposals(
                bytes(upload.data),
                request.user,
                session=upload.session,
                period=upload.period,
                accept_at_once=upload.accept_at_once,
                file_name=upload.file_name,
                progress=lambda done, total: write_progress(token, done, total),
            )
            upload.status = SpreadsheetImport.Status.IMPORTED
            upload.row_count = len(saved)
            upload.imported_at = timezone.now()
            # The file's work is done; the proposals and their events are the record.
            upload.data = b""
            upload.save(update_fields=["status", "row_count", "imported_at", "data"])
    except Refused as exc:
        for message in exc.messages:
            messages.error(request, message)
        return redirect("proposals:import_preview", token=token)
    finally:
        clear_progress(token)
    messages.success(
        request,
        ngettext(
            "%(count)d proposal was imported.", "%(count)d proposals were imported.", len(saved)
        )
        % {"count": len(saved)},
    )
    return redirect("proposals:import_done", token=token)


@login_required
def import_done(request, token):
    require_committee(request.user)
    upload = get_import_for_user(request.user, token)
    if upload.status != SpreadsheetImport.Status.IMPORTED:
        return redirect("proposals:import_preview", token=token)
    workspace = reverse("workspace") + f"?session={upload.session_id}"
    return render(
        request, "work/committee/import_done.html", {"upload": upload, "workspace": workspace}
    )


@login_required
def import_progress(request, token):
    """How far the confirm has got: polled by static/js/import-progress.js."""
    if not access.is_committee(request.user):
        raise Http404
    upload = get_object_or_404(SpreadsheetImport, token=token, created_by=request.user)
    if upload.status == SpreadsheetImport.Status.IMPORTED:
        return JsonResponse({"done": upload.row_count, "total": upload.row_count, "finished": True})
    return JsonResponse({**read_progress(token), "finished": False})
