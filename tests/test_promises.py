"""The promise register: import/export round trip, decisions, audit trail."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from sqlalchemy import select

from klopt.errors import InputError, UnknownPromise
from klopt.promises import export_register, import_register, list_promises, set_status
from klopt.store import Store
from klopt.store.models import AuditEvent, Promise


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
    assert import_register(store, None, edited, actor="anna") == (0, 3)
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
        section="Beloften",
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
