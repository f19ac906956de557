"""Opening the store: engine, migrations on start, sessions."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import (
    ArgumentError,
    DatabaseError,
    DataError,
    OperationalError,
    SQLAlchemyError,
    StatementError,
)
from sqlalchemy.orm import Session, sessionmaker

from klopt.errors import (
    DatabaseUnavailable,
    InputError,
    KloptError,
    ReadOnlyStore,
    StoreError,
)

__all__ = ["Store", "insert_new", "open_store"]


def insert_new(session: Session, model: type[Any]) -> Any:
    """An INSERT of ``model`` rows that skips a row whose unique key is taken (PostgreSQL
    and SQLite both say ``ON CONFLICT DO NOTHING``): for rows two processes may write."""
    from sqlalchemy.dialects import postgresql, sqlite

    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    return insert(model).on_conflict_do_nothing()


class Store:
    """A migrated database and a way to open sessions on it."""

    def __init__(self, engine: Engine, *, read_only: str | None = None) -> None:
        self.engine = engine
        #: Why this process cannot write to the database (``None``: it can).
        self.read_only = read_only
        self._sessions = sessionmaker(engine, expire_on_commit=False)

    @property
    def url(self) -> str:
        """The database URL without its password."""
        return self.engine.url.render_as_string(hide_password=True)

    @contextmanager
    def session(self) -> Iterator[Session]:
        """A session that commits when the block ends and rolls back on any error.

        What the database refuses becomes one of klopt's errors: a klopt error raised
        while binding a value (:class:`ValueTooLong`) as it is, a write to a read-only
        database as :class:`ReadOnlyStore`, a value the database cannot hold as an
        :class:`InputError`. Nothing of the block is stored then.
        """
        try:
            with self._sessions.begin() as session:
                yield session
        except StatementError as exc:
            raise self._translated(exc) from exc

    def require_writable(self) -> None:
        """Say up front, before any work, that this process cannot write here."""
        if self.read_only:
            raise ReadOnlyStore.keyed("store.read_only", url=self.url, reason=self.read_only)

    def _translated(self, exc: StatementError) -> KloptError | StatementError:
        if isinstance(exc.orig, KloptError):
            return exc.orig
        detail = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if isinstance(exc, DatabaseError) and _is_read_only(detail):
            return ReadOnlyStore.keyed("store.read_only", url=self.url, reason=detail)
        if isinstance(exc, DataError):
            return InputError.keyed("store.bad_value", detail=detail)
        return exc

    def close(self) -> None:
        """Release every connection."""
        self.engine.dispose()


def _is_read_only(detail: str) -> bool:
    """Whether the database's own error says it is read-only."""
    lowered = detail.lower()
    return "readonly database" in lowered or "read-only transaction" in lowered


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
    if parsed.get_backend_name() not in BACKENDS:
        raise DatabaseUnavailable.keyed(
            "store.unsupported_backend", backend=parsed.get_backend_name(), url=url
        )
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database or ""
        if database and database != ":memory:" and not database.startswith("file:"):
            _check_sqlite_file(Path(database).expanduser(), parsed)
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


#: The databases klopt stores in (and tests against).
BACKENDS = ("sqlite", "postgresql")

_SQLITE_HEADER = b"SQLite format 3\x00"


def _check_sqlite_file(path: Path, url: Any) -> None:
    """Refuse a file that is not a SQLite database before SQLite opens (and so touches) it."""
    if not path.is_file() or path.stat().st_size == 0:
        return
    with path.open("rb") as handle:
        start = handle.read(len(_SQLITE_HEADER))
    if start != _SQLITE_HEADER:
        safe = url.render_as_string(hide_password=True)
        raise DatabaseUnavailable.keyed("store.not_sqlite", url=safe, path=path)


def _read_only(engine: Engine) -> str | None:
    """Why this process cannot write to the database, or ``None`` when it can.

    SQLite: a URL that opens it read-only, or a file (or folder, where SQLite keeps its
    write-ahead log) that the operating system does not let this user write. PostgreSQL:
    a read-only server or session, or a user without the right to add posts.
    """
    url = engine.url
    if url.get_backend_name() == "sqlite":
        if url.query.get("mode") == "ro" or url.query.get("immutable") == "1":
            return "mode=ro"
        database = url.database or ""
        if not database or database == ":memory:" or database.startswith("file:"):
            return None
        path = Path(database).expanduser()
        for place in (path, path.parent):
            if place.exists() and not os.access(place, os.W_OK):
                return f"{place}: no write permission"
        return None
    with engine.connect() as connection:
        if connection.execute(text("SHOW transaction_read_only")).scalar() == "on":
            return "transaction_read_only = on"
        may_add = connection.execute(
            text(
                "SELECT to_regclass('post') IS NULL"
                " OR has_table_privilege(current_user, 'post', 'INSERT')"
            )
        ).scalar()
    return None if may_add else "no INSERT privilege on the tables"


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
        read_only = _read_only(engine)
    except DatabaseError as exc:
        engine.dispose()
        reason = str(exc.orig).strip().splitlines()[0] if exc.orig else str(exc)
        if isinstance(exc, OperationalError):
            raise DatabaseUnavailable.keyed("store.no_answer", url=safe, detail=reason) from exc
        raise DatabaseUnavailable.keyed("store.unreadable", url=safe, detail=reason) from exc
    if migrate:
        _migrate(engine, safe, read_only)
    return Store(engine, read_only=read_only)


def _migrate(engine: Engine, safe: str, read_only: str | None) -> None:
    from klopt.store.migrate import is_current, upgrade

    try:
        if read_only:
            if not is_current(engine):
                raise ReadOnlyStore.keyed("store.read_only_outdated", url=safe, reason=read_only)
            return
        upgrade(engine)
    except SQLAlchemyError as exc:
        engine.dispose()
        reason = str(getattr(exc, "orig", None) or exc).strip().splitlines()[0]
        raise StoreError.keyed("store.migration_failed", url=safe, detail=reason) from exc
