"""Administrators manage people through the API: list, create with roles, replace roles.
Everyone else gets 403 or 404 and changes nothing."""

import json

import pytest

from accounts.models import User
from core.models import AuditEvent
from core.testing.factories import UserFactory
from core.testing.personas import api_call, assert_outsider_blocked

pytestmark = pytest.mark.django_db

USERS = "/api/v1/accounts/users"
STRONG = "Victoria-Harbour-482"


def new_person(**overrides):
    return {
        "username": "wing.chan",
        "password": STRONG,
        "roles": ["cs_agent"],
        "email": "wing.chan@example.hk",
        "first_name": "Wing",
        "last_name": "Chan",
        **overrides,
    }


def error_fields(response):
    return {e["field"] for e in response.json().get("errors", [])}


def assert_problem(response, status):
    assert response.status_code == status, response.content
    assert response["Content-Type"].startswith("application/problem+json")


# --- Listing ------------------------------------------------------------------------------------


def test_an_administrator_lists_people_a_page_at_a_time(client, admin_user, auditor, portal_user, vendor):
    response = api_call(client, "GET", f"{USERS}?page_size=2", admin_user)
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 3 and body["pages"] == 2 and len(body["items"]) == 2

    everyone = api_call(client, "GET", USERS, admin_user).json()["items"]
    by_name = {p["username"]: p for p in everyone}
    assert by_name[auditor.username]["roles"] == ["auditor"]
    assert by_name[portal_user.username]["vendor_id"] == vendor.pk
    assert by_name[admin_user.username]["two_factor"] is False
    assert all("password" not in p for p in everyone)


def test_the_list_filters_by_role(client, admin_user, auditor, dpo):
    items = api_call(client, "GET", f"{USERS}?role=auditor", admin_user).json()["items"]
    assert [p["username"] for p in items] == [auditor.username]


@pytest.mark.parametrize("persona", ["outsider", "no_role_user", "auditor", "vendor_manager"])
def test_nobody_else_lists_or_reads_people(client, admin_user, persona, request):
    other = request.getfixturevalue(persona)
    assert_outsider_blocked(client, other, "GET", USERS, secrets=(admin_user.username,))
    assert_outsider_blocked(client, other, "GET", f"{USERS}/{admin_user.pk}", secrets=(admin_user.username,))


# --- Creating -----------------------------------------------------------------------------------


def test_an_administrator_creates_a_person_with_roles(client, admin_user):
    response = api_call(client, "POST", USERS, admin_user, new_person(roles=["cs_agent", "marketing"]))

    assert response.status_code == 201, response.content
    body = response.json()
    assert body["roles"] == ["cs_agent", "marketing"]
    assert body["vendor_id"] is None
    person = User.objects.get(username="wing.chan")
    assert person.check_password(STRONG)
    assert not person.is_staff
    event = AuditEvent.objects.get(action="create", object_type="accounts.user", object_id=str(person.pk))
    assert event.actor_id == admin_user.pk
    assert event.changes["after"]["roles"] == ["cs_agent", "marketing"]
    assert "password" not in event.changes["after"] and STRONG not in json.dumps(event.changes)


def test_an_administrator_creates_a_portal_user_bound_to_a_vendor(client, admin_user, vendor):
    response = api_call(
        client, "POST", USERS, admin_user, new_person(roles=["vendor_portal"], vendor_id=vendor.pk)
    )
    assert response.status_code == 201, response.content
    person = User.objects.get(username="wing.chan")
    assert person.vendor == vendor and not person.is_staff


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"password": "password"}, "password"),
        ({"password": "wingchan123"}, "password"),
        ({"password": "short"}, "password"),
        ({"password": "48213957612"}, "password"),
        ({"roles": ["vendor_portal"]}, "vendor"),
        ({"roles": ["auditor", "vendor_portal"]}, "roles"),
        ({"roles": ["wizard"]}, "roles"),
        ({"vendor_id": 999_999, "roles": ["vendor_portal"]}, "vendor_id"),
        ({"username": "ada"}, "username"),
        ({"username": "ADA"}, "username"),
        ({"email": "not-an-email"}, "email"),
    ],
)
def test_a_person_breaking_a_rule_is_422_with_field_errors_and_nothing_is_created(
    client, admin_user, overrides, field
):
    headers_user = admin_user
    before = (User.objects.count(), AuditEvent.objects.filter(object_type="accounts.user").count())

    response = api_call(client, "POST", USERS, headers_user, new_person(**overrides))

    assert_problem(response, 422)
    assert field in error_fields(response), response.json()
    assert (User.objects.count(), AuditEvent.objects.filter(object_type="accounts.user").count()) == before


