"""SLA results of many tickets at once: the rules of ``service/sla.py``, vectorised (issue 4, performance).

``service.sla.ticket_facts`` and ``ticket_results`` state the rules one ticket at a time and stay
the reference. This module computes exactly the same figures and rows for a whole chunk of
tickets, because a Python function call per ticket and per business-time question cost more than
the arithmetic itself (bench/bench_service_sla.py):

1. one flat pass over the chunk's events (already in order of ticket and time) collects each
   ticket's first reply, first and last resolution, paused spans and next-response waits;
2. every business-time question of every ticket is answered together with ``numpy``: the
   calendar's cumulative index (:class:`service.sla.BusinessIndex`) as arrays, elapsed business
   time by ``searchsorted``, due times by one ``searchsorted`` on the cumulative array, paused
   spans skipped pause slot by pause slot (a ticket has few), not ticket by ticket;
3. the results are built as columns and zipped into rows.

A ticket whose due time lies beyond the index's arrays (years ahead: the index then grows, or
gives up at its limit) is handed to the one-ticket path, so the answers never differ.
``service/tests/test_sla_batch.py`` checks both paths agree on random tickets across
daylight-saving changes and holidays.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from service.models import SlaTarget, Ticket, TicketEvent
from service.sla import (
    DONE_STATUSES,
    PAUSED_STATUSES,
    BusinessIndex,
    PolicyBook,
    PolicyRule,
    compute_ticket,
    from_epoch,
)

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

# A ticket as read for the computation: id, opened (epoch seconds), priority, channel, customer
# tier, team id, merged, spam.
TicketInput = tuple[int, int, str, str, str, "int | None", bool, bool]
# An event: ticket id, kind, occurred (epoch seconds), new status; in order of ticket, time, id.
EventInput = tuple[int, str, int, str]
# Outputs: the six minute figures of a ticket, and one SLA row per target.
FigureRow = tuple[int, "int | None", "int | None", "int | None", "int | None", "int | None", "int | None"]
SlaRow = tuple[int, str, int, "int | None", "bool | None", "int | None", "int | None"]

NA = -1  # "no value" in the instant and duration columns (epochs and durations are never negative)

_MERGED, _SPAM = TicketEvent.Kind.MERGED.value, TicketEvent.Kind.SPAM.value
_REPLY, _MESSAGE = TicketEvent.Kind.AGENT_REPLY.value, TicketEvent.Kind.CUSTOMER_MESSAGE.value
_RESOLVED, _REOPENED = TicketEvent.Kind.RESOLVED.value, TicketEvent.Kind.REOPENED.value
_STATUS = TicketEvent.Kind.STATUS_CHANGE.value
_FR, _NR, _RES = SlaTarget.FIRST_RESPONSE.value, SlaTarget.NEXT_RESPONSE.value, SlaTarget.RESOLUTION.value
_ = Ticket  # the inputs are Ticket and TicketEvent rows (see service.sla.load_chunk)


@dataclass
class Output:
    """What a chunk produces: one figures row per ticket, and its SLA rows."""

    figures: list[FigureRow]
    rows: list[SlaRow]


class ArrayIndex:
    """A :class:`BusinessIndex` frozen into arrays, for answering many questions in one call."""

    def __init__(self, index: BusinessIndex) -> None:
        self.start = index.start
        self.covered_until = index.covered_until
        self.starts = np.asarray(index.starts, dtype=np.int64)
        self.ends = np.asarray(index.ends, dtype=np.int64)
        self.before = np.asarray(index.before, dtype=np.int64)
        self.through = np.asarray(index.through, dtype=np.int64)

    def elapsed(self, t: Ints) -> Ints:
        """Business seconds from the index's start to each instant (as ``BusinessIndex.elapsed``)."""
        if not len(self.starts):
            return np.zeros_like(t)
        i = np.searchsorted(self.starts, t, side="right") - 1
        j = np.maximum(i, 0)
        value = self.before[j] + np.minimum(t, self.ends[j]) - self.starts[j]
        return np.where((i < 0) | (t <= self.start), 0, value)

    def instant(self, value: Ints) -> tuple[Ints, Bools]:
        """The instants at which VALUE business seconds have elapsed, and which were in reach."""
        j = np.searchsorted(self.through, value, side="left")
        reach = j < len(self.through)
        k = np.minimum(j, max(len(self.through) - 1, 0))
        if not len(self.through):
            return np.zeros_like(value), np.zeros(len(value), dtype=np.bool_)
        return self.starts[k] + value - self.before[k], reach


