"""The mentor checklist's pages and desk panels: access both ways for every view, the forms,
the principal's copy, stale forms and a constant number of queries on lists and panels."""

from __future__ import annotations

import datetime
import re

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.urls import reverse
from django.utils.translation import gettext, override

from attendance.models import Rule
from cases.checklist import services
from cases.models import MentorChecklist, YesNo
from sst.models import AuditEvent, Role

from ..clock import pinned_clock
from ..conftest import verified_login
from ..factories import StudentFactory, UserFactory, grant
from .test_checklist import answers, checklist_alert

TODAY = datetime.date(2026, 11, 18)  # a Wednesday in HT26
_clock = pinned_clock(TODAY)
# The paper form's questions, exactly (Trosa 004, appendix 1).
SEED_QUESTIONS = (
    "Sjukdom?",
    "Trivs i skolan?",
    "Har kamrater?",
    "Svårigheter med skolarbetet?",
    "Går det att se något mönster i frånvaron?",
)


def sv(message: str, **values: object) -> str:
    """A message as the Swedish page shows it (whether or not the catalogue has it yet)."""
    with override("sv"):
        return gettext(message) % values if values else gettext(message)


def _text(response) -> str:  # type: ignore[no-untyped-def]
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", response.content.decode()))


@pytest.fixture
def mentor_a2(world):  # type: ignore[no-untyped-def]
    """The mentor of another group (7B) at the same school."""
    user = UserFactory(username="mentor_a2")
    grant(user, Role.MENTOR, world.group_a2)
    return user


@pytest.fixture
def checklist(world) -> MentorChecklist:
    return services.checklist_submit(student=world.student_a1, by=world.mentor_a1, data=answers())


@pytest.fixture
def reported(world, checklist) -> MentorChecklist:
    services.checklist_follow_up(
        checklist=checklist,
        by=world.mentor_a1,
        continued_absence=YesNo.YES,
        comment="",
        version=checklist.version,
    )
    return checklist


def person(world, mentor_a2, name: str):  # type: ignore[no-untyped-def]
    return mentor_a2 if name == "mentor_a2" else getattr(world, name)


PEOPLE = (
    "mentor_a1",
    "mentor_a2",
    "counsellor_a",
    "principal_a",
    "nurse_a",
    "counsellor_b",
    "social_worker_n",
    "manager_m",
    "admin_m",
)
READERS = {"mentor_a1", "counsellor_a", "principal_a", "nurse_a"}
EHT = {"counsellor_a", "principal_a", "nurse_a"}


def _urls(world, checklist) -> dict[str, str]:  # type: ignore[no-untyped-def]
    student = world.student_a1.public_id
    return {
        "list": reverse("cases:checklist_list", args=[student]),
        "new": reverse("cases:checklist_new", args=[student]),
        "detail": reverse("cases:checklist_detail", args=[checklist.public_id]),
        "follow_up": reverse("cases:checklist_follow_up", args=[checklist.public_id]),
        "eht": reverse("cases:checklist_eht", args=[checklist.public_id]),
    }


ALLOWED = {
    "list": READERS,
    "new": {"mentor_a1"},
    "detail": READERS,
    "follow_up": {"mentor_a1"},
    "eht": EHT,
}


@pytest.mark.parametrize("name", PEOPLE)
@pytest.mark.parametrize("page", sorted(ALLOWED))
def test_every_page_both_ways(client, world, mentor_a2, reported, page, name):
    if page == "follow_up":  # a checklist whose follow-up is still to do
        reported = services.checklist_submit(
            student=world.student_a1, by=world.mentor_a1, data=answers()
        )
    verified_login(client, person(world, mentor_a2, name))
    response = client.get(_urls(world, reported)[page])
    if name in ALLOWED[page]:
        assert response.status_code == 200, (page, name)
        assert world.student_a1.full_name in _text(response)
    else:
        assert response.status_code == 404, (page, name)
        assert "Ekholmsson" not in _text(response)
        assert AuditEvent.objects.filter(actor_username=name, action="access_denied").exists(), (
            page,
            name,
        )


@pytest.mark.parametrize("name", [p for p in PEOPLE if p != "mentor_a1"])
def test_only_the_mentor_can_submit_a_checklist(client, world, mentor_a2, name):
    verified_login(client, person(world, mentor_a2, name))
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    response = client.post(url, _post(answers()))
    assert response.status_code == 404
    assert not MentorChecklist.objects.exists()


