"""`klopt tokens create|list|revoke`: API tokens on the command line, made by the user they
are for (who proves it), shown once, kept as a hash."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import Klopt
from klopt.accounts.users import authenticate
from klopt.errors import NotAuthenticated
from klopt.store import open_store
from klopt.store.models import ApiToken


def _team(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV")
    klopt("users", "add", "frank", "--password-stdin", input="geheim-frank\n")
    klopt("users", "add", "anna", "--password-stdin", input="geheim-anna\n")


def _create(klopt: Klopt, *args: str, password: str = "geheim-frank\n", code: int = 0) -> str:
    result = klopt("--password-stdin", "tokens", "create", *args, input=password, code=code)
    return result.stdout


def test_a_token_is_made_for_the_user_who_proves_it_and_shown_once(klopt: Klopt) -> None:
    _team(klopt)
    out = _create(klopt, "--user", "frank", "--name", "nachtelijke import")
    token = out.strip().splitlines()[-1]
    assert token.startswith("klopt_") and " " not in token and len(token) > 40
    assert out.strip() == token  # alone on standard output: `$(klopt tokens create ...)`
    store = open_store(klopt.db)
    try:
        assert authenticate(store, None, token=token) == "frank"  # it works, as frank
        with store.session() as session:
            row = session.scalars(select(ApiToken)).one()
            assert row.name == "nachtelijke import" and row.user.name == "frank"
            assert row.token_hash != token and token not in row.token_hash  # kept hashed
    finally:
        store.close()
    assert token.encode() not in Path(klopt.db.removeprefix("sqlite:///")).read_bytes()
    listed = klopt("--password-stdin", "tokens", "list", "--user", "frank", input="geheim-frank\n")
    assert "nachtelijke import" in listed.output and token not in listed.output


def test_nobody_makes_a_token_for_a_user_without_proving_to_be_them(klopt: Klopt) -> None:
    _team(klopt)
    out = klopt("tokens", "create", "--user", "frank", code=1).output  # no password given
    assert "frank has a password, and it was not given" in out
    out = klopt("--password-stdin", "tokens", "create", "--user", "frank", input="geheim-anna\n",
                code=1).output  # fmt: skip
    assert "That is not the password of frank" in out
    store = open_store(klopt.db)
    try:
        with store.session() as session:
            assert session.scalars(select(ApiToken)).all() == []
    finally:
        store.close()


def test_a_token_of_one_user_does_not_make_tokens_for_another(
    klopt: Klopt, monkeypatch: pytest.MonkeyPatch
) -> None:
    _team(klopt)
    token = _create(klopt, "--user", "anna", password="geheim-anna\n").strip().splitlines()[-1]
    monkeypatch.delenv("KLOPT_USER")
    monkeypatch.setenv("KLOPT_TOKEN", token)
    out = klopt("tokens", "create", "--user", "frank", code=1).output
    assert "belongs to anna, not to frank" in out
    second = klopt("tokens", "create", "--name", "tweede").stdout.strip()  # the token says who
    store = open_store(klopt.db)
    try:
        assert authenticate(store, None, token=second) == "anna"
    finally:
        store.close()


def test_list_shows_a_users_tokens_and_revoke_stops_one(klopt: Klopt) -> None:
    _team(klopt)
    empty = klopt("--password-stdin", "tokens", "list", "--user", "frank", input="geheim-frank\n")
    assert "frank has no tokens yet" in empty.output
    first = _create(klopt, "--user", "frank", "--name", "eerste").strip().splitlines()[-1]
    _create(klopt, "--user", "frank", "--name", "tweede")
    listed = klopt("--password-stdin", "tokens", "list", "--user", "frank",
                   input="geheim-frank\n").output  # fmt: skip
    assert "Tokens of frank" in listed
    assert listed.index("tweede") < listed.index("eerste")  # newest first
    out = klopt("--password-stdin", "tokens", "revoke", "1", "--user", "frank",
                input="geheim-frank\n").output  # fmt: skip
    assert "Token 1 no longer works." in out
    store = open_store(klopt.db)
    try:
        with pytest.raises(NotAuthenticated):
            authenticate(store, None, token=first)
    finally:
        store.close()
    # anna cannot revoke frank's other token, nor learn that it exists
    out = klopt("--password-stdin", "tokens", "revoke", "2", "--user", "anna",
                input="geheim-anna\n", code=1).output  # fmt: skip
    assert "You have no token 2." in out


def test_the_old_users_token_commands_still_work(klopt: Klopt) -> None:
    _team(klopt)
    made = klopt("--user", "frank", "--password-stdin", "users", "token", "create",
                 "--label", "oud", input="geheim-frank\n")  # fmt: skip
    token = made.stdout.strip().splitlines()[-1]
    assert token.startswith("klopt_")
    listed = klopt("--password-stdin", "tokens", "list", "--user", "frank", input="geheim-frank\n")
    assert "oud" in listed.output


def test_tokens_help_is_in_both_languages(klopt: Klopt) -> None:
    assert "alone on the last line" in klopt("tokens", "create", "--help").output
    out = klopt("tokens", "create", "--help", "--lang", "nl").output
    assert "alleen op de laatste regel" in out and "De gebruiker voor wie het token is" in out
