"""The platform connectors (Mastodon, Bluesky, Reddit) through the real sync engine and
store, against a local HTTP server (pytest-httpserver) serving recorded payloads in each
platform's response shape (tests/payloads/<platform>/).

Per platform: the first sync (exact records, paging, ``since``, deleted items), the next
sync (only what is newer, asked for by id, cursor or high-water mark), and the faults
every connector meets the same way: a 429 with Retry-After, a rate limit longer than
klopt waits, a 500 once and for good, a time-out, a body that is not JSON, a refused
token, a token that is not set, and a token that must never be stored or shown.
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select
from werkzeug import Request, Response

from klopt.errors import InputError
from klopt.listening.http import Http
from klopt.listening.sync import add_source, list_sources, sync_source
from klopt.store import Store
from klopt.store.models import Base, Post

PAYLOADS = Path(__file__).parent / "payloads"
SINCE = datetime(2026, 10, 1, tzinfo=UTC)
START = 1_800_000_000.0

TAG_FIETSEN = "/api/v1/timelines/tag/fietsen"
TAG_TREINEN = "/api/v1/timelines/tag/treinen"
MASTODON_SEARCH = "/api/v2/search"
SEARCH_POSTS = "/xrpc/app.bsky.feed.searchPosts"
AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
CREATE_SESSION = "/xrpc/com.atproto.server.createSession"
ACCESS_JWT = "eyJ0eXAiOiJhdCtqd3QiLCJhbGciOiJFUzI1NksifQ.access.test"


def payload(name: str) -> Any:
    """A recorded payload, e.g. ``payload("mastodon/tag_treinen.json")``."""
    return json.loads((PAYLOADS / name).read_text("utf-8"))


class FakeTime:
    """A clock that moves only when klopt sleeps, and a record of every sleep."""

    def __init__(self) -> None:
        self.now = START
        self.sleeps: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.now += seconds

    def clock(self) -> float:
        return self.now


def _http(fake: FakeTime | None = None, timeout: float = 2.0) -> Callable[[], Http]:
    clock = fake or FakeTime()
    return lambda: Http(
        sleep=clock.sleep, clock=clock.clock, random=lambda: 0.5, retries=2, timeout=timeout
    )


@pytest.fixture
def server(httpserver: HTTPServer) -> HTTPServer:
    """The local server; a request no handler expects is a 404 (not a retried 500)."""
    httpserver.no_handler_status_code = 404
    return httpserver


def _reset(server: HTTPServer) -> None:
    server.clear()
    server.no_handler_status_code = 404


def _requests(server: HTTPServer, path: str) -> list[dict[str, str]]:
    """The query of every request to ``path``, in order."""
    return [dict(request.args) for request, _ in server.log if request.path == path]


def _posts(store: Store) -> list[Post]:
    with store.session() as session:
        return list(session.scalars(select(Post).order_by(Post.id)))


def _database_text(store: Store) -> str:
    """Every row of every table, as text: to search for what must never be stored."""
    with store.session() as session:
        return "\n".join(
            repr(tuple(row))
            for table in Base.metadata.sorted_tables
            for row in session.execute(select(table))
        )


def _link(server: HTTPServer, path: str, *, next: str, prev: str) -> dict[str, str]:
    """Mastodon's paging header: ``rel="next"`` older, ``rel="prev"`` newer."""
    url = server.url_for(path)
    return {"Link": f'<{url}?max_id={next}>; rel="next", <{url}?min_id={prev}>; rel="prev"'}


# --- Mastodon ----------------------------------------------------------------------------


def _mastodon(store: Store, server: HTTPServer, own: bool = False, **options: Any) -> None:
    settings = {"instance": server.url_for("/"), **options}
    add_source(store, None, "masto", "mastodon", settings, actor="anna", own=own)


