"""Mastodon: hashtags, keyword searches, and the organisation's account, through the
instance's REST API (``/api/v1``, ``/api/v2``) with klopt's own HTTP client.

Streams, each with its own place in the cursor:

- ``tag:<hashtag>``: ``GET /api/v1/timelines/tag/:hashtag`` (public on most instances).
- ``search:<keyword>``: ``GET /api/v2/search?type=statuses`` (full-text search; most
  instances answer it only with a token, and only for posts that opted in to search).
- ``mentions:<account>``: the same search for ``@account``; the account's own posts
  are left out (they are not customers talking).
- ``account:<account>``: ``GET /api/v1/accounts/lookup``, then
  ``GET /api/v1/accounts/:id/statuses``: the organisation's own posts, replies
  included. Read only by a source added as *own*; such a source reads nothing else,
  so that no one else's post is stored as the organisation's own.

Paging. A timeline (tag, account) is read *upwards* from the id stored by the run
before: ``min_id=<id>`` answers the statuses immediately newer than that id, newest
first within the page, and the ``Link`` header's ``rel="prev"`` carries the ``min_id``
of the page above. Each page is stored with its newest id as the stream's cursor, so a
run that stops half-way resumes exactly there. A stream without a stored id (a first
run, or ``--since``) is walked *down* from the newest with ``max_id`` (``rel="next"``)
to ``since`` (else a few pages) and commits its newest id at the end. Search cannot be
read upwards: Mastodon turns ``min_id`` into a date filter and sorts by id, newest
first; it is walked down with ``offset`` to the stored id (sent as ``min_id`` too).
Without a token Mastodon refuses ``offset``, so a run reads the newest page only.

Boosts (a status whose ``reblog`` is set) are skipped: they add no text of their own,
and the boosted post is stored when it turns up itself. A status of a suspended
account is a *deleted* problem; one without any text (media only) is *not a post*.
The external id is the status's ``uri`` (the same on every instance), the reach the
author's ``followers_count``.
"""

from __future__ import annotations

from collections.abc import Iterator, Mapping
from typing import TYPE_CHECKING, Any, ClassVar
from urllib.parse import parse_qs, quote, urlparse

from klopt.errors import InputError
from klopt.listening.base import MentionRecord, content_hash, html_text
from klopt.listening.social import (
    MAX_PAGES,
    Entry,
    bearer,
    committer,
    deleted,
    env_name,
    expect,
    https_address,
    iso_time,
    newest_first,
    not_a_post,
)
from klopt.listening.source import Page, Setting, SourceContext, register_source, required, texts

if TYPE_CHECKING:  # httpx is loaded by the first sync, not by `klopt --help`
    import httpx

__all__ = ["MastodonSource"]

#: Statuses per request: the most Mastodon gives.
LIMIT = 40


