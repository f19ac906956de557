"""Helpers for tests: writing input files, running the CLI in-process."""

from __future__ import annotations

from pathlib import Path

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
