from axes.admin import AccessAttemptAdmin as AxesAccessAttemptAdmin
from axes.models import AccessAttempt
from axes.utils import reset as axes_reset
from django import forms
from django.contrib import admin, messages
from django.contrib.admin.utils import unquote
from django.contrib.auth import forms as auth_forms
from django.contrib.auth.admin import GroupAdmin as DjangoGroupAdmin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.contrib.auth.models import Group
from django.core.exceptions import PermissionDenied
from django.http import HttpResponseRedirect
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ModelAdmin, RecordAdmin, SafeActionsMixin, SafeAutocompleteMixin
from core.paginator import EstimatingPaginator

from . import audit, outbox, passwords, roles
from .models import (
    Membership,
    Notification,
    OutboxMessage,
    Proposer,
    RateCount,
    RosterImport,
    SecurityEvent,
    Unit,
    User,
)

UNLOCK_PERMISSION = "axes.delete_accessattempt"

admin.site.site_header = _("Proposal handling administration")
admin.site.site_title = _("Proposal handling")
admin.site.index_title = _("Site administration")


class MembershipForm(forms.ModelForm):
    """A unit role is a business role: never for one of the three administrators."""

    def clean(self):
        data = super().clean()
        user = data.get("user") or getattr(self.instance, "user", None)
        if user is not None and user.pk:
            for problem in roles.conflicts(roles.role_names(user), has_memberships=True):
                self.add_error(None, problem)
        return data


class MembershipInline(SafeAutocompleteMixin, admin.TabularInline):
    model = Membership
    form = MembershipForm
    extra = 0
    autocomplete_fields = ["user", "unit"]


class UserChangeForm(auth_forms.UserChangeForm):
    """Separation of duties: one administrator role a person, and none with a business role."""

    def clean(self):
        data = super().clean()
        user = self.instance
        groups = data["groups"] if "groups" in data else (user.groups.all() if user.pk else [])
        for problem in roles.conflicts(
            {group.name for group in groups},
            is_superuser=data.get("is_superuser", user.is_superuser),
            is_committee_staff=data.get("is_committee_staff", user.is_committee_staff),
            has_memberships=bool(user.pk) and user.memberships.exists(),
        ):
            self.add_error(None, problem)
        return data


@admin.display(description=_("phone"))
def masked_phone(obj):
    return obj.masked_phone


# Who may change what on a user (accounts/roles.py): the system administrator the account and
# the personal details (`change_user`), the security administrator the roles and
# permissions (`assign_roles`), only a superuser the superuser flag.
ACCOUNT_FIELDS = ["username", "full_name", "phone", "email", "is_active"]
ROLE_FIELDS = ["is_committee_staff", "is_staff", "groups", "user_permissions"]


