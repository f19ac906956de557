"""click's own texts (usage errors such as "No such option", "Try ... for help.", prompts,
"Aborted!") in the user's language, from klopt's catalogues.

click asks gettext for each of its texts. klopt answers instead, from the ``click.*`` keys of
``locale/<lang>.yaml``: the English value of each key is click's exact text (the key names
it), the Dutch value its translation with the same fields. A text klopt has no key for stays
click's English. The language is the one the command's help uses (``--lang`` on the command
line, else the ``lang`` setting), set when a command reads its arguments.
"""

from __future__ import annotations

from functools import cache

import click.core
import click.decorators
import click.exceptions
import click.formatting
import click.parser
import click.termui
import click.types
import click.utils

from klopt.i18n import LANGUAGES, messages

__all__ = ["install", "set_language"]

_MODULES = (
    click.core,
    click.decorators,
    click.exceptions,
    click.formatting,
    click.parser,
    click.termui,
    click.types,
    click.utils,
)
_language = ["en"]
_PATH_KINDS = ("file", "directory", "path")


def set_language(lang: str) -> None:
    """click's texts are in ``lang`` from now on (English for a language klopt lacks)."""
    _language[0] = lang if lang in LANGUAGES else "en"


@cache
def _catalogue(lang: str) -> dict[str, str]:
    """click's English text -> its text in ``lang``."""
    english, local = messages("en"), messages(lang)
    return {english[k]: local[k] for k in english if k.startswith("click.") and k in local}


class _PathKind(str):
    """click's word for a kind of path ("file", "directory", "path"). click asks for it once,
    when a command's options are made, and capitalises it when it writes "File '...' does not
    exist."; this word is put in the language of that moment."""

    def title(self) -> str:
        return _translated(str(self)).title()


def _translated(text: str) -> str:
    lang = _language[0]
    return text if lang == "en" else _catalogue(lang).get(text, text)


def gettext(text: str) -> str:
    """click's ``text`` in the current language."""
    if text in _PATH_KINDS:
        return _PathKind(text)
    return _translated(text)


def ngettext(singular: str, plural: str, count: int) -> str:
    """click's singular or plural text in the current language."""
    return gettext(singular if count == 1 else plural)


def install() -> None:
    """Let click ask klopt for its texts (each click module bound gettext's at import)."""
    for module in _MODULES:
        if hasattr(module, "_"):
            module._ = gettext  # type: ignore[attr-defined]
        if hasattr(module, "ngettext"):
            module.ngettext = ngettext  # type: ignore[attr-defined]
