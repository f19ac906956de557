"""The aspect library: customer-experience themes with typical customer phrasings.

Each theme is one YAML file (``src/klopt/data/aspects/<id>.yaml``) with ``id``,
``label: {en, nl}``, ``description``, ``keywords: {en, nl}`` and
``phrasings: {kept|broken|neutral: {en: [...], nl: [...]}}``. A promise inherits the
phrasings of its theme; that is how a complaint like "my parcel is still not here"
is recognised as being about "we deliver within 24 hours". Organisations extend the
library with their own directory of YAML files in the same format.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from importlib import resources
from pathlib import Path
from typing import Any

import yaml

from klopt.errors import InputError

# libyaml's loader where PyYAML has it (ten times faster on the ~7,600 shipped phrasings)
_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)
__all__ = ["Theme", "AspectLibrary", "load_theme", "STANCES"]

STANCES = ("kept", "broken", "neutral")


@dataclass(frozen=True)
class Theme:
    """One customer-experience theme.

    Attributes:
        id: stable identifier, e.g. ``"delivery"``.
        label: display label per language.
        description: what the theme covers (one or two sentences).
        keywords: typical words per language.
        phrasings: customer phrasings per stance, then per language.
        for_promises: whether a promise may be given this theme (``for_promises: false``
            in the file: a theme such as ``general`` that only teaches the engine what
            talk about no particular promise sounds like).
    """

    id: str
    label: Mapping[str, str]
    description: str
    keywords: Mapping[str, tuple[str, ...]]
    phrasings: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    for_promises: bool = True

    def all_keywords(self) -> tuple[str, ...]:
        """Keywords of every language."""
        return tuple(k for words in self.keywords.values() for k in words)

    def stance_phrasings(self, stance: str) -> tuple[str, ...]:
        """Phrasings of one stance, in every language."""
        return tuple(p for texts in self.phrasings.get(stance, {}).values() for p in texts)

    def all_phrasings(self) -> Iterator[tuple[str, str, str]]:
        """Yield ``(stance, language, text)`` for every phrasing."""
        for stance, by_lang in self.phrasings.items():
            for lang, texts in by_lang.items():
                for text in texts:
                    yield stance, lang, text

    def profile_texts(self) -> list[str]:
        """Texts that describe the theme: label, description and keywords."""
        texts = [*self.label.values(), self.description]
        keywords = self.all_keywords()
        if keywords:
            texts.append(", ".join(keywords))
        return [t for t in texts if t]


def _strings(value: Any, where: str) -> tuple[str, ...]:
    if value is None:
        return ()
    if isinstance(value, str):
        return (value,)
    if isinstance(value, list) and all(isinstance(v, str | int | float) for v in value):
        return tuple(str(v).strip() for v in value if str(v).strip())
    raise InputError.keyed("aspects.not_texts", where=where)


def _text(value: Any) -> str:
    if isinstance(value, Mapping):
        return " ".join(str(v) for v in value.values() if v)
    return str(value or "")


def _theme_from_mapping(data: Mapping[str, Any], where: str) -> Theme:
    if "id" not in data:
        raise InputError.keyed("aspects.no_id", where=where)
    theme_id = str(data["id"])
    label_raw = data.get("label") or {}
    label = (
        {str(k): str(v) for k, v in label_raw.items()}
        if isinstance(label_raw, Mapping)
        else {"en": str(label_raw)}
    )
    keywords_raw = data.get("keywords") or {}
    if not isinstance(keywords_raw, Mapping):
        keywords_raw = {"en": keywords_raw}
    keywords = {str(k): _strings(v, f"{where}: keywords.{k}") for k, v in keywords_raw.items()}
    phrasings: dict[str, dict[str, tuple[str, ...]]] = {}
    for stance, by_lang in (data.get("phrasings") or {}).items():
        if stance not in STANCES:
            raise InputError.keyed("aspects.unknown_stance", where=where, stance=stance)
        if not isinstance(by_lang, Mapping):
            by_lang = {"en": by_lang}
        phrasings[stance] = {
            str(lang): _strings(texts, f"{where}: phrasings.{stance}.{lang}")
            for lang, texts in by_lang.items()
        }
    for_promises = data.get("for_promises", True) is not False
    description = _text(data.get("description"))
    return Theme(theme_id, label, description, keywords, phrasings, for_promises)


def load_theme(path: str | Path) -> Theme:
    """Read one theme from a YAML file.

    Raises:
        InputError: the file is not valid YAML or lacks an id.
    """
    path = Path(path)
    try:
        data = yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)
    except (OSError, yaml.YAMLError) as exc:
        raise InputError.keyed("aspects.unreadable", path=path, detail=exc) from exc
    if not isinstance(data, Mapping):
        raise InputError.keyed("aspects.no_theme", path=path)
    return _theme_from_mapping(data, str(path))


class AspectLibrary:
    """A set of themes by id; later themes with the same id replace earlier ones."""

    def __init__(self, themes: Iterable[Theme] = ()) -> None:
        self._themes: dict[str, Theme] = {}
        for theme in themes:
            self._themes[theme.id] = theme

    @classmethod
    def bundled(cls) -> AspectLibrary:
        """The library shipped with klopt (``klopt/data/aspects``)."""
        folder = resources.files("klopt") / "data" / "aspects"
        themes = []
        if folder.is_dir():
            for entry in sorted(folder.iterdir(), key=lambda e: e.name):
                if entry.name.endswith((".yaml", ".yml")):
                    with resources.as_file(entry) as path:
                        themes.append(load_theme(path))
        return cls(themes)

    @classmethod
    def from_directories(cls, *directories: str | Path, bundled: bool = True) -> AspectLibrary:
        """The bundled library (optional) extended by the YAML files in ``directories``."""
        themes = list(cls.bundled()) if bundled else []
        for directory in directories:
            for path in sorted(Path(directory).glob("*.y*ml")):
                themes.append(load_theme(path))
        return cls(themes)

    def __iter__(self) -> Iterator[Theme]:
        return iter(self._themes.values())

    def promise_themes(self) -> list[Theme]:
        """The themes a promise may be given (see :attr:`Theme.for_promises`)."""
        return [theme for theme in self._themes.values() if theme.for_promises]

    def __len__(self) -> int:
        return len(self._themes)

    def __contains__(self, theme_id: object) -> bool:
        return theme_id in self._themes

    def __getitem__(self, theme_id: str) -> Theme:
        return self._themes[theme_id]

    def ids(self) -> Sequence[str]:
        """Theme ids in library order."""
        return list(self._themes)