def test_staff_roles_with_a_vendor_are_refused(client, admin_user, vendor):
    response = api_call(client, "POST", USERS, admin_user, new_person(roles=["auditor"], vendor_id=vendor.pk))
    assert_problem(response, 422)
    assert not User.objects.filter(username="wing.chan").exists()


@pytest.mark.parametrize(
    "body", [{"username": "x"}, {**new_person(), "is_superuser": True}, {**new_person(), "roles": "auditor"}]
)
def test_malformed_bodies_are_422(client, admin_user, body):
    assert_problem(api_call(client, "POST", USERS, admin_user, body), 422)
    assert not User.objects.filter(username__in=["x", "wing.chan"]).exists()


@pytest.mark.parametrize("persona", ["outsider", "no_role_user", "auditor", "dpo"])
def test_nobody_else_creates_people(client, persona, request):
    other = request.getfixturevalue(persona)
    assert_outsider_blocked(client, other, "POST", USERS, body=new_person(roles=["administrator"]))
    assert not User.objects.filter(username="wing.chan").exists()


# --- Changing roles -----------------------------------------------------------------------------


def test_an_administrator_replaces_roles_and_it_is_audited(client, admin_user, auditor):
    response = api_call(
        client, "PUT", f"{USERS}/{auditor.pk}/roles", admin_user, {"roles": ["auditor", "cs_manager"]}
    )

    assert response.status_code == 200, response.content
    assert response.json()["roles"] == ["auditor", "cs_manager"]
    assert set(auditor.groups.values_list("name", flat=True)) == {"auditor", "cs_manager"}
    event = AuditEvent.objects.get(action="update", object_type="accounts.user", object_id=str(auditor.pk))
    assert event.actor_id == admin_user.pk
    assert event.changes == {"before": {"roles": ["auditor"]}, "after": {"roles": ["auditor", "cs_manager"]}}


def test_making_someone_administrator_makes_them_staff(client, admin_user, auditor):
    api_call(client, "PUT", f"{USERS}/{auditor.pk}/roles", admin_user, {"roles": ["administrator"]})
    auditor.refresh_from_db()
    assert auditor.is_staff and auditor.is_superuser


@pytest.mark.parametrize(
    ("target", "roles"),
    [("portal_user", ["auditor"]), ("portal_user", []), ("auditor", ["vendor_portal"]), ("admin_user", [])],
)
def test_role_changes_that_break_a_rule_are_422(client, admin_user, target, roles, request):
    person = request.getfixturevalue(target)
    before = set(person.groups.values_list("name", flat=True))
    response = api_call(client, "PUT", f"{USERS}/{person.pk}/roles", admin_user, {"roles": roles})
    assert_problem(response, 422)
    assert set(person.groups.values_list("name", flat=True)) == before


@pytest.mark.parametrize("persona", ["outsider", "no_role_user", "auditor", "vendor_manager"])
def test_nobody_else_changes_roles_not_even_their_own(client, auditor, persona, request):
    other = request.getfixturevalue(persona)
    for target in (auditor, other):
        assert_outsider_blocked(
            client, other, "PUT", f"{USERS}/{target.pk}/roles", body={"roles": ["administrator"]}
        )
    for person in (auditor, other):
        person.refresh_from_db()
        assert not person.is_superuser
        assert "administrator" not in set(person.groups.values_list("name", flat=True))


def test_an_unknown_person_is_404(client, admin_user):
    assert_problem(api_call(client, "PUT", f"{USERS}/999999/roles", admin_user, {"roles": []}), 404)


def test_the_list_costs_the_same_queries_for_few_or_many_people(client, admin_user):
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert api_call(client, "GET", USERS, admin_user).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(15):
        UserFactory(username=f"extra{n}", roles=["cs_agent", "marketing"])
    assert count() == few
