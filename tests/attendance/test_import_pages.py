"""The import pages: who reaches them, the upload (size checked before it is read), the
result page with its progress bar and report, and the history.

Tasks run in-process here (no broker), so an upload is imported when the request's
transaction commits; ``django_capture_on_commit_callbacks(execute=True)`` runs that.
"""

from __future__ import annotations

import re
import uuid
from pathlib import Path

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse
from django.utils import translation

from attendance import import_views
from attendance.models import ImportKind, ImportRun, ImportStatus, Lesson
from sst.access import can_import, import_runs_visible_to, import_scopes_of
from sst.models import AuditEvent, Role, School

from ..conftest import verified_login
from ..factories import UserFactory, fake_personnummer, grant
from .test_imports import (
    STUDENT_HEADER,
    attendance_file,
    counts,
    csv_file,
    lesson_line,
    pnr_of,
    snapshot,
    student_line,
)

HISTORY = reverse("imports:history")
UPLOAD = reverse("imports:upload")


@pytest.fixture(autouse=True)
def _upload_dir(settings, tmp_path):  # type: ignore[no-untyped-def]
    settings.IMPORT_UPLOAD_DIR = str(tmp_path / "imports")
    return Path(settings.IMPORT_UPLOAD_DIR)


@pytest.fixture
def admin_a(world):  # type: ignore[no-untyped-def]
    user = UserFactory(username="admin_a", first_name="Sara", last_name="Skoladmin")
    grant(user, Role.ADMINISTRATOR, world.school_a)
    return user


@pytest.fixture
def admin_b(world):  # type: ignore[no-untyped-def]
    user = UserFactory(username="admin_b")
    grant(user, Role.ADMINISTRATOR, world.school_b)
    return user


def english(client: Client) -> Client:
    client.cookies["django_language"] = "en"
    return client


def signed_in(client: Client, user) -> Client:  # type: ignore[no-untyped-def]
    verified_login(client, user)
    return client


def post_file(
    client, data: bytes, kind: str = ImportKind.ATTENDANCE, school=None, name="f.csv", **extra
):  # type: ignore[no-untyped-def]
    form = {"kind": kind, "file": SimpleUploadedFile(name, data, content_type="text/csv")}
    if school is not None:
        form["school"] = school.pk
    return client.post(UPLOAD, form, **extra)


def text_of(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


# ---------------------------------------------------------------- the policy


def test_scopes(world, admin_a):
    assert import_scopes_of(world.admin_m)[0] is True
    assert set(import_scopes_of(world.admin_m)[1]) == {world.school_a, world.school_b}
    assert import_scopes_of(admin_a)[0] is False
    assert list(import_scopes_of(admin_a)[1]) == [world.school_a]
    for name in ("mentor_a1", "principal_a", "counsellor_a", "manager_m", "manager_a", "nobody"):
        assert not can_import(getattr(world, name)), name
    assert can_import(world.admin_m) and can_import(admin_a)


@pytest.mark.parametrize(
    "who",
    ["mentor_a1", "counsellor_a", "principal_a", "social_worker_n", "manager_m", "nobody"],
)
def test_everyone_else_gets_404_everywhere(client, world, who, admin_a):
    run = ImportRun.objects.create(
        kind=ImportKind.ATTENDANCE, file_name="a.csv", school_scope=world.school_a
    )
    signed_in(client, getattr(world, who))
    for url in (
        HISTORY,
        UPLOAD,
        reverse("imports:result", args=[run.public_id]),
        reverse("imports:status", args=[run.public_id]),
    ):
        assert client.get(url).status_code == 404, url
    response = post_file(client, attendance_file([lesson_line(world.student_a1, world.school_a)]))
    assert response.status_code == 404
    assert ImportRun.objects.count() == 1
    assert (
        AuditEvent.objects.filter(
            action="access_denied", actor_username=getattr(world, who).username
        ).count()
        == 5
    )


def test_an_administrator_must_pass_the_second_factor(client, admin_a):
    client.force_login(admin_a)
    response = client.get(HISTORY)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("sst:otp_setup"))


def test_an_ended_administrator_role_gives_nothing(client, world):
    import datetime

    user = UserFactory(username="former_admin")
    grant(
        user,
        Role.ADMINISTRATOR,
        world.school_a,
        starts_on=datetime.date(2020, 1, 1),
        ends_on=datetime.date(2020, 12, 31),
    )
    signed_in(client, user)
    assert client.get(HISTORY).status_code == 404


