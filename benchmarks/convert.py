"""Convert the shared evaluation sets into klopt's evaluation format.

    python benchmarks/convert.py --data /work/shared/data --out benchmarks/.cases

Reads the licensed data from ``--data`` and writes case CSVs (``id,text,labels,sentiment,lang``)
to ``--out``, a folder outside git. Nothing from the data is written anywhere else.

Decisions (also printed at the end of a run):

* Airline tweets: 155 tweet ids occur twice, 47 of them with different labels. Per tweet id we
  keep the row with the highest ``airline_sentiment_confidence`` (ties: highest
  ``negativereason_confidence``, then the first row). Text comes from ``text_fixed``.
* SemEval-2016: sentence level. A sentence's labels are its opinion categories mapped to R-ids
  with polarity positive->kept, negative->broken, neutral->neutral. Several opinions of the
  same category in one sentence: majority polarity; on a tie the (sentence, promise) pair is
  dropped (the sentence stays). RESTAURANT#GENERAL/MISCELLANEOUS give no label. Sentence
  sentiment is the common polarity when all of its opinions (any category) agree, else empty.
* Splits are deterministic: a key's bucket is ``sha1(salt + key) mod 10000``.
* The TWCS airline intents are not converted: their tags carry no stance, BAGGAGE merges lost
  and damaged luggage, and 6 of 14 tags (OTHER, TERMOPS, CHECKIN, REWARDS, NEWFEAT, TERMFACS,
  about 43% of the tweets) have no promise in the register.
"""

from __future__ import annotations

import argparse
import csv
import hashlib
import sys
import xml.etree.ElementTree as ET
from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

AIRLINE_REASONS: dict[str, str] = {
    "Customer Service Issue": "A1",
    "Late Flight": "A2",
    "Cancelled Flight": "A3",
    "Lost Luggage": "A4",
    "Damaged Luggage": "A5",
    "Bad Flight": "A6",
    "Flight Booking Problems": "A7",
    "Flight Attendant Complaints": "A8",
    "longlines": "A9",
}

SEMEVAL_CATEGORIES: dict[str, str] = {
    "FOOD#QUALITY": "R1",
    "FOOD#STYLE_OPTIONS": "R2",
    "FOOD#PRICES": "R3",
    "DRINKS#QUALITY": "R4",
    "DRINKS#STYLE_OPTIONS": "R5",
    "DRINKS#PRICES": "R6",
    "SERVICE#GENERAL": "R7",
    "AMBIENCE#GENERAL": "R8",
    "LOCATION#GENERAL": "R9",
    "RESTAURANT#PRICES": "R10",
}
POLARITY_TO_STANCE: dict[str, str] = {
    "positive": "kept",
    "negative": "broken",
    "neutral": "neutral",
}
SENTIMENTS = ("positive", "negative", "neutral")
FIELDS = ("id", "text", "labels", "sentiment", "lang")
EACH_PER_PROMISE = 20


@dataclass(frozen=True)
class Case:
    id: str
    text: str
    labels: tuple[tuple[str, str], ...]
    sentiment: str
    lang: str

    def row(self) -> dict[str, str]:
        labels = "|".join(f"{pid}:{stance}" for pid, stance in self.labels)
        return {
            "id": self.id,
            "text": self.text,
            "labels": labels,
            "sentiment": self.sentiment,
            "lang": self.lang,
        }


def bucket(key: str, salt: str = "klopt") -> int:
    """Deterministic bucket in [0, 10000) for a key."""
    return int(hashlib.sha1(f"{salt}:{key}".encode()).hexdigest(), 16) % 10000


