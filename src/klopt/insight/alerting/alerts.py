"""Alerts in the store: check (detect and deliver), list, close.

A check reads the verdicts of the recent and baseline windows (people's corrections
override the engine, as everywhere), tests every approved promise and the volume
(:mod:`klopt.insight.alerting.detection`), and then:

- opens an alert for a significant rise where none is open, and delivers it (*opened*);
- updates an open alert instead of opening another: its numbers, windows and evidence
  follow every check, and it is delivered again (*updated*) only when its recent count
  has doubled since the last delivery; no alert storms;
- closes an open alert whose rate is back at the baseline frozen at its opening, and
  delivers that (*closed*).

Deliveries happen after the check's transaction, so a slow webhook holds no lock, and
each outcome is stored with the alert; a failed one is tried again at the next check.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

import httpx
from sqlalchemy import exists, func, or_, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from klopt.accounts import audit
from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import InputError, NotFound
from klopt.insight.alerting.delivery import deliver
from klopt.insight.alerting.detection import (
    AlertParams,
    Counts,
    Decision,
    RateTest,
    Watch,
    decide,
    rate_test,
)
from klopt.insight.alerting.settings import Channels, evidence_count
from klopt.insight.alerting.views import AlertView, DeliveryView, EvidenceView, alert_ref
from klopt.judging.verdicts import current_stances
from klopt.store import Store
from klopt.store.models import Alert, Judgement, Organization, Post, Promise

__all__ = [
    "AlertEvent",
    "CheckResult",
    "check_alerts",
    "list_alerts",
    "close_alert",
    "parse_alert_ref",
]

_Key = tuple[str, int | None]  # (kind, promise id)


@dataclass(frozen=True)
class AlertEvent:
    """What one check did to one alert, and how its delivery went.

    ``event`` is opened, updated or closed; ``news`` says whether it was to be delivered
    (an update is news only when the rise has doubled since the last delivery; a retry of
    a failed delivery is news again).
    """

    alert: AlertView
    event: str
    news: bool
    deliveries: tuple[DeliveryView, ...] = ()

    @property
    def delivered(self) -> bool:
        """Whether some channel took it."""
        return any(d.status == "sent" for d in self.deliveries)


@dataclass(frozen=True)
class CheckResult:
    """One ``klopt alerts check``."""

    now: datetime
    promises: int
    events: tuple[AlertEvent, ...]
    open: int
    channels: tuple[str, ...]

    @property
    def failed(self) -> bool:
        """Whether a delivery failed (it is tried again at the next check)."""
        return any(d.status == "failed" for e in self.events for d in e.deliveries)


@dataclass(frozen=True)
class _Window:
    """The windows of one check."""

    now: datetime
    split: datetime  # start of the recent window of the broken test
    start: datetime  # start of its baseline
    volume_split: datetime
    volume_start: datetime

    @classmethod
    def at(cls, now: datetime, params: AlertParams) -> _Window:
        split = now - timedelta(hours=params.window)
        volume_split = now - timedelta(hours=params.volume_window)
        baseline = timedelta(hours=params.baseline_hours)
        return cls(now, split, split - baseline, volume_split, volume_split - baseline)


# --- check ---------------------------------------------------------------------------------


def check_alerts(
    store: Store,
    org_ref: str | None,
    *,
    now: datetime,
    params: AlertParams,
    channels: Channels,
    actor: str,
    evidence: int | None = None,
    environ: Mapping[str, str] | None = None,
    transport: httpx.BaseTransport | None = None,
) -> CheckResult:
    """Detect rises at ``now``, open / update / close alerts, deliver what is news."""
    top = evidence if evidence is not None else evidence_count(environ)
    window = _Window.at(now, params)
    for attempt in range(2):
        try:
            with store.session() as session:
                org = find_organization(session, org_ref)
                authorize(session, org.id, actor, "alerts.check")
                lang = channels.lang or org.language
                promises = _promises(session, org.id)
                changes = _check(session, org, promises, window, params, top, actor)
                news = {alert_id for alert_id, _, notify in changes if notify}
                retries = _failed_deliveries(session, org.id, exclude=news)
            break
        except IntegrityError:
            # Another check opened the same alert in the meantime (the database allows one
            # open alert per promise and kind): check again, which now updates it.
            if attempt:
                raise
    retried = {alert_id for alert_id, _ in retries}
    outbox = [(alert_id, event) for alert_id, event, notify in changes if notify]
    sent = _deliver(store, outbox + retries, channels, lang, now, environ, transport)
    with store.session() as session:
        org = find_organization(session, org_ref)
        events = []
        # A quiet update of an alert whose last delivery failed is shown as that retry.
        done = [c for c in changes if c[0] not in retried]
        for alert_id, event, notify in [*done, *((a, e, True) for a, e in retries)]:
            alert = _view(session, org, session.get_one(Alert, alert_id))
            outcomes = tuple(sent.get((alert_id, event), ()))
            events.append(AlertEvent(alert, event, notify, outcomes))
        still_open = session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.organization_id == org.id, Alert.state == "open")
        )
    return CheckResult(now, len(promises), tuple(events), int(still_open or 0), channels.names)


def _promises(session: Session, org_id: int) -> dict[int, Promise]:
    """The approved promises, and any other with an alert still watched."""
    watched = select(Alert.promise_id).where(
        Alert.organization_id == org_id, or_(Alert.state == "open", Alert.settled.is_(False))
    )
    rows = session.scalars(
        select(Promise).where(
            Promise.organization_id == org_id,
            or_(Promise.status == "approved", Promise.id.in_(watched)),
        )
    )
    return {p.id: p for p in rows}


def _check(
    session: Session,
    org: Organization,
    promises: Mapping[int, Promise],
    window: _Window,
    params: AlertParams,
    top: int,
    actor: str,
) -> list[tuple[int, str, bool]]:
    """Test, and open / update / close alerts in the session; (alert id, event, notify)."""
    watched = _watched(session, org.id)
    watches = {key: _watch(alert) for key, alert in watched.items()}
    posts = _posts(session, org.id, window)
    broken = _broken(session, org.id, window, posts)
    changes: list[tuple[int, str, bool]] = []
    for family in _families(session, org.id, promises, window, params, posts, broken, watches):
        decisions = decide(family, {k: w for k, w in watches.items() if k in family}, params)
        for key, decision in decisions.items():
            evidence = _evidence(key, posts, broken, window, top)
            change = _apply(session, org.id, key, decision, watched.get(key), window, evidence)
            if change is not None:
                changes.append(change)
    _audit(session, org.id, promises, changes, actor)
    return changes


def _families(
    session: Session,
    org_id: int,
    promises: Mapping[int, Promise],
    window: _Window,
    params: AlertParams,
    posts: Mapping[int, _Post],
    broken: Mapping[int, list[tuple[int, bool]]],
    watches: Mapping[_Key, Watch],
) -> tuple[dict[_Key, RateTest], dict[_Key, RateTest]]:
    """The tests of one check: the promises (one family, adjusted together), the volume.

    With less than ``min_baseline_days`` of history only watched alerts are tested (they
    have their frozen baseline).
    """
    first = session.scalar(
        select(func.min(Post.posted_at)).where(
            Post.organization_id == org_id, Post.kind == "mention"
        )
    )
    judged = [p for p in posts.values() if p.judged and p.at >= window.start]
    mentions = sum(1 for p in judged if p.at >= window.split), len(judged)
    enough = _enough(first, window.split, params)
    tests: dict[_Key, RateTest] = {
        ("broken", pid): rate_test(
            _broken_counts(pid, posts, broken, window, mentions), params.swing
        )
        for pid in promises
        if enough or ("broken", pid) in watches
    }
    volume: dict[_Key, RateTest] = {}
    key: _Key = ("volume", None)
    if first is not None and (_enough(first, window.volume_split, params) or key in watches):
        volume[key] = rate_test(_volume_counts(posts, window, first), params.swing)
    return tests, volume


def _audit(
    session: Session,
    org_id: int,
    promises: Mapping[int, Promise],
    changes: list[tuple[int, str, bool]],
    actor: str,
) -> None:
    """Openings and closings go into the audit trail (updates are on the alert itself)."""
    for alert_id, event, _ in changes:
        if event not in ("opened", "closed"):
            continue
        alert = session.get_one(Alert, alert_id)
        audit.record(
            session,
            organization_id=org_id,
            actor=actor,
            action="alert.open" if event == "opened" else "alert.close",
            subject_type="alert",
            subject_id=alert_id,
            kind=alert.kind,
            promise=promises[alert.promise_id].key if alert.promise_id else None,
            ratio=round(alert.ratio, 4),
            q_value=alert.q_value,
        )


def _enough(first: datetime | None, split: datetime, params: AlertParams) -> bool:
    """Whether there are at least ``min_baseline_days`` of mentions before ``split``."""
    return first is not None and split - first >= timedelta(hours=params.min_baseline_hours)


@dataclass(frozen=True)
class _Post:
    id: int
    at: datetime
    judged: bool
    reach: int


def _posts(session: Session, org_id: int, window: _Window) -> dict[int, _Post]:
    """Every mention of both tests' windows: time, judged or not, reach."""
    judged = exists().where(Judgement.post_id == Post.id)
    rows = session.execute(
        select(Post.id, Post.posted_at, judged, Post.reach).where(
            Post.organization_id == org_id,
            Post.kind == "mention",
            Post.posted_at >= min(window.start, window.volume_start),
            Post.posted_at < window.now,
        )
    ).tuples()
    return {pid: _Post(pid, at, bool(j), reach or 0) for pid, at, j, reach in rows if at}


