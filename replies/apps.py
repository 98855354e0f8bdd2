from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class RepliesConfig(AppConfig):
    name = "replies"
    verbose_name = _("Reply letters")

    def ready(self):
        from . import hooks  # noqa: F401 — registers the letters' part of the proposal screens
