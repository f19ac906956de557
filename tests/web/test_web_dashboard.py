"""The dashboard page and the scorecard API.

The dashboard's numbers come from the daily tallies; here they must equal the full
scorecard's (``build_scorecard`` over the verdict tables) for the same period, before and
after people correct verdicts, and every number must link to the mentions behind it. The
API must answer exactly what ``klopt scorecard --json`` prints.
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import parse_qs, urlsplit

import lxml.html
import pytest
from click.testing import CliRunner
from sqlalchemy import select
from web_helpers import ORG, sign_in

from klopt.cli.app import cli
from klopt.insight.dashboard import build_dashboard, fast_scorecard
from klopt.insight.periods import custom_period, parse_period
from klopt.insight.scorecard import Filters, Scorecard, build_scorecard
from klopt.insight.scorecard_json import scorecard_json
from klopt.judging.verdicts import correct, current_stances
from klopt.store import Store
from klopt.store.models import Alert, Organization, Promise

NOW = datetime(2027, 1, 15, tzinfo=UTC)


def _plain(card: Scorecard) -> dict[str, Any]:
    """The scorecard's JSON without the lists of post ids (the tallies keep no ids)."""

    def strip(value: Any) -> Any:
        if isinstance(value, dict):
            return {k: strip(v) for k, v in value.items() if k != "posts"}
        if isinstance(value, list):
            return [strip(v) for v in value]
        return value

    return strip(scorecard_json(card))  # type: ignore[no-any-return]


def _fast_equals_full(store: Store, period: str, platforms: tuple[str, ...] = ()) -> None:
    chosen = parse_period(period) if period[0].isdigit() and ".." not in period else None
    if chosen is None:
        since, until = period.split("..")
        chosen = custom_period(
            datetime.fromisoformat(since).replace(tzinfo=UTC),
            datetime.fromisoformat(until).replace(tzinfo=UTC),
        )
    fast = fast_scorecard(store, ORG, period=chosen, platforms=platforms, now=NOW)
    assert fast is not None
    full = build_scorecard(store, ORG, period=chosen, filters=Filters(platforms=platforms), now=NOW)
    assert _plain(fast) == _plain(full)


def test_the_fast_scorecard_equals_the_full_one_before_and_after_corrections(
    web_store: Store,
) -> None:
    for period in ("2026-Q3", "2026-Q4", "2026-08", "2026", "2026-W40", "2026-07-15..2026-09-02"):
        _fast_equals_full(web_store, period)
    _fast_equals_full(web_store, "2026-Q3", ("x",))
    _fast_equals_full(web_store, "2026-Q3", ("x", "trustpilot"))
    with web_store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        pairs = sorted(current_stances(session, org_id, datetime(2026, 7, 1, tzinfo=UTC)).items())
        keys = dict(session.execute(select(Promise.id, Promise.key)).tuples().all())
    flips = {"kept": "broken", "broken": "neutral", "neutral": "none"}
    for (post_id, promise_id), (stance, _) in pairs[:12]:
        correct(
            web_store, ORG, post_ref=f"#{post_id}", promise_key=keys[promise_id],
            stance=flips[stance], actor="carla",
        )  # fmt: skip
    # and a pair the engine never linked
    correct(web_store, ORG, post_ref=f"#{pairs[0][0][0]}", promise_key="P12", stance="broken",
            actor="carla")  # fmt: skip
    for period in ("2026-Q3", "2026-Q4", "2026"):
        _fast_equals_full(web_store, period)


def test_a_period_that_does_not_start_at_midnight_is_counted_by_the_full_scorecard(
    sqlite_web_store: Store,
) -> None:
    odd = custom_period(datetime(2026, 7, 1, 12, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC))
    assert fast_scorecard(sqlite_web_store, ORG, period=odd) is None
    board = build_dashboard(sqlite_web_store, ORG, period=odd, now=NOW)
    assert not board.fast
    full = build_scorecard(sqlite_web_store, ORG, period=odd, now=NOW)
    assert [r.mentions for r in board.card.rows] == [r.mentions for r in full.rows]


