"""What every benchmark module shares: the result row, the run context, and timing.

A benchmark module ``bench/bench_<name>.py`` exposes ``run(ctx: Context) -> list[Row]``.
Each row compares a *subject* (what Steward does) with a *baseline* (the simplest thing that
does the same work, or the same thing at another size) measured in the same run, and
states the target the ratio must meet.
"""

from __future__ import annotations

import gc
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bench.generators import DEFAULT_SEED, Synth, build


@dataclass(frozen=True)
class Row:
    """One line of the results table."""

    name: str
    baseline_label: str
    baseline_s: float
    subject_label: str
    subject_s: float
    ratio: float  # subject ÷ baseline unless the benchmark says otherwise in its notes
    target: str  # e.g. "≤ 1.5×"
    passed: bool
    notes: str = ""


@dataclass
class Context:
    """What a benchmark gets: the scale, the database, repeats, and seeded data."""

    scale: float = 1.0
    repeats: int = 5
    db: str = "sqlite"  # "sqlite" or "postgresql"
    seed: int = DEFAULT_SEED
    log: Callable[[str], None] = print
    extra: dict[str, Any] = field(default_factory=dict)

    def size(self, n: int, minimum: int = 1) -> int:
        """N scaled by --scale (never below MINIMUM)."""
        return max(minimum, round(n * self.scale))

    def synth(self, stream: str) -> Synth:
        return Synth(self.seed, stream)

    def build(self, name: str, n: int) -> list[Any]:
        return build(name, n, seed=self.seed)

    def best_of(
        self,
        fn: Callable[[], object],
        *,
        setup: Callable[[], object] | None = None,
        repeats: int | None = None,
    ) -> float:
        """The fastest of REPEATS timed calls of FN (SETUP runs untimed before each)."""
        return min(_timed(fn, setup) for _ in range(repeats or self.repeats))

    def compare(
        self,
        name: str,
        *,
        baseline: tuple[str, Callable[[], object]],
        subject: tuple[str, Callable[[], object]],
        max_ratio: float,
        setup: Callable[[], object] | None = None,
        notes: str = "",
        repeats: int | None = None,
        loops: int = 1,
    ) -> Row:
        """Time BASELINE and SUBJECT alternately (so drift hits both), best of N each;
        pass when subject ÷ baseline ≤ MAX_RATIO.

        LOOPS > 1 runs each function that many times per timing and reports the time of one
        call: for operations too quick to time one by one.
        """
        base_times: list[float] = []
        subject_times: list[float] = []
        base_fn, subject_fn = _looped(baseline[1], loops), _looped(subject[1], loops)
        for _ in range(repeats or self.repeats):
            base_times.append(_timed(base_fn, setup) / loops)
            subject_times.append(_timed(subject_fn, setup) / loops)
        return ratio_row(
            name,
            baseline=(baseline[0], min(base_times)),
            subject=(subject[0], min(subject_times)),
            max_ratio=max_ratio,
            notes=notes,
        )


def ratio_row(
    name: str,
    *,
    baseline: tuple[str, float],
    subject: tuple[str, float],
    max_ratio: float,
    notes: str = "",
) -> Row:
    ratio = subject[1] / baseline[1] if baseline[1] > 0 else float("inf")
    return Row(
        name=name,
        baseline_label=baseline[0],
        baseline_s=baseline[1],
        subject_label=subject[0],
        subject_s=subject[1],
        ratio=ratio,
        target=f"≤ {max_ratio:g}×",
        passed=ratio <= max_ratio,
        notes=notes,
    )


def _looped(fn: Callable[[], object], loops: int) -> Callable[[], object]:
    if loops == 1:
        return fn

    def many() -> None:
        for _ in range(loops):
            fn()

    return many


def _timed(fn: Callable[[], object], setup: Callable[[], object] | None) -> float:
    if setup is not None:
        setup()
    gc.collect()
    gc_was_enabled = gc.isenabled()
    gc.disable()
    try:
        start = time.perf_counter()
        fn()
        return time.perf_counter() - start
    finally:
        if gc_was_enabled:
            gc.enable()
