"""The plan's pages, both ways (who reads, who writes, everyone else 404), the forms with
their rows, two people editing at once, the versions, signatures and the printable plan."""

from __future__ import annotations

import datetime
import io

import pytest
from dateutil.relativedelta import relativedelta
from django.test import Client
from django.urls import reverse
from pypdf import PdfReader

from actionplans import plan_services as services
from actionplans.models import ActionPlan, Party, PlanRevision, Signature
from cases.models import Case, CaseState
from sst.models import AuditEvent

from ..clock import pinned_clock
from ..conftest import verified_login
from .plan_setup import consent_case, current_rows, goal, item, make_plan, plan_case

pytestmark = pytest.mark.django_db
TODAY = datetime.date(2026, 11, 18)  # a Wednesday in HT26
_clock = pinned_clock(TODAY)

EVERYONE = [
    "principal_a",
    "counsellor_a",
    "nurse_a",
    "mentor_a1",
    "social_worker_n",
    "referral_forum_n",
    "manager_m",
    "admin_m",
    "counsellor_b",
    "nobody",
]
# The school's case staff and the assigned social worker (with a valid consent) read and
# write the plan; a mentor does not read cases (their part is the checklist): 404, as on
# the case page.
WRITERS = {"principal_a", "counsellor_a", "nurse_a", "social_worker_n"}


def _login(user) -> Client:
    client = Client()
    verified_login(client, user)
    return client


def _url(name: str, case, *args) -> str:
    return reverse(f"actionplans:{name}", args=[case.public_id, *args])


def plan_post(world, plan=None, *, goals=None, interventions=None, **fields) -> dict[str, str]:
    """The edit form as a browser posts it (rows numbered, with the management forms)."""
    today = TODAY
    data = {
        "starts_on": str(fields.pop("starts_on", plan.starts_on if plan else today)),
        "ends_on": str(
            fields.pop("ends_on", plan.ends_on if plan else services.default_ends_on(today))
        ),
        "longer_reason": fields.pop("longer_reason", ""),
        "school_measures": fields.pop("school_measures", ""),
        "version": str(fields.pop("version", plan.version if plan else "")),
        "save": "1",
    }
    goals = goals if goals is not None else []
    interventions = interventions if interventions is not None else []
    initial_goals = fields.pop("initial_goals", 0)
    initial_rows = fields.pop("initial_interventions", 0)
    data.update(
        {
            "goals-TOTAL_FORMS": str(len(goals)),
            "goals-INITIAL_FORMS": str(initial_goals),
            "interventions-TOTAL_FORMS": str(len(interventions)),
            "interventions-INITIAL_FORMS": str(initial_rows),
        }
    )
    for n, row in enumerate(goals):
        data.update({f"goals-{n}-{key}": str(value) for key, value in row.items()})
    for n, row in enumerate(interventions):
        data.update({f"interventions-{n}-{key}": str(value) for key, value in row.items()})
    data.update({key: str(value) for key, value in fields.items()})
    return data


def goal_row(text="Närvara på alla måndagslektioner", target=None, **kw):
    return {
        "text": text,
        "measure": kw.pop("measure", "Närvaron i skolans system"),
        "target_on": target or TODAY + datetime.timedelta(days=60),
        **kw,
    }


def intervention_row(world, name="Incheckning och utcheckning", **kw):
    return {
        "item": item(world, name).pk,
        "side": kw.pop("side", "school"),
        "responsible": kw.pop("responsible", world.counsellor_a.pk),
        "how_often": kw.pop("how_often", "Varje morgon"),
        "starts_on": kw.pop("starts_on", TODAY),
        **kw,
    }


def existing_post(world, plan, **kw) -> dict[str, str]:
    goals = [
        {"public_id": g.public_id, "text": g.text, "measure": g.measure, "target_on": g.target_on}
        for g in plan.goals.filter(ended_in__isnull=True)
    ]
    rows = [
        {
            "public_id": r.public_id,
            "item": r.item_id,
            "side": r.side,
            "responsible": r.responsible_id,
            "how_often": r.how_often,
            "starts_on": r.starts_on,
        }
        for r in plan.interventions.filter(ended_on__isnull=True)
    ]
    goals += kw.pop("more_goals", [])
    return plan_post(
        world,
        plan,
        goals=goals,
        interventions=rows,
        initial_goals=len(plan.goals.filter(ended_in__isnull=True)),
        initial_interventions=len(rows),
        **kw,
    )


# ---------------------------------------------------------------- the role matrix


@pytest.mark.parametrize("who", EVERYONE)
def test_role_matrix(world, who):
    plan = make_plan(world)
    case = plan.case
    client = _login(getattr(world, who))
    pages = ["plan_detail", "plan_versions", "plan_edit", "plan_sign", "plan_continuation"]
    for name in pages:
        expected = 200 if who in WRITERS else 404
        assert client.get(_url(name, case)).status_code == expected, (name, who)
    assert client.get(_url("plan_version", case, 1)).status_code == (200 if who in WRITERS else 404)


