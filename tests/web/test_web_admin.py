"""The admin pages: members and roles, sources, rule packs, the audit trail; and every
user's own API tokens. Each against the real app and store (SQLite and PostgreSQL), the
sources against a local HTTP server."""

from __future__ import annotations

import csv
import io
import json
import re
from typing import Any

import pytest
from fastapi import Depends
from fastapi.testclient import TestClient
from live import axe_violations, chromium_browser, needs_chromium, serving, watch
from live import sign_in as live_sign_in
from pytest_httpserver import HTTPServer
from sqlalchemy import func, select
from web_helpers import ORG, OTHER_ORG, password, sign_in

from helpers import Klopt
from klopt.accounts.audit import record
from klopt.accounts.members import member_accounts
from klopt.accounts.organizations import find_organization
from klopt.accounts.trail_export import safe_cell, write_trail
from klopt.accounts.trail_search import TrailFilter, search_trail
from klopt.accounts.users import add_user, create_token, grant, list_members, list_tokens
from klopt.checking.packs import list_packs
from klopt.listening.sync import add_source, list_sources
from klopt.store import Store
from klopt.store.models import AuditEvent, Post, User
from klopt.web.context import Viewer, api_viewer
from klopt.web.pages.admin_sources import secret_prefix

FEED = b"""<?xml version="1.0" encoding="UTF-8"?>
<rss version="2.0"><channel><title>Fietsnieuws</title><link>https://fietsnieuws.example/</link>
<item><guid>https://fietsnieuws.example/?p=1</guid><title>Voorbeeld BV levert binnen 24 uur</title>
<link>https://fietsnieuws.example/1</link><pubDate>Tue, 24 Nov 2026 07:30:00 GMT</pubDate>
<description>Mijn fiets was er de volgende dag al.</description></item>
<item><guid>https://fietsnieuws.example/?p=2</guid><title>Lange reparatietijden</title>
<link>https://fietsnieuws.example/2</link><pubDate>Wed, 25 Nov 2026 09:00:00 GMT</pubDate>
<description>Drie weken wachten op een nieuwe ketting.</description></item>
</channel></rss>"""

ADMIN_PAGES = ("/admin", "/admin/members", "/admin/sources", "/admin/rules", "/admin/audit")

GOOD_PACK = """\
pack: huisstijl
rules:
  - id: huis.gratis
    check: pattern
    severity: warning
    languages: [nl]
    message: {nl: "Zeg wat 'gratis' kost: '{match}'.", en: "Say what 'free' costs: '{match}'."}
    why: {nl: Gratis bestaat zelden., en: Free is rarely free.}
    patterns: ['\\bgratis\\b']
    examples:
      fires: [Nu gratis bezorging!]
      passes: [Bezorging kost 4 euro.]
"""


def _count(store: Store, model: Any) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


def _members(store: Store, org: str = ORG) -> list[tuple[str, str]]:
    return [(m.name, m.role) for m in list_members(store, org)]


def _text(html: str) -> str:
    """The visible text of a page, spaces collapsed (to read messages across tags)."""
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


def _feed(server: HTTPServer, body: bytes = FEED) -> str:
    server.expect_request("/feed").respond_with_data(body, content_type="application/rss+xml")
    return server.url_for("/feed")


# --- who may open the admin pages --------------------------------------------------------


def test_only_admins_open_the_admin_pages_the_others_are_told_why(app: Any) -> None:
    anna = sign_in(app, "anna")
    for path in ADMIN_PAGES:
        page = anna.get(path)
        assert page.status_code == 200, path
        assert page.text.count("<h1") == 1
    assert '<a href="/admin/members"' in anna.get("/admin").text
    for name, role in (("bob", "editor"), ("carla", "approver"), ("vera", "viewer")):
        member = sign_in(app, name)
        for path in ADMIN_PAGES:
            page = member.get(path)
            assert page.status_code == 403, (name, path)
            assert (
                f"Only the admins of Voorbeeld BV may open the admin pages; {name} is {role} here."
                in _text(page.text)
            )
        assert ">Admin</a>" not in member.get("/account").text
    dutch = sign_in(app, "vera", lang="nl").get("/admin/members")
    assert "Alleen de beheerders van Voorbeeld BV mogen de beheerpagina's openen" in _text(
        dutch.text
    )
    assert "vera is hier lezer" in _text(dutch.text)


