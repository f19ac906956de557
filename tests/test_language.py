"""Language detection, sentence splitting and text cleaning."""

from __future__ import annotations

from klopt.models.language import detect_language, split_sentences


def test_detects_dutch_english_and_other() -> None:
    texts = [
        "@united my flight is delayed again, three hours at the gate",
        "Mijn pakketje is nog steeds niet bezorgd, wat een gedoe!",
        "Das ist wirklich nicht gut, ich warte seit zwei Wochen",
        "😡😡😡",
        "",
    ]
    assert detect_language(texts) == ["en", "nl", "other", "other", "other"]


def test_detect_language_of_nothing_is_empty() -> None:
    assert detect_language([]) == []


def test_split_sentences_keeps_abbreviations_together() -> None:
    text = "Wij leveren bijv. binnen 24 uur. Altijd! Vragen?\nBel ons."
    assert split_sentences(text, "nl") == [
        "Wij leveren bijv. binnen 24 uur.",
        "Altijd!",
        "Vragen?",
        "Bel ons.",
    ]


def test_split_sentences_english() -> None:
    assert split_sentences("We fly on time. E.g. the 7:40 to Paris.", "en") == [
        "We fly on time.",
        "E.g. the 7:40 to Paris.",
    ]
