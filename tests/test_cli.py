"""The CLI end to end with the real runner, a real SQLite file, and the fast test embedder."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from helpers import Klopt
from klopt.cli.app import cli

MENTIONS = """\
id,created_at,body
m1,2026-10-01T09:00:00+02:00,"Besteld om 22 uur, de volgende ochtend al binnen! Snelle levering."
m2,2026-10-02T09:00:00+02:00,"Al vijf dagen wachten op mijn pakket, levering is echt te laat."
m3,2026-10-03T09:00:00+02:00,"Retourneren was gratis en makkelijk, geld binnen een week terug."
m4,2026-10-04T09:00:00+02:00,"Wat een mooi weer vandaag in Utrecht."
"""


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


def test_docs_add_says_how_a_document_was_read(klopt: Klopt, tmp_path: Path) -> None:
    old = tmp_path / "oud.txt"
    old.write_bytes(
        "Wij leveren binnen 24 uur, ook in Zeeland. Café open tot 22 uur.".encode("cp1252")
    )
    klopt("init", "Voorbeeld BV")
    out = klopt("--lang", "nl", "docs", "add", str(old)).output
    assert "let op: oud.txt is geen UTF-8; het is gelezen als Windows-1252 (cp1252)." in out


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


TWO_LANGUAGES = {
    "folder.md": BROCHURE,
    "flyer.md": """\
# Our promises

We promise you:

- delivery within 24 hours
- free returns within 30 days

