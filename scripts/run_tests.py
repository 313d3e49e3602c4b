#!/usr/bin/env python
"""Run Steward's whole test suite: the command behind `make test` and `.ci/run`.

Stages, in order:
  1. static checks: ruff, mypy --strict, missing migrations, every package's tests collected;
  2. the suite on SQLite (browser tests and API fuzzing included);
  3. the suite on PostgreSQL, in a throwaway database created for this run and dropped after;
  4. the end-to-end job: a real Celery worker over Redis (database 15), on PostgreSQL.

Where PostgreSQL or Redis do not answer, a developer's run says so loudly and goes on with
what it can; under CI=true the same is a failure, so CI always runs the full matrix.
Servers: PostgreSQL and Redis on 127.0.0.1 by default; a postgres:// DATABASE_URL or a
redis:// CELERY_BROKER_URL in the environment names other ones (the SQLite stage ignores both).
Debian's chromium is installed for the browser tests if it is missing (needs root and apt-get).

Each pytest stage runs on two processes (pytest-xdist) and has a time limit; the wall time of
every stage is printed in the summary, whose last line is `total: N passed, N failed, N skipped`.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
import tomllib
import traceback
import uuid
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
VENV_BIN = Path(sys.executable).parent
ARTIFACTS = ROOT / "test-artifacts"
CI = os.environ.get("CI", "").lower() in {"1", "true", "yes"}
CHROMIUM = Path("/usr/bin/chromium")
# fonts-wqy-microhei (1.6 MB) lets chromium draw Chinese names in screenshots; fonts-noto-cjk is 56 MB.
BROWSER_PACKAGES = ["chromium", "fonts-wqy-microhei"]

WORKERS = os.environ.get("STEWARD_TEST_WORKERS", "2")  # pytest-xdist processes per stage ("0": none)
# seconds; a hung stage is killed and fails, so CI never waits forever. A database stage takes about
# 10 minutes on an idle 2-core machine; 30 leaves room for a busy one while two stages stay well
# inside CI's 90-minute limit.
STAGE_LIMIT = 30 * 60
BUDGET = 30 * 60  # the limit for the whole run on 2 cores; past two thirds of it we say so
SERVER_WAIT = 30  # seconds to wait for PostgreSQL or Redis to accept connections
APT_LIMIT = 15 * 60

DEFAULT_POSTGRES = "postgres://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS = "redis://127.0.0.1:6379/15"

totals = {"passed": 0, "failed": 0, "skipped": 0}
problems: list[str] = []
timings: list[tuple[str, float, str]] = []


def banner(text: str) -> None:
    print(f"\n=== {text} ===", flush=True)


def loud(text: str) -> None:
    line = "!" * 78
    print(f"\n{line}\n!! {text}\n{line}\n", flush=True)


def missing_server(message: str) -> None:
    """Under CI a missing server fails the run; on a developer's machine it is only shouted about."""
    if CI:
        problems.append(message)
        loud(message + " CI=true: this fails the run.")
    else:
        loud(message + " Running what can run; CI runs the whole matrix.")


@contextmanager
def stage(name: str) -> Iterator[None]:
    """Time a stage; its line in the summary says whether it added a problem."""
    before = len(problems)
    start = time.monotonic()
    try:
        yield
    except Exception as exc:  # a broken stage is reported and the run goes on to the next one
        traceback.print_exc()
        problems.append(f"{name}: {exc.__class__.__name__}: {exc}")
    finally:
        outcome = "ok" if len(problems) == before else "FAILED"
        elapsed = time.monotonic() - start
        timings.append((name, elapsed, outcome))
        print(f"--- {name}: {outcome} in {elapsed:.1f}s", flush=True)


