"""Seeded synthetic data for benchmarks (and demo-scale experiments).

Deterministic: the same seed and stream name give the same values on every run and every
machine (streams are derived with SHA-256, never Python's randomised ``hash``). Each
consumer takes its own stream (``Synth(seed, "vendors")`` or ``synth.fork("contracts")``),
so adding a consumer never shifts the values another one gets.

Hong Kong flavoured, because Steward's users are: Cantonese romanised and Chinese names,
the 18 districts, +852 numbers (8 digits; mobiles start 5, 6, 7 or 9, fixed lines 2 or 3),
and the romanisation variants that make duplicate customers hard to spot (Chan/Chen).

Feature issues extend this module: add helpers to :class:`Synth` and register datasets
with :func:`dataset`, which return unsaved model instances ready for ``bulk_create``.
"""

from __future__ import annotations

import hashlib
import random
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from typing import Any, NamedTuple, TypeVar

T = TypeVar("T")

DEFAULT_SEED = 852

# --- Reference data -------------------------------------------------------------------------

# (romanised, Chinese, relative frequency) — the commonest Hong Kong surnames.
SURNAMES: tuple[tuple[str, str, int], ...] = (
    ("Chan", "陳", 90),
    ("Wong", "黃", 80),
    ("Lee", "李", 70),
    ("Cheung", "張", 55),
    ("Lau", "劉", 45),
    ("Ng", "吳", 35),
    ("Leung", "梁", 35),
    ("Lam", "林", 35),
    ("Ho", "何", 30),
    ("Tang", "鄧", 25),
    ("Chow", "周", 25),
    ("Tsang", "曾", 20),
    ("Yeung", "楊", 20),
    ("Kwok", "郭", 15),
    ("Mak", "麥", 15),
    ("Cheng", "鄭", 15),
    ("Fung", "馮", 12),
    ("Lai", "黎", 12),
    ("Tam", "譚", 12),
    ("Choi", "蔡", 10),
    ("Yip", "葉", 10),
    ("Lo", "羅", 10),
    ("Siu", "蕭", 8),
    ("Ma", "馬", 8),
    ("Chu", "朱", 8),
    ("Kwan", "關", 6),
    ("So", "蘇", 6),
    ("Poon", "潘", 6),
    ("Au", "區", 5),
    ("Yuen", "袁", 5),
)

# Mandarin pinyin (and other) spellings of the same surnames: the duplicates Splink-style
# matching must find (PRODUCT.md §5).
ROMANISATION_VARIANTS: dict[str, tuple[str, ...]] = {
    "Chan": ("Chen", "Chun"),
    "Wong": ("Huang", "Wang", "Vong"),
    "Lee": ("Li", "Lei"),
    "Cheung": ("Zhang", "Chang"),
    "Lau": ("Liu", "Lao"),
    "Ng": ("Wu", "Eng"),
    "Leung": ("Liang",),
    "Lam": ("Lin", "Lum"),
    "Ho": ("He", "Hou"),
    "Tang": ("Deng", "Teng"),
    "Chow": ("Zhou", "Chau", "Chau"),
    "Tsang": ("Zeng", "Tseng"),
    "Yeung": ("Yang", "Young"),
    "Kwok": ("Guo", "Kuo"),
    "Mak": ("Mai", "Mac"),
    "Cheng": ("Zheng",),
    "Fung": ("Feng",),
    "Lai": ("Li", "Lye"),
    "Tam": ("Tan", "Tan"),
    "Choi": ("Cai", "Tsoi"),
    "Yip": ("Ye", "Ip"),
    "Lo": ("Luo", "Law"),
    "Siu": ("Xiao",),
    "Ma": ("Mah",),
    "Chu": ("Zhu", "Chiu"),
    "Kwan": ("Guan",),
    "So": ("Su",),
    "Poon": ("Pan", "Pun"),
    "Au": ("Ou", "Ow"),
    "Yuen": ("Yuan",),
}

