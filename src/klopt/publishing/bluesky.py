"""Bluesky: posts with facets, images as blobs with alt text, replies, and their reach.

The account logs in with an app password (``com.atproto.server.createSession``; the
handle and the password are named by environment variables). A post is
``com.atproto.repo.createRecord`` of an ``app.bsky.feed.post`` under a **record key
derived from the post's key** (:func:`klopt.publishing.outgoing.record_key`): a second
try of the same draft version asks for the same record, which the server refuses (the
lexicon names no error for it; the reference PDS answers 500 ``InternalServerError``,
others a 400); klopt then reads it (``com.atproto.repo.getRecord``) and returns it, so
nothing is posted twice. An expired session is renewed once.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from klopt.errors import BadCredentials, PostRefused, SourceError, SourceUnavailable
from klopt.listening.http import Http, parse_json
from klopt.listening.social import expect
from klopt.publishing.facets import facets
from klopt.publishing.outgoing import Outgoing, Reach, ReplyTo, Sent, record_key

__all__ = ["BlueskyAccount"]

POST = "app.bsky.feed.post"
_REFUSALS = (400, 404, 409, 413)


@dataclass
class BlueskyAccount:
    """An organisation's Bluesky account.

    Attributes:
        identifier_env: the variable holding the handle (or DID) to log in with.
        password_env: the variable holding an app password.
        service: the account's server (its PDS or ``https://bsky.social``).
        appview: where posts' counts are read (``app.bsky.feed.getPosts``).
    """

    identifier_env: str
    password_env: str
    service: str = "https://bsky.social"
    appview: str | None = None
    http: Http = field(default_factory=Http)
    environ: Mapping[str, str] = field(default_factory=lambda: os.environ)
    _session: dict[str, str] | None = field(default=None, repr=False)

    platform = "bluesky"

    def _url(self, method: str, base: str | None = None) -> str:
        return (base or self.service).rstrip("/") + "/xrpc/" + method

    def _secret(self, name: str) -> str:
        value = self.environ.get(name, "").strip()
        if not value:
            raise BadCredentials.keyed("publish.no_secret", name=name, platform="Bluesky")
        return value

    def session(self, *, renew: bool = False) -> dict[str, str]:
        """The logged-in session: ``accessJwt``, ``refreshJwt``, ``did``, ``handle``.

        ``renew`` asks for a new access token with the refresh token
        (``com.atproto.server.refreshSession``, as the spec renews); only when that is
        refused too does the account log in again (``createSession`` is limited to 300
        a day per account).
        """
        if self._session is not None and renew:
            url = self._url("com.atproto.server.refreshSession")
            headers = {"Authorization": f"Bearer {self._session['refreshJwt']}"}
            response = self.http.post(url, headers=headers, credentials=(), answers=(400, 401))
            self._session = (
                self._read_session(parse_json(response, url), url)
                if response.status_code == 200
                else None
            )
        if self._session is None:
            url = self._url("com.atproto.server.createSession")
            body = {
                "identifier": self._secret(self.identifier_env),
                "password": self._secret(self.password_env),
            }
            self._session = self._read_session(parse_json(self.http.post(url, json=body), url), url)
        return self._session

    @staticmethod
    def _read_session(answer: Any, url: str) -> dict[str, str]:
        answer = expect(answer, dict, url, "a session")
        return {
            "accessJwt": str(expect(answer.get("accessJwt"), str, url, "an access token")),
            "refreshJwt": str(answer.get("refreshJwt") or ""),
            "did": str(expect(answer.get("did"), str, url, "a DID")),
            "handle": str(answer.get("handle") or ""),
        }

    def _call(
        self,
        method: str,
        *,
        json: Any = None,
        content: bytes | None = None,
        mime: str | None = None,
    ) -> tuple[int, Any]:
        """POST an XRPC procedure as the account; an expired session is renewed once."""
        status, payload = self._post(method, json, content, mime, renew=False)
        if status == 400 and _error(payload) == "ExpiredToken":
            status, payload = self._post(method, json, content, mime, renew=True)
        return status, payload

    def _post(
        self, method: str, json: Any, content: bytes | None, mime: str | None, *, renew: bool
    ) -> tuple[int, Any]:
        url = self._url(method)
        headers = {"Authorization": f"Bearer {self.session(renew=renew)['accessJwt']}"}
        if mime:
            headers["Content-Type"] = mime
        response = self.http.post(
            url, json=json, content=content, headers=headers,
            credentials=(401, 403), answers=_REFUSALS,
        )  # fmt: skip
        return response.status_code, parse_json(response, url)

    def resolve(self, handle: str) -> str | None:
        """The DID of ``handle``, or ``None`` when it does not resolve."""
        url = self._url("com.atproto.identity.resolveHandle")
        response = (
            self.http.get(url, params={"handle": handle}, answers=(400, 404)) if handle else None
        )
        if response is None:
            return None
        payload = parse_json(response, url)
        did = payload.get("did") if isinstance(payload, dict) else None
        return str(did) if did else None

    def send(self, post: Outgoing) -> Sent:
        """Publish ``post`` under its record key; a repeat returns the record made before.

        Raises:
            PostRefused: the server refused the post (its reason is in the message).
            BadCredentials: the login was refused.
            RateLimited, SourceUnavailable: as for every request.
        """
        account = self.session()
        record: dict[str, Any] = {
            "$type": POST,
            "text": post.text,
            "createdAt": datetime.now(UTC).isoformat().replace("+00:00", "Z"),
        }
        found = facets(post.text, self._resolve_quietly)
        if found:
            record["facets"] = found
        if post.language:
            record["langs"] = [post.language]
        if post.images:
            record["embed"] = {
                "$type": "app.bsky.embed.images",
                "images": [
                    {"image": self._blob(image.data, image.mime), "alt": image.alt}
                    for image in post.images
                ],
            }
        if post.reply_to is not None:
            record["reply"] = self._reply_refs(post.reply_to)
        rkey = record_key(post.key)
        body = {"repo": account["did"], "collection": POST, "rkey": rkey, "record": record}
        try:
            status, payload = self._call("com.atproto.repo.createRecord", json=body)
        except SourceUnavailable:  # a record key in use is a 500 on the reference PDS
            held = self._record(account["did"], rkey)
            if held is not None:
                return held
            raise
        if status in _REFUSALS:
            held = self._record(account["did"], rkey)
            if held is not None:  # made by an earlier try: the same post, not a second one
                return held
            detail = (
                payload.get("message") or payload.get("error") if isinstance(payload, dict) else ""
            )
            raise PostRefused.keyed(
                "publish.refused", platform="Bluesky", status=status, detail=str(detail)[:300]
            )
        url = self._url("com.atproto.repo.createRecord")
        expect(payload, dict, url, "a record")
        return self._sent(
            str(expect(payload.get("uri"), str, url, "a uri")), payload.get("cid"), account
        )

    def _reply_refs(self, reply_to: ReplyTo) -> dict[str, Any]:
        """The reply's ``root`` and ``parent``; what the mention did not keep is read from
        the post itself (``app.bsky.feed.getPosts``)."""
        parent: dict[str, Any] = {"uri": reply_to.id, "cid": reply_to.cid}
        root: dict[str, Any] = {"uri": reply_to.root_id, "cid": reply_to.root_cid}
        if not parent["cid"] or not root["uri"] or not root["cid"]:
            view = self._post_view(reply_to.id)
            if view is None:
                raise PostRefused.keyed("publish.reply_gone", platform="Bluesky", post=reply_to.id)
            parent["cid"] = str(view.get("cid") or "")
            record = view.get("record")
            reply = record.get("reply") if isinstance(record, dict) else None
            first = reply.get("root") if isinstance(reply, dict) else None
            first = first if isinstance(first, dict) else parent
            root = {"uri": first.get("uri"), "cid": first.get("cid")}
        return {"root": root, "parent": parent}

    def _post_view(self, uri: str) -> dict[str, Any] | None:
        """A post as the app view shows it, or ``None`` when it is gone."""
        url = self._url("app.bsky.feed.getPosts", self.appview)
        payload: Any = None
        for renew in (False, True):  # an expired session is renewed once, as for posts
            headers = {"Authorization": f"Bearer {self.session(renew=renew)['accessJwt']}"}
            response = self.http.get(url, params={"uris": uri}, headers=headers, answers=(400,))
            payload = parse_json(response, url)
            if response.status_code != 400 or _error(payload) != "ExpiredToken":
                break
        if isinstance(payload, dict) and payload.get("error"):
            raise PostRefused.keyed(
                "publish.refused", platform="Bluesky", status=400,
                detail=str(payload.get("message") or payload.get("error"))[:300],
            )  # fmt: skip
        posts = expect(expect(payload, dict, url, "posts").get("posts"), list, url, "posts")
        return dict(posts[0]) if posts and isinstance(posts[0], dict) else None

    def _resolve_quietly(self, handle: str) -> str | None:
        try:
            return self.resolve(handle)
        except SourceError:  # a mention that cannot be resolved stays plain text
            return None

    def _blob(self, data: bytes, mime: str) -> Any:
        method = "com.atproto.repo.uploadBlob"
        status, payload = self._call(method, content=data, mime=mime)
        if status in _REFUSALS:
            detail = payload.get("message") if isinstance(payload, dict) else ""
            raise PostRefused.keyed(
                "publish.refused", platform="Bluesky", status=status, detail=str(detail)[:300]
            )
        return expect(payload, dict, self._url(method), "a blob").get("blob")

    def _record(self, did: str, rkey: str) -> Sent | None:
        url = self._url("com.atproto.repo.getRecord")
        params = {"repo": did, "collection": POST, "rkey": rkey}
        response = self.http.get(url, params=params, answers=(400, 404))
        payload = parse_json(response, url)
        if not isinstance(payload, dict) or not payload.get("uri"):
            return None
        return self._sent(str(payload["uri"]), payload.get("cid"), self.session())

    def _sent(self, uri: str, cid: Any, account: Mapping[str, str]) -> Sent:
        rkey = uri.rsplit("/", 1)[-1]
        handle = account.get("handle") or account.get("did")
        return Sent(
            uri, f"https://bsky.app/profile/{handle}/post/{rkey}", str(cid) if cid else None
        )

    def reach(self, uri: str) -> Reach:
        """Likes, reposts and replies of one of the account's posts."""
        post = self._post_view(uri) or {}
        return Reach(
            int(post.get("likeCount") or 0),
            int(post.get("repostCount") or 0),
            int(post.get("replyCount") or 0),
        )


def _error(payload: Any) -> str | None:
    """The XRPC error name of an answer (``ExpiredToken``, ``InvalidRequest``, ...)."""
    return str(payload.get("error")) if isinstance(payload, dict) and payload.get("error") else None
