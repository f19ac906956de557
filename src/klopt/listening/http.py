"""HTTP for network sources: one client with the same manners towards every platform.

- **Rate limits.** A 429 (or a 503 with ``Retry-After``) waits as long as the server asks
  (``Retry-After`` in seconds or as a date, or the platform's reset header) and tries
  again. When the platform says no calls are left (``X-RateLimit-Remaining: 0`` and
  its relatives), the next call to that endpoint (method and path) waits for the reset
  first. A wait longer than ``max_wait`` is not slept through: :class:`RateLimited`
  says until when, and the sync stops there with what it has.
- **Faults.** A 5xx, a timeout or a dropped connection is tried again after an
  exponential back-off with full jitter, ``retries`` times; then :class:`SourceUnavailable`.
- **Credentials.** A 401 or 403 is :class:`BadCredentials` at once. Tokens go in headers
  only and never appear in an error, a log line or the store.
- **Payloads.** :meth:`Http.json` refuses what is not JSON (:class:`MalformedResponse`)
  with the first bytes of what came instead.

``sleep``, ``clock`` and ``random`` are parameters, so tests run the real code without
waiting.
"""

from __future__ import annotations

import email.utils
import json
import random as _random
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import httpx

from klopt import __version__
from klopt.errors import BadCredentials, MalformedResponse, RateLimited, SourceUnavailable

__all__ = ["Http", "USER_AGENT", "retry_after"]

USER_AGENT = f"klopt/{__version__} (+https://github.com/klopt/klopt; self-hosted listening)"

#: Headers that say how many calls are left, and when the window resets, per platform:
#: Mastodon (X-RateLimit-*: reset as an ISO time), Reddit (x-ratelimit-*: reset in
#: seconds), Bluesky and the IETF draft (RateLimit-*: reset in seconds or epoch seconds).
_REMAINING = ("x-ratelimit-remaining", "ratelimit-remaining")
_RESET = ("x-ratelimit-reset", "ratelimit-reset")


