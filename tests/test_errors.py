"""Errors speak the user's language: keyed texts in both locale files, plain ones as they are."""

from __future__ import annotations

import pickle
import re
from pathlib import Path
from string import Formatter

import pytest

from klopt.errors import EncryptedDocument, InputError, KloptError, MissingColumn, UnknownPromise
from klopt.i18n import LANGUAGES, messages

SRC = Path(__file__).resolve().parents[1] / "src" / "klopt"


def _error_keys(lang: str) -> dict[str, str]:
    return {k: v for k, v in messages(lang).items() if k.startswith("error.")}


def _fields(text: str) -> set[str]:
    """The names of the ``{fields}`` in a text, without conversions or format specs."""
    return {re.split(r"[.\[]", name)[0] for _, name, _, _ in Formatter().parse(text) if name}


def keys_used_in_code() -> set[str]:
    """Every ``error.<key>`` that code raises with ``SomeError.keyed("<key>", ...)``."""
    used: set[str] = set()
    for path in SRC.rglob("*.py"):
        text = path.read_text()
        keys = re.findall(r"\.keyed\(\s*\"([a-z0-9_.]+)\"", text)
        # A key built at run time could not be checked here: every key is a literal.
        assert len(keys) == text.count(".keyed("), f"{path}: a key that is not a literal"
        used |= set(keys)
    return {f"error.{key}" for key in used}


def test_both_languages_have_the_same_error_keys_and_hints() -> None:
    en, nl = _error_keys("en"), _error_keys("nl")
    assert set(nl) == set(en)
    for key in en:
        if key.endswith(".hint"):
            assert key.removesuffix(".hint") in en, f"{key} hints at no message"


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_text_has_the_same_fields_in_every_language(lang: str) -> None:
    english = messages("en")
    different = {
        key: (sorted(_fields(english[key])), sorted(_fields(text)))
        for key, text in messages(lang).items()
        if key in english and _fields(text) != _fields(english[key])
    }
    assert different == {}


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_error_text_formats(lang: str) -> None:
    for text in _error_keys(lang).values():
        text.format(**{name: "x" for name in _fields(text)})  # no stray single brace


def test_every_key_raised_exists_and_every_error_key_is_raised() -> None:
    used = keys_used_in_code()
    messages_ = {k for k in _error_keys("en") if not k.endswith(".hint")}
    assert sorted(used - messages_) == []
    assert sorted(messages_ - used) == []


def test_a_keyed_error_is_english_for_logs_and_dutch_for_a_dutch_user() -> None:
    error = EncryptedDocument.keyed("document.encrypted", name="folder.pdf")
    assert error.key == "document.encrypted"
    assert error.message == "folder.pdf is encrypted with a password."
    assert error.hint == "Save an unprotected copy (print it to PDF) and add that."
    assert str(error) == f"{error.message} {error.hint}"
    assert error.localized("en") == str(error)
    assert error.localized("nl") == (
        "folder.pdf is beveiligd met een wachtwoord. "
        "Sla een onbeveiligde kopie op (druk af naar PDF) en voeg die toe."
    )
    assert error.localized("de") == str(error)  # a language klopt does not speak: English


def test_values_stay_as_given_and_conversions_apply() -> None:
    error = UnknownPromise.keyed("judge.unknown_promise", id="P9")
    assert error.message == "There is no promise with id 'P9'."
    assert error.localized("nl").startswith("Er is geen belofte met id 'P9'.")
    missing = MissingColumn.keyed(
        "mentions.missing_column", role="text", column="bericht", columns="id, body"
    )
    assert missing.localized("nl") == (
        "De text-kolom 'bericht' staat niet in het bestand (het heeft: id, body). "
        "Geef de juiste kolom op met --text-column."
    )


def test_literal_braces_in_a_text_show_once() -> None:
    error = InputError.keyed("eval.promises_not_list", path="p.yaml")
    assert error.hint == "Write each promise as a list item: '- {id: P1, text: ...}'."


def test_an_error_without_a_hint_shows_only_its_message() -> None:
    error = KloptError("Boom.")
    assert error.hint is None and error.key is None
    assert str(error) == error.localized("nl") == "Boom."


def test_a_plain_message_from_a_plugin_is_shown_as_it_is() -> None:
    error = InputError("Het CRM antwoordt niet.", hint="Probeer het later opnieuw.")
    assert error.key is None
    assert str(error) == "Het CRM antwoordt niet. Probeer het later opnieuw."
    assert error.localized("nl") == error.localized("en") == str(error)


def test_a_keyed_error_survives_pickling() -> None:
    error = pickle.loads(pickle.dumps(UnknownPromise.keyed("promise.unknown", id="P9")))
    assert isinstance(error, UnknownPromise)
    assert error.localized("nl").startswith("Er is geen belofte 'P9' in het register.")
