"""Alerts: the test on synthetic series with known change points, multiple testing, no
storms, closing, the signed webhook, the e-mail, failed deliveries, settings and the CLI."""

from __future__ import annotations

import hashlib
import hmac
import importlib.util
import json
import socket
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from email import message_from_bytes, policy
from email.message import Message
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from sqlalchemy.orm import Session

from helpers import Klopt
from klopt.errors import ConfigError, InputError, NotFound
from klopt.insight.alerting import (
    ALERT_SETTINGS,
    AlertParams,
    Channels,
    CheckResult,
    Counts,
    channels_from_settings,
    check_alerts,
    close_alert,
    list_alerts,
    params_from_settings,
    rate_test,
    sign,
    verify,
)
from klopt.insight.alerting.detection import (
    RateTest,
    benjamini_hochberg,
    binomial_sf,
    broken_counts,
    decide,
    replay,
    volume_counts,
)
from klopt.store import Store
from klopt.store.models import Alert, AuditEvent, Judgement, Post, Promise, Verdict

ROOT = Path(__file__).resolve().parents[1]
NOW = datetime(2026, 10, 10, 12, tzinfo=UTC)
SECRET = "s3cret-shared-with-the-receiver"


# --- the test itself -------------------------------------------------------------------------


def test_binomial_tail_matches_the_textbook_values() -> None:
    # P(X >= 5) for X ~ Binomial(10, 0.2) = 1 - P(X <= 4) = 0.0327935...
    assert binomial_sf(5, 10, 0.2) == pytest.approx(0.0327934976, rel=1e-9)
    assert binomial_sf(30, 1000, 0.01) == pytest.approx(2.0599888510e-07, rel=1e-9)
    assert binomial_sf(0, 5, 0.3) == 1.0
    assert binomial_sf(6, 5, 0.3) == 0.0
    assert binomial_sf(3, 100, 0.5) == pytest.approx(1.0)
    assert binomial_sf(200_000, 1_000_000, 0.2) == pytest.approx(0.5004, abs=1e-4)  # fast


def test_the_rate_test_compares_rates_given_exposure() -> None:
    same = rate_test(Counts(10, 100.0, 30, 300.0))
    assert same.ratio == pytest.approx(1.0, abs=0.05) and same.p_value > 0.4
    rise = rate_test(Counts(30, 100.0, 30, 300.0))
    assert rise.ratio == pytest.approx((30.5 / 100) / (30.5 / 300))
    assert rise.p_value == pytest.approx(2.6694272e-05, rel=1e-6)  # P(Bin(60, 1/4) >= 30)
    # twice the broken count, but twice the mentions too: no rise in the share
    assert rate_test(Counts(20, 200.0, 30, 300.0)).p_value > 0.2
    new_topic = rate_test(Counts(8, 100.0, 0, 300.0))  # nothing in the baseline: finite ratio
    assert new_topic.ratio == pytest.approx(51.0) and new_topic.p_value < 1e-4
    assert rate_test(Counts(5, 0.0, 0, 0.0)).p_value == 1.0


def test_swing_makes_large_counts_less_significant_and_leaves_small_ones() -> None:
    small, large = Counts(9, 100.0, 12, 400.0), Counts(900, 10_000.0, 3000, 40_000.0)
    assert rate_test(small).p_value < rate_test(small, 0.14).p_value < 2 * rate_test(small).p_value
    assert rate_test(large).p_value < 1e-5  # a 20% rise in thousands: "significant"
    assert rate_test(large, 0.14).p_value > 0.05  # and an ordinary day's swing


def test_benjamini_hochberg_adjusts_in_the_given_order() -> None:
    assert benjamini_hochberg([0.01, 0.04, 0.03, 0.2]) == pytest.approx(
        [0.04, 0.04 * 4 / 3, 0.04 * 4 / 3, 0.2]
    )
    assert benjamini_hochberg([]) == []


