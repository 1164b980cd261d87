"""The managers' report pages: scope by role, aggregates only, the PDF run and its file."""

from __future__ import annotations

import datetime
import io

import pytest
from django.core.files.storage import storages
from django.urls import reverse
from django.utils import timezone

from reports.models import ReportRun, RunStatus
from reports.runs import report_runs_purge
from sst.models import AuditEvent
from tests.conftest import verified_login

from .report_setup import build_world

pytestmark = pytest.mark.django_db


@pytest.fixture
def world():
    return build_world()


@pytest.fixture
def private_dir(monkeypatch, tmp_path):
    storage = storages["private"]
    monkeypatch.setattr(storage, "base_location", str(tmp_path), raising=False)
    monkeypatch.setattr(storage, "location", str(tmp_path), raising=False)
    return tmp_path


def _ask_pdf(client, capture, scope="school:77000001", term="HT2025"):
    with capture(execute=True):
        return client.post(reverse("reports:term_pdf"), {"scope": scope, "term": term})


def _get(client, user, name, **query):
    verified_login(client, user)
    return client.get(reverse(name), query)


def test_the_municipality_manager_drills_down_from_the_municipality_to_a_school(client, world):
    response = _get(client, world.municipality_manager, "reports:dashboard")
    assert response.status_code == 200
    page = response.content.decode()
    assert "Rapportby kommun" in page and "Norr" in page and "Söder" in page
    assert f"scope=district%3A{world.north.pk}" in page
    response = client.get(reverse("reports:dashboard"), {"scope": f"district:{world.north.pk}"})
    assert response.status_code == 200 and "Askskolan" in response.content.decode()
    response = client.get(reverse("reports:dashboard"), {"scope": "school:77000001"})
    assert response.status_code == 200


@pytest.mark.parametrize(
    "scope", ["school:77000002", "district:{north}", "municipality", "school:77000003", "nonsense"]
)
def test_a_school_manager_gets_nothing_outside_their_school(client, world, scope):
    verified_login(client, world.school_a_manager)
    scope = scope.format(north=world.north.pk)
    refusals = AuditEvent.objects.filter(actor_id=world.school_a_manager.pk, action="access_denied")
    for name in ("reports:dashboard", "reports:term", "reports:term_xlsx"):
        before = refusals.count()
        response = client.get(reverse(name), {"scope": scope, "term": "HT2025"})
        assert response.status_code == 404, (name, scope)
        assert refusals.count() == before + 1, (name, scope)  # each refusal audited
    response = client.post(reverse("reports:term_pdf"), {"scope": scope, "term": "HT2025"})
    assert response.status_code == 404
    assert not ReportRun.objects.exists()


def test_a_district_manager_cannot_see_the_other_district(client, world):
    verified_login(client, world.north_manager)
    assert client.get(reverse("reports:dashboard")).status_code == 200
    response = client.get(reverse("reports:term"), {"scope": f"district:{world.south.pk}"})
    assert response.status_code == 404
    response = client.get(reverse("reports:term"), {"scope": "school:77000003"})
    assert response.status_code == 404


def test_roles_without_reports_get_404_and_no_menu_item(client, world):
    verified_login(client, world.principal_a)
    assert client.get(reverse("reports:dashboard")).status_code == 404
    desk = client.get(reverse("sst:desk")).content.decode()
    assert reverse("reports:dashboard") not in desk


def test_the_manager_desk_links_to_the_reports(client, world):
    verified_login(client, world.school_a_manager)
    desk = client.get(reverse("sst:desk")).content.decode()
    assert f"{reverse('reports:dashboard')}?scope=school%3A77000001" in desk


def test_the_term_page_shows_the_figures_with_small_counts_suppressed(client, world, settings):
    response = _get(
        client, world.school_a_manager, "reports:term", scope="school:77000001", term="HT2025"
    )
    page = response.content.decode()
    assert response.status_code == 200
    # Grade 8 has two students: "< 5", and so its percentages; grade 7's six are hidden
    # too, or the total (8, shown) would give grade 8 away. The total's figures stand.
    assert "16,69" not in page and "50,00" not in page
    assert "&lt; 5" in page
    assert "21,45" in page
    settings.SST_SMALL_COUNT_THRESHOLD = 2
    page = client.get(reverse("reports:term"), {"scope": "school:77000001", "term": "HT2025"})
    assert "16,69" in page.content.decode() and "50,00" in page.content.decode()
    event = AuditEvent.objects.filter(actor_id=world.school_a_manager.pk, object_type="term_report")
    assert event.exists()