def run(cmd: list[str], env: dict[str, str] | None = None, limit: float | None = None) -> int:
    """Run CMD in its own process group; past LIMIT seconds the whole group is killed."""
    print("$ " + " ".join(cmd), flush=True)
    process = subprocess.Popen(cmd, cwd=ROOT, env=env, stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        return process.wait(timeout=limit)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait()
        problems.append(f"{' '.join(cmd[:2])} was killed after {limit:.0f}s")
        return -signal.SIGKILL
    except KeyboardInterrupt:
        os.killpg(process.pid, signal.SIGTERM)
        raise


def poll(check: Callable[[], str | None], seconds: float) -> str | None:
    """Call CHECK until it returns None (ready) or SECONDS pass; return the last error."""
    deadline = time.monotonic() + seconds
    error = check()
    while error is not None and time.monotonic() < deadline:
        time.sleep(1)
        error = check()
    return error


# --- Servers ---------------------------------------------------------------------------------


def with_path(url: str, path: str) -> str:
    parts = urlsplit(url)
    return urlunsplit((parts.scheme, parts.netloc, path, parts.query, parts.fragment))


def postgres_server() -> str:
    url = os.environ.get("DATABASE_URL", "")
    return (
        with_path(url, "/postgres") if url.startswith(("postgres://", "postgresql://")) else DEFAULT_POSTGRES
    )


def redis_server() -> str:
    url = os.environ.get("CELERY_BROKER_URL", "")
    return with_path(url, "/15") if url.startswith("redis://") else DEFAULT_REDIS


def postgres_error(url: str) -> str | None:
    import psycopg

    try:
        with psycopg.connect(url, connect_timeout=3) as conn:
            conn.execute("SELECT 1")
    except Exception as exc:  # any driver error: not accepting connections (yet)
        return f"{exc.__class__.__name__}: {str(exc).strip().splitlines()[0] if str(exc).strip() else ''}"
    return None


def redis_error(url: str) -> str | None:
    import redis

    try:
        redis.Redis.from_url(url, socket_connect_timeout=3, socket_timeout=3).ping()
    except Exception as exc:  # any transport error: not answering (yet)
        return f"{exc.__class__.__name__}: {exc}"
    return None


def try_start(name: str, command: list[str]) -> None:
    if shutil.which(command[0]) is None:
        return
    print(f"{name} is not answering; trying: {' '.join(command)}", flush=True)
    try:
        subprocess.run(
            command,
            stdin=subprocess.DEVNULL,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            timeout=60,
        )
    except (OSError, subprocess.TimeoutExpired) as exc:
        print(f"could not start {name}: {exc}", flush=True)


def ensure_postgres(url: str) -> str | None:
    """None when PostgreSQL accepts connections (starting a local cluster if need be), else why not."""
    if postgres_error(url) is None:
        return None
    host = urlsplit(url).hostname or ""
    versions = sorted(os.listdir("/etc/postgresql")) if os.path.isdir("/etc/postgresql") else []
    if host in {"127.0.0.1", "localhost"} and versions:
        try_start("PostgreSQL", ["pg_ctlcluster", "--skip-systemctl-redirect", versions[-1], "main", "start"])
    return poll(lambda: postgres_error(url), SERVER_WAIT)


def ensure_redis(url: str) -> str | None:
    if redis_error(url) is None:
        return None
    parts = urlsplit(url)
    if (parts.hostname or "") in {"127.0.0.1", "localhost"}:
        port = str(parts.port or 6379)
        try_start(
            "Redis",
            ["redis-server", "--daemonize", "yes", "--bind", "127.0.0.1", "--port", port, "--save", ""],
        )
    return poll(lambda: redis_error(url), SERVER_WAIT)


@contextmanager
def throwaway_database(server: str) -> Iterator[str]:
    """A database of this run's own on SERVER, dropped afterwards with the test copies made of it.

    pytest-django creates ``test_<name>`` (``test_<name>_gw0``… under xdist) from its settings
    and drops them itself; a killed run leaves them behind, so they are dropped here too.
    """
    import psycopg
    from psycopg import sql

    name = f"steward_ci_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    print(f"created the throwaway database {name}", flush=True)
    try:
        yield with_path(server, f"/{name}")
    finally:
        try:
            with psycopg.connect(server, autocommit=True) as conn:
                rows = conn.execute(
                    "SELECT datname FROM pg_database WHERE datname = %s OR datname LIKE %s",
                    [name, f"test\\_{name}%"],
                ).fetchall()
                for (db,) in rows:
                    conn.execute(
                        sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(db))
                    )
            print(f"dropped {', '.join(db for (db,) in rows)}", flush=True)
        except Exception as exc:  # leaving a database behind is untidy, not a test failure
            print(f"could not drop {name}: {exc}", flush=True)


