"""The policy lint: nothing outside the access policy queries role memberships or names a
role (docs/ARCHITECTURE.md, "The access policy").

Every module of every app is parsed with ``ast``; a reference to ``RoleMembership``, to a
member of ``Role`` (``Role.PRINCIPAL``) or a call ``Role(...)`` fails this test unless the
module is on the allow-list below, each entry with its reason.
"""

from __future__ import annotations

import ast
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[2]
APPS = ("sst", "attendance", "cases", "referrals", "actionplans", "followup", "reports")

# module (relative path) → why it may name roles or query memberships.
ALLOWED: dict[str, str] = {
    "sst/access.py": "the policy itself",
    "sst/capabilities.py": "the policy's capability table",
    "sst/models.py": "defines Role, RoleMembership and where each role can be held",
    "sst/services.py": "the membership services create, change and end memberships",
    "sst/admin.py": "the administration of memberships (create and edit them)",
    "sst/demo.py": "demo data: names roles to create the demo people, not to decide access",
    "sst/management/commands/create_administrator.py": (
        "creates the first administrator's membership"
    ),
    "attendance/benchdata.py": (
        "benchmark data (bench_attendance, bench_reports): creates people with roles, "
        "decides no access"
    ),
    "attendance/demo.py": "demo data: picks the demo mentors' groups, decides no access",
    "cases/demo.py": "demo data: picks demo people by role, decides no access",
}


def _modules() -> list[Path]:
    found = []
    for app in APPS:
        root = PROJECT / app
        if not root.is_dir():
            continue
        for path in sorted(root.rglob("*.py")):
            parts = path.relative_to(PROJECT).parts
            if "migrations" in parts or "tests" in parts:
                continue
            found.append(path)
    return found


def _offences(tree: ast.AST) -> list[tuple[int, str]]:
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Name) and node.id == "RoleMembership":
            found.append((node.lineno, "RoleMembership"))
        elif isinstance(node, ast.alias) and node.name.split(".")[-1] == "RoleMembership":
            found.append((getattr(node, "lineno", 0), "imports RoleMembership"))
        elif isinstance(node, ast.Attribute) and node.attr == "RoleMembership":
            found.append((node.lineno, "RoleMembership"))
        elif (
            isinstance(node, ast.Attribute)
            and isinstance(node.value, ast.Name)
            and node.value.id == "Role"
            and node.attr.isupper()
        ):
            found.append((node.lineno, f"Role.{node.attr}"))
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "Role"
        ):
            found.append((node.lineno, "Role(...)"))
    return found


def test_the_lint_sees_every_app():
    modules = {path.relative_to(PROJECT).parts[0] for path in _modules()}
    assert {"sst", "attendance", "cases"} <= modules


def test_the_lint_finds_what_it_forbids():
    source = (
        "from sst.models import RoleMembership, Role\n"
        "RoleMembership.objects.filter(role=Role.PRINCIPAL)\n"
        "Role('mentor')\n"
        "models.RoleMembership\n"
    )
    kinds = {kind for _line, kind in _offences(ast.parse(source))}
    assert kinds == {"imports RoleMembership", "RoleMembership", "Role.PRINCIPAL", "Role(...)"}


def test_nothing_outside_the_policy_queries_memberships_or_names_a_role():
    offenders = []
    for path in _modules():
        relative = path.relative_to(PROJECT).as_posix()
        if relative in ALLOWED:
            continue
        for line, kind in _offences(ast.parse(path.read_text(), filename=relative)):
            offenders.append(f"{relative}:{line}: {kind}")
    assert offenders == []


def test_every_allow_list_entry_exists_and_is_still_needed():
    for relative, reason in ALLOWED.items():
        path = PROJECT / relative
        assert reason, relative
        if not path.exists():
            continue  # moved by another helper; the entry goes with the merge
        assert _offences(ast.parse(path.read_text())), f"{relative} no longer needs the entry"