# Syllables of Cantonese given names: (romanised, Chinese).
GIVEN_SYLLABLES: tuple[tuple[str, str], ...] = (
    ("Ka", "嘉"),
    ("Wai", "偉"),
    ("Man", "文"),
    ("Chi", "志"),
    ("Yan", "欣"),
    ("Kin", "健"),
    ("Ming", "明"),
    ("Mei", "美"),
    ("Siu", "小"),
    ("Hoi", "凱"),
    ("Ho", "浩"),
    ("Wing", "詠"),
    ("Sze", "詩"),
    ("Kwan", "君"),
    ("Yee", "儀"),
    ("Lok", "樂"),
    ("Tsz", "子"),
    ("Hei", "希"),
    ("Chun", "俊"),
    ("Fai", "輝"),
    ("Ling", "玲"),
    ("Keung", "強"),
    ("Hung", "雄"),
    ("Ching", "晴"),
    ("Yu", "宇"),
    ("On", "安"),
)

ENGLISH_NAMES: tuple[str, ...] = (
    "Priscilla", "Kelvin", "Winnie", "Eddie", "Karen", "Alan", "Cindy", "Derek", "Fiona", "Gary",
    "Heidi", "Ivan", "Jacky", "Kitty", "Leo", "Mandy", "Nelson", "Olivia", "Peter", "Queenie",
    "Raymond", "Sandy", "Terence", "Vivian", "Wilson", "Yvonne", "Ada", "Ben", "Carmen", "Dicky",
    "Elaine", "Franky", "Gigi", "Henry", "Irene", "Joey", "Ken", "Lily", "Marco", "Natalie",
)  # fmt: skip


@dataclass(frozen=True)
class District:
    name: str
    chinese: str
    region: str


DISTRICTS: tuple[District, ...] = (
    District("Central and Western", "中西區", "Hong Kong Island"),
    District("Wan Chai", "灣仔區", "Hong Kong Island"),
    District("Eastern", "東區", "Hong Kong Island"),
    District("Southern", "南區", "Hong Kong Island"),
    District("Yau Tsim Mong", "油尖旺區", "Kowloon"),
    District("Sham Shui Po", "深水埗區", "Kowloon"),
    District("Kowloon City", "九龍城區", "Kowloon"),
    District("Wong Tai Sin", "黃大仙區", "Kowloon"),
    District("Kwun Tong", "觀塘區", "Kowloon"),
    District("Kwai Tsing", "葵青區", "New Territories"),
    District("Tsuen Wan", "荃灣區", "New Territories"),
    District("Tuen Mun", "屯門區", "New Territories"),
    District("Yuen Long", "元朗區", "New Territories"),
    District("North", "北區", "New Territories"),
    District("Tai Po", "大埔區", "New Territories"),
    District("Sha Tin", "沙田區", "New Territories"),
    District("Sai Kung", "西貢區", "New Territories"),
    District("Islands", "離島區", "New Territories"),
)

# Rough population weights (hundred-thousands), so that Sha Tin outnumbers Islands.
_DISTRICT_WEIGHTS = (2, 2, 5, 3, 3, 4, 4, 4, 7, 5, 3, 5, 7, 3, 3, 7, 5, 2)

STREETS: tuple[str, ...] = (
    "Nathan Road", "Queen's Road Central", "Hennessy Road", "King's Road", "Des Voeux Road",
    "Castle Peak Road", "Tai Po Road", "Canton Road", "Shanghai Street", "Kwun Tong Road",
    "Sha Tin Centre Street", "Tuen Mun Heung Sze Wui Road", "Yuen Long On Ning Road",
    "Electric Road", "Lockhart Road", "Prince Edward Road West", "Cheung Sha Wan Road",
)  # fmt: skip

BUILDING_WORDS: tuple[str, ...] = (
    "Fortune", "Harbour", "Golden", "Prosperity", "Lucky", "Jade", "Peace", "Orient", "Wing On",
    "Tak Fung", "Kam Fai", "Hing Wah", "Man Yee", "Sun Hing", "Kowloon", "Pacific", "Silver",
)  # fmt: skip

