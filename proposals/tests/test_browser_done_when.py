"""Issue 6, "done when", as one user story in a real browser, every step clicked by the right role:

CRM staff publish the proposal guidelines to their own role and to both vendors and see who has
acknowledged; issue a call to two vendors (and set the rubric weights); both vendors acknowledge
the guidelines in the portal (the first is stopped at the gate until it does) and submit; the
panel scores blind, then agrees in consensus; a change is requested and the vendor revises; two
components are adopted and one adapted; they appear as initiatives of the combined strategy with
milestones and KPIs; and the vendor's scorecard shows the proposal-delivery KPI.

What exists beforehand is what a company has before a call: the people, the vendors, the company's
objectives, and the vendor's scorecard with the proposal-delivery KPI on it (the measurement
engine's own browser tests cover building scorecards).
"""

from __future__ import annotations

import os
from datetime import timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest
from django.utils import timezone
from playwright.sync_api import expect

from core.testing.browser import login
from core.testing.factories import UserFactory, VendorFactory
from kpis import periods as period_math
from kpis import services as kpis
from kpis.models import Subject
from proposals import services
from proposals.models import Initiative, Milestone, Proposal

pytestmark = pytest.mark.browser

# Set STEWARD_STORY_SHOTS=/tmp/story to keep a screenshot of every step (to read the pages).
SHOTS = os.environ.get("STEWARD_STORY_SHOTS", "")
CRITERIA = (
    ("effectiveness", "Effectiveness"),
    ("compatibility", "Compatibility with company objectives and current CRM strategy"),
    ("cost", "Cost and ROI"),
    ("risk", "Risk"),
    ("privacy", "Privacy impact under the PDPO"),
    ("feasibility", "Feasibility"),
)


def shot(page: Any, name: str) -> None:
    if SHOTS:
        Path(SHOTS).mkdir(parents=True, exist_ok=True)
        page.screenshot(path=f"{SHOTS}/{name}.png", full_page=True)


def sign_out(page: Any) -> None:
    page.get_by_role("button", name="Sign out").click()
    page.wait_for_url(lambda url: "/accounts/login/" in url)


def as_user(page: Any, username: str) -> None:
    if "/accounts/login/" not in page.url and page.url != "about:blank":
        sign_out(page)
    login(page, username)


def open_call(page: Any, title: str) -> None:
    page.get_by_role("link", name="Proposals", exact=True).click()
    page.get_by_role("link", name=title).click()


def delivery_scorecard(vendor: Any, definer: Any, approver: Any) -> Any:
    """The vendor's scorecard with the proposal-delivery KPI, as the KPI manager built it."""
    version = kpis.kpi_define(
        actor=definer,
        code="proposal_delivery",
        name="Proposal delivery",
        description="Milestones of adopted initiatives done on time, of those due in the period.",
        formula="proposal_milestones_on_time_pct",
        unit="%",
        direction="higher",
        statistic="rate",
        target=Decimal(80),
        bands=[
            {"label": "Late", "lower": None, "upper": "60", "score": "0", "is_target": False},
            {"label": "Mixed", "lower": "60", "upper": "80", "score": "60", "is_target": False},
            {"label": "On time", "lower": "80", "upper": None, "score": "100", "is_target": True},
        ],
        weight=Decimal(100),
        min_sample_size=1,
        effective_from=timezone.localdate() - timedelta(days=400),
        reason="Adopted proposals must be delivered as promised.",
    )
    kpis.kpi_version_approve(actor=approver, version=version, note="Agreed.")
    subject = kpis.subject_create(actor=definer, kind=Subject.Kind.VENDOR, label=vendor.name, vendor=vendor)
    return kpis.scorecard_create(
        actor=approver,
        name=f"{vendor.name}: CRM partnership",
        subject=subject,
        lines=[kpis.LineSpec(version.definition, Decimal(100))],
    )


