"""Fixtures for the web app: a store like the demo's, team members, signed-in clients.

``web_store`` holds the demo organisation "Voorbeeld BV" (its register, 225 mentions and
14 own posts, judged with the fast hashing embedder) with four members, one per role,
and a second organisation "Ander BV" with its own admin, for cross-organisation tests.
The SQLite version is built once per run and copied for each test.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web_helpers import api_client, build_demo_store, sign_in

from helpers import PG_URL, STORE_BACKENDS, database_url
from klopt.store import Store, open_store


@pytest.fixture(scope="session")
def _demo_sqlite(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("web-demo")
    store = build_demo_store(f"sqlite:///{folder / 'klopt.db'}")
    store.close()
    return folder / "klopt.db"


@pytest.fixture(params=STORE_BACKENDS)
def web_store(
    request: pytest.FixtureRequest, tmp_path: Path, _demo_sqlite: Path
) -> Iterator[Store]:
    """The demo store (see the module docstring), on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "klopt.db"
        shutil.copy(_demo_sqlite, path)
        store = open_store(f"sqlite:///{path}")
    else:
        store = open_store(_postgres_copy(tmp_path))
    yield store
    store.close()


_TEMPLATE_BUILT: list[str] = []


def _postgres_copy(tmp_path: Path) -> str:
    """A fresh PostgreSQL database holding the demo store: built once per run as a template
    database, then copied for each test (``CREATE DATABASE ... TEMPLATE``, a file copy).
    Where the test user may not create databases, the store is built in the test database.
    """
    from sqlalchemy import create_engine, text
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import DBAPIError

    base = make_url(PG_URL)
    template, copy = f"{base.database}_webdemo", f"{base.database}_web"
    server = create_engine(base.set(database="postgres"), isolation_level="AUTOCOMMIT")
    try:
        with server.connect() as connection:
            if not _TEMPLATE_BUILT:
                connection.execute(text(f'DROP DATABASE IF EXISTS "{template}" WITH (FORCE)'))
                connection.execute(text(f'CREATE DATABASE "{template}"'))
                url = base.set(database=template).render_as_string(hide_password=False)
                build_demo_store(url).close()
                _TEMPLATE_BUILT.append(url)
            connection.execute(text(f'DROP DATABASE IF EXISTS "{copy}" WITH (FORCE)'))
            connection.execute(text(f'CREATE DATABASE "{copy}" TEMPLATE "{template}"'))
    except DBAPIError:
        return build_demo_store(database_url("postgresql", tmp_path)).url
    finally:
        server.dispose()
    return base.set(database=copy).render_as_string(hide_password=False)


@pytest.fixture
def sqlite_web_store(tmp_path: Path, _demo_sqlite: Path) -> Iterator[Store]:
    """The demo store on SQLite only (for tests whose subject is not the backend)."""
    path = tmp_path / "klopt.db"
    shutil.copy(_demo_sqlite, path)
    store = open_store(f"sqlite:///{path}")
    yield store
    store.close()


@pytest.fixture
def app(web_store: Store) -> Any:
    """The web app over ``web_store``, without the background schedule."""
    from klopt.web.app import create_app

    return create_app(web_store)


@pytest.fixture
def browser(app: Any) -> Any:
    """``browser("bob")``: a client signed in as bob."""
    return lambda name, **kw: sign_in(app, name, **kw)


@pytest.fixture
def api(app: Any, web_store: Store) -> Any:
    """``api("bob")``: a client with a bearer token of bob."""
    return lambda name, **kw: api_client(app, web_store, name, **kw)


@pytest.fixture
def sqlite_app(sqlite_web_store: Store) -> Any:
    """The web app over the SQLite demo store (browser tests: the backend is not their
    subject)."""
    from klopt.web.app import create_app

    return create_app(sqlite_web_store)
