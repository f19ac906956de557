"""Measure the judgement engine on labelled data (``klopt eval``).

Input is a promise file (YAML) and a case file (CSV), in the formats below; output is
an :class:`EvalReport` with promise linking, stance and sentiment scores.

Promise file::

    organization: Northwind Airways      # optional
    language: en                         # optional
    promises:
      - id: A1
        text: We fly on time.
        paraphrases: [Our flights leave on schedule.]   # optional
        # theme, kind, sources, status: allowed and ignored (the engine assigns themes)

Case file (CSV with header ``id,text,labels,sentiment,lang``): ``labels`` is a
``|``-separated list of ``promise_id:stance`` (stance ``kept``, ``broken`` or
``neutral``; empty means about no promise); ``sentiment`` is ``positive``,
``negative``, ``neutral`` or empty; ``lang`` is optional.

Method: linking is scored over (case, promise) pairs -- micro precision/recall/F1 over
all pairs, macro as the mean of per-promise values over the promises that are gold or
predicted at least once. Stance is scored *given the gold promise*: for every gold pair
the engine's stance towards that promise, whether or not it linked it. Sentiment is
scored over the cases with a gold sentiment. Speed is cases per second of judging
(including stance given the gold promise), models already loaded.
"""

from __future__ import annotations

import csv
import time
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, cast

from klopt.errors import EmptyInput, InputError, MissingColumn, UnknownPromise
from klopt.judging.judge import (
    Judge,
    JudgeConfig,
    LabelledExample,
    PromiseSpec,
    Sentiment,
    Stance,
)
from klopt.register.spec import read_promise_entries

__all__ = [
    "PromiseFile",
    "Case",
    "PRF",
    "PromiseRow",
    "ClassReport",
    "CaseResult",
    "EvalReport",
    "load_promise_file",
    "read_promise_entries",
    "load_case_file",
    "evaluate",
    "report_to_json",
    "linking_scores",
    "class_scores",
    "CASE_COLUMNS",
]

CASE_COLUMNS = ("id", "text", "labels", "sentiment", "lang")
_STANCES = ("kept", "broken", "neutral")
_SENTIMENTS = ("positive", "negative", "neutral")


@dataclass(frozen=True)
class PromiseFile:
    """A promise file: the promises and optional organisation and language."""

    promises: tuple[PromiseSpec, ...]
    organization: str | None = None
    language: str | None = None
    path: str = ""

    def ids(self) -> list[str]:
        """Promise ids in file order."""
        return [p.id for p in self.promises]


@dataclass(frozen=True)
class Case:
    """One labelled text of a case file."""

    id: str
    text: str
    labels: Mapping[str, Stance]
    sentiment: Sentiment | None = None
    lang: str | None = None
    line: int = 0

    def example(self) -> LabelledExample:
        """The case as a training example for :meth:`Judge.learn`."""
        return LabelledExample(self.text, self.labels, self.sentiment, self.lang)


@dataclass(frozen=True)
class PRF:
    """Precision, recall, F1 and the number of gold items."""

    precision: float
    recall: float
    f1: float
    support: int = 0


@dataclass(frozen=True)
class PromiseRow:
    """One line of the per-promise table."""

    id: str
    text: str
    theme: str | None
    scores: PRF
    predicted: int
    stance_accuracy: float | None = None


@dataclass(frozen=True)
class ClassReport:
    """Accuracy and macro-F1 of a single-label task (stance or sentiment)."""

    accuracy: float
    macro_f1: float
    n: int
    per_class: Mapping[str, PRF] = field(default_factory=dict)
    confusion: Mapping[str, Mapping[str, int]] = field(default_factory=dict)


@dataclass(frozen=True)
class CaseResult:
    """What the engine said about one case, next to the gold labels."""

    id: str
    gold: Mapping[str, Stance]
    linked: Mapping[str, Stance]
    gold_stance: Mapping[str, Stance]
    sentiment: str
    gold_sentiment: str | None


@dataclass(frozen=True)
class EvalReport:
    """Everything ``klopt eval`` prints."""

    cases: int
    seconds: float
    cases_per_second: float
    micro: PRF
    macro: PRF
    per_promise: tuple[PromiseRow, ...]
    stance: ClassReport
    sentiment: ClassReport
    themes: Mapping[str, str]
    model_version: str
    train_cases: int = 0
    results: tuple[CaseResult, ...] = ()


