from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class ReportsConfig(AppConfig):
    name = "reports"
    verbose_name = _("Reports")

    def ready(self) -> None:
        from sst import desk

        from . import coordinator_views, head_views
        from .desk_panels import reports_panel

        desk.register(order=20, panel=reports_panel)
        head_views.register_panels()
        coordinator_views.register_panels()