def test_a_read_only_store_without_tallies_gets_the_full_scorecard(
    sqlite_web_store: Store,
) -> None:
    from klopt.store import open_store
    from klopt.store.models import StanceDay, StanceDayState

    with sqlite_web_store.session() as session:
        session.query(StanceDay).delete()
        session.query(StanceDayState).delete()
    path = sqlite_web_store.engine.url.database
    read_only = open_store(f"sqlite:///file:{path}?mode=ro&uri=true")
    try:
        board = build_dashboard(read_only, ORG, period=parse_period("2026-Q3"), now=NOW)
        assert not board.fast
        full = build_scorecard(sqlite_web_store, ORG, period=parse_period("2026-Q3"), now=NOW)
        assert _plain(board.card) == _plain(full)
        assert board.last_day is not None and board.last_day.isoformat() == "2026-10-31"
        assert "x" in board.platforms
    finally:
        read_only.close()
    assert build_dashboard(sqlite_web_store, ORG, now=NOW).fast  # a writer builds them


def _page(client: Any, url: str, status: int = 200) -> Any:
    answer = client.get(url)
    assert answer.status_code == status, answer.text[:2000]
    assert " style=" not in answer.text and "<script>" not in answer.text  # the CSP's rules
    return lxml.html.fromstring(answer.text)


def _rows(doc: Any) -> dict[str, dict[str, Any]]:
    """Per promise row of the table: the linked numbers and their links."""
    found = {}
    for row in doc.xpath("//table[caption]/tbody/tr"):
        key = row.get("id").removeprefix("promise-")
        cells = row.xpath("./td")
        links = [cells[i].xpath(".//a")[0] for i in range(4)]
        found[key] = {
            "numbers": [int(a.text_content().replace(",", "").replace(".", "")) for a in links],
            "links": [a.get("href") for a in links],
            "text": " ".join(row.text_content().split()),
        }
    return found


def _query(link: str) -> dict[str, list[str]]:
    parts = urlsplit(link)
    assert parts.path == "/inbox"
    return parse_qs(parts.query)


def test_the_dashboard_shows_the_latest_quarter_worst_first_with_links(
    sqlite_web_store: Store,
) -> None:
    from klopt.web.app import create_app

    carla = sign_in(create_app(sqlite_web_store), "carla")
    doc = _page(carla, "/dashboard")
    assert doc.xpath("//h1")[0].text_content() == "Voorbeeld BV: promises in 2026-Q4"
    assert len(doc.xpath("//h1")) == 1
    full = build_scorecard(sqlite_web_store, ORG, period=parse_period("2026-Q4"))
    rows = _rows(doc)
    assert list(rows) == [
        r.key for r in sorted(full.rows, key=lambda r: (-r.risk.value, -r.broken.share))
    ]
    for r in full.rows:
        shown = rows[r.key]
        assert shown["numbers"] == [r.mentions, r.kept.count, r.broken.count, r.neutral.count]
        for link, stance in zip(shown["links"], [None, "kept", "broken", "neutral"], strict=True):
            query = _query(link)
            assert query["promise"] == [r.key]
            assert query.get("stance") == ([stance] if stance else None)
            assert (query["since"], query["until"]) == (["2026-10-01"], ["2027-01-01"])
    worst = rows[next(iter(rows))]
    assert "%" in worst["text"]
    headline = " ".join(doc.xpath("//section[@aria-labelledby='headline-heading']")[0]
                        .text_content().split())  # fmt: skip
    assert f"Mentions in 2026-Q4: {full.mentions}" in headline
    broken_more = [r.key for r in full.rows if r.broken.count > r.kept.count]
    assert f"{len(broken_more)} of {len(full.rows)} promises are called broken more" in headline
    assert full.gap.value is not None
    assert f"Say–do gap: {full.gap.value * 100:.0f}%" in headline
    # the period selector offers the quarters and months with mentions
    options = doc.xpath("//select[@id='dash-period']//option/@value")
    assert options[:4] == ["", "2026-Q4", "2026-Q3", "2026-Q2"]
    assert "2026-06" in options and "2026-11" not in options


