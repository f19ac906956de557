"""Scheduling lag of the outbox (issue 16): 1,000 drafts due at the same moment, from their
planned time to sent, without limits and against the platforms' rate limits.

    python benchmarks/publishing_lag.py [--drafts 1000] [--platform mastodon|bluesky|both]
        [--fresh-clients]

Every scenario gets a copy of one SQLite store (built untimed, as ``tests/conftest.py``
does: an organisation, a team of users, a Mastodon and a Bluesky account) holding
``--drafts`` drafts that were created, submitted and approved through the draft API (with
a checker that finds nothing), all planned at the same moment (the copy's drafts are then
set to the run's platform), and sends to the local servers of
``tests/publishing_fakes.py``.

1. **Unthrottled**, in real time: the worker's publish job as it runs (batches of
   ``PUBLISH_BATCH`` one after the other while they come full, the accounts' clients
   kept: :class:`klopt.editorial.outbox.Channels`), until nothing is left. Lag is the
   publication's ``sent_at`` minus the planned time. The time in the outbox is split
   into ``_take`` (the due drafts and the intents; timed by wrapping the module
   function), the channel's ``send`` (HTTP, server included) and the rest (the
   publication's own transactions).
2. **Rate-limited**, in simulated time: the fake servers answer 429 with the platforms'
   headers once an account's documented limit (the constants below) is used up, on a
   simulated clock: real time elapsed plus every wait that was skipped. The clients get
   an :class:`~klopt.listening.http.Http` whose ``sleep`` advances that clock and whose
   ``clock`` reads it (``MastodonAccount`` and ``BlueskyAccount`` take ``http=``). The
   clocks klopt reads itself are monkeypatched to it (:func:`simulated_clocks`: the
   outbox's ``utcnow``, so ``sent_at`` is simulated, and ``datetime.now`` in the
   clients, so a Mastodon try after ``KEY_LIFETIME`` looks for the status first, as it
   would after real hours). The benchmark runs the worker's schedule for the publish job:
   one run per round (batches while they come full), ``Timing.tick`` seconds after the
   round before, and none for ``Timing.retry_after`` seconds after a run that had a
   failed post (``klopt.jobs.schedule._due``); the worker keeps its clients from round to
   round. Rounds in which nothing can be tried until a back-off ends are skipped in one
   step (they would change nothing). Lag is the publication's (simulated) ``sent_at``
   minus the planned time.
3. ``--fresh-clients`` adds rows where the clients are not kept from one run to the next
   (``publish_due`` still keeps them within a run; before this benchmark klopt made a new
   client, and on Bluesky a new login, for every post).
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import shutil
import sys
import tempfile
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from pytest_httpserver import HTTPServer
from sqlalchemy import func, select, update
from werkzeug import Request, Response

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "src"))
sys.path.insert(0, str(HERE.parent / "tests"))

import klopt.editorial.drafts as drafts_module  # noqa: E402
import klopt.editorial.outbox as outbox  # noqa: E402
import klopt.publishing.bluesky as bluesky_module  # noqa: E402
import klopt.publishing.mastodon as mastodon_module  # noqa: E402
from klopt.accounts.organizations import create_organization  # noqa: E402
from klopt.accounts.users import add_user, grant  # noqa: E402
from klopt.checking.check import CheckReport  # noqa: E402
from klopt.checking.findings import Draft as DraftText  # noqa: E402
from klopt.editorial.drafts import approve_draft, create_draft, submit_draft  # noqa: E402
from klopt.editorial.outbox import (  # noqa: E402
    Channel,
    Channels,
    PublishRun,
    add_account,
    publish_due,
    publishing_due,
)
from klopt.jobs.schedule import PUBLISH_BATCH, PUBLISH_BATCHES, Timing  # noqa: E402
from klopt.listening.http import Http  # noqa: E402
from klopt.publishing import Outgoing, Sent  # noqa: E402
from klopt.publishing.bluesky import BlueskyAccount  # noqa: E402
from klopt.publishing.mastodon import MastodonAccount  # noqa: E402
from klopt.store import Store, open_store  # noqa: E402
from klopt.store.models import Draft, Publication  # noqa: E402
from publishing_fakes import (  # noqa: E402
    HANDLE,
    PASSWORD,
    TOKEN,
    FakeBluesky,
    FakeMastodon,
    _json,
)

# --- The platforms' documented rate limits, per account ---------------------------------
# Being checked against the documentation; correct them here. Mastodon:
# https://docs.joinmastodon.org/api/rate-limits/ (its RateLimiter and Rack::Attack count in
# windows aligned to the epoch: the 3-hour window runs 00:00-03:00-06:00... UTC). Bluesky:
# https://docs.bsky.app/docs/advanced-guides/rate-limits (rate-limiter-flexible: a window
# starts at the first call counted in it).
MASTODON_API_LIMIT = 300  # requests to any endpoint ...
MASTODON_API_PERIOD = 5 * 60  # ... per 5 minutes
MASTODON_STATUS_LIMIT = 300  # statuses posted ...
MASTODON_STATUS_PERIOD = 3 * 3600  # ... per 3 hours
MASTODON_MEDIA_LIMIT = 30  # media uploads per 30 minutes (unused: the drafts have no images)
MASTODON_MEDIA_PERIOD = 30 * 60
BLUESKY_SESSION_LIMITS = ((30, 5 * 60), (300, 24 * 3600))  # createSession: (calls, seconds)
BLUESKY_WRITE_LIMITS = ((5000, 3600), (35_000, 24 * 3600))  # repo writes: (points, seconds)
BLUESKY_CREATE_POINTS = 3  # a createRecord costs 3 points: 1,666 posts an hour

#: Planned time of every draft (the simulated runs start here; a Tuesday, 09:00 UTC).
T0 = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)
#: The simulated runs give up after this long.
HORIZON = timedelta(days=14)
#: The worker's schedule: seconds between rounds, and the pause after a failed run.
TICK = Timing().tick
RETRY_AFTER = Timing().retry_after
#: ``publish_due``'s default ``limit`` (publications tried per round).
LIMIT = inspect.signature(publish_due).parameters["limit"].default

SETTINGS = {
    "mastodon": {"instance": "https://social.example", "token_env": "ORG_TOKEN"},
    "bluesky": {"identifier_env": "BSKY_HANDLE", "password_env": "BSKY_PASSWORD"},
}


# --- the store ------------------------------------------------------------------------------


def _nothing_found(draft: DraftText) -> CheckReport:
    return CheckReport(draft, (), 100)


def build_store(path: Path, platform: str, drafts: int) -> None:
    """An organisation, a team, both accounts and ``drafts`` approved drafts due at T0."""
    store = open_store(f"sqlite:///{path}")
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    for name in ("anna", "bob", "carla"):
        add_user(store, name, actor="setup")
    grant(store, None, "anna", "admin", actor="iemand")
    grant(store, None, "bob", "editor", actor="anna")
    grant(store, None, "carla", "approver", actor="anna")
    for name, settings in SETTINGS.items():
        add_account(store, None, f"org-{name}", name, actor="anna", settings=settings)
    for n in range(drafts):
        text = f"Bericht {n + 1} van {drafts}: vandaag besteld, morgen in huis."
        number = create_draft(
            store, None, text, actor="bob", platform=platform, planned_at=T0,
            check=_nothing_found,
        ).number  # fmt: skip
        submit_draft(store, None, number, actor="bob")
        approve_draft(store, None, number, actor="carla", check=_nothing_found)
    store.close()  # the last connection closing checkpoints the WAL into the file


def copy_store(template: Path, folder: Path, name: str, platform: str) -> Store:
    """A copy of the template whose drafts are for ``platform`` (one template, built once)."""
    target = folder / f"{name}.db"
    shutil.copyfile(template, target)
    store = open_store(f"sqlite:///{target}")
    with store.session() as session:
        session.execute(update(Draft).values(platform=platform))
    return store


def org_id(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(Draft.organization_id).limit(1)) or 0)


def sent_times(store: Store) -> list[datetime]:
    with store.session() as session:
        query = select(Publication.sent_at).where(Publication.state == "sent")
        return [at for at in session.scalars(query) if at is not None]


def states(store: Store) -> dict[str, int]:
    with store.session() as session:
        rows = session.execute(
            select(Publication.state, func.count()).group_by(Publication.state)
        ).all()
        return {str(state): int(count) for state, count in rows}


# --- time -----------------------------------------------------------------------------------


class SimClock:
    """Simulated time (epoch seconds): real time elapsed since the start, plus every wait
    that was skipped (an ``Http`` sleep, a worker's pause between rounds)."""

    def __init__(self, start: datetime) -> None:
        self.base = start.timestamp()
        self.real = time.perf_counter()
        self.skipped = 0.0
        self.slept = 0.0  # of the skipped: what the clients would have slept in the worker

    def now(self) -> float:
        return self.base + (time.perf_counter() - self.real) + self.skipped

    def sleep(self, seconds: float) -> None:  # Http.sleep
        self.skipped += max(0.0, seconds)
        self.slept += max(0.0, seconds)

    def wait(self, seconds: float) -> None:  # the worker between rounds
        self.skipped += max(0.0, seconds)

    def at(self) -> datetime:
        return datetime.fromtimestamp(self.now(), UTC)


@dataclass
class Window:
    """A fixed rate-limit window: ``limit`` per ``period`` seconds, aligned to the epoch
    (Mastodon) or starting at its first counted call (Bluesky)."""

    limit: int
    period: float
    aligned: bool
    start: float = -math.inf
    used: int = 0

    def _current(self, now: float) -> float:
        return now - now % self.period if self.aligned else now

    def _expired(self, now: float) -> bool:
        if self.aligned:
            return self._current(now) != self.start
        return now >= self.start + self.period

    def left(self, now: float) -> int:
        return self.limit if self._expired(now) else self.limit - self.used

    def reset(self, now: float) -> float:
        start = self._current(now) if self._expired(now) else self.start
        return start + self.period

    def take(self, now: float, cost: int = 1) -> bool:
        if self._expired(now):
            self.start, self.used = self._current(now), 0
        if self.used + cost > self.limit:
            return False
        self.used += cost
        return True


def _tightest(windows: Sequence[Window], now: float) -> Window:
    return min(windows, key=lambda w: (w.left(now), -w.reset(now)))


def _full(windows: Sequence[Window], now: float, cost: int = 1) -> Window | None:
    """The window that refuses a call of ``cost`` (the one that resets last), or None."""
    full = [w for w in windows if w.left(now) < cost]
    return max(full, key=lambda w: w.reset(now)) if full else None


# --- rate-limited fakes ---------------------------------------------------------------------


@dataclass
class LimitedMastodon(FakeMastodon):
    """:class:`FakeMastodon` with an account's limits: every authenticated request counts
    against the 5-minute limit, a status made against the 3-hour one (a repeated
    ``Idempotency-Key`` makes none); a 429 and the answers to posts and to the account's
    own reads carry ``X-RateLimit-*`` with the reset as an ISO time."""

    clock: Callable[[], float] = time.time
    api: Window = field(
        default_factory=lambda: Window(MASTODON_API_LIMIT, MASTODON_API_PERIOD, aligned=True)
    )
    posts: Window = field(
        default_factory=lambda: Window(MASTODON_STATUS_LIMIT, MASTODON_STATUS_PERIOD, True)
    )
    answered_429: int = 0
    posting: bool = False  # within POST /api/v1/statuses (the server runs one request at once)

    def _headers(self, window: Window, now: float) -> dict[str, str]:
        reset = datetime.fromtimestamp(window.reset(now), UTC).isoformat()
        return {"X-RateLimit-Limit": str(window.limit),
                "X-RateLimit-Remaining": str(max(0, window.left(now))),
                "X-RateLimit-Reset": reset}  # fmt: skip

    def _limited(self, window: Window, now: float) -> Response:
        self.answered_429 += 1
        return _json({"error": "Too many requests"}, 429, **self._headers(window, now))

    def _auth(self, request: Request) -> Response | None:
        refused: Response | None = super()._auth(request)
        if refused is not None:
            return refused
        now = self.clock()
        if not self.api.take(now):
            return self._limited(self.api, now)
        key = request.headers.get("Idempotency-Key")
        if self.posting and key not in self.keys and self.posts.left(now) <= 0:
            return self._limited(self.posts, now)
        return None

    def _counted(self, response: Response, windows: Sequence[Window]) -> Response:
        if response.status_code != 429:
            now = self.clock()
            response.headers.update(self._headers(_tightest(windows, now), now))
        return response

    def _post(self, request: Request) -> Response:
        before = len(self.statuses)
        self.posting = True
        try:
            response: Response = super()._post(request)
        finally:
            self.posting = False
        if len(self.statuses) > before:
            self.posts.take(self.clock())
        return self._counted(response, (self.api, self.posts))

    def _me(self, request: Request) -> Response:
        return self._counted(super()._me(request), (self.api,))

    def _own_statuses(self, request: Request) -> Response:
        return self._counted(super()._own_statuses(request), (self.api,))


@dataclass
class LimitedBluesky(FakeBluesky):
    """:class:`FakeBluesky` with an account's limits: ``createSession`` per 5 minutes and
    per day, ``createRecord`` in repo-write points per hour and per day; a 429 and their
    answers carry ``RateLimit-*`` with the reset in epoch seconds."""

    clock: Callable[[], float] = time.time
    login_limits: list[Window] = field(
        default_factory=lambda: [Window(n, s, aligned=False) for n, s in BLUESKY_SESSION_LIMITS]
    )
    write_limits: list[Window] = field(
        default_factory=lambda: [Window(n, s, aligned=False) for n, s in BLUESKY_WRITE_LIMITS]
    )
    answered_429: int = 0
    logins_made: int = 0

    def _headers(self, window: Window, now: float) -> dict[str, str]:
        return {"RateLimit-Limit": str(window.limit),
                "RateLimit-Remaining": str(max(0, window.left(now))),
                "RateLimit-Reset": str(int(math.ceil(window.reset(now)))),
                "RateLimit-Policy": f"{window.limit};w={int(window.period)}"}  # fmt: skip

    def _limited(self, window: Window, now: float) -> Response:
        self.answered_429 += 1
        body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
        return _json(body, 429, **self._headers(window, now))

    def _session(self, request: Request) -> Response:
        now = self.clock()
        full = _full(self.login_limits, now)
        if full is not None:
            return self._limited(full, now)
        for window in self.login_limits:  # every login counts, a refused password too
            window.take(now)
        response: Response = super()._session(request)
        self.logins_made += response.status_code == 200
        response.headers.update(self._headers(_tightest(self.login_limits, now), now))
        return response

    def _create(self, request: Request) -> Response:
        now = self.clock()
        full = _full(self.write_limits, now, BLUESKY_CREATE_POINTS)
        if full is not None:
            return self._limited(full, now)
        before = len(self.records)
        response: Response = super()._create(request)
        if len(self.records) > before:
            for window in self.write_limits:
                window.take(now, BLUESKY_CREATE_POINTS)
        response.headers.update(self._headers(_tightest(self.write_limits, now), now))
        return response


@contextmanager
def simulated_clocks(clock: SimClock) -> Iterator[None]:
    """Point the clocks klopt reads itself at ``clock``: the outbox's and the drafts'
    ``utcnow`` (a publication's ``created_at`` and ``sent_at``, a draft's
    ``published_at``) and ``datetime.now`` in the clients (Mastodon: whether a key is
    older than ``KEY_LIFETIME``; Bluesky: a record's ``createdAt``). Monkeypatched: these
    are not parameters."""

    class SimDatetime(datetime):
        @classmethod
        def now(cls, tz: Any = None) -> Any:
            return datetime.fromtimestamp(clock.now(), tz)

    patches = [(outbox, "utcnow", clock.at), (drafts_module, "utcnow", clock.at),
               (mastodon_module, "datetime", SimDatetime),
               (bluesky_module, "datetime", SimDatetime)]  # fmt: skip
    saved = [(module, name, getattr(module, name)) for module, name, _ in patches]
    for module, name, value in patches:
        setattr(module, name, value)
    try:
        yield
    finally:
        for module, name, value in saved:
            setattr(module, name, value)


# --- the clients ----------------------------------------------------------------------------


@dataclass
class Meter:
    """What the channels did: sends, their seconds, the clients made and their requests."""

    sends: int = 0
    send_seconds: float = 0.0
    clients: list[Http] = field(default_factory=list)

    @property
    def requests(self) -> int:
        return sum(h.requests for h in self.clients)


class TimedChannel:
    def __init__(self, inner: Channel, meter: Meter) -> None:
        self.inner, self.meter = inner, meter

    def send(self, post: Outgoing) -> Sent:
        started = time.perf_counter()
        try:
            return self.inner.send(post)
        finally:
            self.meter.sends += 1
            self.meter.send_seconds += time.perf_counter() - started

    def reach(self, post_id: str) -> Any:
        return self.inner.reach(post_id)


def channels(
    fake: FakeMastodon | FakeBluesky, meter: Meter, clock: SimClock | None, *, reuse: bool
) -> Callable[[str, Mapping[str, Any]], Channel]:
    """A ``channels`` factory for ``publish_due`` pointing at the fake, kept as the worker
    keeps its clients (:class:`klopt.editorial.outbox.Channels`); ``reuse=False``: a new
    client for every post (klopt before)."""
    made: dict[str, Channel] = {}

    def make(platform: str, settings: Mapping[str, Any]) -> Channel:
        if reuse and platform in made:
            return made[platform]
        http = Http() if clock is None else Http(sleep=clock.sleep, clock=clock.now)
        meter.clients.append(http)
        channel: Channel
        if platform == "mastodon":
            env = str(settings["token_env"])
            channel = MastodonAccount(fake.url, env, http=http, environ={env: TOKEN})
        else:
            environ = {str(settings["identifier_env"]): HANDLE,
                       str(settings["password_env"]): PASSWORD}  # fmt: skip
            channel = BlueskyAccount(
                str(settings["identifier_env"]), str(settings["password_env"]),
                service=fake.url, http=http, environ=environ,
            )  # fmt: skip
        made[platform] = TimedChannel(channel, meter)
        return made[platform]

    if not reuse:
        return make

    kept = Channels(make)
    return kept


@contextmanager
def served(kind: type[FakeMastodon] | type[FakeBluesky], **options: Any) -> Iterator[Any]:
    server = HTTPServer(host="127.0.0.1", port=0)
    server.start()
    try:
        yield kind(server, **options).install()
    finally:
        server.stop()


@contextmanager
def timed_take(totals: dict[str, float]) -> Iterator[None]:
    """Time ``outbox._take`` (``publish_due`` looks it up in the module at every call)."""
    real = outbox._take

    def take(*args: Any, **kwargs: Any) -> list[int]:
        started = time.perf_counter()
        try:
            return real(*args, **kwargs)
        finally:
            totals["take"] += time.perf_counter() - started

    outbox._take = take
    try:
        yield
    finally:
        outbox._take = real


# --- numbers --------------------------------------------------------------------------------


def pct(values: Sequence[float], p: float) -> float:
    """The nearest-rank percentile (``p`` in 0..100)."""
    ordered = sorted(values)
    return ordered[max(0, math.ceil(p / 100 * len(ordered)) - 1)] if ordered else math.nan


def span(seconds: float) -> str:
    if math.isnan(seconds):
        return "-"
    if seconds < 120:
        return f"{seconds:.1f} s"
    if seconds < 7200:
        return f"{seconds / 60:.1f} min"
    if seconds < 2 * 86400:
        return f"{seconds / 3600:.2f} h"
    return f"{seconds / 86400:.2f} d"


def per(seconds: float) -> str:
    return f"{seconds / 3600:g} h" if seconds >= 3600 else f"{seconds / 60:g} min"


def table(rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(f"{c:<{widths[c]}}" if i == 0 else f"{c:>{widths[c]}}"
                    for i, c in enumerate(columns)))  # fmt: skip
    for row in rows:
        print("  ".join(f"{row[c]!s:<{widths[c]}}" if i == 0 else f"{row[c]!s:>{widths[c]}}"
                        for i, c in enumerate(columns)))  # fmt: skip


# --- 1. unthrottled ---------------------------------------------------------------------------


def job_run(store: Store, now: datetime, make: Any) -> PublishRun:
    """One run of the worker's publish job: batches while they come full."""
    result = PublishRun()
    for _ in range(PUBLISH_BATCHES):
        batch = publish_due(store, now=now, channels=make, limit=PUBLISH_BATCH)
        result.sent += batch.sent
        result.failed += batch.failed
        if len(batch.sent) + len(batch.failed) < PUBLISH_BATCH:
            break
    return result


def unthrottled(store: Store, platform: str, drafts: int) -> dict[str, Any]:
    """The publish job's batches (no pause) on a fake without limits, in real time."""
    kind = FakeMastodon if platform == "mastodon" else FakeBluesky
    with served(kind) as fake:
        meter = Meter()
        make = channels(fake, meter, None, reuse=True)
        planned = datetime.now(UTC)
        with store.session() as session:  # due now: the lag is the outbox's and HTTP's
            session.execute(update(Draft).values(planned_at=planned))
        totals = {"take": 0.0}
        rounds = failed = 0
        started = time.perf_counter()
        with timed_take(totals):
            while True:
                run = publish_due(store, now=datetime.now(UTC), channels=make, limit=LIMIT)
                if not run.sent and not run.failed:
                    break
                failed += len(run.failed)
                rounds += 1
        wall = time.perf_counter() - started
        made = len(fake.statuses) if isinstance(fake, FakeMastodon) else len(fake.records)
    with store.session() as session:
        sent = session.execute(
            select(Publication.key, Publication.sent_at).where(Publication.state == "sent")
        ).all()
    lags = [(at - planned).total_seconds() for _, at in sent]
    other = wall - meter.send_seconds - totals["take"]
    return {
        "platform": platform,
        "rounds": rounds,
        "sent": len(sent),
        "failed": failed,
        "on server": made,
        "wall s": f"{wall:.1f}",
        "posts/s": f"{len(sent) / wall:.0f}",
        "lag p50": span(pct(lags, 50)),
        "p95": span(pct(lags, 95)),
        "max": span(max(lags, default=math.nan)),
        "clients": len(meter.clients),
        "_take s": f"{totals['take']:.1f}",
        "other outbox s": f"{other:.1f}",
        "send s": f"{meter.send_seconds:.1f}",
        "req/post": f"{meter.requests / max(1, len(sent)):.1f}",
    }


def client_cost(times: int = 20) -> float:
    """Seconds to build one ``Http``'s httpx client (what every new channel pays)."""
    started = time.perf_counter()
    for _ in range(times):
        with Http() as http:
            assert http.client is not None
    return (time.perf_counter() - started) / times


# --- 2. rate-limited, simulated time ----------------------------------------------------------


def _next_attempt(store: Store) -> float | None:
    with store.session() as session:
        first = session.scalar(
            select(func.min(Publication.next_attempt_at)).where(Publication.state == "failed")
        )
    return None if first is None else first.timestamp()


def _ticks_until(clock: SimClock, when: float) -> None:
    """Let the worker's rounds pass until the first one at or after ``when``."""
    clock.wait(TICK * max(1, math.ceil((when - clock.now()) / TICK)))


def _until_retry(store: Store, clock: SimClock) -> int | None:
    """Let the rounds pass until the first failed publication may be tried again; the
    rounds skipped, or ``None`` when there is none to wait for."""
    wake = _next_attempt(store)
    if wake is None:
        return None
    before = clock.now()
    _ticks_until(clock, wake)
    return int((clock.now() - before) // TICK) - 1


def limited(store: Store, platform: str, drafts: int, *, reuse: bool) -> dict[str, Any]:
    """The worker's publish rounds against a rate-limited fake, in simulated time."""
    clock = SimClock(T0)
    kind = LimitedMastodon if platform == "mastodon" else LimitedBluesky
    with served(kind, clock=clock.now) as fake, simulated_clocks(clock):
        meter = Meter()
        make = channels(fake, meter, clock, reuse=reuse)
        organization = org_id(store)
        runs = sent = failed_tries = skipped = 0
        failed_at: float | None = None
        started = time.perf_counter()
        while sent < drafts and clock.now() < (T0 + HORIZON).timestamp():
            if failed_at is not None and clock.now() - failed_at < RETRY_AFTER:
                _ticks_until(clock, failed_at + RETRY_AFTER)  # the job waits after a failure
                continue
            if not publishing_due(store, organization, clock.at()):
                idle = _until_retry(store, clock)  # only retries left, after their wait
                if idle is None:
                    break
                skipped += idle
                continue
            run = job_run(store, clock.at(), make)
            runs += 1
            sent += len(run.sent)
            failed_tries += len(run.failed)
            failed_at = clock.now() if run.failed else None
            if not run.sent and not run.failed:  # nothing may be tried before a back-off ends
                idle = _until_retry(store, clock)
                if idle is None:
                    break
                skipped += idle
                continue
            clock.wait(TICK)
        wall = time.perf_counter() - started
        count = len(fake.statuses) if isinstance(fake, FakeMastodon) else len(fake.records)
        logins = fake.logins_made if isinstance(fake, LimitedBluesky) else "-"
    lags = [(at - T0).total_seconds() for at in sent_times(store)]
    ended = states(store)
    last = T0 + timedelta(seconds=max(lags)) if lags else None
    return {
        "platform": platform + ("" if reuse else " (clients not kept between runs)"),
        "runs": runs,
        "idle skipped": skipped,
        "requests": meter.requests,
        "429s": fake.answered_429,
        "failed tries": failed_tries,
        "sent": ended.get("sent", 0),
        "ended failed": ended.get("failed", 0),
        "on server": count,
        "logins": logins,
        "lag p50": span(pct(lags, 50)),
        "p95": span(pct(lags, 95)),
        "max": span(max(lags, default=math.nan)),
        "last out (UTC)": last.strftime("%a %H:%M") if last else "-",
        "slept in worker": span(clock.slept),
        "wall s": f"{wall:.1f}",
    }


# --- main -------------------------------------------------------------------------------------


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--drafts", type=int, default=1000)
    parser.add_argument("--platform", choices=("mastodon", "bluesky", "both"), default="both")
    parser.add_argument(
        "--fresh-clients", action="store_true",
        help="also run with clients that are not kept between the worker's runs",
    )  # fmt: skip
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    platforms = ["mastodon", "bluesky"] if args.platform == "both" else [args.platform]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        started = time.perf_counter()
        template = folder / "template.db"
        build_store(template, platforms[0], args.drafts)
        print(
            f"setup (untimed): {args.drafts} approved drafts in "
            f"{time.perf_counter() - started:.1f} s (through the draft API; copied per run)"
        )
        print()
        print(
            f"1. Unthrottled, real time: {args.drafts} drafts due at once, the publish job's "
            f"batches of {LIMIT} one after the other, clients kept"
        )
        rows = []
        for platform in platforms:
            store = copy_store(template, folder, f"free-{platform}", platform)
            rows.append(unthrottled(store, platform, args.drafts))
            store.close()
        table(rows)
        cost = client_cost()
        print(
            "   'send s' = HTTP + the fake server; 'clients' = HTTP clients built (one per "
            f"account, kept); building one costs {cost * 1000:.1f} ms"
        )
        print()
        print(
            f"2. Rate-limited, simulated time: {args.drafts} drafts planned {T0:%a %H:%M} UTC; "
            f"a worker round every {TICK:.0f} s, publish paused {RETRY_AFTER:.0f} s after a "
            "failed run"
        )
        print(
            f"   Mastodon {MASTODON_API_LIMIT} requests/{per(MASTODON_API_PERIOD)}, "
            f"{MASTODON_STATUS_LIMIT} statuses/{per(MASTODON_STATUS_PERIOD)}; Bluesky logins "
            + " and ".join(f"{n}/{per(t)}" for n, t in BLUESKY_SESSION_LIMITS)
            + ", write points "
            + " and ".join(f"{n}/{per(t)}" for n, t in BLUESKY_WRITE_LIMITS)
            + f" ({BLUESKY_CREATE_POINTS} a post)"
        )
        rows = []
        for platform in platforms:
            for reuse in (True, False) if args.fresh_clients else (True,):
                name = f"limited-{platform}-{'kept' if reuse else 'fresh'}"
                store = copy_store(template, folder, name, platform)
                rows.append(limited(store, platform, args.drafts, reuse=reuse))
                store.close()
        table(rows)
        exact = all(row["on server"] == args.drafts for row in rows)
        print(f"   exactly {args.drafts} posts on every server: {'yes' if exact else 'NO'}")
        print(
            "   lag = sent_at (simulated) - planned time; 'requests' = HTTP requests klopt made; "
            "'failed tries' "
            "= sends that failed (a 429, or Http refusing before the request because an "
            "answer on the same client said no calls were left); 'logins' = createSession "
            "calls that succeeded; 'slept in worker' = Http waits for a reset (up to "
            "max_wait) that block the round; 'idle skipped' = rounds that could try nothing"
        )


if __name__ == "__main__":
    main()
