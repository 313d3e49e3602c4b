#!/usr/bin/env python
"""Time the same report reads against two already-loaded databases, alternately.

``bench_service_kpis`` times the month's KPI report at the small size first and at the full size
tens of minutes later (5,000,000 tickets take ~30 minutes to load on two cores), so a machine whose
load changed in between skews the ratio. This tool keeps both databases alive and alternates: one
worker process per database (each with its own Django set-up), the reads interleaved request by
request, so both sizes see the same load. Best of N for each.

    .venv/bin/python bench/alternate_reads.py \\
        --small postgres://postgres@127.0.0.1:5432/steward_bench50k \\
        --large postgres://postgres@127.0.0.1:5432/steward_bench5m --repeats 15

The databases must hold the benchmark's data and rollups (``bench_service_kpis`` leaves its database
behind; a smaller one can be copied from it with ``CREATE DATABASE … TEMPLATE …``, its extra tickets
deleted and ``rollups_rebuild()`` run).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MONTH = "2026-06"
READS = {
    "api": f"/api/v1/service/reports/kpis?period={MONTH}&group_by=agent",
    "page": f"/service/reports/?period={MONTH}&group_by=agent",
}


def worker(url: str) -> None:
    """Serve timing requests on stdin ("api" / "page"), answer seconds on stdout."""
    sys.path.insert(0, str(ROOT))
    from bench import retiming

    retiming.django_on(url)
    from django.test import Client

    from accounts.models import User
    from service.models import Ticket

    client = Client()
    client.force_login(User.objects.get(username="bench.cs.manager"))
    for path in READS.values():  # warm caches and connections
        assert client.get(path).status_code == 200
    print(json.dumps({"tickets": Ticket.objects.count()}), flush=True)
    for line in sys.stdin:
        path = READS[line.strip()]
        started = time.perf_counter()
        response = client.get(path)
        elapsed = time.perf_counter() - started
        assert response.status_code == 200, response.content[:300]
        print(json.dumps({"seconds": elapsed}), flush=True)


def alternate(urls: dict[str, str], repeats: int) -> tuple[dict[str, int], dict[tuple[str, str], float]]:
    """Time every read of READS against each database of URLS (name → URL), one worker process per
    database, request by request in turn; returns the tickets of each and the best time of each
    (database, read)."""
    procs = {}
    tickets = {}
    for name, url in urls.items():
        procs[name] = subprocess.Popen(
            [sys.executable, __file__, "--small", "-", "--large", "-", "--worker", url],
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )
        tickets[name] = json.loads(procs[name].stdout.readline())["tickets"]  # type: ignore[union-attr]
    times: dict[tuple[str, str], list[float]] = {(s, r): [] for s in procs for r in READS}
    try:
        for _ in range(repeats):
            for read in READS:
                for name, proc in procs.items():
                    proc.stdin.write(read + "\n")  # type: ignore[union-attr]
                    proc.stdin.flush()  # type: ignore[union-attr]
                    times[(name, read)].append(json.loads(proc.stdout.readline())["seconds"])  # type: ignore[union-attr]
    finally:
        for proc in procs.values():
            proc.stdin.close()  # type: ignore[union-attr]
            proc.wait()
    return tickets, {key: min(values) for key, values in times.items()}


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--small", required=True, help="database URL of the small data set")
    parser.add_argument("--large", required=True, help="database URL of the full data set")
    parser.add_argument("--repeats", type=int, default=15)
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.worker:
        worker(args.worker)
        return
    tickets, best = alternate({"small": args.small, "large": args.large}, args.repeats)
    print(f"load average {os.getloadavg()[0]:.1f}; best of {args.repeats}, reads alternated")
    print("| read | small | time | full | time | ratio |")
    print("|---|--:|--:|--:|--:|--:|")
    for read in READS:
        small, large = best[("small", read)], best[("large", read)]
        print(
            f"| {read} | {tickets['small']:,} tickets | {small * 1000:.0f} ms | "
            f"{tickets['large']:,} tickets | {large * 1000:.0f} ms | {large / small:.2f}× |"
        )


if __name__ == "__main__":
    main()
