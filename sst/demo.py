"""Fictitious demo data: an invented municipality, its schools, students and staff.

``manage.py seed_demo`` calls ``seed`` (the organisation and people: this module), then each
app's registered part in app order (``register``: lessons for the term so far from
``attendance.demo``, the school's steps from ``cases.demo``), so the core imports no app;
``manage.py demo_totp`` reads the demo TOTP device. The tests and the README table
(``readme_region``) use the same specifications, so the documented demo users cannot drift
from the ones that are created.

Everything here is invented. Personal identity numbers have birth serials 980–999 only
(never issued in practice for people in these age groups) and valid check digits; phone
numbers come from the range the Swedish Post and Telecom Authority (PTS) reserves for
fiction (070-174 06 05 – 070-174 06 99); e-mail addresses use the reserved example.com.

Generation is deterministic (a fixed seed): person number *i* is the same whatever the total,
so running ``seed_demo`` again finds the same people and changes nothing. Birth years follow
the current school year (a new school year starts on 1 July), so a database seeded in one
school year and seeded again in the next gets a second, older-by-one cohort: recreate the
database instead.
"""

from __future__ import annotations

import base64
import datetime
import hashlib
import random
import textwrap
import unicodedata
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from django.apps import apps
from django.contrib.auth.hashers import make_password
from django.core.management.base import CommandParser
from django.db import transaction
from django.db.models import Q
from django.utils import timezone

from sst.models import (
    Custody,
    District,
    Gender,
    Grade,
    Guardian,
    MentorGroup,
    Municipality,
    PlaceKind,
    Role,
    RoleMembership,
    School,
    Student,
    User,
)
from sst.personnummer import luhn_check_digit, parse
from sst.services import guardian_link, membership_save, municipality_saved, student_upsert

DEMO_PASSWORD = "demo-sst-2026"  # noqa: S105 (documented demo password, never in production)
DEMO_SEED = 20260101
DEFAULT_STUDENTS = 800
SERIALS = range(980, 1000)  # birth serials 980–999 only: fictitious

# One TOTP secret shared by every demo administrator, so it can be added to an authenticator
# app once. 20 bytes (the RFC 4226 recommendation), derived from a fixed phrase.
DEMO_TOTP_KEY = hashlib.sha256(b"SST demo TOTP secret, not for real use").hexdigest()[:40]
DEMO_TOTP_SECRET_B32 = base64.b32encode(bytes.fromhex(DEMO_TOTP_KEY)).decode().rstrip("=")
DEMO_TOTP_DEVICE_NAME = "demo"

FICTIONAL_PHONES = [f"070-174 06 {n:02d}" for n in range(5, 100)]  # PTS range for fiction


# ---------------------------------------------------------------- the organisation


@dataclass(frozen=True)
class DistrictSpec:
    key: str  # ascii, used in usernames
    name: str


@dataclass(frozen=True)
class SchoolSpec:
    key: str  # ascii, used in usernames
    name: str
    unit_code: str  # fictitious skolenhetskod
    district: str
    two_group_grades: tuple[str, ...] = ()

    def groups(self) -> list[tuple[str, str]]:
        """(grade, group name) for every mentor group, e.g. ("7", "7A")."""
        return [
            (grade, f"{grade}{letter}")
            for grade in GRADES
            for letter in ("AB" if grade in self.two_group_grades else "A")
        ]


MUNICIPALITY_NAME = "Exempelby kommun"
MUNICIPALITY_CODE = "9999"
MUNICIPALITY_KEY = "kommun"
DISTRICTS = (
    DistrictSpec("norra", "Norra stadsdelen"),
    DistrictSpec("sodra", "Södra stadsdelen"),
)
GRADES: tuple[str, ...] = tuple(Grade.values)  # F, 1 … 9
SCHOOLS = (
    SchoolSpec("ekbacken", "Ekbackens skola", "99900011", "norra", ("F", "1", "2", "3")),
    SchoolSpec("tallangen", "Tallängens skola", "99900012", "norra"),
    SchoolSpec("bjorkdalen", "Björkdalens skola", "99900021", "sodra", ("4", "5")),
    SchoolSpec("sjovik", "Sjöviksskolan", "99900022", "sodra"),
)
MENTOR_GROUP = "7A"  # each school's demo mentor has this group
SECOND_MENTOR_GROUP = "8A"  # the person with two roles mentors this group at the first school


