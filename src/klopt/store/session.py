"""Opening the store: engine, migrations on start, sessions."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import ArgumentError, OperationalError, SQLAlchemyError
from sqlalchemy.orm import Session, sessionmaker

from klopt.errors import DatabaseUnavailable, StoreError

__all__ = ["Store", "open_store"]


class Store:
    """A migrated database and a way to open sessions on it."""

    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on any error."""
        with self._sessions.begin() as session:
            yield session

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    cursor.execute("PRAGMA foreign_keys=ON")
    cursor.execute("PRAGMA journal_mode=WAL")
    cursor.execute("PRAGMA busy_timeout=10000")
    cursor.close()


def _sqlite_manual(dbapi_connection: Any, _record: Any) -> None:
    # The sqlite3 module begins a transaction only before INSERT, UPDATE and DELETE, not
    # before DDL: a migration that failed half-way stayed half-done. The migration
    # engine begins its transactions itself (see _sqlite_begin).
    _sqlite_pragmas(dbapi_connection, _record)
    dbapi_connection.isolation_level = None


def _sqlite_begin(connection: Any) -> None:
    """Every transaction of the migration engine, DDL included, starts with BEGIN."""
    connection.exec_driver_sql("BEGIN")


def _make_engine(url: str, *, transactional_ddl: bool = False) -> Engine:
    """The engine for ``url``; with ``transactional_ddl``, SQLite runs DDL in the
    transaction too (for migrations only: everyday sessions keep the sqlite3 module's
    own transactions, which begin at the first write and so never conflict with a
    write another process made while this one was reading)."""
    try:
        parsed = make_url(url)
    except ArgumentError as exc:
        raise DatabaseUnavailable.keyed("store.bad_url", url=url) from exc
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:":
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(parsed)
        if transactional_ddl:
            event.listen(engine, "connect", _sqlite_manual)
            event.listen(engine, "begin", _sqlite_begin)
        else:
            event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    if parsed.get_backend_name() == "postgresql" and parsed.drivername == "postgresql":
        parsed = parsed.set(drivername="postgresql+psycopg")
    try:
        return create_engine(parsed, pool_pre_ping=True, connect_args=_connect_args(parsed))
    except ModuleNotFoundError as exc:
        raise DatabaseUnavailable.keyed(
            "store.no_driver", backend=parsed.get_backend_name(), module=exc.name
        ) from exc


def _connect_args(url: Any) -> dict[str, Any]:
    if url.get_backend_name() == "postgresql":
        return {"connect_timeout": 5}
    return {}


def open_store(url: str, *, migrate: bool = True) -> Store:
    """Open the database at ``url``, bringing its schema up to date first.

    Raises:
        DatabaseUnavailable: the URL is malformed or the database does not answer.
        StoreError: the schema could not be brought up to date; the database is left at
            the revision it had (every migration runs in one transaction).
    """
    engine = _make_engine(url)
    safe = engine.url.render_as_string(hide_password=True)
    try:
        with engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except OperationalError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        raise DatabaseUnavailable.keyed("store.no_answer", url=safe, detail=reason) from exc
    if migrate:
        from klopt.store.migrate import upgrade

        try:
            upgrade(engine)
        except SQLAlchemyError as exc:
            engine.dispose()
            reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
            raise StoreError.keyed("store.migration_failed", url=safe, detail=reason) from exc
    return Store(engine)