def test_every_admin_write_is_refused_for_the_other_roles_and_changes_nothing(
    app: Any, web_store: Store, httpserver: HTTPServer
) -> None:
    add_source(web_store, ORG, "nieuws", "rss", {"url": _feed(httpserver)}, actor="anna")
    before = (
        _members(web_store), _count(web_store, User), _count(web_store, AuditEvent),
        _count(web_store, Post), list_sources(web_store, ORG),
    )  # fmt: skip
    writes: list[tuple[str, dict[str, str]]] = [
        ("/admin/members/add", {"name": "mallory", "role": "admin", "password_choice": "generate"}),
        ("/admin/members/grant", {"name": "vera", "role": "admin"}),
        ("/admin/members/role", {"name": "anna", "role": "viewer"}),
        ("/admin/members/revoke", {"name": "anna"}),
        ("/admin/sources/add", {"kind": "rss", "name": "x", "setting.url": _feed(httpserver)}),
        ("/admin/sources/sync", {"name": "nieuws"}),
        ("/admin/sources/remove", {"name": "nieuws"}),
    ]
    for name in ("bob", "carla", "vera"):
        member = sign_in(app, name)
        for url, data in writes:
            answer = member.form(url, data)
            assert answer.status_code == 403, (name, url, answer.text)
            assert "may open the admin pages" in _text(answer.text)
        upload = member.client.post(
            "/admin/rules/add",
            data={"csrf": member.csrf},
            files={"pack": ("huisstijl.yaml", GOOD_PACK.encode(), "application/yaml")},
        )
        assert upload.status_code == 403
        assert "is stored" not in upload.text
        removal = member.form("/admin/rules/remove", {"name": "klopt-basis"})
        assert removal.status_code == 403
    after = (
        _members(web_store), _count(web_store, User), _count(web_store, AuditEvent),
        _count(web_store, Post), list_sources(web_store, ORG),
    )  # fmt: skip
    assert after == before
    assert len(httpserver.log) == 0  # nobody synced


def test_an_admin_write_without_the_session_token_is_refused(app: Any, web_store: Store) -> None:
    anna = sign_in(app, "anna")
    answer = anna.client.post("/admin/members/revoke", data={"name": "vera"})
    assert answer.status_code == 403 and "security token" in answer.text
    assert ("vera", "viewer") in _members(web_store)


# --- members and roles -------------------------------------------------------------------


def test_an_admin_adds_a_user_whose_made_password_is_shown_once_and_works(
    app: Any, web_store: Store
) -> None:
    anna = sign_in(app, "anna")
    answer = anna.form(
        "/admin/members/add",
        {"name": "dirk", "display_name": "Dirk de Vries", "role": "editor",
         "password_choice": "generate"},
    )  # fmt: skip
    assert answer.status_code == 200
    assert "dirk was added as editor." in _text(answer.text)
    found = re.search(r'id="new-password" value="([^"]+)"', answer.text)
    assert found is not None and len(found.group(1)) >= 16
    assert "shown only this once" in answer.text
    assert ("dirk", "editor") in _members(web_store)
    dirk = sign_in(app, "dirk", secret=found.group(1))
    assert "Dirk de Vries" in dirk.get("/account").text
    again = anna.get("/admin/members")
    assert found.group(1) not in again.text and 'id="new-password"' not in again.text
    row = re.search(r"<th scope=\"row\">dirk</th>.*?</tr>", again.text, re.S)
    assert row is not None and "Dirk de Vries" in row.group(0) and ">active<" in row.group(0)


