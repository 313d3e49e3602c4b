"""Backup files: timestamped under BACKUP_DIR, never overwritten, pruned on request, and a
restore checks its file before it touches the database."""

from __future__ import annotations

import sqlite3

import pytest
from django.core.management import CommandError, call_command

from core import backup

pytestmark = pytest.mark.django_db


@pytest.fixture
def live_db(tmp_path, monkeypatch, settings):
    """A small SQLite file standing in for the live database (the test database is separate)."""
    settings.BACKUP_DIR = tmp_path / "backups"
    path = tmp_path / "live.sqlite3"
    con = sqlite3.connect(path)
    con.execute("CREATE TABLE django_migrations (id INTEGER PRIMARY KEY, app TEXT)")
    con.execute("INSERT INTO django_migrations (app) VALUES ('core')")
    con.commit()
    con.close()
    monkeypatch.setattr(
        backup,
        "_database",
        lambda alias="default": {"ENGINE": "django.db.backends.sqlite3", "NAME": str(path)},
    )
    return path


def rows(path) -> list[str]:
    con = sqlite3.connect(path)
    try:
        return [app for (app,) in con.execute("SELECT app FROM django_migrations ORDER BY id")]
    finally:
        con.close()


def test_a_backup_is_a_timestamped_self_contained_copy(live_db, tmp_path, capsys):
    call_command("backup")
    path = tmp_path / "backups" / capsys.readouterr().out.strip().rsplit("/", 1)[-1]
    assert path.exists()
    assert path.name.startswith("steward-") and path.name.endswith("Z.sqlite3")
    assert rows(path) == ["core"]
    con = sqlite3.connect(path)
    assert con.execute("PRAGMA journal_mode").fetchone()[0] == "delete"
    con.close()


def test_two_backups_in_the_same_second_do_not_overwrite_each_other(live_db, tmp_path):
    first = backup.backup_database()
    second = backup.backup_database()
    assert first != second
    assert first.exists() and second.exists()


def test_keep_prunes_all_but_the_newest(live_db, tmp_path, capsys):
    made = [backup.backup_database() for _ in range(3)]
    unrelated = tmp_path / "backups" / "notes.txt"
    unrelated.write_text("not a backup")
    call_command("backup", keep=2)
    newest = tmp_path / "backups" / capsys.readouterr().out.strip().rsplit("/", 1)[-1]
    remaining = set((tmp_path / "backups").iterdir())
    assert remaining == {made[-1], newest, unrelated}


def test_keep_must_be_positive(live_db):
    with pytest.raises(CommandError, match="at least 1"):
        call_command("backup", keep=0)


def test_restore_refuses_a_file_that_is_not_a_database(live_db, tmp_path):
    junk = tmp_path / "junk.sqlite3"
    junk.write_bytes(b"this is not a database" * 100)
    with pytest.raises(CommandError, match="not a readable SQLite database"):
        call_command("restore", str(junk), interactive=False)
    assert rows(live_db) == ["core"]


def test_restore_refuses_a_database_that_is_not_steward(live_db, tmp_path):
    other = tmp_path / "other.sqlite3"
    con = sqlite3.connect(other)
    con.execute("CREATE TABLE t (x)")
    con.close()
    with pytest.raises(CommandError, match="not a Steward backup"):
        call_command("restore", str(other), interactive=False)
    assert rows(live_db) == ["core"]


def test_restore_asks_first_and_does_nothing_unless_told_yes(live_db, tmp_path, monkeypatch):
    saved = backup.backup_database()
    con = sqlite3.connect(live_db)
    con.execute("INSERT INTO django_migrations (app) VALUES ('later')")
    con.commit()
    con.close()
    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    with pytest.raises(CommandError, match="cancelled"):
        call_command("restore", str(saved))
    assert rows(live_db) == ["core", "later"]