def test_mastodon_first_sync_walks_a_hashtag_down_to_since(
    store: Store, server: HTTPServer
) -> None:
    server.expect_request(TAG_FIETSEN, query_string={"limit": "40"}).respond_with_json(
        payload("mastodon/tag_fietsen_newest.json"),
        headers=_link(server, TAG_FIETSEN, next="117642284236804711", prev="117648182476804711"),
    )
    server.expect_request(
        TAG_FIETSEN, query_string={"limit": "40", "max_id": "117642284236804711"}
    ).respond_with_json(
        payload("mastodon/tag_fietsen_older.json"),
        headers=_link(server, TAG_FIETSEN, next="117273762201604711", prev="117592031232004711"),
    )
    _mastodon(store, server, hashtag=["#fietsen"])
    result = sync_source(store, None, "masto", actor="anna", since=SINCE, http=_http())
    assert (result.status, result.imported, result.skipped, result.pages) == ("ok", 2, 1, 2)
    assert [p.key for p in result.problems] == ["deleted"]  # a suspended account's status
    first, second = _posts(store)
    assert first.text == (
        "Mijn nieuwe fiets van Voorbeeld BV kwam pas na vijf dagen. Binnen 24 uur? Niet dus. "
        "#fietsen"
    )
    assert (first.platform, first.kind, first.language) == ("mastodon", "mention", "nl")
    assert first.external_id == "https://mastodon.example/users/anna/statuses/117648182476804711"
    assert first.url == "https://mastodon.example/@anna/117648182476804711"
    assert first.author == "anna@mastodon.example"
    assert first.posted_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert first.reach == 312
    assert second.text == (
        "Reparatie binnen drie dagen klaar & netjes uitgelegd.\nTop service! #fietsen"
    )
    assert second.author == "piet@mastodon.nl"
    assert len(_requests(server, TAG_FIETSEN)) == 2  # the older status ended the walk


def test_mastodon_next_sync_reads_upwards_from_the_newest_id(
    store: Store, server: HTTPServer
) -> None:
    server.expect_request(TAG_FIETSEN, query_string={"limit": "40"}).respond_with_json(
        payload("mastodon/tag_fietsen_newest.json")
    )
    _mastodon(store, server, hashtag=["fietsen"])
    assert sync_source(store, None, "masto", actor="anna", http=_http()).imported == 2
    _reset(server)
    newest, newer = "117648182476804711", "117659212185604711"
    server.expect_request(
        TAG_FIETSEN, query_string={"limit": "40", "min_id": newest}
    ).respond_with_json(
        payload("mastodon/tag_fietsen_newer.json"),
        headers=_link(server, TAG_FIETSEN, next="117655339008004711", prev=newer),
    )
    server.expect_request(
        TAG_FIETSEN, query_string={"limit": "40", "min_id": newer}
    ).respond_with_json([])
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported, result.duplicates) == ("ok", 2, 0)
    assert _requests(server, TAG_FIETSEN) == [
        {"limit": "40", "min_id": newest},
        {"limit": "40", "min_id": newer},
    ]
    texts = [p.text for p in _posts(store)]
    assert texts[2:] == [
        "Gratis retour was echt gratis, netjes. #fietsen",
        "klacht\nNog steeds geen reactie van de klantenservice. #fietsen",  # the CW first
    ]


def test_mastodon_stops_upwards_mid_way_and_goes_on_from_the_last_stored_page(
    store: Store, server: HTTPServer
) -> None:
    server.expect_request(TAG_FIETSEN, query_string={"limit": "40"}).respond_with_json(
        payload("mastodon/tag_fietsen_newest.json")
    )
    _mastodon(store, server, hashtag=["fietsen"])
    sync_source(store, None, "masto", actor="anna", http=_http())
    _reset(server)
    newest, newer = "117648182476804711", "117659212185604711"
    server.expect_request(
        TAG_FIETSEN, query_string={"limit": "40", "min_id": newest}
    ).respond_with_json(
        payload("mastodon/tag_fietsen_newer.json"),
        headers=_link(server, TAG_FIETSEN, next="117655339008004711", prev=newer),
    )
    server.expect_request(
        TAG_FIETSEN, query_string={"limit": "40", "min_id": newer}
    ).respond_with_json({"error": "Too many requests"}, status=429, headers={"Retry-After": "900"})
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported) == ("rate_limited", 2)
    _reset(server)
    server.expect_request(
        TAG_FIETSEN, query_string={"limit": "40", "min_id": newer}
    ).respond_with_json([])
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported) == ("ok", 0)
    assert _requests(server, TAG_FIETSEN) == [{"limit": "40", "min_id": newer}]


