"""The schedule: per organisation, sync each source that is due, judge the new posts, and
check the alerts; one round after the other.

Each piece of work is a **job** with a name (``sync:3:fietsnieuws``, ``judge:3``,
``alerts:3``). A worker runs a job only while it holds the job's lease
(:mod:`klopt.jobs.leases`), and asks again whether it is still due once it holds it: of
two workers that both saw a source due, the second finds it synced and does nothing.
Every run is recorded (:mod:`klopt.jobs.runs`); one failing job never stops the next.

A job kind says which jobs an organisation has, when one is due, and how it runs
(:class:`JobKind`); the three built-in kinds are in :data:`JOB_KINDS`, in the order a
round runs them. A job whose last run failed or was skipped waits ``retry_after``
seconds before it is tried again, so a broken setting does not fill the record.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import exists, select

from klopt.errors import Busy, KloptError, NotFound
from klopt.jobs.leases import take_lease
from klopt.jobs.runs import RunInfo, finish_run, last_run, start_run
from klopt.listening.http import Http
from klopt.store import Store
from klopt.store.models import Judgement, ListeningSource, Organization, Post, utcnow

__all__ = [
    "JOB_KINDS",
    "Job",
    "JobKind",
    "Outcome",
    "Round",
    "Timing",
    "organizations",
    "run_job",
    "run_round",
]

_log = logging.getLogger("klopt.jobs")


@dataclass(frozen=True)
class Timing:
    """How often the schedule runs, and how long a lease lasts.

    Attributes:
        tick: Seconds between two rounds.
        lease: Seconds a lease lasts without renewal: how long a crashed worker's job
            waits before another worker takes it over.
        alerts_every: Seconds between two alert checks of an organisation (sooner when
            the judge found new verdicts).
        retry_after: Seconds a job waits after a failed or skipped run.
        keep: How long runs stay in the record.
    """

    tick: float = 30.0
    lease: float = 120.0
    alerts_every: float = 900.0
    retry_after: float = 300.0
    keep: timedelta = timedelta(days=30)


@dataclass(frozen=True)
class Job:
    """One piece of work for one organisation."""

    kind: str
    organization_id: int
    organization: str  # its slug: what the library functions are given
    subject: str = ""  # a source's name for a sync

    @property
    def name(self) -> str:
        """The job's lease name: the same job has the same name in every worker."""
        base = f"{self.kind}:{self.organization_id}"
        return f"{base}:{self.subject}" if self.subject else base


@dataclass(frozen=True)
class Outcome:
    """How a run ended: ``ok``, ``failed`` or ``skipped``, what it did, and why not."""

    status: str
    counts: Mapping[str, int] = field(default_factory=dict)
    error: KloptError | None = None


@dataclass
class Round:
    """What the jobs of one round share: who acts, the worker, the clock."""

    store: Store
    actor: str
    worker: str
    timing: Timing = field(default_factory=Timing)
    http: Callable[[], Http] = Http
    now: Callable[[], datetime] = utcnow
    stop: Callable[[], bool] = lambda: False
    #: Organisations whose judge found new verdicts in this round (their alerts are due).
    judged: set[int] = field(default_factory=set)
    #: Called with each run as it ends.
    on_run: Callable[[Job, RunInfo], None] | None = None
    #: The publishing accounts' clients (``klopt.editorial.outbox.Channels``), kept by the
    #: worker from round to round; ``None``: made anew for each run.
    channels: Any = None
    runs: list[tuple[Job, RunInfo]] = field(default_factory=list)


@dataclass(frozen=True)
class JobKind:
    """A kind of job: which jobs an organisation has, when one is due, how it runs."""

    name: str
    jobs: Callable[[Round, int, str], list[Job]]
    due: Callable[[Round, Job], bool]
    run: Callable[[Round, Job], Outcome]


# --- sync: each source that is due -----------------------------------------------------


def _sync_jobs(r: Round, org_id: int, slug: str) -> list[Job]:
    with r.store.session() as session:
        names = session.scalars(
            select(ListeningSource.name)
            .where(ListeningSource.organization_id == org_id, ListeningSource.removed_at.is_(None))
            .order_by(ListeningSource.name)
        )
        return [Job("sync", org_id, slug, name) for name in names]


