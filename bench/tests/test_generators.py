"""The synthetic-data generator is deterministic and Hong Kong flavoured."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime
from decimal import Decimal

import pytest

from bench.generators import DISTRICTS, ROMANISATION_VARIANTS, Synth, build

PHONE = re.compile(r"^\+852 \d{4} \d{4}$")


def sample(synth: Synth) -> list[object]:
    return [
        synth.person(),
        synth.district(),
        synth.mobile(),
        synth.landline(),
        synth.address(),
        synth.company_name(),
        synth.email(),
        synth.money(10, 500),
        synth.datetime_between(datetime(2026, 1, 1, tzinfo=UTC), datetime(2026, 12, 31, tzinfo=UTC)),
        synth.serial("CON"),
    ]


def test_same_seed_and_stream_give_the_same_values():
    assert sample(Synth(7, "customers")) == sample(Synth(7, "customers"))


def test_another_seed_or_stream_gives_other_values():
    assert sample(Synth(7, "customers")) != sample(Synth(8, "customers"))
    assert sample(Synth(7, "customers")) != sample(Synth(7, "orders"))


def test_a_fork_does_not_depend_on_how_much_the_parent_was_used():
    used = Synth(7, "root")
    for _ in range(100):
        used.person()
    assert sample(used.fork("child")) == sample(Synth(7, "root").fork("child"))


def test_phone_numbers_are_hong_kong_numbers():
    synth = Synth(1)
    for _ in range(200):
        mobile, landline = synth.mobile(), synth.landline()
        assert PHONE.match(mobile) and mobile[5] in "5679"
        assert PHONE.match(landline) and landline[5] in "23"
    assert re.fullmatch(r"\+852[5679]\d{7}", synth.mobile(formatted=False))


def test_people_have_romanised_and_chinese_names():
    person = Synth(3).person()
    assert person.surname in ROMANISATION_VARIANTS
    assert len(person.chinese_name) == 3
    assert person.full_name.startswith(person.english_name)
    assert person.formal_name.startswith(person.surname.upper() + ", ")


def test_districts_cover_all_eighteen():
    synth = Synth(4)
    seen = {synth.district().name for _ in range(3000)}
    assert seen == {d.name for d in DISTRICTS} and len(seen) == 18


def test_romanisation_variants_differ_from_the_original():
    synth = Synth(5)
    assert synth.romanisation_variant("Chan") in {"Chen", "Chun"}
    assert synth.romanisation_variant("Smith") == "Smith"


def test_money_is_decimal_with_cents():
    value = Synth(6).money(10, 500)
    assert isinstance(value, Decimal)
    assert Decimal(10) <= value <= Decimal(500)
    assert value == value.quantize(Decimal("0.01"))


def test_times_must_be_timezone_aware():
    with pytest.raises(ValueError):
        Synth(1).datetime_between(datetime(2026, 1, 1), datetime(2026, 2, 1))  # noqa: DTZ001


def test_business_hours_are_hong_kong_office_hours():
    synth = Synth(2)
    for _ in range(100):
        instant = synth.business_hours_instant(date(2026, 3, 2))
        hk_hour = (instant.hour + 8) % 24
        assert 9 <= hk_hour < 18


@pytest.mark.django_db
def test_the_vendor_dataset_is_reproducible():
    first = [(v.code, v.name, v.status) for v in build("vendors", 50, seed=11)]
    again = [(v.code, v.name, v.status) for v in build("vendors", 50, seed=11)]
    assert first == again
    assert len({code for code, _, _ in first}) == 50


def test_sales_order_columns_are_reproducible_and_drawn_like_the_streamed_orders():
    import numpy as np

    from bench.generators import (
        SALES_CHANNELS,
        SALES_END,
        SALES_PRODUCTS,
        SALES_START,
        SALES_STATUS_NAMES,
        SALES_STATUSES,
        sales_order_columns,
    )

    a = sales_order_columns(Synth(852, "sales-orders"), 20_000, 500, first=101)
    b = sales_order_columns(Synth(852, "sales-orders"), 20_000, 500, first=101)
    assert all(np.array_equal(getattr(a, f), getattr(b, f)) for f in a.__dataclass_fields__)
    other = sales_order_columns(Synth(852, "sales-orders"), 20_000, 500, first=20_101)
    assert not np.array_equal(a.placed_us, other.placed_us)
    assert list(a.number[:2]) == [101, 102] and a.customer.min() >= 1 and a.customer.max() <= 500
    assert (
        SALES_START.timestamp() * 1e6 <= a.placed_us.min() and a.placed_us.max() < SALES_END.timestamp() * 1e6
    )
    # 1 line, +1 with 50%, +1 with 20%: 1.7 lines an order.
    assert 1.65 < len(a.line_order) / 20_000 < 1.75
    assert list(np.bincount(a.line_number)[1:]) == [20_000, *np.bincount(a.line_number)[2:]]
    # Totals are the sums of their lines; refunds all or half of the total by status.
    prices = np.asarray([price for *_, price in SALES_PRODUCTS])
    per_order = np.bincount(a.line_order - 101, weights=prices[a.line_product] * a.line_quantity)
    assert np.array_equal(per_order.astype(np.int64), a.total_cents)
    refunded = a.status == SALES_STATUS_NAMES.index("refunded")
    assert np.array_equal(a.refunded_mills[refunded], a.total_cents[refunded] * 10)
    assert abs(refunded.mean() - SALES_STATUSES.count("refunded") / len(SALES_STATUSES)) < 0.01
    web = np.asarray(sorted(set(SALES_CHANNELS))).tolist().index("web")
    assert abs((a.channel == web).mean() - SALES_CHANNELS.count("web") / len(SALES_CHANNELS)) < 0.015
    # Skewed towards low customer numbers, as 1 + ⌊n × u^1.5⌋.
    assert (a.customer <= 250).mean() > 0.6
