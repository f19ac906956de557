"""`--help` speaks the user's language, and every command and option has a text in both."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import click
import pytest
from click.testing import CliRunner

from klopt.cli.app import KloptCommand, cli, option_help_key
from klopt.i18n import LANGUAGES, messages


def _help(*args: str, lang: str | None = None) -> str:
    """``klopt ARGS`` (ending in --help) with KLOPT_LANG set to ``lang`` or unset."""
    result = CliRunner().invoke(cli, list(args), prog_name="klopt", env={"KLOPT_LANG": lang})
    assert result.exit_code == 0, result.output
    return result.output


def _commands() -> Iterator[tuple[KloptCommand, click.Context]]:
    """Every command below (and including) ``klopt``, with a context to ask its params."""

    def walk(command: click.Command, parent: click.Context | None) -> Iterator[Any]:
        assert isinstance(command, KloptCommand), f"{command.name} is not a KloptCommand"
        ctx = click.Context(command, parent=parent, info_name=command.name)
        yield command, ctx
        if isinstance(command, click.Group):
            for sub in command.commands.values():
                yield from walk(sub, ctx)

    yield from walk(cli, None)


def _options(command: KloptCommand, ctx: click.Context) -> list[click.Option]:
    return [p for p in command.get_params(ctx) if isinstance(p, click.Option) and not p.hidden]


def test_help_is_english_by_default() -> None:
    out = _help("--help")
    assert out.startswith("Usage: klopt [OPTIONS] COMMAND [ARGS]...\n")
    assert "klopt: does the organisation keep the promises it makes?" in out
    assert "Database URL (KLOPT_DB); default: a SQLite file." in out
    assert "Show this message and exit." in out
    assert "docs          Source documents: mission, vision, brochure, portfolio." in out
    assert "\nOptions:\n" in out and "\nCommands:\n" in out


def test_lang_before_the_command_makes_help_dutch() -> None:
    out = _help("--lang", "nl", "--help")
    assert out.startswith("Gebruik: klopt [OPTIES] COMMANDO [ARGUMENTEN]...\n")
    assert "klopt: komt de organisatie de beloften na die ze doet?" in out
    assert "Database-URL (KLOPT_DB); standaard: een SQLite-bestand." in out
    assert "Toon deze hulp en stop." in out
    assert "docs          Brondocumenten: missie, visie, brochure, portfolio." in out
    assert "\nOpties:\n" in out and "\nCommando's:\n" in out
    assert "Usage" not in out and "Show this message" not in out
    sub = _help("--lang", "nl", "promises", "--help")
    assert "approve  Markeer beloften als goedgekeurd (vastgelegd in het auditspoor)." in sub


def test_klopt_lang_makes_a_command_help_dutch() -> None:
    out = _help("docs", "add", "--help", lang="nl")
    assert out.startswith("Gebruik: klopt docs add [OPTIES] PATHS...\n")
    assert "Lees documenten in en sla ze op;" in out
    assert "--lang [en|nl]  Taal van de uitvoer (KLOPT_LANG)." in out
    out = _help("mentions", "import", "--help", lang="nl")
    assert "Stop bij de eerste foute rij en importeer niets." in out
    assert "[standaard: import]" in out


def test_the_command_line_beats_klopt_lang_and_may_come_after_the_command() -> None:
    assert "Show this message and exit." in _help("--lang", "en", "--help", lang="nl")
    assert "Toon deze hulp en stop." in _help("docs", "add", "--help", "--lang", "nl")
    assert "Toon deze hulp en stop." in _help("docs", "add", "--lang=nl", "--help")


def test_a_language_klopt_does_not_speak_gives_english_help() -> None:
    assert "Show this message and exit." in _help("--help", lang="de")


@pytest.mark.parametrize("lang", LANGUAGES)
def test_every_command_and_option_has_a_help_text(lang: str) -> None:
    missing = []
    for command, ctx in _commands():
        keys = [command.help_key] + [
            option_help_key(command.help_key, o) for o in _options(command, ctx)
        ]
        missing += [key for key in keys if key not in messages(lang)]
    assert missing == []


def test_every_help_text_belongs_to_a_command_or_option() -> None:
    used = {key for key in messages("en") if key.startswith("help.format.")}
    for command, ctx in _commands():
        used.add(command.help_key)
        used |= {option_help_key(command.help_key, o) for o in _options(command, ctx)}
    assert sorted(k for k in messages("en") if k.startswith("help.") and k not in used) == []


def _usage_error(*args: str, lang: str | None = None) -> str:
    """What ``klopt ARGS`` prints when click refuses the command line (exit code 2)."""
    result = CliRunner().invoke(cli, list(args), prog_name="klopt", env={"KLOPT_LANG": lang})
    assert result.exit_code == 2, result.output
    return result.output


@pytest.mark.parametrize(
    ("args", "command", "dutch"),
    [
        (["check", "--nope"], "check", "Fout: Optie '--nope' bestaat niet."),
        (["drafts", "show"], "drafts show", "Fout: Ontbrekend argument 'DRAFT'."),
        (["drafts", "lst"], "drafts", "Fout: Commando 'lst' bestaat niet. Bedoelde u 'list'?"),
        (["check", "--format", "xml", "x"], "check", "is niet een van 'text', 'json', 'sarif'."),
        (["check", "x", "y"], "check", "Fout: Onverwacht extra argument (y)"),
        (["docs", "add", "/x/plan.pdf"], "docs add", "Bestand '/x/plan.pdf' bestaat niet."),
        (["check", "--format"], None, "Fout: Optie '--format' heeft een waarde nodig."),
    ],
)
def test_clicks_own_usage_errors_speak_dutch_too(
    args: list[str], command: str | None, dutch: str
) -> None:
    for output in (_usage_error("--lang", "nl", *args), _usage_error(*args, lang="nl")):
        assert dutch in output
        if command is not None:  # click shows no usage for an option's missing value
            assert f"Gebruik: klopt {command} " in output
            assert f"Probeer 'klopt {command} --help' voor hulp." in output
        assert "Error" not in output and "Try '" not in output
    english = _usage_error(*args)
    assert "Error: " in english and "Fout" not in english


def test_every_click_text_klopt_translates_is_one_click_uses() -> None:
    """The English of each ``click.*`` key is click's exact text: after an upgrade of click
    that reworded one, this fails instead of the text silently staying English."""
    from pathlib import Path

    source = "".join(p.read_text("utf-8") for p in Path(click.__file__).parent.glob("*.py"))
    texts = {k: v for k, v in messages("en").items() if k.startswith("click.")}
    assert len(texts) > 30
    unused = [k for k, v in texts.items() if f'"{v}"' not in source]
    assert unused == []
