"""Delivering an alert: a signed JSON webhook and an e-mail over SMTP.

**Webhook.** ``POST`` of :func:`klopt.insight.alerting.views.alert_json` (with the event:
``opened``, ``updated`` or ``closed``) as UTF-8 JSON, with the header
``X-Klopt-Signature: sha256=<hex HMAC-SHA256 of the exact body bytes, keyed with the
shared secret>``. A receiver computes the same HMAC over the raw body it received and
compares it in constant time (docs/alerts.md has the code); ``sent_at`` in the body lets it
refuse old replays. The secret comes from the environment variable named by the
``alert_webhook_secret_env`` setting; without it nothing is sent (unsigned alerts would
teach receivers to accept anything).

**E-mail.** A plain-text message (:func:`klopt.insight.alerting.views.alert_text`) through
``smtplib``, with STARTTLS when configured and a login when a user is set.

Neither ever raises for a failed delivery: the outcome, failed or not, is a
:class:`DeliveryView` that the store keeps, and a failed one is tried again at the next
check.
"""

from __future__ import annotations

import email.policy
import hashlib
import hmac
import json
import os
import smtplib
import ssl
from collections.abc import Callable, Mapping
from datetime import datetime
from email.message import EmailMessage
from email.utils import formatdate, make_msgid

import httpx

from klopt.errors import KloptError, SourceUnavailable
from klopt.insight.alerting.settings import Channels, Mail, Webhook
from klopt.insight.alerting.views import AlertView, DeliveryView, alert_json, alert_text

__all__ = [
    "SIGNATURE_HEADER",
    "sign",
    "verify",
    "send_webhook",
    "send_mail",
    "deliver",
]

SIGNATURE_HEADER = "X-Klopt-Signature"
TIMEOUT = 10.0


def sign(body: bytes, secret: str) -> str:
    """The ``X-Klopt-Signature`` value of ``body``: ``sha256=<hex HMAC-SHA256>``."""
    digest = hmac.new(secret.encode("utf-8"), body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


def verify(body: bytes, secret: str, signature: str) -> bool:
    """Whether ``signature`` is the signature of ``body`` (what a receiver does)."""
    return hmac.compare_digest(sign(body, secret), signature.strip())


def _failed(
    event: str,
    channel: str,
    at: datetime,
    error: KloptError,
    *,
    target: str,
    secret_env: str | None = None,
) -> DeliveryView:
    return DeliveryView(
        event=event,
        channel=channel,
        status="failed",
        at=at,
        error=str(error),
        error_key=error.key,
        error_values={k: str(v) for k, v in error.values.items()},
        target=target,
        secret_env=secret_env,
    )


def send_webhook(
    webhook: Webhook,
    alert: AlertView,
    event: str,
    *,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> DeliveryView:
    """POST the alert as signed JSON; the outcome, never an exception."""
    env = os.environ if environ is None else environ
    where = {"target": webhook.where, "secret_env": webhook.secret_env}  # never the secret
    secret = env.get(webhook.secret_env, "")
    if not secret:
        error = KloptError.keyed("alerts.no_secret", variable=webhook.secret_env)
        return _failed(event, "webhook", now, error, **where)
    payload = alert_json(alert, event)
    payload["sent_at"] = now.isoformat()
    body = json.dumps(payload, ensure_ascii=False, sort_keys=True).encode("utf-8")
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        SIGNATURE_HEADER: sign(body, secret),
        "X-Klopt-Event": event,
    }
    from klopt.listening.http import USER_AGENT

    headers["User-Agent"] = USER_AGENT
    try:
        with httpx.Client(timeout=TIMEOUT, transport=transport) as client:
            response = client.post(webhook.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        error = SourceUnavailable.keyed(
            "alerts.webhook_unreachable", where=webhook.where, reason=type(exc).__name__
        )
        return _failed(event, "webhook", now, error, **where)
    if not response.is_success:
        error = KloptError.keyed(
            "alerts.webhook_refused", where=webhook.where, status=response.status_code
        )
        return _failed(event, "webhook", now, error, **where)
    return DeliveryView(
        event, "webhook", "sent", now, target=webhook.where, secret_env=webhook.secret_env
    )


def send_mail(
    mail: Mail,
    alert: AlertView,
    event: str,
    lang: str,
    *,
    now: datetime,
    environ: Mapping[str, str] | None = None,
    smtp: Callable[..., smtplib.SMTP] = smtplib.SMTP,
) -> DeliveryView:
    """Send the alert's e-mail in ``lang``; the outcome, never an exception."""
    env = os.environ if environ is None else environ
    target = f"{mail.host}:{mail.port}"
    subject, text = alert_text(alert, event, lang)
    # One header line per field (up to the 998 characters RFC 5322 allows): folding an
    # encoded subject makes the stdlib put in a double space.
    message = EmailMessage(policy=email.policy.SMTP.clone(max_line_length=998))
    message["Subject"] = subject
    message["From"] = mail.sender
    message["To"] = ", ".join(mail.recipients)
    message["Date"] = formatdate(now.timestamp(), localtime=False)
    message["Message-ID"] = make_msgid(domain=mail.sender.rpartition("@")[2] or None)
    message["X-Klopt-Alert"] = alert.ref
    message["X-Klopt-Event"] = event
    message.set_content(text, cte="quoted-printable")
    try:
        with smtp(mail.host, mail.port, timeout=TIMEOUT) as server:
            if mail.starttls:
                server.starttls(context=ssl.create_default_context())
            if mail.user:
                server.login(mail.user, env.get(mail.password_env, ""))
            server.send_message(message)
    except (smtplib.SMTPException, OSError) as exc:
        error = KloptError.keyed("alerts.mail_failed", where=target, reason=_smtp_reason(exc))
        return _failed(event, "email", now, error, target=target)
    return DeliveryView(event, "email", "sent", now, target=target)


def _smtp_reason(exc: BaseException) -> str:
    """What went wrong, without anything a server might echo back of a password."""
    if isinstance(exc, smtplib.SMTPResponseException):
        return f"{type(exc).__name__} {exc.smtp_code}"
    if isinstance(exc, smtplib.SMTPRecipientsRefused):
        return f"{type(exc).__name__}: {', '.join(exc.recipients)}"
    return type(exc).__name__


def deliver(
    alert: AlertView,
    event: str,
    channels: Channels,
    lang: str,
    *,
    now: datetime,
    only: tuple[str, ...] | None = None,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> list[DeliveryView]:
    """Deliver one event of one alert over every configured channel (or ``only`` those)."""
    results = []
    if channels.webhook and (only is None or "webhook" in only):
        results.append(
            send_webhook(
                channels.webhook, alert, event, now=now, environ=environ, transport=transport
            )
        )
    if channels.mail and (only is None or "email" in only):
        results.append(send_mail(channels.mail, alert, event, lang, now=now, environ=environ))
    return results
