"""The web app's security, across every area: CSRF on every form, HTML shown as text on
every page, no object of another organisation reachable by guessing its id, and the role
x action matrix in the pages and the API.

The route lists are read from the app itself, so a new form or API route is covered (or
fails here) without anyone remembering to add it.
"""

# ruff: noqa: E501  (the role x action matrix is a table: one action per line)

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import func, select
from web_helpers import ORG, OTHER_ORG, api_client, sign_in

from klopt.store import Store
from klopt.store.models import AuditEvent, Correction, Draft, Post, Promise

pytestmark = pytest.mark.usefixtures("fast_checks")


@pytest.fixture
def fast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Drafts are checked with the hashing embedder (the models are not the subject)."""
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


def routes(app: Any) -> Iterator[Any]:
    """Every route of the app, through included routers."""

    def walk(items: Any) -> Iterator[Any]:
        for route in items:
            if hasattr(route, "original_router"):
                yield from walk(route.original_router.routes)
            elif getattr(route, "methods", None):
                yield route

    yield from walk(app.router.routes)


def writes(app: Any, prefix: str) -> list[tuple[str, str]]:
    """(method, path) of every route under ``prefix`` that changes something."""
    return sorted(
        (method, route.path)
        for route in routes(app)
        for method in route.methods - {"GET", "HEAD"}
        if route.path.startswith(prefix) or (prefix == "/" and not route.path.startswith("/api"))
    )


def concrete(path: str, values: dict[str, str]) -> str:
    """``/drafts/{ref}`` -> ``/drafts/D1`` from ``values``."""
    return re.sub(r"\{(\w+)\}", lambda m: values.get(m.group(1), "1"), path)


def _counts(store: Store) -> tuple[int, ...]:
    with store.session() as session:
        return tuple(
            session.scalar(select(func.count()).select_from(table)) or 0
            for table in (AuditEvent, Correction, Draft, Promise, Post)
        )


def _first_ids(store: Store) -> dict[str, str]:
    with store.session() as session:
        post = session.scalar(select(func.min(Post.id)).where(Post.kind == "mention"))
    return {"post_id": str(post), "mention_id": str(post), "key": "P1", "ref": "D1"}


# --- CSRF ------------------------------------------------------------------------------------


def test_every_page_form_without_the_session_token_is_refused_and_changes_nothing(
    sqlite_app: Any, sqlite_web_store: Store
) -> None:
    anna = sign_in(sqlite_app, "anna")  # an admin: the role is not what refuses here
    values = _first_ids(sqlite_web_store)
    before = _counts(sqlite_web_store)
    refused = []
    for method, path in writes(sqlite_app, "/"):
        if path == "/sign-in":
            continue  # before a session: its own double-submit token, tested in test_web_auth
        url = concrete(path, values)
        answer = anna.client.request(method, url, data={"text": "x"}, follow_redirects=False)
        forged = anna.client.request(
            method, url, data={"text": "x", "csrf": "forged"}, follow_redirects=False
        )
        assert answer.status_code == 403, (url, answer.status_code)
        assert forged.status_code == 403, (url, forged.status_code)
        refused.append(url)
    assert len(refused) >= 25
    assert _counts(sqlite_web_store) == before


def test_the_api_with_a_session_cookie_but_no_token_header_is_refused(
    sqlite_app: Any, sqlite_web_store: Store
) -> None:
    bob = sign_in(sqlite_app, "bob")
    values = _first_ids(sqlite_web_store)
    before = _counts(sqlite_web_store)
    for method, path in writes(sqlite_app, "/api/"):
        answer = bob.client.request(method, concrete(path, values), json={})
        assert answer.status_code == 403, (path, answer.status_code, answer.text[:200])
        assert answer.json()["error"]["code"] == "web.csrf"
    assert _counts(sqlite_web_store) == before


def test_a_cross_site_form_cannot_ride_on_the_cookie(sqlite_app: Any) -> None:
    """SameSite=Lax keeps the cookie off cross-site POSTs; and without it nothing works."""
    bob = sign_in(sqlite_app, "bob")
    cookie = bob.client.cookies["klopt_session"]
    assert "samesite=lax" in _set_cookie(sqlite_app, "bob").lower()
    stranger = TestClient(sqlite_app, cookies={"klopt_session": cookie})
    answer = stranger.post("/drafts", data={"text": "Gratis, altijd!"}, follow_redirects=False)
    assert answer.status_code == 403


def _set_cookie(app: Any, name: str) -> str:
    from web_helpers import password

    client = TestClient(app)
    token = re.search(r'name="csrf" value="([^"]+)"', client.get("/sign-in").text)
    assert token is not None
    answer = client.post(
        "/sign-in",
        data={"name": name, "password": password(name), "csrf": token.group(1)},
        follow_redirects=False,
    )
    return str(answer.headers["set-cookie"])


# --- HTML and script shown as text -------------------------------------------------------------

PAYLOADS = (
    "<script>alert(1)</script>",
    '<img src=x onerror="alert(2)">',
    '"><svg onload=alert(3)>',
    "javascript:alert(4)",
)


def _plant(store: Store, tmp_path: Any) -> None:
    """Put every payload where people type or import text: a mention (text, author, url),
    a promise statement, a document name, a user's display name, a draft and a comment."""
    from klopt.accounts.users import add_user, grant
    from klopt.editorial.drafts import comment_draft, create_draft
    from klopt.listening.base import ColumnMapping
    from klopt.listening.mentions import import_mentions
    from klopt.register.decisions import edit_promise

    rows = ["id,created_at,author,body,url"]
    for i, payload in enumerate(PAYLOADS):
        quoted = payload.replace('"', '""')
        body = f"Levering te laat {quoted}"
        rows.append(f'x{i},2026-09-1{i}T10:00:00Z,"{quoted}","{body}","{quoted}"')
    path = tmp_path / "evil.csv"
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")
    mapping = ColumnMapping(text="body", time="created_at", id="id", author="author", url="url")
    import_mentions(store, ORG, path, mapping, actor="anna")
    statement = f"Wij leveren binnen 24 uur {PAYLOADS[0]}"
    edit_promise(store, ORG, "P1", statement=statement, actor="anna")
    add_user(store, "mallory", password="pw-mallory-1", display_name=PAYLOADS[1], actor="anna")
    grant(store, ORG, "mallory", "editor", actor="anna")
    draft = create_draft(store, ORG, f"Morgen in huis! {PAYLOADS[2]}", actor="bob")
    comment_draft(store, ORG, draft.number, f"Let op {PAYLOADS[0]}", actor="carla")


