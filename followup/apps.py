from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# The parts of the app that add to the core's registries (guards, case-page sections, desk
# panels, demo data): each may define ``register()``.
REGISTERING_MODULES = [
    "followup.followup_views",
    "followup.closure_views",
    "followup.aftercare_views",
    "followup.participant_views",
    "followup.demo",
]


class FollowupConfig(AppConfig):
    name = "followup"
    verbose_name = _("Follow-up")

    def ready(self) -> None:
        from sst.hooks import call_in_modules

        call_in_modules(REGISTERING_MODULES, "register")
