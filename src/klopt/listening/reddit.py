"""Reddit: new posts in subreddits, and searches, through Reddit's JSON listings with
klopt's own HTTP client.

Streams, each with its own place in the cursor:

- ``sub:<name>``: ``GET /r/:name/new.json``, every new post in the subreddit.
- ``search:<q>``: ``GET /search.json?q=&sort=new&type=link``, posts matching a search
  anywhere on Reddit; Reddit's own syntax narrows it (``subreddit:fietsen voorbeeld``,
  ``title:bezorging``).

Without a token the public host (``https://www.reddit.com``) answers, at a low rate and
only with a descriptive User-Agent (klopt's client always sends one). With an OAuth
token (``token_env``, sent as ``Authorization: bearer``) the source asks
``https://oauth.reddit.com``, as Reddit requires. Comments are out of scope.

Paging. A listing is newest first and pages with ``after`` (the fullname of its last
post). A run walks down to the newest post of the run before (its fullname; Reddit's
base-36 ids grow with time), or to ``since`` on a first run, and stores the new mark
with its last page (see :mod:`klopt.listening.social`). ``before`` is not used: it
answers nothing once the post it names is deleted.

Text is the title, then the body (``selftext``) when there is one; a post whose author
or body is ``[deleted]`` or ``[removed]``, or that moderators removed, is a *deleted*
problem. The external id is the fullname (``t3_…``), the URL the post's permalink on
``www.reddit.com``, and the reach the subreddit's subscribers: who may see it in
their feed (the score, votes up minus down, is kept in the raw payload).
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import quote

from klopt.errors import InputError
from klopt.listening.base import MentionRecord, content_hash
from klopt.listening.social import (
    Entry,
    bearer,
    committer,
    deleted,
    env_name,
    expect,
    https_address,
    newest_first,
    not_a_post,
)
from klopt.listening.source import Page, Setting, SourceContext, register_source, texts

__all__ = ["RedditSource"]

PUBLIC_HOST = "https://www.reddit.com"
OAUTH_HOST = "https://oauth.reddit.com"
#: Posts per request: the most Reddit gives.
LIMIT = 100

_SUBREDDIT = re.compile(r"[A-Za-z0-9][A-Za-z0-9_]{1,20}")
_GONE = ("[deleted]", "[removed]")


@register_source
class RedditSource:
    """New posts in subreddits, and searches, on Reddit."""

    kind: ClassVar[str] = "reddit"
    network: ClassVar[bool] = True
    default_interval: ClassVar[int] = 900
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("subreddit", multiple=True),
        Setting("query", multiple=True),
        Setting("base_url"),
        Setting("token_env", secret_env=True),
    )

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """Subreddits (without ``r/``), searches, the host, and the name of the variable
        holding an OAuth token."""
        subreddits = [re.sub(r"^/?r/", "", s).strip("/") for s in texts(options, "subreddit")]
        for name in subreddits:
            if not _SUBREDDIT.fullmatch(name):
                raise InputError.keyed(
                    "source.bad_setting", kind=cls.kind, setting="subreddit", value=name
                )
        queries = texts(options, "query")
        if not (subreddits or queries):
            raise InputError.keyed(
                "source.nothing_to_follow", kind=cls.kind, settings="subreddit, query"
            )
        token_env = env_name(options, "token_env", cls.kind)
        default = OAUTH_HOST if token_env else PUBLIC_HOST
        base_url = https_address(str(options.get("base_url") or default), cls.kind, "base_url")
        config: dict[str, Any] = {"base_url": base_url}
        if subreddits:
            config["subreddit"] = subreddits
        if queries:
            config["query"] = queries
        if token_env:
            config["token_env"] = token_env
        return config

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.subreddits = [str(s) for s in config.get("subreddit") or []]
        self.queries = [str(q) for q in config.get("query") or []]
        self.base_url = str(config.get("base_url") or PUBLIC_HOST)
        self.token_env = config.get("token_env")
        self.context = context
        self._headers: dict[str, str] = {}
        self._number = 0

    def pages(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """The new posts of every stream, one stream after the other."""
        self._headers = bearer(
            self.context.secret(self.token_env, source=self.context.name or self.kind)
        )
        state = dict(cursor or {})
        for name in self.subreddits:
            url = f"{self.base_url}/r/{quote(name)}/new.json"
            yield from self._walk(f"sub:{name}", url, {}, state)
        for query in self.queries:
            params = {"q": query, "sort": "new", "type": "link"}
            yield from self._walk(f"search:{query}", f"{self.base_url}/search.json", params, state)

    def _walk(
        self, key: str, url: str, params: Mapping[str, str], state: dict[str, Any]
    ) -> Iterator[Page]:
        stored = state.get(key)
        floor = _order(str(stored)) if stored else None

        def fetch(after: str | None) -> tuple[list[Any], str | None]:
            query = {**params, "limit": str(LIMIT), "raw_json": "1"}
            if after:
                query["after"] = after
            data = self.context.http.json(url, params=query, headers=self._headers)
            listing = expect(data, dict, url, "a listing")
            body = expect(listing.get("data"), dict, url, "the listing's data")
            children = list(expect(body.get("children"), list, url, "the listing's children"))
            following = body.get("after")
            return children, str(following) if following and children else None

        yield from newest_first(
            fetch, self._entry, floor=floor, since=self.context.since, commit=committer(state, key)
        )

    def _entry(self, child: Any) -> Entry:
        self._number += 1
        data = child.get("data") if isinstance(child, dict) else None
        if not isinstance(data, dict):
            return Entry(problem=not_a_post(self._number, "no data"))
        name = str(data.get("name") or "")
        order = _order(name)
        created = data.get("created_utc")
        when = datetime.fromtimestamp(created, UTC) if isinstance(created, int | float) else None
        if child.get("kind") != "t3":
            what = str(child.get("kind") or "unknown")
            return Entry(order, name or None, when, problem=not_a_post(self._number, what))
        title = str(data.get("title") or "").strip()
        body = str(data.get("selftext") or "").strip()
        if data.get("author") in _GONE or body in _GONE or data.get("removed_by_category"):
            return Entry(order, name, when, problem=deleted(self._number))
        text = f"{title}\n{body}" if title and body else title or body
        if not text:
            return Entry(order, name, when, problem=not_a_post(self._number, "no text"))
        permalink = str(data.get("permalink") or "")
        subscribers = data.get("subreddit_subscribers")
        record = MentionRecord(
            platform="reddit",
            external_id=name,
            content_hash=content_hash(text),
            text=text,
            author=str(data.get("author") or "") or None,
            posted_at=when,
            url=f"{PUBLIC_HOST}{permalink}" if permalink.startswith("/") else None,
            reach=subscribers if isinstance(subscribers, int) else None,
            language=None,
            raw={
                "name": name,
                "subreddit": data.get("subreddit"),
                "title": title,
                "author": data.get("author"),
                "created_utc": created,
                "permalink": permalink,
                "url": data.get("url"),
                "score": data.get("score"),
                "num_comments": data.get("num_comments"),
            },
        )
        return Entry(order, name, when, record=record)


def _order(fullname: str) -> int | None:
    """A fullname's base-36 id (``t3_1g5xk2a``) as a number: newer posts have larger ones."""
    _, _, base36 = fullname.partition("_")
    try:
        return int(base36, 36)
    except ValueError:
        return None
