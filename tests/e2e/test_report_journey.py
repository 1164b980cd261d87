"""A manager downloads the term report as PDF, in real headless Chromium, in Swedish: the desk
→ Rapporter → the municipality's dashboard → drill down to a district and back → the term
report for HT2025 → "Ladda ner som PDF" → the run's page → the file, whose text has the
figures.

The municipality and its monthly absence are tests/reports/report_setup.py's (hand-computed
figures). Screenshots go to test-artifacts/<test>/, on a desktop and at 390 px.
"""

from __future__ import annotations

import io

import pytest
from django.core.files.storage import storages

from ..reports.report_setup import build_world
from .browser import both_sizes, sign_in

pytestmark = pytest.mark.browser


@pytest.fixture
def private_dir(monkeypatch, tmp_path):
    storage = storages["private"]
    monkeypatch.setattr(storage, "base_location", str(tmp_path), raising=False)
    monkeypatch.setattr(storage, "location", str(tmp_path), raising=False)
    return tmp_path


def test_a_manager_downloads_the_term_report_pdf(
    browser_page, live_server, transactional_db, private_dir, shot
):
    from pypdf import PdfReader

    world = build_world()
    page = browser_page
    sign_in(page, live_server.url, world.municipality_manager.username)
    page.get_by_role("link", name="Rapporter", exact=True).first.click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Rapportby kommun").is_visible()
    both_sizes(page, shot, "dashboard")

    page.get_by_role("link", name="Öppna Norr").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Norr", exact=True).is_visible()
    page.get_by_role("link", name="Rapportby kommun").click()
    page.wait_for_load_state()
    page.get_by_role("link", name="Terminsrapport", exact=True).click()
    page.wait_for_load_state()
    page.get_by_label("Termin").select_option("HT2025")
    page.get_by_role("button", name="Visa").click()
    page.wait_for_load_state()
    assert page.get_by_role("heading", name="Terminsrapport HT2025").is_visible()
    # The municipality: grade 8 (two students) is "< 5", grade 7 hidden with it; the
    # total of 10 students is shown.
    table = page.locator("#tabell-franvaro_per_arskurs")
    assert "< 5" in table.inner_text() and "25,39" in table.inner_text()
    both_sizes(page, shot, "term-report")

    page.get_by_role("button", name="Ladda ner som PDF").click()
    page.wait_for_load_state()
    assert page.get_by_text("PDF:en är klar").is_visible()
    shot(page, "run-done")
    with page.expect_download() as download_info:
        page.get_by_role("link", name="Ladda ner PDF:en").click()
    download = download_info.value
    assert download.suggested_filename.startswith("terminsrapport-HT2025")
    with open(download.path(), "rb") as pdf:
        text = " ".join(sheet.extract_text() for sheet in PdfReader(io.BytesIO(pdf.read())).pages)
    assert "Rapportby kommun" in text and "HT2025" in text
    # The municipality's total: 3003 + 160 + 900 of 16,000 minutes → 25,39 %.
    assert "25,39" in text