@register_source
class MastodonSource:
    """Hashtags, searches and an account on one Mastodon instance."""

    kind: ClassVar[str] = "mastodon"
    network: ClassVar[bool] = True
    default_interval: ClassVar[int] = 900
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("instance", required=True),
        Setting("hashtag", multiple=True),
        Setting("keyword", multiple=True),
        Setting("account"),
        Setting("token_env", secret_env=True),
    )

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """``instance`` (https), hashtags without ``#``, keywords, ``account`` as
        ``user@domain``, and the name of the variable holding a token."""
        instance = https_address(required(options, "instance", cls.kind), cls.kind, "instance")
        hashtags = [tag.lstrip("#") for tag in texts(options, "hashtag")]
        for tag in hashtags:
            if not tag or any(c.isspace() or c in "/?#" for c in tag):
                raise InputError.keyed(
                    "source.bad_setting", kind=cls.kind, setting="hashtag", value=tag
                )
        account = str(options.get("account") or "").strip().lstrip("@")
        if account and (account.count("@") > 1 or any(c.isspace() for c in account)):
            raise InputError.keyed(
                "source.bad_setting", kind=cls.kind, setting="account", value=account
            )
        keywords = texts(options, "keyword")
        if not (hashtags or keywords or account):
            raise InputError.keyed(
                "source.nothing_to_follow", kind=cls.kind, settings="hashtag, keyword, account"
            )
        config: dict[str, Any] = {"instance": instance}
        if hashtags:
            config["hashtag"] = hashtags
        if keywords:
            config["keyword"] = keywords
        if account:
            config["account"] = account
        token_env = env_name(options, "token_env", cls.kind)
        if token_env:
            config["token_env"] = token_env
        return config

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.instance = str(config["instance"])
        self.hashtags = [str(t) for t in config.get("hashtag") or []]
        self.keywords = [str(k) for k in config.get("keyword") or []]
        self.account = str(config.get("account") or "") or None
        self.token_env = config.get("token_env")
        self.context = context
        self._headers: dict[str, str] = {}
        self._number = 0

    def pages(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """The new statuses of every stream, one stream after the other."""
        self._headers = bearer(
            self.context.secret(self.token_env, source=self.context.name or self.kind)
        )
        state = dict(cursor or {})
        if self.context.own:
            if self.account is None:
                raise InputError.keyed("source.missing_setting", kind=self.kind, setting="account")
            yield from self._own_posts(self.account, state)
            return
        for tag in self.hashtags:
            url = f"{self.instance}/api/v1/timelines/tag/{quote(tag, safe='')}"
            yield from self._timeline(f"tag:{tag}", url, {"limit": str(LIMIT)}, state)
        for keyword in self.keywords:
            yield from self._search(f"search:{keyword}", keyword, state)
        if self.account is not None:
            yield from self._search(f"mentions:{self.account}", f"@{self.account}", state)

    # --- streams ---------------------------------------------------------------------------

    def _own_posts(self, account: str, state: dict[str, Any]) -> Iterator[Page]:
        lookup = f"{self.instance}/api/v1/accounts/lookup"
        found = expect(self._json(lookup, {"acct": account}), dict, lookup, "an account")
        account_id = quote(str(expect(found.get("id"), str, lookup, "the account's id")))
        url = f"{self.instance}/api/v1/accounts/{account_id}/statuses"
        params = {"limit": str(LIMIT), "exclude_reblogs": "true"}
        yield from self._timeline(f"account:{account}", url, params, state)

    def _timeline(
        self, key: str, url: str, params: Mapping[str, str], state: dict[str, Any]
    ) -> Iterator[Page]:
        if state.get(key) is None:
            yield from self._walk_down(key, url, params, state)
            return
        min_id = str(state[key])
        for _ in range(MAX_PAGES):
            response = self._get(url, {**params, "min_id": min_id})
            statuses = _statuses(response, url)
            if not statuses:
                return
            entries = [self._entry(status) for status in statuses]
            orders = [e.order for e in entries if e.order is not None]
            above = _link(response, "prev", "min_id")
            top = max([_order(min_id), *orders, *([_order(above)] if above else [])])
            state[key] = top[1]
            yield _page(entries, dict(state))
            if above is None or top <= _order(min_id):
                return
            min_id = top[1]

    def _walk_down(
        self, key: str, url: str, params: Mapping[str, str], state: dict[str, Any]
    ) -> Iterator[Page]:
        def fetch(max_id: str | None) -> tuple[list[Any], str | None]:
            query = {**params, "max_id": max_id} if max_id else dict(params)
            response = self._get(url, query)
            statuses = _statuses(response, url)
            return statuses, _link(response, "next", "max_id") if statuses else None

        yield from newest_first(
            fetch,
            self._entry,
            floor=None,
            since=self.context.since,
            commit=committer(state, key),
        )

    def _search(self, key: str, query: str, state: dict[str, Any]) -> Iterator[Page]:
        url = f"{self.instance}/api/v2/search"
        stored = state.get(key)
        own = self.account if key.startswith("mentions:") else None

        def fetch(offset: int | None) -> tuple[list[Any], int | None]:
            params = {"q": query, "type": "statuses", "resolve": "false", "limit": str(LIMIT)}
            if stored is not None:
                params["min_id"] = str(stored)
            if offset:
                params["offset"] = str(offset)
            found = expect(self._json(url, params), dict, url, "search results")
            statuses = expect(found.get("statuses"), list, url, "statuses")
            # Mastodon answers ``offset`` only with a token: without one, the newest page.
            more = bool(statuses) and bool(self._headers)
            return statuses, (offset or 0) + LIMIT if more else None

        yield from newest_first(
            fetch,
            lambda status: self._entry(status, skip=own),
            floor=_order(str(stored)) if stored is not None else None,
            since=self.context.since,
            commit=committer(state, key),
        )

    # --- statuses --------------------------------------------------------------------------

    def _entry(self, status: Any, skip: str | None = None) -> Entry:
        """One status; ``skip`` names an account whose statuses are left out."""
        self._number += 1
        if not isinstance(status, dict):
            return Entry(problem=not_a_post(self._number, type(status).__name__))
        status_id = str(status.get("id") or "")
        order = _order(status_id) if status_id else None
        when = iso_time(status.get("created_at"))
        account = status.get("account")
        if not isinstance(account, dict):
            account = {}
        if status.get("reblog"):
            return Entry(order, status_id, when)  # a boost: no text of its own
        if account.get("suspended"):
            return Entry(order, status_id, when, problem=deleted(self._number))
        author = self._acct(account)
        if skip is not None and author is not None and _same_account(author, skip):
            return Entry(order, status_id, when)
        text = html_text(str(status.get("content") or ""))
        warning = " ".join(str(status.get("spoiler_text") or "").split())
        text = f"{warning}\n{text}" if warning and text else text or warning
        if not text:
            return Entry(order, status_id, when, problem=not_a_post(self._number, "no text"))
        external = str(status.get("uri") or status.get("url") or status_id)
        followers = account.get("followers_count")
        record = MentionRecord(
            platform="mastodon",
            external_id=external,
            content_hash=content_hash(text),
            text=text,
            author=author,
            posted_at=when,
            url=str(status.get("url") or status.get("uri") or "") or None,
            reach=followers if isinstance(followers, int) and followers >= 0 else None,
            language=str(status.get("language") or "") or None,
            raw={
                "id": status_id,
                "instance": self.instance,  # where ``id`` is the status's id
                "uri": status.get("uri"),
                "url": status.get("url"),
                "created_at": status.get("created_at"),
                "account": author,
                "in_reply_to_id": status.get("in_reply_to_id"),
                "replies_count": status.get("replies_count"),
                "reblogs_count": status.get("reblogs_count"),
                "favourites_count": status.get("favourites_count"),
            },
        )
        return Entry(order, status_id, when, record=record)

    def _acct(self, account: Mapping[str, Any]) -> str | None:
        """``user@domain``: a local account's ``acct`` has no domain; its profile URL does."""
        acct = str(account.get("acct") or "").strip()
        if not acct or "@" in acct:
            return acct or None
        host = urlparse(str(account.get("url") or "")).hostname or urlparse(self.instance).hostname
        return f"{acct}@{host}" if host else acct

    # --- requests --------------------------------------------------------------------------

    def _get(self, url: str, params: Mapping[str, str]) -> httpx.Response:
        return self.context.http.get(url, params=params, headers=self._headers)

    def _json(self, url: str, params: Mapping[str, str]) -> Any:
        return self.context.http.json(url, params=params, headers=self._headers)


def _statuses(response: httpx.Response, url: str) -> list[Any]:
    from klopt.listening.http import parse_json

    return list(expect(parse_json(response, url), list, url, "a list of statuses"))


def _page(entries: list[Entry], cursor: Mapping[str, Any]) -> Page:
    records = [e.record for e in entries if e.record is not None]
    problems = [e.problem for e in entries if e.record is None and e.problem is not None]
    return Page(records, cursor, problems)


def _order(status_id: str) -> tuple[int, str]:
    """Ids sort by length, then as text: numeric ids of any length, and fixed-width ones."""
    return (len(status_id), status_id)


def _link(response: httpx.Response, rel: str, param: str) -> str | None:
    """``param`` of the ``Link`` header's ``rel`` address (Mastodon's paging)."""
    url = response.links.get(rel, {}).get("url")
    if not url:
        return None
    values = parse_qs(urlparse(url).query).get(param)
    return values[0] if values else None


def _same_account(author: str, account: str) -> bool:
    """``anna@mastodon.social`` and ``anna`` (local on the instance) as one account."""
    a, b = author.casefold().lstrip("@"), account.casefold().lstrip("@")
    if "@" in a and "@" in b:
        return a == b
    return a.split("@")[0] == b.split("@")[0]
