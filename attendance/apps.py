from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from sst import demo as core_demo
        from sst import desk
        from sst.models import Student

        from . import demo, locks, views

        pre_delete.connect(
            locks.lock_student_register, sender=Student, dispatch_uid="attendance-students"
        )

        core_demo.register(
            app_label=self.label,
            seed=demo.seed_demo_part,
            add_arguments=demo.add_arguments,
            check_options=demo.check_options,
        )
        desk.register(order=10, panel=views.alerts_panel)
        desk.register(order=20, panel=views.mentor_panel)
        desk.register(order=30, panel=views.schools_panel)
