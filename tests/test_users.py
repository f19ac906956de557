"""Users and roles: argon2 hashes, roles per organisation, refusals by role, audit events."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import Klopt
from klopt.accounts.users import (
    add_user,
    grant,
    list_members,
    require_role,
    revoke,
    role_of,
    set_password,
    verify_password,
)
from klopt.errors import InputError, NotAllowed, NotFound, UnknownUser, UserExists
from klopt.store import Store, open_store
from klopt.store.migrate import current_revision, head_revision
from klopt.store.models import AuditEvent, Membership, User


def _actions(store: Store) -> list[tuple[str, str]]:
    with store.session() as session:
        rows = session.execute(
            select(AuditEvent.action, AuditEvent.actor)
            .where(AuditEvent.subject_type == "user")
            .order_by(AuditEvent.id)
        ).tuples()
        return list(rows)


def test_the_password_is_stored_as_an_argon2_hash_that_verifies(store: Store) -> None:
    info = add_user(store, "anna", password="geheim wachtwoord", actor="admin")
    assert info.has_password
    with store.session() as session:
        stored = session.scalar(select(User.password_hash).where(User.name == "anna"))
    assert stored is not None and stored.startswith("$argon2id$")
    assert "geheim" not in stored
    assert verify_password(store, "anna", "geheim wachtwoord")
    assert not verify_password(store, "anna", "fout")
    assert not verify_password(store, "nobody", "geheim wachtwoord")


def test_a_user_without_password_cannot_log_in_until_given_one(store: Store) -> None:
    assert not add_user(store, "bob", actor="admin").has_password
    assert not verify_password(store, "bob", "")
    set_password(store, "bob", "nieuw", actor="admin")
    assert verify_password(store, "bob", "nieuw")
    assert _actions(store) == [("user.add", "admin"), ("user.password", "admin")]


def test_a_duplicate_user_is_refused_and_nothing_changes(store: Store) -> None:
    add_user(store, "anna", password="een", actor="admin")
    with pytest.raises(UserExists) as caught:
        add_user(store, "anna", password="twee", actor="admin")
    assert caught.value.key == "users.exists"
    assert "anna" in caught.value.localized("nl") and "Er is al" in caught.value.localized("nl")
    assert verify_password(store, "anna", "een")
    assert _actions(store) == [("user.add", "admin")]


def test_bad_names_passwords_and_roles_are_refused(store: Store) -> None:
    with pytest.raises(InputError, match="cannot be a user name"):
        add_user(store, "anna de vries", actor="admin")
    with pytest.raises(InputError, match="password is empty"):
        add_user(store, "anna", password="", actor="admin")
    add_user(store, "anna", actor="admin")
    with pytest.raises(InputError, match="'boss' is not a role") as caught:
        grant(store, None, "anna", "boss", actor="admin")
    assert "editor, approver, admin, viewer" in str(caught.value)
    with pytest.raises(UnknownUser, match="no user 'carl'"):
        grant(store, None, "carl", "editor", actor="admin")
    assert list_members(store, None) == []


def test_roles_are_granted_replaced_and_revoked_with_audit_events(store: Store) -> None:
    add_user(store, "anna", display_name="Anna de Vries", actor="admin")
    add_user(store, "bob", actor="admin")
    grant(store, None, "anna", "editor", actor="admin")
    grant(store, "Voorbeeld BV", "bob", "viewer", actor="admin")
    grant(store, None, "bob", "approver", actor="admin")
    assert [(m.name, m.display_name, m.role) for m in list_members(store, None)] == [
        ("anna", "Anna de Vries", "editor"),
        ("bob", "", "approver"),
    ]
    revoke(store, None, "anna", actor="admin")
    with pytest.raises(NotFound, match="'anna' has no role in Voorbeeld BV"):
        revoke(store, None, "anna", actor="admin")
    assert [m.name for m in list_members(store, None)] == ["bob"]
    with store.session() as session:
        assert session.scalar(select(Membership.role)) == "approver"
        events = session.scalars(
            select(AuditEvent).where(AuditEvent.action.like("membership.%")).order_by(AuditEvent.id)
        ).all()
    assert [(e.action, e.details["name"], e.details["role"]) for e in events] == [
        ("membership.grant", "anna", "editor"),
        ("membership.grant", "bob", "viewer"),
        ("membership.grant", "bob", "approver"),
        ("membership.revoke", "anna", "editor"),
    ]
    assert events[2].details["previous"] == "viewer"
    assert all(e.organization_id == 1 for e in events)


def test_require_role_refuses_in_english_and_dutch(store: Store) -> None:
    add_user(store, "anna", actor="admin")
    add_user(store, "bob", actor="admin")
    grant(store, None, "anna", "editor", actor="admin")
    with store.session() as session:
        assert role_of(session, 1, "anna") == "editor"
        assert role_of(session, 1, "bob") is None
        assert require_role(session, 1, "anna", "editor", "admin") == "editor"
        with pytest.raises(NotAllowed) as refused:
            require_role(session, 1, "anna", "approver", "admin")
        with pytest.raises(NotAllowed) as no_role:
            require_role(session, 1, "bob", "viewer")
    assert refused.value.exit_code == 1
    assert refused.value.message == (
        "anna is editor in this organisation; this needs the role approver / admin."
    )
    assert refused.value.localized("nl").startswith(
        "anna is editor in deze organisatie; hiervoor is de rol approver / admin nodig."
    )
    assert str(no_role.value).startswith("bob has no role in this organisation")
    assert no_role.value.localized("nl").startswith("bob heeft geen rol in deze organisatie")


def test_the_cli_adds_grants_lists_and_revokes(klopt: Klopt) -> None:
    klopt("init", "Voorbeeld BV")
    added = klopt("users", "add", "anna", "--password-stdin", input="geheim\n")
    assert "Added user anna." in added.output
    klopt("users", "add", "bob", "--display-name", "Bob B")
    assert "anna is now editor" in klopt("users", "grant", "anna", "editor").output
    klopt("users", "grant", "bob", "viewer")
    listed = klopt("users", "list").output
    assert "anna" in listed and "editor" in listed and "Bob B" in listed
    assert "bob no longer has a role" in klopt("users", "revoke", "bob").output
    refused = klopt("--lang", "nl", "users", "grant", "anna", "baas", code=1)
    assert "'baas' is geen rol" in refused.output
    duplicate = klopt("users", "add", "anna", code=1)
    assert "already a user 'anna'" in duplicate.output
    store = open_store(klopt.db)
    try:
        assert verify_password(store, "anna", "geheim")
        with store.session() as session:
            actors = set(session.scalars(select(AuditEvent.actor)).all())
        assert actors == {"tester"}
    finally:
        store.close()


def test_migration_0003_upgrades_a_database_made_at_0002(tmp_path: Path) -> None:
    from alembic import command
    from sqlalchemy import create_engine, inspect, text

    from klopt.store.migrate import _config

    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    cfg = _config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(cfg, "0002")  # type: ignore[arg-type]
        connection.execute(
            text(
                "INSERT INTO organization (id, name, slug, language, created_at) "
                "VALUES (1, 'A', 'a', 'nl', '2026-01-01')"
            )
        )
    assert "user" not in inspect(engine).get_table_names()
    engine.dispose()
    migrated = open_store(url)
    try:
        assert current_revision(migrated.engine) == head_revision()
        add_user(migrated, "anna", password="pw", actor="admin")
        grant(migrated, "A", "anna", "admin", actor="admin")
        assert [m.role for m in list_members(migrated, "a")] == ["admin"]
        assert verify_password(migrated, "anna", "pw")
    finally:
        migrated.close()