def test_one_rise_among_many_quiet_promises_needs_more_evidence() -> None:
    params = AlertParams(alpha=0.001, min_count=5, min_ratio=1.5)
    rise = RateTest(Counts(12, 100.0, 4, 300.0), ratio=8.0, p_value=0.0008)
    quiet = RateTest(Counts(3, 100.0, 9, 300.0), ratio=1.0, p_value=0.5)
    assert decide({"P1": rise}, {}, params)["P1"].action == "open"
    family = {"P1": rise, **{f"P{i}": quiet for i in range(2, 12)}}
    assert decide(family, {}, params) == {}  # q = 0.0008 * 11 > 0.001
    strong = RateTest(rise.counts, ratio=8.0, p_value=0.00005)
    assert decide({**family, "P1": strong}, {}, params)["P1"].q_value == pytest.approx(0.00055)


def test_a_rise_below_min_count_or_min_ratio_opens_nothing() -> None:
    params = AlertParams()
    few = RateTest(Counts(4, 10.0, 0, 1000.0), ratio=400.0, p_value=1e-9)
    small = RateTest(Counts(5000, 1e5, 14000, 3e5), ratio=1.07, p_value=1e-9)
    assert decide({"a": few, "b": small}, {}, params) == {}


# --- synthetic series with known change points --------------------------------------------


def _series(
    seed: int,
    *,
    days: int = 14,
    level: float = 20.0,
    share: float = 0.02,
    step: float = 1.0,
    at: int = 0,
) -> tuple[list[int], list[int]]:
    """Hourly mentions (day-night cycle) and broken mentions, the share stepping up at ``at``."""
    rng = np.random.default_rng(seed)
    hours = np.arange(24 * days)
    rate = level * (1 + 0.8 * np.sin(2 * np.pi * (hours % 24 - 9) / 24))
    mentions = rng.poisson(rate)
    p = np.full(len(hours), share)
    p[at:] *= step
    return mentions.tolist(), rng.binomial(mentions, p).tolist()


def _counter(broken: list[int], mentions: list[int], params: AlertParams) -> Any:
    return lambda end: broken_counts(broken, mentions, end, params)


def _opened(mentions: list[int], broken: dict[str, list[int]], params: AlertParams) -> list[Any]:
    series = {key: _counter(b, mentions, params) for key, b in broken.items()}
    start = params.window + params.min_baseline_hours
    events = replay(series, range(start, len(mentions) + 1), params)
    return [e for e in events if e.decision.action == "open"]


@pytest.mark.parametrize(
    ("share", "step", "max_delay"),
    [(0.05, 3.0, 18), (0.02, 5.0, 12), (0.05, 5.0, 10)],  # from 24 or 10 broken a day
)
def test_a_step_rise_is_found_within_hours_of_the_change(
    share: float, step: float, max_delay: int
) -> None:
    params = AlertParams()
    change = 24 * 8 + 5
    found = []
    for seed in range(5):
        mentions, broken = _series(seed, share=share, step=step, at=change)  # 20 mentions/h
        opened = _opened(mentions, {"P1": broken}, params)
        assert len(opened) == 1, "one alert, not a storm"
        found.append(opened[0].hour - change)
    assert all(0 <= delay <= max_delay for delay in found), found


def test_flat_series_raise_no_alert() -> None:
    params = AlertParams()
    for seed in range(6):
        mentions, _ = _series(100 + seed, days=21)
        rng = np.random.default_rng(seed)
        broken = {
            f"P{i}": rng.binomial(mentions, s).tolist()
            for i, s in enumerate([0.005, 0.01, 0.02, 0.04, 0.08, 0.15], 1)
        }
        assert _opened(mentions, broken, params) == []
        volume = {None: lambda end, m=mentions: volume_counts(m, end, params)}
        start = params.volume_window + params.min_baseline_hours
        assert replay(volume, range(start, len(mentions) + 1), params) == []


