"""Judging on a Ray cluster over PostgreSQL (issue 17): a real local Ray, a worker killed
mid-run, and the same verdicts as one process; a SQLite store refused with what to do."""

from __future__ import annotations

import os
import signal
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import func, select

from helpers import PG_URL, Klopt, database_url, needs_ray
from klopt.errors import InputError
from klopt.judging.verdicts import judge_posts
from klopt.store import Store, open_store
from klopt.store.models import Judgement, Organization, Verdict
from test_rejudge import TEXTS, _fill, _verdicts
from test_tallies import assert_equal

#: Distinct texts: the eight test texts with a number each (as many posts as a shard x 16).
MANY = [f"{text} ({number})" for number in range(50) for text in TEXTS]


def test_a_sqlite_store_is_refused_with_what_to_do(tmp_path: Path) -> None:
    from klopt.judging.cluster import judge_on_cluster

    store = open_store(f"sqlite:///{tmp_path / 'k.db'}")
    with pytest.raises(InputError) as refused:
        judge_on_cluster(store, None, address="local", actor="t")
    assert refused.value.key == "cluster.sqlite" and "PostgreSQL" in str(refused.value)
    store.close()
    klopt = Klopt(tmp_path)
    klopt("init", "Voorbeeld BV")
    out = klopt("--lang", "nl", "judge", "--cluster", "auto", code=1).output
    assert "SQLite" in out and "PostgreSQL" in out and "Traceback" not in out


@needs_ray
@pytest.mark.slow
@pytest.mark.postgres
@pytest.mark.skipif(not PG_URL, reason="KLOPT_TEST_DATABASE_URL is not set")
def test_a_cluster_judges_as_one_process_does_and_loses_nothing_when_a_worker_dies(
    tmp_path: Path, local_ray: Any
) -> None:
    from klopt.judging.cluster import actor_name, judge_on_cluster

    alone = open_store(f"sqlite:///{tmp_path / 'alone.db'}")
    _fill(alone, tmp_path, MANY)
    one = judge_posts(alone, None, actor="t", embedder="hashing", profile="fast")
    expected = _verdicts(alone)
    alone.close()

    store: Store = open_store(database_url("postgresql", tmp_path))
    _fill(store, tmp_path, MANY, name="again.csv")
    with store.session() as session:
        org_id = session.scalars(select(Organization.id)).one()
    done: list[Any] = []
    run = threading.Thread(target=lambda: done.append(judge_on_cluster(
        store, None, address="local", actor="t", embedder="hashing", profile="fast",
        workers=2, shard=25,
    )))  # fmt: skip
    run.start()
    killed = _kill_a_worker_once_it_wrote(store, local_ray, actor_name(org_id, 0))
    run.join(timeout=600)

    assert killed and done, "the run did not finish"
    result = done[0]
    assert (result.judged, result.verdicts) == (len(MANY), one.verdicts)
    with store.session() as session:  # nothing lost, nothing twice
        assert session.scalar(select(func.count()).select_from(Judgement)) == len(MANY)
        assert session.scalar(select(func.count()).select_from(Verdict)) == one.verdicts
    assert _verdicts(store) == expected  # the same verdicts as one process
    assert_equal(store, org_id)  # and the dashboard's tallies count them once
    store.close()


def _kill_a_worker_once_it_wrote(store: Store, ray: Any, name: str) -> bool:
    """SIGKILL the actor ``name``'s process after the first shards are stored."""
    deadline = time.monotonic() + 300
    while time.monotonic() < deadline:
        with store.session() as session:
            judged = session.scalar(select(func.count()).select_from(Judgement)) or 0
        if judged >= 50:
            pid = ray.get(ray.get_actor(name).pid.remote())
            os.kill(pid, signal.SIGKILL)
            return True
        time.sleep(0.2)
    return False


def test_a_model_uses_the_threads_its_worker_was_given(monkeypatch: pytest.MonkeyPatch) -> None:
    from klopt.models.embeddings import MAX_THREADS, cpu_threads

    monkeypatch.setenv("OMP_NUM_THREADS", "1")  # as Ray sets it for a one-CPU actor
    assert cpu_threads() == 1
    monkeypatch.setenv("OMP_NUM_THREADS", "3")
    assert cpu_threads() == 3
    monkeypatch.setenv("OMP_NUM_THREADS", "many")
    assert cpu_threads() == min(MAX_THREADS, len(os.sched_getaffinity(0)))
    monkeypatch.delenv("OMP_NUM_THREADS")
    assert 1 <= cpu_threads() <= MAX_THREADS