def _broken(
    session: Session, org_id: int, window: _Window, posts: Mapping[int, _Post]
) -> dict[int, list[tuple[int, bool]]]:
    """Per promise, its broken mentions in the broken test's windows: (post id, by a person)."""
    found: dict[int, list[tuple[int, bool]]] = {}
    stances = current_stances(session, org_id, window.start, window.now)
    for (post_id, promise_id), (stance, by_person) in stances.items():
        if stance == "broken" and post_id in posts:
            found.setdefault(promise_id, []).append((post_id, by_person))
    return found


def _broken_counts(
    promise_id: int,
    posts: Mapping[int, _Post],
    broken: Mapping[int, list[tuple[int, bool]]],
    window: _Window,
    mentions: tuple[int, int],
) -> Counts:
    """Broken mentions of one promise and judged mentions (recent, all) in the windows."""
    recent = sum(1 for pid, _ in broken.get(promise_id, ()) if posts[pid].at >= window.split)
    total = len(broken.get(promise_id, ()))
    return Counts(recent, float(mentions[0]), total - recent, float(mentions[1] - mentions[0]))


def _volume_counts(posts: Mapping[int, _Post], window: _Window, first: datetime) -> Counts:
    """Mentions of the last day against the baseline days' rate per hour (since the first
    mention: no data before it is no evidence of quiet)."""
    recent = sum(1 for p in posts.values() if p.at >= window.volume_split)
    baseline = sum(1 for p in posts.values() if window.volume_start <= p.at < window.volume_split)
    since = max(window.volume_start, first)
    hours = max(0.0, (window.volume_split - since).total_seconds() / 3600)
    return Counts(
        recent, (window.now - window.volume_split).total_seconds() / 3600, baseline, hours
    )


