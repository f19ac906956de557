"""The inbox: mentions with their current verdicts, to look at first, a page at a time.

Everything is filtered, ordered and cut into pages by the database; only the mentions of
one page are read into Python. Which stance counts for a (post, promise) pair is the rule
of :func:`klopt.judging.verdicts.current_stances`: the verdict of the post's newest
judgement, unless a person corrected the pair (the newest correction wins; ``none`` means
the post is not about the promise).

Three orders (:data:`ORDERS`):

- ``priority`` (the default, the *review queue*: what a person should check first):
  ``doubt × (1 + digits of the reach)``, highest first: mentions the engine is unsure
  about, and that many people saw. The reach counts on a log scale, like the scorecard's
  reputation risk, so one famous account does not bury everything else.
- ``uncertainty``: the highest doubt first (reach left out).
- ``newest``: the newest first (mentions without a time last).

A mention's *doubt* is the one the judge stored with its newest judgement
(:attr:`klopt.store.models.Judgement.doubt`, 0..1): high where a promise's probability
sits near its link threshold, linked or not, or a stance is unsure. A mention a person
corrected (any correction of it) has been looked at: its doubt counts as 0 and it comes
last. Where the newest judgement has no doubt (judged before klopt stored it) or there is
no judgement, the doubt is ``1 − the lowest confidence`` of the verdicts no person
corrected (0 without such a verdict), so an older store still ranks sensibly.
:func:`review_queue` is the first page of the priority order.

A ranked order is computed by the database for every mention it weighs. To keep a page
fast on millions of mentions it weighs the newest :data:`RANK_WINDOW` mentions that pass
the filters other than promise and stance (then :attr:`InboxPage.ranked_since` says from
when; the newest order, or an earlier period, reaches further back). A stored priority
per post, with an index, would lift this limit.

Pages are cut with an opaque cursor (keyset pagination): a page costs the same however
deep it is, and no mention is skipped or shown twice while the keys stand. A correction
made meanwhile changes a key in a ranked order: the mention moves to the end (its doubt
is 0 now) and shows there again.
"""

from __future__ import annotations

import base64
import binascii
import json
import math
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import ColumnElement, and_, case, exists, func, literal, or_, select
from sqlalchemy.orm import Session, aliased

from klopt.accounts.organizations import find_organization
from klopt.errors import InputError, NotFound
from klopt.judging.verdicts import STANCES, correct
from klopt.register.promises import find_promise
from klopt.store import Store
from klopt.store.models import (
    Correction,
    ImportBatch,
    Judgement,
    ListeningSource,
    Post,
    Promise,
    Verdict,
)

__all__ = [
    "ORDERS",
    "MAX_LIMIT",
    "MAX_IDS",
    "RANK_WINDOW",
    "InboxFilters",
    "InboxVerdict",
    "InboxMention",
    "InboxPage",
    "CorrectionEntry",
    "inbox",
    "review_queue",
    "find_mention",
    "mention_corrections",
    "correct_mention",
    "inbox_promises",
    "inbox_sources",
    "mention_json",
    "parse_moment",
    "parse_ids",
]

ORDERS = ("priority", "uncertainty", "newest")
#: The most mentions one page holds.
MAX_LIMIT = 200
#: The most ids one ``?ids=`` list may name.
MAX_IDS = 1000
#: The most mentions a ranked order weighs: the newest that match (see the module doc).
RANK_WINDOW = 5_000
#: The largest id a post can have (PostgreSQL's ``integer``).
_MAX_ID = 2**31 - 1
_TEXT_LIMIT = 200


@dataclass(frozen=True)
class InboxFilters:
    """Which mentions the inbox shows; ``None`` or empty means all.

    ``promise`` is a promise id (P1), ``stance`` kept, broken or neutral; both together
    ask for mentions with that stance on that promise. ``source`` is the name of a
    listening source. ``since``/``until`` is the period [since, until). ``ids`` names
    klopt's own post ids (the dashboard's links); with ids, own posts are shown too.
    """

    promise: str | None = None
    stance: str | None = None
    platform: str | None = None
    source: str | None = None
    language: str | None = None
    since: datetime | None = None
    until: datetime | None = None
    ids: tuple[int, ...] = ()


