"""Committee staff import the roster: template, upload, preview, confirm, the accounts list.
And the activation link through which a person whose account it created sets a password.

The uploaded file is kept in a `RosterImport` row between the preview and the confirmation
(another app server may answer the confirm); the confirm reads it again. The same checks as
the proposals import refuse a hostile file (`core.spreadsheets`).
"""

import io
import secrets
from datetime import timedelta

from django import forms
from django.contrib import messages
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_required
from django.contrib.auth.forms import SetPasswordForm
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.shortcuts import redirect, render
from django.urls import reverse_lazy
from django.utils import timezone
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_POST

from core.spreadsheets import MAX_UPLOAD_BYTES, XLSX_CONTENT_TYPE, stream_xlsx
from core.workflow import Refused

from . import roster, services
from .access import is_committee
from .models import Membership, RosterImport
from .notifications import absolute_url
from .tokens import activation_path, activation_token

# An upload nobody confirmed is of no use after a day.
KEEP_UPLOADS = timedelta(days=1)


def require_committee(user):
    if not is_committee(user):
        raise PermissionDenied


class RosterForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("Roster (.xlsx)"),
        help_text=gettext_lazy(
            "The template's sheets 委员, 党派团体, 承办单位 and 承办人员 (any of them), each "
            "under its header row; at most 5,000 rows a sheet."
        ),
        widget=forms.ClearableFileInput(attrs={"accept": ".xlsx"}),
    )

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_UPLOAD_BYTES:
            raise forms.ValidationError(
                _("The file is larger than %(size)d MB.")
                % {"size": MAX_UPLOAD_BYTES // 1024 // 1024}
            )
        return upload


def get_upload(user, token):
    upload = RosterImport.objects.filter(token=token, created_by=user).first()
    if upload is None:
        raise Http404
    return upload


def _xlsx_response(content, quoted_name):
    response = HttpResponse(content, content_type=XLSX_CONTENT_TYPE)
    response["Content-Disposition"] = f"attachment; filename*=UTF-8''{quoted_name}"
    return response


@login_required
def roster_template(request):
    require_committee(request.user)
    buffer = io.BytesIO()
    roster.template_workbook().save(buffer)
    # 名册导入模板.xlsx
    return _xlsx_response(
        buffer.getvalue(), "%E5%90%8D%E5%86%8C%E5%AF%BC%E5%85%A5%E6%A8%A1%E6%9D%BF.xlsx"
    )


@login_required
def roster_upload(request):
    require_committee(request.user)
    form = RosterForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        file = form.cleaned_data["file"]
        RosterImport.objects.filter(
            status=RosterImport.Status.PREVIEWED, created_at__lt=timezone.now() - KEEP_UPLOADS
        ).delete()
        upload = RosterImport.objects.create(
            token=secrets.token_urlsafe(32),
            file_name=file.name[:200],
            data=file.read(),
            created_by=request.user,
        )
        return redirect("roster:preview", token=upload.token)
    return render(request, "accounts/roster_upload.html", {"form": form})


@login_required
def roster_preview(request, token):
    require_committee(request.user)
    upload = get_upload(request.user, token)
    if upload.status == RosterImport.Status.IMPORTED:
        return redirect("roster:done", token=upload.token)
    preview = roster.read_roster(bytes(upload.data), file_name=upload.file_name)
    return render(request, "accounts/roster_preview.html", {"upload": upload, "preview": preview})


@login_required
@require_POST
def roster_confirm(request, token):
    require_committee(request.user)
    upload = get_upload(request.user, token)
    if upload.status == RosterImport.Status.IMPORTED:
        return redirect("roster:done", token=upload.token)
    try:
        counts = services.import_roster(upload, request.user)
    except Refused as exc:
        upload.refresh_from_db()
        if upload.status == RosterImport.Status.IMPORTED:
            # A second click waited for the first, which imported the file.
            return redirect("roster:done", token=upload.token)
        for message in exc.messages:
            messages.error(request, message)
        return redirect("roster:preview", token=token)
    messages.success(
        request,
        _("The roster was imported: %(created)d new, %(updated)d changed, %(unchanged)d unchanged.")
        % counts,
    )
    return redirect("roster:done", token=token)


def _accounts(upload):
    return upload.created_accounts.order_by("pk").prefetch_related("memberships__unit")


@login_required
def roster_done(request, token):
    require_committee(request.user)
    upload = get_upload(request.user, token)
    if upload.status != RosterImport.Status.IMPORTED:
        return redirect("roster:preview", token=token)
    return render(
        request,
        "accounts/roster_done.html",
        {"upload": upload, "accounts": _accounts(upload)},
    )


@login_required
@never_cache
def roster_accounts(request, token):
    """The accounts the import created, each with a fresh activation link while it is
    still inactive: the committee hands each person theirs."""
    require_committee(request.user)
    upload = get_upload(request.user, token)
    if upload.status != RosterImport.Status.IMPORTED:
        raise Http404
    headers = ["登录名", "姓名", "单位", "角色", "手机", "邮箱", "状态", "激活链接"]
    rows = []
    for user in _accounts(upload):
        memberships = list(user.memberships.all())
        pending = not user.is_active and not user.has_usable_password()
        rows.append(
            [
                user.username,
                user.full_name,
                "、".join(str(m.unit) for m in memberships),
                "、".join(
                    "领导" if m.role == Membership.Role.LEADER else "经办人" for m in memberships
                ),
                user.phone,
                user.email,
                "未激活" if pending else ("已激活" if user.is_active else "已停用"),
                absolute_url(activation_path(user)) if pending else "",
            ]
        )
    content = b"".join(
        stream_xlsx("账号清单", headers, rows, widths=[14, 10, 20, 10, 14, 24, 8, 90])
    )
    # 账号清单.xlsx
    return _xlsx_response(content, "%E8%B4%A6%E5%8F%B7%E6%B8%85%E5%8D%95.xlsx")


class ActivateView(auth_views.PasswordResetConfirmView):
    """The activation link: /accounts/activate/<uidb64>/<token>/. Django's reset-confirm
    flow (the token leaves the address bar before the form is shown), with the activation
    token, Django's password validators, and `services.activate_account` to save."""

    token_generator = activation_token
    form_class = SetPasswordForm
    reset_url_token = "set-password"
    template_name = "accounts/activate.html"
    success_url = reverse_lazy("login")
    post_reset_login = False

    def form_valid(self, form):
        try:
            services.activate_account(
                self.user, form.cleaned_data["new_password1"], request=self.request
            )
        except Refused as exc:
            form.add_error(None, exc.messages[0])
            return self.form_invalid(form)
        self.request.session.pop(auth_views.INTERNAL_RESET_SESSION_TOKEN, None)
        messages.success(self.request, _("Your account is active. Log in with your new password."))
        return HttpResponseRedirect(self.get_success_url())
