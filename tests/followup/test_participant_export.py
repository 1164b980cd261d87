"""The participant follow-up (DOMAIN.md §5): rows from hand-made cases equal the expected
figures; no direct identifier anywhere in the CSV or the XLSX; small counts suppressed; only
the coordinator of the district exports; the XLSX has the same rows as the CSV."""

from __future__ import annotations

import csv
import datetime
import io
import itertools
from decimal import Decimal

import openpyxl
import pytest
from django.urls import reverse
from django.utils import timezone

from actionplans.models import (
    ActionPlan,
    Catalogue,
    Goal,
    PlanIntervention,
    Side,
    ToolboxCategory,
    ToolboxItem,
)
from cases.models import (
    Case,
    CaseOpening,
    CaseState,
    CauseFactor,
    CauseGroup,
    ClosureReason,
    MappingApproval,
    SchoolSocialMapping,
)
from followup import participant_services as services
from followup import participant_suppression as suppression
from followup.models import (
    Closure,
    ClosureAbsence,
    Delivery,
    FollowUp,
    GoalResult,
    GoalReview,
    Respondent,
    SurveyAnswer,
    SurveyChannel,
)
from followup.participant_selectors import participant_table
from referrals.models import Forum, Referral, ReferralState
from sst.models import AuditAction, AuditEvent, AuditObjectType, Role, Student

from ..factories import StudentFactory, UserFactory, fake_personnummer, grant
from ..privacy import find_personnummer

pytestmark = pytest.mark.django_db

_numbers = itertools.count(500)
INTAKE = datetime.date(2026, 9, 15)
PERIOD = (datetime.date(2026, 8, 1), datetime.date(2026, 12, 31))
SECRET = "Hemlig fritext om familjen"


def _at(day: datetime.date) -> datetime.datetime:
    return timezone.make_aware(datetime.datetime(day.year, day.month, day.day, 10))


def intake(
    world,
    *,
    group,
    born: datetime.date | None = None,
    gender: str = "girl",
    grade: str = "7",
    decided: datetime.date = INTAKE,
    state: str = CaseState.IMPLEMENTATION,
    referral_state: str = ReferralState.ASSIGNED,
) -> Case:
    n = next(_numbers)
    # Born in October–November 2011 (14 at the autumn intake): dates the shared factory never
    # gives (it starts at 2012-01-01), so no personnummer collides with the world's.
    born = born or datetime.date(2011, 10, 1) + datetime.timedelta(days=n % 60)
    student = StudentFactory(
        mentor_group=group, personnummer=fake_personnummer(n, born=born), gender=gender
    )
    case = Case.objects.create(student=student, state=state, opening=CaseOpening.PRINCIPAL)
    district = case.school.district
    forum, _ = Forum.objects.get_or_create(
        municipality=district.municipality, district=district, defaults={"name": district.name}
    )
    Referral.objects.create(
        case=case,
        number=f"2026-{n:04d}",
        forum=forum,
        state=referral_state,
        school=case.school,
        grade=grade,
        gender=gender,
        submitted_at=_at(decided - datetime.timedelta(days=20)),
        decided_at=_at(decided),
        expected_help=SECRET,
    )
    return case


