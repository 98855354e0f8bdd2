"""Reply letters, receipts and their history in the admin: read here, changed by actions.

Every field of a letter and a receipt is the workflow's. What an administrator must do
(sign-off steps, publishing, correcting a typed paper receipt) are actions that call the
same services as the staff screens, and leave an audit event.
"""

import functools

from django import forms
from django.contrib import admin
from django.shortcuts import redirect
from django.urls import reverse
from django.utils.http import urlencode
from django.utils.translation import gettext_lazy as _

from accounts.sessions import needs_reauthentication
from core.admin import ModelAdmin
from core.forms import OneLineField
from core.paginator import EstimatingPaginator
from proposals import admin_actions as aa
from proposals.admin import AssignmentAdmin, ProposalAdmin, ReadOnlyInline, WorkflowOnlyAdmin
from proposals.admin_actions import workflow_action
from proposals.models import Assignment, ContactRecord, Proposal

from . import services
from .models import (
    Compendium,
    DocNumberSequence,
    Publication,
    Receipt,
    ReplyLetter,
    ReplyRevision,
)


class ReplyRevisionInline(ReadOnlyInline):
    model = ReplyRevision
    fields = [
        "number",
        "title",
        "result_class",
        "correction_reason",
        "submitted_by",
        "submitted_at",
        "seen_by_signer_at",
        "decision",
        "decided_by",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("submitted_by", "decided_by")


class PublicationInline(ReadOnlyInline):
    model = Publication
    fields = ["version", "kind", "title", "published_at", "published_by", "reason", "ended_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("published_by")


class ReceiptInline(ReadOnlyInline):
    model = Receipt
    fields = [
        "proposer",
        "attitude",
        "result",
        "channel",
        "requested_at",
        "reminded_at",
        "submitted_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("proposer")


@admin.register(ReplyLetter)
class ReplyLetterAdmin(WorkflowOnlyAdmin):
    list_display = [
        "title",
        "doc_number",
        "proposal_column",
        "unit_column",
        "round",
        "state",
        "result_class",
        "disclosure",
        "sent_at",
        "published_at",
    ]
    list_filter = [
        "state",
        "result_class",
        "disclosure",
        "assignment__unit",
    ]
    # The letter's own columns only: joining the proposal's title tripled the
    # search time on 100,000 letters. The title names the proposal anyway.
    search_fields = ["title", "doc_number"]
    list_select_related = ["assignment__proposal", "assignment__unit"]
    # Newest first, along the primary key: the model's order (by publication)
    # would sort the whole table.
    ordering = ["-id"]
    # No date_hierarchy on a big table: its year list scans the whole table.
    show_full_result_count = False
    paginator = EstimatingPaginator
    list_per_page = 50
    fieldsets = [
        (None, {"fields": ["assignment", "round", "state", "result_class", "doc_number"]}),
        (
            _("Letter"),
            {
                "fields": [
                    "title",
                    "salutation",
                    "body",
                    "letter_date",
                    "contact_person",
                    "contact_phone",
                    "cc_units",
                ]
            },
        ),
        (
            _("Sign-off"),
            {
                "fields": [
                    "outstanding_opinions_reason",
                    "no_contact_reason",
                    "signer_title",
                    "attestation",
                    "signed_by",
                    "signoff_comment",
                    "signed_at",
                ]
            },
        ),
        (
            _("Publishing"),
            {"fields": ["disclosure", "public_summary", "nondisclosure_reason", "is_public"]},
        ),
        (
            _("History"),
            {"fields": ["drafted_by", "created_at", "updated_at", "sent_at", "published_at"]},
        ),
    ]
    inlines = [ReceiptInline, ReplyRevisionInline, PublicationInline]

    @admin.display(description=_("proposal number"), ordering="assignment__proposal__number")
    def proposal_column(self, obj):
        return obj.assignment.proposal.display_number

    @admin.display(description=_("unit"), ordering="assignment__unit__short_name")
    def unit_column(self, obj):
        return obj.assignment.unit


@admin.register(DocNumberSequence)
class DocNumberSequenceAdmin(ModelAdmin):
    """A unit's yearly register: a new year may start at a number; a number once used is
    never given again, so the last one is the workflow's."""

    list_display = ["unit", "year", "last"]
    list_filter = ["year"]
    search_fields = ["unit__name", "unit__short_name"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]

    def get_readonly_fields(self, request, obj=None):
        return ["unit", "year", "last"] if obj is not None else []

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReplyRevision)
class ReplyRevisionAdmin(WorkflowOnlyAdmin):
    list_display = ["letter", "number", "result_class", "submitted_by", "submitted_at", "decision"]
    search_fields = ["letter__title", "letter__doc_number", "title"]
    list_select_related = ["letter", "submitted_by"]
    # No date_hierarchy on a big table: its year list scans the whole table.


@admin.register(Publication)
class PublicationAdmin(WorkflowOnlyAdmin):
    list_display = [
        "title",
        "version",
        "kind",
        "letter",
        "published_at",
        "ended_at",
        "published_by",
    ]
    list_filter = ["kind", ("ended_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "letter__title", "letter__doc_number"]
    list_select_related = ["letter", "published_by"]
    # No date_hierarchy on a big table: its year list scans the whole table.


@admin.register(Compendium)
class CompendiumAdmin(WorkflowOnlyAdmin):
    """The sessions' books of replies: made and replaced by the compendium page only."""

    list_display = ["session", "state", "stage", "letters", "pages", "started_by", "started_at"]
    list_filter = ["state"]
    list_select_related = ["session__term", "started_by"]


@admin.register(Receipt)
class ReceiptAdmin(WorkflowOnlyAdmin):
    list_display = [
        "proposer",
        "letter",
        "attitude",
        "result",
        "channel",
        "contacted",
        "submitted_at",
    ]
    list_filter = ["attitude", "result", "channel", "contacted", "leader_took_part"]
    search_fields = ["proposer__name", "letter__title", "letter__doc_number"]
    list_select_related = ["proposer", "letter"]
    ordering = ["-id"]
    # No date_hierarchy: its year list scans the whole table.
    show_full_result_count = False
    paginator = EstimatingPaginator
    list_per_page = 50


# --- workflow steps as admin actions (the same services as the workspace) ------------------


class CorrectTypoForm(forms.Form):
    reason = OneLineField(label=_("What was wrong (shown on the public page)"), max_length=200)
    title = OneLineField(label=_("Corrected title"), max_length=200, required=False)
    text = forms.CharField(
        label=_("Corrected public text"),
        widget=forms.Textarea,
        required=False,
        max_length=services.MAX_BODY_CHARS,
    )


class ReasonForm(forms.Form):
    comment = OneLineField(label=_("Reason"), max_length=200)


class PaperReceiptCorrectionForm(forms.Form):
    """What staff typed from a paper receipt, corrected: each field left empty stays."""

    attitude = forms.ChoiceField(
        label=_("handling attitude"),
        choices=[("", "—"), *[(r.value, r.label) for r in services.attitude_ratings()]],
        required=False,
    )
    result = forms.ChoiceField(
        label=_("handling result"),
        choices=[("", "—"), *[(r.value, r.label) for r in services.result_ratings()]],
        required=False,
    )
    contact_method = forms.ChoiceField(
        label=_("how"), choices=[("", "—"), *ContactRecord.Method.choices], required=False
    )
    opinion = forms.CharField(
        label=_("opinion"), widget=forms.Textarea, required=False, max_length=2000
    )
    reason = OneLineField(label=_("Reason for the correction"), max_length=200)


def _submit(letter, user, outstanding_reason="", no_contact_reason=""):
    return services.submit_for_signoff(letter, user, outstanding_reason, no_contact_reason)


def _sign(letter, user):
    return services.sign(letter, user)


def password_before_signing(action):
    """Signing in the admin asks for the password again as the sign-off page does."""

    @functools.wraps(action)
    def wrapped(modeladmin, request, queryset):
        if needs_reauthentication(request):
            back = reverse("admin:replies_replyletter_changelist")
            return redirect(f"{reverse('reauthenticate')}?{urlencode({'next': back})}")
        return action(modeladmin, request, queryset)

    return wrapped


def _send_back(letter, user, comment):
    return services.send_back(letter, user, comment)


def _reopen(letter, user, comment):
    return services.reopen(letter, user, comment)


def _send(letter, user):
    return services.send(letter, user)


def _publish(letter, user):
    return services.publish(letter, user)


def _correct_typo(letter, user, reason, title="", text=""):
    return services.correct_typo(letter, user, reason, title=title or None, text=text or None)


def _unpublish(letter, user, comment):
    return services.unpublish(letter, user, comment)


def _correct_paper_receipt(receipt, user, reason, **values):
    return services.correct_paper_receipt(
        receipt, user, reason, **{name: value for name, value in values.items() if value}
    )


def _start_draft(assignment, user):
    return services.start_draft(assignment, user)


def _close(proposal, user, comment=""):
    return services.close(proposal, user, comment)


ReplyLetterAdmin.actions = [
    workflow_action(_submit, _("Submit for sign-off"), aa.OutstandingReasonForm),
    password_before_signing(workflow_action(_sign, _("Sign off"))),
    workflow_action(_send_back, _("Send back to the drafter"), aa.RequiredCommentForm),
    workflow_action(_reopen, _("Reopen a signed letter"), aa.RequiredCommentForm),
    workflow_action(_send, _("Send to the proposers")),
    workflow_action(_publish, _("Publish")),
    workflow_action(_correct_typo, _("Correct typing errors in the public text"), CorrectTypoForm),
    workflow_action(_unpublish, _("Take off the public site"), ReasonForm),
]
ReceiptAdmin.actions = [
    workflow_action(
        _correct_paper_receipt, _("Correct a typed paper receipt"), PaperReceiptCorrectionForm
    ),
]


# The proposal and assignment admins of `proposals`, with the steps that belong to replies:
# closing (it checks the receipts) and starting a reply letter.
class ProposalWithClosingAdmin(ProposalAdmin):
    actions = [
        *ProposalAdmin.actions,
        workflow_action(_close, _("Close"), aa.CommentForm),
    ]


class AssignmentWithLettersAdmin(AssignmentAdmin):
    actions = [
        *AssignmentAdmin.actions,
        workflow_action(_start_draft, _("Draft the reply letter")),
    ]


admin.site.unregister(Proposal)
admin.site.register(Proposal, ProposalWithClosingAdmin)
admin.site.unregister(Assignment)
admin.site.register(Assignment, AssignmentWithLettersAdmin)
