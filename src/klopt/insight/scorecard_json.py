"""The scorecard as JSON: what ``klopt scorecard --json`` prints and the API will return."""

from __future__ import annotations

from typing import Any

from klopt.insight.periods import Period
from klopt.insight.scorecard import PromiseScore, Scorecard, Share, post_ids

__all__ = ["scorecard_json"]


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 4)


def _share(s: Share, limit: int) -> dict[str, Any]:
    return {
        "count": s.count,
        "share": round(s.share, 4),
        "low": round(s.low, 4),
        "high": round(s.high, 4),
        "posts": list(s.posts[:limit]),
    }


def _period(period: Period) -> dict[str, Any]:
    return {
        "label": period.label,
        "unit": period.unit,
        "since": period.since.isoformat() if period.since else None,
        "until": period.until.isoformat(),
    }


def scorecard_json(card: Scorecard, *, limit: int = 50) -> dict[str, Any]:
    """The scorecard as plain data, for ``--json``.

    Every number comes with the ids of the posts behind it (``posts``, at most ``limit``
    per list; the count says how many there are); the top-level ``posts`` maps each id
    listed to the post's external id, platform, time, reach, language and address.
    """
    listed = set().union(*(post_ids(row, limit) for row in card.rows))
    return {
        "organization": card.organization,
        "period": _period(card.period) if card.period else None,
        "since": card.since.isoformat() if card.since else None,
        "until": card.until.isoformat(),
        "previous_since": card.previous_since.isoformat() if card.previous_since else None,
        "as_of": card.as_of.isoformat() if card.as_of else None,
        "filters": {
            "languages": list(card.filters.languages),
            "platforms": list(card.filters.platforms),
            "sources": list(card.filters.sources),
            "audience": card.filters.audience,
        },
        "mentions": card.mentions,
        "own_support": card.own_support,
        "say_do_gap": {
            "value": _round(card.gap.value),
            "low": _round(card.gap.low),
            "high": _round(card.gap.high),
            "unjudged": round(card.gap.unjudged, 4),
        },
        "risk_half_life_days": card.half_life_days,
        "promises": [_promise_json(row, limit) for row in card.rows],
        "posts": {
            str(i): {
                "external_id": p.external_id,
                "platform": p.platform,
                "kind": p.kind,
                "posted_at": p.posted_at.isoformat() if p.posted_at else None,
                "reach": p.reach,
                "language": p.language,
                "url": p.url,
            }
            for i, p in card.posts.items()
            if i in listed
        },
    }


def _promise_json(r: PromiseScore, limit: int) -> dict[str, Any]:
    gap = r.gap
    return {
        "id": r.key,
        "statement": r.statement,
        "theme": r.theme,
        "mentions": r.mentions,
        "posts": list(r.posts[:limit]),
        "kept": _share(r.kept, limit),
        "broken": _share(r.broken, limit),
        "neutral": _share(r.neutral, limit),
        "net": r.net,
        "previous_mentions": r.previous_mentions,
        "previous_net": r.previous_net,
        "change": r.change,
        "trend": [
            {
                **_period(t.period),
                "mentions": t.mentions,
                "net": t.net,
                "posts": list(t.posts[:limit]),
            }
            for t in r.trend
        ],
        "own": {
            "count": r.coverage.count,
            "engagement": r.coverage.engagement,
            "reach_known": r.coverage.reach_known,
            "posts": list(r.coverage.posts[:limit]),
        },
        "gap": {
            "say": _round(gap.say),
            "do": _share(gap.do, limit) if gap.do else None,
            "judged": gap.judged,
            "value": _round(gap.value),
            "low": _round(gap.low),
            "high": _round(gap.high),
            "small": gap.small,
        },
        "risk": {
            "value": round(r.risk.value, 4),
            "count": r.risk.count,
            "posts": [{"post": i, "weight": round(w, 4)} for i, w in r.risk.posts[:limit]],
        },
    }
