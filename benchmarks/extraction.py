"""Promise-proposal benchmark: klopt's proposals against hand labels.

    python benchmarks/extraction.py \
        --missions ../shared/data/mission_statements_en/mission_statements.csv \
        [--split dev|test|all] [--threshold 0.5] [--json [FILE]] [--no-similarity]
        [--no-themes]

Labels live in ``benchmarks/extraction/`` (see ``LABELLING.md`` there for the guidelines,
the sample and the split):

* ``mission_en.csv`` — 200 English mission statements (sentences of the shared data set;
  labels and offsets only, never the texts). Each statement is read through klopt's public
  reading path by the loader below; sentences are matched to labels by span overlap and
  the sha1 of the sentence text.
* ``nl/labels.csv`` with ``nl/*.md`` — Dutch documents in the style of real brochures, and
  ``examples_labels.csv`` — the example organisation (``examples/voorbeeld-bv``). Both
  are read with :func:`klopt.register.documents.read_document`; reported as the "nl check".

Metrics per collection: precision, recall and F1 of the sentences proposed (score at or
above the threshold), and kind accuracy on the true positives (proposal kind against the
labelled kind). Identical statements are not merged: every labelled sentence counts once.
A label that no longer matches a sentence exactly (offsets or sha1 changed because the
text or the splitter changed) is reported; its sentence is still scored through the label
it overlaps most, and a promise label that overlaps no sentence at all counts as missed.
Sentences that overlap no label are reported and left out of the scores.

Two baselines are computed in the same run: "every sentence" (propose all) and
"keywords" (first person plural plus a commitment word); both call a sentence measurable
when it holds a digit, a currency sign, % or a free/guarantee word.

Themes (``--themes``, on by default): ``themes.csv`` gives each promise of the Dutch
documents and the example organisation the aspect-library theme a careful reader chose
(``none`` when no theme fits). For the labelled promises klopt proposes, the benchmark
reports theme accuracy (exact id, ``none`` = no theme), coverage (share klopt gives a
theme) and accuracy where both the label and klopt give one, per group: "examples" (the
example organisation: the set :class:`klopt.register.likeness.ThemeMatcher` was tuned on) and
"nl docs" (the four Dutch documents: held out). Baselines in the same run: "most frequent"
(always the most frequent labelled theme of the examples) and "keyword" (the first theme,
in library order, whose keyword the sentence contains; none without one).
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import json
import re
import sys
import tempfile
import time
import unicodedata
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

LABELS = HERE / "extraction"
MISSION_LABELS = LABELS / "mission_en.csv"
NL_DIR = LABELS / "nl"
EXAMPLES_DIR = ROOT / "examples" / "voorbeeld-bv"
EXAMPLE_LABELS = LABELS / "examples_labels.csv"
THEME_LABELS = LABELS / "themes.csv"
NO_THEME = "none"
CURVE = [round(0.3 + 0.05 * i, 2) for i in range(11)]  # 0.3 .. 0.8


# --- matching (pure) ----------------------------------------------------------------------


def sha1_12(text: str) -> str:
    """The first 12 hex digits of the sha1 of ``text`` (UTF-8): the labels' text check."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()[:12]


@dataclass(frozen=True)
class LabelSpan:
    """A labelled sentence: offsets into the document text, the sha1 of its text."""

    start: int
    end: int
    sha1: str
    promise: bool
    kind: str = ""  # "measurable" / "aspirational" for promises
    ref: str = ""  # where it came from, for reports


@dataclass(frozen=True)
class SentenceSpan:
    """A sentence as klopt read it now."""

    start: int
    end: int
    text: str


@dataclass(frozen=True)
class Matching:
    """How labels and sentences of one document meet.

    Attributes:
        status: per label: ``exact`` (one sentence, same offsets, same sha1), ``changed``
            (overlaps sentences but not exactly) or ``missing`` (overlaps none).
        gold: per sentence, the index of the label that overlaps it most (``None``: none).
    """

    status: tuple[str, ...]
    gold: tuple[int | None, ...]

    def stale(self) -> list[int]:
        """Indices of labels that do not match one sentence exactly."""
        return [i for i, s in enumerate(self.status) if s != "exact"]


