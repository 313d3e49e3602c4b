"""Duplicate customers: detection with Hong Kong romanisations, and a reviewed merge that can be undone.

Detection (``duplicates_detect``):
1. Normalise each record once: e-mail lower-cased, phone reduced to its national digits (+852
   prefixes and formatting dropped), names split into tokens with Cantonese and Mandarin
   romanisations of one surname brought to one spelling (Chan/Chen/Chun, Wong/Huang/Wang…), the
   given name written as one token ("Siu-ming" = "Siu Ming" = "Siuming"), and the tokens sorted
   so that a record with given and family name swapped reads the same.
2. Blocking: each record goes into a few blocks (same e-mail, same phone, same normalised name
   in the same district, same normalised name with the same e-mail user name or phone tail);
   only pairs that share a block are compared, so the work grows with the number of records,
   not its square. Oversized blocks (a shared office phone) are skipped.
3. Scoring with RapidFuzz: name similarity with the swap handled, e-mail edit similarity,
   phone equality, address token similarity and district. A pair is a candidate when the name
   agrees and at least one contact detail or the address backs it up.

Candidates go to a review queue; nothing is merged without a person deciding. A merge keeps a
record of the survivor's fields before, which fields came from which record, and which orders
and events moved, so that it can be undone.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal
from itertools import combinations
from typing import Any, NamedTuple

from django.core.exceptions import PermissionDenied, ValidationError
from django.db import connection, transaction
from django.db.models import Q, QuerySet
from django.utils import timezone
from rapidfuzz import fuzz
from rapidfuzz.distance import Levenshtein

from core import audit
from core.models import AuditEvent
from customers.models import BehaviourEvent, Customer, Order
from customers.privacy_models import REVIEW_QUALITY, CustomerMerge, DuplicateCandidate
from service.models import Ticket

# Romanisations of the same Chinese surname (Cantonese as used in Hong Kong, Mandarin pinyin,
# Macau and older spellings). The first of each group is the spelling every variant becomes.
SURNAME_GROUPS: tuple[tuple[str, ...], ...] = (
    ("chan", "chen", "chun"),
    ("wong", "huang", "wang", "vong", "hwang"),
    ("lee", "li", "lei", "lie", "ly"),
    ("cheung", "zhang", "chang", "cheong"),
    ("ng", "wu", "eng", "ung", "woo"),
    ("ho", "he", "hoh", "hou"),
    ("lau", "liu", "lao"),
    ("tsang", "zeng", "tseng"),
    ("leung", "liang", "leong"),
    ("cheng", "zheng", "cheang"),
    ("lam", "lin", "lim", "lum"),
    ("chow", "zhou", "chau", "chou"),
    ("yeung", "yang", "ieong", "young"),
    ("tse", "xie"),
    ("kwok", "guo", "kuok", "kuo"),
    ("tang", "deng", "teng"),
    ("fung", "feng"),
    ("chu", "zhu", "chue"),
    ("mak", "mai", "mac"),
    ("yip", "ye", "ip"),
    ("so", "su"),
    ("law", "luo", "lo"),
    ("kwan", "guan"),
    ("poon", "pan", "pun"),
    ("hui", "xu"),
    ("choi", "cai", "tsoi", "choy"),
    ("siu", "xiao"),
    ("chung", "zhong"),
    ("chiu", "zhao", "chio"),
    ("au", "ou", "ow"),
    ("tam", "tan"),
    ("kong", "jiang"),
    ("mok", "mo"),
    ("ma", "mah"),
    ("lai", "lye"),
    ("fong", "fang"),
    ("yuen", "yuan"),
    ("tsui", "cui", "chui"),
)
SURNAME_CANON: dict[str, str] = {variant: group[0] for group in SURNAME_GROUPS for variant in group}
MAX_BLOCK = 60
_SPLIT = re.compile(r"[\s\-'.,]+")
_NON_DIGIT = re.compile(r"\D")
_ADDRESS_WORDS = {
    "rd": "road",
    "st": "street",
    "ave": "avenue",
    "bldg": "building",
    "blk": "block",
    "ct": "court",
    "hse": "house",
    "fl": "floor",
    "f": "floor",
    "est": "estate",
}


def _canon_token(token: str) -> str:
    return SURNAME_CANON.get(token, token)


class Normalised(NamedTuple):
    """A customer as the matcher sees it (a tuple: a million of them are made per run)."""

    pk: int
    name: str  # the two name fields, each as one canonical token, sorted: "chan siuming"
    email: str
    email_user: str
    phone: str  # national digits
    address: str  # lower-cased; normalised only for the few pairs that get that far
    address_digits: str  # "12 8" for "Flat 12A, 8 Nathan Road": survives abbreviations
    district: str


# Separators inside a name field: "Siu-ming", "Siu Ming" and "Siuming" become one token.
_DROP = str.maketrans("", "", " -'.,\t")
_DIGITS = re.compile(r"\d+")


def normalise_phone(phone: str) -> str:
    digits = _NON_DIGIT.sub("", phone or "")
    if len(digits) == 11 and digits.startswith("852"):
        return digits[3:]
    if len(digits) > 8 and digits.startswith("00852"):
        return digits[5:]
    return digits


def normalise_address(address: str) -> str:
    words = [_ADDRESS_WORDS.get(w, w) for w in _SPLIT.split((address or "").lower()) if w]
    return " ".join(words)


def normalise(
    pk: int, given: str, family: str, email: str, phone: str, address: str, district: str
) -> Normalised:
    """Each name field becomes one canonical token and the two are sorted, so that romanisation
    variants and a record with given and family name swapped read the same."""
    fam = family.lower().translate(_DROP) if family else ""
    giv = given.lower().translate(_DROP) if given else ""
    fam = SURNAME_CANON.get(fam, fam)
    giv = SURNAME_CANON.get(giv, giv)
    name = (f"{fam} {giv}" if fam <= giv else f"{giv} {fam}").strip()
    email_norm = email.strip().lower() if email else ""
    address_lower = address.lower() if address else ""
    return Normalised(
        pk,
        name,
        email_norm,
        email_norm.split("@", 1)[0],
        normalise_phone(phone) if phone else "",
        address_lower,
        " ".join(_DIGITS.findall(address_lower)),
        district.strip().lower() if district else "",
    )


def block_keys(r: Normalised) -> Iterator[str]:
    """The blocks a record joins: same e-mail; same phone; same name at the same address numbers
    in the same district; same name with the same e-mail user name start (a typo in the rest)."""
    if r.email:
        yield "e" + r.email
    if len(r.phone) >= 8:
        yield "p" + r.phone
    if r.name:
        if r.address_digits and r.district:
            yield "na" + r.name + "|" + r.district + "|" + r.address_digits
        if r.email_user:
            yield "nu" + r.name + "|" + r.email_user[:4]


@dataclass(frozen=True, slots=True)
class Pair:
    left: int
    right: int
    score: float
    reasons: tuple[str, ...]


def _email_typo(a: str, b: str) -> bool:
    """A typo, not another person's numbered address ("mary.chan12" and "mary.chan21" are two people)."""
    return Levenshtein.distance(a, b, score_cutoff=2) <= 2 and _NON_DIGIT.sub("", a) == _NON_DIGIT.sub("", b)