def _watched(session: Session, org_id: int) -> dict[_Key, Alert]:
    """The alerts still watched: open, or closed by a person and not back at baseline."""
    rows = session.scalars(
        select(Alert)
        .where(
            Alert.organization_id == org_id, or_(Alert.state == "open", Alert.settled.is_(False))
        )
        .order_by(Alert.id)
    )
    return {(a.kind, a.promise_id): a for a in rows}


def _watch(alert: Alert) -> Watch:
    return Watch(
        alert.baseline_count, alert.baseline_exposure, alert.notified_count, alert.state == "open"
    )


def _evidence(
    key: _Key,
    posts: Mapping[int, _Post],
    broken: Mapping[int, list[tuple[int, bool]]],
    window: _Window,
    top: int,
) -> list[int]:
    """The most telling mentions of the recent window: confirmed by a person first, then by
    reach, then newest."""
    kind, promise_id = key
    if kind == "broken":
        pool = [
            (by_person, posts[pid])
            for pid, by_person in broken.get(promise_id or 0, ())
            if posts[pid].at >= window.split
        ]
    else:
        pool = [(False, p) for p in posts.values() if p.at >= window.volume_split]
    pool.sort(key=lambda item: (item[0], item[1].reach, item[1].at, item[1].id), reverse=True)
    return [p.id for _, p in pool[:top]]


