"""What every check type shares: the :class:`Check` base, its hits, and its parameters.

A check type is code (a subclass of :class:`Check`); a rule is data (YAML in a rule pack)
that names a check type and gives it parameters. :meth:`Check.from_params` turns the
rule's parameters into a ready check, raising :class:`RulePackError` with the file and
line of a bad value; :meth:`Check.find` then looks at one draft and yields :class:`Hit` s,
which :mod:`klopt.checking.rules` turns into findings.
"""

from __future__ import annotations

import re
from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Any, ClassVar, Self

from klopt.checking.findings import Draft, Span
from klopt.errors import InputError
from klopt.i18n import t

__all__ = [
    "PLATFORMS",
    "Check",
    "Hit",
    "Params",
    "RulePackError",
    "Expected",
    "literal_pattern",
    "merge_hits",
    "words",
    "lemma",
]

PLATFORMS = ("x", "bluesky", "mastodon", "linkedin", "instagram", "facebook")

_WORD = re.compile(r"[^\W_]+(?:['’-][^\W_]+)*")
_WORD_CHAR = re.compile(r"\w")


class RulePackError(InputError):
    """A rule pack cannot be used: bad YAML, an unknown check type, a missing field,
    a bad value, or a rule whose own examples fail."""


@dataclass(frozen=True)
class Expected:
    """What a parameter should have been, said in the user's language (for error texts)."""

    key: str

    def text(self, lang: str = "en") -> str:
        """The description in ``lang``, e.g. "a whole number"."""
        return t(f"rules.expected.{self.key}", lang).format()  # "{{" in the text: one brace


@dataclass(frozen=True)
class Hit:
    """One place a check fired.

    Attributes:
        span: where in the draft, or ``None`` for the draft as a whole.
        values: the ``{fields}`` of the rule's message (``match``, ``count``, ``limit`` ...).
        suggestion: what to write instead, when the check knows (a preferred term).
    """

    span: Span | None
    values: Mapping[str, str | int] = field(default_factory=dict)
    suggestion: str | None = None


class Params:
    """A rule's check parameters, read strictly: each bad value names its file and line."""

    def __init__(
        self, values: Mapping[str, Any], lines: Mapping[str, int], *, path: Path, rule: str
    ) -> None:
        self.values = values
        self.lines = lines
        self.path = path
        self.rule = rule

    def line(self, name: str) -> int:
        """The line of parameter ``name`` (of the rule where it is absent)."""
        return self.lines.get(name, self.lines.get("", 0))

    def bad(self, name: str, expected: str) -> RulePackError:
        """The error for a parameter that is not what ``expected`` (a ``rules.expected.*`` key)."""
        return RulePackError.keyed(
            "rules.bad_value",
            path=self.path,
            line=self.line(name),
            rule=self.rule,
            field=name,
            expected=Expected(expected),
        )

    def missing(self, *names: str) -> RulePackError:
        """The error for a required parameter that is absent."""
        return RulePackError.keyed(
            "rules.missing_field",
            path=self.path,
            line=self.line(""),
            rule=self.rule,
            fields=", ".join(names),
        )

    def has(self, name: str) -> bool:
        """Whether the rule gives parameter ``name``."""
        return self.values.get(name) is not None

    def integer(self, name: str, default: int | None = None) -> int | None:
        """A whole number of at least zero."""
        value = self.values.get(name)
        if value is None:
            return default
        if isinstance(value, bool) or not isinstance(value, int) or value < 0:
            raise self.bad(name, "count")
        return value

    def flag(self, name: str, default: bool) -> bool:
        """``true`` or ``false``."""
        value = self.values.get(name, default)
        if not isinstance(value, bool):
            raise self.bad(name, "flag")
        return value

    def choice(self, name: str, choices: tuple[str, ...], default: str | None = None) -> str | None:
        """One of ``choices``."""
        value = self.values.get(name)
        if value is None:
            return default
        if str(value) not in choices:
            raise self.bad_choice(name, value, choices)
        return str(value)

    def bad_choice(self, name: str, value: Any, choices: tuple[str, ...]) -> RulePackError:
        """The error for a value of ``name`` that is not one of ``choices``."""
        return RulePackError.keyed(
            "rules.bad_choice",
            path=self.path,
            line=self.line(name),
            rule=self.rule,
            field=name,
            value=value,
            choices=", ".join(choices),
        )

    def texts(self, name: str, value: Any = None) -> tuple[str, ...]:
        """A text or a list of texts (numbers are read as texts)."""
        value = self.values.get(name) if value is None else value
        if value is None:
            return ()
        if isinstance(value, str | int | float) and not isinstance(value, bool):
            value = [value]
        if not isinstance(value, list) or not all(
            isinstance(v, str | int | float) and not isinstance(v, bool) for v in value
        ):
            raise self.bad(name, "texts")
        return tuple(str(v) for v in value if str(v).strip())

    def regexes(self, name: str, *, ignore_case: bool = True) -> tuple[re.Pattern[str], ...]:
        """A regular expression or a list of them, compiled."""
        flags = re.IGNORECASE if ignore_case else 0
        compiled = []
        for source in self.texts(name):
            try:
                compiled.append(re.compile(source, flags))
            except re.error as exc:
                raise RulePackError.keyed(
                    "rules.bad_regex",
                    path=self.path,
                    line=self.line(name),
                    rule=self.rule,
                    field=name,
                    pattern=source,
                    detail=exc,
                ) from exc
        return tuple(compiled)

    def per_platform(self, name: str) -> dict[str, int]:
        """A mapping of platform to a whole number, e.g. ``{x: 280, bluesky: 300}``."""
        value = self.values.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.bad(name, "per_platform")
        result: dict[str, int] = {}
        for platform, number in value.items():
            if platform not in PLATFORMS:
                raise RulePackError.keyed(
                    "rules.unknown_platform",
                    path=self.path,
                    line=self.line(name),
                    rule=self.rule,
                    platform=platform,
                    choices=", ".join(PLATFORMS),
                )
            if isinstance(number, bool) or not isinstance(number, int) or number < 0:
                raise self.bad(name, "per_platform")
            result[str(platform)] = number
        return result

    def per_language(self, name: str) -> dict[str, tuple[str, ...]]:
        """A mapping of language (``nl``, ``en``, ``all``) to texts."""
        value = self.values.get(name)
        if value is None:
            return {}
        if not isinstance(value, Mapping):
            raise self.bad(name, "per_language")
        return {str(lang): self.texts(name, texts or []) for lang, texts in value.items()}

    def terms(self, name: str) -> dict[str, str | None]:
        """Terms with an optional preferred replacement: a list, or a mapping term: replacement."""
        value = self.values.get(name)
        if isinstance(value, list):
            return dict.fromkeys(self.texts(name))
        if isinstance(value, Mapping):
            result: dict[str, str | None] = {}
            for term, use in value.items():
                if not isinstance(term, str | int) or isinstance(use, list | Mapping):
                    raise self.bad(name, "terms")
                result[str(term)] = None if use is None else str(use)
            return result
        raise self.bad(name, "terms")


