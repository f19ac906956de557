"""Mastodon: statuses, media with a description, replies, visibility, and their reach.

``POST /api/v1/statuses`` carries the post's key as ``Idempotency-Key``: Mastodon keeps
the status it made for a key (an hour) and answers a repeat with that same status, so a
try after a time-out or a server error that came after the status was made does not post
twice. Images go first to ``POST /api/v2/media`` with their description; one that is
still being processed (202) is asked after until it is ready.

Mastodon remembers a key for an hour only. A try that comes later (a worker that was down,
a token that expired overnight) first looks among the account's newest statuses for one
with the same text made since the first try, and returns it instead of posting again.

A reply names the status it answers by its id on the account's own server: a mention read
on another server is first looked up there by its ``uri`` (``GET /api/v2/search`` with
``resolve=true``).
"""

from __future__ import annotations

import os
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any
from urllib.parse import quote, urlparse

from klopt.errors import BadCredentials, PostRefused, SourceUnavailable
from klopt.listening.base import html_text
from klopt.listening.http import Http, parse_json
from klopt.listening.social import expect, iso_time
from klopt.publishing.outgoing import Outgoing, Reach, ReplyTo, Sent

__all__ = ["MastodonAccount"]

#: How long Mastodon remembers an ``Idempotency-Key`` ("up to 1 hour"), less a margin.
KEY_LIFETIME = timedelta(minutes=50)
#: Client errors that say what is wrong with the post (Mastodon: 422 with ``error``).
_REFUSALS = (400, 404, 409, 413, 422)


