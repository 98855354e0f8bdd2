"""What every ModelAdmin of this project does the same way."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.utils.translation import gettext as _

from .forms import valid_ids


class SafeActionsMixin:
    """An admin action posted with ids that are not ids is refused with a message.

    Django's ModelAdmin.response_action filters `pk__in=<the posted ids>` as they are: "1e3"
    raised ValueError and 2**63 OverflowError, both a 500.
    """

    def response_action(self, request, queryset):
        if not valid_ids(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)):
            self.message_user(request, _("Choose the rows from the list."), messages.ERROR)
            return None
        return super().response_action(request, queryset)


class ModelAdmin(SafeActionsMixin, admin.ModelAdmin):
    """The project's ModelAdmin."""


class RecordAdmin(ModelAdmin):
    """A record to read, never to write: no adding, no changing, no deleting in the admin,
    whoever asks (the superuser too). Who may read it is the model's view permission."""

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_actions(self, request):
        return {}
