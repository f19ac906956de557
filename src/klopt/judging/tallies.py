"""Daily tallies of current stances: what makes the dashboard's scorecard fast.

One :class:`~klopt.store.models.StanceDay` row per organisation, platform, UTC day of the
post, promise, kind of post and stance holds how many (post, promise) pairs have that
stance now, their summed known reach and their reputation weight; the rows of platform
:data:`ALL_PLATFORMS` sum every platform. A period's scorecard then sums a few thousand
rows instead of counting a million verdicts.

Which stance counts for a pair is the rule of
:func:`klopt.judging.verdicts.current_stances`: the verdict of the post's newest
judgement, unless a person corrected the pair; then the newest correction (``none``: no
pair). The writers keep the tallies in their own transaction: :func:`record_judgements`
before a judge stores a chunk of judgements, :func:`record_correction` before a
correction is stored. Each takes the organisation's tally lock first (PostgreSQL: a
transaction-level advisory lock; SQLite: the database's write lock, taken by the first
write), so two writers never read the same old stance. An organisation whose tallies were
never built (a store from before migration 0010, or one filled with plain SQL) has them
built from the verdict tables on first use; :func:`rebuild_tallies` repairs them.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import Any, cast

from sqlalchemy import (
    CursorResult,
    Date,
    Float,
    Time,
    delete,
    exists,
    extract,
    func,
    insert,
    literal,
    select,
    union_all,
    update,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.orm import Session, aliased

from klopt.accounts.organizations import find_organization
from klopt.store import Store
from klopt.store.models import (
    Correction,
    Judgement,
    Post,
    StanceDay,
    StanceDayState,
    Verdict,
)

__all__ = [
    "VERSION",
    "ALL_PLATFORMS",
    "HALF_LIFE_DAYS",
    "pair_weight",
    "record_judgements",
    "record_correction",
    "lock_tallies",
    "record_kind",
    "record_reach",
    "rebuild_tallies",
    "ensure_tallies",
    "tallies_built",
]

#: The half-life the ``weight`` column is kept for: the scorecard's default for the risk.
HALF_LIFE_DAYS = 14.0
#: How the tallies are counted; tallies of another version are counted anew on first use.
VERSION = 1
#: The platform of the rows that sum all platforms (no import makes a platform empty).
ALL_PLATFORMS = ""
_DAY = 86400.0
_BATCH = 1000

#: (organisation, platform, day, promise, kind, stance)
_Key = tuple[int, str, date, int, str, str]


def pair_weight(reach: int | None, seconds_into_day: float) -> float:
    """A pair's reputation weight at midnight (UTC) of its post's day.

    The scorecard weighs a broken pair ``(1 + log10(1 + reach)) × 0.5 ** (age / half-life)``
    at the end of the period. Split the age at the post's midnight and that is this
    weight times ``0.5 ** (days from midnight to the end / half-life)``: the same for every
    pair of the day, so a day's weights can be summed ahead.
    """
    reach_weight = 1 + math.log10(1 + max(reach or 0, 0))
    growth: float = 2.0 ** (seconds_into_day / _DAY / HALF_LIFE_DAYS)
    return reach_weight * growth


@dataclass(frozen=True)
class _Post:
    organization_id: int
    kind: str
    platform: str
    posted_at: datetime
    reach: int | None

    @property
    def day(self) -> date:
        return self.posted_at.astimezone(UTC).date()

    @property
    def seconds(self) -> float:
        moment = self.posted_at.astimezone(UTC)
        midnight = datetime(moment.year, moment.month, moment.day, tzinfo=UTC)
        return (moment - midnight).total_seconds()


class _Deltas:
    """Changes to tally rows, summed per row before they are written."""

    def __init__(self) -> None:
        self.rows: dict[_Key, list[float]] = {}

    def add(self, post: _Post, promise_id: int, stance: str | None, sign: int) -> None:
        if stance is None or stance == "none":
            return
        weight = pair_weight(post.reach, post.seconds)
        for platform in (post.platform, ALL_PLATFORMS):
            key = (post.organization_id, platform, post.day, promise_id, post.kind, stance)
            row = self.rows.setdefault(key, [0, 0, 0, 0.0])
            row[0] += sign
            row[1] += sign * (post.reach or 0)
            row[2] += sign * int(post.reach is not None)
            row[3] += sign * weight

    def move(self, post: _Post, promise_id: int, before: str | None, after: str | None) -> None:
        if before != after:
            self.add(post, promise_id, before, -1)
            self.add(post, promise_id, after, +1)


def record_judgements(session: Session, verdicts: Mapping[int, Mapping[int, str]]) -> None:
    """Count new judgements: ``verdicts`` maps each post judged to its new verdicts
    (promise id -> stance). Call it before the judgements are added to ``session``."""
    posts = _facts(session, verdicts)
    for org_id in sorted({post.organization_id for post in posts.values()}):
        _lock(session, org_id)
    ids = list(posts)
    old = _machine(session, ids)
    fixed = _corrected(session, ids)
    deltas = _Deltas()
    for post_id, post in posts.items():
        before, after = old.get(post_id, {}), verdicts[post_id]
        for promise_id in sorted(set(before) | set(after)):
            if (post_id, promise_id) not in fixed:
                deltas.move(post, promise_id, before.get(promise_id), after.get(promise_id))
    _apply(session, deltas)


def record_correction(session: Session, post_id: int, promise_id: int, stance: str) -> None:
    """Count a person's correction of a pair (``none``: not about the promise). Call it
    before the correction is added to ``session``."""
    post = _facts(session, [post_id]).get(post_id)
    if post is None:
        return
    _lock(session, post.organization_id)
    newest = session.scalar(
        select(Correction.stance)
        .where(Correction.post_id == post_id, Correction.promise_id == promise_id)
        .order_by(Correction.id.desc())
        .limit(1)
    )
    before = (
        newest
        if newest is not None
        else _machine(session, [post_id]).get(post_id, {}).get(promise_id)
    )
    deltas = _Deltas()
    deltas.move(post, promise_id, before, stance)
    _apply(session, deltas)


def tallies_built(session: Session, org_id: int) -> bool:
    """Whether the organisation's tallies are built (and so kept up to date)."""
    state = session.get(StanceDayState, org_id)
    return state is not None and state.version == VERSION


