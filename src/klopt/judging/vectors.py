"""Post vectors kept in the store, so that every text is embedded once per model.

The judge asks :class:`StoredVectors` for the vectors of the texts it is about to embed
and hands back the ones it had to compute. After a correction or a register change,
re-judging reads every vector from here and only re-runs the cheap classifiers.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator, Mapping, Sequence

import numpy as np
from sqlalchemy import select

from klopt.store import Store, insert_new
from klopt.store.models import TextVector

__all__ = ["StoredVectors", "text_key"]

_QUERY_SIZE = 500


def text_key(text: str) -> str:
    """The key of a text's vectors: the SHA-1 of its UTF-8 bytes, in hex."""
    return hashlib.sha1(text.encode("utf-8")).hexdigest()


def _parts(items: Sequence[str], size: int = _QUERY_SIZE) -> Iterator[Sequence[str]]:
    for start in range(0, len(items), size):
        yield items[start : start + size]


class StoredVectors:
    """Vectors per model and text in the store's ``text_vector`` table (float16)."""

    def __init__(self, store: Store) -> None:
        self._store = store

    def load(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The stored vectors of ``texts`` for ``model``; texts without one are left out."""
        by_key = {text_key(t): t for t in texts}
        found: dict[str, np.ndarray] = {}
        with self._store.session() as session:
            for part in _parts(list(by_key)):
                query = select(TextVector.text_hash, TextVector.vector).where(
                    TextVector.model == model, TextVector.text_hash.in_(part)
                )
                for key, blob in session.execute(query).tuples():
                    found[by_key[key]] = np.frombuffer(blob, dtype=np.float16).astype(np.float32)
        return found

    def save(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Keep ``vectors`` (text -> vector) for ``model``; a text already kept stays as it was."""
        if not vectors:
            return
        rows = [
            {
                "model": model,
                "text_hash": text_key(text),
                "vector": np.asarray(vector, dtype=np.float16).tobytes(),
            }
            for text, vector in vectors.items()
        ]
        with self._store.session() as session:
            session.execute(insert_new(session, TextVector), rows)
