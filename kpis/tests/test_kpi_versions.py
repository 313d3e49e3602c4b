"""KPI definitions are versioned: a change is a new version with a reason, an author and an approval;
history is never rewritten; any past period can be recomputed under any version and says which."""

from datetime import date
from decimal import Decimal
from typing import Any

import pytest
from django.contrib.auth.models import Permission
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from core.testing.factories import UserFactory
from kpis import selectors, services
from kpis.models import KpiDefinition, KpiResult, KpiVersion
from kpis.services import LineSpec

from .conftest import LAST_MONTH, bands_higher, make_kpi, make_measure, submit_value

pytestmark = pytest.mark.django_db
D = Decimal


def define(author, code="resolution_rate", formula="solved_pct", **kw):
    fields = dict(
        name="Resolution rate",
        description="Solved ÷ received.",
        formula=formula,
        unit="%",
        direction="higher",
        target="95",
        bands=bands_higher("95"),
        weight="100",
    )
    fields.update(kw)
    return services.kpi_define(actor=author, code=code, effective_from=date(2024, 1, 1), **fields)


@pytest.fixture
def solved(cs_manager):
    return make_measure(cs_manager, "solved_pct")


def test_a_new_kpi_waits_for_another_persons_approval(cs_manager, second_manager, solved):
    version = define(cs_manager)
    assert (version.number, version.status, version.author) == (1, "draft", cs_manager)
    with pytest.raises(PermissionDenied, match="another person must approve"):
        services.kpi_version_approve(actor=cs_manager, version=version)
    version.refresh_from_db()
    assert version.status == "draft" and version.approved_by is None
    services.kpi_version_approve(actor=second_manager, version=version)
    version.refresh_from_db()
    assert (version.status, version.approved_by) == ("approved", second_manager)


def test_not_even_an_administrator_approves_their_own_version(admin_user, solved):
    version = define(admin_user)
    with pytest.raises(PermissionDenied):
        services.kpi_version_approve(actor=admin_user, version=version)


def test_the_database_refuses_self_approval_too(cs_manager, solved):
    from django.db import IntegrityError, transaction

    version = define(cs_manager)
    with pytest.raises(IntegrityError), transaction.atomic():
        KpiVersion.objects.filter(pk=version.pk).update(approved_by=cs_manager, status="approved")


def test_changing_the_target_creates_version_two_with_its_reason(cs_manager, second_manager, solved):
    v1 = make_kpi(cs_manager, second_manager, "resolution_rate", "solved_pct", target="95")
    with pytest.raises(ValidationError, match="Say why"):
        services.kpi_version_propose(
            actor=cs_manager, definition=v1.definition, reason=" ", target=D("90"), bands=bands_higher("90")
        )
    v2 = services.kpi_version_propose(
        actor=cs_manager,
        definition=v1.definition,
        reason="Volumes doubled after the merger; 95% is unrealistic.",
        target=D("90"),
        bands=[
            {"label": "Missed", "lower": None, "upper": "85", "score": "0"},
            {"label": "Near", "lower": "85", "upper": "90", "score": "60"},
            {"label": "Met", "lower": "90", "upper": None, "score": "100", "is_target": True},
        ],
    )
    assert (v2.number, v2.target, v2.formula, v2.status) == (2, D("90"), "solved_pct", "draft")
    v1.refresh_from_db()
    assert (v1.target, v1.status) == (D("95"), "approved")
    assert AuditEvent.objects.filter(
        object_type="kpis.kpiversion", object_id=str(v2.pk), action="create"
    ).exists()


def test_versions_are_immutable(cs_manager, second_manager, solved):
    v1 = make_kpi(cs_manager, second_manager, "resolution_rate", "solved_pct")
    v1.target = D("10")
    with pytest.raises(PermissionError, match="immutable"):
        v1.save()
    v1.refresh_from_db()
    assert v1.target == D("95")


@pytest.mark.parametrize(
    ("changes", "field", "message"),
    [
        ({"formula": "solved_pct / typo"}, "formula", "Unknown measure"),
        ({"formula": "solved_pct / 0"}, "formula", "division by zero"),
        ({"formula": "eval('1')"}, "formula", "not an allowed function"),
        (
            {
                "bands": [
                    {"lower": None, "upper": "90", "score": "0"},
                    {"lower": "91", "upper": None, "score": "100", "is_target": True},
                ]
            },
            "bands",
            "fall in no band",
        ),
        ({"target": "80"}, "bands", "must lie in the target band"),
    ],
)
def test_a_bad_change_is_refused_and_creates_nothing(
    cs_manager, second_manager, solved, changes, field, message
):
    v1 = make_kpi(cs_manager, second_manager, "resolution_rate", "solved_pct")
    with pytest.raises(ValidationError) as caught:
        services.kpi_version_propose(actor=cs_manager, definition=v1.definition, reason="try", **changes)
    assert message in " ".join(caught.value.message_dict[field])
    assert KpiVersion.objects.filter(definition=v1.definition).count() == 1