def _overlap(a: tuple[int, int], b: tuple[int, int]) -> int:
    return max(0, min(a[1], b[1]) - max(a[0], b[0]))


def match_spans(labels: Sequence[LabelSpan], sentences: Sequence[SentenceSpan]) -> Matching:
    """Match labels to sentences by character overlap, checking the sha1 of exact matches.

    A label is ``exact`` when one sentence has its offsets and the sha1 of that sentence's
    text equals the label's; ``changed`` when it overlaps one or more sentences otherwise;
    ``missing`` when it overlaps none. Each sentence takes the label it overlaps most (the
    first on a tie), so a sentence split or merged by a changed splitter is still scored.
    """
    status: list[str] = []
    for label in labels:
        hits = [s for s in sentences if _overlap((label.start, label.end), (s.start, s.end))]
        if not hits:
            status.append("missing")
        elif (
            len(hits) == 1
            and (hits[0].start, hits[0].end) == (label.start, label.end)
            and sha1_12(hits[0].text) == label.sha1
        ):
            status.append("exact")
        else:
            status.append("changed")
    gold: list[int | None] = []
    for sentence in sentences:
        best, most = None, 0
        for i, label in enumerate(labels):
            size = _overlap((label.start, label.end), (sentence.start, sentence.end))
            if size > most:
                best, most = i, size
        gold.append(best)
    return Matching(tuple(status), tuple(gold))


@dataclass
class Tally:
    """Counts for precision, recall and kind accuracy over one collection."""

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0
    kind_right: int = 0
    unlabelled: int = 0  # sentences overlapping no label (not scored)

    def add(self, other: Tally) -> None:
        for name in ("tp", "fp", "fn", "tn", "kind_right", "unlabelled"):
            setattr(self, name, getattr(self, name) + getattr(other, name))

    def summary(self) -> dict[str, float | int]:
        p = self.tp / (self.tp + self.fp) if self.tp + self.fp else 0.0
        r = self.tp / (self.tp + self.fn) if self.tp + self.fn else 0.0
        f = 2 * p * r / (p + r) if p + r else 0.0
        k = self.kind_right / self.tp if self.tp else 0.0
        return {
            "precision": round(p, 3),
            "recall": round(r, 3),
            "f1": round(f, 3),
            "kind_accuracy": round(k, 3),
            "tp": self.tp,
            "fp": self.fp,
            "fn": self.fn,
            "tn": self.tn,
            "unlabelled_sentences": self.unlabelled,
        }


def score_document(
    labels: Sequence[LabelSpan],
    sentences: Sequence[SentenceSpan],
    predicted: Sequence[str | None],
    matching: Matching | None = None,
) -> Tally:
    """Tally one document: ``predicted[j]`` is the kind proposed for sentence j, or None.

    A promise label that overlaps no sentence counts as a false negative.
    """
    matching = matching or match_spans(labels, sentences)
    tally = Tally()
    for j, kind in enumerate(predicted):
        g = matching.gold[j]
        if g is None:
            tally.unlabelled += 1
            continue
        gold = labels[g]
        if kind is not None and gold.promise:
            tally.tp += 1
            tally.kind_right += int(kind == gold.kind)
        elif kind is not None:
            tally.fp += 1
        elif gold.promise:
            tally.fn += 1
        else:
            tally.tn += 1
    tally.fn += sum(
        1
        for label, s in zip(labels, matching.status, strict=True)
        if s == "missing" and label.promise
    )
    return tally


# --- baselines ----------------------------------------------------------------------------

_WE = re.compile(r"\b(we|we're|we'll|our|us|wij|we|ons|onze|jullie)\b", re.IGNORECASE)
_COMMIT = re.compile(
    r"\b(will|promise\w*|always|never|guarantee\w*|commit\w*|dedicated|mission|strive\w*|"
    r"aim\w*|ensure\w*|pledge\w*|beloven|belooft|altijd|nooit|garander\w*|garantie|zorgen|"
    r"missie|willen|wil|streven|staan voor)\b",
    re.IGNORECASE,
)
_MEASURE = re.compile(
    r"\d|%|€|\$|\b(free|gratis|kosteloos|guarantee\w*|garantie|gegarandeerd|refund\w*)\b",
    re.IGNORECASE,
)