PAGES = (
    "/dashboard", "/inbox", "/register", "/register/promises/P1", "/drafts", "/drafts/D1",
    "/calendar", "/jobs", "/admin/members", "/admin/audit", "/account",
)  # fmt: skip


def test_html_in_every_kind_of_text_is_shown_as_text_on_every_page(
    sqlite_app: Any, sqlite_web_store: Store, tmp_path: Any
) -> None:
    _plant(sqlite_web_store, tmp_path)
    anna = sign_in(sqlite_app, "anna")
    shown = 0
    for url in PAGES:
        page = anna.get(url)
        assert page.status_code == 200, (url, page.status_code)
        html = page.text
        for payload in PAYLOADS[:3]:
            assert payload not in html, (url, payload)
        assert (
            "onerror=" not in html.replace("onerror=&#34;", "").replace("onerror=&quot;", "")
            or "&lt;img" in html
        ), url
        assert not re.search(r"<(script|img|svg)[^>]*(onerror|onload|alert)", html), url
        assert 'href="javascript:' not in html.lower(), url
        shown += html.count("&lt;script&gt;alert(1)&lt;/script&gt;")
    assert shown >= 3  # the payload is on the pages, as text


def test_the_api_returns_text_as_data_not_markup(
    sqlite_app: Any, sqlite_web_store: Store, tmp_path: Any
) -> None:
    _plant(sqlite_web_store, tmp_path)
    client = api_client(sqlite_app, sqlite_web_store, "bob")
    answer = client.get("/api/v1/mentions", params={"limit": 200})
    assert answer.status_code == 200
    assert answer.headers["content-type"].startswith("application/json")
    assert PAYLOADS[0] in answer.text.replace("\\u003c", "<").replace("\\/", "/")