def score_pair(a: Normalised, b: Normalised) -> Pair | None:
    """The pair's score (0–1) and reasons, or None when it is not a plausible duplicate.

    A duplicate needs evidence besides the name: the same e-mail or phone, an e-mail one typo
    away, or the same address in the same district. The cheap checks come first."""
    email_same = bool(a.email) and a.email == b.email
    phone_same = len(a.phone) >= 8 and a.phone == b.phone
    email_close = bool(a.email and b.email) and not email_same and _email_typo(a.email, b.email)
    district_same = bool(a.district) and a.district == b.district
    address = 0.0
    if a.address and b.address and (district_same or not (email_same or phone_same or email_close)):
        if not district_same:
            return None
        address = fuzz.token_set_ratio(normalise_address(a.address), normalise_address(b.address)) / 100
    contact = email_same or phone_same or email_close
    place = address >= 0.85 and district_same
    if not (contact or place):
        return None
    name = fuzz.ratio(a.name, b.name) / 100 if a.name and b.name else 0.0
    if not ((name >= 0.85 and (contact or place)) or (name >= 0.70 and email_same and phone_same)):
        return None
    reasons = []
    if email_same:
        reasons.append("same e-mail")
    elif email_close:
        reasons.append("e-mail differs by a typo")
    if phone_same:
        reasons.append("same phone")
    reasons.append(f"name {round(name * 100)}%")
    if place:
        reasons.append("same address")
    score = (
        0.45 * name
        + (0.25 if email_same else 0.15 if email_close else 0.0)
        + (0.2 if phone_same else 0.0)
        + 0.07 * address
        + (0.03 if district_same else 0.0)
    )
    left, right = (a.pk, b.pk) if a.pk < b.pk else (b.pk, a.pk)
    return Pair(left, right, min(score, 1.0), tuple(reasons))


