"""Obligations, one-off or recurring, generate dated instances to the end of the term; each instance
is upcoming, due, met with evidence, missed or waived with a reason."""

from __future__ import annotations

from datetime import date

import pytest
from django.core.exceptions import PermissionDenied, ValidationError

from core.models import AuditEvent
from core.testing.personas import api_call, assert_outsider_blocked
from core.testing.problems import assert_problem
from vendors import schedules, services
from vendors.models import Obligation, ObligationInstance
from vendors.tests.conftest import TODAY, pdf


def test_a_monthly_obligation_is_due_every_month_to_the_end_of_the_term(monthly_report):
    dates = list(monthly_report.instances.order_by("due_on").values_list("due_on", flat=True))
    assert len(dates) == 24
    assert (dates[0], dates[-1]) == (date(2025, 1, 5), date(2026, 12, 5))


def test_instances_start_with_the_status_of_their_date(monthly_report):
    by_date = dict(monthly_report.instances.values_list("due_on", "status"))
    assert by_date[date(2025, 5, 5)] == "missed"  # before 10 June 2025
    assert by_date[date(2025, 6, 5)] == "missed"
    assert by_date[date(2025, 7, 5)] == "upcoming"  # more than 14 days ahead
    assert by_date[date(2025, 8, 5)] == "upcoming"


def test_month_end_obligations_stay_at_month_end():
    assert schedules.due_dates(date(2025, 1, 31), "monthly", date(2025, 4, 30)) == [
        date(2025, 1, 31),
        date(2025, 2, 28),
        date(2025, 3, 31),
        date(2025, 4, 30),
    ]
    assert schedules.due_dates(date(2024, 2, 29), "yearly", date(2028, 3, 1)) == [
        date(2024, 2, 29),
        date(2025, 2, 28),
        date(2026, 2, 28),
        date(2027, 2, 28),
        date(2028, 2, 29),
    ]


def test_the_daily_roll_moves_instances_to_due_and_missed(monthly_report):
    july = monthly_report.instances.get(due_on=date(2025, 7, 5))
    assert july.status == "upcoming"

    moved = services.obligation_statuses_roll(today=date(2025, 6, 25))
    july.refresh_from_db()
    assert july.status == "due" and moved["due"] == 1

    services.obligation_statuses_roll(today=date(2025, 7, 6))
    july.refresh_from_db()
    assert july.status == "missed"
    assert AuditEvent.objects.filter(
        object_type="vendors.obligationinstance", changes__status="missed"
    ).exists()


def test_met_needs_evidence_when_the_obligation_asks_for_it(monthly_report, vendor_manager, portal_user):
    instance = monthly_report.instances.get(due_on=date(2025, 7, 5))
    with pytest.raises(ValidationError) as caught:
        services.obligation_instance_mark_met(actor=vendor_manager, instance=instance)
    assert "evidence" in caught.value.message_dict

    services.evidence_upload(actor=portal_user, instance=instance, upload=pdf())
    services.obligation_instance_mark_met(actor=vendor_manager, instance=instance, note="Checked.")
    instance.refresh_from_db()
    assert (instance.status, instance.decided_by) == ("met", vendor_manager)


def test_the_vendor_cannot_mark_its_own_obligation_met(monthly_report, portal_user):
    instance = monthly_report.instances.get(due_on=date(2025, 7, 5))
    services.evidence_upload(actor=portal_user, instance=instance, upload=pdf())
    with pytest.raises(PermissionDenied):
        services.obligation_instance_mark_met(actor=portal_user, instance=instance)


def test_a_missed_instance_with_late_evidence_is_met_only_with_a_note_saying_why(
    monthly_report, vendor_manager
):
    may = monthly_report.instances.get(due_on=date(2025, 5, 5))
    with pytest.raises(ValidationError):
        services.obligation_instance_mark_met(actor=vendor_manager, instance=may, note="Trust me.")
    services.evidence_upload(actor=vendor_manager, instance=may, upload=pdf())  # uploaded now, after 5 May
    with pytest.raises(ValidationError) as caught:
        services.obligation_instance_mark_met(actor=vendor_manager, instance=may)
    assert "waive it" in caught.value.message_dict["status"][0]
    services.obligation_instance_mark_met(actor=vendor_manager, instance=may, note="E-mailed on 5 May.")
    may.refresh_from_db()
    assert (may.status, may.reason) == ("met", "E-mailed on 5 May.")


def test_a_waiver_needs_a_reason(monthly_report, vendor_manager):
    instance = monthly_report.instances.get(due_on=date(2025, 5, 5))
    with pytest.raises(ValidationError):
        services.obligation_instance_waive(actor=vendor_manager, instance=instance, reason="  ")
    services.obligation_instance_waive(
        actor=vendor_manager, instance=instance, reason="Typhoon signal 8 closure."
    )
    instance.refresh_from_db()
    assert (instance.status, instance.reason) == ("waived", "Typhoon signal 8 closure.")


