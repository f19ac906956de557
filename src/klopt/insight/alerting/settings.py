"""Alert settings: detection thresholds and delivery channels, as one (name, default, help)
table read from the environment (``KLOPT_<NAME>``), like :data:`klopt.config.SETTINGS`.

Secrets are never settings: ``alert_webhook_secret_env`` and ``alert_smtp_password_env``
*name* the environment variables that hold them, and only those names are ever stored.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import TypeVar
from urllib.parse import urlsplit

from klopt.config import Setting
from klopt.errors import ConfigError
from klopt.i18n import Term
from klopt.insight.alerting.detection import AlertParams

__all__ = [
    "ALERT_SETTINGS",
    "alert_setting",
    "Webhook",
    "Mail",
    "Channels",
    "channels_from_settings",
    "params_from_settings",
    "evidence_count",
    "alert_settings_markdown",
]

_D = AlertParams()

ALERT_SETTINGS: tuple[Setting, ...] = (
    Setting(
        "alert_window",
        str(_D.window),
        "Hours in the recent window of the broken test (the last N hours against the "
        "baseline days before them).",
    ),
    Setting("alert_baseline_days", str(_D.baseline_days), "Days in the baseline window."),
    Setting(
        "alert_alpha",
        str(_D.alpha),
        "False discovery rate (Benjamini-Hochberg) over the promises at one check; the "
        "volume test uses it on its own.",
    ),
    Setting(
        "alert_min_count",
        str(_D.min_count),
        "The fewest broken mentions in the recent window that can open an alert.",
    ),
    Setting(
        "alert_min_ratio",
        str(_D.min_ratio),
        "The smallest rise (recent rate / baseline rate) that opens an alert.",
    ),
    Setting("alert_evidence", "5", "How many evidence mentions an alert keeps and delivers."),
    Setting(
        "alert_webhook_url",
        "",
        "Where alerts are POSTed as signed JSON; empty means no webhook. https, or http "
        "on this machine only.",
    ),
    Setting(
        "alert_webhook_secret_env",
        "KLOPT_ALERT_WEBHOOK_SECRET",
        "Name of the environment variable that holds the webhook's shared secret (the "
        "key of the X-Klopt-Signature HMAC).",
    ),
    Setting("alert_smtp_host", "", "SMTP server for alert e-mail; empty means no e-mail."),
    Setting("alert_smtp_port", "587", "SMTP port."),
    Setting(
        "alert_smtp_starttls",
        "yes",
        "yes: switch the SMTP connection to TLS (STARTTLS) before anything is sent; no: "
        "plain (a relay on this machine or in a closed network).",
    ),
    Setting("alert_smtp_user", "", "SMTP login name; empty means no login."),
    Setting(
        "alert_smtp_password_env",
        "KLOPT_ALERT_SMTP_PASSWORD",
        "Name of the environment variable that holds the SMTP password.",
    ),
    Setting("alert_mail_from", "klopt@localhost", "Sender address of alert e-mail."),
    Setting("alert_mail_to", "", "Recipients of alert e-mail, separated by commas."),
    Setting(
        "alert_lang",
        "",
        "Language of alert e-mail (en or nl); empty means the organisation's language.",
    ),
)

_BY_NAME = {s.name: s for s in ALERT_SETTINGS}
_ENV_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]{0,127}")
_LOCAL = {"localhost", "127.0.0.1", "::1"}
T = TypeVar("T")


def alert_setting(name: str, environ: Mapping[str, str] | None = None) -> str:
    """A setting's value: its environment variable, else its default."""
    setting = _BY_NAME[name]
    env = os.environ if environ is None else environ
    return env.get(setting.env, "").strip() or setting.default


def _typed(name: str, environ: Mapping[str, str] | None, cast: Callable[[str], T], ok: str) -> T:
    """The setting cast to its type; ``ok`` names what it should be (``alerts.expected.*``)."""
    value = alert_setting(name, environ)
    try:
        return cast(value)
    except ValueError:
        raise ConfigError.keyed(
            "alerts.bad_setting",
            setting=_BY_NAME[name].env,
            value=value,
            expected=Term(f"alerts.expected.{ok}"),
        ) from None


