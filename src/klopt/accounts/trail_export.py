"""The audit trail as CSV or JSON (``klopt audit --format csv|json`` and the admin page).

A CSV file is opened in a spreadsheet, which runs a cell that starts with ``=``, ``+``,
``-`` or ``@`` as a formula: a name or detail someone typed could then fetch or change
data on the reader's machine. Such a cell is written with a leading apostrophe, which
spreadsheets show as text (OWASP, "CSV injection"). JSON is written as it is.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Sequence
from typing import Any, TextIO

from klopt.accounts.trail import AuditEntry

__all__ = ["TRAIL_FORMATS", "CSV_HEADER", "safe_cell", "write_trail"]

TRAIL_FORMATS = ("csv", "json")
CSV_HEADER = ("at", "actor", "action", "subject_type", "subject", "details")
#: What makes a spreadsheet read a cell as a formula (tab and carriage return too:
#: some spreadsheets skip them and read what follows).
_FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def safe_cell(value: str) -> str:
    """``value`` as a spreadsheet shows it as text: a leading apostrophe when it would be
    read as a formula."""
    return "'" + value if value.startswith(_FORMULA_START) else value


def write_trail(entries: Sequence[AuditEntry], format: str, stream: TextIO) -> None:
    """Write ``entries`` to ``stream`` as ``csv`` or ``json`` (one array of objects)."""
    rows: list[dict[str, Any]] = [e.as_dict() for e in entries]
    if format == "json":
        stream.write(json.dumps(rows, indent=2, ensure_ascii=False, default=str) + "\n")
        return
    writer = csv.writer(stream)
    writer.writerow(CSV_HEADER)
    for row in rows:
        details = json.dumps(row["details"], ensure_ascii=False, default=str, sort_keys=True)
        cells = [row["at"], row["actor"], row["action"], row["subject_type"], row["subject"]]
        writer.writerow([safe_cell(str(cell)) for cell in [*cells, details]])