def test_the_period_selector_months_custom_dates_and_platforms(sqlite_web_store: Store) -> None:
    from klopt.web.app import create_app

    carla = sign_in(create_app(sqlite_web_store), "carla")
    quarter = _rows(_page(carla, "/dashboard?period=2026-Q3&sort=register"))
    assert list(quarter)[:3] == ["P1", "P2", "P3"]
    full = build_scorecard(sqlite_web_store, ORG, period=parse_period("2026-Q3"))
    assert [quarter[r.key]["numbers"][0] for r in full.rows] == [r.mentions for r in full.rows]
    custom = _page(carla, "/dashboard?since=2026-07-01&until=2026-10-01&sort=register")
    assert custom.xpath("//h1")[0].text_content().endswith("2026-07-01..2026-10-01")
    assert custom.xpath("//input[@id='dash-since']/@value") == ["2026-07-01"]
    assert {k: v["numbers"] for k, v in _rows(custom).items()} == {
        k: v["numbers"] for k, v in quarter.items()
    }
    month = _rows(_page(carla, "/dashboard?period=2026-08"))
    august = build_scorecard(sqlite_web_store, ORG, period=parse_period("2026-08"))
    assert sum(v["numbers"][0] for v in month.values()) == sum(r.mentions for r in august.rows)
    only_x = _page(carla, "/dashboard?period=2026-Q3&platform=x")
    x_card = build_scorecard(
        sqlite_web_store, ORG, period=parse_period("2026-Q3"), filters=Filters(platforms=("x",))
    )
    rows = _rows(only_x)
    assert [rows[r.key]["numbers"][0] for r in x_card.rows] == [r.mentions for r in x_card.rows]
    assert all(_query(v["links"][0])["platform"] == ["x"] for v in rows.values())
    assert only_x.xpath("//select[@id='dash-platform']/option[@selected]/@value") == ["x"]


def test_a_correction_shows_on_the_dashboard_at_once(sqlite_web_store: Store) -> None:
    from klopt.web.app import create_app

    carla = sign_in(create_app(sqlite_web_store), "carla")
    before = _rows(_page(carla, "/dashboard?period=2026-Q3"))
    with sqlite_web_store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        p1 = session.scalar(select(Promise.id).where(Promise.key == "P1"))
        kept = sorted(
            post_id
            for (post_id, promise_id), (stance, _) in current_stances(
                session, org_id, datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
            ).items()
            if promise_id == p1 and stance == "kept"
        )
    correct(sqlite_web_store, ORG, post_ref=f"#{kept[0]}", promise_key="P1", stance="broken",
            actor="carla")  # fmt: skip
    after = _rows(_page(carla, "/dashboard?period=2026-Q3"))
    mentions, was_kept, was_broken, neutral = before["P1"]["numbers"]
    assert after["P1"]["numbers"] == [mentions, was_kept - 1, was_broken + 1, neutral]


def test_bad_periods_say_what_is_wrong_and_show_the_default(sqlite_web_store: Store) -> None:
    from klopt.web.app import create_app

    carla = sign_in(create_app(sqlite_web_store), "carla")
    for url, words in [
        ("/dashboard?period=2026-Q9", "'2026-Q9' is not a period"),
        ("/dashboard?period=0001-Q1", "outside the years 1900 to 2999"),
        ("/dashboard?since=2026-10-01&until=2026-07-01", "2026-10-01"),
        ("/dashboard?since=yesterday", "yesterday"),
    ]:
        doc = _page(carla, url, status=422)
        assert words in doc.xpath("//*[@role='alert']")[0].text_content()
        assert doc.xpath("//h1")[0].text_content().endswith("2026-Q4")
    assert carla.get("/dashboard?sort=worst").status_code == 422
    assert carla.get("/dashboard?period=" + "9" * 41).status_code == 422


def test_the_dashboard_in_dutch_and_for_every_role(app: Any, web_store: Store) -> None:
    for name in ("anna", "bob", "carla", "vera"):
        doc = _page(sign_in(app, name, lang="nl"), "/dashboard?period=2026-Q3")
        assert doc.xpath("//h1")[0].text_content() == "Voorbeeld BV: beloften in 2026-Q3"
        assert doc.xpath("//html/@lang") == ["nl"]
    olga = _page(sign_in(app, "olga"), "/dashboard")  # Ander BV: a promise, no mentions
    assert "Ander BV" in olga.xpath("//h1")[0].text_content()
    assert _rows(olga)["P1"]["numbers"] == [0, 0, 0, 0]
    assert "P1" in olga.xpath("//section[@aria-labelledby='map-heading']")[0].text_content()


