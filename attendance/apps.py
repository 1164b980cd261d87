from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AttendanceConfig(AppConfig):
    name = "attendance"
    verbose_name = _("Attendance")

    def ready(self) -> None:
        from django.db.models.signals import pre_delete

        from sst import demo as core_demo
        from sst import desk
        from sst import services as core_services
        from sst.models import Student

        from . import demo, locks, queue, tasks, views
        from .imports.registers import link_pending_mentors

        # Late-bound (``.delay`` looked up when the work is queued), so tests can replace it.
        queue.connect(
            send_alert_notices=lambda: tasks.send_alert_notices.delay(),
            refresh_month=lambda month: tasks.rollup_and_evaluate.delay(month),
            run_import=lambda run_id: tasks.run_import.delay(run_id),
        )
        pre_delete.connect(
            locks.lock_student_register, sender=Student, dispatch_uid="attendance-students"
        )

        # A mentor named in the student register before their account existed gets the
        # class when the account is made.
        core_services.register_account_hook(link_pending_mentors)
        core_demo.register(
            app_label=self.label,
            seed=demo.seed_demo_part,
            add_arguments=demo.add_arguments,
            check_options=demo.check_options,
        )
        desk.register(order=10, panel=views.inbox_panel)
        desk.register(order=20, panel=views.mentor_panel)
        desk.register(order=30, panel=views.schools_panel)
