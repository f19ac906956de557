"""Draft checks: check_draft with small fake checkers, the three output formats against
exact expected output, and `klopt check` end to end with the real runner and rule packs."""

from __future__ import annotations

import io
import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from rich.console import Console

from helpers import Klopt
from klopt import __version__
from klopt.checking.check import (
    SARIF_SCHEMA,
    CheckReport,
    EmptyDraft,
    check_draft,
    report_json,
    report_sarif,
    sarif_region,
    score,
)
from klopt.checking.findings import Draft, Finding, Severity, Span
from klopt.cli.check import render_text
from klopt.judging.judge import PromiseSpec

# An emoji before the first span: one character, two UTF-16 code units, two terminal cells.
DRAFT = "🚲 Wij zijn de beste!\nMorgen in huis, gratis retour. #a #b #c"
PROMISES = [
    PromiseSpec("P1", "Wij leveren binnen 24 uur."),
    PromiseSpec("P2", "Gratis retourneren binnen 30 dagen."),
]


def _span(part: str) -> Span:
    start = DRAFT.index(part)
    return Span(start, start + len(part))


class FakeRules:
    """House style that finds the same three things in any draft, and remembers the drafts."""

    def __init__(self) -> None:
        self.drafts: list[Draft] = []

    def check(self, draft: Draft, *, lang: str | None = None) -> list[Finding]:
        self.drafts.append(draft)
        return [
            Finding(
                "style.hashtags",
                Severity.WARNING,
                "3 hashtags; keep it to 2 at most.",
                _span("#a #b #c"),
                why="Hashtags crowd out the message.",
            ),
            Finding(
                "style.superlative",
                Severity.WARNING,
                "Unverifiable superlative: 'de beste'.",
                _span("de beste"),
                suggestion="Say what you measure.",
                why="Nobody can check 'the best'.",
            ),
            Finding("style.length", Severity.INFO, "59 characters.", why="Short posts are read."),
        ]


class FakePromises:
    """Promise checks that exceed P1 and support P2, and remember how they were called."""

    def __init__(self) -> None:
        self.calls: list[tuple[Draft, int, str]] = []

    def __call__(
        self, draft: Draft, promises: Sequence[PromiseSpec], *, lang: str
    ) -> list[Finding]:
        self.calls.append((draft, len(promises), lang))
        return [
            Finding(
                "promise.supports",
                Severity.INFO,
                "Supports promise P2.",
                _span("gratis retour"),
                promise="P2",
            ),
            Finding(
                "promise.exceeds",
                Severity.ERROR,
                "Promises more than P1.",
                _span("Morgen in huis"),
                suggestion="Promise no more than the register.",
                promise="P1",
                evidence={"similarity": np.float32(0.5), "promise_sentence": "We deliver in 24h."},
            ),
        ]


def _report(text: str = DRAFT, **kwargs: Any) -> CheckReport:
    return check_draft(
        Draft(text, platform="twitter", language="nl"),
        rules=kwargs.pop("rules", FakeRules()),
        promises=kwargs.pop("promises", PROMISES),
        promise_checker=kwargs.pop("promise_checker", FakePromises()),
        lang=kwargs.pop("lang", "en"),
    )


# --- check_draft ---------------------------------------------------------------------------


def test_findings_come_in_text_order_and_the_score_counts_them() -> None:
    report = _report()
    assert [f.rule for f in report.findings] == [
        "style.length",  # about the whole draft: first
        "style.superlative",
        "promise.exceeds",
        "promise.supports",
        "style.hashtags",
    ]
    assert report.score == 100 - 25 - 10 - 10  # one error, two warnings, two infos
    assert report.draft.platform == "x"  # twitter is x to the rule packs
    assert report.notices == ()
    assert report.fails(Severity.ERROR) and report.fails(Severity.INFO)


@pytest.mark.parametrize(
    ("severities", "expected"),
    [
        ([], 100),
        ([Severity.INFO] * 9, 100),
        ([Severity.WARNING], 90),
        ([Severity.ERROR], 75),
        ([Severity.ERROR, Severity.WARNING, Severity.WARNING, Severity.INFO], 55),
        ([Severity.ERROR] * 4, 0),
        ([Severity.ERROR] * 5 + [Severity.WARNING], 0),  # never below 0
    ],
)
def test_score_arithmetic(severities: list[Severity], expected: int) -> None:
    assert score([Finding("r", s, "m") for s in severities]) == expected