def all_groups() -> list[tuple[SchoolSpec, str, str]]:
    """Every mentor group as (school, grade, group name), grade by grade across the schools.

    Student *i* goes to group ``i % len(all_groups())``: even a small total reaches every
    school and grade, and the groups come out about the same size (≈17 for 800 students).
    """
    return [
        (school, grade, name)
        for grade in GRADES
        for school in SCHOOLS
        for group_grade, name in school.groups()
        if group_grade == grade
    ]


# ---------------------------------------------------------------- demo users


@dataclass(frozen=True)
class DemoRole:
    role: str
    place_kind: str
    place: str  # school or district key, MUNICIPALITY_KEY, or "school/group" for a group

    @property
    def place_label(self) -> str:
        if self.place_kind == PlaceKind.MENTOR_GROUP:
            school_key, group = self.place.split("/")
            return f"{group}, {school_spec(school_key).name}"
        if self.place_kind == PlaceKind.SCHOOL:
            return school_spec(self.place).name
        if self.place_kind == PlaceKind.DISTRICT:
            return _district(self.place).name
        return MUNICIPALITY_NAME


@dataclass(frozen=True)
class DemoUser:
    username: str
    first_name: str
    last_name: str
    roles: tuple[DemoRole, ...] = field(default_factory=tuple)


# Swedish titles for the README; the app shows its own translated labels.
ROLE_TITLES_SV: dict[str, str] = {
    Role.MENTOR: "mentor",
    Role.PRINCIPAL: "rektor",
    Role.COUNSELLOR: "kurator",
    Role.SPECIAL_EDUCATOR: "specialpedagog",
    Role.SCHOOL_NURSE: "skolsköterska",
    Role.SCHOOL_PSYCHOLOGIST: "skolpsykolog",
    Role.SOCIAL_WORKER: "skolsocionom",
    Role.REFERRAL_FORUM: "remissforum",
    Role.COORDINATOR: "samordnare",
    Role.MANAGER: "chef",
    Role.HEAD_OF_SCHOOLS: "skolchef",
    Role.ADMINISTRATOR: "administratör",
}
_SCHOOL_ROLES = (  # (username prefix, role)
    ("rektor", Role.PRINCIPAL),
    ("kurator", Role.COUNSELLOR),
    ("specped", Role.SPECIAL_EDUCATOR),
    ("skolskoterska", Role.SCHOOL_NURSE),
    ("skolpsykolog", Role.SCHOOL_PSYCHOLOGIST),
    ("chef", Role.MANAGER),
    ("admin", Role.ADMINISTRATOR),
)
_DISTRICT_ROLES = (
    ("socionom", Role.SOCIAL_WORKER),
    ("remissforum", Role.REFERRAL_FORUM),
    ("samordnare", Role.COORDINATOR),
    ("chef", Role.MANAGER),
    ("skolchef", Role.HEAD_OF_SCHOOLS),
)
_MUNICIPALITY_ROLES = (
    ("chef", Role.MANAGER),
    ("admin", Role.ADMINISTRATOR),
    ("remissforum", Role.REFERRAL_FORUM),
    ("samordnare", Role.COORDINATOR),
    ("skolchef", Role.HEAD_OF_SCHOOLS),
)
# Roles added after the demo's people were first named get their names last, so that every
# other demo person keeps the name they had (screenshots, walk-throughs).
_NAMED_LAST = frozenset({Role.HEAD_OF_SCHOOLS})
TWO_ROLE_USERNAME = "dubbelroll"


