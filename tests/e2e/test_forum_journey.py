"""The referral forum's journey in real headless Chromium, in Swedish: agenda → decide →
assign.

A forum member opens today's meeting from the desk, reads the anonymous referral on the
agenda and decides: accepted, placed in the queue. The coordinator opens the queue from
the desk and assigns a social worker of the school's district. The social worker finds the
assignment under "Mina uppdrag" on the desk, still anonymous: no consent covers the case
yet. No page any of the three reaches names the student or a guardian, or shows a
personnummer; the e-mail notices (the live server runs in this process, so Django's
in-memory outbox sees them) carry no names either.

Screenshots go to test-artifacts/<test>/.
"""

from __future__ import annotations

import pytest
from django.utils import timezone

from cases.models import CaseState
from referrals.models import AcceptedAs, Assignment, DecisionKind, ReferralState

from ..privacy import find_personnummer
from ..referrals.forum_support import forum_world, on_agenda
from .browser import PHONE, fits_a_phone, sign_in

pytestmark = pytest.mark.browser


def _new_page(browser):  # type: ignore[no-untyped-def]
    context = browser.new_context(locale="sv-SE", viewport={"width": 1280, "height": 800})
    context.set_default_timeout(10_000)
    return context, context.new_page()


class Identity:
    """What must never appear on the team's anonymous pages: names and personnummer."""

    def __init__(self, world) -> None:  # type: ignore[no-untyped-def]
        student, guardian = world.student_a1, world.guardian_a1
        self.words = [
            student.first_name,
            student.last_name,
            guardian.first_name,
            guardian.last_name,
            student.personnummer.value,
            student.personnummer.ten_digit,
            guardian.personnummer.value,
            guardian.personnummer.ten_digit,
        ]

    def leaks(self, text: str) -> list[str]:
        return [word for word in self.words if word in text] + find_personnummer(text)


