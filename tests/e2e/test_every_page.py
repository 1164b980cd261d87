"""Every page of the demo, for every role, in real headless Chromium: axe-core (WCAG 2.1 A and
AA) finds no violation, and at a phone's width (390 px) no page scrolls sideways.

The demo is seeded once for the module (a small ``seed_demo``: the same people, cases and
steps as ``make demo``, fewer students). One demo user per role signs in through the real
forms (administrators with their TOTP code) and the crawl follows the links of the pages it
reaches, starting from the desk, plus, for the administrator, every registered model's
change list and add form. Only plain links are followed (``<a href>``, never a form), and not
the few that lead off the HTML pages (sign-out, the CSV export, PDFs, fragments for htmx).
Each URL pattern is visited at most twice per role (an administration page once), and axe
runs once per distinct page structure (a view shown with other data, or to another role,
with the same elements), which keeps the crawl to a couple of hundred pages.

The crawl comes in two parts, each with its own demo, browser and three tests: the
administrator (mostly the administration site, which no other role reaches) and every other
role. Under pytest-xdist (`make test`) the two run on two workers at once; they are the
longest tests of the suite.

axe-core comes from npm (``make test`` installs it into var/npm, see the Makefile;
``SST_AXE_JS`` can point at another copy of axe.min.js). Without it the tests are skipped,
or fail when ``SST_REQUIRE_BROWSER`` is set (as in CI).
"""

from __future__ import annotations

import hashlib
import importlib
import os
import time
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urldefrag, urlsplit

import pytest
from django.apps import apps
from django.core.management import call_command
from django.urls import Resolver404, resolve, reverse
from django_otp.oath import totp
from playwright.sync_api import Error as PlaywrightError

from sst import demo
from sst.admin import admin_site

from .conftest import CHROMIUM, CHROMIUM_ARGS, _require_chromium

pytestmark = pytest.mark.browser

REPO = Path(__file__).resolve().parents[2]
AXE_JS = Path(
    os.environ.get("SST_AXE_JS")
    or REPO / "var" / "npm" / "node_modules" / "axe-core" / "axe.min.js"
)
WCAG_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}
VISITS_PER_PATTERN = 2  # per role: the width check and the links to follow
# Django's admin pages are the same few templates for every model: one of each per model.
ADMIN_VISITS_PER_PATTERN = 1

# One demo user for every role (and the person with two roles in two places).
ROLE_USERS = {
    "mentor": "mentor.ekbacken",
    "principal": "rektor.ekbacken",
    "counsellor": "kurator.ekbacken",
    "special_educator": "specped.ekbacken",
    "school_nurse": "skolskoterska.ekbacken",
    "school_psychologist": "skolpsykolog.ekbacken",
    "social_worker": "socionom.norra",
    "referral_forum": "remissforum.norra",
    "coordinator": "samordnare.norra",
    "manager": "chef.kommun",
    "head_of_schools": "skolchef.kommun",
    "administrator": "admin.kommun",
    "two_roles": demo.TWO_ROLE_USERNAME,
}

# The two parts of the crawl (see the module docstring): every role in exactly one.
PARTS = {
    "administration": ["administrator"],
    "roles": [role for role in ROLE_USERS if role != "administrator"],
}

# Links that are not HTML pages to look at: signing out and in, switching language (both
# forms, listed in case a link ever points there), downloads and printouts, JSON and htmx
# fragments, and the admin's helpers that leave the site or answer scripts.
NOT_PAGES = {
    "sst:logout",
    "sst:login",
    "sst:otp_verify",
    "sst:otp_setup",
    "sst:health",
    "set_language",
    "attendance:school_export",
    "attendance:alert_acknowledge",
    "cases:case_print",
    "cases:principal_report_print",
    # Downloads (PDF, scans): not pages; their own tests read them (tests/referrals).
    "referrals:minutes_pdf",
    "referrals:consent_form_pdf",
    "referrals:consent_form_blank",
    "referrals:consent_scan_download",
    "actionplans:plan_pdf",
    "reports:term_xlsx",
    "reports:run_file",
    "reports:head_monthly_pdf",  # its own tests read it (tests/reports)
    "imports:status",
    "admin:logout",
    "admin:jsi18n",
    "admin:view_on_site",
    "admin:autocomplete",
}