def baseline_kind(text: str) -> str:
    return "measurable" if _MEASURE.search(text) else "aspirational"


def baseline_every(text: str) -> str | None:
    return baseline_kind(text)


def baseline_keywords(text: str) -> str | None:
    return baseline_kind(text) if _WE.search(text) and _COMMIT.search(text) else None


# --- themes (pure) ------------------------------------------------------------------------


@dataclass
class ThemeTally:
    """Theme agreement over proposed promises: gold and klopt's theme, ``None`` for none."""

    n: int = 0
    right: int = 0
    covered: int = 0  # klopt gives a theme
    gold_covered: int = 0  # the label gives a theme
    both: int = 0  # both give a theme
    both_right: int = 0

    def add(self, gold: str | None, predicted: str | None) -> None:
        self.n += 1
        self.right += int(gold == predicted)
        self.covered += int(predicted is not None)
        self.gold_covered += int(gold is not None)
        if gold is not None and predicted is not None:
            self.both += 1
            self.both_right += int(gold == predicted)

    def summary(self) -> dict[str, float | int]:
        return {
            "accuracy": round(self.right / self.n, 3) if self.n else 0.0,
            "coverage": round(self.covered / self.n, 3) if self.n else 0.0,
            "gold_coverage": round(self.gold_covered / self.n, 3) if self.n else 0.0,
            "accuracy_when_both": round(self.both_right / self.both, 3) if self.both else 0.0,
            "n": self.n,
            "right": self.right,
            "both": self.both,
        }


def score_themes(gold: Sequence[str | None], predicted: Sequence[str | None]) -> ThemeTally:
    """Tally predicted themes against gold themes (``None``: no theme), item by item."""
    tally = ThemeTally()
    for g, p in zip(gold, predicted, strict=True):
        tally.add(g, p)
    return tally


def most_frequent_theme(gold: Iterable[str | None]) -> str | None:
    """The most frequent theme (not ``None``) among ``gold``; the first seen on a tie."""
    counted: dict[str, int] = {}
    for theme in gold:
        if theme is not None:
            counted[theme] = counted.get(theme, 0) + 1
    return max(counted, key=lambda t: counted[t]) if counted else None


def read_themes(path: Path) -> dict[str, dict[tuple[int, int], tuple[str, str | None]]]:
    """``themes.csv`` by document: (start, end) -> (sha1, theme or None for ``none``)."""
    out: dict[str, dict[tuple[int, int], tuple[str, str | None]]] = {}
    for document, rows in _read_labels(path, "document").items():
        out[document] = {
            (int(r["start"]), int(r["end"])): (
                r["sha1"],
                None if r["theme"] == NO_THEME else r["theme"],
            )
            for r in rows
        }
    return out


# --- documents ----------------------------------------------------------------------------


@dataclass
class Scored:
    """One document, its labels, its sentences and klopt's scores."""

    name: str
    group: str  # "dev", "test" or "nl"
    labels: list[LabelSpan]
    sentences: list[SentenceSpan]
    scores: list[float | None]  # None: not eligible (no proposal)
    kinds: list[str | None]
    # per sentence: the proposal's statement text and language (None: not eligible)
    statements: list[tuple[str, str] | None] = field(default_factory=list)
    matching: Matching = field(init=False)

    def __post_init__(self) -> None:
        self.matching = match_spans(self.labels, self.sentences)

    def klopt(self, threshold: float) -> list[str | None]:
        return [
            k if s is not None and s >= threshold else None
            for s, k in zip(self.scores, self.kinds, strict=True)
        ]


def _read_labels(path: Path, key: str) -> dict[str, list[dict[str, str]]]:
    rows: dict[str, list[dict[str, str]]] = {}
    with path.open(encoding="utf-8", newline="") as handle:
        for row in csv.DictReader(handle):
            rows.setdefault(row[key], []).append(row)
    return rows


def _label(row: dict[str, str], start: int, end: int, ref: str) -> LabelSpan:
    return LabelSpan(
        start=start,
        end=end,
        sha1=row["sha1"],
        promise=row["promise"] == "yes",
        kind=row["kind"],
        ref=ref,
    )


