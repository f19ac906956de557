"""Speed and memory of reading documents: a 40-page brochure and a 500-page report.

Generates, with fpdf2, a 40-page two-column Dutch/English brochure (headings, paragraphs,
bullets, promises) and a 500-page one-column PDF in a temporary folder, then prints for
each: read time, read + propose time, pages per second and peak memory, next to a
baseline measured in the same run over the same file (plain ``pypdf`` ``extract_text``),
so the ratio survives a noisy, shared machine.

    python benchmarks/documents.py [--pages 40] [--long-pages 500] [--json out.json]
"""

from __future__ import annotations

import argparse
import json
import platform
import random
import resource
import sys
import tempfile
import time
import tracemalloc
from collections.abc import Callable
from pathlib import Path
from typing import Any

HEADINGS_NL = [
    "Onze beloften",
    "Levering en retour",
    "Klantenservice",
    "Duurzaamheid",
    "Prijzen en abonnementen",
    "Privacy en veiligheid",
    "Over Voorbeeld BV",
]
HEADINGS_EN = ["Our promises", "Delivery and returns", "Customer service", "Sustainability"]
SENTENCES_NL = [
    "Wij leveren binnen 24 uur, ook op zaterdag.",
    "Voorbeeld BV is in 1952 opgericht door J. Jansen in Utrecht.",
    "Onze monteurs komen o.a. in Utrecht, Amersfoort en Zeist, bijv. voor een reparatie.",
    "Een onderhoudsbeurt duurt ca. 3,5 uur en kost € 49,95.",
    "Wij garanderen dat u uw geld terugkrijgt als u niet tevreden bent.",
    "Retourneren is altijd gratis, binnen 30 dagen na ontvangst.",
    "Onze klantenservice reageert binnen twee uur op uw e-mail aan info@voorbeeld.nl.",
    "Wij zorgen ervoor dat elke klant een vaste contactpersoon heeft.",
    "Meer informatie vindt u op https://www.voorbeeld.nl/service.",
    "In 2025 hebben wij ruim 40.000 fietsen geleverd aan tevreden klanten.",
    "Wij gebruiken uw gegevens nooit voor reclame van derden.",
    "Het team bestaat uit ruim 120 medewerkers, d.w.z. monteurs, adviseurs en planners.",
]
SENTENCES_EN = [
    "We deliver within 24 hours, also on Saturdays.",
    "Mr. Smith founded the British branch in 1990.",
    "We guarantee a full refund if you are not satisfied, e.g. when a part breaks.",
    "Returns are always free within 30 days of delivery.",
    "Our service desk answers every message within two hours.",
    "We will never sell your data to third parties.",
    "The average repair takes approx. 2.5 hours and costs €49.95.",
    "Our bikes are assembled in the Netherlands from European parts.",
]
CITIES = ["Utrecht", "Amersfoort", "Zeist", "Houten", "Nieuwegein", "Bunnik", "Woerden", "Baarn"]
PRODUCTS = ["e-bike", "stadsfiets", "bakfiets", "racefiets", "kinderfiets", "vouwfiets"]
BULLETS_NL = ["levering binnen 24 uur", "gratis retour", "2 jaar garantie", "vaste monteur"]
BULLETS_EN = ["delivery within 24 hours", "free returns", "a 2-year warranty"]


def brochure_pdf(path: Path, pages: int, *, columns: int = 2, seed: int = 7) -> None:
    """Write a brochure of ``pages`` pages with ``columns`` columns of Dutch/English text."""
    from fpdf import FPDF

    rng = random.Random(seed)
    pdf = FPDF()
    pdf.core_fonts_encoding = "cp1252"  # for the euro sign
    pdf.set_title(f"Brochure Voorbeeld BV ({pages} pagina's)")
    pdf.set_auto_page_break(False)
    gutter = 8.0
    width = (pdf.w - pdf.l_margin - pdf.r_margin - gutter * (columns - 1)) / columns
    for number in range(1, pages + 1):
        pdf.add_page()
        pdf.set_font("Helvetica", "", 8)
        pdf.set_xy(pdf.l_margin, 8)
        pdf.cell(0, 5, "Voorbeeld BV - Brochure 2026")
        english = number % 5 == 0  # every fifth page is the English version
        for column in range(columns):
            x = pdf.l_margin + column * (width + gutter)
            pdf.set_xy(x, 20)
            _column(pdf, rng, x, width, english)
        pdf.set_font("Helvetica", "", 8)
        pdf.set_xy(pdf.l_margin, pdf.h - 12)
        pdf.cell(0, 5, f"pagina {number} van {pages}", align="C")
    pdf.output(str(path))