def full_case(world) -> Case:
    """A closed case with everything the export reads."""
    case = intake(world, group=world.group_a1, born=datetime.date(2011, 11, 10))
    municipality = world.municipality
    talk = ToolboxCategory.objects.create(
        municipality=municipality, catalogue=Catalogue.TOOLBOX, name="Samtal", order=1
    )
    home = ToolboxCategory.objects.create(
        municipality=municipality, catalogue=Catalogue.TOOLBOX, name="Hembesök", order=2
    )
    ToolboxCategory.objects.create(
        municipality=municipality, catalogue=Catalogue.SCHOOL_MEASURES, name="Anpassningar"
    )
    plan = ActionPlan.objects.create(
        case=case, starts_on=datetime.date(2026, 9, 20), ends_on=datetime.date(2026, 12, 20)
    )
    goals = [
        Goal.objects.create(
            plan=plan, text=f"Mål {i}", measure="Närvaro", target_on=datetime.date(2026, 12, 1)
        )
        for i in range(4)
    ]
    first = FollowUp.objects.create(
        case=case,
        number=1,
        planned_on=datetime.date(2026, 10, 25),
        held_on=datetime.date(2026, 10, 26),
    )
    second = FollowUp.objects.create(
        case=case,
        number=2,
        planned_on=datetime.date(2026, 11, 30),
        held_on=datetime.date(2026, 11, 30),
    )
    # Goal 0: not met, then met (the last counts); 1: partly; 2: not met; 3: never reviewed.
    GoalReview.objects.create(followup=first, goal=goals[0], result=GoalResult.NOT_MET)
    GoalReview.objects.create(followup=second, goal=goals[0], result=GoalResult.MET, comment=SECRET)
    GoalReview.objects.create(followup=first, goal=goals[1], result=GoalResult.PARTLY)
    GoalReview.objects.create(followup=second, goal=goals[2], result=GoalResult.NOT_MET)
    talks = PlanIntervention.objects.create(
        plan=plan,
        item=ToolboxItem.objects.create(category=talk, name="Motiverande samtal"),
        side=Side.SOCIAL_SERVICES,
        how_often="Varje vecka",
        starts_on=datetime.date(2026, 9, 21),
    )
    visits = PlanIntervention.objects.create(
        plan=plan,
        item=ToolboxItem.objects.create(category=home, name="Hembesök"),
        side=Side.SOCIAL_SERVICES,
        how_often="Varannan vecka",
        starts_on=datetime.date(2026, 9, 21),
    )
    Delivery.objects.create(
        intervention=talks, week=datetime.date(2026, 9, 21), sessions=2, minutes=90
    )
    Delivery.objects.create(
        intervention=talks, week=datetime.date(2026, 9, 28), sessions=1, minutes=45
    )
    Delivery.objects.create(
        intervention=talks, week=datetime.date(2026, 10, 5), given=False, sessions=3, minutes=60
    )
    Delivery.objects.create(
        intervention=visits, week=datetime.date(2026, 9, 21), sessions=1, minutes=60
    )
    school_cause = CauseFactor.objects.create(group=CauseGroup.SCHOOL, label="Skolmiljö")
    family_cause = CauseFactor.objects.create(group=CauseGroup.FAMILY, label="Familjen")
    old = SchoolSocialMapping.objects.create(case=case, approval=MappingApproval.APPROVED)
    old.causes.add(school_cause, family_cause)
    newer = SchoolSocialMapping.objects.create(case=case, approval=MappingApproval.APPROVED)
    newer.causes.add(school_cause)
    hidden = SchoolSocialMapping.objects.create(case=case, approval=MappingApproval.NOT_APPROVED)
    hidden.causes.add(CauseFactor.objects.create(group=CauseGroup.INDIVIDUAL, label="Ångest"))
    SchoolSocialMapping.objects.filter(pk=old.pk).update(created_at=_at(datetime.date(2026, 5, 1)))
    SchoolSocialMapping.objects.filter(pk=hidden.pk).update(
        created_at=_at(datetime.date(2026, 12, 1))
    )
    closed_on = datetime.date(2026, 12, 14)
    Case.objects.filter(pk=case.pk).update(
        state=CaseState.CLOSED,
        closed_at=_at(closed_on),
        closure_reason=ClosureReason.GOALS_MET,
        closure_detail=SECRET,
    )
    closure = Closure.objects.create(
        case=case,
        goals_met="partly",
        closed_on=closed_on,
        completed=True,
        summary=SECRET,
        other_support=SECRET,
    )
    ClosureAbsence.objects.create(
        closure=closure,
        span=ClosureAbsence.Span.INTAKE,
        period_start=datetime.date(2026, 7, 1),
        period_end=datetime.date(2026, 8, 31),
        scheduled_min=10_000,
        valid_min=1_000,
        invalid_min=2_500,
    )
    ClosureAbsence.objects.create(
        closure=closure,
        span=ClosureAbsence.Span.CLOSURE,
        period_start=datetime.date(2026, 10, 1),
        period_end=datetime.date(2026, 11, 30),
        scheduled_min=12_000,
        valid_min=600,
        invalid_min=0,
    )
    week = datetime.date(2026, 12, 14)
    for respondent, scores in (
        (Respondent.STUDENT, (5, 4, 4)),
        (Respondent.GUARDIAN, (3, 4, 5)),
        (Respondent.GUARDIAN, (4, 4, 4)),
    ):
        SurveyAnswer.objects.create(
            closure=closure,
            respondent=respondent,
            channel=SurveyChannel.MEETING,
            satisfied=scores[0],
            helped=scores[1],
            listened_to=scores[2],
            answered_week=week,
        )
    case.refresh_from_db()
    return case