def test_a_bad_term_gets_a_message_and_the_current_term(client, world):
    response = _get(
        client, world.school_a_manager, "reports:term", scope="school:77000001", term="HT20x5"
    )
    assert response.status_code == 400
    assert "HT2025" in response.content.decode()  # the message shows how to write it


def test_the_xlsx_has_the_tables(client, world):
    from openpyxl import load_workbook

    response = _get(
        client, world.school_a_manager, "reports:term_xlsx", scope="school:77000001", term="HT2025"
    )
    assert response.status_code == 200
    assert "terminsrapport" in response["Content-Disposition"]
    book = load_workbook(io.BytesIO(response.content))
    assert "franvaro_per_arskurs" in book.sheetnames
    assert AuditEvent.objects.filter(action="export", object_type="term_report").exists()


def test_the_pdf_is_made_in_the_background_and_only_its_requester_downloads_it(
    client, world, private_dir, django_capture_on_commit_callbacks
):
    verified_login(client, world.north_manager)
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            reverse("reports:term_pdf"), {"scope": f"district:{world.north.pk}", "term": "HT2025"}
        )
    run = ReportRun.objects.get()
    assert response.status_code == 302 and response["Location"] == reverse(
        "reports:run", args=[run.public_id]
    )
    assert run.status == RunStatus.DONE and run.progress == 100
    assert run.expires_at > timezone.now() + datetime.timedelta(days=6)
    page = client.get(reverse("reports:run", args=[run.public_id])).content.decode()
    assert reverse("reports:run_file", args=[run.public_id]) in page
    response = client.get(reverse("reports:run_file", args=[run.public_id]))
    assert response.status_code == 200 and response.content.startswith(b"%PDF")
    assert AuditEvent.objects.filter(action="export", object_type="report_run").count() == 1
    # Not even the municipality's manager may take someone else's file.
    client.logout()
    verified_login(client, world.municipality_manager)
    for name in ("reports:run", "reports:run_file"):
        assert client.get(reverse(name, args=[run.public_id])).status_code == 404


def test_a_requester_who_lost_the_scope_cannot_download(
    client, world, private_dir, django_capture_on_commit_callbacks
):
    verified_login(client, world.school_a_manager)
    _ask_pdf(client, django_capture_on_commit_callbacks)
    run = ReportRun.objects.get()
    world.school_a_manager.memberships.update(
        ends_on=timezone.localdate() - datetime.timedelta(days=1)
    )
    assert client.get(reverse("reports:run_file", args=[run.public_id])).status_code == 404


def test_files_are_deleted_after_the_keeping_time(
    client, world, private_dir, django_capture_on_commit_callbacks
):
    verified_login(client, world.school_a_manager)
    _ask_pdf(client, django_capture_on_commit_callbacks)
    run = ReportRun.objects.get()
    assert (private_dir / run.stored_path).exists()
    report_runs_purge(now=timezone.now() + datetime.timedelta(days=8))
    run.refresh_from_db()
    assert run.status == RunStatus.EXPIRED and not list(private_dir.rglob("*.pdf"))
    assert client.get(reverse("reports:run_file", args=[run.public_id])).status_code == 404


def test_a_run_past_its_memory_cap_fails_with_a_message(
    client, world, private_dir, settings, django_capture_on_commit_callbacks
):
    settings.REPORT_MEMORY_CAP_MB = -1
    verified_login(client, world.school_a_manager)
    _ask_pdf(client, django_capture_on_commit_callbacks)
    run = ReportRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "minne" in run.error or "memory" in run.error
    assert not list(private_dir.rglob("*.pdf"))


def test_a_run_past_its_time_limit_fails_with_a_message(
    client, world, private_dir, monkeypatch, django_capture_on_commit_callbacks
):
    from celery.exceptions import SoftTimeLimitExceeded

    import reports.term_report

    def too_slow(*args, **kwargs):
        raise SoftTimeLimitExceeded()

    monkeypatch.setattr(reports.term_report, "build_term_report", too_slow)
    verified_login(client, world.school_a_manager)
    _ask_pdf(client, django_capture_on_commit_callbacks)
    run = ReportRun.objects.get()
    assert run.status == RunStatus.FAILED
    assert "tidsgränsen" in run.error or "time limit" in run.error