def test_mastodon_searches_keywords_and_mentions_of_the_account(
    store: Store, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_TEST_MASTODON", "mastodon-token-1")
    search = {"type": "statuses", "resolve": "false", "limit": "40"}
    auth = {"Authorization": "Bearer mastodon-token-1"}
    for query, body in [
        ("Voorbeeld BV", "search_voorbeeld.json"),
        ("@voorbeeld@mastodon.example", "search_mentions.json"),
    ]:
        server.expect_request(
            MASTODON_SEARCH, query_string={**search, "q": query}, headers=auth
        ).respond_with_json(payload(f"mastodon/{body}"))
        server.expect_request(
            MASTODON_SEARCH, query_string={**search, "q": query, "offset": "40"}, headers=auth
        ).respond_with_json(payload("mastodon/search_empty.json"))
    _mastodon(
        store,
        server,
        keyword=["Voorbeeld BV"],
        account="@voorbeeld@mastodon.example",
        token_env="KLOPT_TEST_MASTODON",
    )
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported, result.skipped) == ("ok", 2, 0)
    found, mention = _posts(store)
    assert found.text.startswith("Heeft iemand ervaring met de garantie van Voorbeeld BV?")
    assert mention.text == "@voorbeeld waar blijft mijn bestelling?"
    assert mention.author == "anna@mastodon.example"  # the organisation's own reply is left out
    _reset(server)
    for query, floor, body in [
        ("Voorbeeld BV", "117637919539204711", "search_voorbeeld_newer.json"),
        ("@voorbeeld@mastodon.example", "117631431475204712", "search_empty.json"),
    ]:
        asked = {**search, "q": query, "min_id": floor}
        server.expect_request(MASTODON_SEARCH, query_string=asked).respond_with_json(
            payload(f"mastodon/{body}")
        )
        server.expect_request(
            MASTODON_SEARCH, query_string={**asked, "offset": "40"}
        ).respond_with_json(payload("mastodon/search_empty.json"))
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported, result.duplicates) == ("ok", 1, 0)
    assert _posts(store)[-1].author == "karin@mastodon.example"


def test_mastodon_search_without_a_token_reads_one_page(store: Store, server: HTTPServer) -> None:
    search = {"q": "Voorbeeld BV", "type": "statuses", "resolve": "false", "limit": "40"}
    server.expect_request(MASTODON_SEARCH, query_string=search).respond_with_json(
        payload("mastodon/search_voorbeeld.json")
    )
    _mastodon(store, server, keyword=["Voorbeeld BV"])
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported) == ("ok", 1)
    assert _requests(server, MASTODON_SEARCH) == [search]  # `offset` needs a token


def test_mastodon_own_source_reads_the_accounts_own_posts_only(
    store: Store, server: HTTPServer
) -> None:
    server.expect_request(
        "/api/v1/accounts/lookup", query_string={"acct": "voorbeeld@mastodon.example"}
    ).respond_with_json(payload("mastodon/account_lookup.json"))
    server.expect_request(
        "/api/v1/accounts/109876543210/statuses",
        query_string={"limit": "40", "exclude_reblogs": "true"},
    ).respond_with_json(payload("mastodon/account_statuses.json"))
    _mastodon(store, server, own=True, hashtag=["fietsen"], account="voorbeeld@mastodon.example")
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert (result.status, result.imported, result.skipped) == ("ok", 1, 1)
    assert [(p.key, dict(p.values)) for p in result.problems] == [
        ("not_a_post", {"what": "no text"})  # media only; the boost is skipped silently
    ]
    (post,) = _posts(store)
    assert (post.kind, post.author, post.reach) == ("own", "voorbeeld@mastodon.example", 4210)
    assert post.text == "Vandaag besteld, morgen in huis: wij leveren binnen 24 uur."
    assert _requests(server, TAG_FIETSEN) == []  # others' posts are never stored as own
    # A reply names a status by its id on a server: the id and the server it belongs to.
    assert post.raw["id"] and post.raw["instance"].startswith("http")


def test_mastodon_own_source_without_an_account_says_so(store: Store, server: HTTPServer) -> None:
    _mastodon(store, server, own=True, hashtag=["fietsen"])
    result = sync_source(store, None, "masto", actor="anna", http=_http())
    assert result.status == "error"
    assert result.error is not None and result.error.key == "source.missing_setting"


# --- Bluesky -----------------------------------------------------------------------------


def _bluesky(store: Store, server: HTTPServer, own: bool = False, **options: Any) -> None:
    settings = {"service": server.url_for("/"), **options}
    add_source(store, None, "bsky", "bluesky", settings, actor="anna", own=own)


def _login(server: HTTPServer, password: str = "app-pass-1234") -> None:
    server.expect_request(
        CREATE_SESSION,
        method="POST",
        json={"identifier": "voorbeeld.bsky.social", "password": password},
    ).respond_with_json(payload("bluesky/session.json"))