def test_fail_on_threshold() -> None:
    report = _report(promise_checker=lambda d, p, *, lang: [])
    assert not report.fails(Severity.ERROR)
    assert report.fails(Severity.WARNING)


def test_the_language_is_detected_when_not_given() -> None:
    rules, promises = FakeRules(), FakePromises()
    check_draft(
        Draft("We deliver your order tomorrow, and returns are free for a month."),
        rules=rules,
        promises=PROMISES,
        promise_checker=promises,
        lang="nl",
    )
    assert rules.drafts[0].language == "en"
    assert promises.calls[0][0].language == "en"
    assert promises.calls[0][1:] == (2, "nl")


def test_an_unsupported_language_says_so_and_skips_the_promise_checks() -> None:
    rules, promises = FakeRules(), FakePromises()
    report = check_draft(
        Draft("Wir liefern Ihre Bestellung morgen, und die Rücksendung ist einen Monat kostenlos."),
        rules=rules,
        promises=PROMISES,
        promise_checker=promises,
        lang="en",
    )
    assert report.draft.language == "other"
    assert rules.drafts[0].language == "other"  # RuleSet.check runs language-free rules only
    assert promises.calls == []
    assert [n.code for n in report.notices] == ["language.unsupported"]
    assert "not in Dutch or English" in report.notices[0].message


def test_no_approved_promises_gives_a_notice_and_house_style_only() -> None:
    promises = FakePromises()
    report = _report(promises=[], promise_checker=promises, lang="nl")
    assert promises.calls == []
    assert [f.rule for f in report.findings] == [
        "style.length",
        "style.superlative",
        "style.hashtags",
    ]
    assert report.notices[0].code == "promises.none"
    assert report.notices[0].message.startswith("Het register heeft geen goedgekeurde beloften")


@pytest.mark.parametrize("text", ["", "  \n\t "])
def test_an_empty_draft_is_a_clear_error(text: str) -> None:
    with pytest.raises(EmptyDraft) as caught:
        _report(text)
    assert str(caught.value).startswith("The draft is empty: there is nothing to check.")
    assert caught.value.localized("nl").startswith("Het concept is leeg")
    assert caught.value.exit_code == 2


# --- the three formats: exact expected output ------------------------------------------------

EXPECTED_TEXT = """\

draft.txt: info [style.length]
  59 characters.

draft.txt:1:12: warning [style.superlative]
  Unverifiable superlative: 'de beste'.
  1 | 🚲 Wij zijn de beste!
    |             ^^^^^^^^
  suggestion: Say what you measure.

draft.txt:2:1: error [promise.exceeds]
  Promises more than P1.
  2 | Morgen in huis, gratis retour. #a #b #c
    | ^^^^^^^^^^^^^^
  suggestion: Promise no more than the register.
  promise P1: “We deliver in 24h.”

draft.txt:2:17: info [promise.supports]
  Supports promise P2.
  2 | Morgen in huis, gratis retour. #a #b #c
    |                 ^^^^^^^^^^^^^
  promise P2: “Gratis retourneren binnen 30 dagen.”

draft.txt:2:32: warning [style.hashtags]
  3 hashtags; keep it to 2 at most.
  2 | Morgen in huis, gratis retour. #a #b #c
    |                                ^^^^^^^^

Score: 55/100 (errors: 1, warnings: 2, info: 2)
"""

EXPECTED_JSON: dict[str, Any] = {
    "score": 55,
    "language": "nl",
    "platform": "x",
    "notices": [],
    "findings": [
        {
            "rule": "style.length",
            "severity": "info",
            "message": "59 characters.",
            "start": None,
            "end": None,
            "text": None,
            "suggestion": None,
            "why": "Short posts are read.",
            "promise": None,
            "evidence": {},
        },
        {
            "rule": "style.superlative",
            "severity": "warning",
            "message": "Unverifiable superlative: 'de beste'.",
            "start": 11,
            "end": 19,
            "text": "de beste",
            "suggestion": "Say what you measure.",
            "why": "Nobody can check 'the best'.",
            "promise": None,
            "evidence": {},
        },
        {
            "rule": "promise.exceeds",
            "severity": "error",
            "message": "Promises more than P1.",
            "start": 21,
            "end": 35,
            "text": "Morgen in huis",
            "suggestion": "Promise no more than the register.",
            "why": None,
            "promise": {"id": "P1", "statement": "We deliver in 24h."},
            "evidence": {"similarity": 0.5, "promise_sentence": "We deliver in 24h."},
        },
        {
            "rule": "promise.supports",
            "severity": "info",
            "message": "Supports promise P2.",
            "start": 37,
            "end": 50,
            "text": "gratis retour",
            "suggestion": None,
            "why": None,
            "promise": {"id": "P2", "statement": "Gratis retourneren binnen 30 dagen."},
            "evidence": {},
        },
        {
            "rule": "style.hashtags",
            "severity": "warning",
            "message": "3 hashtags; keep it to 2 at most.",
            "start": 52,
            "end": 60,
            "text": "#a #b #c",
            "suggestion": None,
            "why": "Hashtags crowd out the message.",
            "promise": None,
            "evidence": {},
        },
    ],
}