_INVISIBLE = dict.fromkeys(map(ord, "\u00ad\u200b\u200c\u200d\u2060\ufeff"))


def mission_paragraphs(statement: str) -> list[str]:
    """The loader's paragraphs of a mission statement.

    Every line is a paragraph (the data set breaks lines inside paragraphs and lists, so
    a blank line is no better a boundary); each is NFC-normalised, stripped of soft
    hyphens and zero-width characters and whitespace-collapsed with ``" ".join(split())``;
    empty lines are dropped. Label ``paragraph`` indices count these paragraphs from 0.
    """
    paragraphs = []
    for line in statement.splitlines():
        text = " ".join(unicodedata.normalize("NFC", line).translate(_INVISIBLE).split())
        if text:
            paragraphs.append(text)
    return paragraphs


_MISSION_SUFFIX = ".mission"


def _register_mission_reader() -> None:
    """A reader for ``.mission`` files: every non-empty line is one paragraph block.

    Registered through klopt's public reader registry, so a statement goes through
    :func:`klopt.register.documents.read_document` like any source document, without the plain
    text reader's heading and list guesses (which would make short mission lines headings).
    """
    from klopt.register.documents import (
        Block,
        Reader,
        ReadResult,
        decode_text,
        readers,
        register_reader,
    )

    if any(r.name == "mission-statement" for r in readers()):
        return

    def read(data: bytes, name: str) -> ReadResult:
        text, notes = decode_text(data, name)
        blocks = tuple(Block("paragraph", p) for p in mission_paragraphs(text))
        return ReadResult(blocks, notes=notes)

    register_reader(Reader("mission-statement", (_MISSION_SUFFIX,), read))


def _paragraph_bases(doc_text: str, paragraphs: Sequence[str]) -> list[int | None]:
    """Where each paragraph starts in the document text (None: not found)."""
    bases: list[int | None] = []
    pos = 0
    for p in paragraphs:
        at = doc_text.find(p, pos)
        bases.append(at if at >= 0 else None)
        if at >= 0:
            pos = at + len(p)
    return bases


Scoring = tuple[
    list[SentenceSpan], list[float | None], list[str | None], list[tuple[str, str] | None]
]
Scorer = Callable[[Any], Scoring]


def _klopt_scorer(similarity: bool) -> Scorer:
    from klopt.register.extraction import score_sentences

    def run(doc: Any) -> Scoring:
        kwargs: dict[str, Any] = {"themes": None}
        if not similarity:
            kwargs["similarity"] = None
        proposals = {p.sentence.index: p for p in score_sentences(doc, **kwargs)}
        sentences = [SentenceSpan(s.start, s.end, s.text) for s in doc.sentences]
        scores = [proposals[s.index].score if s.index in proposals else None for s in doc.sentences]
        kinds: list[str | None] = [
            proposals[s.index].kind if s.index in proposals else None for s in doc.sentences
        ]
        statements: list[tuple[str, str] | None] = [
            (proposals[s.index].text, proposals[s.index].language) if s.index in proposals else None
            for s in doc.sentences
        ]
        return sentences, scores, kinds, statements

    return run


def load_missions(missions: Path, labels_path: Path, split: str, scorer: Scorer) -> list[Scored]:
    from klopt.register.documents import read_document

    _register_mission_reader()
    by_company = _read_labels(labels_path, "company")
    with missions.open(encoding="utf-8", newline="") as handle:
        texts = {r["Company Name"]: r["Mission Statement"] or "" for r in csv.DictReader(handle)}
    out: list[Scored] = []
    with tempfile.TemporaryDirectory() as tmp:
        for number, (company, rows) in enumerate(sorted(by_company.items())):
            group = rows[0]["split"]
            if split != "all" and group != split:
                continue
            statement = texts.get(company)
            paragraphs = mission_paragraphs(statement or "")
            if not paragraphs:
                labels = [_label(r, -2, -1, f"{company} (statement not found)") for r in rows]
                out.append(Scored(company, group, labels, [], [], []))
                continue
            path = Path(tmp) / f"{number}{_MISSION_SUFFIX}"
            path.write_text("\n\n".join(paragraphs), encoding="utf-8")
            doc = read_document(path)
            bases = _paragraph_bases(doc.text, paragraphs)
            labels = []
            for r in rows:
                p = int(r["paragraph"])
                base = bases[p] if p < len(bases) else None
                ref = f"{company} ¶{p} {r['start']}-{r['end']}"
                if base is None:
                    labels.append(_label(r, -2, -1, ref))
                else:
                    labels.append(_label(r, base + int(r["start"]), base + int(r["end"]), ref))
            sentences, scores, kinds, statements = scorer(doc)
            out.append(Scored(company, group, labels, sentences, scores, kinds, statements))
    return out