# --- another organisation's objects ------------------------------------------------------------


def test_guessing_ids_of_another_organisation_finds_nothing(app: Any, web_store: Store) -> None:
    """olga (admin of Ander BV) asks for Voorbeeld BV's mentions, drafts, documents and
    promises by id, in the pages and the API: 404 every time, and nothing changes."""
    from klopt.editorial.drafts import create_draft

    create_draft(web_store, ORG, "Vandaag besteld, morgen in huis.", actor="bob")
    values = _first_ids(web_store)
    with web_store.session() as session:
        ours = session.scalars(
            select(Post.id).where(Post.kind == "mention").order_by(Post.id).limit(5)
        ).all()
    olga = sign_in(app, "olga")
    api = api_client(app, web_store, "olga")
    before = _counts(web_store)
    for post_id in ours:
        assert olga.get(f"/inbox/{post_id}").status_code == 404
        answer = olga.form(f"/inbox/{post_id}/correct", {"stance": "kept", "promise": "P1"})
        assert answer.status_code == 404
        assert api.get(f"/api/v1/mentions/{post_id}").status_code == 404
        correction = api.post(
            f"/api/v1/mentions/{post_id}/corrections", json={"promise": "P1", "stance": "kept"}
        )
        assert correction.status_code == 404 and correction.json()["error"]
    for url in ("/drafts/D1", "/register/documents/1"):
        assert olga.get(url).status_code == 404, url
    assert olga.form("/drafts/D1/comment", {"text": "hallo"}).status_code == 404
    assert api.get("/api/v1/drafts/D1").status_code == 404
    assert api.post("/api/v1/drafts/D1/submit").status_code == 404
    # olga's own P1 is her organisation's promise, never Voorbeeld BV's
    assert "Voorbeeld" not in olga.get("/register/promises/P1").text
    assert "within one working day" in olga.get("/register/promises/P1").text
    listed = api.get("/api/v1/mentions", params={"limit": 200}).json()
    assert listed["items"] == []  # Ander BV has no mentions; none of ours show
    assert _counts(web_store) == before
    assert values["key"] == "P1"


def test_the_api_names_the_organisation_or_refuses(app: Any, web_store: Store) -> None:
    from klopt.accounts.users import grant

    grant(web_store, OTHER_ORG, "bob", "viewer", actor="olga")
    no_org = api_client(app, web_store, "bob")
    answer = no_org.get("/api/v1/mentions")
    assert answer.status_code == 422 and answer.json()["error"]["code"] == "web.which_organization"
    ours = api_client(app, web_store, "bob", org="voorbeeld-bv")
    assert ours.get("/api/v1/mentions").status_code == 200
    foreign = api_client(app, web_store, "carla", org=OTHER_ORG)
    assert foreign.get("/api/v1/mentions").status_code == 404
    assert TestClient(app).get("/api/v1/mentions").status_code == 401
    bad = TestClient(app, headers={"Authorization": "Bearer klopt_nonsense"})
    refused = bad.get("/api/v1/mentions")
    assert refused.status_code == 401 and refused.headers["www-authenticate"] == "Bearer"


# --- the role x action matrix ------------------------------------------------------------------

ROLES = {"vera": "viewer", "bob": "editor", "carla": "approver", "anna": "admin"}
EVERYONE = frozenset(ROLES.values())
WORKERS = frozenset({"editor", "approver", "admin"})
DECIDERS = frozenset({"approver", "admin"})
WRITERS = frozenset({"editor", "admin"})
ADMINS = frozenset({"admin"})

