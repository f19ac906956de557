"""Scheduling lag of the outbox (issue 16): 1,000 drafts due at the same moment, from their
planned time to sent, without limits and against the platforms' rate limits.

    python benchmarks/publishing_lag.py [--drafts 1000] [--platform mastodon|bluesky|both]

Every scenario gets a copy of one SQLite store (built untimed, as ``tests/conftest.py``
does: an organisation, a team of users, a Mastodon and a Bluesky account) holding
``--drafts`` drafts that were created, submitted and approved through the draft API (with
a checker that finds nothing), all planned at the same moment, and sends to the local
servers of ``tests/publishing_fakes.py``.

1. **Unthrottled**, in real time: :func:`klopt.editorial.outbox.publish_due` with its
   default ``limit``, round after round without a pause until nothing is left. Lag is
   the publication's ``sent_at`` minus the planned time. "as worker" adds the worker's
   pause between two rounds (``Timing.tick``) to every post of a later round: the lag
   ``klopt worker`` gives. The time in the outbox is split into ``_take`` (the due
   drafts and the intents; timed by wrapping the module function), the channel's
   ``send`` (building the client plus HTTP, server included) and the rest (the
   publication's own transactions).
2. **Rate-limited**, in simulated time: the fake servers answer 429 with the platforms'
   headers once an account's documented limit (the constants below) is used up, on a
   simulated clock: real time elapsed plus every wait that was skipped. The clients get
   an :class:`~klopt.listening.http.Http` whose ``sleep`` advances that clock and whose
   ``clock`` reads it (``MastodonAccount`` and ``BlueskyAccount`` take ``http=``; nothing
   is monkeypatched). The benchmark runs the worker's schedule for the publish job:
   one ``publish_due(store, now=<simulated now>, channels=...)`` per round,
   ``Timing.tick`` seconds after the round before, and none for ``Timing.retry_after``
   seconds after a run that had a failed post (``klopt.jobs.schedule._due``). Rounds in
   which nothing can be tried until a back-off ends are skipped in one step (they would
   change nothing). Lag is the simulated time at which the server made the post minus
   the planned time (the outbox writes ``sent_at`` with the real clock, not ``now``).
3. **What-if** rows (not klopt today): the same, with one client per account reused
   for every post, where klopt builds a new client (a new ``Http``, and on Bluesky a
   new login) for every post.
"""

from __future__ import annotations

import argparse
import inspect
import logging
import math
import shutil
import sys
import tempfile
import threading
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

import klopt.editorial.outbox as outbox  # noqa: E402
from klopt.accounts.organizations import create_organization  # noqa: E402
from klopt.accounts.users import add_user, grant  # noqa: E402
from klopt.checking.check import CheckReport  # noqa: E402
from klopt.checking.findings import Draft as DraftText  # noqa: E402
from klopt.editorial.drafts import approve_draft, create_draft, submit_draft  # noqa: E402
from klopt.editorial.outbox import Channel, add_account, publish_due, publishing_due  # noqa: E402
from klopt.jobs.schedule import Timing  # noqa: E402
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


def copy_store(template: Path, folder: Path, name: str) -> Store:
    target = folder / f"{name}.db"
    shutil.copyfile(template, target)
    return open_store(f"sqlite:///{target}")


def org_id(store: Store) -> int:
    with store.session() as session:
        return int(session.scalar(select(Draft.organization_id).limit(1)) or 0)


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
    """:class:`FakeMastodon` with an account's limits on ``POST /api/v1/statuses``: every
    request counts against the 5-minute limit, a status made against the 3-hour one; a
    429 and every answer carry ``X-RateLimit-*`` (the reset an ISO time)."""

    clock: Callable[[], float] = time.time
    api: Window = field(
        default_factory=lambda: Window(MASTODON_API_LIMIT, MASTODON_API_PERIOD, aligned=True)
    )
    posts: Window = field(
        default_factory=lambda: Window(MASTODON_STATUS_LIMIT, MASTODON_STATUS_PERIOD, True)
    )
    made_at: dict[str, float] = field(default_factory=dict)  # status id -> simulated time
    limited: int = 0  # 429s answered
    gate: threading.Lock = field(default_factory=threading.Lock)

    def _headers(self, window: Window, now: float) -> dict[str, str]:
        reset = datetime.fromtimestamp(window.reset(now), UTC).isoformat()
        return {"X-RateLimit-Limit": str(window.limit),
                "X-RateLimit-Remaining": str(max(0, window.left(now))),
                "X-RateLimit-Reset": reset}  # fmt: skip

    def _post(self, request: Request) -> Response:
        now = self.clock()
        with self.gate:
            refusing = None if self.api.take(now) else self.api
            key = request.headers.get("Idempotency-Key")
            if refusing is None and key not in self.keys and self.posts.left(now) <= 0:
                refusing = self.posts
            if refusing is not None:
                self.limited += 1
                headers = self._headers(refusing, now)
                return _json({"error": "Too many requests"}, 429, **headers)
            before = len(self.statuses)
            response = super()._post(request)
            if len(self.statuses) > before:
                self.posts.take(now)
                self.made_at[str(100 + before)] = now
            response.headers.update(self._headers(_tightest((self.api, self.posts), now), now))
            return response