BUILDING_KINDS = ("Building", "Mansion", "Court", "Centre", "Tower", "Plaza", "House", "Garden")

INDUSTRY_WORDS: dict[str, tuple[str, ...]] = {
    "customer_service": ("Call Centre", "Contact Solutions", "Customer Care", "Service Hub"),
    "it": ("Systems", "Technology", "Digital Solutions", "Data Services", "Cloud"),
    "marketing": ("Marketing", "Creative", "Media", "Digital Agency", "Communications"),
    "logistics": ("Logistics", "Express", "Warehousing", "Freight", "Supply Chain"),
}
COMPANY_SUFFIXES = ("Limited", "Ltd", "Company Limited", "(Hong Kong) Limited", "(HK) Ltd")

EMAIL_DOMAINS = ("example.com", "example.net", "example.org")  # RFC 2606: never a real inbox

HK_TZ_OFFSET = timedelta(hours=8)


# --- The generator --------------------------------------------------------------------------


def _derive(seed: int, stream: str) -> int:
    digest = hashlib.sha256(f"{seed}:{stream}".encode()).digest()
    return int.from_bytes(digest[:8], "big")


@dataclass(frozen=True)
class Person:
    english_name: str
    surname: str
    given_name: str  # romanised Cantonese, two syllables: "Ka Yan"
    chinese_name: str

    @property
    def full_name(self) -> str:
        """As Hong Kong writes it: "Priscilla Chan Ka Yan"."""
        return f"{self.english_name} {self.surname} {self.given_name}"

    @property
    def formal_name(self) -> str:
        """As an ID card writes it: "CHAN, Ka Yan"."""
        return f"{self.surname.upper()}, {self.given_name}"


