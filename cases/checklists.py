"""compat: removed after merge. sst/demo.py moves into per-app demo registries at the same
time and still imports ``cases.checklists``; the checklist lives in ``cases.checklist``."""

from .checklist.services import checklist_follow_up, checklist_submit  # noqa: F401
