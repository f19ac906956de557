"""Background work: leases in the store, the schedule per organisation, recorded runs, and
`klopt worker` -- against the real store (SQLite and PostgreSQL), real processes, and a
local HTTP server serving feeds.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from helpers import REGISTER_YAML, Klopt
from klopt.errors import KloptError
from klopt.jobs import (
    Job,
    JobKind,
    Outcome,
    Round,
    Timing,
    Worker,
    list_leases,
    list_runs,
    start_worker,
    take_lease,
)
from klopt.jobs.runs import finish_run, prune_runs, start_run
from klopt.listening.sync import add_source
from klopt.register.file import import_register
from klopt.store import Store
from klopt.store.models import JobLease, JobRun, Post, utcnow

ORG = "Voorbeeld BV"


def _rss(name: str, count: int) -> bytes:
    """A feed of ``count`` customer complaints, with ids of its own."""
    items = "".join(
        f"<item><title>Mijn pakket is na drie dagen nog niet bezorgd ({name} {i})</title>"
        f"<description>Binnen 24 uur geleverd? Niet bij mij, bestelling {i}.</description>"
        f"<guid>https://{name}.example/?p={i}</guid>"
        f"<pubDate>Tue, 24 Nov 2026 0{i % 10}:30:00 +0000</pubDate></item>"
        for i in range(count)
    )
    return (
        f'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>{name}</title><link>https://{name}.example/</link>{items}</channel></rss>"
    ).encode()


def _serve_feed(server: HTTPServer, name: str, count: int = 3) -> str:
    server.expect_request(f"/{name}").respond_with_data(
        _rss(name, count), content_type="application/rss+xml"
    )
    return server.url_for(f"/{name}")


def _register(store: Store, tmp_path: Path) -> None:
    path = tmp_path / "promises.yaml"
    path.write_text(REGISTER_YAML, encoding="utf-8")
    import_register(store, ORG, path, actor="tester")


def _runs(store: Store, job: str | None = None) -> list[JobRun]:
    with store.session() as session:
        query = select(JobRun).order_by(JobRun.started_at, JobRun.id)
        if job is not None:
            query = query.where(JobRun.job == job)
        return list(session.scalars(query))


def _no_overlap(runs: list[JobRun]) -> None:
    """No two runs of one job (by organisation and subject) ran at the same time."""
    by_job: dict[tuple[int, str, str], list[JobRun]] = {}
    for run in runs:
        by_job.setdefault((run.organization_id, run.job, run.subject), []).append(run)
    for same in by_job.values():
        same.sort(key=lambda r: r.started_at)
        for before, after in zip(same, same[1:], strict=False):
            assert before.finished_at is not None
            assert after.started_at >= before.finished_at, (before.worker, after.worker)


@pytest.fixture
def hashing(monkeypatch: pytest.MonkeyPatch) -> None:
    """The fast embedder for the judge (also for the worker processes the test starts)."""
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")
    monkeypatch.setenv("KLOPT_PROFILE", "fast")


class Clock:
    """A clock for the schedule that moves only when told."""

    def __init__(self) -> None:
        self.now = utcnow()

    def __call__(self) -> datetime:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += timedelta(seconds=seconds)


# --- the store --------------------------------------------------------------------------------


# The migration and the model agree (the check of test_alerts, for the job tables).
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_migration_matches_the_model(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from klopt.store.models import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "job_" in repr(d)] == []


# --- leases -------------------------------------------------------------------------------


def test_a_lease_is_held_by_one_worker_until_released_or_expired(store: Store) -> None:
    first = take_lease(store, "sync:1:nieuws", "worker-a", seconds=60, job="sync")
    assert first is not None
    assert take_lease(store, "sync:1:nieuws", "worker-b", seconds=60) is None
    first.release()
    second = take_lease(store, "sync:1:nieuws", "worker-b", seconds=60)
    assert second is not None
    with store.session() as session:
        row = session.get_one(JobLease, "sync:1:nieuws")
        assert row.holder == "worker-b" and row.job == "sync"  # one row per job, reused
        assert session.scalar(select(func.count()).select_from(JobLease)) == 1


def test_an_expired_lease_is_taken_over_and_its_old_holder_learns_it(store: Store) -> None:
    crashed = take_lease(store, "judge:1", "crashed-worker", seconds=30)
    assert crashed is not None  # and then it stopped renewing (a kill -9)
    soon = utcnow() + timedelta(seconds=20)
    assert take_lease(store, "judge:1", "worker-b", seconds=30, now=soon) is None
    later = utcnow() + timedelta(seconds=31)
    taken = take_lease(store, "judge:1", "worker-b", seconds=30, now=later)
    assert taken is not None
    assert crashed.renew() is False and crashed.lost
    crashed.release()  # lets go of nothing: the lease is worker-b's now
    with store.session() as session:
        row = session.get_one(JobLease, "judge:1")
        assert row.holder == "worker-b" and row.expires_at > utcnow() + timedelta(seconds=29)


def test_a_lease_is_renewed_while_its_job_runs(store: Store) -> None:
    lease = take_lease(store, "alerts:1", "worker-a", seconds=0.6)
    assert lease is not None
    with lease:
        time.sleep(1.5)  # longer than the lease: only the renewals keep it
        assert take_lease(store, "alerts:1", "worker-b", seconds=0.6) is None
        assert not lease.lost
    assert take_lease(store, "alerts:1", "worker-b", seconds=0.6) is not None


_NAPPER = """
import random, sys, time
from klopt.jobs import Job, JobKind, Outcome, Round, Timing, run_round
from klopt.store import open_store

