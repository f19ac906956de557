"""`klopt drafts ...` and `klopt audit` end to end: the real CLI, store and rule packs.

No promises are approved here, so the checks are the house-style rules only (no model
loads); the promise checks are tested in test_claims.py and test_checking.py.
"""

from __future__ import annotations

import csv
import json
from pathlib import Path

import pytest

from helpers import Klopt

DEMO = Path(__file__).resolve().parents[1] / "examples" / "voorbeeld-bv"

CREDIT = "Droomkeuken? Sluit nu een persoonlijke lening af."
CREDIT_OK = CREDIT + " Let op! Geld lenen kost geld."


def _team(klopt: Klopt) -> None:
    """Voorbeeld BV with anna (admin), bob (editor), carla (approver), dirk (viewer)."""
    klopt("init", "Voorbeeld BV", "--language", "nl")
    for name, role in [("anna", "admin"), ("bob", "editor"), ("carla", "approver")]:
        klopt("users", "add", name)
        klopt("--user", "anna", "users", "grant", name, role)
    klopt("users", "add", "dirk")
    klopt("--user", "anna", "users", "grant", "dirk", "viewer")


def _as(klopt: Klopt, user: str, *args: str, code: int = 0, input: str | None = None) -> str:
    return klopt("--user", user, "drafts", *args, code=code, input=input).output


def _state(klopt: Klopt, number: int = 1) -> str:
    drafts = json.loads(_as(klopt, "dirk", "list", "--json"))
    return str(next(d["state"] for d in drafts if d["draft"] == f"D{number}"))


def test_a_draft_goes_from_writing_to_published_and_every_step_is_recorded(
    klopt: Klopt, tmp_path: Path
) -> None:
    _team(klopt)
    out = _as(klopt, "bob", "new", CREDIT, "--platform", "linkedin", "--at", "2026-12-01T09:00Z")
    assert "D1 stored as version 1 (draft)." in out
    assert "[basis.disclaimer.credit.nl]" in out and "persoonlijke lening" in out
    assert "Score: 75/100 (errors: 1, warnings: 0, info: 0)" in out
    assert "in review" in _as(klopt, "bob", "submit", "D1")

    refused = _as(klopt, "carla", "approve", "D1", code=1)
    assert "[basis.disclaimer.credit.nl]" in refused  # what was found, then the refusal
    assert "Version 1 of D1 has 1 error findings (basis.disclaimer.credit.nl)" in refused
    assert _state(klopt) == "in_review"

    _as(klopt, "carla", "request-changes", "1", "--note", "De kredietwaarschuwing ontbreekt.")
    assert _state(klopt) == "changes_requested"
    out = _as(klopt, "bob", "edit", "D1", CREDIT_OK)
    assert "D1: version 2 stored (changes requested)." in out
    assert "Score: 100/100" in out
    _as(klopt, "bob", "submit", "1")
    out = _as(klopt, "carla", "approve", "D1", "--version", "2", "--note", "Akkoord.")
    assert "D1 version 2 approved by carla (score 100)." in out
    out = _as(klopt, "bob", "publish", "D1", "--url", "https://www.linkedin.com/posts/1")
    assert "D1 is published on linkedin and counted as an own post." in out

    shown = _as(klopt, "dirk", "show", "D1")
    assert "D1  published" in shown and "URL: https://www.linkedin.com/posts/1" in shown
    assert "version 1 by bob" in shown and "version 2 by bob" in shown
    assert "changes requested: version 1 by carla" in shown
    assert "“De kredietwaarschuwing ontbreekt.”" in shown
    assert "approved: version 2 by carla" in shown

    history = json.loads(_as(klopt, "dirk", "history", "D1", "--format", "json"))
    assert [(e["actor"], e["action"], e["details"]["version"]) for e in history] == [
        ("bob", "draft.create", 1),
        ("bob", "draft.submit", 1),
        ("carla", "draft.request_changes", 1),
        ("bob", "draft.edit", 2),
        ("bob", "draft.submit", 2),
        ("carla", "draft.approve", 2),
        ("bob", "draft.publish", 2),
    ]
    assert history[0]["details"]["planned_at"] == "2026-12-01T09:00:00+00:00"

    export = tmp_path / "audit.csv"
    out = klopt("--user", "dirk", "audit", "--subject", "draft", "--output", str(export)).output
    assert "7 audit events written to" in out
    with export.open(encoding="utf-8", newline="") as stream:
        rows = list(csv.DictReader(stream))
    assert [r["action"] for r in rows][-1] == "draft.publish"
    assert json.loads(rows[2]["details"])["note"] == "De kredietwaarschuwing ontbreekt."


