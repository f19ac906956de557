"""Helpers for tests: writing input files, running the CLI in-process."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from klopt.cli.app import cli


def write(folder: Path, name: str, content: str | bytes) -> Path:
    """Write ``content`` (text as UTF-8, or bytes as they are) to ``folder/name``."""
    path = folder / name
    if isinstance(content, str):
        path.write_text(content, encoding="utf-8")
    else:
        path.write_bytes(content)
    return path


class Klopt:
    """Runs klopt commands in-process against one database file; checks the exit code."""

    def __init__(self, tmp_path: Path) -> None:
        self.db = f"sqlite:///{tmp_path / 'cli.db'}"
        self.runner = CliRunner()

    def __call__(self, *args: str, code: int = 0, input: str | None = None) -> Result:
        result = self.runner.invoke(
            cli, ["--db", self.db, *args], catch_exceptions=False, input=input
        )
        assert result.exit_code == code, result.output
        return result


PG_URL = os.environ.get("KLOPT_TEST_DATABASE_URL", "")

try:
    import ray
except ImportError:  # pip install 'klopt[cluster]'
    ray = None
#: A test that needs Ray (the ``local_ray`` fixture starts one here).
needs_ray = pytest.mark.skipif(ray is None, reason="Ray is not installed (klopt[cluster])")

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