@dataclass
class MastodonAccount:
    """An organisation's Mastodon account.

    Attributes:
        instance: the server's address, e.g. ``https://mastodon.social``.
        token_env: the environment variable holding the account's access token
            (scope ``write:statuses write:media read:statuses read:search read:accounts``;
            ``read:search`` finds a status of another server to reply to,
            ``read:accounts`` the account's own statuses).
        http: the HTTP client (rate limits and retries as for sources).
        environ: where the token is looked up.
        media_polls: how often an image still being processed is asked after.
    """

    instance: str
    token_env: str
    http: Http = field(default_factory=Http)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    media_polls: int = 10

    platform = "mastodon"

    def _headers(self, key: str | None = None) -> dict[str, str]:
        token = self.environ.get(self.token_env, "").strip()
        if not token:
            raise BadCredentials.keyed(
                "publish.no_secret", name=self.token_env, platform="Mastodon"
            )
        headers = {"Authorization": f"Bearer {token}"}
        if key:
            headers["Idempotency-Key"] = key
        return headers

    def _url(self, path: str) -> str:
        return self.instance.rstrip("/") + path

    def send(self, post: Outgoing) -> Sent:
        """Publish ``post``; a repeat of the same key returns the status made before.

        Raises:
            PostRefused: the server refused the post (its reason is in the message).
            BadCredentials: the token was refused or has expired (401).
            RateLimited: the server asks to wait longer than the client waits.
            SourceUnavailable: no answer, or server errors after the retries.
        """
        if post.since is not None and datetime.now(UTC) - post.since > KEY_LIFETIME:
            made = self._made_since(post)
            if made is not None:
                return made
        media = [self._media(image.data, image.mime, image.alt) for image in post.images]
        body: dict[str, Any] = {"status": post.text, "visibility": post.visibility}
        if media:
            body["media_ids"] = media
        if post.reply_to is not None:
            body["in_reply_to_id"] = self._status_id(post.reply_to)
        if post.language:
            body["language"] = post.language
        url = self._url("/api/v1/statuses")
        response = self.http.post(
            url,
            json=body,
            headers=self._headers(post.key),
            credentials=(401, 403),
            answers=_REFUSALS,
        )
        status = self._answer(response, url)
        return Sent(str(status["id"]), status.get("url") or status.get("uri"))

    def _made_since(self, post: Outgoing) -> Sent | None:
        """The account's status with ``post``'s text made since its first try, if any
        (the newest 40: more than one account posts in the time a key is remembered)."""
        me = self._url("/api/v1/accounts/verify_credentials")
        account = expect(parse_json(self.http.get(me, headers=self._headers()), me), dict, me,
                         "the account")  # fmt: skip
        url = self._url(f"/api/v1/accounts/{quote(str(account.get('id') or ''))}/statuses")
        params = {"limit": "40", "exclude_reblogs": "true"}
        statuses = expect(
            parse_json(self.http.get(url, params=params, headers=self._headers()), url),
            list, url, "statuses",
        )  # fmt: skip
        wanted = _plain(post.text)
        since = post.since - timedelta(minutes=1) if post.since is not None else None
        for status in statuses:
            if not isinstance(status, dict) or not status.get("id"):
                continue
            made = iso_time(status.get("created_at"))
            if since is not None and (made is None or made < since):
                continue
            if _plain(html_text(str(status.get("content") or ""))) == wanted:
                return Sent(str(status["id"]), status.get("url") or status.get("uri"))
        return None

    def _status_id(self, reply_to: ReplyTo) -> str:
        """The id on this server of the status a reply answers."""
        here = urlparse(self.instance).hostname
        if reply_to.seen_on is not None and urlparse(reply_to.seen_on).hostname == here:
            return reply_to.id
        url = self._url("/api/v2/search")
        params = {"q": reply_to.uri or reply_to.id, "type": "statuses", "resolve": "true",
                  "limit": "1"}  # fmt: skip
        found = self._answer_list(
            self.http.get(url, params=params, headers=self._headers()),
            url,
        )
        if not found:
            raise PostRefused.keyed("publish.reply_gone", platform="Mastodon", post=reply_to.uri)
        return str(found[0]["id"])

    def _answer_list(self, response: Any, url: str) -> list[dict[str, Any]]:
        payload = expect(parse_json(response, url), dict, url, "search results")
        statuses = expect(payload.get("statuses"), list, url, "statuses")
        return [s for s in statuses if isinstance(s, dict) and s.get("id")]

    def _media(self, data: bytes, mime: str, alt: str) -> str:
        url = self._url("/api/v2/media")
        response = self.http.post(
            url,
            files={"file": ("image", data, mime)},
            data={"description": alt},
            headers=self._headers(),
            credentials=(401, 403),
            answers=_REFUSALS,
        )
        attachment = self._answer(response, url)
        media_id = str(attachment["id"])
        polls = 0
        while response.status_code == 202 or not attachment.get("url"):
            polls += 1
            if polls > self.media_polls:
                raise SourceUnavailable.keyed("source.server_error", url=url, status=202)
            self.http.sleep(1.0)
            check = self._url(f"/api/v1/media/{media_id}")
            response = self.http.get(check, headers=self._headers())
            attachment = self._answer(response, check)
        return media_id

    def reach(self, status_id: str) -> Reach:
        """Favourites, boosts and replies of one of the account's statuses."""
        url = self._url(f"/api/v1/statuses/{status_id}")
        status = self._answer(self.http.get(url, headers=self._headers()), url)
        return Reach(
            int(status.get("favourites_count") or 0),
            int(status.get("reblogs_count") or 0),
            int(status.get("replies_count") or 0),
        )

    def _answer(self, response: Any, url: str) -> dict[str, Any]:
        payload = parse_json(response, url)
        if response.status_code in _REFUSALS:
            detail = payload.get("error") if isinstance(payload, dict) else None
            raise PostRefused.keyed(
                "publish.refused",
                platform="Mastodon",
                status=response.status_code,
                detail=str(detail or "")[:300],
            )
        expect(payload, dict, url, "a status")
        if payload.get("id") in (None, ""):  # ids are strings, or numbers on old servers
            expect(None, str, url, "an id")
        return dict(payload)


def _plain(text: str) -> str:
    """A status's text as compared: one space between words, mentions without their
    server (Mastodon shows ``@anna@mastodon.example`` as ``@anna``)."""
    return " ".join(re.sub(r"(?<![\w@])@(\w+)@[\w.-]+\w", r"@\1", text).split())