def _sarif_result(
    rule: str, index: int, level: str, text: str, region: dict[str, int] | None, **props: str
) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": "posts/zomer.txt"}}
    if region is not None:
        location["region"] = region
    result: dict[str, Any] = {
        "ruleId": rule,
        "ruleIndex": index,
        "level": level,
        "message": {"text": text},
        "locations": [{"physicalLocation": location}],
    }
    if props:
        result["properties"] = props
    return result


def _region(line: int, column: int, end_line: int, end_column: int) -> dict[str, int]:
    return {"startLine": line, "startColumn": column, "endLine": end_line, "endColumn": end_column}


EXPECTED_SARIF: dict[str, Any] = {
    "version": "2.1.0",
    "$schema": SARIF_SCHEMA,
    "runs": [
        {
            "tool": {
                "driver": {
                    "name": "klopt",
                    "version": __version__,
                    "rules": [
                        {
                            "id": "style.length",
                            "shortDescription": {"text": "Short posts are read."},
                        },
                        {
                            "id": "style.superlative",
                            "shortDescription": {"text": "Nobody can check 'the best'."},
                        },
                        {
                            "id": "promise.exceeds",
                            "shortDescription": {
                                "text": "The draft promises more than the register does "
                                "(numbers, deadlines, prices, absolutes)."
                            },
                        },
                        {
                            "id": "promise.supports",
                            "shortDescription": {"text": "The draft supports an approved promise."},
                        },
                        {
                            "id": "style.hashtags",
                            "shortDescription": {"text": "Hashtags crowd out the message."},
                        },
                    ],
                }
            },
            "columnKind": "utf16CodeUnits",
            "results": [
                _sarif_result("style.length", 0, "note", "59 characters.", None),
                # 🚲 is two UTF-16 code units: 'de beste' (character 12) is column 13.
                _sarif_result(
                    "style.superlative",
                    1,
                    "warning",
                    "Unverifiable superlative: 'de beste'.",
                    _region(1, 13, 1, 21),
                    suggestion="Say what you measure.",
                ),
                _sarif_result(
                    "promise.exceeds",
                    2,
                    "error",
                    "Promises more than P1.",
                    _region(2, 1, 2, 15),
                    suggestion="Promise no more than the register.",
                    promise="P1",
                    statement="We deliver in 24h.",
                ),
                _sarif_result(
                    "promise.supports",
                    3,
                    "note",
                    "Supports promise P2.",
                    _region(2, 17, 2, 30),
                    promise="P2",
                    statement="Gratis retourneren binnen 30 dagen.",
                ),
                _sarif_result(
                    "style.hashtags",
                    4,
                    "warning",
                    "3 hashtags; keep it to 2 at most.",
                    _region(2, 32, 2, 40),
                ),
            ],
        }
    ],
}


def _rendered(report: CheckReport, *, terminal: bool = False, lang: str = "en") -> str:
    out = Console(
        file=io.StringIO(),
        width=100,
        force_terminal=terminal,
        color_system="standard" if terminal else None,
        highlight=False,
    )
    render_text(report, lang=lang, where="draft.txt", out=out)
    return out.file.getvalue()  # type: ignore[attr-defined, no-any-return]


def test_text_output_marks_each_span_with_carets() -> None:
    assert _rendered(_report()) == EXPECTED_TEXT


def test_text_output_underlines_the_span_on_a_terminal() -> None:
    out = _rendered(_report(), terminal=True)
    assert "\x1b[1;4;33mde beste\x1b[0m" in out  # bold, underlined, yellow: a warning


