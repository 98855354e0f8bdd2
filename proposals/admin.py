from django import forms
from django.contrib import admin, messages
from django.contrib.admin.actions import delete_selected as django_delete_selected
from django.db.models import Exists, OuterRef
from django.urls import reverse
from django.utils.html import format_html
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import KeptChangelistMixin, ModelAdmin
from core.forms import OneLineField
from core.paginator import EstimatingPaginator
from core.workflow import Refused

from . import admin_actions as aa
from . import services
from .admin_actions import workflow_action
from .models import (
    Assignment,
    CalendarDay,
    Category,
    ContactRecord,
    CoOpinion,
    DeadlineRule,
    Event,
    ExtensionRequest,
    Proposal,
    ProposalProposer,
    RejectionReason,
    Reminder,
    SearchWord,
    Session,
    SpreadsheetImport,
    SupervisionNote,
    Term,
)
from .workflow import record_event


def _shown(obj, name):
    """A field's value as a person reads it: the related object's name, the choice's label."""
    field = obj._meta.get_field(name)
    if field.many_to_many:
        value = "、".join(str(item) for item in getattr(obj, name).all())
    elif field.is_relation:
        value = getattr(obj, name)
    elif field.choices:
        value = getattr(obj, f"get_{name}_display")()
    else:
        value = getattr(obj, name)
    if value is None or value == "":
        return "—"
    return str(value)


class AuditedAdmin(ModelAdmin):
    """Every change an administrator saves is written to the proposal's audit trail: who,
    when, and each field's old → new value. Fields the workflow owns are read-only
    (`workflow_fields`); what must change there goes through an admin action."""

    workflow_fields = []

    def audit_proposal(self, obj):
        return obj.proposal

    def get_readonly_fields(self, request, obj=None):
        return [*super().get_readonly_fields(request, obj), *self.workflow_fields]

    def save_model(self, request, obj, form, change):
        # The values before the change, as they read, for the audit event.
        request._audit_before = (
            {name: _shown(type(obj).objects.get(pk=obj.pk), name) for name in form.changed_data}
            if change
            else {}
        )
        super().save_model(request, obj, form, change)

    def save_related(self, request, form, formsets, change):
        super().save_related(request, form, formsets, change)
        obj = form.instance
        if not change:
            record_event(self.audit_proposal(obj), request.user, "created_in_admin", obj=obj)
            return
        before = getattr(request, "_audit_before", {})
        changes = [
            f"{form.fields[name].label}：{before[name]} → {_shown(obj, name)}"
            for name in form.changed_data
            if name in before
        ]
        if changes:
            record_event(
                self.audit_proposal(obj),
                request.user,
                "changed_in_admin",
                comment=f"{obj._meta.verbose_name}：" + "；".join(changes),
                obj=obj,
            )


