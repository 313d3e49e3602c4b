"""`manage.py backup` (pg_dump) and `manage.py restore` (pg_restore) on PostgreSQL, in a
throwaway database next to the test database. Runs in the PostgreSQL stage of the suite."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import uuid
from pathlib import Path
from urllib.parse import quote

import psycopg
import pytest
from django.conf import settings
from django.db import connection
from psycopg.conninfo import make_conninfo

pytestmark = pytest.mark.skipif(
    connection.vendor != "postgresql" or shutil.which("pg_dump") is None,
    reason="needs PostgreSQL and its client tools",
)

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def scratch_database():
    db = connection.settings_dict
    name = f"steward_backup_{uuid.uuid4().hex[:8]}"
    server = make_conninfo(
        dbname="postgres",
        host=db["HOST"] or None,
        port=db["PORT"] or None,
        user=db["USER"] or None,
        password=db["PASSWORD"] or None,
    )
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    auth = quote(db["USER"] or "") + (f":{quote(db['PASSWORD'])}" if db["PASSWORD"] else "")
    yield f"postgres://{auth}@{db['HOST'] or 'localhost'}:{db['PORT'] or 5432}/{name}"
    with psycopg.connect(server, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_backup_then_restore_on_postgresql(scratch_database, tmp_path):
    env = {
        **os.environ,
        "STEWARD_ENV": "test",
        "STEWARD_VAR_DIR": str(tmp_path),
        "DATABASE_URL": scratch_database,
    }
    env.pop("CELERY_BROKER_URL", None)

    def manage(*args: str) -> str:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        assert result.returncode == 0, result.stderr
        return result.stdout.strip()

    def create(code: str) -> None:
        manage(
            "shell",
            "-v",
            "0",
            "-c",
            "from vendors.services import vendor_create; "
            f"vendor_create(actor=None, code={code!r}, name={code!r})",
        )

    state = (
        "from vendors.models import Vendor; from core.audit import verify_chain; r = verify_chain(); "
        "print(sorted(Vendor.objects.values_list('code', flat=True)), r.ok, r.checked)"
    )
    manage("migrate", "--no-input", "-v", "0")
    create("before")
    dump = Path(manage("backup"))
    assert dump.parent == tmp_path / "backups" and dump.suffix == ".pgdump"
    create("after")
    assert "Audit chain intact: 1 event(s)" in manage("restore", str(dump), "--no-input")
    assert manage("shell", "-v", "0", "-c", state) == "['before'] True 1"
