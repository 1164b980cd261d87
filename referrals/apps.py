from importlib import import_module

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _

# Each part of the team's side registers its own desk panels (if the module has any).
PANEL_MODULES = [
    "referrals.referral_views",
    "referrals.forum_views",
    "referrals.consent_views",
]


class ReferralsConfig(AppConfig):
    name = "referrals"
    verbose_name = _("Referrals, the referral forum and consent")

    def ready(self) -> None:
        from cases import transitions
        from sst import access
        from sst.capabilities import Capability
        from sst.hooks import call_in_modules

        from . import consent, guards

        for name, check in guards.CHECKS.items():
            transitions.register_guard(name, check)
        # Social-services staff read an identified case only while they are assigned to it
        # and a valid consent covers it: checked in the case query on every request.
        access.register_case_condition(
            capability=Capability.SOCIAL_WORK, build=consent.identified_for
        )
        try:
            demo = import_module(f"{self.name}.demo")
        except ModuleNotFoundError as error:
            if error.name != f"{self.name}.demo":
                raise
        else:
            from sst import demo as core_demo

            core_demo.register(app_label=self.label, seed=demo.seed_demo_part)
        call_in_modules(PANEL_MODULES, "register_panels")