def _sync_due(r: Round, job: Job) -> bool:
    with r.store.session() as session:
        next_run = session.execute(
            select(ListeningSource.next_run_at).where(
                ListeningSource.organization_id == job.organization_id,
                ListeningSource.name == job.subject,
                ListeningSource.removed_at.is_(None),
            )
        ).first()
    return next_run is not None and (next_run[0] is None or next_run[0] <= r.now())


def _sync(r: Round, job: Job) -> Outcome:
    from klopt.listening.sync import sync_source

    result = sync_source(r.store, job.organization, job.subject, actor=r.actor, http=r.http)
    counts = {
        "new": result.imported,
        "duplicates": result.duplicates,
        "skipped": result.skipped,
        "pages": result.pages,
    }
    if result.error is not None:
        return Outcome("failed", counts, result.error)
    return Outcome("ok", counts)


# --- judge: the posts no model has judged yet --------------------------------------------


def _one_job(kind: str) -> Callable[[Round, int, str], list[Job]]:
    return lambda r, org_id, slug: [Job(kind, org_id, slug)]


def _judge_due(r: Round, job: Job) -> bool:
    judged = exists().where(Judgement.post_id == Post.id)
    with r.store.session() as session:
        found = session.scalar(
            select(Post.id).where(Post.organization_id == job.organization_id, ~judged).limit(1)
        )
    return found is not None


def _judge(r: Round, job: Job) -> Outcome:
    from klopt.config import get_setting
    from klopt.judging.verdicts import judge_posts

    try:
        result = judge_posts(
            r.store,
            job.organization,
            embedder=get_setting("embedder"),
            profile=get_setting("profile"),
            actor=r.actor,
        )
    except NotFound as exc:
        if exc.key != "judge.no_approved_promise":
            raise
        return Outcome("skipped", {}, exc)
    except Busy as exc:  # `klopt judge` is judging this organisation now
        return Outcome("skipped", {}, exc)
    if result.verdicts:
        r.judged.add(job.organization_id)
    return Outcome("ok", {"judged": result.judged, "verdicts": result.verdicts})


# --- alerts: every so often, and after new verdicts ----------------------------------------


def _alerts_due(r: Round, job: Job) -> bool:
    if job.organization_id in r.judged:
        return True
    with r.store.session() as session:
        has_posts = session.scalar(
            select(Post.id).where(Post.organization_id == job.organization_id).limit(1)
        )
    if has_posts is None:
        return False
    last = last_run(r.store, job.organization_id, "alerts")
    return last is None or r.now() - last.started_at >= timedelta(seconds=r.timing.alerts_every)


def _alerts(r: Round, job: Job) -> Outcome:
    from klopt.insight.alerting import channels_from_settings, check_alerts, params_from_settings

    result = check_alerts(
        r.store,
        job.organization,
        now=r.now(),
        params=params_from_settings(),
        channels=channels_from_settings(),
        actor=r.actor,
    )
    r.judged.discard(job.organization_id)
    failed = sum(1 for e in result.events for d in e.deliveries if d.status == "failed")
    counts = {
        "promises": result.promises,
        "opened": sum(1 for e in result.events if e.event == "opened"),
        "closed": sum(1 for e in result.events if e.event == "closed"),
        "open": result.open,
        "failed": failed,
    }
    if failed:
        return Outcome("failed", counts, KloptError.keyed("jobs.delivery_failed", count=failed))
    return Outcome("ok", counts)


# --- publish: approved drafts whose time has come (issue 16) --------------------------------


#: Drafts the publish job takes per batch, and batches per run.
PUBLISH_BATCH = 100
PUBLISH_BATCHES = 20


def _publish_due(r: Round, job: Job) -> bool:
    from klopt.editorial.outbox import publishing_due

    return publishing_due(r.store, job.organization_id, r.now())


def _publish(r: Round, job: Job) -> Outcome:
    from klopt.editorial.outbox import PublishRun, publish_due

    # Batch after batch while they come full (1,000 drafts due in one minute go out in
    # one run, not one batch per round), up to PUBLISH_BATCHES.
    result = PublishRun()
    for _ in range(PUBLISH_BATCHES):
        batch = publish_due(r.store, now=r.now(), organization_id=job.organization_id,
                            limit=PUBLISH_BATCH, **_channels(r))  # fmt: skip
        result.sent += batch.sent
        result.failed += batch.failed
        if len(batch.sent) + len(batch.failed) < PUBLISH_BATCH or r.stop():
            break
    counts = {"sent": len(result.sent), "failed": len(result.failed)}
    if result.failed:
        return Outcome(
            "failed", counts, KloptError.keyed("jobs.publish_failed", count=len(result.failed))
        )
    return Outcome("ok", counts)