def test_an_admin_gives_a_password_of_their_own_but_not_a_short_one(
    app: Any, web_store: Store
) -> None:
    anna = sign_in(app, "anna", lang="nl")
    short = anna.form(
        "/admin/members/add",
        {"name": "eva", "role": "viewer", "password_choice": "own", "password": "kort"},
    )
    assert short.status_code == 422
    assert "Het wachtwoord is te kort: geef minstens 10 tekens." in _text(short.text)
    assert "eva" not in [m.name for m in member_accounts(web_store, ORG)]
    with web_store.session() as session:
        assert session.scalar(select(User).where(User.name == "eva")) is None
    good = anna.form(
        "/admin/members/add",
        {"name": "eva", "role": "viewer", "password_choice": "own", "password": "lang-genoeg-1"},
    )
    assert good.status_code == 200 and 'id="new-password"' not in good.text
    assert "eva is toegevoegd als lezer." in _text(good.text)
    assert sign_in(app, "eva", secret="lang-genoeg-1").name == "eva"
    taken = anna.form(
        "/admin/members/add", {"name": "bob", "role": "viewer", "password_choice": "generate"}
    )
    assert taken.status_code == 422 and "Er is al een gebruiker 'bob'." in _text(taken.text)


def test_roles_change_and_are_taken_away_but_the_last_admin_stays(
    app: Any, web_store: Store
) -> None:
    anna = sign_in(app, "anna")
    assert anna.form("/admin/members/role", {"name": "bob", "role": "approver"}).status_code == 200
    assert ("bob", "approver") in _members(web_store)
    last = anna.form("/admin/members/role", {"name": "anna", "role": "viewer"})
    assert last.status_code == 403
    assert "anna is the organisation's last admin and stays admin." in _text(last.text)
    assert anna.form("/admin/members/revoke", {"name": "anna"}).status_code == 403
    gone = anna.form("/admin/members/revoke", {"name": "vera"})
    assert gone.status_code == 200
    assert "vera no longer has a role in this organisation." in _text(gone.text)
    assert "vera" not in dict(_members(web_store))
    # a stranger's name in the role form is no member: not found, and not made one
    stranger = anna.form("/admin/members/role", {"name": "olga", "role": "viewer"})
    assert stranger.status_code == 404 and "olga" not in dict(_members(web_store))
    # an existing user is given a role on purpose with the grant form
    joined = anna.form("/admin/members/grant", {"name": "vera", "role": "viewer"})
    assert joined.status_code == 200 and ("vera", "viewer") in _members(web_store)
    bad = anna.form("/admin/members/grant", {"name": "vera", "role": "owner"})
    assert bad.status_code == 422 and "'owner' is not a role." in _text(bad.text)
    # with a second admin, anna may step down; then the admin pages are closed to her
    assert anna.form("/admin/members/role", {"name": "carla", "role": "admin"}).status_code == 200
    down = anna.form("/admin/members/role", {"name": "anna", "role": "editor"})
    assert down.status_code == 303 and down.headers["location"] == "/account"
    assert anna.get("/admin").status_code == 403
    # every change is in the audit trail, refused ones are not
    recorded = [
        (e.action, e.details["name"], e.details["role"])
        for e in search_trail(web_store, ORG, actor="carla").entries
        if e.actor == "anna" and e.action.startswith("membership.")
    ]
    assert recorded[-5:] == [
        ("membership.grant", "bob", "approver"),
        ("membership.revoke", "vera", "viewer"),
        ("membership.grant", "vera", "viewer"),
        ("membership.grant", "carla", "admin"),
        ("membership.grant", "anna", "editor"),
    ]


# --- API tokens --------------------------------------------------------------------------


def _whoami(app: Any) -> None:
    """A small /api/v1 route on the real bearer-token check (the API's own routes are
    being built beside this)."""

    def whoami(viewer: Viewer = Depends(api_viewer)) -> dict[str, str]:  # noqa: B008
        return {"user": viewer.user, "organization": viewer.org.name, "role": viewer.role}

    app.add_api_route("/api/v1/test-whoami", whoami, methods=["GET"])


