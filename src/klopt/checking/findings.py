"""What a draft check says: findings, like a linter's, about one draft post.

A :class:`Finding` is one thing a check noticed in a :class:`Draft`: which rule, how
serious, where in the text, what to do about it and why. House-style rules
(:mod:`klopt.checking.rules`) and promise checks (:mod:`klopt.checking.claims`) both produce
findings; :mod:`klopt.checking.check` runs them together and scores the draft.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

__all__ = ["QUOTE_LIMIT", "Draft", "Finding", "Severity", "Span", "excerpt"]

#: The most characters of draft text a finding's message quotes; its span marks all of it.
QUOTE_LIMIT = 120


def excerpt(text: str, limit: int = QUOTE_LIMIT) -> str:
    """``text`` as a message quotes it: whole up to ``limit`` characters, else its start
    and its end around "…" (a run-on sentence of a long draft is not repeated in full)."""
    if len(text) <= limit:
        return text
    half = (limit - 1) // 2
    return f"{text[:half]}…{text[len(text) - half :]}"


class Severity(IntEnum):
    """How serious a finding is; higher is worse, so severities compare."""

    INFO = 1
    WARNING = 2
    ERROR = 3

    @property
    def label(self) -> str:
        """``info``, ``warning`` or ``error``."""
        return self.name.lower()

    @classmethod
    def parse(cls, value: str) -> Severity:
        """The severity called ``value`` (``info``, ``warning``, ``error``).

        Raises:
            ValueError: no severity has that name.
        """
        try:
            return cls[value.strip().upper()]
        except KeyError:
            raise ValueError(f"unknown severity {value!r}") from None


@dataclass(frozen=True)
class Span:
    """Character offsets into the draft text: ``text[start:end]``."""

    start: int
    end: int


@dataclass(frozen=True)
class Draft:
    """A draft post to check.

    Attributes:
        text: the post as it would be published.
        platform: ``x``, ``linkedin``, ``instagram``, ``facebook``, ``mastodon``,
            ``bluesky``, or ``None`` when unknown.
        language: ``nl``, ``en`` or ``other`` (detected when not given by the caller).
    """

    text: str
    platform: str | None = None
    language: str = "other"


@dataclass(frozen=True)
class Finding:
    """One thing a check noticed in a draft.

    Attributes:
        rule: the rule's id, e.g. ``style.superlative`` or ``promise.exceeds``.
        severity: how serious.
        message: what is wrong, in the user's language.
        span: where in the draft, or ``None`` for the draft as a whole.
        suggestion: what to write instead or do, when there is one.
        why: why the rule exists (from the rule pack), for the curious.
        promise: the id of the promise the finding is about (promise checks only).
        evidence: what the check based itself on (the promise sentence, the numbers
            compared, the similarity), for explanations and JSON/SARIF output.
    """

    rule: str
    severity: Severity
    message: str
    span: Span | None = None
    suggestion: str | None = None
    why: str | None = None
    promise: str | None = None
    evidence: dict[str, Any] = field(default_factory=dict)