def test_a_school_administrator_sees_only_their_schools_runs(client, world, admin_a, admin_b):
    run_a = ImportRun.objects.create(
        kind=ImportKind.ATTENDANCE, file_name="ekbacken.csv", school_scope=world.school_a
    )
    run_b = ImportRun.objects.create(
        kind=ImportKind.ATTENDANCE, file_name="bjorkdalen.csv", school_scope=world.school_b
    )
    run_all = ImportRun.objects.create(kind=ImportKind.SCHOOLS, file_name="skolor.csv")
    assert list(import_runs_visible_to(admin_a)) == [run_a]
    assert set(import_runs_visible_to(world.admin_m)) == {run_a, run_b, run_all}

    signed_in(client, admin_a)
    page = client.get(HISTORY).content.decode()
    assert "ekbacken.csv" in page
    assert "bjorkdalen.csv" not in page and "skolor.csv" not in page
    assert client.get(reverse("imports:result", args=[run_a.public_id])).status_code == 200
    for other in (run_b, run_all):
        assert client.get(reverse("imports:result", args=[other.public_id])).status_code == 404
        assert client.get(reverse("imports:status", args=[other.public_id])).status_code == 404
    assert client.get(reverse("imports:result", args=[uuid.uuid4()])).status_code == 404
    assert AuditEvent.objects.filter(
        action="access_denied", object_type="import_run", object_id=str(run_b.public_id)
    ).exists()


# ---------------------------------------------------------------- the upload form


def test_the_school_register_is_for_municipality_administrators_only(client, world, admin_a):
    english(signed_in(client, admin_a))
    form = client.get(UPLOAD).content.decode()
    assert 'value="students"' in form and 'value="attendance"' in form
    assert 'value="schools"' not in form
    response = post_file(client, b"skolenhetskod;namn;stadsdel\r\n12345678;X;Y\r\n", "schools")
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert ImportRun.objects.count() == 0

    client = english(signed_in(Client(), world.admin_m))
    assert 'value="schools"' in client.get(UPLOAD).content.decode()


def test_a_school_administrator_cannot_choose_another_school(client, world, admin_a):
    english(signed_in(client, admin_a))
    form = client.get(UPLOAD).content.decode()
    assert world.school_a.name in form and world.school_b.name not in form
    data = attendance_file([lesson_line(world.student_b1, world.school_b)])
    response = post_file(client, data, school=world.school_b)
    assert response.status_code == 200
    assert "Select a valid choice" in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_upload_imports_the_file_and_shows_the_result(
    client, world, admin_a, django_capture_on_commit_callbacks, _upload_dir
):
    english(signed_in(client, admin_a))
    data = attendance_file(
        [
            lesson_line(
                world.student_a1, world.school_a, f"2025-09-0{d}", absent=45, kind="ogiltig"
            )
            for d in range(1, 6)
        ]
    )
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        response = post_file(
            client, data, school=world.school_a, name="C:\\Export\\närvaro vecka 36.csv"
        )
    assert len(callbacks) >= 1
    run = ImportRun.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("imports:result", args=[run.public_id])
    assert (run.kind, run.school_scope, run.uploaded_by) == ("attendance", world.school_a, admin_a)
    assert run.file_name == "närvaro vecka 36.csv"
    assert run.file_size == len(data)
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert (run.rows_total, run.created_count, run.updated_count) == (5, 5, 0)
    assert Lesson.objects.count() == 5
    assert list(_upload_dir.iterdir()) == []  # the stored file is gone after the import

    page = client.get(response["Location"])
    text = text_of(page)
    assert "The file was imported." in text
    assert "Rows 5 Added 5 Updated 0" in text
    assert "<progress" not in page.content.decode()
    assert AuditEvent.objects.filter(
        action="view", object_type="import_run", object_id=str(run.public_id)
    ).exists()
    assert AuditEvent.objects.filter(
        action="create", object_type="import_run", object_id=str(run.public_id)
    ).exists()
    assert AuditEvent.objects.filter(object_type="import_attendance").exists()

    history = text_of(client.get(HISTORY))
    assert "närvaro vecka 36.csv" in history
    assert "Sara Skoladmin" in history and "Lesson attendance" in history
    assert "Imported" in history