store = open_store(sys.argv[1])

def nap(r, job):
    time.sleep(0.25)
    return Outcome("ok", {"naps": 1})

kind = JobKind("nap", lambda r, org_id, slug: [Job("nap", org_id, slug)], lambda r, j: True, nap)
r = Round(store, "tester", sys.argv[2], timing=Timing(lease=30, retry_after=0))
deadline = time.monotonic() + float(sys.argv[3])
while time.monotonic() < deadline:
    run_round(r, kinds=[kind])
    time.sleep(random.uniform(0, 0.1))
print(len(r.runs))
"""


def test_two_processes_never_run_the_same_job_at_once(store: Store) -> None:
    """A job that sleeps, run over and over by two processes for three seconds."""
    url = store.engine.url.render_as_string(hide_password=False)
    workers = [
        subprocess.Popen(
            [sys.executable, "-c", _NAPPER, url, name, "3"],
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for name in ("worker-a", "worker-b")
    ]
    counted = []
    for worker in workers:
        out, err = worker.communicate(timeout=120)
        assert worker.returncode == 0, err
        counted.append(int(out.strip()))
    runs = _runs(store, "nap")
    assert len(runs) == sum(counted) >= 4  # every run that a worker counted is recorded
    assert {r.worker for r in runs} == {"worker-a", "worker-b"}  # both had their turns
    assert all(r.status == "ok" for r in runs)
    _no_overlap(runs)  # never two at once: each started after the one before it finished
    # Sleeping 0.25 s each, one at a time, they cannot have done more than 3 s allows.
    assert len(runs) <= 3 / 0.25 + 1


# --- the schedule ---------------------------------------------------------------------------


def test_a_round_syncs_due_sources_judges_and_checks_alerts(
    store: Store, httpserver: HTTPServer, hashing: None, tmp_path: Path
) -> None:
    _register(store, tmp_path)
    add_source(
        store, ORG, "fietsnieuws", "rss", {"url": _serve_feed(httpserver, "fiets")}, actor="a"
    )
    clock = Clock()
    worker = Worker(store, actor="tester", now=clock)
    runs = worker.run_once()
    assert [(j.kind, j.subject, i.status) for j, i in runs] == [
        ("sync", "fietsnieuws", "ok"),
        ("judge", "", "ok"),
        ("alerts", "", "ok"),
    ]
    sync, judge, alerts = (info for _, info in runs)
    assert sync.counts["new"] == 3 and sync.summary("en").startswith("3 new, 0 duplicates")
    assert judge.counts["judged"] == 3 and judge.counts["verdicts"] >= 1
    assert alerts.counts["promises"] == 3
    assert sync.summary("nl").startswith("3 nieuw, 0 dubbel")
    assert worker.run_once() == []  # nothing is due now
    clock.advance(960)  # the alerts' 15 minutes have passed, not the feed's half hour
    assert [(j.kind, i.status) for j, i in worker.run_once()] == [("alerts", "ok")]
    clock.advance(960)
    again = [(j.kind, i.status) for j, i in worker.run_once()]
    assert again == [("sync", "ok"), ("alerts", "ok")]  # no new posts: nothing to judge
    assert list_leases(store, ORG) == []  # every lease was released


def test_a_failing_source_is_a_failed_run_with_its_error_and_the_next_job_still_runs(
    store: Store, httpserver: HTTPServer, hashing: None, tmp_path: Path
) -> None:
    _register(store, tmp_path)
    httpserver.expect_request("/prive").respond_with_data("no", status=401)
    add_source(store, ORG, "a-prive", "rss", {"url": httpserver.url_for("/prive")}, actor="a")
    add_source(store, ORG, "b-goed", "rss", {"url": _serve_feed(httpserver, "goed")}, actor="a")
    clock = Clock()
    worker = Worker(store, actor="tester", now=clock)
    runs = {(j.kind, j.subject): i for j, i in worker.run_once()}
    failed = runs[("sync", "a-prive")]
    assert failed.status == "failed" and failed.error is not None
    assert failed.error.key == "source.credentials"
    assert runs[("sync", "b-goed")].status == "ok" and runs[("sync", "b-goed")].counts["new"] == 3
    assert runs[("judge", "")].status == "ok" and runs[("alerts", "")].status == "ok"
    stored = list_runs(store, ORG, status="failed")  # kept by key: shown in any language
    assert [r.subject for r in stored] == ["a-prive"]
    assert stored[0].error is not None
    assert stored[0].error.localized("nl") != stored[0].error.localized("en")
    clock.advance(1860)  # the feed's interval
    assert ("sync", "a-prive") in {(j.kind, j.subject) for j, _ in worker.run_once()}


def test_a_failed_job_waits_before_it_is_tried_again(store: Store) -> None:
    tries: list[str] = []

    def refuse(r: Round, job: Job) -> Outcome:
        tries.append(job.name)
        raise KloptError.keyed("jobs.interrupted")

    kind = JobKind("stuck", lambda r, o, s: [Job("stuck", o, s)], lambda r, j: True, refuse)
    clock = Clock()
    worker = Worker(store, actor="tester", kinds=[kind], now=clock, timing=Timing(retry_after=300))
    assert [i.status for _, i in worker.run_once()] == ["failed"]
    assert worker.run_once() == []  # not again at once: the record would fill up
    clock.advance(301)
    assert [i.status for _, i in worker.run_once()] == ["failed"]
    assert len(tries) == 2


def test_a_bug_in_a_job_is_recorded_and_the_round_goes_on(store: Store) -> None:
    def broken(r: Round, job: Job) -> Outcome:
        raise ZeroDivisionError("division by zero")

    def fine(r: Round, job: Job) -> Outcome:
        return Outcome("ok", {"done": 1})

    kinds = [
        JobKind("broken", lambda r, o, s: [Job("broken", o, s)], lambda r, j: True, broken),
        JobKind("fine", lambda r, o, s: [Job("fine", o, s)], lambda r, j: True, fine),
    ]
    runs = Worker(store, actor="tester", kinds=kinds).run_once()
    assert [(j.kind, i.status) for j, i in runs] == [("broken", "failed"), ("fine", "ok")]
    error = runs[0][1].error
    assert error is not None and error.key == "jobs.unexpected"
    assert "ZeroDivisionError: division by zero" in error.localized("en")
    assert runs[1][1].summary("en") == "done: 1"  # a kind without texts shows its counts


def test_a_job_held_by_another_worker_is_left_alone_and_an_expired_one_taken_over(
    store: Store, httpserver: HTTPServer
) -> None:
    add_source(store, ORG, "nieuws", "rss", {"url": _serve_feed(httpserver, "n")}, actor="a")
    org_id = list_organizations_id(store)
    lease = take_lease(store, f"sync:{org_id}:nieuws", "other-worker", seconds=60)
    assert lease is not None
    kinds = [k for k in _kinds() if k.name == "sync"]
    clock = Clock()
    worker = Worker(store, actor="tester", kinds=kinds, now=clock)
    assert worker.run_once() == []  # the other worker has it
    # The other worker dies in the middle of the job: its run stays "running" ...
    dead = start_run(store, org_id, "sync", "nieuws", "other-worker")
    # ... and its lease expires, unrenewed.
    with store.session() as session:
        session.get_one(JobLease, f"sync:{org_id}:nieuws").expires_at = utcnow()
    runs = worker.run_once()
    assert [(j.subject, i.status, i.worker) for j, i in runs] == [("nieuws", "ok", worker.name)]
    with store.session() as session:
        row = session.get_one(JobRun, dead)
        assert row.status == "failed" and row.error is not None
        assert row.error["key"] == "jobs.interrupted"


def test_ctrl_c_in_a_job_records_it_and_releases_its_lease(store: Store) -> None:
    def interrupted(r: Round, job: Job) -> Outcome:
        raise KeyboardInterrupt

    kind = JobKind("long", lambda r, o, s: [Job("long", o, s)], lambda r, j: True, interrupted)
    with pytest.raises(KeyboardInterrupt):
        Worker(store, actor="tester", kinds=[kind]).run_once()
    (run,) = _runs(store, "long")
    assert run.status == "failed" and run.error is not None
    assert run.error["key"] == "jobs.interrupted"
    assert list_leases(store, ORG) == []


def test_old_runs_are_forgotten(store: Store) -> None:
    org_id = list_organizations_id(store)
    old = start_run(store, org_id, "sync", "nieuws", "w")
    finish_run(store, old, "ok", {"new": 1})
    new = start_run(store, org_id, "sync", "nieuws", "w")
    finish_run(store, new, "ok", {"new": 2})
    with store.session() as session:
        session.get_one(JobRun, old).finished_at = utcnow() - timedelta(days=31)
    assert prune_runs(store, keep=timedelta(days=30)) == 1
    assert [r.id for r in list_runs(store, ORG)] == [new]


def test_the_worker_thread_runs_the_schedule_and_stops(
    store: Store, httpserver: HTTPServer, hashing: None
) -> None:
    add_source(store, ORG, "nieuws", "rss", {"url": _serve_feed(httpserver, "n")}, actor="a")
    worker = start_worker(store)  # as `klopt serve` does; acts as KLOPT_USER (tester)
    try:
        assert worker.running and worker.actor == "tester"
        deadline = time.monotonic() + 30
        while not _runs(store, "sync") and time.monotonic() < deadline:
            time.sleep(0.1)
    finally:
        began = time.monotonic()
        worker.stop()
    assert time.monotonic() - began < 10 and not worker.running
    assert [r.status for r in _runs(store, "sync")] == ["ok"]


def test_a_worker_that_cannot_prove_who_it_is_does_not_run(
    store: Store, caplog: pytest.LogCaptureFixture
) -> None:
    from klopt.accounts.users import add_user

    add_user(store, "tester", password="geheim", actor="tester")
    worker = start_worker(store)
    worker.stop()
    assert not worker.running
    assert "the background schedule does not run" in caplog.text
    assert "tester has a password" in caplog.text


def list_organizations_id(store: Store) -> int:
    from klopt.store.models import Organization

    with store.session() as session:
        return int(session.scalar(select(Organization.id)) or 0)


def _kinds() -> tuple[JobKind, ...]:
    from klopt.jobs import JOB_KINDS

    return JOB_KINDS


# --- two `klopt worker` processes -----------------------------------------------------------


@pytest.fixture
def slow_server() -> Iterator[HTTPServer]:
    """A threaded server whose feeds answer after half a second each."""
    with HTTPServer(threaded=True) as server:
        yield server


def _slow(body: bytes) -> Any:
    def answer(request: Request) -> Response:
        time.sleep(0.5)
        return Response(body, content_type="application/rss+xml")

    return answer


def _environment(tmp_path: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("KLOPT_")}
    env.update(
        KLOPT_HOME=str(tmp_path / "home"),
        KLOPT_CACHE_DIR=os.environ["KLOPT_CACHE_DIR"],
        KLOPT_USER="tester",
        KLOPT_EMBEDDER="hashing",
        KLOPT_PROFILE="fast",
        PYTHONUNBUFFERED="1",
    )
    return env


def test_two_klopt_workers_at_once_run_each_job_once(
    store: Store, slow_server: HTTPServer, tmp_path: Path
) -> None:
    _register(store, tmp_path)
    names = [f"bron-{i}" for i in range(4)]
    for name in names:
        slow_server.expect_request(f"/{name}").respond_with_handler(_slow(_rss(name, 2)))
        add_source(store, ORG, name, "rss", {"url": slow_server.url_for(f"/{name}")}, actor="a")
    url = store.engine.url.render_as_string(hide_password=False)
    workers = [
        subprocess.Popen(
            [sys.executable, "-m", "klopt", "--db", url, "worker", "--once"],
            env=_environment(tmp_path),
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for _ in range(2)
    ]
    outputs = []
    for worker in workers:
        out, err = worker.communicate(timeout=180)
        assert worker.returncode == 0, out + err
        outputs.append(out)
    syncs = _runs(store, "sync")
    assert sorted(r.subject for r in syncs) == names  # each source once, by one of them
    assert all(r.status == "ok" and r.counts["new"] == 2 for r in syncs)
    everything = _runs(store)
    _no_overlap(everything)  # the judge and the alerts too: never two at once
    assert {r.job for r in everything} == {"sync", "judge", "alerts"}
    with store.session() as session:
        assert session.scalar(select(func.count()).select_from(Post)) == 8  # nothing twice
    assert all("runs the schedule as tester" in out for out in outputs)


@pytest.mark.parametrize("stop", [signal.SIGINT, signal.SIGTERM], ids=["ctrl_c", "sigterm"])
def test_klopt_worker_stops_cleanly_on_ctrl_c_or_sigterm(
    store: Store, httpserver: HTTPServer, tmp_path: Path, stop: signal.Signals
) -> None:
    add_source(store, ORG, "nieuws", "rss", {"url": _serve_feed(httpserver, "n")}, actor="a")
    url = store.engine.url.render_as_string(hide_password=False)
    worker = subprocess.Popen(
        [sys.executable, "-m", "klopt", "--db", url, "worker"],
        env=_environment(tmp_path),
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    lines: list[str] = []

    def read() -> None:
        assert worker.stdout is not None
        lines.extend(iter(worker.stdout.readline, ""))

    reader = threading.Thread(target=read, daemon=True)
    reader.start()
    deadline = time.monotonic() + 60
    while not any("sync nieuws: ok" in line for line in lines) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert any("sync nieuws: ok" in line for line in lines), lines
    worker.send_signal(stop)
    code = worker.wait(timeout=30)
    reader.join(5)
    assert worker.stderr is not None
    assert code == 0, "".join(lines) + worker.stderr.read()
    assert "Stopped." in "".join(lines)
    assert list_leases(store, ORG) == []


# --- the command line (in-process) ---------------------------------------------------------


def test_klopt_worker_once_prints_each_run_and_fails_when_a_job_failed(
    klopt: Klopt, httpserver: HTTPServer
) -> None:
    klopt("init", ORG)
    httpserver.expect_request("/prive").respond_with_data("no", status=401)
    klopt("sources", "add", "rss", "prive", httpserver.url_for("/prive"))
    out = klopt("worker", "--once", code=1).output
    assert "voorbeeld-bv · sync prive: failed" in out
    assert "refused" in out.lower() or "credentials" in out.lower()
    out = klopt("--lang", "nl", "worker", "--once").output  # the failed one waits now
    assert "Er was niets aan de beurt." in out


_INTERRUPTED_IN_EXEC = """\
import os, signal, sys
from klopt.cli.stopping import stop_on_signals

