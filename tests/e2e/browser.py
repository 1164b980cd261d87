"""What the browser journeys share: signing in, a fresh Swedish page, the two widths."""

from __future__ import annotations

PASSWORD = "correct-horse-battery"  # UserFactory's password for every person in `world`
DESKTOP = {"width": 1280, "height": 800}
PHONE = {"width": 390, "height": 844}


def sign_in(page, base_url: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base_url}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


def new_page(browser):  # type: ignore[no-untyped-def]
    """A page in a context of its own (no cookies shared), in Swedish, at desktop width."""
    context = browser.new_context(locale="sv-SE", viewport=DESKTOP)
    context.set_default_timeout(10_000)
    return context, context.new_page()


def fits_a_phone(page) -> bool:  # type: ignore[no-untyped-def]
    return bool(page.evaluate("document.documentElement.scrollWidth <= 390"))


def both_sizes(page, shot, name: str) -> None:  # type: ignore[no-untyped-def]
    """A screenshot at desktop width, then at 390 px after checking nothing scrolls sideways."""
    shot(page, name)
    page.set_viewport_size(PHONE)
    assert fits_a_phone(page), name
    shot(page, f"{name}-390")
    page.set_viewport_size(DESKTOP)
