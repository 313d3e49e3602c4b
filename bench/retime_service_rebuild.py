#!/usr/bin/env python
"""Time the KPI rollup rebuild against the DuckDB baseline on an already-loaded database.

``bench_service_kpis`` loads its tickets before timing (about 10 to 30 minutes at 5,000,000 on two
cores) and leaves its database behind. This tool re-times the same comparison on that data, for
example after a change to the rebuild, without loading again: it exports the tickets and SLA
results to Parquet (untimed), then alternates one DuckDB query and one ``rollups_rebuild()`` as
``Context.compare`` does, best of N each.

    .venv/bin/python bench/retime_service_rebuild.py \\
        --database postgres://postgres@127.0.0.1:5432/steward_bench5m --repeats 3
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from datetime import date
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))  # run as a script from anywhere
from bench import retiming  # noqa: E402 (after the project root is on the path)


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--database", required=True, help="URL of a database bench_service_kpis loaded")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    retiming.django_on(args.database)
    import duckdb

    from bench.bench_service_kpis import _duckdb_query, _export_parquet
    from service.models import Ticket
    from service.rollups import rollups_rebuild

    tickets = Ticket.objects.count()
    with tempfile.TemporaryDirectory() as folder:
        started = time.perf_counter()
        _export_parquet(Path(folder))
        print(f"{tickets:,} tickets exported to Parquet in {time.perf_counter() - started:.0f} s", flush=True)
        query = _duckdb_query(Path(folder))
        duck = duckdb.connect()
        retiming.alternate(
            lambda: duck.execute(f"CREATE OR REPLACE TABLE rollups AS {query}"),
            lambda: rollups_rebuild(start=date(2024, 10, 1), end=date(2026, 11, 2)),
            args.repeats,
            "rollups_rebuild()",
        )
        duck.close()


if __name__ == "__main__":
    main()
