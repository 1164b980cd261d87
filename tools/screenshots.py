"""Take the README screenshots (docs/screenshots/*.png) from a running demo server.

Uses Debian's Chromium (/usr/bin/chromium) through Playwright, signs in through the real forms
as the demo users of ``seed_demo`` and asks ``manage.py demo_totp`` for the administrator's
two-factor code, so run it with the same DATABASE_URL as the server::

    apt-get install chromium chromium-l10n   # l10n: Swedish date fields
    export DATABASE_URL=sqlite:////work/main/var/shots.sqlite3
    rm -f var/shots.sqlite3
    .venv/bin/python manage.py migrate -v0
    .venv/bin/python manage.py seed_demo
    .venv/bin/python manage.py runserver 127.0.0.1:8765 --noreload &
    .venv/bin/python tools/screenshots.py --base-url http://127.0.0.1:8765

All data shown is the fictitious demo municipality. Never point this at a real installation.
"""

from __future__ import annotations

import argparse
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
OUT = ROOT / "docs" / "screenshots"
CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
    "--no-first-run",
    "--lang=sv-SE",
]
# The browser's own widgets (the date fields' "åååå-mm-dd") follow the process locale; they
# are Swedish only if Debian's chromium-l10n is installed as well (else US "mm/dd/yyyy").
CHROMIUM_ENV = {**os.environ, "LANG": "sv_SE.UTF-8", "LANGUAGE": "sv"}
PASSWORD = "demo-sst-2026"  # noqa: S105 - the published demo password (README, sst/demo.py)
MENTOR = "mentor.ekbacken"
COUNSELLOR = "kurator.ekbacken"
OTHER_SCHOOL_COUNSELLOR = "kurator.bjorkdalen"
ADMIN = "admin.kommun"
VIEWPORT = {"width": 1280, "height": 800}
MAX_HEIGHT = 1600  # clip very long pages (the student list) so the PNGs stay small


def demo_totp(username: str) -> str:
    """The administrator's current code, from the demo's shared secret."""
    result = subprocess.run(  # noqa: S603 - fixed arguments, our own manage.py
        [sys.executable, str(ROOT / "manage.py"), "demo_totp", username],
        cwd=ROOT,
        check=True,
        capture_output=True,
        text=True,
    )
    return result.stdout.strip()


def save(page, name: str, *, full_page: bool = True) -> Path:  # type: ignore[no-untyped-def]
    """Save a PNG, clipped to MAX_HEIGHT and re-compressed with a palette when Pillow is there."""
    height = page.evaluate("() => document.documentElement.scrollHeight")
    if full_page and height > MAX_HEIGHT:
        png = page.screenshot(
            full_page=True, clip={"x": 0, "y": 0, "width": VIEWPORT["width"], "height": MAX_HEIGHT}
        )
    else:
        png = page.screenshot(full_page=full_page)
    path = OUT / name
    try:
        from PIL import Image

        image = Image.open(io.BytesIO(png)).convert("RGB")
        image = image.quantize(
            colors=256, method=Image.Quantize.MEDIANCUT, dither=Image.Dither.NONE
        )
        image.save(path, optimize=True)
    except ImportError:
        path.write_bytes(png)
    print(f"{path.relative_to(ROOT)}  {path.stat().st_size // 1024} KB")
    return path


def sign_in(page, base: str, username: str) -> None:  # type: ignore[no-untyped-def]
    page.goto(f"{base}/logga-in/")
    page.get_by_label("Användarnamn").fill(username)
    page.get_by_label("Lösenord").fill(PASSWORD)
    page.get_by_role("button", name="Logga in").click()
    page.wait_for_load_state()


def verify_second_factor(page, username: str) -> None:  # type: ignore[no-untyped-def]
    """Enter the TOTP code; a code is accepted once, so wait for a fresh one if refused."""
    for attempt in range(3):
        if "/tvafaktor/verifiera/" not in page.url:
            return
        if attempt:
            time.sleep(31 - time.time() % 30)  # into the next 30-second window
        page.locator("input[name=token]").fill(demo_totp(username))
        page.locator("main form button[type=submit]").click()
        page.wait_for_load_state()
    if "/tvafaktor/verifiera/" in page.url:
        raise SystemExit(f"{username}: the two-factor code was not accepted")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base-url", default="http://127.0.0.1:8765")
    args = parser.parse_args()
    base = args.base_url.rstrip("/")
    OUT.mkdir(parents=True, exist_ok=True)

    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(
            executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS, env=CHROMIUM_ENV
        )

        def context():  # type: ignore[no-untyped-def]
            return browser.new_context(locale="sv-SE", viewport=VIEWPORT).new_page()

        # Signed out: the sign-in page.
        page = context()
        page.goto(f"{base}/logga-in/")
        save(page, "login.png", full_page=False)

        # A student at another school, to show the mentor being refused.
        page = context()
        sign_in(page, base, OTHER_SCHOOL_COUNSELLOR)
        page.goto(f"{base}/elever/")
        other_school_student = page.locator("main table a[href^='/elever/']").first.get_attribute(
            "href"
        )

        # The mentor: the desk, one of their students, and another school's student (404).
        page = context()
        sign_in(page, base, MENTOR)
        save(page, "desk-mentor.png")
        page.locator("table.my-students a").first.click()
        page.wait_for_load_state()
        save(page, "student-page.png")
        page.goto(f"{base}{other_school_student}")
        save(page, "404.png", full_page=False)

        # The counsellor: every student at the school.
        page = context()
        sign_in(page, base, COUNSELLOR)
        page.goto(f"{base}/elever/")
        save(page, "student-list-counsellor.png")

        # The municipality administrator, after the second factor: the audit log.
        page = context()
        sign_in(page, base, ADMIN)
        verify_second_factor(page, ADMIN)
        page.goto(f"{base}/granskningslogg/")
        save(page, "audit-log-admin.png")

        browser.close()


if __name__ == "__main__":
    main()
