"""The claim comparer (issue 15): claims read into parts, compared part by part.

The register and drafts here are written for these tests (a made-up energy supplier and
parcel service); the benchmark sets are not used.
"""

from __future__ import annotations

import pytest

from klopt.checking.claims import check_promises
from klopt.checking.claims.compare import PromiseParts, compare
from klopt.checking.claims.cues import load_claim_cues
from klopt.checking.claims.parts import read_parts
from klopt.checking.findings import Draft
from klopt.judging.judge import PromiseSpec

CUES = load_claim_cues()

REGISTER = [
    PromiseSpec("P1", "Onze klantenservice reageert binnen 2 uur op elke vraag."),
    PromiseSpec("P2", "Bestel je vóór 22:00, dan bezorgen we je pakket de volgende werkdag."),
    PromiseSpec("P3", "Je kunt 30 dagen gratis retourneren."),
    PromiseSpec("P4", "Op alle elektronica krijg je 2 jaar garantie."),
    PromiseSpec("P5", "Wij verkopen je gegevens nooit aan derden."),
    PromiseSpec("P6", "De klantenservice is 7 dagen per week bereikbaar van 8:00 tot 22:00."),
    PromiseSpec("P7", "Gratis bezorging vanaf € 20."),
    PromiseSpec("P8", "Wij leveren 100% groene stroom."),
]


def parts(text: str) -> list[tuple[str, float, str]]:
    return [(p.kind, p.value, p.role) for p in read_parts(text, CUES).parts]


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Bestel vóór 22.00 uur", [("clock", 22.0, "end")]),
        ("Besteld voor middernacht", [("clock", 24.0, "end")]),
        ("Delivered before 10am", [("clock", 10.0, "deadline")]),
        ("Open 8:00-22:00", [("clock", 8.0, "start"), ("clock", 22.0, "end")]),
        (
            "van acht uur 's ochtends tot tien uur 's avonds",
            [("clock", 8.0, "start"), ("clock", 22.0, "end")],
        ),
        ("binnen 3 werkdagen", [("duration", 72.0, "")]),
        ("op werkdagen", [("availability", 1.0, "")]),
        ("24/7 bereikbaar", [("absolute", 1.0, ""), ("availability", 3.0, "")]),
        ("9 van de 10 treinen", [("percent", 90.0, "")]),
        ("seven out of ten flights", [("percent", 70.0, "")]),
        ("verzekerd tot € 500", [("money", 500.0, "cap")]),
        ("orders of €35 or more", [("money", 35.0, "threshold")]),
        ("€ 10.000 spaargeld", [("money", 10000.0, "")]),
        ("for just 50p", [("money", 0.5, "")]),
        ("a cabin bag of 8 kg", [("amount", 8.0, "")]),
    ],
)
def test_parts(text: str, expected: list[tuple[str, float, str]]) -> None:
    assert parts(text) == expected


def test_restrictions_have_a_kind_and_not_only_is_none() -> None:
    found = read_parts("Alleen als je lid bent, behalve op zondag.", CUES).of("restriction")
    assert [(p.text, p.role) for p in found] == [("Alleen als", "condition"), ("behalve", "except")]
    assert read_parts("Niet alleen snel: in slechts 2 uur.", CUES).of("restriction") == []


def _compare(promise: str, sentence: str) -> tuple[str, str] | None:
    difference = compare(
        sentence, read_parts(sentence, CUES), PromiseParts.of([promise], CUES), [], CUES
    )
    return None if difference is None else (difference.direction, difference.reason)


@pytest.mark.parametrize(
    ("promise", "sentence", "expected"),
    [
        # deadlines: faster is more, slower less; a window the other way round
        ("We reageren binnen 2 uur.", "We answer within 30 minutes.", ("more", "duration")),
        ("We reageren binnen 2 uur.", "Het kan nu tot 5 uur duren.", ("less", "duration")),
        ("Je kunt 30 dagen retourneren.", "Retourneren kan nu 60 dagen.", ("more", "duration")),
        ("Bezorging morgen.", "Bezorging overmorgen.", ("less", "duration")),
        # clock times by role
        (
            "Bestel vóór 22:00, morgen in huis.",
            "Besteld voor middernacht, morgen in huis.",
            ("more", "clock"),
        ),
        ("Open van 8:00 tot 22:00.", "We sluiten voortaan om 20:00.", ("less", "clock")),
        # availability and scope
        ("Bereikbaar 7 dagen per week.", "Bereikbaar 24/7.", ("more", "availability")),
        ("Bereikbaar 7 dagen per week.", "Voortaan alleen op werkdagen.", ("less", "restricted")),
        (
            "2 jaar garantie op alle elektronica.",
            "2 jaar garantie op alles wat we verkopen.",
            ("more", "scope"),
        ),
        (
            "Wij verkopen je gegevens nooit aan derden.",
            "We delen je gegevens met niemand.",
            ("more", "scope"),
        ),
        ("Gratis wifi in al onze treinen.", "Gratis wifi, nu ook in de bus.", ("more", "scope")),
        # take-backs
        ("Gratis retourneren.", "Retourneren is niet meer gratis.", ("less", "no_longer")),
        ("Gratis retourneren.", "Retourneren kost voortaan € 2,95.", ("less", "charges")),
        ("Bereikbaar 7 dagen per week.", "De balie is tijdelijk gesloten.", ("less", "suspended")),
        ("Free Wi-Fi on every flight.", "Wi-Fi is unavailable this week.", ("less", "suspended")),
        ("Vaste prijs van € 18 per maand.", "Vanaf april stijgen onze prijzen.", ("less", "price")),
        # money, thresholds, caps, percentages, amounts
        ("Gratis bezorging vanaf € 20.", "Gratis bezorging vanaf € 50.", ("less", "threshold")),
        (
            "Gratis bezorging vanaf € 20.",
            "Gratis bezorging, geen minimumbedrag.",
            ("more", "threshold"),
        ),
        ("Verzekerd tot € 500.", "Verzekerd tot € 1.000.", ("more", "cap")),
        ("9 van de 10 treinen op tijd.", "7 out of 10 trains on time.", ("less", "percent")),
        ("A cabin bag of 8 kg.", "The cabin bag is limited to 5 kg.", ("less", "amount")),
    ],
)
def test_compare_directions(promise: str, sentence: str, expected: tuple[str, str]) -> None:
    assert _compare(promise, sentence) == expected


