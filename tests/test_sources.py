"""Sources and syncing: the engine, RSS/Atom feeds and export folders, against the real
store and a local HTTP server (pytest-httpserver) serving recorded payloads.

The platform connectors (Mastodon, Bluesky, Reddit) are in test_connectors.py.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from werkzeug import Request, Response

from helpers import Klopt
from klopt.errors import InputError, SourceExists, UnknownSource
from klopt.listening import ColumnMapping
from klopt.listening.http import Http
from klopt.listening.mentions import import_mentions
from klopt.listening.sync import (
    add_source,
    list_sources,
    remove_source,
    sync_source,
    sync_sources,
    watch,
)
from klopt.store import Store
from klopt.store.models import ImportBatch, Post

PAYLOADS = Path(__file__).parent / "payloads"
FEED = (PAYLOADS / "feed.xml").read_bytes()


class FakeTime:
    """A clock that moves only when klopt sleeps, and a record of every sleep."""

    def __init__(self) -> None:
        self.now = 1_800_000_000.0
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _http(fake: FakeTime | None = None, **kwargs: float) -> Callable[[], Http]:
    fake = fake or FakeTime()
    settings = {"retries": 2, "timeout": 2.0, "max_wait": 120.0, "backoff": 1.0, **kwargs}
    return lambda: Http(
        sleep=fake.sleep,
        clock=fake.clock,
        random=lambda: 0.5,
        retries=int(settings["retries"]),
        timeout=settings["timeout"],
        max_wait=settings["max_wait"],
        backoff=settings["backoff"],
    )


def _posts(store: Store) -> list[Post]:
    with store.session() as session:
        return list(session.scalars(select(Post).order_by(Post.id)))


def _feed(server: HTTPServer, body: bytes = FEED, **headers: str) -> str:
    server.expect_request("/feed").respond_with_data(
        body, content_type="application/rss+xml", headers=headers
    )
    return server.url_for("/feed")


# --- feeds -------------------------------------------------------------------------------


def test_a_feed_brings_in_its_entries_as_mentions(store: Store, httpserver: HTTPServer) -> None:
    add_source(store, None, "fietsnieuws", "rss", {"url": _feed(httpserver)}, actor="anna")
    result = sync_source(store, None, "fietsnieuws", actor="anna", http=_http())
    assert (result.status, result.imported, result.skipped) == ("ok", 2, 1)
    assert result.problems[0].key == "feed_empty_entry"
    first, second = _posts(store)
    assert first.text == (
        "Voorbeeld BV bezorgt voortaan binnen 24 uur\n"
        "De fietsenwinkel belooft levering binnen 24 uur."
    )
    assert first.platform == "feed" and first.kind == "mention"
    assert first.external_id == "https://fietsnieuws.example/?p=101"
    assert first.url == "https://fietsnieuws.example/2026/11/voorbeeld-24-uur"
    assert first.posted_at == datetime(2026, 11, 24, 7, 30, tzinfo=UTC)
    assert second.text.startswith("Klanten klagen over reparatietijden\nDrie weken")
    (info,) = list_sources(store, None)
    assert (info.status, info.items_total, info.last_run_items) == ("ok", 2, 2)
    assert info.last_success_at is not None and info.next_run_at is not None


def test_an_unchanged_feed_is_asked_with_its_etag_and_costs_nothing(
    store: Store, httpserver: HTTPServer
) -> None:
    url = _feed(httpserver, ETag='"v1"', **{"Last-Modified": "Wed, 25 Nov 2026 12:00:00 GMT"})
    add_source(store, None, "nieuws", "rss", {"url": url}, actor="anna")
    sync_source(store, None, "nieuws", actor="anna", http=_http())
    httpserver.clear()
    httpserver.expect_request(
        "/feed",
        headers={"If-None-Match": '"v1"', "If-Modified-Since": "Wed, 25 Nov 2026 12:00:00 GMT"},
    ).respond_with_data("", status=304)
    result = sync_source(store, None, "nieuws", actor="anna", http=_http())
    assert (result.status, result.imported, result.duplicates) == ("ok", 0, 0)
    httpserver.check_assertions()
    assert len(_posts(store)) == 2


def test_a_changed_feed_stores_only_the_new_entries(store: Store, httpserver: HTTPServer) -> None:
    add_source(store, None, "nieuws", "rss", {"url": _feed(httpserver)}, actor="anna")
    sync_source(store, None, "nieuws", actor="anna", http=_http())
    httpserver.clear()
    newer = FEED.replace(
        b"<item>",
        b"<item><title>Nieuw: pechhulp</title><guid>p=104</guid></item><item>",
        1,
    )
    _feed(httpserver, newer)
    result = sync_source(store, None, "nieuws", actor="anna", http=_http())
    assert (result.imported, result.duplicates) == (1, 2)
    assert _posts(store)[-1].text == "Nieuw: pechhulp"


def test_a_web_page_is_not_a_feed_and_its_own_feed_is_named(
    store: Store, httpserver: HTTPServer
) -> None:
    page = (
        b'<!DOCTYPE html><html><head><link rel="alternate" type="application/rss+xml"'
        b' href="/feed.xml"></head><body>Nieuws</body></html>'
    )
    httpserver.expect_request("/nieuws").respond_with_data(page, content_type="text/html")
    add_source(store, None, "site", "rss", {"url": httpserver.url_for("/nieuws")}, actor="anna")
    result = sync_source(store, None, "site", actor="anna", http=_http())
    assert result.status == "error" and result.error is not None
    assert result.error.key == "source.html_with_feed"
    assert f"names its feed: {httpserver.url_for('/feed.xml')}" in str(result.error)
    (info,) = list_sources(store, None)
    assert info.status == "error" and info.last_error is not None
    assert info.last_error.localized("nl").startswith(
        f"{httpserver.url_for('/nieuws')} is een webpagina, geen feed"
    )


def test_garbage_is_not_a_feed(store: Store, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data(b'{"items": []}')
    add_source(store, None, "x", "rss", {"url": httpserver.url_for("/feed")}, actor="anna")
    result = sync_source(store, None, "x", actor="anna", http=_http())
    assert result.error is not None and result.error.key == "source.not_a_feed"


def test_since_leaves_older_entries_out(store: Store, httpserver: HTTPServer) -> None:
    add_source(store, None, "nieuws", "rss", {"url": _feed(httpserver)}, actor="anna")
    since = datetime(2026, 11, 25, tzinfo=UTC)
    result = sync_source(store, None, "nieuws", actor="anna", since=since, http=_http())
    assert [p.external_id for p in _posts(store)] == ["https://fietsnieuws.example/?p=102"]
    assert result.imported == 1


# --- faults ------------------------------------------------------------------------------


def test_a_rate_limit_is_waited_out_and_the_sync_goes_on(
    store: Store, httpserver: HTTPServer
) -> None:
    httpserver.expect_ordered_request("/feed").respond_with_data(
        "slow down", status=429, headers={"Retry-After": "30"}
    )
    httpserver.expect_ordered_request("/feed").respond_with_data(FEED)
    add_source(store, None, "nieuws", "rss", {"url": httpserver.url_for("/feed")}, actor="a")
    fake = FakeTime()
    result = sync_source(store, None, "nieuws", actor="a", http=_http(fake))
    assert (result.status, result.imported) == ("ok", 2)
    assert fake.sleeps == [30.0]


def test_a_long_rate_limit_stops_the_run_and_sets_the_next_one(
    store: Store, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/feed").respond_with_data(
        "", status=429, headers={"Retry-After": "3600"}
    )
    add_source(store, None, "nieuws", "rss", {"url": httpserver.url_for("/feed")}, actor="a")
    fake = FakeTime()
    result = sync_source(store, None, "nieuws", actor="a", http=_http(fake))
    assert result.status == "rate_limited" and fake.sleeps == []
    (info,) = list_sources(store, None)
    assert info.status == "rate_limited" and info.next_run_at is not None
    assert info.last_error is not None and info.last_error.key == "source.rate_limited"
    expected = datetime.fromtimestamp(fake.now + 3600, UTC)
    assert info.last_error.values["until"] == expected.isoformat()


def test_a_server_error_is_retried_with_backoff(store: Store, httpserver: HTTPServer) -> None:
    httpserver.expect_ordered_request("/feed").respond_with_data("oops", status=502)
    httpserver.expect_ordered_request("/feed").respond_with_data(FEED)
    add_source(store, None, "nieuws", "rss", {"url": httpserver.url_for("/feed")}, actor="a")
    fake = FakeTime()
    result = sync_source(store, None, "nieuws", actor="a", http=_http(fake, backoff=2.0))
    assert (result.status, result.imported) == ("ok", 2)
    assert fake.sleeps == [1.0]  # full jitter: random 0.5 x 2 s


def test_a_server_that_keeps_failing_is_an_error_and_the_others_still_run(
    store: Store, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/kapot").respond_with_data("oops", status=500)
    _feed(httpserver)
    add_source(store, None, "a-kapot", "rss", {"url": httpserver.url_for("/kapot")}, actor="a")
    add_source(store, None, "b-goed", "rss", {"url": httpserver.url_for("/feed")}, actor="a")
    results = sync_sources(store, None, actor="a", http=_http())
    assert [(r.source, r.status) for r in results] == [("a-kapot", "error"), ("b-goed", "ok")]
    assert results[0].error is not None and results[0].error.key == "source.server_error"
    assert len(_posts(store)) == 2


def test_a_source_that_does_not_answer_in_time_is_unreachable(store: Store) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response(FEED)

    # A server of its own: its late answers must not reach the next test's server.
    with HTTPServer(threaded=True) as server:
        server.expect_request("/feed").respond_with_handler(slow)
        add_source(store, None, "traag", "rss", {"url": server.url_for("/feed")}, actor="a")
        fake = FakeTime()
        result = sync_source(
            store, None, "traag", actor="a", http=_http(fake, timeout=0.1, retries=1)
        )
    assert result.error is not None and result.error.key == "source.unreachable"
    assert "ReadTimeout" in str(result.error)
    assert fake.sleeps == [0.5]  # one retry after a back-off


def test_refused_credentials_are_said_and_not_retried(store: Store, httpserver: HTTPServer) -> None:
    httpserver.expect_request("/feed").respond_with_data("no", status=401)
    add_source(store, None, "prive", "rss", {"url": httpserver.url_for("/feed")}, actor="a")
    fake = FakeTime()
    result = sync_source(store, None, "prive", actor="a", http=_http(fake))
    assert result.error is not None and result.error.key == "source.credentials"
    assert fake.sleeps == [] and [r.status_code for _, r in httpserver.log] == [401]


# --- managing sources --------------------------------------------------------------------


def test_bad_settings_and_names_are_refused(store: Store) -> None:
    with pytest.raises(InputError) as caught:
        add_source(store, None, "x", "rss", {}, actor="a")
    assert caught.value.key == "source.missing_setting"
    with pytest.raises(InputError) as caught:
        add_source(store, None, "x", "rss", {"url": "ftp://feeds.example"}, actor="a")
    assert caught.value.key == "source.bad_url"
    with pytest.raises(InputError) as caught:
        add_source(store, None, "met spatie", "rss", {"url": "https://a.example"}, actor="a")
    assert caught.value.key == "source.bad_name"
    with pytest.raises(InputError) as caught:
        add_source(store, None, "x", "myspace", {}, actor="a")
    assert caught.value.key == "source.unknown_kind" and "rss" in str(caught.value)
    assert list_sources(store, None) == []


def test_a_removed_source_keeps_its_mentions_and_its_name(
    store: Store, httpserver: HTTPServer
) -> None:
    add_source(store, None, "nieuws", "rss", {"url": _feed(httpserver)}, actor="a")
    sync_source(store, None, "nieuws", actor="a", http=_http())
    remove_source(store, None, "nieuws", actor="a")
    assert list_sources(store, None) == []
    assert [s.removed for s in list_sources(store, None, removed=True)] == [True]
    assert len(_posts(store)) == 2
    with pytest.raises(UnknownSource):
        sync_source(store, None, "nieuws", actor="a", http=_http())
    with pytest.raises(SourceExists):
        add_source(store, None, "nieuws", "rss", {"url": "https://b.example/feed"}, actor="a")


def test_watch_runs_what_is_due_and_stops_when_told(store: Store, httpserver: HTTPServer) -> None:
    add_source(store, None, "nieuws", "rss", {"url": _feed(httpserver)}, actor="a")
    rounds: list[list[str]] = []
    ticks = iter([False, False, True])
    watch(
        store,
        None,
        actor="a",
        stop=lambda: next(ticks),
        on_results=lambda results: rounds.append([r.source for r in results]),
        sleep=lambda _: None,
        http=_http(),
    )
    assert rounds == [["nieuws"]]  # the second round: not due for another 30 minutes
    assert len(httpserver.log) == 1


# --- the same post through two sources ---------------------------------------------------


def test_the_same_post_from_a_feed_and_an_export_is_one_mention(
    store: Store, httpserver: HTTPServer, tmp_path: Path
) -> None:
    export = tmp_path / "listening-tool.csv"
    export.write_text(
        "url,text,author,date\n"
        "https://fietsnieuws.example/2026/11/reparaties/,Klanten klagen over reparatietijden,"
        "Redactie,2026-11-25T12:00:00Z\n"
        "https://elders.example/1,Voorbeeld BV bezorgt voortaan binnen 24 uur   De fietsenwinkel"
        " belooft levering binnen 24 uur.,,2026-11-24T09:00:00Z\n"
        "https://elders.example/2,Leuk!,piet,2026-11-25T13:00:00Z\n",
        encoding="utf-8",
    )
    add_source(store, None, "nieuws", "rss", {"url": _feed(httpserver)}, actor="a")
    sync_source(store, None, "nieuws", actor="a", http=_http())
    mapping = ColumnMapping(text="text", url="url", author="author", time="date", id="url")
    result = import_mentions(store, None, export, mapping, actor="a")
    # The first row has the feed entry's URL (with a slash); the second the text of the
    # other entry (spaced differently) without an author, the same day; the third is new.
    assert (result.imported, result.duplicates) == (1, 2)
    assert [p.text for p in _posts(store)][-1] == "Leuk!"


def test_the_same_short_text_by_two_authors_is_two_mentions(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "x.csv"
    export.write_text(
        "id,text,author,date\n1,Top service!,anna,2026-11-25T12:00:00Z\n"
        "2,Top service!,bert,2026-11-25T12:05:00Z\n3,Top service!,@Anna,2026-11-25T18:00:00Z\n"
        "4,Top service!,anna,2026-11-28T12:00:00Z\n",
        encoding="utf-8",
    )
    mapping = ColumnMapping(text="text", author="author", time="date", id="id")
    result = import_mentions(store, None, export, mapping, actor="a")
    assert (result.imported, result.duplicates) == (3, 1)  # @Anna the same day is anna


# --- an export folder, and a sync killed half-way ----------------------------------------


def _big_csv(path: Path, rows: int) -> None:
    with path.open("w", encoding="utf-8") as out:
        out.write("id,text,created\n")
        for n in range(rows):
            out.write(
                f"{n},Bericht nummer {n} over de levering,2026-11-{1 + n % 28:02d}T10:00:00Z\n"
            )


def test_an_export_folder_is_read_in_pages_and_new_files_are_picked_up(
    store: Store, tmp_path: Path
) -> None:
    folder = tmp_path / "exports"
    folder.mkdir()
    _big_csv(folder / "week1.csv", 2500)
    options = {"path": str(folder), "id_column": "id", "time_column": "created"}
    add_source(store, None, "exports", "file", options, actor="a")
    first = sync_source(store, None, "exports", actor="a")
    assert (first.status, first.imported, first.pages) == ("ok", 2500, 3)
    again = sync_source(store, None, "exports", actor="a")
    assert (again.imported, again.duplicates, again.pages) == (0, 0, 0)
    (folder / "week2.csv").write_text("id,text,created\nx1,Nieuw,2026-11-29T10:00:00Z\n")
    later = sync_source(store, None, "exports", actor="a")
    assert (later.imported, later.duplicates) == (1, 0)


def test_an_export_without_the_text_column_is_refused(store: Store, tmp_path: Path) -> None:
    export = tmp_path / "export.csv"
    export.write_text("id;body\n1;hallo\n", encoding="utf-8")
    add_source(store, None, "export", "file", {"path": str(export)}, actor="a")
    result = sync_source(store, None, "export", actor="a")
    assert result.error is not None and result.error.key == "mentions.missing_column"
    assert "id, body" in str(result.error)


@pytest.mark.slow
def test_a_sync_killed_half_way_goes_on_without_losing_or_doubling_anything(
    tmp_path: Path,
) -> None:
    rows = 60_000
    export = tmp_path / "groot.csv"
    _big_csv(export, rows)
    db = f"sqlite:///{tmp_path / 'kill.db'}"
    env = {**os.environ, "KLOPT_DB": db, "KLOPT_USER": "tester"}

    def klopt(*args: str) -> subprocess.Popen[bytes]:
        return subprocess.Popen(
            [sys.executable, "-m", "klopt", *args],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
        )

    assert klopt("init", "Voorbeeld BV").wait() == 0
    add = klopt("sources", "add", "file", "groot", str(export), "--id-column", "id")
    assert add.wait() == 0
    from klopt.store import open_store

    store = open_store(db)
    try:
        running = klopt("sources", "sync", "groot", "--no-judge")
        deadline = time.monotonic() + 120
        while _stored(store) < 5_000 and time.monotonic() < deadline:
            time.sleep(0.05)
        running.send_signal(signal.SIGKILL)
        running.wait()
        half = _stored(store)
        assert 5_000 <= half < rows, "the sync should be killed half-way"
        done = klopt("sources", "sync", "groot", "--no-judge")
        out, err = done.communicate(timeout=300)
        assert done.returncode == 0, err.decode()
        assert _stored(store) == rows
        with store.session() as session:
            last = session.scalars(select(ImportBatch).order_by(ImportBatch.id.desc())).first()
            assert last is not None
            # The re-run began at the last committed page: nothing seen twice.
            assert (last.rows_imported, last.rows_duplicate) == (rows - half, 0)
            distinct = session.scalar(select(func.count(func.distinct(Post.external_id))))
            assert distinct == rows
    finally:
        store.close()


def _stored(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(Post)) or 0


# --- the command line --------------------------------------------------------------------


def test_the_command_line_adds_lists_syncs_and_removes(
    klopt: Klopt, httpserver: HTTPServer
) -> None:
    klopt("init", "Voorbeeld BV")
    out = klopt("sources", "add", "rss", "nieuws", _feed(httpserver), "--interval", "600").output
    assert "Source nieuws (rss) added; it is synced every 10 minutes" in out
    out = klopt("sources", "sync", "nieuws").output
    assert "nieuws: 2 new, 0 already there, 1 skipped." in out
    assert "item 3: a feed entry without title or text (skipped)" in out
    assert "the register has no approved promises" in out
    listed = json.loads(klopt("sources", "list", "--json").output)
    assert [(s["name"], s["status"], s["items_total"]) for s in listed] == [("nieuws", "ok", 2)]
    httpserver.clear()
    httpserver.expect_request("/feed").respond_with_data("", status=500)
    out = klopt("--lang", "nl", "sync", code=1).output
    assert "nieuws: mislukt na 0 nieuw" in out
    assert "blijft antwoorden met een serverfout (500)" in out
    assert "fout" in klopt("--lang", "nl", "sources", "list").output
    assert (
        "Source nieuws removed; its mentions stay." in klopt("sources", "remove", "nieuws").output
    )
    assert "No sources yet." in klopt("sources", "list").output
    out = klopt("sources", "sync", "--since", "morgen", code=1).output
    assert "'morgen' is not a date. Write it as YYYY-MM-DD" in out  # no traceback


def test_an_export_folder_can_use_a_preset_and_a_time_zone(store: Store, tmp_path: Path) -> None:
    folder = tmp_path / "x"
    folder.mkdir()
    (folder / "tweets.js").write_text(
        "window.YTD.tweets.part0 = ["
        '{"tweet": {"id_str": "1850000000000000001", "full_text": "Vandaag besteld, morgen'
        ' in huis!", "created_at": "Tue Nov 24 09:00:00 +0000 2026", "lang": "nl"}}]',
        encoding="utf-8",
    )
    options = {"path": str(folder), "preset": "x-archive", "timezone": "Europe/Amsterdam"}
    info = add_source(store, None, "archief", "file", options, actor="a")
    assert info.own  # the preset says: the organisation's own account
    result = sync_source(store, None, "archief", actor="a")
    assert (result.status, result.imported) == ("ok", 1)
    (post,) = _posts(store)
    assert (post.kind, post.platform, post.text) == ("own", "x", "Vandaag besteld, morgen in huis!")
    assert post.posted_at == datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
    with pytest.raises(InputError) as caught:
        add_source(
            store, None, "fout", "file", {"path": str(folder), "preset": "myspace"}, actor="a"
        )
    assert caught.value.key == "presets.unknown"


def test_an_excel_csv_in_windows_1252_is_read_and_said(klopt: Klopt, tmp_path: Path) -> None:
    export = tmp_path / "excel.csv"
    export.write_bytes("id;tekst\n1;Prima service, café open tot 18.00 \u20ac\n".encode("cp1252"))
    klopt("init", "Voorbeeld BV")
    out = klopt("mentions", "import", str(export), "--text-column", "tekst").output
    assert "Read 1 rows: 1 imported" in out
    assert "excel.csv is not UTF-8; it was read as Windows-1252 (cp1252)." in out
