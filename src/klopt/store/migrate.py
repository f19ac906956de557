"""Bring a database to the newest schema with Alembic; klopt runs this on start."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import Engine

__all__ = ["upgrade", "current_revision", "head_revision", "is_current"]

_MIGRATIONS = Path(__file__).with_name("migrations")


def _config(url: str) -> object:
    from alembic.config import Config

    cfg = Config()
    cfg.set_main_option("script_location", str(_MIGRATIONS))
    cfg.set_main_option("sqlalchemy.url", url.replace("%", "%%"))
    return cfg


def upgrade(engine: Engine) -> None:
    """Apply every migration the database has not seen yet."""
    from alembic import command

    from klopt.store.session import _make_engine

    url = engine.url.render_as_string(hide_password=False)
    cfg = _config(url)
    # SQLite: an engine of its own whose transactions hold the DDL as well, so that a
    # migration that fails half-way leaves the database as it was.
    migrating = (
        _make_engine(url, transactional_ddl=True) if engine.dialect.name == "sqlite" else engine
    )
    try:
        with migrating.begin() as connection:
            cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
            command.upgrade(cfg, "head")  # type: ignore[arg-type]
    finally:
        if migrating is not engine:
            migrating.dispose()


def current_revision(engine: Engine) -> str | None:
    """The revision the database is at, or None for an empty database."""
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    """The newest revision klopt's migrations know."""
    from alembic.script import ScriptDirectory

    script = ScriptDirectory.from_config(_config("sqlite://"))  # type: ignore[arg-type]
    return script.get_current_head()


def is_current(engine: Engine) -> bool:
    """Whether the database is at the newest revision (nothing to migrate)."""
    return current_revision(engine) == head_revision()