def find_pairs(records: Iterable[Normalised], max_block: int = MAX_BLOCK) -> list[Pair]:
    """Every scored pair among RECORDS that shares a block (each pair scored once)."""
    by_pk: dict[int, Normalised] = {}
    blocks: dict[str, list[int]] = defaultdict(list)
    for r in records:
        by_pk[r.pk] = r
        for key in block_keys(r):
            blocks[key].append(r.pk)
    seen: set[tuple[int, int]] = set()
    pairs = []
    for members in blocks.values():
        if len(members) < 2 or len(members) > max_block:
            continue
        for x, y in combinations(members, 2):
            pair_key = (x, y) if x < y else (y, x)
            if pair_key in seen:
                continue
            seen.add(pair_key)
            pair = score_pair(by_pk[x], by_pk[y])
            if pair is not None:
                pairs.append(pair)
    return pairs


def _require(actor: Any) -> None:
    if actor is not None and not actor.has_perm(REVIEW_QUALITY):
        raise PermissionDenied("Duplicates are reviewed by the data-protection officer.")


def _records(customers: QuerySet[Customer]) -> Iterator[Normalised]:
    """Every customer in CUSTOMERS, normalised. The rows are fetched with the queryset's own SQL on
    a plain cursor: at a million rows Django's per-row machinery would cost more than the matching."""
    fields = ("pk", "given_name", "family_name", "email", "phone", "address_line", "district")
    sql, params = customers.order_by().values_list(*fields).query.sql_with_params()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        while rows := cursor.fetchmany(20_000):
            for row in rows:
                yield normalise(*row)


@transaction.atomic
def duplicates_detect(*, actor: Any, customers: QuerySet[Customer] | None = None) -> int:
    """Find candidate pairs among live customers and queue the new ones for review; returns how many."""
    _require(actor)
    scope = (customers if customers is not None else Customer.objects.all()).filter(
        merged_into__isnull=True, anonymised_at__isnull=True
    )
    pairs = find_pairs(_records(scope))
    now = timezone.now()
    rows = [
        DuplicateCandidate(
            left_id=p.left,
            right_id=p.right,
            score=Decimal(str(round(p.score, 3))),
            reasons=list(p.reasons),
            found_at=now,
        )
        for p in pairs
    ]
    before = DuplicateCandidate.objects.count()
    DuplicateCandidate.objects.bulk_create(rows, batch_size=2000, ignore_conflicts=True)
    added = DuplicateCandidate.objects.count() - before
    audit.record_event(
        AuditEvent.Action.OTHER,
        object_type="customers.duplicatecandidate",
        detail={"pairs_found": len(pairs), "queued": added},
        actor=actor,
    )
    return added


