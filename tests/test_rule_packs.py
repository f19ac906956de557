"""An organisation's own rule packs: stored (checked on the way in), replaced, removed,
and used by `klopt check` and the warm check of the web app at once. SQLite and
PostgreSQL."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner
from sqlalchemy import func, select

from klopt.accounts.organizations import create_organization
from klopt.accounts.users import add_user, grant
from klopt.checking.findings import Draft
from klopt.checking.packs import add_pack, list_packs, organization_rules, remove_pack
from klopt.checking.rules import RulePackError
from klopt.checking.warm import warm_checker
from klopt.cli.app import cli
from klopt.errors import NotAllowed, NotFound
from klopt.store import Store
from klopt.store.models import AuditEvent
from klopt.store.models import RulePack as StoredPack

ORG = "Voorbeeld BV"
OTHER = "Ander BV"
DRAFT = "Vandaag gratis bezorging in heel Nederland."

PACK = """\
pack: huisstijl
rules:
  - id: huis.gratis
    check: pattern
    severity: error
    languages: [nl]
    message: {nl: "Zeg wat 'gratis' kost: '{match}'.", en: "Say what 'free' costs: '{match}'."}
    why: {nl: Gratis bestaat zelden., en: Free is rarely free.}
    patterns: ['\\bgratis\\b']
    examples:
      fires: [Nu gratis bezorging!]
      passes: [Bezorging kost 4 euro.]
