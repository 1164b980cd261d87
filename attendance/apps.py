from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        from sst import desk

        from . import views

        desk.register(order=10, panel=views.alerts_panel)
        desk.register(order=20, panel=views.mentor_panel)
        desk.register(order=30, panel=views.schools_panel)
