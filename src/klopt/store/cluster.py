"""Work spread over a Ray cluster against a shared store (issue 17): judging
(:mod:`klopt.judging.cluster`) and back-filling exports (:mod:`klopt.listening.backfill`).

What both need lives here: a store every machine of the cluster reaches (a SQLite file
is refused), Ray itself (an optional extra, ``pip install 'klopt[cluster]'``), the
connection, and :func:`spread`, which keeps every actor busy with a few pieces of work
in flight and hands the results back as they come.

The workers open the store themselves: its URL travels to them, password included (the
cluster is the organisation's own; the Ray documentation asks for a cluster that only
trusted machines reach).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Sequence
from typing import Any

from klopt.errors import ClusterError, InputError, KloptError
from klopt.store.session import Store

__all__ = ["RESTARTS", "actor_class", "cluster_ray", "connect", "spread", "shared_url", "unwrap"]

#: How often Ray starts a dead actor again, and tries its work again.
RESTARTS = 4


def cluster_ray(store: Store) -> Any:
    """The ``ray`` module, for a run against ``store`` on a cluster.

    Raises:
        InputError: a SQLite store (``cluster.sqlite``), or Ray is not installed
            (``cluster.no_ray``).
    """
    if store.engine.dialect.name == "sqlite":
        raise InputError.keyed("cluster.sqlite")
    try:
        import ray
    except ImportError:
        raise InputError.keyed("cluster.no_ray") from None
    return ray


def connect(ray: Any, address: str, workers: int | None) -> int:
    """Join the cluster at ``address`` (``auto``, ``ray://host:10001``, or ``local`` for a
    Ray started here) unless this process already has; the number of workers to start
    (``workers``, or one per CPU of the cluster)."""
    if not ray.is_initialized():
        ray.init(address=None if address == "local" else address, log_to_driver=False)
    return workers or max(1, int(ray.cluster_resources().get("CPU", 1)))


def shared_url(store: Store) -> str:
    """The store's URL as the workers open it (the password included)."""
    return store.engine.url.render_as_string(hide_password=False)


def actor_class(ray: Any, cls: type) -> Any:
    """``cls`` as a Ray actor of one CPU that Ray starts again when its process dies,
    trying the calls it had in hand again."""
    return ray.remote(num_cpus=1, max_restarts=RESTARTS, max_task_retries=RESTARTS)(cls)


def spread(
    ray: Any,
    actors: Sequence[Any],
    call: Callable[[Any, Any], Any],
    work: Iterable[Any],
    *,
    ahead: int = 2,
    window: int | None = None,
) -> Iterator[tuple[int, Any]]:
    """Hand ``work`` out to ``actors``, ``ahead`` pieces in flight each (so that none
    waits for the driver); yields ``(index, result)`` as results come back.

    ``call(actor, piece)`` starts one piece (returns the object ref). ``work`` is read
    only as pieces are handed out. With ``window``, a piece is handed out only while
    fewer than ``window`` pieces before it have not come back: a caller that uses the
    results in order then holds at most ``window`` of them.

    Raises:
        KloptError: the one a piece raised on its worker (see :func:`unwrap`).
    """
    pieces = iter(work)
    handed = 0  # pieces handed out so far: the next one's index
    pending: dict[Any, tuple[int, int]] = {}  # ref -> (piece, actor)
    back: set[int] = set()
    lowest = 0  # every piece before it came back
    idle: list[int] = []

    def give(number: int) -> bool:
        nonlocal handed
        if window is not None and handed >= lowest + window:
            return False
        piece = next(pieces, _END)
        if piece is _END:
            return False
        pending[call(actors[number], piece)] = (handed, number)
        handed += 1
        return True

    for _ in range(ahead):
        idle.extend(range(len(actors)))
    while True:
        while idle and give(idle[0]):
            idle.pop(0)
        if not pending:
            return
        ready, _ = ray.wait(list(pending), num_returns=1)
        index, number = pending.pop(ready[0])
        yield index, unwrap(ray, ready[0])
        back.add(index)
        while lowest in back:
            back.discard(lowest)
            lowest += 1
        idle.append(number)


_END = object()


def unwrap(ray: Any, ref: Any) -> Any:
    """The result of ``ref``; a :class:`KloptError` raised on a worker is raised here as
    itself (Ray wraps it), with its key and values.

    Raises:
        ClusterError: the work failed otherwise (a worker that died more often than Ray
            starts it again, a cluster that went away): ``cluster.failed``.
    """
    try:
        return ray.get(ref)
    except ray.exceptions.RayError as exc:
        cause = getattr(exc, "cause", None)
        if isinstance(cause, KloptError):
            raise cause from None
        detail = " ".join(str(exc).split())[:300]
        raise ClusterError.keyed("cluster.failed", detail=detail) from exc