def _apply(
    session: Session,
    org_id: int,
    key: _Key,
    decision: Decision,
    alert: Alert | None,
    window: _Window,
    evidence: list[int],
) -> tuple[int, str, bool] | None:
    """Write one decision to the store; (alert id, event, deliver it)."""
    kind, promise_id = key
    test, now = decision.test, window.now
    split, start = (
        (window.split, window.start)
        if kind == "broken"
        else (window.volume_split, window.volume_start)
    )
    if decision.action == "open":
        alert = Alert(
            organization_id=org_id,
            promise_id=promise_id,
            kind=kind,
            state="open",
            opened_at=now,
            baseline_start=start,
            baseline_end=split,
            baseline_count=test.counts.baseline,
            baseline_exposure=test.counts.baseline_exposure,
            checks=0,
            notified_count=test.counts.recent,
            delivery_status="pending",
            deliveries=[],
            settled=False,
            note="",
        )
        session.add(alert)
    assert alert is not None
    if decision.action == "settle":
        alert.settled = True
        return None
    alert.updated_at = now
    alert.window_start, alert.window_end = split, now
    alert.recent_count = test.counts.recent
    alert.recent_exposure = test.counts.recent_exposure
    alert.ratio, alert.p_value, alert.q_value = test.ratio, test.p_value, decision.q_value
    alert.checks = (alert.checks or 0) + 1
    alert.evidence = evidence
    if decision.action == "close":
        alert.state, alert.closed_at, alert.closed_by, alert.settled = "closed", now, "klopt", True
    elif decision.action == "update" and decision.notify:
        alert.notified_count = test.counts.recent
    session.flush()
    event = {"open": "opened", "update": "updated", "close": "closed"}[decision.action]
    if decision.notify:
        alert.delivery_status = "pending"
    return alert.id, event, decision.notify


def _failed_deliveries(session: Session, org_id: int, exclude: set[int]) -> list[tuple[int, str]]:
    """Alerts whose last delivery failed: (id, event) to try again."""
    rows = session.scalars(
        select(Alert).where(Alert.organization_id == org_id, Alert.delivery_status == "failed")
    )
    return [(a.id, a.deliveries[-1]["event"]) for a in rows if a.id not in exclude and a.deliveries]


def _deliver(
    store: Store,
    outbox: Sequence[tuple[int, str]],
    channels: Channels,
    lang: str,
    now: datetime,
    environ: Mapping[str, str] | None,
    transport: httpx.BaseTransport | None,
) -> dict[tuple[int, str], list[DeliveryView]]:
    """Deliver each (alert, event) outside any transaction, then store the outcomes."""
    if not outbox:
        return {}
    with store.session() as session:
        views = {}
        for alert_id, event in outbox:
            alert = session.get_one(Alert, alert_id)
            org = session.get_one(Organization, alert.organization_id)
            only = _failed_channels(alert) if alert.delivery_status == "failed" else None
            views[(alert_id, event)] = (_view(session, org, alert), only)
    results = {
        key: deliver(
            view, key[1], channels, lang, now=now, only=only, environ=environ, transport=transport
        )
        for key, (view, only) in views.items()
    }
    with store.session() as session:
        for (alert_id, _), outcomes in results.items():
            alert = session.get_one(Alert, alert_id)
            alert.deliveries = [*alert.deliveries, *(d.as_dict() for d in outcomes)]
            if not outcomes:
                alert.delivery_status = "none"
            elif any(d.status == "failed" for d in outcomes):
                alert.delivery_status = "failed"
            else:
                alert.delivery_status = "sent"
    return results