@dataclass(frozen=True)
class InboxVerdict:
    """The current verdict of one mention on one promise, and what the engine saw."""

    promise: str
    statement: str
    stance: str
    by_person: bool
    confidence: float | None
    evidence: dict[str, Any]
    #: What the engine said, where a person corrected it (None: not corrected, or the
    #: engine had not linked the mention to this promise).
    engine_stance: str | None = None


@dataclass(frozen=True)
class InboxMention:
    """One mention (or, asked for by id, own post) with its current verdicts."""

    id: int
    post: str
    kind: str
    platform: str
    posted_at: datetime | None
    author: str | None
    url: str | None
    text: str
    reach: int | None
    language: str | None
    verdicts: tuple[InboxVerdict, ...] = ()
    #: Promises a person said the mention is not about.
    not_about: tuple[str, ...] = ()
    #: How unsure the engine is about the mention (0..1), as its newest judgement says
    #: (None: not judged, or judged before klopt stored the doubt).
    doubt: float | None = None


@dataclass(frozen=True)
class InboxPage:
    """One page of the inbox and the cursor of the next (None: this is the last)."""

    mentions: tuple[InboxMention, ...]
    next_cursor: str | None
    order: str
    #: Where more than :data:`RANK_WINDOW` mentions match a ranked order: the time of the
    #: oldest one it ranked (older ones are left out of this order), and how many it weighs.
    ranked_since: datetime | None = None
    ranked: int | None = None


@dataclass(frozen=True)
class CorrectionEntry:
    """One correction of a mention, as kept in the store (the history)."""

    promise: str
    stance: str
    author: str
    created_at: datetime
    note: str


@dataclass
class _Query:
    """The parts of the inbox query for one organisation and one set of filters."""

    org_id: int
    filters: InboxFilters
    promise_id: int | None
    source_id: int | None = None
    window: datetime | None = None


def inbox(
    store: Store,
    org_ref: str | None,
    filters: InboxFilters | None = None,
    *,
    order: str = "priority",
    limit: int = 25,
    cursor: str | None = None,
) -> InboxPage:
    """One page of the organisation's inbox.

    Raises:
        InputError: an unknown order or stance, a limit outside 1..:data:`MAX_LIMIT`, a
            cursor that is not one of this order's, too many ids, or a bad period.
        NotFound: the promise or source in the filters is not the organisation's.
    """
    filters = filters or InboxFilters()
    _check(filters, order, limit)
    after = _decode_cursor(cursor, order) if cursor else None
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = _Query(org.id, filters, _promise_id(session, org.id, filters.promise))
        query.source_id = _source_id(session, org.id, filters.source)
        if order != "newest" and not filters.ids:
            query.window = _window_start(session, query)
        rows = _page_rows(session, query, order, after, limit + 1)
        more = len(rows) > limit
        rows = rows[:limit]
        mentions = _mentions(session, [post_id for post_id, _ in rows])
    next_cursor = _encode_cursor(order, rows[-1][1], rows[-1][0]) if more and rows else None
    ranked = RANK_WINDOW if query.window is not None else None
    return InboxPage(tuple(mentions), next_cursor, order, query.window, ranked)


def review_queue(
    store: Store, org_ref: str | None, *, limit: int = 25, promise: str | None = None
) -> InboxPage:
    """What a person should check first: the first page of the ``priority`` order (the
    judge's doubt × the reach), optionally of the mentions about one promise.

    Raises:
        InputError: a limit outside 1..:data:`MAX_LIMIT`.
        NotFound: ``promise`` is not one of the organisation's promises.
    """
    return inbox(store, org_ref, InboxFilters(promise=promise), order="priority", limit=limit)


def _check(filters: InboxFilters, order: str, limit: int) -> None:
    if order not in ORDERS:
        raise InputError.keyed("inbox.bad_order", value=order, choices=", ".join(ORDERS))
    if filters.stance is not None and filters.stance not in STANCES:
        raise InputError.keyed("inbox.bad_stance", value=filters.stance)
    if not 1 <= limit <= MAX_LIMIT:
        raise InputError.keyed("inbox.bad_limit", limit=limit, most=MAX_LIMIT)
    if len(filters.ids) > MAX_IDS or any(not 1 <= i <= _MAX_ID for i in filters.ids):
        raise InputError.keyed("inbox.bad_ids", most=MAX_IDS)
    for value in (filters.promise, filters.platform, filters.source, filters.language):
        if value is not None and (len(value) > _TEXT_LIMIT or "\x00" in value):
            raise InputError.keyed("inbox.bad_filter", value=value[:40])
    if filters.since and filters.until and filters.since >= filters.until:
        raise InputError.keyed("inbox.empty_period")