class Check(ABC):
    """A check type: code that looks at a draft for one kind of problem.

    Subclasses set :attr:`name` (what rules write after ``check:``), :attr:`parameters`
    (the parameters a rule may give) and :attr:`fields` (the ``{fields}`` its hits fill
    in the rule's message), and implement :meth:`from_params` and :meth:`find`.
    """

    name: ClassVar[str]
    parameters: ClassVar[tuple[str, ...]]
    fields: ClassVar[tuple[str, ...]]

    @classmethod
    @abstractmethod
    def from_params(cls, params: Params) -> Self:
        """The check a rule's parameters describe.

        Raises:
            RulePackError: a parameter is missing or has a bad value (with file and line).
        """

    @abstractmethod
    def find(self, draft: Draft) -> Iterator[Hit]:
        """Where the draft breaks the rule."""


def literal_pattern(term: str) -> str:
    """A regex for ``term`` as whole words: any whitespace between its words."""
    body = r"\s+".join(re.escape(part) for part in term.split())
    start = r"(?<!\w)" if _WORD_CHAR.match(term.strip()[:1]) else ""
    end = r"(?!\w)" if _WORD_CHAR.match(term.strip()[-1:]) else ""
    return f"{start}{body}{end}"


def words(text: str) -> Iterator[re.Match[str]]:
    """The words of ``text`` (letters and digits, with inner hyphens and apostrophes)."""
    return _WORD.finditer(text)


@lru_cache(maxsize=65_536)
def lemma(word: str, lang: str) -> str:
    """The dictionary form of a lower-case word (the word itself where simplemma cannot say)."""
    import simplemma

    try:
        return str(simplemma.lemmatize(word, lang=lang)).lower()
    except ValueError:  # a language simplemma does not know: the word is its own lemma
        return word


def merge_hits(text: str, spans: Iterable[tuple[int, int]]) -> list[Hit]:
    """One hit per run of overlapping spans, its ``match`` the marked text."""
    merged: list[list[int]] = []
    for start, end in sorted(spans):
        if merged and start < merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], end)
        else:
            merged.append([start, end])
    return [Hit(Span(s, e), {"match": text[s:e]}) for s, e in merged]
