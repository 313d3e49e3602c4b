#!/usr/bin/env python
"""Run Steward's benchmarks: ``bench/run.py [--only NAME] [--scale S] [--db sqlite|postgres]``.

Finds every ``bench/bench_*.py``, runs its ``run(ctx)`` against a freshly migrated benchmark
database (SQLite: var/bench/bench.sqlite3; PostgreSQL: the database ``steward_bench``, or
BENCH_DATABASE_URL), prints the results and, after a full run, rewrites the table in
bench/README.md between ``<!-- bench:start -->`` and ``<!-- bench:end -->``.

Exit status: 0 when every target is met, 1 when a target is missed, 2 when a benchmark failed.
"""

from __future__ import annotations

import argparse
import importlib
import os
import platform
import re
import sqlite3
import subprocess
import sys
import time
import traceback
from datetime import UTC, datetime
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
BENCH_DIR = ROOT / "bench"
README = BENCH_DIR / "README.md"
START, END = "<!-- bench:start -->", "<!-- bench:end -->"
DEFAULT_PG_URL = "postgres://postgres@127.0.0.1:5432/steward_bench"
DB_TITLES = {"sqlite": "SQLite", "postgresql": "PostgreSQL"}

if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from bench.harness import Context, Row  # noqa: E402 (after the path is set)


def discover() -> list[str]:
    return sorted(p.stem.removeprefix("bench_") for p in BENCH_DIR.glob("bench_*.py"))


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument(
        "--only", action="append", metavar="NAME", help="Run only bench_NAME.py (repeatable)."
    )
    parser.add_argument("--scale", type=float, default=1.0, help="Multiply data sizes (default 1).")
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--repeats", type=int, default=5, help="Timed repeats per measurement; best counts.")
    parser.add_argument("--seed", type=int, default=None, help="Seed of the synthetic data.")
    parser.add_argument("--no-readme", action="store_true", help="Do not rewrite bench/README.md.")
    parser.add_argument("--list", action="store_true", help="List the benchmarks and exit.")
    args = parser.parse_args(argv)
    if args.scale <= 0:
        parser.error("--scale must be positive")
    if args.repeats < 1:
        parser.error("--repeats must be at least 1")
    unknown = sorted(set(args.only or []) - set(discover()))
    if unknown:
        parser.error(f"no such benchmark: {', '.join(unknown)} (have: {', '.join(discover())})")
    return args


# --- The benchmark database ------------------------------------------------------------------


def prepare_database(db: str) -> str:
    """Point Django at a fresh, empty benchmark database; return its URL."""
    if db == "sqlite":
        folder = ROOT / "var" / "bench"
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / "bench.sqlite3"
        for leftover in (path, path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
            leftover.unlink(missing_ok=True)
        return f"sqlite:///{path}"
    url = os.environ.get("BENCH_DATABASE_URL", DEFAULT_PG_URL)
    import dj_database_url
    import psycopg
    from psycopg.conninfo import make_conninfo

    cfg = dj_database_url.parse(url)
    name = cfg["NAME"]
    if not re.fullmatch(r"[A-Za-z0-9_]+", name):
        raise SystemExit(f"refusing an unusual benchmark database name: {name!r}")
    server = make_conninfo(
        dbname="postgres",
        host=cfg.get("HOST") or None,
        port=cfg.get("PORT") or None,
        user=cfg.get("USER") or None,
        password=cfg.get("PASSWORD") or None,
    )
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.execute(f'CREATE DATABASE "{name}"')
    return url


def setup_django(database_url: str) -> None:
    os.environ["DATABASE_URL"] = database_url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "steward.settings")
    os.environ["STEWARD_ENV"] = "test"
    os.environ["DEBUG"] = "false"
    os.environ["LOG_LEVEL"] = "WARNING"
    for key in ("CELERY_BROKER_URL", "CELERY_RESULT_BACKEND"):
        os.environ.pop(key, None)
    import django
    from django.core.management import call_command

    django.setup()
    call_command("migrate", interactive=False, verbosity=0)


def reset_database() -> None:
    """Every benchmark module starts from a migrated, empty database (roles included)."""
    from django.core.management import call_command

    call_command("flush", interactive=False, verbosity=0)


def database_version() -> str:
    from django.db import connection

    if connection.vendor == "sqlite":
        return f"SQLite {sqlite3.sqlite_version}"
    with connection.cursor() as cursor:
        cursor.execute("SHOW server_version")
        (version,) = cursor.fetchone()
    return f"PostgreSQL {str(version).split()[0]}"


# --- Reporting --------------------------------------------------------------------------------


def seconds(value: float) -> str:
    if value == float("inf"):
        return "—"
    if value < 1:
        return f"{value * 1000:.3g} ms"
    return f"{value:.3g} s"


