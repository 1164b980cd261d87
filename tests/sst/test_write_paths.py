"""Issue 13: every write path refuses another school's objects. For every URL pattern of the
app (so a new POST view cannot be forgotten), the request made by each person of another
school with Ekbackens skola's ids and unit code answers 404 (or 405 for a page that takes no
POST, or a form error that shows nothing of the student) and changes no row of any table."""

from __future__ import annotations

import io
import re
import uuid

from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.test import Client

from actionplans.models import BoosterMeeting
from attendance.models import Alert, ImportKind, ImportRun, ImportStatus
from cases.models import (
    Case,
    EhtDecision,
    MentorChecklist,
    OfferedTime,
    SchoolSocialMapping,
)
from followup.models import FollowUp
from referrals.models import Referral
from reports.models import ReportRun
from sst.models import School, Student, User

from ..conftest import verified_login
from ..rowcounts import changed, snapshot
from .test_url_coverage import ALL, EXPECTED_PUBLIC

# The person's own second factor: no object of any school (tests/sst/test_sign_in.py).
OWN_ACCOUNT = frozenset({"sst:otp_setup", "sst:otp_verify"})
# Refusals are audited; the import upload records its (failed) run.
MAY_WRITE = frozenset({"sst.AuditEvent", "sessions.Session", "axes.AccessLog"})


def _objects(school: School) -> dict[str, str]:
    case = Case.objects.filter(school=school).order_by("pk").first()
    assert case is not None, "the demo has a case at every school"
    student = case.student

    def first(queryset) -> str:  # type: ignore[no-untyped-def]
        row = queryset.order_by("pk").first()
        return str(row.public_id) if row is not None else str(uuid.uuid4())

    run = ImportRun.objects.create(
        kind=ImportKind.STUDENTS,
        file_name="ekbacken.csv",
        file_size=1,
        school_scope=school,
        status=ImportStatus.SUCCEEDED,
    )
    # A term report PDF Ekbacken's own manager asked for.
    report_run = ReportRun.objects.create(
        requested_by=User.objects.get(username="chef.ekbacken"),
        scope_key=f"school:{school.unit_code}",
        scope_label=school.name,
        term_code="HT2026",
    )
    return {
        "run_id": str(report_run.public_id),
        "case": str(case.public_id),
        "student": str(student.public_id),
        "import": str(run.public_id),
        "checklist_id": first(MentorChecklist.objects.filter(case__school=school)),
        "case_id": str(case.public_id),
        "decision_id": first(EhtDecision.objects.filter(case__school=school)),
        "student_id": str(student.public_id),
        "mapping_id": first(SchoolSocialMapping.objects.filter(case__school=school)),
        "time_id": first(OfferedTime.objects.filter(case__school=school)),
        "alert_id": first(Alert.objects.filter(student__school=school)),
        "referral_id": first(Referral.objects.filter(school=school)),
        "followup_id": first(FollowUp.objects.filter(case__school=school)),
        "booster_id": first(BoosterMeeting.objects.filter(maintenance__case__school=school)),
        "number": "1",
        "token": "x" * 43,
        "unit_code": school.unit_code,
        "step": "close",
        "name": student.last_name,
    }


def _url(route: str, objects: dict[str, str]) -> str:
    def value(match: re.Match[str]) -> str:
        name = match.group(2)
        if name == "public_id":
            if route.startswith("elever/arende/"):
                return objects["case"]
            if route.startswith("import/"):
                return objects["import"]
            return objects["student"]
        return objects[name]

    return "/" + re.sub(r"<(?:(\w+):)?(\w+)>", value, route)


