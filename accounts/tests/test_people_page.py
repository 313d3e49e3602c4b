"""The People page: administrators see everyone with their roles; nobody else reaches it."""

import pytest
from django.db import connection
from django.test import override_settings
from django.test.utils import CaptureQueriesContext
from django.urls import reverse

from core.testing.factories import UserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.usefixtures("_no_two_factor")]

PEOPLE = reverse("accounts:people")


@pytest.fixture
def _no_two_factor():
    with override_settings(STEWARD_2FA_REQUIRED_ROLES=[]):
        yield


def test_an_administrator_sees_everyone_with_their_roles(client, admin_user, auditor, portal_user, vendor):
    client.force_login(admin_user)
    response = client.get(PEOPLE)
    assert response.status_code == 200
    html = response.content.decode()
    for person in (admin_user, auditor, portal_user):
        assert person.username in html
    assert "Auditor" in html and "Vendor portal user" in html and vendor.name in html
    assert f'href="{PEOPLE}"' in html  # the navigation shows the entry


def test_the_page_filters_by_role_and_name(client, admin_user, auditor, dpo):
    client.force_login(admin_user)
    by_role = [p.username for p, _, _ in client.get(PEOPLE, {"role": "auditor"}).context["rows"]]
    by_name = [p.username for p, _, _ in client.get(PEOPLE, {"q": dpo.last_name}).context["rows"]]
    assert by_role == [auditor.username]
    assert by_name == [dpo.username]


@pytest.mark.parametrize("persona", ["outsider", "no_role_user", "auditor", "vendor_manager", "dpo"])
def test_nobody_else_reaches_the_page_or_sees_the_entry(client, admin_user, persona, request):
    client.force_login(request.getfixturevalue(persona))
    response = client.get(PEOPLE)
    assert response.status_code == 403
    assert admin_user.username not in response.content.decode()
    home = client.get(reverse("core:home")).content.decode()
    assert f'href="{PEOPLE}"' not in home


def test_signed_out_visitors_are_sent_to_sign_in(client):
    response = client.get(PEOPLE)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_page_costs_the_same_queries_for_few_or_many_people(client, admin_user):
    client.force_login(admin_user)

    def count():
        with CaptureQueriesContext(connection) as ctx:
            assert client.get(PEOPLE).status_code == 200
        return len(ctx.captured_queries)

    few = count()
    for n in range(12):
        UserFactory(username=f"agent{n}", roles=["cs_agent"])
    assert count() == few