class ReadOnlyInline(admin.TabularInline):
    """Rows only the workflow writes, shown beside their parent."""

    extra = 0
    can_delete = False
    show_change_link = True

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class WorkflowOnlyAdmin(ModelAdmin):
    """Rows only the workflow creates and changes: read them here, act through actions."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The change page opens read-only; the steps are actions on the list.
        return False

    def has_delete_permission(self, request, obj=None):
        return False


def with_events(queryset):
    return queryset.filter(Exists(Event.objects.filter(proposal=OuterRef("pk"))))


class SessionListFilter(admin.RelatedFieldListFilter):
    """The session filter, naming each session without a query per session."""

    def field_choices(self, field, request, model_admin):
        return [(s.pk, str(s)) for s in Session.objects.select_related("term")]


@admin.register(Term)
class TermAdmin(ModelAdmin):
    list_display = ["__str__", "number", "committee", "started_on"]
    search_fields = ["number__exact", "committee"]


@admin.register(Session)
class SessionAdmin(ModelAdmin):
    list_display = ["__str__", "term", "number", "opened_on", "is_current"]
    list_filter = ["is_current", "term"]
    search_fields = ["term__number__exact", "number__exact", "term__committee"]
    autocomplete_fields = ["term"]

    def get_queryset(self, request):
        # Also serves autocomplete, whose labels name the term.
        return super().get_queryset(request).select_related("term")


@admin.register(Category)
class CategoryAdmin(ModelAdmin):
    list_display = ["name", "position", "is_active"]
    list_editable = ["position", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["name"]


@admin.register(SearchWord)
class SearchWordAdmin(ModelAdmin):
    """The search dictionary: words kept whole (unit names are in already). Text indexed
    before a word was added keeps its old tokens until `manage.py reindex_search` runs."""

    list_display = ["word", "note"]
    search_fields = ["word", "note"]


@admin.register(RejectionReason)
class RejectionReasonAdmin(ModelAdmin):
    list_display = ["code", "label", "is_active"]
    list_filter = ["is_active"]
    search_fields = ["code", "label"]


@admin.register(CalendarDay)
class CalendarDayAdmin(ModelAdmin):
    """Corrections move the open deadlines that followed the rules (services.calendar)."""

    list_display = ["date", "is_working_day", "note"]
    list_filter = ["is_working_day"]
    search_fields = ["note"]
    date_hierarchy = "date"

    def _moved(self, request, day, was, note):
        reason = _("Calendar corrected: %(date)s %(note)s") % {"date": day, "note": note}
        try:
            moved = services.calendar_corrected(request.user, day, was, reason.strip())
        except Refused as exc:
            self.message_user(request, " ".join(exc.messages), messages.WARNING)
            return
        if moved:
            self.message_user(
                request,
                ngettext(
                    "%(count)d open deadline moved.", "%(count)d open deadlines moved.", len(moved)
                )
                % {"count": len(moved)},
            )

    def save_model(self, request, obj, form, change):
        was = None
        if change:
            old = CalendarDay.objects.get(pk=obj.pk)
            was = old.is_working_day
            if old.date != obj.date:
                # A moved correction: the old day goes back to the library's calendar.
                super().save_model(request, obj, form, change)
                self._moved(request, old.date, old.is_working_day, obj.note)
                self._moved(request, obj.date, None, obj.note)
                return
        super().save_model(request, obj, form, change)
        self._moved(request, obj.date, was, obj.note)

    def delete_model(self, request, obj):
        day, was, note = obj.date, obj.is_working_day, obj.note
        super().delete_model(request, obj)
        self._moved(request, day, was, note)

    def delete_queryset(self, request, queryset):
        removed = list(queryset.values_list("date", "is_working_day", "note"))
        super().delete_queryset(request, queryset)
        for day, was, note in removed:
            self._moved(request, day, was, note)


class DeadlineRuleForm(forms.ModelForm):
    """Length and unit of a rule, and why they change; `services.change_rule` saves them."""

    reason = OneLineField(label=_("Reason for the change"), max_length=200)

    class Meta:
        model = DeadlineRule
        fields = ["length", "unit"]

    def clean(self):
        data = super().clean()
        if "length" in data and "unit" in data:
            try:
                services.check_rule(self.instance.clock, data["length"], data["unit"])
            except Refused as exc:
                raise forms.ValidationError(exc.messages) from exc
        return data


@admin.register(DeadlineRule)
class DeadlineRuleAdmin(ModelAdmin):
    """The clocks of DESIGN.md's "Deadlines" table. Saving a changed rule moves the open
    deadlines that followed it (services.calendar.change_rule); closed work keeps its dates.
    Which event starts a clock is the workflow's (the date it counts from) and shown only."""

    form = DeadlineRuleForm
    list_display = ["clock", "rule", "starts_at", "changed_at", "changed_by", "note"]
    list_select_related = ["changed_by"]
    fields = ["clock", "starts_at", "length", "unit", "reason", "note", "changed_at", "changed_by"]
    readonly_fields = ["clock", "starts_at", "note", "changed_at", "changed_by"]
    ordering = ["id"]

    @admin.display(description=_("rule"))
    def rule(self, obj):
        return services.rule_text(obj)

    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        data = form.cleaned_data
        try:
            moved = services.change_rule(
                obj, request.user, data["length"], data["unit"], data["reason"]
            )
        except Refused as exc:
            self.message_user(request, " ".join(exc.messages), messages.ERROR)
            return
        obj.refresh_from_db()
        self.message_user(
            request,
            ngettext(
                "%(count)d open deadline moved.", "%(count)d open deadlines moved.", len(moved)
            )
            % {"count": len(moved)},
        )


class ProposalProposerInline(ReadOnlyInline):
    """The proposers, in order; who they are and their answers are the workflow's."""

    model = ProposalProposer
    fields = ["position", "proposer", "status", "responded_at"]
    ordering = ["position"]
    show_change_link = False