def ensure_tallies(store: Store, org_id: int) -> bool:
    """Build the organisation's tallies if they never were; False on a store this process
    cannot write to (then the tallies cannot be trusted, and are not used)."""
    with store.session() as session:
        if tallies_built(session, org_id):
            return True
    if store.read_only:
        return False
    with store.session() as session:
        _lock(session, org_id)
    return True


def rebuild_tallies(store: Store, org_ref: str | None) -> int:
    """Count the organisation's tallies anew from the verdict tables (a repair); returns
    the number of rows."""
    with store.session() as session:
        org_id = find_organization(session, org_ref).id
        if _lock(session, org_id):
            return _rebuild(session, org_id)
        return int(
            session.scalar(
                select(func.count())
                .select_from(StanceDay)
                .where(StanceDay.organization_id == org_id)
            )
            or 0
        )


# --- reading what the writers change ----------------------------------------------------


def _chunks(ids: Iterable[int]) -> Iterable[list[int]]:
    found = sorted(set(ids))
    for start in range(0, len(found), _BATCH):
        yield found[start : start + _BATCH]


def _facts(session: Session, ids: Iterable[int]) -> dict[int, _Post]:
    """What a tally row of each post is keyed and weighed by (posts without a time are in
    no period, and so in no tally)."""
    found: dict[int, _Post] = {}
    for chunk in _chunks(ids):
        query = select(
            Post.id, Post.organization_id, Post.kind, Post.platform, Post.posted_at, Post.reach
        ).where(Post.id.in_(chunk), Post.posted_at.is_not(None))
        for post_id, org_id, kind, platform, posted_at, reach in session.execute(query):
            found[post_id] = _Post(org_id, kind, platform, posted_at, reach)
    return found


def _machine(session: Session, ids: list[int]) -> dict[int, dict[int, str]]:
    """Per post, the verdicts of its newest judgement (promise id -> stance)."""
    found: dict[int, dict[int, str]] = {}
    for chunk in _chunks(ids):
        newest = (
            select(Judgement.post_id, func.max(Judgement.id).label("jid"))
            .where(Judgement.post_id.in_(chunk))
            .group_by(Judgement.post_id)
            .subquery()
        )
        query = select(Verdict.post_id, Verdict.promise_id, Verdict.stance).join(
            newest, Verdict.judgement_id == newest.c.jid
        )
        for post_id, promise_id, stance in session.execute(query):
            found.setdefault(post_id, {})[promise_id] = stance
    return found


def _corrected(session: Session, ids: list[int]) -> set[tuple[int, int]]:
    """The (post, promise) pairs a person corrected: the engine no longer counts there."""
    found: set[tuple[int, int]] = set()
    for chunk in _chunks(ids):
        query = select(Correction.post_id, Correction.promise_id).where(
            Correction.post_id.in_(chunk)
        )
        found |= {(post_id, promise_id) for post_id, promise_id in session.execute(query)}
    return found


