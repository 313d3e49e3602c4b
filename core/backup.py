"""Backing up and restoring Steward's database (docs/operations.md).

SQLite: SQLite's online backup API, which copies a consistent image while the site keeps
running. PostgreSQL: ``pg_dump --format=custom`` and ``pg_restore --clean --if-exists``.
Uploaded files under MEDIA_ROOT are not in the database; operations.md says how to copy them.
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
from pathlib import Path
from typing import Any

from django.conf import settings
from django.db import connections
from django.utils import timezone

SQLITE_SUFFIX = ".sqlite3"
POSTGRES_SUFFIX = ".pgdump"
PREFIX = "steward-"


class BackupError(Exception):
    """A backup or restore could not be done; the message says why and what to do."""


def backup_dir() -> Path:
    return Path(getattr(settings, "BACKUP_DIR", Path(settings.VAR_DIR) / "backups"))


def _database(alias: str = "default") -> dict[str, Any]:
    return connections[alias].settings_dict


def _vendor(db: dict[str, Any]) -> str:
    engine = str(db["ENGINE"])
    if engine.endswith("sqlite3"):
        return "sqlite"
    if "postgresql" in engine:
        return "postgresql"
    raise BackupError(f"Backups support SQLite and PostgreSQL, not {engine}.")


def _sqlite_path(db: dict[str, Any]) -> Path:
    name = str(db["NAME"])
    if name in ("", ":memory:") or name.startswith("file:") or "mode=memory" in name:
        raise BackupError(f"The SQLite database {name!r} is not a file; there is nothing to back up.")
    return Path(name)


def _new_backup_path(suffix: str) -> Path:
    folder = backup_dir()
    folder.mkdir(parents=True, exist_ok=True)
    stamp = timezone.now().strftime("%Y%m%dT%H%M%SZ")
    path = folder / f"{PREFIX}{stamp}{suffix}"
    n = 2
    while path.exists():  # two backups in the same second
        path = folder / f"{PREFIX}{stamp}-{n}{suffix}"
        n += 1
    return path


def _check_sqlite_file(path: Path) -> None:
    """Refuse anything that is not an intact SQLite database holding a migrated Steward schema."""
    try:
        con = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        try:
            (result,) = con.execute("PRAGMA integrity_check").fetchone()
            has_schema = con.execute(
                "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'django_migrations'"
            ).fetchone()
        finally:
            con.close()
    except sqlite3.DatabaseError as exc:
        raise BackupError(f"{path} is not a readable SQLite database: {exc}.") from exc
    if result != "ok":
        raise BackupError(f"{path} is damaged (SQLite integrity check: {result}).")
    if not has_schema:
        raise BackupError(f"{path} is an SQLite database but not a Steward backup (no migrations table).")


def _sqlite_copy(source: Path, target: Path) -> None:
    src = sqlite3.connect(source)
    dst = sqlite3.connect(target)
    try:
        src.backup(dst)
    finally:
        dst.close()
        src.close()


def _pg_env(db: dict[str, Any]) -> dict[str, str]:
    env = dict(os.environ)
    for key, var in (("HOST", "PGHOST"), ("PORT", "PGPORT"), ("USER", "PGUSER"), ("PASSWORD", "PGPASSWORD")):
        if db.get(key):
            env[var] = str(db[key])
    sslmode = (db.get("OPTIONS") or {}).get("sslmode")
    if sslmode:
        env["PGSSLMODE"] = str(sslmode)
    return env


def _pg_tool(name: str) -> str:
    path = shutil.which(name)
    if path is None:
        raise BackupError(
            f"{name} was not found on PATH. Install the PostgreSQL client tools of the server's major "
            "version (Debian: apt install postgresql-client-15) and run the command again."
        )
    return path


def _run(command: list[str], env: dict[str, str]) -> None:
    # A fixed tool found on PATH, arguments from settings, no shell: nothing untrusted runs.
    result = subprocess.run(command, env=env, capture_output=True, text=True, check=False)  # noqa: S603
    if result.returncode != 0:
        tool = Path(command[0]).name
        raise BackupError(f"{tool} failed (exit {result.returncode}): {result.stderr.strip()[-2000:]}")


def backup_database(*, output: Path | None = None, alias: str = "default") -> Path:
    """Write a consistent copy of the database to OUTPUT (default: a timestamped file in BACKUP_DIR)."""
    db = _database(alias)
    vendor = _vendor(db)
    if vendor == "sqlite":
        source = _sqlite_path(db)
        if not source.exists():
            raise BackupError(f"The SQLite database {source} does not exist yet; run migrate first.")
        target = output or _new_backup_path(SQLITE_SUFFIX)
        if target.exists():
            raise BackupError(f"{target} already exists; choose another file.")
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
        # A backup is one self-contained file, whatever journal mode the live database uses.
        con = sqlite3.connect(target)
        try:
            con.execute("PRAGMA journal_mode=DELETE")
        finally:
            con.close()
        _check_sqlite_file(target)
        return target
    pg_dump = _pg_tool("pg_dump")
    target = output or _new_backup_path(POSTGRES_SUFFIX)
    if target.exists():
        raise BackupError(f"{target} already exists; choose another file.")
    target.parent.mkdir(parents=True, exist_ok=True)
    try:
        _run([pg_dump, "--format=custom", f"--file={target}", f"--dbname={db['NAME']}"], _pg_env(db))
    except BackupError:
        target.unlink(missing_ok=True)
        raise
    return target


def restore_database(source: Path, *, alias: str = "default") -> None:
    """Replace the database's contents with the backup SOURCE. Stop the web and worker processes first."""
    if not source.is_file():
        raise BackupError(f"{source} does not exist or is not a file.")
    db = _database(alias)
    vendor = _vendor(db)
    if vendor == "sqlite":
        _check_sqlite_file(source)
        target = _sqlite_path(db)
        connections[alias].close()  # nothing of ours may hold the database open while it is replaced
        target.parent.mkdir(parents=True, exist_ok=True)
        _sqlite_copy(source, target)
        return
    pg_restore = _pg_tool("pg_restore")
    connections[alias].close()
    _run(
        [
            pg_restore,
            "--clean",
            "--if-exists",
            "--no-owner",
            "--single-transaction",
            "--exit-on-error",
            f"--dbname={db['NAME']}",
            str(source),
        ],
        _pg_env(db),
    )


def prune_backups(*, keep: int) -> list[Path]:
    """Delete all but the KEEP newest backups in BACKUP_DIR; returns what was deleted."""
    files = sorted(
        (p for p in backup_dir().glob(f"{PREFIX}*") if p.suffix in (SQLITE_SUFFIX, POSTGRES_SUFFIX)),
        key=lambda p: p.stat().st_mtime,
        reverse=True,
    )
    doomed = files[keep:]
    for path in doomed:
        path.unlink()
    return doomed
