"""Customer privacy benchmarks: who may be marketed to, and the access log.

- *marketable()*: the consent check every marketing export and send goes through
  (``customers.consent.marketable``: latest ledger entry per customer as a correlated subquery,
  opt-outs as ``NOT EXISTS``, plus the s35D transitional clause) against one hand-written SQL
  query giving the same answer with a window function over the ledger. Target ≤ 2×: the
  ORM form, which every entry point shares, may cost at most twice the hand-tuned query.
- *flat per customer*: the same check over the full customer base against 1/10 of it, time per
  customer. Target ≤ 1.5×: the check must scale linearly, not per-row in Python.
- *marketing export*: ``marketing_export()`` end to end (consent check, export record, the audit
  rows naming every customer on the list, 1,000 to a row) plus writing the CSV, against the hand-written
  query plus the same CSV. Target ≤ 3×: recording who got which list is worth at most twice the
  work of producing it.
- *access-log indexing*: ``index_audit_trail()`` reading the audit trail and turning audited reads
  into per-customer access-log rows, against writing the very same rows, prepared beforehand, with
  the same multi-row INSERTs. Target ≤ 3×: finding and unpacking the reads may cost twice the writing.

Data: N customers with Hong Kong names; 65 % gave e-mail consent online, a tenth of those later
withdrew; 5 % opted out of e-mail and 2 % of everything.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from bench.harness import Context, Row, ratio_row
from core import audit
from core.models import AuditChainHead, AuditEvent
from customers import access_log, files, marketing
from customers.consent import marketable
from customers.models import (
    AccessLogCursor,
    ConsentEntry,
    Customer,
    CustomerAccess,
    MarketingPurpose,
    Suppression,
)
from customers.sqlbulk import insert_rows


def _people() -> Any:
    return User.objects.create(username="bench.marketing", is_superuser=True, is_staff=True)


def _customers(ctx: Context, n: int, prefix: str) -> list[int]:
    synth = ctx.synth(f"privacy-customers-{prefix}")
    rows = []
    for i in range(n):
        person = synth.person()
        rows.append(
            Customer(
                source="bench",
                external_id=f"{prefix}{i:08d}",
                given_name=person.given_name,
                family_name=person.surname,
                chinese_name=person.chinese_name,
                email=synth.email(person),
                phone=synth.mobile(formatted=False),
                district=synth.district().name,
            )
        )
    Customer.objects.bulk_create(rows, batch_size=2000)
    return list(Customer.objects.filter(external_id__startswith=prefix).values_list("pk", flat=True))


def _ledger(ctx: Context, ids: list[int], purpose: MarketingPurpose, prefix: str) -> None:
    synth = ctx.synth(f"privacy-ledger-{prefix}")
    start = timezone.now() - timedelta(days=400)
    entries: list[ConsentEntry] = []
    suppressions: list[Suppression] = []
    for customer_id in ids:
        if synth.chance(0.65):
            granted = start + timedelta(minutes=synth.integer(0, 200_000))
            entries.append(_entry(customer_id, purpose, "grant", "online_tick", granted))
            if synth.chance(0.10):
                entries.append(
                    _entry(customer_id, purpose, "withdraw", "opt_out", granted + timedelta(days=30))
                )
        roll = synth.integer(1, 100)
        if roll <= 7:
            suppressions.append(
                Suppression(
                    customer_id=customer_id,
                    channel="email" if roll <= 5 else "all",
                    occurred_at=start + timedelta(days=300),
                    source="bench",
                )
            )
    ConsentEntry.objects.bulk_create(entries, batch_size=2000)
    Suppression.objects.bulk_create(suppressions, batch_size=2000)


def _entry(customer_id: int, purpose: MarketingPurpose, action: str, method: str, when: Any) -> ConsentEntry:
    return ConsentEntry(
        customer_id=customer_id,
        purpose=purpose,
        data_kind="contact",
        channel="email",
        action=action,
        method=method,
        notice_text="Offers on our own products by e-mail." if action == "grant" else "",
        occurred_at=when,
        source="bench",
    )


_HAND_WRITTEN = """
SELECT c.id, c.external_id, c.given_name, c.family_name, c.chinese_name, c.email
FROM customers_customer c
JOIN (
    SELECT customer_id, action,
           ROW_NUMBER() OVER (PARTITION BY customer_id ORDER BY occurred_at DESC, id DESC) AS rn
    FROM customers_consententry
    WHERE purpose_id = %s AND channel = 'email' AND data_kind = 'contact' AND transferee_id IS NULL
) e ON e.customer_id = c.id AND e.rn = 1 AND e.action = 'grant'
WHERE c.merged_into_id IS NULL AND c.anonymised_at IS NULL AND c.email <> '' {extra}
  AND NOT EXISTS (
    SELECT 1 FROM customers_suppression s
    WHERE s.customer_id = c.id AND s.channel IN ('email', 'all') AND s.lifted_at IS NULL
  )