@dataclass
class Crawl:
    part: str  # a key of PARTS
    visited: dict[str, list[str]] = field(default_factory=dict)  # role -> paths
    patterns: dict[str, set[str]] = field(default_factory=dict)  # role -> URL names
    axe: list[str] = field(default_factory=list)
    axe_checked: set[tuple[str, str]] = field(default_factory=set)  # (URL name, structure)
    sideways: list[str] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)
    seconds: float = 0.0
    timings: list[str] = field(default_factory=list)


def _require_axe() -> None:
    if AXE_JS.exists():
        return
    message = (
        f"{AXE_JS} not found: `make test` installs axe-core with npm "
        "(npm install --prefix var/npm axe-core@4), or set SST_AXE_JS"
    )
    if os.environ.get("SST_REQUIRE_BROWSER"):
        pytest.fail(message + " (SST_REQUIRE_BROWSER is set)", pytrace=False)
    pytest.skip(message)


def _url_name(path: str) -> str | None:
    try:
        match = resolve(urlsplit(path).path)
    except Resolver404:
        return None
    return match.view_name


def _admin_start_pages() -> list[str]:
    pages = [reverse("admin:index")]
    for model in admin_site._registry:
        meta = model._meta
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_changelist"))
        pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_add"))
    return pages


def _sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    from django_otp.plugins.otp_totp.models import TOTPDevice

    page.goto(f"{base}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(demo.DEMO_PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()
    if "/tvafaktor/" in page.url:
        device = TOTPDevice.objects.get(user__username=username, name=demo.DEMO_TOTP_DEVICE_NAME)
        code = totp(device.bin_key, device.step, device.t0, device.digits, device.drift)
        page.locator("input[name='token']").fill(f"{code:0{device.digits}d}")
        page.get_by_role("button", name="Verifiera").click()
        page.wait_for_load_state()
    assert "/logga-in/" not in page.url and "/tvafaktor/" not in page.url, username


AXE_RUN = """async (tags) => {
    const result = await axe.run(document, {
        runOnly: {type: "tag", values: tags}, resultTypes: ["violations"]});
    return result.violations.map(v => ({
        id: v.id, impact: v.impact, nodes: v.nodes.length,
        target: v.nodes[0].target.join(" "), html: v.nodes[0].html.slice(0, 160)}));
}"""

# The page's structure without its data: every element's tag, classes, role, type and
# attribute names, and whether it has text of its own. Two roles, or two students, that get
# the same structure from the same view get the same answer from axe, which then runs once.
STRUCTURE = """() => {
    const parts = [];
    for (const el of document.querySelectorAll("*")) {
        const own = [...el.childNodes].some(n => n.nodeType === 3 && n.textContent.trim());
        parts.push([el.tagName, el.getAttribute("class"), el.getAttribute("role"),
                    el.getAttribute("type"), el.getAttributeNames().sort().join(" "),
                    own ? "t" : ""].join("|"));
    }
    return parts.join("\\n");
}"""

# The page's widest element, to name in the failure (the document is measured, not guessed).
WIDEST = """() => {
    const limit = window.innerWidth;
    let worst = null;
    for (const el of document.body.querySelectorAll("*")) {
        const right = el.getBoundingClientRect().right;
        if (right > limit + 1 && (!worst || right > worst.right)) {
            worst = {right: Math.round(right), tag: el.tagName.toLowerCase(),
                     cls: el.className && el.className.baseVal === undefined ? el.className : ""};
        }
    }
    return {scrollWidth: document.documentElement.scrollWidth, innerWidth: limit, worst};
}"""


def _links(page, base: str) -> list[str]:  # type: ignore[no-untyped-def]
    hrefs = page.eval_on_selector_all("a[href]", "links => links.map(a => a.href)")
    found = []
    for href in hrefs:
        url, _fragment = urldefrag(href)
        if url.startswith(base + "/"):
            found.append(url[len(base) :])
    return found


def _visits_allowed(name: str) -> int:
    return ADMIN_VISITS_PER_PATTERN if name.startswith("admin:") else VISITS_PER_PATTERN


def _crawl_role(browser, base: str, role: str, username: str, result: Crawl) -> None:  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP, bypass_csp=True)
    context.set_default_timeout(15_000)
    page = context.new_page()
    # Links to views not yet seen go first, so the bound on visits per view does not spend
    # itself on the same view before a new one is reached.
    fresh: deque[str] = deque(["/"])
    later: deque[str] = deque()
    if role == "administrator":
        fresh.extend(_admin_start_pages())
    seen: set[str] = set()
    visits: dict[str, int] = {}
    result.visited[role] = []
    result.patterns[role] = set()
    try:
        _sign_in(page, base, username)
        while fresh or later:
            path = (fresh or later).popleft()
            if path in seen:
                continue
            seen.add(path)
            name = _url_name(path)
            if name is None or name in NOT_PAGES or visits.get(name, 0) >= _visits_allowed(name):
                continue
            visits[name] = visits.get(name, 0) + 1
            result.visited[role].append(path)
            result.patterns[role].add(name)
            where = f"{role} {path} ({name})"
            try:
                links = _check_page(page, base, path, where, name=name, result=result)
            except PlaywrightError as error:
                result.errors.append(f"{where}: {error.message.splitlines()[0]}")
                continue
            for link in links:
                (later if _url_name(link) in visits else fresh).append(link)
    finally:
        context.close()