def _promise_id(session: Session, org_id: int, key: str | None) -> int | None:
    return find_promise(session, org_id, key).id if key else None


def _source_id(session: Session, org_id: int, name: str | None) -> int | None:
    """The id of the organisation's listening source ``name`` (None: no source asked)."""
    if not name:
        return None
    source = session.scalar(
        select(ListeningSource.id).where(
            ListeningSource.organization_id == org_id, ListeningSource.name == name
        )
    )
    if source is None:
        raise NotFound.keyed("inbox.unknown_source", name=name)
    return int(source)


# --- the query ----------------------------------------------------------------------------


def _latest(verdict: Any) -> ColumnElement[bool]:
    """The verdict belongs to its post's newest judgement.

    Written as ``= (SELECT max(id) ...)``, not ``NOT EXISTS (a newer one)``: PostgreSQL
    turns the latter into an anti-join that reads the whole judgement table, where one
    look-up in the index on post_id per verdict is what a page needs.
    """
    newest = aliased(Judgement)
    latest: ColumnElement[bool] = verdict.judgement_id == (
        select(func.max(newest.id)).where(newest.post_id == verdict.post_id).scalar_subquery()
    )
    return latest


def _uncorrected(verdict: Any) -> ColumnElement[bool]:
    """No person corrected the verdict's (post, promise) pair."""
    return ~exists().where(
        Correction.post_id == verdict.post_id, Correction.promise_id == verdict.promise_id
    )


def _newest_correction(correction: Any) -> ColumnElement[bool]:
    later = aliased(Correction)
    return ~exists().where(
        later.post_id == correction.post_id,
        later.promise_id == correction.promise_id,
        later.id > correction.id,
    )


def _has_pair(promise_id: int | None, stance: str | None) -> ColumnElement[bool]:
    """The post has a current pair with the promise and/or stance.

    Each side is a scalar subquery with ``LIMIT 1``, not ``EXISTS``: PostgreSQL would
    compute an ``EXISTS`` under ``OR`` for *all* posts first (a hashed subplan: seconds
    for a common stance), where the inbox walks the newest posts and stops at a page.
    """
    v, c = aliased(Verdict), aliased(Correction)
    machine = [v.post_id == Post.id, _latest(v), _uncorrected(v)]
    people = [c.post_id == Post.id, c.stance != "none", _newest_correction(c)]
    if promise_id is not None:
        machine.append(v.promise_id == promise_id)
        people.append(c.promise_id == promise_id)
    if stance is not None:
        machine.append(v.stance == stance)
        people.append(c.stance == stance)
    first = (
        select(v.id).where(*machine).limit(1).scalar_subquery(),
        select(c.id).where(*people).limit(1).scalar_subquery(),
    )
    return or_(first[0].is_not(None), first[1].is_not(None))


def _where(query: _Query, *, pairs: bool = True, window: bool = True) -> list[ColumnElement[bool]]:
    """The conditions of the filters (``pairs=False``: all but promise and stance)."""
    f = query.filters
    where: list[ColumnElement[bool]] = [Post.organization_id == query.org_id]
    if f.ids:
        where.append(Post.id.in_(f.ids))
    else:
        where.append(Post.kind == "mention")
    if f.since is not None:
        where.append(Post.posted_at >= f.since)
    if f.until is not None:
        where.append(Post.posted_at < f.until)
    if f.platform:
        where.append(Post.platform == f.platform.lower())
    if f.language:
        where.append(Post.language == f.language.lower())
    if query.source_id is not None:
        batches = select(ImportBatch.id).where(ImportBatch.source_id == query.source_id)
        where.append(Post.import_batch_id.in_(batches))
    if pairs and (query.promise_id is not None or f.stance is not None):
        where.append(_has_pair(query.promise_id, f.stance))
    if window and query.window is not None:
        # Both: the time lets PostgreSQL read the window's range of its index, the ids
        # keep SQLite from preferring another index (e.g. the one on platform).
        where += [Post.posted_at >= query.window, Post.id.in_(_window(query))]
    return where


