"""`backup` and `restore` fail with a message that says what to do, never half-way."""

from __future__ import annotations

import shutil

import pytest
from django.core.management import CommandError, call_command

from core import backup

pytestmark = pytest.mark.django_db

POSTGRES = {"ENGINE": "django.db.backends.postgresql", "NAME": "steward", "HOST": "127.0.0.1"}


@pytest.fixture
def on_postgres_without_client_tools(monkeypatch, tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    monkeypatch.setattr(backup, "_database", lambda alias="default": POSTGRES)
    monkeypatch.setattr(shutil, "which", lambda name: None)


def test_backup_says_pg_dump_is_missing_and_how_to_get_it(on_postgres_without_client_tools, tmp_path):
    with pytest.raises(CommandError, match=r"pg_dump was not found on PATH.*postgresql-client"):
        call_command("backup")
    assert not list((tmp_path / "backups").glob("*.pgdump"))


def test_restore_says_pg_restore_is_missing(on_postgres_without_client_tools, tmp_path):
    dump = tmp_path / "steward.pgdump"
    dump.write_bytes(b"PGDMP")
    with pytest.raises(CommandError, match="pg_restore was not found on PATH"):
        call_command("restore", str(dump), interactive=False)


def test_a_failed_pg_dump_leaves_no_partial_file(monkeypatch, tmp_path, settings):
    settings.BACKUP_DIR = tmp_path / "backups"
    monkeypatch.setattr(backup, "_database", lambda alias="default": POSTGRES)
    monkeypatch.setattr(shutil, "which", lambda name: "/bin/false")
    with pytest.raises(CommandError, match="failed"):
        call_command("backup")
    assert list((tmp_path / "backups").iterdir()) == []


def test_restoring_a_missing_file_is_refused(tmp_path):
    with pytest.raises(CommandError, match="does not exist"):
        call_command("restore", str(tmp_path / "nowhere.sqlite3"), interactive=False)


def test_an_in_memory_database_cannot_be_backed_up(monkeypatch):
    monkeypatch.setattr(
        backup,
        "_database",
        lambda alias="default": {"ENGINE": "django.db.backends.sqlite3", "NAME": ":memory:"},
    )
    with pytest.raises(CommandError, match="not a file"):
        call_command("backup")


def test_other_databases_are_refused(monkeypatch):
    monkeypatch.setattr(
        backup, "_database", lambda alias="default": {"ENGINE": "django.db.backends.mysql", "NAME": "x"}
    )
    with pytest.raises(CommandError, match="SQLite and PostgreSQL"):
        call_command("backup")


def test_an_existing_output_file_is_never_overwritten(tmp_path, monkeypatch):
    db = tmp_path / "live.sqlite3"
    import sqlite3

    sqlite3.connect(db).close()
    monkeypatch.setattr(
        backup, "_database", lambda alias="default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(db)}
    )
    existing = tmp_path / "existing.sqlite3"
    existing.write_text("keep me")
    with pytest.raises(CommandError, match="already exists"):
        call_command("backup", output=existing)
    assert existing.read_text() == "keep me"
