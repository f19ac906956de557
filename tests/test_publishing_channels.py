"""Publishing to Mastodon and Bluesky (issue 16, the platform clients), against local
servers that answer like the real APIs (``publishing_fakes``)."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from pytest_httpserver import HTTPServer

from klopt.errors import BadCredentials, PostRefused, RateLimited
from klopt.i18n import t
from klopt.listening.http import Http
from klopt.publishing import Image, Outgoing, ReplyTo
from klopt.publishing.bluesky import BlueskyAccount
from klopt.publishing.facets import facets
from klopt.publishing.mastodon import MastodonAccount
from klopt.publishing.outgoing import record_key
from publishing_fakes import DID, HANDLE, PASSWORD, TOKEN, FakeBluesky, FakeMastodon

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


def _http(max_wait: float = 120.0) -> Http:
    return Http(sleep=lambda _: None, random=lambda: 0.5, max_wait=max_wait, backoff=0.01)


# --- Mastodon ------------------------------------------------------------------------------


def _account(fake: FakeMastodon, token: str = TOKEN, http: Http | None = None) -> MastodonAccount:
    return MastodonAccount(
        fake.url,
        "KLOPT_MASTODON_TOKEN",
        http=http or _http(),
        environ={"KLOPT_MASTODON_TOKEN": token},
    )


def test_mastodon_posts_with_media_a_description_visibility_and_a_reply(
    mastodon: FakeMastodon,
) -> None:
    account = _account(mastodon)
    post = Outgoing(
        "Vandaag besteld, morgen in huis 🚲 #voorbeeld",
        key="klopt:voorbeeld-bv:D1:v2",
        images=(Image(PNG, "image/png", "Een fietser met een pakket voor een voordeur"),),
        reply_to=ReplyTo("77", seen_on=mastodon.url),
        visibility="unlisted",
        language="nl",
    )
    sent = account.send(post)
    status = mastodon.statuses[sent.id]
    assert status["content"] == "<p>Vandaag besteld, morgen in huis 🚲 #voorbeeld</p>"
    assert (status["visibility"], status["in_reply_to_id"], status["language"]) == (
        "unlisted", "77", "nl"
    )  # fmt: skip
    [media] = status["media_attachments"]
    assert media["description"] == "Een fietser met een pakket voor een voordeur"
    assert media["bytes"] == len(PNG)
    assert sent.url == f"{mastodon.url}/@org/{sent.id}"


def test_mastodon_waits_for_an_image_that_is_still_processing(mastodon: FakeMastodon) -> None:
    mastodon.processing = 1
    sent = _account(mastodon).send(
        Outgoing("Nieuw!", key="k-media", images=(Image(PNG, "image/png", "Een fiets"),))
    )
    assert mastodon.statuses[sent.id]["media_attachments"][0]["url"]


def test_mastodon_a_server_that_fails_after_accepting_does_not_get_a_second_post(
    mastodon: FakeMastodon,
) -> None:
    mastodon.fail_after_accept = 1
    account = _account(mastodon)
    sent = account.send(Outgoing("Eén keer, niet twee.", key="klopt:org:D7:v1"))
    assert len(mastodon.statuses) == 1 and sent.id in mastodon.statuses
    # a later try of the same version (a worker that crashed before recording) either
    again = account.send(Outgoing("Eén keer, niet twee.", key="klopt:org:D7:v1"))
    assert again == sent and len(mastodon.statuses) == 1
    # another version is another post
    account.send(Outgoing("Eén keer, niet twee (v2).", key="klopt:org:D7:v2"))
    assert len(mastodon.statuses) == 2


def test_mastodon_rate_limits_are_waited_out_or_reported(mastodon: FakeMastodon) -> None:
    mastodon.rate_limited = 1
    sent = _account(mastodon).send(Outgoing("Na de pauze.", key="k-rate"))
    assert sent.id in mastodon.statuses
    mastodon.rate_limited = 10
    with pytest.raises(RateLimited):
        _account(mastodon, http=_http(max_wait=0.0)).send(Outgoing("Te snel.", key="k-rate-2"))
    assert len(mastodon.statuses) == 1


def test_mastodon_an_expired_token_and_a_refused_post_say_what_to_do(
    mastodon: FakeMastodon,
) -> None:
    with pytest.raises(BadCredentials):
        _account(mastodon, token="expired").send(Outgoing("Hallo", key="k-expired"))
    with pytest.raises(PostRefused) as refused:
        _account(mastodon).send(Outgoing("x" * 501, key="k-long"))
    assert "character limit" in str(refused.value) and refused.value.hint
    with pytest.raises(BadCredentials) as missing:  # tried again once the variable is set
        _account(mastodon, token="").send(Outgoing("Hallo", key="k-none"))
    assert "KLOPT_MASTODON_TOKEN" in str(missing.value)
    assert "KLOPT_MASTODON_TOKEN" in t(
        "error.publish.no_secret", "nl", name="KLOPT_MASTODON_TOKEN", platform="Mastodon"
    )
    assert mastodon.statuses == {}


def test_mastodon_reach_is_read_back(mastodon: FakeMastodon) -> None:
    account = _account(mastodon)
    sent = account.send(Outgoing("Tel mij.", key="k-reach"))
    mastodon.statuses[sent.id].update(favourites_count=5, reblogs_count=2, replies_count=1)
    reach = account.reach(sent.id)
    assert (reach.likes, reach.shares, reach.replies, reach.total) == (5, 2, 1, 8)


# --- Bluesky -------------------------------------------------------------------------------


def _bsky(fake: FakeBluesky, password: str = PASSWORD, http: Http | None = None) -> BlueskyAccount:
    return BlueskyAccount(
        "BSKY_HANDLE",
        "BSKY_PASSWORD",
        service=fake.url,
        http=http or _http(),
        environ={"BSKY_HANDLE": HANDLE, "BSKY_PASSWORD": password},
    )


def test_facets_count_utf8_bytes_and_resolve_mentions() -> None:
    text = "🚲 Lees https://example.com/a. Met @klant.bsky.social #Fietsen en #1"
    found = facets(text, {"klant.bsky.social": "did:plc:klant"}.get)
    kinds = [f["features"][0]["$type"].rsplit("#", 1)[1] for f in found]
    assert kinds == ["link", "mention", "tag"]
    data = text.encode("utf-8")
    spans = [data[f["index"]["byteStart"] : f["index"]["byteEnd"]].decode() for f in found]
    assert spans == ["https://example.com/a", "@klant.bsky.social", "#Fietsen"]
    assert found[1]["features"][0]["did"] == "did:plc:klant"
    assert found[2]["features"][0]["tag"] == "Fietsen"
    # an unknown handle stays plain text
    assert [f["features"][0]["$type"] for f in facets("Hoi @niemand.example", lambda _: None)] == []


def test_bluesky_posts_with_facets_an_image_with_alt_text_and_a_reply(
    bluesky: FakeBluesky,
) -> None:
    bluesky.handles["klant.bsky.social"] = "did:plc:klant"
    account = _bsky(bluesky)
    parent = "at://did:plc:klant/app.bsky.feed.post/3kparent"
    post = Outgoing(
        "Hoi @klant.bsky.social, we kijken ernaar! Zie https://example.com/status #service",
        key="klopt:org:D9:v1",
        images=(Image(PNG, "image/png", "Schermafbeelding van de storingspagina"),),
        reply_to=ReplyTo(parent, cid="bafyparent", root_id=parent, root_cid="bafyparent"),
        language="nl",
    )
    sent = account.send(post)
    rkey = record_key("klopt:org:D9:v1")
    record = bluesky.records[rkey]["value"]
    assert sent.id == f"at://{DID}/app.bsky.feed.post/{rkey}"
    assert sent.url == f"https://bsky.app/profile/{HANDLE}/post/{rkey}"
    assert record["$type"] == "app.bsky.feed.post" and record["langs"] == ["nl"]
    assert [f["features"][0]["$type"] for f in record["facets"]] == [
        "app.bsky.richtext.facet#mention",
        "app.bsky.richtext.facet#link",
        "app.bsky.richtext.facet#tag",
    ]
    [image] = record["embed"]["images"]
    assert image["alt"] == "Schermafbeelding van de storingspagina"
    assert image["image"]["mimeType"] == "image/png" and image["image"]["size"] == len(PNG)
    assert record["reply"] == {
        "root": {"uri": parent, "cid": "bafyparent"},
        "parent": {"uri": parent, "cid": "bafyparent"},
    }


def test_bluesky_a_repeat_of_the_same_version_finds_its_record(bluesky: FakeBluesky) -> None:
    bluesky.fail_after_accept = 1
    account = _bsky(bluesky)
    sent = account.send(Outgoing("Eén keer.", key="klopt:org:D2:v1"))
    assert len(bluesky.records) == 1
    again = _bsky(bluesky).send(Outgoing("Eén keer.", key="klopt:org:D2:v1"))
    assert (again.id, len(bluesky.records)) == (sent.id, 1)
    assert (
        record_key("klopt:org:D2:v1")
        == record_key("klopt:org:D2:v1")
        != record_key("klopt:org:D2:v2")
    )
    assert len(record_key("x")) == 13


def test_bluesky_an_expired_session_is_renewed_once(bluesky: FakeBluesky) -> None:
    account = _bsky(bluesky)
    bluesky.expire_next = 1
    sent = account.send(Outgoing("Na een nieuwe sessie.", key="k-exp"))
    # Renewed with the refresh token, as the spec says: no second login with the password
    # (createSession is limited to 300 a day).
    assert (bluesky.sessions, bluesky.logins) == (2, 1) and sent.id.endswith(record_key("k-exp"))
    bluesky.expire_next = 1  # reading reach renews as well
    assert account.reach(sent.id).total == 0 and bluesky.sessions == 3
    # A refresh token that has expired too: the account logs in again.
    account._session = {**(account._session or {}), "refreshJwt": "refresh-old"}
    bluesky.expire_next = 1
    account.send(Outgoing("Na een nieuwe login.", key="k-exp-2"))
    assert bluesky.logins == 2 and len(bluesky.records) == 2


def test_bluesky_refusals_rate_limits_and_a_wrong_password(bluesky: FakeBluesky) -> None:
    with pytest.raises(BadCredentials):
        _bsky(bluesky, password="wrong").send(Outgoing("Hallo", key="k-pw"))
    with pytest.raises(PostRefused) as refused:
        _bsky(bluesky).send(Outgoing("x" * 301, key="k-long"))
    assert "300 graphemes" in str(refused.value)
    bluesky.rate_limited = 1
    assert _bsky(bluesky).send(Outgoing("Na de pauze.", key="k-rate")).id
    bluesky.rate_limited = 10
    with pytest.raises(RateLimited):
        _bsky(bluesky, http=_http(max_wait=0.0)).send(Outgoing("Te snel.", key="k-rate-2"))
    assert len(bluesky.records) == 1


def test_bluesky_reach_is_read_back(bluesky: FakeBluesky) -> None:
    account = _bsky(bluesky)
    sent = account.send(Outgoing("Tel mij.", key="k-reach"))
    bluesky.records[record_key("k-reach")].update(likeCount=4, repostCount=1, replyCount=2)
    account.appview = bluesky.url
    reach = account.reach(sent.id)
    assert (reach.likes, reach.shares, reach.replies) == (4, 1, 2)


def test_mastodon_a_try_after_the_key_is_forgotten_finds_the_status_made_before(
    mastodon: FakeMastodon,
) -> None:
    account = _account(mastodon)
    first_try = datetime.now(UTC) - timedelta(hours=2)
    post = Outgoing("@klant@elders.example Excuses, het is onderweg.", key="klopt:o:D4:v1",
                    since=first_try)  # fmt: skip
    sent = account.send(post)
    mastodon.forget_keys()  # an hour later Mastodon no longer knows the key

    again = account.send(post)

    assert again.id == sent.id and len(mastodon.statuses) == 1
    # Without the first try's time the platform's word is all there is: a second status.
    account.send(replace(post, since=None))
    assert len(mastodon.statuses) == 2
    # A status with other text, or made before the first try, is not taken for it.
    mastodon.forget_keys()
    later = replace(post, text="Een ander antwoord.", since=datetime.now(UTC) - timedelta(hours=1))
    assert account.send(later).id not in (sent.id,)
    assert len(mastodon.statuses) == 3


def test_no_calls_left_on_one_endpoint_does_not_stop_another(httpserver: HTTPServer) -> None:
    """Bluesky counts logins, posts and reads apart; so does Mastodon for posts. After a
    login that says none are left, the post on the same client is still sent."""
    reset = str(int(datetime.now(UTC).timestamp()) + 600)
    httpserver.expect_request("/xrpc/login", method="POST").respond_with_json(
        {"ok": True}, headers={"RateLimit-Remaining": "0", "RateLimit-Reset": reset}
    )
    httpserver.expect_request("/xrpc/post", method="POST").respond_with_json({"ok": True})
    http = _http(max_wait=0.0)
    http.post(httpserver.url_for("/xrpc/login"), json={})

    assert http.post(httpserver.url_for("/xrpc/post"), json={}).status_code == 200
    with pytest.raises(RateLimited):  # the login itself waits for its reset
        http.post(httpserver.url_for("/xrpc/login"), json={})
    assert len(httpserver.log) == 2  # the refused login never left the client