def _window(query: _Query) -> Any:
    """The ids of the newest :data:`RANK_WINDOW` posts that pass the filters other than
    promise and stance: a walk of the index on time."""
    return (
        select(Post.id)
        .where(*_where(query, pairs=False, window=False), Post.posted_at.is_not(None))
        .order_by(Post.posted_at.desc(), Post.id.desc())
        .limit(RANK_WINDOW)
        .scalar_subquery()
    )


def _window_start(session: Session, query: _Query) -> datetime | None:
    """The time of the :data:`RANK_WINDOW`-th newest post that passes the filters other
    than promise and stance (None: fewer pass). Found by walking the index on time; the
    promise and stance filters then apply within the window, so that its cost stays
    bounded however rare the pair asked for is."""
    cut = (
        select(Post.posted_at)
        .where(*_where(query, pairs=False, window=False), Post.posted_at.is_not(None))
        .order_by(Post.posted_at.desc())
        .offset(RANK_WINDOW - 1)
        .limit(1)
    )
    found: datetime | None = session.scalar(cut)
    return found


def _open_confidence() -> Any:
    """The lowest confidence of the post's verdicts that no person corrected."""
    v = aliased(Verdict)
    return (
        select(func.min(v.confidence))
        .where(v.post_id == Post.id, _latest(v), _uncorrected(v))
        .correlate(Post)
        .scalar_subquery()
    )


def _stored_doubt() -> Any:
    """The doubt of the post's newest judgement (NULL: none, or judged before 0013)."""
    j = aliased(Judgement)
    return (
        select(j.doubt)
        .where(j.post_id == Post.id)
        .order_by(j.id.desc())
        .limit(1)
        .correlate(Post)
        .scalar_subquery()
    )


def _corrected() -> ColumnElement[bool]:
    """A person corrected the post (any pair). A scalar subquery with ``LIMIT 1``, not
    ``EXISTS``, for the reason :func:`_has_pair` gives."""
    first = select(Correction.id).where(Correction.post_id == Post.id).limit(1)
    return first.correlate(Post).scalar_subquery().is_not(None)


def _doubt() -> Any:
    """How unsure the engine is about the post (see the module doc): 0 once a person
    corrected it, else the stored doubt, else 1 − the lowest open confidence."""
    fallback = literal(1.0) - func.coalesce(_open_confidence(), literal(1.0))
    return case((_corrected(), literal(0.0)), else_=func.coalesce(_stored_doubt(), fallback))


def _reach_weight() -> Any:
    """1 + the number of digits of the reach (1 for none): a log scale without log()."""
    steps = [(Post.reach >= 10**n, literal(float(n + 2))) for n in range(9, -1, -1)]
    return case(*steps, else_=literal(1.0))


def _sort_key(order: str) -> Any:
    if order == "uncertainty":
        return _doubt()
    return _doubt() * _reach_weight()


def _page_rows(
    session: Session, query: _Query, order: str, after: tuple[Any, int] | None, size: int
) -> list[tuple[int, Any]]:
    """(post id, sort key) of the next ``size`` posts after the cursor."""
    if order == "newest":
        return _newest_rows(session, query, after, size)
    keyed = select(Post.id.label("id"), _sort_key(order).label("key")).where(*_where(query))
    inner = keyed.subquery("keyed")
    outer = select(inner.c.id, inner.c.key)
    if after is not None:
        key, last = after
        outer = outer.where(or_(inner.c.key < key, and_(inner.c.key == key, inner.c.id < last)))
    outer = outer.order_by(inner.c.key.desc(), inner.c.id.desc()).limit(size)
    return list(session.execute(outer).tuples())


