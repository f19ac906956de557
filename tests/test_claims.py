"""Promise checks (klopt.checking.claims): exact findings on representative drafts, and the
parser."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from klopt.checking.claims import check_promises, parse_quantities, split_draft
from klopt.checking.findings import Draft, Severity
from klopt.judging.judge import PromiseSpec

REGISTER = Path(__file__).resolve().parents[1] / "examples" / "voorbeeld-bv" / "promises.yaml"


@pytest.fixture(scope="module")
def promises() -> list[PromiseSpec]:
    data = yaml.safe_load(REGISTER.read_text("utf-8"))
    return [PromiseSpec(p["id"], p["text"], tuple(p["paraphrases"])) for p in data["promises"]]


def findings(
    text: str, promises: list[PromiseSpec], lang: str = "en"
) -> list[tuple[str, str, str]]:
    out = check_promises(Draft(text), promises, lang=lang)
    return [
        (f.rule, f.promise or "", text[f.span.start : f.span.end] if f.span else "") for f in out
    ]


CASES = [
    # supports
    (
        "Vraag over je bestelling? Onze klantenservice reageert binnen 2 uur via chat, mail of DM",
        [
            (
                "promise.supports",
                "P3",
                "Onze klantenservice reageert binnen 2 uur via chat, mail of DM",
            )
        ],
    ),
    (
        "Every part comes with a 2-year warranty. Ride worry-free 🔧",
        [("promise.supports", "P4", "Every part comes with a 2-year warranty.")],
    ),
    # exceeds: numbers and absolutes
    (
        "Wij leveren binnen 12 uur! ⏱️ #snel",
        [("promise.exceeds", "P1", "12 uur")],
    ),
    ("Free returns forever. Seriously. 🔄", [("promise.exceeds", "P2", "forever")]),
    (
        "Our customer service responds within 15 minutes, guaranteed 💬",
        [("promise.exceeds", "P3", "15 minutes")],
    ),
    ("Op alle onderdelen nu 5 jaar garantie 🔧", [("promise.exceeds", "P4", "5 jaar")]),
    # contradicts
    (
        "Retourneren is helaas niet meer gratis. Je betaalt voortaan € 2,95 per pakket.",
        [("promise.contradicts", "P2", "Retourneren is helaas niet meer gratis.")],
    ),
    (
        "We share your data with carefully selected partners so you get offers that matter 🎯",
        [
            (
                "promise.contradicts",
                "P7",
                "We share your data with carefully selected partners so you get offers that matter",
            )
        ],
    ),
    # new claims
    (
        "Wij beloven: elke e-bike rijdt minstens 150 km op één acculading! 🔋",
        [
            (
                "promise.new_claim",
                "",
                "Wij beloven: elke e-bike rijdt minstens 150 km op één acculading!",
            ),
        ],
    ),
    # tricky negatives: the promise itself, a customer's quote, "faster than ever"
    (
        "Sneller dan ooit bij je thuis: wij leveren binnen 24 uur 🚀",
        [("promise.supports", "P1", "Sneller dan ooit bij je thuis: wij leveren binnen 24 uur")],
    ),
    (
        '"I had an answer within 10 minutes, amazing!" says customer Tom. '
        "Our customer service responds within 2 hours 💬",
        [("promise.supports", "P3", "Our customer service responds within 2 hours")],
    ),
    # off-message
    ("Fijne Koningsdag allemaal! 🧡🇳🇱 #koningsdag", [("promise.off_message", "", "")]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_exact_findings(
    text: str, expected: list[tuple[str, str, str]], promises: list[PromiseSpec]
) -> None:
    assert findings(text, promises) == expected


def test_messages_quote_both_sides_in_the_users_language(promises: list[PromiseSpec]) -> None:
    [nl] = check_promises(Draft("Op alle onderdelen nu 5 jaar garantie"), promises, lang="nl")
    assert nl.severity is Severity.ERROR
    assert nl.message == (
        "Belooft meer dan P4: het concept zegt “5 jaar”, het register belooft "
        "“Op elk onderdeel krijgt u 2 jaar garantie.”."
    )
    assert nl.evidence["draft"] == {
        "kind": "duration",
        "value": 43800.0,
        "unit": "hours",
        "text": "5 jaar",
        "measure": "window",
    }
    assert nl.evidence["reason"] == "duration"
    assert nl.evidence["promise"]["value"] == 17520.0
    [en] = check_promises(Draft("Free returns forever!"), promises, lang="en")
    assert (
        "“forever”" in en.message
        and "“You can return anything free of charge within 30 days”" in en.message
    )


def test_absolutes_are_warnings_and_off_message_has_evidence(promises: list[PromiseSpec]) -> None:
    [absolute] = check_promises(Draft("Wij leveren gegarandeerd binnen 24 uur 📦"), promises)
    assert (absolute.rule, absolute.severity, absolute.evidence["absolute"]) == (
        "promise.exceeds",
        Severity.WARNING,
        "gegarandeerd",
    )
    [off] = check_promises(Draft("Happy King's Day everyone!"), promises)
    assert off.evidence == {"supports": 0} and off.span is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("binnen 24 uur", [("duration", 24.0)]),
        ("binnen 3 werkdagen", [("duration", 72.0)]),
        ("within an hour", [("duration", 1.0)]),
        ("binnen twee uur", [("duration", 2.0)]),
        ("3 tot 5 werkdagen", [("duration", 120.0)]),
        ("a 2-year warranty", [("duration", 17520.0)]),
        ("morgen in huis", [("duration", 24.0)]),
        ("next-day delivery", [("duration", 24.0)]),
        ("same day", [("duration", 12.0)]),
        ("voor altijd", [("duration", float("inf"))]),
        ("€ 4,95", [("money", 4.95)]),
        ("€4.95", [("money", 4.95)]),
        ("4,95 euro", [("money", 4.95)]),
        ("100 procent", [("percent", 100.0)]),
        ("10% korting", [("percent", 10.0)]),
        ("bestel vóór 22.00 uur", []),
        ("order before 10 pm", []),
        ("24/7 bereikbaar", []),
        ("sinds 2009", []),
    ],
)
def test_parser(text: str, expected: list[tuple[str, float]]) -> None:
    assert [(q.kind, round(q.value, 2)) for q in parse_quantities(text)] == expected


def test_money_after_vanaf_is_a_threshold() -> None:
    [money] = parse_quantities("gratis bezorging vanaf € 50")
    assert money.threshold


def test_sentences_have_exact_offsets_without_emoji() -> None:
    text = "Vandaag besteld, morgen in huis 🚲📦 Bestel nu! #fiets"
    assert [text[s.start : s.end] for s in split_draft(text)] == [
        "Vandaag besteld, morgen in huis",
        "Bestel nu!",
        "#fiets",
    ]


def test_draft_sentences_follow_the_abbreviation_rules() -> None:
    texts = [s.text for s in split_draft("Klaar in ca. 2 uur, bijv. in Utrecht! 🚲 Morgen open.")]
    assert texts == ["Klaar in ca. 2 uur, bijv. in Utrecht!", "Morgen open."]