class Batch:
    """The columns of one chunk of tickets and the questions they ask (see the module docstring)."""

    def __init__(self, book: PolicyBook, tickets: Sequence[TicketInput], now: int) -> None:
        self.book = book
        self.now = now
        n = len(tickets)
        self.n = n
        columns = list(zip(*tickets, strict=True))  # one transposition instead of a pass per column
        self.pks: list[int] = list(columns[0])
        self.opened = np.asarray(columns[1], dtype=np.int64)
        self.flagged = np.asarray(columns[6], dtype=np.bool_) | np.asarray(columns[7], dtype=np.bool_)
        # Each ticket's policy as a position in the book (-1: none), then per-policy lookups.
        positions = {rule.id: k for k, rule in enumerate(book.rules)}
        rule_at = np.asarray(
            [-1 if r is None else positions[r.id] for r in _match_all(book, tickets)], dtype=np.int64
        )
        used = sorted({book.rules[k].calendar_id for k in set(rule_at.tolist()) if k >= 0})
        self.calendar_ids = used

        def per_rule(values: list[int]) -> Ints:
            table = np.asarray([*values, NA], dtype=np.int64)  # rule_at -1 picks the trailing NA
            return table[rule_at]

        self.cal = per_rule([used.index(r.calendar_id) if r.calendar_id in used else NA for r in book.rules])
        self.t_fr, self.t_nr, self.t_res = (
            per_rule([r.targets.get(name, NA) for r in book.rules]) for name in (_FR, _NR, _RES)
        )
        self.indexes: list[ArrayIndex] = []

    # --- events -> facts ------------------------------------------------------------------------

    def read_events(self, events: Sequence[EventInput]) -> None:
        """One pass over all events: the flat version of ``service.sla.ticket_facts``."""
        pos = {pk: i for i, pk in enumerate(self.pks)}
        opened = self.opened.tolist()
        fr: list[int] = [NA] * self.n
        first_res: list[int] = [NA] * self.n
        res: list[int] = [NA] * self.n
        spam: list[int] = []
        pauses: list[tuple[int, int, int]] = []  # (ticket position, start, end or NA)
        gaps: list[tuple[int, int, int]] = []  # (ticket position, first message, answer or NA)
        cur_pk: int | None = None
        i = -1
        o = fr_i = fres_i = res_i = NA
        paused = done = gap = NA
        for tid, kind, at, status in events:
            if tid != cur_pk:
                if i >= 0:
                    if paused != NA:
                        pauses.append((i, paused, NA))
                    if gap != NA:
                        gaps.append((i, gap, NA))
                    fr[i], first_res[i], res[i] = fr_i, fres_i, res_i
                cur_pk = tid
                i = pos.get(tid, -1)
                if i < 0:
                    continue
                o = opened[i]
                fr_i = fres_i = res_i = NA
                paused = done = gap = NA
            elif i < 0:
                continue
            if at < o:
                at = o  # an event stamped before creation counts from creation
            if kind == _REPLY:
                if fr_i == NA:
                    fr_i = at
                if gap != NA:
                    gaps.append((i, gap, at))
                    gap = NA
            elif kind == _MESSAGE:
                if fr_i != NA and gap == NA and done == NA:
                    gap = at
            elif kind == _RESOLVED or (kind == _STATUS and status in DONE_STATUSES):
                if done != NA:
                    continue
                if paused != NA:
                    pauses.append((i, paused, at))
                    paused = NA
                if gap != NA:
                    gaps.append((i, gap, at))
                    gap = NA
                if fres_i == NA:
                    fres_i = at
                res_i = done = at
            elif kind == _REOPENED or (kind == _STATUS and status):
                if done != NA:
                    pauses.append((i, done, at))
                    res_i = done = NA
                if kind == _STATUS and status in PAUSED_STATUSES:
                    if paused == NA:
                        paused = at
                elif paused != NA:
                    pauses.append((i, paused, at))
                    paused = NA
            elif kind == _MERGED or kind == _SPAM:
                spam.append(i)
        if i >= 0:
            if paused != NA:
                pauses.append((i, paused, NA))
            if gap != NA:
                gaps.append((i, gap, NA))
            fr[i], first_res[i], res[i] = fr_i, fres_i, res_i
        self.fr = np.asarray(fr, dtype=np.int64)
        self.first_res = np.asarray(first_res, dtype=np.int64)
        self.res = np.asarray(res, dtype=np.int64)
        if spam:
            self.flagged[np.asarray(spam, dtype=np.int64)] = True
        # Pauses grouped by ticket, in order of time within each (a stable sort keeps that order).
        p = np.asarray(pauses, dtype=np.int64).reshape(-1, 3)
        p = p[np.argsort(p[:, 0], kind="stable")]
        self.p_t, self.p_a, self.p_b = p[:, 0].copy(), p[:, 1].copy(), p[:, 2].copy()
        self.p_open = self.p_b == NA
        # The clock's view: a pause still running runs until now.
        self.p_end = np.where(self.p_open, np.maximum(self.p_a, self.now), self.p_b)
        self.p_count = np.bincount(self.p_t, minlength=self.n).astype(np.int64)
        self.p_first = np.concatenate(([0], np.cumsum(self.p_count)[:-1])).astype(np.int64)
        self.paused_now = np.zeros(self.n, dtype=np.bool_)
        if len(pauses):
            last = self.p_first + self.p_count - 1
            has = self.p_count > 0
            self.paused_now[has] = self.p_open[last[has]]
        g = np.asarray(gaps, dtype=np.int64).reshape(-1, 3)
        g = g[np.argsort(g[:, 0], kind="stable")]
        self.g_t, self.g_a, self.g_b = g[:, 0].copy(), g[:, 1].copy(), g[:, 2].copy()

    # --- business time ----------------------------------------------------------------------------

    def prepare_indexes(self, events_max: int) -> None:
        """Array copies of each calendar's index, covering every instant the chunk can ask about."""
        last = max(int(self.opened.max(initial=0)), events_max, self.now)
        for position, calendar_id in enumerate(self.calendar_ids):
            first = int(self.opened[self.cal == position].min())
            index = self.book.index(calendar_id, first)
            index.elapsed(last)  # grows the index to cover LAST (or stops at its limit)
            self.indexes.append(_arrays(index))

    def elapsed(self, t: Ints, tickets: Ints) -> Ints:
        """Business seconds up to T on each ticket's calendar (0 for a ticket without one)."""
        out = np.zeros(len(t), dtype=np.int64)
        cal = self.cal[tickets]
        for position, index in enumerate(self.indexes):
            mask = cal == position
            if mask.all():
                return index.elapsed(t)
            if mask.any():
                out[mask] = index.elapsed(t[mask])
        return out

    def instant(self, value: Ints, tickets: Ints) -> tuple[Ints, Bools]:
        out = np.zeros(len(value), dtype=np.int64)
        reach = np.zeros(len(value), dtype=np.bool_)
        cal = self.cal[tickets]
        for position, index in enumerate(self.indexes):
            mask = cal == position
            if mask.any():
                out[mask], reach[mask] = index.instant(value[mask])
        return out, reach

    def paused_business(self, tickets: Ints, a: Ints, b: Ints) -> Ints:
        """``Clock.business``: business seconds from A to B less the paused spans' business time."""
        total = self.elapsed(b, tickets) - self.elapsed(a, tickets)
        if not len(self.p_t):
            return total
        count = self.p_count[tickets]
        for k in range(int(count.max(initial=0))):
            q = np.nonzero(count > k)[0]
            p = self.p_first[tickets[q]] + k
            lo = np.maximum(a[q], self.p_a[p])
            hi = np.minimum(b[q], self.p_end[p])
            hit = hi > lo
            q, lo, hi = q[hit], lo[hit], hi[hit]
            tq = tickets[q]
            total[q] -= self.elapsed(hi, tq) - self.elapsed(lo, tq)
        return total

    def paused_calendar(self, tickets: Ints, a: Ints, b: Ints) -> Ints:
        """``Clock.calendar``: wall-clock seconds from A to B less the paused spans."""
        total: Ints = np.maximum(b - a, 0)
        count = self.p_count[tickets]
        for k in range(int(count.max(initial=0))):
            q = np.nonzero(count > k)[0]
            p = self.p_first[tickets[q]] + k
            lo = np.maximum(a[q], self.p_a[p])
            hi = np.minimum(b[q], self.p_end[p])
            total[q] -= np.maximum(hi - lo, 0)
        return total

    def due(self, tickets: Ints, start: Ints, seconds: Ints, pauses: bool) -> tuple[Ints, Bools, Bools]:
        """``BusinessIndex.add`` for many questions: due instants, "clock stopped" (no due time
        because a pause that began before it still runs), and "out of the arrays' reach"."""
        value = self.elapsed(start, tickets) + seconds
        stopped = np.zeros(len(start), dtype=np.bool_)
        if pauses and len(self.p_t):
            active = np.ones(len(start), dtype=np.bool_)
            count = self.p_count[tickets]
            for k in range(int(count.max(initial=0))):
                q = np.nonzero(active & (count > k))[0]
                if not len(q):
                    break
                p = self.p_first[tickets[q]] + k
                pa, pb, still = self.p_a[p], self.p_b[p], self.p_open[p]
                keep = still | (pb > start[q])  # a pause over before the start is skipped
                q, pa, pb, still = q[keep], pa[keep], pb[keep], still[keep]
                tq = tickets[q]
                pa = np.maximum(pa, start[q])
                at_pause = self.elapsed(pa, tq)
                after = at_pause >= value[q]  # the pause began after the due time: stop looking
                active[q[after]] = False
                running = ~after & still  # the clock is stopped: no due time yet
                stopped[q[running]] = True
                active[q[running]] = False
                add = ~after & ~still
                qa = q[add]
                value[qa] += np.maximum(self.elapsed(pb[add], tq[add]) - at_pause[add], 0)
        due, reach = self.instant(value, tickets)
        return due, stopped, ~stopped & ~reach


