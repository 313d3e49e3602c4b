"""Issue 6, done when: the whole flow through the API. Guidelines are published and acknowledged;
a call goes to two vendors; both submit through the portal; the panel scores blind, then agrees;
a change is requested and the vendor revises; two components are adopted and one adapted; they
become initiatives of the combined strategy with milestones and KPIs; and the vendor's scorecard
measure for proposal delivery reads the milestones."""

from __future__ import annotations

from datetime import date, timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from core.testing.personas import api_call
from kpis import registry
from kpis.models import Subject
from proposals.models import Initiative, Milestone, Proposal
from proposals.tests.conftest import SECTIONS, components, full_scores

pytestmark = pytest.mark.django_db
API = "/api/v1/proposals"


def ok(response, status=200):
    assert response.status_code == status, response.content.decode()
    return response.json()


def test_the_whole_flow_through_the_api(
    client, crm, panelist, marketer, vendor, other_vendor, portal_user, vendor_b_user, objectives
):
    # Guidelines: published for CRM staff and customer-service managers, acknowledged by both.
    guideline = ok(
        api_call(
            client, "post", f"{API}/guidelines", crm, {"title": "Evaluating proposals", "stage": "evaluation"}
        ),
        201,
    )
    version = ok(
        api_call(
            client,
            "post",
            f"{API}/guidelines/{guideline['id']}/versions",
            crm,
            {
                "body": "Declare conflicts; score alone; explain disagreements.",
                "roles": ["crm_staff", "cs_manager"],
            },
        ),
        201,
    )
    status = ok(api_call(client, "get", f"{API}/guidelines/{guideline['id']}/acknowledgements", crm))
    assert sorted(status["outstanding"]) == ["carol", "crystal"]
    for person in (crm, panelist):
        ok(api_call(client, "post", f"{API}/guideline-versions/{version['id']}/acknowledge", person), 201)
    assert (
        ok(api_call(client, "get", f"{API}/guidelines/{guideline['id']}/acknowledgements", crm))[
            "outstanding"
        ]
        == []
    )

    # A call to two vendors.
    deadline = (timezone.now() + timedelta(days=10)).isoformat()
    call = ok(
        api_call(
            client,
            "post",
            f"{API}/calls",
            crm,
            {
                "title": "Member retention 2027",
                "objectives": "Raise repeat purchases.",
                "required_sections": ["objectives", "kpis", "cost"],
                "deadline": deadline,
                "vendor_ids": [vendor.pk, other_vendor.pk],
            },
        ),
        201,
    )
    ok(api_call(client, "post", f"{API}/calls/{call['id']}/status", crm, {"status": "open"}))

    # Both vendors submit through the portal.
    proposal_ids = {}
    for user, prefix in ((portal_user, ""), (vendor_b_user, "Kowloon ")):
        ok(
            api_call(
                client,
                "put",
                f"{API}/calls/{call['id']}/draft",
                user,
                {"sections": SECTIONS, "components": components(prefix)},
            )
        )
        mine = ok(api_call(client, "get", f"{API}/calls/{call['id']}/proposals", user))
        assert len(mine) == 1
        ok(api_call(client, "post", f"{API}/{mine[0]['id']}/submit", user, {}))
        proposal_ids[user.vendor_id] = mine[0]["id"]
    first = proposal_ids[vendor.pk]

    # The panel: three members declare, score blind, then agree.
    for member in (crm, panelist, marketer):
        ok(api_call(client, "post", f"{API}/calls/{call['id']}/panel", crm, {"user_id": member.pk}), 201)
        ok(api_call(client, "post", f"{API}/calls/{call['id']}/panel/declaration", member, {}))
    ok(api_call(client, "put", f"{API}/{first}/scores", crm, {"scores": full_scores(4), "submit": True}))
    # Carol has not submitted: she sees nobody else's scores.
    ok(api_call(client, "put", f"{API}/{first}/scores", panelist, {"scores": {"effectiveness": 2}}))
    assert [s["member"] for s in ok(api_call(client, "get", f"{API}/{first}/scores", panelist))] == ["carol"]
    ok(
        api_call(
            client,
            "put",
            f"{API}/{first}/scores",
            panelist,
            {"scores": {**full_scores(4), "effectiveness": 2}, "submit": True},
        )
    )
    assert len(ok(api_call(client, "get", f"{API}/{first}/scores", panelist))) == 2
    ok(api_call(client, "put", f"{API}/{first}/scores", marketer, {"scores": full_scores(5), "submit": True}))
    table = ok(api_call(client, "get", f"{API}/{first}/consensus", crm))
    assert table["complete"]
    flagged = {row["criterion"] for row in table["rows"] if row["flagged"]}
    assert flagged == {"effectiveness"}  # 4, 2, 5: spread 3
    for row in table["rows"]:
        body = {"criterion": row["criterion"], "score": 4}
        if row["flagged"]:
            body["note"] = "The win-back numbers rest on a pilot in Singapore; agreed 4."
        table = ok(api_call(client, "post", f"{API}/{first}/consensus", crm, body))
    assert table["weighted_agreed"] == "75.0"

    # Fine-tuning: a change request, answered by a revision; the diff shows it.
    cr = ok(
        api_call(
            client,
            "post",
            f"{API}/{first}/change-requests",
            crm,
            {"section": "kpis", "request": "Add a baseline for opt-out rate."},
        ),
        201,
    )
    revised = {**SECTIONS, "kpis": SECTIONS["kpis"] + "\nOpt-out rate stays under 0.5% (baseline 0.4%)."}
    ok(
        api_call(
            client,
            "put",
            f"{API}/calls/{call['id']}/draft",
            portal_user,
            {"sections": revised, "components": components()},
        )
    )
    v2 = ok(
        api_call(
            client,
            "post",
            f"{API}/{first}/submit",
            portal_user,
            {"responses": {str(cr["id"]): "Added the opt-out baseline."}},
        )
    )
    assert v2["number"] == 2
    diff = ok(api_call(client, "get", f"{API}/{first}/diff?from=1&to=2", crm))
    kpis_diff = next(d for d in diff if d["section"] == "KPIs with baselines and targets")
    assert kpis_diff["changed"] and any("Opt-out rate" in line["right"] for line in kpis_diff["lines"])

    # Decisions: adopt two, adapt one.
    ok(
        api_call(
            client,
            "post",
            f"{API}/{first}/decisions",
            crm,
            {"component_key": "winback", "outcome": "adopt", "reason": "Strong pilot."},
        ),
        201,
    )
    ok(
        api_call(
            client,
            "post",
            f"{API}/{first}/decisions",
            crm,
            {"component_key": "survey", "outcome": "adopt", "reason": "Cheap, useful."},
        ),
        201,
    )
    ok(
        api_call(
            client,
            "post",
            f"{API}/{first}/decisions",
            crm,
            {
                "component_key": "booster",
                "outcome": "adapt",
                "reason": "Members only, shorter.",
                "adapted": {"title": "Members' points booster weekend", "cost": "60000"},
            },
        ),
        201,
    )
    assert Proposal.objects.get(pk=first).status == Proposal.Status.DECIDED

    # The combined strategy shows them, linked to the proposal and vendor.
    strategy = ok(api_call(client, "get", f"{API}/strategy", crm))
    adopted = [i for o in strategy for i in o["initiatives"] if i["source_proposal_id"] == first]
    assert sorted(i["title"] for i in adopted) == [
        "Members' points booster weekend",
        "Post-delivery feedback survey",
        "WhatsApp win-back journey",
    ]
    winback = next(i for i in adopted if i["kpi"] == "Repeat purchase rate")
    assert (Decimal(winback["baseline"]), Decimal(winback["target"])) == (Decimal(18), Decimal(24))
    assert all(i["vendor_id"] == vendor.pk for i in adopted)

    # Milestones; one on time, one late: the proposal-delivery KPI reads 50%.
    today = timezone.localdate()
    due = today - timedelta(days=3)
    m1 = ok(
        api_call(
            client,
            "post",
            f"{API}/initiatives/{winback['id']}/milestones",
            crm,
            {"title": "Pilot live", "due": due.isoformat()},
        ),
        201,
    )
    m2 = ok(
        api_call(
            client,
            "post",
            f"{API}/initiatives/{winback['id']}/milestones",
            crm,
            {"title": "Journeys tuned", "due": due.isoformat()},
        ),
        201,
    )
    ok(
        api_call(
            client,
            "post",
            f"{API}/milestones/{m1['id']}/complete",
            crm,
            {"done_on": (due - timedelta(days=1)).isoformat()},
        )
    )
    ok(api_call(client, "post", f"{API}/milestones/{m2['id']}/complete", crm, {"done_on": today.isoformat()}))
    ok(
        api_call(
            client,
            "patch",
            f"{API}/initiatives/{winback['id']}",
            crm,
            {"actual": "21.5", "status": "in_progress"},
        )
    )

    subject = Subject.objects.create(kind="vendor", label=vendor.name, vendor=vendor)
    measure = registry.get("proposal_milestones_on_time_pct")
    assert measure is not None
    refs = [registry.SubjectRef(subject.pk, "vendor", vendor.pk, None, None, None)]
    reading = measure.compute(refs, date(today.year, 1, 1) - timedelta(days=400), today)[subject.pk]
    assert reading.value == Decimal("50.00") and reading.sample_size == 2
    assert Milestone.objects.filter(initiative__vendor=vendor).count() == 2
    assert Initiative.objects.get(pk=winback["id"]).actual == Decimal("21.5")
