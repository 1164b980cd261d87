"""Issue 10, the anonymity rule, swept over the whole demo: no personal data in any page,
PDF, download, export or notice that a forum member, a coordinator or an unassigned social
worker can reach — nor, for the assigned social worker, about any student their valid
consent does not cover.

The demo is seeded once (referrals in every state, a valid consent, a withdrawn one and one
waiting for the second guardian; a scan planted on each consent under a file name that is the
student's name). Then, as each of those people:

- every page reachable by links from the desk is fetched (breadth first, same origin);
- every URL pattern of the project that takes an identifier is fetched with the public id of
  every demo object of its type: the team's pages with every referral, forum meeting, case,
  consent, giving, scan and family meeting; the school's own pages (students, cases,
  checklists, mappings, EHT, attendance and its CSV export by unit code) with the three
  consent cases and one case of each other kind, to keep the sweep under a minute;
- each response — HTML unescaped, CSV, a download's bytes, a PDF's extracted text and its
  metadata, and the response headers — is searched for every student's and guardian's full
  name ("First Last" and "Last, First"), every distinctive last name on its own, every
  personnummer in all its written forms, and the guardians' e-mail addresses and phone
  numbers. What the assigned social worker may see (the students their valid consent covers,
  and those students' guardians) is left out of the search for them alone.

The e-mail notices sent while the demo was seeded (agenda ready, decision, assignment,
consent withdrawn) are searched the same way, for everyone. A self-check proves the search
finds a planted name, on a page and in a PDF, so the sweep can fail.
"""

from __future__ import annotations

import html
import io
import re
import unicodedata
import urllib.parse
from collections import deque
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import pytest
from django.core import mail
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.management import call_command
from django.db.models import Model, QuerySet
from django.test import Client
from django.urls import reverse
from django.utils import translation
from django.utils.translation import gettext
from pypdf import PdfReader
from pypdf.errors import PdfReadError

from attendance.models import Alert
from cases.models import (
    ENDED_STATES,
    Case,
    EhtDecision,
    HealthTalk,
    MentorChecklist,
    OfferedTime,
    PedagogicalMapping,
    SchoolSocialMapping,
)
from followup.models import FollowUp
from referrals import consent_services, referral_services
from referrals import demo as referrals_demo
from referrals.consent import identified_for
from referrals.consent import status as consent_status
from referrals.models import (
    Consent,
    ConsentGiving,
    ConsentScan,
    FamilyMeeting,
    ForumMeeting,
    Referral,
    ReferralState,
)
from sst.models import District, Guardian, Role, School, Student, User

from ..conftest import verified_login
from ..factories import UserFactory, grant
from ..sst.test_url_coverage import ALL

STUDENTS = 120  # enough for every referral state and the three consent cases
PAGES_PER_PERSON = 250
SKIP = re.compile(r"^/(static/|logga-ut/|i18n/|administration/)")
WORD = re.compile(r"\w+")
HREF = re.compile(r'href="(/(?!/)[^"#]*)"')
PDF = b"%PDF-1.4\n1 0 obj << /Type /Catalog >> endobj\ntrailer << /Root 1 0 R >>\n%%EOF\n"


# ---------------------------------------------------------------- what is searched for


def _nfc(text: str) -> str:
    return unicodedata.normalize("NFC", text)


def _words(text: str) -> str:
    """A phrase as a whole-word pattern, any run of white space between its words."""
    return r"(?<!\w)" + r"\s+".join(re.escape(_nfc(w)) for w in text.split()) + r"(?!\w)"


def personnummer_forms(value: str) -> set[str]:
    """Every written form of a 12-digit personnummer: YYYYMMDDNNNC, YYYYMMDD-NNNC, and the
    10-digit YYMMDDNNNC, YYMMDD-NNNC, YYMMDD+NNNC."""
    date, tail = value[:8], value[8:]
    return {
        value,
        f"{date}-{tail}",
        f"{date[2:]}{tail}",
        f"{date[2:]}-{tail}",
        f"{date[2:]}+{tail}",
    }