Our customer service always responds within 2 hours.
""",
}


def _two_documents(klopt: Klopt, tmp_path: Path) -> list[str]:
    paths = []
    for name, text in TWO_LANGUAGES.items():
        (tmp_path / name).write_text(text, encoding="utf-8")
        paths.append(str(tmp_path / name))
    klopt("init", "Voorbeeld BV")
    klopt("docs", "add", *paths)
    klopt("promises", "extract")
    return paths


def test_show_edit_and_merge_from_the_command_line(klopt: Klopt, tmp_path: Path) -> None:
    _two_documents(klopt, tmp_path)
    listed = json.loads(klopt("promises", "list", "--json").output)
    first = listed[0]
    assert first["statement"] == "Wij beloven u: levering binnen 24 uur"
    assert [(s["document"], s["language"]) for s in first["sources"]] == [
        ("folder.md", "nl"),
        ("flyer.md", "en"),
    ]
    assert (
        "Wij leveren binnen 24 uur."
        in klopt("promises", "edit", "P1", "Wij leveren binnen 24 uur.").output
    )
    shown = klopt("promises", "show", "P1").output
    assert "P1  Wij leveren binnen 24 uur." in shown
    assert "original sentence: levering binnen 24 uur" in shown
    assert "folder.md v1 § Onze beloften [nl]: «levering binnen 24 uur»" in shown
    assert "flyer.md v1 § Our promises [en]: «delivery within 24 hours»" in shown
    error = klopt("promises", "edit", "P1", "", code=1).output
    assert error.startswith("error: A promise cannot have an empty statement.")
    assert "merging P3 into itself" not in klopt("promises", "merge", "P3", "P3", code=1).output
    assert (
        "P3 cannot be merged into itself" in klopt("promises", "merge", "P3", "P3", code=1).output
    )
    out = klopt("promises", "merge", "P1", "P2").output
    assert "P2 merged into P1; it has 4 sources now." in out
    merged = json.loads(klopt("promises", "list", "--status", "merged", "--json").output)
    assert [(p["key"], p["merged_into"]) for p in merged] == [("P2", "P1")]
    assert "samengevoegd met: P1" in klopt("--lang", "nl", "promises", "show", "P2").output


def test_reasons_kind_and_status_follow_the_language(klopt: Klopt, tmp_path: Path) -> None:
    _two_documents(klopt, tmp_path)
    english = klopt("promises", "show", "P1").output
    assert "measurable" in english and "proposed" in english
    assert "lead-in commitment: 'beloven'" in english
    dutch = klopt("--lang", "nl", "promises", "show", "P1").output
    assert "soort: meetbaar" in dutch and "status: voorgesteld" in dutch
    assert "inleiding toezegging: 'beloven'" in dutch
    assert "thema: Levering" in dutch and "theme: Delivery" in english
    approved = klopt("--lang", "nl", "promises", "approve", "P1").output
    assert approved == "1 beloften zijn nu goedgekeurd.\n"


def test_review_walks_through_the_proposals(klopt: Klopt, tmp_path: Path) -> None:
    _two_documents(klopt, tmp_path)
    queue = [p["key"] for p in json.loads(klopt("promises", "list", "--json").output)]
    assert len(queue) == 3
    # best-scored first; the answers: approve, edit then approve, merge into P1 (after an
    # unknown id), and that was all.
    result = klopt("promises", "review", input="a\ne\nNieuw\na\nm\nP9\nm\nP1\n")
    assert "Proposal 1 of 3" in result.output and "Proposal 3 of 3" in result.output
    assert "There is no promise 'P9'" in result.output
    assert "Reviewed: 2 approved, 0 rejected, 1 edited, 1 merged, 0 skipped." in result.output
    statuses = {
        p["key"]: p["status"] for p in json.loads(klopt("promises", "list", "--json").output)
    }
    assert sorted(statuses.values()) == ["approved", "approved", "merged"]
    assert "geen voorstellen" in klopt("--lang", "nl", "promises", "review").output


def test_review_can_stop_halfway(klopt: Klopt, tmp_path: Path) -> None:
    _two_documents(klopt, tmp_path)
    result = klopt("--lang", "nl", "promises", "review", input="s\nr\nq\n")
    assert "Voorstel 1 van 3" in result.output
    assert (
        "Beoordeeld: 0 goedgekeurd, 1 afgewezen, 0 bewerkt, 0 samengevoegd, 1 overgeslagen."
        in result.output
    )


def test_re_adding_a_changed_document_prints_the_diff(klopt: Klopt, tmp_path: Path) -> None:
    folder, _ = _two_documents(klopt, tmp_path)
    Path(folder).write_text(BROCHURE.replace("binnen 2 uur", "binnen 4 uur"), encoding="utf-8")
    out = klopt("docs", "add", folder).output
    assert "folder.md: version 1 → 2: 2 promises unchanged, 1 changed, 0 went, 0 came." in out
    assert "~ P3: «Onze klantenservice reageert altijd binnen 2 uur.» → «Onze" in out
    assert "binnen 4 uur.»" in out
    again = klopt("docs", "diff", "folder.md").output
    assert "= P1: «levering binnen 24 uur»" in again
    assert (
        "There is no version diff for flyer.md" in klopt("docs", "diff", "flyer.md", code=1).output
    )
    shown = klopt("promises", "show", "P3").output
    assert "the document now words it differently" in shown


@pytest.mark.parametrize(
    ("args", "error"),
    [
        (
            ["--lang", "nl", "docs", "add", "{broken}"],
            "fout: broken.pdf is geen leesbare PDF (",
        ),
        (
            ["--lang", "nl", "promises", "approve", "P9"],
            "fout: Er is geen belofte 'P9' in het register. Zie `klopt promises list` voor de ids.",
        ),
        (
            ["promises", "approve", "P9", "--lang", "nl"],
            "fout: Er is geen belofte 'P9' in het register.",
        ),
        (
            ["--lang", "nl", "mentions", "import", "{mentions}", "--text-column", "bericht"],
            "fout: De text-kolom 'bericht' staat niet in het bestand "
            "(het heeft: id, created_at, body). Geef de juiste kolom op met --text-column.",
        ),
        (
            ["--lang", "nl", "--org", "Onbekend BV", "promises", "list"],
            "fout: Er is geen organisatie 'Onbekend BV'.",
        ),
    ],
    ids=["document", "promise", "lang-after-command", "mentions-column", "organisation"],
)
def test_a_dutch_user_gets_dutch_errors(
    klopt: Klopt, tmp_path: Path, args: list[str], error: str
) -> None:
    (tmp_path / "broken.pdf").write_bytes(b"%PDF-1.7\nthis is not a PDF at all\n")
    (tmp_path / "mentions.csv").write_text(MENTIONS, encoding="utf-8")
    klopt("init", "Voorbeeld BV")
    filled = [
        a.format(broken=tmp_path / "broken.pdf", mentions=tmp_path / "mentions.csv") for a in args
    ]
    result = klopt(*filled, code=1)
    assert result.output.strip().startswith(error), result.output
    assert "Traceback" not in result.output


def test_a_dutch_user_gets_a_dutch_error_from_the_database(tmp_path: Path) -> None:
    result = CliRunner().invoke(
        cli, ["--lang", "nl", "--db", "postgresql://x@127.0.0.1:9/k", "orgs"]
    )
    assert result.exit_code == 3
    assert result.output.startswith("fout: De database op postgresql+psycopg://x@127.0.0.1:9/k")
    assert "antwoordt niet" in result.output


def test_settings_errors_before_a_command_fall_back_sensibly(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    db = f"sqlite:///{tmp_path / 'cli.db'}"
    monkeypatch.setenv("KLOPT_LANG", "de")
    result = CliRunner().invoke(cli, ["--db", db, "orgs"])
    assert result.exit_code == 2
    assert result.output.startswith("error: klopt does not speak 'de'. Choose one of: en, nl.")
    monkeypatch.setenv("KLOPT_LANG", "nl")
    result = CliRunner().invoke(cli, ["--db", db, "--org", "Onbekend", "promises", "list"])
    assert result.output.startswith("fout: Er is geen organisatie 'Onbekend'.")
