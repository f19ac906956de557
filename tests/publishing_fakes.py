"""Local servers that answer like Mastodon and a Bluesky PDS, for the publishing tests.

They answer as the platforms' API documentation says: Mastodon's ``POST
/api/v1/statuses`` (``Idempotency-Key``: a repeat gets the status made for that key),
``POST /api/v2/media`` (202 while processing; ``GET /api/v1/media/:id`` answers 206
until it is ready), ``GET /api/v1/statuses/:id``, ``GET /api/v2/search`` (``resolve``),
``GET /api/v1/accounts/verify_credentials`` and ``/api/v1/accounts/:id/statuses``, 401
``{"error": "The access token is invalid"}``, 422 ``{"error": "Validation failed: ..."}``,
429 with ``X-RateLimit-*``; Bluesky's ``createSession``, ``refreshSession``, ``createRecord`` (500
``InternalServerError`` for a record key in use, as the reference PDS answers it; 400
``ExpiredToken``), ``getRecord`` (400 ``RecordNotFound``), ``uploadBlob``,
``resolveHandle``, ``app.bsky.feed.getPosts``, 429 with ``RateLimit-*``.

Mastodon keeps an ``Idempotency-Key`` for an hour: :meth:`FakeMastodon.forget_keys` is
that hour passing. Faults can be asked for: ``fail_after_accept`` (the next N posts are
made but answered with a 502, as a proxy that times out would), ``rate_limited`` (the
next N calls get a 429), ``expire_next`` (Bluesky: the next call finds the session
expired).
"""

from __future__ import annotations

import json
import threading
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from pytest_httpserver import HTTPServer
from werkzeug import Request, Response

TOKEN = "mastodon-token"
ORG_ACCOUNT = "109000000000000001"


def _json(payload: Any, status: int = 200, **headers: str) -> Response:
    return Response(json.dumps(payload), status=status, content_type="application/json",
                    headers=headers)  # fmt: skip


