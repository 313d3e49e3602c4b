"""Production settings: secure by default, and refusing to start without what they need.

Each case imports steward.settings in a fresh interpreter with only the environment given,
as a deployment would, and reads the values back.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SECRET = "k3Yv0-production-secret-for-tests-only-5d1c0b7e9a8f7e6d5c4b3a2910"
HOST = "steward.example.hk"

_READ_SETTINGS = """
import json
import steward.settings as s
print(json.dumps({
    name: getattr(s, name, None)
    for name in %r
}, default=str))
"""
NAMES = [
    "DEBUG",
    "SECRET_KEY",
    "ALLOWED_HOSTS",
    "TLS",
    "SECURE_SSL_REDIRECT",
    "SECURE_HSTS_SECONDS",
    "SECURE_HSTS_INCLUDE_SUBDOMAINS",
    "SECURE_PROXY_SSL_HEADER",
    "SECURE_REDIRECT_EXEMPT",
    "SESSION_COOKIE_SECURE",
    "CSRF_COOKIE_SECURE",
    "SESSION_COOKIE_HTTPONLY",
    "SESSION_COOKIE_SAMESITE",
    "CSRF_COOKIE_SAMESITE",
    "SECURE_CONTENT_TYPE_NOSNIFF",
    "SECURE_REFERRER_POLICY",
    "X_FRAME_OPTIONS",
    "STEWARD_2FA_REQUIRED_ROLES",
    "STORAGES",
    "DATA_UPLOAD_MAX_MEMORY_SIZE",
]


def _environment(tmp_path: Path, **values: str) -> dict[str, str]:
    # Nothing of the test run's own configuration leaks in: only what a deployment would set.
    env = {"PATH": os.environ.get("PATH", "/usr/bin:/bin"), "STEWARD_VAR_DIR": str(tmp_path)}
    env.update(values)
    return env


def run_python(tmp_path: Path, code: str, **values: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-c", code],
        cwd=ROOT,
        env=_environment(tmp_path, **values),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load(tmp_path: Path, **values: str) -> dict[str, Any]:
    result = run_python(tmp_path, _READ_SETTINGS % NAMES, **values)
    assert result.returncode == 0, result.stderr
    settings: dict[str, Any] = json.loads(result.stdout.strip().splitlines()[-1])
    return settings


def refused(tmp_path: Path, **values: str) -> str:
    """The settings refuse to load; returns what they said."""
    result = run_python(tmp_path, _READ_SETTINGS % NAMES, **values)
    assert result.returncode != 0, f"settings loaded with {values}"
    assert "ImproperEnvironment" in result.stderr, result.stderr
    return result.stderr


def production(**values: str) -> dict[str, str]:
    return {"STEWARD_ENV": "production", "SECRET_KEY": SECRET, "ALLOWED_HOSTS": HOST, **values}


def test_production_is_secure_by_default(tmp_path):
    s = load(tmp_path, **production())

    assert s["DEBUG"] is False
    assert s["SECRET_KEY"] == SECRET
    assert s["ALLOWED_HOSTS"] == [HOST]
    assert s["TLS"] is True
    assert s["SECURE_SSL_REDIRECT"] is True
    assert s["SECURE_HSTS_SECONDS"] >= 31536000
    assert s["SECURE_HSTS_INCLUDE_SUBDOMAINS"] is True
    assert s["SECURE_PROXY_SSL_HEADER"] == ["HTTP_X_FORWARDED_PROTO", "https"]
    assert s["SESSION_COOKIE_SECURE"] is True
    assert s["CSRF_COOKIE_SECURE"] is True
    assert s["SESSION_COOKIE_HTTPONLY"] is True
    assert s["SESSION_COOKIE_SAMESITE"] == s["CSRF_COOKIE_SAMESITE"] == "Lax"
    assert s["SECURE_CONTENT_TYPE_NOSNIFF"] is True
    assert s["SECURE_REFERRER_POLICY"] == "same-origin"
    assert s["X_FRAME_OPTIONS"] == "DENY"
    assert {"administrator", "data_protection_officer"} <= set(s["STEWARD_2FA_REQUIRED_ROLES"])
    assert "Manifest" in s["STORAGES"]["staticfiles"]["BACKEND"]
    assert s["DATA_UPLOAD_MAX_MEMORY_SIZE"] == 2 * 1024 * 1024


def test_development_has_no_tls_settings_unless_asked(tmp_path):
    plain = load(tmp_path, STEWARD_ENV="development")
    tls = load(tmp_path, STEWARD_ENV="development", STEWARD_TLS="true")

    assert (
        plain["TLS"] is False
        and plain["SECURE_SSL_REDIRECT"] is None
        and plain["SESSION_COOKIE_SECURE"] is None
    )
    assert tls["TLS"] is True and tls["SECURE_SSL_REDIRECT"] is True and tls["SESSION_COOKIE_SECURE"] is True


def test_the_health_probes_are_exempt_from_the_https_redirect(tmp_path):
    s = load(tmp_path, **production())

    assert set(s["SECURE_REDIRECT_EXEMPT"]) == {r"^healthz$", r"^readyz$"}


def test_production_passes_djangos_deployment_checks(tmp_path):
    result = run_python(
        tmp_path,
        "import sys; from django.core.management import execute_from_command_line; "
        "execute_from_command_line(['manage.py', 'check', '--deploy'])",
        DJANGO_SETTINGS_MODULE="steward.settings",
        **production(),
    )

    assert result.returncode == 0, result.stderr
    output = result.stdout + result.stderr
    reported = {line.split(")")[0].split("(")[-1] for line in output.splitlines() if "(security." in line}
    # W021 asks for HSTS preload, a commitment for the whole domain that the operator must make, not us.
    assert reported <= {"security.W021"}, output


def test_production_without_a_secret_key_fails_loudly(tmp_path):
    values = production()
    del values["SECRET_KEY"]

    assert "SECRET_KEY must be set" in refused(tmp_path, **values)


def test_production_with_the_development_key_fails_loudly(tmp_path):
    stderr = refused(
        tmp_path,
        **production(SECRET_KEY="steward-insecure-development-key-never-use-in-production-0123456789"),
    )

    assert "development key" in stderr


def test_production_without_allowed_hosts_fails_loudly(tmp_path):
    values = production()
    del values["ALLOWED_HOSTS"]

    assert "ALLOWED_HOSTS must be set" in refused(tmp_path, **values)


def test_production_reads_the_secret_key_from_a_file(tmp_path):
    key_file = tmp_path / "secret_key"
    key_file.write_text(SECRET + "\n", encoding="utf-8")
    values = production(SECRET_KEY_FILE=str(key_file))
    del values["SECRET_KEY"]

    assert load(tmp_path, **values)["SECRET_KEY"] == SECRET


@pytest.mark.parametrize(
    ("name", "value", "message"),
    [
        ("DEBUG", "maybe", "is not a boolean"),
        ("STEWARD_TLS", "yes-please", "is not a boolean"),
        ("DATA_UPLOAD_MAX_MEMORY_SIZE", "2MB", "is not a whole number"),
        ("STEWARD_ENV", "staging", "must be one of"),
    ],
)
def test_a_malformed_setting_stops_start_up(tmp_path, name, value, message):
    assert message in refused(tmp_path, **production(**{name: value}))
