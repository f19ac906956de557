"""The daily tallies equal a recount of the verdict tables, whatever the judges and people did.

Random histories (judging, corrections of every kind, re-judging with a new model, posts
without a time or a reach, two organisations) run through the real writers
(``judge_chunk`` with a small fake engine, and ``correct``); after each step the tallies
must equal a count of :func:`klopt.judging.verdicts.current_stances`, the rule the
scorecard counts by. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import random
import threading
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, insert, select

from helpers import STORE_BACKENDS, database_url
from klopt.accounts.organizations import create_organization
from klopt.judging.tallies import (
    ALL_PLATFORMS,
    ensure_tallies,
    pair_weight,
    rebuild_tallies,
    tallies_built,
)
from klopt.judging.verdicts import correct, current_stances, judge_chunk
from klopt.store import Store, open_store
from klopt.store.models import Judgement, Organization, Post, Promise, StanceDay, Verdict

STANCES = ("kept", "broken", "neutral")
PLATFORMS = ("x", "mastodon", "trustpilot")
KINDS = ("mention", "mention", "own")


@dataclass
class _Link:
    promise_id: str
    stance: str
    confidence: float = 0.9
    score: float = 0.9
    evidence: Any = field(
        default_factory=lambda: type(
            "E", (), {"promise_sentence": "", "words": (), "similarity": 0.5}
        )
    )


@dataclass
class _Result:
    links: list[_Link]
    language: str = "nl"
    sentiment: str = "neutral"
    sentiment_confidence: float = 0.5
    doubt: float = 0.5


class RandomJudge:
    """A stand-in for the engine: random links to the promises, from a seeded generator."""

    def __init__(self, rng: random.Random, keys: list[str]) -> None:
        self.rng = rng
        self.keys = keys

    def judge(self, texts: list[str], languages: Any = None, progress: Any = None) -> list[_Result]:
        results = []
        for _ in texts:
            keys = self.rng.sample(self.keys, self.rng.choice((0, 1, 1, 2, 3)))
            results.append(_Result([_Link(k, self.rng.choice(STANCES)) for k in keys]))
        return results


@pytest.fixture(params=STORE_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Any:
    store = open_store(database_url(request.param, tmp_path))
    yield store
    store.close()


def _organization(store: Store, name: str, rng: random.Random, posts: int) -> tuple[int, list[str]]:
    org = create_organization(store, name, language="nl", actor="test")
    start = datetime(2026, 6, 28, tzinfo=UTC)
    keys = ["P1", "P2", "P3", "P4"]
    with store.session() as session:
        for key in keys:
            session.add(
                Promise(
                    organization_id=org.id, key=key, statement=f"{name} {key}", status="approved"
                )
            )
        for n in range(posts):
            when = start + timedelta(seconds=rng.randrange(10 * 86400))
            session.add(
                Post(
                    organization_id=org.id,
                    kind=rng.choice(KINDS),
                    platform=rng.choice(PLATFORMS),
                    external_id=f"{name}-{n}",
                    content_hash=f"{name}-{n}",
                    text=f"post {n}",
                    posted_at=None if rng.random() < 0.05 else when,
                    reach=None if rng.random() < 0.3 else rng.randrange(0, 5000),
                )
            )
    return org.id, keys


def _judge(store: Store, org_id: int, rng: random.Random, keys: list[str], version: str) -> None:
    """Judge a random share of the organisation's posts with the model ``version``."""
    with store.session() as session:
        posts = list(
            session.execute(
                select(Post.id, Post.text, Post.language)
                .where(Post.organization_id == org_id)
                .order_by(Post.id)
            ).tuples()
        )
        ids = dict(
            session.execute(
                select(Promise.key, Promise.id).where(Promise.organization_id == org_id)
            )
            .tuples()
            .all()
        )
        done = set(
            session.scalars(select(Judgement.post_id).where(Judgement.model_version == version))
        )
    todo = [p for p in posts if p[0] not in done and rng.random() < 0.6]
    for start in range(0, len(todo), 17):
        judge_chunk(store, RandomJudge(rng, keys), todo[start : start + 17], ids, version, org_id)


