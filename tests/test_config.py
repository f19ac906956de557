"""Settings: one table, documented, read from options, environment and defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from klopt.cli.reference import settings_page
from klopt.config import default_database_url, get_setting

DOCS = Path(__file__).resolve().parents[1] / "docs" / "settings.md"


def test_the_settings_reference_is_up_to_date() -> None:
    assert DOCS.read_text(encoding="utf-8") == settings_page(), (
        "Run: python -m klopt.cli.reference > docs/settings.md"
    )


def test_option_beats_environment_beats_default(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("KLOPT_LANG", raising=False)
    assert get_setting("lang") == "en"
    monkeypatch.setenv("KLOPT_LANG", "nl")
    assert get_setting("lang") == "nl"
    assert get_setting("lang", "en") == "en"


def test_the_default_database_is_a_sqlite_file_in_the_data_directory(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("KLOPT_HOME", str(tmp_path))
    assert default_database_url() == f"sqlite:///{tmp_path / 'klopt.db'}"
    monkeypatch.setenv("KLOPT_DB", "postgresql://db/klopt")
    assert default_database_url() == "postgresql://db/klopt"