# ----- reading ----------------------------------------------------------------------
def _strings(value: Any) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value.strip(),)
    if isinstance(value, list):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise InputError.keyed("eval.paraphrases_not_list", value=value)


def _promise(entry: Mapping[str, Any]) -> PromiseSpec:
    theme = entry.get("theme")
    return PromiseSpec(
        id=str(entry["id"]).strip(),
        text=" ".join(str(entry["text"]).split()),
        paraphrases=tuple(" ".join(p.split()) for p in _strings(entry.get("paraphrases"))),
        theme=None if theme is None else str(theme),
    )


def load_promise_file(path: str | Path, *, keep_themes: bool = False) -> PromiseFile:
    """Read a promise file (YAML; see the module docstring).

    Args:
        path: the file.
        keep_themes: use the file's ``theme`` fields; by default they are ignored and
            the engine assigns themes itself, as it must for a bare register.

    Entries with a ``status`` other than ``approved`` (an exported register's proposals,
    rejected, retired and merged promises) are left out.

    Raises:
        InputError: the file cannot be read, is not YAML, or a promise lacks id/text.
        EmptyInput: the file holds no promises.
    """
    data, entries = read_promise_entries(path)
    # A register exported by `klopt promises export` also holds proposals, rejected,
    # retired and merged promises; like `klopt judge`, eval measures the approved ones.
    entries = [e for e in entries if e.get("status", "approved") == "approved"]
    if not entries:
        raise EmptyInput.keyed("eval.no_approved", path=path)
    promises = tuple(_promise(e) for e in entries)
    if not keep_themes:
        promises = tuple(PromiseSpec(p.id, p.text, p.paraphrases) for p in promises)
    org, lang = data.get("organization"), data.get("language")
    return PromiseFile(
        promises, None if org is None else str(org), None if lang is None else str(lang), str(path)
    )


def _labels(raw: str, path: Path, line: int, known: Collection[str] | None) -> dict[str, Stance]:
    labels: dict[str, Stance] = {}
    for item in filter(None, (p.strip() for p in raw.split("|"))):
        pid, sep, stance = item.rpartition(":")
        pid, stance = pid.strip(), stance.strip().lower()
        if not sep or not pid:
            raise InputError.keyed("eval.bad_label", path=path, line=line, label=item)
        if stance not in _STANCES:
            raise InputError.keyed(
                "eval.unknown_stance", path=path, line=line, stance=stance, label=item
            )
        if known is not None and pid not in known:
            raise UnknownPromise.keyed("eval.unknown_label_id", path=path, line=line, id=pid)
        labels[pid] = cast(Stance, stance)
    return labels


def _case(
    row: Mapping[str, str | None], path: Path, line: int, known: Collection[str] | None
) -> Case:
    text = (row.get("text") or "").strip()
    if not text:
        raise InputError.keyed("eval.empty_text", path=path, line=line)
    sentiment = (row.get("sentiment") or "").strip().lower() or None
    if sentiment is not None and sentiment not in _SENTIMENTS:
        raise InputError.keyed("eval.unknown_sentiment", path=path, line=line, sentiment=sentiment)
    return Case(
        id=(row.get("id") or "").strip(),
        text=text,
        labels=_labels(row.get("labels") or "", path, line, known),
        sentiment=cast(Sentiment | None, sentiment),
        lang=(row.get("lang") or "").strip() or None,
        line=0,
    )


def load_case_file(path: str | Path, *, promise_ids: Collection[str] | None = None) -> list[Case]:
    """Read a case file (CSV; see the module docstring).

    Args:
        path: the file.
        promise_ids: when given, labels must name one of these ids.

    Raises:
        MissingColumn: the header lacks ``id``, ``text`` or ``labels``.
        EmptyInput: the file has no cases.
        InputError: a row is malformed (the message names file and line).
        UnknownPromise: a label names a promise not in ``promise_ids``.
    """
    path = Path(path)
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            reader = csv.DictReader(handle)
            missing = [c for c in ("id", "text", "labels") if c not in (reader.fieldnames or [])]
            if missing:
                raise MissingColumn.keyed(
                    "eval.missing_column",
                    path=path,
                    columns=", ".join(map(repr, missing)),
                    header=",".join(CASE_COLUMNS),
                )
            cases: list[Case] = []
            for row in reader:
                case = _case(row, path, reader.line_num, promise_ids)
                cases.append(
                    Case(
                        case.id or str(len(cases) + 1),
                        case.text,
                        case.labels,
                        case.sentiment,
                        case.lang,
                        reader.line_num,
                    )
                )
    except OSError as exc:
        raise InputError.keyed("eval.case_file_unreadable", path=path, detail=exc.strerror) from exc
    except UnicodeDecodeError as exc:
        raise InputError.keyed("eval.case_file_not_utf8", path=path) from exc
    except csv.Error as exc:
        raise InputError.keyed(
            "eval.case_file_bad_csv", path=path, detail=exc, header=",".join(CASE_COLUMNS)
        ) from exc
    if not cases:
        raise EmptyInput.keyed("eval.case_file_empty", path=path)
    return cases


