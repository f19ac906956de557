"""The command line: parse, call one library function, print. Nothing else lives here.

Heavy modules (SQLAlchemy, the models, rich) are imported inside the commands, so
``klopt --help`` starts fast.

Help texts come from the locale files, like every other text (keys ``help.*``, explained
in ``locale/en.yaml``); :class:`KloptCommand` and :class:`KloptGroup` look them up when
help is shown. The docstrings and ``help=`` in the code are for developers only: a
command or option without a key shows them, and ``tests/test_help.py`` fails.
"""

from __future__ import annotations

import signal
import sys
from collections.abc import Sequence
from typing import Any

import click

from klopt.cli import click_texts
from klopt.cli.stopping import stop_on_signals
from klopt.config import check_language
from klopt.errors import KloptError, NotAuthenticated
from klopt.i18n import LANGUAGES, messages, t

__all__ = ["main", "cli", "help_language", "option_help_key"]


#: Commands that only read the store: they run on a database this user cannot write to.
#: Every other command is refused there up front, before it does any work.
READING_COMMANDS = frozenset(
    {
        "alerts list", "audit", "check", "docs diff", "docs list", "drafts diff",
        "drafts history", "drafts list", "drafts show", "eval", "mentions list",
        "mentions presets", "orgs", "promises export", "promises list", "promises show",
        "report", "review-queue", "rules list", "scorecard", "sources list", "tokens list",
        "users list",
    }
)  # fmt: skip


class Context:
    """What every command needs: settings from the group options, and the store."""

    def __init__(
        self,
        db: str | None,
        org: str | None,
        lang: str | None,
        user: str | None,
        password_stdin: bool = False,
    ):
        from klopt.config import get_setting

        self.db = db
        self.org = org or get_setting("org") or None
        self.lang = check_language(get_setting("lang", lang))
        self.user = user
        self.password_stdin = password_stdin
        self._store: Any = None
        self._actor: str | None = None

    @property
    def store(self) -> Any:
        """The store, opened (and migrated) on first use."""
        if self._store is None:
            from klopt.config import default_database_url
            from klopt.store import open_store

            self._store = open_store(self.db or default_database_url())
            command = click.get_current_context(silent=True)
            path = getattr(command.command, "path", None) if command else None
            if path is not None and " ".join(path) not in READING_COMMANDS:
                self._store.require_writable()
        return self._store

    @property
    def actor(self) -> str:
        """Who acts: :meth:`authenticate`."""
        return self.authenticate()

    def authenticate(self) -> str:
        """Who acts, proven where that user has a password or token (asked for once).

        ``KLOPT_TOKEN`` names and proves the user; else ``--user`` / ``KLOPT_USER`` / the
        login name, with the password from ``--password-stdin`` or asked for in a
        terminal when the user has one. See docs/security.md.
        """
        if self._actor is None:
            from klopt.accounts.users import authenticate
            from klopt.config import get_setting

            token = get_setting("token") or None
            name = get_setting("user", self.user) or None
            if token is None and name is None:
                from klopt.config import current_user

                name = current_user()
            try:
                self._actor = authenticate(self.store, name, token=token)
            except NotAuthenticated as exc:
                if exc.key != "users.password_needed":
                    raise
                password = self._password(name or "", exc)
                self._actor = authenticate(self.store, name, password=password)
        return self._actor

    def _password(self, name: str, needed: KloptError) -> str:
        """The password of the user who acts: from standard input, or asked for."""
        if self.password_stdin:
            return sys.stdin.readline().rstrip("\r\n")
        if not sys.stdin.isatty():
            raise needed
        prompt = self.t("users.password_prompt", name=name)
        return str(click.prompt(prompt, hide_input=True, err=True))

    def t(self, key: str, **values: Any) -> str:
        """A message in the user's language."""
        return t(key, self.lang, **values)


_HELP_LANG = "klopt.help_lang"  # ctx.meta: a --lang seen on the command line


