"""Issue 13 and 9: every response to a signed-in person says ``Cache-Control: no-store``
(ASVS 8.2.1), every response carries a Content-Security-Policy that allows nothing inline and
no other origin, and no template needs inline script or style to work under it."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from django.test import Client

from ..conftest import verified_login
from .test_url_coverage import ALL, PROJECT, sample_url

# Every page pattern, with made-up ids: a refusal (404) is a response to a signed-in person too.
ROUTES = [sample_url(route) for route, _name, _callback, _admin in ALL]


def _directives(response) -> dict[str, list[str]]:  # type: ignore[no-untyped-def]
    policy = response["Content-Security-Policy"]
    return {parts[0]: parts[1:] for parts in (d.split() for d in policy.split(";") if d.strip())}


@pytest.mark.parametrize("who", ["mentor_a1", "admin_m"])
def test_every_url_pattern_answers_a_signed_in_person_with_no_store(world, who):
    client = Client()
    verified_login(client, getattr(world, who))
    cached = []
    for url in ROUTES:
        response = client.get(url)
        if "no-store" not in response.get("Cache-Control", ""):
            cached.append((url, response.status_code, response.get("Cache-Control")))
    assert cached == []


def test_the_desk_and_a_student_page_are_not_stored(world, client):
    verified_login(client, world.mentor_a1)
    for url in ("/", f"/elever/{world.student_a1.public_id}/"):
        response = client.get(url)
        assert response.status_code == 200
        assert "no-store" in response["Cache-Control"]
        assert "private" in response["Cache-Control"]


def test_a_signed_out_visitor_of_the_health_check_may_be_cached(client, db):
    # Only what a signed-in person sees is marked; nothing personal is served signed out.
    assert "no-store" not in client.get("/health/").get("Cache-Control", "")


@pytest.mark.parametrize("signed_in", [False, True])
def test_every_response_has_a_policy_without_inline_code_or_other_origins(world, signed_in):
    client = Client()
    if signed_in:
        verified_login(client, world.counsellor_a)
    for url in ("/logga-in/", "/", "/elever/", "/health/", "/no-such-page/"):
        directives = _directives(client.get(url))
        assert directives["default-src"] == ["'none'"]
        for name in ("script-src", "style-src", "connect-src", "font-src", "form-action"):
            assert directives[name] == ["'self'"], name
        assert directives["img-src"] == ["'self'", "data:"]
        assert directives["frame-ancestors"] == ["'none'"]
        policy = client.get("/").get("Content-Security-Policy", "")
        assert "unsafe-inline" not in policy and "unsafe-eval" not in policy
        assert "http" not in policy and "*" not in policy


TEMPLATE_DIRS = [PROJECT / "templates", *PROJECT.glob("*/templates")]
TEMPLATES = sorted(
    path
    for folder in TEMPLATE_DIRS
    if ".venv" not in folder.parts
    for path in folder.rglob("*.html")
)
INLINE = {
    "inline <script> block": re.compile(r"<script(?![^>]*\bsrc=)[^>]*>", re.I),
    "<style> block": re.compile(r"<style\b", re.I),
    "style attribute": re.compile(r"\sstyle\s*=", re.I),
    "event-handler attribute": re.compile(r"\son[a-z]+\s*=", re.I),
    "javascript: URL": re.compile(r"javascript:", re.I),
}


def test_there_are_templates_to_check():
    assert len(TEMPLATES) > 20


@pytest.mark.parametrize("path", TEMPLATES, ids=[str(p.relative_to(PROJECT)) for p in TEMPLATES])
def test_no_template_has_inline_script_or_style(path: Path):
    text = path.read_text(encoding="utf-8")
    found = [
        f"{kind} on line {text.count(chr(10), 0, match.start()) + 1}"
        for kind, pattern in INLINE.items()
        for match in pattern.finditer(text)
    ]
    assert found == []


def test_the_lint_finds_what_it_forbids():
    samples = [
        "<script>alert(1)</script>",
        "<style>p{}</style>",
        '<p style="color: red">',
        '<button onclick="go()">',
        '<a href="javascript:go()">',
    ]
    for sample in samples:
        assert any(p.search(sample) for p in INLINE.values()), sample
    assert not any(
        p.search('<script src="/static/js/sst.js" defer></script>') for p in INLINE.values()
    )
