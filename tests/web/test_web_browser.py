"""The journeys people make, in a real headless Chromium against a real server, and
axe-core on every main page.

Journeys (each in its own browser, as the people who make them):
- a draft written until its finding shows, submitted, refused for its own author,
  approved by another user, published;
- a verdict corrected in the inbox, and the dashboard number changing;
- a report downloaded;
- a source added and synced from a local test server.
(The register's journey, a proposal approved in place, is in test_web_register.py.)
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from live import axe_violations, chromium_browser, needs_chromium, serving, sign_in, watch
from pytest_httpserver import HTTPServer
from web_helpers import password

from klopt.store import Store

pytestmark = [needs_chromium, pytest.mark.slow]

MAIN_PAGES = (
    "/dashboard", "/inbox", "/register", "/register/promises/P1", "/register/documents",
    "/drafts", "/drafts/new", "/drafts/D1", "/calendar", "/report", "/jobs", "/account",
    "/account/tokens", "/admin", "/admin/members", "/admin/sources", "/admin/rules",
    "/admin/audit",
)  # fmt: skip


@pytest.fixture(autouse=True)
def _fast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


def test_every_main_page_passes_axe_in_both_languages_without_csp_errors(
    sqlite_app: Any, sqlite_web_store: Store
) -> None:
    from klopt.editorial.drafts import create_draft

    create_draft(sqlite_web_store, "Voorbeeld BV", "Binnen 12 uur in huis!", actor="bob")
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        for locale, title in (("nl-NL", "Aanmelden"), ("en-GB", "Sign in")):
            page = chromium.new_page(locale=locale)
            problems = watch(page)
            page.goto(f"{base}/sign-in")
            assert page.locator("h1").inner_text() == title
            assert axe_violations(page) == []
            sign_in(page, base, "anna", password("anna"))
            for path in MAIN_PAGES:
                response = page.goto(base + path)
                assert response is not None and response.status == 200, path
                assert page.locator("h1").count() == 1, path
                assert axe_violations(page) == [], (locale, path)
            assert problems == [], locale
            page.close()


def test_a_draft_from_first_words_to_published(sqlite_app: Any) -> None:
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        anna = chromium.new_page(locale="nl-NL")
        problems = watch(anna)
        sign_in(anna, base, "anna", password("anna"))
        anna.goto(f"{base}/drafts/new")
        editor = anna.locator("#draft-text")
        editor.press_sequentially("Vandaag besteld, ", delay=10)
        anna.wait_for_timeout(500)
        editor.press_sequentially("binnen 12 uur in huis!", delay=10)
        # the check runs as she types: the finding shows on its words
        anna.wait_for_selector("#check-result mark", timeout=15_000)
        assert "12 uur" in anna.locator("#check-result mark").first.inner_text() or (
            "12 uur" in anna.locator("#check-result").inner_text()
        )
        anna.locator("#draft-form button[type=submit]").click()
        anna.wait_for_url(re.compile(r"/drafts/D1"))
        anna.locator("form[action='/drafts/D1/submit'] button").click()
        anna.wait_for_load_state("networkidle")
        # four eyes: the author may not approve her own draft (anna is an admin)
        approve = anna.locator("form[action='/drafts/D1/approve'] button[type=submit]")
        if approve.count():
            anna.locator("#approve-override").check()
            anna.locator("#approve-note").fill("Eigen werk")
            approve.click()
            anna.wait_for_load_state("networkidle")
            assert "zelf" in anna.content() or "eigen" in anna.content().lower()
        refused = anna.request.post(
            f"{base}/drafts/D1/approve",
            form={"csrf": _csrf(anna), "version": "1", "override": "true", "note": "x"},
            max_redirects=0,
        )
        assert refused.status == 403
        assert problems == []

        carla = chromium.new_page(locale="nl-NL")
        sign_in(carla, base, "carla", password("carla"))
        carla.goto(f"{base}/drafts/D1")
        carla.locator("#approve-override").check()  # the 12 hours contradict the register
        carla.locator("#approve-note").fill("Akkoord, actie van 1 dag.")
        carla.locator("form[action='/drafts/D1/approve'] button[type=submit]").click()
        carla.wait_for_load_state("networkidle")
        assert "goedgekeurd" in carla.locator("main").inner_text().lower()

        anna.goto(f"{base}/drafts/D1")
        anna.locator("#publish-url").fill("https://x.com/voorbeeldbv/status/99")
        anna.locator("#publish-platform").select_option("x")
        anna.locator("form[action='/drafts/D1/publish'] button[type=submit]").click()
        anna.wait_for_load_state("networkidle")
        text = anna.locator("main").inner_text().lower()
        assert "gepubliceerd" in text and "x.com/voorbeeldbv/status/99" in anna.content()


def _csrf(page: Any) -> str:
    return str(page.locator('meta[name="csrf-token"]').get_attribute("content"))


def test_a_correction_in_the_inbox_changes_the_dashboard_number(sqlite_app: Any) -> None:
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        page = chromium.new_page(locale="en-GB")
        problems = watch(page)
        sign_in(page, base, "carla", password("carla"))
        page.goto(f"{base}/dashboard")
        broken = page.locator("#promise-P1 td a.broken").first
        before = int(broken.inner_text())
        assert before > 0
        broken.click()  # the number opens the mentions behind it
        page.wait_for_url(re.compile(r"/inbox\?.*promise=P1.*stance=broken"))
        verdict = page.locator(".inbox-verdict[data-promise='P1']").first
        with page.expect_response(re.compile(r"/inbox/\d+/correct")):
            verdict.locator("button[data-stance='kept']").click()
        page.goto(f"{base}/dashboard")
        after = int(page.locator("#promise-P1 td a.broken").first.inner_text())
        kept = page.locator("#promise-P1 td a.kept").first.inner_text()
        assert after == before - 1
        assert int(kept) >= 1
        assert problems == []


def test_the_board_report_downloads(sqlite_app: Any) -> None:
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        page = chromium.new_page(locale="nl-NL", accept_downloads=True)
        sign_in(page, base, "vera", password("vera"))  # a viewer may read the report
        page.goto(f"{base}/report")
        page.locator("#report-period").fill("2026-Q3")
        page.locator("#report-lang").select_option("nl")
        page.locator("#report-format-html").check()
        with page.expect_download() as download:
            page.locator("form[action='/report/download'] button[type=submit]").click()
        saved = download.value
        assert saved.suggested_filename.endswith(".html")
        html = Path(saved.path()).read_text(encoding="utf-8")
        assert "Voorbeeld BV" in html and "2026" in html


FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Nieuws</title><link>http://example.org/</link>
<description>x</description>
<item><title>Pakket</title><link>http://example.org/1</link><guid>n-1</guid>
<description>Mijn pakket van Voorbeeld BV kwam pas na vijf dagen.</description>
<pubDate>Tue, 01 Dec 2026 10:00:00 +0000</pubDate></item>
<item><title>Retour</title><link>http://example.org/2</link><guid>n-2</guid>
<description>Gratis retour bij Voorbeeld BV ging prima.</description>
<pubDate>Wed, 02 Dec 2026 10:00:00 +0000</pubDate></item>
</channel></rss>"""


def test_a_source_added_and_synced_from_a_local_server(
    sqlite_app: Any, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed.xml").respond_with_data(
        FEED, content_type="application/rss+xml"
    )
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        page = chromium.new_page(locale="en-GB")
        problems = watch(page)
        sign_in(page, base, "anna", password("anna"))
        page.goto(f"{base}/admin/sources")
        page.locator("details").filter(has=page.locator("#rss-name")).locator("summary").click()
        form = page.locator("form[action='/admin/sources/add']").filter(
            has=page.locator("input[name=kind][value=rss]")
        )
        form.locator("#rss-name").fill("nieuws")
        form.locator("#rss-url").fill(httpserver.url_for("/feed.xml"))
        form.locator("button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert "nieuws" in page.locator("main").inner_text()
        page.locator("form[action='/admin/sources/sync']").filter(
            has=page.locator("input[value=nieuws]")
        ).locator("button").click()
        page.wait_for_load_state("networkidle")
        assert re.search(r"\b2\b", page.locator("main").inner_text())
        page.goto(f"{base}/inbox?order=newest")
        assert "kwam pas na vijf dagen" in page.locator("main").inner_text()
        assert problems == []
