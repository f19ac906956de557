"""The store's tables, as SQLAlchemy 2 typed declarative models.

Schema changes go through Alembic migrations in ``store/migrations``; never drop and
recreate. Every row belongs, directly or through its parent, to one organisation.
"""

from __future__ import annotations

from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Date,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship
from sqlalchemy.types import TypeDecorator

__all__ = [
    "Base",
    "TextVector",
    "Organization",
    "SourceDocument",
    "DocumentVersion",
    "Promise",
    "PromiseSource",
    "Post",
    "Judgement",
    "Verdict",
    "Correction",
    "ImportBatch",
    "AuditEvent",
    "User",
    "Membership",
    "ApiToken",
    "WebSession",
    "SignInFailure",
    "Draft",
    "DraftVersion",
    "DraftComment",
    "DraftImage",
    "DraftReview",
    "ListeningSource",
    "Alert",
    "JobLease",
    "JobRun",
    "StanceDay",
    "StanceDayState",
    "RulePack",
    "UtcDateTime",
    "Bounded",
    "utcnow",
]


def utcnow() -> datetime:
    """Now, as an aware UTC timestamp."""
    return datetime.now(UTC)


class UtcDateTime(TypeDecorator[datetime]):
    """An aware time, stored as UTC and read back as UTC on every backend.

    SQLite keeps no offset: a ``09:00+01:00`` stored as it is would come back as 09:00
    UTC. So every time is turned into UTC on the way in (a naive one is taken as UTC)
    and marked UTC on the way out.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Bounded(TypeDecorator[str]):
    """A ``VARCHAR(length)`` that refuses a longer value on every backend.

    PostgreSQL refuses an over-long value with a driver error that loses the whole
    statement; SQLite stores it. Both now raise :class:`klopt.errors.ValueTooLong` before
    the value reaches the database, naming the column (set by :func:`_name_columns`).
    """

    impl = String
    cache_ok = True

    def __init__(self, length: int) -> None:
        super().__init__(length)
        self.limit = length
        self.column = ""

    def process_bind_param(self, value: str | None, dialect: Dialect) -> str | None:
        limit = self.limit
        if value is not None and len(value) > limit:
            from klopt.errors import ValueTooLong

            raise ValueTooLong.keyed(
                "store.too_long", column=self.column, length=len(value), limit=limit
            )
        return value


class Base(DeclarativeBase):
    type_annotation_map = {dict[str, Any]: JSON, list[Any]: JSON}


class Organization(Base):
    __tablename__ = "organization"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Bounded(200))
    slug: Mapped[str] = mapped_column(Bounded(100), unique=True)
    language: Mapped[str] = mapped_column(Bounded(8), default="nl")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    reply_approval: Mapped[str] = mapped_column(Bounded(10), default="always")
    """Whether replies to mentions need a person's approval: ``always``, ``errors`` (only
    when their check finds errors) or ``never`` (see :mod:`klopt.editorial.replies`)."""


class SourceDocument(Base):
    __tablename__ = "source_document"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(Bounded(300))
    kind: Mapped[str] = mapped_column(Bounded(20))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    versions: Mapped[list[DocumentVersion]] = relationship(
        back_populates="document", order_by="DocumentVersion.version"
    )


class DocumentVersion(Base):
    __tablename__ = "document_version"
    __table_args__ = (UniqueConstraint("document_id", "version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    document_id: Mapped[int] = mapped_column(ForeignKey("source_document.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(Bounded(64))
    path: Mapped[str] = mapped_column(Text)
    title: Mapped[str] = mapped_column(Text, default="")
    language: Mapped[str] = mapped_column(Bounded(8))
    text: Mapped[str] = mapped_column(Text)
    sentences: Mapped[list[Any]] = mapped_column(default=list)
    added_by: Mapped[str] = mapped_column(Bounded(100), default="")
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    document: Mapped[SourceDocument] = relationship(back_populates="versions")


class Promise(Base):
    """One promise of the register.

    Where it came from lives in :class:`PromiseSource` rows (one per sentence that states
    it, across documents and languages). ``original_sentence`` is the sentence it was first
    proposed from and never changes when a person edits ``statement``. A promise merged
    into another has status ``merged`` and points at it with ``merged_into_id``.

    The table still holds the columns ``document_version_id``, ``section``, ``page``,
    ``char_start`` and ``char_end`` of schema 0001; migration 0002 copied them into
    ``promise_source`` and they are no longer read or written (dropping them would make
    SQLite rebuild a table that verdicts and corrections point at).
    """

    __tablename__ = "promise"
    __table_args__ = (UniqueConstraint("organization_id", "key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    key: Mapped[str] = mapped_column(Bounded(40))
    statement: Mapped[str] = mapped_column(Text)
    original_sentence: Mapped[str] = mapped_column(Text, default="")
    theme: Mapped[str | None] = mapped_column(Bounded(60), nullable=True)
    kind: Mapped[str] = mapped_column(Bounded(20), default="aspirational")
    status: Mapped[str] = mapped_column(Bounded(20), default="proposed", index=True)
    score: Mapped[float | None] = mapped_column(Float, nullable=True)
    reasons: Mapped[list[Any]] = mapped_column(default=list)
    paraphrases: Mapped[list[Any]] = mapped_column(default=list)
    # No foreign key: adding one to an existing table makes SQLite rebuild it (see 0002).
    merged_into_id: Mapped[int | None] = mapped_column(Integer, nullable=True)
    flag: Mapped[str | None] = mapped_column(Bounded(40), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sources: Mapped[list[PromiseSource]] = relationship(
        back_populates="promise", order_by="PromiseSource.id", cascade="all, delete-orphan"
    )


class PromiseSource(Base):
    """One sentence of one document version that states a promise.

    ``document`` and ``version`` repeat the document's name and version number so that a
    register moved to another installation (without the documents) keeps its provenance;
    ``document_version_id`` links to the stored version when there is one. ``state`` is
    ``current``, ``changed`` (a newer version words it differently) or ``gone`` (a newer
    version no longer says it). ``merged_from`` names the promise it belonged to before a
    merge, so a merge can be read back.
    """

    __tablename__ = "promise_source"

    id: Mapped[int] = mapped_column(primary_key=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id"), index=True)
    document_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("document_version.id"), nullable=True, index=True
    )
    document: Mapped[str] = mapped_column(Bounded(300), default="")
    version: Mapped[int | None] = mapped_column(Integer, nullable=True)
    sentence: Mapped[str] = mapped_column(Text)
    section: Mapped[str | None] = mapped_column(Text, nullable=True)
    page: Mapped[int | None] = mapped_column(Integer, nullable=True)
    char_start: Mapped[int | None] = mapped_column(Integer, nullable=True)
    char_end: Mapped[int | None] = mapped_column(Integer, nullable=True)
    language: Mapped[str | None] = mapped_column(Bounded(8), nullable=True)
    state: Mapped[str] = mapped_column(Bounded(20), default="current")
    merged_from: Mapped[str | None] = mapped_column(Bounded(40), nullable=True)
    added_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    promise: Mapped[Promise] = relationship(back_populates="sources")
    document_version: Mapped[DocumentVersion | None] = relationship()


class ImportBatch(Base):
    __tablename__ = "import_batch"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    source: Mapped[str] = mapped_column(Text)
    format: Mapped[str] = mapped_column(Bounded(20))
    status: Mapped[str] = mapped_column(Bounded(20), default="running")
    rows_read: Mapped[int] = mapped_column(Integer, default=0)
    rows_imported: Mapped[int] = mapped_column(Integer, default=0)
    rows_duplicate: Mapped[int] = mapped_column(Integer, default=0)
    rows_skipped: Mapped[int] = mapped_column(Integer, default=0)
    problems: Mapped[list[Any]] = mapped_column(default=list)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    source_id: Mapped[int | None] = mapped_column(ForeignKey("source.id"), nullable=True)


class Post(Base):
    """An own post or a mention; ``kind`` tells which."""

    __tablename__ = "post"
    __table_args__ = (
        UniqueConstraint("organization_id", "platform", "external_id"),
        Index("ix_post_org_hash", "organization_id", "content_hash"),
        Index("ix_post_org_time", "organization_id", "posted_at"),
        Index("ix_post_org_url", "organization_id", "url"),
        # Counts a period's mentions from the index alone (the dashboard's headline).
        Index("ix_post_org_kind_time", "organization_id", "kind", "posted_at", "platform"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    kind: Mapped[str] = mapped_column(Bounded(10), default="mention")
    platform: Mapped[str] = mapped_column(Bounded(40))
    external_id: Mapped[str] = mapped_column(Bounded(200))
    content_hash: Mapped[str] = mapped_column(Bounded(64))
    author: Mapped[str | None] = mapped_column(Bounded(200), nullable=True)
    posted_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    reach: Mapped[int | None] = mapped_column(Integer, nullable=True)
    language: Mapped[str | None] = mapped_column(Bounded(8), nullable=True)
    text: Mapped[str] = mapped_column(Text)
    raw: Mapped[dict[str, Any]] = mapped_column(default=dict)
    import_batch_id: Mapped[int | None] = mapped_column(
        ForeignKey("import_batch.id"), nullable=True
    )
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Judgement(Base):
    """One run of the judgement engine over one post: language, sentiment, when, which model."""

    __tablename__ = "judgement"
    __table_args__ = (UniqueConstraint("post_id", "model_version"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), index=True)
    model_version: Mapped[str] = mapped_column(Bounded(200))
    language: Mapped[str] = mapped_column(Bounded(8))
    sentiment: Mapped[str] = mapped_column(Bounded(10))
    sentiment_confidence: Mapped[float] = mapped_column(Float)
    doubt: Mapped[float | None] = mapped_column(Float, nullable=True)
    """How unsure the engine is about this post (0-1): a promise near its link threshold
    or an unsure stance. The review queue puts the most doubtful posts first."""
    judged_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    verdicts: Mapped[list[Verdict]] = relationship(back_populates="judgement")


class TextVector(Base):
    """A text's embedding by one model, kept so that re-judging never embeds it again.

    Keyed by the model (name and version) and the SHA-1 of the text, so a text that
    several posts share is stored once; ``vector`` holds float16 values. The judge uses
    the float16 values also on the first run, so re-judging from the store gives the
    same answers as embedding afresh.
    """

    __tablename__ = "text_vector"

    model: Mapped[str] = mapped_column(Bounded(60), primary_key=True)
    text_hash: Mapped[str] = mapped_column(Bounded(40), primary_key=True)
    vector: Mapped[bytes] = mapped_column(LargeBinary)


class Verdict(Base):
    """The engine's link of a post to a promise, with stance and evidence.

    The model that made it is its judgement's ``model_version``; ``post_id`` repeats the
    judgement's post so that verdicts can be filtered by post without a join.
    """

    __tablename__ = "verdict"
    __table_args__ = (UniqueConstraint("judgement_id", "promise_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    judgement_id: Mapped[int] = mapped_column(ForeignKey("judgement.id"), index=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), index=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id"), index=True)
    stance: Mapped[str] = mapped_column(Bounded(10))
    confidence: Mapped[float] = mapped_column(Float)
    score: Mapped[float] = mapped_column(Float)
    evidence: Mapped[dict[str, Any]] = mapped_column(default=dict)
    judgement: Mapped[Judgement] = relationship(back_populates="verdicts")


class Correction(Base):
    """A person's verdict on a (post, promise) pair; it overrides the engine everywhere.

    ``stance`` is kept, broken or neutral, or ``none`` for "this post is not about this
    promise". The newest correction for a pair wins; older ones stay as history.
    """

    __tablename__ = "correction"

    id: Mapped[int] = mapped_column(primary_key=True)
    post_id: Mapped[int] = mapped_column(ForeignKey("post.id"), index=True)
    promise_id: Mapped[int] = mapped_column(ForeignKey("promise.id"), index=True)
    stance: Mapped[str] = mapped_column(Bounded(10))
    author: Mapped[str] = mapped_column(Bounded(100))
    note: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class AuditEvent(Base):
    __tablename__ = "audit_event"

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), nullable=True, index=True
    )
    actor: Mapped[str] = mapped_column(Bounded(100))
    action: Mapped[str] = mapped_column(Bounded(60))
    subject_type: Mapped[str] = mapped_column(Bounded(40))
    subject_id: Mapped[str] = mapped_column(Bounded(100))
    details: Mapped[dict[str, Any]] = mapped_column(default=dict)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class User(Base):
    """A person who works in klopt: the CLI acts as one, the web app logs one in.

    ``password_hash`` is an argon2 hash (never the password); a user without one cannot
    log in to the web app but can still be named on the command line.
    """

    __tablename__ = "user"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(Bounded(100), unique=True)
    display_name: Mapped[str] = mapped_column(Bounded(200), default="")
    password_hash: Mapped[str | None] = mapped_column(Bounded(200), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    #: The language the web app speaks to this user (``None``: the browser's choice).
    lang: Mapped[str | None] = mapped_column(Bounded(8), nullable=True)


class WebSession(Base):
    """A signed-in browser: the cookie holds a random id, the store only its SHA-256.

    A new id is made at every sign-in; signing out deletes the row. ``csrf`` is the token
    every form and htmx request of this session carries.
    """

    __tablename__ = "web_session"

    id: Mapped[str] = mapped_column(Bounded(64), primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), nullable=True
    )
    csrf: Mapped[str] = mapped_column(Bounded(64))
    address: Mapped[str] = mapped_column(Bounded(64), default="")
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    user: Mapped[User] = relationship()


class SignInFailure(Base):
    """A failed sign-in, kept for a while to slow down password guessing (per user and
    per address)."""

    __tablename__ = "sign_in_failure"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_name: Mapped[str] = mapped_column(Bounded(100), index=True)
    address: Mapped[str] = mapped_column(Bounded(64), index=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow, index=True)


class ApiToken(Base):
    """A secret a user acts with in scripts (``KLOPT_TOKEN``) and, next, the web API.

    Only the SHA-256 of the token is kept: a token is long and random, so a slow hash
    adds nothing, and a lookup by hash stays one index search. The token itself is shown
    once, when it is made.
    """

    __tablename__ = "api_token"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    name: Mapped[str] = mapped_column(Bounded(100), default="")
    token_hash: Mapped[str] = mapped_column(Bounded(64), unique=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    last_used_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    user: Mapped[User] = relationship()


class Membership(Base):
    """A user's one role in one organisation: editor, approver, admin or viewer."""

    __tablename__ = "membership"
    __table_args__ = (UniqueConstraint("user_id", "organization_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id"), index=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    role: Mapped[str] = mapped_column(Bounded(20))
    granted_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    user: Mapped[User] = relationship()


class Draft(Base):
    """An own post on its way out: numbered per organisation, with versions and a state.

    ``state`` is one of draft, in_review, approved, changes_requested, published,
    withdrawn (see :mod:`klopt.editorial.drafts`). Nothing is deleted: a draft that should not go
    out is withdrawn. ``version`` is the number of the newest version; ``post_id`` is the
    own post it became when published; ``reply_to_post_id`` the mention a reply answers.
    """

    __tablename__ = "draft"
    __table_args__ = (UniqueConstraint("organization_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    platform: Mapped[str | None] = mapped_column(Bounded(20), nullable=True)
    planned_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    state: Mapped[str] = mapped_column(Bounded(20), default="draft")
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    version: Mapped[int] = mapped_column(Integer, default=1)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    published_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    post_id: Mapped[int | None] = mapped_column(ForeignKey("post.id"), nullable=True)
    reply_to_post_id: Mapped[int | None] = mapped_column(
        ForeignKey("post.id"), nullable=True, index=True
    )
    visibility: Mapped[str] = mapped_column(Bounded(10), default="public")
    """Mastodon's ``public``, ``unlisted``, ``private`` or ``direct``."""
    account: Mapped[str | None] = mapped_column(Bounded(80), nullable=True)
    """The publishing account it goes out with (by name); ``None``: the first active one
    of its platform."""
    author: Mapped[User] = relationship(foreign_keys=[author_id])


class DraftVersion(Base):
    """One numbered text of a draft, who wrote it, and the findings of its check."""

    __tablename__ = "draft_version"
    __table_args__ = (UniqueConstraint("draft_id", "number"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    number: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(Text)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    language: Mapped[str | None] = mapped_column(Bounded(8), nullable=True)
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    findings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    author: Mapped[User] = relationship()


class DraftImage(Base):
    """An image of one version of a draft, with its alt text; a new version keeps the
    images of the one before unless it replaces them."""

    __tablename__ = "draft_image"
    __table_args__ = (UniqueConstraint("draft_id", "version", "position"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    position: Mapped[int] = mapped_column(Integer)
    mime: Mapped[str] = mapped_column(Bounded(40))
    alt: Mapped[str] = mapped_column(Text)
    size: Mapped[int] = mapped_column(Integer)
    data: Mapped[bytes] = mapped_column(LargeBinary)


class DraftComment(Base):
    """A remark on one version of a draft."""

    __tablename__ = "draft_comment"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    text: Mapped[str] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    author: Mapped[User] = relationship()


class DraftReview(Base):
    """A reviewer's decision on one version: approved or changes_requested.

    ``findings`` is the check report of that version at the moment of the decision
    (``klopt.checking.check.report_json``); ``overridden`` says the approver approved despite
    error findings, with ``note`` saying why. ``policy`` is set when no person decided: the
    organisation's reply approval (``errors`` or ``never``) let a reply through.
    """

    __tablename__ = "draft_review"

    id: Mapped[int] = mapped_column(primary_key=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    reviewer_id: Mapped[int] = mapped_column(ForeignKey("user.id"))
    decision: Mapped[str] = mapped_column(Bounded(20))
    note: Mapped[str] = mapped_column(Text, default="")
    score: Mapped[int | None] = mapped_column(Integer, nullable=True)
    findings: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    overridden: Mapped[bool] = mapped_column(Boolean, default=False)
    policy: Mapped[str | None] = mapped_column(Bounded(10), nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    reviewer: Mapped[User] = relationship()


class PublishingAccount(Base):
    """An organisation's own account on a platform klopt publishes to (issue 16).

    ``settings`` holds the server's address and the *names* of the environment variables
    with the token or app password; never a secret itself.
    """

    __tablename__ = "publishing_account"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(Bounded(80))
    platform: Mapped[str] = mapped_column(Bounded(20))
    settings: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)


class Publication(Base):
    """One draft version on its way to one account: the intent is stored before sending.

    ``key`` is the same for every try of that version (the platform's idempotency key).
    ``state``: ``intent`` (recorded, maybe sent: a try sends it again under the same key),
    ``sent``, ``failed`` (tried again at ``next_attempt_at``) or ``refused`` (the
    platform refused the post itself; not tried again).
    """

    __tablename__ = "publication"
    __table_args__ = (UniqueConstraint("key"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    draft_id: Mapped[int] = mapped_column(ForeignKey("draft.id"), index=True)
    version: Mapped[int] = mapped_column(Integer)
    account_id: Mapped[int] = mapped_column(ForeignKey("publishing_account.id"))
    key: Mapped[str] = mapped_column(Bounded(200))
    state: Mapped[str] = mapped_column(Bounded(20), default="intent")
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    error: Mapped[str | None] = mapped_column(Text, nullable=True)
    hint: Mapped[str | None] = mapped_column(Text, nullable=True)
    platform_id: Mapped[str | None] = mapped_column(Text, nullable=True)
    url: Mapped[str | None] = mapped_column(Text, nullable=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    sent_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    reach_checked_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    first_tried_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    """The first try that may have reached the platform (``None``: none did; a refusal, a
    rate limit or a refused token says the post was not made)."""
    problem: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    """What went wrong last, by error key and values (:func:`klopt.errors.error_json`),
    shown in each reader's language; ``error`` and ``hint`` keep it in English."""


class ListeningSource(Base):
    """A place klopt listens to for one organisation, with where its last sync got to.

    ``kind`` names the source kind (``rss``, ``mastodon``, ...; see
    :mod:`klopt.listening.source`) and ``config`` its settings: never a secret, only the
    name of the environment variable that holds one. ``cursor`` is the kind's own state
    after the last committed page. A removed source keeps its row (``removed_at``) and
    its mentions.
    """

    __tablename__ = "source"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    name: Mapped[str] = mapped_column(Bounded(100))
    kind: Mapped[str] = mapped_column(Bounded(40))
    config: Mapped[dict[str, Any]] = mapped_column(default=dict)
    own: Mapped[bool] = mapped_column(Boolean, default=False)
    interval: Mapped[int] = mapped_column(Integer, default=900)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    removed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    cursor: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    status: Mapped[str] = mapped_column(Bounded(20), default="new")
    last_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_success_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    last_error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)
    next_run_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    items_total: Mapped[int] = mapped_column(Integer, default=0)
    last_run_items: Mapped[int] = mapped_column(Integer, default=0)


class Alert(Base):
    """A significant rise of broken verdicts for a promise, or of volume (issue 6).

    ``kind`` is ``broken`` (``promise_id`` set) or ``volume`` (``promise_id`` empty);
    ``state`` is ``open`` or ``closed``. One alert per promise and kind is open at a time:
    a new detection updates it. ``baseline_count`` and ``baseline_exposure`` are frozen at
    the opening (the alert closes when the rate is back at *that* baseline); the
    ``recent_*`` columns, ``ratio``, ``p_value`` and ``q_value`` are those of the newest
    check. ``settled`` is False while an alert a person closed still shows the rise: no new
    alert opens for its promise until the rate is back. ``evidence`` holds post ids, most
    telling first; ``deliveries`` each delivery attempt (event, channel, status, time,
    error key and values; for a webhook the name of the environment variable with its
    secret, never the secret). See :mod:`klopt.insight.alerting`.
    """

    __tablename__ = "alert"
    __table_args__ = (
        Index("ix_alert_org_state", "organization_id", "state"),
        Index("ix_alert_org_kind_promise", "organization_id", "kind", "promise_id"),
        # One open alert per promise and kind (volume alerts have no promise: 0).
        Index(
            "ux_alert_open",
            "organization_id",
            "kind",
            text("coalesce(promise_id, 0)"),
            unique=True,
            sqlite_where=text("state = 'open'"),
            postgresql_where=text("state = 'open'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    promise_id: Mapped[int | None] = mapped_column(ForeignKey("promise.id"), nullable=True)
    kind: Mapped[str] = mapped_column(Bounded(10))
    state: Mapped[str] = mapped_column(Bounded(10), default="open")
    opened_at: Mapped[datetime] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())
    closed_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    closed_by: Mapped[str | None] = mapped_column(Bounded(100), nullable=True)
    settled: Mapped[bool] = mapped_column(Boolean, default=False)
    window_start: Mapped[datetime] = mapped_column(UtcDateTime())
    window_end: Mapped[datetime] = mapped_column(UtcDateTime())
    baseline_start: Mapped[datetime] = mapped_column(UtcDateTime())
    baseline_end: Mapped[datetime] = mapped_column(UtcDateTime())
    recent_count: Mapped[int] = mapped_column(Integer)
    recent_exposure: Mapped[float] = mapped_column(Float)
    baseline_count: Mapped[int] = mapped_column(Integer)
    baseline_exposure: Mapped[float] = mapped_column(Float)
    ratio: Mapped[float] = mapped_column(Float)
    p_value: Mapped[float] = mapped_column(Float)
    q_value: Mapped[float] = mapped_column(Float)
    checks: Mapped[int] = mapped_column(Integer, default=1)
    notified_count: Mapped[int] = mapped_column(Integer, default=0)
    evidence: Mapped[list[Any]] = mapped_column(default=list)
    delivery_status: Mapped[str] = mapped_column(Bounded(20), default="pending")
    deliveries: Mapped[list[Any]] = mapped_column(default=list)
    note: Mapped[str] = mapped_column(Text, default="")


# --- background jobs (issue 13: the worker) -----------------------------------------------


class JobLease(Base):
    """Which worker runs a job now: one row per job name, taken with an atomic ``UPDATE``
    where the lease has expired (an ``INSERT`` on first use), renewed while the job runs
    and released at its end; a crashed worker's lease expires. See :mod:`klopt.jobs.leases`.
    """

    __tablename__ = "job_lease"

    name: Mapped[str] = mapped_column(Bounded(200), primary_key=True)
    organization_id: Mapped[int | None] = mapped_column(
        ForeignKey("organization.id"), nullable=True, index=True
    )
    job: Mapped[str] = mapped_column(Bounded(20))
    subject: Mapped[str] = mapped_column(Bounded(100), default="")
    holder: Mapped[str] = mapped_column(Bounded(200))
    taken_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class JobRun(Base):
    """One run of a background job for one organisation: when, by which worker, how it
    ended (``running``, ``ok``, ``failed``, ``skipped``), what it did (``counts``) and its
    error by key and values, shown later in any language. See :mod:`klopt.jobs.runs`."""

    __tablename__ = "job_run"
    __table_args__ = (
        Index("ix_job_run_org_started", "organization_id", "started_at"),
        Index("ix_job_run_org_job", "organization_id", "job", "subject"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"))
    job: Mapped[str] = mapped_column(Bounded(20))
    subject: Mapped[str] = mapped_column(Bounded(100), default="")
    worker: Mapped[str] = mapped_column(Bounded(200))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    finished_at: Mapped[datetime | None] = mapped_column(UtcDateTime(), nullable=True)
    status: Mapped[str] = mapped_column(Bounded(10), default="running")
    counts: Mapped[dict[str, Any]] = mapped_column(default=dict)
    error: Mapped[dict[str, Any] | None] = mapped_column(JSON, nullable=True)


# --- daily tallies of current stances (issue 13: the dashboard) ---------------------------


class StanceDay(Base):
    """How many (post, promise) pairs have each current stance, per organisation, platform
    (and all platforms), UTC day of the post, promise and kind of post: what the
    dashboard's scorecard sums.

    The current stance of a pair is that of :func:`klopt.judging.verdicts.current_stances`;
    :mod:`klopt.judging.tallies` keeps these rows in the transaction that writes the
    verdicts or the correction. ``reach`` sums the known reach, ``reach_known`` counts the
    pairs with a known reach, ``weight`` sums each pair's reputation weight at the start of
    its day (see :func:`klopt.judging.tallies.pair_weight`).
    """

    __tablename__ = "stance_day"
    # Clustered by its key on SQLite: a period's rows are read as one contiguous range.
    __table_args__ = {"sqlite_with_rowid": False}

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id"), primary_key=True, autoincrement=False
    )
    #: The post's platform, or ``""`` for the row that sums all platforms.
    platform: Mapped[str] = mapped_column(Bounded(40), primary_key=True)
    day: Mapped[date] = mapped_column(Date, primary_key=True)
    promise_id: Mapped[int] = mapped_column(
        ForeignKey("promise.id"), primary_key=True, autoincrement=False
    )
    kind: Mapped[str] = mapped_column(Bounded(10), primary_key=True)
    stance: Mapped[str] = mapped_column(Bounded(10), primary_key=True)
    count: Mapped[int] = mapped_column(Integer, default=0)
    reach: Mapped[int] = mapped_column(BigInteger, default=0)
    reach_known: Mapped[int] = mapped_column(Integer, default=0)
    weight: Mapped[float] = mapped_column(Float, default=0.0)


class StanceDayState(Base):
    """That an organisation's tallies are built, and by which version of the counting (a
    missing row or another version: build them on first use); the row is also what a
    writer of the tallies locks on SQLite (``changes``)."""

    __tablename__ = "stance_day_state"

    organization_id: Mapped[int] = mapped_column(
        ForeignKey("organization.id"), primary_key=True, autoincrement=False
    )
    version: Mapped[int] = mapped_column(Integer, default=1)
    built_at: Mapped[datetime] = mapped_column(UtcDateTime())
    changes: Mapped[int] = mapped_column(Integer, default=0)


# --- an organisation's own rule packs (issue 13: stored rule packs) -----------------------


class RulePack(Base):
    """A rule pack an organisation keeps: its YAML as uploaded, checked on the way in
    (:func:`klopt.checking.packs.add_pack`). One row per pack name; a new upload of the
    same name replaces the text, a removed pack stays as inactive."""

    __tablename__ = "rule_pack"
    __table_args__ = (UniqueConstraint("organization_id", "name"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    organization_id: Mapped[int] = mapped_column(ForeignKey("organization.id"), index=True)
    #: The pack's ``pack:`` id from its YAML.
    name: Mapped[str] = mapped_column(Bounded(100))
    source: Mapped[str] = mapped_column(Text)
    #: The file name it was uploaded as, which its error messages name.
    file_name: Mapped[str] = mapped_column(Bounded(200))
    uploaded_by: Mapped[str] = mapped_column(Bounded(100))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime(), default=utcnow)
    active: Mapped[bool] = mapped_column(Boolean, default=True)


def _name_columns() -> None:
    """Tell every bounded column its name, for the error that says which value is too long."""
    for table in Base.metadata.tables.values():
        for column in table.columns:
            if isinstance(column.type, Bounded):
                column.type.column = f"{table.name}.{column.name}"


_name_columns()
