"""Columns read as arrays (``core.columnar``): the same values, in the same row order, as the
database's own rows, on both databases; datetimes as microseconds since 1970; no rows as empty
columns; and reads run ahead (PostgreSQL: a second thread on the same connection) return each
batch's own columns in order and see what the caller's transaction has written."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import numpy as np
import pytest
from django.db.models import F, Value
from django.db.models.functions import Coalesce

from accounts.models import User
from core import columnar
from core.testing.factories import UserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def users():
    start = datetime(2026, 3, 29, 0, 59, 59, 999_999, tzinfo=UTC)
    made: list[User] = [
        UserFactory.create(date_joined=start + timedelta(seconds=i * 3601, microseconds=-i)) for i in range(7)
    ]
    User.objects.filter(pk=made[2].pk).update(last_login=start)
    return made


def _expected():
    rows = list(User.objects.order_by("pk").values_list("pk", "date_joined", "last_login"))
    micros = [
        int((joined - datetime(1970, 1, 1, tzinfo=UTC)) / timedelta(microseconds=1)) for _, joined, _ in rows
    ]
    return [pk for pk, _, _ in rows], micros, [-1 if login is None else 1 for _, _, login in rows]


def test_integer_and_datetime_columns_come_back_as_the_rows_hold_them(users):
    queryset = (
        User.objects.order_by("pk")
        .annotate(logged_in=Coalesce(F("last_login__year") * 0 + 1, Value(-1)))
        .values_list("pk", "date_joined", "logged_in")
    )
    ids, joined, logged_in = columnar.queryset_columns(queryset, ["int", "time", "int"])
    want_ids, want_micros, want_logged = _expected()
    order = np.argsort(ids)  # an aggregate keeps the rows together, not necessarily in pk order
    assert ids[order].tolist() == want_ids
    assert joined[order].tolist() == want_micros
    assert logged_in[order].tolist() == want_logged
    assert all(column.dtype == np.int64 for column in (ids, joined, logged_in))


def test_no_rows_give_empty_columns(users):
    queryset = User.objects.filter(pk__lt=0).values_list("pk", "date_joined")
    ids, joined = columnar.queryset_columns(queryset, ["int", "time"])
    assert len(ids) == len(joined) == 0


def test_reads_run_ahead_return_each_batch_in_order_and_see_uncommitted_rows(users):
    # The users exist only inside this test's transaction: a read on another connection would miss them.
    batches = [
        [
            columnar.queryset_read(
                User.objects.filter(pk=user.pk).values_list("pk", "date_joined"), ["int", "time"]
            )
        ]
        for user in users
    ]
    seen = []
    for (columns,) in columnar.read_ahead(iter(batches)):
        ids, _joined = columns
        seen.append(ids.tolist())
        User.objects.filter(pk=ids[0]).update(
            first_name="read"
        )  # the caller may use the connection meanwhile
    assert seen == [[user.pk] for user in users]
    assert User.objects.filter(first_name="read").count() == len(users)