def help_language(ctx: click.Context | None) -> str:
    """The language of help texts: ``--lang`` on the command line, else the ``lang``
    setting (``KLOPT_LANG``), else English.

    ``--help`` is handled before ``--lang`` is, so the command line is read ahead for it
    (see :meth:`KloptCommand.parse_args`).
    """
    lang = ctx.meta.get(_HELP_LANG) if ctx is not None else None
    if not lang:
        from klopt.config import get_setting

        lang = get_setting("lang")
    return lang if lang in LANGUAGES else "en"


def _lang_in(args: Sequence[str]) -> str | None:
    """The last ``--lang X`` / ``--lang=X`` in ``args`` that klopt speaks, if any."""
    found = None
    for i, arg in enumerate(args):
        if arg == "--":
            break
        if arg == "--lang" and i + 1 < len(args):
            value = args[i + 1]
        elif arg.startswith("--lang="):
            value = arg.partition("=")[2]
        else:
            continue
        if value in LANGUAGES:
            found = value
    return found


def _option_name(param: click.Parameter) -> str:
    """``--text-column`` -> ``text_column``: the option's part of its help key."""
    long = [o for o in (*param.opts, *param.secondary_opts) if o.startswith("--")]
    return (long[0][2:] if long else (param.name or "")).replace("-", "_")


def _option_help_keys(command_key: str, param: click.Parameter) -> tuple[str, str]:
    """Where an option's help may be: ``<command key>.option.<name>``, else the shared
    ``help.option.<name>`` (``--lang``, ``--json`` ...)."""
    name = _option_name(param)
    return f"{command_key}.option.{name}", f"help.option.{name}"


def option_help_key(command_key: str, param: click.Parameter) -> str:
    """The key that holds an option's help (the command's own one if neither exists)."""
    own, shared = _option_help_keys(command_key, param)
    return shared if own not in messages("en") and shared in messages("en") else own


def _help(keys: Sequence[str], lang: str, fallback: str | None) -> str:
    """The first of the help texts ``keys`` that exists, in ``lang``; else ``fallback``
    (the English in the code, which a test keeps from being shown)."""
    # The user's language first, so that Dutch help does not read en.yaml as well.
    found = [k for k in keys if k in messages(lang)] if lang in LANGUAGES else []
    found = found or [k for k in keys if k in messages("en")]
    return t(found[0], lang) if found else (fallback or "")


