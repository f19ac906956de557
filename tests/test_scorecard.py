"""The scorecard: periods, Wilson intervals, trend, own coverage, say-do gap, risk, filters,
corrections overriding the engine, and the links from every number to its posts."""

from __future__ import annotations

import json
from datetime import UTC, datetime

import pytest
from sqlalchemy.orm import Session

from helpers import Klopt
from klopt.errors import InputError, NotFound
from klopt.insight.periods import custom_period, parse_period, resolve_period
from klopt.insight.scorecard import (
    Filters,
    build_scorecard,
    risk_weight,
    say_do_gap,
    wilson,
)
from klopt.insight.scorecard_json import scorecard_json
from klopt.store import Store, open_store
from klopt.store.models import (
    Correction,
    ImportBatch,
    Judgement,
    ListeningSource,
    Post,
    Promise,
    Verdict,
)


def test_wilson_matches_the_textbook_values() -> None:
    share = wilson(8, 10)
    assert share.share == pytest.approx(0.8)
    assert (share.low, share.high) == (
        pytest.approx(0.4902, abs=1e-4),
        pytest.approx(0.9433, abs=1e-4),
    )
    assert wilson(0, 0).share == 0.0
    assert wilson(0, 5).low == 0.0


def _at(day: int, month: int = 10, year: int = 2026) -> datetime:
    return datetime(year, month, day, tzinfo=UTC)


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
    _judge(session, post, {promise: stance})


def _judge(session: Session, post: Post, stances: dict[Promise, str]) -> None:
    """One judgement of ``post`` (the engine's newest), with a verdict per promise."""
    session.flush()
    judgement = Judgement(
        post_id=post.id,
        model_version="m",
        language=post.language or "nl",
        sentiment="neutral",
        sentiment_confidence=0.5,
    )
    session.add(judgement)
    session.flush()
    for promise, stance in stances.items():
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


