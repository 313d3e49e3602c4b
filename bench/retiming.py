"""What the re-timing tools share (``bench/retime_*.py``): Django set up on an already-loaded
benchmark database, and a baseline and a subject timed in turn, best of N each."""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def django_on(url: str) -> None:
    """Set Django up on the database at URL (a benchmark's, left behind by bench/run.py)."""
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steward.settings")
    os.environ["STEWARD_ENV"] = "test"
    os.environ["DEBUG"] = "false"
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def alternate(
    baseline: Callable[[], object], subject: Callable[[], object], repeats: int, label: str
) -> None:
    """Time BASELINE (DuckDB) and SUBJECT (Steward's LABEL) in turn REPEATS times, print every time
    and the ratio of the best of each against the issue's target of 3×."""
    times: dict[str, list[float]] = {"duckdb": [], "steward": []}
    for _ in range(repeats):
        for name, run in (("duckdb", baseline), ("steward", subject)):
            started = time.perf_counter()
            run()
            times[name].append(time.perf_counter() - started)
            print(f"  {name}: {times[name][-1]:.2f} s", flush=True)
    duck, ours = min(times["duckdb"]), min(times["steward"])
    print(
        f"load average {os.getloadavg()[0]:.1f}; best of {repeats}, alternated: DuckDB {duck:.2f} s, "
        f"{label} {ours:.2f} s, ratio {ours / duck:.2f}× (target ≤ 3×)"
    )