def test_an_alert_closes_when_the_rise_ends_and_is_not_repeated_meanwhile() -> None:
    params = AlertParams()
    mentions, broken = _series(7, days=16, step=5.0, at=24 * 8)
    rng = np.random.default_rng(7)
    after = 24 * 11  # the rise lasts three days
    broken[after:] = rng.binomial(mentions[after:], 0.02).tolist()
    series = {"P1": lambda end: broken_counts(broken, mentions, end, params)}
    events = replay(series, range(params.window + params.min_baseline_hours, 24 * 16 + 1), params)
    actions = [e.decision.action for e in events]
    assert actions.count("open") == 1 and actions.count("close") == 1
    closed = next(e.hour for e in events if e.decision.action == "close")
    assert after < closed <= after + params.window + 6
    sent = [e for e in events if e.decision.notify]
    assert [e.decision.action for e in sent][0] == "open" and len(sent) <= 4


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    path = ROOT / "benchmarks" / "alerts.py"
    spec = importlib.util.spec_from_file_location("alerts_benchmark", path)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def test_precision_recall_and_delay_beat_the_baseline_detectors(bench: ModuleType) -> None:
    scores = bench.evaluate(AlertParams(), orgs=24, days=21, seed=11)
    klopt, sigma, fixed = (scores["broken"][n] for n in ("klopt", "3-sigma", "fixed >10/24h"))
    assert klopt["precision"] >= 0.6 and klopt["recall"] >= 0.3
    assert klopt["precision"] > 5 * max(sigma["precision"], fixed["precision"])
    assert klopt["delay_median_h"] <= 24
    assert klopt["false_per_promise_week_flat"] < 0.05 < 0.5 < sigma["false_per_promise_week_flat"]
    assert scores["volume"]["klopt"]["precision"] > scores["volume"]["3-sigma"]["precision"]


# --- the store: no storms, closing ---------------------------------------------------------


