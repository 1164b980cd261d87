"""Every URL pattern of the project is public or behind login and the access policy.

New views cannot forget it: this test walks the whole resolver, so a pattern added later
fails here until it is marked (``sst.access.public`` / ``staff_view`` / ``admin_view``) or
belongs to the administration site, whose every permission asks the policy.
"""

import re
import uuid
from pathlib import Path

import pytest
from django.urls import URLPattern, URLResolver, get_resolver, reverse

from sst.access import POLICY, PUBLIC
from sst.admin import SSTAdminSite

PROJECT = Path(__file__).resolve().parents[2]
# Public pages show no personal data; anything else here needs a reason in review.
# The satisfaction survey's one-time link is answered without login (its token is the key).
EXPECTED_PUBLIC = {"sst:login", "sst:logout", "sst:health", "set_language", "survey:answer"}


def walk(patterns, prefix="", namespace=None, admin=False):
    for entry in patterns:
        if isinstance(entry, URLResolver):
            ns = entry.namespace or namespace
            is_admin = admin or (
                isinstance(getattr(entry, "app_name", None), str) and (entry.app_name == "admin")
            )
            full_ns = f"{namespace}:{entry.namespace}" if namespace and entry.namespace else ns
            yield from walk(entry.url_patterns, prefix + str(entry.pattern), full_ns, is_admin)
        elif isinstance(entry, URLPattern):
            name = f"{namespace}:{entry.name}" if namespace and entry.name else entry.name
            yield prefix + str(entry.pattern), name, entry.callback, admin


ALL = list(walk(get_resolver().url_patterns))


def test_there_are_patterns_to_check():
    assert len(ALL) > 10


@pytest.mark.parametrize("route, name, callback, admin", ALL, ids=[r for r, *_ in ALL])
def test_every_pattern_is_public_or_behind_the_policy(route, name, callback, admin):
    if admin:
        site = getattr(callback, "admin_site", None) or getattr(
            getattr(callback, "__self__", None), "admin_site", None
        )
        # Admin views are wrapped by SSTAdminSite.admin_view (has_permission → policy).
        assert route.startswith("administration/"), route
        assert site is None or isinstance(site, SSTAdminSite)
        return
    marker = getattr(callback, "sst_access", None)
    assert marker in {PUBLIC, POLICY}, f"{route} ({name}) is not marked public or policy"
    if marker == PUBLIC:
        assert name in EXPECTED_PUBLIC, f"{route} ({name}) is public but not expected to be"


def sample_url(route: str) -> str:
    def value(match: re.Match) -> str:
        converter = match.group(1) or "str"
        return {
            "uuid": str(uuid.uuid4()),
            "int": "1",
            "slug": "x",
            "path": "x/y",
        }.get(converter, "x")

    url = re.sub(r"<(?:(\w+):)?\w+>", value, route)
    url = re.sub(r"[\^$?]|\\Z", "", url)  # admin regex routes
    url = url.replace("(?P", "")
    return "/" + url


@pytest.mark.parametrize(
    "route, name",
    [
        (r, n)
        for r, n, cb, admin in ALL
        if getattr(cb, "sst_access", None) != PUBLIC and "(" not in r
    ],
)
def test_anonymous_visitors_are_sent_to_login(client, db, route, name):
    response = client.get(sample_url(route), follow=True)
    assert response.redirect_chain, route
    assert response.redirect_chain[-1][0].startswith(reverse("sst:login")), route
    assert response.status_code == 200


APPS = ("sst", "attendance", "cases", "referrals", "actionplans", "followup", "reports")


def view_modules() -> list[Path]:
    """Every view module of every app: ``views.py``, ``*_views.py`` (and any name with
    "views" in it), and every module of a ``views`` package."""
    found: set[Path] = set()
    for app in APPS:
        root = PROJECT / app
        for path in root.rglob("*.py"):
            parts = path.relative_to(root).parts
            if "migrations" in parts or "tests" in parts:
                continue
            if "views" in path.stem or "views" in parts[:-1]:
                found.add(path)
    return sorted(found)


def test_the_view_lint_sees_every_view_module():
    names = {path.relative_to(PROJECT).as_posix() for path in view_modules()}
    assert {"sst/views.py", "cases/mapping/views.py", "attendance/import_views.py"} <= names


def test_views_fetch_objects_only_through_the_access_policy():
    """A lint: no view module fetches a model by user input on its own."""
    forbidden = re.compile(r"\.objects\.get\(|get_object_or_404\(|get_list_or_404\(")
    offenders = []
    for views in view_modules():
        for number, line in enumerate(views.read_text().splitlines(), 1):
            if forbidden.search(line):
                offenders.append(f"{views.relative_to(PROJECT)}:{number}")
    assert offenders == []
