"""Printing helpers shared by the commands: tables, JSON, progress bars."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import datetime
from typing import Any

__all__ = ["console", "table", "print_json", "progress_bar", "when"]


def console(stderr: bool = False) -> Any:
    """A rich console (imported lazily: rich is slow to import) that prints text as it is.

    Much of what klopt prints was written by someone else: a customer's mention, a
    sentence of a brochure, a draft, a user's name, a file name. So the console reads no
    markup and no emoji codes in it: ``[/]``, ``[bold]`` or ``:smile:`` are shown as
    typed instead of styling the output or crashing rich. klopt styles its own output
    with :class:`rich.text.Text` and ``style=``, never with markup in a string.
    """
    import sys

    from rich.console import Console

    stream = sys.stderr if stderr else sys.stdout
    # Piped output (a file, a CI log) gets room for a whole table instead of 80 columns.
    width = None if stream.isatty() else 120
    return Console(stderr=stderr, highlight=False, markup=False, emoji=False, width=width)


def table(
    title: str,
    headers: Sequence[str],
    rows: Sequence[Sequence[Any]],
    justify: Sequence[str] | None = None,
    *,
    shorten: int | None = None,
) -> None:
    """Print a table with a title; ``shorten`` cuts the widest (second) column with an ellipsis."""
    from rich.table import Table

    grid = Table(title=title, title_justify="left", header_style="bold")
    for i, header in enumerate(headers):
        cut = shorten is not None and i == 1
        grid.add_column(
            header,
            justify=(justify[i] if justify else "left"),  # type: ignore[arg-type]
            overflow="ellipsis" if cut else "fold",
            no_wrap=cut or (justify is not None and justify[i] == "right"),
            max_width=shorten if cut else None,
        )
    for row in rows:
        grid.add_row(*["" if cell is None else str(cell) for cell in row])
    console().print(grid)


def when(stamp: datetime | None, *, offset: bool = False) -> str:
    """A stored (UTC) time as people read it: in this computer's time zone, to the
    minute, with the zone's offset when ``offset``; empty for no time."""
    if stamp is None:
        return ""
    return stamp.astimezone().strftime("%Y-%m-%d %H:%M %z" if offset else "%Y-%m-%d %H:%M")


def print_json(data: Any) -> None:
    """Print data as indented JSON on standard output."""
    print(json.dumps(data, indent=2, ensure_ascii=False, default=str))


@contextmanager
def progress_bar(
    description: str, *, enabled: bool = True
) -> Iterator[tuple[Callable[[int], None], Callable[[int], None]]]:
    """A progress bar on standard error: yields (set_total, advance)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    bar = Progress(
        # No markup: a description may name a file or a source (see console()).
        TextColumn("{task.description}", style="progress.description", markup=False),
        BarColumn(),
        MofNCompleteColumn(),
        TimeRemainingColumn(),
        console=console(stderr=True),
        transient=True,
        disable=not enabled,
    )
    with bar:
        task = bar.add_task(description, total=None)
        yield (
            lambda total: bar.update(task, total=total),
            lambda n: bar.advance(task, n),
        )
