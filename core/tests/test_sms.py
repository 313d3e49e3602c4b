"""SMS backends (core.sms), chosen by STEWARD_SMS_BACKEND like Django's EMAIL_BACKEND: console,
in-memory, the e-mail-to-SMS gateway, and a provider's JSON API over HTTP (tested against a stub
server on 127.0.0.1: no network)."""

from __future__ import annotations

import io
import json
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured

from core import sms
from steward.env import env_str


class _Provider(BaseHTTPRequestHandler):
    status = 202
    received: list[dict[str, Any]] = []

    def do_POST(self) -> None:  # noqa: N802 (the http.server API)
        length = int(self.headers["Content-Length"])
        self.received.append(
            {
                "path": self.path,
                "auth": self.headers["Authorization"],
                "type": self.headers["Content-Type"],
                "body": json.loads(self.rfile.read(length)),
            }
        )
        self.send_response(self.status)
        self.end_headers()
        self.wfile.write(b"{}")

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def provider() -> Iterator[tuple[str, type[_Provider]]]:
    _Provider.received = []
    _Provider.status = 202
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Provider)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1/messages", _Provider
    finally:
        server.shutdown()
        server.server_close()


def test_no_backend_means_no_sms(settings):
    settings.STEWARD_SMS_BACKEND = ""
    settings.STEWARD_SMS_GATEWAY_EMAIL = ""
    assert not sms.sms_configured()
    with pytest.raises(ImproperlyConfigured):
        sms.send_sms("+85291234567", "hello")


def test_the_gateway_address_alone_still_selects_the_email_gateway(settings, mailoutbox):
    settings.STEWARD_SMS_BACKEND = ""
    settings.STEWARD_SMS_GATEWAY_EMAIL = "{number}@sms.example.hk"
    assert sms.backend_path() == "core.sms.EmailGatewayBackend"
    assert sms.send_mass_sms([("+85291234567", "Your link"), ("+85261112222", "Another")]) == 2
    assert [m.to for m in mailoutbox] == [["85291234567@sms.example.hk"], ["85261112222@sms.example.hk"]]
    assert mailoutbox[0].body == "Your link"


def test_a_gateway_address_without_the_number_is_refused(settings):
    settings.STEWARD_SMS_BACKEND = "core.sms.EmailGatewayBackend"
    settings.STEWARD_SMS_GATEWAY_EMAIL = "sms@example.hk"
    with pytest.raises(ImproperlyConfigured, match="number"):
        sms.send_sms("+85291234567", "x")


def test_console_and_locmem_backends(settings):
    stream = io.StringIO()
    assert sms.ConsoleBackend(stream).send_messages([sms.SmsMessage("+85291234567", "Hello")]) == 1
    assert "SMS to +85291234567" in stream.getvalue() and "Hello" in stream.getvalue()
    settings.STEWARD_SMS_BACKEND = "core.sms.LocmemBackend"
    sms.outbox.clear()
    sms.send_sms("+85291234567", "Hi")
    assert sms.outbox == [sms.SmsMessage("+85291234567", "Hi")]


def test_an_unknown_or_wrong_backend_fails_loudly(settings):
    settings.STEWARD_SMS_BACKEND = "core.sms.NoSuchBackend"
    with pytest.raises(ImproperlyConfigured, match="cannot be imported"):
        sms.send_sms("+85291234567", "x")
    settings.STEWARD_SMS_BACKEND = "core.sms.SmsMessage"
    with pytest.raises((ImproperlyConfigured, TypeError)):
        sms.send_sms("+85291234567", "x")


def test_the_http_backend_posts_json_with_the_bearer_token_from_a_file(
    settings, provider, tmp_path, monkeypatch
):
    url, handler = provider
    secret = tmp_path / "sms-token"
    secret.write_text("s3cret-token\n", encoding="utf-8")
    monkeypatch.setenv("STEWARD_SMS_HTTP_TOKEN_FILE", str(secret))
    settings.STEWARD_SMS_BACKEND = "core.sms.HttpBackend"
    settings.STEWARD_SMS_HTTP_URL = url
    settings.STEWARD_SMS_HTTP_TOKEN = env_str("STEWARD_SMS_HTTP_TOKEN")  # as settings.py reads it
    settings.STEWARD_SMS_SENDER = "STEWARD"
    assert sms.send_mass_sms([("+85291234567", "Check your details: https://x/1")]) == 1
    assert handler.received == [
        {
            "path": "/v1/messages",
            "auth": "Bearer s3cret-token",
            "type": "application/json",
            "body": {"to": "+85291234567", "text": "Check your details: https://x/1", "sender": "STEWARD"},
        }
    ]


def test_the_http_backend_reports_a_refusal_without_leaking_the_token(settings, provider):
    url, handler = provider
    handler.status = 401
    settings.STEWARD_SMS_BACKEND = "core.sms.HttpBackend"
    settings.STEWARD_SMS_HTTP_URL = url
    settings.STEWARD_SMS_HTTP_TOKEN = "s3cret-token"
    with pytest.raises(sms.SmsError, match="401") as caught:
        sms.send_sms("+85291234567", "x")
    assert "s3cret" not in str(caught.value)
    assert isinstance(caught.value, OSError)  # callers that catch OSError after commit log it


def test_the_http_backend_needs_a_url_and_a_token(settings):
    settings.STEWARD_SMS_BACKEND = "core.sms.HttpBackend"
    settings.STEWARD_SMS_HTTP_URL = "ftp://example.hk"
    settings.STEWARD_SMS_HTTP_TOKEN = "t"
    with pytest.raises(ImproperlyConfigured, match="URL"):
        sms.send_sms("+85291234567", "x")
    settings.STEWARD_SMS_HTTP_URL = "https://sms.example.hk/send"
    settings.STEWARD_SMS_HTTP_TOKEN = ""
    with pytest.raises(ImproperlyConfigured, match="TOKEN"):
        sms.send_sms("+85291234567", "x")


def test_an_unreachable_provider_is_an_sms_error(settings):
    settings.STEWARD_SMS_BACKEND = "core.sms.HttpBackend"
    settings.STEWARD_SMS_HTTP_URL = "http://127.0.0.1:9/nothing-listens-here"
    settings.STEWARD_SMS_HTTP_TOKEN = "t"
    settings.STEWARD_SMS_HTTP_TIMEOUT = 2
    with pytest.raises(sms.SmsError, match="not reached"):
        sms.send_sms("+85291234567", "x")