def _correct(store: Store, org_id: int, rng: random.Random, keys: list[str], times: int) -> None:
    with store.session() as session:
        posts = list(session.scalars(select(Post.id).where(Post.organization_id == org_id)))
        judged = list(
            session.scalars(
                select(Verdict.post_id)
                .join(Post, Post.id == Verdict.post_id)
                .where(Post.organization_id == org_id)
            )
        )
        org = session.scalar(select(Organization.name).where(Organization.id == org_id))
    for _ in range(times):
        post = rng.choice(judged) if judged and rng.random() < 0.7 else rng.choice(posts)
        stance = rng.choice((*STANCES, "none"))
        correct(
            store, str(org), post_ref=f"#{post}", promise_key=rng.choice(keys), stance=stance,
            actor="test",
        )  # fmt: skip


def recount(store: Store, org_id: int) -> dict[tuple[Any, ...], tuple[int, int, int, float]]:
    """The tallies as they must be: current_stances, counted per platform (and for all
    platforms), day, promise, kind and stance (an independent count in Python)."""
    found: dict[tuple[Any, ...], list[Any]] = {}
    with store.session() as session:
        posts = {
            row[0]: row[1:]
            for row in session.execute(
                select(Post.id, Post.kind, Post.platform, Post.posted_at, Post.reach).where(
                    Post.organization_id == org_id
                )
            ).tuples()
        }
        for kind in {k for k, *_ in posts.values()}:
            for (post_id, promise_id), (stance, _) in current_stances(
                session, org_id, kind=kind
            ).items():
                _, platform, posted_at, reach = posts[post_id]
                if posted_at is None:
                    continue
                midnight = datetime.combine(posted_at.date(), datetime.min.time(), UTC)
                for where in (platform, ALL_PLATFORMS):
                    key = (where, posted_at.date(), promise_id, kind, stance)
                    row = found.setdefault(key, [0, 0, 0, 0.0])
                    row[0] += 1
                    row[1] += reach or 0
                    row[2] += reach is not None
                    row[3] += pair_weight(reach, (posted_at - midnight).total_seconds())
    return {key: (row[0], row[1], row[2], row[3]) for key, row in found.items()}


def tallies(store: Store, org_id: int) -> dict[tuple[Any, ...], tuple[int, int, int, float]]:
    with store.session() as session:
        rows = session.execute(
            select(
                StanceDay.platform, StanceDay.day, StanceDay.promise_id, StanceDay.kind,
                StanceDay.stance, StanceDay.count, StanceDay.reach, StanceDay.reach_known,
                StanceDay.weight,
            ).where(StanceDay.organization_id == org_id)
        ).tuples()  # fmt: skip
        found = {}
        for *key, count, reach, known, weight in rows:
            if count == 0:
                assert (reach, known) == (0, 0) and abs(weight) < 1e-9, key
                continue
            found[tuple(key)] = (count, reach, known, weight)
    return found


def assert_equal(store: Store, org_id: int) -> None:
    expected, actual = recount(store, org_id), tallies(store, org_id)
    assert set(actual) == set(expected)
    for key, (count, reach, known, weight) in expected.items():
        assert actual[key][:3] == (count, reach, known), key
        assert actual[key][3] == pytest.approx(weight, rel=1e-9, abs=1e-9), key


@pytest.mark.parametrize("seed", [1, 2, 3])
def test_tallies_equal_a_recount_after_judging_corrections_and_rejudging(
    store: Store, seed: int
) -> None:
    rng = random.Random(seed)
    first, keys = _organization(store, "Eerste", rng, 120)
    second, _ = _organization(store, "Tweede", rng, 40)
    for step, version in enumerate(["m1", "m1", "m2", "m3"]):
        _judge(store, first, rng, keys, version)
        assert_equal(store, first)
        _correct(store, first, rng, keys, 25)
        assert_equal(store, first)
        if step == 1:
            _judge(store, second, rng, keys, version)
            _correct(store, second, rng, keys, 10)
    assert_equal(store, second)
    assert sum(c for c, *_ in tallies(store, first).values()) > 50  # the test tested something
    before = tallies(store, first)
    assert rebuild_tallies(store, "Eerste") >= len(before)
    assert tallies(store, first).keys() == before.keys()
    assert_equal(store, first)