def test_a_one_off_obligation_has_one_instance(contract, vendor_manager):
    obligation = services.obligation_create(
        actor=vendor_manager,
        contract=contract,
        title="Business continuity test report",
        first_due_on=date(2025, 9, 30),
        owner_party="vendor",
        today=TODAY,
    )
    assert list(obligation.instances.values_list("due_on", flat=True)) == [date(2025, 9, 30)]


def test_an_obligation_after_the_term_is_refused(contract, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.obligation_create(
            actor=vendor_manager, contract=contract, title="Late", first_due_on=date(2027, 1, 5), today=TODAY
        )
    assert "first_due_on" in caught.value.message_dict


def test_the_owner_must_fit_the_party(contract, vendor_manager, outsider):
    with pytest.raises(ValidationError) as caught:
        services.obligation_create(
            actor=vendor_manager,
            contract=contract,
            title="Report",
            first_due_on=date(2025, 9, 5),
            owner_party="vendor",
            owner=outsider,
        )
    assert "owner" in caught.value.message_dict
    with pytest.raises(ValidationError):
        services.obligation_create(
            actor=vendor_manager,
            contract=contract,
            title="Provide forecasts",
            first_due_on=date(2025, 9, 5),
            owner_party="company",
            owner=outsider,
        )


def test_a_draft_contract_generates_instances_on_activation(draft_contract, vendor_manager):
    obligation = services.obligation_create(
        actor=vendor_manager,
        contract=draft_contract,
        title="Quarterly security attestation",
        first_due_on=date(2025, 3, 31),
        recurrence=Obligation.Recurrence.QUARTERLY,
        today=TODAY,
    )
    assert obligation.instances.count() == 0
    services.contract_version_activate(
        actor=vendor_manager, version=draft_contract.versions.get(), today=TODAY
    )
    assert obligation.instances.count() == 8


def test_a_withdrawn_obligation_waives_its_open_future_instances(monthly_report, vendor_manager):
    services.obligation_withdraw(
        actor=vendor_manager, obligation=monthly_report, reason="Amendment 2 drops the report.", today=TODAY
    )
    statuses = dict(monthly_report.instances.values_list("due_on", "status"))
    assert statuses[date(2025, 5, 5)] == "missed"
    assert statuses[date(2025, 7, 5)] == "waived"


def test_the_calendar_lists_instances_by_due_date_with_filters(client, monthly_report, vendor_manager):
    data = api_call(
        client, "get", "/api/v1/vendors/obligation-instances?start=2025-06-01&end=2025-08-31", vendor_manager
    ).json()
    assert [item["due_on"] for item in data["items"]] == ["2025-06-05", "2025-07-05", "2025-08-05"]
    missed = api_call(
        client, "get", "/api/v1/vendors/obligation-instances?status=missed", vendor_manager
    ).json()
    assert missed["count"] == 6


def test_compliance_is_met_over_met_and_missed(client, monthly_report, vendor_manager, portal_user):
    for instance in monthly_report.instances.filter(due_on__lte=date(2025, 3, 5)):
        services.obligation_instance_waive(
            actor=vendor_manager, instance=instance, reason="Transition months."
        )
    june = monthly_report.instances.get(due_on=date(2025, 7, 5))
    services.evidence_upload(actor=portal_user, instance=june, upload=pdf())
    services.obligation_instance_mark_met(actor=vendor_manager, instance=june)
    data = api_call(
        client,
        "get",
        f"/api/v1/vendors/contracts/{monthly_report.contract_id}/compliance?start=2025-01-01&end=2025-07-31",
        vendor_manager,
    ).json()
    assert (data["met"], data["missed"], data["waived"]) == (1, 3, 3)
    assert data["score"] == "25.0"


def test_the_api_refuses_met_without_evidence(client, monthly_report, vendor_manager):
    instance = monthly_report.instances.get(due_on=date(2025, 7, 5))
    response = api_call(
        client, "post", f"/api/v1/vendors/obligation-instances/{instance.pk}/met", vendor_manager, {}
    )
    assert_problem(response, 422)
    instance.refresh_from_db()
    assert instance.status == "upcoming"


def test_outsiders_reach_no_obligation(client, monthly_report, outsider, no_role_user):
    instance = monthly_report.instances.first()
    for persona in (outsider, no_role_user):
        assert_outsider_blocked(
            client,
            persona,
            "get",
            "/api/v1/vendors/obligation-instances",
            secrets=("Monthly service report",),
        )
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/obligations/{monthly_report.pk}")
        assert_outsider_blocked(client, persona, "get", f"/api/v1/vendors/obligation-instances/{instance.pk}")
        assert_outsider_blocked(
            client,
            persona,
            "post",
            f"/api/v1/vendors/obligation-instances/{instance.pk}/waive",
            body={"reason": "x"},
        )
    assert not ObligationInstance.objects.filter(status="waived").exists()
