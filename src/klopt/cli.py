"""The command line: parse, call one library function, print. Nothing else lives here.

Heavy modules (SQLAlchemy, the models, rich) are imported inside the commands, so
``klopt --help`` starts fast.
"""

from __future__ import annotations

import sys
from typing import Any

import click

from klopt.errors import KloptError
from klopt.i18n import LANGUAGES, check_language, t

__all__ = ["main", "cli"]


class Context:
    """What every command needs: settings from the group options, and the store."""

    def __init__(self, db: str | None, org: str | None, lang: str | None, user: str | None):
        from klopt.config import get_setting

        self.db = db
        self.org = org or get_setting("org") or None
        self.lang = check_language(get_setting("lang", lang))
        self.user = user
        self._store: Any = None

    @property
    def store(self) -> Any:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            from klopt.config import default_database_url
            from klopt.store import open_store

            self._store = open_store(self.db or default_database_url())
        return self._store

    @property
    def actor(self) -> str:
        """Who the audit trail records."""
        from klopt.config import current_user, get_setting

        return get_setting("user", self.user) or current_user()

    def t(self, key: str, **values: Any) -> str:
        """A message in the user's language."""
        return t(key, self.lang, **values)


class KloptGroup(click.Group):
    """A group that shows klopt's own errors as one sentence, without a traceback."""

    def invoke(self, ctx: click.Context) -> Any:
        try:
            return super().invoke(ctx)
        except KloptError as exc:
            lang = _lang(ctx)
            _fail(error_line(exc, lang), exc.exit_code)
        except KeyboardInterrupt:
            lang = _lang(ctx)
            _fail(t("cli.error", lang, message=t("interrupted", lang)), 130)


def _lang(ctx: click.Context) -> str:
    """The user's language; before the settings are read (or when they are wrong), the
    ``--lang`` option or ``KLOPT_LANG`` if klopt speaks it, else English."""
    obj = ctx.obj
    if isinstance(obj, Context):
        return obj.lang
    from klopt.config import get_setting

    lang = get_setting("lang", ctx.params.get("lang"))
    return lang if lang in LANGUAGES else "en"


def error_line(exc: KloptError, lang: str) -> str:
    """The line the CLI shows for ``exc``: ``error: ...`` or ``fout: ...``."""
    return t("cli.error", lang, message=exc.localized(lang))


def _fail(message: str, code: int) -> None:
    click.secho(message, fg="red", err=True)
    sys.exit(code)


pass_ctx = click.make_pass_decorator(Context)


@click.group(cls=KloptGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL", help="Database URL (KLOPT_DB); default: a SQLite file.")
@click.option("--org", metavar="NAME", help="Organisation to work on (KLOPT_ORG).")
@click.option("--lang", type=click.Choice(["en", "nl"]), help="Language of output (KLOPT_LANG).")
@click.option("--user", metavar="NAME", help="Name for the audit trail (KLOPT_USER).")
@click.version_option(package_name="klopt")
@click.pass_context
def cli(
    ctx: click.Context, db: str | None, org: str | None, lang: str | None, user: str | None
) -> None:
    """klopt: does the organisation keep the promises it makes? Per promise, the say-do gap."""
    ctx.obj = Context(db, org, lang, user)


def main() -> None:
    """Entry point of the ``klopt`` command."""
    cli.main(prog_name="klopt")


# Commands live in klopt.commands.* and register themselves on `cli`.
from klopt.commands import analysis, register, setup  # noqa: E402, F401


def _set_lang(ctx: click.Context, _: click.Parameter, value: str | None) -> None:
    if value:
        ctx.find_object(Context).lang = value  # type: ignore[union-attr]


def _leaves(group: click.Group) -> list[click.Command]:
    found: list[click.Command] = []
    for command in group.commands.values():
        found += _leaves(command) if isinstance(command, click.Group) else [command]
    return found


# `--lang` works after the command too (`klopt scorecard --lang nl`), as users type it.
for _command in _leaves(cli):
    _command.params.append(
        click.Option(
            ["--lang"],
            type=click.Choice(["en", "nl"]),
            expose_value=False,
            callback=_set_lang,
            help="Language of output (KLOPT_LANG).",
        )
    )
