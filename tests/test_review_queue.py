"""The review queue: the judge's stored doubt × reach, corrected mentions last, the old rule
where no doubt is stored; in the library, `klopt review-queue` (table and --json, en and nl)."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpers import Klopt
from klopt.accounts.organizations import create_organization
from klopt.judging.inbox import InboxMention, inbox, mention_json, review_queue
from klopt.judging.verdicts import correct
from klopt.store import Store, open_store
from klopt.store.models import Judgement, Organization, Post, Promise, Verdict

ORG = "Voorbeeld BV"
START = datetime(2026, 10, 1, 9, tzinfo=UTC)

#: post -> (reach, [(doubt, {promise: (stance, confidence)})] oldest judgement first).
#: Weights (1 + digits of the reach): 50000 -> 6, 10000 -> 6, 1000 -> 5, 10 -> 3,
#: 1000000 -> 8, 100000 -> 7, none -> 1.
POSTS: dict[str, tuple[int | None, list[tuple[float | None, dict[str, tuple[str, float]]]]]] = {
    # unsure and widely seen: 0.9 × 6 = 5.4, though its verdict is confident
    "wide": (50_000, [(0.9, {"P1": ("broken", 0.95)})]),
    # near a link threshold, linked to nothing: 0.8 × 6 = 4.8
    "near": (10_000, [(0.8, {})]),
    # judged before the doubt was stored: 1 − 0.4 = 0.6, × 5 = 3.0
    "old": (1_000, [(None, {"P2": ("kept", 0.4)})]),
    # very unsure, barely seen: 0.95 × 3 = 2.85
    "small": (10, [(0.95, {"P1": ("neutral", 0.6)})]),
    # the newest judgement counts, not the older one: 0.7 × 1 = 0.7
    "again": (None, [(0.1, {"P1": ("kept", 0.9)}), (0.7, {"P1": ("kept", 0.5)})]),
    # sure, though famous (the old rule would have put it first: 0.7 × 8): 0.05 × 8 = 0.4
    "famous": (1_000_000, [(0.05, {"P2": ("broken", 0.3)})]),
    # very unsure and widely seen, but a person corrected it: 0
    "corrected": (100_000, [(0.99, {"P1": ("kept", 0.35), "P2": ("neutral", 0.5)})]),
    # never judged: 0
    "unjudged": (100, []),
}
#: Equal keys go newest id first: "unjudged" (added last) comes before "corrected".
PRIORITY = ["wide", "near", "old", "small", "again", "famous", "unjudged", "corrected"]
UNCERTAINTY = ["small", "wide", "near", "again", "old", "famous", "unjudged", "corrected"]


def _add(session: Session, org_id: int) -> None:
    promises = {}
    for key in ("P1", "P2"):
        promises[key] = Promise(
            organization_id=org_id, key=key, statement=f"promise {key}", status="approved"
        )
        session.add(promises[key])
    session.flush()
    for number, (name, (reach, judgements)) in enumerate(POSTS.items()):
        post = Post(
            organization_id=org_id,
            platform="x",
            external_id=name,
            content_hash=name,
            text=f"Mention {name}: the parcel came late",
            reach=reach,
            posted_at=START + timedelta(hours=number),
        )
        session.add(post)
        session.flush()
        for version, (doubt, verdicts) in enumerate(judgements):
            judgement = Judgement(
                post_id=post.id,
                model_version=f"m{version}",
                language="en",
                sentiment="neutral",
                sentiment_confidence=0.5,
                doubt=doubt,
            )
            session.add(judgement)
            session.flush()
            for key, (stance, confidence) in verdicts.items():
                verdict = Verdict(
                    judgement_id=judgement.id,
                    post_id=post.id,
                    promise_id=promises[key].id,
                    stance=stance,
                    confidence=confidence,
                    score=confidence,
                )
                session.add(verdict)


def fill(store: Store) -> None:
    """The posts of :data:`POSTS` in the organisation, and a person's correction."""
    with store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        assert org_id is not None
        _add(session, org_id)
    correct(store, ORG, post_ref="corrected", promise_key="P1", stance="broken", actor="tester")


@pytest.fixture
def queued(store: Store) -> Store:
    fill(store)
    return store


def _names(mentions: Sequence[InboxMention]) -> list[str]:
    return [m.post for m in mentions]


def test_the_queue_puts_high_doubt_and_high_reach_first_and_corrected_last(
    queued: Store,
) -> None:
    page = review_queue(queued, ORG, limit=25)
    assert _names(page.mentions) == PRIORITY
    assert page.order == "priority" and page.next_cursor is None
    doubts = {m.post: m.doubt for m in page.mentions}
    assert doubts["wide"] == 0.9 and doubts["again"] == 0.7
    assert doubts["old"] is None and doubts["unjudged"] is None
    assert doubts["corrected"] == 0.99  # what the engine said; the queue counts it as 0
    assert _names(review_queue(queued, ORG, limit=3).mentions) == PRIORITY[:3]