def test_a_refused_file_shows_the_swedish_report_without_personnummer(
    client, world, admin_a, django_capture_on_commit_callbacks
):
    signed_in(client, admin_a)  # Swedish, the default
    bad = "20120101-9802"
    data = attendance_file(
        [
            lesson_line(world.student_a1, world.school_a),
            lesson_line(world.student_b1, world.school_b),
            lesson_line(bad, world.school_a),
        ]
    )
    before = snapshot()
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, data, school=world.school_a)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.FAILED
    assert snapshot() == before

    page = client.get(response["Location"])
    text = text_of(page)
    assert page.status_code == 200
    with translation.override("sv"):
        other_school = translation.gettext("Row %(row)d: %(message)s") % {
            "row": 3,
            "message": translation.gettext("the row belongs to another school than yours"),
        }
    assert other_school.startswith("Rad 3: ")  # Swedish, from the catalogue
    assert other_school in text
    assert "Rad 4: " in text
    html = page.content.decode()
    for number in (bad, pnr_of(world.student_a1), pnr_of(world.student_b1)):
        assert number not in html and number.replace("-", "") not in html
    with translation.override("sv"):
        assert str(ImportStatus.FAILED.label) in text_of(client.get(HISTORY))


def test_warnings_are_shown(client, world, django_capture_on_commit_callbacks):
    english(signed_in(client, world.admin_m))
    data = csv_file(
        STUDENT_HEADER + ";mentor_epost",
        [
            student_line(
                str(fake_personnummer(880)), "Ny", "Elev", world.school_a, "9Z", "9", "vem@x.se"
            )
        ],
    )
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, data, ImportKind.STUDENTS)
    text = text_of(client.get(response["Location"]))
    assert "1 warning" in text
    assert "Row 2: no user has the mentor e-mail yet" in text


def test_a_municipality_administrator_imports_the_school_register(
    client, world, django_capture_on_commit_callbacks
):
    signed_in(client, world.admin_m)
    data = b"skolenhetskod;namn;stadsdel\r\n12345678;V\xe4sterskolan;V\xe4stra\r\n"  # cp1252
    with django_capture_on_commit_callbacks(execute=True):
        post_file(client, data, ImportKind.SCHOOLS)
    run = ImportRun.objects.get()
    assert run.status == ImportStatus.SUCCEEDED, run.errors
    assert run.school_scope is None
    assert School.objects.get(unit_code="12345678").district.name == "Västra"


def test_a_municipality_administrator_may_limit_an_import_to_one_school(
    client, world, django_capture_on_commit_callbacks
):
    signed_in(client, world.admin_m)
    data = attendance_file([lesson_line(world.student_b1, world.school_b)])
    with django_capture_on_commit_callbacks(execute=True):
        post_file(client, data, school=world.school_a)
    run = ImportRun.objects.get()
    assert run.school_scope == world.school_a
    assert run.status == ImportStatus.FAILED


# ---------------------------------------------------------------- refused uploads


def test_an_empty_file_is_refused_and_nothing_is_stored(client, world, admin_a, _upload_dir):
    english(signed_in(client, admin_a))
    response = post_file(client, b"", school=world.school_a)
    assert response.status_code == 200
    assert "The file is empty." in response.content.decode()
    assert ImportRun.objects.count() == 0
    assert not _upload_dir.exists() or list(_upload_dir.iterdir()) == []


def test_no_file_is_refused(client, world, admin_a):
    english(signed_in(client, admin_a))
    response = client.post(UPLOAD, {"kind": "attendance", "school": world.school_a.pk})
    assert "Choose a file to import." in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    client, world, admin_a, settings, _upload_dir
):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    signed_in(client, admin_a)
    before = counts()
    data = attendance_file([lesson_line(world.student_a1, world.school_a)]) + b"x" * (1024 * 1024)
    response = post_file(client, data, school=world.school_a)
    assert response.status_code == 413
    with translation.override("sv"):
        message = import_views.too_large_message()
    assert message in response.content.decode()
    assert "1 MB" in message
    assert ImportRun.objects.count() == 0
    assert counts() == before
    assert not _upload_dir.exists() or list(_upload_dir.iterdir()) == []


def test_a_file_just_over_the_limit_is_stopped_while_it_is_read(
    client, world, admin_a, settings, _upload_dir
):
    """The declared length is within the envelope allowance: the upload handler stops it."""
    settings.IMPORT_MAX_UPLOAD_MB = 1
    english(signed_in(client, admin_a))
    data = b"a" * (1024 * 1024 + 10)
    response = post_file(client, data, school=world.school_a)
    assert response.status_code == 413
    assert "The file is too large" in response.content.decode()
    assert ImportRun.objects.count() == 0


def test_a_file_at_the_limit_is_accepted(
    client, world, admin_a, settings, django_capture_on_commit_callbacks
):
    settings.IMPORT_MAX_UPLOAD_MB = 1
    signed_in(client, admin_a)
    line = lesson_line(world.student_a1, world.school_a).encode() + b"\r\n"
    data = attendance_file([])
    data += line + b"\n" * (1024 * 1024 - len(data) - len(line))
    assert len(data) == 1024 * 1024
    with django_capture_on_commit_callbacks(execute=True):
        response = post_file(client, data, school=world.school_a)
    assert response.status_code == 302
    assert ImportRun.objects.get().status == ImportStatus.SUCCEEDED