class KloptCommand(click.Command):
    """A command whose help (text, options, usage line) is in the user's language."""

    #: The command's names below ``klopt``, set by :func:`_name_commands` (``()``: klopt).
    path: tuple[str, ...] | None = None

    @property
    def help_key(self) -> str:
        """``help.docs.add`` for ``klopt docs add``; ``help.klopt`` for klopt itself."""
        path = self.path if self.path is not None else (self.name or "",)
        return "help." + (".".join(path) or "klopt")

    def parse_args(self, ctx: click.Context, args: list[str]) -> list[str]:
        lang = _lang_in(args)
        if lang:
            ctx.meta[_HELP_LANG] = lang
        click_texts.set_language(help_language(ctx))  # "No such option", "Try ... for help"
        return super().parse_args(ctx, args)

    def help_text(self, lang: str) -> str:
        """The command's help text in ``lang``."""
        return _help([self.help_key], lang, self.help)

    def short_help_in(self, lang: str, limit: int = 45) -> str:
        """The short help (the help text cut to ``limit``, as click does) in ``lang``."""
        return click.Command(None, help=self.help_text(lang)).get_short_help_str(limit)

    def get_short_help_str(self, limit: int = 45) -> str:
        return self.short_help_in(help_language(click.get_current_context(silent=True)), limit)

    def format_usage(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = help_language(ctx)
        pieces = [t("help.format.options_metavar", lang)] if self.options_metavar else []
        for param in self.get_params(ctx):
            pieces.extend(param.get_usage_pieces(ctx))
        if isinstance(self, click.Group):
            pieces.append(t("help.format.command_metavar", lang))
        prefix = t("help.format.usage", lang) + " "
        formatter.write_usage(ctx.command_path, " ".join(pieces), prefix=prefix)

    def format_help_text(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        text = self.help_text(help_language(ctx))
        if text:
            formatter.write_paragraph()
            with formatter.indentation():
                formatter.write_text(text)

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = help_language(ctx)
        rows = [
            self._option_row(ctx, param, lang)
            for param in self.get_params(ctx)
            if isinstance(param, click.Option) and not param.hidden
        ]
        if rows:
            with formatter.section(t("help.format.options", lang)):
                formatter.write_dl(rows)

    def _option_row(self, ctx: click.Context, option: click.Option, lang: str) -> tuple[str, str]:
        """An option's help row, as click makes it, with the texts in ``lang``."""
        text = _help(_option_help_keys(self.help_key, option), lang, option.help)
        extra = option.get_help_extra(ctx)
        items = []
        if "envvars" in extra:
            items.append(t("help.format.envvar", lang, var=", ".join(extra["envvars"])))
        if "default" in extra:
            items.append(t("help.format.default", lang, default=extra["default"]))
        if "range" in extra:
            items.append(extra["range"])
        if "required" in extra:
            items.append(t("help.format.required", lang))
        if items:
            text = f"{text}  [{'; '.join(items)}]" if text else f"[{'; '.join(items)}]"
        return option.get_help_spec(ctx), text


class KloptGroup(KloptCommand, click.Group):
    """A group that speaks the user's language in its help, makes its subcommands the
    same way, and shows klopt's own errors as one sentence, without a traceback."""

    command_class = KloptCommand
    group_class = type

    def format_options(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        super().format_options(ctx, formatter)
        self.format_commands(ctx, formatter)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        lang = help_language(ctx)
        commands = [
            (name, command)
            for name in self.list_commands(ctx)
            if (command := self.get_command(ctx, name)) is not None and not command.hidden
        ]
        if not commands:
            return
        limit = formatter.width - 6 - max(len(name) for name, _ in commands)
        rows = [
            (
                name,
                command.short_help_in(lang, limit)
                if isinstance(command, KloptCommand)
                else command.get_short_help_str(limit),
            )
            for name, command in commands
        ]
        with formatter.section(t("help.format.commands", lang)):
            formatter.write_dl(rows)

    def invoke(self, ctx: click.Context) -> Any:
        try:
            with stop_on_signals((signal.SIGINT,)):  # Ctrl+C ends in "interrupted", exit 130
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
click_texts.install()


@click.group(cls=KloptGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.option("--db", metavar="URL")
@click.option("--org", metavar="NAME")
@click.option("--lang", type=click.Choice(["en", "nl"]))
@click.option("--user", metavar="NAME")
@click.option("--password-stdin", is_flag=True)
@click.version_option(package_name="klopt")
@click.pass_context
def cli(
    ctx: click.Context,
    db: str | None,
    org: str | None,
    lang: str | None,
    user: str | None,
    password_stdin: bool,
) -> None:
    """klopt: does the organisation keep the promises it makes? Per promise, the say-do gap."""
    ctx.obj = Context(db, org, lang, user, password_stdin)


def main() -> None:
    """Entry point of the ``klopt`` command."""
    cli.main(prog_name="klopt")


# Commands live in klopt.cli.* and register themselves on `cli`.
from klopt.cli import (  # noqa: E402, F401
    alerts,
    analysis,
    check,
    drafts,
    mentions,
    publishing,
    register,
    report,
    review,
    rules,
    serve,
    setup,
    sources,
    tokens,
    users,
    worker,
)


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
        )
    )


def _name_commands(group: click.Group) -> None:
    """Give every command its path below ``klopt``, which names its help keys."""
    for name, command in group.commands.items():
        if isinstance(command, KloptCommand):
            command.path = (*(getattr(group, "path", None) or ()), name)
        if isinstance(command, click.Group):
            _name_commands(command)


cli.path = ()
_name_commands(cli)
