"""House-style rules as data: the shipped packs, their fixtures, and strict loading."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from klopt.checking.findings import Draft, Severity, Span
from klopt.checking.rules import RulePackError, RuleSet, load_packs, rule_reference_markdown

DOCS = Path(__file__).resolve().parents[1] / "docs" / "rules.md"

GOOD_RULE = """\
  - id: acme.banned
    check: terms
    severity: error
    languages: [nl]
    message: {nl: "Niet '{match}'.", en: "Not '{match}'."}
    why: Acme zegt dit nooit.
    terms: {goedkoop: voordelig, spotgoedkoop: null}
    examples:
      fires: [{text: Altijd goedkoop., marks: [goedkoop]}]
      passes: [Altijd voordelig.]
"""


@pytest.fixture(scope="module")
def rules() -> RuleSet:
    return load_packs()


def write_pack(tmp_path: Path, body: str, name: str = "acme.yaml") -> Path:
    path = tmp_path / name
    path.write_text(f"pack: acme\nrules:\n{body}", encoding="utf-8")
    return path


def load_error(tmp_path: Path, body: str) -> RulePackError:
    path = write_pack(tmp_path, body)
    with pytest.raises(RulePackError) as caught:
        load_packs([path], bundled=False)
    return caught.value


# --- the shipped pack ------------------------------------------------------------------


def test_the_rule_reference_is_up_to_date(rules: RuleSet) -> None:
    assert DOCS.read_text(encoding="utf-8") == rule_reference_markdown(rules), (
        "Run: python -m klopt.checking.rules > docs/rules.md"
    )


def test_klopt_basis_covers_every_check_type_in_both_languages(rules: RuleSet) -> None:
    assert [pack.id for pack in rules.packs] == ["klopt-basis"]
    assert {rule.check_type for rule in rules} == {
        "terms",
        "pattern",
        "required_disclaimer",
        "count",
        "length",
        "tone",
    }
    for rule in rules:
        assert set(rule.message) == set(rule.why) == {"nl", "en"}, rule.id
        assert any(e.fires for e in rule.examples) and any(not e.fires for e in rule.examples)
        assert all(e.marks for e in rule.examples if e.fires), f"{rule.id}: fixture without marks"


def test_every_shipped_example_gives_exactly_its_expected_findings(rules: RuleSet) -> None:
    for rule in rules:
        for example in rule.examples:
            own = [f for f in rules.check(example.draft()) if f.rule == rule.id]
            marked = [example.text[f.span.start : f.span.end] for f in own if f.span]
            assert marked == list(example.marks or ()), (rule.id, example.text)
            assert all(f.severity == rule.severity for f in own)


def test_a_dutch_draft_gets_exact_findings_in_text_order(rules: RuleSet) -> None:
    text = "Wij zijn de beste! Nu 20% korting, haha!!! #fiets #stad #zomer"
    findings = rules.check(Draft(text, platform="x", language="nl"))
    got = [(f.rule, f.severity, text[f.span.start : f.span.end]) for f in findings if f.span]
    assert got == [
        ("basis.superlative.nl", Severity.WARNING, "de beste"),
        ("basis.disclaimer.price.nl", Severity.WARNING, "korting"),
        ("basis.tone.informal", Severity.WARNING, "haha"),
        ("basis.tone.informal", Severity.WARNING, "!!!"),
        ("basis.exclamations", Severity.INFO, "!!"),
        ("basis.hashtags", Severity.WARNING, "#zomer"),
    ]
    superlative = findings[0]
    assert superlative.span == Span(9, 17)
    assert superlative.message == "Onbewijsbare overtreffende trap: 'de beste'."
    assert superlative.why and "Reclamecode" in superlative.why
    assert superlative.evidence == {"pack": "klopt-basis", "check": "pattern", "match": "de beste"}


def test_messages_follow_the_requested_language(rules: RuleSet) -> None:
    draft = Draft("Indien u vragen heeft, bel ons.", language="nl")
    (finding,) = rules.check(draft, lang="en")
    assert finding.message == "Prefer 'als' to 'Indien'."
    assert finding.suggestion == "als"


def test_length_counts_a_link_as_23_characters_on_x(rules: RuleSet) -> None:
    text = "a" * 250 + " https://voorbeeld.nl/" + "x" * 80
    assert [f.rule for f in rules.check(Draft(text, platform="x", language="en"))] == []
    (finding,) = rules.check(Draft(text + " " + "b" * 10, platform="x", language="en"))
    assert (finding.rule, finding.severity) == ("basis.length", Severity.ERROR)
    assert finding.evidence["length"] == 250 + 1 + 23 + 11
    assert finding.span == Span(len(text) + 6, len(text) + 11)  # the last 5 are too many


def test_a_draft_in_an_unsupported_language_gets_only_language_free_rules(
    rules: RuleSet,
) -> None:
    text = "Die allerbeste Auswahl!!! #a1 #b2 #c3 " + "z" * 300
    findings = rules.check(Draft(text, platform="x", language="other"))
    assert [f.rule for f in findings] == [
        "basis.tone.informal",
        "basis.exclamations",
        "basis.hashtags",
        "basis.length",
    ]
    assert findings[0].message == "'!!!' is too informal for an organisation."


def test_the_form_of_address_is_a_pack_parameter(tmp_path: Path, rules: RuleSet) -> None:
    pack = tmp_path / "formeel.yaml"
    pack.write_text(
        """\
