"""Text messages (SMS) through a pluggable backend, chosen like Django's ``EMAIL_BACKEND``.

``STEWARD_SMS_BACKEND`` names a class; Steward ships four:

- ``core.sms.ConsoleBackend``: writes each message to standard output (demo, development);
- ``core.sms.LocmemBackend``: keeps messages in ``core.sms.outbox`` (tests);
- ``core.sms.EmailGatewayBackend``: an e-mail per message to ``STEWARD_SMS_GATEWAY_EMAIL`` with
  ``{number}`` replaced by the number without its "+" (the operator's e-mail-to-SMS gateway);
- ``core.sms.HttpBackend``: a JSON ``POST`` per message to ``STEWARD_SMS_HTTP_URL`` (an SMS
  provider's REST API) with ``Authorization: Bearer <STEWARD_SMS_HTTP_TOKEN>`` (or ``…_FILE``).

Left empty, the e-mail gateway is used when ``STEWARD_SMS_GATEWAY_EMAIL`` is set, and otherwise no
SMS is sent at all (:func:`sms_configured` is False and the pages say so). A backend that fails
raises :class:`SmsError` (an ``OSError``, as a failed SMTP send does), so callers that send after
commit log it the same way.
"""

from __future__ import annotations

import json
import sys
import urllib.error
import urllib.request
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any, TextIO

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.core.mail import send_mass_mail
from django.utils.module_loading import import_string

EMAIL_GATEWAY = "core.sms.EmailGatewayBackend"


class SmsError(OSError):
    """The backend could not hand a message over."""


@dataclass(frozen=True)
class SmsMessage:
    """One text message: the number in E.164 (+852…) and the text."""

    to: str
    text: str


class BaseSmsBackend:
    """Send messages; return how many were handed over, or raise :class:`SmsError`."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        raise NotImplementedError


class ConsoleBackend(BaseSmsBackend):
    """Prints each message, for the demo and development."""

    def __init__(self, stream: TextIO | None = None) -> None:
        self.stream = stream or sys.stdout

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            self.stream.write(f"SMS to {message.to}:\n{message.text}\n{'-' * 40}\n")
        self.stream.flush()
        return len(messages)


outbox: list[SmsMessage] = []


class LocmemBackend(BaseSmsBackend):
    """Keeps messages in ``core.sms.outbox`` (tests empty it), like Django's locmem e-mail backend."""

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        outbox.extend(messages)
        return len(messages)


class EmailGatewayBackend(BaseSmsBackend):
    """An e-mail per message to the operator's e-mail-to-SMS gateway (``STEWARD_SMS_GATEWAY_EMAIL``,
    e.g. ``{number}@sms.example.com``), sent with Django's e-mail backend."""

    def __init__(self) -> None:
        self.address = settings.STEWARD_SMS_GATEWAY_EMAIL
        if "{number}" not in self.address:
            raise ImproperlyConfigured(
                "STEWARD_SMS_GATEWAY_EMAIL needs {number}, e.g. {number}@sms.example.com"
            )

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        mails = [("SMS", m.text, None, [self.address.format(number=m.to.lstrip("+"))]) for m in messages]
        return send_mass_mail(mails, fail_silently=False)


class HttpBackend(BaseSmsBackend):
    """A JSON ``POST`` per message to an SMS provider: ``{"to": "+852…", "text": "…", "sender": "…"}``
    to ``STEWARD_SMS_HTTP_URL``, with the bearer token ``STEWARD_SMS_HTTP_TOKEN``. Any 2xx answer
    counts as handed over; anything else, or no answer within ``STEWARD_SMS_HTTP_TIMEOUT`` seconds,
    raises :class:`SmsError` naming the status (never the token or the text)."""

    def __init__(self) -> None:
        self.url = settings.STEWARD_SMS_HTTP_URL
        self.token = settings.STEWARD_SMS_HTTP_TOKEN
        self.sender = settings.STEWARD_SMS_SENDER
        self.timeout = settings.STEWARD_SMS_HTTP_TIMEOUT
        if not self.url.startswith(("https://", "http://")):
            raise ImproperlyConfigured("STEWARD_SMS_HTTP_URL must be an http(s) URL")
        if not self.token:
            raise ImproperlyConfigured("STEWARD_SMS_HTTP_TOKEN (or STEWARD_SMS_HTTP_TOKEN_FILE) must be set")

    def payload(self, message: SmsMessage) -> dict[str, Any]:
        """The JSON body for MESSAGE; a provider with another format is a subclass overriding this."""
        body: dict[str, Any] = {"to": message.to, "text": message.text}
        if self.sender:
            body["sender"] = self.sender
        return body

    def _post(self, message: SmsMessage) -> None:
        body = self.payload(message)
        request = urllib.request.Request(  # noqa: S310 (the scheme is checked above)
            self.url,
            data=json.dumps(body).encode("utf-8"),
            method="POST",
            headers={
                "Content-Type": "application/json",
                "Accept": "application/json",
                "Authorization": f"Bearer {self.token}",
            },
        )
        try:
            with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
                status = response.status
        except urllib.error.HTTPError as exc:
            raise SmsError(f"SMS provider answered {exc.code}") from None
        except (urllib.error.URLError, TimeoutError) as exc:
            raise SmsError(f"SMS provider not reached: {getattr(exc, 'reason', exc)}") from None
        if not 200 <= status < 300:
            raise SmsError(f"SMS provider answered {status}")

    def send_messages(self, messages: Sequence[SmsMessage]) -> int:
        for message in messages:
            self._post(message)
        return len(messages)


def backend_path() -> str:
    """The configured backend's dotted path, or "" when SMS is off."""
    path: str = getattr(settings, "STEWARD_SMS_BACKEND", "")
    if path:
        return path
    return EMAIL_GATEWAY if getattr(settings, "STEWARD_SMS_GATEWAY_EMAIL", "") else ""


def sms_configured() -> bool:
    return bool(backend_path())


def get_backend() -> BaseSmsBackend:
    path = backend_path()
    if not path:
        raise ImproperlyConfigured("No SMS backend: set STEWARD_SMS_BACKEND (or STEWARD_SMS_GATEWAY_EMAIL).")
    try:
        backend_class = import_string(path)
    except ImportError as exc:
        raise ImproperlyConfigured(f"STEWARD_SMS_BACKEND={path!r} cannot be imported") from exc
    backend = backend_class()
    if not isinstance(backend, BaseSmsBackend):
        raise ImproperlyConfigured(f"STEWARD_SMS_BACKEND={path!r} is not an SMS backend")
    return backend


def send_sms(to: str, text: str) -> int:
    """Send one text message through the configured backend."""
    return get_backend().send_messages([SmsMessage(to, text)])


def send_mass_sms(messages: Sequence[tuple[str, str]]) -> int:
    """Send (number, text) pairs through one backend instance; returns how many were handed over."""
    if not messages:
        return 0
    return get_backend().send_messages([SmsMessage(to, text) for to, text in messages])
