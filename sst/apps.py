from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class SstConfig(AppConfig):
    name = "sst"
    verbose_name = _("Organisation and people")

    def ready(self) -> None:
        from . import checks, signals  # noqa: F401  (registers checks and signal receivers)
