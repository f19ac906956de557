"""What the web tests share: the demo store, the team, signed-in clients."""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from klopt.store import Store, open_store

DEMO = Path(__file__).resolve().parents[2] / "examples" / "voorbeeld-bv"
ORG = "Voorbeeld BV"
OTHER_ORG = "Ander BV"
#: Every member's password is ``pw-<name>-1`` (test data only).
MEMBERS = {"anna": "admin", "bob": "editor", "carla": "approver", "vera": "viewer"}
OTHER_MEMBERS = {"olga": "admin"}


def password(name: str) -> str:
    """The test password of ``name``."""
    return f"pw-{name}-1"


def build_demo_store(url: str) -> Store:
    """Fill the empty database at ``url`` as described in this module's docstring."""
    from klopt.accounts.organizations import create_organization
    from klopt.accounts.users import add_user, grant
    from klopt.judging.verdicts import judge_posts
    from klopt.listening.base import ColumnMapping
    from klopt.listening.mentions import import_mentions
    from klopt.register.file import import_register

    store = open_store(url)
    actor = "tester"
    create_organization(store, ORG, language="nl", actor=actor)
    import_register(store, ORG, DEMO / "promises.yaml", actor=actor)
    mapping = ColumnMapping(
        text="body", time="created_at", id="id", author="author", url="url",
        platform="platform", reach="reach",
    )  # fmt: skip
    import_mentions(store, ORG, DEMO / "mentions.csv", mapping, actor=actor)
    import_mentions(store, ORG, DEMO / "eigen-berichten.csv", mapping, actor=actor, kind="own")
    judge_posts(store, ORG, embedder="hashing", actor=actor)
    for name in {**MEMBERS, **OTHER_MEMBERS}:
        add_user(store, name, password=password(name), actor=actor)
    for name, role in MEMBERS.items():
        grant(store, ORG, name, role, actor="anna")
    create_organization(store, OTHER_ORG, language="en", actor=actor)
    other = Path(url.removeprefix("sqlite:///")).parent if url.startswith("sqlite") else None
    register = (other or Path("/tmp")) / "ander-promises.yaml"
    register.write_text(
        "organization: Ander BV\nlanguage: en\npromises:\n"
        '  - id: P1\n    text: "We answer every e-mail within one working day."\n',
        encoding="utf-8",
    )
    import_register(store, OTHER_ORG, register, actor=actor)
    for name, role in OTHER_MEMBERS.items():
        grant(store, OTHER_ORG, name, role, actor=name)
    return store


@dataclass
class Browser:
    """A signed-in test client: ``form`` posts a form with the session's CSRF token, and
    ``htmx`` sends a request as htmx does (with the token in its header)."""

    client: TestClient
    csrf: str
    name: str

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def form(self, url: str, data: dict[str, Any] | None = None, **kwargs: Any) -> Any:
        kwargs.setdefault("follow_redirects", False)
        return self.client.post(url, data={**(data or {}), "csrf": self.csrf}, **kwargs)

    def htmx(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {"HX-Request": "true", "X-CSRF-Token": self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)


def sign_in(app: Any, name: str, *, secret: str | None = None, lang: str = "en") -> Browser:
    """A client of ``app`` signed in as ``name`` (its test password unless ``secret``)."""
    client = TestClient(app, headers={"Accept-Language": lang})
    page = client.get("/sign-in")
    token = re.search(r'name="csrf" value="([^"]+)"', page.text)
    assert token is not None, page.text
    answer = client.post(
        "/sign-in",
        data={"name": name, "password": secret or password(name), "csrf": token.group(1)},
        follow_redirects=False,
    )
    assert answer.status_code == 303, answer.text
    dashboard = client.get("/account")
    found = re.search(r'<meta name="csrf-token" content="([^"]+)"', dashboard.text)
    assert found is not None, dashboard.text
    return Browser(client, found.group(1), name)


def api_client(app: Any, store: Store, name: str, *, org: str | None = None) -> TestClient:
    """A client of ``app`` with a fresh bearer token of ``name`` (and ``X-Klopt-Org``)."""
    from klopt.accounts.users import create_token

    token = create_token(store, name, label="test", actor=name)
    headers = {"Authorization": f"Bearer {token}"}
    if org:
        headers["X-Klopt-Org"] = org
    return TestClient(app, headers=headers)