def test_the_social_worker_without_a_valid_consent_gets_404(world):
    plan = make_plan(world)
    client = _login(world.social_worker_n)
    assert client.get(_url("plan_detail", plan.case)).status_code == 200
    giving = plan.case.consents.get().givings.get()
    from referrals import consent_services

    consent_services.consent_withdraw(giving=giving, withdrawn_on=TODAY, by=world.counsellor_a)
    for name in ["plan_detail", "plan_edit", "plan_pdf", "plan_versions"]:
        assert client.get(_url(name, plan.case)).status_code == 404, name
    assert AuditEvent.objects.filter(action="access_denied", actor_id=world.social_worker_n.pk)


def test_a_counsellor_at_school_b_cannot_post_either(world):
    plan = make_plan(world)
    client = _login(world.counsellor_b)
    response = client.post(_url("plan_edit", plan.case), existing_post(world, plan))
    assert response.status_code == 404
    plan.refresh_from_db()
    assert plan.version == 1


# ---------------------------------------------------------------- making the plan on the page


def test_the_plan_page_offers_the_start_of_the_plan_step_in_consent(world):
    team = consent_case(world)
    client = _login(world.social_worker_n)
    page = client.get(_url("plan_detail", team.case)).content.decode()
    step = reverse("cases:case_transition", args=[team.case.public_id, "handlingsplan"])
    assert step in page
    response = client.post(step, {"version": Case.objects.get(pk=team.case.pk).version})
    assert response.status_code == 302
    assert Case.objects.get(pk=team.case.pk).state == CaseState.PLAN
    # The school does not start it (the social worker does).
    assert (
        step not in _login(world.counsellor_a).get(_url("plan_detail", team.case)).content.decode()
    )


def test_the_social_worker_makes_the_plan_with_rows_from_the_toolbox(world):
    case = plan_case(world)
    client = _login(world.social_worker_n)
    page = client.get(_url("plan_create", case)).content.decode()
    assert '<optgroup label="Struktur">' in page
    assert '<optgroup label="Skolans egna åtgärder">' in page
    assert "<legend" in page
    response = client.post(
        _url("plan_create", case),
        plan_post(
            world,
            goals=[goal_row(), {"text": "", "measure": "", "target_on": ""}],
            interventions=[
                intervention_row(world),
                intervention_row(
                    world,
                    "Regelbundna samtal och sms",
                    side="social_services",
                    responsible=world.social_worker_n.pk,
                    how_often="En gång i veckan",
                ),
            ],
        ),
    )
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = ActionPlan.objects.get(case=case)
    assert plan.goals.count() == 1
    assert plan.interventions.count() == 2
    detail = client.get(_url("plan_detail", case)).content.decode()
    assert "Närvara på alla måndagslektioner" in detail
    assert "Signatures missing" in detail or "Underskrifter saknas" in detail


def test_add_a_row_draws_the_form_again_and_saves_nothing(world):
    case = plan_case(world)
    client = _login(world.social_worker_n)
    data = plan_post(world, goals=[goal_row()], interventions=[])
    data.pop("save")
    data["add_goal"] = "1"
    response = client.post(_url("plan_create", case), data)
    assert response.status_code == 200
    page = response.content.decode()
    assert 'name="goals-1-text"' in page
    assert "Närvara på alla måndagslektioner" in page
    assert not ActionPlan.objects.exists()


def test_a_long_plan_without_a_reason_gets_a_clear_message(world):
    case = plan_case(world)
    client = _login(world.social_worker_n)
    response = client.post(
        _url("plan_create", case),
        plan_post(
            world,
            ends_on=TODAY + relativedelta(months=7),
            goals=[goal_row()],
            interventions=[intervention_row(world)],
        ),
    )
    assert response.status_code == 200
    assert "six months" in response.content.decode() or "sex månader" in response.content.decode()
    assert not ActionPlan.objects.exists()


def test_form_text_limits(world):
    case = plan_case(world)
    client = _login(world.social_worker_n)
    response = client.post(
        _url("plan_create", case),
        plan_post(world, goals=[goal_row(text="x" * 301)], interventions=[]),
    )
    assert response.status_code == 200
    assert 'maxlength="300"' in response.content.decode()
    assert not ActionPlan.objects.exists()


# ---------------------------------------------------------------- two people at once


def test_two_people_editing_the_same_plan_the_second_gets_the_conflict(world):
    plan = make_plan(world)
    first, second = _login(world.social_worker_n), _login(world.counsellor_a)
    # Both open the edit form of version 1.
    assert 'value="1"' in first.get(_url("plan_edit", plan.case)).content.decode()
    assert second.get(_url("plan_edit", plan.case)).status_code == 200
    mine = existing_post(world, plan, more_goals=[goal_row("Socialsekreterarens mål")])
    theirs = existing_post(world, plan, more_goals=[goal_row("Kuratorns mål")])
    assert first.post(_url("plan_edit", plan.case), mine).status_code == 302
    response = second.post(_url("plan_edit", plan.case), theirs)
    assert response.status_code == 409
    page = response.content.decode()
    assert "Kuratorns mål" in page and "Socialsekreterarens mål" in page
    assert "<mark>" in page
    assert _url("plan_edit", plan.case) in page
    plan.refresh_from_db()
    assert plan.version == 2
    texts = set(plan.goals.values_list("text", flat=True))
    assert "Kuratorns mål" not in texts and "Socialsekreterarens mål" in texts
    assert PlanRevision.objects.filter(plan=plan).count() == 2