def test_the_dashboard_needs_a_session(app: Any) -> None:
    from fastapi.testclient import TestClient

    answer = TestClient(app).get("/dashboard?period=2026-Q3", follow_redirects=False)
    assert answer.status_code == 303
    assert answer.headers["location"] == "/sign-in?next=%2Fdashboard%3Fperiod%3D2026-Q3"


def test_the_say_do_map_and_open_alerts(sqlite_web_store: Store) -> None:
    from klopt.web.app import create_app

    with sqlite_web_store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        p2 = session.scalar(select(Promise.id).where(Promise.key == "P2"))
        start = datetime(2026, 10, 20, tzinfo=UTC)
        session.add(
            Alert(
                organization_id=org_id, promise_id=p2, kind="broken", state="open",
                opened_at=start, updated_at=start, window_start=start - timedelta(days=1),
                window_end=start, baseline_start=start - timedelta(days=29),
                baseline_end=start - timedelta(days=1), recent_count=7, recent_exposure=9,
                baseline_count=3, baseline_exposure=60, ratio=15.6, p_value=1e-5, q_value=1e-4,
            )
        )  # fmt: skip
    carla = sign_in(create_app(sqlite_web_store), "carla")
    doc = _page(carla, "/dashboard?period=2026-Q3")
    card = build_scorecard(sqlite_web_store, ORG, period=parse_period("2026-Q3"))
    svg = doc.xpath("//svg[@role='img'][title]")[0]
    labels = svg.xpath("./@aria-labelledby")[0].split()
    assert [doc.get_element_by_id(i).text_content() != "" for i in labels] == [True, True]
    placed = [r for r in card.rows if r.gap.say and r.gap.do is not None]
    assert sorted(svg.xpath(".//circle/following-sibling::text[1]/text()")) == sorted(
        r.key for r in placed
    )
    description = svg.xpath("./desc")[0].text_content()
    first = placed[0]
    assert first.gap.say is not None and first.gap.do is not None
    assert (
        f"{first.key}: {first.gap.say * 100:.0f}% of our own voice, kept according to "
        f"{first.gap.do.share * 100:.0f}% of judging customers." in description
    )
    alerts = doc.xpath("//section[@aria-labelledby='alerts-heading']//tbody/tr")
    assert len(alerts) == 1
    assert "P2" in alerts[0].text_content() and "× 15.6" in alerts[0].text_content()
    query = _query(alerts[0].xpath(".//a/@href")[0])
    assert query == {
        "promise": ["P2"], "stance": ["broken"],
        "since": ["2026-10-19"], "until": ["2026-10-20"],
    }  # fmt: skip
    headline = doc.xpath("//section[@aria-labelledby='headline-heading']")[0].text_content()
    assert "1 open alerts" in headline


# --- the API ------------------------------------------------------------------------------


def _cli_json(store: Store, *args: str) -> Any:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(
        cli, ["--db", url, "--org", ORG, "scorecard", *args, "--json"], catch_exceptions=False
    )
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_api_answers_what_the_cli_prints(api: Any, web_store: Store) -> None:
    bob = api("bob")
    for query, args in [
        ("period=2026-Q3", ["--period", "2026-Q3"]),
        ("period=2026-10&trend=2&platform=x&platform=bluesky",
         ["--period", "2026-10", "--trend", "2", "--platform", "x", "--platform", "bluesky"]),
        ("since=2026-07-01&until=2026-09-15&own=true",
         ["--since", "2026-07-01", "--until", "2026-09-15", "--own"]),
        ("period=2026-Q3&language=nl", ["--period", "2026-Q3", "--lang-filter", "nl"]),
    ]:  # fmt: skip
        answer = bob.get(f"/api/v1/scorecard?{query}")
        assert answer.status_code == 200, answer.text
        assert answer.json() == _cli_json(web_store, *args)
    body = bob.get("/api/v1/scorecard?period=2026-Q3").json()
    assert body["organization"] == ORG and body["period"]["label"] == "2026-Q3"
    assert sum(p["mentions"] for p in body["promises"]) > 0
    assert all(str(i) in body["posts"] for p in body["promises"] for i in p["broken"]["posts"])