def interrupted_while_importing():
    # dataclasses and namedtuple build their methods with exec(text) when a module is first
    # imported: a Ctrl+C that lands there
    exec("os.kill(os.getpid(), signal.SIGINT)\\nimport time\\ntime.sleep(5)")

try:
    if sys.argv[1] == "handled":
        with stop_on_signals():
            interrupted_while_importing()
    else:
        interrupted_while_importing()
except KeyboardInterrupt as stop:
    print("Stopped.", type(stop).__name__)
"""


@pytest.mark.parametrize("handled", [True, False], ids=["stop_on_signals", "python_default"])
def test_a_ctrl_c_caught_after_landing_in_exec_ends_the_process_normally(
    tmp_path: Path, handled: bool
) -> None:
    """The worker's Ctrl+C flake: CPython 3.11 marks a KeyboardInterrupt that leaves
    ``exec(text)`` as unhandled even when it is caught, and ends the process by SIGINT. The
    worker's own signal handler raises a subclass, which CPython does not mark."""
    script = tmp_path / "interrupted.py"
    script.write_text(_INTERRUPTED_IN_EXEC, encoding="utf-8")
    mode = "handled" if handled else "default"
    done = subprocess.run(
        [sys.executable, str(script), mode], capture_output=True, text=True, timeout=60,
        env={**os.environ, "PYTHONPATH": os.pathsep.join(sys.path)},
    )  # fmt: skip
    if handled:
        assert (done.returncode, done.stdout.strip()) == (0, "Stopped. Stop"), done.stderr
    else:  # caught, printed, and still killed by SIGINT: what the handler is for
        assert done.stdout.strip() == "Stopped. KeyboardInterrupt", done.stderr
        if sys.version_info[:2] == (3, 11):
            assert done.returncode == -signal.SIGINT