def test_a_2_gb_upload_is_refused_from_its_declared_length_before_it_is_read(
    client, world, admin_a, _upload_dir
):
    """The body is never read: the test client's payload would raise if more than its few
    bytes were asked for, and the CSRF token (in the body) is not even looked at."""
    english(signed_in(client, admin_a))
    response = client.post(
        UPLOAD,
        {"kind": "attendance", "file": SimpleUploadedFile("huge.csv", b"x")},
        CONTENT_LENGTH=str(2 * 1024**3),
    )
    assert response.status_code == 413
    assert "The file is too large. The largest file that can be imported is 1024 MB." in (
        response.content.decode()
    )
    assert ImportRun.objects.count() == 0
    assert not _upload_dir.exists()


def test_the_upload_needs_the_csrf_token(world, admin_a):
    client = signed_in(Client(enforce_csrf_checks=True), admin_a)
    data = attendance_file([lesson_line(world.student_a1, world.school_a)])
    response = post_file(client, data, school=world.school_a)
    assert response.status_code == 403
    assert ImportRun.objects.count() == 0

    form = client.get(UPLOAD)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form.content.decode())[1]
    response = client.post(
        UPLOAD,
        {
            "csrfmiddlewaretoken": token,
            "kind": "attendance",
            "school": world.school_a.pk,
            "file": SimpleUploadedFile("f.csv", data),
        },
    )
    assert response.status_code == 302


# ---------------------------------------------------------------- progress


def test_a_queued_run_shows_a_progress_bar_that_polls(client, world, admin_a):
    english(signed_in(client, admin_a))
    run = ImportRun.objects.create(
        kind=ImportKind.ATTENDANCE,
        file_name="stor.csv",
        file_size=1000,
        school_scope=world.school_a,
        uploaded_by=admin_a,
    )
    from django.core.cache import cache

    cache.set(f"attendance-import-progress:{run.public_id}", 420)
    ImportRun.objects.filter(pk=run.pk).update(status=ImportStatus.RUNNING)
    html = client.get(reverse("imports:result", args=[run.public_id])).content.decode()
    # A native <progress> (implicit role progressbar): no style attribute, which the
    # Content-Security-Policy would block.
    assert '<progress class="import-progress" max="100" value="42"' in html
    status_url = reverse("imports:status", args=[run.public_id])
    assert f'hx-get="{status_url}"' in html
    assert "vendor/htmx/htmx.min.js" in html
    assert '<meta http-equiv="refresh"' in html  # inside <noscript>

    partial = client.get(status_url, HTTP_HX_REQUEST="true")
    assert partial.status_code == 200
    assert 'max="100" value="42"' in partial.content.decode()
    assert "<html" not in partial.content.decode()

    # Done: the partial shows the outcome, tells the live region, and stops the polling.
    ImportRun.objects.filter(pk=run.pk).update(
        status=ImportStatus.SUCCEEDED, rows_total=7, created_count=7
    )
    partial = client.get(status_url, HTTP_HX_REQUEST="true")
    assert partial.status_code == import_views.HTMX_STOP_POLLING
    body = partial.content.decode()
    assert "The file was imported." in body
    assert 'id="import-announce" hx-swap-oob="innerHTML"' in body
    assert "<progress" not in body
    page = client.get(reverse("imports:result", args=[run.public_id])).content.decode()
    assert "hx-get" not in page and "http-equiv" not in page
    cache.delete(f"attendance-import-progress:{run.public_id}")


def test_the_history_pages(client, world):
    english(signed_in(client, world.admin_m))
    for n in range(55):
        ImportRun.objects.create(kind=ImportKind.STUDENTS, file_name=f"elever-{n:02d}.csv")
    page = client.get(HISTORY).content.decode()
    assert "55 imports" in page
    assert "elever-54.csv" in page and "elever-00.csv" not in page
    assert "elever-00.csv" in client.get(HISTORY + "?page=2").content.decode()
    assert AuditEvent.objects.filter(action="list", object_type="import_run").count() == 2


def test_the_pages_speak_swedish(client, world, admin_a):
    signed_in(client, admin_a)
    text = text_of(client.get(UPLOAD))
    assert "Ny import" in text
    assert "Närvaro per lektion" in text or "Lektionsnärvaro" in text
    with translation.override("sv"):
        assert "för stor" in import_views.too_large_message()