def _failed_channels(alert: Alert) -> tuple[str, ...]:
    """The channels whose last attempt for the alert's last event failed."""
    last = alert.deliveries[-1]["event"] if alert.deliveries else None
    latest: dict[str, str] = {}
    for d in alert.deliveries:
        if d["event"] == last:
            latest[d["channel"]] = d["status"]
    return tuple(channel for channel, status in latest.items() if status == "failed")


# --- views, list, close -----------------------------------------------------------------


def _view(session: Session, org: Organization, alert: Alert) -> AlertView:
    promise = session.get(Promise, alert.promise_id) if alert.promise_id else None
    posts = (
        {p.id: p for p in session.scalars(select(Post).where(Post.id.in_(alert.evidence)))}
        if alert.evidence
        else {}
    )
    evidence = tuple(
        EvidenceView(p.external_id, p.platform, p.author, p.url, p.posted_at, p.reach, p.text)
        for pid in alert.evidence
        if (p := posts.get(pid)) is not None
    )
    return AlertView(
        id=alert.id,
        organization=org.name,
        organization_slug=org.slug,
        kind=alert.kind,
        promise=promise.key if promise else None,
        statement=promise.statement if promise else None,
        state=alert.state,
        opened_at=alert.opened_at,
        updated_at=alert.updated_at,
        closed_at=alert.closed_at,
        closed_by=alert.closed_by,
        window_start=alert.window_start,
        window_end=alert.window_end,
        baseline_start=alert.baseline_start,
        baseline_end=alert.baseline_end,
        recent_count=alert.recent_count,
        recent_exposure=alert.recent_exposure,
        baseline_count=alert.baseline_count,
        baseline_exposure=alert.baseline_exposure,
        ratio=alert.ratio,
        p_value=alert.p_value,
        q_value=alert.q_value,
        checks=alert.checks,
        evidence=evidence,
        delivery_status=alert.delivery_status,
        deliveries=tuple(DeliveryView.from_dict(d) for d in alert.deliveries),
        note=alert.note,
    )


def list_alerts(store: Store, org_ref: str | None, *, open_only: bool = False) -> list[AlertView]:
    """The organisation's alerts, newest first (only the open ones with ``open_only``)."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = select(Alert).where(Alert.organization_id == org.id)
        if open_only:
            query = query.where(Alert.state == "open")
        return [
            _view(session, org, a)
            for a in session.scalars(query.order_by(Alert.opened_at.desc(), Alert.id.desc()))
        ]


def parse_alert_ref(ref: str) -> int:
    """``A3`` or ``3`` -> 3."""
    match = re.fullmatch(r"\s*[aA]?(\d{1,9})\s*", ref)
    if match is None or int(match.group(1)) < 1:
        raise InputError.keyed("alerts.bad_ref", ref=ref)
    return int(match.group(1))


def close_alert(
    store: Store, org_ref: str | None, ref: str, *, actor: str, now: datetime, note: str = ""
) -> AlertView:
    """A person closes an alert: seen, dealt with.

    No new alert opens for the same promise until a check finds its rate back at the
    baseline (so closing is not undone by the next check while the rise goes on).
    """
    alert_id = parse_alert_ref(ref)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "alerts.close")
        alert = session.get(Alert, alert_id)
        if alert is None or alert.organization_id != org.id:
            raise NotFound.keyed("alerts.unknown", ref=ref)
        if alert.state == "closed":
            raise InputError.keyed("alerts.already_closed", ref=alert_ref(alert_id))
        alert.state, alert.closed_at, alert.closed_by = "closed", now, actor
        alert.settled, alert.note = False, note
        audit.record(
            session,
            organization_id=org.id,
            actor=actor,
            action="alert.close",
            subject_type="alert",
            subject_id=alert_id,
            note=note,
        )
        session.flush()
        return _view(session, org, alert)
