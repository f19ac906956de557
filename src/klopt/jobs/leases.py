"""Leases: which worker runs a job now, kept in the store so that workers in different
processes, on different machines, never run the same job at once.

A lease is one row per job name (``job_lease``) with its holder and when it expires.
A worker takes it with one atomic ``UPDATE ... WHERE expires_at <= now`` (an ``INSERT``
the first time a job runs; of two inserts the database keeps one). Two workers that try
at the same moment: the database lets one update through and makes the other wait, and
when it has waited, the row is no longer expired for it (PostgreSQL re-reads the row;
SQLite writes one transaction at a time).

While the job runs, a thread renews the lease; at the end the worker releases it (the
row stays, expired, to be taken next time). A worker that crashes or is killed stops
renewing: its lease expires after ``seconds`` and another worker takes the job over.

Time is the workers' own clocks: keep the machines' clocks in sync (NTP) and leases
longer than any drift between them.
"""

from __future__ import annotations

import logging
import os
import secrets
import socket
import threading
from dataclasses import dataclass
from datetime import datetime, timedelta
from types import TracebackType

from sqlalchemy import select, update
from sqlalchemy.exc import IntegrityError

from klopt.accounts.organizations import find_organization
from klopt.store import Store
from klopt.store.models import JobLease, utcnow

__all__ = ["Lease", "LeaseInfo", "list_leases", "release_all", "take_lease", "worker_name"]

_log = logging.getLogger("klopt.jobs")


def worker_name() -> str:
    """A name for this worker that no other worker has: host, process and a random tail."""
    return f"{socket.gethostname()[:120]}:{os.getpid()}:{secrets.token_hex(3)}"


@dataclass(frozen=True)
class LeaseInfo:
    """A lease as the jobs page shows it."""

    name: str
    job: str
    subject: str
    holder: str
    taken_at: datetime
    expires_at: datetime


class Lease:
    """A lease this worker holds: renewed by a thread of its own until it is released.

    Use it as a context manager (``with take_lease(...) as lease:``); leaving the block
    releases it, however the block ends.
    """

    def __init__(self, store: Store, name: str, holder: str, seconds: float) -> None:
        self.store = store
        self.name = name
        self.holder = holder
        self.seconds = seconds
        #: Whether another worker took the lease while this one held it (it was not
        #: renewed in time: a stopped process, a machine that slept).
        self.lost = False
        self._done = threading.Event()
        self._renewer: threading.Thread | None = None

    def __enter__(self) -> Lease:
        self._renewer = threading.Thread(
            target=self._renew_until_done, name=f"lease {self.name}", daemon=True
        )
        self._renewer.start()
        return self

    def __exit__(
        self,
        kind: type[BaseException] | None,
        error: BaseException | None,
        trace: TracebackType | None,
    ) -> None:
        self.release()

    def renew(self) -> bool:
        """Push the expiry ``seconds`` ahead; ``False`` when the lease is no longer ours."""
        now = utcnow()
        with self.store.session() as session:
            result = session.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(expires_at=now + timedelta(seconds=self.seconds))
                .execution_options(synchronize_session=False)
            )
        kept = _rowcount(result) == 1
        if not kept and not self.lost:
            self.lost = True
            _log.warning("the lease of %s was taken over by another worker", self.name)
        return kept

    def release(self) -> None:
        """Stop renewing and let the lease expire now (only if it is still ours)."""
        self._done.set()
        if self._renewer is not None and self._renewer is not threading.current_thread():
            self._renewer.join()
        with self.store.session() as session:
            session.execute(
                update(JobLease)
                .where(JobLease.name == self.name, JobLease.holder == self.holder)
                .values(expires_at=utcnow())
                .execution_options(synchronize_session=False)
            )

    def _renew_until_done(self) -> None:
        # Three renewals per lifetime: one that fails (a busy database) is not yet fatal.
        while not self._done.wait(self.seconds / 3):
            try:
                self.renew()
            except Exception:  # a database that does not answer: try again next time
                _log.warning("could not renew the lease of %s", self.name, exc_info=True)


def take_lease(
    store: Store,
    name: str,
    holder: str,
    *,
    seconds: float,
    job: str = "",
    subject: str = "",
    organization_id: int | None = None,
    now: datetime | None = None,
) -> Lease | None:
    """Take the lease ``name`` for ``holder`` if nobody holds it; else ``None``.

    Args:
        name: The job's name, e.g. ``sync:3:fietsnieuws``.
        holder: Who takes it (:func:`worker_name`).
        seconds: How long it lasts without renewal (a crashed holder's job waits this long).
        job, subject, organization_id: What the job is, for the jobs page.
        now: The time to take it at (tests); the worker's clock otherwise.
    """
    now = now or utcnow()
    until = now + timedelta(seconds=seconds)
    with store.session() as session:
        result = session.execute(
            update(JobLease)
            .where(JobLease.name == name, JobLease.expires_at <= now)
            .values(holder=holder, taken_at=now, expires_at=until)
            .execution_options(synchronize_session=False)
        )
        if _rowcount(result) == 1:
            return Lease(store, name, holder, seconds)
        if session.scalar(select(JobLease.name).where(JobLease.name == name)) is not None:
            return None  # held by another worker
    try:
        with store.session() as session:
            session.add(
                JobLease(
                    name=name, organization_id=organization_id, job=job, subject=subject,
                    holder=holder, taken_at=now, expires_at=until,
                )
            )  # fmt: skip
    except IntegrityError:
        return None  # another worker inserted it first
    return Lease(store, name, holder, seconds)


def release_all(store: Store, holder: str) -> None:
    """Let every lease of ``holder`` expire now: a worker stopped with Ctrl+C may have
    taken a lease in the instant before it could hold on to it."""
    with store.session() as session:
        session.execute(
            update(JobLease)
            .where(JobLease.holder == holder, JobLease.expires_at > utcnow())
            .values(expires_at=utcnow())
            .execution_options(synchronize_session=False)
        )


def list_leases(
    store: Store, org_ref: str | None, *, now: datetime | None = None
) -> list[LeaseInfo]:
    """The organisation's leases that are held now (not expired), by job name."""
    now = now or utcnow()
    with store.session() as session:
        org = find_organization(session, org_ref)
        rows = session.scalars(
            select(JobLease)
            .where(JobLease.organization_id == org.id, JobLease.expires_at > now)
            .order_by(JobLease.name)
        )
        return [
            LeaseInfo(r.name, r.job, r.subject, r.holder, r.taken_at, r.expires_at) for r in rows
        ]


def _rowcount(result: object) -> int:
    return int(getattr(result, "rowcount", 0) or 0)
