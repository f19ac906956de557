"""One translation mechanism: both languages hold the same keys, and every key used exists."""

from __future__ import annotations

import re
from pathlib import Path

from klopt.i18n import LANGUAGES, messages, t

SRC = Path(__file__).resolve().parents[1] / "src" / "klopt"


def test_every_language_has_the_same_keys() -> None:
    keys = {lang: set(messages(lang)) for lang in LANGUAGES}
    assert keys["nl"] == keys["en"]


def test_every_key_the_code_uses_is_translated() -> None:
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        used |= set(re.findall(r"\bt\(\s*\"([a-z_]+\.[a-z_.]+|[a-z_]+)\"", text))
        # Errors name their text by key: `SomeError.keyed("document.encrypted", ...)`.
        used |= {f"error.{k}" for k in re.findall(r"\.keyed\(\s*\"([a-z0-9_.]+)\"", text)}
    used |= {"mentions.problem.line", "mentions.problem.record", "docs.added", "docs.unchanged"}
    for path in SRC.rglob("*.py"):  # why a row was skipped: RowError("key") / BadRow(n, "key")
        text = path.read_text()
        used |= {f"row.{k}" for k in re.findall(r"\bRowError\(\s*\"([a-z_]+)\"", text)}
        used |= {f"row.{k}" for k in re.findall(r"\bBadRow\(\s*\w+,\s*\"([a-z_]+)\"", text)}
        used |= {f"note.{k}" for k in re.findall(r"\bNote\(\s*\"([a-z_]+)\"", text)}
    missing = sorted(k for k in used if k not in messages("en"))
    assert missing == []


def test_fields_are_filled_and_unknown_languages_fall_back_to_english() -> None:
    assert t("promises.proposed", "nl", count=3) == "3 nieuwe voorstellen."
    assert t("promises.proposed", "de", count=3) == "3 new proposals."
