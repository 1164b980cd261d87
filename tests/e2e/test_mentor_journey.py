"""A mentor's journey in real headless Chromium: sign in through the real form (django-axes
watches it), see their own students in Swedish, and be refused another school's student.

Screenshots of every step go to test-artifacts/<test name>/ (git-ignored) for debugging.
"""

from __future__ import annotations

import re

import pytest

from ..privacy import find_personnummer

pytestmark = pytest.mark.browser

PASSWORD = "correct-horse-battery"  # UserFactory's password for every person in `world`


def _urls_seen(page) -> list[str]:  # type: ignore[no-untyped-def]
    """Record every URL the page requests or navigates to (pages, redirects, static files)."""
    seen: list[str] = []
    page.on("request", lambda request: seen.append(request.url))
    page.on("framenavigated", lambda frame: seen.append(frame.url))
    return seen


def _sign_in(page, base_url: str, username: str, password: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(password)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


def test_mentor_sees_own_students_in_swedish_and_is_refused_other_school(
    browser_page, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url
    urls = _urls_seen(page)

    # The sign-in page, in Swedish by default (the browser asks for sv-SE anyway).
    page.goto(f"{base}/logga-in/")
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "Logga in"
    shot(page, "login")

    # Sign in through the real form and land on "my desk".
    _sign_in(page, base, world.mentor_a1.username, PASSWORD)
    assert page.url == f"{base}/"
    assert page.get_by_role("heading", level=1).inner_text() == "Mitt skrivbord"
    desk = page.locator("main").inner_text()
    assert "Frånvaro i mina grupper" in desk
    assert "Ekholmsson, Alva" in desk  # student_a1, the mentor's own group 7A
    assert "Algotsson" not in desk  # student_a2: same school, another group
    assert "Björkqvist" not in desk  # student_b1: another school
    shot(page, "desk")

    # The mentor's student opens from the desk.
    page.get_by_role("link", name="Ekholmsson, Alva").click()
    page.wait_for_load_state()
    # The desk links to the student's absence page; it names her, and so does her record.
    assert page.url == f"{base}/franvaro/elev/{world.student_a1.public_id}/"
    assert world.student_a1.full_name in page.get_by_role("heading", level=1).inner_text()
    page.goto(f"{base}/elever/{world.student_a1.public_id}/")
    assert page.get_by_role("heading", level=1).inner_text() == world.student_a1.full_name
    assert "Vårdnadshavare" in page.locator("main").inner_text()
    shot(page, "student")

    # Another school's student, by direct address: a Swedish 404 that reveals nothing.
    response = page.goto(f"{base}/elever/{world.student_b1.public_id}/")
    assert response is not None
    assert response.status == 404
    assert page.locator("html").get_attribute("lang") == "sv"
    assert page.get_by_role("heading", level=1).inner_text() == "Sidan hittades inte"
    body = page.locator("body").inner_text()
    assert "Björkqvist" not in body
    assert "Maja" not in body
    shot(page, "404")

    # No address the browser visited carried a personal identity number.
    assert urls, "no URLs were recorded"
    leaked = [url for url in urls if find_personnummer(url)]
    assert leaked == []


def test_wrong_password_shows_swedish_error_and_stays_on_login(
    browser_page, live_server, e2e_world, shot
):
    page, world = browser_page, e2e_world
    base = live_server.url

    _sign_in(page, base, world.mentor_a1.username, "fel-lösenord")

    assert page.url.startswith(f"{base}/logga-in/")
    assert page.get_by_role("heading", level=1).inner_text() == "Logga in"
    # Django's own Swedish message for AuthenticationForm.invalid_login.
    assert page.get_by_text(re.compile(r"Ange ett korrekt .* och lösenord")).is_visible()
    shot(page, "wrong-password")
    # Still signed out: the desk sends us back to the sign-in page.
    page.goto(f"{base}/")
    assert page.url.startswith(f"{base}/logga-in/")


def test_desk_is_keyboard_accessible(browser_page, live_server, e2e_world, shot):
    page, world = browser_page, e2e_world
    base = live_server.url
    _sign_in(page, base, world.mentor_a1.username, PASSWORD)
    assert page.get_by_role("heading", level=1).inner_text() == "Mitt skrivbord"

    # One main landmark, which the skip link targets.
    assert page.get_by_role("main").count() == 1

    # The skip link is the first thing Tab reaches, and it becomes visible when focused.
    page.locator("body").focus()
    page.keyboard.press("Tab")
    focused = page.evaluate(
        "() => ({text: document.activeElement.textContent.trim(),"
        " href: document.activeElement.getAttribute('href')})"
    )
    assert focused == {"text": "Hoppa till huvudinnehållet", "href": "#main"}
    assert page.get_by_role("link", name="Hoppa till huvudinnehållet").is_visible()
    shot(page, "skip-link-focused")

    # Following it moves focus into the main content.
    page.keyboard.press("Enter")
    assert page.evaluate("() => document.activeElement.id") == "main"


def test_tables_wider_than_a_phone_can_be_scrolled_from_the_keyboard(
    browser_page, live_server, e2e_world, shot
):
    """At phone width a table that overflows its box must be reachable with Tab (WCAG
    2.1.1): the box becomes a focusable, named region; at desktop width, where the tables
    fit, no box is put in the tab order."""
    page, world = browser_page, e2e_world
    base = live_server.url
    _sign_in(page, base, world.mentor_a1.username, PASSWORD)
    desk = f"{base}/"  # the mentor's group table: wider than a phone

    page.set_viewport_size({"width": 390, "height": 800})
    page.goto(desk)
    boxes = page.locator(".table-responsive")
    overflowing = [
        i
        for i in range(boxes.count())
        if boxes.nth(i).evaluate("box => box.scrollWidth > box.clientWidth")
    ]
    assert overflowing, "the desk's group table should overflow at 390 px"
    for i in overflowing:
        box = boxes.nth(i)
        assert box.get_attribute("tabindex") == "0"
        assert box.get_attribute("role") == "region"
        assert box.get_attribute("aria-label")
    shot(page, "phone")

    page.set_viewport_size({"width": 1280, "height": 800})
    page.goto(desk)
    assert page.locator(".table-responsive[tabindex='0']").count() == 0
