from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AccountsConfig(AppConfig):
    name = "accounts"
    verbose_name = _("Accounts and units")

    def ready(self):
        from django.db.models.signals import post_migrate

        from . import audit, checks, roles, sessions  # noqa: F401 — checks and receivers

        post_migrate.connect(roles.sync_role_groups, dispatch_uid="accounts.sync_role_groups")