def test_forum_decides_the_coordinator_assigns_and_the_social_worker_sees_it_anonymously(
    browser_page, _chromium, live_server, e2e_world, shot, mailoutbox
):
    page, world = browser_page, e2e_world
    base = live_server.url
    fw = forum_world(world)
    fw.meeting.starts_at = timezone.now()
    fw.meeting.save(update_fields=["starts_at"])
    referral = on_agenda(fw)
    case = referral.case
    social_worker = fw.social_worker_n
    social_worker.first_name, social_worker.last_name = "Sara", "Socionomsson"
    social_worker.save(update_fields=["first_name", "last_name"])
    identity = Identity(world)
    seen: list[str] = []

    def look(p) -> str:  # type: ignore[no-untyped-def]
        html = p.content()
        seen.append(p.url)
        assert identity.leaks(html) == [], p.url
        return html

    # The member opens today's agenda from the desk: the referral, anonymously.
    sign_in(page, base, fw.member_n.username)
    panel = page.locator(".forum-panel")
    assert "Remissforum Norra" in panel.inner_text()
    look(page)
    shot(page, "member-desk")
    panel.get_by_role("link", name="Öppna dagordningen").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/team/forum/mote/{fw.meeting.public_id}/")
    item = page.locator(".agenda-item")
    assert item.count() == 1
    assert f"Uppdragsförfrågan {referral.number}" in item.inner_text()
    assert "Ekbackens skola" in item.inner_text()
    look(page)
    shot(page, "agenda")

    page.set_viewport_size(PHONE)
    page.reload()
    assert fits_a_phone(page)
    shot(page, "agenda-390")
    page.set_viewport_size({"width": 1280, "height": 800})

    # The decision: accepted, placed in the queue, with a reason.
    page.get_by_role("link", name=f"Besluta om uppdragsförfrågan {referral.number}").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/beslut/{referral.public_id}/")
    look(page)
    page.locator(f'input[name="kind"][value="{DecisionKind.ACCEPTED}"]').check()
    page.locator(f'input[name="accepted_as"][value="{AcceptedAs.QUEUE}"]').check()
    page.get_by_label("Skäl").fill("Behovet är tydligt; ingen skolsocionom är ledig i dag.")
    shot(page, "decision-form")
    page.get_by_role("button", name="Registrera beslutet").click()
    page.wait_for_load_state()
    assert page.url.endswith(f"/team/forum/mote/{fw.meeting.public_id}/")
    main = page.locator("main").inner_text()
    assert f"Beslutet om uppdragsförfrågan {referral.number} registrerades" in main
    assert "Placeras i kö" in page.locator(".agenda-item .decision").inner_text()
    look(page)
    shot(page, "decided")
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.state == ReferralState.QUEUED
    assert case.state == CaseState.QUEUED
    decided_mail = [m for m in mailoutbox if "rektor_a@example.com" in m.to]
    assert len(decided_mail) == 1

    # The coordinator opens the queue from the desk and assigns the social worker.
    context, coordinator = _new_page(_chromium)
    try:
        sign_in(coordinator, base, fw.coordinator_n.username)
        look(coordinator)
        coordinator.locator(".coordinator-panel").get_by_role("link", name="Öppna kön").click()
        coordinator.wait_for_load_state()
        assert coordinator.url.endswith("/team/forum/ko/")
        row = coordinator.locator("table.queue tbody tr")
        assert row.count() == 1
        assert referral.number in row.inner_text()
        look(coordinator)
        shot(coordinator, "queue")
        coordinator.set_viewport_size(PHONE)
        coordinator.reload()
        assert fits_a_phone(coordinator)
        shot(coordinator, "queue-390")
        coordinator.set_viewport_size({"width": 1280, "height": 800})
        coordinator.get_by_label(
            f"Skolsocionom för uppdragsförfrågan {referral.number}"
        ).select_option(label="Sara Socionomsson")
        coordinator.get_by_role("button", name="Tilldela").click()
        coordinator.wait_for_load_state()
        assert coordinator.url.endswith("/team/forum/ko/")
        assert (
            f"En skolsocionom tilldelades uppdragsförfrågan {referral.number}."
            in coordinator.locator("main").inner_text()
        )
        assert "Kön är tom" in coordinator.locator("table.queue").inner_text()
        look(coordinator)
        shot(coordinator, "assigned")
    finally:
        context.close()
    referral.refresh_from_db()
    case.refresh_from_db()
    assert referral.state == ReferralState.ASSIGNED
    assert case.state == CaseState.ACCEPTED
    assert Assignment.objects.get(referral=referral, ended_at__isnull=True).social_worker == (
        social_worker
    )
    assigned_mail = [m for m in mailoutbox if "socionom_n@example.com" in m.to]
    assert len(assigned_mail) == 1

    # The social worker: the assignment on the desk, anonymous, without a link to the case.
    context, worker = _new_page(_chromium)
    try:
        sign_in(worker, base, social_worker.username)
        assignments = worker.locator(".assignments-panel")
        assert assignments.get_by_role("heading", name="Mina uppdrag").count() == 1
        text = assignments.inner_text()
        assert f"Uppdragsförfrågan {referral.number}" in text and "Inget samtycke" in text
        assert assignments.get_by_role("link", name="Öppna ärendet").count() == 0
        look(worker)
        shot(worker, "social-worker-desk")
        worker.set_viewport_size(PHONE)
        worker.reload()
        assert fits_a_phone(worker)
        shot(worker, "social-worker-desk-390")
        worker.set_viewport_size({"width": 1280, "height": 800})
        assignments.get_by_role("link", name=f"Uppdragsförfrågan {referral.number}").click()
        worker.wait_for_load_state()
        assert worker.url.endswith(f"/team/samtycke/uppdrag/{referral.public_id}/")
        assert "Inget samtycke" in worker.locator("main").inner_text()
        look(worker)
        shot(worker, "social-worker-referral")
        # The case itself stays closed to them until a valid consent covers it.
        worker.goto(f"{base}/elever/arende/{case.public_id}/")
        assert "Sidan hittades inte" in worker.locator("main").inner_text()
    finally:
        context.close()

    for message in mailoutbox:
        assert identity.leaks(message.subject + message.body) == []
    assert [url for url in seen if find_personnummer(url)] == []