def test_the_conflict_page_is_in_swedish(world):
    plan = make_plan(world)
    services.plan_revise(by=world.counsellor_a, **current_rows(plan))
    client = _login(world.social_worker_n)
    client.cookies["django_language"] = "sv"
    response = client.post(
        _url("plan_edit", plan.case),
        existing_post(world, plan, version=1),
        HTTP_ACCEPT_LANGUAGE="sv",
    )
    assert response.status_code == 409
    page = response.content.decode()
    assert "Någon annan sparade planen" in page
    assert "Det du försökte spara" in page and "Det som är sparat nu" in page


# ---------------------------------------------------------------- versions


def test_the_versions_page_lists_revisions_and_version_1_shows_the_removed_goal(world):
    plan = make_plan(world)
    arguments = current_rows(plan)
    arguments["goals"] = [goal("Ett nytt mål")]
    services.plan_revise(by=world.counsellor_a, **arguments)
    client = _login(world.social_worker_n)
    page = client.get(_url("plan_versions", plan.case)).content.decode()
    assert "goal removed" in page or "mål borttaget" in page
    old = client.get(_url("plan_version", plan.case, 1)).content.decode()
    assert "<td>Närvara på alla måndagslektioner</td>" in old and "Ett nytt mål" not in old
    new = client.get(_url("plan_version", plan.case, 2)).content.decode()
    assert "<td>Ett nytt mål</td>" in new
    assert "<td>Närvara på alla måndagslektioner</td>" not in new
    assert client.get(_url("plan_version", plan.case, 3)).status_code == 404


# ---------------------------------------------------------------- signatures


def test_signatures_on_the_page_and_what_is_missing(world):
    plan = make_plan(world)
    client = _login(world.social_worker_n)
    page = client.get(_url("plan_sign", plan.case)).content.decode()
    assert "Karin Ekholmsson" in page  # the guardian with custody is named as missing
    response = client.post(
        _url("plan_sign", plan.case),
        {"version": 1, "party": Party.SOCIAL_WORKER, "how": "in_app", "signed_on": TODAY},
    )
    assert response.status_code == 302
    signature = Signature.objects.get(plan=plan)
    assert signature.signer == world.social_worker_n
    response = client.post(
        _url("plan_sign", plan.case),
        {"version": 1, "party": Party.STUDENT, "how": "in_app", "signed_on": TODAY},
    )
    assert response.status_code == 200
    assert Signature.objects.filter(plan=plan).count() == 1


# ---------------------------------------------------------------- the printable plan


def test_the_pdf_opens_holds_the_goal_and_no_personnummer(world):
    plan = make_plan(world)
    client = _login(world.social_worker_n)
    response = client.get(_url("plan_pdf", plan.case))
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    reader = PdfReader(io.BytesIO(response.content))
    text = " ".join(page.extract_text() for page in reader.pages)
    flat = " ".join(text.split())
    assert "Närvara på alla måndagslektioner" in flat
    assert "Incheckning och utcheckning" in flat
    assert "Handlingsplan" in flat or "handlingsplan" in flat
    number = world.student_a1.personnummer.value
    digits = "".join(ch for ch in flat if ch.isdigit())
    assert number not in digits and number[2:] not in digits
    metadata = reader.metadata or {}
    assert "Alva" not in str(dict(metadata)) and "Ekholmsson" not in str(dict(metadata))
    assert str(plan.public_id) not in flat and str(plan.case.public_id) not in flat
    assert AuditEvent.objects.filter(
        object_type="action_plan", action="export", actor_id=world.social_worker_n.pk
    ).exists()


def test_the_case_page_shows_the_plan_section(world):
    plan = make_plan(world, longer_reason="")
    client = _login(world.counsellor_a)
    page = client.get(reverse("cases:case_detail", args=[plan.case.public_id])).content.decode()
    assert 'id="plan-heading"' in page
    assert _url("plan_detail", plan.case) in page


def test_the_versions_page_runs_a_fixed_number_of_queries(world, django_assert_max_num_queries):
    plan = make_plan(world)
    for text in ("Ett", "Två", "Tre"):
        services.plan_revise(by=world.counsellor_a, **current_rows(plan, goals=[goal(text)]))
    client = _login(world.social_worker_n)
    with django_assert_max_num_queries(30):
        response = client.get(_url("plan_versions", plan.case))
    assert response.status_code == 200
    assert response.content.decode().count("/versioner/") >= 4