pack: acme-formeel
disable: [basis.tone.address]
rules:
  - id: acme.aanspreekvorm
    check: tone
    severity: warning
    languages: [nl]
    address: u
    message: "Wij zeggen '{expected}', niet '{match}'."
    why: Acme spreekt klanten altijd met u aan.
    examples:
      fires: [{text: 'Bestel je vandaag?', marks: [je]}]
      passes: ['Bestelt u vandaag?']
""",
        encoding="utf-8",
    )
    with_org = load_packs([tmp_path])
    assert [p.id for p in with_org.packs] == ["klopt-basis", "acme-formeel"]
    assert "basis.tone.address" not in {r.id for r in with_org}
    findings = with_org.check(Draft("Heb je een vraag? Bel ons.", language="nl"))
    assert [(f.rule, f.message) for f in findings] == [
        ("acme.aanspreekvorm", "Wij zeggen 'u', niet 'je'.")
    ]
    assert rules.check(Draft("Heb je een vraag? Bel ons.", language="nl")) == []


def test_an_organisations_own_pack_adds_to_the_bundled_ones(tmp_path: Path) -> None:
    rule_set = load_packs([write_pack(tmp_path, GOOD_RULE)])
    assert rule_set.rules[-1].id == "acme.banned"
    text = "De goedkoopste? Spotgoedkoop en altijd goedkoper."
    found = [
        (f.rule, text[f.span.start : f.span.end], f.suggestion)
        for f in rule_set.check(Draft(text, language="nl"))
        if f.span
    ]
    assert ("acme.banned", "Spotgoedkoop", None) in found
    assert ("acme.banned", "goedkoper", "voordelig") in found  # lemma-aware
    assert ("acme.banned", "goedkoopste", "voordelig") in found
    assert load_packs([write_pack(tmp_path, GOOD_RULE)], bundled=False).rules[0].id == "acme.banned"


def test_checking_a_300_character_draft_against_all_packs_is_fast(rules: RuleSet) -> None:
    text = ("Wij zijn de beste van Nederland! Nu 20% korting #fiets @anna haha, ff kijken. " * 4)[
        :300
    ]
    draft = Draft(text, platform="x", language="nl")
    rules.check(draft)  # warm: lemma tables
    start = time.perf_counter()
    for _ in range(20):
        rules.check(draft)
    assert (time.perf_counter() - start) / 20 < 0.05


# --- strict loading --------------------------------------------------------------------


def test_a_yaml_error_names_the_file_and_line(tmp_path: Path) -> None:
    error = load_error(tmp_path, "  - id: x\n    why: a: b\n")
    assert error.key == "rules.bad_yaml"
    assert str(error).startswith(f"{tmp_path / 'acme.yaml'}, line 4: not valid YAML")
    assert "regel 4" in error.localized("nl")


def test_an_unknown_check_type_names_file_rule_line_and_the_known_types(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD_RULE.replace("check: terms", "check: spelling"))
    assert error.key == "rules.unknown_check"
    assert str(error) == (
        f"{tmp_path / 'acme.yaml'}, line 4: rule acme.banned names an unknown check type "
        "'spelling'. Known check types: count, length, pattern, required_disclaimer, terms, tone."
    )


def test_missing_fields_are_named(tmp_path: Path) -> None:
    body = "".join(line + "\n" for line in GOOD_RULE.splitlines() if "why:" not in line)
    error = load_error(tmp_path, body.replace("    severity: error\n", ""))
    assert error.key == "rules.missing_field"
    assert str(error).startswith(
        f"{tmp_path / 'acme.yaml'}, line 3: rule acme.banned lacks severity, why."
    )


TERMS = "    terms: {goedkoop: voordelig, spotgoedkoop: null}"


def other_check(check: str, parameters: str) -> str:
    """GOOD_RULE with another check type and its parameters instead of the terms."""
    return GOOD_RULE.replace("check: terms", f"check: {check}").replace(TERMS, parameters)


@pytest.mark.parametrize(
    ("body", "key", "line"),
    [
        (GOOD_RULE.replace("severity: error", "severity: fatal"), "rules.bad_choice", 5),
        (GOOD_RULE.replace("languages: [nl]", "languages: [nl, de]"), "rules.bad_choice", 6),
        (GOOD_RULE.replace("    why:", "    colour: red\n    why:"), "rules.unknown_field", 8),
        (
            GOOD_RULE.replace("'{match}'.\", en", "'{woord}'.\", en"),
            "rules.unknown_message_field",
            7,
        ),
        (GOOD_RULE.replace("terms: {", "terms: [{"), "rules.bad_yaml", 10),
        (other_check("count", "    what: tweets\n    max: 1"), "rules.bad_choice", 9),
        (other_check("count", "    what: links\n    max: many"), "rules.bad_value", 10),
        (other_check("count", "    what: links"), "rules.missing_field", 3),
        (other_check("pattern", "    patterns: '(unclosed'"), "rules.bad_regex", 9),
        (other_check("length", "    limits: {twitter: 280}"), "rules.unknown_platform", 9),
        (other_check("tone", "    address: jij"), "rules.bad_choice", 9),
        (GOOD_RULE.replace("fires: [{text", "fires: [{txt"), "rules.bad_example", 11),
    ],
)
def test_each_bad_value_names_its_file_and_line(
    tmp_path: Path, body: str, key: str, line: int
) -> None:
    error = load_error(tmp_path, body)
    assert error.key == key
    assert f"acme.yaml, line {line}:" in str(error)
    assert f"acme.yaml, regel {line}:" in error.localized("nl")


def test_a_bad_value_says_what_was_expected_in_both_languages(tmp_path: Path) -> None:
    error = load_error(tmp_path, other_check("count", "    what: links\n    max: many"))
    assert "'max' must be a whole number, 0 or more." in str(error)
    assert "moet 'max' een geheel getal, 0 of meer zijn." in error.localized("nl")


def test_a_fires_example_that_does_not_fire_refuses_the_rule(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD_RULE.replace("text: Altijd goedkoop.", "text: Altijd fijn."))
    assert error.key == "rules.example_does_not_fire"
    assert str(error).startswith(
        f"{tmp_path / 'acme.yaml'}, line 11: rule acme.banned does not fire on its own example "
        "'Altijd fijn.'; the rule was not loaded."
    )


def test_a_passes_example_that_fires_refuses_the_rule(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD_RULE.replace("[Altijd voordelig.]", "[Nooit goedkoop.]"))
    assert error.key == "rules.example_fires"
    assert "line 12: rule acme.banned fires on its 'passes' example 'Nooit goedkoop.'" in str(error)
    assert "(it marks 'goedkoop')" in str(error)


def test_marks_that_differ_refuse_the_rule(tmp_path: Path) -> None:
    error = load_error(tmp_path, GOOD_RULE.replace("marks: [goedkoop]", "marks: [Altijd]"))
    assert error.key == "rules.example_marks"
    assert "marks 'goedkoop' in its example 'Altijd goedkoop.', not 'Altijd'" in str(error)


def test_a_duplicate_rule_id_and_an_unknown_disable_are_refused(tmp_path: Path) -> None:
    first = write_pack(tmp_path, GOOD_RULE, "a.yaml")
    second = write_pack(tmp_path, GOOD_RULE, "b.yaml")
    with pytest.raises(RulePackError) as caught:
        load_packs([first, second], bundled=False)
    assert caught.value.key == "rules.duplicate_id"
    assert f"line 3: rule id acme.banned is already used in {first}" in str(caught.value)
    other = tmp_path / "c.yaml"
    other.write_text(f"pack: c\ndisable: [basis.nope]\nrules:\n{GOOD_RULE}", encoding="utf-8")
    with pytest.raises(RulePackError) as caught:
        load_packs([other])
    assert caught.value.key == "rules.unknown_disable"


def test_a_file_that_is_not_a_pack_or_not_there_says_so(tmp_path: Path) -> None:
    path = tmp_path / "list.yaml"
    path.write_text("- just\n- a list\n", encoding="utf-8")
    with pytest.raises(RulePackError, match="is not a rule pack"):
        load_packs([path], bundled=False)
    with pytest.raises(RulePackError, match="Cannot read the rule pack"):
        load_packs([tmp_path / "missing.yaml"], bundled=False)


def test_a_pack_names_the_platforms_where_every_post_should_be_on_message(
    tmp_path: Path,
) -> None:
    path = tmp_path / "kanalen.yaml"
    path.write_text(f"pack: acme\non_message: [linkedin, x]\nrules:\n{GOOD_RULE}", "utf-8")
    assert load_packs([path]).on_message == {"linkedin", "x"}
    assert load_packs().on_message == frozenset()
    path.write_text(f"pack: acme\non_message: [myspace]\nrules:\n{GOOD_RULE}", "utf-8")
    with pytest.raises(RulePackError) as caught:
        load_packs([path])
    assert "'on_message' cannot be 'myspace'" in str(caught.value)
