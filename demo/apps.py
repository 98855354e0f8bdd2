from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class DemoConfig(AppConfig):
    """Demo and scale data: the 069 case (`load_demo`) and synthetic proposals
    (`generate_data`). It builds on every other app; none of them imports it."""

    name = "demo"
    verbose_name = _("Demo data")
