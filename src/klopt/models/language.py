"""Language identification and sentence splitting for Dutch and English.

klopt treats Dutch (``nl``) and English (``en``) as first-class languages; any other
language is reported as ``other`` and degrades gracefully. Detection uses lingua,
limited to nl/en plus a handful of common neighbours so that German or French posts
are not forced into Dutch or English. The detector is built lazily, once.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Sequence
from typing import Any

__all__ = [
    "detect_language",
    "split_sentences",
    "clean_for_detection",
    "LANGUAGES",
]

LANGUAGES = ("nl", "en")
_OTHERS = ("de", "fr", "es", "it", "pt", "da", "sv", "id")

_HANDLE = re.compile(r"[@#]\w+|https?://\S+|www\.\S+")
_LETTERS = re.compile(r"[^\W\d_]", re.UNICODE)

_detector: Any = None
_lock = threading.Lock()


def _get_detector() -> Any:
    global _detector
    with _lock:
        if _detector is None:
            from lingua import IsoCode639_1, LanguageDetectorBuilder

            codes = [getattr(IsoCode639_1, code.upper()) for code in LANGUAGES + _OTHERS]
            _detector = LanguageDetectorBuilder.from_iso_codes_639_1(*codes).build()
        return _detector


def clean_for_detection(text: str) -> str:
    """Remove handles, hashtags and links, which say nothing about the language."""
    return " ".join(_HANDLE.sub(" ", text).split())


def detect_language(texts: Sequence[str]) -> list[str]:
    """Return ``"nl"``, ``"en"`` or ``"other"`` for each text.

    Texts without letters (only emoji, numbers or links) are ``"other"``.
    """
    cleaned = [clean_for_detection(t) for t in texts]
    todo = [i for i, t in enumerate(cleaned) if len(_LETTERS.findall(t)) >= 2]
    result = ["other"] * len(texts)
    if not todo:
        return result
    detected = _get_detector().detect_languages_in_parallel_of([cleaned[i] for i in todo])
    for index, language in zip(todo, detected, strict=True):
        if language is None:
            continue
        code = language.iso_code_639_1.name.lower()
        result[index] = code if code in LANGUAGES else "other"
    return result


_ABBREVIATIONS = {
    "en": ("e.g.", "i.e.", "etc.", "mr.", "mrs.", "dr.", "vs.", "no."),
    "nl": ("bijv.", "bv.", "d.w.z.", "o.a.", "m.b.t.", "enz.", "ca.", "nr.", "dhr.", "mevr."),
}
_BOUNDARY = re.compile(r"(?<=[.!?…])[\"')\]]*\s+|\n+")


def split_sentences(text: str, lang: str) -> list[str]:
    """Split ``text`` into sentences (simple rules: end marks, newlines, abbreviations).

    Args:
        text: any text.
        lang: ``"nl"``, ``"en"`` or ``"other"``; picks the abbreviation list.

    Returns:
        The non-empty sentences, stripped, in order.
    """
    abbreviations = _ABBREVIATIONS.get(lang, _ABBREVIATIONS["en"])
    pieces = [p.strip() for p in _BOUNDARY.split(text) if p and p.strip()]
    sentences: list[str] = []
    for piece in pieces:
        last_word = sentences[-1].rsplit(None, 1)[-1].lower() if sentences else ""
        if sentences and last_word in abbreviations:
            sentences[-1] = f"{sentences[-1]} {piece}"
        else:
            sentences.append(piece)
    return sentences