def _mentions(
    session: Session,
    promise: Promise,
    start: datetime,
    hours: int,
    *,
    per_hour: int = 4,
    broken_per_hour: float = 0.125,
    tag: str = "m",
) -> None:
    """``per_hour`` judged mentions each hour from ``start``; some broken for ``promise``."""
    owed = 0.0
    for h in range(hours):
        owed += broken_per_hour
        for i in range(per_hour):
            at = start + timedelta(hours=h, seconds=60 + i * 3000 // per_hour)
            broken = owed >= 1
            owed -= 1 if broken else 0
            number = f"{tag}-{int(at.timestamp())}-{i}"
            post = Post(
                organization_id=promise.organization_id,
                platform="x",
                external_id=number,
                content_hash=number,
                author=f"@klant{i}",
                url=f"https://x.example/{number}",
                reach=10 * i + h % 7,
                posted_at=at,
                text=("Pakket na drie dagen nog niet bezorgd" if broken else "Vraagje")
                + f" {number}",
            )
            session.add(post)
            session.flush()
            judgement = Judgement(
                post_id=post.id,
                model_version="m",
                language="nl",
                sentiment="negative" if broken else "neutral",
                sentiment_confidence=0.8,
            )
            session.add(judgement)
            session.flush()
            if broken:
                session.add(
                    Verdict(
                        judgement_id=judgement.id,
                        post_id=post.id,
                        promise_id=promise.id,
                        stance="broken",
                        confidence=0.9,
                        score=0.9,
                    )
                )


@pytest.fixture
def register(store: Store) -> Store:
    """Voorbeeld BV with two approved promises and 72 quiet hours before NOW - 12 h."""
    with store.session() as session:
        p1 = Promise(
            organization_id=1, key="P1", statement="Wij leveren binnen 24 uur.", status="approved"
        )
        p2 = Promise(organization_id=1, key="P2", statement="Gratis retour.", status="approved")
        session.add_all([p1, p2])
        session.flush()
        _mentions(session, p1, NOW - timedelta(hours=84), 72)
    return store


def _promise(session: Session, key: str) -> Promise:
    return session.scalars(select(Promise).where(Promise.key == key)).one()


def _add(store: Store, start: datetime, hours: int, broken_per_hour: float, tag: str) -> None:
    with store.session() as session:
        _mentions(
            session, _promise(session, "P1"), start, hours, broken_per_hour=broken_per_hour, tag=tag
        )


#: Short windows keep the store's fixtures small: the last 12 hours against 3 days.
PARAMS = AlertParams(window=12, baseline_days=3)


def _check(store: Store, now: datetime, channels: Channels | None = None, **kw: Any) -> CheckResult:
    return check_alerts(
        store,
        None,
        now=now,
        params=PARAMS,
        channels=channels or Channels(),
        actor="tester",
        **kw,
    )


def test_a_rise_opens_one_alert_and_later_checks_update_it(register: Store) -> None:
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")  # 12 of 48 broken vs 9 of 288
    first = _check(register, NOW)
    (event,) = first.events
    assert (event.event, event.news, event.alert.kind, event.alert.promise) == (
        "opened",
        True,
        "broken",
        "P1",
    )
    alert = event.alert
    assert (alert.recent_count, alert.recent_exposure) == (12, 48.0)
    assert (alert.baseline_count, alert.baseline_exposure) == (9, 288.0)
    assert alert.q_value <= 0.001 and alert.ratio > 5
    assert len(alert.evidence) == 5 and alert.evidence[0].reach == max(
        e.reach or 0 for e in alert.evidence
    )
    assert all("niet bezorgd" in e.text for e in alert.evidence)
    assert alert.delivery_status == "none" and first.open == 1

    _add(register, NOW, 1, 1.0, "more")
    second = _check(register, NOW + timedelta(hours=1))
    (update,) = second.events
    assert (update.event, update.news, update.alert.id) == ("updated", False, alert.id)
    assert update.alert.checks == 2 and update.alert.updated_at == NOW + timedelta(hours=1)
    with register.session() as session:
        assert session.scalars(select(Alert)).all()[0].baseline_count == 9  # frozen

    _add(register, NOW + timedelta(hours=1), 5, 4.0, "worse")  # the rise doubles
    third = _check(register, NOW + timedelta(hours=6))
    (worse,) = third.events
    assert (worse.event, worse.news, worse.alert.id) == ("updated", True, alert.id)
    assert len(list_alerts(register, None)) == 1


def test_an_alert_closes_when_the_rate_is_back_at_baseline(register: Store) -> None:
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    (opened,) = _check(register, NOW).events
    # a day without a single mention (a source that stopped) is no news: still open
    assert _check(register, NOW + timedelta(days=3)).events == ()
    _add(register, NOW, 24, 0.125, "calm")  # the baseline's share again
    assert _check(register, NOW + timedelta(hours=6)).events[0].event == "updated"
    (closed,) = _check(register, NOW + timedelta(hours=24)).events
    assert (closed.event, closed.news, closed.alert.id) == ("closed", True, opened.alert.id)
    assert closed.alert.state == "closed" and closed.alert.closed_by == "klopt"
    assert list_alerts(register, None, open_only=True) == []
    with register.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "alert")
        )
        assert list(actions) == ["alert.open", "alert.close"]


def test_a_person_closing_an_alert_is_not_undone_while_the_rise_lasts(register: Store) -> None:
    _add(register, NOW - timedelta(hours=12), 18, 1.0, "rise")
    (opened,) = _check(register, NOW).events
    closed = close_alert(register, None, opened.alert.ref, actor="anna", now=NOW, note="bekend")
    assert (closed.state, closed.closed_by, closed.note) == ("closed", "anna", "bekend")
    assert _check(register, NOW + timedelta(hours=6)).events == ()  # still high: no new alert
    _add(register, NOW + timedelta(hours=6), 24, 0.125, "calm")
    assert _check(register, NOW + timedelta(hours=30)).events == ()  # back at baseline: settled
    _add(register, NOW + timedelta(hours=30), 12, 3.0, "again")  # 36 of 48
    (again,) = _check(register, NOW + timedelta(hours=42)).events
    assert again.event == "opened" and again.alert.id != opened.alert.id
    with pytest.raises(InputError):
        close_alert(register, None, opened.alert.ref, actor="anna", now=NOW)
    with pytest.raises(NotFound):
        close_alert(register, None, "A99", actor="anna", now=NOW)
    with pytest.raises(InputError):
        close_alert(register, None, "alert one", actor="anna", now=NOW)