@pytest.mark.parametrize("name", [p for p in PEOPLE if p != "mentor_a1"])
def test_only_the_mentor_can_post_the_follow_up(client, world, mentor_a2, checklist, name):
    verified_login(client, person(world, mentor_a2, name))
    url = reverse("cases:checklist_follow_up", args=[checklist.public_id])
    response = client.post(url, {"continued_absence": "yes", "version": checklist.version})
    assert response.status_code == 404
    checklist.refresh_from_db()
    assert checklist.follow_up_done_at is None


@pytest.mark.parametrize("name", [p for p in PEOPLE if p not in EHT])
def test_only_the_eht_can_post_its_part(client, world, mentor_a2, reported, name):
    verified_login(client, person(world, mentor_a2, name))
    url = reverse("cases:checklist_eht", args=[reported.public_id])
    response = client.post(url, {"no_further_follow_up": "on", "version": reported.version})
    assert response.status_code == 404
    reported.refresh_from_db()
    assert reported.eht_recorded_at is None


def test_a_malformed_alert_or_another_students_alert_is_a_404(client, world):
    other = checklist_alert(world.student_a2)
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    assert client.get(f"{url}?larm=not-a-uuid").status_code == 404
    assert client.get(f"{url}?larm={other.public_id}").status_code == 404


# ---------------------------------------------------------------- the checklist form


def _post(data: dict[str, object]) -> dict[str, str]:
    return {
        key: (value.isoformat() if isinstance(value, datetime.date) else str(value or ""))
        for key, value in data.items()
    }


def test_the_form_asks_the_papers_questions_in_swedish(client, world):
    verified_login(client, world.mentor_a1)
    response = client.get(reverse("cases:checklist_new", args=[world.student_a1.public_id]))
    text = _text(response)
    positions = [text.find(question) for question in SEED_QUESTIONS]
    assert -1 not in positions, [q for q, p in zip(SEED_QUESTIONS, positions, strict=True) if p < 0]
    assert positions == sorted(positions)  # in the paper's order


def test_the_form_prefills_the_mentor_and_shows_this_months_absence(client, world):
    from ..attendance.lessons import lesson

    world.mentor_a1.first_name, world.mentor_a1.last_name = "Mia", "Lärare"
    world.mentor_a1.save()
    lesson(world.student_a1, TODAY, "08:00", kind="invalid", subject="Idrott")
    lesson(world.student_a1, TODAY, "10:00", subject="Svenska")
    verified_login(client, world.mentor_a1)
    response = client.get(reverse("cases:checklist_new", args=[world.student_a1.public_id]))
    page = response.content.decode()
    assert 'value="Mia Lärare"' in page
    assert "50,0 %" in _text(response)  # one of two lessons, Swedish decimal comma
    assert "Idrott" in _text(response)  # the pattern hint: the subject with most absence
    assert AuditEvent.objects.filter(
        object_type="mentor_checklist_form", student_id=world.student_a1.public_id
    ).exists()


def test_submitting_from_an_alert_saves_and_shows_the_copy(client, world):
    alert = checklist_alert(world.student_a1, recipient=world.mentor_a1)
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    response = client.post(f"{url}?larm={alert.public_id}", _post(answers()), follow=True)

    checklist = MentorChecklist.objects.get()
    assert response.redirect_chain[-1][0] == reverse(
        "cases:checklist_detail", args=[checklist.public_id]
    )
    assert checklist.alert == alert
    alert.refresh_from_db()
    assert alert.due_done_at is not None
    assert "Matematiken" in _text(response)


def test_an_incomplete_form_explains_and_saves_nothing(client, world):
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    response = client.post(url, _post(answers(illness=None)))
    assert response.status_code == 200
    assert sv("Answer yes or no.") in _text(response)
    assert not MentorChecklist.objects.exists()


def test_a_future_talk_date_is_shown_at_its_field(client, world):
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    data = _post(answers(talked_with_student_on=TODAY + datetime.timedelta(days=3)))
    response = client.post(url, data)
    assert response.status_code == 200
    assert sv("A talk cannot be dated in the future.") in _text(response)
    assert not MentorChecklist.objects.exists()


def test_a_checklist_without_talk_dates_says_what_it_needs(client, world):
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    data = _post(answers(talked_with_student_on=None, talked_with_guardian_on=None))
    response = client.post(url, data)
    assert response.status_code == 200
    form = response.context["form"]
    assert form.errors["talked_with_student_on"] == [
        sv("Give the date of the talk with the student.")
    ]
    assert form.errors["talked_with_guardian_on"] == [
        sv("Give the date of the talk with the guardian.")
    ]
    assert not MentorChecklist.objects.exists()


