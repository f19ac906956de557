"""A promise as everything above the register sees it, and the promise file's reader.

:class:`PromiseSpec` is the value the judgement engine and the draft checks take; the
promise file (YAML, the eval format: ``promises:`` with ``id``, ``text`` and optional
``paraphrases``) is how a register travels. Both live here, at the register's floor, so
that the register never needs the engine above it.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from klopt.errors import EmptyInput, InputError

__all__ = ["PromiseSpec", "read_promise_entries"]


@dataclass(frozen=True)
class PromiseSpec:
    """A promise as the engine sees it: id, statement, optional paraphrases and theme."""

    id: str
    text: str
    paraphrases: tuple[str, ...] = ()
    theme: str | None = None


def read_promise_entries(path: str | Path) -> tuple[Mapping[str, Any], list[Mapping[str, Any]]]:
    """Read and check a promise file; return the whole document and its promise entries.

    Every entry has an ``id`` and a ``text`` and ids are unique; fields beyond the eval
    format (theme, kind, status, sources) are left for the caller.

    Raises:
        InputError: the file cannot be read, is not YAML, or a promise lacks id/text.
        EmptyInput: the file holds no promises.
    """
    path = Path(path)
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as exc:
        raise InputError.keyed(
            "eval.promise_file_unreadable", path=path, detail=exc.strerror
        ) from exc
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        raise InputError.keyed("eval.promise_file_invalid", path=path, detail=exc) from exc
    entries = data.get("promises") if isinstance(data, Mapping) else None
    if not entries:
        raise EmptyInput.keyed("eval.promise_file_empty", path=path)
    if not isinstance(entries, list):
        raise InputError.keyed("eval.promises_not_list", path=path)
    for number, entry in enumerate(entries, 1):
        _check_promise(entry, path, number)
    _check_unique([str(e["id"]).strip() for e in entries], path)
    return data, entries


def _check_promise(entry: Any, path: Path, number: int) -> None:
    if not isinstance(entry, Mapping) or "id" not in entry or not entry.get("text"):
        raise InputError.keyed("eval.promise_incomplete", path=path, number=number)


def _check_unique(ids: Sequence[str], path: Path) -> None:
    seen: set[str] = set()
    for pid in ids:
        if pid in seen:
            raise InputError.keyed("eval.duplicate_id", path=path, id=pid)
        seen.add(pid)