# ----- scoring ----------------------------------------------------------------------
def _div(num: float, den: float) -> float:
    return num / den if den else 0.0


def _prf(tp: int, predicted: int, gold: int) -> PRF:
    precision, recall = _div(tp, predicted), _div(tp, gold)
    return PRF(precision, recall, _div(2 * precision * recall, precision + recall), gold)


def class_scores(gold: Sequence[str], pred: Sequence[str], labels: Sequence[str]) -> ClassReport:
    """Accuracy, macro-F1 (mean over the classes present), per-class scores, confusion."""
    present = [c for c in labels if c in gold or c in pred]
    confusion = {g: {p: 0 for p in labels} for g in labels}
    for g, p in zip(gold, pred, strict=True):
        confusion[g][p] += 1
    per = {
        c: _prf(confusion[c][c], sum(confusion[g][c] for g in labels), sum(confusion[c].values()))
        for c in present
    }
    accuracy = _div(sum(confusion[c][c] for c in labels), len(gold))
    macro = _div(sum(s.f1 for s in per.values()), len(per))
    return ClassReport(accuracy, macro, len(gold), per, confusion)


def linking_scores(
    ids: Sequence[str], gold: Sequence[Collection[str]], pred: Sequence[Collection[str]]
) -> tuple[PRF, PRF, dict[str, tuple[PRF, int]]]:
    """Micro and macro P/R/F1 over (case, promise) pairs, and per promise (with #predicted).

    Macro averages over the promises that are gold or predicted at least once.
    """
    per: dict[str, tuple[PRF, int]] = {}
    totals = [0, 0, 0]
    for pid in ids:
        tp = sum(1 for g, p in zip(gold, pred, strict=True) if pid in g and pid in p)
        n_pred = sum(1 for p in pred if pid in p)
        n_gold = sum(1 for g in gold if pid in g)
        totals = [totals[0] + tp, totals[1] + n_pred, totals[2] + n_gold]
        if n_pred or n_gold:
            per[pid] = (_prf(tp, n_pred, n_gold), n_pred)
    micro = _prf(*totals)
    rows = [s for s, _ in per.values()]
    macro = PRF(
        _div(sum(s.precision for s in rows), len(rows)),
        _div(sum(s.recall for s in rows), len(rows)),
        _div(sum(s.f1 for s in rows), len(rows)),
        totals[2],
    )
    return micro, macro, per


# ----- running ----------------------------------------------------------------------
def _check_cases(cases: Sequence[Case], ids: Collection[str], *, training: bool) -> None:
    for case in cases:
        for pid in case.labels:
            if pid not in ids and training:
                raise UnknownPromise.keyed(
                    "eval.training_case_unknown_id", case=case.id, line=case.line, id=pid
                )
            if pid not in ids:
                raise UnknownPromise.keyed(
                    "eval.test_case_unknown_id", case=case.id, line=case.line, id=pid
                )