@dataclass(frozen=True)
class Term:
    owner: tuple[str, int]  # ("student", pk) or ("guardian", pk)
    label: str  # what was found, for the failure message (the test's own output)
    pattern: re.Pattern[str]
    text: str  # the searched value, to drop it where it is also an allowed person's
    words: frozenset[str] = frozenset()  # casefolded words the text must hold for a match
    needles: tuple[str, ...] = ()  # casefolded parts it must hold
    digits: str = ""  # the digits it must hold, white space and hyphens left out


@dataclass
class People:
    terms: list[Term] = field(default_factory=list)

    def add(
        self,
        owner: tuple[str, int],
        label: str,
        pattern: str,
        text: str,
        flags: int,
        *,
        words: Iterable[str] = (),
        needles: Iterable[str] = (),
        digits: str = "",
    ) -> None:
        self.terms.append(
            Term(
                owner,
                label,
                re.compile(pattern, flags),
                _nfc(text),
                frozenset(WORD.findall(_nfc(" ".join(words)).casefold())),
                tuple(_nfc(n).casefold() for n in needles),
                digits,
            )
        )


def _phone_digits(phone: str) -> str:
    return re.sub(r"\D", "", phone)


def terms_for(
    students: Iterable[Any], guardians: Iterable[Any], common_words: set[str]
) -> list[Term]:
    """The search terms for these students and guardians. Last names alone are searched
    only where distinctive: not a word of any staff member's name or the demo's places."""
    people = People()
    insensitive = re.IGNORECASE
    for kind, rows in (("student", students), ("guardian", guardians)):
        for person in rows:
            owner = (kind, person.pk)
            first, last = person.first_name, person.last_name
            names = (first, last)
            full = f"{first} {last}"
            people.add(owner, f"{kind} full name", _words(full), full, insensitive, words=names)
            people.add(
                owner,
                f"{kind} name, last first",
                _words(last) + r",\s*" + _words(first),
                f"{last}, {first}",
                insensitive,
                words=names,
            )
            if _nfc(last) not in common_words:
                people.add(owner, f"{kind} last name", _words(last), last, 0, words=[last])
            number = person.personnummer.value
            forms = "|".join(re.escape(form) for form in sorted(personnummer_forms(number)))
            people.add(
                owner,
                f"{kind} personnummer",
                rf"(?<!\d)(?:{forms})(?!\d)",
                number,
                0,
                needles=[number[2:8]],
            )
            email = getattr(person, "email", "")
            if email:
                people.add(
                    owner, f"{kind} e-mail", re.escape(email), email, insensitive, needles=[email]
                )
            phone = getattr(person, "phone", "")
            if phone and len(_phone_digits(phone)) >= 7:
                spaced = r"[\s-]?".join(re.escape(d) for d in _phone_digits(phone))
                people.add(
                    owner,
                    f"{kind} phone",
                    rf"(?<!\d){spaced}(?!\d)",
                    phone,
                    0,
                    digits=_phone_digits(phone),
                )
    return people.terms


def visible_terms(terms: list[Term], allowed: set[tuple[str, int]]) -> list[Term]:
    """The terms to search for a person allowed to see ``allowed``: none of theirs, and no
    term whose text is also one of theirs (a shared last name, a shared phone number)."""
    allowed_texts = {t.text.casefold() for t in terms if t.owner in allowed}
    return [t for t in terms if t.owner not in allowed and t.text.casefold() not in allowed_texts]


def found(terms: list[Term], text: str) -> list[str]:
    """What of ``terms`` the text holds. The words and literal parts of each term are
    looked for first (a set lookup, a substring search), and only then its pattern."""
    haystack = _nfc(text)
    folded = haystack.casefold()
    words = set(WORD.findall(folded))
    squeezed = re.sub(r"[\s-]", "", haystack)
    return [
        f"{t.label} {t.owner} {t.text}"
        for t in terms
        if t.words <= words
        and all(needle in folded for needle in t.needles)
        and t.digits in squeezed
        and t.pattern.search(haystack)
    ]


# ---------------------------------------------------------------- reading a response