def load_documents(
    directory: Path, labels_path: Path, scorer: Scorer, group: str = "nl"
) -> list[Scored]:
    from klopt.register.documents import read_document

    out = []
    for name, rows in sorted(_read_labels(labels_path, "document").items()):
        doc = read_document(directory / name)
        labels = [
            _label(r, int(r["start"]), int(r["end"]), f"{name} {r['start']}-{r['end']}")
            for r in rows
        ]
        sentences, scores, kinds, statements = scorer(doc)
        out.append(Scored(name, group, labels, sentences, scores, kinds, statements))
    return out


# --- report -------------------------------------------------------------------------------


def evaluate(docs: Iterable[Scored], predict: Callable[[Scored], list[str | None]]) -> Tally:
    total = Tally()
    for d in docs:
        total.add(score_document(d.labels, d.sentences, predict(d), d.matching))
    return total


def _text_predictor(fn: Callable[[str], str | None]) -> Callable[[Scored], list[str | None]]:
    return lambda d: [fn(s.text) for s in d.sentences]


def counts(docs: Sequence[Scored]) -> dict[str, int]:
    labels = [label for d in docs for label in d.labels]
    promises = [label for label in labels if label.promise]
    return {
        "documents": len(docs),
        "sentences": len(labels),
        "promises": len(promises),
        "measurable": sum(1 for label in promises if label.kind == "measurable"),
    }


def stale_labels(docs: Sequence[Scored]) -> list[str]:
    return [f"{d.labels[i].ref}: {d.matching.status[i]}" for d in docs for i in d.matching.stale()]


def report(groups: dict[str, list[Scored]], threshold: float) -> dict[str, Any]:
    result: dict[str, Any] = {"threshold": threshold, "groups": {}}
    for name, docs in groups.items():
        if not docs:
            continue
        entry = {
            "counts": counts(docs),
            "klopt": evaluate(docs, lambda d: d.klopt(threshold)).summary(),
            "baseline_every_sentence": evaluate(docs, _text_predictor(baseline_every)).summary(),
            "baseline_keywords": evaluate(docs, _text_predictor(baseline_keywords)).summary(),
            "stale_labels": stale_labels(docs),
        }
        if name == "dev":
            entry["curve"] = [
                {"threshold": t, **evaluate(docs, lambda d, t=t: d.klopt(t)).summary()}
                for t in CURVE
            ]
        result["groups"][name] = entry
    return result


@dataclass(frozen=True)
class ThemeItem:
    """A labelled promise klopt proposes: its statement, language and labelled theme."""

    text: str
    language: str
    gold: str | None
    ref: str


ThemeLabels = dict[str, dict[tuple[int, int], tuple[str, str | None]]]


def theme_items(
    docs: Sequence[Scored], themes: ThemeLabels, threshold: float
) -> tuple[list[ThemeItem], list[str]]:
    """The labelled promises klopt proposes at ``threshold``, with their labelled theme.

    Also returns the refs of proposed promise labels without a theme row (or whose sha1
    differs from the row's): they are left out and reported.
    """
    items: list[ThemeItem] = []
    unthemed: list[str] = []
    for d in docs:
        rows = themes.get(d.name, {})
        for j, kind in enumerate(d.klopt(threshold)):
            g = d.matching.gold[j]
            statement = d.statements[j] if j < len(d.statements) else None
            if kind is None or g is None or statement is None or not d.labels[g].promise:
                continue
            label = d.labels[g]
            row = rows.get((label.start, label.end))
            if row is None or row[0] != label.sha1:
                unthemed.append(label.ref)
                continue
            items.append(ThemeItem(statement[0], statement[1], row[1], label.ref))
    return items, unthemed


