"""Foundation benchmarks: what the hash-chained audit trail and ``restrict()`` cost.

Audit trail
- *appends in one transaction* (an import writing many records): N events appended through
  ``core.audit`` (lock the head, insert, move the head, per event) against a raw bulk insert
  of the very same rows, hashes precomputed. The ratio is the price of the chain plus that of
  row-by-row inserts; target ≤ 20×, i.e. well under a millisecond per audited change.
- *one transaction per event* (one request, one change): the same, each event committed on
  its own, against single-row inserts committed one by one. This is what a request pays;
  target ≤ 2×: the chain may at most double the cost of writing the row at all.
- *verification*: ``verify_chain()`` over N events against merely reading them in the same
  batches. The ratio is the price of re-hashing; target ≤ 3×, so that the nightly check of
  a year of events stays a matter of minutes.

Object-level access (``restrict``), with the vendor register at full size and at 1/100:
- a vendor manager's list page (count + first 50 by name) through ``restrict()`` against the
  same query unfiltered: the overhead of the access layer (target ≤ 1.2×);
- a portal user's list page through ``restrict()`` against the unfiltered page: narrowing to
  one vendor must never cost more than showing everything (≤ 1×);
- the portal user's page at full size against 1/100 size: it must stay flat as the register
  grows (≤ 1.5×).
Permissions are cached on the user, as they are once a page's navigation has checked them.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from django.contrib.auth.models import Group
from django.db import connection, models, transaction
from django.utils import timezone

from accounts.models import User
from bench.harness import Context, Row, ratio_row
from core import audit
from core.models import AuditEvent
from vendors.models import Vendor

PAGE = 50


# --- Audit trail ------------------------------------------------------------------------------


def _reset_trail() -> None:
    with connection.cursor() as cursor:
        cursor.execute("DELETE FROM core_auditevent")
        cursor.execute(
            "UPDATE core_auditchainhead SET last_seq = 0, last_hash = %s WHERE id = 1", [audit.GENESIS_HASH]
        )


def _event_specs(ctx: Context, n: int) -> list[dict[str, Any]]:
    """N realistic events: mostly vendor updates with a small before/after, some creates and reads."""
    synth = ctx.synth("audit-events")
    statuses = [s.value for s in Vendor.Status]
    specs: list[dict[str, Any]] = []
    for i in range(n):
        kind = synth.weighted({"update": 6, "create": 2, "read": 2})
        vendor_id = synth.integer(1, 5000)
        if kind == "update":
            old, new = synth.sample(statuses, 2)
            detail: dict[str, Any] = {"before": {"status": old}, "after": {"status": new}}
        elif kind == "create":
            detail = {
                "before": None,
                "after": {
                    "id": vendor_id,
                    "code": f"v{i:07d}",
                    "name": synth.company_name(),
                    "status": "prospect",
                },
            }
        else:
            detail = {"fields": ["phone", "email"]}
        specs.append(
            {
                "action": kind,
                "object_type": "vendors.vendor",
                "object_id": str(vendor_id),
                "object_repr": synth.company_name()[:200],
                "detail": detail,
            }
        )
    return specs


def _chained_rows(specs: list[dict[str, Any]]) -> list[AuditEvent]:
    """The rows core.audit would write for SPECS, hashes and links included."""
    prev = audit.GENESIS_HASH
    now = timezone.now()
    rows = []
    for seq, spec in enumerate(specs, start=1):
        event = AuditEvent(
            seq=seq,
            occurred_at=now,
            actor_id=None,
            actor_username="",
            action=spec["action"],
            object_type=spec["object_type"],
            object_id=spec["object_id"],
            object_repr=spec["object_repr"],
            changes=audit._to_json(spec["detail"]),
            purpose="",
            request_id="bench",
            channel="command",
            ip_address=None,
            prev_hash=prev,
        )
        event.hash = audit._payload_hash(event)
        prev = event.hash
        rows.append(event)
    return rows


def _raw_insert(rows: list[AuditEvent]) -> None:
    # A plain queryset: the audit manager refuses bulk writes, and this is the baseline on purpose.
    plain: models.QuerySet[AuditEvent] = models.QuerySet(AuditEvent)
    plain.bulk_create(rows, batch_size=500)


def _append_all(specs: list[dict[str, Any]]) -> None:
    for spec in specs:
        audit.record_event(
            spec["action"],
            object_type=spec["object_type"],
            object_id=spec["object_id"],
            object_repr=spec["object_repr"],
            detail=spec["detail"],
        )


def audit_rows(ctx: Context) -> list[Row]:
    rows: list[Row] = []
    n = ctx.size(2000, minimum=10)
    specs = _event_specs(ctx, n)
    prepared: list[list[AuditEvent]] = []

    def fresh() -> None:
        _reset_trail()
        prepared[:] = [_chained_rows(specs)]

    def bulk_in_one() -> None:
        with transaction.atomic():
            _raw_insert(prepared[0])

    def append_in_one() -> None:
        with transaction.atomic():
            _append_all(specs)

    ctx.log(f"audit: {n} appends in one transaction")
    row = ctx.compare(
        f"Audit: {n} events appended in one transaction",
        baseline=("raw bulk insert of the same rows", bulk_in_one),
        subject=("core.audit appends (hash-chained)", append_in_one),
        max_ratio=20,
        setup=fresh,
    )
    rows.append(_with_note(row, f"{row.subject_s / n * 1e6:.0f} µs per chained event"))

    m = ctx.size(300, minimum=10)

    def insert_each() -> None:
        for event in prepared[0][:m]:
            _raw_insert([event])  # autocommit: one transaction per row

    def append_each() -> None:
        _append_all(specs[:m])  # autocommit: core.audit opens one transaction per event

    ctx.log(f"audit: {m} appends, one transaction each")
    row = ctx.compare(
        f"Audit: {m} events, one transaction each",
        baseline=("single-row insert + commit", insert_each),
        subject=("core.audit append + commit", append_each),
        max_ratio=2,
        setup=fresh,
    )
    note = f"{row.subject_s / m * 1e6:.0f} µs per event incl. commit"
    if ctx.db == "postgresql":
        note += "; bound by the WAL flush at each commit, so disk noise can swing the ratio either way"
    rows.append(_with_note(row, note))

    _reset_trail()
    with transaction.atomic():
        _append_all(specs)

    def read_only() -> None:
        last = 0
        while True:
            batch = list(AuditEvent.objects.filter(seq__gt=last).order_by("seq")[:2000])
            if not batch:
                return
            last = batch[-1].seq

    def verify() -> None:
        report = audit.verify_chain()
        if not report.ok or report.checked != n:
            raise AssertionError(f"benchmark chain does not verify: {report}")

    ctx.log(f"audit: verify {n} events")
    row = ctx.compare(
        f"Audit: verify a chain of {n} events",
        baseline=("read the rows in the same batches", read_only),
        subject=("verify_chain()", verify),
        max_ratio=3,
    )
    rows.append(_with_note(row, f"≈ {n / row.subject_s:,.0f} events verified per second"))
    return rows


# --- restrict() -----------------------------------------------------------------------------


def _page(qs: models.QuerySet[Vendor]) -> None:
    qs = qs.order_by("name")
    qs.count()
    list(qs[:PAGE])


def _user(username: str, *, roles: list[str], vendor: Vendor | None = None) -> User:
    user = User(username=username, vendor=vendor)
    user.set_unusable_password()
    user.save()
    user.groups.set(Group.objects.filter(name__in=roles))
    user = User.objects.get(pk=user.pk)  # a fresh object, as a request has
    assert isinstance(user, User)
    user.has_perm("vendors.view_vendor")  # load the permission cache, as the page's navigation does
    return user


def restrict_rows(ctx: Context) -> list[Row]:
    full = ctx.size(20_000, minimum=100)
    small = max(1, full // 100)
    vendors = ctx.build("vendors", full)
    Vendor.objects.bulk_create(vendors[:small], batch_size=1000)
    own = Vendor.objects.get(code=vendors[0].code)
    manager = _user("bench-manager", roles=["vendor_manager"])
    portal = _user("bench-portal", roles=["vendor_portal"], vendor=own)

    def unfiltered() -> None:
        _page(Vendor.objects.all())

    def as_manager() -> None:
        _page(Vendor.objects.restrict(manager))

    def as_portal() -> None:
        _page(Vendor.objects.restrict(portal))

    rows: list[Row] = []
    timings: dict[str, float] = {}
    for size, label in ((small, "1/100 size"), (full, "full size")):
        if size == full:
            Vendor.objects.bulk_create(vendors[small:], batch_size=1000)
        assert Vendor.objects.count() == size
        ctx.log(f"restrict: {size} vendors")
        # Page loads take about a millisecond: time batches of them, and take more samples,
        # so that a busy machine's jitter does not decide the result.
        loops, repeats = (20 if size == small else 10), max(15, ctx.repeats * 3)
        rows.append(
            ctx.compare(
                f"Vendor list page, vendor manager, {size:,} vendors ({label})",
                baseline=("unfiltered query", unfiltered),
                subject=("through restrict()", as_manager),
                max_ratio=1.2,
                loops=loops,
                repeats=repeats,
                notes="count + first 50 by name",
            )
        )
        row = ctx.compare(
            f"Vendor list page, portal user, {size:,} vendors ({label})",
            baseline=("unfiltered query (everything)", unfiltered),
            subject=("restrict() to own vendor", as_portal),
            max_ratio=1.0,
            loops=loops,
            repeats=repeats,
            notes="narrowing never costs more than showing all",
        )
        rows.append(row)
        timings[label] = row.subject_s

    rows.append(
        ratio_row(
            "Portal user's vendor list as the register grows 100×",
            baseline=(f"{small:,} vendors", timings["1/100 size"]),
            subject=(f"{full:,} vendors", timings["full size"]),
            max_ratio=1.5,
            notes="flat: an indexed lookup, not a scan",
        )
    )
    return rows


def _with_note(row: Row, note: str) -> Row:
    return replace(row, notes="; ".join(n for n in (row.notes, note) if n))


def run(ctx: Context) -> list[Row]:
    return [*audit_rows(ctx), *restrict_rows(ctx)]
