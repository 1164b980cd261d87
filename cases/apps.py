from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each area of the school's steps registers its own desk panels.
PANEL_MODULES = [
    "cases.checklist.views",
    "cases.eht.views",
    "cases.mapping.views",
    "cases.case_views",
]


class CasesConfig(AppConfig):
    name = "cases"
    verbose_name = _("Students and cases")

    def ready(self) -> None:
        from sst import demo as core_demo
        from sst import services as core_services

        from . import demo, inbox, workflow

        core_demo.register(app_label=self.label, seed=demo.seed_demo_part)
        inbox.register_actions()
        # A student's move between schools closes the previous school's open case.
        core_services.register_move_hook(workflow.close_cases_on_move)
        for name in PANEL_MODULES:
            try:
                module = import_module(name)
            except ModuleNotFoundError as error:
                if error.name != name:
                    raise
                continue
            register = getattr(module, "register_panels", None)
            if register is not None:
                register()
