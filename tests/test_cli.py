"""The CLI end to end with the real runner, a real SQLite file, and the fast test embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from klopt.cli import cli

MENTIONS = """\
id,created_at,body
m1,2026-10-01T09:00:00+02:00,"Besteld om 22 uur, de volgende ochtend al binnen! Snelle levering."
m2,2026-10-02T09:00:00+02:00,"Al vijf dagen wachten op mijn pakket, levering is echt te laat."
m3,2026-10-03T09:00:00+02:00,"Retourneren was gratis en makkelijk, geld binnen een week terug."
m4,2026-10-04T09:00:00+02:00,"Wat een mooi weer vandaag in Utrecht."
"""


class Klopt:
    """Runs klopt commands against one database file."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = f"sqlite:///{tmp_path / 'cli.db'}"
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0) -> Result:
        result = self.runner.invoke(cli, ["--db", self.db, *args], catch_exceptions=False)
        assert result.exit_code == code, result.output
        return result


@pytest.fixture
def klopt(tmp_path: Path) -> Klopt:
    return Klopt(tmp_path)


def test_the_pipeline_from_register_to_scorecard(
    klopt: Klopt, tmp_path: Path, register_file: Path
) -> None:
    mentions = tmp_path / "mentions.csv"
    mentions.write_text(MENTIONS, encoding="utf-8")
    assert "Voorbeeld BV" in klopt("init", "Voorbeeld BV").output
    assert "3 new" in klopt("promises", "import", str(register_file)).output
    out = klopt(
        "mentions",
        "import",
        str(mentions),
        "--text-column",
        "body",
        "--time-column",
        "created_at",
        "--id-column",
        "id",
    ).output
    assert "4 imported" in out
    assert "Judged 4 posts against 3 promises" in klopt("judge", "--embedder", "hashing").output
    assert "Judged 0 posts" in klopt("judge", "--embedder", "hashing").output
    klopt("correct", "m2", "P1", "broken", "--note", "late parcel")
    assert "Judged 4 posts" in klopt("judge", "--embedder", "hashing").output
    card = json.loads(
        klopt("scorecard", "--since", "2026-10-01", "--until", "2026-10-31", "--json").output
    )
    assert [p["id"] for p in card["promises"]] == ["P1", "P2", "P3"]
    assert card["mentions"] == 4
    p1 = card["promises"][0]
    assert p1["broken"]["count"] >= 1  # the correction holds whatever the engine says
    listed = json.loads(klopt("mentions", "list", "--promise", "P1", "--json").output)
    corrected = [v for v in listed if v["post"] == "m2"]
    assert corrected and corrected[0]["stance"] == "broken" and corrected[0]["by_person"]
    klopt("correct", "m2", "P1", "none")
    listed = json.loads(klopt("mentions", "list", "--promise", "P1", "--json").output)
    assert "m2" not in [v["post"] for v in listed]
    table = klopt("--lang", "nl", "scorecard", "--since", "2026-10-01").output
    assert "Scorekaart Voorbeeld BV" in table and "gebroken" in table
    assert "Scorekaart" in klopt("scorecard", "--since", "2026-10-01", "--lang", "nl").output


def test_export_writes_the_register(klopt: Klopt, tmp_path: Path, register_file: Path) -> None:
    klopt("init", "Voorbeeld BV")
    klopt("promises", "import", str(register_file))
    out = tmp_path / "out.yaml"
    klopt("promises", "export", "-o", str(out))
    assert "Wij leveren binnen 24 uur." in out.read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("args", "message", "code"),
    [
        (["promises", "approve", "P9"], "There is no promise 'P9' in the register.", 1),
        (["promises", "list"], None, 0),
        (
            ["mentions", "import", "{mentions}", "--text-column", "message"],
            "The text column 'message' is not in the file",
            1,
        ),
        (["mentions", "import", "{bad}"], "klopt cannot read 'mentions.xlsx' as mentions.", 1),
        (
            [
                "mentions",
                "import",
                "{mentions}",
                "--text-column",
                "body",
                "--strict",
                "--time-column",
                "id",
            ],
            "nothing was imported",
            1,
        ),
    ],
)
def test_mistakes_get_one_clear_sentence_and_no_traceback(
    klopt: Klopt,
    tmp_path: Path,
    register_file: Path,
    args: list[str],
    message: str | None,
    code: int,
) -> None:
    mentions = tmp_path / "mentions.csv"
    mentions.write_text(MENTIONS, encoding="utf-8")
    (tmp_path / "mentions.xlsx").write_bytes(b"PK\x03\x04")
    klopt("init", "Voorbeeld BV")
    klopt("promises", "import", str(register_file))
    filled = [a.format(mentions=mentions, bad=tmp_path / "mentions.xlsx") for a in args]
    result = klopt(*filled, code=code)
    assert "Traceback" not in result.output
    if message:
        assert message in result.output
        assert result.output.strip().startswith("error: ")