def demo_users() -> list[DemoUser]:
    """One user per role per relevant place, and one person with two roles in two places."""
    plan: list[tuple[str, tuple[DemoRole, ...]]] = []
    for school in SCHOOLS:
        group = f"{school.key}/{MENTOR_GROUP}"
        plan.append(
            (f"mentor.{school.key}", (DemoRole(Role.MENTOR, PlaceKind.MENTOR_GROUP, group),))
        )
        plan += [
            (f"{prefix}.{school.key}", (DemoRole(role, PlaceKind.SCHOOL, school.key),))
            for prefix, role in _SCHOOL_ROLES
        ]
    for district in DISTRICTS:
        plan += [
            (f"{prefix}.{district.key}", (DemoRole(role, PlaceKind.DISTRICT, district.key),))
            for prefix, role in _DISTRICT_ROLES
        ]
    plan += [
        (
            f"{prefix}.{MUNICIPALITY_KEY}",
            (DemoRole(role, PlaceKind.MUNICIPALITY, MUNICIPALITY_KEY),),
        )
        for prefix, role in _MUNICIPALITY_ROLES
    ]
    first, second = SCHOOLS[0], SCHOOLS[1]
    plan.append(
        (
            TWO_ROLE_USERNAME,
            (
                DemoRole(Role.MENTOR, PlaceKind.MENTOR_GROUP, f"{first.key}/{SECOND_MENTOR_GROUP}"),
                DemoRole(Role.COUNSELLOR, PlaceKind.SCHOOL, second.key),
            ),
        )
    )
    rng = random.Random(DEMO_SEED + 1)  # noqa: S311 (demo data, not security)
    taken: set[tuple[str, str]] = set()
    names: dict[str, tuple[str, str]] = {}
    naming_order = sorted(plan, key=lambda entry: any(r.role in _NAMED_LAST for r in entry[1]))
    for username, _roles in naming_order:
        while True:
            first_names = rng.choice((ADULT_WOMEN, ADULT_MEN))
            name = (rng.choice(first_names), rng.choice(LAST_NAMES))
            if name not in taken:
                taken.add(name)
                break
        names[username] = name
    return [DemoUser(username, *names[username], roles) for username, roles in plan]


def _is_administrator(user: DemoUser) -> bool:
    return any(r.role == Role.ADMINISTRATOR for r in user.roles)


def school_spec(key: str) -> SchoolSpec:
    return next(s for s in SCHOOLS if s.key == key)


def _district(key: str) -> DistrictSpec:
    return next(d for d in DISTRICTS if d.key == key)


# ---------------------------------------------------------------- students and guardians


@dataclass(frozen=True)
class DemoGuardian:
    personnummer: str  # 12 digits
    first_name: str
    last_name: str
    phone: str
    email: str
    has_custody: bool = True


@dataclass(frozen=True)
class DemoStudent:
    personnummer: str  # 12 digits
    first_name: str
    last_name: str
    gender: str
    grade: str
    school: str  # school key
    group: str  # group name
    guardians: tuple[DemoGuardian, ...]


def school_year_start(today: datetime.date) -> int:
    """The calendar year the current school year started (it turns on 1 July)."""
    return today.year if today.month >= 7 else today.year - 1


class _Numbers:
    """Hands out unique fictitious numbers: serial 980–999, the gender digit as recorded."""

    def __init__(self, rng: random.Random) -> None:
        self.rng = rng
        self.used: set[str] = set()

    def new(self, born: datetime.date, gender: str, *, coordination: bool = False) -> str:
        while True:
            serials = [
                s
                for s in SERIALS
                if gender == Gender.OTHER or (s % 2 == 1) == (gender == Gender.BOY)
            ]
            self.rng.shuffle(serials)
            day = born.day + 60 if coordination else born.day
            yymmdd = f"{born:%y%m}{day:02d}"
            for serial in serials:
                check = luhn_check_digit(f"{yymmdd}{serial}")
                number = f"{born.year:04d}{yymmdd[2:]}{serial}{check}"
                if number not in self.used:
                    self.used.add(number)
                    return number
            born += datetime.timedelta(days=1)  # all twenty taken: the next day


def _birth_date(rng: random.Random, year: int) -> datetime.date:
    return datetime.date(year, 1, 1) + datetime.timedelta(days=rng.randrange(365))


def _ascii(text: str) -> str:
    plain = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join(c for c in plain.lower() if c.isalnum())


