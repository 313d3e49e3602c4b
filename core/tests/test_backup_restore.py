"""`manage.py backup` and `manage.py restore` on a SQLite file database, run as an operator runs
them: data written before the backup comes back, data written after it is gone, and the restored
audit chain still verifies."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(settings.BASE_DIR)


@pytest.fixture
def steward(tmp_path):
    """Run manage.py against a fresh SQLite file database of its own under TMP_PATH."""
    env = {
        **os.environ,
        "STEWARD_ENV": "test",
        "STEWARD_VAR_DIR": str(tmp_path / "var"),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'steward.sqlite3'}",
    }
    env.pop("CELERY_BROKER_URL", None)

    def manage(*args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        result = subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=ROOT,
            env=env,
            capture_output=True,
            text=True,
            timeout=120,
        )
        if check and result.returncode != 0:
            pytest.fail(f"manage.py {' '.join(args)} exited {result.returncode}:\n{result.stderr}")
        return result

    def python(code: str) -> str:
        return manage("shell", "-v", "0", "-c", code).stdout.strip()

    manage("migrate", "--no-input", "-v", "0")
    return manage, python


def create_vendor(code: str) -> str:
    return (
        "from vendors.services import vendor_create; "
        f"vendor_create(actor=None, code={code!r}, name='{code.title()} Ltd')"
    )


STATE = (
    "from vendors.models import Vendor; from core.audit import verify_chain; "
    "r = verify_chain(); "
    "print(sorted(Vendor.objects.values_list('code', flat=True)), r.ok, r.checked)"
)


def test_backup_then_restore_brings_back_exactly_the_backed_up_state(steward, tmp_path):
    manage, python = steward
    python(create_vendor("before"))

    backup = Path(manage("backup").stdout.strip())
    assert backup.parent == tmp_path / "var" / "backups"
    assert backup.name.startswith("steward-") and backup.suffix == ".sqlite3"
    assert backup.stat().st_size > 0

    python(create_vendor("after"))
    assert python(STATE) == "['after', 'before'] True 2"

    restored = manage("restore", str(backup), "--no-input")
    assert "Audit chain intact: 1 event(s)" in restored.stdout
    assert python(STATE) == "['before'] True 1"
    assert manage("verify_audit_chain").returncode == 0

    # The restored chain carries on: a new event links to the restored head.
    python(create_vendor("later"))
    assert python(STATE) == "['before', 'later'] True 2"