def test_a_token_is_shown_once_works_as_bearer_and_stops_when_revoked(
    app: Any, web_store: Store
) -> None:
    _whoami(app)
    bob = sign_in(app, "bob")
    assert 'href="/account/tokens"' in bob.get("/account").text
    made = bob.form("/account/tokens", {"label": "nightly export"})
    assert made.status_code == 200 and "shown only this once" in made.text
    found = re.search(r'id="new-token" value="(klopt_[^"]+)"', made.text)
    assert found is not None
    token = found.group(1)
    assert token not in bob.get("/account/tokens").text
    (info,) = list_tokens(web_store, "bob")
    assert info.name == "nightly export" and info.last_used_at is None
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    answer = api.get("/api/v1/test-whoami")
    assert answer.status_code == 200
    assert answer.json() == {"user": "bob", "organization": ORG, "role": "editor"}
    listed = bob.get("/account/tokens").text
    row = re.search(r"nightly export.*?</tr>", listed, re.S)
    assert row is not None and "works" in row.group(0) and "never" not in row.group(0)
    revoked = bob.form(f"/account/tokens/{info.id}/revoke")
    assert revoked.status_code == 200
    assert f"Token {info.id} is revoked: it no longer works." in _text(revoked.text)
    assert api.get("/api/v1/test-whoami").status_code == 401
    assert list_tokens(web_store, "bob")[0].revoked_at is not None


def test_nobody_revokes_or_sees_another_users_token(app: Any, web_store: Store) -> None:
    _whoami(app)
    token = create_token(web_store, "anna", label="anna's script", actor="anna")
    (annas,) = list_tokens(web_store, "anna")
    for name in ("bob", "olga"):
        other = sign_in(app, name)
        assert "anna&#39;s script" not in other.get("/account/tokens").text
        assert other.form(f"/account/tokens/{annas.id}/revoke").status_code == 404
    # not even an admin: tokens are each user's own (the library allows nothing else)
    carla_admin = sign_in(app, "anna")
    assert "anna&#39;s script" in carla_admin.get("/account/tokens").text
    api = TestClient(app, headers={"Authorization": f"Bearer {token}"})
    assert api.get("/api/v1/test-whoami").json()["user"] == "anna"
    assert list_tokens(web_store, "anna")[0].revoked_at is None


def test_tokens_are_for_every_member_and_ask_for_the_session_token(app: Any) -> None:
    vera = sign_in(app, "vera", lang="nl")
    page = vera.get("/account/tokens")
    assert page.status_code == 200 and "Je API-tokens" in page.text
    refused = vera.client.post("/account/tokens", data={"label": "x"})
    assert refused.status_code == 403


# --- sources -----------------------------------------------------------------------------


def test_a_source_is_added_synced_now_from_a_test_server_and_removed(
    app: Any, web_store: Store, httpserver: HTTPServer
) -> None:
    anna = sign_in(app, "anna")
    posts = _count(web_store, Post)
    added = anna.form(
        "/admin/sources/add",
        {"kind": "rss", "name": "fietsnieuws", "setting.url": _feed(httpserver),
         "setting.platform": "news", "interval": "45"},
    )  # fmt: skip
    assert added.status_code == 200, added.text
    assert "Source fietsnieuws (rss) added" in _text(added.text)
    (info,) = list_sources(web_store, ORG)
    assert (info.kind, info.interval, info.config["platform"]) == ("rss", 45 * 60, "news")
    assert "every 45 minutes" in added.text and "not synced yet" in added.text
    synced = anna.form("/admin/sources/sync", {"name": "fietsnieuws"})
    assert synced.status_code == 200
    assert "fietsnieuws: 2 new, 0 already there, 0 skipped." in _text(synced.text)
    assert _count(web_store, Post) == posts + 2
    with web_store.session() as session:
        texts = session.scalars(select(Post.text).where(Post.platform == "news")).all()
    assert any("Drie weken wachten" in text for text in texts)
    (info,) = list_sources(web_store, ORG)
    assert (info.status, info.items_total) == ("ok", 2)
    again = anna.form("/admin/sources/sync", {"name": "fietsnieuws"})
    assert "fietsnieuws: 0 new, 2 already there, 0 skipped." in _text(again.text)
    removed = anna.form("/admin/sources/remove", {"name": "fietsnieuws"})
    assert removed.status_code == 200
    assert "Source fietsnieuws removed; its mentions stay." in _text(removed.text)
    assert list_sources(web_store, ORG) == [] and _count(web_store, Post) == posts + 2
    assert anna.form("/admin/sources/sync", {"name": "fietsnieuws"}).status_code == 404


