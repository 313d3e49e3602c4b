"""Issue 3 in the browser: register subjects, define standings with their actions, and edit a
scorecard's KPIs, weights and credit terms per line — the same services as the API, with the
service's refusals shown on the form and nothing written; outsiders reach none of it."""

from decimal import Decimal

import pytest
from django.urls import reverse

from core.models import AuditEvent
from core.testing.factories import UserFactory
from kpis import services
from kpis.models import ScorecardLine, Standing, StandingScheme, Subject
from kpis.services import LineSpec

from .conftest import make_kpi, make_measure

pytestmark = pytest.mark.django_db
D = Decimal


# --- Subjects -------------------------------------------------------------------------------------------


def test_a_cs_manager_registers_a_vendor_a_team_and_an_agent_subject(client, cs_manager, vendor, agent):
    client.force_login(cs_manager)
    page = client.get(reverse("kpis:subject_list"))
    assert page.status_code == 200 and "Register a subject" in page.content.decode()
    url = reverse("kpis:subject_list")
    assert (
        client.post(url, {"kind": "vendor", "label": "Harbour Call", "vendor": vendor.pk}).status_code == 302
    )
    assert client.post(url, {"kind": "team", "label": "Hotline team"}).status_code == 302
    assert client.post(url, {"kind": "agent", "label": "Kelvin Ho", "user": agent.pk}).status_code == 302
    rows = {s.kind: s for s in Subject.objects.all()}
    assert rows["vendor"].vendor == vendor and rows["agent"].user == agent
    assert rows["team"].vendor is None and rows["team"].user is None
    assert AuditEvent.objects.filter(object_type="kpis.subject", action=AuditEvent.Action.CREATE).count() == 3


def test_subject_form_errors_write_nothing(client, cs_manager, portal_user, other_vendor, vendor):
    client.force_login(cs_manager)
    url = reverse("kpis:subject_list")
    no_vendor = client.post(url, {"kind": "vendor", "label": "Nameless"})
    assert no_vendor.status_code == 200 and "Choose the vendor this subject is." in no_vendor.content.decode()
    # A vendor portal user is never offered (nor accepted) as an agent.
    portal_agent = client.post(url, {"kind": "agent", "label": "Priscilla", "user": portal_user.pk})
    assert portal_agent.status_code == 200 and "Select a valid choice" in portal_agent.content.decode()
    agent_picker = client.get(url).content.decode().split('name="user"', 1)[1].split("</select>", 1)[0]
    assert "priscilla" not in agent_picker
    assert not Subject.objects.exists()


def test_the_vendor_picker_is_restricted_to_vendors_the_manager_may_see(client, vendor_manager, vendor):
    client.force_login(vendor_manager)
    page = client.get(reverse("kpis:subject_list")).content.decode()
    assert vendor.name in page


def test_outsiders_cannot_register_subjects(client, outsider, no_role_user, vendor):
    url = reverse("kpis:subject_list")
    client.force_login(outsider)
    assert client.post(url, {"kind": "vendor", "label": "Mine now", "vendor": vendor.pk}).status_code == 403
    assert "Register a subject" not in client.get(url).content.decode()
    client.force_login(no_role_user)
    assert client.get(url).status_code == 403
    assert client.post(url, {"kind": "team", "label": "Team"}).status_code == 403
    assert not Subject.objects.exists()


# --- Standing schemes -----------------------------------------------------------------------------------


def standings_post(name: str, bands: list[dict]) -> dict:
    data = {
        "name": name,
        "description": "Vendor standings.",
        "standings-TOTAL_FORMS": "5",
        "standings-INITIAL_FORMS": "0",
        "standings-MIN_NUM_FORMS": "0",
        "standings-MAX_NUM_FORMS": "10",
    }
    for i in range(5):
        data[f"standings-{i}-colour"] = "#5b6875"
        data[f"standings-{i}-staff_recommendation"] = "no_action"
    for i, band in enumerate(bands):
        for key, value in band.items():
            data[f"standings-{i}-{key}"] = value
    return data


GOOD_BANDS: list[dict] = [
    {
        "name": "Poor",
        "colour": "#cf222e",
        "lower": "0",
        "upper": "60",
        "notify_roles": ["vendor_manager"],
        "flag_vendor_for_review": "on",
        "require_improvement_plan": "on",
        "staff_recommendation": "formal_review",
    },
    {"name": "Fair", "colour": "#bf8700", "lower": "60", "upper": "85"},
    {"name": "Good", "colour": "#1a7f37", "lower": "85", "upper": "100", "staff_recommendation": "reward"},
]