def test_a_megabyte_comment_is_refused_with_a_message(client, world):
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    response = client.post(url, _post(answers(pattern_comment="x" * 1_048_576)))
    assert response.status_code == 200
    [message] = response.context["form"].errors["pattern_comment"]
    assert message == sv(
        "Write at most %(limit_value)d characters (this text has %(show_value)d).",
        limit_value=2000,
        show_value=1_048_576,
    )
    assert 'maxlength="2000"' in response.content.decode()
    assert not MentorChecklist.objects.exists()


# ---------------------------------------------------------------- detail, follow-up, EHT


def test_the_principals_copy_shows_the_answers(client, world, checklist):
    verified_login(client, world.principal_a)
    response = client.get(reverse("cases:checklist_detail", args=[checklist.public_id]))
    text = _text(response)
    for expected in ("Mia Mentor", "Trivs med klassen", "Matematiken", "Måndagar"):
        assert expected in text
    assert sv("Do the follow-up") not in text  # the principal reads; the mentor follows up
    assert AuditEvent.objects.filter(
        actor_username="principal_a",
        action="view",
        object_type="mentor_checklist",
        object_id=str(checklist.public_id),
    ).exists()


def test_the_follow_up_form_shows_the_weeks_absence_and_reports(client, world, checklist):
    from ..attendance.lessons import lesson

    start = checklist.follow_up_due_on - datetime.timedelta(days=7)
    lesson(world.student_a1, start, "08:00", kind="invalid")
    lesson(world.student_a1, start, "10:00", kind="invalid")
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_follow_up", args=[checklist.public_id])
    response = client.get(url)
    assert "100,0 %" in _text(response)

    response = client.post(
        url,
        {"continued_absence": "yes", "follow_up_comment": "Fortsatt", "version": "1"},
        follow=True,
    )
    checklist.refresh_from_db()
    assert checklist.reported_to_eht_at is not None
    assert response.redirect_chain[-1][0] == reverse(
        "cases:checklist_detail", args=[checklist.public_id]
    )
    # Done: the form is not offered again.
    again = client.get(url, follow=True)
    assert again.redirect_chain[-1][0].endswith(f"{checklist.public_id}/")


def test_a_stale_follow_up_form_is_refused_with_a_clear_message(client, world, checklist):
    verified_login(client, world.mentor_a1)
    url = reverse("cases:checklist_follow_up", args=[checklist.public_id])
    client.get(url)  # the form is opened at version 1 ...
    services.checklist_follow_up(  # ... someone else records the follow-up meanwhile ...
        checklist=checklist,
        by=world.mentor_a1,
        continued_absence=YesNo.NO,
        comment="Först",
        version=1,
    )
    response = client.post(  # ... and the stale form is sent.
        url, {"continued_absence": "yes", "follow_up_comment": "Sedan", "version": "1"}
    )
    assert response.status_code == 200
    assert sv(
        "Someone else changed this checklist after you opened it. Nothing was saved: "
        "reload the page to see the change, then try again."
    ) in _text(response)
    checklist.refresh_from_db()
    assert (checklist.continued_absence, checklist.follow_up_comment) == (YesNo.NO, "Först")
    assert checklist.reported_to_eht_at is None


def test_the_eht_form_offers_the_schools_staff_and_saves(client, world, reported):
    verified_login(client, world.counsellor_a)
    url = reverse("cases:checklist_eht", args=[reported.public_id])
    page = client.get(url).content.decode()
    options = re.findall(r'<option value="(\d+)"', page)
    staff = {str(u.pk) for u in (world.mentor_a1, world.counsellor_a, world.principal_a)}
    assert staff <= set(options)
    assert str(world.counsellor_b.pk) not in options
    assert str(world.social_worker_n.pk) not in options

    response = client.post(
        url,
        {
            "guardian_contact_by": world.counsellor_a.pk,
            "guardian_contact_on": (TODAY + datetime.timedelta(days=1)).isoformat(),
            "feedback_by": world.principal_a.pk,
            "feedback_on": "",
            "eht_comment": "Ringer hem",
            "version": reported.version,
        },
    )
    assert response.status_code == 302
    reported.refresh_from_db()
    assert reported.eht_guardian_contact_by == world.counsellor_a
    assert reported.eht_feedback_by == world.principal_a

    # Someone else's staff cannot be chosen, even by a crafted form.
    response = client.post(
        url, {"guardian_contact_by": world.counsellor_b.pk, "version": reported.version}
    )
    assert response.status_code == 200
    reported.refresh_from_db()
    assert reported.eht_guardian_contact_by == world.counsellor_a


def test_the_eht_page_waits_for_the_report(client, world, checklist):
    verified_login(client, world.counsellor_a)
    response = client.get(reverse("cases:checklist_eht", args=[checklist.public_id]))
    assert response.status_code == 302
    assert response["Location"] == reverse("cases:checklist_detail", args=[checklist.public_id])