def test_the_api_refuses_bad_values_with_json_errors(api: Any, app: Any) -> None:
    from fastapi.testclient import TestClient

    bob = api("bob")
    for query, code, key in [
        ("period=2026-Q5", 422, "scorecard.bad_period"),
        ("period=2026-Q3&since=2026-07-01", 422, "scorecard.period_and_dates"),
        ("since=2026-10-01&until=2026-07-01", 422, "scorecard.empty_period"),
        ("since=soon", 422, "scorecard.bad_date"),
        ("period=0001-Q1", 422, "dashboard.period_range"),
        ("since=1900-01-01&until=2999-12-31&trend=52", 422, "dashboard.period_range"),
        ("trend=53", 422, "request.invalid"),
        ("own=perhaps", 422, "request.invalid"),
        ("period=2026-Q3&source=nowhere", 404, "scorecard.unknown_source"),
    ]:
        answer = bob.get(f"/api/v1/scorecard?{query}")
        assert answer.status_code == code, (query, answer.text)
        error = answer.json()["error"]
        assert error["code"] == key, (query, error)
        assert error["message"]
    dutch = bob.get("/api/v1/scorecard?period=0001-Q1&lang=nl").json()["error"]
    assert dutch["message"].startswith("De periode") and dutch["hint"].startswith("Kies")
    assert TestClient(app).get("/api/v1/scorecard?period=2026-Q3").status_code == 401


def test_the_api_answers_for_the_organisation_of_the_token(api: Any) -> None:
    olga = api("olga").get("/api/v1/scorecard?period=2026-Q3").json()
    assert olga["organization"] == "Ander BV"
    assert [p["id"] for p in olga["promises"]] == ["P1"] and olga["mentions"] == 0


def test_the_dashboard_library_picks_the_latest_quarter_and_orders_worst_first(
    sqlite_web_store: Store,
) -> None:
    board = build_dashboard(sqlite_web_store, ORG, now=NOW)
    assert board.fast and board.card.period == parse_period("2026-Q4")
    assert [r.key for r in board.rows] == [
        r.key for r in sorted(board.card.rows, key=lambda r: (-r.risk.value, -r.broken.share))
    ]
    by_gap = build_dashboard(sqlite_web_store, ORG, sort="gap", now=NOW).rows
    gaps = [r.gap.value for r in by_gap if r.gap.value is not None]
    assert gaps == sorted(gaps, reverse=True) and len(gaps) > 1
    assert [r.key for r in build_dashboard(sqlite_web_store, ORG, sort="register").rows][:3] == [
        "P1", "P2", "P3",
    ]  # fmt: skip
    assert board.platforms == tuple(sorted(board.platforms)) and "x" in board.platforms
    assert board.first_day is not None and board.first_day.isoformat() == "2026-06-01"


# --- in a real browser ----------------------------------------------------------------------


def test_the_dashboard_passes_axe_and_the_csp_in_a_browser(sqlite_app: Any) -> None:
    from live import axe_violations, chromium, chromium_browser, serving, watch
    from live import sign_in as browser_sign_in
    from web_helpers import password

    if chromium() is None:
        pytest.skip("chromium (Debian: chromium) is not installed")
    with serving(sqlite_app) as base, chromium_browser() as browser:
        page = browser.new_page(locale="nl-NL")
        problems = watch(page)
        browser_sign_in(page, base, "carla", password("carla"))
        page.goto(f"{base}/dashboard")
        assert page.locator("h1").inner_text() == "Voorbeeld BV: beloften in 2026-Q4"
        assert axe_violations(page) == []
        page.select_option("#dash-period", "2026-08")
        page.select_option("#dash-sort", "register")
        page.locator("form[action='/dashboard'] button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text() == "Voorbeeld BV: beloften in 2026-08"
        assert page.locator("tbody tr").first.get_attribute("id") == "promise-P1"
        assert axe_violations(page) == []
        assert problems == []
