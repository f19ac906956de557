"""Drafts as JSON: one serializer per concept, for ``/api/v1/drafts`` and its callers.

:func:`draft_json` is the shape of one row of ``klopt drafts list --json``; a draft
with its history (:func:`detail_json`) adds its versions (each with the check report
stored with it, the JSON of ``klopt check --format json``), comments and reviews (each
with the findings stored with the decision). Times are ISO 8601 with their offset.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from klopt.editorial.views import (
    CommentInfo,
    DiffPart,
    DraftDetail,
    DraftInfo,
    ReviewInfo,
    VersionInfo,
)

__all__ = [
    "draft_json",
    "version_json",
    "comment_json",
    "review_json",
    "detail_json",
    "diff_json",
]


def _time(value: datetime | None) -> str | None:
    return value.isoformat() if value is not None else None


def draft_json(d: DraftInfo) -> dict[str, Any]:
    """A draft as ``klopt drafts list --json`` prints it."""
    return {
        "draft": d.key,
        "state": d.state,
        "version": d.version,
        "platform": d.platform,
        "planned_at": _time(d.planned_at),
        "author": d.author,
        "score": d.score,
        "text": d.text,
        "published_at": _time(d.published_at),
        "url": d.url,
        "reply_to": d.reply_to,
        "visibility": d.visibility,
        "account": d.account,
    }


def version_json(v: VersionInfo) -> dict[str, Any]:
    """One version: its text, author, time, and its check report when it was checked."""
    return {
        "version": v.number,
        "text": v.text,
        "author": v.author,
        "created_at": _time(v.created_at),
        "language": v.language,
        "score": v.score,
        "check": v.findings,
        "images": [
            {"position": i.position, "mime": i.mime, "alt": i.alt, "size": i.size} for i in v.images
        ],
    }


def comment_json(c: CommentInfo) -> dict[str, Any]:
    """One comment on a version."""
    return {
        "version": c.version,
        "author": c.author,
        "text": c.text,
        "created_at": _time(c.created_at),
    }


def review_json(r: ReviewInfo) -> dict[str, Any]:
    """One review decision, with the check report stored with it."""
    return {
        "version": r.version,
        "reviewer": r.reviewer,
        "decision": r.decision,
        "note": r.note,
        "score": r.score,
        "overridden": r.overridden,
        "policy": r.policy,
        "created_at": _time(r.created_at),
        "check": r.findings,
    }


def detail_json(detail: DraftDetail) -> dict[str, Any]:
    """A draft with every version, comment and review, oldest first."""
    return {
        **draft_json(detail.draft),
        "versions": [version_json(v) for v in detail.versions],
        "comments": [comment_json(c) for c in detail.comments],
        "reviews": [review_json(r) for r in detail.reviews],
    }


def diff_json(draft: str, old: int, new: int, parts: list[DiffPart]) -> dict[str, Any]:
    """A word diff between two versions: runs that stayed (``=``), went (``-``), came (``+``)."""
    return {
        "draft": draft,
        "from": old,
        "to": new,
        "parts": [{"op": p.op, "text": p.text} for p in parts],
    }