def _newest_rows(
    session: Session, query: _Query, after: tuple[Any, int] | None, size: int
) -> list[tuple[int, Any]]:
    """Newest first, then the posts without a time: two queries, so that each walks the
    index on (organisation, time) instead of sorting the organisation's posts (an index
    gives ``DESC NULLS FIRST`` on PostgreSQL, not the ``NULLS LAST`` wanted here)."""
    rows: list[tuple[int, Any]] = []
    if after is None or after[0] is not None:
        timed = select(Post.id, Post.posted_at).where(*_where(query), Post.posted_at.is_not(None))
        if after is not None:
            stamp, last = after
            timed = timed.where(
                Post.posted_at <= stamp, or_(Post.posted_at < stamp, Post.id < last)
            )
        timed = timed.order_by(Post.posted_at.desc(), Post.id.desc()).limit(size)
        rows = list(session.execute(timed).tuples())
    if len(rows) < size:
        untimed = select(Post.id, Post.posted_at).where(*_where(query), Post.posted_at.is_(None))
        if after is not None and after[0] is None:
            untimed = untimed.where(Post.id < after[1])
        untimed = untimed.order_by(Post.id.desc()).limit(size - len(rows))
        rows += session.execute(untimed).tuples()
    return rows


# --- the cursor -----------------------------------------------------------------------------


def _encode_cursor(order: str, key: Any, last: int) -> str:
    if isinstance(key, datetime):
        key = key.astimezone(UTC).isoformat()
    elif key is not None:
        key = float(key)
    data = json.dumps([order, key, int(last)], separators=(",", ":"))
    return base64.urlsafe_b64encode(data.encode()).decode().rstrip("=")


def _decode_cursor(cursor: str, order: str) -> tuple[Any, int]:
    """(sort key, post id) of the last mention of the page before; InputError if the
    cursor is not one this function's twin wrote for ``order``."""
    bad = InputError.keyed("inbox.bad_cursor")
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        name, key, last = json.loads(raw.decode())
    except (ValueError, TypeError, binascii.Error, UnicodeDecodeError, RecursionError):
        raise bad from None
    if name != order or not isinstance(last, int) or not 1 <= last <= _MAX_ID:
        raise bad
    if order == "newest":
        return _cursor_time(key, bad), last
    if isinstance(key, bool) or not isinstance(key, int | float) or not math.isfinite(key):
        raise bad
    return float(key), last


def _cursor_time(key: Any, bad: InputError) -> datetime | None:
    if key is None:
        return None
    if not isinstance(key, str):
        raise bad
    try:
        stamp = datetime.fromisoformat(key)
    except ValueError:
        raise bad from None
    if stamp.tzinfo is None:
        raise bad
    return stamp


# --- reading one page's mentions ------------------------------------------------------------


def _mentions(session: Session, ids: list[int]) -> list[InboxMention]:
    """The mentions ``ids`` with their current verdicts, in the order of ``ids``."""
    if not ids:
        return []
    posts = {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(ids)))}
    machine = _machine_verdicts(session, ids)
    people = _people(session, ids)
    promise_ids = {pid for _, pid in machine} | {pid for _, pid in people}
    promises = {
        p.id: p for p in session.scalars(select(Promise).where(Promise.id.in_(promise_ids)))
    }
    doubts = _doubts(session, ids)
    return [_mention(posts[i], machine, people, promises, doubts.get(i)) for i in ids if i in posts]


def _doubts(session: Session, ids: list[int]) -> dict[int, float | None]:
    """post -> the doubt of its newest judgement (posts without a judgement left out)."""
    j, newest = aliased(Judgement), aliased(Judgement)
    latest = select(func.max(newest.id)).where(newest.post_id == j.post_id).scalar_subquery()
    rows = session.execute(select(j.post_id, j.doubt).where(j.post_id.in_(ids), j.id == latest))
    return {post_id: doubt for post_id, doubt in rows.tuples()}


def _machine_verdicts(session: Session, ids: list[int]) -> dict[tuple[int, int], Verdict]:
    """(post, promise) -> the verdict of the post's newest judgement."""
    v = aliased(Verdict)
    found = session.scalars(select(v).where(v.post_id.in_(ids), _latest(v)))
    return {(x.post_id, x.promise_id): x for x in found}


