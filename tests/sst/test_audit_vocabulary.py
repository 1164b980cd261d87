"""Audit actions and object types are TextChoices everywhere, never free strings.

A string literal works at run time (TextChoices are ``str``), so only reading the source
catches it: the audit log page can name an event in Swedish only if its values come from
``AuditAction`` / ``AuditObjectType``.
"""

from __future__ import annotations

import ast
from pathlib import Path

from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
APPS = ["sst", "attendance", "cases", "referrals", "actionplans", "followup", "reports"]


def _modules() -> list[Path]:
    return sorted(
        path
        for app in APPS
        for path in (BASE_DIR / app).rglob("*.py")
        if "migrations" not in path.relative_to(BASE_DIR).parts
    )


def _is_text(node: ast.expr) -> bool:
    """A string literal or an f-string; the empty string (no object) is allowed."""
    if isinstance(node, ast.Constant):
        return isinstance(node.value, str) and node.value != ""
    return isinstance(node, ast.JoinedStr)


def _is_audit_record(call: ast.Call) -> bool:
    """``audit.record(...)`` or a bare ``record(...)`` imported from sst.audit."""
    func = call.func
    if isinstance(func, ast.Attribute):
        return (
            func.attr == "record" and isinstance(func.value, ast.Name) and func.value.id == "audit"
        )
    return isinstance(func, ast.Name) and func.id == "record"


def free_strings(source: str) -> list[tuple[int, str]]:
    """(line, keyword) of every literal given as an audit action or object type.

    ``object_type=`` is audit vocabulary wherever it is passed (record, the modules' own
    ``_audit`` helpers, filters on AuditEvent); ``action=`` only in a call of
    ``audit.record``, since argparse and others have an ``action`` of their own.
    """
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, ast.Call):
            continue
        for keyword in node.keywords:
            if not _is_text(keyword.value):
                continue
            if keyword.arg == "object_type":
                found.append((node.lineno, f"object_type={ast.unparse(keyword.value)}"))
            elif keyword.arg == "action" and _is_audit_record(node):
                found.append((node.lineno, f"action={ast.unparse(keyword.value)}"))
    return found


def test_the_check_finds_literals_and_accepts_enums():
    source = """
audit.record(user=u, action="view", object_type="student")
audit.record(user=u, action=AuditAction.VIEW, object_type=AuditObjectType.STUDENT)
record(user=u, action=AuditAction.LIST, object_type=f"import_{kind}")
_audit_read(request, object_type="case")
parser.add_argument("--dry-run", action="store_true")
"""
    assert free_strings(source) == [
        (2, "action='view'"),
        (2, "object_type='student'"),
        (4, "object_type=f'import_{kind}'"),
        (5, "object_type='case'"),
    ]


def test_no_module_passes_a_free_string_as_audit_action_or_object_type():
    found = [
        f"{path.relative_to(BASE_DIR)}:{line} {what}"
        for path in _modules()
        for line, what in free_strings(path.read_text(encoding="utf-8"))
    ]
    assert not found, "use AuditAction / AuditObjectType: " + "; ".join(found)