def test_a_failing_source_shows_its_error_in_the_users_language(
    app: Any, web_store: Store, httpserver: HTTPServer
) -> None:
    httpserver.expect_request("/page").respond_with_data(
        "<html><head><title>Nieuws</title></head><body>Geen feed</body></html>",
        content_type="text/html",
    )
    url = httpserver.url_for("/page")
    add_source(web_store, ORG, "webpagina", "rss", {"url": url}, actor="anna")
    anna = sign_in(app, "anna", lang="nl")
    synced = anna.form("/admin/sources/sync", {"name": "webpagina"})
    assert synced.status_code == 200
    assert f"{url} is een webpagina, geen feed." in _text(synced.text)
    listed = sign_in(app, "anna", lang="en").get("/admin/sources")
    assert f"{url} is a web page, not a feed." in _text(listed.text)
    assert "error" in listed.text


def test_a_secret_is_named_by_a_variable_of_the_organisations_own_prefix(
    app: Any, web_store: Store
) -> None:
    assert secret_prefix("voorbeeld-bv") == "KLOPT_SOURCE_VOORBEELD_BV_"
    anna = sign_in(app, "anna")
    pasted = "glpat-very-secret-token"
    for value in (pasted, "DATABASE_URL", "KLOPT_SOURCE_ANDER_BV_TOKEN"):
        answer = anna.form(
            "/admin/sources/add",
            {"kind": "mastodon", "name": "masto", "setting.instance": "https://social.example",
             "setting.hashtag": "voorbeeldbv", "setting.token_env": value},
        )  # fmt: skip
        assert answer.status_code == 422, value
        assert "must name an environment variable whose name starts with" in _text(answer.text)
        assert value not in answer.text  # a pasted secret is not shown again
    assert list_sources(web_store, ORG) == []
    good = anna.form(
        "/admin/sources/add",
        {"kind": "mastodon", "name": "masto", "setting.instance": "https://social.example",
         "setting.hashtag": "voorbeeldbv\nfietsen", "setting.token_env":
         "KLOPT_SOURCE_VOORBEELD_BV_MASTODON"},
    )  # fmt: skip
    assert good.status_code == 200, good.text
    (info,) = list_sources(web_store, ORG)
    assert info.config["hashtag"] == ["voorbeeldbv", "fietsen"]
    assert info.config["token_env"] == "KLOPT_SOURCE_VOORBEELD_BV_MASTODON"


def test_the_add_form_offers_the_network_kinds_with_their_settings(app: Any) -> None:
    page = sign_in(app, "anna").get("/admin/sources").text
    for kind in ("rss", "mastodon", "bluesky", "reddit"):
        assert f'name="kind" value="{kind}"' in page
    assert 'name="kind" value="file"' not in page  # the server's disk is not for the web
    assert 'for="bluesky-password_env"' in page and 'id="bluesky-password_env"' in page
    bad = sign_in(app, "anna").form(
        "/admin/sources/add", {"kind": "file", "name": "f", "setting.path": "/etc"}
    )
    assert bad.status_code == 422 and "'file' is not a kind of source." in _text(bad.text)


# --- rule packs --------------------------------------------------------------------------


def _upload(app: Any, name: str, text: str, lang: str = "en") -> Any:
    anna = sign_in(app, "anna", lang=lang)
    return anna.client.post(
        "/admin/rules/add",
        data={"csrf": anna.csrf},
        files={"pack": (name, text.encode("utf-8"), "application/yaml")},
    )


def test_the_rule_packs_page_shows_the_active_packs_and_their_rules(app: Any) -> None:
    page = sign_in(app, "anna", lang="nl").get("/admin/rules")
    assert page.status_code == 200
    assert "klopt-basis" in page.text and "<code>basis.superlative.nl</code>" in page.text
    assert "Onbewijsbare overtreffende trap" in page.text
    assert "Je organisatie heeft nog geen eigen regelpakketten" in page.text