# --- Browser ---------------------------------------------------------------------------------


def ensure_chromium() -> bool:
    if CHROMIUM.exists():
        return True
    if shutil.which("apt-get") is None or os.geteuid() != 0:
        print("chromium is missing and this is not a root shell with apt-get: cannot install it", flush=True)
        return False
    print(f"Installing Debian's {' '.join(BROWSER_PACKAGES)} for the browser tests…", flush=True)
    env = {**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
    run(["apt-get", "update", "-qq"], env=env, limit=APT_LIMIT)
    run(
        ["apt-get", "install", "-y", "-qq", "--no-install-recommends", *BROWSER_PACKAGES],
        env=env,
        limit=APT_LIMIT,
    )
    return CHROMIUM.exists()


# --- Checks and pytest -----------------------------------------------------------------------


def uncollected_test_packages() -> list[str]:
    """Packages with a tests/ folder that pytest's testpaths leave out: their tests would never run."""
    config = tomllib.loads((ROOT / "pyproject.toml").read_text())
    testpaths = set(config["tool"]["pytest"]["ini_options"].get("testpaths", []))
    found = {p.parent.parent.name for p in ROOT.glob("*/tests/__init__.py")}
    return sorted(found - testpaths)


def static_checks(base_env: dict[str, str]) -> None:
    with stage("ruff"):
        if run([str(VENV_BIN / "ruff"), "check", "."], limit=STAGE_LIMIT) != 0:
            problems.append("ruff reported problems")
    with stage("mypy --strict"):
        if run([str(VENV_BIN / "mypy"), "."], limit=STAGE_LIMIT) != 0:
            problems.append("mypy reported problems")
    with stage("migrations are up to date"):
        command = [sys.executable, "manage.py", "makemigrations", "--check", "--dry-run"]
        if run(command, env={**os.environ, **base_env}, limit=STAGE_LIMIT) != 0:
            problems.append("a model change has no migration")
    with stage("every package's tests are collected"):
        for package in uncollected_test_packages():
            problems.append(
                f"{package}/tests is not in [tool.pytest.ini_options] testpaths: its tests never run"
            )
            print(problems[-1], flush=True)


def pytest(name: str, env: dict[str, str], args: list[str], workers: str = WORKERS) -> dict[str, int]:
    """Run one pytest stage; add its counts to the totals. Exit code 5 (no tests) is a failure."""
    banner(f"pytest: {name}")
    junit = ARTIFACTS / f"junit-{name}.xml"
    junit.unlink(missing_ok=True)
    parallel = ["-n", workers] if workers not in {"", "0"} else []
    code = run(
        [str(VENV_BIN / "pytest"), f"--junitxml={junit}", "-q", "--durations=10", *parallel, *args],
        env={**os.environ, **env},
        limit=STAGE_LIMIT,
    )
    counts = {"tests": 0, "failed": 0, "skipped": 0}
    if junit.exists():
        root = ET.parse(junit).getroot()
        suites = [root] if root.tag == "testsuite" else list(root)
        counts["tests"] = sum(int(s.get("tests", 0)) for s in suites)
        counts["failed"] = sum(int(s.get("failures", 0)) + int(s.get("errors", 0)) for s in suites)
        counts["skipped"] = sum(int(s.get("skipped", 0)) for s in suites)
    totals["passed"] += counts["tests"] - counts["failed"] - counts["skipped"]
    totals["failed"] += counts["failed"]
    totals["skipped"] += counts["skipped"]
    if code == 5 or counts["tests"] == 0:
        problems.append(f"{name}: no tests ran (pytest exit code {code})")
    elif code != 0:
        problems.append(f"{name}: pytest exited {code}")
    return counts


def main() -> int:
    os.chdir(ROOT)
    started = time.monotonic()
    pg_server, redis_url = postgres_server(), redis_server()
    for key in ("DATABASE_URL", "CELERY_BROKER_URL", "CELERY_RESULT_BACKEND", "DJANGO_ALLOW_ASYNC_UNSAFE"):
        os.environ.pop(key, None)
    shutil.rmtree(ARTIFACTS / "screenshots", ignore_errors=True)
    (ARTIFACTS / "var" / "static").mkdir(parents=True, exist_ok=True)  # STATIC_ROOT, or whitenoise warns
    base_env = {"STEWARD_ENV": "test", "STEWARD_VAR_DIR": str(ARTIFACTS / "var")}
    print(f"CI={'true' if CI else 'false'}; pytest-xdist workers per stage: {WORKERS}", flush=True)

    static_checks(base_env)

    with stage("chromium for the browser tests"):
        browser_ok = ensure_chromium()
        if not browser_ok:
            missing_server(
                f"{CHROMIUM} is missing and could not be installed: the browser tests did not run."
            )
    skip_browser = [] if browser_ok else ["not browser"]

    def markers(*parts: str) -> list[str]:
        return ["-m", " and ".join([*skip_browser, *parts])]

    with stage("pytest on SQLite"):
        pytest("sqlite", base_env, markers("not celery_e2e"))

    with stage("PostgreSQL accepts connections"):
        pg_error = ensure_postgres(pg_server)
        if pg_error:
            missing_server(
                f"PostgreSQL at {urlsplit(pg_server).netloc} is not answering ({pg_error}): "
                "the PostgreSQL stage and the Celery end-to-end job did not run."
            )
    if not pg_error:
        with stage("pytest on PostgreSQL"), throwaway_database(pg_server) as database_url:
            pytest("postgresql", {**base_env, "DATABASE_URL": database_url}, markers("not celery_e2e"))

    with stage("Redis answers"):
        redis_problem = ensure_redis(redis_url)
        if redis_problem:
            missing_server(
                f"Redis at {urlsplit(redis_url).netloc} is not answering ({redis_problem}): "
                "the Celery end-to-end job did not run."
            )
    if not pg_error and not redis_problem:
        with stage("pytest: real Celery worker over Redis"), throwaway_database(pg_server) as database_url:
            e2e_env = {
                **base_env,
                "DATABASE_URL": database_url,
                "CELERY_BROKER_URL": redis_url,
                "CELERY_RESULT_BACKEND": redis_url,
            }
            # One process: the module starts one worker on the one test database.
            counts = pytest("celery-e2e", e2e_env, ["-m", "celery_e2e"], workers="0")
            if counts["skipped"]:
                problems.append("celery-e2e: tests were skipped although PostgreSQL and Redis answer")

    banner("summary")
    for name, seconds, outcome in timings:
        print(f"  {name:<42} {outcome:<7} {seconds:7.1f}s")
    elapsed = time.monotonic() - started
    print(f"  {'whole run':<42} {'':<7} {elapsed:7.1f}s")
    if elapsed > BUDGET * 2 / 3:
        loud(
            f"The run took {elapsed / 60:.1f} minutes; the budget is {BUDGET // 60} on 2 cores: "
            "see the slowest tests of each stage above."
        )
    for problem in problems:
        print(f"FAILED: {problem}")
    print(
        f"total: {totals['passed']} passed, {totals['failed']} failed, {totals['skipped']} skipped",
        flush=True,
    )
    return 1 if problems or totals["failed"] else 0


if __name__ == "__main__":
    sys.exit(main())