def test_text_output_speaks_dutch_and_marks_a_span_over_two_lines() -> None:
    report = _report(
        rules=None,
        promise_checker=lambda d, p, *, lang: [
            Finding("promise.contradicts", Severity.ERROR, "Spreekt P1 tegen.", Span(14, 27), None)
        ],
        lang="nl",
    )
    assert _rendered(report, lang="nl") == (
        "\n"
        "draft.txt:1:15: fout [promise.contradicts]\n"
        "  Spreekt P1 tegen.\n"
        "  1 | 🚲 Wij zijn de beste!\n"
        "    |                ^^^^^^\n"
        "  2 | Morgen in huis, gratis retour. #a #b #c\n"
        "    | ^^^^^^\n"
        "\n"
        "Score: 75/100 (fouten: 1, waarschuwingen: 0, info: 0)\n"
    )


def test_json_output_has_the_documented_shape() -> None:
    data = report_json(_report())
    assert data == EXPECTED_JSON
    assert json.loads(json.dumps(data)) == data  # NumPy numbers became plain ones


def test_sarif_output_is_a_minimal_valid_log() -> None:
    log = report_sarif(_report(), uri="posts/zomer.txt")
    assert log == EXPECTED_SARIF
    json.dumps(log)
    run = log["runs"][0]
    ids = [rule["id"] for rule in run["tool"]["driver"]["rules"]]
    for result in run["results"]:
        assert set(result) >= {"ruleId", "level", "message", "locations"}
        assert result["level"] in ("error", "warning", "note")
        assert ids[result["ruleIndex"]] == result["ruleId"]


def test_sarif_regions_count_lines_and_utf16_columns() -> None:
    # From 'beste!' on line 1 to 'Morgen' on line 2; the emoji takes two columns.
    assert sarif_region(DRAFT, Span(14, 27)) == _region(1, 16, 2, 7)
    assert sarif_region("a\n\nb 😀😀 c", Span(8, 9)) == _region(3, 8, 3, 9)


def test_sarif_notices_are_tool_notifications() -> None:
    log = report_sarif(_report(promises=[]), uri="stdin")
    (invocation,) = log["runs"][0]["invocations"]
    assert invocation["executionSuccessful"] is True
    (note,) = invocation["toolExecutionNotifications"]
    assert note["descriptor"] == {"id": "promises.none"} and note["level"] == "note"


# --- klopt check ---------------------------------------------------------------------------

ERROR_PACK = """\
pack: test-pack
description: {en: "Test rules.", nl: "Testregels."}
rules:
  - id: test.forever
    check: pattern
    severity: error
    languages: [nl]
    message: {en: "'{match}' promises too much.", nl: "'{match}' belooft te veel."}
    why: {en: "Nothing lasts forever.", nl: "Niets duurt eeuwig."}
    patterns: ['\\bvoor altijd\\b']
    examples:
      fires: ["Gratis, voor altijd."]
      passes: ["Gratis, dertig dagen."]
"""


@pytest.fixture
def error_pack(tmp_path: Path) -> Path:
    path = tmp_path / "test-pack.yaml"
    path.write_text(ERROR_PACK, encoding="utf-8")
    return path


def test_a_clean_draft_exits_0_with_a_notice_about_the_register(klopt: Klopt) -> None:
    out = klopt("check", "Wij repareren uw fiets in onze werkplaats in Utrecht.").output
    assert "note: The register has no approved promises" in out
    assert "No findings." in out
    assert out.rstrip().endswith("Score: 100/100 (errors: 0, warnings: 0, info: 0)")


def test_fail_on_sets_the_exit_code(klopt: Klopt) -> None:
    draft = "Wij zijn de beste fietsenmaker van Utrecht."  # a superlative: a warning
    assert "warning [basis.superlative.nl]" in klopt("check", draft).output
    klopt("check", draft, "--fail-on", "warning", code=1)
    klopt("check", draft, "--fail-on", "info", code=1)


def test_an_extra_rule_pack_can_fail_the_check(klopt: Klopt, error_pack: Path) -> None:
    draft = "Gratis retourneren, voor altijd."
    out = klopt("check", draft, "--rules", str(error_pack), code=1).output
    assert "draft.txt:1:21: error [test.forever]" in out
    assert "^^^^^^^^^^^" in out
    klopt("check", draft, code=0)  # without the pack


def test_stdin_and_file_input(klopt: Klopt, tmp_path: Path) -> None:
    data = json.loads(klopt("check", "-", "--format", "json", input="Wij zijn de beste!").output)
    assert data["findings"][0]["rule"] == "basis.superlative.nl"
    post = tmp_path / "post.txt"
    post.write_text("Simply the best bikes in town.\n", encoding="utf-8")
    sarif = json.loads(klopt("check", "--file", str(post), "--format", "sarif").output)
    (result,) = sarif["runs"][0]["results"]
    assert result["ruleId"] == "basis.superlative.en"
    assert result["locations"][0]["physicalLocation"]["artifactLocation"]["uri"] == post.as_posix()
    assert result["locations"][0]["physicalLocation"]["region"] == _region(1, 8, 1, 30)
    assert sarif["runs"][0]["invocations"][0]["toolExecutionNotifications"][0]["descriptor"] == {
        "id": "promises.none"
    }