def test_defining_with_an_unknown_measure_creates_no_kpi(cs_manager, solved):
    with pytest.raises(ValidationError):
        define(cs_manager, formula="nonexistent_measure * 100")
    assert not KpiDefinition.objects.exists()


@pytest.fixture
def closed_may(cs_manager, second_manager, vendor_subject, solved):
    v1 = make_kpi(cs_manager, second_manager, "resolution_rate", "solved_pct", target="95", weight="100")
    scorecard = services.scorecard_create(
        actor=cs_manager,
        name="Harbour Call",
        subject=vendor_subject,
        lines=[LineSpec(v1.definition, D("100"))],
    )
    submit_value(cs_manager, second_manager, solved, vendor_subject, "92")
    period = services.period_close(
        actor=cs_manager, scorecard=scorecard, start=LAST_MONTH, today=date(2025, 6, 2)
    )
    v2 = services.kpi_version_propose(
        actor=cs_manager,
        definition=v1.definition,
        reason="Lower target after the merger.",
        target=D("90"),
        effective_from=date(2025, 6, 1),
        bands=[
            {"label": "Missed", "lower": None, "upper": "85", "score": "0"},
            {"label": "Near", "lower": "85", "upper": "90", "score": "60"},
            {"label": "Met", "lower": "90", "upper": None, "score": "100", "is_target": True},
        ],
    )
    services.kpi_version_approve(actor=second_manager, version=v2)
    v2.refresh_from_db()
    return period, v1, v2


def test_a_closed_period_keeps_the_version_it_was_computed_under(closed_may):
    period, v1, v2 = closed_may
    result = KpiResult.objects.get(period=period, is_official=True)
    assert (result.version, result.value, result.attainment, result.band_label) == (
        v1,
        D("92"),
        D("60"),
        "Near",
    )
    period.refresh_from_db()
    assert period.score == D("60.00")


def test_the_past_period_can_be_recomputed_under_the_new_version(closed_may, second_manager):
    period, v1, v2 = closed_may
    services.period_recompute(actor=second_manager, period=period, versions={v2.definition_id: v2})
    official = KpiResult.objects.get(period=period, is_official=True)
    assert (official.version, official.attainment, official.band_label) == (v2, D("100"), "Met")
    kept = KpiResult.objects.get(period=period, version=v1)
    assert kept.is_official is False and kept.attainment == D("60")  # history kept, not rewritten
    period.refresh_from_db()
    assert period.score == D("100.00") and period.status == "closed"


def test_both_versions_side_by_side_for_last_month_without_writing(closed_may, second_manager):
    period, v1, v2 = closed_may
    before = KpiResult.objects.count()
    comparison = selectors.period_compare_versions(
        user=second_manager,
        period=period,
        choices={"v1": {v1.definition_id: v1}, "v2": {v2.definition_id: v2}},
    )
    assert comparison.scores == {"v1": D("60.00"), "v2": D("100.00")}
    assert KpiResult.objects.count() == before


def test_recomputing_a_closed_period_without_permission_is_refused_and_changes_nothing(closed_may, vendor):
    period, v1, v2 = closed_may
    clerk: Any = UserFactory(username="clerk", roles=[])
    clerk.user_permissions.add(
        *Permission.objects.filter(codename__in=["change_scorecardperiod", "view_scorecardperiod"])
    )
    clerk = type(clerk).objects.get(pk=clerk.pk)
    with pytest.raises(PermissionDenied, match="recompute_period"):
        services.period_recompute(actor=clerk, period=period, versions={v2.definition_id: v2})
    assert KpiResult.objects.get(period=period, is_official=True).version == v1


def test_later_periods_use_the_version_in_force(
    closed_may, cs_manager, second_manager, vendor_subject, solved
):
    period, v1, v2 = closed_may
    submit_value(
        cs_manager, second_manager, solved, vendor_subject, "92", start=date(2025, 6, 1), end=date(2025, 7, 1)
    )
    june = services.period_close(
        actor=cs_manager, scorecard=period.scorecard, start=date(2025, 6, 1), today=date(2025, 7, 2)
    )
    assert KpiResult.objects.get(period=june, is_official=True).version == v2


def test_a_draft_version_cannot_become_official(closed_may, cs_manager, second_manager):
    period, v1, v2 = closed_may
    v3 = services.kpi_version_propose(
        actor=cs_manager,
        definition=v1.definition,
        reason="Try 85.",
        target=D("85"),
        bands=[
            {"label": "Missed", "lower": None, "upper": "85", "score": "0"},
            {"label": "Met", "lower": "85", "upper": None, "score": "100", "is_target": True},
        ],
    )
    with pytest.raises(ValidationError, match="not approved"):
        services.period_recompute(actor=second_manager, period=period, versions={v3.definition_id: v3})