def evaluate(
    promises: PromiseFile | Sequence[PromiseSpec],
    cases: Sequence[Case],
    *,
    train: Sequence[Case] | None = None,
    embedder: str = "usem3",
    progress: Callable[[int], None] | None = None,
    config: JudgeConfig | None = None,
    judge: Judge | None = None,
) -> EvalReport:
    """Judge ``cases`` against ``promises`` and score the result.

    Args:
        promises: a loaded promise file or the promises themselves.
        cases: the labelled cases to score.
        train: labelled cases the engine learns from first (``--train``).
        embedder: the linking backend by name.
        progress: called with the number of cases just judged.
        config: engine settings (benchmarks use this for ablations).
        judge: a ready judge to use instead of building one.

    Raises:
        EmptyInput: there are no cases or no promises.
        UnknownPromise: a case names a promise that is not in ``promises``.
    """
    specs = tuple(promises.promises if isinstance(promises, PromiseFile) else promises)
    if not specs:
        raise EmptyInput.keyed("eval.no_promises")
    if not cases:
        raise EmptyInput.keyed("eval.no_cases")
    ids = [p.id for p in specs]
    _check_cases(cases, ids, training=False)
    _check_cases(train or (), ids, training=True)
    engine = judge or Judge(specs, embedder=embedder, config=config)
    if train:
        engine.learn([c.example() for c in train])
    started = time.perf_counter()
    judgements = engine.judge([c.text for c in cases], progress=progress)
    pairs = [(c.text, pid) for c in cases for pid in c.labels]
    given = engine.stance_for([t for t, _ in pairs], [p for _, p in pairs]) if pairs else []
    seconds = time.perf_counter() - started
    results = _results(cases, judgements, iter(given))
    return _report(specs, engine, results, seconds, len(train or ()))


def _results(cases: Sequence[Case], judgements: Sequence[Any], given: Any) -> list[CaseResult]:
    out = []
    for case, judgement in zip(cases, judgements, strict=True):
        gold_stance = {pid: next(given)[0] for pid in case.labels}
        out.append(
            CaseResult(
                id=case.id,
                gold=case.labels,
                linked={link.promise_id: link.stance for link in judgement.links},
                gold_stance=gold_stance,
                sentiment=judgement.sentiment,
                gold_sentiment=case.sentiment,
            )
        )
    return out


def _report(
    specs: Sequence[PromiseSpec],
    engine: Judge,
    results: Sequence[CaseResult],
    seconds: float,
    train_cases: int,
) -> EvalReport:
    ids = [p.id for p in specs]
    micro, macro, per = linking_scores(ids, [r.gold for r in results], [r.linked for r in results])
    gold_st = [(pid, s, r.gold_stance[pid]) for r in results for pid, s in r.gold.items()]
    stance = class_scores([g for _, g, _ in gold_st], [p for _, _, p in gold_st], _STANCES)
    rated = [r for r in results if r.gold_sentiment]
    sentiment = class_scores(
        [cast(str, r.gold_sentiment) for r in rated], [r.sentiment for r in rated], _SENTIMENTS
    )
    themes = dict(engine.themes())
    rows = []
    for spec in specs:
        if spec.id not in per:
            continue
        scores, n_pred = per[spec.id]
        mine = [(g, p) for pid, g, p in gold_st if pid == spec.id]
        accuracy = _div(sum(g == p for g, p in mine), len(mine)) if mine else None
        rows.append(PromiseRow(spec.id, spec.text, themes.get(spec.id), scores, n_pred, accuracy))
    n = len(results)
    return EvalReport(
        cases=n,
        seconds=seconds,
        cases_per_second=_div(n, seconds),
        micro=micro,
        macro=macro,
        per_promise=tuple(rows),
        stance=stance,
        sentiment=sentiment,
        themes=themes,
        model_version=engine.model_version,
        train_cases=train_cases,
        results=tuple(results),
    )


def _prf_json(scores: PRF, support: bool = False) -> dict[str, float]:
    out = {
        "precision": round(scores.precision, 4),
        "recall": round(scores.recall, 4),
        "f1": round(scores.f1, 4),
    }
    if support:
        out["support"] = scores.support
    return out


def _class_json(report: ClassReport) -> dict[str, Any]:
    return {
        "accuracy": round(report.accuracy, 4),
        "macro_f1": round(report.macro_f1, 4),
        "n": report.n,
        "per_class": {k: _prf_json(v, support=True) for k, v in report.per_class.items()},
    }


def report_to_json(report: EvalReport) -> dict[str, Any]:
    """The report as JSON-ready data (the keys of ``klopt eval --json``)."""
    return {
        "cases": report.cases,
        "cases_per_second": round(report.cases_per_second, 2),
        "linking": {
            "micro": _prf_json(report.micro),
            "macro": _prf_json(report.macro),
            "per_promise": {
                row.id: {
                    **_prf_json(row.scores, support=True),
                    "predicted": row.predicted,
                    "theme": row.theme,
                }
                for row in report.per_promise
            },
        },
        "stance": _class_json(report.stance),
        "sentiment": _class_json(report.sentiment),
        "themes": dict(report.themes),
        "model_version": report.model_version,
        "train_cases": report.train_cases,
        "seconds": round(report.seconds, 3),
    }
