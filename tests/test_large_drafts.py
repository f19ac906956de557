"""Long drafts (issue 11): a draft over the limit is refused the same way everywhere, a
long one under it is checked with output that stays small, and the checks take pathological
text (long runs of digits, spaces, emoji, marks, unclosed quotes) in their stride.

Behaviour only: how the time grows with the length is in benchmarks/large_drafts.py.
"""

from __future__ import annotations

import io
import json
from pathlib import Path

import pytest
from rich.console import Console

from helpers import Klopt
from klopt.checking.check import (
    MAX_DRAFT_LENGTH,
    CheckReport,
    DraftTooLong,
    EmptyDraft,
    check_draft,
    line_index,
    organization_checker,
    report_sarif,
)
from klopt.checking.claims import check_promises, parse_quantities, split_draft
from klopt.checking.claims.cues import quote_regions
from klopt.checking.findings import Draft, Finding, Severity, Span, excerpt
from klopt.cli.check import WINDOW, render_text
from klopt.editorial.drafts import create_draft
from klopt.judging.judge import PromiseSpec
from klopt.register.documents import sentence_spans
from klopt.store import Store

FILLER = "Wij repareren uw fiets in onze werkplaats. "
SUPERLATIVE = "Wij zijn de beste fietsenmaker van Utrecht. "
ONE_MEGABYTE = "x" * 1_000_000


def _long_line(size: int = 98_000) -> tuple[str, int]:
    """One line of about ``size`` characters with a superlative halfway; and its offset."""
    half = FILLER * (size // 2 // len(FILLER))
    text = half + SUPERLATIVE + half
    return text, text.index("de beste")


def _rendered(report: CheckReport) -> str:
    out = Console(file=io.StringIO(), width=100, color_system=None, highlight=False)
    render_text(report, lang="en", where="draft.txt", out=out)
    return out.file.getvalue()  # type: ignore[attr-defined, no-any-return]


# --- the limit -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("lang", "expected"),
    [
        ("en", "error: The draft is longer than 100,000 characters"),
        ("nl", "fout: Het concept is langer dan 100.000 tekens"),
    ],
)
def test_a_draft_over_the_limit_is_refused_in_the_users_language(
    klopt: Klopt, lang: str, expected: str
) -> None:
    out = klopt("--lang", lang, "check", "a" * (MAX_DRAFT_LENGTH + 1), code=2).output
    assert expected in out
    assert ("split it into several posts" if lang == "en" else "verdeel het over meer") in out
    assert "Traceback" not in out


@pytest.mark.parametrize("format_", ["text", "json", "sarif"])
def test_a_one_megabyte_single_line_draft_finishes_with_a_short_answer(
    klopt: Klopt, tmp_path: Path, format_: str
) -> None:
    post = tmp_path / "post.txt"
    post.write_text(ONE_MEGABYTE, encoding="utf-8")
    from_file = klopt("check", "--file", str(post), "--format", format_, code=2).output
    from_stdin = klopt("check", "-", "--format", format_, input=ONE_MEGABYTE, code=2).output
    for out in (from_file, from_stdin):
        assert len(out) < 20_000
        assert "longer than 100,000 characters" in out
        assert "Traceback" not in out