def _reach_due(r: Round, job: Job) -> bool:
    from klopt.editorial.outbox import reach_due

    return reach_due(r.store, job.organization_id, r.now())


def _reach(r: Round, job: Job) -> Outcome:
    from klopt.editorial.outbox import refresh_reach

    read, failed = refresh_reach(
        r.store, now=r.now(), organization_id=job.organization_id, **_channels(r)
    )
    return Outcome("ok", {"read": read, "failed": failed})


def _channels(r: Round) -> dict[str, Any]:
    return {"channels": r.channels} if r.channels is not None else {}


#: The built-in job kinds, in the order a round runs them.
JOB_KINDS: tuple[JobKind, ...] = (
    JobKind("publish", _one_job("publish"), _publish_due, _publish),
    JobKind("reach", _one_job("reach"), _reach_due, _reach),
    JobKind("sync", _sync_jobs, _sync_due, _sync),
    JobKind("judge", _one_job("judge"), _judge_due, _judge),
    JobKind("alerts", _one_job("alerts"), _alerts_due, _alerts),
)


# --- running ---------------------------------------------------------------------------------


def organizations(store: Store, only: str | None = None) -> list[tuple[int, str]]:
    """The organisations the schedule serves (id, slug): all, or the one named ``only``."""
    from klopt.accounts.organizations import find_organization

    with store.session() as session:
        if only:
            org = find_organization(session, only)
            return [(org.id, org.slug)]
        return [
            (row.id, row.slug)
            for row in session.execute(
                select(Organization.id, Organization.slug).order_by(Organization.id)
            )
        ]


def run_round(
    r: Round, *, kinds: Sequence[JobKind] = JOB_KINDS, only: str | None = None
) -> list[tuple[Job, RunInfo]]:
    """Run every job that is due, organisation by organisation; returns the runs.

    Stops between two jobs once ``r.stop()`` says so.
    """
    start = len(r.runs)
    for org_id, slug in organizations(r.store, only):
        for kind in kinds:
            for job in kind.jobs(r, org_id, slug):
                if r.stop():
                    return r.runs[start:]
                run_job(r, kind, job)
    return r.runs[start:]


def run_job(r: Round, kind: JobKind, job: Job) -> RunInfo | None:
    """Run ``job`` if it is due and no other worker runs it; ``None`` when it did not run."""
    if not _due(r, kind, job):
        return None
    lease = take_lease(
        r.store, job.name, r.worker, seconds=r.timing.lease, job=job.kind,
        subject=job.subject, organization_id=job.organization_id,
    )  # fmt: skip
    if lease is None:
        return None  # another worker runs it now
    with lease:
        if not _due(r, kind, job):  # another worker ran it just before
            return None
        run_id = start_run(r.store, job.organization_id, job.kind, job.subject, r.worker)
        try:
            outcome = _outcome(r, kind, job)
        except BaseException:  # Ctrl+C: record it (if the database still answers), stop
            try:
                finish_run(r.store, run_id, "failed", error=KloptError.keyed("jobs.interrupted"))
            except Exception:
                _log.warning("could not record that %s was interrupted", job.name)
            raise
        info = finish_run(r.store, run_id, outcome.status, outcome.counts, outcome.error)
    r.runs.append((job, info))
    if r.on_run is not None:
        r.on_run(job, info)
    return info


def _due(r: Round, kind: JobKind, job: Job) -> bool:
    last = last_run(r.store, job.organization_id, job.kind, job.subject)
    retry = timedelta(seconds=r.timing.retry_after)
    if (
        last is not None
        and last.status in ("failed", "skipped")
        and last.finished_at is not None
        and r.now() - last.finished_at < retry
    ):
        return False  # it failed (or could not run) a moment ago: not yet again
    return kind.due(r, job)


def _outcome(r: Round, kind: JobKind, job: Job) -> Outcome:
    try:
        return kind.run(r, job)
    except KloptError as exc:
        return Outcome("failed", {}, exc)
    except Exception as exc:  # a bug: logged with its traceback; the next job still runs
        _log.exception("job %s failed", job.name)
        detail = f"{type(exc).__name__}: {exc}"[:300]
        return Outcome("failed", {}, KloptError.keyed("jobs.unexpected", detail=detail))