class Synth:
    """A deterministic source of synthetic values: same seed and stream, same sequence."""

    def __init__(self, seed: int = DEFAULT_SEED, stream: str = "") -> None:
        self.seed = seed
        self.stream = stream
        self.random = random.Random(_derive(seed, stream))
        self._serials: dict[str, int] = {}

    def fork(self, stream: str) -> Synth:
        """An independent generator for a sub-stream (its values do not depend on this one's use)."""
        return Synth(self.seed, f"{self.stream}/{stream}" if self.stream else stream)

    # --- primitives ---

    def choice(self, options: Sequence[T]) -> T:
        return self.random.choice(options)

    def weighted(self, options: Mapping[T, float] | Sequence[tuple[T, float]]) -> T:
        """One of OPTIONS, each as likely as its weight."""
        pairs: list[tuple[T, float]] = (
            list(options.items()) if isinstance(options, Mapping) else list(options)
        )
        values = [value for value, _ in pairs]
        weights = [weight for _, weight in pairs]
        chosen: T = self.random.choices(values, weights=weights, k=1)[0]
        return chosen

    def sample(self, options: Sequence[T], k: int) -> list[T]:
        return self.random.sample(list(options), k)

    def chance(self, p: float) -> bool:
        """True with probability P."""
        return self.random.random() < p

    def integer(self, low: int, high: int) -> int:
        """An integer in [LOW, HIGH], both included."""
        return self.random.randint(low, high)

    def decimal(self, low: Decimal | int | str, high: Decimal | int | str, places: int = 2) -> Decimal:
        """A Decimal in [LOW, HIGH] with PLACES decimals (money is never a float)."""
        scale = Decimal(10) ** places
        lo, hi = int(Decimal(low) * scale), int(Decimal(high) * scale)
        return Decimal(self.random.randint(lo, hi)) / scale

    def money(self, low: Decimal | int | str = 0, high: Decimal | int | str = 10_000) -> Decimal:
        """An HKD amount with cents."""
        return self.decimal(low, high, 2)

    def serial(self, prefix: str, width: int = 6) -> str:
        """PREFIX-000001, PREFIX-000002…: unique within this generator."""
        n = self._serials.get(prefix, 0) + 1
        self._serials[prefix] = n
        return f"{prefix}-{n:0{width}d}"

    def datetime_between(self, start: datetime, end: datetime) -> datetime:
        """A timezone-aware instant in [START, END) (both must be aware)."""
        if start.tzinfo is None or end.tzinfo is None:
            raise ValueError("datetime_between needs timezone-aware bounds")
        span = (end - start).total_seconds()
        return start + timedelta(seconds=self.random.random() * span)

    def date_between(self, start: date, end: date) -> date:
        return start + timedelta(days=self.random.randint(0, (end - start).days))

    def business_hours_instant(self, day: date) -> datetime:
        """A moment between 09:00 and 18:00 Hong Kong time on DAY, in UTC."""
        minutes = self.random.randint(9 * 60, 18 * 60 - 1)
        local = datetime(day.year, day.month, day.day, tzinfo=UTC) + timedelta(minutes=minutes)
        return local - HK_TZ_OFFSET

    # --- Hong Kong flavoured ---

    def surname(self) -> str:
        return self.weighted([(s, w) for s, _, w in SURNAMES])

    def romanisation_variant(self, surname: str) -> str:
        """Another spelling of SURNAME (Chan → Chen), or SURNAME itself when none is known."""
        variants = ROMANISATION_VARIANTS.get(surname)
        return self.choice(variants) if variants else surname

    def person(self) -> Person:
        roman, chinese, _ = self.weighted([((s, c, w), w) for s, c, w in SURNAMES])
        first, second = self.sample(GIVEN_SYLLABLES, 2)
        # Usually "Ka Yan"; some people write "Ka-yan" (one more thing matching has to cope with).
        given = f"{first[0]}-{second[0].lower()}" if self.chance(0.15) else f"{first[0]} {second[0]}"
        return Person(
            english_name=self.choice(ENGLISH_NAMES),
            surname=roman,
            given_name=given,
            chinese_name=f"{chinese}{first[1]}{second[1]}",
        )

    def district(self) -> District:
        return self.weighted(list(zip(DISTRICTS, _DISTRICT_WEIGHTS, strict=True)))

    def mobile(self, *, formatted: bool = True) -> str:
        """A Hong Kong mobile number: +852 then 8 digits starting 5, 6, 7 or 9."""
        digits = f"{self.choice('5679')}{self.random.randint(0, 9_999_999):07d}"
        return f"+852 {digits[:4]} {digits[4:]}" if formatted else f"+852{digits}"

    def landline(self, *, formatted: bool = True) -> str:
        """A Hong Kong fixed line: +852 then 8 digits starting 2 or 3."""
        digits = f"{self.choice('23')}{self.random.randint(0, 9_999_999):07d}"
        return f"+852 {digits[:4]} {digits[4:]}" if formatted else f"+852{digits}"

    def phone(self, mobile_share: float = 0.8) -> str:
        return self.mobile() if self.chance(mobile_share) else self.landline()

    def address(self, district: District | None = None) -> str:
        """Flat, floor, building, street number and street, district."""
        where = district or self.district()
        building = f"{self.choice(BUILDING_WORDS)} {self.choice(BUILDING_KINDS)}"
        flat = f"Flat {self.integer(1, 30)}{self.choice('ABCDEFGH')}"
        street = f"{self.integer(1, 300)} {self.choice(STREETS)}"
        return f"{flat}, {self.integer(1, 40)}/F, {building}, {street}, {where.name}"

    def company_name(self, industry: str | None = None) -> str:
        """A plausible Hong Kong company: "Golden Harbour Call Centre Limited"."""
        kind = industry or self.choice(sorted(INDUSTRY_WORDS))
        first, second = self.sample(BUILDING_WORDS, 2)
        return f"{first} {second} {self.choice(INDUSTRY_WORDS[kind])} {self.choice(COMPANY_SUFFIXES)}"

    def email(self, person: Person | None = None) -> str:
        who = person or self.person()
        local = f"{who.english_name}.{who.surname}{self.integer(1, 999)}".lower()
        return f"{local}@{self.choice(EMAIL_DOMAINS)}"