@dataclass
class Http:
    """A small, careful HTTP client for one sync run.

    Attributes:
        timeout: seconds for connecting and for each read.
        retries: how often a 5xx, a timeout or a dropped connection is tried again.
        backoff: the first back-off in seconds; it doubles each try (with full jitter).
        max_wait: the longest klopt waits for a rate limit; longer is :class:`RateLimited`.
        headers: sent with every request (e.g. ``Authorization``); never shown anywhere.
        transport: an httpx transport (tests); default: the network.
    """

    timeout: float = 20.0
    retries: int = 4
    backoff: float = 1.0
    max_wait: float = 120.0
    headers: Mapping[str, str] = field(default_factory=dict)
    transport: httpx.BaseTransport | None = None
    sleep: Callable[[float], None] = time.sleep
    clock: Callable[[], float] = time.time
    random: Callable[[], float] = _random.random
    requests: int = 0
    waited: float = 0.0
    _client: httpx.Client | None = field(default=None, repr=False)
    #: Per endpoint (method and path): when the platform said no calls are left until.
    _not_before: dict[str, float] = field(default_factory=dict)

    @property
    def client(self) -> httpx.Client:
        if self._client is None:
            self._client = httpx.Client(
                timeout=self.timeout,
                headers={"User-Agent": USER_AGENT, **self.headers},
                transport=self.transport,
                follow_redirects=True,
            )
        return self._client

    def close(self) -> None:
        """Close the connections."""
        if self._client is not None:
            self._client.close()
            self._client = None

    def __enter__(self) -> Http:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    def get(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        answers: tuple[int, ...] = (),
    ) -> httpx.Response:
        """GET ``url`` with the manners above; a 304 is returned as it is, and so are the
        client errors in ``answers``.

        Raises:
            RateLimited: the server asks for a wait longer than ``max_wait``.
            SourceUnavailable: still a 5xx / timeout / connection error after the retries,
                or a 4xx other than 401, 403 and 429.
            BadCredentials: 401 or 403.
        """
        return self._request("GET", url, params=params, headers=headers, answers=answers)

    def post(
        self,
        url: str,
        *,
        json: Any = None,
        headers: Mapping[str, str] | None = None,
        credentials: tuple[int, ...] = (400, 401, 403),
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        answers: tuple[int, ...] = (),
    ) -> httpx.Response:
        """POST ``json`` (or ``content``, or a form with ``files``) to ``url`` with the same
        manners as :meth:`get`.

        ``credentials`` are the statuses that mean "refused credentials" here: a login
        answers a wrong password with 400 or 401. ``answers`` are client errors returned as
        they are, for the caller to read (a platform that refuses a post says why).
        """
        return self._request(
            "POST",
            url,
            json=json,
            headers=headers,
            credentials=credentials,
            content=content,
            files=files,
            data=data,
            answers=answers,
        )

    def _request(
        self,
        method: str,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
        json: Any = None,
        credentials: tuple[int, ...] = (401, 403),
        content: bytes | None = None,
        files: Mapping[str, Any] | None = None,
        data: Mapping[str, Any] | None = None,
        answers: tuple[int, ...] = (),
    ) -> httpx.Response:
        attempt = 0
        while True:
            self._wait_for_window(method, url)
            try:
                response = self.client.request(
                    method,
                    url,
                    params=params,
                    headers=headers,
                    json=json,
                    content=content,
                    files=files,
                    data=data,
                )
                self.requests += 1
            except (httpx.TimeoutException, httpx.TransportError) as exc:
                attempt += 1
                if attempt > self.retries:
                    raise SourceUnavailable.keyed(
                        "source.unreachable", url=_safe(url), detail=type(exc).__name__
                    ) from exc
                self._pause(self._backoff(attempt))
                continue
            self._note_window(response)
            status = response.status_code
            if status in credentials:
                raise BadCredentials.keyed("source.credentials", url=_safe(url), status=status)
            wait = retry_after(response, now=self.clock())
            if status == 429 or (status == 503 and wait is not None):
                attempt += 1
                wait = self._backoff(attempt) if wait is None else wait
                if wait > self.max_wait or attempt > self.retries:
                    until = datetime.fromtimestamp(self.clock() + wait, UTC)
                    raise RateLimited.keyed(
                        "source.rate_limited", url=_safe(url), until=until.isoformat()
                    ).until_time(until)
                self._pause(wait)
                continue
            if status >= 500:
                attempt += 1
                if attempt > self.retries:
                    raise SourceUnavailable.keyed(
                        "source.server_error", url=_safe(url), status=status
                    )
                self._pause(self._backoff(attempt))
                continue
            if status in answers:
                return response
            if status >= 400:
                raise SourceUnavailable.keyed("source.refused", url=_safe(url), status=status)
            return response

    def json(
        self,
        url: str,
        *,
        params: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Any:
        """GET ``url`` and parse its JSON; what is not JSON is :class:`MalformedResponse`."""
        response = self.get(url, params=params, headers=headers)
        return parse_json(response, url)

    # --- waiting -------------------------------------------------------------------------

    def _backoff(self, attempt: int) -> float:
        """Exponential back-off with full jitter: 0 .. backoff * 2^(attempt-1) seconds."""
        return float(self.random() * self.backoff * 2 ** (attempt - 1))

    def _pause(self, seconds: float) -> None:
        if seconds > 0:
            self.waited += seconds
            self.sleep(seconds)

    def _wait_for_window(self, method: str, url: str) -> None:
        not_before = self._not_before.get(_endpoint(method, url), 0.0)
        wait = not_before - self.clock()
        if wait <= 0:
            return
        if wait > self.max_wait:
            until = datetime.fromtimestamp(not_before, UTC)
            raise RateLimited.keyed(
                "source.rate_limited", url=_safe(url), until=until.isoformat()
            ).until_time(until)
        self._pause(wait)

    def _note_window(self, response: httpx.Response) -> None:
        """Remember the reset time when the platform says no calls are left."""
        remaining = _header(response, _REMAINING)
        if remaining is None:
            return
        try:
            left = float(remaining)
        except ValueError:
            return
        if left > 0:
            return
        reset = _reset_time(_header(response, _RESET), now=self.clock())
        if reset is not None:
            # The endpoint that said so: another one may count against another limit (a
            # login, a post and a read each have their own on Bluesky and Mastodon).
            endpoint = _endpoint(response.request.method, str(response.request.url))
            self._not_before[endpoint] = max(self._not_before.get(endpoint, 0.0), reset)


def _endpoint(method: str, url: str) -> str:
    """``POST https://host/path``: a URL without its query, with the method."""
    return f"{method.upper()} {url.split('?', 1)[0]}"


def parse_json(response: httpx.Response, url: str) -> Any:
    """The JSON body of ``response``; :class:`MalformedResponse` when it is not JSON."""
    try:
        return json.loads(response.content)
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        start = response.content[:60].decode("utf-8", "replace").strip()
        raise MalformedResponse.keyed("source.not_json", url=_safe(url), start=start) from exc


def retry_after(response: httpx.Response, *, now: float) -> float | None:
    """Seconds the server asks to wait: ``Retry-After`` (seconds or an HTTP date), else
    the rate-limit reset header when no calls are left; ``None`` when it says nothing."""
    value = response.headers.get("retry-after")
    if value:
        value = value.strip()
        if value.isdigit():
            return float(value)
        try:
            when = email.utils.parsedate_to_datetime(value)
        except (TypeError, ValueError):
            when = None
        if when is not None:
            if when.tzinfo is None:
                when = when.replace(tzinfo=UTC)
            return max(0.0, when.timestamp() - now)
    if response.status_code == 429:
        reset = _reset_time(_header(response, _RESET), now=now)
        if reset is not None:
            return max(0.0, reset - now)
    return None


def _header(response: httpx.Response, names: tuple[str, ...]) -> str | None:
    for name in names:
        value = response.headers.get(name)
        if value is not None:
            return str(value)
    return None


def _reset_time(value: str | None, *, now: float) -> float | None:
    """A reset header as an epoch time: an ISO time (Mastodon), epoch seconds (Bluesky),
    or seconds from now (Reddit, the IETF draft)."""
    if not value:
        return None
    value = value.strip()
    try:
        number = float(value)
    except ValueError:
        try:
            stamp = datetime.fromisoformat(value.replace("Z", "+00:00"))
        except ValueError:
            return None
        if stamp.tzinfo is None:
            stamp = stamp.replace(tzinfo=UTC)
        return stamp.timestamp()
    # Seconds from now are small; an epoch time is a large number (after 2001).
    return number if number > 1_000_000_000 else now + number


def _safe(url: str) -> str:
    """The URL without its query string: a query may hold a token."""
    return url.split("?", 1)[0]
