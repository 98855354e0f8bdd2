from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as DjangoUserAdmin
from django.utils.translation import gettext_lazy as _
from django.utils.translation import ngettext

from core.admin import ModelAdmin, SafeActionsMixin, SafeAutocompleteMixin
from core.paginator import EstimatingPaginator

from .models import Membership, Notification, Proposer, Unit, User

admin.site.site_header = _("Proposal handling administration")
admin.site.site_title = _("Proposal handling")
admin.site.index_title = _("Site administration")


class MembershipInline(SafeAutocompleteMixin, admin.TabularInline):
    model = Membership
    extra = 0
    autocomplete_fields = ["user", "unit"]


@admin.register(User)
class UserAdmin(SafeAutocompleteMixin, SafeActionsMixin, DjangoUserAdmin):
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
        (_("Important dates"), {"fields": ("last_login", "date_joined")}),
    )
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
    actions = ["deactivate"]

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
    list_display = ["name", "kind", "sector", "party", "user", "phone", "is_active"]
    list_filter = ["kind", "is_active"]
    search_fields = ["name", "sector", "party", "phone", "user__username", "user__full_name"]
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
