"""Exactly once under crashes (issue 16): 100 scheduled drafts, a worker killed at random
moments 20 times, then counted on the local Mastodon server: exactly 100 posts."""

from __future__ import annotations

import os
import random
import signal
import subprocess
import sys
import time
from datetime import timedelta
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select

from klopt.accounts.organizations import create_organization
from klopt.editorial.outbox import add_account
from klopt.store import open_store
from klopt.store.models import Draft, Publication, utcnow
from publishing_fakes import TOKEN, FakeMastodon
from test_outbox import _approved, _team

DRAFTS = 100
KILLS = 20

# The real worker, running only its publish job, round after round as `klopt worker` does.
_WORKER = """
import sys, time
from klopt.jobs.schedule import JOB_KINDS, Timing
from klopt.jobs.worker import Worker
from klopt.store import open_store

store = open_store(sys.argv[1])
# A short lease: a killed worker's job is free again a second later (the default is two
# minutes, which is what a crashed worker costs in production).
timing = Timing(lease=1.0, retry_after=0.0)
worker = Worker(
    store, actor="anna", kinds=[k for k in JOB_KINDS if k.name == "publish"], timing=timing
)
while True:
    worker.run_once()
    time.sleep(0.01)
"""


def _start(
    url: str, env: dict[str, str], started: list[subprocess.Popen[bytes]]
) -> subprocess.Popen[bytes]:
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, url], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    started.append(worker)
    return worker


@pytest.mark.slow
def test_a_worker_killed_twenty_times_posts_each_draft_exactly_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    # As long as a real server takes to make a status, so that the kills land while the
    # worker publishes (with its client kept, klopt sends 100 posts in well under a second).
    fake = FakeMastodon(httpserver, delay=0.05).install()
    url = f"sqlite:///{tmp_path / 'crash.db'}"
    store = open_store(url)
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    _team(store)
    settings = {"instance": fake.url, "token_env": "KLOPT_CRASH_TOKEN"}
    add_account(store, None, "org", "mastodon", actor="anna", settings=settings)
    due = utcnow() - timedelta(minutes=1)
    for n in range(DRAFTS):
        _approved(store, f"Bericht {n} van {DRAFTS}.", "mastodon", at=due)
    env = {**os.environ, "KLOPT_CRASH_TOKEN": TOKEN}
    pick = random.Random(16)

    def published() -> int:
        with store.session() as session:
            query = select(func.count()).select_from(Draft).where(Draft.state == "published")
            return int(session.scalar(query) or 0)

    started: list[subprocess.Popen[bytes]] = []
    killed_mid_run = 0
    try:
        for _ in range(KILLS):
            before = published()
            worker = _start(url, env, started)
            # Kill it at a random moment once it is publishing (start-up takes a second).
            since = time.monotonic()
            while published() == before and time.monotonic() - since < 60:
                time.sleep(0.01)
            time.sleep(pick.uniform(0.0, 0.15))
            worker.send_signal(signal.SIGKILL)
            worker.wait()
            killed_mid_run += published() < DRAFTS
        _start(url, env, started)  # the last one finishes the work
        deadline = time.monotonic() + 120
        while published() < DRAFTS and time.monotonic() < deadline:
            time.sleep(0.5)
    finally:
        for process in started:  # none is left behind, whatever happens
            if process.poll() is None:
                process.kill()
                process.wait()
    with store.session() as session:
        states = dict(
            session.execute(
                select(Publication.state, func.count()).group_by(Publication.state)
            ).all()
        )
    assert states == {"sent": DRAFTS}
    assert len(fake.statuses) == DRAFTS  # exactly once each, counted on the server
    assert len({s["content"] for s in fake.statuses.values()}) == DRAFTS
    assert killed_mid_run >= KILLS // 2  # the kills landed while the worker was publishing
    store.close()