@admin.register(User)
class UserAdmin(SafeAutocompleteMixin, SafeActionsMixin, DjangoUserAdmin):
    form = UserChangeForm
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
        masked_phone,
        "email",
        "is_committee_staff",
        "is_staff",
        "is_active",
    ]
    list_filter = ["is_committee_staff", "is_staff", "is_superuser", "is_active", "groups"]
    # Not the phone: it is encrypted at rest (core/fields.py), nothing can search it.
    search_fields = ["username", "full_name", "email"]
    inlines = [MembershipInline]
    actions = ["deactivate", "issue_password_reset", "unlock_logins"]

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not request.user.has_perm(UNLOCK_PERMISSION):
            actions.pop("unlock_logins", None)
        if not request.user.has_perm("accounts.change_user"):
            actions.pop("deactivate", None)
        return actions

    def save_model(self, request, obj, form, change):
        super().save_model(request, obj, form, change)
        if not change and obj.has_usable_password():
            # A password an administrator chose: the user chooses their own at first login.
            passwords.mark_set_by_admin(obj, by=request.user, request=request)

    def user_change_password(self, request, id, form_url=""):
        # Setting someone's password is the account's administrator's, not the one who
        # assigns roles (who would otherwise log in as anyone with any role).
        if not request.user.has_perm("accounts.change_user"):
            raise PermissionDenied
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

    def has_change_permission(self, request, obj=None):
        return super().has_change_permission(request, obj) or request.user.has_perm(
            "accounts.assign_roles"
        )

    def get_readonly_fields(self, request, obj=None):
        if obj is None or request.user.is_superuser:
            return list(super().get_readonly_fields(request, obj))
        readonly = ["is_superuser", "last_login", "date_joined"]
        if not request.user.has_perm("accounts.change_user"):
            readonly += ACCOUNT_FIELDS
        # Nobody gives themselves a role.
        if not request.user.has_perm("accounts.assign_roles") or obj.pk == request.user.pk:
            readonly += ROLE_FIELDS
        return readonly

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "user_permissions" and not request.user.is_superuser:
            field.queryset = roles.grantable_permissions(field.queryset)
        return field

    def get_fieldsets(self, request, obj=None):
        fieldsets = super().get_fieldsets(request, obj)
        if obj is None or request.user.has_perm("accounts.change_user"):
            return fieldsets
        # Who assigns roles has no need of the phone number.
        return [
            (name, {**options, "fields": [f for f in options["fields"] if f != "phone"]})
            for name, options in fieldsets
        ]

    def get_inline_instances(self, request, obj=None):
        # Unit roles are the security administrator's, and never one's own.
        if obj is not None and obj.pk == request.user.pk and not request.user.is_superuser:
            return []
        return super().get_inline_instances(request, obj)

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit.record_personal_data_view(request, self.get_object(request, unquote(object_id)))
        return response

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
    form = MembershipForm
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
    # Phone and address are private: the list shows the phone masked; the change page (whose
    # every opening is recorded) shows it whole. Encrypted at rest: not searchable.
    list_display = ["name", "number", "kind", "sector", "party", "user", masked_phone, "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "number", "sector", "party", "user__username", "user__full_name"]
    autocomplete_fields = ["user"]
    list_select_related = ["user"]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        response = super().change_view(request, object_id, form_url, extra_context)
        if request.method == "GET" and response.status_code == 200:
            audit.record_personal_data_view(request, self.get_object(request, unquote(object_id)))
        return response


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


@admin.register(SecurityEvent)
class SecurityEventAdmin(RecordAdmin):
    """The security record, for the audit administrator to read (and the staff UI's audit
    page to filter and export). Nothing here changes it; `purge_audit` ages it out."""

    list_display = [
        "created_at",
        "kind",
        "actor_name",
        "object_type",
        "object_repr",
        "ip_address",
    ]
    list_filter = ["kind"]
    search_fields = ["actor_name__exact", "object_repr", "object_id__exact"]
    fields = [
        "created_at",
        "kind",
        "actor",
        "actor_name",
        "object_type",
        "object_id",
        "object_repr",
        "ip_address",
        "details",
    ]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]
    show_full_result_count = False
    paginator = EstimatingPaginator
    list_per_page = 50


admin.site.unregister(Group)


@admin.register(Group)
class GroupAdmin(SafeActionsMixin, DjangoGroupAdmin):
    """The three administrator roles are defined in code (accounts/roles.py): shown, not
    edited. Other groups are the security administrator's."""

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        field = super().formfield_for_manytomany(db_field, request, **kwargs)
        if db_field.name == "permissions" and not request.user.is_superuser:
            field.queryset = roles.grantable_permissions(field.queryset)
        return field

    def has_change_permission(self, request, obj=None):
        if obj is not None and obj.name in roles.ROLES:
            return False
        return super().has_change_permission(request, obj)

    def has_delete_permission(self, request, obj=None):
        if obj is not None and obj.name in roles.ROLES:
            return False
        return super().has_delete_permission(request, obj)