# --- Datasets ---------------------------------------------------------------------------------

DATASETS: dict[str, Callable[[Synth, int], list[Any]]] = {}


def dataset(name: str) -> Callable[[Callable[[Synth, int], list[Any]]], Callable[[Synth, int], list[Any]]]:
    """Register a builder ``(synth, n) -> list of unsaved instances`` under NAME."""

    def register(builder: Callable[[Synth, int], list[Any]]) -> Callable[[Synth, int], list[Any]]:
        if name in DATASETS:
            raise ValueError(f"dataset {name!r} is registered twice")
        DATASETS[name] = builder
        return builder

    return register


def build(name: str, n: int, *, seed: int = DEFAULT_SEED) -> list[Any]:
    """N items of dataset NAME, the same ones for the same seed."""
    return DATASETS[name](Synth(seed, f"dataset:{name}"), n)


@dataset("vendors")
def _vendors(synth: Synth, n: int) -> list[Any]:
    from vendors.models import Vendor  # Django must be set up; generators import without it

    statuses = {
        Vendor.Status.ACTIVE: 70,
        Vendor.Status.ONBOARDING: 8,
        Vendor.Status.UNDER_REVIEW: 7,
        Vendor.Status.PROSPECT: 8,
        Vendor.Status.EXITING: 3,
        Vendor.Status.ENDED: 4,
    }
    return [
        Vendor(code=f"v{i:07d}", name=synth.company_name()[:200], status=synth.weighted(statuses))
        for i in range(1, n + 1)
    ]


# --- service tickets (issue 4: ingest) ---------------------------------------------------------

# The flat row of docs/service.md, in service.importing.FIELDS order (kept here as text so that
# generators import without Django; bench_service_ingest checks the two agree).
TICKET_ROW_FIELDS = (
    "source", "ticket_id", "event_id", "kind", "occurred_at", "event_agent", "status", "subject",
    "channel", "priority", "customer_tier", "team", "agent", "agent_name",
    "customer_source", "customer_id", "customer_email",
)  # fmt: skip
TICKET_SUBJECTS = (
    "Where is my order?", "Parcel arrived damaged", "Refund not received", "Change delivery address",
    "Octopus payment failed", "Promo code not working", "Return a wrong size", "Missing item in parcel",
)  # fmt: skip
TICKET_CHANNELS = ("email", "chat", "phone", "whatsapp", "social", "web")
TICKET_PRIORITIES = ("low", "normal", "normal", "normal", "high", "urgent")
TICKET_TIERS = ("", "", "gold", "vip")
TICKET_MIDDLE = ("customer_message", "internal_note", "bot_reply", "customer_message")


@dataclass(frozen=True)
class ServiceWorld:
    """Teams (code, name, vendor index or None), agents (id, name, team code), vendors (code, name)."""

    vendors: tuple[tuple[str, str], ...]
    teams: tuple[tuple[str, str, int | None], ...]
    agents: tuple[tuple[str, str, str], ...]


def service_world(synth: Synth, *, teams: int = 10, agents: int = 200, vendors: int = 3) -> ServiceWorld:
    """Customer-service staff: the first VENDORS teams are outsourced (one per vendor), the rest in-house."""
    vendor_rows = tuple(
        (f"cs-vendor-{i + 1}", synth.company_name("customer_service")[:200]) for i in range(vendors)
    )
    team_rows = tuple(
        (f"team-{i + 1:02d}", f"Team {i + 1}", i if i < vendors else None) for i in range(teams)
    )
    agent_rows = tuple(
        (f"ag-{i + 1:04d}", synth.person().full_name[:120], team_rows[i % teams][0]) for i in range(agents)
    )
    return ServiceWorld(vendor_rows, team_rows, agent_rows)