def test_a_valid_pack_is_stored_listed_and_used_by_the_draft_check_at_once(
    app: Any, web_store: Store, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")
    draft = {"text": "Vandaag gratis bezorging in heel Nederland.", "lang": "nl"}
    before = api("bob").post("/api/v1/check", json=draft)
    assert before.status_code == 200, before.text
    assert "huis.gratis" not in {f["rule"] for f in before.json()["findings"]}
    answer = _upload(app, "huisstijl.yaml", GOOD_PACK)
    assert answer.status_code == 200, answer.text
    text = _text(answer.text)
    assert "huisstijl.yaml is stored" in text
    assert "Pack huisstijl is stored: 1 rules, each passing its own examples." in text
    assert "<code>huis.gratis</code>" in answer.text and "anna" in text
    assert [(p.name, p.file_name, p.uploaded_by) for p in list_packs(web_store, ORG)] == [
        ("huisstijl", "huisstijl.yaml", "anna")
    ]
    after = api("bob").post("/api/v1/check", json=draft)
    found = [f for f in after.json()["findings"] if f["rule"] == "huis.gratis"]
    assert [f["text"] for f in found] == ["gratis"]
    assert "Pack huisstijl is replaced" in _text(_upload(app, "v2.yaml", GOOD_PACK).text)
    assert [p.file_name for p in list_packs(web_store, ORG)] == ["v2.yaml"]
    other = api("olga").post("/api/v1/check", json=draft)
    assert other.status_code == 200, other.text
    assert "huis.gratis" not in {f["rule"] for f in other.json()["findings"]}


def test_a_stored_pack_is_removed_from_the_page_and_from_the_checks(
    app: Any, web_store: Store, api: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")
    assert _upload(app, "huisstijl.yaml", GOOD_PACK).status_code == 200
    draft = {"text": "Vandaag gratis bezorging in heel Nederland.", "lang": "nl"}
    rules = {f["rule"] for f in api("bob").post("/api/v1/check", json=draft).json()["findings"]}
    assert "huis.gratis" in rules
    anna = sign_in(app, "anna")
    gone = anna.form("/admin/rules/remove", {"name": "huisstijl"})
    assert gone.status_code == 200, gone.text
    assert "Rule pack huisstijl removed" in _text(gone.text)
    assert list_packs(web_store, ORG) == []
    rules = {f["rule"] for f in api("bob").post("/api/v1/check", json=draft).json()["findings"]}
    assert "huis.gratis" not in rules
    again = anna.form("/admin/rules/remove", {"name": "huisstijl"})
    assert again.status_code == 404
    assert "There is no stored rule pack named 'huisstijl'." in _text(again.text)
    with web_store.session() as session:
        actions = session.scalars(
            select(AuditEvent.action).where(AuditEvent.subject_type == "rule_pack")
        ).all()
    assert sorted(actions) == ["rules.add", "rules.remove"]


def test_bad_yaml_and_a_bad_rule_are_shown_with_the_file_and_line(
    app: Any, web_store: Store
) -> None:
    broken = GOOD_PACK.replace("    severity: warning\n", "    severity: [warning\n")
    answer = _upload(app, "../../etc/huis stijl.yaml", broken)
    assert answer.status_code == 422
    text = _text(answer.text)
    assert re.search(r"huis_stijl\.yaml, line \d+: not valid YAML", text), text
    assert "/tmp" not in text and "klopt-pack-" not in text and "etc" not in text
    wrong = GOOD_PACK.replace("check: pattern", "check: pattren")
    answer = _upload(app, "huisstijl.yaml", wrong, lang="nl")
    assert answer.status_code == 422
    assert (
        "huisstijl.yaml, regel 4: regel huis.gratis noemt een onbekend checktype 'pattren'."
        in _text(answer.text)
    )
    fails = GOOD_PACK.replace("passes: [Bezorging kost 4 euro.]", "passes: [Gratis koffie.]")
    answer = _upload(app, "huisstijl.yaml", fails)
    assert answer.status_code == 422
    line = fails.splitlines().index("      passes: [Gratis koffie.]") + 1
    assert f"huisstijl.yaml, line {line}: rule huis.gratis fires on its 'passes' example" in _text(
        answer.text
    )
    duplicate = GOOD_PACK.replace("id: huis.gratis", "id: basis.superlative.nl")
    answer = _upload(app, "huisstijl.yaml", duplicate)
    assert answer.status_code == 422
    assert "rule id basis.superlative.nl is already used in klopt-basis.yaml" in _text(answer.text)
    assert list_packs(web_store, ORG) == []


# --- the audit trail ---------------------------------------------------------------------


def _csv(text: str) -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO(text)))