def record_kind(session: Session, post_id: int, kind: str) -> None:
    """Move a post's counted stances to another kind (a mention that turns out to be the
    organisation's own post when a draft is published with its URL). Call it before the
    post's ``kind`` is changed in ``session``."""
    post = _facts(session, [post_id]).get(post_id)
    if post is None or post.kind == kind:
        return
    _move(session, post_id, post, _Post(post.organization_id, kind, post.platform,
                                        post.posted_at, post.reach))  # fmt: skip


def record_reach(session: Session, post_id: int, reach: int | None) -> None:
    """Count a post's stances with its new reach (an own post's likes, shares and replies
    read back from the platform). Call it before the post's ``reach`` is changed."""
    post = _facts(session, [post_id]).get(post_id)
    if post is None or post.reach == reach:
        return
    _move(session, post_id, post, _Post(post.organization_id, post.kind, post.platform,
                                        post.posted_at, reach))  # fmt: skip


def _move(session: Session, post_id: int, post: _Post, moved: _Post) -> None:
    """Take the post's counted stances from ``post``'s rows and add them to ``moved``'s."""
    _lock(session, post.organization_id)
    stances = dict(_machine(session, [post_id]).get(post_id, {}))
    corrections = session.execute(
        select(Correction.promise_id, Correction.stance)
        .where(Correction.post_id == post_id)
        .order_by(Correction.id)
    )
    for promise_id, stance in corrections:  # the newest correction of a pair wins
        stances[promise_id] = stance
    deltas = _Deltas()
    for promise_id, stance in sorted(stances.items()):
        deltas.add(post, promise_id, stance, -1)
        deltas.add(moved, promise_id, stance, +1)
    _apply(session, deltas)


# --- the lock, the writes, the rebuild ---------------------------------------------------


def _lock_key(org_id: int) -> int:
    digest = hashlib.sha256(f"klopt-tallies-{org_id}".encode()).digest()
    return int.from_bytes(digest[:8], "big", signed=True)


def lock_tallies(session: Session, org_id: int) -> None:
    """Take the organisation's tally lock for the rest of the transaction (the writers of
    judgements take it first, so that what they check before writing stays true)."""
    _lock(session, org_id)


def _lock(session: Session, org_id: int) -> bool:
    """Take the organisation's tally lock for the rest of the transaction; builds the
    tallies first if they never were. Returns False when they were just built (from
    everything committed so far)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(select(func.pg_advisory_xact_lock(_lock_key(org_id))))
    touched = cast(
        CursorResult[Any],
        session.execute(
            update(StanceDayState)
            .where(StanceDayState.organization_id == org_id, StanceDayState.version == VERSION)
            .values(changes=StanceDayState.changes + 1)
            .execution_options(synchronize_session=False)
        ),
    )
    if touched.rowcount:
        return True
    _rebuild(session, org_id)
    return False


def _apply(session: Session, deltas: _Deltas) -> None:
    rows = [
        {
            "organization_id": org_id,
            "platform": platform,
            "day": day,
            "promise_id": promise_id,
            "kind": kind,
            "stance": stance,
            "count": int(count),
            "reach": int(reach),
            "reach_known": int(known),
            "weight": float(weight),
        }
        for (org_id, platform, day, promise_id, kind, stance), (count, reach, known, weight) in (
            deltas.rows.items()
        )
        if count or reach or known or weight
    ]
    if not rows:
        return
    if session.get_bind().dialect.name == "postgresql":
        from sqlalchemy.dialects.postgresql import insert as upsert
    else:
        from sqlalchemy.dialects.sqlite import insert as upsert  # type: ignore[assignment]
    for start in range(0, len(rows), 500):
        statement = upsert(StanceDay).values(rows[start : start + 500])
        added = statement.excluded
        session.execute(
            statement.on_conflict_do_update(
                index_elements=[
                    StanceDay.organization_id,
                    StanceDay.platform,
                    StanceDay.day,
                    StanceDay.promise_id,
                    StanceDay.kind,
                    StanceDay.stance,
                ],
                set_={
                    "count": StanceDay.count + added.count,
                    "reach": StanceDay.reach + added.reach,
                    "reach_known": StanceDay.reach_known + added.reach_known,
                    "weight": StanceDay.weight + added.weight,
                },
            )
        )


def _current_pairs(org_id: int) -> Any:
    """(post_id, promise_id, stance) of every current pair of the organisation, in SQL."""
    newest = (
        select(Judgement.post_id, func.max(Judgement.id).label("jid"))
        .join(Post, Post.id == Judgement.post_id)
        .where(Post.organization_id == org_id)
        .group_by(Judgement.post_id)
        .subquery("newest")
    )
    corrected = exists().where(
        Correction.post_id == Verdict.post_id, Correction.promise_id == Verdict.promise_id
    )
    machine = (
        select(Verdict.post_id, Verdict.promise_id, Verdict.stance)
        .join(newest, Verdict.judgement_id == newest.c.jid)
        .where(~corrected)
    )
    later = aliased(Correction)
    people = (
        select(Correction.post_id, Correction.promise_id, Correction.stance)
        .join(Post, Post.id == Correction.post_id)
        .where(
            Post.organization_id == org_id,
            Correction.stance != "none",
            ~exists().where(
                later.post_id == Correction.post_id,
                later.promise_id == Correction.promise_id,
                later.id > Correction.id,
            ),
        )
    )
    return union_all(machine, people).subquery("pairs")


def _day_and_weight(session: Session) -> tuple[Any, Any]:
    """SQL for a post's UTC day, and for :func:`pair_weight` of it."""
    reach = func.coalesce(Post.reach, 0)
    if session.get_bind().dialect.name == "postgresql":
        utc = func.timezone("UTC", Post.posted_at)
        day: Any = sql_cast(utc, Date)
        seconds: Any = sql_cast(extract("epoch", sql_cast(utc, Time)), Float)
        log10: Any = func.log(sql_cast(1 + func.greatest(reach, 0), Float))
    else:
        _sqlite_math(session)
        day = func.substr(Post.posted_at, 1, 10)
        seconds = (
            func.julianday(Post.posted_at) - func.julianday(func.substr(Post.posted_at, 1, 10))
        ) * _DAY
        log10 = func.log10(sql_cast(1 + func.max(reach, 0), Float))
    growth = func.power(2.0, seconds / (_DAY * HALF_LIFE_DAYS))
    return day, (1 + log10) * growth