def service_event_rows(
    synth: Synth, world: ServiceWorld, tickets: int, *, start: datetime, days: int = 730
) -> Iterator[tuple[str, ...]]:
    """Four events per ticket (created, something in between, a public reply, resolved) over DAYS
    from START, as flat rows of text in TICKET_ROW_FIELDS order: what a helpdesk export holds."""
    rnd = synth.random
    span = days * 86400
    base = start.timestamp()
    agents = world.agents
    for n in range(1, tickets + 1):
        ticket_id = f"T{n:08d}"
        agent_id, agent_name, team = agents[rnd.randrange(len(agents))]
        opened = base + rnd.random() * span
        reply = opened + 60 + rnd.random() * 14400
        middle = opened + 30 + rnd.random() * (reply - opened - 30)
        resolved = reply + 60 + rnd.random() * 86400
        common = (
            TICKET_SUBJECTS[n % len(TICKET_SUBJECTS)],
            TICKET_CHANNELS[rnd.randrange(6)],
            TICKET_PRIORITIES[rnd.randrange(6)],
            TICKET_TIERS[n % 4],
            team,
            agent_id,
            agent_name,
            "",  # no customer reference: the rows every export has, as before the customer columns
            "",
            "",
        )
        kind = TICKET_MIDDLE[n % 4]
        for number, (event_kind, moment, by) in enumerate(
            (
                ("created", opened, ""),
                (kind, middle, agent_id if kind == "internal_note" else ""),
                ("agent_reply", reply, agent_id),
                ("resolved", resolved, agent_id),
            ),
            start=1,
        ):
            when = datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")
            yield ("bench", ticket_id, f"{ticket_id}-{number}", event_kind, when, by, "", *common)


# --- c1: customers' sales activity (issue 7) ---------------------------------------------------

# (category, [(product, HK$ price)]): what a Hong Kong online shop sells.
SALES_CATALOGUE: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = (
    ("Beauty & Skincare", (("Hydrating Serum 30ml", "389.00"), ("Sunscreen SPF50", "168.00"))),
    ("Food & Beverage", (("Oolong Tea Gift Tin", "300.00"), ("Egg Rolls Gift Box", "238.00"))),
    ("Health Supplements", (("Vitamin C 1000mg", "158.00"), ("Lingzhi Capsules", "580.00"))),
    ("Electronics", (("Wireless Earbuds", "688.00"), ("Power Bank 20000mAh", "299.00"))),
    ("Household", (("Dehumidifier 12L", "1280.00"), ("Rice Cooker", "899.00"))),
    ("Baby & Kids", (("Formula Milk 900g", "328.00"), ("Diapers L x52", "189.00"))),
    ("Fashion", (("Cotton Tee", "159.00"), ("Rain Jacket", "459.00"))),
)
SALES_CHANNELS = ("web", "web", "web", "app", "app", "marketplace", "social", "store")
SALES_STATUSES = ("fulfilled",) * 16 + ("paid", "refunded", "partially_refunded", "cancelled")
SALES_START = datetime(2024, 11, 1, tzinfo=UTC)
SALES_END = datetime(2026, 11, 1, tzinfo=UTC)  # two years of orders


def sales_customer_records(synth: Synth, n: int) -> Iterator[dict[str, Any]]:
    """N customer records in the shape the import API takes (ids C0000001…), Hong Kong names,
    districts and +852 mobiles; about 1% with an invalid e-mail (kept and flagged, never refused)."""
    rng = synth.random
    surnames = [(s, c) for s, c, _ in SURNAMES]
    for i in range(1, n + 1):
        surname, chinese = rng.choice(surnames)
        first, second = rng.sample(GIVEN_SYLLABLES, 2)
        given = f"{first[0]} {second[0]}"
        email = f"{first[0].lower()}{second[0].lower()}.{surname.lower()}{i}@example.hk"
        yield {
            "external_id": f"C{i:07d}",
            "given_name": given,
            "family_name": surname,
            "chinese_name": chinese + first[1] + second[1],
            "email": email if i % 100 else email.replace("@", " at "),
            "phone": f"+852 {rng.choice('5679')}{rng.randint(0, 999):03d} {rng.randint(0, 9999):04d}",
            "district": DISTRICTS[i % len(DISTRICTS)].name,
        }