@pytest.fixture
def district_cases(world):
    """Six cases reached the team in district N in the autumn (five girls in grade 7 aged 14,
    one boy in grade 8 aged 15), and others that must not be in its file."""
    full = full_case(world)
    others = [intake(world, group=world.group_a1) for i in range(4)]
    boy = intake(
        world, group=world.group_a2, born=datetime.date(2011, 3, 1), gender="boy", grade="8"
    )
    # Not in the file: another district, outside the period, a rejected and a queued-then-
    # withdrawn referral.
    intake(world, group=world.group_b1)
    intake(
        world,
        group=world.group_a1,
        decided=datetime.date(2026, 2, 1),
    )
    intake(
        world,
        group=world.group_a1,
        state=CaseState.REJECTED,
        referral_state=ReferralState.REJECTED,
    )
    return full, others, boy


@pytest.fixture
def coordinator_n(world):
    user = UserFactory(username="coordinator_n")
    grant(user, Role.COORDINATOR, world.district_n)
    return user


@pytest.fixture
def coordinator_s(world):
    user = UserFactory(username="coordinator_s")
    grant(user, Role.COORDINATOR, world.district_s)
    return user


@pytest.fixture
def coordinator_m(world):
    user = UserFactory(username="coordinator_m")
    grant(user, Role.COORDINATOR, world.municipality)
    return user


def _url(district, fmt="csv", period=PERIOD) -> str:
    return reverse("followup:participant_export") + (
        f"?distrikt={district.pk}&fran={period[0].isoformat()}&till={period[1].isoformat()}"
        f"&format={fmt}"
    )


def _csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text[1:]), delimiter=";"))


def _xlsx_cell(cell) -> str:
    """A cell as the CSV would write it: decimals (format "0.0") with a comma."""
    if cell.value is None:
        return ""
    if cell.number_format == "0.0":
        return f"{Decimal(str(cell.value)):.1f}".replace(".", ",")
    return str(cell.value)


def _xlsx_rows(content: bytes) -> list[list[str]]:
    workbook = openpyxl.load_workbook(io.BytesIO(content))
    sheet = workbook.worksheets[0]
    return [[_xlsx_cell(cell) for cell in row] for row in sheet.iter_rows()]


# ---------------------------------------------------------------- the figures


def test_the_rows_equal_the_figures_of_the_hand_made_cases(world, district_cases):
    _full, _others, _boy = district_cases
    table = participant_table(world.district_n, *PERIOD)
    assert len(table.rows) == 6
    columns = table.columns
    assert columns[:4] == ["lopnummer", "kon", "arskurs", "alder_vid_intag"]
    assert "insats_samtal_tillfallen" in columns and "insats_hembesok_timmar" in columns
    assert "skolans_insats_anpassningar_tillfallen" in columns
    closed = [row for row in table.rows if row["status"] == "avslutat"]
    assert len(closed) == 1
    row = closed[0]
    assert row["kon"] == "Flicka"
    assert row["arskurs"] == "7"
    assert row["alder_vid_intag"] == 14
    assert row["skola"] == "Ekbackens skola"
    assert row["intag_manad"] == "2026-09"
    assert row["franvaro_intag_procent"] == Decimal("35.0")
    assert row["giltig_franvaro_intag_procent"] == Decimal("10.0")
    assert row["intag_period"] == "2026-07–2026-08"
    assert row["franvaro_avslut_procent"] == Decimal("5.0")
    assert row["giltig_franvaro_avslut_procent"] == Decimal("5.0")
    assert row["avslut_period"] == "2026-10–2026-11"
    # The newest approved mapping: school only; the unapproved one is never read.
    assert (row["orsak_skola"], row["orsak_familj"], row["orsak_individ"], row["orsak_annan"]) == (
        "ja",
        "nej",
        "nej",
        "nej",
    )
    assert row["insats_samtal_tillfallen"] == 3
    assert row["insats_samtal_timmar"] == Decimal("2.3")  # 135 minutes
    assert row["insats_hembesok_tillfallen"] == 1
    assert row["insats_hembesok_timmar"] == Decimal("1.0")
    assert row["skolans_insats_anpassningar_tillfallen"] == 0
    assert (row["mal_antal"], row["mal_uppnadda"], row["mal_delvis"]) == (4, 1, 1)
    assert (row["mal_ej_uppnadda"], row["mal_ej_bedomda"]) == (1, 1)
    assert row["malen_uppnadda"] == "delvis"
    assert row["avslutsorsak"] == str(ClosureReason.GOALS_MET.label)
    assert row["avslut_manad"] == "2026-12"
    assert row["genomford"] == "genomförd"
    assert row["nojdhet_elev"] == Decimal("4.3")  # (5+4+4)/3
    assert row["nojdhet_vardnadshavare"] == Decimal("4.0")  # (3+4+5+4+4+4)/6
    boy_row = next(r for r in table.rows if r["kon"] != "Flicka")
    assert (boy_row["arskurs"], boy_row["alder_vid_intag"], boy_row["status"]) == (
        "8",
        15,
        "pågående",
    )
    assert boy_row["orsak_skola"] == "" and boy_row["avslutsorsak"] == ""
    assert boy_row["intag_period"] == "2026-06–2026-07"  # submitted in late August
    assert boy_row["franvaro_intag_procent"] is None  # no lessons recorded


