"""The outsourcing scope (seed 000 §1): each of our functions is in-house, outsourced or shared with a
vendor; the matrix shows the gaps (a function nobody performs) and the overlaps (claimed twice)."""

from __future__ import annotations

import pytest
from django.core.exceptions import ValidationError

from core.testing.personas import api_call, assert_outsider_blocked
from core.testing.problems import assert_problem
from vendors import selectors, services
from vendors.models import ScopeAssignment


@pytest.fixture
def functions(vendor_manager):
    names = ["Order enquiries", "Returns handling", "Complaint handling", "Social media replies"]
    return {n: services.function_create(actor=vendor_manager, area="Customer service", name=n) for n in names}


def flags(user):
    return {
        f.name: ("gap" if f.is_gap else "overlap" if f.is_overlap else "ok")
        for f in selectors.scope_matrix(user=user)
    }


def test_the_matrix_shows_gaps_and_overlaps(functions, vendor, other_vendor, contract, vendor_manager):
    f = functions
    services.scope_assign(
        actor=vendor_manager,
        function=f["Order enquiries"],
        mode="outsourced",
        vendor=vendor,
        contract=contract,
    )
    services.scope_assign(actor=vendor_manager, function=f["Returns handling"], mode="in_house")
    services.scope_assign(actor=vendor_manager, function=f["Returns handling"], mode="shared", vendor=vendor)
    services.scope_assign(actor=vendor_manager, function=f["Complaint handling"], mode="in_house")
    services.scope_assign(
        actor=vendor_manager, function=f["Complaint handling"], mode="outsourced", vendor=other_vendor
    )

    assert flags(vendor_manager) == {
        "Order enquiries": "ok",
        "Returns handling": "ok",  # shared: both of us, by design
        "Complaint handling": "overlap",
        "Social media replies": "gap",
    }


def test_a_vendor_whose_relationship_ended_leaves_a_gap(functions, vendor_manager):
    leaving = services.vendor_create(actor=vendor_manager, code="old", name="Old Call Ltd", status="exiting")
    services.scope_assign(
        actor=vendor_manager, function=functions["Order enquiries"], mode="outsourced", vendor=leaving
    )
    assert flags(vendor_manager)["Order enquiries"] == "ok"
    services.vendor_change_status(
        actor=vendor_manager, vendor=leaving, status="ended", reason="Exit complete."
    )
    assert flags(vendor_manager)["Order enquiries"] == "gap"


@pytest.mark.parametrize(
    ("mode", "with_vendor", "field"),
    [
        ("in_house", True, "vendor"),
        ("outsourced", False, "vendor"),
        ("shared", False, "vendor"),
        ("sideways", False, "mode"),
    ],
)
def test_the_vendor_must_fit_the_mode(functions, vendor, vendor_manager, mode, with_vendor, field):
    with pytest.raises(ValidationError) as caught:
        services.scope_assign(
            actor=vendor_manager,
            function=functions["Order enquiries"],
            mode=mode,
            vendor=vendor if with_vendor else None,
        )
    assert field in caught.value.message_dict
    assert not ScopeAssignment.objects.exists()


def test_each_party_appears_once_per_function(functions, vendor, vendor_manager):
    services.scope_assign(actor=vendor_manager, function=functions["Order enquiries"], mode="in_house")
    with pytest.raises(ValidationError):
        services.scope_assign(actor=vendor_manager, function=functions["Order enquiries"], mode="in_house")
    services.scope_assign(
        actor=vendor_manager, function=functions["Order enquiries"], mode="shared", vendor=vendor
    )
    with pytest.raises(ValidationError):
        services.scope_assign(
            actor=vendor_manager, function=functions["Order enquiries"], mode="outsourced", vendor=vendor
        )


def test_a_contract_of_another_vendor_is_refused(functions, contract, other_vendor, vendor_manager):
    with pytest.raises(ValidationError) as caught:
        services.scope_assign(
            actor=vendor_manager,
            function=functions["Order enquiries"],
            mode="outsourced",
            vendor=other_vendor,
            contract=contract,
        )
    assert "contract" in caught.value.message_dict


def test_the_api_builds_and_reads_the_matrix(client, vendor, vendor_manager):
    response = api_call(
        client,
        "post",
        "/api/v1/vendors/scope/functions",
        vendor_manager,
        {"area": "Fulfilment", "name": "Last-mile delivery"},
    )
    assert response.status_code == 201, response.content
    function_id = response.json()["id"]
    assert response.json()["gap"] is True
    response = api_call(
        client,
        "post",
        f"/api/v1/vendors/scope/functions/{function_id}/assignments",
        vendor_manager,
        {"mode": "in_house", "vendor_id": vendor.pk},
    )
    assert_problem(response, 422)
    response = api_call(
        client,
        "post",
        f"/api/v1/vendors/scope/functions/{function_id}/assignments",
        vendor_manager,
        {"mode": "outsourced", "vendor_id": vendor.pk},
    )
    assert response.status_code == 201 and response.json()["gap"] is False
    matrix = api_call(client, "get", "/api/v1/vendors/scope?area=Fulfilment", vendor_manager).json()
    assert [(f["name"], f["gap"], f["overlap"]) for f in matrix["items"]] == [
        ("Last-mile delivery", False, False)
    ]
    assignment_id = matrix["items"][0]["assignments"][0]["id"]
    assert (
        api_call(
            client, "delete", f"/api/v1/vendors/scope/assignments/{assignment_id}", vendor_manager
        ).status_code
        == 204
    )
    assert not ScopeAssignment.objects.exists()


def test_the_scope_page_renders_and_adds_lines(client, functions, vendor, vendor_manager):
    client.force_login(vendor_manager)
    client.post(
        "/vendors/scope/assignments/",
        {"function": functions["Order enquiries"].pk, "mode": "outsourced", "vendor": vendor.pk},
    )
    html = client.get("/vendors/scope/").content.decode()
    assert "Harbour Call Centre Ltd · Outsourced" in html
    assert html.count(">Gap<") == 3


def test_the_scope_is_internal(
    client, functions, vendor, vendor_manager, portal_user, outsider, no_role_user
):
    assignment = services.scope_assign(
        actor=vendor_manager, function=functions["Order enquiries"], mode="outsourced", vendor=vendor
    )
    for persona in (portal_user, outsider, no_role_user):
        assert_outsider_blocked(client, persona, "get", "/api/v1/vendors/scope", secrets=("Order enquiries",))
        assert_outsider_blocked(
            client, persona, "delete", f"/api/v1/vendors/scope/assignments/{assignment.pk}"
        )
        assert_outsider_blocked(
            client, persona, "post", "/api/v1/vendors/scope/functions", body={"area": "X", "name": "Y"}
        )
    assert ScopeAssignment.objects.count() == 1
    client.force_login(portal_user)
    assert client.get("/vendors/scope/").status_code == 403
