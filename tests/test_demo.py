"""The demo organisation end to end with the real bundled models (slow)."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from klopt.cli.app import cli

DEMO = Path(__file__).resolve().parents[1] / "examples" / "voorbeeld-bv"

pytestmark = pytest.mark.slow


def run(db: str, *args: str) -> str:
    result = CliRunner().invoke(cli, ["--db", db, *args], catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def test_the_demo_tells_its_story(tmp_path: Path) -> None:
    db = f"sqlite:///{tmp_path / 'demo.db'}"
    run(db, "init", "Voorbeeld BV")
    run(db, "docs", "add", *(str(DEMO / n) for n in ("missie.md", "brochure.md")))
    assert "new proposals" in run(db, "promises", "extract")
    run(db, "promises", "import", str(DEMO / "promises.yaml"))
    run(
        db,
        "mentions",
        "import",
        str(DEMO / "mentions.csv"),
        "--text-column",
        "body",
        "--time-column",
        "created_at",
        "--id-column",
        "id",
        "--platform-column",
        "platform",
    )
    run(db, "judge")
    autumn = json.loads(
        run(db, "scorecard", "--since", "2026-09-01", "--until", "2026-11-01", "--json")
    )
    delivery = autumn["promises"][0]
    assert delivery["id"] == "P1"
    # The demo's customers complain about late parcels in September and October.
    assert delivery["broken"]["count"] > 2 * delivery["kept"]["count"]
    assert delivery["change"] < 0


def test_eval_on_the_demo_cases_is_far_above_chance(tmp_path: Path) -> None:
    out = tmp_path / "eval.json"
    run(
        f"sqlite:///{tmp_path / 'e.db'}",
        "eval",
        "--promises",
        str(DEMO / "promises.yaml"),
        "--cases",
        str(DEMO / "cases.csv"),
        "--json",
        str(out),
    )
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["linking"]["micro"]["f1"] >= 0.5
    assert data["stance"]["accuracy"] >= 0.55
    assert data["sentiment"]["accuracy"] >= 0.55
