"""House-style rules as data: rule packs in YAML, checked against a draft.

A rule pack is one YAML file::

    pack: klopt-basis
    description: {nl: ..., en: ...}
    disable: [other.rule.id]        # optional: switch off rules of packs loaded earlier
    on_message: [linkedin]          # optional: platforms where every post should support a
                                    # promise; there `promise.off_message` is a warning
    rules:
      - id: basis.superlative.nl    # stable id, shown in every finding
        check: pattern              # the check type (code, see klopt.checking.checks)
        severity: warning           # info, warning or error
        languages: [nl]             # or `all` (the default): language-free
        platforms: all              # or a list: x, bluesky, mastodon, linkedin ...
        message: {nl: "...'{match}'...", en: "..."}
        why: {nl: ..., en: ...}
        suggestion: {nl: ..., en: ...}   # optional
        patterns: ['\\bde beste\\b']     # the check type's parameters
        examples:
          fires:  ["Wij zijn de beste.", {text: ..., platform: x, marks: [de beste]}]
          passes: ["Wij doen ons best."]

Loading is strict: a YAML error, an unknown check type or field, a missing field or a bad
value is a :class:`RulePackError` naming the file and line, and a rule whose own examples
fail (a ``fires`` example that does not fire, a ``passes`` one that does, marks that
differ) is refused. ``docs/rules.md`` is generated from the shipped packs by
``python -m klopt.checking.rules``.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from importlib import resources
from pathlib import Path
from string import Formatter
from typing import Any

import yaml

from klopt.checking.checks import CHECK_TYPES, PLATFORMS, Check, Params, RulePackError
from klopt.checking.findings import Draft, Finding, Severity, excerpt

__all__ = [
    "Example",
    "Rule",
    "RulePack",
    "RuleSet",
    "RulePackError",
    "load_packs",
    "load_pack",
    "parse_pack",
    "combine_packs",
    "pack_files",
    "bundled_pack_paths",
    "rule_reference_markdown",
]

_LANGUAGES = ("nl", "en")
_RULE_FIELDS = (
    "id",
    "check",
    "severity",
    "message",
    "why",
    "suggestion",
    "languages",
    "platforms",
    "examples",
)
_REQUIRED = ("id", "check", "severity", "message", "why", "examples")
_PACK_FIELDS = ("pack", "description", "disable", "on_message", "rules")


# --- YAML that remembers its lines -----------------------------------------------------


class _Map(dict[Any, Any]):
    """A YAML mapping with the line (1-based) of itself (``""``) and of each value."""

    lines: dict[str, int]


class _Seq(list[Any]):
    """A YAML sequence with the line (1-based) of each item."""

    line: int
    lines: list[int]


class _Loader(yaml.SafeLoader):
    pass


def _construct_map(loader: yaml.SafeLoader, node: yaml.MappingNode) -> _Map:
    loader.flatten_mapping(node)
    result = _Map()
    result.lines = {"": node.start_mark.line + 1}
    for key_node, value_node in node.value:
        key = loader.construct_object(key_node, deep=True)
        result[key] = loader.construct_object(value_node, deep=True)
        result.lines[str(key)] = key_node.start_mark.line + 1
    return result


def _construct_seq(loader: yaml.SafeLoader, node: yaml.SequenceNode) -> _Seq:
    result = _Seq(loader.construct_object(item, deep=True) for item in node.value)
    result.line = node.start_mark.line + 1
    result.lines = [item.start_mark.line + 1 for item in node.value]
    return result


_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_MAPPING_TAG, _construct_map)
_Loader.add_constructor(yaml.resolver.BaseResolver.DEFAULT_SEQUENCE_TAG, _construct_seq)


# --- rules -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Example:
    """A text a rule must fire on (``fires``) or must not (``passes``).

    Attributes:
        marks: for a ``fires`` example, the exact texts the rule marks, when given.
    """

    text: str
    fires: bool
    language: str
    platform: str | None
    marks: tuple[str, ...] | None
    line: int

    def draft(self) -> Draft:
        """The example as a draft to check."""
        return Draft(self.text, platform=self.platform, language=self.language)


@dataclass(frozen=True)
class Rule:
    """One house-style rule: a check type with parameters, and what to tell the writer.

    Attributes:
        languages: the draft languages it applies to; ``None`` for any language.
        platforms: the platforms it applies to; ``None`` for any (and for none given).
        parameters: the check type's parameters as written in the pack (for the docs).
    """

    id: str
    pack: str
    check_type: str
    severity: Severity
    message: Mapping[str, str]
    why: Mapping[str, str]
    suggestion: Mapping[str, str] | None
    languages: frozenset[str] | None
    platforms: frozenset[str] | None
    examples: tuple[Example, ...]
    parameters: Mapping[str, Any]
    check: Check
    path: Path
    line: int

    def applies_to(self, draft: Draft) -> bool:
        """Whether the draft's language and platform are the rule's."""
        if self.languages is not None and draft.language not in self.languages:
            return False
        return self.platforms is None or draft.platform in self.platforms

    def findings(self, draft: Draft, lang: str = "en") -> list[Finding]:
        """What the rule says about ``draft`` (whether or not it applies), in ``lang``."""
        result = []
        for hit in self.check.find(draft):
            # Messages quote a long match shortened; the span and the evidence hold all of it.
            shown = {k: excerpt(v) if isinstance(v, str) else v for k, v in hit.values.items()}
            suggestion = hit.suggestion
            if suggestion is None and self.suggestion is not None:
                suggestion = _in(self.suggestion, lang).format(**shown)
            result.append(
                Finding(
                    rule=self.id,
                    severity=self.severity,
                    message=_in(self.message, lang).format(**shown),
                    span=hit.span,
                    suggestion=suggestion,
                    why=_in(self.why, lang),
                    evidence={"pack": self.pack, "check": self.check_type, **hit.values},
                )
            )
        return result


def _in(texts: Mapping[str, str], lang: str) -> str:
    """The text in ``lang``, else English, else whichever there is."""
    return texts.get(lang) or texts.get("en") or next(iter(texts.values()))


@dataclass(frozen=True)
class RulePack:
    """One pack as loaded: its id, description, source file and rules."""

    id: str
    description: Mapping[str, str]
    path: Path
    rules: tuple[Rule, ...]
    disable: tuple[str, ...] = ()
    on_message: frozenset[str] = frozenset()


class RuleSet:
    """The rules of several packs together, in pack order, without disabled ones."""

    def __init__(self, packs: Sequence[RulePack]) -> None:
        self.packs = tuple(packs)
        disabled = {rule_id for pack in self.packs for rule_id in pack.disable}
        self.rules = tuple(r for p in self.packs for r in p.rules if r.id not in disabled)
        #: Platforms where every post should support a promise (the packs' ``on_message``).
        self.on_message = frozenset(p for pack in self.packs for p in pack.on_message)

    def check(self, draft: Draft, *, lang: str | None = None) -> list[Finding]:
        """The findings of every rule that applies to the draft.

        Language-free rules (length, counts) run for any draft; a rule bound to languages
        runs only for a draft in one of them, so a draft in an unsupported language still
        gets the language-free ones.

        Args:
            draft: the draft post.
            lang: language of the messages; default: the draft's if klopt speaks it,
                else English.

        Returns:
            The findings, in text order (findings about the whole draft first).
        """
        lang = lang or (draft.language if draft.language in _LANGUAGES else "en")
        found = [
            f for rule in self.rules if rule.applies_to(draft) for f in rule.findings(draft, lang)
        ]
        return sorted(found, key=lambda f: (f.span.start if f.span else -1, -f.severity, f.rule))

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[Rule]:
        return iter(self.rules)


# --- loading ---------------------------------------------------------------------------


def bundled_pack_paths() -> list[Path]:
    """The rule packs shipped with klopt (``klopt/data/rules/*.yaml``)."""
    folder = resources.files("klopt") / "data" / "rules"
    return sorted(
        Path(str(entry)) for entry in folder.iterdir() if entry.name.endswith((".yaml", ".yml"))
    )


def load_packs(extra: Sequence[Path] = (), *, bundled: bool = True) -> RuleSet:
    """The bundled rule packs (optional) and an organisation's own, as one rule set.

    Args:
        extra: pack files, or directories of ``*.yaml`` / ``*.yml`` pack files (read in
            name order), loaded after the bundled packs.
        bundled: include the packs shipped with klopt.

    Raises:
        RulePackError: a pack cannot be used; the message names the file and line.
    """
    paths = (bundled_pack_paths() if bundled else []) + pack_files(extra)
    return combine_packs(load_pack(path) for path in paths)


def pack_files(entries: Sequence[Path]) -> list[Path]:
    """The pack files ``entries`` name: files as given, directories as their ``*.yaml`` /
    ``*.yml`` files in name order."""
    paths: list[Path] = []
    for entry in map(Path, entries):
        if entry.is_dir():
            paths += sorted(p for p in entry.iterdir() if p.suffix in (".yaml", ".yml"))
        else:
            paths.append(entry)
    return paths


def combine_packs(packs: Iterable[RulePack]) -> RuleSet:
    """Packs already read, in order, as one rule set: no rule id twice, and a pack
    disables only rules of the packs before it.

    Raises:
        RulePackError: a rule id is used twice, or a pack disables an unknown rule.
    """
    loaded: list[RulePack] = []
    seen: dict[str, Rule] = {}
    for pack in packs:
        path = pack.path
        for rule in pack.rules:
            if rule.id in seen:
                raise RulePackError.keyed(
                    "rules.duplicate_id",
                    path=path,
                    line=rule.line,
                    rule=rule.id,
                    other=seen[rule.id].path,
                )
            seen[rule.id] = rule
        for rule_id in pack.disable:
            if rule_id not in seen or seen[rule_id].pack == pack.id:
                raise RulePackError.keyed("rules.unknown_disable", path=path, rule=rule_id)
        loaded.append(pack)
    return RuleSet(loaded)


def load_pack(path: Path) -> RulePack:
    """Read and verify one rule pack file (each rule's examples included).

    Raises:
        RulePackError: the file cannot be read, is not a valid pack, or a rule's
            examples fail; the message names the file and line.
    """
    path = Path(path)
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise RulePackError.keyed("rules.unreadable", path=path, detail=exc) from exc
    return parse_pack(text, path)


def parse_pack(text: str, path: Path) -> RulePack:
    """Read and verify one rule pack from its YAML ``text``; ``path`` is what its
    messages call the file (a stored pack's file name).

    Raises:
        RulePackError: not a valid pack, or a rule's examples fail (file and line).
    """
    try:
        data = yaml.load(text, Loader=_Loader)  # noqa: S506 - a SafeLoader subclass
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        line = mark.line + 1 if mark is not None else 1
        problem = getattr(exc, "problem", None) or exc
        raise RulePackError.keyed("rules.bad_yaml", path=path, line=line, detail=problem) from exc
    if not isinstance(data, _Map) or not isinstance(data.get("rules"), _Seq) or "pack" not in data:
        raise RulePackError.keyed("rules.not_a_pack", path=path)
    _no_unknown(data, _PACK_FIELDS, path, str(data["pack"]))
    pack_id = str(data["pack"])
    rules_node: _Seq = data["rules"]
    rules = tuple(
        _rule(node, pack_id, path, line)
        for node, line in zip(rules_node, rules_node.lines, strict=True)
    )
    pack_params = Params(data, data.lines, path=path, rule=pack_id)
    disable = pack_params.texts("disable")
    on_message = _choices(pack_params, "on_message", PLATFORMS) or frozenset()
    description = _localized(data, "description", path, pack_id) if "description" in data else {}
    return RulePack(pack_id, description, path, rules, disable, on_message)


def _no_unknown(node: _Map, known: Sequence[str], path: Path, rule: str) -> None:
    for key in node:
        if key not in known:
            raise RulePackError.keyed(
                "rules.unknown_field",
                path=path,
                line=node.lines.get(str(key), 0),
                rule=rule,
                field=key,
                choices=", ".join(known),
            )


def _localized(node: _Map, name: str, path: Path, rule: str) -> dict[str, str]:
    """A text for every language: one text for all, or ``{nl: ..., en: ...}``."""
    value = node[name]
    if isinstance(value, str) and value.strip():
        return dict.fromkeys(_LANGUAGES, value.strip())
    if (
        isinstance(value, Mapping)
        and value
        and all(k in _LANGUAGES and isinstance(v, str) and v.strip() for k, v in value.items())
    ):
        return {str(k): str(v).strip() for k, v in value.items()}
    raise Params(node, node.lines, path=path, rule=rule).bad(name, "localized")


def _rule(node: Any, pack: str, path: Path, line: int) -> Rule:
    if not isinstance(node, _Map):
        raise RulePackError.keyed("rules.not_a_rule", path=path, line=line)
    rule_id = str(node.get("id", "?"))
    absent = [name for name in _REQUIRED if node.get(name) is None]
    params = Params(node, node.lines, path=path, rule=rule_id)
    if absent:
        raise params.missing(*absent)
    check_type = CHECK_TYPES.get(str(node["check"]))
    if check_type is None:
        raise RulePackError.keyed(
            "rules.unknown_check",
            path=path,
            line=node.lines["check"],
            rule=rule_id,
            check=node["check"],
            choices=", ".join(sorted(CHECK_TYPES)),
        )
    _no_unknown(node, _RULE_FIELDS + check_type.parameters, path, rule_id)
    severity = Severity.parse(str(params.choice("severity", ("info", "warning", "error"))))
    check = check_type.from_params(params)
    message = _localized(node, "message", path, rule_id)
    suggestion = _localized(node, "suggestion", path, rule_id) if "suggestion" in node else None
    for name, texts in (("message", message), ("suggestion", suggestion or {})):
        for text in texts.values():
            unknown = {f for _, f, _, _ in Formatter().parse(text) if f} - set(check_type.fields)
            if unknown:
                raise RulePackError.keyed(
                    "rules.unknown_message_field",
                    path=path,
                    line=node.lines[name],
                    rule=rule_id,
                    fields=", ".join(sorted(unknown)),
                    choices=", ".join(check_type.fields) or "-",
                )
    languages = _choices(params, "languages", _LANGUAGES)
    platforms = _choices(params, "platforms", PLATFORMS)
    parameters = {k: v for k, v in node.items() if k in check_type.parameters}
    rule = Rule(
        id=rule_id,
        pack=pack,
        check_type=check_type.name,
        severity=severity,
        message=message,
        why=_localized(node, "why", path, rule_id),
        suggestion=suggestion,
        languages=languages,
        platforms=platforms,
        examples=(),
        parameters=parameters,
        check=check,
        path=path,
        line=node.lines[""],
    )
    examples = _examples(node, rule, params)
    rule = replace(rule, examples=examples)
    for example in examples:
        _verify(rule, example)
    return rule


def _choices(params: Params, name: str, known: tuple[str, ...]) -> frozenset[str] | None:
    """``all`` (or nothing) as ``None``; else the listed values, each one of ``known``."""
    values = params.texts(name)
    if not values or values == ("all",):
        return None
    for value in values:
        if value not in known:
            raise params.bad_choice(name, value, ("all", *known))
    return frozenset(values)


def _examples(node: _Map, rule: Rule, params: Params) -> tuple[Example, ...]:
    examples_node = node["examples"]
    if not isinstance(examples_node, _Map) or not examples_node.get("fires"):
        raise params.missing("examples.fires")
    _no_unknown(examples_node, ("fires", "passes"), rule.path, rule.id)
    language = sorted(rule.languages)[0] if rule.languages else "en"
    platform = sorted(rule.platforms)[0] if rule.platforms else None
    result = []
    for kind in ("fires", "passes"):
        items = examples_node.get(kind) or _Seq()
        if not isinstance(items, _Seq):
            raise Params(examples_node, examples_node.lines, path=rule.path, rule=rule.id).bad(
                kind, "examples"
            )
        for item, line in zip(items, items.lines, strict=True):
            result.append(_example(item, kind == "fires", language, platform, line, rule))
    return tuple(result)


def _example(
    item: Any, fires: bool, language: str, platform: str | None, line: int, rule: Rule
) -> Example:
    if isinstance(item, str):
        return Example(item, fires, language, platform, None, line)
    params = Params(item, getattr(item, "lines", {}), path=rule.path, rule=rule.id)
    if not isinstance(item, _Map) or not isinstance(item.get("text"), str):
        raise RulePackError.keyed("rules.bad_example", path=rule.path, line=line, rule=rule.id)
    _no_unknown(item, ("text", "language", "platform", "marks"), rule.path, rule.id)
    marks = params.texts("marks") if "marks" in item else None
    return Example(
        item["text"],
        fires,
        params.choice("language", (*_LANGUAGES, "other"), language) or language,
        params.choice("platform", PLATFORMS, platform),
        marks,
        line,
    )


def _verify(rule: Rule, example: Example) -> None:
    """Refuse the rule when the example does not do what it says."""
    findings = rule.findings(example.draft()) if rule.applies_to(example.draft()) else []
    marked = tuple(example.text[f.span.start : f.span.end] for f in findings if f.span is not None)
    values = {
        "path": rule.path,
        "line": example.line,
        "rule": rule.id,
        "example": example.text if len(example.text) <= 80 else example.text[:77] + "...",
    }
    if example.fires and not findings:
        raise RulePackError.keyed("rules.example_does_not_fire", **values)
    if not example.fires and findings:
        marks = ", ".join(repr(m) for m in marked) or "-"
        raise RulePackError.keyed("rules.example_fires", **values, marks=marks)
    if example.fires and example.marks is not None and marked != example.marks:
        marks = ", ".join(repr(m) for m in marked) or "-"
        expected = ", ".join(repr(m) for m in example.marks)
        raise RulePackError.keyed("rules.example_marks", **values, marks=marks, expected=expected)


# --- the rule reference ----------------------------------------------------------------


def rule_reference_markdown(rule_set: RuleSet) -> str:
    """The rule reference (``docs/rules.md``): the check types, then each pack's rules."""
    lines = [
        "# Rule reference",
        "",
        "Generated from the rule packs shipped with klopt by `python -m klopt.checking.rules`;",
        "do not edit. An organisation adds its own packs in the same format (see",
        "`klopt.checking.rules`).",
        "",
        "## Check types",
        "",
    ]
    for name in sorted(CHECK_TYPES):
        doc = " ".join((CHECK_TYPES[name].__doc__ or "").split())
        lines += [f"- **`{name}`**: {doc}", ""]
    for pack in rule_set.packs:
        lines += [f"## Pack `{pack.id}`", ""]
        for lang in _LANGUAGES:
            if lang in pack.description:
                lines += [f"{lang}: {pack.description[lang]}", ""]
        for rule in pack.rules:
            lines += _rule_section(rule)
    return "\n".join(lines).rstrip("\n") + "\n"


def _rule_section(rule: Rule) -> list[str]:
    def scope(values: frozenset[str] | None) -> str:
        return ", ".join(sorted(values)) if values else "all"

    lines = [
        f"### `{rule.id}`",
        "",
        f"check `{rule.check_type}` · severity **{rule.severity.label}** · "
        f"languages {scope(rule.languages)} · platforms {scope(rule.platforms)}",
        "",
    ]
    for lang in _LANGUAGES:
        lines.append(
            f"- message ({lang}): {rule.message[lang]}".replace("{", "`{").replace("}", "}`")
        )
    for lang in _LANGUAGES:
        lines.append(f"- why ({lang}): {rule.why[lang]}")
    # Settings (numbers, limits, choices) in full; lists of patterns or terms by name only.
    parameters = ", ".join(
        f"`{k}`"
        if isinstance(v, list | Mapping) and k in ("markers", "terms") or isinstance(v, list)
        else f"`{k}: {json.dumps(v, ensure_ascii=False)}`"
        for k, v in rule.parameters.items()
    )
    lines += [f"- parameters: {parameters}", "", "Examples:", ""]
    for example in rule.examples:
        verdict = "fires" if example.fires else "passes"
        where = ", ".join(
            part
            for part in (example.language if rule.languages else "", example.platform or "")
            if part
        )
        marks = f" → marks {', '.join(repr(m) for m in example.marks)}" if example.marks else ""
        text = example.text.replace("\n", " ").replace("|", "\\|")
        lines.append(f"- {verdict}{f' ({where})' if where else ''}: `{text}`{marks}")
    return [*lines, ""]


if __name__ == "__main__":
    print(rule_reference_markdown(load_packs()), end="")