class SalesOrder(NamedTuple):
    """One generated order, typed: number i (external id O{i:08d}), customer number (0: none),
    placed_at (UTC), money as Decimal, lines as (sku, product, category, quantity, unit price)."""

    number: int
    customer: int
    channel: str
    status: str
    placed_at: datetime
    total: Decimal
    refunded: Decimal
    lines: list[tuple[str, str, str, int, Decimal]]


def sales_orders(
    synth: Synth,
    n: int,
    customers: int,
    start: datetime = SALES_START,
    end: datetime = SALES_END,
    *,
    first: int = 1,
) -> Iterator[SalesOrder]:
    """N orders numbered FIRST… (1–3 lines each, HKD) over START..END for customers 1..CUSTOMERS
    (skewed: a few customers order often), streamed so that 10,000,000 need no more memory than one.
    A stream continued with FIRST = k + 1 and the same Synth gives the same orders as one call."""
    rng = synth.random
    span = (end - start).total_seconds()
    prices = {price: Decimal(price) for _, products in SALES_CATALOGUE for _, price in products}
    skus = {product: product[:12].upper() for _, products in SALES_CATALOGUE for product, _ in products}
    half = Decimal(2)
    for i in range(first, first + n):
        placed = start + timedelta(seconds=rng.random() * span)
        lines = []
        total = Decimal(0)
        for _ in range(1 + (rng.random() < 0.5) + (rng.random() < 0.2)):
            category, products = rng.choice(SALES_CATALOGUE)
            product, price = rng.choice(products)
            quantity = 1 + (rng.random() < 0.3)
            total += prices[price] * quantity
            lines.append((skus[product], product, category, quantity, prices[price]))
        status = rng.choice(SALES_STATUSES)
        refunded = (
            total
            if status == "refunded"
            else (total / half if status == "partially_refunded" else Decimal(0))
        )
        customer = 1 + int(customers * rng.random() ** 1.5) if customers else 0
        yield SalesOrder(i, customer, rng.choice(SALES_CHANNELS), status, placed, total, refunded, lines)


def sales_order_records(
    synth: Synth, n: int, customers: int, start: datetime = SALES_START, end: datetime = SALES_END
) -> Iterator[dict[str, Any]]:
    """N order records (1–3 lines each, HKD) over START..END for customers C0000001..CUSTOMERS, in
    the shape the import API takes (timestamps as ISO text with +08:00, amounts as text)."""
    hk = timezone(HK_TZ_OFFSET)
    for order in sales_orders(synth, n, customers, start, end):
        yield {
            "external_id": f"O{order.number:08d}",
            "customer_id": f"C{order.customer:07d}" if order.customer else "",
            "channel": order.channel,
            "status": order.status,
            "placed_at": order.placed_at.astimezone(hk).isoformat(),
            "total": f"{order.total:.2f}",
            "refunded_amount": f"{order.refunded:.2f}",
            "lines": [
                {
                    "sku": sku,
                    "product": product,
                    "category": category,
                    "quantity": quantity,
                    "unit_price": f"{price}",
                }
                for sku, product, category, quantity, price in order.lines
            ],
        }


@dataclass
class SalesColumns:
    """Orders and their lines as numpy columns (see ``sales_order_columns``). Money in cents;
    refunds in tenths of a cent (half of an odd-cent total, as the Decimal generator gives)."""

    number: Any  # int64, the order number i (external id O{i:08d}); orders are numbered from FIRST
    customer: Any  # int64, 1..customers (0: none)
    channel: Any  # int64 index into SALES_CHANNEL_NAMES
    status: Any  # int64 index into SALES_STATUS_NAMES
    placed_us: Any  # int64 microseconds since 1970-01-01 UTC
    total_cents: Any
    refunded_mills: Any
    line_order: Any  # int64 order number of each line, in order
    line_number: Any  # 1..3 within its order
    line_product: Any  # index into SALES_PRODUCTS
    line_quantity: Any


