"""Duplicate customers: detection with Hong Kong romanisations, a reviewed merge that keeps history, undo."""

from __future__ import annotations

import pytest

from core.testing.personas import api_call, assert_outsider_blocked
from customers import duplicates
from customers.models import BehaviourEvent, Customer, Order
from customers.privacy_models import CustomerMerge, DuplicateCandidate
from customers.tests.dpo_fixtures import days_ago, make_customer, make_event, make_order
from service.models import Ticket

pytestmark = pytest.mark.django_db


@pytest.mark.parametrize(
    ("a", "b"),
    [
        (("Siu Ming", "Chan"), ("Siu Ming", "Chen")),
        (("Ka Yan", "Wong"), ("Ka-yan", "Huang")),
        (("Wai Man", "Lee"), ("Li", "Wai Man")),  # swapped, and Lee/Li
        (("Mei Ling", "Cheung"), ("Meiling", "Zhang")),
        (("Chi Keung", "Ng"), ("Chi Keung", "Wu")),
        (("Ho Yin", "Lau"), ("Ho Yin", "Liu")),
        (("Kwok Wing", "Tsang"), ("Kwok Wing", "Zeng")),
    ],
)
def test_romanisation_variants_and_swaps_read_the_same(a, b):
    left = duplicates.normalise(1, a[0], a[1], "", "91234567", "", "")
    right = duplicates.normalise(2, b[0], b[1], "", "+852 9123 4567", "", "")
    assert left.name == right.name
    assert duplicates.find_pairs([left, right])


def test_family_members_at_one_address_are_not_duplicates():
    father = duplicates.normalise(
        1, "Tai Man", "Chan", "taiman@example.hk", "+852 2123 4567", "Flat 1A, 3 Hill Rd", "Sha Tin"
    )
    daughter = duplicates.normalise(
        2, "Ka Yan", "Chan", "kayan@example.hk", "+852 2123 4567", "Flat 1A, 3 Hill Road", "Sha Tin"
    )
    namesake = duplicates.normalise(
        3, "Tai Man", "Chan", "taiman.chan8@example.hk", "+852 6000 0000", "", "Sha Tin"
    )
    assert duplicates.find_pairs([father, daughter, namesake]) == []


@pytest.fixture
def pair(dpo):
    survivor = make_customer(external_id="A", phone="+852 9123 4567", address_line="")
    other = make_customer(
        external_id="B", family_name="Chen", email="", phone="91234567", address_line="Flat 2B, 5 Hill Road"
    )
    make_customer(
        external_id="C",
        given_name="Ka Yan",
        family_name="Lam",
        email="kayan@example.hk",
        phone="+85261112222",
    )
    assert duplicates.duplicates_detect(actor=dpo) == 1
    return survivor, other, DuplicateCandidate.objects.get()


def test_detection_queues_the_pair_once(dpo, pair):
    survivor, other, candidate = pair
    assert (candidate.left_id, candidate.right_id) == (survivor.pk, other.pk)
    assert "same phone" in candidate.reasons
    assert duplicates.duplicates_detect(actor=dpo) == 0


def test_a_merge_keeps_history_moves_orders_and_can_be_undone(client, dpo, pair):
    survivor, other, candidate = pair
    order = make_order(other, days_ago(5), total="350.00")
    event = make_event(other, days_ago(4))
    response = api_call(
        client,
        "post",
        f"/api/v1/customers/duplicates/{candidate.pk}/merge",
        dpo,
        {"survivor_id": survivor.pk, "take_from_merged": ["address_line"]},
    )
    assert response.status_code == 201, response.content
    merge = CustomerMerge.objects.get()
    survivor.refresh_from_db()
    other.refresh_from_db()
    assert survivor.address_line == "Flat 2B, 5 Hill Road"
    assert other.merged_into_id == survivor.pk
    assert Order.objects.get(pk=order.pk).customer_id == survivor.pk
    assert BehaviourEvent.objects.get(pk=event.pk).customer_id == survivor.pk
    assert merge.field_sources["address_line"] == "merged" and merge.field_sources["email"] == "survivor"
    assert merge.moved_orders == [order.pk]

    undone = api_call(client, "post", f"/api/v1/customers/merges/{merge.pk}/undo", dpo)
    assert undone.status_code == 200, undone.content
    survivor.refresh_from_db()
    other.refresh_from_db()
    assert survivor.address_line == "" and other.merged_into_id is None
    assert Order.objects.get(pk=order.pk).customer_id == other.pk
    assert DuplicateCandidate.objects.get().status == "open"
    again = api_call(client, "post", f"/api/v1/customers/merges/{merge.pk}/undo", dpo)
    assert again.status_code == 422


def test_a_merge_moves_the_service_tickets_and_the_undo_moves_them_back(client, dpo, pair):
    """Issue 7 §6: a merge keeps the whole history together, tickets included; undo restores it."""
    survivor, other, candidate = pair
    theirs = Ticket.objects.create(external_id="T-OTHER", opened_at=days_ago(3), customer=other)
    own = Ticket.objects.create(external_id="T-SURV", opened_at=days_ago(2), customer=survivor)
    response = api_call(
        client,
        "post",
        f"/api/v1/customers/duplicates/{candidate.pk}/merge",
        dpo,
        {"survivor_id": survivor.pk},
    )
    assert response.status_code == 201, response.content
    assert response.json()["moved_tickets"] == [theirs.pk]
    assert set(Ticket.objects.filter(customer=survivor).values_list("pk", flat=True)) == {theirs.pk, own.pk}
    # A ticket that arrives for the survivor after the merge stays with it on undo.
    later = Ticket.objects.create(external_id="T-LATER", opened_at=days_ago(0), customer=survivor)

    client.force_login(dpo)
    merge = CustomerMerge.objects.get()
    page = client.get("/customers/duplicates/")
    assert "1 tickets" in page.content.decode()
    client.post(f"/customers/merges/{merge.pk}/undo/")
    assert CustomerMerge.objects.get().undone_at is not None
    assert Ticket.objects.get(pk=theirs.pk).customer_id == other.pk
    assert Ticket.objects.get(pk=own.pk).customer_id == survivor.pk
    assert Ticket.objects.get(pk=later.pk).customer_id == survivor.pk


def test_a_pair_marked_distinct_is_not_proposed_again(dpo, pair):
    _, _, candidate = pair
    duplicates.candidate_mark_distinct(actor=dpo, candidate=candidate)
    assert duplicates.duplicates_detect(actor=dpo) == 0
    assert DuplicateCandidate.objects.get().status == "distinct"


def test_the_dpo_merges_on_the_page(client, dpo, pair):
    survivor, other, candidate = pair
    client.force_login(dpo)
    page = client.get("/customers/duplicates/")
    assert page.status_code == 200 and "same phone" in page.content.decode()
    client.post(
        f"/customers/duplicates/{candidate.pk}/",
        {"decision": "merge", "survivor": "left", "take": ["address_line"]},
    )
    assert Customer.objects.get(pk=other.pk).merged_into_id == survivor.pk


def test_outsiders_cannot_see_or_merge_duplicates(client, dpo, pair, outsider, no_role_user):
    survivor, other, candidate = pair
    for user in (outsider, no_role_user):
        assert_outsider_blocked(client, user, "GET", "/api/v1/customers/duplicates")
        assert_outsider_blocked(
            client,
            user,
            "POST",
            f"/api/v1/customers/duplicates/{candidate.pk}/merge",
            body={"survivor_id": survivor.pk},
        )
    assert not CustomerMerge.objects.exists()