def test_uncertainty_is_the_doubt_alone_with_the_same_rules(queued: Store) -> None:
    every = inbox(queued, ORG, order="uncertainty", limit=25).mentions
    assert _names(every) == UNCERTAINTY


def test_the_queue_of_one_promise(queued: Store) -> None:
    # the current pairs with P2: "old", "famous" and the corrected post's engine verdict
    assert _names(review_queue(queued, ORG, promise="P2").mentions) == [
        "old", "famous", "corrected",
    ]  # fmt: skip


def test_a_store_without_doubts_ranks_by_the_lowest_open_confidence(queued: Store) -> None:
    from sqlalchemy import update

    with queued.session() as session:
        session.execute(update(Judgement).values(doubt=None))
    # 1 − lowest open confidence, × weight: old 3.0, famous 5.6, small 1.2, again 0.5, wide
    # 0.3; the corrected post 0, near (no verdict) 0, never judged 0
    expected = ["famous", "old", "small", "again", "wide", "unjudged", "corrected", "near"]
    assert _names(review_queue(queued, ORG).mentions) == expected


@pytest.mark.parametrize("order", ["priority", "uncertainty"])
def test_pages_give_every_mention_once_in_the_order_of_one_page(queued: Store, order: str) -> None:
    seen: list[str] = []
    cursor = None
    while True:
        page = inbox(queued, ORG, order=order, limit=3, cursor=cursor)
        seen += _names(page.mentions)
        if page.next_cursor is None:
            break
        cursor = page.next_cursor
    assert seen == (PRIORITY if order == "priority" else UNCERTAINTY)


def test_the_json_carries_the_doubt(queued: Store) -> None:
    first = review_queue(queued, ORG, limit=1).mentions[0]
    data = mention_json(first)
    assert data["post"] == "wide" and data["doubt"] == 0.9 and data["reach"] == 50_000
    assert data["verdicts"][0]["promise"] == "P1" and data["verdicts"][0]["confidence"] == 0.95


# --- the command ------------------------------------------------------------------------------


@pytest.fixture
def cli_store(klopt: Klopt) -> Klopt:
    store = open_store(klopt.db)
    create_organization(store, ORG, language="nl", actor="tester")
    fill(store)
    store.close()
    return klopt


def test_the_command_prints_the_queue_as_a_table(cli_store: Klopt) -> None:
    out = cli_store("review-queue").output
    assert out.startswith("Review queue: what to check first")
    lines = [line for line in out.splitlines() if "Mention " in line]
    assert [line.split()[1] for line in lines] == PRIORITY
    wide = lines[0]
    assert "0.90" in wide and "50000" in wide and "P1 broken" in wide
    old = lines[2]
    assert "–" in old and "P2 kept" in old
    corrected = lines[PRIORITY.index("corrected")]
    assert "checked" in corrected and "P1 broken *" in corrected and "P2 neutral" in corrected
    assert "Highest first: the judge's doubt" in out and "klopt correct ID PROMISE" in out
    limited = cli_store("review-queue", "--limit", "2", "--promise", "P1").output
    assert [line.split()[1] for line in limited.splitlines() if "Mention " in line] == [
        "wide", "small",
    ]  # fmt: skip


def test_the_command_prints_json_like_the_api(cli_store: Klopt) -> None:
    data = json.loads(cli_store("review-queue", "--json", "--limit", "4").output)
    assert [item["post"] for item in data] == PRIORITY[:4]
    assert [item["doubt"] for item in data] == [0.9, 0.8, None, 0.95]
    store = open_store(cli_store.db)
    try:
        assert data == [mention_json(m) for m in review_queue(store, ORG, limit=4).mentions]
    finally:
        store.close()


def test_the_command_speaks_dutch(cli_store: Klopt) -> None:
    out = cli_store("--lang", "nl", "review-queue").output
    assert out.startswith("Controlelijst: wat je het eerst nakijkt")
    assert "twijfel" in out and "nagekeken" in out and "P1 gebroken *" in out
    assert "Hoogste eerst: de twijfel van de beoordelaar" in out
    assert "Controlelijst" in cli_store("review-queue", "--lang", "nl").output
    helped = cli_store("--lang", "nl", "review-queue", "--help").output
    assert (
        "Wat je het eerst nakijkt" in helped and "Alleen vermeldingen over deze belofte" in helped
    )


def test_the_command_says_what_is_wrong(cli_store: Klopt) -> None:
    out = cli_store("review-queue", "--promise", "P9", code=1).output
    assert "P9" in out and "Traceback" not in out
    assert "1 to 200" in cli_store("review-queue", "--limit", "500", code=1).output


def test_an_empty_queue_and_a_read_only_store(klopt: Klopt, tmp_path: Path) -> None:
    store = open_store(klopt.db)
    create_organization(store, ORG, language="nl", actor="tester")
    store.close()
    assert "No mentions to check." in klopt("review-queue").output
    assert json.loads(klopt("review-queue", "--json").output) == []
    reader = Klopt(tmp_path)
    reader.db = f"sqlite:///file:{tmp_path / 'cli.db'}?mode=ro&uri=true"
    assert "No mentions to check." in reader("review-queue").output
