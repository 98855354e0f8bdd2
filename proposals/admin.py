from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from . import admin_actions as aa
from . import services
from .admin_actions import workflow_action
from .models import (
    Assignment,
    CalendarDay,
    Category,
    ContactRecord,
    CoOpinion,
    Event,
    Proposal,
    ProposalSigner,
    RejectionReason,
    Session,
    Term,
)


def with_events(queryset):
    return queryset.filter(Exists(Event.objects.filter(proposal=OuterRef("pk"))))


class SessionListFilter(admin.RelatedFieldListFilter):
    """The session filter, naming each session without a query per session."""

    def field_choices(self, field, request, model_admin):
        return [(s.pk, str(s)) for s in Session.objects.select_related("term")]


@admin.register(Term)
class TermAdmin(admin.ModelAdmin):
    list_display = ["__str__", "number", "committee", "started_on"]
    search_fields = ["number__exact", "committee"]


@admin.register(Session)
class SessionAdmin(admin.ModelAdmin):
    list_display = ["__str__", "term", "number", "opened_on", "is_current"]
    list_filter = ["is_current", "term"]
    search_fields = ["term__number__exact", "number__exact", "term__committee"]
    autocomplete_fields = ["term"]

    def get_queryset(self, request):
        # Also serves autocomplete, whose labels name the term.
        return super().get_queryset(request).select_related("term")


