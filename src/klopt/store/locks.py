"""Named locks between the processes that share one store.

Two ``klopt judge`` runs on one organisation, or a web worker beside a command line,
must not do the same work at once. A lock here is held by a process, not by a row: it
is gone the moment its process ends, however it ends (a ``kill -9`` included), so a
crash never leaves a lock behind that somebody has to clear by hand.

- PostgreSQL: a session-level advisory lock on a connection of its own.
- SQLite: ``flock`` on a small file beside the database file (``klopt.db.judge-1.lock``);
  the database is a local file, so its lock files are too. An in-memory database is
  one process's own, and its locks are that process's.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from sqlalchemy import text

from klopt.errors import Busy, StoreError

if TYPE_CHECKING:
    from klopt.store.session import Store

__all__ = ["Busy", "hold", "is_held"]

#: How often a waiting process tries again.
_POLL = 0.2

_local: dict[str, threading.Lock] = {}


def _key(name: str) -> int:
    """A signed 64-bit number for ``name``: what an advisory lock is named by."""
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


def _lock_path(store: Store, name: str) -> Path | None:
    database = store.engine.url.database or ""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    safe = re.sub(r"[^A-Za-z0-9_.-]", "_", name)
    return Path(database).expanduser().with_name(f"{Path(database).name}.{safe}.lock")


@contextmanager
def hold(
    store: Store, name: str, *, wait: float = 0.0, busy: StoreError | None = None
) -> Iterator[None]:
    """Hold the lock ``name`` for the block.

    Args:
        store: The store the lock belongs to.
        name: What is locked, e.g. ``judge-org-3``.
        wait: Seconds to wait for another holder to let go (0: not at all).
        busy: The error to raise when the lock is still held by somebody else;
            :class:`Busy` with the key ``store.busy`` by default.

    Raises:
        Busy: (or ``busy``) another process holds the lock.
    """
    release = _acquire(store, name, wait)
    if release is None:
        raise busy or Busy.keyed("store.busy", name=name)
    try:
        yield
    finally:
        release()


def is_held(store: Store, name: str) -> bool:
    """Whether some process (this one included) holds the lock ``name`` now."""
    release = _acquire(store, name, 0.0)
    if release is None:
        return True
    release()
    return False


def _acquire(store: Store, name: str, wait: float) -> Any:
    """A function that releases the lock, or ``None`` when it stayed taken."""
    deadline = time.monotonic() + wait
    while True:
        release = _try(store, name)
        if release is not None or time.monotonic() >= deadline:
            return release
        time.sleep(_POLL)


def _try(store: Store, name: str) -> Any:
    backend = store.engine.url.get_backend_name()
    if backend == "postgresql":
        return _try_postgres(store, name)
    path = _lock_path(store, name) if backend == "sqlite" else None
    if path is None:
        return _try_local(f"{store.engine.url}#{name}")
    return _try_file(path)


def _try_postgres(store: Store, name: str) -> Any:
    connection = store.engine.connect()
    key = _key(name)
    taken = connection.execute(text("SELECT pg_try_advisory_lock(:key)"), {"key": key}).scalar()
    connection.commit()
    if not taken:
        connection.close()
        return None

    def release() -> None:
        try:
            connection.execute(text("SELECT pg_advisory_unlock(:key)"), {"key": key})
            connection.commit()
        finally:
            connection.close()

    return release


def _try_file(path: Path) -> Any:
    import fcntl

    handle = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(handle)
        return None
    # flock belongs to the open file, not the process: a second open in this process
    # would be refused too, which is what a lock inside one process needs as well.
    try:
        current = os.stat(path).st_ino
    except FileNotFoundError:
        current = None
    if current != os.fstat(handle).st_ino:
        # Its holder removed the file as it let go (below), after this process opened
        # it: this lock is on a file nobody else will see. Take the lock anew.
        os.close(handle)
        return _try_file(path)

    def release() -> None:
        # Remove the file while still holding it, so that lock files do not pile up
        # (one per import batch); a waiter that opened it meanwhile notices (above).
        path.unlink(missing_ok=True)
        fcntl.flock(handle, fcntl.LOCK_UN)
        os.close(handle)

    return release


def _try_local(name: str) -> Any:
    lock = _local.setdefault(name, threading.Lock())
    if not lock.acquire(blocking=False):
        return None
    return lock.release