def pdf_text(data: bytes) -> str:
    """A PDF's text and metadata; for a file pypdf cannot read (an uploaded scan), its
    bytes."""
    try:
        reader = PdfReader(io.BytesIO(data))
    except PdfReadError:
        return data.decode("latin-1")
    parts = [page.extract_text() or "" for page in reader.pages]
    metadata = reader.metadata or {}
    parts.extend(f"{key} {value}" for key, value in metadata.items())
    if reader.xmp_metadata is not None:
        parts.append(str(reader.xmp_metadata.rdf_root.toxml()))
    return "\n".join(parts)


def response_text(response: Any) -> str:
    """Everything a person receives: headers, and the body as text (HTML unescaped, also
    URL-decoded; a PDF's text and metadata; a download's bytes)."""
    headers = "\n".join(f"{k}: {v}" for k, v in response.items())
    data = b"".join(response.streaming_content) if response.streaming else bytes(response.content)
    kind = response.get("Content-Type", "")
    if data.startswith(b"%PDF") or "pdf" in kind:
        body = pdf_text(data)
    else:
        body = page_text(data.decode("utf-8", errors="replace"))
    return headers + "\n" + body


def page_text(markup: str) -> str:
    """Markup as the reader gets it: entities decoded, and once more URL-decoded."""
    text = html.unescape(markup)
    return text + "\n" + urllib.parse.unquote(text)


# ---------------------------------------------------------------- where to look


def _pks(model: type[Model], **lookup: Any) -> list[str]:
    rows: QuerySet[Any] = model._default_manager.filter(**lookup)
    return [str(value) for value in rows.values_list("public_id", flat=True)]


def _pools(cases: list[Case]) -> dict[str, list[str]]:
    students = [case.student_id for case in cases]
    return {
        "case": [str(case.public_id) for case in cases],
        "student": _pks(Student, pk__in=students),
        "referral": _pks(Referral, case__in=cases),
        "meeting": _pks(ForumMeeting),
        "consent": _pks(Consent, case__in=cases),
        "giving": _pks(ConsentGiving, consent__case__in=cases),
        "scan": _pks(ConsentScan, consent__case__in=cases),
        "family_meeting": _pks(FamilyMeeting, case__in=cases),
        "checklist": _pks(MentorChecklist, case__in=cases),
        "eht_decision": _pks(EhtDecision, case__in=cases),
        "mapping": _pks(SchoolSocialMapping, case__in=cases)
        + _pks(PedagogicalMapping, case__in=cases)
        + _pks(HealthTalk, case__in=cases),
        "offered_time": _pks(OfferedTime, case__in=cases),
        "alert": _pks(Alert, student_id__in=students),
        "followup": _pks(FollowUp, case__in=cases),
        "unit_code": sorted({case.school.unit_code for case in cases}),
    }


# The referrals' patterns name their objects ``public_id``: which object each one means.
REFERRAL_OBJECTS = {
    "referral_start": "case",
    "referral_edit": "referral",
    "referral_preview": "referral",
    "referral_submit": "referral",
    "referral_withdraw": "referral",
    "referral_revise": "referral",
    "referral_registered": "referral",
    "meeting_detail": "meeting",
    "meeting_move": "meeting",
    "meeting_cancel": "meeting",
    "meeting_prepare": "meeting",
    "decision_create": "meeting",
    "minutes": "meeting",
    "minutes_approve": "meeting",
    "minutes_pdf": "meeting",
    "consent_new": "case",
    "consent_form_pdf": "case",
    "consent_meeting_book": "case",
    "consent_giving_new": "consent",
    "consent_scan_upload": "consent",
    "consent_scan_download": "scan",
    "consent_giving_withdraw": "giving",
    "consent_meeting_outcome": "family_meeting",
    "consent_referral": "referral",
    "consent_referral_meeting_book": "referral",
    "consent_referral_note": "referral",
    "consent_form_blank": "referral",
}
PARAMETER_OBJECTS = {
    "case_id": "case",
    "student_id": "student",
    "referral_id": "referral",
    "checklist_id": "checklist",
    "decision_id": "eht_decision",
    "mapping_id": "mapping",
    "time_id": "offered_time",
    "alert_id": "alert",
    "followup_id": "followup",
    "unit_code": "unit_code",
}
PARAMETER = re.compile(r"<(?:(\w+):)?(\w+)>")


