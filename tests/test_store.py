"""The store: migrations on start, constraints, and a database that does not answer."""

from __future__ import annotations

import pytest
from sqlalchemy import inspect, select
from sqlalchemy.exc import IntegrityError

from klopt.errors import DatabaseUnavailable
from klopt.store import Store, open_store
from klopt.store.migrate import current_revision
from klopt.store.models import AuditEvent, Organization, Post

TABLES = {
    "organization",
    "source_document",
    "document_version",
    "promise",
    "post",
    "judgement",
    "verdict",
    "correction",
    "import_batch",
    "audit_event",
    "alembic_version",
}


def test_migrations_create_every_table(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert current_revision(store.engine) == "0001"


def test_opening_twice_migrates_once_and_keeps_data(db_url: str) -> None:
    first = open_store(db_url)
    with first.session() as session:
        session.add(Organization(name="A", slug="a", language="nl"))
    first.close()
    second = open_store(db_url)
    with second.session() as session:
        assert session.scalars(select(Organization.slug)).all() == ["a"]
    second.close()


def test_a_post_is_unique_per_platform_and_external_id(store: Store) -> None:
    def add() -> None:
        with store.session() as session:
            session.add(
                Post(
                    organization_id=1, platform="x", external_id="1", content_hash="h", text="hallo"
                )
            )

    add()
    with pytest.raises(IntegrityError):
        add()
    with store.session() as session:
        assert len(session.scalars(select(Post)).all()) == 1


def test_a_failed_session_rolls_back(store: Store) -> None:
    with pytest.raises(RuntimeError), store.session() as session:
        session.add(AuditEvent(actor="a", action="x", subject_type="t", subject_id="1"))
        session.flush()
        raise RuntimeError("boom")
    with store.session() as session:
        assert session.scalars(select(AuditEvent).where(AuditEvent.action == "x")).all() == []


def test_a_database_that_does_not_answer_is_one_clear_error() -> None:
    with pytest.raises(DatabaseUnavailable) as caught:
        open_store("postgresql://nobody@127.0.0.1:9/klopt")
    assert "does not answer" in str(caught.value)
    assert "KLOPT_DB" in str(caught.value)


def test_a_malformed_url_is_one_clear_error() -> None:
    with pytest.raises(DatabaseUnavailable, match="not a database URL"):
        open_store("this is not a url")