class Data:
    """Hand-built posts with their verdicts, straight into the store (no model loaded)."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0

    def promise(self, key: str, status: str = "approved") -> Promise:
        promise = Promise(organization_id=1, key=key, statement=f"promise {key}", status=status)
        self.session.add(promise)
        self.session.flush()
        return promise

    def source(self, name: str, *, own: bool = False) -> ImportBatch:
        source = ListeningSource(organization_id=1, name=name, kind="rss", config={}, own=own)
        self.session.add(source)
        self.session.flush()
        batch = ImportBatch(
            organization_id=1, source=f"source:{name}", format="rss", source_id=source.id
        )
        self.session.add(batch)
        self.session.flush()
        return batch

    def post(
        self,
        when: datetime,
        stances: dict[Promise, str] | None = None,
        *,
        kind: str = "mention",
        platform: str = "x",
        reach: int | None = None,
        language: str = "nl",
        batch: ImportBatch | None = None,
    ) -> Post:
        self.count += 1
        prefix = "o" if kind == "own" else "m"
        post = Post(
            organization_id=1,
            kind=kind,
            platform=platform,
            external_id=f"{prefix}{self.count}",
            content_hash=f"{prefix}{self.count}",
            text=f"post {self.count}",
            posted_at=when,
            reach=reach,
            language=language,
            import_batch_id=batch.id if batch else None,
        )
        self.session.add(post)
        if stances:
            _judge(self.session, post, stances)
        self.session.flush()
        return post

    def posts(self, count: int, when: datetime, promise: Promise, stance: str) -> list[Post]:
        return [self.post(when, {promise: stance}) for _ in range(count)]

    def correct(self, post: Post, promise: Promise, stance: str) -> None:
        self.session.add(
            Correction(post_id=post.id, promise_id=promise.id, stance=stance, author="anna")
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


# --- periods -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "unit", "since", "until", "label"),
    [
        ("2026", "year", _at(1, 1), _at(1, 1, 2027), "2026"),
        ("2026-Q3", "quarter", _at(1, 7), _at(1, 10), "2026-Q3"),
        ("2026-q4", "quarter", _at(1, 10), _at(1, 1, 2027), "2026-Q4"),
        ("2026-11", "month", _at(1, 11), _at(1, 12), "2026-11"),
        ("2026-12", "month", _at(1, 12), _at(1, 1, 2027), "2026-12"),
        ("2026-W47", "week", _at(16, 11), _at(23, 11), "2026-W47"),
        (" 2026-w01 ", "week", _at(29, 12, 2025), _at(5, 1), "2026-W01"),
        ("2026-W53", "week", _at(28, 12), _at(4, 1, 2027), "2026-W53"),
    ],
)
def test_a_named_period_runs_from_midnight_utc_to_the_next_one(
    text: str, unit: str, since: datetime, until: datetime, label: str
) -> None:
    period = parse_period(text)
    assert (period.unit, period.since, period.until, period.label) == (unit, since, until, label)


@pytest.mark.parametrize(
    ("text", "labels"),
    [
        ("2026-03", ["2025-11", "2025-12", "2026-01", "2026-02"]),
        ("2026-Q1", ["2025-Q1", "2025-Q2", "2025-Q3", "2025-Q4"]),
        ("2026-W02", ["2025-W50", "2025-W51", "2025-W52", "2026-W01"]),
        ("2026", ["2022", "2023", "2024", "2025"]),
    ],
)
def test_the_previous_periods_are_the_calendar_units_before(text: str, labels: list[str]) -> None:
    earlier = parse_period(text).previous_periods(4)
    assert [p.label for p in earlier] == labels
    assert earlier[-1].until == parse_period(text).since
    assert all(a.until == b.since for a, b in zip(earlier, earlier[1:], strict=False))


def test_a_custom_period_is_compared_with_the_span_of_the_same_length_before() -> None:
    period = custom_period(_at(1), _at(31))
    assert period.label == "2026-10-01..2026-10-31"
    assert [(p.since, p.until) for p in period.previous_periods(2)] == [
        (_at(2, 8), _at(1, 9)),
        (_at(1, 9), _at(1)),
    ]
    assert custom_period(None, _at(31)).previous_periods(4) == ()
    since = resolve_period(since="2026-10-01T02:00+02:00", until="2026-10-02")
    assert (since.since, since.until) == (_at(1), _at(2))


@pytest.mark.parametrize("text", ["2026-13", "2026-Q5", "2025-W53", "Q3 2026", "", "2026-1"])
def test_a_bad_period_gets_a_keyed_error_in_the_users_language(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_period(text)
    assert caught.value.key == "scorecard.bad_period"
    assert caught.value.localized("nl").startswith(f"'{text}' is geen periode.")
    assert "2026-W47" in caught.value.localized("en")


@pytest.mark.parametrize(
    ("args", "key"),
    [
        ({"period": "2026-10", "since": "2026-10-01"}, "scorecard.period_and_dates"),
        ({"since": "gisteren"}, "scorecard.bad_date"),
        ({"since": "2026-10-31", "until": "2026-10-01"}, "scorecard.empty_period"),
        ({"since": "2026-10-01", "until": "2026-10-01"}, "scorecard.empty_period"),
    ],
)
def test_asking_for_a_period_two_ways_or_an_empty_one_is_a_clear_error(
    args: dict[str, str], key: str
) -> None:
    with pytest.raises(InputError) as caught:
        resolve_period(**args)
    assert caught.value.key == key


# --- the metrics, on the worked example of docs/scorecard.md -----------------------------


def _worked_example(store: Store) -> dict[str, list[Post]]:
    """October 2026: P1 said loudly and mostly broken, P2 said and kept, P3 said, unjudged."""
    with store.session() as session:
        data = Data(session)
        p1, p2, p3 = data.promise("P1"), data.promise("P2"), data.promise("P3")
        data.promise("P4", status="proposed")  # not in the register yet: never counted
        own = [
            data.post(_at(2), {p1: "kept"}, kind="own", reach=1000),
            data.post(_at(9), {p1: "kept"}, kind="own"),
            data.post(_at(16), {p1: "kept", p2: "kept"}, kind="own", reach=200),
            data.post(_at(23), {p3: "kept"}, kind="own", reach=99),
            data.post(_at(24), {p2: "neutral"}, kind="own", reach=5000),  # about, not for
            data.post(_at(20, 9), {p1: "kept"}, kind="own", reach=7),  # September
        ]
        p1_kept = data.posts(2, _at(5), p1, "kept")
        p1_broken = data.posts(6, _at(6), p1, "broken")
        p1_neutral = data.posts(2, _at(7), p1, "neutral")
        p2_posts = data.posts(9, _at(8), p2, "kept") + data.posts(1, _at(8), p2, "broken")
        data.post(_at(10))  # a mention about no promise
        data.post(_at(3, 11), {p1: "broken"})  # November: outside the period
    return {
        "own": own,
        "p1_kept": p1_kept,
        "p1_broken": p1_broken,
        "p1_neutral": p1_neutral,
        "p2": p2_posts,
    }


def test_shares_coverage_and_say_do_gap_of_the_worked_example(store: Store) -> None:
    posts = _worked_example(store)
    card = build_scorecard(store, None, period=parse_period("2026-10"))
    p1, p2, p3 = card.rows
    assert [r.key for r in card.rows] == ["P1", "P2", "P3"]
    assert card.mentions == 21
    # shares and net over P1's ten mentions
    assert (p1.mentions, p1.kept.count, p1.broken.count, p1.neutral.count) == (10, 2, 6, 2)
    assert (p1.broken.share, p1.broken.low, p1.broken.high) == (
        pytest.approx(0.6),
        pytest.approx(0.3127, abs=1e-4),
        pytest.approx(0.8318, abs=1e-4),
    )
    assert p1.net == pytest.approx(-0.4)
    # own coverage: posts whose stance is kept; engagement = summed reach where known
    own = posts["own"]
    assert (p1.coverage.count, p1.coverage.engagement, p1.coverage.reach_known) == (3, 1200, 2)
    assert p1.coverage.posts == (own[2].id, own[1].id, own[0].id)
    assert (p2.coverage.count, p2.coverage.engagement) == (1, 200)
    assert (p3.coverage.count, p3.coverage.engagement, p3.coverage.reach_known) == (1, 99, 1)
    assert card.own_support == 5
    # say-do gap: say = 3/5, do = 2/(2+6), gap = 0.6 * 0.75
    gap = p1.gap
    assert (gap.say, gap.judged, gap.small) == (pytest.approx(0.6), 8, True)
    assert gap.do is not None and gap.do.share == pytest.approx(0.25)
    assert (gap.value, gap.low, gap.high) == (
        pytest.approx(0.45),
        pytest.approx(0.6 * (1 - 0.5907), abs=1e-4),
        pytest.approx(0.6 * (1 - 0.0715), abs=1e-4),
    )
    assert set(gap.do.posts) == {p.id for p in posts["p1_kept"] + posts["p1_broken"]}
    assert (p2.gap.say, p2.gap.value, p2.gap.small) == (
        pytest.approx(0.2),
        pytest.approx(0.02),
        False,
    )
    assert (p3.gap.say, p3.gap.do, p3.gap.value) == (pytest.approx(0.2), None, None)
    # the organisation's gap: the promises' gaps summed; P3's voice is not judged
    assert card.gap.value == pytest.approx(0.47)
    assert card.gap.unjudged == pytest.approx(0.2)
    assert card.gap.low == pytest.approx(gap.low + p2.gap.low)


def test_say_do_gap_edge_cases() -> None:
    nothing_said = say_do_gap(0, 0, 3, 1)
    assert (nothing_said.say, nothing_said.value) == (None, None)
    not_said = say_do_gap(0, 4, 0, 5)  # customers say it is broken; the company is silent
    assert (not_said.say, not_said.value, not_said.low, not_said.high) == (0.0, 0.0, 0.0, 0.0)
    all_kept = say_do_gap(4, 4, 20, 0)
    assert all_kept.value == 0.0 and all_kept.high == pytest.approx(1 - wilson(20, 20).low)
    assert not all_kept.small


def test_risk_weighs_broken_verdicts_by_reach_and_recency(store: Store) -> None:
    with store.session() as session:
        data = Data(session)
        p1, p2 = data.promise("P1"), data.promise("P2")
        fresh = data.post(_at(29), {p1: "broken"}, reach=999)  # weight 4 * 1
        old = data.post(_at(15), {p1: "broken"})  # weight 1 * 0.5
        older = data.post(_at(1), {p1: "broken"}, reach=9)  # weight 2 * 0.25
        data.post(_at(29), {p1: "kept"}, reach=100_000)  # kept: no risk
        data.post(_at(29), {p2: "broken"})  # weight 1
    # October is not over yet on the 29th: risk is measured as of now
    card = build_scorecard(store, None, period=parse_period("2026-10"), now=_at(29))
    p1, p2 = card.rows
    assert card.as_of == _at(29)
    assert (p1.risk.value, p1.risk.count) == (pytest.approx(5.0), 3)
    assert [post for post, _ in p1.risk.posts] == [fresh.id, old.id, older.id]  # ties: by id
    assert [weight for _, weight in p1.risk.posts] == [4.0, 0.5, 0.5]
    assert p2.risk.value == pytest.approx(1.0)
    # a period that is over is measured at its end, whenever the card is made
    later = build_scorecard(store, None, period=parse_period("2026-10"), now=_at(1, 12))
    assert later.as_of == _at(1, 11)
    assert later.rows[1].risk.value == pytest.approx(0.5 ** (3 / 14))
    assert risk_weight(None, 0) == 1.0 and risk_weight(99, 7, half_life_days=7) == 1.5


def test_the_trend_shows_the_net_score_of_the_previous_periods(store: Store) -> None:
    with store.session() as session:
        data = Data(session)
        p1 = data.promise("P1")
        data.posts(2, _at(10, 7), p1, "kept")  # July: +100
        data.posts(1, _at(10, 9), p1, "kept")  # September: 0
        data.posts(1, _at(11, 9), p1, "broken")
        data.posts(1, _at(10), p1, "broken")  # October: -100
        data.posts(1, _at(10, 5), p1, "kept")  # May: beyond three periods back
    card = build_scorecard(store, None, period=parse_period("2026-10"), trend=3)
    (row,) = card.rows
    assert [(t.period.label, t.mentions, t.net) for t in row.trend] == [
        ("2026-07", 2, 1.0),
        ("2026-08", 0, None),
        ("2026-09", 2, 0.0),
    ]
    assert (row.net, row.previous_net, row.change) == (-1.0, 0.0, -1.0)
    assert card.previous_since == _at(1, 9)
    assert build_scorecard(store, None, period=parse_period("2026-10"), trend=0).rows[0].trend == ()


# --- filters and corrections --------------------------------------------------------------


def test_filters_apply_to_every_post_counted(store: Store) -> None:
    with store.session() as session:
        data = Data(session)
        p1 = data.promise("P1")
        rss, eigen = data.source("fietsnieuws"), data.source("eigen", own=True)
        data.post(_at(5), {p1: "broken"}, platform="x", language="nl", batch=rss)
        data.post(_at(5), {p1: "broken"}, platform="mastodon", language="en", batch=rss)
        data.post(_at(5), {p1: "kept"}, platform="mastodon", language="nl")
        data.post(_at(5), {p1: "kept"}, kind="own", platform="mastodon", language="nl", batch=eigen)
        data.post(_at(5), {p1: "broken"}, kind="own", platform="x", language="en")
    october = parse_period("2026-10")

    def counts(filters: Filters) -> tuple[int, int, int, int]:
        (row,) = build_scorecard(store, None, period=october, filters=filters).rows
        return row.mentions, row.kept.count, row.broken.count, row.coverage.count

    assert counts(Filters()) == (3, 1, 2, 1)
    assert counts(Filters(languages=("NL",))) == (2, 1, 1, 1)
    assert counts(Filters(platforms=("mastodon",))) == (2, 1, 1, 1)
    assert counts(Filters(platforms=("x", "mastodon"), languages=("en",))) == (1, 0, 1, 0)
    assert counts(Filters(sources=("fietsnieuws",))) == (2, 0, 2, 0)
    assert counts(Filters(sources=("fietsnieuws", "eigen"))) == (2, 0, 2, 1)
    # own posts in the verdict columns; coverage stays the same
    assert counts(Filters(audience="own")) == (2, 1, 1, 1)
    with pytest.raises(NotFound) as caught:
        build_scorecard(store, None, period=october, filters=Filters(sources=("fietsnieuw",)))
    assert caught.value.key == "scorecard.unknown_source"
    assert "eigen, fietsnieuws" in str(caught.value)
    with pytest.raises(InputError):
        build_scorecard(store, None, period=october, filters=Filters(audience="press"))


def test_a_persons_correction_overrides_the_engine_in_every_number(store: Store) -> None:
    with store.session() as session:
        data = Data(session)
        p1, p2 = data.promise("P1"), data.promise("P2")
        said = data.post(_at(2), {p1: "kept"}, kind="own", reach=50)
        data.post(_at(3), {p2: "kept"}, kind="own")
        wrong = data.post(_at(20), {p1: "broken"}, reach=999)
        data.post(_at(20), {p1: "kept"})
        data.post(_at(20, 9), {p1: "kept"})
        data.correct(said, p1, "none")  # the own post does not support P1 after all
        data.correct(wrong, p1, "kept")  # this customer was in fact happy
        data.correct(data.post(_at(21)), p2, "broken")  # a mention the engine linked to nothing
    card = build_scorecard(store, None, period=parse_period("2026-10"))
    p1, p2 = card.rows
    assert (p1.kept.count, p1.broken.count, p1.risk.value, p1.risk.count) == (2, 0, 0.0, 0)
    assert (p1.coverage.count, p1.gap.say, p1.gap.value) == (0, 0.0, 0.0)
    assert (p2.coverage.count, p2.gap.say, p2.broken.count, p2.gap.value) == (1, 1.0, 1, 1.0)
    assert wrong.id in p1.kept.posts


# --- links back --------------------------------------------------------------------------


def test_the_json_links_every_number_to_its_posts(store: Store) -> None:
    posts = _worked_example(store)
    card = build_scorecard(store, None, period=parse_period("2026-10"), now=_at(1, 12))
    data = json.loads(json.dumps(scorecard_json(card, limit=4)))
    assert data["period"] == {
        "label": "2026-10",
        "unit": "month",
        "since": "2026-10-01T00:00:00+00:00",
        "until": "2026-11-01T00:00:00+00:00",
    }
    assert data["say_do_gap"]["value"] == 0.47
    p1 = data["promises"][0]
    assert (p1["mentions"], len(p1["posts"])) == (10, 4)  # the count stays, the list is cut
    assert (p1["broken"]["count"], len(p1["broken"]["posts"])) == (6, 4)
    assert p1["kept"]["posts"] == [p.id for p in reversed(posts["p1_kept"])]
    assert p1["own"] == {
        "count": 3,
        "engagement": 1200,
        "reach_known": 2,
        "posts": [posts["own"][i].id for i in (2, 1, 0)],
    }
    assert (p1["gap"]["say"], p1["gap"]["value"], p1["gap"]["small"]) == (0.6, 0.45, True)
    assert p1["gap"]["do"]["count"] == 2 and len(p1["gap"]["do"]["posts"]) == 4
    assert p1["risk"]["count"] == 6 and len(p1["risk"]["posts"]) == 4
    assert [t["label"] for t in p1["trend"]] == ["2026-06", "2026-07", "2026-08", "2026-09"]
    assert p1["trend"][-1]["posts"] == []  # September's own post is no mention
    # every id listed is in the post table, with what it takes to show or look it up
    listed = {str(i) for i in p1["own"]["posts"] + p1["broken"]["posts"]}
    assert listed <= set(data["posts"])
    first = data["posts"][str(posts["own"][0].id)]
    assert first == {
        "external_id": posts["own"][0].external_id,
        "platform": "x",
        "kind": "own",
        "posted_at": "2026-10-02T00:00:00+00:00",
        "reach": 1000,
        "language": "nl",
        "url": None,
    }


# --- the command --------------------------------------------------------------------------


def test_the_command_takes_a_period_and_filters(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV")
    store = open_store(klopt.db)
    try:
        _worked_example(store)
    finally:
        store.close()
    card = json.loads(klopt("scorecard", "--period", "2026-10", "--json").output)
    assert card["say_do_gap"]["value"] == 0.47
    assert card["promises"][0]["gap"]["value"] == 0.45
    filtered = json.loads(
        klopt("scorecard", "--period", "2026-10", "--platform", "bluesky", "--own", "--json").output
    )
    assert filtered["filters"]["platforms"] == ["bluesky"]
    assert filtered["filters"]["audience"] == "own"
    assert filtered["mentions"] == 0
    table = klopt("--lang", "nl", "scorecard", "--period", "2026-10", "--lang-filter", "nl").output
    assert "Scorekaart Voorbeeld BV, 2026-10 (2026-10-01 tot 2026-11-01)" in table
    assert "Zeggen en doen Voorbeeld BV" in table and "kloof %" in table
    assert "Zeg-doe-kloof: klanten spreken 47% tegen" in table
    assert "Alleen: taal nl." in table
    custom = klopt("scorecard", "--since", "2026-10-01", "--until", "2026-11-01").output
    assert "Say-do gap: customers contradict 47%" in custom


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--period", "2026-13"], "error: '2026-13' is not a period."),
        (["--period", "2026-10", "--until", "2026-11-01"], "cannot be combined"),
        (["--since", "1 oktober"], "error: '1 oktober' is not a date."),
        (["--source", "nope"], "error: There is no source 'nope'."),
    ],
)
def test_the_command_explains_a_mistake_without_a_traceback(
    klopt: Klopt, args: list[str], message: str
) -> None:
    klopt("init", "Voorbeeld BV")
    result = klopt("scorecard", *args, code=1)
    assert message in result.output and "Traceback" not in result.output