def _check_page(page, base: str, path: str, where: str, *, name: str, result: Crawl) -> list[str]:  # type: ignore[no-untyped-def]
    """Open the page at desktop width, run axe there, measure it at phone width; its links."""
    started = time.monotonic()
    page.set_viewport_size(DESKTOP)
    response = page.goto(base + path)
    if response is None or response.status != 200:
        result.errors.append(f"{where}: answered {response.status if response else 'nothing'}")
        return []
    if "text/html" not in (response.headers.get("content-type") or ""):
        return []
    loaded = time.monotonic()
    structure = (name, hashlib.sha256(page.evaluate(STRUCTURE).encode()).hexdigest())
    if structure not in result.axe_checked:
        result.axe_checked.add(structure)
        page.add_script_tag(path=str(AXE_JS))
        for violation in page.evaluate(AXE_RUN, WCAG_TAGS):
            result.axe.append(
                f"{where}: {violation['id']} ({violation['impact']}, "
                f"{violation['nodes']} elements) e.g. {violation['target']}: {violation['html']}"
            )
    checked = time.monotonic()
    page.set_viewport_size(PHONE)
    width = page.evaluate(WIDEST)
    if width["scrollWidth"] > width["innerWidth"]:
        result.sideways.append(
            f"{where}: {width['scrollWidth']} px wide at {width['innerWidth']} px; "
            f"widest: {width['worst']}"
        )
    result.timings.append(
        f"{loaded - started:5.2f} {checked - loaded:5.2f} {time.monotonic() - checked:5.2f} {where}"
    )
    return _links(page, base)


def _roles(part: str) -> list[str]:
    """The part's roles, or those of them named in SST_CRAWL_ROLES (comma-separated) while
    working on one."""
    chosen = [r for r in os.environ.get("SST_CRAWL_ROLES", "").split(",") if r]
    unknown = set(chosen) - set(ROLE_USERS)
    assert not unknown, f"SST_CRAWL_ROLES names no such role: {sorted(unknown)}"
    return [role for role in PARTS[part] if not chosen or role in chosen]


def _write_report(result: Crawl, part: str) -> None:
    """test-artifacts/every-page-<part>.txt: seconds per page (load, axe, width) and what was
    found."""
    report = REPO / "test-artifacts" / f"every-page-{part}.txt"
    report.parent.mkdir(exist_ok=True)
    pages = sum(len(paths) for paths in result.visited.values())
    report.write_text(
        "\n".join(
            [
                f"{pages} pages in {result.seconds:.0f} s",
                *result.timings,
                "",
                *result.errors,
                *result.axe,
                *result.sideways,
            ]
        )
        + "\n"
    )


def _seed_demo() -> None:
    """Seed the small demo, unless it is there (seeding is idempotent; this saves the time)."""
    from sst.models import User

    if User.objects.filter(username=ROLE_USERS["mentor"]).exists():
        return
    defaults = importlib.import_module("cases.migrations.0004_default_cause_factors")
    # A transactional test before this one may have emptied the catalogue the migration
    # fills; the administration's cause-factor list must have rows to be checked.
    defaults.add_default_cause_factors(apps, None)
    call_command("seed_demo", students=60, attendance_days=30, verbosity=0)