def _people(session: Session, ids: list[int]) -> dict[tuple[int, int], str]:
    """(post, promise) -> the stance of the newest correction."""
    rows = session.execute(
        select(Correction.post_id, Correction.promise_id, Correction.stance)
        .where(Correction.post_id.in_(ids))
        .order_by(Correction.id)
    ).tuples()
    return {(post, promise): stance for post, promise, stance in rows}


def _mention(
    post: Post,
    machine: dict[tuple[int, int], Verdict],
    people: dict[tuple[int, int], str],
    promises: dict[int, Promise],
    doubt: float | None = None,
) -> InboxMention:
    pairs = {pid for post_id, pid in (*machine, *people) if post_id == post.id}
    verdicts: list[InboxVerdict] = []
    not_about: list[str] = []
    for pid in pairs:
        engine = machine.get((post.id, pid))
        person = people.get((post.id, pid))
        promise = promises[pid]
        if person == "none":
            not_about.append(promise.key)
            continue
        verdicts.append(
            InboxVerdict(
                promise=promise.key,
                statement=promise.statement,
                stance=person or (engine.stance if engine else "neutral"),
                by_person=person is not None,
                confidence=engine.confidence if engine else None,
                evidence=dict(engine.evidence) if engine else {},
                engine_stance=engine.stance if engine and person else None,
            )
        )
    verdicts.sort(key=_first_to_look_at)
    return InboxMention(
        id=post.id, post=post.external_id, kind=post.kind, platform=post.platform,
        posted_at=post.posted_at, author=post.author, url=post.url, text=post.text,
        reach=post.reach, language=post.language, verdicts=tuple(verdicts),
        not_about=tuple(sorted(not_about, key=_key_order)), doubt=doubt,
    )  # fmt: skip


def _first_to_look_at(v: InboxVerdict) -> tuple[bool, float, tuple[int, str]]:
    """Uncorrected verdicts first, the least confident first; then by promise id."""
    confidence = 1.0 if v.confidence is None else v.confidence
    return (v.by_person, confidence, _key_order(v.promise))


def _key_order(key: str) -> tuple[int, str]:
    digits = key[1:] if key[:1] == "P" else ""
    return (int(digits), key) if digits.isdigit() else (10**9, key)


# --- one mention, its history, a correction -------------------------------------------------


def _org_post(session: Session, org_ref: str | None, post_id: int) -> tuple[int, Post]:
    org = find_organization(session, org_ref)
    post = None
    if 1 <= post_id <= _MAX_ID:
        post = session.scalar(
            select(Post).where(Post.id == post_id, Post.organization_id == org.id)
        )
    if post is None:
        raise NotFound.keyed("inbox.unknown_mention", id=post_id)
    return org.id, post


def find_mention(store: Store, org_ref: str | None, post_id: int) -> InboxMention:
    """The organisation's post ``post_id`` with its current verdicts.

    Raises:
        NotFound: there is no such post in the organisation (another's included).
    """
    with store.session() as session:
        _, post = _org_post(session, org_ref, post_id)
        return _mentions(session, [post.id])[0]


def mention_corrections(store: Store, org_ref: str | None, post_id: int) -> list[CorrectionEntry]:
    """Every correction of the post, oldest first (who said what, when)."""
    with store.session() as session:
        _, post = _org_post(session, org_ref, post_id)
        rows = session.execute(
            select(Promise.key, Correction.stance, Correction.author, Correction.created_at,
                   Correction.note)
            .join(Promise, Promise.id == Correction.promise_id)
            .where(Correction.post_id == post.id)
            .order_by(Correction.id)
        ).tuples()  # fmt: skip
        return [CorrectionEntry(*row) for row in rows]