def _object_of(name: str, parameter: str) -> str | None:
    namespace, _sep, short = name.partition(":")
    if parameter != "public_id":
        return PARAMETER_OBJECTS.get(parameter)
    if namespace == "referrals":
        return REFERRAL_OBJECTS[short]
    if namespace == "imports":
        return None
    return "case" if short.startswith("case_") else "student"


def pattern_urls(
    pools: dict[str, list[str]], school_pools: dict[str, list[str]]
) -> list[tuple[str, str]]:
    """Every pattern that takes an identifier, filled with every demo object of its type
    (the school's own pages, which the team never sees, with ``school_pools``). The
    decision page takes a meeting and a referral: every pair is tried."""
    urls: list[tuple[str, str]] = []
    for route, name, _callback, admin in ALL:
        parameters = PARAMETER.findall(route)
        if admin or not name or not parameters:
            continue
        objects = pools if name.startswith("referrals:") else school_pools
        choices: list[dict[str, str]] = [{}]
        for _converter, parameter in parameters:
            kind = _object_of(name, parameter)
            if kind is None:
                continue
            values = objects[kind]
            choices = [{**c, parameter: v} for c in choices for v in values]
        for choice in choices:
            if len(choice) != len(parameters):
                continue

            def fill(match: re.Match[str], choice: dict[str, str] = choice) -> str:
                return choice[match.group(2)]

            urls.append((name, "/" + PARAMETER.sub(fill, route)))
    return urls


@dataclass
class Sweep:
    fetched: dict[str, int] = field(default_factory=dict)
    leaks: list[tuple[str, int, list[str]]] = field(default_factory=list)

    def ok(self, url_prefix: str) -> list[str]:
        return [u for u, s in self.fetched.items() if s == 200 and u.startswith(url_prefix)]


def sweep(client: Client, terms: list[Term], extra: list[tuple[str, str]]) -> Sweep:
    """The desk and every page linked from it, then ``extra``; every response searched."""
    result = Sweep()

    def fetch(url: str) -> Any:
        response = client.get(url)
        result.fetched[url] = response.status_code
        text = response_text(response)
        hits = found(terms, text)
        if hits:
            result.leaks.append((url, response.status_code, hits))
        return response

    desk = reverse("sst:desk")
    seen, queue = {desk}, deque([desk])
    while queue and len(result.fetched) < PAGES_PER_PERSON:
        url = queue.popleft()
        response = fetch(url)
        if response.status_code != 200 or "text/html" not in response.get("Content-Type", ""):
            continue
        for link in HREF.findall(response.content.decode()):
            link = html.unescape(link)
            if link not in seen and not SKIP.match(link):
                seen.add(link)
                queue.append(link)
    for _name, url in extra:
        if url not in result.fetched:
            fetch(url)
    return result


# ---------------------------------------------------------------- the demo


def _seed(private_dir: Any) -> list[Case]:
    """The demo, a revision of its rejected referral, and a scan on every demo consent
    uploaded under the student's name and personnummer."""
    call_command("seed_demo", students=STUDENTS, stdout=io.StringIO(), stderr=io.StringIO())
    states = set(Referral.objects.values_list("state", flat=True))
    assert states >= set(ReferralState.values) - {ReferralState.REVISED}
    rejected = Referral.objects.filter(state=ReferralState.REJECTED).first()
    assert rejected is not None
    referral_services.referral_revise(referral=rejected, by=rejected.created_by)
    cases = list(
        Case.objects.filter(referrals__isnull=False)
        .distinct()
        .select_related("student", "school")
        .order_by("pk")
    )
    for consent in Consent.objects.filter(case__in=cases).select_related("case__student"):
        staff = consent.recorded_by
        student = consent.case.student
        upload = SimpleUploadedFile(
            f"{student.first_name} {student.last_name} {student.personnummer.value}.pdf",
            PDF,
            content_type="application/pdf",
        )
        consent_services.scan_upload(consent=consent, upload=upload, by=staff)
    return cases


