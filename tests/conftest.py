"""Shared fixtures: a real store (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path

import pytest

from helpers import Klopt
from klopt.store import Store, open_store

PG_URL = os.environ.get("KLOPT_TEST_DATABASE_URL", "")

STORE_BACKENDS = [
    "sqlite",
    pytest.param(
        "postgresql",
        marks=[
            pytest.mark.postgres,
            pytest.mark.skipif(not PG_URL, reason="KLOPT_TEST_DATABASE_URL is not set"),
        ],
    ),
]


def _fresh_postgres(url: str) -> None:
    from sqlalchemy import create_engine, text

    engine = create_engine(url.replace("postgresql://", "postgresql+psycopg://", 1))
    with engine.begin() as connection:
        connection.execute(text("DROP SCHEMA public CASCADE"))
        connection.execute(text("CREATE SCHEMA public"))
    engine.dispose()


def database_url(backend: str, tmp_path: Path) -> str:
    """A URL of an empty database of the given backend."""
    if backend == "postgresql":
        _fresh_postgres(PG_URL)
        return PG_URL
    return f"sqlite:///{tmp_path / 'klopt.db'}"


@pytest.fixture(params=STORE_BACKENDS)
def db_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """The URL of an empty database, once per backend."""
    return database_url(request.param, tmp_path)


@pytest.fixture
def store(db_url: str) -> Iterator[Store]:
    """A migrated, empty store with one organisation, 'Voorbeeld BV'."""
    from klopt.accounts.organizations import create_organization

    opened = open_store(db_url)
    create_organization(opened, "Voorbeeld BV", language="nl", actor="tester")
    yield opened
    opened.close()


@pytest.fixture(scope="session")
def vector_cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One cold vector cache for the whole run, so the first-start path is tested too."""
    return tmp_path_factory.mktemp("vector-cache")


@pytest.fixture(autouse=True)
def _isolated_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, vector_cache: Path) -> None:
    """No test touches the user's real klopt data, cache or settings."""
    monkeypatch.setenv("KLOPT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("KLOPT_CACHE_DIR", str(vector_cache))
    for name in ("KLOPT_DB", "KLOPT_ORG", "KLOPT_LANG", "KLOPT_EMBEDDER"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("KLOPT_USER", "tester")


REGISTER_YAML = """\
organization: Voorbeeld BV
language: nl
promises:
  - id: P1
    text: "Wij leveren binnen 24 uur."
    paraphrases: ["We deliver within 24 hours"]
  - id: P2
    text: "Gratis retourneren binnen 30 dagen."
  - id: P3
    text: "Onze klantenservice reageert binnen 2 uur."
"""


@pytest.fixture
def register_file(tmp_path: Path) -> Path:
    """A small promise register in the eval format."""
    path = tmp_path / "promises.yaml"
    path.write_text(REGISTER_YAML, encoding="utf-8")
    return path


@pytest.fixture
def klopt(tmp_path: Path) -> Klopt:
    return Klopt(tmp_path)