def generate_students(
    total: int = DEFAULT_STUDENTS, *, today: datetime.date | None = None
) -> list[DemoStudent]:
    """The demo students with their guardians; the same list for the same day's school year."""
    today = today or timezone.localdate()
    first_grade_f = school_year_start(today) - 6  # birth year of grade F
    rng = random.Random(DEMO_SEED)  # noqa: S311 (demo data, not security)
    numbers = _Numbers(rng)
    groups = all_groups()
    students: list[DemoStudent] = []
    for index in range(total):
        school, grade, group = groups[index % len(groups)]
        born = _birth_date(rng, first_grade_f - GRADES.index(grade))
        roll = rng.random()
        gender = Gender.GIRL if roll < 0.49 else Gender.BOY if roll < 0.98 else Gender.OTHER
        first_name = rng.choice(
            {Gender.GIRL: GIRLS, Gender.BOY: BOYS, Gender.OTHER: UNISEX}[gender]
        )
        coordination = rng.random() < 0.01
        number = numbers.new(born, gender, coordination=coordination)

        # About one in twelve is a younger or older sibling of an earlier student.
        siblings = [s for s in students[-60:] if s.grade != grade]
        if siblings and rng.random() < 0.08:
            sibling = rng.choice(siblings)
            guardians, last_name = sibling.guardians, sibling.last_name
        else:
            guardians = _family(rng, numbers, born.year)
            custodial = [g for g in guardians if g.has_custody]
            last_name = rng.choice(custodial).last_name
        students.append(
            DemoStudent(number, first_name, last_name, gender, grade, school.key, group, guardians)
        )
    return students


def _family(rng: random.Random, numbers: _Numbers, child_born: int) -> tuple[DemoGuardian, ...]:
    """One or two guardians with custody; now and then a parent without custody."""
    roll = rng.random()
    if roll < 0.69:
        kinds = [True, True]  # two guardians with custody
    elif roll < 0.97:
        kinds = [True]  # one guardian with custody
    else:
        kinds = [True, False]  # and a parent without custody
    shared_name = rng.choice(LAST_NAMES)
    same_sex = rng.random() < 0.03
    first_gender = rng.choice((Gender.GIRL, Gender.BOY))
    guardians = []
    for position, has_custody in enumerate(kinds):
        if position == 0 or same_sex:
            gender = first_gender
        else:
            gender = Gender.BOY if first_gender == Gender.GIRL else Gender.GIRL
        first_name = rng.choice(ADULT_WOMEN if gender == Gender.GIRL else ADULT_MEN)
        last_name = shared_name if rng.random() < 0.6 else rng.choice(LAST_NAMES)
        born = _birth_date(rng, child_born - rng.randint(22, 44))
        email = ""
        if rng.random() < 0.6:
            email = f"{_ascii(first_name)}.{_ascii(last_name)}{rng.randint(1, 99)}@example.com"
        guardians.append(
            DemoGuardian(
                numbers.new(born, gender),
                first_name,
                last_name,
                rng.choice(FICTIONAL_PHONES),
                email,
                has_custody,
            )
        )
    return tuple(guardians)


# ---------------------------------------------------------------- writing to the database


@dataclass
class SeedResult:
    schools: int = 0
    groups: int = 0
    students: int = 0
    students_created: int = 0
    guardians: int = 0
    users: int = 0
    users_created: int = 0
    memberships: int = 0
    memberships_created: int = 0
    totp_devices: int = 0


def demo_municipality() -> Municipality | None:
    return Municipality.objects.filter(code=MUNICIPALITY_CODE).first()


@transaction.atomic
def seed(total: int = DEFAULT_STUDENTS, *, today: datetime.date | None = None) -> SeedResult:
    """Create or refresh the demo data. Idempotent: a second run finds everything in place."""
    result = SeedResult()
    municipality, _ = Municipality.objects.get_or_create(
        code=MUNICIPALITY_CODE, defaults={"name": MUNICIPALITY_NAME}
    )
    municipality_saved(municipality=municipality, by=None)
    districts = {
        spec.key: District.objects.get_or_create(municipality=municipality, name=spec.name)[0]
        for spec in DISTRICTS
    }
    schools: dict[str, School] = {}
    groups: dict[tuple[str, str], MentorGroup] = {}
    for spec in SCHOOLS:
        school, _ = School.objects.get_or_create(
            unit_code=spec.unit_code,
            defaults={"name": spec.name, "district": districts[spec.district]},
        )
        schools[spec.key] = school
        for _grade, name in spec.groups():
            groups[spec.key, name] = MentorGroup.objects.get_or_create(school=school, name=name)[0]

    for demo in generate_students(total, today=today):
        student, created = student_upsert(
            personnummer=parse(demo.personnummer),
            first_name=demo.first_name,
            last_name=demo.last_name,
            school=schools[demo.school],
            mentor_group=groups[demo.school, demo.group],
            grade=demo.grade,
            gender=demo.gender,
            by=None,
        )
        result.students_created += created
        for guardian in demo.guardians:
            guardian_link(
                student=student,
                personnummer=parse(guardian.personnummer),
                first_name=guardian.first_name,
                last_name=guardian.last_name,
                phone=guardian.phone,
                email=guardian.email,
                has_custody=guardian.has_custody,
                by=None,
            )

    places: dict[str, dict[str, Any]] = {
        PlaceKind.MUNICIPALITY: {MUNICIPALITY_KEY: municipality},
        PlaceKind.DISTRICT: districts,
        PlaceKind.SCHOOL: schools,
        PlaceKind.MENTOR_GROUP: {f"{s}/{g}": group for (s, g), group in groups.items()},
    }
    password = make_password(DEMO_PASSWORD)  # hashed once: the hasher is slow on purpose
    for demo_user in demo_users():
        user, created = User.objects.get_or_create(username=demo_user.username)
        result.users_created += created
        user.first_name, user.last_name = demo_user.first_name, demo_user.last_name
        user.email = f"{demo_user.username}@example.com"
        user.password, user.is_active = password, True
        user.save()
        for demo_role in demo_user.roles:
            place = places[demo_role.place_kind][demo_role.place]
            result.memberships_created += _ensure_membership(
                user, demo_role.role, demo_role.place_kind, place
            )
        if _is_administrator(demo_user):
            _ensure_totp_device(user)

    return counts(result)


