"""Letting an app's modules register themselves from ``AppConfig.ready``.

An app lists the modules that add to the core's registries (desk panels, case-page sections,
guards, demo parts); each may define a function of the given name, which is called once.
A module that does not exist yet is skipped, so an app can list the parts it is built from.
"""

from __future__ import annotations

from collections.abc import Iterable
from importlib import import_module


def call_in_modules(names: Iterable[str], hook: str) -> None:
    for name in names:
        try:
            module = import_module(name)
        except ModuleNotFoundError as error:
            if error.name != name:
                raise
            continue
        register = getattr(module, hook, None)
        if register is not None:
            register()
