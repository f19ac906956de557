"""The matching and scoring logic of benchmarks/extraction.py, on synthetic spans."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path
from types import ModuleType

import pytest

SCRIPT = Path(__file__).resolve().parent.parent / "benchmarks" / "extraction.py"


@pytest.fixture(scope="module")
def bench() -> ModuleType:
    spec = importlib.util.spec_from_file_location("extraction_benchmark", SCRIPT)
    assert spec and spec.loader
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _label(bench: ModuleType, start: int, end: int, text: str, promise: bool, kind: str = ""):
    return bench.LabelSpan(start, end, bench.sha1_12(text), promise, kind)


def test_exact_match(bench: ModuleType) -> None:
    sentences = [bench.SentenceSpan(0, 5, "Hello"), bench.SentenceSpan(6, 11, "world")]
    labels = [_label(bench, 0, 5, "Hello", False), _label(bench, 6, 11, "world", True, "m")]
    m = bench.match_spans(labels, sentences)
    assert m.status == ("exact", "exact")
    assert m.gold == (0, 1)
    assert m.stale() == []


def test_changed_text_is_reported_not_dropped(bench: ModuleType) -> None:
    sentences = [bench.SentenceSpan(0, 5, "Hallo")]
    labels = [_label(bench, 0, 5, "Hello", True, "aspirational")]
    m = bench.match_spans(labels, sentences)
    assert m.status == ("changed",)
    assert m.stale() == [0]
    assert m.gold == (0,)  # still scored through the overlapping label


def test_split_and_merge(bench: ModuleType) -> None:
    # the splitter now merges two labelled sentences into one: the bigger overlap wins
    sentences = [bench.SentenceSpan(0, 30, "x" * 30)]
    labels = [_label(bench, 0, 10, "a" * 10, False), _label(bench, 11, 30, "b" * 19, True)]
    m = bench.match_spans(labels, sentences)
    assert m.status == ("changed", "changed")
    assert m.gold == (1,)
    # ... or splits one labelled sentence into two: both take the label
    sentences = [bench.SentenceSpan(0, 10, "a" * 10), bench.SentenceSpan(11, 20, "b" * 9)]
    labels = [_label(bench, 0, 20, "c" * 20, True)]
    m = bench.match_spans(labels, sentences)
    assert m.status == ("changed",)
    assert m.gold == (0, 0)


def test_missing_and_unlabelled(bench: ModuleType) -> None:
    sentences = [bench.SentenceSpan(0, 5, "Hello"), bench.SentenceSpan(50, 55, "extra")]
    labels = [_label(bench, 0, 5, "Hello", False), _label(bench, 20, 30, "gone", True, "m")]
    m = bench.match_spans(labels, sentences)
    assert m.status == ("exact", "missing")
    assert m.gold == (0, None)
    tally = bench.score_document(labels, sentences, ["aspirational", "measurable"], m)
    # sentence 0 proposed but not a promise; sentence 1 unlabelled; label 1 missed
    assert (tally.tp, tally.fp, tally.fn, tally.tn, tally.unlabelled) == (0, 1, 1, 0, 1)


def test_adjacent_spans_do_not_overlap(bench: ModuleType) -> None:
    sentences = [bench.SentenceSpan(5, 10, "abcde")]
    labels = [_label(bench, 0, 5, "zzzzz", True)]
    assert bench.match_spans(labels, sentences).status == ("missing",)


def test_scores_and_kind_accuracy(bench: ModuleType) -> None:
    texts = ["We deliver in 24 hours.", "Founded in 1990.", "We care.", "Our mission."]
    sentences, labels, pos = [], [], 0
    gold = [(True, "measurable"), (False, ""), (True, "aspirational"), (True, "aspirational")]
    for text, (promise, kind) in zip(texts, gold, strict=True):
        sentences.append(bench.SentenceSpan(pos, pos + len(text), text))
        labels.append(_label(bench, pos, pos + len(text), text, promise, kind))
        pos += len(text) + 1
    predicted = ["measurable", "aspirational", "measurable", None]
    tally = bench.score_document(labels, sentences, predicted)
    assert (tally.tp, tally.fp, tally.fn, tally.tn) == (2, 1, 1, 0)
    s = tally.summary()
    assert s["precision"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["recall"] == pytest.approx(2 / 3, abs=1e-3)
    assert s["kind_accuracy"] == pytest.approx(0.5)


def test_mission_paragraphs(bench: ModuleType) -> None:
    text = "  Our  mission\u00a0is\n\n\nto help.\u200b \r\nSecond   line "
    assert bench.mission_paragraphs(text) == ["Our mission is", "to help.", "Second line"]


def test_baselines(bench: ModuleType) -> None:
    assert bench.baseline_keywords("We will deliver within 24 hours.") == "measurable"
    assert bench.baseline_keywords("Wij beloven altijd eerlijk advies.") == "aspirational"
    assert bench.baseline_keywords("Founded in 1990.") is None
    assert bench.baseline_every("Founded in 1990.") == "measurable"


def test_theme_scores(bench: ModuleType) -> None:
    gold = ["delivery", "price", None, "staff", None]
    predicted = ["delivery", "refunds", None, None, "price"]
    s = bench.score_themes(gold, predicted).summary()
    assert (s["n"], s["right"], s["both"]) == (5, 2, 2)
    assert s["accuracy"] == pytest.approx(0.4)
    assert s["coverage"] == pytest.approx(0.6)
    assert s["gold_coverage"] == pytest.approx(0.6)
    assert s["accuracy_when_both"] == pytest.approx(0.5)
    assert bench.score_themes([], []).summary()["accuracy"] == 0.0


def test_most_frequent_theme(bench: ModuleType) -> None:
    assert bench.most_frequent_theme([None, "price", "staff", "staff", None, None]) == "staff"
    assert bench.most_frequent_theme(["price", "staff"]) == "price"  # first on a tie
    assert bench.most_frequent_theme([None]) is None


def test_theme_items_need_a_proposal_and_a_theme_row(bench: ModuleType, tmp_path: Path) -> None:
    texts = ["We deliver fast.", "Founded in 1990.", "We care.", "Prices are fair."]
    sentences, labels, pos = [], [], 0
    for text, promise in zip(texts, [True, False, True, True], strict=True):
        sentences.append(bench.SentenceSpan(pos, pos + len(text), text))
        labels.append(_label(bench, pos, pos + len(text), text, promise, "aspirational"))
        pos += len(text) + 1
    statements = [(t, "en") for t in texts]
    doc = bench.Scored("d.md", "nl", labels, sentences, [0.9, 0.9, 0.2, 0.9], ["a"] * 4, statements)
    rows = "document,start,end,sha1,theme\n"
    rows += f"d.md,0,16,{bench.sha1_12(texts[0])},delivery\n"
    rows += f"d.md,17,33,{bench.sha1_12(texts[1])},none\n"
    (tmp_path / "themes.csv").write_text(rows, encoding="utf-8")
    themes = bench.read_themes(tmp_path / "themes.csv")
    assert themes["d.md"][(17, 33)] == (bench.sha1_12(texts[1]), None)
    items, unthemed = bench.theme_items([doc], themes, 0.5)
    # sentence 1 is no promise, sentence 2 is not proposed, sentence 3 has no theme row
    assert [(i.text, i.gold) for i in items] == [("We deliver fast.", "delivery")]
    assert unthemed == [labels[3].ref]
