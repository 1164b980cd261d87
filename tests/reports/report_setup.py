"""A small municipality with hand-made monthly absence, for the report tests.

Two districts: Norr (schools A and B) and Söder (school C). Grade 7 at school A has six
students whose autumn 2025 (September and October, 1000 scheduled minutes each month) is
chosen around the thresholds:

| student | absent | valid | term % |
| --- | --- | --- | --- |
| a7_1 | 300 | 100 | 15.00 (not above 15) |
| a7_2 | 301 | 0 | 15.05 |
| a7_3 | 500 | 500 | 25.00 (not above 25) |
| a7_4 | 802 | 402 | 40.10 |
| a7_5 | 0 | 0 | 0 |
| a7_6 | 100 | 100 | 5.00 |

Grade 7: 2003 / 12000 = 16.69 %, valid 1102 / 12000 = 9.18 %. Grade 8 at school A: two
students, 1000 of 2000 minutes absent (50.00 %), none valid. School B: one grade-7 student
at 16 %. School C (Söder): one grade-9 student at 90 %. Autumn 2024 (September): a7_4 at
45 %, the others at 0; autumn 2023: nothing above 0. February 2025 (a spring month) puts
a7_5 at 100 %, which no autumn figure may count.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.utils import timezone

from attendance.models import MonthlyAbsence
from sst.models import District, Municipality, Role, School, Student, User
from tests.factories import (
    DistrictFactory,
    MentorGroupFactory,
    MunicipalityFactory,
    SchoolFactory,
    StudentFactory,
    UserFactory,
    grant,
)

SEP25, OCT25 = datetime.date(2025, 9, 1), datetime.date(2025, 10, 1)
SEP24, SEP23 = datetime.date(2024, 9, 1), datetime.date(2023, 9, 1)
FEB25 = datetime.date(2025, 2, 1)


def month_row(
    student: Student,
    month: datetime.date,
    *,
    scheduled: int = 1000,
    valid: int = 0,
    invalid: int = 0,
    step: int = 0,
    school: School | None = None,
    grade: str | None = None,
) -> MonthlyAbsence:
    """The rollup's row; the school and grade are the register's unless the month had others."""
    return MonthlyAbsence.objects.create(
        student=student,
        month=month,
        school=school or student.school,
        grade=grade or student.grade,
        scheduled_min=scheduled,
        valid_min=valid,
        invalid_min=invalid,
        lesson_count=10,
        step=step,
        computed_at=timezone.now(),
    )


def step_of(absent: int, scheduled: int = 1000) -> int:
    pct = absent * 100 / scheduled
    return 4 if pct > 20 else 3 if pct >= 15 else 2 if pct >= 10 else 0


@dataclass
class ReportWorld:
    municipality: Municipality
    north: District
    south: District
    school_a: School
    school_b: School
    school_c: School
    grade7: list[Student]
    municipality_manager: User
    north_manager: User
    school_a_manager: User
    school_b_manager: User
    principal_a: User


def build_world() -> ReportWorld:
    municipality = MunicipalityFactory(name="Rapportby kommun", code="0999")
    north = DistrictFactory(municipality=municipality, name="Norr")
    south = DistrictFactory(municipality=municipality, name="Söder")
    school_a = SchoolFactory(district=north, name="Askskolan", unit_code="77000001")
    school_b = SchoolFactory(district=north, name="Björkskolan", unit_code="77000002")
    school_c = SchoolFactory(district=south, name="Cederskolan", unit_code="77000003")
    group_a7 = MentorGroupFactory(school=school_a, name="7A")
    group_a8 = MentorGroupFactory(school=school_a, name="8A")
    grade7 = [StudentFactory(mentor_group=group_a7, grade="7") for _ in range(6)]
    for student, (absent, valid) in zip(
        grade7, [(300, 100), (301, 0), (500, 500), (802, 402), (0, 0), (100, 100)], strict=True
    ):
        # Split over two months: September has the valid part and half the rest.
        invalid = absent - valid
        sep_invalid = invalid // 2
        month_row(
            student,
            SEP25,
            valid=valid,
            invalid=sep_invalid,
            step=step_of(valid + sep_invalid),
        )
        month_row(
            student, OCT25, invalid=invalid - sep_invalid, step=step_of(invalid - sep_invalid)
        )
    for i, student in enumerate(grade7):
        month_row(student, SEP24, invalid=450 if i == 3 else 0, step=4 if i == 3 else 0)
        month_row(student, SEP23)
    month_row(grade7[4], FEB25, invalid=1000, step=4)
    grade8 = [StudentFactory(mentor_group=group_a8, grade="8") for _ in range(2)]
    month_row(grade8[0], SEP25, invalid=1000, step=4)
    month_row(grade8[1], SEP25)
    b7 = StudentFactory(mentor_group=MentorGroupFactory(school=school_b, name="7B"), grade="7")
    month_row(b7, SEP25, invalid=160, step=3)
    c9 = StudentFactory(mentor_group=MentorGroupFactory(school=school_c, name="9C"), grade="9")
    month_row(c9, SEP25, valid=400, invalid=500, step=4)

    def manager(name: str, place: object, role: str = Role.MANAGER) -> User:
        user = UserFactory(username=name)
        grant(user, role, place)
        return user

    return ReportWorld(
        municipality=municipality,
        north=north,
        south=south,
        school_a=school_a,
        school_b=school_b,
        school_c=school_c,
        grade7=grade7,
        municipality_manager=manager("chef.kommun", municipality),
        north_manager=manager("chef.norr", north),
        school_a_manager=manager("chef.ask", school_a),
        school_b_manager=manager("chef.bjork", school_b),
        principal_a=manager("rektor.ask", school_a, Role.PRINCIPAL),
    )