# (category, product, sku, price in cents) of every catalogue product, in catalogue order.
SALES_PRODUCTS = [
    (category, product, product[:12].upper(), int(Decimal(price) * 100))
    for category, products in SALES_CATALOGUE
    for product, price in products
]
SALES_CHANNEL_NAMES = sorted(set(SALES_CHANNELS))
SALES_STATUS_NAMES = sorted(set(SALES_STATUSES))


def sales_order_columns(
    synth: Synth,
    n: int,
    customers: int,
    *,
    first: int = 1,
    start: datetime = SALES_START,
    end: datetime = SALES_END,
) -> SalesColumns:
    """N orders numbered FIRST… drawn like ``sales_orders`` (same distributions: uniform time over
    START..END, 1 line + 50% + 20%, uniform category then product, quantity 2 with 30%, status and
    channel uniform over SALES_STATUSES and SALES_CHANNELS, customer 1 + ⌊customers × u^1.5⌋),
    but with numpy, a chunk at a time: fast enough to load 10,000,000 orders (issue 7's size).
    Deterministic: the numpy generator is seeded from SYNTH's seed, stream and FIRST, so a chunk
    is the same whatever came before it."""
    import numpy as np

    rng = np.random.default_rng([_derive(synth.seed, synth.stream), first])
    span_us = int((end - start).total_seconds() * 1_000_000)
    start_us = int(start.timestamp()) * 1_000_000
    number = np.arange(first, first + n, dtype=np.int64)
    placed = start_us + (rng.random(n) * span_us).astype(np.int64)
    count = 1 + (rng.random(n) < 0.5) + (rng.random(n) < 0.2)
    line_order = np.repeat(number, count)
    lines = len(line_order)
    starts = np.cumsum(count) - count
    line_number = np.arange(lines, dtype=np.int64) - np.repeat(starts, count) + 1
    per_category = [len(products) for _, products in SALES_CATALOGUE]
    offsets = np.cumsum([0, *per_category[:-1]])
    category = rng.integers(0, len(SALES_CATALOGUE), lines)
    product = offsets[category] + (rng.random(lines) * np.asarray(per_category)[category]).astype(np.int64)
    quantity = 1 + (rng.random(lines) < 0.3)
    prices = np.asarray([price for *_, price in SALES_PRODUCTS], dtype=np.int64)
    total = np.bincount(np.repeat(np.arange(n), count), weights=prices[product] * quantity, minlength=n)
    total_cents = total.astype(np.int64)
    status_pick = np.asarray([SALES_STATUS_NAMES.index(s) for s in SALES_STATUSES])[
        rng.integers(0, len(SALES_STATUSES), n)
    ]
    refunded = np.where(
        status_pick == SALES_STATUS_NAMES.index("refunded"),
        total_cents * 10,
        np.where(status_pick == SALES_STATUS_NAMES.index("partially_refunded"), total_cents * 5, 0),
    )
    customer = (
        (1 + (customers * rng.random(n) ** 1.5).astype(np.int64)) if customers else np.zeros(n, np.int64)
    )
    channel = np.asarray([SALES_CHANNEL_NAMES.index(c) for c in SALES_CHANNELS])[
        rng.integers(0, len(SALES_CHANNELS), n)
    ]
    return SalesColumns(
        number=number,
        customer=customer,
        channel=channel,
        status=status_pick,
        placed_us=placed,
        total_cents=total_cents,
        refunded_mills=refunded,
        line_order=line_order,
        line_number=line_number,
        line_product=product,
        line_quantity=quantity.astype(np.int64),
    )