# ---------------------------------------------------------------- desk panels


def test_the_mentor_desk_links_the_alert_to_the_form(client, world):
    alert = checklist_alert(world.student_a1, recipient=world.mentor_a1)
    verified_login(client, world.mentor_a1)
    page = client.get(reverse("sst:desk")).content.decode()
    form_url = reverse("cases:checklist_new", args=[world.student_a1.public_id])
    assert f'href="{form_url}?larm={alert.public_id}"' in page
    assert sv("Fill in the checklist") in page


def test_overdue_follow_ups_are_marked_with_text_not_colour_alone(client, world, checklist):
    MentorChecklist.objects.filter(pk=checklist.pk).update(
        follow_up_due_on=TODAY - datetime.timedelta(days=3)
    )
    verified_login(client, world.mentor_a1)
    response = client.get(reverse("sst:desk"), HTTP_ACCEPT_LANGUAGE="en")
    page = response.content.decode()
    row = re.search(r'<tr class="table-danger">.*?</tr>', page, flags=re.DOTALL)
    assert row is not None
    assert "Overdue by 3 days" in _text_of(row.group(0))
    assert reverse("cases:checklist_follow_up", args=[checklist.public_id]) in row.group(0)
    assert "1 overdue" in _text(response)


def _text_of(html: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"<[^>]+>", " ", html))


def test_due_today_and_soon_are_said_in_words(client, world, checklist):
    verified_login(client, world.mentor_a1)
    MentorChecklist.objects.filter(pk=checklist.pk).update(follow_up_due_on=TODAY)
    assert "Due today" in _text(client.get(reverse("sst:desk"), HTTP_ACCEPT_LANGUAGE="en"))
    MentorChecklist.objects.filter(pk=checklist.pk).update(
        follow_up_due_on=TODAY + datetime.timedelta(days=2)
    )
    assert "Due in 2 days" in _text(client.get(reverse("sst:desk"), HTTP_ACCEPT_LANGUAGE="en"))


def test_the_eht_desk_lists_reports_and_copies(client, world, reported):
    verified_login(client, world.principal_a)
    page = client.get(reverse("sst:desk")).content.decode()
    assert reverse("cases:checklist_eht", args=[reported.public_id]) in page
    assert reverse("cases:checklist_detail", args=[reported.public_id]) in page
    verified_login(client, world.counsellor_b)
    page = client.get(reverse("sst:desk")).content.decode()
    assert str(reported.public_id) not in page


@pytest.mark.parametrize("name", ["social_worker_n", "manager_m", "admin_m", "counsellor_b"])
def test_desk_shows_no_checklists_to_outsiders(client, world, reported, name):
    verified_login(client, getattr(world, name))
    page = client.get(reverse("sst:desk")).content.decode()
    assert str(reported.public_id) not in page
    assert "Ekholmsson" not in page


# ---------------------------------------------------------------- query counts


def _more_checklists(world, count: int) -> None:  # type: ignore[no-untyped-def]
    for index in range(count):
        student = StudentFactory(mentor_group=world.group_a1)
        checklist_alert(student, recipient=world.mentor_a1)
        made = services.checklist_submit(student=student, by=world.mentor_a1, data=answers())
        checklist_alert(student, recipient=world.mentor_a1, rule=Rule.LATE)  # still to act on
        if index % 2:
            services.checklist_follow_up(
                checklist=made,
                by=world.mentor_a1,
                continued_absence=YesNo.YES,
                comment="",
                version=1,
            )


def _queries(client, url: str) -> int:  # type: ignore[no-untyped-def]
    client.get(url)  # warm the session and the permission sync
    with CaptureQueriesContext(connection) as context:
        assert client.get(url).status_code == 200
    return len(context.captured_queries)


@pytest.mark.parametrize("name", ["mentor_a1", "principal_a"])
def test_desk_queries_do_not_grow_with_checklists(client, world, name):
    _more_checklists(world, 1)
    verified_login(client, getattr(world, name))
    few = _queries(client, reverse("sst:desk"))
    _more_checklists(world, 6)
    assert _queries(client, reverse("sst:desk")) == few


def test_list_queries_do_not_grow_with_checklists(client, world):
    for _index in range(2):
        services.checklist_submit(student=world.student_a1, by=world.mentor_a1, data=answers())
    verified_login(client, world.principal_a)
    url = reverse("cases:checklist_list", args=[world.student_a1.public_id])
    few = _queries(client, url)
    for _index in range(5):
        services.checklist_submit(student=world.student_a1, by=world.mentor_a1, data=answers())
    assert _queries(client, url) == few