def test_the_audit_trail_filters_pages_and_exports_like_the_cli(
    app: Any, web_store: Store, httpserver: HTTPServer
) -> None:
    add_user(web_store, "=cmd()", password="pw-x-1234567", actor="anna")
    grant(web_store, ORG, "=cmd()", "admin", actor="anna")
    add_source(web_store, ORG, "nieuws", "rss", {"url": _feed(httpserver)}, actor="=cmd()")
    anna = sign_in(app, "anna")
    page = anna.get("/admin/audit", params={"who": "=cmd()", "action": "source.add"})
    assert page.status_code == 200
    assert "1 events" in _text(page.text) and "source nieuws" in _text(page.text)
    assert '<option value="=cmd()" selected>' in page.text
    query = {"who": "=cmd()", "action": "source.add"}
    exported = anna.get("/admin/audit/export.csv", params=query)
    assert exported.status_code == 200
    assert exported.headers["content-type"].startswith("text/csv")
    disposition = exported.headers["content-disposition"]
    assert re.fullmatch(
        r'attachment; filename="klopt-audit-voorbeeld-bv-\d{8}-\d{4}\.csv"', disposition
    )
    (row,) = _csv(exported.text)
    assert row["actor"] == "'=cmd()" and row["action"] == "source.add"
    assert row["subject_type"] == "source" and row["subject"] == "nieuws"
    assert json.loads(row["details"])["kind"] == "rss"
    as_json = anna.get("/admin/audit/export.json", params=query)
    assert as_json.headers["content-type"].startswith("application/json")
    (entry,) = as_json.json()
    assert entry["actor"] == "=cmd()" and entry["subject"] == "nieuws"  # JSON as it is
    # the same as `klopt audit --format json` would write for these entries
    entries = search_trail(
        web_store, ORG, actor="anna", where=TrailFilter(who="=cmd()", action="source.add")
    ).entries
    stream = io.StringIO()
    write_trail(entries, "json", stream)
    assert as_json.text == stream.getvalue()
    # grants by anna in a period: the demo's members were granted today
    grants = anna.get(
        "/admin/audit/export.json", params={"who": "anna", "action": "membership.grant"}
    )
    assert {e["details"]["name"] for e in grants.json()} >= {"bob", "carla", "vera", "=cmd()"}
    nothing = anna.get("/admin/audit", params={"who": "anna", "until": "2000-01-01"})
    assert "0 events" in _text(nothing.text) and "holds nothing that matches" in nothing.text
    bad = anna.get("/admin/audit", params={"since": "gisteren"})
    assert bad.status_code == 422 and "'gisteren' is not a day (field since)." in _text(bad.text)


def test_the_audit_trail_is_paged_newest_first(app: Any, web_store: Store) -> None:
    with web_store.session() as session:
        org_id = find_organization(session, ORG).id
        for i in range(120):
            record(
                session, organization_id=org_id, actor="job", action="test.tick",
                subject_type="tick", subject_id=i,
            )  # fmt: skip
    anna = sign_in(app, "anna")
    first = anna.get("/admin/audit", params={"action": "test.tick"})
    assert "120 events" in _text(first.text) and "Page 1 of 3" in _text(first.text)
    assert "tick 119" in first.text and "tick 69" not in first.text
    assert 'href="/admin/audit?action=test.tick&amp;page=2"' in first.text
    third = anna.get("/admin/audit", params={"action": "test.tick", "page": 3})
    assert "Page 3 of 3" in _text(third.text) and "tick 0<" in third.text
    assert "tick 20<" not in third.text
    everything = anna.get("/admin/audit/export.csv", params={"action": "test.tick"})
    assert [r["subject"] for r in _csv(everything.text)] == [str(i) for i in range(120)]


def test_the_cli_export_neutralises_formulas_too(klopt: Klopt, tmp_path: Any) -> None:
    klopt("init", "Voorbeeld BV")
    klopt("users", "add", "=HYPERLINK(1)")
    klopt("--user", "=HYPERLINK(1)", "users", "grant", "=HYPERLINK(1)", "admin")
    out = klopt("--user", "=HYPERLINK(1)", "audit", "--format", "csv").output
    (row,) = [r for r in _csv(out) if r["action"] == "membership.grant"]
    assert row["actor"] == "'=HYPERLINK(1)"
    assert json.loads(row["details"])["name"] == "=HYPERLINK(1)"  # inside JSON: not a cell


