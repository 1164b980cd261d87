from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The parts of the app that add to the core's registries (guards, case-page sections, desk
# panels, demo data): each may define ``register()``.
REGISTERING_MODULES = [
    "actionplans.guards",
    "actionplans.plan_views",
    "actionplans.maintenance_views",
    "actionplans.demo",
]


class ActionplansConfig(AppConfig):
    name = "actionplans"
    verbose_name = _("Action plans")

    def ready(self) -> None:
        from sst.hooks import call_in_modules

        call_in_modules(REGISTERING_MODULES, "register")
