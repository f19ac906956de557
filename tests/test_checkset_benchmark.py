"""The issue-15 draft set and its scoring (benchmarks/checkset.py): the set is whole and
consistent with its own labelling rules, and findings map to labels as the README says."""

from __future__ import annotations

import sys
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "benchmarks"))

from checkset import DATA, finding_labels, load_set, parse_expected  # noqa: E402
from klopt.checking.findings import Finding, Severity  # noqa: E402

KINDS = {"supports", "exceeds", "contradicts", "new_claim", "off_message", "superlative"}


def test_the_set_is_whole_and_split_by_register() -> None:
    registers, rows, splits = load_set(DATA)
    assert len(registers) >= 8 and len(rows) >= 600
    assert set(splits["dev"]) | set(splits["test"]) == set(registers)
    assert not set(splits["dev"]) & set(splits["test"])
    test_rows = [r for r in rows if r["register"] in splits["test"]]
    assert len(test_rows) * 3 >= len(rows)  # the held-back third
    assert Counter(r["lang"] for r in rows) == {"nl": len(rows) // 2, "en": len(rows) // 2}
    assert len({r["id"] for r in rows}) == len(rows)


def test_every_label_follows_the_guide() -> None:
    registers, rows, _ = load_set(DATA)
    for row in rows:
        ids = {p.id for p in registers[row["register"]]}
        labels = parse_expected(row["expected"])
        assert labels, row["id"]
        assert {kind for kind, _ in labels} <= KINDS, row["id"]
        promises = [p for kind, p in labels if p]
        assert set(promises) <= ids, row["id"]
        assert len(promises) == len(set(promises)), row["id"]  # one label per promise
        kinds = {kind for kind, _ in labels}
        assert not {"off_message", "new_claim"} <= kinds, row["id"]
        if "off_message" in kinds:
            assert kinds <= {"off_message", "superlative"}, row["id"]


def test_findings_map_to_labels() -> None:
    findings = [
        Finding("promise.exceeds", Severity.ERROR, "m", promise="P2"),
        Finding("promise.supports", Severity.INFO, "m", promise="P1"),
        Finding("promise.new_claim", Severity.WARNING, "m"),
        Finding("basis.superlative.nl", Severity.WARNING, "m"),
        Finding("basis.emoji.count", Severity.WARNING, "m"),
    ]
    assert finding_labels(findings) == {
        ("exceeds", "P2"),
        ("supports", "P1"),
        ("new_claim", ""),
        ("superlative", ""),
    }
    assert parse_expected("supports:P1; exceeds:P2;superlative") == {
        ("supports", "P1"),
        ("exceeds", "P2"),
        ("superlative", ""),
    }