# --- Merge and undo ---------------------------------------------------------------------------------

MERGE_FIELDS = (
    "given_name",
    "family_name",
    "chinese_name",
    "email",
    "phone",
    "address_line",
    "district",
    "country",
    "tier",
)


@transaction.atomic
def customer_merge(
    *,
    actor: Any,
    candidate: DuplicateCandidate,
    survivor: Customer,
    take_from_merged: Sequence[str] = (),
) -> CustomerMerge:
    """Merge the other record of CANDIDATE into SURVIVOR: the fields named in TAKE_FROM_MERGED are
    copied over, orders, events and service tickets move to the survivor, the merged record points
    at it. The moved rows' ids are kept so that an undo moves exactly those back."""
    _require(actor)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise ValidationError("This pair has already been decided.")
    if survivor.pk not in (candidate.left_id, candidate.right_id):
        raise ValidationError({"survivor": "The survivor must be one of the pair."})
    unknown = set(take_from_merged) - set(MERGE_FIELDS)
    if unknown:
        raise ValidationError({"take_from_merged": f"Unknown fields: {', '.join(sorted(unknown))}."})
    merged_id = candidate.right_id if survivor.pk == candidate.left_id else candidate.left_id
    pair = {c.pk: c for c in Customer.objects.select_for_update().filter(pk__in=[survivor.pk, merged_id])}
    survivor, merged = pair[survivor.pk], pair[merged_id]
    if survivor.merged_into_id or merged.merged_into_id:
        raise ValidationError("One of these records was already merged into another.")
    if survivor.anonymised_at or merged.anonymised_at:
        raise ValidationError("An anonymised record cannot be merged.")
    before = audit.snapshot(survivor)
    survivor_before = {f: getattr(survivor, f) for f in MERGE_FIELDS}
    sources = {f: ("merged" if f in take_from_merged else "survivor") for f in MERGE_FIELDS}
    for field in take_from_merged:
        setattr(survivor, field, getattr(merged, field))
    survivor.save()
    audit.record_change(
        AuditEvent.Action.UPDATE,
        survivor,
        before=before,
        actor=actor,
        purpose=f"merge of customer {merged.pk}",
    )
    moved_orders = list(Order.objects.filter(customer=merged).values_list("pk", flat=True))
    moved_events = list(BehaviourEvent.objects.filter(customer=merged).values_list("pk", flat=True))
    Order.objects.filter(pk__in=moved_orders).update(customer=survivor, updated_at=timezone.now())
    BehaviourEvent.objects.filter(pk__in=moved_events).update(customer=survivor, updated_at=timezone.now())
    # The customer's service history is part of the timeline (issue 7 §4): a merge must not leave
    # the tickets on a record nobody looks at any more.
    moved_tickets = list(Ticket.objects.filter(customer=merged).values_list("pk", flat=True))
    Ticket.objects.filter(pk__in=moved_tickets).update(customer=survivor, updated_at=timezone.now())
    merged_before = audit.snapshot(merged)
    merged.merged_into = survivor
    merged.save(update_fields=["merged_into", "updated_at"])
    audit.record_change(
        AuditEvent.Action.UPDATE,
        merged,
        before=merged_before,
        actor=actor,
        purpose=f"merged into {survivor.pk}",
    )
    now = timezone.now()
    candidate.status = DuplicateCandidate.Status.MERGED
    candidate.reviewed_by = actor
    candidate.reviewed_at = now
    candidate.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    merge = CustomerMerge.objects.create(
        candidate=candidate,
        survivor=survivor,
        merged=merged,
        survivor_before=survivor_before,
        field_sources=sources,
        moved_orders=moved_orders,
        moved_events=moved_events,
        moved_tickets=moved_tickets,
        merged_by=actor,
        merged_at=now,
    )
    audit.record_change(AuditEvent.Action.CREATE, merge, actor=actor)
    from customers.services import customers_changed_queue  # services builds on this module

    customers_changed_queue([survivor.pk, merged.pk])
    return merge


