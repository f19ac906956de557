"""Embed once: the judge keeps each post text's vectors in the store, and re-judging after a
correction or a register change reads them instead of embedding again. Verdicts do not
depend on how the posts were cut into runs. On SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from sqlalchemy import func, select

from helpers import REGISTER_YAML, STORE_BACKENDS, database_url
from klopt.accounts.organizations import create_organization
from klopt.judging.vectors import StoredVectors, text_key
from klopt.judging.verdicts import correct, judge_posts
from klopt.listening import ColumnMapping
from klopt.listening.mentions import import_mentions
from klopt.models import embeddings
from klopt.models.embeddings import HashingEmbedder
from klopt.register.file import import_register
from klopt.store import Store, open_store
from klopt.store.models import Judgement, Post, TextVector, Verdict

TEXTS = [
    "Mijn pakket is na drie dagen nog steeds niet bezorgd",
    "Pakket binnen een dag geleverd, top!",
    "Retour gestuurd en binnen een week mijn geld terug",
    "Klantenservice reageert al twee dagen niet op mijn mail",
    "Wat een mooi weer vandaag",
    "Bezorger kwam keurig op tijd",
    "Gratis retourneren? Ik moest 6 euro betalen",
    "Binnen een uur antwoord van de klantenservice, netjes",
]


class CountingEmbedder(HashingEmbedder):
    """The hashing embedder, noting the texts it embeds."""

    name = "counting"
    embedded: list[str] = []

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        CountingEmbedder.embedded.extend(texts)
        return super().embed(texts)


def _posts_embedded(texts: Sequence[str]) -> int:
    """How many times the embedder read one of ``texts`` (a judge also embeds its knowledge)."""
    wanted = set(texts)
    return sum(1 for text in CountingEmbedder.embedded if text in wanted)


@pytest.fixture(autouse=True)
def counting(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    monkeypatch.setitem(embeddings._FACTORIES, "counting", CountingEmbedder)
    monkeypatch.delitem(embeddings._INSTANCES, "counting", raising=False)
    CountingEmbedder.embedded = []
    yield


@pytest.fixture(params=STORE_BACKENDS)
def store(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Store]:
    store = open_store(database_url(request.param, tmp_path))
    yield store
    store.close()


def _fill(store: Store, tmp_path: Path, texts: Sequence[str], name: str = "m.csv") -> None:
    create_organization(store, "Voorbeeld BV", language="nl", actor="t")
    register = tmp_path / "register.yaml"
    register.write_text(REGISTER_YAML, encoding="utf-8")
    import_register(store, None, register, actor="t")
    rows = ["id,text"] + [f'm{i},"{text}"' for i, text in enumerate(texts)]
    (tmp_path / name).write_text("\n".join(rows) + "\n", encoding="utf-8")
    import_mentions(store, None, tmp_path / name, ColumnMapping(text="text", id="id"), actor="t")


def _judge(store: Store) -> Any:
    return judge_posts(store, None, actor="t", embedder="counting", profile="fast")


def _verdicts(store: Store) -> dict[tuple[str, str], str]:
    """(post, promise id) -> stance of each post's newest judgement."""
    with store.session() as session:
        newest = select(func.max(Judgement.id)).group_by(Judgement.post_id)
        rows = session.execute(
            select(Post.external_id, Verdict.promise_id, Verdict.stance)
            .join(Post, Post.id == Verdict.post_id)
            .where(Verdict.judgement_id.in_(newest))
        ).tuples()
        return {(post, str(promise)): stance for post, promise, stance in rows}


