"""What every ModelAdmin of this project does the same way."""

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.contrib.admin.widgets import AutocompleteSelect, AutocompleteSelectMultiple
from django.db import models
from django.utils.translation import gettext as _

from . import pagecache
from .forms import IdsChoiceField, valid_ids


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


class KeptChangelistMixin:
    """The changelist kept rendered until the next workflow step (core/pagecache.py).

    For the models whose every change is a workflow step (one that records an event). The
    page carries the action form's CSRF token, so it is kept per CSRF secret as well as per
    person; a page with messages to show (after an action) is neither served from nor put
    in the cache, and permission is checked on every request.
    """

    def changelist_view(self, request, extra_context=None):
        if extra_context or not self.has_view_or_change_permission(request):
            return super().changelist_view(request, extra_context)
        return pagecache.kept(
            request,
            self.opts.label_lower,
            lambda: super(KeptChangelistMixin, self).changelist_view(request, extra_context),
        )


class SafeAutocompleteWidgetMixin:
    """An autocomplete widget shown again with a value that is no id (a form re-displayed
    after "2028-11-30" was posted for a unit) shows nothing for it.

    Django's AutocompleteMixin.optgroups looks the posted values up as they are to label
    them: "2028-11-30" raised ValueError and 2**63 OverflowError, a 500 instead of the
    form's own "Select a valid choice" (found by tests/test_fuzz_every_form_of_the_admin.py).
    """

    def optgroups(self, name, value, attr=None):
        target = self.field.remote_field.model._meta.pk
        if isinstance(target, models.IntegerField):
            value = [v for v in value if v in ("", None) or valid_ids([v])]
        return super().optgroups(name, value, attr)


class SafeAutocompleteSelect(SafeAutocompleteWidgetMixin, AutocompleteSelect):
    pass


class SafeAutocompleteSelectMultiple(SafeAutocompleteWidgetMixin, AutocompleteSelectMultiple):
    pass


class SafeAutocompleteMixin:
    """`autocomplete_fields` drawn with the widgets above; for ModelAdmins and inlines."""

    def formfield_for_foreignkey(self, db_field, request, **kwargs):
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelect(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_foreignkey(db_field, request, **kwargs)

    def formfield_for_manytomany(self, db_field, request, **kwargs):
        # Ids a database cannot look up (10**27: OverflowError on SQLite) are an invalid
        # choice, not a 500 (the user's permissions; found by the fuzzer).
        if isinstance(db_field.remote_field.model._meta.pk, models.IntegerField):
            kwargs.setdefault("form_class", IdsChoiceField)
        if "widget" not in kwargs and db_field.name in self.get_autocomplete_fields(request):
            kwargs["widget"] = SafeAutocompleteSelectMultiple(
                db_field, self.admin_site, using=kwargs.get("using")
            )
        return super().formfield_for_manytomany(db_field, request, **kwargs)


class ModelAdmin(SafeAutocompleteMixin, SafeActionsMixin, admin.ModelAdmin):
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
