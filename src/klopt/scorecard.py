"""The scorecard: per promise and period, what customers say about the promise.

For every approved promise: how many mentions are about it, how many of those say it
was kept, broken or neither, the shares with a 95% Wilson interval, a net score, and
the change against the previous period of the same length. A person's correction
overrides the engine's verdict for that (post, promise) pair everywhere.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from klopt.organizations import find_organization
from klopt.promises import register_order
from klopt.store import Store
from klopt.store.models import Post, Promise
from klopt.verdicts import current_stances, in_period

__all__ = ["Share", "PromiseScore", "Scorecard", "wilson", "build_scorecard"]

Z95 = 1.959963984540054


@dataclass(frozen=True)
class Share:
    """A proportion with its 95% Wilson score interval."""

    count: int
    share: float
    low: float
    high: float


def wilson(count: int, total: int, z: float = Z95) -> Share:
    """The Wilson score interval for ``count`` successes out of ``total``."""
    if total == 0:
        return Share(count, 0.0, 0.0, 0.0)
    p = count / total
    denominator = 1 + z * z / total
    centre = (p + z * z / (2 * total)) / denominator
    margin = z * math.sqrt(p * (1 - p) / total + z * z / (4 * total * total)) / denominator
    return Share(count, p, max(0.0, centre - margin), min(1.0, centre + margin))


@dataclass(frozen=True)
class PromiseScore:
    """One row of the scorecard."""

    key: str
    statement: str
    theme: str | None
    mentions: int
    kept: Share
    broken: Share
    neutral: Share
    net: float | None
    previous_mentions: int
    previous_net: float | None

    @property
    def change(self) -> float | None:
        """Net score now minus net score in the previous period."""
        if self.net is None or self.previous_net is None:
            return None
        return self.net - self.previous_net


@dataclass(frozen=True)
class Scorecard:
    """The scorecard of one organisation for one period."""

    organization: str
    since: datetime | None
    until: datetime
    previous_since: datetime | None
    mentions: int
    rows: tuple[PromiseScore, ...]


def build_scorecard(
    store: Store,
    org_ref: str | None,
    *,
    since: datetime | None = None,
    until: datetime | None = None,
) -> Scorecard:
    """The scorecard for mentions posted in [since, until)."""
    until = until or datetime.now(UTC)
    with store.session() as session:
        org = find_organization(session, org_ref)
        promises = list(
            session.scalars(
                select(Promise).where(
                    Promise.organization_id == org.id, Promise.status == "approved"
                )
            )
        )
        now = _stances(session, org.id, since, until)
        previous_since = since - (until - since) if since else None
        before = _stances(session, org.id, previous_since, since) if since else {}
        total = _mention_count(session, org.id, since, until)
    rows = tuple(
        _row(p, now.get(p.id, Counter()), before.get(p.id, Counter()))
        for p in sorted(promises, key=register_order)
    )
    return Scorecard(org.name, since, until, previous_since, total, rows)


def _row(promise: Promise, now: Counter[str], before: Counter[str]) -> PromiseScore:
    n = sum(now.values())
    return PromiseScore(
        key=promise.key,
        statement=promise.statement,
        theme=promise.theme,
        mentions=n,
        kept=wilson(now["kept"], n),
        broken=wilson(now["broken"], n),
        neutral=wilson(now["neutral"], n),
        net=_net(now),
        previous_mentions=sum(before.values()),
        previous_net=_net(before),
    )


def _net(stances: Counter[str]) -> float | None:
    """(kept - broken) / all mentions about the promise, in [-1, 1]; None without any."""
    n = sum(stances.values())
    return (stances["kept"] - stances["broken"]) / n if n else None


def _mention_count(
    session: Session, org_id: int, since: datetime | None, until: datetime | None
) -> int:
    query = (
        select(func.count())
        .select_from(Post)
        .where(Post.organization_id == org_id, Post.kind == "mention")
    )
    return int(session.scalar(in_period(query, since, until)) or 0)


def _stances(
    session: Session, org_id: int, since: datetime | None, until: datetime | None
) -> dict[int, Counter[str]]:
    """promise id -> Counter of stances over the mentions in the period."""
    counts: dict[int, Counter[str]] = {}
    for (_, promise_id), (stance, _) in current_stances(session, org_id, since, until).items():
        counts.setdefault(promise_id, Counter())[stance] += 1
    return counts


def parse_day(value: str) -> datetime:
    """A date (or ISO time) from the command line, as an aware UTC time."""
    stamp = datetime.fromisoformat(value)
    return stamp if stamp.tzinfo else stamp.replace(tzinfo=UTC)


def scorecard_json(card: Scorecard) -> dict[str, object]:
    """The scorecard as plain data, for ``--json``."""

    def share(s: Share) -> dict[str, float | int]:
        return {
            "count": s.count,
            "share": round(s.share, 4),
            "low": round(s.low, 4),
            "high": round(s.high, 4),
        }

    return {
        "organization": card.organization,
        "since": card.since.isoformat() if card.since else None,
        "until": card.until.isoformat(),
        "previous_since": card.previous_since.isoformat() if card.previous_since else None,
        "mentions": card.mentions,
        "promises": [
            {
                "id": r.key,
                "statement": r.statement,
                "theme": r.theme,
                "mentions": r.mentions,
                "kept": share(r.kept),
                "broken": share(r.broken),
                "neutral": share(r.neutral),
                "net": r.net,
                "previous_mentions": r.previous_mentions,
                "previous_net": r.previous_net,
                "change": r.change,
            }
            for r in card.rows
        ],
    }