@dataclass
class FakeMastodon:
    """The statuses an account posted, as a Mastodon server keeps them."""

    server: HTTPServer
    statuses: dict[str, dict[str, Any]] = field(default_factory=dict)
    #: Statuses of other servers this one has fetched (by their uri): a search with
    #: ``resolve=true`` finds them and gives their id here.
    remote: dict[str, str] = field(default_factory=dict)
    keys: dict[str, str] = field(default_factory=dict)
    media: dict[str, dict[str, Any]] = field(default_factory=dict)
    fail_after_accept: int = 0
    rate_limited: int = 0
    processing: int = 0
    #: How many polls of an image being processed answer 206 before it is ready.
    still_processing: int = 1
    #: Seconds the server takes to make a status (a real one takes about a tenth).
    delay: float = 0.0
    requests: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> FakeMastodon:
        self.server.expect_request("/api/v1/statuses", method="POST").respond_with_handler(
            self._post
        )
        self.server.expect_request("/api/v2/media", method="POST").respond_with_handler(self._media)
        self.server.expect_request(
            __import__("re").compile(r"^/api/v1/media/\w+$"), method="GET"
        ).respond_with_handler(self._media_get)
        self.server.expect_request(
            __import__("re").compile(r"^/api/v1/statuses/\w+$"), method="GET"
        ).respond_with_handler(self._status)
        self.server.expect_request("/api/v2/search", method="GET").respond_with_handler(
            self._search
        )
        self.server.expect_request(
            "/api/v1/accounts/verify_credentials", method="GET"
        ).respond_with_handler(self._me)
        self.server.expect_request(
            f"/api/v1/accounts/{ORG_ACCOUNT}/statuses", method="GET"
        ).respond_with_handler(self._own_statuses)
        return self

    def forget_keys(self) -> None:
        """As Mastodon does after an hour: a repeat of a key is a new status again."""
        with self.lock:
            self.keys.clear()

    def _me(self, request: Request) -> Response:
        refused = self._auth(request)
        return refused or _json({"id": ORG_ACCOUNT, "acct": "org", "username": "org"})

    def _own_statuses(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        limit = int(request.args.get("limit", "20"))
        own = [s for s in self.statuses.values() if s.get("account", {}).get("id") == ORG_ACCOUNT]
        return _json(sorted(own, key=lambda s: int(s["id"]), reverse=True)[:limit])

    def customer_status(self, text: str, *, acct: str = "klant", uri: str | None = None) -> str:
        """A customer's status on this server (or, with ``uri``, one of another server's
        that this one can fetch); its id here."""
        with self.lock:
            status_id = str(100 + len(self.statuses))
            self.statuses[status_id] = {
                "id": status_id,
                "uri": uri or f"{self.url}/users/{acct}/statuses/{status_id}",
                "url": f"{self.url}/@{acct}/{status_id}",
                "account": {"acct": acct}, "content": f"<p>{text}</p>",
                "favourites_count": 0, "reblogs_count": 0, "replies_count": 0,
            }  # fmt: skip
            if uri is not None:
                self.remote[uri] = status_id
            return status_id

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer {TOKEN}":
            return _json({"error": "The access token is invalid"}, 401)
        if self.rate_limited:
            self.rate_limited -= 1
            reset = (datetime.now(UTC) + timedelta(seconds=1)).isoformat()
            return _json({"error": "Too many requests"}, 429, **{
                "X-RateLimit-Limit": "300", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": reset,
            })  # fmt: skip
        return None

    def _post(self, request: Request) -> Response:
        if self.delay:
            time.sleep(self.delay)
        with self.lock:
            self.requests += 1
            refused = self._auth(request)
            if refused is not None:
                return refused
            key = request.headers.get("Idempotency-Key")
            if key and key in self.keys:
                return _json(self.statuses[self.keys[key]])
            body = request.get_json()
            text = body.get("status", "")
            if len(text) > 500:
                return _json(
                    {"error": "Validation failed: Text character limit of 500 exceeded"}, 422
                )
            for media_id in body.get("media_ids", []):
                if media_id not in self.media or not self.media[media_id]["url"]:
                    return _json(
                        {"error": "Cannot attach files that have not finished processing"}, 422
                    )
            status_id = str(100 + len(self.statuses))
            self.statuses[status_id] = {
                "id": status_id,
                "created_at": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
                "account": {"id": ORG_ACCOUNT, "acct": "org"},
                "uri": f"{self.url}/users/org/statuses/{status_id}",
                "url": f"{self.url}/@org/{status_id}",
                "content": f"<p>{text}</p>",
                "visibility": body.get("visibility", "public"),
                "in_reply_to_id": body.get("in_reply_to_id"),
                "language": body.get("language"),
                "media_attachments": [self.media[m] for m in body.get("media_ids", [])],
                "favourites_count": 0, "reblogs_count": 0, "replies_count": 0,
            }  # fmt: skip
            if key:
                self.keys[key] = status_id
            if self.fail_after_accept:
                self.fail_after_accept -= 1
                return Response("Bad Gateway", status=502)
            return _json(self.statuses[status_id])

    def _media(self, request: Request) -> Response:
        with self.lock:
            refused = self._auth(request)
            if refused is not None:
                return refused
            upload = request.files.get("file")
            if upload is None:
                return _json({"error": "Validation failed: File can't be blank"}, 422)
            media_id = str(900 + len(self.media))
            ready = not self.processing
            self.media[media_id] = {
                "id": media_id, "type": "image",
                "url": f"{self.url}/media/{media_id}.png" if ready else None,
                "description": request.form.get("description"),
                "bytes": len(upload.read()),
            }  # fmt: skip
            if not ready:
                self.processing -= 1
                return _json(self.media[media_id], 202)
            return _json(self.media[media_id])

    def _media_get(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        media_id = request.path.rsplit("/", 1)[-1]
        if media_id not in self.media:
            return _json({"error": "Record not found"}, 404)
        item = self.media[media_id]
        if item["url"] is None and self.still_processing:  # the docs: 206 while processing
            self.still_processing -= 1
            return _json(item, 206)
        item["url"] = item["url"] or f"{self.url}/media/{media_id}.png"
        return _json(item)

    def _search(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        query, resolve = request.args.get("q", ""), request.args.get("resolve") == "true"
        found = [
            s for s in self.statuses.values()
            if query in (s["url"], s["uri"]) and (resolve or s["uri"] not in self.remote)
        ]  # fmt: skip
        return _json({"accounts": [], "statuses": found[:1], "hashtags": []})

    def _status(self, request: Request) -> Response:
        status_id = request.path.rsplit("/", 1)[-1]
        if status_id not in self.statuses:
            return _json({"error": "Record not found"}, 404)
        return _json(self.statuses[status_id])


DID = "did:plc:orgorgorgorgorgorgorgorg"
HANDLE = "org.example.com"
PASSWORD = "app-pass-word-1234"


@dataclass
class FakeBluesky:
    """A PDS holding one account's posts (and an AppView's counts)."""

    server: HTTPServer
    records: dict[str, dict[str, Any]] = field(default_factory=dict)
    blobs: list[dict[str, Any]] = field(default_factory=list)
    handles: dict[str, str] = field(default_factory=dict)
    #: Posts of other accounts (customers' mentions), as the AppView shows them.
    others: dict[str, dict[str, Any]] = field(default_factory=dict)
    sessions: int = 0
    #: Logins with the app password (``createSession``; renewals use ``refreshSession``).
    logins: int = 0
    fail_after_accept: int = 0
    rate_limited: int = 0
    expire_next: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    def install(self) -> FakeBluesky:
        routes = {
            "com.atproto.server.createSession": ("POST", self._session),
            "com.atproto.server.refreshSession": ("POST", self._refresh),
            "com.atproto.repo.createRecord": ("POST", self._create),
            "com.atproto.repo.getRecord": ("GET", self._get),
            "com.atproto.repo.uploadBlob": ("POST", self._blob),
            "com.atproto.identity.resolveHandle": ("GET", self._resolve),
            "app.bsky.feed.getPosts": ("GET", self._posts),
        }
        for method, (verb, handler) in routes.items():
            self.server.expect_request(f"/xrpc/{method}", method=verb).respond_with_handler(handler)
        return self

    @property
    def url(self) -> str:
        return self.server.url_for("/").rstrip("/")

    def _session(self, request: Request) -> Response:
        body = request.get_json()
        if body.get("identifier") != HANDLE or body.get("password") != PASSWORD:
            return _json(
                {"error": "AuthenticationRequired", "message": "Invalid identifier or password"},
                401,
            )
        self.logins += 1
        return self._new_session()

    def _new_session(self) -> Response:
        self.sessions += 1
        return _json({"accessJwt": f"jwt-{self.sessions}", "refreshJwt": f"refresh-{self.sessions}",
                      "handle": HANDLE, "did": DID})  # fmt: skip

    def _refresh(self, request: Request) -> Response:
        if request.headers.get("Authorization") != f"Bearer refresh-{self.sessions}":
            return _json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        return self._new_session()

    def _auth(self, request: Request) -> Response | None:
        if request.headers.get("Authorization") != f"Bearer jwt-{self.sessions}":
            return _json({"error": "InvalidToken", "message": "Bad token"}, 401)
        if self.expire_next:
            self.expire_next -= 1
            return _json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        if self.rate_limited:
            self.rate_limited -= 1
            reset = str(int((datetime.now(UTC) + timedelta(seconds=1)).timestamp()))
            return _json({"error": "RateLimitExceeded", "message": "Rate Limit Exceeded"}, 429, **{
                "RateLimit-Limit": "5000", "RateLimit-Remaining": "0", "RateLimit-Reset": reset,
            })  # fmt: skip
        return None

    def _create(self, request: Request) -> Response:
        with self.lock:
            refused = self._auth(request)
            if refused is not None:
                return refused
            body = request.get_json()
            record = body["record"]
            if body.get("repo") != DID or body.get("collection") != "app.bsky.feed.post":
                return _json(
                    {"error": "InvalidRequest", "message": "Invalid repo or collection"}, 400
                )
            if len(record.get("text", "")) > 300:
                return _json(
                    {
                        "error": "InvalidRequest",
                        "message": "Invalid app.bsky.feed.post record: "
                        "Record/text must not be longer than 300 graphemes",
                    },
                    400,
                )
            rkey = body.get("rkey") or f"3k{len(self.records):011d}"
            if rkey in self.records:  # as the reference PDS answers a record key in use
                return _json(
                    {"error": "InternalServerError", "message": "Internal Server Error"}, 500
                )
            uri = f"at://{DID}/app.bsky.feed.post/{rkey}"
            self.records[rkey] = {"uri": uri, "cid": f"bafyrei{rkey}", "value": record,
                                  "likeCount": 0, "repostCount": 0, "replyCount": 0}  # fmt: skip
            if self.fail_after_accept:
                self.fail_after_accept -= 1
                return Response("Bad Gateway", status=502)
            return _json({"uri": uri, "cid": f"bafyrei{rkey}"})

    def _get(self, request: Request) -> Response:
        rkey = request.args.get("rkey", "")
        if request.args.get("repo") != DID or rkey not in self.records:
            return _json({"error": "RecordNotFound", "message": "Could not locate record"}, 400)
        held = self.records[rkey]
        return _json({"uri": held["uri"], "cid": held["cid"], "value": held["value"]})

    def _blob(self, request: Request) -> Response:
        refused = self._auth(request)
        if refused is not None:
            return refused
        data = request.get_data()
        blob = {"$type": "blob", "ref": {"$link": f"bafkrei{len(self.blobs)}"},
                "mimeType": request.headers.get("Content-Type"), "size": len(data)}  # fmt: skip
        self.blobs.append(blob)
        return _json({"blob": blob})

    def _resolve(self, request: Request) -> Response:
        handle = request.args.get("handle", "")
        if handle not in self.handles:
            return _json({"error": "InvalidRequest", "message": "Unable to resolve handle"}, 400)
        return _json({"did": self.handles[handle]})

    def customer_post(self, text: str, *, reply_to: dict[str, Any] | None = None) -> dict[str, Any]:
        """A customer's post (a reply itself with ``reply_to``, its ``root`` and
        ``parent`` refs), as ``app.bsky.feed.getPosts`` shows it."""
        number = len(self.others) + 1
        uri = f"at://did:plc:klant{number:019d}/app.bsky.feed.post/3kklant{number:06d}"
        record: dict[str, Any] = {"$type": "app.bsky.feed.post", "text": text,
                                  "createdAt": "2026-12-07T09:00:00Z"}  # fmt: skip
        if reply_to is not None:
            record["reply"] = reply_to
        view = {"uri": uri, "cid": f"bafyreiklant{number}", "record": record,
                "author": {"did": f"did:plc:klant{number:019d}", "handle": "klant.bsky.social"},
                "likeCount": 0, "repostCount": 0, "replyCount": 0,
                "indexedAt": "2026-12-07T09:00:01Z"}  # fmt: skip
        self.others[uri] = view
        return view

    def _posts(self, request: Request) -> Response:
        if self.expire_next:
            self.expire_next -= 1
            return _json({"error": "ExpiredToken", "message": "Token has expired"}, 400)
        uris = request.args.getlist("uris")
        posts = [
            {"uri": r["uri"], "cid": r["cid"], "record": r["value"], "likeCount": r["likeCount"],
             "repostCount": r["repostCount"], "replyCount": r["replyCount"]}
            for r in self.records.values() if r["uri"] in uris
        ] + [view for uri, view in self.others.items() if uri in uris]  # fmt: skip
        return _json({"posts": posts})