def test_json_output_from_the_command(klopt: Klopt) -> None:
    data = json.loads(
        klopt("check", "Wij zijn de beste!", "--platform", "x", "--format", "json").output
    )
    assert list(data) == ["score", "language", "platform", "notices", "findings"]
    assert (data["score"], data["language"], data["platform"]) == (90, "nl", "x")
    (finding,) = data["findings"]
    assert list(finding) == [
        "rule",
        "severity",
        "message",
        "start",
        "end",
        "text",
        "suggestion",
        "why",
        "promise",
        "evidence",
    ]
    assert (finding["start"], finding["end"], finding["text"]) == (9, 17, "de beste")


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("check",), "Give the draft as TEXT, '-' to read standard input, or --file PATH."),
        (("check", "tekst", "--file", "pyproject.toml"), "not both"),
        (("check", "tekst", "--format", "xml"), "Invalid value for '--format'"),
        (("check", "tekst", "--fail-on", "never"), "Invalid value for '--fail-on'"),
        (("check", "tekst", "--platform", "myspace"), "Invalid value for '--platform'"),
    ],
)
def test_usage_errors_exit_2(klopt: Klopt, args: tuple[str, ...], message: str) -> None:
    assert message in klopt(*args, code=2).output


def test_an_empty_draft_exits_2_in_the_users_language(klopt: Klopt, tmp_path: Path) -> None:
    out = klopt("check", "   ", code=2).output
    assert "error: The draft is empty: there is nothing to check." in out
    empty = tmp_path / "leeg.txt"
    empty.write_text("\n", encoding="utf-8")
    out = klopt("check", "--file", str(empty), "--lang", "nl", code=2).output
    assert "fout: Het concept is leeg: er is niets te toetsen." in out
    assert "Traceback" not in out


def test_a_bad_rule_pack_exits_2(klopt: Klopt, tmp_path: Path) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("pack: bad\nrules:\n  - id: x\n    check: nonsense\n", encoding="utf-8")
    assert "bad.yaml" in klopt("check", "Hallo daar.", "--rules", str(bad), code=2).output


def test_an_unsupported_language_still_gets_the_language_free_rules(klopt: Klopt) -> None:
    draft = "Nous sommes les meilleurs vélos de France! #velo #ete #soldes #promo"
    out = klopt("check", draft, "--platform", "twitter", "--format", "json").output
    data = json.loads(out)
    assert data["language"] == "other"
    assert [n["code"] for n in data["notices"]] == ["language.unsupported", "promises.none"]
    assert [f["rule"] for f in data["findings"]] == ["basis.hashtags"]


def test_promises_come_from_the_approved_register(
    klopt: Klopt, register_file: Path, tmp_path: Path
) -> None:
    klopt("init", "Voorbeeld BV")
    klopt("promises", "import", str(register_file))
    draft = "Vandaag besteld? Wij leveren binnen 12 uur!"
    out = klopt("check", draft, "--embedder", "hashing", "--format", "json", code=1).output
    data = json.loads(out)
    assert data["notices"] == []
    (finding,) = [f for f in data["findings"] if f["rule"] == "promise.exceeds"]
    assert finding["promise"]["id"] == "P1"
    assert finding["severity"] == "error"


def _off_message(draft: Draft, promises: Sequence[PromiseSpec], *, lang: str) -> list[Finding]:
    return [Finding("promise.off_message", Severity.INFO, "Supports no promise.")]


@pytest.mark.parametrize(("platform", "severity"), [("linkedin", "warning"), ("x", "info")])
def test_off_message_is_a_warning_only_on_a_channel_that_should_be_on_message(
    platform: str, severity: str
) -> None:
    report = check_draft(
        Draft("Fijn weekend allemaal.", platform=platform, language="nl"),
        rules=None,
        promises=PROMISES,
        promise_checker=_off_message,
        on_message={"linkedin"},
    )
    assert [(f.rule, f.severity.label) for f in report.findings] == [
        ("promise.off_message", severity)
    ]
    assert report.score == (90 if severity == "warning" else 100)