@dataclass
class LimitedBluesky(FakeBluesky):
    """:class:`FakeBluesky` with an account's limits: ``createSession`` per 5 minutes and
    per day, ``createRecord`` in repo-write points per hour and per day; a 429 and every
    answer carry ``RateLimit-*`` (the reset in epoch seconds)."""

    clock: Callable[[], float] = time.time
    logins: list[Window] = field(
        default_factory=lambda: [Window(n, s, aligned=False) for n, s in BLUESKY_SESSION_LIMITS]
    )
    writes: list[Window] = field(
        default_factory=lambda: [Window(n, s, aligned=False) for n, s in BLUESKY_WRITE_LIMITS]
    )
    made_at: dict[str, float] = field(default_factory=dict)  # record key -> simulated time
    limited: int = 0
    gate: threading.Lock = field(default_factory=threading.Lock)

    def _headers(self, window: Window, now: float) -> dict[str, str]:
        return {"RateLimit-Limit": str(window.limit),
                "RateLimit-Remaining": str(max(0, window.left(now))),
                "RateLimit-Reset": str(int(math.ceil(window.reset(now)))),
                "RateLimit-Policy": f"{window.limit};w={int(window.period)}"}  # fmt: skip

    def _refuse(self, window: Window, now: float) -> Response:
        self.limited += 1
        body = {"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}
        return _json(body, 429, **self._headers(window, now))

    def _session(self, request: Request) -> Response:
        now = self.clock()
        with self.gate:
            full = _full(self.logins, now)
            if full is not None:
                return self._refuse(full, now)
            for window in self.logins:
                window.take(now)
            response = super()._session(request)
            response.headers.update(self._headers(_tightest(self.logins, now), now))
            return response

    def _create(self, request: Request) -> Response:
        now = self.clock()
        with self.gate:
            full = _full(self.writes, now, BLUESKY_CREATE_POINTS)
            if full is not None:
                return self._refuse(full, now)
            before = set(self.records)
            response = super()._create(request)
            for rkey in set(self.records) - before:
                for window in self.writes:
                    window.take(now, BLUESKY_CREATE_POINTS)
                self.made_at[rkey] = now
            response.headers.update(self._headers(_tightest(self.writes, now), now))
            return response


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
    """A ``channels`` factory for ``publish_due``, as ``outbox.channel_for`` builds them
    (a new client per call) pointing at the fake; ``reuse``: one client per account."""
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

    return make


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


def table(rows: list[dict[str, Any]]) -> None:
    columns = list(rows[0])
    widths = {c: max(len(c), *(len(str(r[c])) for r in rows)) for c in columns}
    print("  ".join(f"{c:<{widths[c]}}" if i == 0 else f"{c:>{widths[c]}}"
                    for i, c in enumerate(columns)))  # fmt: skip
    for row in rows:
        print("  ".join(f"{row[c]!s:<{widths[c]}}" if i == 0 else f"{row[c]!s:>{widths[c]}}"
                        for i, c in enumerate(columns)))  # fmt: skip


# --- 1. unthrottled ---------------------------------------------------------------------------


def unthrottled(store: Store, platform: str, drafts: int) -> dict[str, Any]:
    """publish_due round after round (no pause) on a fake without limits, in real time."""
    kind = FakeMastodon if platform == "mastodon" else FakeBluesky
    with served(kind) as fake:
        meter = Meter()
        make = channels(fake, meter, None, reuse=False)
        planned = datetime.now(UTC)
        with store.session() as session:  # due now: the lag is the outbox's and HTTP's
            session.execute(update(Draft).values(planned_at=planned))
        totals = {"take": 0.0}
        round_of: dict[str, int] = {}
        rounds = failed = 0
        started = time.perf_counter()
        with timed_take(totals):
            while True:
                run = publish_due(store, now=datetime.now(UTC), channels=make)
                if not run.sent and not run.failed:
                    break
                round_of.update((key, rounds) for key in run.sent)
                failed += len(run.failed)
                rounds += 1
        wall = time.perf_counter() - started
        made = len(fake.statuses) if isinstance(fake, FakeMastodon) else len(fake.records)
    with store.session() as session:
        sent = session.execute(
            select(Publication.key, Publication.sent_at).where(Publication.state == "sent")
        ).all()
    lags = [(at - planned).total_seconds() for _, at in sent]
    as_worker = [(at - planned).total_seconds() + round_of[key] * TICK for key, at in sent]
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
        "max as worker": span(max(as_worker, default=math.nan)),
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


def limited(store: Store, platform: str, drafts: int, *, reuse: bool) -> dict[str, Any]:
    """The worker's publish rounds against a rate-limited fake, in simulated time."""
    clock = SimClock(T0)
    kind = LimitedMastodon if platform == "mastodon" else LimitedBluesky
    with served(kind, clock=clock.now) as fake:
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
                break
            run = publish_due(store, now=clock.at(), channels=make)
            runs += 1
            sent += len(run.sent)
            failed_tries += len(run.failed)
            failed_at = clock.now() if run.failed else None
            if not run.sent and not run.failed:  # nothing may be tried before a back-off ends
                wake = _next_attempt(store)
                if wake is None:
                    break
                before = clock.now()
                _ticks_until(clock, wake)
                skipped += int((clock.now() - before) // TICK) - 1
                continue
            clock.wait(TICK)
        wall = time.perf_counter() - started
        made = fake.made_at
        count = len(fake.statuses) if isinstance(fake, FakeMastodon) else len(fake.records)
        sessions = fake.sessions if isinstance(fake, FakeBluesky) else 0
    lags = [at - T0.timestamp() for at in made.values()]
    ended = states(store)
    last = T0 + timedelta(seconds=max(lags)) if lags else None
    return {
        "platform": platform + (" (one client: what-if)" if reuse else ""),
        "runs": runs,
        "idle skipped": skipped,
        "429s": fake.limited,
        "failed tries": failed_tries,
        "sent": ended.get("sent", 0),
        "ended failed": ended.get("failed", 0),
        "on server": count,
        "logins": sessions if platform == "bluesky" else "-",
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
    parser.add_argument("--no-what-if", action="store_true", help="skip the what-if rows")
    args = parser.parse_args(argv)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # no line per request
    platforms = ["mastodon", "bluesky"] if args.platform == "both" else [args.platform]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        templates: dict[str, Path] = {}
        for platform in platforms:
            started = time.perf_counter()
            templates[platform] = folder / f"template-{platform}.db"
            build_store(templates[platform], platform, args.drafts)
            print(
                f"setup (untimed): {args.drafts} approved {platform} drafts in "
                f"{time.perf_counter() - started:.1f} s"
            )
        print()
        print(
            f"1. Unthrottled, real time: {args.drafts} drafts due at once, publish_due "
            f"(limit {LIMIT}) round after round without a pause"
        )
        rows = []
        for platform in platforms:
            store = copy_store(templates[platform], folder, f"free-{platform}")
            rows.append(unthrottled(store, platform, args.drafts))
            store.close()
        table(rows)
        cost = client_cost()
        print(
            f"   'max as worker': with the worker's {TICK:.0f} s between rounds; "
            "'send s' = building the client + HTTP + the fake server; building one new "
            f"Http client costs {cost * 1000:.1f} ms, and klopt builds one per post "
            f"({cost * args.drafts:.1f} s of 'send s' for {args.drafts} posts)"
        )
        print()
        print(
            f"2. Rate-limited, simulated time: {args.drafts} drafts planned {T0:%a %H:%M} UTC; "
            f"a worker round every {TICK:.0f} s, publish paused {RETRY_AFTER:.0f} s after a "
            "failed run"
        )
        print(
            f"   Mastodon {MASTODON_API_LIMIT}/{MASTODON_API_PERIOD // 60} min requests, "
            f"{MASTODON_STATUS_LIMIT}/{MASTODON_STATUS_PERIOD // 3600} h statuses; Bluesky "
            + ", ".join(f"{n}/{s // 60} min" for n, s in BLUESKY_SESSION_LIMITS)
            + " logins, "
            + ", ".join(f"{n}/{s // 3600} h" for n, s in BLUESKY_WRITE_LIMITS)
            + f" write points ({BLUESKY_CREATE_POINTS} a post)"
        )
        rows = []
        for platform in platforms:
            for reuse in (False, True) if not args.no_what_if else (False,):
                name = f"limited-{platform}-{'reuse' if reuse else 'klopt'}"
                store = copy_store(templates[platform], folder, name)
                rows.append(limited(store, platform, args.drafts, reuse=reuse))
                store.close()
        table(rows)
        print(
            "   lag = when the server made the post (simulated) - planned time; 'failed tries' "
            "= sends that failed (a 429, or Http refusing before the request because an "
            "answer on the same client said no calls were left); 'logins' = createSession "
            "calls that succeeded; 'slept in worker' = Http waits for a reset (up to "
            "max_wait) that block the round; 'idle skipped' = rounds that could try nothing"
        )


if __name__ == "__main__":
    main()