def test_a_vendor_manager_defines_standings_with_their_actions(client, vendor_manager):
    client.force_login(vendor_manager)
    assert client.get(reverse("kpis:standing_scheme_create")).status_code == 200
    response = client.post(reverse("kpis:standing_scheme_create"), standings_post("Vendors", GOOD_BANDS))
    assert response.status_code == 302, response.content.decode()
    scheme = StandingScheme.objects.get(name="Vendors")
    poor, fair, good = scheme.standings.order_by("lower")
    assert (poor.colour, poor.lower, poor.upper) == ("#cf222e", D("0"), D("60"))
    assert poor.notify_roles == ["vendor_manager"] and poor.flag_vendor_for_review
    assert poor.require_improvement_plan and poor.staff_recommendation == "formal_review"
    assert not fair.flag_vendor_for_review and not fair.require_improvement_plan
    assert good.staff_recommendation == "reward"
    listing = client.get(reverse("kpis:standing_scheme_list")).content.decode()
    assert "Vendors" in listing and "Define standings" in listing


@pytest.mark.parametrize(
    ("bands", "message"),
    [
        (
            [{"name": "Low", "lower": "0", "upper": "50"}, {"name": "High", "lower": "60", "upper": "100"}],
            "Scores from 50 to 60 have no standing.",
        ),
        (
            [{"name": "Low", "lower": "0", "upper": "70"}, {"name": "High", "lower": "60", "upper": "100"}],
            "“Low” and “High” overlap.",
        ),
        ([{"name": "Low", "lower": "10", "upper": "100"}], "Standings must start at 0"),
    ],
)
def test_gaps_and_overlaps_are_form_errors_and_write_nothing(client, cs_manager, bands, message):
    client.force_login(cs_manager)
    response = client.post(reverse("kpis:standing_scheme_create"), standings_post("Broken", bands))
    assert response.status_code == 200
    assert message in response.content.decode()
    assert not StandingScheme.objects.exists() and not Standing.objects.exists()


def test_outsiders_cannot_define_standings(client, outsider, no_role_user, agent):
    for person in (outsider, no_role_user, agent):
        client.force_login(person)
        assert client.get(reverse("kpis:standing_scheme_create")).status_code == 403
        response = client.post(reverse("kpis:standing_scheme_create"), standings_post("Mine", GOOD_BANDS))
        assert response.status_code == 403
    assert not StandingScheme.objects.exists()


# --- Scorecard lines ------------------------------------------------------------------------------------


@pytest.fixture
def card(cs_manager, second_manager, vendor_subject):
    make_measure(cs_manager, "sla_pct")
    make_measure(cs_manager, "csat_pct")
    sla = make_kpi(cs_manager, second_manager, "sla_attainment", "sla_pct")
    csat = make_kpi(cs_manager, second_manager, "csat", "csat_pct")
    return services.scorecard_create(
        actor=cs_manager,
        name="Harbour Call contract",
        subject=vendor_subject,
        lines=[
            LineSpec(sla.definition, D("60"), critical=True, allocation_pct=D("100")),
            LineSpec(csat.definition, D("40")),
        ],
    )


def lines_post(rows: list[dict], initial: int = 2, total: int = 4) -> dict:
    data = {
        "lines-TOTAL_FORMS": str(total),
        "lines-INITIAL_FORMS": str(initial),
        "lines-MIN_NUM_FORMS": "0",
        "lines-MAX_NUM_FORMS": "20",
    }
    for i, row in enumerate(rows):
        for key, value in row.items():
            data[f"lines-{i}-{key}"] = value
    return data


def current_lines(card):
    return [(line.kpi.code, line.weight) for line in card.lines.select_related("kpi").order_by("position")]


def test_the_scorecard_page_links_to_the_line_editor_for_managers_only(client, cs_manager, portal_user, card):
    client.force_login(cs_manager)
    assert (
        reverse("kpis:scorecard_lines", args=[card.pk])
        in client.get(reverse("kpis:scorecard_detail", args=[card.pk])).content.decode()
    )
    client.force_login(portal_user)
    page = client.get(reverse("kpis:scorecard_detail", args=[card.pk]))
    assert page.status_code == 200
    assert reverse("kpis:scorecard_lines", args=[card.pk]) not in page.content.decode()


def test_a_manager_edits_weights_tiers_and_targets(client, vendor_manager, card):
    sla, csat = (line.kpi for line in card.lines.select_related("kpi").order_by("position"))
    client.force_login(vendor_manager)
    page = client.get(reverse("kpis:scorecard_lines", args=[card.pk]))
    assert page.status_code == 200 and 'value="60.00"' in page.content.decode()
    response = client.post(
        reverse("kpis:scorecard_lines", args=[card.pk]),
        lines_post(
            [
                {
                    "kpi": sla.pk,
                    "weight": "70",
                    "critical": "on",
                    "allocation_pct": "100",
                    "tiers": "99.9:10, 99:20",
                    "earn_back_target": "98",
                    "bonus_target": "99.5",
                    "bonus_pct": "2",
                },
                {"kpi": csat.pk, "weight": "30"},
            ]
        ),
    )
    assert response.status_code == 302, response.content.decode()
    assert current_lines(card) == [("sla_attainment", D("70")), ("csat", D("30"))]
    line = ScorecardLine.objects.get(scorecard=card, kpi=sla)
    assert line.tiers == [{"threshold": "99.9", "pct_of_fee": "10"}, {"threshold": "99", "pct_of_fee": "20"}]
    assert (line.earn_back_target, line.bonus_target, line.bonus_pct) == (D("98"), D("99.5"), D("2"))