ThemePredictor = Callable[[Sequence[ThemeItem]], list[str | None]]


def theme_report(
    groups: dict[str, list[Scored]], themes: ThemeLabels, threshold: float, matcher: Any
) -> dict[str, Any]:
    """Theme accuracy of klopt (``matcher``) and the two baselines, per group.

    The "most frequent" baseline takes its theme from the "examples" group (the tuning
    set) when there is one, else from each group itself.
    """
    collected = {name: theme_items(docs, themes, threshold) for name, docs in groups.items()}
    tuning = collected.get("examples", ([], []))[0]
    majority = most_frequent_theme(i.gold for i in tuning)

    def keyword(items: Sequence[ThemeItem]) -> list[str | None]:
        return [next(iter(matcher.keywords(i.text, i.language)), None) for i in items]

    out: dict[str, Any] = {"most_frequent_theme": majority, "groups": {}}
    for name, (items, unthemed) in collected.items():
        if not items and not unthemed:
            continue
        gold = [i.gold for i in items]
        common = majority if tuning else most_frequent_theme(gold)
        fits = matcher.assign([i.text for i in items], [i.language for i in items])
        predicted = [f.theme for f in fits]
        out["groups"][name] = {
            "klopt": score_themes(gold, predicted).summary(),
            "baseline_most_frequent": score_themes(gold, [common] * len(items)).summary(),
            "baseline_keyword": score_themes(gold, keyword(items)).summary(),
            "unthemed_labels": unthemed,
            "errors": [
                {"ref": i.ref, "gold": i.gold, "klopt": p, "text": i.text}
                for i, p in zip(items, predicted, strict=True)
                if i.gold != p
            ],
        }
    return out


def _theme_line(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:<22} acc {s['accuracy']:.3f}  coverage {s['coverage']:.3f}  "
        f"acc when both {s['accuracy_when_both']:.3f}  ({s['right']}/{s['n']} right, "
        f"both themed {s['both']})"
    )


def print_themes(result: dict[str, Any], errors: bool = False) -> None:
    print(f"\ntheme accuracy on proposed promises (most frequent: {result['most_frequent_theme']})")
    for name, entry in result["groups"].items():
        k = entry["klopt"]
        print(
            f"\n[{name}] {k['n']} proposed promises, {k['gold_coverage']:.3f} labelled with a theme"
        )
        print(_theme_line("klopt", k))
        print(_theme_line("most frequent", entry["baseline_most_frequent"]))
        print(_theme_line("keyword", entry["baseline_keyword"]))
        if entry["unthemed_labels"]:
            print(f"  {len(entry['unthemed_labels'])} proposed promises have no theme label:")
            for ref in entry["unthemed_labels"][:20]:
                print(f"    {ref}")
        if errors:
            for e in entry["errors"]:
                gold, said = e["gold"] or NO_THEME, e["klopt"] or NO_THEME
                print(f"    {gold:<16} klopt {said:<16} {e['text'][:90]}")


def _line(name: str, s: dict[str, Any]) -> str:
    return (
        f"  {name:<22} P {s['precision']:.3f}  R {s['recall']:.3f}  F1 {s['f1']:.3f}  "
        f"kind acc {s['kind_accuracy']:.3f}  (tp {s['tp']} fp {s['fp']} fn {s['fn']})"
    )


def print_report(result: dict[str, Any]) -> None:
    print(f"promise proposal benchmark — threshold {result['threshold']}")
    for name, entry in result["groups"].items():
        c = entry["counts"]
        print(
            f"\n[{name}] {c['documents']} documents, {c['sentences']} labelled sentences, "
            f"{c['promises']} promises ({c['measurable']} measurable)"
        )
        print(_line("klopt", entry["klopt"]))
        print(_line("every sentence", entry["baseline_every_sentence"]))
        print(_line("keywords", entry["baseline_keywords"]))
        unl = entry["klopt"]["unlabelled_sentences"]
        if unl:
            print(f"  {unl} sentences overlap no label (not scored)")
        stale = entry["stale_labels"]
        if stale:
            print(f"  {len(stale)} labels no longer match a sentence exactly:")
            for s in stale[:20]:
                print(f"    {s}")
            if len(stale) > 20:
                print(f"    ... and {len(stale) - 20} more (see --json)")
        if "curve" in entry:
            print("  precision/recall over thresholds (dev):")
            for point in entry["curve"]:
                print(
                    f"    {point['threshold']:.2f}  P {point['precision']:.3f}  "
                    f"R {point['recall']:.3f}  F1 {point['f1']:.3f}"
                )