def _payload(school: School, student: Student, principal: User) -> dict[str, object]:
    """Plausible fields of every form, each naming Ekbacken's objects."""
    return {
        "school": school.pk,
        "student": student.pk,
        "responsible": principal.pk,
        "reason": "Flyttar",
        "detail": "Flyttar",
        "text": "En anteckning",
        "kind": ImportKind.STUDENTS,
        "to": "closed",
        "version": 1,
        "held_on": "2026-01-10",
        "decided_on": "2026-01-10",
        "starts_at": "2026-01-10T10:00",
        "approval": "approved",
        "outcome": "attended",
        "elev": str(student.public_id),  # the desk inbox's bulk acknowledge
        "scope": f"school:{school.unit_code}",  # a term report of Ekbacken
        "term": "HT2026",
    }


def test_every_post_with_another_schools_ids_is_refused_and_changes_nothing(db):
    call_command(
        "seed_demo", students=40, attendance_days=25, stdout=io.StringIO(), stderr=io.StringIO()
    )
    ekbacken = School.objects.get(name="Ekbackens skola")
    objects = _objects(ekbacken)
    student = Student.objects.get(public_id=objects["student"])
    payload = _payload(ekbacken, student, User.objects.get(username="rektor.ekbacken"))
    outsiders = list(User.objects.filter(username__endswith=".tallangen").order_by("username"))
    assert len(outsiders) >= 6
    clients = []
    for user in outsiders:
        client = Client()
        verified_login(client, user)
        clients.append((user.username, client))
    routes = [
        r for r, name, _c, admin in ALL if not admin and name not in EXPECTED_PUBLIC | OWN_ACCOUNT
    ]
    assert len(routes) > 30
    answered, changes = [], {}
    for route in routes:
        url = _url(route, objects)
        before = snapshot()
        for username, client in clients:
            response = client.post(url, payload)
            status = response.status_code
            shows = objects["name"] in response.content.decode(errors="replace")
            if not (status in {404, 405} or (status == 200 and not shows)):
                answered.append((route, username, status))
        difference = changed(before, snapshot(), allowed=MAY_WRITE)
        if difference:
            changes[route] = difference
    assert answered == []
    assert changes == {}


def test_an_import_upload_naming_another_schools_student_or_school_changes_nothing(
    db, django_capture_on_commit_callbacks
):
    call_command(
        "seed_demo", students=40, attendance_days=1, stdout=io.StringIO(), stderr=io.StringIO()
    )
    ekbacken = School.objects.get(name="Ekbackens skola")
    tallangen = School.objects.get(name="Tallängens skola")
    student = Student.objects.filter(school=ekbacken).order_by("pk").first()
    assert student is not None
    client = Client()
    verified_login(client, User.objects.get(username="admin.tallangen"))
    row = f"{student.personnummer};Maja;Ny;{tallangen.unit_code};7A;7"
    header = "personnummer;fornamn;efternamn;skolenhetskod;klass;arskurs"
    before = snapshot()
    # Ekbacken chosen as the school: a form error.
    response = client.post(
        "/import/ny/",
        {
            "kind": ImportKind.STUDENTS,
            "school": ekbacken.pk,
            "file": SimpleUploadedFile("elever.csv", f"{header}\n{row}\n".encode()),
        },
    )
    assert response.status_code == 200
    assert changed(before, snapshot()) == {}
    # Tallängen chosen, Ekbacken's student in the file: the run fails, nothing else changes.
    with django_capture_on_commit_callbacks(execute=True):
        response = client.post(
            "/import/ny/",
            {
                "kind": ImportKind.STUDENTS,
                "school": tallangen.pk,
                "file": SimpleUploadedFile("elever.csv", f"{header}\n{row}\n".encode()),
            },
        )
    assert response.status_code == 302
    run = ImportRun.objects.order_by("-pk").first()
    assert run is not None and run.status == ImportStatus.FAILED
    assert "inskriven vid en annan skola" in run.errors[0]
    assert changed(before, snapshot(), allowed=MAY_WRITE | {"attendance.ImportRun"}) == {}
    assert Student.objects.get(pk=student.pk).school_id == ekbacken.pk
