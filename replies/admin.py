from django import forms
from django.contrib import admin
from django.utils.translation import gettext_lazy as _

from proposals import admin_actions as aa
from proposals.admin_actions import workflow_action

from . import services
from .models import DocNumberSequence, Publication, Receipt, ReplyLetter, ReplyRevision


class ReadOnlyInline(admin.TabularInline):
    """History rows shown beside their letter; only the workflow writes them."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class ReplyRevisionInline(ReadOnlyInline):
    model = ReplyRevision
    fields = [
        "number",
        "title",
        "result_class",
        "submitted_by",
        "submitted_at",
        "seen_by_signer_at",
    ]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("submitted_by")


class PublicationInline(ReadOnlyInline):
    model = Publication
    fields = ["version", "title", "published_at", "published_by", "reason", "withdrawn_at"]

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("published_by")


class ReceiptForm(forms.ModelForm):
    def clean(self):
        cleaned_data = super().clean()
        # submitted_at is read-only here, so Django skips the constraint that
        # involves it; check it by hand instead of failing in the database.
        if self.instance.submitted_at is not None and not (
            cleaned_data.get("attitude") and cleaned_data.get("result")
        ):
            raise forms.ValidationError(
                _("A submitted receipt needs both the attitude and the result rating.")
            )
        return cleaned_data


# Set by the workflow: when the receipt was asked for, reminded and given.
RECEIPT_WORKFLOW_FIELDS = ["requested_at", "reminded_at", "submitted_at"]


class ReceiptInline(admin.TabularInline):
    model = Receipt
    form = ReceiptForm
    extra = 0
    fields = [
        "proposer",
        "contacted",
        "contact_method",
        "leader_took_part",
        "attitude",
        "result",
        "opinion",
        "channel",
        *RECEIPT_WORKFLOW_FIELDS,
    ]
    readonly_fields = RECEIPT_WORKFLOW_FIELDS
    autocomplete_fields = ["proposer"]
    show_change_link = True


@admin.register(ReplyLetter)
class ReplyLetterAdmin(admin.ModelAdmin):
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
    date_hierarchy = "sent_at"
    show_full_result_count = False
    autocomplete_fields = ["assignment", "cc_units", "drafted_by"]
    # The state and its timestamps change only through the workflow code; the
    # admin corrects the letter's content.
    readonly_fields = [
        "state",
        "signed_by",
        "signoff_comment",
        "signed_at",
        "sent_at",
        "published_at",
        "created_at",
        "updated_at",
    ]
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
            {"fields": ["disclosure", "public_summary", "nondisclosure_reason"]},
        ),
        (
            _("History"),
            {"fields": ["drafted_by", "created_at", "updated_at", "sent_at", "published_at"]},
        ),
    ]
    inlines = [ReceiptInline, ReplyRevisionInline, PublicationInline]

    def get_readonly_fields(self, request, obj=None):
        fields = list(super().get_readonly_fields(request, obj))
        if obj is not None and obj.state != ReplyLetter.State.DRAFT:
            # Signing freezes the text; the workflow's reopen is the way to change it.
            fields += ["title", "salutation", "body", "result_class", "doc_number", "attestation"]
        return fields

    @admin.display(description=_("proposal number"), ordering="assignment__proposal__number")
    def proposal_column(self, obj):
        return obj.assignment.proposal.display_number

    @admin.display(description=_("unit"), ordering="assignment__unit__short_name")
    def unit_column(self, obj):
        return obj.assignment.unit


@admin.register(DocNumberSequence)
class DocNumberSequenceAdmin(admin.ModelAdmin):
    list_display = ["unit", "year", "last"]
    list_filter = ["year"]
    search_fields = ["unit__name", "unit__short_name"]
    autocomplete_fields = ["unit"]
    list_select_related = ["unit"]


class HistoryAdmin(admin.ModelAdmin):
    """Revisions and publications are history: read them, never rewrite them."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(ReplyRevision)
class ReplyRevisionAdmin(HistoryAdmin):
    list_display = ["letter", "number", "result_class", "submitted_by", "submitted_at"]
    search_fields = ["letter__title", "letter__doc_number", "title"]
    list_select_related = ["letter", "submitted_by"]
    date_hierarchy = "submitted_at"


@admin.register(Publication)
class PublicationAdmin(HistoryAdmin):
    list_display = ["title", "version", "letter", "published_at", "withdrawn_at", "published_by"]
    list_filter = [("withdrawn_at", admin.EmptyFieldListFilter)]
    search_fields = ["title", "letter__title", "letter__doc_number"]
    list_select_related = ["letter", "published_by"]
    date_hierarchy = "published_at"


@admin.register(Receipt)
class ReceiptAdmin(admin.ModelAdmin):
    form = ReceiptForm
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
    autocomplete_fields = ["letter", "proposer", "entered_by"]
    readonly_fields = RECEIPT_WORKFLOW_FIELDS


# --- workflow steps as admin actions (the same services as the workspace) ------------------


def _submit(letter, user, outstanding_reason=""):
    return services.submit_for_signoff(letter, user, outstanding_reason)


def _sign(letter, user):
    return services.sign(letter, user)


def _send_back(letter, user, comment):
    return services.send_back(letter, user, comment)


def _reopen(letter, user, comment):
    return services.reopen(letter, user, comment)


def _send(letter, user):
    return services.send(letter, user)


def _publish(letter, user):
    return services.publish(letter, user)


def _withdraw_publication(letter, user, comment):
    return services.withdraw_publication(letter, user, comment)


ReplyLetterAdmin.actions = [
    workflow_action(_submit, _("Submit for sign-off"), aa.OutstandingReasonForm),
    workflow_action(_sign, _("Sign off")),
    workflow_action(_send_back, _("Send back to the drafter"), aa.RequiredCommentForm),
    workflow_action(_reopen, _("Reopen a signed letter"), aa.RequiredCommentForm),
    workflow_action(_send, _("Send to the proposers")),
    workflow_action(_publish, _("Publish")),
    workflow_action(_withdraw_publication, _("Withdraw from publication"), aa.RequiredCommentForm),
]