def _sqlite_math(session: Session) -> None:
    """SQLite built without its math functions: lend it Python's."""
    connection: Any = session.connection().connection.driver_connection
    try:
        connection.execute("SELECT log10(1), power(2.0, 1.0)").fetchall()
    except Exception:  # noqa: BLE001 - sqlite3.OperationalError: no such function
        connection.create_function("log10", 1, math.log10, deterministic=True)
        connection.create_function("power", 2, math.pow, deterministic=True)


def _rebuild(session: Session, org_id: int) -> int:
    """Replace the organisation's tallies with a count of its verdict tables (the caller
    holds the tally lock)."""
    session.execute(delete(StanceDay).where(StanceDay.organization_id == org_id))
    pairs = _current_pairs(org_id)
    day, weight = _day_and_weight(session)
    columns = [
        "organization_id", "platform", "day", "promise_id", "kind", "stance",
        "count", "reach", "reach_known", "weight",
    ]  # fmt: skip
    per_platform = (
        select(
            literal(org_id),
            Post.platform,
            day,
            pairs.c.promise_id,
            Post.kind,
            pairs.c.stance,
            func.count(),
            func.coalesce(func.sum(Post.reach), 0),
            func.count(Post.reach),
            func.sum(weight),
        )
        .select_from(pairs)
        .join(Post, Post.id == pairs.c.post_id)
        .where(Post.posted_at.is_not(None))
        .group_by(Post.platform, day, pairs.c.promise_id, Post.kind, pairs.c.stance)
    )
    session.execute(insert(StanceDay).from_select(columns, per_platform))
    grouping = (StanceDay.day, StanceDay.promise_id, StanceDay.kind, StanceDay.stance)
    every_platform = (
        select(
            StanceDay.organization_id,
            literal(ALL_PLATFORMS),
            *grouping,
            func.sum(StanceDay.count),
            func.sum(StanceDay.reach),
            func.sum(StanceDay.reach_known),
            func.sum(StanceDay.weight),
        )
        .where(StanceDay.organization_id == org_id, StanceDay.platform != ALL_PLATFORMS)
        .group_by(StanceDay.organization_id, *grouping)
    )
    session.execute(insert(StanceDay).from_select(columns, every_platform))
    session.execute(delete(StanceDayState).where(StanceDayState.organization_id == org_id))
    session.add(
        StanceDayState(
            organization_id=org_id, version=VERSION, built_at=datetime.now(UTC), changes=0
        )
    )
    session.flush()
    return int(
        session.scalar(
            select(func.count()).select_from(StanceDay).where(StanceDay.organization_id == org_id)
        )
        or 0
    )