@transaction.atomic
def customer_merge_undo(*, actor: Any, merge: CustomerMerge) -> CustomerMerge:
    """Undo a merge: the survivor gets its own values back, the moved orders, events and tickets go back,
    the merged record lives again and the pair returns to the queue. Only the latest merge into a
    survivor can be undone (a later one built on it)."""
    _require(actor)
    merge = CustomerMerge.objects.select_for_update().get(pk=merge.pk)
    if merge.undone_at is not None:
        raise ValidationError("This merge has already been undone.")
    later = CustomerMerge.objects.filter(
        Q(survivor=merge.survivor) | Q(survivor=merge.merged),
        undone_at__isnull=True,
        merged_at__gt=merge.merged_at,
    )
    if later.exists():
        raise ValidationError("Undo the later merges into this customer first.")
    survivor = Customer.objects.select_for_update().get(pk=merge.survivor_id)
    merged = Customer.objects.select_for_update().get(pk=merge.merged_id)
    before = audit.snapshot(survivor)
    for field, source in merge.field_sources.items():
        if source == "merged":
            setattr(survivor, field, merge.survivor_before[field])
    survivor.save()
    audit.record_change(
        AuditEvent.Action.UPDATE, survivor, before=before, actor=actor, purpose=f"undo of merge {merge.pk}"
    )
    now = timezone.now()
    Order.objects.filter(pk__in=merge.moved_orders, customer=survivor).update(customer=merged, updated_at=now)
    BehaviourEvent.objects.filter(pk__in=merge.moved_events, customer=survivor).update(
        customer=merged, updated_at=now
    )
    Ticket.objects.filter(pk__in=merge.moved_tickets, customer=survivor).update(
        customer=merged, updated_at=now
    )
    merged_before = audit.snapshot(merged)
    merged.merged_into = None
    merged.save(update_fields=["merged_into", "updated_at"])
    audit.record_change(
        AuditEvent.Action.UPDATE,
        merged,
        before=merged_before,
        actor=actor,
        purpose=f"undo of merge {merge.pk}",
    )
    if merge.candidate_id:
        DuplicateCandidate.objects.filter(pk=merge.candidate_id).update(
            status=DuplicateCandidate.Status.OPEN, reviewed_by=None, reviewed_at=None, updated_at=now
        )
    before_merge = audit.snapshot(merge)
    merge.undone_at = now
    merge.undone_by = actor
    merge.save(update_fields=["undone_at", "undone_by", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, merge, before=before_merge, actor=actor)
    from customers.services import customers_changed_queue

    customers_changed_queue([survivor.pk, merged.pk])
    return merge


@transaction.atomic
def candidate_mark_distinct(*, actor: Any, candidate: DuplicateCandidate) -> DuplicateCandidate:
    """The reviewer says these are two people; the pair is not proposed again."""
    _require(actor)
    candidate = DuplicateCandidate.objects.select_for_update().get(pk=candidate.pk)
    if candidate.status != DuplicateCandidate.Status.OPEN:
        raise ValidationError("This pair has already been decided.")
    before = audit.snapshot(candidate)
    candidate.status = DuplicateCandidate.Status.DISTINCT
    candidate.reviewed_by = actor
    candidate.reviewed_at = timezone.now()
    candidate.save(update_fields=["status", "reviewed_by", "reviewed_at", "updated_at"])
    audit.record_change(AuditEvent.Action.UPDATE, candidate, before=before, actor=actor)
    return candidate


def candidate_queue(*, user: Any, status: str = "open") -> QuerySet[DuplicateCandidate]:
    rows = DuplicateCandidate.objects.restrict(user).select_related("left", "right")
    return rows.filter(status=status) if status else rows


def merges(*, user: Any) -> QuerySet[CustomerMerge]:
    return CustomerMerge.objects.restrict(user).select_related("merged_by", "undone_by")