def test_nobody_approves_their_own_draft_and_the_state_stays(klopt: Klopt) -> None:
    _team(klopt)
    _as(klopt, "anna", "new", "Wij leveren binnen 24 uur.", "--no-check")
    _as(klopt, "anna", "submit", "D1")
    out = _as(klopt, "anna", "approve", "D1", code=1)
    assert "anna wrote D1 or a version of it, so approving it is for someone else" in out
    assert _state(klopt) == "in_review"
    out = _as(klopt, "bob", "approve", "D1", code=1)
    assert "bob is editor in this organisation; this needs the role approver / admin." in out
    assert "dirk is viewer" in _as(klopt, "dirk", "comment", "D1", "Mooi.", code=1)
    assert _state(klopt) == "in_review"


def test_editing_an_approved_draft_sends_it_back_to_review(klopt: Klopt) -> None:
    _team(klopt)
    _as(klopt, "bob", "new", "Levering binnen 24 uur.", "--no-check")
    _as(klopt, "bob", "submit", "D1")
    _as(klopt, "carla", "approve", "D1")
    out = _as(klopt, "bob", "edit", "D1", "Levering binnen 48 uur!", "--no-check")
    assert "D1: version 2 stored (in review)." in out
    assert _as(klopt, "dirk", "diff", "D1").splitlines() == [
        "D1: version 1 → 2",
        "Levering binnen [-24-]{+48+} uur[-.-]{+!+}",
    ]
    out = _as(klopt, "carla", "approve", "D1", "--version", "1", code=1)
    assert "D1 has a newer version (2) than the one you reviewed (1)" in out
    assert _state(klopt) == "in_review"


def test_a_draft_from_standard_input_and_details_without_a_new_version(klopt: Klopt) -> None:
    _team(klopt)
    _as(klopt, "bob", "new", "-", "--no-check", input="Vanaf morgen ook op zondag.\n")
    out = _as(klopt, "bob", "edit", "D1", "--platform", "mastodon", "--at", "2026-12-24 10:00")
    assert out.strip() == "D1: platform and planned time stored."
    (listed,) = json.loads(_as(klopt, "dirk", "list", "--json"))
    assert listed["version"] == 1 and listed["platform"] == "mastodon"
    assert listed["text"] == "Vanaf morgen ook op zondag."
    assert listed["planned_at"] is not None and listed["planned_at"].startswith("2026-12-2")


def test_bad_input_is_refused_and_nothing_is_stored(klopt: Klopt) -> None:
    _team(klopt)
    out = _as(klopt, "bob", "new", "Tekst", "--at", "morgenochtend", code=1)
    assert "'morgenochtend' is not a date and time." in out
    assert "The draft is empty" in _as(klopt, "bob", "new", "   ", code=2)
    assert "No drafts yet." in _as(klopt, "dirk", "list")
    assert "There is no draft D7 in Voorbeeld BV." in _as(klopt, "dirk", "show", "7", code=1)
    assert "'x1' is not a draft." in _as(klopt, "dirk", "show", "x1", code=1)
    out = klopt("--user", "nobody", "drafts", "list", code=1).output
    assert "nobody has no role in this organisation" in out


def test_the_workflow_speaks_dutch(klopt: Klopt) -> None:
    _team(klopt)
    out = _as(klopt, "bob", "new", "Wij leveren binnen 24 uur.", "--no-check", "--lang", "nl")
    assert "D1 opgeslagen als versie 1 (concept)." in out
    out = _as(klopt, "bob", "publish", "D1", "--lang", "nl", code=1)
    assert out.startswith("fout: Concept D1 is concept; publiceren kan alleen in de stand")
    assert "goedgekeurd" in out
    _as(klopt, "bob", "withdraw", "D1", "--note", "Niet meer nodig.")
    assert "ingetrokken" in _as(klopt, "dirk", "list", "--lang", "nl")


@pytest.mark.slow
def test_a_draft_that_promises_more_than_the_register_is_not_approved(klopt: Klopt) -> None:
    _team(klopt)
    klopt("--user", "anna", "promises", "import", str(DEMO / "promises.yaml"))
    out = _as(klopt, "bob", "new", "Vandaag besteld, binnen 12 uur in huis.", "--platform", "x")
    assert "[promise.exceeds]" in out and "“12 uur”" in out
    _as(klopt, "bob", "submit", "D1")
    out = _as(klopt, "carla", "approve", "D1", code=1)
    assert "Version 1 of D1 has 1 error findings (promise.exceeds)" in out
    out = _as(klopt, "carla", "approve", "D1", "--override", "--note", "Actieweek: 12 uur.")
    assert "approved by carla despite its error findings" in out
    history = json.loads(_as(klopt, "dirk", "history", "D1", "--format", "json"))
    approval = history[-1]["details"]
    assert approval["overridden"] is True and approval["errors"] == 1
    assert approval["note"] == "Actieweek: 12 uur." and approval["version"] == 1
