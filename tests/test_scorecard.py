"""The scorecard: Wilson intervals, corrections overriding the engine, previous period."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from klopt.scorecard import build_scorecard, wilson
from klopt.store import Store
from klopt.store.models import Correction, Judgement, Post, Promise, Verdict


def test_wilson_matches_the_textbook_values() -> None:
    share = wilson(8, 10)
    assert share.share == pytest.approx(0.8)
    assert (share.low, share.high) == (
        pytest.approx(0.4902, abs=1e-4),
        pytest.approx(0.9433, abs=1e-4),
    )
    assert wilson(0, 0).share == 0.0
    assert wilson(0, 5).low == 0.0


def _mention(session: Session, number: int, day: int, month: int = 10) -> Post:
    post = Post(
        organization_id=1,
        platform="x",
        external_id=str(number),
        content_hash=str(number),
        text=f"mention {number}",
        posted_at=datetime(2026, month, day, tzinfo=UTC),
    )
    session.add(post)
    return post


def _judged(session: Session, post: Post, promise: Promise, stance: str) -> None:
    session.flush()
    judgement = Judgement(
        post_id=post.id,
        model_version="m",
        language="nl",
        sentiment="neutral",
        sentiment_confidence=0.5,
    )
    session.add(judgement)
    session.flush()
    session.add(
        Verdict(
            judgement_id=judgement.id,
            post_id=post.id,
            promise_id=promise.id,
            stance=stance,
            confidence=0.9,
            score=0.9,
        )
    )


def test_corrections_override_and_previous_period_is_compared(store: Store) -> None:
    with store.session() as session:
        promise = Promise(
            organization_id=1, key="P1", statement="Wij leveren binnen 24 uur.", status="approved"
        )
        session.add(promise)
        session.flush()
        posts = [_mention(session, i, day=i + 1) for i in range(4)]
        for post, stance in zip(posts, ["kept", "broken", "broken", "neutral"], strict=True):
            _judged(session, post, promise, stance)
        earlier = _mention(session, 10, day=20, month=9)
        _judged(session, earlier, promise, "kept")
        session.flush()
        # a person says mention 1 was in fact kept, and mention 3 is not about the promise
        session.add(
            Correction(post_id=posts[1].id, promise_id=promise.id, stance="kept", author="anna")
        )
        session.add(
            Correction(post_id=posts[3].id, promise_id=promise.id, stance="none", author="anna")
        )
    card = build_scorecard(
        store,
        None,
        since=datetime(2026, 10, 1, tzinfo=UTC),
        until=datetime(2026, 10, 31, tzinfo=UTC),
    )
    (row,) = card.rows
    assert (row.mentions, row.kept.count, row.broken.count, row.neutral.count) == (3, 2, 1, 0)
    assert row.net == pytest.approx(1 / 3)
    assert (row.previous_mentions, row.previous_net) == (1, 1.0)
    assert row.change == pytest.approx(1 / 3 - 1)
    assert card.mentions == 4


def test_a_promise_without_mentions_has_no_net_score(store: Store) -> None:
    with store.session() as session:
        session.add(Promise(organization_id=1, key="P1", statement="x", status="approved"))
        session.add(Promise(organization_id=1, key="P2", statement="y", status="proposed"))
    (row,) = build_scorecard(store, None).rows
    assert (row.key, row.mentions, row.net, row.change) == ("P1", 0, None, None)