def test_the_export_has_no_direct_identifier_in_csv_or_xlsx(
    client, world, district_cases, coordinator_n
):
    client.force_login(coordinator_n)
    students = list(Student.objects.all())
    referrals = list(Referral.objects.all())
    for fmt in ("csv", "xlsx"):
        response = client.get(_url(world.district_n, fmt))
        assert response.status_code == 200, fmt
        if fmt == "csv":
            text = response.content.decode("utf-8")
        else:
            workbook = openpyxl.load_workbook(io.BytesIO(response.content))
            text = "\n".join(
                " ".join("" if v is None else str(v) for v in values)
                for sheet in workbook.worksheets
                for values in sheet.iter_rows(values_only=True)
            )
        assert find_personnummer(text) == []
        assert find_personnummer(text, valid_only=False) == []
        for student in students:
            assert student.first_name not in text and student.last_name not in text
            assert str(student.public_id) not in text
            assert student.earliest_birth_date.isoformat() not in text
        for referral in referrals:
            assert referral.number not in text
            assert str(referral.case.public_id) not in text
        assert SECRET not in text and "Mål 0" not in text and "Motiverande" not in text
        assert "2026-09-15" not in text and "2026-12-14" not in text  # days, not months
        disposition = response["Content-Disposition"]
        assert find_personnummer(disposition) == [] and "Ekholmsson" not in disposition


def test_the_xlsx_opens_and_has_the_same_rows_as_the_csv(
    client, world, district_cases, coordinator_n
):
    client.force_login(coordinator_n)
    csv_rows = _csv_rows(client.get(_url(world.district_n, "csv")).content)
    xlsx = client.get(_url(world.district_n, "xlsx"))
    assert xlsx["Content-Type"].startswith("application/vnd.openxmlformats")
    assert _xlsx_rows(xlsx.content) == csv_rows
    assert len(csv_rows) == 7  # the header and six cases
    assert "35,0" in {cell for row in csv_rows for cell in row}  # decimal comma


# ---------------------------------------------------------------- suppression


def test_rare_values_and_rare_combinations_show_as_less_than_five(
    client, world, district_cases, coordinator_n
):
    client.force_login(coordinator_n)
    rows = _csv_rows(client.get(_url(world.district_n)).content)
    header, body = rows[0], rows[1:]
    index = {name: header.index(name) for name in ("skola", "alder_vid_intag", "arskurs", "kon")}
    values = sorted(tuple(row[i] for i in index.values()) for row in body)
    # The boy is alone in his age, grade and gender; "< 5" standing for his values alone
    # would name them to anyone who knows the other five are 14-year-old girls in grade 7,
    # so their values are hidden with his (complementary suppression).
    assert values == [("Ekbackens skola", "< 5", "< 5", "< 5")] * 6
    assert [row[0] for row in body] == ["1", "2", "3", "4", "5", "6"]


def test_the_rule_keeps_every_combination_at_least_k(world):
    rows = [
        {"skola": s, "alder_vid_intag": a, "arskurs": g, "kon": k}
        for s, a, g, k in (
            [("A", 13, "7", "girl")] * 4
            + [("A", 13, "7", "boy")] * 3
            + [("B", 13, "7", "girl")] * 5
            + [("B", 14, "8", "boy")] * 2
        )
    ]
    result = suppression.suppress_rows(rows, ("skola", "alder_vid_intag", "arskurs", "kon"), k=5)
    combos: dict[tuple, int] = {}
    for row in result.rows:
        key = tuple(row.values())
        combos[key] = combos.get(key, 0) + 1
    fully = ("< 5",) * 4
    assert all(count >= 5 for key, count in combos.items() if key != fully)
    assert len(result.rows) == len(rows)
    assert result.suppressed_cells > 0
    with pytest.raises(suppression.TooFewRows):
        suppression.suppress_rows(rows[:4], ("skola",), k=5)