class AssignmentInline(ReadOnlyInline):
    model = Assignment
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
        "replied_at",
        "return_status",
    ]

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
class ProposalAdmin(KeptChangelistMixin, AuditedAdmin):
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
    # The title (trigram index on PostgreSQL) and the number; a proposer by name is looked up
    # first and added by id (get_search_results): joining every proposer of 100,000
    # proposals to search them all made each search take seconds.
    search_fields = ["title", "number__exact"]
    list_select_related = ["session__term", "category"]
    # No date_hierarchy on a big table: its year list scans the whole table.
    show_full_result_count = False
    paginator = EstimatingPaginator
    list_per_page = 50
    autocomplete_fields = ["category", "suggested_units"]
    # The workflow owns the state, the number and everything decided in review, assignment
    # and supervision; the admin corrects content (and each correction is audited).
    workflow_fields = [
        "session",
        "number",
        "kind",
        "on_paper",
        "state",
        "review_outcome",
        "rejection_reason",
        "review_comment",
        "merged_into",
        "handling_mode",
        "current_round",
        "is_key",
        "supervising_leader",
        "created_by",
        "created_at",
        "updated_at",
        "submitted_at",
        "reviewed_at",
        "closed_at",
        "audit_events",
    ]

    def audit_proposal(self, obj):
        return obj

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        match = request.resolver_match
        if match is not None and match.url_name.endswith("changelist"):
            # The list shows none of the long texts; 100 rows of them were most of its bytes.
            queryset = queryset.defer("reasons", "suggestions", "review_comment")
        return queryset

    def get_search_results(self, request, queryset, search_term):
        results, duplicates = super().get_search_results(request, queryset, search_term)
        term = search_term.strip()
        if term and len(term) <= 100:
            by_proposer = ProposalProposer.objects.filter(proposer__name=term).values(
                "proposal_id"
            )[:1000]
            results = results | queryset.filter(pk__in=by_proposer)
        return results, duplicates

    def get_readonly_fields(self, request, obj=None):
        fields = super().get_readonly_fields(request, obj)
        if obj is None:
            # A new proposal is a draft: its session is chosen here, the rest by the workflow.
            fields = [f for f in fields if f != "session"]
        return fields

    def save_model(self, request, obj, form, change):
        if not change:
            obj.created_by = request.user
        super().save_model(request, obj, form, change)

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
    inlines = [ProposalProposerInline, AssignmentInline]
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


@admin.register(ProposalProposer)
class ProposalProposerAdmin(WorkflowOnlyAdmin):
    list_display = ["proposal", "proposer", "position", "status", "responded_at"]
    list_filter = ["status"]
    search_fields = ["proposal__title", "proposer__name"]
    list_select_related = ["proposal", "proposer"]


class CoOpinionInline(ReadOnlyInline, admin.StackedInline):
    model = CoOpinion
    fields = ["doc_number", "title", "body", "signatory", "attachment", "sent_at", "created_by"]


class ContactRecordInline(ReadOnlyInline):
    model = ContactRecord
    fields = ["contacted_on", "method", "participants", "leader_took_part", "summary"]


@admin.register(Assignment)
class AssignmentAdmin(WorkflowOnlyAdmin):
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
    paginator = EstimatingPaginator
    list_per_page = 50
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
        (_("Acknowledgement"), {"fields": ["acknowledged_at", "acknowledged_by", "replied_at"]}),
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
class CoOpinionAdmin(WorkflowOnlyAdmin):
    list_display = ["title", "doc_number", "assignment", "signatory", "created_at", "sent_at"]
    search_fields = ["title", "doc_number", "assignment__proposal__title"]
    list_select_related = ["assignment__proposal", "assignment__unit"]
    # No date_hierarchy on a big table: its year list scans the whole table.


@admin.register(ContactRecord)
class ContactRecordAdmin(WorkflowOnlyAdmin):
    list_display = ["contacted_on", "method", "assignment", "leader_took_part", "participants"]
    list_filter = ["method", "leader_took_part"]
    search_fields = ["assignment__proposal__title", "participants", "summary"]
    list_select_related = ["assignment__proposal", "assignment__unit"]
    # No date_hierarchy on a big table: its year list scans the whole table.


@admin.register(ExtensionRequest)
class ExtensionRequestAdmin(WorkflowOnlyAdmin):
    list_display = [
        "assignment",
        "status",
        "previous_due",
        "wished_due",
        "granted_due",
        "requested_at",
        "requested_by",
        "decided_at",
    ]
    list_filter = ["status"]
    search_fields = ["assignment__proposal__title", "assignment__unit__short_name", "reason"]
    list_select_related = ["assignment__proposal", "assignment__unit", "requested_by"]
    ordering = ["-id"]
    show_full_result_count = False


@admin.register(SupervisionNote)
class SupervisionNoteAdmin(WorkflowOnlyAdmin):
    list_display = ["assignment", "created_at", "created_by", "answered_at", "answered_by"]
    search_fields = ["assignment__proposal__title", "assignment__unit__short_name", "text"]
    list_select_related = ["assignment__proposal", "assignment__unit", "created_by", "answered_by"]
    ordering = ["-id"]
    show_full_result_count = False