def test_a_correction_re_judges_every_post_without_embedding_again(
    store: Store, tmp_path: Path
) -> None:
    _fill(store, tmp_path, TEXTS)
    first = _judge(store)
    assert first.judged == len(TEXTS)
    distinct = len(TEXTS)
    assert _posts_embedded(TEXTS) == distinct
    with store.session() as session:
        kept = session.scalar(select(func.count()).select_from(TextVector))
        stored = session.scalars(select(Judgement.doubt)).all()
    assert kept == distinct  # one vector per text and model
    assert all(d is not None and 0.0 <= d <= 1.0 for d in stored)

    correct(store, None, post_ref="m4", promise_key="P1", stance="none", actor="t")
    CountingEmbedder.embedded = []
    again = _judge(store)
    assert again.judged == len(TEXTS)  # a new model version: every post again
    assert again.model_version != first.model_version
    assert _posts_embedded(TEXTS) == 0

    nothing = _judge(store)
    assert nothing.judged == 0


def test_kept_vectors_give_the_same_verdicts_as_embedding_afresh(
    store: Store, tmp_path: Path
) -> None:
    _fill(store, tmp_path, TEXTS)
    _judge(store)
    fresh = _verdicts(store)
    with store.session() as session:  # a register change judges again, from kept vectors
        session.execute(Judgement.__table__.update().values(model_version="older"))
    CountingEmbedder.embedded = []
    assert _judge(store).judged == len(TEXTS)
    assert _posts_embedded(TEXTS) == 0
    assert _verdicts(store) == fresh and fresh


def test_one_run_or_many_give_the_same_verdicts(store: Store, tmp_path: Path) -> None:
    texts = [f"{t} ({i})" for i, t in enumerate(TEXTS * 12)]
    _fill(store, tmp_path, texts)
    _judge(store)
    whole = _verdicts(store)
    # the same posts arriving in four imports, each judged on its own
    other = open_store(f"sqlite:///{tmp_path / 'other.db'}")
    try:
        (tmp_path / "parts").mkdir()
        for part in range(4):
            chunk = texts[part * 24 : (part + 1) * 24]
            rows = ["id,text"] + [f'm{part * 24 + i},"{t}"' for i, t in enumerate(chunk)]
            (tmp_path / "parts" / f"{part}.csv").write_text("\n".join(rows) + "\n")
            if part == 0:
                create_organization(other, "Voorbeeld BV", language="nl", actor="t")
                import_register(other, None, tmp_path / "register.yaml", actor="t")
            import_mentions(
                other,
                None,
                tmp_path / "parts" / f"{part}.csv",
                ColumnMapping(text="text", id="id"),
                actor="t",
            )
            _judge(other)
        assert _verdicts(other) == whole
    finally:
        other.close()


def test_stored_vectors_round_trip_and_keep_the_first(store: Store) -> None:
    vectors = StoredVectors(store)
    one = np.linspace(-1, 1, 8, dtype=np.float32)
    vectors.save("m-1", {"a": one, "b": -one})
    vectors.save("m-1", {"a": np.zeros(8, dtype=np.float32)})  # already kept: stays
    found = vectors.load("m-1", ["a", "b", "c"])
    assert set(found) == {"a", "b"}
    assert np.allclose(found["a"], one, atol=1e-3) and np.allclose(found["b"], -one, atol=1e-3)
    assert vectors.load("m-2", ["a"]) == {}
    assert text_key("a") == "86f7e437faa5a7fce15d1ddcb9eaeaea377667b8"


def test_a_driver_that_does_not_learn_names_the_same_version(store: Store, tmp_path: Path) -> None:
    """A cluster's driver names the model version without learning the corrections (its
    workers do): it must be the version one process gets, or each would judge again."""
    from klopt.judging.verdicts import prepare_judging

    _fill(store, tmp_path, TEXTS)
    correct(store, None, post_ref="m4", promise_key="P1", stance="none", actor="t")
    learned, _ = prepare_judging(store, None, embedder="counting", profile="fast")
    named, engine = prepare_judging(store, None, embedder="counting", profile="fast", learn=False)
    assert named.version == learned.version and "+1 corrections" in named.version
    assert engine.model_version != named.version.split(" register:")[0]  # nothing learned