def test_a_line_is_removed_with_its_delete_box(client, cs_manager, card):
    sla, csat = (line.kpi for line in card.lines.select_related("kpi").order_by("position"))
    client.force_login(cs_manager)
    response = client.post(
        reverse("kpis:scorecard_lines", args=[card.pk]),
        lines_post(
            [
                {"kpi": sla.pk, "weight": "100", "critical": "on", "allocation_pct": "100"},
                {"kpi": csat.pk, "weight": "40", "DELETE": "on"},
            ]
        ),
    )
    assert response.status_code == 302
    assert current_lines(card) == [("sla_attainment", D("100"))]


@pytest.mark.parametrize(
    ("second_weight", "tiers", "message"),
    [
        ("30", "", "The weights total 90; they must total exactly 100."),
        ("40", "99.9", "Write tiers as threshold:% of fee"),
        ("40", "99.9:150", "a tier&#x27;s % of the fee is between 0 and 100"),
    ],
)
def test_bad_lines_are_form_errors_and_change_nothing(
    client, cs_manager, card, second_weight, tiers, message
):
    sla, csat = (line.kpi for line in card.lines.select_related("kpi").order_by("position"))
    client.force_login(cs_manager)
    before = current_lines(card)
    response = client.post(
        reverse("kpis:scorecard_lines", args=[card.pk]),
        lines_post(
            [
                {"kpi": sla.pk, "weight": "60", "critical": "on", "allocation_pct": "100", "tiers": tiers},
                {"kpi": csat.pk, "weight": second_weight},
            ]
        ),
    )
    assert response.status_code == 200
    assert message in response.content.decode()
    assert current_lines(card) == before
    assert ScorecardLine.objects.get(scorecard=card, kpi=sla).tiers == []


def test_outsiders_cannot_edit_lines(client, outsider, no_role_user, portal_user, agent, card):
    url = reverse("kpis:scorecard_lines", args=[card.pk])
    sla = card.lines.order_by("position").first().kpi
    body = lines_post([{"kpi": sla.pk, "weight": "100"}], initial=0, total=1)
    before = current_lines(card)
    for person in (
        outsider,
        no_role_user,
        portal_user,
        agent,
        UserFactory(username="auditor", roles=["auditor"]),
    ):
        client.force_login(person)
        assert client.get(url).status_code in (403, 404), person
        assert client.post(url, body).status_code in (403, 404), person
    assert current_lines(card) == before


# --- Escalation of repeat misses (credit terms on the scorecard page) -----------------------------------


TERMS = {
    "monthly_fee": "100000",
    "at_risk_pct": "10",
    "pool_pct": "100",
    "earn_back_periods": "0",
    "bonus_cap_pct": "0",
    "chronic_misses": "0",
}


def test_a_manager_sets_escalation_with_the_credit_terms(client, vendor_manager, card):
    client.force_login(vendor_manager)
    url = reverse("kpis:scorecard_terms", args=[card.pk])
    client.post(url, {**TERMS, "escalation_window": "6", "escalation_multipliers": "1, 1.5, 2"})
    card.credit_terms.refresh_from_db()
    assert (card.credit_terms.escalation_window, card.credit_terms.escalation_multipliers) == (
        6,
        ["1", "1.5", "2"],
    )
    page = client.get(reverse("kpis:scorecard_detail", args=[card.pk])).content.decode()
    assert 'value="1, 1.5, 2"' in page and "× 1, 1.5, 2 within 6 months" in page


def test_a_bad_multiplier_is_refused_and_writes_nothing(client, vendor_manager, card):
    client.force_login(vendor_manager)
    url = reverse("kpis:scorecard_terms", args=[card.pk])
    response = client.post(
        url, {**TERMS, "escalation_window": "6", "escalation_multipliers": "0.5"}, follow=True
    )
    assert "Each multiplier is between 1 and 10." in response.content.decode()
    assert not hasattr(type(card).objects.get(pk=card.pk), "credit_terms")


# --- The API's agent picker matches the page's ------------------------------------------------------------


def test_the_api_offers_the_same_agents_as_the_page(client, cs_manager, agent, portal_user):
    from core.testing.personas import api_call

    refused = api_call(
        client,
        "POST",
        "/api/v1/kpis/subjects",
        cs_manager,
        {"kind": "agent", "label": "P", "user_id": portal_user.pk},
    )
    assert refused.status_code in (400, 422) and not Subject.objects.exists()
    made = api_call(
        client,
        "POST",
        "/api/v1/kpis/subjects",
        cs_manager,
        {"kind": "agent", "label": "Kelvin", "user_id": agent.pk},
    )
    assert made.status_code == 201 and Subject.objects.get().user == agent
