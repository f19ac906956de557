"""The store: migrations on start, constraints, and a database that does not answer."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import inspect, select, text
from sqlalchemy.exc import IntegrityError

from klopt.errors import DatabaseUnavailable, StoreError
from klopt.store import Store, open_store
from klopt.store.migrate import current_revision, head_revision
from klopt.store.models import AuditEvent, Organization, Post, Promise

TABLES = {
    "organization",
    "source_document",
    "document_version",
    "promise",
    "promise_source",
    "post",
    "judgement",
    "verdict",
    "correction",
    "import_batch",
    "audit_event",
    "user",
    "membership",
    "alembic_version",
}


def test_migrations_create_every_table(store: Store) -> None:
    assert set(inspect(store.engine).get_table_names()) >= TABLES
    assert current_revision(store.engine) == head_revision()


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


def test_migration_0002_copies_each_promise_source(tmp_path: object) -> None:
    from alembic import command
    from sqlalchemy import create_engine, text

    from klopt.store.migrate import _config

    url = f"sqlite:///{tmp_path}/old.db"
    engine = create_engine(url)
    cfg = _config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(cfg, "0001")  # type: ignore[arg-type]
        connection.execute(
            text(
                "INSERT INTO organization (id, name, slug, language, created_at) "
                "VALUES (1, 'A', 'a', 'nl', '2026-01-01');"
            )
        )
        connection.execute(
            text(
                "INSERT INTO source_document (id, organization_id, name, kind, created_at) "
                "VALUES (1, 1, 'brochure.md', 'markdown', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO document_version (id, document_id, version, sha256, path, title, "
                "language, text, sentences, added_by, added_at) VALUES (1, 1, 1, 'x', 'p', 't', "
                "'nl', 'Wij leveren binnen 24 uur.', '[]', 'a', '2026-01-01')"
            )
        )
        connection.execute(
            text(
                "INSERT INTO promise (organization_id, key, statement, original_sentence, kind, "
                "status, reasons, paraphrases, document_version_id, section, page, char_start, "
                "char_end, created_at, updated_at) VALUES (1, 'P1', 'Levering 24 uur', "
                "'Wij leveren binnen 24 uur.', 'measurable', 'approved', '[]', '[]', 1, "
                "'Beloften', NULL, 0, 26, '2026-01-01', '2026-01-01'), (1, 'P2', 'Gratis', '', "
                "'aspirational', 'approved', '[]', '[]', NULL, NULL, NULL, NULL, NULL, "
                "'2026-01-01', '2026-01-01')"
            )
        )
    engine.dispose()
    migrated = open_store(url)
    assert current_revision(migrated.engine) == head_revision()
    with migrated.session() as session:
        p1, p2 = session.scalars(select(Promise).order_by(Promise.key)).all()
        assert [
            (s.document, s.version, s.sentence, s.section, s.char_start, s.char_end, s.language)
            for s in p1.sources
        ] == [("brochure.md", 1, "Wij leveren binnen 24 uur.", "Beloften", 0, 26, "nl")]
        assert p2.sources == [] and p2.merged_into_id is None and p2.flag is None
    migrated.close()


def _database_at(url: str, revision: str) -> None:
    from alembic import command
    from sqlalchemy import create_engine

    from klopt.store.migrate import _config

    engine = create_engine(url)
    cfg = _config(url)
    with engine.begin() as connection:
        cfg.attributes["connection"] = connection  # type: ignore[attr-defined]
        command.upgrade(cfg, revision)  # type: ignore[arg-type]
        connection.exec_driver_sql(
            "INSERT INTO organization (id, name, slug, language, created_at) "
            "VALUES (1, 'A', 'a', 'nl', '2026-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO import_batch (id, organization_id, source, format, status, rows_read,"
            " rows_imported, rows_duplicate, rows_skipped, problems, started_at)"
            " VALUES (1, 1, 'm.csv', 'csv', 'done', 1, 1, 0, 0, '[]', '2026-01-01')"
        )
        connection.exec_driver_sql(
            "INSERT INTO post (id, organization_id, kind, platform, external_id, content_hash,"
            " text, raw, import_batch_id, created_at)"
            " VALUES (1, 1, 'mention', 'x', '1', 'h', 'hallo', '{}', 1, '2026-01-01')"
        )
    engine.dispose()


def test_a_database_with_imported_posts_upgrades_past_the_sources_migration(
    tmp_path: Path,
) -> None:
    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at(url, "0004")
    store = open_store(url)
    try:
        with store.session() as session:
            assert session.scalar(text("SELECT source_id FROM import_batch")) is None
            assert session.scalar(text("SELECT count(*) FROM post")) == 1
        assert current_revision(store.engine) == head_revision()
    finally:
        store.close()


def test_a_migration_that_fails_leaves_the_database_as_it_was(tmp_path: Path) -> None:
    from sqlalchemy import create_engine, inspect

    url = f"sqlite:///{tmp_path / 'old.db'}"
    _database_at(url, "0004")
    engine = create_engine(url)
    with engine.begin() as connection:  # in the way of the last step of migration 0005
        connection.exec_driver_sql("CREATE INDEX ix_post_org_url ON organization (name)")
    engine.dispose()
    with pytest.raises(StoreError) as caught:
        open_store(url)
    assert caught.value.key == "store.migration_failed"
    assert "it was left as it was" in str(caught.value)
    engine = create_engine(url)
    try:
        with engine.connect() as connection:
            assert current_revision(engine) == "0004"
            found = inspect(connection)
            assert "source" not in found.get_table_names()  # created, then rolled back
            assert "source_id" not in {c["name"] for c in found.get_columns("import_batch")}
    finally:
        engine.dispose()