def test_the_library_refuses_a_draft_over_the_limit_and_takes_one_at_it() -> None:
    with pytest.raises(DraftTooLong) as refused:
        check_draft(Draft("a" * (MAX_DRAFT_LENGTH + 1)), rules=None, promises=[])
    assert refused.value.exit_code == 2
    assert "100.000 tekens" in refused.value.localized("nl")
    report = check_draft(Draft("a " * (MAX_DRAFT_LENGTH // 2)), rules=None, promises=[])
    assert report.findings == ()
    with pytest.raises(EmptyDraft):
        check_draft(Draft("   "), rules=None, promises=[])


def test_an_organisations_check_refuses_before_it_opens_the_store(store: Store) -> None:
    check = organization_checker(store, "no such organisation")
    with pytest.raises(DraftTooLong):
        check(Draft(ONE_MEGABYTE))


def _team(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV", "--language", "nl")
    for name, role in [("anna", "admin"), ("bob", "editor"), ("carla", "approver")]:
        klopt("users", "add", name)
        klopt("--user", "anna", "users", "grant", name, role)


@pytest.mark.parametrize("lang", ["en", "nl"])
def test_the_draft_workflow_refuses_a_draft_over_the_limit(
    klopt: Klopt, tmp_path: Path, lang: str
) -> None:
    _team(klopt)
    post = tmp_path / "post.txt"
    post.write_text(ONE_MEGABYTE, encoding="utf-8")
    bob = ("--lang", lang, "--user", "bob", "drafts")
    expected = "100,000 characters" if lang == "en" else "100.000 tekens"
    for args in (("new", "--file", str(post)), ("new", "-", "--no-check")):
        out = klopt(*bob, *args, input=ONE_MEGABYTE, code=2).output
        assert expected in out and "Traceback" not in out and len(out) < 20_000
    assert json.loads(klopt("--user", "bob", "drafts", "list", "--json").output) == []
    klopt(*bob, "new", "Wij repareren uw fiets.")
    out = klopt(*bob, "edit", "D1", "--file", str(post), code=2).output
    assert expected in out and len(out) < 20_000
    klopt(*bob, "submit", "D1")
    out = klopt("--user", "carla", "drafts", "approve", "D1").output  # version 1 stands
    assert "D1 version 1 approved by carla" in out


def test_creating_a_draft_over_the_limit_in_the_library_is_refused(store: Store) -> None:
    with pytest.raises(DraftTooLong):
        create_draft(store, None, ONE_MEGABYTE, actor="bob")


# --- long drafts under the limit -------------------------------------------------------------


def test_a_long_single_line_draft_shows_each_finding_in_a_window(klopt: Klopt) -> None:
    text, offset = _long_line()
    out = klopt("check", text, "--platform", "x", code=1).output
    assert len(out) < 20_000
    assert f"draft.txt:1:{offset + 1}: warning [basis.superlative.nl]" in out
    lines = out.splitlines()
    (row,) = [i for i, line in enumerate(lines) if "de beste fietsenmaker" in line]
    assert lines[row].startswith("  1 | …") and lines[row].endswith("…")
    assert len(lines[row]) == len("  1 | ") + 1 + WINDOW + len("de beste") + WINDOW + 1
    assert lines[row + 1] == "    | " + " " * (1 + WINDOW) + "^" * len("de beste")
    # The length finding marks all text past 280 characters: its start and end are shown.
    assert "draft.txt:1:281: error [basis.length]" in out
    (carets,) = [line for line in lines if line.count("^") > len("de beste")]
    assert carets.count("^") == 2 * WINDOW + 1


def test_json_and_sarif_of_a_long_draft_point_at_the_span(klopt: Klopt, tmp_path: Path) -> None:
    text, offset = _long_line()
    post = tmp_path / "post.txt"
    post.write_text("🚲 " + text, encoding="utf-8")  # an emoji: two UTF-16 code units
    data = json.loads(klopt("check", "--file", str(post), "--format", "json").output)
    (finding,) = [f for f in data["findings"] if f["rule"] == "basis.superlative.nl"]
    assert (finding["start"], finding["text"]) == (offset + 2, "de beste")
    sarif = json.loads(klopt("check", "--file", str(post), "--format", "sarif").output)
    (result,) = sarif["runs"][0]["results"]
    region = result["locations"][0]["physicalLocation"]["region"]
    assert (region["startLine"], region["startColumn"]) == (1, offset + 2 + 2)


def test_a_long_draft_is_checked_against_the_register(
    klopt: Klopt, register_file: Path, tmp_path: Path
) -> None:
    klopt("init", "Voorbeeld BV")
    klopt("promises", "import", str(register_file))
    post = tmp_path / "post.txt"
    post.write_text("\n".join([FILLER, "Wij leveren binnen 12 uur!"] * 1_200), encoding="utf-8")
    out = klopt("check", "--file", str(post), "--embedder", "hashing", code=1).output
    assert "error [promise.exceeds]" in out
    assert len(out) < 20_000
    data = json.loads(
        klopt(
            "check", "--file", str(post), "--embedder", "hashing", "--format", "json", code=1
        ).output
    )
    assert {"promise.exceeds"} <= {f["rule"] for f in data["findings"]}


@pytest.mark.slow
def test_a_long_run_on_sentence_is_checked_with_the_bundled_model() -> None:
    run_on = " ".join(["wij repareren uw fiets in onze werkplaats"] * 2_000)
    text = f"Wij leveren binnen 12 uur {run_on}"
    promises = [PromiseSpec("P1", "Wij leveren binnen 24 uur.")]
    report = check_draft(
        Draft(text, language="nl"), rules=None, promises=promises, promise_checker=check_promises
    )
    spanned = [f for f in report.findings if f.rule.startswith("promise.") and f.span]
    # the excess is found in the run-on sentence and points at its amount
    assert spanned and spanned[0].rule == "promise.exceeds" and spanned[0].span is not None
    assert text[spanned[0].span.start : spanned[0].span.end] == "12 uur"
    assert all(len(f.message) < 400 for f in spanned)  # the sentence quoted shortened
    assert len(_rendered(report)) < 2_000


# --- the text output -------------------------------------------------------------------------


def _report(text: str, span: Span) -> CheckReport:
    finding = Finding("style.x", Severity.WARNING, "Something.", span)
    return CheckReport(Draft(text, language="nl"), (finding,), 90)


def test_a_short_line_is_shown_whole() -> None:
    out = _rendered(_report("Wij zijn de beste.", Span(9, 17)))
    assert "  1 | Wij zijn de beste.\n    |          ^^^^^^^^\n" in out


def test_a_span_over_many_lines_shows_its_first_and_last_line() -> None:
    text = "\n".join(f"regel {n}" for n in range(1, 21))
    start, end = text.index("regel 3"), text.index("regel 17") + len("regel 17")
    out = _rendered(_report(text, Span(start, end)))
    assert "draft.txt:3:1: warning [style.x]" in out
    assert "   3 | regel 3\n     | ^^^^^^^\n   … |\n  17 | regel 17\n     | ^^^^^^^^\n" in out


def test_a_message_quotes_a_long_text_shortened() -> None:
    assert excerpt("kort") == "kort"
    shortened = excerpt("a" * 100 + "b" * 100)
    assert len(shortened) == 119 and shortened == "a" * 59 + "…" + "b" * 59


def test_lines_and_columns_of_a_long_text() -> None:
    text = "😀" * 5 + "\n" + "ab\r\n" + "x" * 50_000
    index = line_index(text)
    assert (index.count, index.line(3), index.column(3), index.utf16_column(3)) == (3, 1, 4, 7)
    offset = len(text) - 1
    assert (index.line(offset), index.column(offset), index.bounds(2)) == (3, 50_000, (6, 9))
    report = _report(text, Span(offset, offset + 1))
    assert report_sarif(report, uri="post.txt")["runs"][0]["results"][0]["locations"][0][
        "physicalLocation"
    ]["region"] == {"startLine": 3, "startColumn": 50_000, "endLine": 3, "endColumn": 50_001}


# --- pathological text -----------------------------------------------------------------------


def test_amounts_after_long_runs_of_digits_and_spaces() -> None:
    found = parse_quantities("1" * 50_000 + " en € 5 of 5" + " " * 50_000 + "uur")
    assert [(q.kind, q.value, q.text.strip()) for q in found][:1] == [("money", 5.0, "€ 5")]
    assert [(q.kind, q.value) for q in found][1:] == [("duration", 5.0)]
    assert [q.value for q in parse_quantities("0" * 50_000 + "5 euro")] == [5.0]


def test_sentences_of_pathological_text() -> None:
    emoji = "Top " + "🚲" * 50_000 + " Morgen in huis."
    assert [s.text for s in split_draft(emoji)] == ["Top", "Morgen in huis."]
    marks = "Wauw" + "!" * 50_000 + " Wij leveren."
    assert [marks[s:e] for s, e in sentence_spans(marks)][1:] == ["Wij leveren."]
    assert split_draft("a" + " " * 50_000 + "b")[0].text == "a" + " " * 50_000 + "b"
    assert quote_regions("“a" * 50_000) == []
    assert len(sentence_spans("Ja. " * 30_000)) == 30_000