_ARRAYS: dict[int, tuple[BusinessIndex, int, int, ArrayIndex]] = {}


def _arrays(index: BusinessIndex) -> ArrayIndex:
    """The array copy of INDEX, reused while the index has not grown (chunks share it)."""
    key = id(index)
    cached = _ARRAYS.get(key)
    if cached is not None and cached[0] is index and cached[1:3] == (len(index.starts), index.start):
        return cached[3]
    arrays = ArrayIndex(index)
    _ARRAYS.clear()  # one book at a time; old indexes must not be kept alive
    _ARRAYS[key] = (index, len(index.starts), index.start, arrays)
    return arrays


def _match_all(book: PolicyBook, tickets: Sequence[TicketInput]) -> list[PolicyRule | None]:
    """The policy of each ticket. Without effective dates (on policies or their calendars) the
    match depends on the conditions alone, so it is looked up once per combination."""
    dated = any(r.effective_from or r.effective_to for r in book.rules) or any(
        s.effective_from or s.effective_to for s in book.specs.values()
    )
    if dated:
        return [book.match(t[2], t[3], t[4], t[5], t[1]) for t in tickets]
    seen: dict[tuple[str, str, str, int | None], PolicyRule | None] = {}
    out: list[PolicyRule | None] = []
    for t in tickets:
        key = (t[2], t[3], t[4], t[5])
        if key not in seen:
            seen[key] = book.match(t[2], t[3], t[4], t[5], t[1])
        out.append(seen[key])
    return out