def test_a_rise_of_mentions_is_a_volume_alert_not_a_broken_one(register: Store) -> None:
    with register.session() as session:
        _mentions(
            session,
            _promise(session, "P1"),
            NOW - timedelta(hours=12),
            12,
            per_hour=16,
            broken_per_hour=0.5,
            tag="busy",
        )
    result = _check(register, NOW)
    assert [(e.event, e.alert.kind, e.alert.promise) for e in result.events] == [
        ("opened", "volume", None)
    ]
    volume = result.events[0].alert
    assert volume.recent_count == 12 * 4 + 12 * 16 and volume.recent_exposure == 24.0
    assert volume.baseline_exposure == pytest.approx(60.0, abs=0.1)  # data since 84 h, not 96


# --- delivery: webhook, e-mail, failures ---------------------------------------------------


def test_sign_and_verify_are_hmac_sha256_of_the_body() -> None:
    body = b'{"event": "opened"}'
    assert sign(body, "k") == "sha256=" + hmac.new(b"k", body, hashlib.sha256).hexdigest()
    assert verify(body, "k", sign(body, "k"))
    assert not verify(body + b" ", "k", sign(body, "k"))
    assert not verify(body, "other", sign(body, "k"))


def _webhook_env(url: str) -> dict[str, str]:
    return {"KLOPT_ALERT_WEBHOOK_URL": url, "KLOPT_ALERT_WEBHOOK_SECRET": SECRET}