def test_tallies_are_built_on_first_use_for_a_store_filled_without_them(store: Store) -> None:
    rng = random.Random(7)
    org_id, keys = _organization(store, "Eerste", rng, 60)
    with store.session() as session:  # verdicts written with plain SQL, as a bulk load does
        posts = list(session.scalars(select(Post.id).where(Post.organization_id == org_id)))
        promises = list(
            session.scalars(select(Promise.id).where(Promise.organization_id == org_id))
        )
        for post_id in posts:
            judgement = session.scalar(
                insert(Judgement)
                .values(post_id=post_id, model_version="bulk", language="nl",
                        sentiment="neutral", sentiment_confidence=0.5)
                .returning(Judgement.id)
            )  # fmt: skip
            session.execute(
                insert(Verdict).values(
                    judgement_id=judgement, post_id=post_id, promise_id=rng.choice(promises),
                    stance=rng.choice(STANCES), confidence=0.9, score=0.9, evidence={},
                )
            )  # fmt: skip
    with store.session() as session:
        assert not tallies_built(session, org_id)
    assert tallies(store, org_id) == {}
    assert ensure_tallies(store, org_id)
    assert_equal(store, org_id)
    _correct(store, org_id, rng, keys, 20)  # kept up to date from now on
    assert_equal(store, org_id)


def test_a_first_correction_builds_the_tallies_before_counting_itself(store: Store) -> None:
    rng = random.Random(11)
    org_id, keys = _organization(store, "Eerste", rng, 30)
    _judge(store, org_id, rng, keys, "m1")
    with store.session() as session:
        session.query(StanceDay).delete()
        from klopt.store.models import StanceDayState

        session.query(StanceDayState).delete()
    _correct(store, org_id, rng, keys, 5)
    assert_equal(store, org_id)


def test_tallies_of_another_version_are_counted_anew_on_first_use(store: Store) -> None:
    from klopt.store.models import StanceDayState

    rng = random.Random(13)
    org_id, keys = _organization(store, "Eerste", rng, 40)
    _judge(store, org_id, rng, keys, "m1")
    with store.session() as session:
        session.query(StanceDay).filter(StanceDay.stance == "kept").delete()
        session.query(StanceDayState).update({"version": 0})
        assert not tallies_built(session, org_id)
    assert ensure_tallies(store, org_id)
    assert_equal(store, org_id)
    with store.session() as session:
        session.query(StanceDayState).update({"version": 0})
    _correct(store, org_id, rng, keys, 3)  # a writer counts them anew too
    assert_equal(store, org_id)


def test_a_refused_correction_changes_no_tally(store: Store) -> None:
    rng = random.Random(5)
    org_id, keys = _organization(store, "Eerste", rng, 30)
    _judge(store, org_id, rng, keys, "m1")
    before = tallies(store, org_id)
    from klopt.errors import NotFound

    with pytest.raises(NotFound):
        correct(store, "Eerste", post_ref="#1", promise_key="P99", stance="broken", actor="t")
    with pytest.raises(NotFound):
        correct(store, "Eerste", post_ref="nope", promise_key="P1", stance="broken", actor="t")
    assert tallies(store, org_id) == before


def test_concurrent_corrections_keep_the_tallies_exact(store: Store) -> None:
    """Writers in several threads at once: each takes the tally lock before it reads."""
    rng = random.Random(3)
    org_id, keys = _organization(store, "Eerste", rng, 40)
    _judge(store, org_id, rng, keys, "m1")
    with store.session() as session:
        posts = list(session.scalars(select(Post.id).where(Post.posted_at.is_not(None)).limit(4)))
    errors: list[BaseException] = []

    def work(seed: int) -> None:
        local = random.Random(seed)
        try:
            for _ in range(12):
                correct(
                    store, "Eerste", post_ref=f"#{local.choice(posts)}", promise_key="P1",
                    stance=local.choice((*STANCES, "none")), actor="test",
                )  # fmt: skip
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=work, args=(n,)) for n in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    assert_equal(store, org_id)