def test_one_hidden_value_never_stands_alone_behind_less_than_five(world):
    rows = [{"skola": s} for s in ["Ekbacken"] * 6 + ["Tallängen"] * 2 + ["Björkdalen"] * 7]
    result = suppression.suppress_rows(rows, ("skola",), k=5)
    shown = [row["skola"] for row in result.rows]
    # Tallängen alone is rare; the next rarest (Ekbacken) hides with it, so "< 5" cannot be
    # read as "the district's other school".
    assert shown.count("< 5") == 8
    assert shown.count("Björkdalen") == 7
    assert "Tallängen" not in shown and "Ekbacken" not in shown


def test_fewer_than_five_cases_is_refused_with_a_message_and_audited(client, world, coordinator_n):
    for _ in range(4):
        intake(world, group=world.group_a1)
    client.force_login(coordinator_n)
    response = client.get(_url(world.district_n))
    assert response.status_code == 400
    assert "text/html" in response["Content-Type"]
    assert "5" in response.content.decode()
    event = AuditEvent.objects.filter(object_type=AuditObjectType.PARTICIPANT_FOLLOWUP).latest("pk")
    assert event.detail["rows"] == 0 and event.detail["refused"] == "too_few"


def test_the_threshold_is_configurable(client, world, settings, coordinator_n):
    settings.SST_SMALL_COUNT_THRESHOLD = 3
    for _ in range(4):
        intake(world, group=world.group_a1)
    client.force_login(coordinator_n)
    response = client.get(_url(world.district_n))
    assert response.status_code == 200
    assert len(_csv_rows(response.content)) == 5


# ---------------------------------------------------------------- who may


def test_the_export_is_audited_without_personal_data(client, world, district_cases, coordinator_n):
    client.force_login(coordinator_n)
    client.get(_url(world.district_n, "xlsx"))
    event = AuditEvent.objects.filter(
        action=AuditAction.EXPORT, object_type=AuditObjectType.PARTICIPANT_FOLLOWUP
    ).latest("pk")
    assert event.actor_id == coordinator_n.pk
    assert event.student_id is None
    assert event.detail["rows"] == 6 and event.detail["district"] == world.district_n.pk
    assert event.detail["from"] == "2026-08-01" and event.detail["till"] == "2026-12-31"
    assert set(event.detail) <= {
        "district",
        "from",
        "till",
        "format",
        "threshold",
        "rows",
        "suppressed_cells",
    }


def test_the_municipality_coordinator_may_export_any_district(
    client, world, district_cases, coordinator_m
):
    client.force_login(coordinator_m)
    assert client.get(_url(world.district_n)).status_code == 200
    assert client.get(reverse("followup:participant_form")).status_code == 200


@pytest.mark.parametrize(
    "who",
    [
        "coordinator_s",
        "principal_a",
        "counsellor_a",
        "social_worker_n",
        "referral_forum_n",
        "manager_m",
        "admin_m",
        "nobody",
    ],
)
def test_nobody_but_the_district_coordinator_gets_the_file(
    client, world, district_cases, who, request
):
    user = request.getfixturevalue(who) if who.startswith("coordinator") else getattr(world, who)
    from ..conftest import verified_login

    verified_login(client, user)
    response = client.get(_url(world.district_n))
    assert response.status_code == 404
    assert b"lopnummer" not in response.content
    assert "text/html" in response["Content-Type"]
    if not who.startswith("coordinator"):
        assert client.get(reverse("followup:participant_form")).status_code == 404


def test_the_form_offers_only_the_coordinators_districts(client, world, coordinator_n):
    client.force_login(coordinator_n)
    page = client.get(reverse("followup:participant_form")).content.decode()
    assert "Norra" in page and "Södra" not in page
    desk = client.get(reverse("sst:desk")).content.decode()
    assert reverse("followup:participant_form") in desk


def test_a_made_up_district_is_a_404_and_a_bad_period_a_message(client, world, coordinator_n):
    client.force_login(coordinator_n)
    url = reverse("followup:participant_export")
    assert client.get(url + "?distrikt=999999&fran=2026-01-01&till=2026-02-01").status_code == 404
    response = client.get(url + f"?distrikt={world.district_n.pk}&fran=2026-05-01&till=2026-01-01")
    assert response.status_code == 400
    assert client.get(url).status_code == 302


def test_services_refuse_a_non_coordinator(world, district_cases):
    from sst.access import Refused

    with pytest.raises(Refused):
        services.participant_export(
            user=world.principal_a, district=world.district_n, start=PERIOD[0], end=PERIOD[1]
        )