def _minutes(seconds: Ints) -> Ints:
    return -((-seconds) // 60)


def _column(values: Ints, present: Bools) -> list[int | None]:
    return [v if p else None for v, p in zip(values.tolist(), present.tolist(), strict=True)]


def compute(
    book: PolicyBook, tickets: Sequence[TicketInput], events: Sequence[EventInput], now: int
) -> Output:
    """Figures and SLA rows of TICKETS (same results as ``service.sla.compute_ticket`` per ticket)."""
    if not tickets:
        return Output([], [])
    b = Batch(book, tickets, now)
    b.read_events(events)
    events_max = max((e[2] for e in events), default=0)
    b.prepare_indexes(events_max)
    n = b.n
    all_t = np.arange(n, dtype=np.int64)
    live = ~b.flagged
    ruled = live & (b.cal >= 0)
    o = b.opened
    fallback = np.zeros(n, dtype=np.bool_)

    # Figures (docs/service_sla.md, "Stored figures").
    has_fr, has_fres, has_res = b.fr != NA, b.first_res != NA, b.res != NA
    e_open = b.elapsed(o, all_t)
    fr_bus = _minutes(b.elapsed(np.where(has_fr, b.fr, o), all_t) - e_open)
    fr_cal = _minutes(np.maximum(b.fr - o, 0))
    fres_end = np.where(has_fres, b.first_res, o)
    res_end = np.where(has_res, b.res, o)
    fres_bus = _minutes(b.paused_business(all_t, o, fres_end))
    fres_cal = _minutes(b.paused_calendar(all_t, o, fres_end))
    res_secs = b.paused_business(all_t, o, res_end)
    res_bus = _minutes(res_secs)
    res_cal = _minutes(b.paused_calendar(all_t, o, res_end))

    # First response: due from opening, never paused.
    fr_t = np.nonzero(ruled & (b.t_fr != NA))[0]
    fr_limit = b.t_fr[fr_t] * 60
    fr_due, _stopped, fr_far = b.due(fr_t, o[fr_t], fr_limit, pauses=False)
    fallback[fr_t[fr_far]] = True
    fr_elapsed = b.elapsed(b.fr[fr_t], fr_t) - e_open[fr_t]

    # Resolution: due from opening with every pause skipped.
    rs_t = np.nonzero(ruled & (b.t_res != NA))[0]
    rs_limit = b.t_res[rs_t] * 60
    rs_due, rs_stopped, rs_far = b.due(rs_t, o[rs_t], rs_limit, pauses=True)
    fallback[rs_t[rs_far]] = True

    # Next response: every wait of a ticket with that target.
    g_keep = ruled[b.g_t] & (b.t_nr[b.g_t] != NA) if len(b.g_t) else np.zeros(0, dtype=np.bool_)
    g_t, g_a, g_b = b.g_t[g_keep], b.g_a[g_keep], b.g_b[g_keep]
    g_limit = b.t_nr[g_t] * 60
    g_due, g_stopped, g_far = b.due(g_t, g_a, g_limit, pauses=True)
    fallback[g_t[g_far]] = True
    g_answered = g_b != NA
    g_secs = b.paused_business(g_t, g_a, np.where(g_answered, g_b, g_a))
    g_has_due = ~g_stopped
    g_breached = np.where(g_answered, g_secs > g_limit, g_has_due & (now >= g_due) & ~b.paused_now[g_t])
    worst = np.full(n, NA, dtype=np.int64)
    np.maximum.at(worst, g_t[g_answered], g_secs[g_answered])
    big = np.iinfo(np.int64).max
    first_breach = np.full(n, big, dtype=np.int64)
    counted = g_breached & g_has_due
    np.minimum.at(first_breach, g_t[counted], g_due[counted])
    # The last wait of each ticket gives the row's due time (and, unanswered, "running").
    last_gap = np.full(n, -1, dtype=np.int64)
    np.maximum.at(last_gap, g_t, np.arange(len(g_t), dtype=np.int64))

    rows: list[SlaRow] = []
    fb = fallback.tolist()
    # Merged and spam tickets get no figures, tickets without a policy no business figures.
    fr_ok, fres_ok, res_ok = has_fr & live, has_fres & live, has_res & live
    figures: list[FigureRow] = list(
        zip(
            b.pks,
            _column(fr_bus, fr_ok & ruled),
            _column(fr_cal, fr_ok),
            _column(fres_bus, fres_ok & ruled),
            _column(fres_cal, fres_ok),
            _column(res_bus, res_ok & ruled),
            _column(res_cal, res_ok),
            strict=True,
        )
    )
    if fallback.any():
        figures = [f for f, skip in zip(figures, fb, strict=True) if not skip]

    # First-response rows.
    pks = b.pks
    res_l = b.res.tolist()
    for ti, minutes, due, ended, elapsed in zip(
        fr_t.tolist(),
        b.t_fr[fr_t].tolist(),
        fr_due.tolist(),
        has_fr[fr_t].tolist(),
        fr_elapsed.tolist(),
        strict=True,
    ):
        if fb[ti]:
            continue
        if ended:
            met = elapsed <= minutes * 60
            rows.append((pks[ti], _FR, minutes, due, met, None if met else due, -(-elapsed // 60)))
        else:
            # Resolved without a public reply: breached only if the due time passed first.
            reference = res_l[ti] if res_l[ti] != NA else now
            if reference >= due:
                rows.append((pks[ti], _FR, minutes, due, False, due, None))
            elif res_l[ti] == NA:
                rows.append((pks[ti], _FR, minutes, due, None, None, None))

    # Next-response rows: one per ticket with waits.
    if len(g_t):
        gt_list = np.unique(g_t).tolist()
        last = last_gap[gt_list]
        for ti, minutes, lg, due, stopped, answered, breached, w, fbreach in zip(
            gt_list,
            b.t_nr[gt_list].tolist(),
            last.tolist(),
            g_due[last].tolist(),
            g_stopped[last].tolist(),
            g_answered[last].tolist(),
            g_breached[last].tolist(),
            worst[gt_list].tolist(),
            first_breach[gt_list].tolist(),
            strict=True,
        ):
            del lg
            if fb[ti]:
                continue
            running = not answered and not breached
            has_breach = fbreach != big
            nr_met: bool | None = False if has_breach else (None if running else True)
            rows.append(
                (
                    pks[ti],
                    _NR,
                    minutes,
                    None if stopped else due,
                    nr_met,
                    fbreach if has_breach else None,
                    None if w == NA else -(-w // 60),
                )
            )

    # Resolution rows.
    paused_now = b.paused_now.tolist()
    res_secs_l = res_secs.tolist()
    for ti, minutes, due, stopped in zip(
        rs_t.tolist(), b.t_res[rs_t].tolist(), rs_due.tolist(), rs_stopped.tolist(), strict=True
    ):
        if fb[ti]:
            continue
        due_or_none = None if stopped else due
        if res_l[ti] != NA:
            elapsed = res_secs_l[ti]
            met = elapsed <= minutes * 60
            rows.append(
                (pks[ti], _RES, minutes, due_or_none, met, None if met else due_or_none, -(-elapsed // 60))
            )
        elif due_or_none is not None and now >= due_or_none and not paused_now[ti]:
            rows.append((pks[ti], _RES, minutes, due_or_none, False, due_or_none, None))
        else:
            rows.append((pks[ti], _RES, minutes, due_or_none, None, None, None))

    if fallback.any():
        _one_by_one(book, tickets, events, now, np.nonzero(fallback)[0].tolist(), figures, rows)
    return Output(figures, rows)


def _one_by_one(
    book: PolicyBook,
    tickets: Sequence[TicketInput],
    events: Sequence[EventInput],
    now: int,
    positions: list[int],
    figures: list[FigureRow],
    rows: list[SlaRow],
) -> None:
    """The one-ticket path for the few tickets whose due times lie beyond the arrays."""
    wanted = {tickets[i][0]: tickets[i] for i in positions}
    found: dict[int, list[tuple[str, int, str]]] = {pk: [] for pk in wanted}
    for tid, kind, at, status in events:
        if tid in found:
            found[tid].append((kind, at, status))
    for pk, t in wanted.items():
        row = (pk, from_epoch(t[1]), t[2], t[3], t[4], t[5], t[6], t[7])
        figs, results = compute_ticket(book, row, found[pk], now)
        figures.append(as_figure_row(pk, figs))
        rows.extend(as_sla_rows(pk, results))


def as_figure_row(pk: int, figures: Any) -> FigureRow:
    """A ``TicketFigures`` as a figures row (for comparing with the one-ticket path)."""
    return (
        pk,
        figures.first_response_business_minutes,
        figures.first_response_calendar_minutes,
        figures.first_resolution_business_minutes,
        figures.first_resolution_calendar_minutes,
        figures.resolution_business_minutes,
        figures.resolution_calendar_minutes,
    )


def as_sla_rows(pk: int, results: Any) -> list[SlaRow]:
    """``SlaResult``s as SLA rows."""
    return [
        (pk, str(r.target), r.target_minutes, r.due_at, r.met, r.breached_at, r.business_minutes)
        for r in results
    ]
