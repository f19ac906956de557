"""Alerts as shown and delivered: plain values, their JSON, their text in nl / en."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from klopt.i18n import t

__all__ = ["EvidenceView", "DeliveryView", "AlertView", "alert_json", "alert_text", "alert_ref"]


def alert_ref(alert_id: int) -> str:
    """How people name an alert: ``A3``."""
    return f"A{alert_id}"


@dataclass(frozen=True)
class EvidenceView:
    """One mention behind an alert."""

    post: str
    platform: str
    author: str | None
    url: str | None
    posted_at: datetime | None
    reach: int | None
    text: str


@dataclass(frozen=True)
class DeliveryView:
    """One delivery attempt: which event, over which channel, with what outcome.

    ``error`` is the failure in words (English; ``error_key`` and ``error_values`` give
    it in any language through the locale files).
    """

    event: str
    channel: str
    status: str
    at: datetime
    error: str | None = None
    error_key: str | None = None
    error_values: dict[str, Any] | None = None
    target: str | None = None
    secret_env: str | None = None

    def as_dict(self) -> dict[str, Any]:
        """What the store keeps of it (the secret's variable name, never the secret)."""
        data: dict[str, Any] = {
            "event": self.event,
            "channel": self.channel,
            "status": self.status,
            "at": self.at.isoformat(),
        }
        extra = {
            "error": self.error,
            "error_key": self.error_key,
            "error_values": self.error_values,
            "target": self.target,
            "secret_env": self.secret_env,
        }
        data.update({k: v for k, v in extra.items() if v is not None})
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> DeliveryView:
        """Back from the store."""
        return cls(
            event=data["event"],
            channel=data["channel"],
            status=data["status"],
            at=datetime.fromisoformat(data["at"]),
            error=data.get("error"),
            error_key=data.get("error_key"),
            error_values=data.get("error_values"),
            target=data.get("target"),
            secret_env=data.get("secret_env"),
        )

    def error_text(self, lang: str) -> str:
        """The failure in ``lang``."""
        if self.error_key is None:
            return self.error or ""
        from klopt.errors import KloptError

        return KloptError.stored(self.error_key, self.error_values or {}).localized(lang)


@dataclass(frozen=True)
class AlertView:
    """An alert with its promise, numbers and evidence, as a user or a receiver sees it."""

    id: int
    organization: str
    organization_slug: str
    kind: str
    promise: str | None
    statement: str | None
    state: str
    opened_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    closed_by: str | None
    window_start: datetime
    window_end: datetime
    baseline_start: datetime
    baseline_end: datetime
    recent_count: int
    recent_exposure: float
    baseline_count: int
    baseline_exposure: float
    ratio: float
    p_value: float
    q_value: float
    checks: int
    evidence: tuple[EvidenceView, ...]
    delivery_status: str
    deliveries: tuple[DeliveryView, ...]
    note: str = ""

    @property
    def ref(self) -> str:
        """``A3``."""
        return alert_ref(self.id)

    @property
    def window_hours(self) -> float:
        """Hours in the recent window."""
        return (self.window_end - self.window_start).total_seconds() / 3600

    @property
    def baseline_days(self) -> float:
        """Days in the baseline window."""
        return (self.baseline_end - self.baseline_start).total_seconds() / 86400


def _iso(value: datetime | None) -> str | None:
    return value.isoformat() if value else None


def alert_json(alert: AlertView, event: str | None = None) -> dict[str, Any]:
    """The alert as JSON: the webhook's body (with ``event``) and ``klopt alerts list --json``."""
    counts: dict[str, Any] = {
        "recent": alert.recent_count,
        "recent_exposure": alert.recent_exposure,
        "baseline": alert.baseline_count,
        "baseline_exposure": alert.baseline_exposure,
        "exposure": "judged mentions" if alert.kind == "broken" else "hours",
    }
    data: dict[str, Any] = {
        "id": alert.ref,
        "organization": {"name": alert.organization, "slug": alert.organization_slug},
        "kind": alert.kind,
        "promise": ({"id": alert.promise, "statement": alert.statement} if alert.promise else None),
        "state": alert.state,
        "opened_at": _iso(alert.opened_at),
        "updated_at": _iso(alert.updated_at),
        "closed_at": _iso(alert.closed_at),
        "closed_by": alert.closed_by,
        "window": {"start": _iso(alert.window_start), "end": _iso(alert.window_end)},
        "baseline": {"start": _iso(alert.baseline_start), "end": _iso(alert.baseline_end)},
        "counts": counts,
        "ratio": round(alert.ratio, 4),
        "p_value": alert.p_value,
        "q_value": alert.q_value,
        "checks": alert.checks,
        "evidence": [
            {
                "id": e.post,
                "platform": e.platform,
                "author": e.author,
                "url": e.url,
                "posted_at": _iso(e.posted_at),
                "reach": e.reach,
                "text": e.text,
            }
            for e in alert.evidence
        ],
        "delivery_status": alert.delivery_status,
    }
    return {"event": event, "alert": data} if event else data


def _when(value: datetime) -> str:
    return value.strftime("%Y-%m-%d %H:%M UTC")


def _share(count: int, exposure: float) -> str:
    return f"{100 * count / exposure:.1f}%" if exposure else "–"


def alert_text(alert: AlertView, event: str, lang: str) -> tuple[str, str]:
    """The subject and body of the alert's e-mail in ``lang``, with the top evidence."""
    what = (
        t("alerts.mail.what_broken", lang, promise=alert.promise, statement=alert.statement)
        if alert.kind == "broken"
        else t("alerts.mail.what_volume", lang, org=alert.organization)
    )
    subject = t(
        f"alerts.mail.subject.{event}", lang, ref=alert.ref, what=what, org=alert.organization
    )
    lines = [t(f"alerts.mail.intro.{event}", lang, what=what), ""]
    period = t(
        "alerts.mail.period",
        lang,
        start=_when(alert.window_start),
        end=_when(alert.window_end),
        hours=f"{alert.window_hours:g}",
    )
    if alert.kind == "broken":
        lines.append(
            t(
                "alerts.mail.counts_broken",
                lang,
                period=period,
                recent=alert.recent_count,
                mentions=f"{alert.recent_exposure:.0f}",
                share=_share(alert.recent_count, alert.recent_exposure),
                days=f"{alert.baseline_days:g}",
                baseline=alert.baseline_count,
                baseline_mentions=f"{alert.baseline_exposure:.0f}",
                baseline_share=_share(alert.baseline_count, alert.baseline_exposure),
            )
        )
    else:
        per_day = (
            24 * alert.baseline_count / alert.baseline_exposure if alert.baseline_exposure else 0
        )
        lines.append(
            t(
                "alerts.mail.counts_volume",
                lang,
                period=period,
                recent=alert.recent_count,
                days=f"{alert.baseline_days:g}",
                per_day=f"{per_day:.0f}",
            )
        )
    lines.append(
        t(
            "alerts.mail.test",
            lang,
            ratio=f"{alert.ratio:.1f}",
            p=f"{alert.p_value:.1e}",
            q=f"{alert.q_value:.1e}",
        )
    )
    if alert.evidence:
        lines += ["", t("alerts.mail.evidence", lang)]
        for n, e in enumerate(alert.evidence, 1):
            who = e.author or t("alerts.mail.unknown_author", lang)
            when = _when(e.posted_at) if e.posted_at else ""
            lines.append(f"{n}. {who} ({e.platform}, {when}): «{' '.join(e.text.split())}»")
            if e.url:
                lines.append(f"   {e.url}")
    lines += ["", t("alerts.mail.footer", lang, ref=alert.ref, id=alert.id)]
    return subject, "\n".join(lines) + "\n"