"""


@pytest.fixture(autouse=True)
def _fast_checks(_isolated_home: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


@pytest.fixture
def team(store: Store) -> Store:
    """Voorbeeld BV with anna (admin) and bob (editor); Ander BV with olga (admin)."""
    create_organization(store, OTHER, language="nl", actor="tester")
    for name in ("anna", "bob", "olga"):
        add_user(store, name, actor="tester")
    grant(store, ORG, "anna", "admin", actor="tester")
    grant(store, ORG, "bob", "editor", actor="anna")
    grant(store, OTHER, "olga", "admin", actor="tester")
    return store


def _rules(store: Store, org: str = ORG) -> set[str]:
    check = warm_checker(store, org, embedder="hashing", lang="nl")
    return {f.rule for f in check(Draft(DRAFT, None, "nl")).findings}


def _klopt(store: Store, *args: str, code: int = 0) -> str:
    url = store.engine.url.render_as_string(hide_password=False)
    result = CliRunner().invoke(cli, ["--db", url, *args])
    assert result.exit_code == code, result.output
    return result.output


def _count(store: Store) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(StoredPack)) or 0


def test_a_stored_pack_counts_in_the_warm_check_at_once_and_in_that_org_only(
    team: Store,
) -> None:
    assert "huis.gratis" not in _rules(team)
    info = add_pack(team, ORG, "huisstijl.yaml", PACK, actor="anna")
    assert (info.name, info.file_name, info.rules, info.replaced) == (
        "huisstijl", "huisstijl.yaml", ("huis.gratis",), False,
    )  # fmt: skip
    assert "huis.gratis" in _rules(team)
    assert "huis.gratis" not in _rules(team, OTHER)
    assert [p.id for p in organization_rules(team, ORG).packs] == ["klopt-basis", "huisstijl"]
    assert [p.id for p in organization_rules(team, OTHER).packs] == ["klopt-basis"]


def test_a_pack_of_the_same_name_replaces_the_old_one_and_is_audited(team: Store) -> None:
    add_pack(team, ORG, "huisstijl.yaml", PACK, actor="anna")
    check = warm_checker(team, ORG, embedder="hashing", lang="nl")
    assert "huis.gratis" in {f.rule for f in check(Draft(DRAFT, None, "nl")).findings}
    renamed = PACK.replace("huis.gratis", "huis.kosteloos")
    info = add_pack(team, ORG, "v2.yaml", renamed, actor="anna")
    assert info.replaced
    assert _count(team) == 1
    assert [(p.name, p.file_name) for p in list_packs(team, ORG)] == [("huisstijl", "v2.yaml")]
    found = {f.rule for f in check(Draft(DRAFT, None, "nl")).findings}  # the same warm check
    assert "huis.kosteloos" in found and "huis.gratis" not in found
    with team.session() as session:
        actions = session.scalars(
            select(AuditEvent.action)
            .where(AuditEvent.subject_type == "rule_pack")
            .order_by(AuditEvent.id)
        ).all()
    assert actions == ["rules.add", "rules.replace"]


def test_removing_a_pack_stops_its_rules(team: Store) -> None:
    add_pack(team, ORG, "huisstijl.yaml", PACK, actor="anna")
    remove_pack(team, ORG, "huisstijl", actor="anna")
    assert list_packs(team, ORG) == []
    assert "huis.gratis" not in _rules(team)
    with pytest.raises(NotFound, match="no stored rule pack named 'huisstijl'"):
        remove_pack(team, ORG, "huisstijl", actor="anna")
    add_pack(team, ORG, "huisstijl.yaml", PACK, actor="anna")  # and back again
    assert "huis.gratis" in _rules(team)


def test_a_bad_pack_stores_nothing_and_names_the_file_and_line(team: Store) -> None:
    broken = PACK.replace("    severity: error\n", "    severity: [error\n")
    with pytest.raises(RulePackError) as bad:
        add_pack(team, ORG, "/tmp/x/huisstijl.yaml", broken, actor="anna")
    assert str(bad.value).startswith("huisstijl.yaml, line ")
    assert "not valid YAML" in str(bad.value) and "/tmp" not in str(bad.value)
    fails = PACK.replace("passes: [Bezorging kost 4 euro.]", "passes: [Gratis koffie.]")
    line = fails.splitlines().index("      passes: [Gratis koffie.]") + 1
    with pytest.raises(RulePackError, match=f"huisstijl.yaml, line {line}: rule huis.gratis"):
        add_pack(team, ORG, "huisstijl.yaml", fails, actor="anna")
    duplicate = PACK.replace("id: huis.gratis", "id: basis.superlative.nl")
    with pytest.raises(RulePackError, match="already used in klopt-basis.yaml"):
        add_pack(team, ORG, "huisstijl.yaml", duplicate, actor="anna")
    add_pack(team, ORG, "huisstijl.yaml", PACK, actor="anna")
    other = PACK.replace("pack: huisstijl", "pack: tweede")
    with pytest.raises(RulePackError, match="rule id huis.gratis is already used in huisstijl"):
        add_pack(team, ORG, "tweede.yaml", other, actor="anna")
    assert _count(team) == 1


def test_only_an_admin_may_store_or_remove_a_pack(team: Store) -> None:
    with pytest.raises(NotAllowed, match="bob"):
        add_pack(team, ORG, "huisstijl.yaml", PACK, actor="bob")
    with pytest.raises(NotAllowed):
        add_pack(team, ORG, "huisstijl.yaml", PACK, actor="olga")  # another org's admin
    assert _count(team) == 0
    add_pack(team, ORG, "huisstijl.yaml", PACK, actor="anna")
    with pytest.raises(NotAllowed):
        remove_pack(team, ORG, "huisstijl", actor="bob")
    assert [p.name for p in list_packs(team, ORG)] == ["huisstijl"]


def test_the_cli_adds_lists_uses_and_removes_a_pack(team: Store, tmp_path: Path) -> None:
    path = tmp_path / "huisstijl.yaml"
    path.write_text(PACK, encoding="utf-8")
    org = ["--org", ORG]
    assert "huis.gratis" not in _klopt(team, *org, "check", DRAFT, "--draft-lang", "nl")
    denied = _klopt(team, *org, "--user", "bob", "rules", "add", str(path), code=1)
    assert "bob" in denied and _count(team) == 0
    out = _klopt(team, *org, "--user", "anna", "rules", "add", str(path))
    assert "Rule pack huisstijl (huisstijl.yaml, 1 rules) stored" in out
    listed = json.loads(_klopt(team, *org, "rules", "list", "--json"))
    assert [(p["name"], p["file"], p["uploaded_by"]) for p in listed] == [
        ("huisstijl", "huisstijl.yaml", "anna")
    ]
    assert "huisstijl" in _klopt(team, *org, "rules", "list")
    checked = _klopt(team, *org, "check", DRAFT, "--draft-lang", "nl", "--format", "json", code=1)
    assert "huis.gratis" in {f["rule"] for f in json.loads(checked)["findings"]}
    other = _klopt(team, "--org", OTHER, "check", DRAFT, "--draft-lang", "nl", "--format", "json")
    assert "huis.gratis" not in {f["rule"] for f in json.loads(other)["findings"]}
    extra = tmp_path / "extra.yaml"
    extra.write_text(PACK.replace("huisstijl", "extra").replace("huis.gratis", "x.gratis"))
    both = _klopt(
        team, *org, "check", DRAFT, "--draft-lang", "nl", "--format", "json",
        "--rules", str(extra), code=1,
    )  # fmt: skip
    assert {"huis.gratis", "x.gratis"} <= {f["rule"] for f in json.loads(both)["findings"]}
    nl = _klopt(team, *org, "--lang", "nl", "--user", "anna", "rules", "remove", "huisstijl")
    assert "Regelpakket huisstijl verwijderd" in nl
    assert "Geen bewaarde regelpakketten" in _klopt(team, *org, "--lang", "nl", "rules", "list")
    assert "huis.gratis" not in _klopt(team, *org, "check", DRAFT, "--draft-lang", "nl")
    bad = tmp_path / "kapot.yaml"
    bad.write_text(PACK.replace("check: pattern", "check: pattren"), encoding="utf-8")
    refused = _klopt(team, *org, "--user", "anna", "rules", "add", str(bad), code=1)
    assert "kapot.yaml, line 4: rule huis.gratis" in refused and _count(team) == 1
