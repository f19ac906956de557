"""The worker: runs the schedule round after round, in the foreground (``klopt worker``)
or in a thread beside the web app (``klopt serve``, :func:`start_worker`).

Any number of workers may run on one store, in one process or on several machines: the
leases see to it that each job runs in one of them at a time.

The worker acts as one user, like every command: it needs a role that may sync, judge
and check alerts in each organisation that has members (editor, approver or admin).
Give it a user of its own with a token (``klopt tokens create --user worker``) and set
``KLOPT_TOKEN`` where it runs.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Sequence
from datetime import datetime

from klopt.errors import KloptError
from klopt.jobs.leases import worker_name
from klopt.jobs.runs import RunInfo, prune_runs
from klopt.jobs.schedule import JOB_KINDS, Job, JobKind, Round, Timing, run_round
from klopt.listening.http import Http
from klopt.store import Store
from klopt.store.models import utcnow

__all__ = ["Worker", "start_worker", "worker_actor"]

_log = logging.getLogger("klopt.jobs")


class Worker:
    """Runs the schedule on a store as ``actor``.

    Args:
        store: The store whose organisations it serves.
        actor: The user it acts as (see the module docstring).
        only: Serve only this organisation (name or slug); ``None``: every one.
        timing: How often it runs, how long its leases last.
        http: Makes the HTTP client of each sync (tests pass one with a fake clock).
        kinds: The job kinds it runs, in order.
        on_run: Called with each run as it ends.
    """

    def __init__(
        self,
        store: Store,
        *,
        actor: str,
        only: str | None = None,
        timing: Timing | None = None,
        http: Callable[[], Http] = Http,
        kinds: Sequence[JobKind] = JOB_KINDS,
        on_run: Callable[[Job, RunInfo], None] | None = None,
        now: Callable[[], datetime] = utcnow,
    ) -> None:
        self.store = store
        self.actor = actor
        self.only = only
        self.timing = timing or Timing()
        self.http = http
        self.kinds = tuple(kinds)
        self.on_run = on_run
        self.now = now
        #: This worker's name in leases and runs: host, process and a random tail.
        self.name = worker_name()
        self._stopping = threading.Event()
        self._thread: threading.Thread | None = None
        self._pruned: datetime | None = None
        from klopt.editorial.outbox import Channels

        #: The publishing accounts' clients, kept from round to round (one session each).
        self.channels = Channels()

    def run_once(self) -> list[tuple[Job, RunInfo]]:
        """One round: every job that is due and that no other worker runs now."""
        self._prune()
        r = Round(
            self.store, self.actor, self.name, timing=self.timing, http=self.http,
            now=self.now, stop=self._stopping.is_set, on_run=self.on_run,
            channels=self.channels,
        )  # fmt: skip
        return run_round(r, kinds=self.kinds, only=self.only)

    def run_forever(self) -> None:
        """Round after round, ``timing.tick`` seconds apart, until :meth:`stop`.

        A round that fails as a whole (the database does not answer) is logged, and the
        next one is tried after the tick.
        """
        while not self._stopping.is_set():
            try:
                self.run_once()
            except KloptError as exc:
                _log.error("the schedule's round failed: %s", exc)
            except Exception:
                _log.exception("the schedule's round failed")
            self._stopping.wait(self.timing.tick)

    def start(self) -> Worker:
        """Run :meth:`run_forever` in a thread of its own; returns the worker."""
        self._thread = threading.Thread(target=self.run_forever, name="klopt worker", daemon=True)
        self._thread.start()
        return self

    def stop(self, timeout: float = 30.0) -> None:
        """Stop after the job that runs now (waiting up to ``timeout`` seconds for it).

        A job that takes longer goes on in its daemon thread until the process ends; its
        lease then expires and another worker takes the job over.
        """
        self._stopping.set()
        if self._thread is not None:
            self._thread.join(timeout)

    @property
    def running(self) -> bool:
        """Whether the worker's thread runs."""
        return self._thread is not None and self._thread.is_alive()

    def _prune(self) -> None:
        now = self.now()
        if self._pruned is None or (now - self._pruned).total_seconds() >= 3600:
            prune_runs(self.store, keep=self.timing.keep, now=now)
            self._pruned = now


def worker_actor(store: Store) -> str:
    """The user the background schedule of ``klopt serve`` acts as: ``KLOPT_TOKEN``'s, else
    ``KLOPT_USER`` or the login name (who must have no password: there is nobody to ask).

    Raises:
        NotAuthenticated: the token does not work, or the user has a password.
    """
    from klopt.accounts.users import authenticate
    from klopt.config import current_user, get_setting

    token = get_setting("token") or None
    name = None if token else current_user()
    return authenticate(store, name, token=token)


def start_worker(store: Store, actor: str | None = None) -> Worker:
    """The schedule in a background thread (what ``klopt serve`` starts); ``.stop()`` ends it.

    It acts as ``actor`` (``klopt serve`` passes the user it proved at start), else as
    :func:`worker_actor`. When the worker cannot say who it acts as, the schedule does not
    run: the reason is logged, and the returned worker does nothing.
    """
    if actor is not None:
        return Worker(store, actor=actor).start()
    try:
        actor = worker_actor(store)
    except KloptError as exc:
        _log.error("the background schedule does not run: %s", exc)
        return Worker(store, actor="")
    return Worker(store, actor=actor).start()
