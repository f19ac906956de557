"""Runs: every run of a background job, recorded in the store for the jobs page.

A run is recorded when it starts (``running``) and again when it ends: ``ok``, ``failed``
(with its error), or ``skipped`` (it had nothing it could do, and says why). An error is
kept by its message key and values, so that each reader sees it in their own language.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import delete, select, update

from klopt.accounts.organizations import find_organization
from klopt.errors import KloptError, error_from_json, error_json
from klopt.i18n import messages
from klopt.store import Store
from klopt.store.models import JobRun, utcnow

__all__ = [
    "STATUSES",
    "RunInfo",
    "error_json",
    "error_from_json",
    "finish_run",
    "last_run",
    "list_runs",
    "prune_runs",
    "start_run",
]

#: How a run ends (``running`` while it runs).
STATUSES = ("ok", "failed", "skipped")


@dataclass(frozen=True)
class RunInfo:
    """One run of a job, as the jobs page shows it."""

    id: int
    job: str
    subject: str
    worker: str
    started_at: datetime
    finished_at: datetime | None
    status: str
    counts: Mapping[str, int] = field(default_factory=dict)
    error: KloptError | None = None

    @property
    def duration(self) -> timedelta | None:
        """How long it ran (``None`` while it runs)."""
        return self.finished_at - self.started_at if self.finished_at else None

    def summary(self, lang: str) -> str:
        """What it did, in ``lang``: ``3 new, 1 duplicate`` (``jobs.did.<job>``)."""
        if not self.counts:
            return ""
        text = messages(lang).get(f"jobs.did.{self.job}") or messages("en").get(
            f"jobs.did.{self.job}"
        )
        if text is None:  # a job kind of a plug-in without texts
            return ", ".join(f"{key}: {value}" for key, value in self.counts.items())
        return text.format_map(_Counts(self.counts))


class _Counts(dict[str, int]):
    """Counts for a message: a count a run did not record is 0."""

    def __missing__(self, key: str) -> int:
        return 0


def start_run(store: Store, organization_id: int, job: str, subject: str, worker: str) -> int:
    """Record that ``worker`` starts the job; returns the run's id.

    The caller holds the job's lease, so a run of the same job still marked ``running``
    belongs to a worker that died: it is marked failed (``jobs.interrupted``).
    """
    now = utcnow()
    interrupted = error_json(KloptError.keyed("jobs.interrupted"))
    with store.session() as session:
        session.execute(
            update(JobRun)
            .where(
                JobRun.organization_id == organization_id,
                JobRun.job == job,
                JobRun.subject == subject,
                JobRun.status == "running",
            )
            .values(status="failed", finished_at=now, error=interrupted)
            .execution_options(synchronize_session=False)
        )
        row = JobRun(
            organization_id=organization_id, job=job, subject=subject, worker=worker,
            started_at=now, status="running", counts={},
        )  # fmt: skip
        session.add(row)
        session.flush()
        return row.id


def finish_run(
    store: Store,
    run_id: int,
    status: str,
    counts: Mapping[str, int] | None = None,
    error: KloptError | None = None,
) -> RunInfo:
    """Record how the run ended."""
    if status not in STATUSES:
        raise ValueError(f"unknown status {status!r}")
    with store.session() as session:
        row = session.get_one(JobRun, run_id)
        row.status = status
        row.finished_at = utcnow()
        row.counts = {k: int(v) for k, v in (counts or {}).items()}
        row.error = error_json(error) if error is not None else None
        return _info(row)


def last_run(store: Store, organization_id: int, job: str, subject: str = "") -> RunInfo | None:
    """The job's latest run in the organisation, if it ever ran."""
    with store.session() as session:
        row = session.scalar(
            select(JobRun)
            .where(
                JobRun.organization_id == organization_id,
                JobRun.job == job,
                JobRun.subject == subject,
            )
            .order_by(JobRun.id.desc())
            .limit(1)
        )
        return _info(row) if row is not None else None


def list_runs(
    store: Store, org_ref: str | None, *, limit: int = 100, status: str | None = None
) -> list[RunInfo]:
    """The organisation's latest runs, newest first (only those with ``status``, if given)."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = select(JobRun).where(JobRun.organization_id == org.id)
        if status is not None:
            query = query.where(JobRun.status == status)
        rows = session.scalars(
            query.order_by(JobRun.started_at.desc(), JobRun.id.desc()).limit(limit)
        )
        return [_info(row) for row in rows]


def prune_runs(store: Store, *, keep: timedelta, now: datetime | None = None) -> int:
    """Forget runs that ended more than ``keep`` ago; returns how many."""
    before = (now or utcnow()) - keep
    with store.session() as session:
        result = session.execute(
            delete(JobRun)
            .where(JobRun.finished_at.is_not(None), JobRun.finished_at < before)
            .execution_options(synchronize_session=False)
        )
        return int(getattr(result, "rowcount", 0) or 0)


def _info(row: JobRun) -> RunInfo:
    return RunInfo(
        id=row.id,
        job=row.job,
        subject=row.subject,
        worker=row.worker,
        started_at=row.started_at,
        finished_at=row.finished_at,
        status=row.status,
        counts={str(k): int(v) for k, v in dict(row.counts or {}).items()},
        error=error_from_json(row.error),
    )