#: (name, where, method, path, body, roles that may)  (a table: long lines kept whole) -- body: form fields for pages, JSON
#: for the API. ``{post}`` is a mention of the demo store; D1 is bob's draft in review.
MATRIX = [
    ("correct", "page", "POST", "/inbox/{post}/correct", {"stance": "kept", "promise": "P1"}, WORKERS),
    ("decide", "page", "POST", "/register/promises/P12/decide", {"decision": "retired"}, DECIDERS),
    ("edit promise", "page", "POST", "/register/promises/P2/edit", {"theme": "returns"}, DECIDERS),
    ("merge", "page", "POST", "/register/promises/P12/merge", {"into": "P1"}, DECIDERS),
    ("new draft", "page", "POST", "/drafts", {"text": "Morgen in huis."}, WRITERS),
    ("comment", "page", "POST", "/drafts/D1/comment", {"text": "Mooi."}, WORKERS),
    ("approve", "page", "POST", "/drafts/D1/approve", {"version": "1", "override": "true", "note": "ok"}, DECIDERS),
    ("request changes", "page", "POST", "/drafts/D1/request-changes", {"note": "24 uur."}, DECIDERS),
    ("grant", "page", "POST", "/admin/members/grant", {"name": "olga", "role": "viewer"}, ADMINS),
    ("revoke role", "page", "POST", "/admin/members/revoke", {"name": "vera"}, ADMINS),
    ("add source", "page", "POST", "/admin/sources/add", {"name": "feed", "kind": "rss", "setting.url": "http://127.0.0.1:9/feed"}, ADMINS),
    ("own token", "page", "POST", "/account/tokens", {"label": "mine"}, EVERYONE),
    ("correct", "api", "POST", "/api/v1/mentions/{post}/corrections", {"promise": "P1", "stance": "kept"}, WORKERS),
    ("import", "api", "POST", "/api/v1/mentions", [{"text": "Pakket kwam na 5 dagen.", "id": "m-1"}], WORKERS),
    ("new draft", "api", "POST", "/api/v1/drafts", {"text": "Morgen in huis."}, WRITERS),
    ("comment", "api", "POST", "/api/v1/drafts/D1/comments", {"text": "Mooi."}, WORKERS),
    ("approve", "api", "POST", "/api/v1/drafts/D1/approve", {"version": 1, "override": True, "note": "ok"}, DECIDERS),
    ("request changes", "api", "POST", "/api/v1/drafts/D1/request-changes", {"note": "24 uur."}, DECIDERS),
    ("check", "api", "POST", "/api/v1/check", {"text": "Gratis, altijd!"}, EVERYONE),
]  # fmt: skip


@pytest.mark.parametrize("user", list(ROLES))
@pytest.mark.parametrize(
    ("name", "where", "method", "path", "body", "allowed"),
    MATRIX,
    ids=[f"{where}-{name}" for name, where, *_ in MATRIX],
)
def test_each_role_may_do_what_its_role_allows_and_nothing_else(
    sqlite_app: Any,
    sqlite_web_store: Store,
    user: str,
    name: str,
    where: str,
    method: str,
    path: str,
    body: Any,
    allowed: frozenset[str],
) -> None:
    from klopt.editorial.drafts import create_draft, submit_draft

    store = sqlite_web_store
    create_draft(store, ORG, "Vandaag besteld, morgen in huis.", actor="bob")
    submit_draft(store, ORG, "D1", actor="bob")
    url = path.replace("{post}", _first_ids(store)["post_id"])
    if where == "page":
        browser = sign_in(sqlite_app, user)
        before = _counts(store)
        answer = browser.client.request(
            method, url, data={**body, "csrf": browser.csrf}, follow_redirects=False
        )
    else:
        client = api_client(sqlite_app, store, user)
        before = _counts(store)
        answer = client.request(method, url, json=body)
    role = ROLES[user]
    if role in allowed:
        assert answer.status_code < 400, (user, url, answer.status_code, answer.text[:300])
    else:
        assert answer.status_code == 403, (user, url, answer.status_code, answer.text[:300])
        if where == "api":
            assert answer.json()["error"]["code"] in ("users.not_allowed", "admin.not_admin")
        assert _counts(store) == before
