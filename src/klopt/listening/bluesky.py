"""Bluesky: post searches and authors' feeds through the AT Protocol's XRPC API, with
klopt's own HTTP client.

Streams, each with its own place in the cursor:

- ``query:<q>``: ``GET /xrpc/app.bsky.feed.searchPosts?q=&sort=latest&since=`` (full-text
  search). Bluesky's public AppView has refused unauthenticated search since early
  2025: give an app password (``identifier_env`` and ``password_env``) and the
  source logs in with ``com.atproto.server.createSession`` at the start of each run
  and asks its PDS (``https://bsky.social`` unless ``service`` says otherwise).
- ``author:<handle>``: ``GET /xrpc/app.bsky.feed.getAuthorFeed?filter=posts_no_replies``
  (public): an account's posts; reposts and the pinned post are skipped (not its
  text, or not new). A source added as *own* with the organisation's handle brings
  in its own posts.

Paging. Both list the newest first with an opaque ``cursor``, so a run walks down to the
high-water mark of the run before (the newest post's time and uri), or to ``since``
on a first run, and stores the new mark with its last page (see
:mod:`klopt.listening.social`). Searches also send the mark as ``since``. Posts are
ordered by their *sort time*, the earlier of ``createdAt`` and ``indexedAt``, as
Bluesky sorts them.

A post that is gone (``app.bsky.feed.defs#notFoundPost``, ``#blockedPost``) is a
*deleted* problem; one without text (an image only) is *not a post*. The external id
is the post's ``at://`` uri, the URL its ``bsky.app`` address. Reach stays empty:
a post view carries no follower count (likes and reposts are kept in the raw payload).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar

from klopt.errors import (
    InputError,
)
from klopt.listening.base import MentionRecord, content_hash
from klopt.listening.social import (
    Entry,
    bearer,
    committer,
    deleted,
    env_name,
    expect,
    https_address,
    iso_text,
    iso_time,
    newest_first,
    not_a_post,
)
from klopt.listening.source import Page, Setting, SourceContext, register_source, texts

if TYPE_CHECKING:  # httpx is loaded by the first sync, not by `klopt --help`
    from klopt.listening.http import Http

__all__ = ["BlueskySource", "create_session"]

PUBLIC_SERVICE = "https://public.api.bsky.app"
LOGIN_SERVICE = "https://bsky.social"
SEARCH = "/xrpc/app.bsky.feed.searchPosts"
AUTHOR_FEED = "/xrpc/app.bsky.feed.getAuthorFeed"
SESSION = "/xrpc/com.atproto.server.createSession"
#: Posts per request: the most both methods give.
LIMIT = 100

_HANDLE = re.compile(r"(did:[a-z]+:[A-Za-z0-9._:%-]+|([a-z0-9]([a-z0-9-]*[a-z0-9])?\.)+[a-z]+)")
_GONE = ("app.bsky.feed.defs#notFoundPost", "app.bsky.feed.defs#blockedPost")


@register_source
class BlueskySource:
    """Searches and authors' feeds on Bluesky."""

    kind: ClassVar[str] = "bluesky"
    network: ClassVar[bool] = True
    default_interval: ClassVar[int] = 900
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("query", multiple=True),
        Setting("author", multiple=True),
        Setting("service"),
        Setting("identifier_env", secret_env=True),
        Setting("password_env", secret_env=True),
    )

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Queries, author handles (without ``@``), the service, and the names of the
        variables holding the login (both or neither)."""
        queries = texts(options, "query")
        authors = [a.lstrip("@").lower() for a in texts(options, "author")]
        for author in authors:
            if not _HANDLE.fullmatch(author):
                raise InputError.keyed(
                    "source.bad_setting", kind=cls.kind, setting="author", value=author
                )
        if not (queries or authors):
            raise InputError.keyed(
                "source.nothing_to_follow", kind=cls.kind, settings="query, author"
            )
        identifier_env = env_name(options, "identifier_env", cls.kind)
        password_env = env_name(options, "password_env", cls.kind)
        if bool(identifier_env) != bool(password_env):
            missing = "password_env" if identifier_env else "identifier_env"
            raise InputError.keyed("source.missing_setting", kind=cls.kind, setting=missing)
        default = LOGIN_SERVICE if password_env else PUBLIC_SERVICE
        service = https_address(str(options.get("service") or default), cls.kind, "service")
        config: dict[str, Any] = {"service": service}
        if queries:
            config["query"] = queries
        if authors:
            config["author"] = authors
        if identifier_env and password_env:
            config |= {"identifier_env": identifier_env, "password_env": password_env}
        return config

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.queries = [str(q) for q in config.get("query") or []]
        self.authors = [str(a) for a in config.get("author") or []]
        self.service = str(config.get("service") or PUBLIC_SERVICE)
        self.identifier_env = config.get("identifier_env")
        self.password_env = config.get("password_env")
        self.context = context
        self._headers: dict[str, str] = {}
        self._number = 0

    def pages(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """The new posts of every stream, one stream after the other."""
        self._headers = self._login()
        state = dict(cursor or {})
        for query in self.queries:
            params = {"q": query, "sort": "latest", "limit": str(LIMIT)}
            yield from self._walk(f"query:{query}", SEARCH, params, "posts", state)
        for author in self.authors:
            params = {"actor": author, "filter": "posts_no_replies", "limit": str(LIMIT)}
            yield from self._walk(f"author:{author}", AUTHOR_FEED, params, "feed", state)

    def _login(self) -> dict[str, str]:
        identifier = self.context.secret(self.identifier_env, source=self.context.name or self.kind)
        password = self.context.secret(self.password_env, source=self.context.name or self.kind)
        if not identifier or not password:
            return {}
        url = f"{self.service}{SESSION}"
        return bearer(create_session(self.context.http, url, identifier, password))

    def _walk(
        self, key: str, path: str, params: dict[str, str], field: str, state: dict[str, Any]
    ) -> Iterator[Page]:
        url = f"{self.service}{path}"
        mark = state.get(key) if isinstance(state.get(key), dict) else None
        floor = (iso_time(mark.get("at")), str(mark.get("uri") or "")) if mark else None
        if floor is not None and floor[0] is None:
            floor = None
        since = self.context.since
        start = str(mark["at"]) if mark and floor else iso_text(since) if since else None
        if field == "posts" and start:
            params = {**params, "since": start}  # searchPosts' own lower bound (inclusive)

        def fetch(position: str | None) -> tuple[list[Any], str | None]:
            query = {**params, "cursor": position} if position else params
            data = expect(self._json(url, query), dict, url, "a JSON object")
            items = list(expect(data.get(field, []), list, url, field))
            following = data.get("cursor")
            return items, str(following) if following and items else None

        yield from newest_first(
            fetch,
            lambda item: self._entry(item, feed=field == "feed"),
            floor=floor,
            since=since,
            commit=committer(state, key),
        )

    def _entry(self, item: Any, *, feed: bool) -> Entry:
        self._number += 1
        if feed and isinstance(item, dict) and item.get("reason"):
            return Entry()  # a repost, or the pinned post: not new text of this author
        post = item.get("post") if feed and isinstance(item, dict) else item
        if _gone(post):
            return Entry(problem=deleted(self._number))
        if not isinstance(post, dict) or not isinstance(post.get("record"), dict):
            return Entry(problem=not_a_post(self._number, "no post record"))
        record, uri = post["record"], str(post.get("uri") or "")
        author: dict[str, Any] = post["author"] if isinstance(post.get("author"), dict) else {}
        created, indexed = iso_time(record.get("createdAt")), iso_time(post.get("indexedAt"))
        sort_at = min((t for t in (created, indexed) if t is not None), default=None)
        order = (sort_at, uri) if sort_at is not None else None
        mark = {"at": iso_text(sort_at), "uri": uri} if sort_at is not None else None
        text = str(record.get("text") or "").strip()
        if not text:
            return Entry(order, mark, sort_at, problem=not_a_post(self._number, "no text"))
        handle = str(author.get("handle") or "") or None
        langs = record.get("langs")
        return Entry(
            order,
            mark,
            sort_at,
            record=MentionRecord(
                platform="bluesky",
                external_id=uri,
                content_hash=content_hash(text),
                text=text,
                author=handle,
                posted_at=created or indexed,
                url=_web_url(uri, handle or str(author.get("did") or "")),
                reach=None,
                language=str(langs[0]) if isinstance(langs, list) and langs else None,
                raw={
                    "uri": uri,
                    "cid": post.get("cid"),
                    # Where a reply to it goes: the thread's root (none: it starts one).
                    "reply": _refs(record.get("reply")),
                    "author": handle,
                    "did": author.get("did"),
                    "createdAt": record.get("createdAt"),
                    "indexedAt": post.get("indexedAt"),
                    "likeCount": post.get("likeCount"),
                    "repostCount": post.get("repostCount"),
                    "replyCount": post.get("replyCount"),
                    "quoteCount": post.get("quoteCount"),
                },
            ),
        )

    def _json(self, url: str, params: Mapping[str, str]) -> Any:
        return self.context.http.json(url, params=params, headers=self._headers)


def _refs(reply: Any) -> dict[str, Any] | None:
    """A post's reply refs (``root`` and ``parent``, each ``uri`` and ``cid``), or None."""
    if not isinstance(reply, dict):
        return None
    return {
        part: {"uri": ref.get("uri"), "cid": ref.get("cid")}
        for part in ("root", "parent")
        if isinstance(ref := reply.get(part), dict)
    }