@admin.register(Reminder)
class ReminderAdmin(WorkflowOnlyAdmin):
    list_display = ["sent_on", "assignment", "kind", "stage", "due"]
    list_filter = ["kind", "stage"]
    list_select_related = ["assignment__proposal", "assignment__unit"]
    ordering = ["-id"]
    show_full_result_count = False


@admin.register(Event)
class EventAdmin(ModelAdmin):
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
        "actor_name",
    ]
    # No filter on verb or states: listing their distinct values scans the whole table.
    search_fields = ["proposal__title", "proposal__number__exact", "verb", "actor__username"]
    list_select_related = ["proposal", "actor"]
    ordering = ["-created_at", "-id"]
    # No date_hierarchy: its year list scans the whole table (300,000 events).
    show_full_result_count = False
    paginator = EstimatingPaginator
    list_per_page = 50

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


def _mark_key(p, user, is_key, supervising_leader="", comment=""):
    return services.mark_key(p, user, is_key, supervising_leader, comment)


def _acknowledge(a, user):
    return services.acknowledge(a, user)


def _request_return(a, user, reason):
    return services.request_return(a, user, reason)


def _approve_return(a, user, unit, comment):
    return services.decide_return(a, user, True, comment, new_unit=unit)


def _refuse_return(a, user, comment):
    return services.decide_return(a, user, False, comment)


def _change_deadline(a, user, reason, reply_due=None, opinion_due=None):
    return services.change_deadline(a, user, reason, reply_due=reply_due, opinion_due=opinion_due)


def _extend_deadline(a, user, extended_due, reason):
    return services.extend_deadline(a, user, extended_due, reason)


def _request_extension(a, user, wished_due, reason):
    return services.request_extension(a, user, wished_due, reason)


def _approve_extension(x, user, new_due=None, comment=""):
    return services.decide_extension(x, user, True, new_due, comment)


def _refuse_extension(x, user, comment):
    return services.decide_extension(x, user, False, comment=comment)


def _supervise(a, user, text):
    return services.supervise(a, user, text)


def _answer_supervision(n, user, answer):
    return services.answer_supervision(n, user, answer)


ProposalAdmin.actions = [
    delete_selected,
    workflow_action(_accept, _("Accept (立案)"), aa.CommentForm),
    workflow_action(_merge, _("Merge into another proposal"), aa.MergeForm),
    workflow_action(_convert, _("Turn into an opinion"), aa.CommentForm),
    workflow_action(_reject, _("Do not accept"), aa.RejectForm),
    workflow_action(_assign, _("Assign"), aa.AssignForm),
    workflow_action(_withdraw, _("Withdraw"), aa.RequiredCommentForm),
    workflow_action(_rehandle, _("Order re-handling"), aa.OptionalUnitCommentForm),
    workflow_action(_mark_key, _("Mark or unmark as a key proposal"), aa.KeyProposalForm),
]
AssignmentAdmin.actions = [
    workflow_action(_acknowledge, _("Acknowledge")),
    workflow_action(_request_return, _("Ask for return"), aa.ReturnReasonForm),
    workflow_action(_approve_return, _("Approve the return request"), aa.UnitCommentForm),
    workflow_action(_refuse_return, _("Refuse the return request"), aa.RequiredCommentForm),
    workflow_action(_change_deadline, _("Change the deadline"), aa.ChangeDeadlineForm),
    workflow_action(_extend_deadline, _("Extend the reply deadline"), aa.ExtendDeadlineForm),
    workflow_action(_request_extension, _("Ask for an extension"), aa.ExtensionRequestForm),
    workflow_action(_supervise, _("Supervise (督办)"), aa.SupervisionNoteForm),
]
ExtensionRequestAdmin.actions = [
    workflow_action(_approve_extension, _("Approve the extension"), aa.ExtensionApprovalForm),
    workflow_action(_refuse_extension, _("Refuse the extension"), aa.RequiredCommentForm),
]
SupervisionNoteAdmin.actions = [
    workflow_action(_answer_supervision, _("Answer the supervision note"), aa.AnswerForm),
]


@admin.register(SpreadsheetImport)
class SpreadsheetImportAdmin(WorkflowOnlyAdmin):
    """Uploads waiting for their confirmation, and what they imported; read-only."""

    list_display = [
        "file_name",
        "kind",
        "status",
        "session",
        "row_count",
        "created_by",
        "created_at",
    ]
    list_filter = ["status", "kind"]
    exclude = ["data", "token"]
    readonly_fields = [
        "file_name",
        "kind",
        "status",
        "session",
        "period",
        "accept_at_once",
        "row_count",
        "created_by",
        "created_at",
        "imported_at",
    ]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False