def test_the_whole_done_when_in_the_browser(page):
    harbour: Any = VendorFactory(code="harbourcall", name="Harbour Call Centre Ltd")
    kowloon: Any = VendorFactory(code="kowloon-digital", name="Kowloon Digital Marketing Co.")
    crystal: Any = UserFactory(username="crystal", roles=["crm_staff"])
    carol: Any = UserFactory(username="carol", roles=["cs_manager"])
    victor: Any = UserFactory(username="victor", roles=["vendor_manager"])
    UserFactory(username="priscilla", roles=["vendor_portal"], vendor=harbour)
    UserFactory(username="patrick", roles=["vendor_portal"], vendor=kowloon)
    services.objective_create(actor=crystal, code="retention", title="Keep members buying")
    services.objective_create(actor=crystal, code="service", title="Faster, friendlier service")
    scorecard = delivery_scorecard(harbour, carol, victor)

    # 1. CRM staff publish the proposal guidelines to CRM staff and both vendors' people.
    login(page, "crystal")
    page.get_by_role("link", name="Proposals", exact=True).click()
    page.get_by_role("link", name="Guidelines", exact=True).click()
    page.get_by_label("New guideline's title").fill("Dealing with partners on proposals")
    page.get_by_label("Stage").select_option(label="Calls and proposals")
    page.get_by_label("Text", exact=True).fill(
        "Every invited partner gets the same brief and the same answers.\n"
        "No customer personal data is shared before a signed contract."
    )
    page.get_by_label("CRM / IT staff").check()
    page.get_by_label(harbour.name).check()
    page.get_by_label(kowloon.name).check()
    page.get_by_role("button", name="Publish").click()
    expect(
        page.get_by_text("Published a new version of 'Dealing with partners on proposals'.")
    ).to_be_visible()
    page.get_by_role("button", name="I have read and will follow version 1").click()
    expect(page.get_by_text("You acknowledged 'Dealing with partners on proposals' v1.")).to_be_visible()
    third_party = page.get_by_role("table", name="Third-party staff for Dealing with partners on proposals")
    expect(third_party.locator("tr", has_text="priscilla")).to_contain_text("not yet")
    expect(third_party.locator("tr", has_text="patrick")).to_contain_text("not yet")
    shot(page, "01-guidelines-published")

    # 2. A call to two vendors; the rubric weights set on their page; the call opened; the panel.
    page.get_by_role("link", name="Calls and portfolio").click()
    page.get_by_role("link", name="New call for proposals").click()
    page.get_by_label("Title", exact=True).fill("Member retention 2027")
    page.get_by_label("Company objectives the strategy must serve").fill(
        "Raise repeat purchases among lapsed members; keep every opt-out honoured."
    )
    for label in (
        "Target customer segments",
        "Initiatives",
        "Cost and expected return",
        "Customer data needed",
    ):
        page.get_by_label(label, exact=True).uncheck()
    for label in ("Timeline", "Risks"):
        page.get_by_label(label, exact=True).uncheck()
    page.get_by_label(harbour.name).check()
    page.get_by_label(kowloon.name).check()
    deadline = timezone.localtime() + timedelta(days=7)
    page.get_by_label("Deadline (Hong Kong time)").fill(deadline.strftime("%Y-%m-%dT%H:%M"))
    page.get_by_role("button", name="Save as draft").click()
    expect(page.get_by_text("The call is saved as a draft")).to_be_visible()
    page.get_by_role("link", name="Edit the weights").click()
    for code, weight in (("effectiveness", 30), ("compatibility", 30), ("cost", 10), ("privacy", 10)):
        page.locator(f"input[name=weight-{code}]").fill(str(weight))
    shot(page, "02-rubric-weights")
    page.get_by_role("button", name="Save the weights").click()
    expect(page.get_by_text("Rubric weights saved.")).to_be_visible()
    expect(page.get_by_text("Effectiveness 30")).to_be_visible()
    page.get_by_role("button", name="Open the call and invite the vendors").click()
    expect(page.locator("h1 .pill")).to_have_text("Open for submissions")
    for person in ("crystal", "carol"):
        page.locator("select[name=user]").select_option(label=person)
        page.get_by_role("button", name="Add to panel").click()
        expect(page.get_by_text(f"{person} — not declared")).to_be_visible()
    shot(page, "03-call-open")

    # 3. Harbour's writer is stopped at the gate, acknowledges in the portal, then submits.
    as_user(page, "priscilla")
    open_call(page, "Member retention 2027")
    expect(page.get_by_text("Before you submit:")).to_be_visible()
    page.locator("textarea[name=section-objectives]").fill("Bring lapsed members back within 90 days.")
    page.locator("textarea[name=section-kpis]").fill("Repeat purchase rate from 18% to 24%.")
    rows = [
        ("winback", "WhatsApp win-back journey", "retention", "Repeat purchase rate", "18", "24", "380000"),
        ("booster", "Points booster week", "retention", "Points redeemed a month", "1000", "1500", "120000"),
        ("survey", "Post-delivery feedback survey", "service", "Satisfaction score", "4.1", "4.4", "30000"),
    ]
    for index, (key, title, objective, kpi, baseline, target, cost) in enumerate(rows):
        for field, value in (
            ("key", key),
            ("title", title),
            ("objective", objective),
            ("kpi", kpi),
            ("baseline", baseline),
            ("target", target),
            ("cost", cost),
        ):
            page.locator(f"input[name=c{index}-{field}]").fill(value)
    page.get_by_role("button", name="Submit").click()
    expect(
        page.get_by_text("Acknowledge 'Dealing with partners on proposals' v1 in the vendor portal")
    ).to_be_visible()
    shot(page, "04-portal-gate")
    page.get_by_role("link", name="Guidelines", exact=True).click()
    expect(page.get_by_text("No customer personal data is shared before a signed contract.")).to_be_visible()
    shot(page, "05-portal-guidelines")
    page.get_by_role("button", name="I have read and will follow version 1").click()
    expect(page.get_by_text("You acknowledged version 1")).to_be_visible()
    open_call(page, "Member retention 2027")
    expect(page.locator("input[name=c2-title]")).to_have_value(
        "Post-delivery feedback survey"
    )  # the draft kept
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Version 1 submitted.", exact=True)).to_be_visible()

    # 4. Kowloon acknowledges first, then submits its own proposal.
    as_user(page, "patrick")
    page.get_by_role("link", name="Proposals", exact=True).click()
    page.get_by_role("link", name="Guidelines", exact=True).click()
    page.get_by_role("button", name="I have read and will follow version 1").click()
    open_call(page, "Member retention 2027")
    page.locator("textarea[name=section-objectives]").fill("Win lapsed members back through social ads.")
    page.locator("textarea[name=section-kpis]").fill("Reactivated members: 2,000 a quarter.")
    page.locator("input[name=c0-title]").fill("Lookalike social campaign")
    page.locator("input[name=c0-objective]").fill("retention")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Version 1 submitted.", exact=True)).to_be_visible()

    # CRM staff now see every third-party acknowledgement.
    as_user(page, "crystal")
    page.get_by_role("link", name="Proposals", exact=True).click()
    page.get_by_role("link", name="Guidelines", exact=True).click()
    expect(third_party.locator("tr", has_text="priscilla")).to_contain_text("acknowledged")
    expect(third_party.locator("tr", has_text="patrick")).to_contain_text("acknowledged")
    expect(page.get_by_text("not yet", exact=True)).to_have_count(0)
    shot(page, "06-guidelines-all-acknowledged")

    # 5. The panel scores blind: crystal first, carol cannot see crystal's scores until she submits.
    open_call(page, "Member retention 2027")
    page.get_by_role("button", name="Declare").click()
    page.get_by_role("link", name=harbour.name).click()
    for code, _ in CRITERIA:
        page.locator(f"input[name=score-{code}]").fill("4")
    page.get_by_role("button", name="Submit (final)").click()
    expect(page.get_by_text("Your scores were submitted")).to_be_visible()

    as_user(page, "carol")
    open_call(page, "Member retention 2027")
    page.get_by_role("button", name="Declare").click()
    page.get_by_role("link", name=harbour.name).click()
    expect(page.get_by_text("Scoresheets you can see")).to_have_count(0)  # blind
    for code, _ in CRITERIA:
        page.locator(f"input[name=score-{code}]").fill("3")
    page.locator("input[name=score-privacy]").fill("5")
    page.get_by_role("button", name="Submit (final)").click()
    sheets = page.locator("table", has_text="Member")
    expect(sheets.locator("tr", has_text="crystal")).to_be_visible()  # now she sees the others
    shot(page, "07-blind-scores-revealed")

    # 6. Consensus: crystal (CRM staff on the panel) records the agreed score of every criterion;
    #    privacy (4 and 5) is close, so no reason is needed anywhere but where flagged.
    as_user(page, "crystal")
    open_call(page, "Member retention 2027")
    page.get_by_role("link", name=harbour.name).click()
    for _code, label in CRITERIA:
        field = page.get_by_label(f"Agreed score for {label}")
        field.fill("4")
        page.locator("form", has=field).get_by_role("button", name="Agree").click()
        expect(page.get_by_label(f"Agreed score for {label}")).to_have_count(0)  # the next page
    expect(page.get_by_text("agreed: 75.0")).to_be_visible()
    shot(page, "08-consensus")

    # 7. A change request on the KPIs section.
    page.get_by_label("Section").select_option(label="KPIs with baselines and targets")
    page.get_by_label("What should change").fill(
        "Give the booster week's baseline month and a 6-month target."
    )
    page.get_by_role("button", name="Send the change request to the vendor").click()
    expect(page.locator(".pill", has_text="Changes requested")).to_be_visible()

    # 8. The vendor revises: a new KPI text, an answer to the request, version 2 submitted.
    as_user(page, "priscilla")
    open_call(page, "Member retention 2027")
    expect(page.get_by_text("Change requested on KPIs with baselines and targets:")).to_be_visible()
    page.locator("textarea[name=section-kpis]").fill(
        "Repeat purchase rate from 18% to 24%.\nPoints redeemed: 1,000 (June 2026) to 1,500 by month 6."
    )
    page.get_by_label("Your answer").fill("Baseline June 2026; target at month 6 added to the KPIs.")
    page.get_by_role("button", name="Submit").click()
    expect(page.get_by_text("Version 2 submitted.", exact=True)).to_be_visible()

    # 9. CRM staff see what changed, adopt two components and adapt one.
    as_user(page, "crystal")
    open_call(page, "Member retention 2027")
    page.get_by_role("link", name=harbour.name).click()
    expect(page.get_by_role("heading", name="What changed between versions")).to_be_visible()
    expect(page.locator("tr.diff-insert, tr.diff-replace").first).to_contain_text("Points redeemed")
    shot(page, "09-diff")
    for title, outcome, reason in (
        ("WhatsApp win-back journey", "adopt", "Serves retention with a measurable target."),
        ("Points booster week", "adopt", "Cheap and reversible."),
    ):
        row = page.locator("tr", has_text=title)
        row.get_by_label(f"Decision on {title}").select_option(outcome)
        row.get_by_label("Reason").fill(reason)
        row.get_by_role("button", name="Decide").click()
        expect(row.get_by_role("button", name="Decide")).to_have_count(0)  # the next page
        expect(row).to_contain_text(f"Adopt: {reason}")
    row = page.locator("tr", has_text="Post-delivery feedback survey")
    row.get_by_label("Decision on Post-delivery feedback survey").select_option("adapt")
    row.get_by_label("Adapted title").fill("Post-delivery survey with a call-back for low scores")
    row.get_by_label("Adapted target").fill("4.5")
    row.get_by_label("Reason").fill("We add call-backs; our own target is higher.")
    row.get_by_role("button", name="Decide").click()
    expect(page.locator(".pill", has_text="Decided")).to_be_visible()
    shot(page, "10-decided")

    # 10. The combined strategy: three initiatives from Harbour with KPIs; milestones planned and done.
    page.get_by_role("link", name="Combined CRM strategy").click()
    winback = page.locator("article", has_text="WhatsApp win-back journey")
    expect(winback).to_contain_text("from Harbour Call Centre Ltd's proposal (adopted)")
    expect(winback).to_contain_text("KPI Repeat purchase rate: baseline 18.00, promised 24.00")
    adapted = page.locator("article", has_text="Post-delivery survey with a call-back for low scores")
    expect(adapted).to_contain_text("(adapted)")
    expect(adapted).to_contain_text("promised 4.50")
    expect(page.locator("article", has_text="Points booster week")).to_contain_text("(adopted)")
    last_month = period_math.previous_period(period_math.MONTH, timezone.localdate())
    first_due, second_due = last_month.start + timedelta(days=4), last_month.start + timedelta(days=9)
    for title, due in (("Pilot live in Kowloon East", first_due), ("Journeys tuned", second_due)):
        winback.get_by_label("Milestone").fill(title)
        winback.get_by_label("Due").fill(due.isoformat())
        winback.get_by_role("button", name="Add milestone").click()
        expect(winback.locator("tr", has_text=title)).to_be_visible()
    for title, done, verdict in (
        ("Pilot live in Kowloon East", first_due, "on time"),
        ("Journeys tuned", second_due + timedelta(days=3), "late"),
    ):
        milestone = winback.locator("tr", has_text=title)
        milestone.get_by_label("Done on").fill(done.isoformat())
        milestone.get_by_role("button", name="Done").click()
        expect(milestone).to_contain_text(verdict)
    winback.get_by_label("Status").select_option(label="In progress")
    winback.get_by_label("Actual KPI").fill("21.5")
    winback.get_by_role("button", name="Update").click()
    expect(winback).to_contain_text("actual 21.50")
    shot(page, "11-strategy")

    # 11. The KPI manager closes last month on Harbour's scorecard: proposal delivery reads 50%.
    as_user(page, "carol")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorecards").click()
    page.get_by_role("link", name=scorecard.name).click()
    page.get_by_role("button", name="Close the period").click()
    delivery = page.locator("tr", has_text="Proposal delivery")
    expect(delivery).to_contain_text("50.00")
    shot(page, "12-scorecard-period")

    # The vendor sees the same figure on its own scorecard.
    as_user(page, "priscilla")
    page.get_by_role("navigation", name="Main").get_by_role("link", name="Scorecards").click()
    page.get_by_role("link", name=scorecard.name).click()
    expect(page.get_by_text("Proposal delivery").first).to_be_visible()
    shot(page, "13-vendor-scorecard")

    harbour_proposal = Proposal.objects.get(vendor=harbour)
    assert harbour_proposal.status == "decided" and harbour_proposal.versions.count() == 2
    assert Initiative.objects.filter(vendor=harbour, source_decision__isnull=False).count() == 3
    assert Milestone.objects.filter(initiative__vendor=harbour).count() == 2