def write_cases(path: Path, cases: Sequence[Case]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", encoding="utf-8", newline="") as fh:
        writer = csv.DictWriter(fh, fieldnames=FIELDS)
        writer.writeheader()
        for case in cases:
            writer.writerow(case.row())


# --------------------------------------------------------------------------- airline


def _confidence(value: str) -> float:
    try:
        return float(value)
    except ValueError:
        return 0.0


def read_airline(path: Path) -> tuple[list[dict[str, str]], int, int]:
    """Rows deduplicated on tweet_id; returns (rows, duplicate rows, ids with conflicts)."""
    groups: dict[str, list[dict[str, str]]] = defaultdict(list)
    with path.open(encoding="utf-8", newline="") as fh:
        for row in csv.DictReader(fh):
            groups[row["tweet_id"]].append(row)
    kept: list[dict[str, str]] = []
    duplicates = conflicts = 0
    for rows in groups.values():
        duplicates += len(rows) - 1
        if len({(r["airline_sentiment"], r["negativereason"]) for r in rows}) > 1:
            conflicts += 1
        best = max(
            rows,
            key=lambda r: (
                _confidence(r["airline_sentiment_confidence"]),
                _confidence(r["negativereason_confidence"]),
            ),
        )
        kept.append(best)
    return kept, duplicates, conflicts


def airline_case(row: dict[str, str]) -> Case:
    pid = AIRLINE_REASONS.get(row["negativereason"])
    sentiment = row["airline_sentiment"]
    labels = ((pid, "broken"),) if sentiment == "negative" and pid else ()
    return Case(
        id=f"air-{row['tweet_id']}",
        text=row["text_fixed"],
        labels=labels,
        sentiment=sentiment,
        lang="en",
    )


def take_each(cases: Iterable[Case], n: int, salt: str) -> list[Case]:
    """Up to n cases per (first) promise, the ones with the lowest salted hash."""
    per: dict[str, list[Case]] = defaultdict(list)
    for case in cases:
        if case.labels:
            per[case.labels[0][0]].append(case)
    chosen: list[Case] = []
    for pid in sorted(per, key=lambda p: (len(p), p)):
        ranked = sorted(per[pid], key=lambda c: (bucket(c.id, salt), c.id))
        chosen.extend(ranked[:n])
    return chosen


def convert_airline(data: Path, out: Path, notes: list[str]) -> None:
    rows, duplicates, conflicts = read_airline(data / "airline_tweets_en" / "tweets.csv")
    notes.append(
        f"airline: {len(rows) + duplicates} rows, {duplicates} duplicate rows, "
        f"{conflicts} ids with conflicting labels; kept the highest-confidence row per id"
    )
    cases = [airline_case(r) for r in rows]
    negative = [c for c in cases if c.labels]
    write_cases(out / "airline_sentiment.csv", cases)
    write_cases(out / "airline_negative.csv", negative)
    train = [c for c in negative if bucket(c.id, "airline-split") < 2000]
    test = [c for c in negative if bucket(c.id, "airline-split") >= 2000]
    write_cases(out / "airline_negative_train20.csv", train)
    write_cases(out / "airline_negative_test80.csv", test)
    each = take_each(train, EACH_PER_PROMISE, "airline-each")
    write_cases(out / "airline_negative_train_20each.csv", each)
    short = {
        pid: n for pid, n in Counter(c.labels[0][0] for c in train).items() if n < EACH_PER_PROMISE
    }
    if short:
        notes.append(f"airline_negative_train_20each: fewer than 20 available for {short}")


# --------------------------------------------------------------------------- SemEval


@dataclass(frozen=True)
class Sentence:
    review_id: str
    sentence_id: str
    text: str
    opinions: tuple[tuple[str, str], ...]  # (category, polarity)


def read_semeval_xml(path: Path) -> list[Sentence]:
    root = ET.parse(path).getroot()
    sentences: list[Sentence] = []
    for review in root.iter("Review"):
        rid = review.get("rid", "")
        for sent in review.iter("sentence"):
            text = (sent.findtext("text") or "").strip()
            opinions = tuple(
                (op.get("category", ""), op.get("polarity", "")) for op in sent.iter("Opinion")
            )
            sentences.append(Sentence(rid, sent.get("id", ""), text, opinions))
    return sentences


def semeval_case(sentence: Sentence, lang: str, stats: Counter[str]) -> Case:
    per_promise: dict[str, list[str]] = defaultdict(list)
    for category, polarity in sentence.opinions:
        pid = SEMEVAL_CATEGORIES.get(category)
        if pid is not None and polarity in POLARITY_TO_STANCE:
            per_promise[pid].append(polarity)
    labels: list[tuple[str, str]] = []
    for pid in sorted(per_promise, key=lambda p: int(p[1:])):
        counts = Counter(per_promise[pid]).most_common()
        if len(counts) > 1:
            stats["mixed pairs"] += 1
            if counts[0][1] == counts[1][1]:
                stats["tied pairs dropped"] += 1
                continue
        labels.append((pid, POLARITY_TO_STANCE[counts[0][0]]))
    polarities = {polarity for _, polarity in sentence.opinions}
    sentiment = polarities.pop() if len(polarities) == 1 else ""
    if sentiment not in SENTIMENTS:
        sentiment = ""
    return Case(
        id=f"{lang}-{sentence.sentence_id}",
        text=sentence.text,
        labels=tuple(labels),
        sentiment=sentiment,
        lang=lang,
    )


def convert_semeval(data: Path, out: Path, notes: list[str]) -> None:
    en = data / "semeval2016_restaurants_en"
    sources = {
        "semeval16_en_train.csv": en / "ABSA16_Restaurants_Train_SB1_v2.xml",
        "semeval16_en_test.csv": en / "EN_REST_SB1_TEST.xml.gold",
    }
    for name, path in sources.items():
        stats: Counter[str] = Counter()
        cases = [semeval_case(s, "en", stats) for s in read_semeval_xml(path)]
        write_cases(out / name, cases)
        notes.append(f"{name}: {dict(stats)} (tie = equal votes for two stances)")

    stats = Counter()
    sentences = read_semeval_xml(
        data / "semeval2016_restaurants_nl_train" / "restaurants_dutch_training.xml"
    )
    train = [s for s in sentences if bucket(s.review_id, "semeval-nl") < 7000]
    held = [s for s in sentences if bucket(s.review_id, "semeval-nl") >= 7000]
    write_cases(out / "semeval16_nl_train70.csv", [semeval_case(s, "nl", stats) for s in train])
    write_cases(out / "semeval16_nl_heldout30.csv", [semeval_case(s, "nl", stats) for s in held])
    reviews = (len({s.review_id for s in train}), len({s.review_id for s in held}))
    notes.append(f"semeval16_nl: reviews train70/heldout30 = {reviews}; {dict(stats)}")


# --------------------------------------------------------------------------- Dutch politics


def convert_dutch_political(data: Path, out: Path, notes: list[str]) -> None:
    folder = data / "dutch_political_tweets"
    sources = {
        "dutch_political_train.csv": ("train", folder / "derived_gold-polarity.csv"),
        "dutch_political_test.csv": ("test", folder / "derived_test-data-polarity.csv"),
    }
    for name, (split, path) in sources.items():
        cases: list[Case] = []
        skipped = 0
        with path.open(encoding="utf-8", newline="") as fh:
            for i, row in enumerate(csv.DictReader(fh)):
                polarity = (row.get("polarity") or "").strip().lower()
                text = (row.get("content") or "").strip()
                if polarity not in SENTIMENTS or not text:
                    skipped += 1
                    continue
                cases.append(Case(f"nlpol-{split}-{i:04d}", text, (), polarity, "nl"))
        write_cases(out / name, cases)
        if skipped:
            notes.append(f"{name}: skipped {skipped} rows without text or valid polarity")


# --------------------------------------------------------------------------- report


def summarise(out: Path) -> str:
    lines = [f"{'file':36} {'cases':>6} {'linked':>6}  sentiment / labels"]
    for path in sorted(out.glob("*.csv")):
        with path.open(encoding="utf-8", newline="") as fh:
            rows = list(csv.DictReader(fh))
        sentiment = Counter(r["sentiment"] or "-" for r in rows)
        labels: Counter[str] = Counter()
        stances: Counter[str] = Counter()
        for r in rows:
            for label in filter(None, r["labels"].split("|")):
                pid, stance = label.split(":")
                labels[pid] += 1
                stances[stance] += 1
        linked = sum(1 for r in rows if r["labels"])
        sent = " ".join(f"{k}={v}" for k, v in sorted(sentiment.items()))
        lines.append(f"{path.name:36} {len(rows):6d} {linked:6d}  {sent}")
        if labels:
            per = " ".join(f"{k}={labels[k]}" for k in sorted(labels, key=lambda p: int(p[1:])))
            st = " ".join(f"{k}={v}" for k, v in sorted(stances.items()))
            lines.append(f"{'':51}{per}")
            lines.append(f"{'':51}{st}")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--data", type=Path, required=True, help="folder of the shared data")
    parser.add_argument("--out", type=Path, default=Path(__file__).parent / ".cases")
    args = parser.parse_args(argv)
    data: Path = args.data
    out: Path = args.out
    if not data.is_dir():
        parser.error(f"no such folder: {data}")
    out.mkdir(parents=True, exist_ok=True)
    notes: list[str] = []
    convert_airline(data, out, notes)
    convert_semeval(data, out, notes)
    convert_dutch_political(data, out, notes)
    notes.append("twcs_airline_intents.csv: not written (no stance; tags do not map 1:1)")
    print(summarise(out))
    print()
    for note in notes:
        print(f"- {note}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