def table(rows: list[Row]) -> str:
    lines = [
        "| Benchmark | Baseline | Time | Subject | Time | Ratio | Target | Result | Notes |",
        "|---|---|--:|---|--:|--:|---|---|---|",
    ]
    for r in rows:
        cells = [
            r.name,
            r.baseline_label,
            seconds(r.baseline_s),
            r.subject_label,
            seconds(r.subject_s),
            f"{r.ratio:.2f}×",
            r.target,
            "pass" if r.passed else "**MISS**",
            r.notes,
        ]
        lines.append("| " + " | ".join(c.replace("|", "\\|") for c in cells) + " |")
    return "\n".join(lines)


def git_commit() -> str:
    def git(*args: str) -> str:
        try:
            done = subprocess.run(["git", *args], cwd=ROOT, capture_output=True, text=True, timeout=10)
        except (OSError, subprocess.TimeoutExpired):
            return ""
        return done.stdout.strip() if done.returncode == 0 else ""

    commit = git("rev-parse", "--short", "HEAD") or "unknown"
    dirty = bool(git("status", "--porcelain", "--untracked-files=no"))
    return f"`{commit}`" + (" with uncommitted changes" if dirty else "")


def section(db_title: str, args: argparse.Namespace, ctx: Context, rows: list[Row], elapsed: float) -> str:
    when = datetime.now(UTC).strftime("%Y-%m-%d %H:%M UTC")
    machine = f"{os.cpu_count()} CPUs, {platform.machine()}, Python {platform.python_version()}"
    if hasattr(os, "getloadavg"):  # a busy machine inflates every time: say how busy it was
        machine += f", load {os.getloadavg()[0]:.1f} at the end"
    header = (
        f"### {db_title}\n\n"
        f"Run {when} · commit {git_commit()} · {machine} · {database_version()} · "
        f"scale {args.scale:g} · seed {ctx.seed} · best of {ctx.repeats} · {elapsed:.0f} s in all\n"
    )
    return f"{header}\n{table(rows)}\n"


def rewrite_readme(db_title: str, text: str) -> None:
    """Replace this database's section between the markers, keeping the other database's."""
    readme = README.read_text(encoding="utf-8") if README.exists() else f"# Benchmarks\n\n{START}\n{END}\n"
    if START not in readme or END not in readme:
        readme = readme.rstrip("\n") + f"\n\n{START}\n{END}\n"
    head, rest = readme.split(START, 1)
    block, tail = rest.split(END, 1)
    sections: dict[str, str] = {}
    for chunk in re.split(r"(?m)^(?=### )", block):
        if chunk.startswith("### "):
            sections[chunk.split("\n", 1)[0][4:].strip()] = chunk.strip() + "\n"
    sections[db_title] = text.strip() + "\n"
    ordered = [sections[t] for t in DB_TITLES.values() if t in sections]
    ordered += [s for t, s in sections.items() if t not in DB_TITLES.values()]
    README.write_text(f"{head}{START}\n" + "\n".join(ordered) + f"{END}{tail}", encoding="utf-8")


# --- Main ---------------------------------------------------------------------------------------


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    names = args.only or discover()
    if args.list:
        print("\n".join(discover()))
        return 0
    started = time.perf_counter()
    db = "sqlite" if args.db == "sqlite" else "postgresql"
    print(f"Preparing a fresh {DB_TITLES[db]} benchmark database…", flush=True)
    setup_django(prepare_database(db))
    ctx = Context(scale=args.scale, repeats=args.repeats, db=db, log=lambda m: print(f"  {m}", flush=True))
    if args.seed is not None:
        ctx.seed = args.seed

    rows: list[Row] = []
    failed: list[str] = []
    for name in names:
        print(f"bench_{name}…", flush=True)
        reset_database()
        module_started = time.perf_counter()
        try:
            module = importlib.import_module(f"bench.bench_{name}")
            produced = module.run(ctx)
        except Exception:
            traceback.print_exc()
            failed.append(name)
            continue
        rows.extend(produced)
        print(f"  done in {time.perf_counter() - module_started:.1f} s", flush=True)

    elapsed = time.perf_counter() - started
    print()
    print(table(rows))
    print(f"\n{len(rows)} result(s) in {elapsed:.0f} s; {sum(not r.passed for r in rows)} target(s) missed.")
    if failed:
        print(f"FAILED to run: {', '.join(failed)}")
    if args.no_readme or args.only or failed:
        print("bench/README.md left as it was (only a complete run rewrites it).")
    else:
        rewrite_readme(DB_TITLES[db], section(DB_TITLES[db], args, ctx, rows, elapsed))
        print(f"Wrote the {DB_TITLES[db]} table into {README.relative_to(ROOT)}.")
    if failed:
        return 2
    return 0 if all(r.passed for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