@pytest.mark.parametrize(
    ("promise", "sentence"),
    [
        ("We reageren binnen 2 uur.", "Onze klantenservice reageert binnen 120 minuten."),
        ("Bestel vóór 22:00, morgen in huis.", "Vóór tienen besteld? Morgen bij je thuis."),
        ("Bereikbaar 7 dagen per week.", "Gesloten? Nee hoor, je kunt ons nog steeds bereiken."),
        ("Bereikbaar 7 dagen per week.", "Ook in het weekend bereikbaar, elke dag."),
        ("Wij verkopen je gegevens nooit.", "We verkopen je gegevens nooit, aan niemand."),
        (
            "Tenzij je grof nalatig was, vergoeden we alles.",
            "We refund it all, unless you were grossly negligent.",
        ),
    ],
)
def test_same_claim_in_other_words_is_no_difference(promise: str, sentence: str) -> None:
    assert _compare(promise, sentence) is None


def _labels(text: str) -> set[tuple[str, str]]:
    return {(f.rule, f.promise or "") for f in check_promises(Draft(text), REGISTER)}


def test_examples_end_to_end_across_languages() -> None:
    assert ("promise.exceeds", "P1") in _labels("We answer every question within 30 minutes!")
    assert ("promise.exceeds", "P2") in _labels(
        "Ordered before midnight, delivered the next working day."
    )
    assert _labels("Returning is no longer free: from now on it costs €2.95 per parcel.") == {
        ("promise.contradicts", "P3")
    }
    assert ("promise.exceeds", "P6") in _labels("Onze klantenservice is voortaan 24/7 bereikbaar.")
    assert ("promise.contradicts", "P8") in _labels(
        "Deze winter komt maar 80% van onze stroom uit groene bronnen."
    )


DRAFTS = [
    "We answer every question within 30 minutes!",
    "Fijne feestdagen allemaal! 🎄",
    "Studenten krijgen 10% korting op alle laptops.",
    "Onze klantenservice reageert binnen 2 uur. En nieuw: gratis koffie in elke winkel.",
    "Retourneren is tijdelijk niet mogelijk. Je kunt 30 dagen gratis retourneren.",
    "Op alle elektronica krijg je 2 jaar garantie, en we reageren binnen 2 uur.",
    "We're hiring! Join our team in Utrecht 👉 https://example.org/jobs",
    "Gratis bezorging vanaf € 20, bestel vóór 22:00 en het is er morgen.",
]


@pytest.mark.parametrize("text", DRAFTS)
def test_consistent_output(text: str) -> None:
    found = check_promises(Draft(text), REGISTER)
    rules = [f.rule for f in found]
    # never both new claim and off-message; off-message only without promise findings
    assert not ("promise.new_claim" in rules and "promise.off_message" in rules)
    if "promise.off_message" in rules:
        assert all(f.promise is None for f in found)
    # supports only where nothing is contradicted or exceeded for that promise
    broken = {f.promise for f in found if f.rule in ("promise.contradicts", "promise.exceeds")}
    assert not any(f.rule == "promise.supports" and f.promise in broken for f in found)
    # at least one finding on every draft, and every span lies inside the draft
    assert found and all(
        f.span is None or 0 <= f.span.start < f.span.end <= len(text) for f in found
    )


def test_evidence_holds_both_parts_compared() -> None:
    [finding] = [
        f
        for f in check_promises(Draft("Bestel voor middernacht, morgen in huis."), REGISTER)
        if f.rule == "promise.exceeds"
    ]
    assert finding.evidence["reason"] == "clock"
    assert finding.evidence["draft"]["text"] == "middernacht"
    assert finding.evidence["promise"]["text"] == "22:00"
    assert "Bestel voor middernacht, morgen in huis."[finding.span.start : finding.span.end] == (
        "middernacht"
    )