@pytest.fixture(scope="module")
def demo_site(django_db_setup, django_db_blocker) -> Iterator[None]:  # type: ignore[no-untyped-def]
    """The demo, small, committed for the live server; the database is emptied afterwards
    (as pytest-django does after every transactional test)."""
    _require_chromium()
    _require_axe()
    from sst.celery import app

    eager = app.conf.task_always_eager
    app.conf.task_always_eager = True  # as tests/conftest.py's _tasks_in_process, module-wide
    with django_db_blocker.unblock():
        _seed_demo()
    try:
        yield
    finally:
        with django_db_blocker.unblock():
            call_command("flush", interactive=False, verbosity=0)
        app.conf.task_always_eager = eager


@pytest.fixture(
    scope="module",
    params=[
        # One xdist group each: a part's three tests share its crawl, on one worker.
        pytest.param(part, marks=pytest.mark.xdist_group(f"every-page-{part}"))
        for part in PARTS
    ],
)
def crawl(request, demo_site, live_server, django_db_blocker) -> Iterator[Crawl]:  # type: ignore[no-untyped-def]
    """One browser, one context per role; axe at desktop width, the width check at 390 px."""
    part = request.param
    from playwright.sync_api import sync_playwright

    result = Crawl(part)
    started = time.monotonic()
    previous = os.environ.get("DJANGO_ALLOW_ASYNC_UNSAFE")
    os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = "true"  # see conftest._chromium
    try:
        with django_db_blocker.unblock(), sync_playwright() as playwright:
            # In one process (no xdist) the other part's tests ran first, and pytest-django
            # emptied the database after each: seed it again.
            _seed_demo()
            browser = playwright.chromium.launch(
                executable_path=str(CHROMIUM), headless=True, args=CHROMIUM_ARGS
            )
            try:
                for role in _roles(part):
                    _crawl_role(browser, live_server.url, role, ROLE_USERS[role], result)
            finally:
                browser.close()
                result.seconds = time.monotonic() - started
                _write_report(result, part)
    finally:
        if previous is None:
            os.environ.pop("DJANGO_ALLOW_ASYNC_UNSAFE", None)
        else:
            os.environ["DJANGO_ALLOW_ASYNC_UNSAFE"] = previous
    yield result


def test_the_parts_crawl_every_role_once():
    roles = [role for part in PARTS.values() for role in part]
    assert sorted(roles) == sorted(ROLE_USERS)


def test_the_crawl_reaches_every_role_s_pages_and_the_whole_administration(crawl):
    """The two checks below mean something only if the crawl got around."""
    if os.environ.get("SST_CRAWL_ROLES"):
        pytest.skip("SST_CRAWL_ROLES chose some roles only")
    assert set(crawl.visited) == set(_roles(crawl.part))
    for role, patterns in crawl.patterns.items():
        assert "sst:desk" in patterns, role
    assert crawl.errors == []
    if crawl.part == "administration":
        assert {"sst:audit_log", "imports:history"} <= crawl.patterns["administrator"]
        for model in admin_site._registry:
            meta = model._meta
            for view in ("changelist", "add"):
                assert (
                    f"admin:{meta.app_label}_{meta.model_name}_{view}"
                    in (crawl.patterns["administrator"])
                )
        return
    for role in ("mentor", "principal", "counsellor", "special_educator", "school_nurse"):
        assert "cases:student_list" in crawl.patterns[role], role
    # The demo's school steps (cases, checklists, the EHT, mappings) are spread over its
    # schools: the roles together reach every step's pages.
    reached = set().union(*crawl.patterns.values())
    assert {
        "cases:student_detail",
        "attendance:student",
        "cases:case_detail",
        "cases:checklist_detail",
        "cases:eht_school",
        "cases:mapping_detail",
        "cases:principal_report",
        "cases:eht_case",
        "cases:mapping_overview",
        "reports:head_monthly",
        "reports:dashboard",
        "reports:term",
        "reports:coordinator",
    } <= reached


def test_no_page_has_an_accessibility_violation_for_any_role(crawl):
    assert crawl.axe == [], "\n".join(crawl.axe)


def test_no_page_scrolls_sideways_on_a_phone(crawl):
    assert crawl.sideways == [], "\n".join(crawl.sideways)
