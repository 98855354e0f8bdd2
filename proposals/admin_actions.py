"""Workflow steps as Django admin actions: the same services, the same permission checks.

`workflow_action` wraps a service call. When the step needs input (a reason, a
unit), the action first shows a small form; then it calls the service once per
selected object and reports what was done and what was refused, and why.
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.response import TemplateResponse
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from accounts.models import Unit
from core.forms import BoundedDateField, IdsChoiceField, OneLineField
from core.workflow import Refused

from .models import Proposal, RejectionReason


def workflow_action(call, description, form_class=None):
    """An admin action that runs `call(obj, user, **form.cleaned_data)` for each object."""

    def action(modeladmin, request, queryset):
        data = {}
        if form_class is not None:
            form = form_class(request.POST if "apply" in request.POST else None)
            if not form.is_bound or not form.is_valid():
                context = {
                    **modeladmin.admin_site.each_context(request),
                    "title": description,
                    "form": form,
                    "objects": queryset,
                    "action": request.POST.get("action"),
                    "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
                    "opts": modeladmin.model._meta,
                }
                return TemplateResponse(request, "admin/workflow_action.html", context)
            data = form.cleaned_data
        done, refused = 0, []
        for obj in queryset:
            try:
                call(obj, request.user, **data)
                done += 1
            except Refused as exc:
                refused.append(f"{obj}：{' '.join(exc.messages)}")
        if done:
            modeladmin.message_user(
                request, _("%(action)s: %(count)s done.") % {"action": description, "count": done}
            )
        for line in refused:
            modeladmin.message_user(request, line, messages.ERROR)
        return None

    action.__name__ = f"action_{call.__name__}"
    return admin.action(description=description)(action)


class CommentForm(forms.Form):
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea, required=False, max_length=1000
    )


class RequiredCommentForm(forms.Form):
    comment = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea, max_length=1000)


class RejectForm(forms.Form):
    reason = forms.ModelChoiceField(
        label=gettext_lazy("Rejection reason"),
        queryset=RejectionReason.objects.filter(is_active=True),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea, required=False, max_length=1000
    )


class MergeForm(forms.Form):
    into = forms.ModelChoiceField(
        label=gettext_lazy("Merge into"),
        queryset=Proposal.objects.filter(number__isnull=False),
        widget=forms.NumberInput,
        help_text=gettext_lazy("The id of the accepted proposal."),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea, required=False, max_length=1000
    )


def active_units():
    return Unit.objects.filter(is_active=True)


class AssignForm(forms.Form):
    mode = forms.ChoiceField(label=gettext_lazy("Handling mode"), choices=Proposal.HandlingMode)
    lead = forms.ModelChoiceField(
        label=gettext_lazy("Lead unit"), queryset=active_units(), required=False
    )
    co_units = IdsChoiceField(
        label=gettext_lazy("Co-handling units"), queryset=active_units(), required=False
    )
    split_units = IdsChoiceField(
        label=gettext_lazy("Split units"), queryset=active_units(), required=False
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea, required=False, max_length=1000
    )


class UnitCommentForm(forms.Form):
    unit = forms.ModelChoiceField(label=gettext_lazy("Unit"), queryset=active_units())
    comment = forms.CharField(label=gettext_lazy("Comment"), widget=forms.Textarea, max_length=1000)


class OptionalUnitCommentForm(forms.Form):
    unit = forms.ModelChoiceField(
        label=gettext_lazy("Unit"),
        queryset=active_units(),
        required=False,
        help_text=gettext_lazy("Leave empty for the same unit."),
    )
    comment = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea, max_length=1000)


class ReturnReasonForm(forms.Form):
    reason = forms.CharField(label=gettext_lazy("Reason"), widget=forms.Textarea, max_length=1000)


class OutstandingReasonForm(forms.Form):
    outstanding_reason = forms.CharField(
        label=gettext_lazy("Why it goes to sign-off before every co-handling opinion is in"),
        widget=forms.Textarea,
        required=False,
        max_length=200,
    )
    no_contact_reason = forms.CharField(
        label=gettext_lazy("Why it goes to sign-off without a contact with the proposer"),
        widget=forms.Textarea,
        required=False,
        max_length=200,
    )


class KeyProposalForm(forms.Form):
    is_key = forms.BooleanField(label=gettext_lazy("Key proposal"), required=False)
    supervising_leader = OneLineField(
        label=gettext_lazy("Supervising leader"), max_length=60, required=False
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea, required=False, max_length=1000
    )


class ChangeDeadlineForm(forms.Form):
    reply_due = BoundedDateField(label=gettext_lazy("Reply due"), required=False)
    opinion_due = BoundedDateField(label=gettext_lazy("Co-handling opinion due"), required=False)
    reason = OneLineField(label=gettext_lazy("Reason"), max_length=200)


class ExtendDeadlineForm(forms.Form):
    extended_due = BoundedDateField(label=gettext_lazy("Extended to"))
    reason = OneLineField(label=gettext_lazy("Reason"), max_length=200)


class ExtensionRequestForm(forms.Form):
    wished_due = BoundedDateField(label=gettext_lazy("Extend the reply deadline to"))
    reason = OneLineField(label=gettext_lazy("Reason"), max_length=200)


class ExtensionApprovalForm(forms.Form):
    new_due = BoundedDateField(
        label=gettext_lazy("New reply deadline"),
        required=False,
        help_text=gettext_lazy("Leave empty to grant the date the unit asked for."),
    )
    comment = forms.CharField(
        label=gettext_lazy("Comment"), widget=forms.Textarea, required=False, max_length=1000
    )


class SupervisionNoteForm(forms.Form):
    text = forms.CharField(
        label=gettext_lazy("Supervision note"), widget=forms.Textarea, max_length=1000
    )


class AnswerForm(forms.Form):
    answer = forms.CharField(label=gettext_lazy("Answer"), widget=forms.Textarea, max_length=2000)