def _column(pdf: Any, rng: random.Random, x: float, width: float, english: bool) -> None:
    headings = HEADINGS_EN if english else HEADINGS_NL
    sentences = SENTENCES_EN if english else SENTENCES_NL
    bullets = BULLETS_EN if english else BULLETS_NL
    while pdf.get_y() < pdf.h - 70:
        pdf.set_x(x)
        pdf.set_font("Helvetica", "B", 14)
        pdf.multi_cell(width, 7, rng.choice(headings), new_x="LEFT", new_y="NEXT")
        _down(pdf, x, 2)
        pdf.set_font("Helvetica", "", 10)
        for _ in range(2):
            text = " ".join(_vary(rng, s, english) for s in rng.sample(sentences, 3))
            pdf.multi_cell(width, 5, text, new_x="LEFT", new_y="NEXT")
            _down(pdf, x, 3)
        pdf.multi_cell(
            width, 5, "We promise you:" if english else "Wij beloven u:", new_x="LEFT", new_y="NEXT"
        )
        _down(pdf, x, 5)
        for item in rng.sample(bullets, 2):
            pdf.multi_cell(width, 5, f"- {item}", new_x="LEFT", new_y="NEXT")
        _down(pdf, x, 4)


def _down(pdf: Any, x: float, height: float) -> None:
    """Move down within the column (``pdf.ln`` would jump back to the left margin)."""
    pdf.set_xy(x, pdf.get_y() + height)


def _vary(rng: random.Random, sentence: str, english: bool) -> str:
    """Make a sentence unique enough that a brochure does not repeat itself word for word."""
    city, number = rng.choice(CITIES), rng.randint(2, 60)
    if english:
        return f"{sentence[:-1]} in {city}, for all {number} of our bike models."
    return f"{sentence[:-1]} in {city}, voor uw {rng.choice(PRODUCTS)} ({number} modellen)."


def measure(work: Callable[[], object]) -> tuple[float, float]:
    """Seconds and peak traced memory (MiB) of one call of ``work``."""
    tracemalloc.start()
    started = time.perf_counter()
    work()
    seconds = time.perf_counter() - started
    peak = tracemalloc.get_traced_memory()[1] / 2**20
    tracemalloc.stop()
    return seconds, peak


def timed(work: Callable[[], object]) -> float:
    started = time.perf_counter()
    work()
    return time.perf_counter() - started


def baseline(path: Path) -> None:
    """Plain pypdf text extraction: the floor any PDF reader here stands on."""
    from pypdf import PdfReader

    for page in PdfReader(path).pages:
        page.extract_text()


def run(path: Path, pages: int, repeat: int) -> dict[str, float]:
    from klopt.register.documents import read_document
    from klopt.register.extraction import propose_promises

    # The best of a few runs: the machine is shared, and the noise only ever adds time.
    base = min(timed(lambda: baseline(path)) for _ in range(repeat))
    read = min(timed(lambda: read_document(path)) for _ in range(repeat))
    both = min(timed(lambda: propose_promises(read_document(path))) for _ in range(repeat))
    _, peak = measure(lambda: read_document(path))
    doc = read_document(path)
    return {
        "pages": pages,
        "sentences": len(doc.sentences),
        "unique_sentences": len({s.text for s in doc.sentences}),
        "baseline_s": round(base, 2),
        "read_s": round(read, 2),
        "propose_s": round(both - read, 2),
        "read_propose_s": round(both, 2),
        "pages_per_s": round(pages / read, 1),
        "read_vs_baseline": round(read / base, 2),
        "peak_mib": round(peak, 1),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--pages", type=int, default=40)
    parser.add_argument("--long-pages", type=int, default=500)
    parser.add_argument("--repeat", type=int, default=3, help="runs of the brochure; best kept")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    from klopt.register.documents import read_document
    from klopt.register.extraction import propose_promises

    with tempfile.TemporaryDirectory() as folder:  # models load once per process
        warm = Path(folder) / "warm.md"
        warm.write_text("# Beloften\n\nWij leveren binnen 24 uur.\n", encoding="utf-8")
        load = timed(lambda: propose_promises(read_document(warm)))
    print(f"one-off start-up (language detector, embedder): {load:.2f} s")
    results: dict[str, Any] = {
        "python": sys.version.split()[0],
        "machine": platform.machine(),
        "startup_s": round(load, 2),
    }
    with tempfile.TemporaryDirectory() as folder:
        for label, pages, columns in (
            ("brochure", args.pages, 2),
            ("long", args.long_pages, 1),
        ):
            path = Path(folder) / f"{label}.pdf"
            brochure_pdf(path, pages, columns=columns)
            results[label] = run(path, pages, args.repeat if label == "brochure" else 1)
            row = results[label]
            print(
                f"{label:9} {pages:4} pages {row['sentences']:6} sentences "
                f"({row['unique_sentences']} unique) | "
                f"pypdf baseline {row['baseline_s']:6.2f} s | read {row['read_s']:6.2f} s "
                f"({row['read_vs_baseline']:.2f}x baseline, {row['pages_per_s']:.0f} pages/s) | "
                f"read+propose {row['read_propose_s']:6.2f} s | peak {row['peak_mib']:.0f} MiB "
                f"(reading, traced)"
            )
    rss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    print(f"peak resident memory of the whole run (models included): {rss:.0f} MiB")
    results["max_rss_mib"] = round(rss)
    if args.json:
        args.json.write_text(json.dumps(results, indent=2), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