@admin.register(Category)
class CategoryAdmin(admin.ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(RejectionReason)
class RejectionReasonAdmin(admin.ModelAdmin):
    list_display = ["code", "label", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "label"]


@admin.register(CalendarDay)
class CalendarDayAdmin(admin.ModelAdmin):
    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    search_fields = ["note"]
    date_hierarchy = "date"


class ProposalSignerInline(admin.TabularInline):
    model = ProposalSigner
    extra = 0
    fields = ["position", "proposer", "status", "responded_at"]
    readonly_fields = ["responded_at"]
    autocomplete_fields = ["proposer"]
    ordering = ["position"]


# Set by the workflow (acknowledgement, return requests); administrators see them only.
ASSIGNMENT_WORKFLOW_FIELDS = [
    "acknowledged_at",
    "acknowledged_by",
    "return_status",
    "return_requested_at",
    "return_requested_by",
    "return_decided_at",
    "return_decided_by",
]


class AssignmentInline(admin.TabularInline):
    model = Assignment
    extra = 0
    fields = [
        "unit",
        "role",
        "round",
        "is_active",
        "assigned_at",
        "reply_due",
        "opinion_due",
        "extended_due",
        "acknowledged_at",
        "return_status",
    ]
    readonly_fields = ["acknowledged_at", "return_status"]
    autocomplete_fields = ["unit"]
    show_change_link = True

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("unit")


@admin.action(permissions=["delete"], description=_("Delete selected %(verbose_name_plural)s"))
def delete_selected(modeladmin, request, queryset):
    """Django's bulk delete, leaving out proposals that have an audit trail."""
    kept = with_events(queryset).count()
    if kept:
        modeladmin.message_user(
            request,
            ngettext(
                "%(count)d proposal has audit events and cannot be deleted; it was left out.",
                "%(count)d proposals have audit events and cannot be deleted; they were left out.",
                kept,
            )
            % {"count": kept},
            messages.WARNING,
        )
    deletable = queryset.exclude(pk__in=with_events(queryset).values("pk"))
    if not deletable.exists():
        return None
    return django_delete_selected(modeladmin, request, deletable)


@admin.register(Proposal)
class ProposalAdmin(admin.ModelAdmin):
    list_display = [
        "display_number_column",
        "title",
        "session",
        "state",
        "kind",
        "category",
        "is_key",
        "created_at",
    ]
    list_display_links = ["display_number_column", "title"]
    list_filter = [
        "state",
        ("session", SessionListFilter),
        "category",
        "kind",
        "period",
        "is_key",
        "handling_mode",
        "on_paper",
    ]
    search_fields = ["title", "number__exact", "signers__proposer__name"]
    list_select_related = ["session__term", "category"]
    date_hierarchy = "created_at"
    show_full_result_count = False
    autocomplete_fields = [
        "session",
        "category",
        "suggested_units",
        "merged_into",
        "rejection_reason",
        "created_by",
    ]
    # State and its timestamps change only through the workflow code, which
    # writes the audit trail; the admin corrects content.
    readonly_fields = [
        "state",
        "review_outcome",
        "current_round",
        "created_at",
        "updated_at",
        "submitted_at",
        "reviewed_at",
        "closed_at",
        "audit_events",
    ]
    fieldsets = [
        (
            None,
            {
                "fields": [
                    "session",
                    "number",
                    "title",
                    "reasons",
                    "suggestions",
                    "category",
                    "kind",
                    "period",
                    "suggested_units",
                    "on_paper",
                ]
            },
        ),
        (_("Publishing"), {"fields": ["consent_to_publish", "no_publish_reason"]}),
        (
            _("Review"),
            {
                "fields": [
                    "state",
                    "review_outcome",
                    "rejection_reason",
                    "review_comment",
                    "merged_into",
                ]
            },
        ),
        (
            _("Handling"),
            {"fields": ["handling_mode", "current_round", "is_key", "supervising_leader"]},
        ),
        (
            _("History"),
            {
                "fields": [
                    "created_by",
                    "created_at",
                    "updated_at",
                    "submitted_at",
                    "reviewed_at",
                    "closed_at",
                    "audit_events",
                ]
            },
        ),
    ]
    inlines = [ProposalSignerInline, AssignmentInline]
    # Named as Django's bulk delete, which it replaces: that one refuses the whole batch.
    actions = [delete_selected]

    @admin.display(description=_("proposal number"), ordering="number")
    def display_number_column(self, obj):
        return obj.display_number

    @admin.display(description=_("audit events"))
    def audit_events(self, obj):
        if obj.pk is None:
            return "-"
        url = reverse("admin:proposals_event_changelist")
        return format_html(
            '<a href="{}?proposal__id__exact={}">{}</a>', url, obj.pk, _("Show the audit trail")
        )

    def has_delete_permission(self, request, obj=None):
        # The audit trail outlives nothing it describes: such a proposal stays.
        if obj is not None and obj.events.exists():
            return False
        return super().has_delete_permission(request, obj)

    def delete_queryset(self, request, queryset):
        super().delete_queryset(
            request, queryset.exclude(pk__in=with_events(queryset).values("pk"))
        )


@admin.register(ProposalSigner)
class ProposalSignerAdmin(admin.ModelAdmin):
    list_display = ["proposal", "proposer", "position", "status", "responded_at"]
    list_filter = ["status"]
    search_fields = ["proposal__title", "proposer__name"]
    autocomplete_fields = ["proposal", "proposer"]
    list_select_related = ["proposal", "proposer"]


class CoOpinionInline(admin.StackedInline):
    model = CoOpinion
    extra = 0
    fields = ["doc_number", "title", "body", "signer", "attachment", "sent_at", "created_by"]
    readonly_fields = ["sent_at"]
    autocomplete_fields = ["created_by"]


class ContactRecordInline(admin.TabularInline):
    model = ContactRecord
    extra = 0
    fields = ["contacted_on", "method", "participants", "leader_took_part", "summary"]


@admin.register(Assignment)
class AssignmentAdmin(admin.ModelAdmin):
    list_display = [
        "proposal",
        "unit",
        "role",
        "round",
        "is_active",
        "assigned_at",
        "reply_due",
        "extended_due",
        "acknowledged_at",
        "return_status",
    ]
    list_filter = [
        "role",
        "is_active",
        "return_status",
        ("proposal__session", SessionListFilter),
        "unit",
    ]
    search_fields = [
        "proposal__title",
        "proposal__number__exact",
        "unit__name",
        "unit__short_name",
    ]
    list_select_related = ["proposal", "unit"]
    # Newest first, along the primary key: the model's order sorts the whole table.
    ordering = ["-id"]
    # No date_hierarchy on the big tables: its year list scans the whole table.
    show_full_result_count = False
    autocomplete_fields = ["proposal", "unit", "assigned_by", "replaced_by"]
    readonly_fields = ASSIGNMENT_WORKFLOW_FIELDS
    fieldsets = [
        (None, {"fields": ["proposal", "unit", "role", "round", "is_active", "replaced_by"]}),
        (
            _("Deadlines"),
            {
                "fields": [
                    "assigned_at",
                    "assigned_by",
                    "reply_due",
                    "opinion_due",
                    "due_change_reason",
                    "extended_due",
                    "extension_reason",
                ]
            },
        ),
        (_("Acknowledgement"), {"fields": ["acknowledged_at", "acknowledged_by"]}),
        (
            _("Return request"),
            {
                "fields": [
                    "return_status",
                    "return_reason",
                    "return_requested_at",
                    "return_requested_by",
                    "return_decided_at",
                    "return_decided_by",
                    "return_comment",
                ]
            },
        ),
    ]
    inlines = [CoOpinionInline, ContactRecordInline]

    def get_queryset(self, request):
        # Also serves autocomplete, whose labels name the proposal and the unit.
        return super().get_queryset(request).select_related("proposal", "unit")


@admin.register(CoOpinion)
class CoOpinionAdmin(admin.ModelAdmin):
    list_display = ["title", "doc_number", "assignment", "signer", "created_at", "sent_at"]
    search_fields = ["title", "doc_number", "assignment__proposal__title"]
    list_select_related = ["assignment__proposal", "assignment__unit"]
    date_hierarchy = "created_at"
    autocomplete_fields = ["assignment", "created_by"]
    readonly_fields = ["created_at", "sent_at"]


@admin.register(ContactRecord)
class ContactRecordAdmin(admin.ModelAdmin):
    list_display = ["contacted_on", "method", "assignment", "leader_took_part", "participants"]
    list_filter = ["method", "leader_took_part"]
    search_fields = ["assignment__proposal__title", "participants", "summary"]
    list_select_related = ["assignment__proposal", "assignment__unit"]
    date_hierarchy = "contacted_on"
    autocomplete_fields = ["assignment", "created_by"]
    readonly_fields = ["created_at"]


@admin.register(Event)
class EventAdmin(admin.ModelAdmin):
    """The audit trail, to read: rows are append-only (Event.save/delete refuse)."""

    list_display = [
        "created_at",
        "proposal",
        "verb",
        "from_state",
        "to_state",
        "object_type",
        "object_id",
        "actor",
    ]
    # No filter on verb or states: listing their distinct values scans the whole table.
    search_fields = ["proposal__title", "proposal__number__exact", "verb", "actor__username"]
    list_select_related = ["proposal", "actor"]
    ordering = ["-created_at", "-id"]
    # No date_hierarchy: its year list scans the whole table (300,000 events).
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


# --- workflow steps as admin actions (the same services as the workspace) ------------------


def _accept(p, user, comment=""):
    return services.accept(p, user, comment)


def _convert(p, user, comment=""):
    return services.convert(p, user, comment)


def _reject(p, user, reason, comment=""):
    return services.reject(p, user, reason, comment)


def _merge(p, user, into, comment=""):
    return services.merge(p, into, user, comment)


def _assign(p, user, mode, lead=None, co_units=(), split_units=(), comment=""):
    return services.assign(
        p, user, mode, lead=lead, co_units=co_units, split_units=split_units, comment=comment
    )


def _withdraw(p, user, comment):
    return services.withdraw(p, user, comment)


def _rehandle(p, user, unit=None, comment=""):
    return services.order_rehandling(p, user, unit=unit, comment=comment)


def _close(p, user, comment=""):
    return services.close(p, user, comment)


def _acknowledge(a, user):
    return services.acknowledge(a, user)


def _request_return(a, user, reason):
    return services.request_return(a, user, reason)


def _approve_return(a, user, unit, comment):
    return services.decide_return(a, user, True, comment, new_unit=unit)


def _refuse_return(a, user, comment):
    return services.decide_return(a, user, False, comment)


def _start_draft(a, user):
    from replies.services import start_draft

    return start_draft(a, user)


ProposalAdmin.actions = [
    delete_selected,
    workflow_action(_accept, _("Accept (立案)"), aa.CommentForm),
    workflow_action(_merge, _("Merge into another proposal"), aa.MergeForm),
    workflow_action(_convert, _("Turn into an opinion"), aa.CommentForm),
    workflow_action(_reject, _("Do not accept"), aa.RejectForm),
    workflow_action(_assign, _("Assign"), aa.AssignForm),
    workflow_action(_withdraw, _("Withdraw"), aa.RequiredCommentForm),
    workflow_action(_rehandle, _("Order re-handling"), aa.OptionalUnitCommentForm),
    workflow_action(_close, _("Close"), aa.CommentForm),
]
AssignmentAdmin.actions = [
    workflow_action(_acknowledge, _("Acknowledge")),
    workflow_action(_request_return, _("Ask for return"), aa.ReturnReasonForm),
    workflow_action(_approve_return, _("Approve the return request"), aa.UnitCommentForm),
    workflow_action(_refuse_return, _("Refuse the return request"), aa.RequiredCommentForm),
    workflow_action(_start_draft, _("Draft the reply letter")),
]