def _ensure_membership(user: User, role: str, kind: str, place: object) -> bool:
    """Add the membership unless the person already holds this role at this place."""
    exists = RoleMembership.objects.active().filter(user=user, role=role, **{kind: place}).exists()
    if exists:
        return False
    membership_save(membership=RoleMembership(user=user, role=role, **{kind: place}), by=None)
    return True


def _ensure_totp_device(user: User) -> None:
    from django_otp.plugins.otp_totp.models import TOTPDevice

    TOTPDevice.objects.update_or_create(
        user=user,
        name=DEMO_TOTP_DEVICE_NAME,
        defaults={"key": DEMO_TOTP_KEY, "confirmed": True, "step": 30, "t0": 0, "digits": 6},
    )


def counts(result: SeedResult | None = None) -> SeedResult:
    """How much demo data there is now (the demo municipality's, the demo users')."""
    from django_otp.plugins.otp_totp.models import TOTPDevice

    result = result or SeedResult()
    municipality = demo_municipality()
    usernames = [u.username for u in demo_users()]
    in_demo = Q(school__district__municipality=municipality)
    result.schools = School.objects.filter(district__municipality=municipality).count()
    result.groups = MentorGroup.objects.filter(in_demo).count()
    result.students = Student.objects.filter(in_demo).count()
    result.guardians = Guardian.objects.filter(
        pk__in=Custody.objects.filter(student__school__district__municipality=municipality).values(
            "guardian_id"
        )
    ).count()
    result.users = User.objects.filter(username__in=usernames).count()
    result.memberships = RoleMembership.objects.filter(user__username__in=usernames).count()
    result.totp_devices = TOTPDevice.objects.filter(
        user__username__in=usernames, confirmed=True
    ).count()
    return result


def unit_codes() -> list[str]:
    """The demo schools' unit codes: what later apps' demo parts filter their rows by."""
    return [spec.unit_code for spec in SCHOOLS]


# ---------------------------------------------------------------- what later apps add


