"""Shared fixtures: a real store (SQLite always, PostgreSQL when configured)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from pytest_httpserver import HTTPServer

from helpers import REGISTER_YAML, STORE_BACKENDS, Klopt, database_url
from klopt.store import Store, open_store
from publishing_fakes import FakeBluesky, FakeMastodon


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


@pytest.fixture
def register_file(tmp_path: Path) -> Path:
    """A small promise register in the eval format."""
    path = tmp_path / "promises.yaml"
    path.write_text(REGISTER_YAML, encoding="utf-8")
    return path


@pytest.fixture
def klopt(tmp_path: Path) -> Klopt:
    return Klopt(tmp_path)


@pytest.fixture
def mastodon(httpserver: HTTPServer) -> FakeMastodon:
    """A local server that answers like Mastodon (``tests/publishing_fakes.py``)."""
    return FakeMastodon(httpserver).install()


@pytest.fixture
def bluesky(httpserver: HTTPServer) -> FakeBluesky:
    """A local server that answers like a Bluesky PDS (``tests/publishing_fakes.py``)."""
    return FakeBluesky(httpserver).install()


@pytest.fixture
def local_ray() -> Iterator[Any]:
    """A Ray started here for the test (two CPUs, as this machine has), shut down after."""
    from helpers import ray

    assert ray is not None
    ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False)
    yield ray
    ray.shutdown()
