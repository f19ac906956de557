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


@pytest.mark.slow
def test_a_worker_killed_twenty_times_posts_each_draft_exactly_once(
    tmp_path: Path, httpserver: HTTPServer
) -> None:
    fake = FakeMastodon(httpserver).install()
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
            return int(
                session.scalar(
                    select(func.count()).select_from(Draft).where(Draft.state == "published")
                )
                or 0
            )

    killed_mid_run = 0
    for _ in range(KILLS):
        before = published()
        worker = subprocess.Popen(
            [sys.executable, "-c", _WORKER, url], env=env,
            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
        )  # fmt: skip
        # Kill it at a random moment once it is publishing (start-up takes a second or two).
        started = time.monotonic()
        while published() == before and time.monotonic() - started < 60:
            time.sleep(0.01)
        time.sleep(pick.uniform(0.0, 0.15))
        worker.send_signal(signal.SIGKILL)
        worker.wait()
        killed_mid_run += published() < DRAFTS
    worker = subprocess.Popen(
        [sys.executable, "-c", _WORKER, url], env=env,
        stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
    )  # fmt: skip
    deadline = time.monotonic() + 120
    try:
        while time.monotonic() < deadline:
            with store.session() as session:
                left = session.scalar(
                    select(func.count()).select_from(Draft).where(Draft.state != "published")
                )
            if not left:
                break
            time.sleep(0.5)
    finally:
        worker.send_signal(signal.SIGKILL)
        worker.wait()
    with store.session() as session:
        states = dict(
            session.execute(
                select(Publication.state, func.count()).group_by(Publication.state)
            ).all()
        )
    assert states == {"sent": DRAFTS}
    assert len(fake.statuses) == DRAFTS  # exactly once each, counted on the server
    texts = sorted(s["content"] for s in fake.statuses.values())
    assert len(set(texts)) == DRAFTS
    assert killed_mid_run >= KILLS // 2  # the kills landed while the worker was publishing
    store.close()