@dataclass
class DemoRun:
    """One run of ``seed_demo``: the student total, the command's options, and facts an
    earlier app's part leaves for a later one (the attendance part's school days)."""

    total: int
    options: dict[str, Any]
    facts: dict[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoLine:
    """A line for the command's output: ``success`` lines are styled as such."""

    text: str
    success: bool = True


@dataclass(frozen=True)
class DemoPart:
    app_label: str
    seed: Callable[[DemoRun], list[DemoLine]]
    add_arguments: Callable[[CommandParser], None] | None = None
    check_options: Callable[[dict[str, Any]], None] | None = None


_parts: dict[str, DemoPart] = {}


def register(
    *,
    app_label: str,
    seed: Callable[[DemoRun], list[DemoLine]],
    add_arguments: Callable[[CommandParser], None] | None = None,
    check_options: Callable[[dict[str, Any]], None] | None = None,
) -> None:
    """An app adds its demo data (in its ``AppConfig.ready``); one part per app.

    ``seed`` runs after the core's ``seed`` and the parts of the apps before it in
    ``INSTALLED_APPS``; ``add_arguments`` adds its options to ``seed_demo``, and
    ``check_options`` refuses bad ones before anything is written.
    """
    _parts[app_label] = DemoPart(app_label, seed, add_arguments, check_options)


def registered_parts() -> list[DemoPart]:
    """The registered parts in app order (``INSTALLED_APPS``): later apps build on earlier."""
    order = [config.label for config in apps.get_app_configs()]
    return [_parts[label] for label in order if label in _parts]


# ---------------------------------------------------------------- README


README_START = "<!-- demo-users:start -->"
README_END = "<!-- demo-users:end -->"


def readme_region() -> str:
    """The README text between the demo-users markers (``seed_demo --readme`` prints it)."""
    users = demo_users()
    rows = [
        f"| `{user.username}` | {ROLE_TITLES_SV[role.role]} (`{role.role}`) | {role.place_label} |"
        for user in users
        for role in user.roles
    ]
    admins = ", ".join(f"`{u.username}`" for u in users if _is_administrator(u))
    schools = ", ".join(f"{s.name} ({_district(s.district).name})" for s in SCHOOLS)

    def para(text: str, prefix: str = "") -> str:
        return textwrap.fill(
            text,
            width=95,
            initial_indent=prefix,
            subsequent_indent=prefix,
            break_on_hyphens=False,
            break_long_words=False,
        )

    parts = [
        para(
            "**All demo data is fictitious.** The municipality, its schools, the children, "
            "guardians and staff are invented; personal identity numbers use birth serials "
            "980–999, phone numbers the range reserved for fiction (070-174 06 05 – 99) and "
            "e-mail addresses example.com. Never load demo data into a database with real "
            "data: `seed_demo` and `demo_totp` refuse to run when `SST_ENVIRONMENT=production`.",
            "> ",
        ),
        para(
            "`make demo` (above) has already migrated the database and loaded this data: "
            "there is nothing more to run. Without `make`, the same steps in order (the "
            "app creates `var/` for its SQLite database itself):"
        ),
        "```sh\n"
        "python3 -m venv .venv && .venv/bin/pip install -e '.[dev]'\n"
        ".venv/bin/python manage.py migrate\n"
        f".venv/bin/python manage.py seed_demo    # {DEFAULT_STUDENTS} students; "
        "--students N for another number\n"
        ".venv/bin/python manage.py runserver\n"
        "```",
        para(
            f"{MUNICIPALITY_NAME} (municipality code {MUNICIPALITY_CODE}) has two districts, "
            f"{' and '.join(d.name for d in DISTRICTS)}, and four schools: {schools}. Each "
            "school has one or two mentor groups per grade, F–9, of about "
            f"{DEFAULT_STUDENTS // len(all_groups())} students; every "
            "student has one or two guardians with custody, a few also a parent without "
            "custody. Running `seed_demo` again changes nothing (it looks people up by their "
            "number and organisations by their codes and names)."
        ),
        para(
            f"Every demo user has the password **`{DEMO_PASSWORD}`**. One user per role and "
            "place, and `dubbelroll` with two roles at two schools:"
        ),
        "\n".join(["| username | role | place |", "| --- | --- | --- |", *rows]),
        para(
            f"Administrators must use two-factor authentication. The administrators {admins} "
            "have a confirmed TOTP device with one shared demo secret, "
            f"`{DEMO_TOTP_SECRET_B32}` (base32: add it to an authenticator app as a "
            "time-based, 6-digit, 30-second code), or print the current code with:"
        ),
        "```sh\n.venv/bin/python manage.py demo_totp admin.kommun\n```",
        para("Each code is accepted once: to sign in again at once, wait for the next code."),
        "**A first walk-through** (about five minutes, on <http://127.0.0.1:8000>):",
        "\n".join(
            [
                "1. Sign in as `mentor.ekbacken` (password above). *Mitt skrivbord* lists, "
                "under *Mentorschecklistor*, the students of 7A whose absence reached step 2.",
                "2. Open one of them from *Elever*: the student page shows the guardians, the "
                "absence month by month and the alerts.",
                "3. Back on the desk, choose *Fyll i checklistan* for that student, answer the "
                "questions (the dates of the talks with the student and the guardian) and save. "
                "A copy goes to the principal.",
                "4. Sign out and sign in as `rektor.ekbacken`: the desk shows the checklist "
                "copy, the school's cases and the students at step 4 waiting for a decision.",
                "5. Sign in as `rektor.tallangen`: nothing of Ekbackens skola's students is "
                "there (every refusal is a 404 and an audit row).",
            ]
        ),
        "**The team's side** (about five minutes more):",
        "\n".join(
            [
                "1. Sign in as `remissforum.norra`: the desk shows the referral forum's next "
                "meeting. Its agenda lists the referrals anonymously (school, grade, gender, "
                "absence with its period, what the school has done); decide one — accept "
                "and assign, place in the queue, reject with suggestions, or redirect. Last "
                "month's meeting has approved minutes, also as PDF.",
                "2. Sign in as `samordnare.norra`: *Kö* lists the accepted referrals waiting "
                "for a social worker, with days waiting; assign one, or move it up (a reason "
                "is required). *Ärenden per skolsocionom* shows the caseloads.",
                "3. Sign in as `socionom.norra`: *Mina uppdrag* lists the assigned "
                "referrals with the state of each family's consent. Only the one with a "
                "valid consent opens as an identified case; the one whose consent a "
                "guardian withdrew, and the one waiting for the second guardian, show the "
                "anonymous referral only.",
                "4. Sign in as `kurator.ekbacken`: a case's page shows its referral and the "
                "forum's decision, and *Samtycke och möten* where the school books the "
                "meeting with the family and records each guardian's consent (or uploads "
                "the signed form). A case still in the school's investigation offers "
                "*Skriv en uppdragsförfrågan*: names of the student or guardians in the "
                "text are flagged, a personnummer is refused, and the preview shows exactly "
                "what the forum will see.",
            ]
        ),
        "**The team's work with the family** (about ten minutes more):",
        "\n".join(
            [
                "1. Sign in as `socionom.norra`: the desk lists the follow-ups due and "
                "overdue and the booster meetings due. Six more cases are in every phase "
                "after consent: a plan being made, two in implementation, one in "
                "maintenance and two closed.",
                "2. Open the case whose plan is being made, then *Handlingsplan*: time-bound "
                "goals, interventions from the toolbox with who is responsible and how "
                "often, and the signatures still missing (the student and the guardians). "
                "*Ändra* saves a new version (the earlier ones stay readable under "
                "*Versioner*, and the chronology says what changed); if someone else saved "
                "in between, both versions are shown side by side and nothing is "
                "overwritten. *Skriv ut* gives the plan the family takes home, as PDF.",
                "3. Open the overdue follow-up from the desk: a result for each goal, the "
                "well-being rating (ORS), the absence since the last follow-up and since "
                "the start with their periods (from the attendance data), the interventions "
                "given (also checked off week by week), and the next date, 4–6 weeks on, "
                "on a school day of the school calendar.",
                "4. *Avsluta ärendet* on a case in implementation: the reason, whether the "
                "goals were met, the absence at intake and at closure (both periods named), "
                "and the satisfaction survey, answered at the meeting or through a one-time "
                "link that names no one. After closing, the social worker reads only the "
                "closure record they wrote.",
                "5. Sign in as `kurator.ekbacken`: the after-care check three months after a "
                "closure is on the desk, with the absence since the closure.",
                "6. Sign in as `samordnare.norra`: *Deltagaruppföljning* downloads the "
                "de-identified participant follow-up for the district as CSV or XLSX.",
            ]
        ),
    ]
    return "\n" + "\n\n".join(parts) + "\n"


# ---------------------------------------------------------------- names (common in Sweden)

GIRLS = (
    "Alice", "Maja", "Vera", "Elsa", "Astrid", "Wilma", "Alma", "Freja", "Ella", "Ebba",
    "Olivia", "Selma", "Alva", "Saga", "Agnes", "Clara", "Stella", "Signe", "Ellen", "Lilly",
    "Elvira", "Molly", "Tyra", "Leah", "Nova", "Ines", "Thea", "Lova", "Ester", "Ellie",
    "Hedda", "Ida", "Elin", "Emma", "Julia", "Linnea", "Moa", "Felicia", "Tilda", "Nora",
    "Sara", "Amira", "Hanna", "Nellie", "Liv", "Ronja", "Isabelle", "Majken", "Hilda", "Lea",
    "Miriam", "Yasmin", "Maryam", "Zara", "Aya", "Sofia", "Meja", "Emilia", "Matilda", "Siri",
)  # fmt: skip
BOYS = (
    "Noah", "William", "Hugo", "Liam", "Lucas", "Oliver", "Oscar", "Elias", "Adam", "Alexander",
    "Matteo", "Nils", "Leo", "Theo", "Vincent", "Ludvig", "Arvid", "Gustav", "Harry", "Charlie",
    "Elton", "Melvin", "Loke", "Alfred", "Frans", "August", "Edvin", "Isak", "Viktor", "Axel",
    "Filip", "Anton", "Albin", "Olle", "Sixten", "Ebbe", "Malte", "Love", "Gabriel", "Adrian",
    "Sam", "Kevin", "Emil", "Jacob", "Max", "Casper", "Ali", "Omar", "Yusuf", "Mohammed",
    "Ibrahim", "Jonathan", "Theodor", "Wilmer", "Valter", "Benjamin", "Milo", "Josef", "Elis",
    "Hampus",
)  # fmt: skip
UNISEX = ("Kim", "Alex", "Robin", "Charlie", "Sam", "Eli", "Billie", "Mika", "Noa", "Ariel")
ADULT_WOMEN = (
    "Anna", "Maria", "Sara", "Emma", "Johanna", "Jenny", "Linda", "Karin", "Sofia", "Elin",
    "Malin", "Camilla", "Jessica", "Hanna", "Frida", "Caroline", "Lisa", "Therese", "Emelie",
    "Ida", "Amanda", "Josefin", "Matilda", "Petra", "Helena", "Cecilia", "Fatima", "Amina",
    "Leila", "Nadia", "Mariam", "Ewa", "Aida", "Sanna", "Lina", "Maja", "Louise", "Annika",
    "Kristina", "Eva",
)  # fmt: skip
ADULT_MEN = (
    "Johan", "Andreas", "Daniel", "Fredrik", "Mikael", "Marcus", "Erik", "Martin", "Jonas",
    "Anders", "Peter", "Niklas", "Magnus", "Mattias", "Henrik", "Patrik", "Christoffer",
    "Stefan", "Tobias", "Alexander", "Joakim", "Thomas", "Robert", "David", "Sebastian", "Per",
    "Karl", "Mohammed", "Ahmed", "Ali", "Omar", "Hassan", "Tomasz", "Dragan", "Mehmet",
    "Ibrahim", "Jimmy", "Viktor", "Oskar", "Rickard",
)  # fmt: skip
LAST_NAMES = (
    "Andersson", "Johansson", "Karlsson", "Nilsson", "Eriksson", "Larsson", "Olsson",
    "Persson", "Svensson", "Gustafsson", "Pettersson", "Jonsson", "Jansson", "Hansson",
    "Bengtsson", "Jönsson", "Lindberg", "Jakobsson", "Magnusson", "Olofsson", "Lindström",
    "Lindqvist", "Lindgren", "Berg", "Axelsson", "Bergström", "Lundberg", "Lind", "Lundgren",
    "Lundqvist", "Mattsson", "Berglund", "Fredriksson", "Sandberg", "Henriksson", "Forsberg",
    "Sjöberg", "Wallin", "Engström", "Eklund", "Danielsson", "Lundin", "Håkansson", "Björk",
    "Bergman", "Gunnarsson", "Holm", "Wikström", "Samuelsson", "Isaksson", "Fransson",
    "Bergqvist", "Nyström", "Holmberg", "Arvidsson", "Löfgren", "Söderberg", "Nyberg",
    "Blomqvist", "Claesson", "Nordström", "Mårtensson", "Lundström", "Eliasson", "Pålsson",
    "Björklund", "Viklund", "Berggren", "Sandström", "Nordin", "Ström", "Åberg", "Ekström",
    "Falk", "Holmgren", "Dahlberg", "Hellström", "Hedlund", "Sjögren", "Ek", "Blom",
    "Abrahamsson", "Öberg", "Strömberg", "Månsson", "Åkesson", "Dahl", "Lindholm", "Norberg",
    "Ali", "Mohammed", "Ahmed", "Hassan", "Hussein", "Abdi", "Yilmaz", "Nowak", "Nguyen",
    "Khalil", "Haddad", "Karimi", "Jovanović", "Rahimi",
)  # fmt: skip
