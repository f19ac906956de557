"""The one translation mechanism: message keys looked up in ``locale/<lang>.yaml`` (and
``locale/<lang>/*.yaml``, the web app's texts by area).

Every text klopt shows a user goes through :func:`t`. English is the fallback; a key
missing from a language falls back to English, and a test checks both files hold the
same keys.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Protocol, runtime_checkable

__all__ = ["LANGUAGES", "Localized", "Term", "t", "messages"]

LANGUAGES = ("en", "nl")


@runtime_checkable
class Localized(Protocol):
    """A value that can say itself in the user's language (a row problem, a reading note)."""

    def text(self, lang: str = "en") -> str:
        """The value in ``lang``."""
        ...


@dataclass(frozen=True)
class Term:
    """A word klopt says in the user's language (a state, an action), by message key.

    Pass it as a value of a keyed error and the error shows it in the user's language.
    """

    key: str

    def text(self, lang: str = "en") -> str:
        """The word in ``lang``."""
        return t(self.key, lang)


@cache
def messages(lang: str) -> dict[str, str]:
    """All messages of one language, keyed by message key."""
    import yaml

    # libyaml's loader where PyYAML has it: ten times faster, and `klopt --help` reads this.
    loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
    locale = resources.files("klopt").joinpath("locale")
    files = [locale.joinpath(f"{lang}.yaml")]
    # The web app's pages keep their texts in locale/<lang>/<area>.yaml, one file per area.
    area_dir = locale.joinpath(lang)
    if area_dir.is_dir():
        files += sorted(
            (f for f in area_dir.iterdir() if f.name.endswith(".yaml")), key=lambda f: f.name
        )
    found: dict[str, str] = {}
    for file in files:
        data = yaml.load(file.read_text("utf-8"), Loader=loader) or {}
        for k, v in data.items():
            if str(k) in found:
                raise ValueError(f"message key {k} is in two locale files ({file.name})")
            found[str(k)] = str(v)
    return found


def t(key: str, lang: str = "en", /, **values: Any) -> str:
    """The message ``key`` in ``lang``, with ``{name}`` fields filled from ``values``."""
    text = messages(lang).get(key) if lang in LANGUAGES else None
    if text is None:
        text = messages("en").get(key, key)
    return text.format(**values) if values else text