def test_no_organisation_yet_says_what_to_do(klopt: Klopt) -> None:
    result = klopt("promises", "list", code=1)
    assert "There is no organisation yet." in result.output
    assert "klopt init" in result.output


def test_a_database_that_does_not_answer(tmp_path: Path) -> None:
    result = CliRunner().invoke(cli, ["--db", "postgresql://x@127.0.0.1:9/k", "orgs"])
    assert result.exit_code == 3
    assert result.output.startswith("error: The database at postgresql+psycopg://x@127.0.0.1:9/k")
    assert "Traceback" not in result.output


def test_judge_without_approved_promises(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV")
    assert "no approved promise" in klopt("judge", "--embedder", "hashing", code=1).output


BROCHURE = """\
# Onze beloften

Voorbeeld BV is opgericht in 2009 in Utrecht.

Wij beloven u:

- levering binnen 24 uur
- gratis retour binnen 30 dagen

Onze klantenservice reageert altijd binnen 2 uur.
"""


def test_documents_are_versioned_and_proposals_keep_their_source(
    klopt: Klopt, tmp_path: Path
) -> None:
    brochure = tmp_path / "brochure.md"
    brochure.write_text(BROCHURE, encoding="utf-8")
    klopt("init", "Voorbeeld BV")
    assert "stored as version 1" in klopt("docs", "add", str(brochure)).output
    assert "unchanged, still version 1" in klopt("docs", "add", str(brochure)).output
    listed = json.loads(klopt("promises", "list", "--json").output)
    assert listed == []
    klopt("promises", "extract")
    proposals = json.loads(klopt("promises", "list", "--json").output)
    statements = [p["statement"] for p in proposals]
    assert any("binnen 2 uur" in s for s in statements)
    assert not any("opgericht in 2009" in s for s in statements)
    assert all(p["document"] == "brochure.md" and p["version"] == 1 for p in proposals)
    assert "0 new proposals" in klopt("promises", "extract").output
    brochure.write_text(BROCHURE + "\nWij planten een boom voor elke fiets.\n", encoding="utf-8")
    assert "stored as version 2" in klopt("docs", "add", str(brochure)).output


def test_one_unreadable_document_stores_none_of_them(klopt: Klopt, tmp_path: Path) -> None:
    good = tmp_path / "missie.md"
    good.write_text("# Missie\n\nWij leveren altijd binnen 24 uur.\n", encoding="utf-8")
    bad = tmp_path / "brochure.pdf"
    bad.write_bytes(b"%PDF-1.4 this is not really a pdf")
    klopt("init", "Voorbeeld BV")
    result = klopt("docs", "add", str(good), str(bad), code=1)
    assert "brochure.pdf" in result.output and "Traceback" not in result.output
    assert "Voorbeeld BV" in klopt("orgs").output
    assert "missie.md" not in klopt("docs", "list").output


CASES = """\
id,text,labels,sentiment,lang
c1,"Besteld om 22 uur, de volgende ochtend al binnen!",P1:kept,positive,nl
c2,"Al vijf dagen wachten op mijn pakket.",P1:broken,negative,nl
c3,"Retourneren was gratis en makkelijk.",P2:kept,positive,nl
c4,"Mooi weer vandaag.",,neutral,nl
"""


def test_eval_prints_the_numbers_and_writes_the_json_keys(
    klopt: Klopt, tmp_path: Path, register_file: Path
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES, encoding="utf-8")
    out = tmp_path / "eval.json"
    result = klopt(
        "eval",
        "--promises",
        str(register_file),
        "--cases",
        str(cases),
        "--json",
        str(out),
        "--embedder",
        "hashing",
    )
    assert "klopt eval: 4 cases" in result.output
    data = json.loads(out.read_text(encoding="utf-8"))
    assert data["cases"] == 4
    assert set(data["linking"]) >= {"micro", "macro", "per_promise"}
    assert set(data["linking"]["micro"]) >= {"precision", "recall", "f1"}
    assert {"P1", "P2"} <= set(data["linking"]["per_promise"]) <= {"P1", "P2", "P3"}
    assert data["stance"]["n"] == 3 and data["sentiment"]["n"] == 4
    for block in ("stance", "sentiment"):
        assert 0.0 <= data[block]["accuracy"] <= 1.0
        assert set(data[block]) >= {"accuracy", "macro_f1", "n"}


def test_eval_names_an_unknown_promise_id_and_its_line(
    klopt: Klopt, tmp_path: Path, register_file: Path
) -> None:
    cases = tmp_path / "cases.csv"
    cases.write_text(CASES.replace("P2:kept", "P7:kept"), encoding="utf-8")
    result = klopt("eval", "--promises", str(register_file), "--cases", str(cases), code=1)
    assert "P7" in result.output and "Traceback" not in result.output