def test_the_webhook_gets_signed_json_with_the_evidence(
    register: Store, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/hooks/klopt", method="POST").respond_with_data("ok")
    env = _webhook_env(httpserver.url_for("/hooks/klopt"))
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    result = _check(register, NOW, channels_from_settings(env), environ=env)
    (event,) = result.events
    assert event.delivered and event.alert.delivery_status == "sent"
    ((request, _),) = httpserver.log
    body = request.get_data()
    signature = request.headers["X-Klopt-Signature"]
    assert signature == sign(body, SECRET) and verify(body, SECRET, signature)
    assert request.headers["X-Klopt-Event"] == "opened"
    payload = json.loads(body)
    alert = payload["alert"]
    assert payload["event"] == "opened" and payload["sent_at"] == NOW.isoformat()
    assert (alert["id"], alert["kind"], alert["promise"]["id"]) == ("A1", "broken", "P1")
    assert alert["counts"] == {
        "recent": 12,
        "recent_exposure": 48.0,
        "baseline": 9,
        "baseline_exposure": 288.0,
        "exposure": "judged mentions",
    }
    top = alert["evidence"][0]
    assert top["author"].startswith("@klant") and top["url"].startswith("https://x.example/")
    assert "niet bezorgd" in top["text"]
    (delivery,) = event.deliveries
    stored = delivery.as_dict()
    assert stored["secret_env"] == "KLOPT_ALERT_WEBHOOK_SECRET" and SECRET not in json.dumps(stored)
    assert stored["target"] == f"http://localhost:{httpserver.port}"  # the path stays out


def test_a_failed_webhook_is_recorded_and_tried_again(
    register: Store, httpserver: HTTPServer
) -> None:
    httpserver.expect_oneshot_request("/hook", method="POST").respond_with_data("down", status=503)
    env = _webhook_env(httpserver.url_for("/hook"))
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    result = _check(register, NOW, channels_from_settings(env), environ=env)
    assert result.failed
    (failure,) = result.events[0].deliveries
    assert (failure.status, failure.error_key) == ("failed", "alerts.webhook_refused")
    assert "HTTP 503" in failure.error_text("en") and "HTTP 503" in failure.error_text("nl")
    assert list_alerts(register, None)[0].delivery_status == "failed"

    httpserver.expect_request("/hook", method="POST").respond_with_data("ok")
    retry = _check(register, NOW + timedelta(hours=1), channels_from_settings(env), environ=env)
    assert not retry.failed
    assert [(e.event, e.delivered) for e in retry.events] == [("opened", True)]  # the retry
    assert list_alerts(register, None)[0].delivery_status == "sent"


def test_no_secret_no_webhook_and_no_crash(register: Store, httpserver: HTTPServer) -> None:
    env = {"KLOPT_ALERT_WEBHOOK_URL": httpserver.url_for("/hook")}
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    result = _check(register, NOW, channels_from_settings(env), environ=env)
    (failure,) = result.events[0].deliveries
    assert failure.error_key == "alerts.no_secret" and httpserver.log == []
    unreachable = {
        **env,
        "KLOPT_ALERT_WEBHOOK_SECRET": SECRET,
        "KLOPT_ALERT_WEBHOOK_URL": f"http://127.0.0.1:{_free_port()}/x",
    }
    result = _check(register, NOW, channels_from_settings(unreachable), environ=unreachable)
    assert result.events[-1].deliveries[0].error_key == "alerts.webhook_unreachable"


class _Inbox:
    """An aiosmtpd handler that keeps every message."""

    def __init__(self) -> None:
        self.messages: list[tuple[str, list[str], Message]] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        self.messages.append(
            (
                envelope.mail_from,
                list(envelope.rcpt_tos),
                message_from_bytes(envelope.content, policy=policy.default),
            )
        )
        return "250 OK"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def smtp() -> Iterator[tuple[_Inbox, int]]:
    from aiosmtpd.controller import Controller

    inbox, port = _Inbox(), _free_port()
    controller = Controller(inbox, hostname="127.0.0.1", port=port)
    controller.start()
    yield inbox, port
    controller.stop()


def _mail_env(port: int, **extra: str) -> dict[str, str]:
    return {
        "KLOPT_ALERT_SMTP_HOST": "127.0.0.1",
        "KLOPT_ALERT_SMTP_PORT": str(port),
        "KLOPT_ALERT_SMTP_STARTTLS": "no",
        "KLOPT_ALERT_MAIL_FROM": "klopt@voorbeeld.example",
        "KLOPT_ALERT_MAIL_TO": "comms@voorbeeld.example, board@voorbeeld.example",
        **extra,
    }


def test_the_e_mail_speaks_the_organisations_language_with_the_evidence(
    register: Store, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    env = _mail_env(port)
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    result = _check(register, NOW, channels_from_settings(env), environ=env)
    assert result.events[0].delivered and result.events[0].deliveries[0].channel == "email"
    ((sender, recipients, message),) = inbox.messages
    assert sender == "klopt@voorbeeld.example"
    assert recipients == ["comms@voorbeeld.example", "board@voorbeeld.example"]
    assert message["Subject"] == (
        "[klopt] Melding A1: meer oordelen 'gebroken' over belofte P1 «Wij leveren binnen 24 uur.»"
    )
    assert message["X-Klopt-Alert"] == "A1" and message["X-Klopt-Event"] == "opened"
    text = message.get_content()  # type: ignore[attr-defined]
    assert "zeggen 12 van 48 beoordeelde vermeldingen dat de belofte gebroken is (25.0%)" in text
    assert "9 van 288 (3.1%)" in text
    assert "Belangrijkste bewijs:" in text
    evidence = result.events[0].alert.evidence[0]
    assert f"1. {evidence.author} (x, " in text and evidence.text in text and evidence.url in text
    assert "klopt alerts close A1" in text


def test_the_e_mail_in_english_when_set_and_failures_are_recorded(
    register: Store, smtp: tuple[_Inbox, int]
) -> None:
    inbox, port = smtp
    env = _mail_env(port, KLOPT_ALERT_LANG="en")
    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    _check(register, NOW, channels_from_settings(env), environ=env)
    ((_, _, message),) = inbox.messages
    assert message["Subject"].startswith("[klopt] Alert A1: more broken verdicts for promise P1")
    tls = _mail_env(port, KLOPT_ALERT_SMTP_STARTTLS="yes")  # the server offers no STARTTLS
    _add(register, NOW, 6, 4.0, "worse")
    result = _check(register, NOW + timedelta(hours=6), channels_from_settings(tls), environ=tls)
    (failure,) = result.events[0].deliveries
    assert failure.status == "failed" and failure.error_key == "alerts.mail_failed"
    assert "SMTPNotSupportedError" in failure.error_text("en") and len(inbox.messages) == 1


# --- settings ------------------------------------------------------------------------------


def test_settings_are_checked_and_secrets_stay_names() -> None:
    assert params_from_settings({}) == AlertParams()
    assert params_from_settings({"KLOPT_ALERT_WINDOW": "6"}).window == 6
    with pytest.raises(ConfigError) as caught:
        params_from_settings({"KLOPT_ALERT_ALPHA": "5%"})
    assert "KLOPT_ALERT_ALPHA=5% cannot be used: it should be a number between 0 and 1." in str(
        caught.value
    )
    assert "een getal tussen 0 en 1" in caught.value.localized("nl")
    with pytest.raises(ConfigError, match="not https"):
        channels_from_settings({"KLOPT_ALERT_WEBHOOK_URL": "http://hooks.example/x"})
    with pytest.raises(ConfigError, match="not the secret itself"):
        channels_from_settings(
            {
                "KLOPT_ALERT_WEBHOOK_URL": "https://h.example/x",
                "KLOPT_ALERT_WEBHOOK_SECRET_ENV": "a b",
            }
        )
    with pytest.raises(ConfigError, match="no recipients"):
        channels_from_settings({"KLOPT_ALERT_SMTP_HOST": "mail.example"})
    assert channels_from_settings({}).names == ()


def test_docs_list_every_alert_setting() -> None:
    docs = (ROOT / "docs" / "alerts.md").read_text(encoding="utf-8")
    from klopt.insight.alerting.settings import alert_settings_markdown

    assert alert_settings_markdown() in docs
    assert all(f"`{s.env}`" in docs for s in ALERT_SETTINGS)


# The one-open-alert index is on an expression, which neither side can reflect or compare;
# tests/test_alerts.py::test_the_database_keeps_one_open_alert_per_promise_and_kind tests it.
@pytest.mark.filterwarnings("ignore:Skipped unsupported reflection of expression-based index")
@pytest.mark.filterwarnings("ignore:autogenerate skipping metadata-specified expression-based")
def test_the_migration_matches_the_model(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from klopt.store.models import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    assert [d for d in diff if "alert" in repr(d)] == []


# --- the command line ----------------------------------------------------------------------


def _cli_store(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV")
    from klopt.store import open_store

    store = open_store(klopt.db)
    with store.session() as session:
        p1 = Promise(
            organization_id=1, key="P1", statement="Wij leveren binnen 24 uur.", status="approved"
        )
        session.add(p1)
        session.flush()
        _mentions(session, p1, NOW - timedelta(hours=84), 72)
        _mentions(session, p1, NOW - timedelta(hours=12), 12, broken_per_hour=1.0, tag="rise")
    store.close()


def test_the_cli_checks_lists_and_closes(
    klopt: Klopt, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    _cli_store(klopt)
    httpserver.expect_request("/hook", method="POST").respond_with_data("", status=500)
    for name, value in _webhook_env(httpserver.url_for("/hook")).items():
        monkeypatch.setenv(name, value)
    monkeypatch.setenv("KLOPT_ALERT_WINDOW", "12")
    monkeypatch.setenv("KLOPT_ALERT_BASELINE_DAYS", "3")
    out = klopt("--lang", "en", "alerts", "check", "--now", "2026-10-10T12:00+00:00", code=1).output
    assert "Checked 1 promises and the volume at 2026-10-10 12:00 UTC." in out
    assert "A1 opened: P1 broken; 12 broken of 48 mentions in 12 h," in out
    assert "webhook: failed. The webhook at http://localhost:" in out and "HTTP 500" in out
    assert "Open alerts: 1." in out

    listed = klopt("--lang", "nl", "alerts", "list", "--open").output
    assert "A1" in listed and "P1 gebroken" in listed and "mislukt" in listed
    data = json.loads(klopt("alerts", "list", "--json").output)
    assert (data[0]["id"], data[0]["delivery_status"]) == ("A1", "failed")
    (delivery,) = data[0]["deliveries"]
    assert delivery["error_key"] == "alerts.webhook_refused" and SECRET not in json.dumps(data)

    out = klopt("--lang", "en", "alerts", "close", "A1", "--note", "known issue").output
    assert out.startswith("A1 closed: P1 broken.")
    assert "Geen meldingen." in klopt("--lang", "nl", "alerts", "list", "--open").output
    err = klopt("--lang", "en", "alerts", "close", "A7", code=1).output
    assert "There is no alert A7." in err


def test_the_cli_says_when_no_channel_is_set_up(klopt: Klopt) -> None:
    _cli_store(klopt)
    out = klopt("--lang", "nl", "alerts", "check", "--now", "2026-10-10 12:00+00:00").output
    assert "A1 geopend: P1 gebroken" in out
    assert "Er is geen bezorgkanaal ingesteld" in out
    data = json.loads(klopt("alerts", "check", "--now", "2026-10-10T13:00+00:00", "--json").output)
    assert [(e["event"], e["news"]) for e in data["events"]] == [("updated", False)]


def _raw_alert(org_id: int, kind: str, state: str = "open") -> Any:
    from klopt.store.models import Alert

    at = datetime(2026, 11, 1, tzinfo=UTC)
    return Alert(
        organization_id=org_id,
        promise_id=None,
        kind=kind,
        state=state,
        opened_at=at,
        updated_at=at,
        window_start=at,
        window_end=at,
        baseline_start=at,
        baseline_end=at,
        recent_count=9,
        recent_exposure=24.0,
        baseline_count=1,
        baseline_exposure=168.0,
        ratio=9.0,
        p_value=0.0001,
        q_value=0.0001,
    )


def test_the_database_keeps_one_open_alert_per_promise_and_kind(store: Store) -> None:
    from sqlalchemy.exc import IntegrityError

    from klopt.store.models import Organization

    with store.session() as session:
        org_id = session.scalars(select(Organization.id)).one()
        session.add(_raw_alert(org_id, "volume"))
        session.add(_raw_alert(org_id, "volume", state="closed"))  # history is fine
    with pytest.raises(IntegrityError), store.session() as session:
        # What a second `klopt alerts check` at the same moment would do.
        session.add(_raw_alert(org_id, "volume"))
    with store.session() as session:
        states = session.scalars(select(Alert.state).order_by(Alert.id)).all()
    assert list(states) == ["open", "closed"]


def test_a_check_that_collides_with_another_runs_again_and_opens_nothing_twice(
    register: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    from sqlalchemy.exc import IntegrityError

    import klopt.insight.alerting.alerts as module

    _add(register, NOW - timedelta(hours=12), 12, 1.0, "rise")
    real = module._check
    calls: list[int] = []

    def collides_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:  # what the unique index says when another check won the race
            raise IntegrityError("INSERT INTO alert", {}, Exception("UNIQUE constraint failed"))
        return real(*args, **kwargs)

    monkeypatch.setattr(module, "_check", collides_once)
    result = _check(register, NOW)
    assert len(calls) == 2 and [e.event for e in result.events] == ["opened"]
    with register.session() as session:
        assert session.scalars(select(Alert.state)).all() == ["open"]