def test_the_weight_splits_the_scorecard_risk_at_midnight() -> None:
    from klopt.insight.scorecard import HALF_LIFE_DAYS, risk_weight

    posted = datetime(2026, 7, 3, 15, 30, tzinfo=UTC)
    as_of = datetime(2026, 7, 20, tzinfo=UTC)
    midnight = datetime(2026, 7, 3, tzinfo=UTC)
    seconds = (posted - midnight).total_seconds()
    days = (as_of - midnight).total_seconds() / 86400
    split = pair_weight(999, seconds) * 0.5 ** (days / HALF_LIFE_DAYS)
    age = (as_of - posted).total_seconds() / 86400
    assert split == pytest.approx(risk_weight(999, age))
    assert date(2026, 7, 3) == posted.date()


@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_migration_matches_the_model(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from klopt.store.models import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    mine = ("stance_day", "ix_post_org_kind_time")
    assert [d for d in diff if any(name in repr(d) for name in mine)] == []


def _judged(store: Store, kind: str | None = None) -> list[int]:
    """The judged posts with a time (of ``kind``), in id order."""
    query = select(Post.id).join(Judgement, Judgement.post_id == Post.id)
    query = query.where(Post.posted_at.is_not(None))
    if kind is not None:
        query = query.where(Post.kind == kind)
    with store.session() as session:
        return list(dict.fromkeys(session.scalars(query.order_by(Post.id))))


def test_a_mention_that_turns_out_to_be_an_own_post_moves_its_tallies(store: Store) -> None:
    """Publishing a draft with the URL of an imported mention makes that post an own post
    (editorial.drafts); its counted stances, corrected ones included, move with it."""
    from klopt.judging.tallies import record_kind

    rng = random.Random(5)
    org_id, keys = _organization(store, "Soort", rng, 60)
    _judge(store, org_id, rng, keys, "m1")
    _correct(store, org_id, rng, keys, 6)
    judged = _judged(store, kind="mention")
    assert judged
    for post_id in judged[:5]:
        with store.session() as session:
            record_kind(session, post_id, "own")
            session.get(Post, post_id).kind = "own"  # type: ignore[union-attr]
        assert_equal(store, org_id)


def test_reach_read_back_for_an_own_post_moves_its_tallies(store: Store) -> None:
    """The outbox reads an own post's likes, shares and replies back into its reach
    (editorial.outbox.refresh_reach); the dashboard's tallies count the new reach."""
    from klopt.judging.tallies import record_reach

    rng = random.Random(8)
    org_id, keys = _organization(store, "Bereik", rng, 60)
    _judge(store, org_id, rng, keys, "m1")
    _correct(store, org_id, rng, keys, 6)
    judged = _judged(store)
    assert judged
    for number, post_id in enumerate(judged[:6]):
        reach = None if number == 3 else number * 17
        with store.session() as session:
            record_reach(session, post_id, reach)
            session.get(Post, post_id).reach = reach  # type: ignore[union-attr]
        assert_equal(store, org_id)


def test_a_chunk_judged_twice_stores_and_counts_nothing_twice(store: Store) -> None:
    """A shard that runs twice (a cluster worker killed after writing, its shard retried;
    two judges at once) leaves the same judgements, verdicts and tallies as one run."""
    rng = random.Random(11)
    org_id, keys = _organization(store, "Tweemaal", rng, 40)
    with store.session() as session:
        query = select(Post.id, Post.text, Post.language).where(Post.organization_id == org_id)
        posts = list(session.execute(query.order_by(Post.id)).tuples())
        keys_query = select(Promise.key, Promise.id).where(Promise.organization_id == org_id)
        ids = dict(session.execute(keys_query).tuples().all())

    def counts() -> tuple[int, int]:
        with store.session() as session:
            judged = session.scalar(select(func.count()).select_from(Judgement))
            verdicts = session.scalar(select(func.count()).select_from(Verdict))
            return int(judged or 0), int(verdicts or 0)

    made = judge_chunk(store, RandomJudge(random.Random(1), keys), posts[:25], ids, "m1", org_id)
    once = counts()
    again = judge_chunk(store, RandomJudge(random.Random(2), keys), posts[:30], ids, "m1", org_id)

    assert made > 0 and once[0] == 25
    judged, verdicts = counts()
    assert judged == 30  # only the five new posts were added
    assert verdicts == once[1] + again
    assert_equal(store, org_id)