def _common_words() -> set[str]:
    """Words of staff members' names and of the demo's places: not searched on their own."""
    words: set[str] = set()
    for first, last in User.objects.values_list("first_name", "last_name"):
        words.update(_nfc(w) for w in f"{first} {last}".split())
    for model in (School, District):
        for name in model.objects.values_list("name", flat=True):
            words.update(_nfc(w) for w in name.split())
    return words


def _guardians_of(students: Iterable[int]) -> set[tuple[str, int]]:
    return {
        ("guardian", pk)
        for pk in Guardian.objects.filter(custodies__student_id__in=students).values_list(
            "pk", flat=True
        )
    }


@pytest.fixture
def private_dir(monkeypatch, tmp_path):
    storage = ConsentScan._meta.get_field("file").storage
    monkeypatch.setattr(storage, "base_location", str(tmp_path), raising=False)
    monkeypatch.setattr(storage, "location", str(tmp_path), raising=False)
    return tmp_path


def test_no_personal_data_reaches_the_team_side_of_the_demo(
    db, settings, private_dir, django_capture_on_commit_callbacks
):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
    mail.outbox = []
    with django_capture_on_commit_callbacks(execute=True):  # the notices are sent on commit
        cases = _seed(private_dir)

    # The demo has what the sweep needs: every state, the three consents (and those of the
    # team's work part's cases), a scan on each.
    assert ReferralState.REVISED in set(Referral.objects.values_list("state", flat=True))
    assigned = referrals_demo.demo_assigned_cases()
    by_state = {consent_status(case)["state"]: case for case in assigned}
    assert set(by_state) == {"valid", "withdrawn", "waiting"}
    assert ConsentScan.objects.count() == Consent.objects.count() >= 3

    all_terms = terms_for(Student.objects.all(), Guardian.objects.all(), _common_words())
    # The school's pages of the three consent cases, a queued one, one on the agenda, and
    # the revision's new case; the team's pages of every case.
    sample = [*assigned]
    for state in (ReferralState.QUEUED, ReferralState.ON_AGENDA, ReferralState.DRAFT):
        sample.append(Referral.objects.filter(state=state).order_by("-pk").first().case)
    extra = pattern_urls(_pools(cases), _pools(sample))

    social_worker = User.objects.get(username="socionom.norra")
    district = District.objects.get(pk=cases[0].school.district_id)
    unassigned = UserFactory(username="socionom.norra2", first_name="Vera", last_name="Ohlin")
    grant(unassigned, Role.SOCIAL_WORKER, district)
    identified = set(
        Case.objects.filter(identified_for(social_worker)).values_list("student_id", flat=True)
    )
    # The valid consent case, and the open cases of the team's work part (a plan made under a
    # valid consent); never the withdrawn or waiting one, nor a closed case.
    team_work = set(
        Case.objects.filter(action_plan__isnull=False)
        .exclude(state__in=ENDED_STATES)
        .values_list("student_id", flat=True)
    )
    assert identified == {by_state["valid"].student_id} | team_work

    people = {
        "remissforum.norra": set(),
        "samordnare.norra": set(),
        "socionom.norra2": set(),
        "socionom.norra": {("student", pk) for pk in identified} | _guardians_of(identified),
    }
    results: dict[str, Sweep] = {}
    for username, allowed in people.items():
        client = Client()
        verified_login(client, User.objects.get(username=username))
        results[username] = sweep(client, visible_terms(all_terms, allowed), extra)

    leaks = {u: r.leaks for u, r in results.items() if r.leaks}
    assert leaks == {}

    # Not vacuous: each person reached their work, the PDFs included.
    forum, coordinator = results["remissforum.norra"], results["samordnare.norra"]
    sw, other_sw = results["socionom.norra"], results["socionom.norra2"]
    assert any(u.endswith("/protokoll/pdf/") for u in forum.ok("/team/forum/mote/"))
    assert len(forum.ok("/team/forum/mote/")) >= 5
    assert coordinator.ok(reverse("referrals:queue")) and coordinator.ok(
        reverse("referrals:caseload")
    )
    assert len(sw.ok("/team/samtycke/uppdrag/")) >= 6  # three referral pages, forms, booking
    assert any(u.endswith("/blankett/") for u in sw.ok("/team/samtycke/uppdrag/"))
    valid_case = str(by_state["valid"].public_id)
    assert sw.fetched[reverse("cases:case_detail", args=[valid_case])] == 200
    for state in ("withdrawn", "waiting"):
        url = reverse("cases:case_detail", args=[by_state[state].public_id])
        assert sw.fetched[url] == 404
        assert other_sw.fetched[url] == 404
    scan = ConsentScan.objects.get(consent__case=by_state["valid"])
    assert sw.fetched[reverse("referrals:consent_scan_download", args=[scan.public_id])] == 200
    for result in results.values():
        assert all(status < 500 for status in result.fetched.values())

    # The notices sent while the demo was made: the four kinds, and nobody in them.
    with translation.override(settings.LANGUAGE_CODE):
        expected = {
            gettext("An agenda for the referral forum is ready"),
            gettext("A referral has been decided"),
            gettext("You have been assigned a case"),
            gettext("A consent has been withdrawn"),
        }
    assert expected <= {message.subject for message in mail.outbox}
    for message in mail.outbox:
        parts = [message.subject, message.body] + [
            str(content) for content, _type in getattr(message, "alternatives", [])
        ]
        assert found(all_terms, "\n".join(parts)) == [], message.subject

    # The self-check: the same search finds the names where they may be seen — the school's
    # case page and its filled consent form (a PDF), and a planted string.
    case = by_state["waiting"]
    student = case.student
    school_client = Client()
    verified_login(school_client, Consent.objects.get(case=case).recorded_by)
    own = [t for t in all_terms if t.owner == ("student", student.pk)]
    page = school_client.get(reverse("cases:case_detail", args=[case.public_id]))
    assert page.status_code == 200
    assert "student full name" in " ".join(found(own, response_text(page)))
    form = school_client.get(reverse("referrals:consent_form_pdf", args=[case.public_id]))
    assert form.status_code == 200 and form["Content-Type"] == "application/pdf"
    assert "student full name" in " ".join(found(own, response_text(form)))


