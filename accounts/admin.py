from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ModelAdmin, SafeActionsMixin
from core.paginator import EstimatingPaginator

from . import outbox, passwords
from .models import (
    Membership,
    Notification,
    OutboxMessage,
    Proposer,
    RateCount,
    RosterImport,
    Unit,
    User,
)

UNLOCK_PERMISSION = "axes.delete_accessattempt"

admin.site.site_header = _("Proposal handling administration")
admin.site.site_title = _("Proposal handling")
admin.site.index_title = _("Site administration")


class MembershipInline(admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "unit"]


@admin.register(User)
class UserAdmin(SafeActionsMixin, DjangoUserAdmin):
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        (_("Personal info"), {"fields": ("full_name", "phone", "email")}),
        (
            _("Permissions"),
            {
                "fields": (
                    "is_active",
                    "is_committee_staff",
                    "is_staff",
                    "is_superuser",
                    "groups",
                    "user_permissions",
                ),
            },
        ),
        (
            _("Important dates"),
            {
                "fields": (
                    "last_login",
                    "date_joined",
                    "password_changed_at",
                    "must_change_password",
                )
            },
        ),
    )
    readonly_fields = ["password_changed_at", "must_change_password"]
    add_fieldsets = (
        (
            None,
            {
                "classes": ("wide",),
                "fields": ("username", "full_name", "usable_password", "password1", "password2"),
            },
        ),
    )
    list_display = [
        "username",
        "full_name",
        "phone",
        "email",
        "is_committee_staff",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_committee_staff", "is_staff", "is_superuser", "is_active", "groups"]
    search_fields = ["username", "full_name", "email", "phone"]
    inlines = [MembershipInline]
    actions = ["deactivate", "issue_password_reset", "unlock_logins"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(UNLOCK_PERMISSION):
            actions.pop("unlock_logins", None)
        return actions

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            # A password an administrator chose: the user chooses their own at first login.
            passwords.mark_set_by_admin(obj, by=request.user, request=request)

    def user_change_password(self, request, id, form_url=""):
        response = super().user_change_password(request, id, form_url)
        if request.method == "POST" and isinstance(response, HttpResponseRedirect):
            user = self.get_object(request, unquote(id))
            if user is not None and user.has_usable_password():
                passwords.mark_set_by_admin(user, by=request.user, request=request)
        return response

    @admin.action(
        description=_("Issue a one-time link to choose a new password"),
        permissions=["change"],
    )
    def issue_password_reset(self, request, queryset):
        users = list(queryset.filter(is_active=True)[:20])
        if not users:
            self.message_user(request, _("Choose active users."), messages.ERROR)
            return None
        links = [
            (user, passwords.issue_reset(user, by=request.user, how="admin", request=request))
            for user in users
        ]
        context = {
            **self.admin_site.each_context(request),
            "title": _("One-time links to choose a new password"),
            "opts": self.opts,
            "links": links,
            "valid_until": timezone.localtime(passwords.reset_valid_until()),
        }
        response = TemplateResponse(request, "admin/accounts/user/reset_links.html", context)
        # Shown once: never kept by a browser or a proxy.
        response["Cache-Control"] = "no-store"
        return response

    @admin.action(description=_("Unlock their logins (after too many failed attempts)"))
    def unlock_logins(self, request, queryset):
        if not request.user.has_perm(UNLOCK_PERMISSION):
            self.message_user(request, _("You may not unlock logins."), messages.ERROR)
            return
        count = sum(axes_reset(username=user.get_username()) for user in queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d locked login attempt record removed.",
                "%(count)d locked login attempt records removed.",
                count,
            )
            % {"count": count},
        )

    @admin.action(description=_("Deactivate the selected users (they can no longer log in)"))
    def deactivate(self, request, queryset):
        # A user who appears in the record (audit events, letters they signed, …) is kept
        # (the record refers to them: deleting is refused) and deactivated instead.
        count = queryset.filter(is_active=True).exclude(pk=request.user.pk).update(is_active=False)
        self.message_user(
            request,
            ngettext("%(count)d user deactivated.", "%(count)d users deactivated.", count)
            % {"count": count},
        )


@admin.register(Unit)
class UnitAdmin(ModelAdmin):
    list_display = ["name", "short_name", "kind", "doc_number_template", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "short_name"]
    inlines = [MembershipInline]


@admin.register(Membership)
class MembershipAdmin(ModelAdmin):
    list_display = ["user", "unit", "role", "title"]
    list_filter = ["role"]
    search_fields = [
        "user__username",
        "user__full_name",
        "unit__name",
        "unit__short_name",
    ]
    autocomplete_fields = ["user", "unit"]
    list_select_related = ["user", "unit"]


@admin.register(Proposer)
class ProposerAdmin(ModelAdmin):
    # Phone and address are private to the public, not to administrators.
    list_display = ["name", "number", "kind", "sector", "party", "user", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = [
        "name",
        "number",
        "sector",
        "party",
        "phone",
        "user__username",
        "user__full_name",
    ]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]


@admin.register(Notification)
class NotificationAdmin(ModelAdmin):
    list_display = ["created_at", "recipient", "verb", "message", "read_at"]
    # No filter on verb: listing its distinct values scans the whole table.
    list_filter = [("read_at", admin.EmptyFieldListFilter)]
    search_fields = ["message", "verb", "recipient__username", "recipient__full_name"]
    autocomplete_fields = ["recipient"]
    list_select_related = ["recipient"]
    # No date_hierarchy on a big table: its year list scans the whole table.

    # Messages the workflow sent, some with a proposer's personal receipt link: read them
    # here, never readdress, rewrite, add or delete them.
    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    show_full_result_count = False
    paginator = EstimatingPaginator


@admin.register(OutboxMessage)
class OutboxMessageAdmin(ModelAdmin):
    """The email and SMS the workflow sent or is sending (accounts/outbox.py): read-only;
    a failed message is sent again with the action, never rewritten or readdressed."""

    list_display = [
        "created_at",
        "channel",
        "address",
        "subject",
        "state",
        "attempts",
        "next_attempt_at",
        "sent_at",
        "last_error",
    ]
    list_filter = ["state", "channel"]
    search_fields = ["address", "subject"]
    readonly_fields = [
        "channel",
        "address",
        "subject",
        "body",
        "state",
        "attempts",
        "next_attempt_at",
        "last_error",
        "sent_at",
        "created_at",
    ]
    actions = ["retry"]
    show_full_result_count = False
    paginator = EstimatingPaginator

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        # The list (and its action) for those allowed to change; every page read-only.
        return obj is None and super().has_change_permission(request)

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return super().has_change_permission(request)

    @admin.action(
        description=_("Send the selected failed or waiting messages again now"),
        permissions=["retry"],
    )
    def retry(self, request, queryset):
        count = outbox.retry(queryset)
        self.message_user(
            request,
            ngettext(
                "%(count)d message will be sent again.",
                "%(count)d messages will be sent again.",
                count,
            )
            % {"count": count},
        )


@admin.register(RosterImport)
class RosterImportAdmin(ModelAdmin):
    """Roster uploads and what they did; read-only (the import is in the staff UI, each
    record's own history names the file and row that created or changed it)."""

    list_display = ["file_name", "status", "created_by", "created_at", "imported_at", "counts"]
    list_filter = ["status"]
    exclude = ["data", "token", "created_accounts"]
    readonly_fields = ["file_name", "status", "created_by", "created_at", "imported_at", "counts"]
    list_select_related = ["created_by"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


@admin.register(RateCount)
class RateCountAdmin(ModelAdmin):
    """The rate limit's counts when they are kept in the database: read, or deleted to let
    an address in again before its hour is over."""

    list_display = ["key", "count", "expires"]
    search_fields = ["key"]

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False


admin.site.unregister(AccessAttempt)


@admin.register(AccessAttempt)
class AccessAttemptAdmin(SafeActionsMixin, AxesAccessAttemptAdmin):
    """django-axes' list of failed logins; a security administrator unlocks from it (the
    permission to delete access attempts is what unlocking needs)."""

    actions = ["unlock"]

    @admin.action(description=_("Unlock the selected logins"), permissions=["delete"])
    def unlock(self, request, queryset):
        count, _by_model = queryset.delete()
        self.message_user(
            request,
            ngettext(
                "%(count)d locked login attempt record removed.",
                "%(count)d locked login attempt records removed.",
                count,
            )
            % {"count": count},
        )