def _gone(post: Any) -> bool:
    """A deleted post, or one hidden by a block: only a stub with its uri is left."""
    if not isinstance(post, dict):
        return False
    return post.get("$type") in _GONE or bool(post.get("notFound") or post.get("blocked"))


def _web_url(uri: str, actor: str) -> str | None:
    """``at://did/app.bsky.feed.post/rkey`` as ``https://bsky.app/profile/<actor>/post/<rkey>``."""
    parts = uri.removeprefix("at://").split("/")
    if len(parts) != 3 or not actor:
        return None
    return f"https://bsky.app/profile/{actor}/post/{parts[2]}"


def create_session(http: Http, url: str, identifier: str, password: str) -> str:
    """Log in with an app password (``com.atproto.server.createSession``): the access token.

    One POST through the run's client (a server error or a time-out is retried, a rate
    limit waited out as for every request); refused credentials say so at once. The
    password goes in the body only and never appears in an error.

    Raises:
        BadCredentials: the login was refused (400, 401, 403).
        RateLimited: too many logins (Bluesky allows a few hundred a day).
        SourceUnavailable: no answer, or a server error.
    """
    from klopt.listening.http import parse_json

    response = http.post(url, json={"identifier": identifier, "password": password})
    session = expect(parse_json(response, url), dict, url, "a session")
    return str(expect(session.get("accessJwt"), str, url, "an access token"))