def print_errors(groups: dict[str, list[Scored]], threshold: float) -> None:
    """The false positives and negatives of the dev split and the Dutch check, and the true
    positives of the wrong kind (KM: proposed as measurable, KA: as aspirational); never test."""
    for name, docs in groups.items():
        if name == "test":
            continue
        print(f"\n[{name}] errors at threshold {threshold}")
        for d in docs:
            for j, kind in enumerate(d.klopt(threshold)):
                g = d.matching.gold[j]
                if g is None:
                    continue
                gold = d.labels[g]
                if (kind is not None) == gold.promise:
                    if kind is None or kind == gold.kind:
                        continue
                    tag = "K" + kind[0].upper()  # right proposal, wrong kind (KM: said measurable)
                else:
                    tag = "FP" if kind is not None else "FN"
                score = d.scores[j]
                shown = "  -  " if score is None else f"{score:.2f}"
                print(f"  {tag} {shown} {d.name}: {d.sentences[j].text[:150]}")


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--missions", type=Path, required=True, help="mission_statements.csv")
    parser.add_argument("--labels", type=Path, default=MISSION_LABELS)
    parser.add_argument("--split", choices=["dev", "test", "all"], default="dev")
    parser.add_argument("--threshold", type=float, default=None, help="default: klopt's own")
    parser.add_argument("--nl", type=Path, default=NL_DIR, help="folder of Dutch documents")
    parser.add_argument("--examples", type=Path, default=EXAMPLES_DIR)
    parser.add_argument(
        "--json", nargs="?", const="-", default=None, help="write JSON (to FILE, or stdout)"
    )
    parser.add_argument(
        "--no-similarity", action="store_true", help="score on the cues alone (no embeddings)"
    )
    parser.add_argument(
        "--errors", action="store_true", help="list the errors of dev and the Dutch check"
    )
    parser.add_argument(
        "--themes",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="theme accuracy on the Dutch documents and the examples (default: on)",
    )
    parser.add_argument("--theme-labels", type=Path, default=THEME_LABELS)
    args = parser.parse_args(argv)
    if args.errors and args.split != "dev":
        parser.error("--errors lists dev errors only: the test split is for reporting")

    from klopt.register.extraction import load_cues

    threshold = args.threshold if args.threshold is not None else load_cues().threshold
    scorer = _klopt_scorer(similarity=not args.no_similarity)
    began = time.perf_counter()
    missions = load_missions(args.missions, args.labels, args.split, scorer)
    nl_docs = load_documents(args.nl, args.nl / "labels.csv", scorer, "nl docs")
    examples = load_documents(args.examples, EXAMPLE_LABELS, scorer, "examples")
    groups = {
        "dev": [d for d in missions if d.group == "dev"],
        "test": [d for d in missions if d.group == "test"],
        "nl check": nl_docs + examples,
    }
    result = report(groups, threshold)
    if args.themes:
        from klopt.register.likeness import theme_matcher

        result["themes"] = theme_report(
            {"examples": examples, "nl docs": nl_docs},
            read_themes(args.theme_labels),
            threshold,
            theme_matcher(),
        )
    result["seconds"] = round(time.perf_counter() - began, 1)
    result["similarity"] = not args.no_similarity
    if args.json == "-":
        json.dump(result, sys.stdout, indent=2, ensure_ascii=False)
        print()
    else:
        print_report(result)
        if "themes" in result:
            print_themes(result["themes"], errors=args.errors)
        if args.errors:
            print_errors(groups, threshold)
        print(f"\n({result['seconds']} s, similarity {'on' if result['similarity'] else 'off'})")
        if args.json:
            Path(args.json).write_text(json.dumps(result, indent=2, ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