_COMMAND_INTERRUPTED_IN_EXEC = """\
import sys
import klopt.accounts.organizations as organizations
from klopt.cli.app import main

def interrupted(*args, **kwargs):
    exec("import os, signal, time\\nos.kill(os.getpid(), signal.SIGINT)\\ntime.sleep(5)")

organizations.create_organization = interrupted  # `klopt init` imports it when it runs
sys.argv = ["klopt", "--db", sys.argv[1], "init", "Voorbeeld BV"]
main()
"""


def test_any_command_interrupted_inside_exec_says_so_and_exits_130(tmp_path: Path) -> None:
    """Every command, not only the worker, takes Ctrl+C through klopt's handler: "interrupted"
    and exit code 130, also when the interrupt lands in ``exec(text)``."""
    (tmp_path / "init_interrupted.py").write_text(_COMMAND_INTERRUPTED_IN_EXEC, encoding="utf-8")
    path = os.pathsep.join([str(tmp_path), *sys.path])
    done = subprocess.run(  # run as `python -m`, as `python -m klopt` runs: that path exits by
        # SIGINT after a caught KeyboardInterrupt (a script's sys.exit does not look)
        [sys.executable, "-m", "init_interrupted", f"sqlite:///{tmp_path / 'k.db'}"],
        capture_output=True, text=True, timeout=60,
        env={**_environment(tmp_path), "KLOPT_LANG": "en", "PYTHONPATH": path},
    )  # fmt: skip
    assert done.returncode == 130, (done.returncode, done.stderr)
    assert "error: interrupted" in done.stderr.lower() and "Traceback" not in done.stderr
