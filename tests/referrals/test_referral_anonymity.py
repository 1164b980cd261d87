"""The anonymity check of the referral's free text: a personnummer is refused in every
field, names warn and need a confirmation bound to exactly what was shown, and the check
runs in the service, so a forged POST cannot skip it."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from referrals import anonymity, referral_services
from referrals.models import Referral
from referrals.referral_services import ReferralContent

from ..factories import GuardianFactory, give_custody

PERSONNUMMER_FORMS = [
    "20120304-1234",  # 12 digits with '-'
    "201203041234",  # 12 digits
    "120304-1234",  # 10 digits with '-'
    "1203041234",  # 10 digits
    "120304+1234",  # 10 digits with '+' (100 years or older)
    "19120304+1234",
    "120364-1234",  # samordningsnummer: day + 60
    "20120364-1234",
]


@pytest.fixture
def draft(case_a1, world) -> Referral:
    return referral_services.referral_create(case=case_a1, by=world.counsellor_a)


def save(draft: Referral, by, confirmation: str = "", **texts) -> Referral:
    return referral_services.referral_save(
        referral=draft,
        content=ReferralContent(**texts),
        version=Referral.objects.get(pk=draft.pk).version,
        confirmation=confirmation,
        by=by,
    )


@pytest.mark.parametrize("number", PERSONNUMMER_FORMS)
@pytest.mark.parametrize("field", anonymity.FREE_TEXT_FIELDS)
def test_a_personnummer_is_refused_in_every_free_text_field(draft, world, field, number):
    with pytest.raises(ValidationError) as refused:
        save(draft, world.counsellor_a, **{field: f"Se {number} i journalen."})
    assert field in refused.value.error_dict
    label = str(Referral._meta.get_field(field).verbose_name)
    assert label in refused.value.error_dict[field][0].messages[0]
    assert Referral.objects.get(pk=draft.pk).version == draft.version  # nothing saved


@pytest.mark.parametrize(
    "text",
    [
        "Frånvaron var 12,5 % under 2026.",
        "Ring 08-123 456 78",  # a phone number is not a personnummer's shape
        "Mötet 2026-10-03 kl 13",
        "120345-12345",  # too many digits at the end
        "121304-1234",  # month 13
    ],
)
def test_ordinary_numbers_are_not_refused(draft, world, text):
    save(draft, world.counsellor_a, adjustments=text)
    assert Referral.objects.get(pk=draft.pk).adjustments == text


def test_the_students_name_warns_and_needs_a_confirmation(draft, world):
    with pytest.raises(anonymity.NamesNeedConfirmation) as warned:
        save(draft, world.counsellor_a, cause_student_view="Alva vill inte gå till skolan.")
    findings = warned.value.findings
    assert findings.words_by_field() == {"cause_student_view": ["Alva"]}
    assert Referral.objects.get(pk=draft.pk).cause_student_view == ""
    # A made-up confirmation is not one.
    with pytest.raises(anonymity.NamesNeedConfirmation):
        save(draft, world.counsellor_a, "forged", cause_student_view="Alva vill inte.")
    saved = save(
        draft,
        world.counsellor_a,
        findings.token(),
        cause_student_view="Alva vill inte gå till skolan.",
    )
    assert saved.cause_student_view == "Alva vill inte gå till skolan."
    # What is stored is keyed hashes and counts, never the name.
    assert "alva" not in str(saved.name_warnings_confirmed).lower()
    assert saved.name_warnings_confirmed[0]["count"] == 1


def test_a_new_occurrence_needs_a_new_confirmation(draft, world):
    text = "Alva trivs."
    with pytest.raises(anonymity.NamesNeedConfirmation) as warned:
        save(draft, world.counsellor_a, adjustments=text)
    save(draft, world.counsellor_a, warned.value.findings.token(), adjustments=text)
    save(draft, world.counsellor_a, adjustments=text + " Mer text.")  # the same word: no warning
    with pytest.raises(anonymity.NamesNeedConfirmation):
        save(draft, world.counsellor_a, adjustments=text + " Alva igen.")
    with pytest.raises(anonymity.NamesNeedConfirmation):  # the same word in another field
        save(draft, world.counsellor_a, adjustments=text, expected_help="Stöd till Alva.")


def test_last_names_and_guardians_names_warn(draft, world):
    with pytest.raises(anonymity.NamesNeedConfirmation) as warned:
        save(
            draft,
            world.counsellor_a,
            cause_guardian_view="Karin säger att EKHOLMSSON-familjen har det tungt.",
        )
    assert warned.value.findings.words_by_field() == {
        "cause_guardian_view": ["Karin", "EKHOLMSSON"]
    }


def test_accents_and_case_are_ignored(world, case_a1):
    guardian = GuardianFactory(first_name="Åsa", last_name="Öberg")
    give_custody(world.student_a1, guardian)
    draft = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    with pytest.raises(anonymity.NamesNeedConfirmation) as warned:
        save(draft, world.counsellor_a, adjustments="Samtal med asa och OBERG.")
    assert warned.value.findings.words_by_field() == {"adjustments": ["asa", "OBERG"]}


def test_only_whole_words_match():
    names = anonymity.name_parts(["Ann", "Li"])
    findings = anonymity.examine({"adjustments": "Annika och Anneli lika, Linnea"}, names, [])
    assert findings.hits == []
    findings = anonymity.examine({"adjustments": "ann, (Ann) och ANN."}, names, [])
    assert [hit.word for hit in findings.hits] == ["ann", "Ann", "ANN"]


def test_a_common_word_that_is_a_name_still_warns(world, case_a1):
    """ "Hugo", "Bo", "Gul": the writer confirms; the check does not guess."""
    guardian = GuardianFactory(first_name="Bo", last_name="Ek")
    give_custody(world.student_a1, guardian)
    draft = referral_services.referral_create(case=case_a1, by=world.counsellor_a)
    with pytest.raises(anonymity.NamesNeedConfirmation):
        save(draft, world.counsellor_a, adjustments="Eleven ville bo kvar hos mormor.")


def test_a_forged_post_cannot_skip_the_check(client, draft, world):
    from ..conftest import verified_login

    verified_login(client, world.counsellor_a)
    url = f"/team/uppdragsforfragan/{draft.public_id}/"
    response = client.post(
        url,
        {
            "version": draft.version,
            "report_of_concern": "unknown",
            "expected_help": "Se 20120304-1234.",
        },
    )
    assert response.status_code == 400
    assert Referral.objects.get(pk=draft.pk).expected_help == ""
    response = client.post(
        url,
        {
            "version": draft.version,
            "report_of_concern": "unknown",
            "expected_help": "Hjälp Alva.",
            "confirm_names": "on",
            "confirmation": "made-up",
        },
    )
    assert response.status_code == 400
    assert Referral.objects.get(pk=draft.pk).expected_help == ""
    page = response.content.decode()
    assert "<mark>Alva</mark>" in page


def test_the_warning_page_confirms_and_saves(client, draft, world):
    from ..conftest import verified_login

    verified_login(client, world.counsellor_a)
    url = f"/team/uppdragsforfragan/{draft.public_id}/"
    name = world.student_a1.first_name
    data = {
        "version": draft.version,
        "report_of_concern": "unknown",
        "adjustments": f"Studiero, {name} är ett ord här.",
    }
    response = client.post(url, data)
    assert response.status_code == 400
    token = response.context["form"]["confirmation"].value()
    response = client.post(url, {**data, "confirmation": token, "confirm_names": "on"})
    assert response.status_code == 302
    assert Referral.objects.get(pk=draft.pk).adjustments == data["adjustments"]


def test_submit_refuses_unconfirmed_names_saved_around_the_check(draft, world):
    """Even if a name got in by another way than the save service, submit checks again."""
    Referral.objects.filter(pk=draft.pk).update(
        expected_help="Stöd för Alva", cause_student_view="Orolig"
    )
    draft.refresh_from_db()
    with pytest.raises(ValidationError):
        referral_services.referral_submit(referral=draft, by=world.counsellor_a)
    assert Referral.objects.get(pk=draft.pk).state == "draft"