def _positive_int(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


def _probability(value: str) -> float:
    number = float(value)
    if not 0 < number < 1:
        raise ValueError(value)
    return number


def _ratio(value: str) -> float:
    number = float(value)
    if number < 1:
        raise ValueError(value)
    return number


def _yes_no(value: str) -> bool:
    if value.lower() in ("yes", "true", "1", "on"):
        return True
    if value.lower() in ("no", "false", "0", "off"):
        return False
    raise ValueError(value)


def params_from_settings(environ: Mapping[str, str] | None = None) -> AlertParams:
    """The detector's parameters from the settings (documented defaults otherwise)."""
    return AlertParams(
        window=_typed("alert_window", environ, _positive_int, "hours"),
        baseline_days=_typed("alert_baseline_days", environ, _positive_int, "days"),
        alpha=_typed("alert_alpha", environ, _probability, "probability"),
        min_count=_typed("alert_min_count", environ, _positive_int, "count"),
        min_ratio=_typed("alert_min_ratio", environ, _ratio, "ratio"),
    )


def evidence_count(environ: Mapping[str, str] | None = None) -> int:
    """How many evidence mentions an alert keeps and delivers."""
    return _typed("alert_evidence", environ, _positive_int, "count")


@dataclass(frozen=True)
class Webhook:
    """Where alerts are POSTed, and the name of the variable with the shared secret."""

    url: str
    secret_env: str

    @property
    def where(self) -> str:
        """Scheme and host only: a webhook's path may itself be a secret."""
        parts = urlsplit(self.url)
        return f"{parts.scheme}://{parts.netloc.rpartition('@')[2]}"


@dataclass(frozen=True)
class Mail:
    """An SMTP server and the addresses of alert e-mail."""

    host: str
    port: int
    starttls: bool
    user: str
    password_env: str
    sender: str
    recipients: tuple[str, ...]


@dataclass(frozen=True)
class Channels:
    """The configured delivery channels, and the language of e-mail (None: the org's)."""

    webhook: Webhook | None = None
    mail: Mail | None = None
    lang: str | None = None

    @property
    def names(self) -> tuple[str, ...]:
        """``webhook`` and/or ``email``, as configured."""
        return tuple(n for n, c in (("webhook", self.webhook), ("email", self.mail)) if c)


def _env_name(name: str, environ: Mapping[str, str] | None) -> str:
    value = alert_setting(name, environ)
    if not _ENV_NAME.fullmatch(value):
        raise ConfigError.keyed("alerts.env_name", setting=_BY_NAME[name].env)
    return value


def _webhook(environ: Mapping[str, str] | None) -> Webhook | None:
    url = alert_setting("alert_webhook_url", environ)
    if not url:
        return None
    parts = urlsplit(url)
    local = parts.scheme == "http" and (parts.hostname or "") in _LOCAL
    if not parts.hostname or (parts.scheme != "https" and not local):
        raise ConfigError.keyed("alerts.webhook_not_https", url=Webhook(url, "").where)
    return Webhook(url, _env_name("alert_webhook_secret_env", environ))


def _mail(environ: Mapping[str, str] | None) -> Mail | None:
    host = alert_setting("alert_smtp_host", environ)
    if not host:
        return None
    recipients = tuple(
        a.strip() for a in alert_setting("alert_mail_to", environ).split(",") if a.strip()
    )
    if not recipients:
        raise ConfigError.keyed("alerts.no_recipients")
    return Mail(
        host=host,
        port=_typed("alert_smtp_port", environ, _positive_int, "port"),
        starttls=_typed("alert_smtp_starttls", environ, _yes_no, "yes_no"),
        user=alert_setting("alert_smtp_user", environ),
        password_env=_env_name("alert_smtp_password_env", environ),
        sender=alert_setting("alert_mail_from", environ),
        recipients=recipients,
    )


def channels_from_settings(environ: Mapping[str, str] | None = None) -> Channels:
    """The delivery channels the settings configure.

    Raises:
        ConfigError: a webhook address that is not https, a setting that names no valid
            environment variable, e-mail without recipients, a bad port or language.
    """
    lang = alert_setting("alert_lang", environ) or None
    if lang is not None:
        from klopt.config import check_language

        check_language(lang)
    return Channels(_webhook(environ), _mail(environ), lang)


def alert_settings_markdown() -> str:
    """The settings table of ``docs/alerts.md``."""
    from klopt.config import settings_table

    return "\n".join(settings_table(ALERT_SETTINGS)) + "\n"