def test_bluesky_first_sync_logs_in_and_walks_a_search_down_to_since(
    store: Store, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_TEST_BSKY_ID", "voorbeeld.bsky.social")
    monkeypatch.setenv("KLOPT_TEST_BSKY_PASSWORD", "app-pass-1234")
    _login(server)
    query = {
        "q": "Voorbeeld BV",
        "sort": "latest",
        "limit": "100",
        "since": "2026-10-01T00:00:00.000Z",
    }
    auth = {"Authorization": f"Bearer {ACCESS_JWT}"}
    server.expect_request(SEARCH_POSTS, query_string=query, headers=auth).respond_with_json(
        payload("bluesky/search_page1.json")
    )
    server.expect_request(
        SEARCH_POSTS, query_string={**query, "cursor": "2"}, headers=auth
    ).respond_with_json(payload("bluesky/search_page2.json"))
    _bluesky(
        store,
        server,
        query=["Voorbeeld BV"],
        identifier_env="KLOPT_TEST_BSKY_ID",
        password_env="KLOPT_TEST_BSKY_PASSWORD",
    )
    result = sync_source(store, None, "bsky", actor="anna", since=SINCE, http=_http())
    assert (result.status, result.imported, result.pages) == ("ok", 3, 2)
    first, second, third = _posts(store)
    assert first.text == "Voorbeeld BV beloofde levering binnen 24 uur. Dag drie en nog niks."
    assert (first.platform, first.kind, first.author) == ("bluesky", "mention", "lisa.bsky.social")
    assert (
        first.external_id
        == "at://did:plc:lisa4vjq2mxg7a5tkd3b7wnp/app.bsky.feed.post/3lbxqv2k7cs2a"
    )
    assert first.url == "https://bsky.app/profile/lisa.bsky.social/post/3lbxqv2k7cs2a"
    assert first.posted_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert (first.language, first.reach) == ("nl", None)
    assert (second.author, third.author) == ("tom.example.nl", "sanne.bsky.social")
    assert len(_requests(server, SEARCH_POSTS)) == 2  # September's post ended the walk
    # What a reply to each needs: its cid, and the thread it is in (none: it starts one).
    assert first.raw["cid"].startswith("bafyrei") and first.raw["reply"] is None
    thread_root = second.raw["reply"]["root"]
    assert thread_root["uri"].endswith("/app.bsky.feed.post/3lbvtq7mrw22x")
    assert thread_root["cid"].startswith("bafyrei")


def test_bluesky_next_sync_asks_since_the_high_water_mark(
    store: Store, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_TEST_BSKY_ID", "voorbeeld.bsky.social")
    monkeypatch.setenv("KLOPT_TEST_BSKY_PASSWORD", "app-pass-1234")
    _login(server)
    query = {"q": "Voorbeeld BV", "sort": "latest", "limit": "100"}
    server.expect_request(SEARCH_POSTS, query_string=query).respond_with_json(
        payload("bluesky/search_empty.json")
        | {"posts": payload("bluesky/search_page1.json")["posts"]}
    )
    _bluesky(
        store,
        server,
        query=["Voorbeeld BV"],
        identifier_env="KLOPT_TEST_BSKY_ID",
        password_env="KLOPT_TEST_BSKY_PASSWORD",
    )
    assert sync_source(store, None, "bsky", actor="anna", http=_http()).imported == 2
    _reset(server)
    _login(server)
    mark = {**query, "since": "2026-11-20T10:00:00.000Z"}
    server.expect_request(SEARCH_POSTS, query_string=mark).respond_with_json(
        payload("bluesky/search_newer.json")
    )
    result = sync_source(store, None, "bsky", actor="anna", http=_http())
    assert (result.status, result.imported, result.duplicates) == ("ok", 1, 0)
    assert _requests(server, SEARCH_POSTS) == [mark]  # the marked post ended the walk
    assert _posts(store)[-1].text.startswith("Voorbeeld BV bezorgde vandaag alsnog")


def test_bluesky_own_author_feed_skips_reposts_deleted_and_image_only_posts(
    store: Store, server: HTTPServer
) -> None:
    server.expect_request(
        AUTHOR_FEED,
        query_string={
            "actor": "voorbeeld.bsky.social",
            "filter": "posts_no_replies",
            "limit": "100",
        },
    ).respond_with_json(payload("bluesky/author_feed.json"))
    _bluesky(store, server, own=True, author=["@voorbeeld.bsky.social"])
    result = sync_source(store, None, "bsky", actor="anna", http=_http())
    assert (result.status, result.imported, result.skipped) == ("ok", 1, 2)
    assert [p.key for p in result.problems] == ["deleted", "not_a_post"]
    (post,) = _posts(store)
    assert (post.kind, post.author) == ("own", "voorbeeld.bsky.social")
    assert post.url == "https://bsky.app/profile/voorbeeld.bsky.social/post/3lbzn2ajdfs2e"


def test_bluesky_a_refused_login_is_bad_credentials(
    store: Store, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_TEST_BSKY_ID", "voorbeeld.bsky.social")
    monkeypatch.setenv("KLOPT_TEST_BSKY_PASSWORD", "wrong-password")
    server.expect_request(CREATE_SESSION, method="POST").respond_with_json(
        {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
        status=401,
    )
    _bluesky(
        store,
        server,
        query=["Voorbeeld BV"],
        identifier_env="KLOPT_TEST_BSKY_ID",
        password_env="KLOPT_TEST_BSKY_PASSWORD",
    )
    result = sync_source(store, None, "bsky", actor="anna", http=_http())
    assert result.status == "error"
    assert result.error is not None and result.error.key == "source.credentials"
    assert "wrong-password" not in _database_text(store) + str(result.error)


# --- Reddit ------------------------------------------------------------------------------


def _reddit(store: Store, server: HTTPServer, own: bool = False, **options: Any) -> None:
    settings = {"base_url": server.url_for("/"), **options}
    add_source(store, None, "reddit", "reddit", settings, actor="anna", own=own)


NEW = "/r/fietsen/new.json"
LISTING = {"limit": "100", "raw_json": "1"}


def test_reddit_first_sync_walks_new_posts_down_to_since(store: Store, server: HTTPServer) -> None:
    server.expect_request(NEW, query_string=LISTING).respond_with_json(
        payload("reddit/new_fietsen_page1.json")
    )
    server.expect_request(NEW, query_string={**LISTING, "after": "t3_1h0z7mc"}).respond_with_json(
        payload("reddit/new_fietsen_page2.json")
    )
    _reddit(store, server, subreddit=["r/fietsen"])
    result = sync_source(store, None, "reddit", actor="anna", since=SINCE, http=_http())
    assert (result.status, result.imported, result.skipped, result.pages) == ("ok", 2, 1, 2)
    assert [p.key for p in result.problems] == ["deleted"]  # [removed] by a moderator
    first, second = _posts(store)
    assert first.text == (
        "Wachten op levering Voorbeeld BV\n"
        "Beloofd: binnen 24 uur. Inmiddels dag vijf. Iemand anders ook?"
    )
    assert (first.platform, first.kind, first.author) == ("reddit", "mention", "fietsfan_88")
    assert first.external_id == "t3_1h1q3xb"
    assert first.url == (
        "https://www.reddit.com/r/fietsen/comments/1h1q3xb/wachten_op_levering_voorbeeld_bv/"
    )
    assert first.posted_at == datetime(2026, 11, 20, 10, 0, tzinfo=UTC)
    assert first.reach == 48211
    assert second.text == "Garantie op onderdelen bij Voorbeeld BV"  # a link post: its title
    assert len(_requests(server, NEW)) == 2


def test_reddit_next_sync_stops_at_the_newest_post_of_the_last(
    store: Store, server: HTTPServer
) -> None:
    server.expect_request(NEW, query_string=LISTING).respond_with_json(
        payload("reddit/new_fietsen_page1.json")
    )
    server.expect_request(NEW, query_string={**LISTING, "after": "t3_1h0z7mc"}).respond_with_json(
        payload("reddit/new_fietsen_page2.json")
    )
    _reddit(store, server, subreddit=["fietsen"])
    sync_source(store, None, "reddit", actor="anna", since=SINCE, http=_http())
    _reset(server)
    server.expect_request(NEW, query_string=LISTING).respond_with_json(
        payload("reddit/new_fietsen_newer.json")
    )
    result = sync_source(store, None, "reddit", actor="anna", http=_http())
    assert (result.status, result.imported, result.duplicates) == ("ok", 1, 0)
    assert _requests(server, NEW) == [LISTING]
    assert _posts(store)[-1].external_id == "t3_1h2k9za"


def test_reddit_search_with_a_token(
    store: Store, server: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_TEST_REDDIT", "reddit-token-1")
    server.expect_request(
        "/search.json",
        query_string={"q": "Voorbeeld BV", "sort": "new", "type": "link", **LISTING},
        headers={"Authorization": "Bearer reddit-token-1"},
    ).respond_with_json(payload("reddit/search_voorbeeld.json"))
    _reddit(store, server, query=["Voorbeeld BV"], token_env="KLOPT_TEST_REDDIT")
    result = sync_source(store, None, "reddit", actor="anna", http=_http())
    assert (result.status, result.imported) == ("ok", 1)
    (post,) = _posts(store)
    assert post.text == (
        "Anyone used Voorbeeld BV for bike repairs?\n"
        "They promise repairs within three weeks. Mine took five."
    )
    assert post.reach == 702114


# --- faults, the same on every platform --------------------------------------------------


@dataclass(frozen=True)
class Stream:
    """One stream of a source: where it is asked, and what a good answer holds."""

    path: str
    query: dict[str, str]
    payload: str
    items: int


@dataclass(frozen=True)
class Platform:
    """A source of two streams (``a`` answers well; the faults happen on ``b``)."""

    kind: str
    settings: Callable[[str], dict[str, Any]]
    a: Stream
    b: Stream
    secret: dict[str, str]


FEED_QUERY = {"filter": "posts_no_replies", "limit": "100"}
PLATFORMS = [
    Platform(
        "mastodon",
        lambda url: {"instance": url, "hashtag": ["fietsen", "treinen"]},
        Stream(TAG_FIETSEN, {"limit": "40"}, "mastodon/tag_fietsen_newer.json", 2),
        Stream(TAG_TREINEN, {"limit": "40"}, "mastodon/tag_treinen.json", 1),
        {"token_env": "KLOPT_TEST_TOKEN"},
    ),
    Platform(
        "bluesky",
        lambda url: {"service": url, "author": ["voorbeeld.bsky.social", "klant.bsky.social"]},
        Stream(
            AUTHOR_FEED,
            {"actor": "voorbeeld.bsky.social", **FEED_QUERY},
            "bluesky/author_feed.json",
            1,
        ),
        Stream(
            AUTHOR_FEED,
            {"actor": "klant.bsky.social", **FEED_QUERY},
            "bluesky/author_feed_klant.json",
            1,
        ),
        {"identifier_env": "KLOPT_TEST_IDENTIFIER", "password_env": "KLOPT_TEST_TOKEN"},
    ),
    Platform(
        "reddit",
        lambda url: {"base_url": url, "subreddit": ["treinen", "klachten"]},
        Stream("/r/treinen/new.json", LISTING, "reddit/new_treinen.json", 1),
        Stream("/r/klachten/new.json", LISTING, "reddit/new_klachten.json", 1),
        {"token_env": "KLOPT_TEST_TOKEN"},
    ),
]
ON_EVERY_PLATFORM = pytest.mark.parametrize("platform", PLATFORMS, ids=lambda p: p.kind)


def _serve(server: HTTPServer, stream: Stream, **headers: str) -> None:
    server.expect_request(
        stream.path, query_string=stream.query, headers=headers
    ).respond_with_json(payload(stream.payload))


def _add(store: Store, server: HTTPServer, platform: Platform, **more: str) -> None:
    settings = {**platform.settings(server.url_for("/")), **more}
    add_source(store, None, "bron", platform.kind, settings, actor="anna")


def _fault(server: HTTPServer, stream: Stream, status: int, once: bool, **headers: str) -> None:
    expect = server.expect_oneshot_request if once else server.expect_request
    expect(stream.path, query_string=stream.query).respond_with_json(
        {"error": "fault"}, status=status, headers=headers
    )


@ON_EVERY_PLATFORM
def test_a_429_with_retry_after_is_waited_out(
    store: Store, server: HTTPServer, platform: Platform
) -> None:
    _serve(server, platform.a)
    _fault(server, platform.b, 429, once=True, **{"Retry-After": "7"})
    _serve(server, platform.b)
    _add(store, server, platform)
    fake = FakeTime()
    result = sync_source(store, None, "bron", actor="anna", http=_http(fake))
    assert (result.status, result.imported) == ("ok", platform.a.items + platform.b.items)
    assert fake.sleeps == [7.0]


@ON_EVERY_PLATFORM
def test_a_rate_limit_longer_than_klopt_waits_ends_the_run_and_keeps_what_came(
    store: Store, server: HTTPServer, platform: Platform
) -> None:
    _serve(server, platform.a)
    _fault(server, platform.b, 429, once=False, **{"Retry-After": "3600"})
    _add(store, server, platform)
    fake = FakeTime()
    result = sync_source(store, None, "bron", actor="anna", http=_http(fake))
    assert (result.status, result.imported) == ("rate_limited", platform.a.items)
    assert fake.sleeps == []
    (info,) = list_sources(store, None)
    assert info.status == "rate_limited" and len(_posts(store)) == platform.a.items
    assert info.last_error is not None and info.last_error.key == "source.rate_limited"
    assert info.next_run_at == datetime.fromtimestamp(START + 3600, UTC)


@ON_EVERY_PLATFORM
def test_a_500_once_is_tried_again_after_a_back_off(
    store: Store, server: HTTPServer, platform: Platform
) -> None:
    _serve(server, platform.a)
    _fault(server, platform.b, 500, once=True)
    _serve(server, platform.b)
    _add(store, server, platform)
    fake = FakeTime()
    result = sync_source(store, None, "bron", actor="anna", http=_http(fake))
    assert (result.status, result.imported) == ("ok", platform.a.items + platform.b.items)
    assert fake.sleeps == [0.5]  # full jitter: random 0.5 x back-off 1 s


@ON_EVERY_PLATFORM
def test_a_lasting_500_is_a_server_error(
    store: Store, server: HTTPServer, platform: Platform
) -> None:
    _serve(server, platform.a)
    _fault(server, platform.b, 500, once=False)
    _add(store, server, platform)
    result = sync_source(store, None, "bron", actor="anna", http=_http())
    assert (result.status, result.imported) == ("error", platform.a.items)
    assert result.error is not None and result.error.key == "source.server_error"
    assert len([q for q in _requests(server, platform.b.path) if q == platform.b.query]) == 3


@ON_EVERY_PLATFORM
def test_a_time_out_is_unreachable(store: Store, server: HTTPServer, platform: Platform) -> None:
    def slow(request: Request) -> Response:
        time.sleep(0.5)
        return Response("[]", content_type="application/json")

    _serve(server, platform.a)
    server.expect_request(platform.b.path, query_string=platform.b.query).respond_with_handler(slow)
    _add(store, server, platform)
    result = sync_source(store, None, "bron", actor="anna", http=_http(timeout=0.2))
    assert (result.status, result.imported) == ("error", platform.a.items)
    assert result.error is not None and result.error.key == "source.unreachable"


@ON_EVERY_PLATFORM
def test_a_body_that_is_not_json_is_malformed(
    store: Store, server: HTTPServer, platform: Platform
) -> None:
    _serve(server, platform.a)
    server.expect_request(platform.b.path, query_string=platform.b.query).respond_with_data(
        "<html><body>Down for maintenance</body></html>", content_type="text/html"
    )
    _add(store, server, platform)
    result = sync_source(store, None, "bron", actor="anna", http=_http())
    assert (result.status, result.imported) == ("error", platform.a.items)
    assert result.error is not None and result.error.key == "source.not_json"
    assert "Down for maintenance" in str(result.error)


@ON_EVERY_PLATFORM
def test_json_of_another_shape_is_malformed(
    store: Store, server: HTTPServer, platform: Platform
) -> None:
    _serve(server, platform.a)
    server.expect_request(platform.b.path, query_string=platform.b.query).respond_with_json(
        "maintenance"
    )
    _add(store, server, platform)
    result = sync_source(store, None, "bron", actor="anna", http=_http())
    assert result.error is not None and result.error.key == "source.unexpected_json"


@ON_EVERY_PLATFORM
def test_a_token_that_is_not_set_is_named(
    store: Store, server: HTTPServer, platform: Platform, monkeypatch: pytest.MonkeyPatch
) -> None:
    for variable in platform.secret.values():
        monkeypatch.delenv(variable, raising=False)
    _add(store, server, platform, **platform.secret)
    result = sync_source(store, None, "bron", actor="anna", http=_http())
    assert result.status == "error"
    assert result.error is not None and result.error.key == "source.no_secret"
    assert str(result.error).startswith("Source bron needs the environment variable")
    assert server.log == []


@ON_EVERY_PLATFORM
def test_a_token_is_sent_but_never_stored_logged_or_shown(
    store: Store,
    server: HTTPServer,
    platform: Platform,
    monkeypatch: pytest.MonkeyPatch,
    caplog: pytest.LogCaptureFixture,
) -> None:
    secret = f"s3cret-{platform.kind}-7f2a9c"
    monkeypatch.setenv("KLOPT_TEST_TOKEN", secret)
    monkeypatch.setenv("KLOPT_TEST_IDENTIFIER", "voorbeeld.bsky.social")
    token = secret
    if platform.kind == "bluesky":
        _login(server, password=secret)
        token = ACCESS_JWT
    _serve(server, platform.a, Authorization=f"Bearer {token}")
    _fault(server, platform.b, 401, once=False)  # a token that may not read this stream
    caplog.set_level(logging.DEBUG)
    _add(store, server, platform, **platform.secret)
    result = sync_source(store, None, "bron", actor="anna", http=_http())
    assert (result.status, result.imported) == ("error", platform.a.items)
    assert result.error is not None and result.error.key == "source.credentials"
    (info,) = list_sources(store, None)
    assert "KLOPT_TEST_TOKEN" in info.config.values()
    stored = _database_text(store)
    assert "KLOPT_TEST_TOKEN" in stored  # the variable's name is kept, not what it holds
    shown = stored + caplog.text + str(result.error) + result.error.localized("nl")
    assert secret not in shown and token not in shown


# --- settings ----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "settings", "key"),
    [
        ("mastodon", {"hashtag": ["fietsen"]}, "source.missing_setting"),
        ("mastodon", {"instance": "http://mastodon.example", "hashtag": ["x"]}, "source.not_https"),
        ("mastodon", {"instance": "https://mastodon.example"}, "source.nothing_to_follow"),
        ("mastodon", {"instance": "m.example", "hashtag": ["fiets en"]}, "source.bad_setting"),
        ("bluesky", {"author": ["not a handle"]}, "source.bad_setting"),
        ("bluesky", {"query": ["x"], "identifier_env": "BSKY_ID"}, "source.missing_setting"),
        ("bluesky", {"query": ["x"], "service": "ftp://bsky.example"}, "source.not_https"),
        ("reddit", {"subreddit": ["fietsen en treinen"]}, "source.bad_setting"),
        ("reddit", {"base_url": "https://www.reddit.com"}, "source.nothing_to_follow"),
    ],
)
def test_bad_settings_are_refused_when_the_source_is_added(
    store: Store, kind: str, settings: dict[str, Any], key: str
) -> None:
    with pytest.raises(InputError) as caught:
        add_source(store, None, "bron", kind, settings, actor="anna")
    assert caught.value.key == key
    assert list_sources(store, None) == []


@pytest.mark.parametrize(
    ("kind", "settings"),
    [
        ("mastodon", {"instance": "https://m.example", "hashtag": ["x"], "token_env": "{}"}),
        ("reddit", {"subreddit": ["fietsen"], "token_env": "{}"}),
        ("bluesky", {"query": ["x"], "identifier_env": "BSKY_ID", "password_env": "{}"}),
    ],
)
def test_a_pasted_token_is_refused_without_being_repeated(
    store: Store, kind: str, settings: dict[str, Any]
) -> None:
    token = "eyJhbGciOi.J9-pasted/token+value"
    settings = {k: token if v == "{}" else v for k, v in settings.items()}
    with pytest.raises(InputError) as caught:
        add_source(store, None, "bron", kind, settings, actor="anna")
    assert caught.value.key == "source.env_name"
    assert token not in str(caught.value) and token not in _database_text(store)


def test_settings_are_stored_normalised(store: Store) -> None:
    add_source(
        store,
        None,
        "m",
        "mastodon",
        {"instance": "mastodon.example/", "hashtag": ("#Fietsen",), "account": "@vb@m.example"},
        actor="anna",
    )
    add_source(store, None, "b", "bluesky", {"author": ["@VB.bsky.social"]}, actor="anna")
    add_source(
        store, None, "r", "reddit", {"subreddit": ["/r/fietsen/"], "token_env": "RT"}, actor="anna"
    )
    configs = {s.name: s.config for s in list_sources(store, None)}
    assert configs["m"] == {
        "instance": "https://mastodon.example",
        "hashtag": ["Fietsen"],
        "account": "vb@m.example",
    }
    assert configs["b"] == {
        "author": ["vb.bsky.social"],
        "service": "https://public.api.bsky.app",
    }
    assert configs["r"] == {
        "subreddit": ["fietsen"],
        "base_url": "https://oauth.reddit.com",
        "token_env": "RT",
    }