def test_a_cell_that_a_spreadsheet_would_run_gets_an_apostrophe() -> None:
    for cell in ("=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"):
        assert safe_cell(cell) == "'" + cell
    for cell in ("anna", "2026-07-01T10:00:00+00:00", '{"a": 1}', "", "D1"):
        assert safe_cell(cell) == cell


# --- one organisation never sees another's -----------------------------------------------


def test_another_organisations_admin_sees_none_of_its_users_sources_or_trail(
    app: Any, web_store: Store, httpserver: HTTPServer
) -> None:
    add_source(web_store, ORG, "nieuws", "rss", {"url": _feed(httpserver)}, actor="anna")
    add_source(web_store, OTHER_ORG, "news", "rss", {"url": _feed(httpserver)}, actor="olga")
    olga = sign_in(app, "olga")
    members = olga.get("/admin/members").text
    assert '<th scope="row">olga</th>' in members
    for name in ("anna", "bob", "carla", "vera"):
        assert f'<th scope="row">{name}</th>' not in members
    sources = olga.get("/admin/sources").text
    assert '<th scope="row">news' in sources and '<th scope="row">nieuws' not in sources
    for url in ("/admin/sources/sync", "/admin/sources/remove"):
        answer = olga.form(url, {"name": "nieuws"})
        assert answer.status_code == 404 and "There is no source" in _text(answer.text)
    assert [s.name for s in list_sources(web_store, ORG)] == ["nieuws"]
    assert olga.form("/admin/members/role", {"name": "bob", "role": "viewer"}).status_code == 404
    assert olga.form("/admin/members/revoke", {"name": "bob"}).status_code == 404
    assert ("bob", "editor") in _members(web_store)
    trail = olga.get("/admin/audit").text
    assert '<option value="anna"' not in trail and "nieuws" not in trail
    exported = olga.get("/admin/audit/export.json").json()
    assert exported and {e["actor"] for e in exported} <= {"olga", "tester"}
    assert not any(e["subject"] == "nieuws" for e in exported)
    assert olga.get("/admin/audit", params={"who": "anna"}).text.count("<tr>") <= 1
    assert [m.name for m in member_accounts(web_store, OTHER_ORG)] == ["olga"]
    assert _members(web_store, OTHER_ORG) == [("olga", "admin")]


@pytest.mark.parametrize("path", ["/admin/members", "/admin/sources", "/admin/rules"])
def test_admin_pages_carry_no_inline_script_or_style(app: Any, path: str) -> None:
    page = sign_in(app, "anna").get(path)
    assert page.headers["content-security-policy"].startswith("default-src 'self'")
    assert "style=" not in page.text and " onclick" not in page.text
    assert re.search(r"<script(?![^>]*\bsrc=)", page.text) is None


# --- in a real browser -------------------------------------------------------------------


@needs_chromium
def test_the_admin_token_and_report_pages_pass_axe_without_csp_errors(sqlite_app: Any) -> None:
    pages = [*ADMIN_PAGES, "/account/tokens", "/report"]
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        for lang in ("nl-NL", "en-GB"):
            page = chromium.new_page(locale=lang)
            problems = watch(page)
            live_sign_in(page, base, "anna", password("anna"))
            for path in pages:
                page.goto(f"{base}{path}")
                assert page.locator("h1").count() == 1, path
                assert axe_violations(page) == [], (lang, path)
            page.goto(f"{base}/account/tokens")
            page.locator("#token-label").fill("browser")
            page.locator("form[action='/account/tokens'] button[type=submit]").click()
            page.wait_for_load_state("networkidle")
            assert page.locator("#new-token").input_value().startswith("klopt_")
            assert axe_violations(page) == []
            page.goto(f"{base}/admin/sources")
            page.locator("summary", has_text="rss").click()
            assert page.locator("#rss-url").is_visible()
            assert problems == [], (lang, problems)