ORDER BY c.id
"""


def _hand_written(purpose: MarketingPurpose, prefix: str | None = None) -> list[tuple[Any, ...]]:
    extra = "AND c.external_id LIKE %s" if prefix else ""
    params: list[Any] = [purpose.pk] + ([f"{prefix}%"] if prefix else [])
    with connection.cursor() as cursor:
        cursor.execute(_HAND_WRITTEN.format(extra=extra), params)
        return list(cursor.fetchall())


def _subject(purpose: MarketingPurpose, prefix: str | None = None) -> list[int]:
    customers = Customer.objects.all()
    if prefix:
        customers = customers.filter(external_id__startswith=prefix)
    allowed = marketable(customers, channel="email", purpose=purpose)
    return list(allowed.order_by("pk").values_list("pk", flat=True))


def _reads(ctx: Context, ids: list[int], user: User, n: int) -> None:
    """N audited single-customer reads, written straight to the table (the chain is not the subject)."""
    synth = ctx.synth("privacy-reads")
    head = AuditChainHead.objects.get(id=1)
    now = timezone.now()
    rows = []
    prev = head.last_hash
    for seq in range(head.last_seq + 1, head.last_seq + n + 1):
        event = AuditEvent(
            seq=seq,
            occurred_at=now,
            actor_id=user.pk,
            actor_username=user.username,
            action="read",
            object_type="customers.customer",
            object_id=str(synth.choice(ids)),
            changes={"fields": ["email"]},
            purpose="routine view (contact details masked)",
            prev_hash=prev,
        )
        event.hash = audit._payload_hash(event)
        prev = event.hash
        rows.append(event)
    plain: models.QuerySet[AuditEvent] = models.QuerySet(AuditEvent)
    plain.bulk_create(rows, batch_size=1000)
    AuditChainHead.objects.filter(id=1).update(last_seq=rows[-1].seq, last_hash=prev)


def _reset_index() -> None:
    CustomerAccess.objects.all().delete()
    AccessLogCursor.objects.update_or_create(id=1, defaults={"last_seq": 0})


def run(ctx: Context) -> list[Row]:
    n = ctx.size(100_000, minimum=100)
    small_n = max(10, n // 10)
    user = _people()
    purpose = MarketingPurpose.objects.create(code="own-offers", name="Offers on our own products")
    ids = _customers(ctx, n, "L")
    small_ids = _customers(ctx, small_n, "S")
    _ledger(ctx, ids, purpose, "L")
    _ledger(ctx, small_ids, purpose, "S")
    ctx.log(f"privacy: {n} + {small_n} customers, {ConsentEntry.objects.count()} ledger entries ready")
    assert [r[0] for r in _hand_written(purpose)] == _subject(purpose), "the two queries must agree"

    rows = [
        ctx.compare(
            f"Marketing list: who may be e-mailed, {n + small_n:,} customers",
            baseline=("hand-written SQL (window function)", lambda: _hand_written(purpose)),
            subject=("consent.marketable() queryset", lambda: _subject(purpose)),
            max_ratio=2,
            notes=f"{len(_subject(purpose)):,} marketable",
        )
    ]
    large_t = ctx.best_of(lambda: _subject(purpose, "L"))
    small_t = ctx.best_of(lambda: _subject(purpose, "S"))
    rows.append(
        ratio_row(
            f"Marketing list per customer: {n:,} against {small_n:,} customers",
            baseline=(f"marketable() over {small_n:,}, per customer", small_t / small_n),
            subject=(f"marketable() over {n:,}, per customer", large_t / n),
            max_ratio=1.5,
            notes="linear, set-based",
        )
    )

    def hand_export() -> bytes:
        result = _hand_written(purpose)
        return files.table_bytes(marketing.EXPORT_COLUMNS, ([*r[:5], r[5]] for r in result), "csv")

    def service_export() -> bytes:
        result = marketing.marketing_export(
            actor=user, customers=Customer.objects.all(), channel="email", purpose=purpose, file_format="csv"
        )
        return files.table_bytes(
            marketing.EXPORT_COLUMNS,
            ([row[c] for c in marketing.EXPORT_COLUMNS] for row in result.rows),
            "csv",
        )

    rows.append(
        ctx.compare(
            f"Marketing export to CSV, {n + small_n:,} customers",
            baseline=("hand-written SQL + CSV", hand_export),
            subject=("marketing_export() + CSV (record, audit)", service_export),
            max_ratio=3,
            repeats=min(ctx.repeats, 3),
        )
    )

    reads = ctx.size(20_000, minimum=100)
    _reset_index()
    _reads(ctx, ids, user, reads)
    _reset_index()
    access_log.index_audit_trail()
    prepared = list(
        CustomerAccess.objects.values_list(
            "audit_seq", "customer_id", "actor_id", "actor_username", "action", "purpose", "occurred_at"
        )
    )

    def bulk_insert() -> None:
        with transaction.atomic():
            insert_rows(CustomerAccess, access_log._LOG_FIELDS, prepared)

    rows.append(
        ctx.compare(
            f"Access log: index {reads:,} reads and the exports above ({len(prepared):,} rows)",
            baseline=("multi-row INSERT of the same rows, prepared", bulk_insert),
            subject=("access_log.index_audit_trail()", access_log.index_audit_trail),
            setup=_reset_index,
            max_ratio=3,
            notes=f"{AuditEvent.objects.count():,} audit rows in the trail",
        )
    )
    return rows
