"""Demo customers, orders, behavioural events, metrics and segments (see ``customers.demo``)."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

from django.utils import timezone

from accounts.models import User

# --- c1: customers, orders and events, metrics, segments ---

_SURNAMES = [
    ("Chan", "陳"),
    ("Wong", "黃"),
    ("Lee", "李"),
    ("Cheung", "張"),
    ("Lau", "劉"),
    ("Ng", "吳"),
    ("Leung", "梁"),
    ("Lam", "林"),
    ("Ho", "何"),
    ("Tang", "鄧"),
    ("Chow", "周"),
    ("Tsang", "曾"),
    ("Yeung", "楊"),
    ("Kwok", "郭"),
    ("Mak", "麥"),
    ("Cheng", "鄭"),
    ("Fung", "馮"),
    ("Tam", "譚"),
]
_GIVEN = [
    ("Tai Man", "大文"),
    ("Siu Ming", "小明"),
    ("Ka Yan", "嘉欣"),
    ("Wing Sze", "詠詩"),
    ("Chi Keung", "志強"),
    ("Mei Ling", "美玲"),
    ("Ho Yin", "浩然"),
    ("Hoi Ching", "凱晴"),
    ("Kwok Wai", "國偉"),
    ("Suet Ying", "雪瑩"),
    ("Chun Kit", "俊傑"),
    ("Yuk Lan", "玉蘭"),
]
_ENGLISH = ["Ada", "Bonnie", "Calvin", "Dickson", "Eunice", "Gigi", "Jason", "Kelvin", "Mandy", "Winnie"]
_VARIANTS = {"Chan": "Chen", "Wong": "Huang", "Lee": "Li", "Cheung": "Zhang", "Lau": "Liu", "Ng": "Wu"}
_DISTRICTS = [
    "Central and Western",
    "Wan Chai",
    "Eastern",
    "Southern",
    "Yau Tsim Mong",
    "Sham Shui Po",
    "Kowloon City",
    "Wong Tai Sin",
    "Kwun Tong",
    "Kwai Tsing",
    "Tsuen Wan",
    "Tuen Mun",
    "Yuen Long",
    "North",
    "Tai Po",
    "Sha Tin",
    "Sai Kung",
    "Islands",
]
_STREETS = ["Nathan Road", "Hennessy Road", "King’s Road", "Castle Peak Road", "Sha Tin Centre Street"]
_MAIL = ["gmail.com", "yahoo.com.hk", "hotmail.com", "netvigator.com", "outlook.com", "icloud.com"]
# (category, products with HK$ prices)
_CATALOGUE = [
    (
        "Beauty & Skincare",
        [("Hydrating Serum 30ml", "389"), ("Sunscreen SPF50", "168"), ("Sheet Mask x10", "99")],
    ),
    (
        "Food & Beverage",
        [("Oolong Tea Gift Tin", "300"), ("Egg Rolls Gift Box", "238"), ("Abalone Can", "188")],
    ),
    (
        "Health Supplements",
        [("Vitamin C 1000mg", "158"), ("Fish Oil Omega-3", "268"), ("Lingzhi Capsules", "580")],
    ),
    ("Electronics", [("Wireless Earbuds", "688"), ("Power Bank 20000mAh", "299"), ("Smart Watch", "1588")]),
    ("Household", [("Dehumidifier 12L", "1280"), ("Rice Cooker", "899"), ("Bamboo Towels x3", "129")]),
    ("Baby & Kids", [("Formula Milk 900g", "328"), ("Diapers L x52", "189"), ("Wooden Puzzle", "149")]),
    ("Fashion", [("Cotton Tee", "159"), ("Rain Jacket", "459"), ("Canvas Tote", "119")]),
]
_CHANNELS = [("web", 45), ("app", 30), ("marketplace", 15), ("social", 5), ("store", 4), ("phone", 1)]
_SEARCHES = ["防曬", "dehumidifier", "蛋卷", "vitamin c", "earbuds", "rain jacket", "奶粉"]
DEMO_SOURCE = "hkshop"


def _weighted(rng: random.Random, options: list[tuple[str, int]]) -> str:
    return rng.choices([o for o, _ in options], weights=[w for _, w in options])[0]


def _customers(rng: random.Random, count: int, first: datetime) -> list[dict[str, Any]]:
    records = []
    for i in range(1, count + 1):
        surname, chinese_surname = rng.choice(_SURNAMES)
        given, chinese_given = rng.choice(_GIVEN)
        english = rng.choice(_ENGLISH) if rng.random() < 0.3 else ""
        local = f"{(english or given.replace(' ', '')).lower()}.{surname.lower()}{rng.randint(1, 99)}"
        email = f"{local}@{rng.choice(_MAIL)}"
        phone = f"+852 {rng.choice('5679')}{rng.randint(100, 999)} {rng.randint(1000, 9999)}"
        if i % 97 == 0:
            email = email.replace("@", " at ")  # invalid, kept as given for the data-quality review
        if i % 89 == 0:
            phone = f"{rng.randint(1000, 99999)}"  # too short for a Hong Kong number
        records.append(
            {
                "external_id": f"C{i:05d}",
                "given_name": f"{english} {given}".strip() if english else given,
                "family_name": surname,
                "chinese_name": chinese_surname + chinese_given,
                "email": email,
                "phone": phone,
                "address_line": f"Flat {rng.randint(1, 40)}{rng.choice('ABCDEFGH')}, "
                f"{rng.randint(1, 300)} {rng.choice(_STREETS)}",
                "district": rng.choice(_DISTRICTS),
                "tier": _weighted(rng, [("standard", 70), ("silver", 18), ("gold", 9), ("vip", 3)]),
                "first_seen_at": (first + timedelta(days=rng.randint(0, 500))).isoformat(),
            }
        )
    # A few near-duplicates: the same person again under a Mandarin spelling and another source id.
    for n, original in enumerate(records[:: max(1, count // 12)][:12], start=1):
        family = _VARIANTS.get(original["family_name"], original["family_name"])
        records.append(
            {
                **original,
                "external_id": f"C9{n:04d}",
                "family_name": family,
                "email": original["email"].upper() if n % 2 else "",
                "phone": original["phone"].replace(" ", ""),
            }
        )
    return records


def _orders(
    rng: random.Random, customer_ids: list[str], count: int, first: datetime, now: datetime
) -> list[dict[str, Any]]:
    span = int((now - first).total_seconds())
    orders = []
    # Some customers buy often: weight by a heavy-tailed affinity so RFM quintiles are meaningful.
    weights = [rng.paretovariate(1.6) for _ in customer_ids]
    favourites = {c: rng.choice(_CATALOGUE) for c in customer_ids}
    for i in range(1, count + 1):
        customer = rng.choices(customer_ids, weights=weights)[0]
        # Business grows: later months have more orders.
        placed = first + timedelta(seconds=int(span * rng.random() ** 0.8))
        lines: list[dict[str, Any]] = []
        total = Decimal(0)
        for _ in range(rng.choice([1, 1, 1, 2, 2, 3])):
            category, products = favourites[customer] if rng.random() < 0.6 else rng.choice(_CATALOGUE)
            product, price = rng.choice(products)
            quantity = rng.choice([1, 1, 1, 2, 3])
            total += Decimal(price) * quantity
            lines.append(
                {
                    "sku": product.upper().replace(" ", "-")[:20],
                    "product": product,
                    "category": category,
                    "quantity": quantity,
                    "unit_price": price,
                }
            )
        status = _weighted(
            rng,
            [("fulfilled", 80), ("paid", 8), ("refunded", 3), ("partially_refunded", 4), ("cancelled", 5)],
        )
        refunded = (
            total
            if status == "refunded"
            else (total / 3).quantize(Decimal("0.01"))
            if status == "partially_refunded"
            else Decimal(0)
        )
        orders.append(
            {
                "external_id": f"HK{i:06d}",
                "customer_id": customer,
                "channel": _weighted(rng, _CHANNELS),
                "status": status,
                "placed_at": placed.astimezone(UTC).isoformat(),
                "total": str(total + (Decimal(30) if total < 300 else 0)),  # delivery fee under HK$300
                "refunded_amount": str(refunded),
                "lines": lines,
            }
        )
    return orders


def _events(rng: random.Random, customer_ids: list[str], count: int, now: datetime) -> list[dict[str, Any]]:
    events = []
    for i in range(1, count + 1):
        kind = _weighted(rng, [("view", 70), ("cart", 20), ("search", 10)])
        category, products = rng.choice(_CATALOGUE)
        product = rng.choice(products)[0]
        events.append(
            {
                "external_id": f"EV{i:06d}",
                "customer_id": rng.choice(customer_ids),
                "kind": kind,
                "occurred_at": (now - timedelta(minutes=rng.randint(10, 60 * 24 * 60))).isoformat(),
                "channel": _weighted(rng, [("web", 55), ("app", 45)]),
                "sku": "" if kind == "search" else product.upper().replace(" ", "-")[:20],
                "category": "" if kind == "search" else category,
                "query": rng.choice(_SEARCHES) if kind == "search" else "",
            }
        )
    return events


DEMO_SEGMENTS: list[tuple[str, str, dict[str, Any]]] = [
    ("Champions", "Bought recently, often and a lot: early access to launches.", {"segment": "champions"}),
    (
        "At risk: good customers gone quiet",
        "Frequent buyers whose last order was long ago.",
        {"segment": "at_risk"},
    ),
    ("Skincare lovers", "Beauty & Skincare is their top category.", {"category": "Beauty & Skincare"}),
    ("App-first shoppers", "Prefer the mobile app.", {"channel": "app", "f_min": 3}),
    ("VIP in Kowloon City", "VIP tier living in Kowloon City.", {"tier": "vip", "district": "Kowloon City"}),
]


def seed_customers(customers: int = 800, orders: int = 5000, events: int = 1500) -> None:
    """~800 Hong Kong customers (a few with invalid e-mails or phones, a few near-duplicates),
    ~5,000 orders over 18 months, some behavioural events, loaded through the import service as
    CRM staff would; then metrics, rollups and a few named segments."""
    from customers import services
    from customers.models import Customer, Segment

    if Customer.objects.filter(source=DEMO_SOURCE).exists():
        return
    rng = random.Random(852)  # noqa: S311 (demo data, not security)
    now = timezone.now().replace(microsecond=0)
    first = now - timedelta(days=548)
    loader = (
        User.objects.filter(username="crm.staff").first() or User.objects.filter(is_superuser=True).first()
    )
    marketing = User.objects.filter(username="marketing").first() or loader
    people = _customers(rng, customers, first)
    ids = [p["external_id"] for p in people]
    services.sales_records_load(actor=loader, kind="customers", records=people, source=DEMO_SOURCE)
    all_orders = _orders(rng, ids, orders, first, now)
    month_ago = (now - timedelta(days=30)).astimezone(UTC).isoformat()
    # Two loads with a rebuild between them, as the nightly job would see them: last month's
    # orders move some customers between RFM segments (the report's "segment movements").
    earlier = [o for o in all_orders if o["placed_at"] < month_ago]
    recent = [o for o in all_orders if o["placed_at"] >= month_ago]
    services.sales_records_load(actor=loader, kind="orders", records=earlier, source=DEMO_SOURCE)
    services.customer_metrics_rebuild(actor=loader)
    services.sales_records_load(actor=loader, kind="orders", records=recent, source=DEMO_SOURCE)
    services.sales_records_load(
        actor=loader, kind="events", records=_events(rng, ids, events, now), source=DEMO_SOURCE
    )
    services.customer_metrics_rebuild(actor=loader)
    for name, description, filters in DEMO_SEGMENTS:
        if not Segment.objects.filter(name=name).exists():
            services.segment_create(actor=marketing, name=name, description=description, filters=filters)
