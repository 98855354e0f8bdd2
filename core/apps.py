from django.apps import AppConfig


class CoreConfig(AppConfig):
    """Shared workflow and view helpers; an app only so that its templates and checks load."""

    name = "core"
    verbose_name = "core"