def correct_mention(
    store: Store,
    org_ref: str | None,
    post_id: int,
    *,
    stance: str,
    actor: str,
    promise: str | None = None,
    instead: bool = False,
    note: str = "",
) -> InboxMention:
    """Record a person's verdict on the mention, and return it as it is now.

    - ``promise`` and a stance (kept, broken, neutral, or none: not about it): that pair.
    - ``stance="none"`` without a promise: the mention is about no promise; every
      current pair is set to none.
    - ``instead``: the mention is about ``promise`` *instead of* the promises it is now
      linked to; those are set to none.

    Each pair goes through :func:`klopt.judging.verdicts.correct`, which checks the role
    (``verdict.correct``) and records the audit trail.

    Raises:
        NotFound: no such post in the organisation, or no such promise.
        NotAllowed: the actor's role may not correct verdicts.
        InputError: not a stance, or a promise is missing where one is needed.
    """
    if stance not in (*STANCES, "none"):
        raise InputError.keyed("verdict.not_a_stance", stance=stance)
    if promise is None and (stance != "none" or instead):
        raise InputError.keyed("inbox.promise_needed")
    with store.session() as session:
        org_id, post = _org_post(session, org_ref, post_id)
        if promise is not None:
            find_promise(session, org_id, promise)
        current = [v.promise for v in _mentions(session, [post.id])[0].verdicts]
    ref = f"#{post.id}"
    pairs = [(promise, stance)] if promise is not None else []
    if promise is None or instead:
        pairs += [(key, "none") for key in current if key != promise]
    for key, value in pairs:
        correct(store, org_ref, post_ref=ref, promise_key=key, stance=value, actor=actor, note=note)
    return find_mention(store, org_ref, post.id)


# --- what the filters offer -----------------------------------------------------------------


def inbox_promises(store: Store, org_ref: str | None) -> list[tuple[str, str]]:
    """(id, statement) of the organisation's approved promises, in register order."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        rows = session.execute(
            select(Promise.key, Promise.statement).where(
                Promise.organization_id == org.id, Promise.status == "approved"
            )
        ).tuples()
        return sorted(rows, key=lambda row: _key_order(row[0]))


def inbox_sources(store: Store, org_ref: str | None) -> list[str]:
    """The names of the organisation's listening sources."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        return sorted(
            session.scalars(
                select(ListeningSource.name).where(ListeningSource.organization_id == org.id)
            )
        )


# --- parsing what people and programs send ----------------------------------------------------


def parse_moment(text: str | None, *, end: bool = False) -> datetime | None:
    """A date or ISO time as an aware UTC time (UTC where none is given); None for empty.

    Raises:
        InputError: not a date or time klopt understands, or one out of range.
    """
    if text is None or not text.strip():
        return None
    try:
        stamp = datetime.fromisoformat(text.strip())
        return stamp.astimezone(UTC) if stamp.tzinfo else stamp.replace(tzinfo=UTC)
    except (ValueError, OverflowError):
        raise InputError.keyed("inbox.bad_time", value=text[:40]) from None


def parse_ids(text: str | None) -> tuple[int, ...]:
    """``"1,2,3"`` as post ids (at most :data:`MAX_IDS`); InputError for anything else."""
    if text is None or not text.strip():
        return ()
    parts = [part.strip() for part in text.split(",") if part.strip()]
    if len(parts) > MAX_IDS or not all(p.isascii() and p.isdigit() and len(p) <= 10 for p in parts):
        raise InputError.keyed("inbox.bad_ids", most=MAX_IDS)
    ids = tuple(dict.fromkeys(int(p) for p in parts))
    if any(not 1 <= i <= _MAX_ID for i in ids):
        raise InputError.keyed("inbox.bad_ids", most=MAX_IDS)
    return ids


# --- one serializer for programs ------------------------------------------------------------


def mention_json(mention: InboxMention) -> dict[str, Any]:
    """A mention as the API and ``klopt review-queue --json`` give it: the fields of
    ``klopt mentions list --json`` (post, platform, posted_at, author, url, text; per
    verdict promise, stance, by_person, confidence, evidence), grouped per mention, with
    klopt's id, kind, reach, language and the engine's doubt."""
    return {
        "id": mention.id,
        "post": mention.post,
        "kind": mention.kind,
        "platform": mention.platform,
        "posted_at": mention.posted_at.isoformat() if mention.posted_at else None,
        "author": mention.author,
        "url": mention.url,
        "text": mention.text,
        "reach": mention.reach,
        "language": mention.language,
        "doubt": mention.doubt,
        "verdicts": [
            {
                "promise": v.promise,
                "statement": v.statement,
                "stance": v.stance,
                "by_person": v.by_person,
                "confidence": v.confidence,
                "evidence": v.evidence,
                "engine_stance": v.engine_stance,
            }
            for v in mention.verdicts
        ],
        "not_about": list(mention.not_about),
    }