def test_the_search_finds_what_is_planted():
    """The search can fail: names in markup, escaped, reversed, across a line break; a
    personnummer in each of its forms; a last name alone only where it is distinctive."""

    @dataclass
    class Person:
        pk: int
        first_name: str
        last_name: str
        number: str
        email: str = ""
        phone: str = ""

        @property
        def personnummer(self) -> Any:
            return type("P", (), {"value": self.number})()

    student = Person(1, "Åsa", "Öberg", "201203151234")
    guardian = Person(2, "Karl", "Lind", "198001012389", "karl.lind7@example.com", "070-174 00 12")
    terms = terms_for([student], [guardian], common_words={"Lind"})
    assert found(terms, page_text("<td>Elev: &Aring;sa\n  &#214;berg</td>"))
    assert found(terms, page_text("/sok/?q=%C3%85sa%20%C3%96berg"))
    assert found(terms, "ÖBERG, ÅSA")
    assert found(terms, "<p>Familjen Öberg</p>") == ["student last name ('student', 1) Öberg"]
    assert found(terms, "Lind") == []  # a staff member's name: not on its own
    assert found(terms, "Karl Lind")
    for form in personnummer_forms("201203151234"):
        assert found(terms, f"pnr {form}."), form
    assert found(terms, "id 1201203151234") == []  # part of a longer number
    assert found(terms, "KARL.LIND7@example.com")
    assert found(terms, "ring 0701740012")
    assert found(terms, "Öbergs") == [] and found(terms, "Åsa Öbergsson") == []
    # What an allowed reader may see is left out, and so is a term they share.
    assert visible_terms(terms, {("student", 1)}) == [t for t in terms if t.owner[0] == "guardian"]
