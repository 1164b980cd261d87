"""Issue 13: no state change on GET. Every page of the demo that a person reaches by following
links from their desk, fetched as each role, leaves the row count of every table unchanged
(audit and session rows aside), and so do the pattern URLs with made-up ids."""

from __future__ import annotations

import io
import re
from collections import deque

from django.core.management import call_command
from django.test import Client
from django.urls import Resolver404, resolve
from django_otp.plugins.otp_totp.models import TOTPDevice

from sst import demo
from sst.models import User

from ..conftest import verified_login
from ..rowcounts import changed, snapshot
from .test_url_coverage import ALL, sample_url

PAGES_PER_PERSON = 45
# Links that are not pages of the app, or that sign the person out.
SKIP = re.compile(r"^/(static/|logga-ut/|i18n/)")
HREF = re.compile(r'href="(/[^"#]*)"')


# Downloads rendered by WeasyPrint take seconds each: each is fetched once in the whole crawl
# (by the first person who reaches it), not once per person.
DOWNLOADS = frozenset(
    {
        "referrals:minutes_pdf",
        "referrals:consent_form_pdf",
        "referrals:consent_form_blank",
        "referrals:consent_scan_download",
        "actionplans:plan_pdf",
        "reports:head_monthly_pdf",
    }
)


def _url_name(url: str) -> str | None:
    try:
        return resolve(url.split("?", 1)[0]).view_name
    except Resolver404:
        return None


def _crawl(
    client: Client, start: str = "/", downloads: set[str] | None = None
) -> list[tuple[str, int]]:
    seen, queue, fetched = {start}, deque([start]), []
    downloads = downloads if downloads is not None else set()
    while queue and len(fetched) < PAGES_PER_PERSON:
        url = queue.popleft()
        name = _url_name(url)
        if name in DOWNLOADS:
            if name in downloads:
                continue
            downloads.add(name)
        response = client.get(url)
        fetched.append((url, response.status_code))
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in HREF.findall(response.content.decode()):
            link = link.replace("&amp;", "&")
            if link not in seen and not SKIP.match(link):
                seen.add(link)
                queue.append(link)
    return fetched


def test_no_get_of_the_demo_changes_a_row_for_any_role(db):
    call_command(
        "seed_demo", students=40, attendance_days=25, stdout=io.StringIO(), stderr=io.StringIO()
    )
    # One person per role (and the person with two roles); administrators are signed in with
    # their second factor verified, as the middleware requires.
    people: dict[str, str] = {}
    for demo_user in demo.demo_users():
        key = ",".join(sorted(role.role for role in demo_user.roles))
        people.setdefault(key, demo_user.username)
    assert len(people) >= 10
    routes = [sample_url(route) for route, _n, _c, admin in ALL if not admin]
    changes = {}
    downloads: set[str] = set()
    for username in people.values():
        client = Client()
        verified_login(client, User.objects.get(username=username))
        before = snapshot()
        fetched = _crawl(client, downloads=downloads)
        for url in routes:
            client.get(url)
        difference = changed(before, snapshot())
        if difference:
            changes[username] = difference
        assert fetched[0] == ("/", 200), (username, fetched)
        assert all(status < 500 for _url, status in fetched), (username, fetched)
    assert changes == {}


def test_opening_the_second_factor_enrolment_writes_no_device(world, client):
    client.force_login(world.admin_m)  # an administrator without a device yet
    before = snapshot()
    for _ in range(3):
        assert client.get("/tvafaktor/aktivera/").status_code == 200
    assert changed(before, snapshot()) == {}
    assert not TOTPDevice.objects.filter(user=world.admin_m).exists()
