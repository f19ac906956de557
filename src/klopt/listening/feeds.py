"""RSS and Atom feeds (news, blogs, review sites), read with feedparser.

Each run asks with the ``ETag`` and ``Last-Modified`` of the run before
(conditional GET): a feed that did not change answers 304 and costs nothing. An entry
is a mention with the feed's platform name (``feed`` unless the source says otherwise),
its id (the entry's id, else its link), its title and summary as text, its author,
time and link. A URL that returns a web page instead of a feed is refused, naming the
feed the page links to when it has one.
"""

from __future__ import annotations

import re
from collections.abc import Iterator, Mapping
from datetime import UTC, datetime
from typing import Any, ClassVar
from urllib.parse import urljoin, urlparse

from klopt.errors import InputError, MalformedResponse, NotAFeed
from klopt.listening.base import MentionRecord, RowProblem, content_hash, html_text
from klopt.listening.source import Page, Setting, SourceContext, register_source, required

__all__ = ["FeedSource"]


@register_source
class FeedSource:
    """An RSS or Atom feed."""

    kind: ClassVar[str] = "rss"
    network: ClassVar[bool] = True
    default_interval: ClassVar[int] = 1800
    settings: ClassVar[tuple[Setting, ...]] = (
        Setting("url", required=True, argument=True),
        Setting("platform"),
    )

    @classmethod
    def configure(cls, options: Mapping[str, Any]) -> dict[str, Any]:
        """``url`` (http or https) and an optional ``platform`` name for its entries."""
        url = required(options, "url", cls.kind)
        if urlparse(url).scheme not in ("http", "https") or not urlparse(url).netloc:
            raise InputError.keyed("source.bad_url", url=url)
        platform = str(options.get("platform") or "feed").strip().lower()
        return {"url": url, "platform": platform}

    def __init__(self, config: Mapping[str, Any], context: SourceContext) -> None:
        self.url = str(config["url"])
        self.platform = str(config.get("platform") or "feed")
        self.context = context

    def pages(self, cursor: Mapping[str, Any] | None) -> Iterator[Page]:
        """One page: the entries of the feed that are new (all of them when it changed)."""
        import feedparser

        cursor = dict(cursor or {})
        headers = {}
        if cursor.get("etag"):
            headers["If-None-Match"] = str(cursor["etag"])
        if cursor.get("last_modified"):
            headers["If-Modified-Since"] = str(cursor["last_modified"])
        response = self.context.http.get(self.url, headers=headers)
        if response.status_code == 304:
            yield Page([], cursor)
            return
        _refuse_html(self.url, response.headers.get("content-type", ""), response.content)
        parsed = feedparser.parse(response.content)
        if not parsed.entries and not parsed.feed.get("title"):
            raise MalformedResponse.keyed("source.not_a_feed", url=self.url)
        records: list[MentionRecord] = []
        problems: list[RowProblem] = []
        for number, entry in enumerate(parsed.entries, start=1):
            record = self._record(entry)
            if record is None:
                problems.append(RowProblem(number, "entry without text", "feed_empty_entry"))
                continue
            since = self.context.since
            if since is not None and record.posted_at is not None and record.posted_at < since:
                continue
            records.append(record)
        next_cursor = {
            "etag": response.headers.get("etag"),
            "last_modified": response.headers.get("last-modified"),
        }
        yield Page(records, next_cursor, problems)

    def _record(self, entry: Any) -> MentionRecord | None:
        title = html_text(str(entry.get("title") or ""))
        summary = html_text(str(entry.get("summary") or ""))
        if title and summary and not summary.startswith(title):
            text = f"{title}\n{summary}"
        else:
            text = summary or title
        if not text:
            return None
        link = str(entry.get("link") or "") or None
        digest = content_hash(text)
        external = str(entry.get("id") or link or f"sha256:{digest[:32]}")
        return MentionRecord(
            platform=self.platform,
            external_id=external,
            content_hash=digest,
            text=text,
            author=str(entry.get("author") or "") or None,
            posted_at=_entry_time(entry),
            url=link,
            reach=None,
            language=None,
            raw={"id": external, "title": title, "link": link},
        )


def _entry_time(entry: Any) -> datetime | None:
    for name in ("published_parsed", "updated_parsed"):
        parsed = entry.get(name)
        if parsed:
            year, month, day, hour, minute, second = parsed[:6]
            return datetime(year, month, day, hour, minute, second, tzinfo=UTC)
    return None


_ALTERNATE = re.compile(
    rb"<link[^>]+type=[\"']application/(?:rss|atom)\+xml[\"'][^>]*>", re.IGNORECASE
)
_HREF = re.compile(rb"href=[\"']([^\"']+)[\"']", re.IGNORECASE)


def _refuse_html(url: str, content_type: str, body: bytes) -> None:
    """A web page where a feed was expected: :class:`NotAFeed`, naming the page's feed."""
    start = body[:512].lstrip().lower()
    if "html" not in content_type.lower() and not start.startswith((b"<!doctype html", b"<html")):
        return
    link = _ALTERNATE.search(body)
    href = _HREF.search(link.group(0)) if link else None
    if href is not None:
        feed = urljoin(url, href.group(1).decode("utf-8", "replace"))
        raise NotAFeed.keyed("source.html_with_feed", url=url, feed=feed)
    raise NotAFeed.keyed("source.html", url=url)
