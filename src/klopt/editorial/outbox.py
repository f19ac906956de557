"""The outbox: approved drafts published at their planned time, exactly once (issue 16).

For each approved draft whose planned time has come and whose newest version is the one
approved, on an active account of the draft's platform:

1. the **intent** is stored first (a :class:`~klopt.store.models.Publication` with the
   key ``klopt:<org>:D<n>:v<version>``; the key is unique, so two workers cannot both
   take it);
2. the post is sent under that key (:mod:`klopt.publishing`): a try after a crash, or
   after a server that failed once it had the post, asks for the same post again and
   the platform answers with the one it made;
3. the result is stored: the publication ``sent``, the draft ``published`` as an own
   post with its real URL (:func:`klopt.editorial.drafts.mark_published`).

A draft edited after approval is not approved any more (its state went back to review)
and is not taken. Failures stay on the publication with the message and hint the person
sees: a refused post is not tried again; an expired token, a rate limit or a server
that does not answer are tried again later, with back-off.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from sqlalchemy import exists, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from klopt.accounts.organizations import find_organization
from klopt.accounts.permissions import authorize
from klopt.errors import (
    BadCredentials,
    InputError,
    KloptError,
    PostRefused,
    RateLimited,
    error_from_json,
    error_json,
)
from klopt.publishing import Image, Outgoing, Reach, Sent
from klopt.store import Store, insert_new
from klopt.store.models import (
    Draft,
    DraftReview,
    DraftVersion,
    Organization,
    Post,
    Publication,
    PublishingAccount,
    utcnow,
)

__all__ = [
    "AccountInfo",
    "PublicationInfo",
    "Channel",
    "Channels",
    "DraftOutbox",
    "draft_outbox",
    "PublishRun",
    "add_account",
    "channel_for",
    "list_accounts",
    "list_publications",
    "publication_problem",
    "publication_key",
    "publish_due",
    "publishing_due",
    "reach_due",
    "refresh_reach",
]

#: The platforms klopt sends to itself, and the settings each needs (the others are
#: manual: a person copies the approved text and records the URL).
NEEDED = {"mastodon": ("instance", "token_env"), "bluesky": ("identifier_env", "password_env")}
#: The first wait after a failure that may pass; it doubles per try, up to a day.
FIRST_RETRY = timedelta(minutes=1)
LONGEST_RETRY = timedelta(days=1)


class Channel(Protocol):
    """What the outbox needs of an account's client (:mod:`klopt.publishing`)."""

    def send(self, post: Outgoing) -> Sent: ...

    def reach(self, post_id: str) -> Reach: ...


@dataclass(frozen=True)
class AccountInfo:
    """An organisation's publishing account as shown to people (no secrets: only names)."""

    name: str
    platform: str
    settings: Mapping[str, Any]
    active: bool


def add_account(
    store: Store,
    org_ref: str | None,
    name: str,
    platform: str,
    *,
    actor: str,
    settings: Mapping[str, Any],
) -> AccountInfo:
    """Add a publishing account; ``settings`` name environment variables, never secrets.

    Mastodon: ``instance`` and ``token_env``. Bluesky: ``identifier_env`` and
    ``password_env`` (an app password), ``service`` optionally.

    Raises:
        InputError: an unknown platform, a setting missing, or the name in use.
    """
    platform = platform.strip().lower()
    if platform not in NEEDED:
        raise InputError.keyed("publish.unknown_platform", platform=platform)
    missing = [key for key in NEEDED[platform] if not str(settings.get(key) or "").strip()]
    if missing:
        options = ", ".join("--" + key.replace("_", "-") for key in missing)
        raise InputError.keyed("publish.missing_setting", platform=platform, options=options)
    with store.session() as session:
        org = find_organization(session, org_ref)
        authorize(session, org.id, actor, "sources.manage")
        account = PublishingAccount(
            organization_id=org.id, name=name.strip(), platform=platform, settings=dict(settings)
        )
        session.add(account)
        try:
            session.flush()
        except IntegrityError as exc:
            raise InputError.keyed("publish.account_exists", name=name.strip()) from exc
        return _info(account)


def list_accounts(store: Store, org_ref: str | None) -> list[AccountInfo]:
    """The organisation's publishing accounts."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        rows = session.scalars(
            select(PublishingAccount)
            .where(PublishingAccount.organization_id == org.id)
            .order_by(PublishingAccount.name)
        )
        return [_info(row) for row in rows]


def _info(row: PublishingAccount) -> AccountInfo:
    return AccountInfo(row.name, row.platform, dict(row.settings), row.active)


def channel_for(platform: str, settings: Mapping[str, Any]) -> Channel:
    """The client for an account (the network's; tests pass their own factory)."""
    if platform == "mastodon":
        from klopt.publishing.mastodon import MastodonAccount

        return MastodonAccount(str(settings["instance"]), str(settings["token_env"]))
    from klopt.publishing.bluesky import BlueskyAccount

    return BlueskyAccount(
        str(settings["identifier_env"]),
        str(settings["password_env"]),
        service=str(settings.get("service") or "https://bsky.social"),
    )


class Channels:
    """The accounts' clients, each made once and then reused: one HTTP connection and, on
    Bluesky, one session per account (a login per post would spend Bluesky's 300 logins a
    day; see ``benchmarks/publishing_lag.py``). For one run, or for a worker's life."""

    def __init__(self, make: Callable[[str, Mapping[str, Any]], Channel] = channel_for) -> None:
        self.make = make
        self._made: dict[tuple[str, tuple[tuple[str, str], ...]], Channel] = {}

    def __call__(self, platform: str, settings: Mapping[str, Any]) -> Channel:
        key = (platform, tuple(sorted((k, str(v)) for k, v in settings.items())))
        if key not in self._made:
            self._made[key] = self.make(platform, settings)
        return self._made[key]


def _reused(channels: Callable[[str, Mapping[str, Any]], Channel]) -> Channels:
    return channels if isinstance(channels, Channels) else Channels(channels)


def publication_key(
    org: Organization, draft: Draft, version: int, account: PublishingAccount
) -> str:
    """The key of one version on one account: the same for every try."""
    return f"klopt:{org.slug}:D{draft.number}:v{version}:{account.name}"


@dataclass
class PublishRun:
    """What one run of :func:`publish_due` did."""

    sent: list[str] = field(default_factory=list)
    failed: list[tuple[str, str]] = field(default_factory=list)
    #: Accounts whose rate limit was used up in this run, with the platform's answer.
    limited: dict[int, RateLimited] = field(default_factory=dict)


def publish_due(
    store: Store,
    *,
    now: datetime | None = None,
    channels: Callable[[str, Mapping[str, Any]], Channel] = channel_for,
    limit: int = 100,
    organization_id: int | None = None,
) -> PublishRun:
    """Publish the approved drafts whose time has come (see the module doc); of one
    organisation, or of all."""
    now = now or utcnow()
    run = PublishRun()
    channels = _reused(channels)
    for publication_id in _take(store, now, limit, organization_id):
        _publish(store, publication_id, now, channels, run)
    return run


#: Failures that say the platform did not make the post (nothing to look for later).
_NOT_MADE = (PostRefused, RateLimited, BadCredentials)


def _untaken(now: datetime, organization_id: int | None) -> Any:
    """Approved drafts whose time has come, whose newest version has no publication yet,
    on a platform the organisation has an account for (the draft's own, if it names one):
    what the outbox may take now. Drafts for manual channels and those it took already
    are left out before a round's limit applies, so they never crowd out the others."""
    taken = exists().where(Publication.draft_id == Draft.id, Publication.version == Draft.version)
    usable = exists().where(
        PublishingAccount.organization_id == Draft.organization_id,
        PublishingAccount.platform == Draft.platform,
        PublishingAccount.active.is_(True),
        Draft.account.is_(None) | (PublishingAccount.name == Draft.account),
    )
    query = select(Draft).where(
        Draft.state == "approved",
        Draft.planned_at.is_not(None),
        Draft.planned_at <= now,
        ~taken,
        usable,
    )
    if organization_id is not None:
        query = query.where(Draft.organization_id == organization_id)
    return query


def _retries(now: datetime, organization_id: int | None) -> Any:
    """Publications to try (again) now: intents, and failures whose wait is over."""
    query = (
        select(Publication.id)
        .join(Draft, Draft.id == Publication.draft_id)
        .where(
            Publication.state.in_(("intent", "failed")),
            Draft.state == "approved",
            (Publication.next_attempt_at.is_(None)) | (Publication.next_attempt_at <= now),
        )
    )
    if organization_id is not None:
        query = query.where(Publication.organization_id == organization_id)
    return query


def _take(store: Store, now: datetime, limit: int, organization_id: int | None) -> list[int]:
    """Store the intent of every due draft version (once), and the publications to try."""
    with store.session() as session:
        due = session.scalars(
            _untaken(now, organization_id).order_by(Draft.planned_at, Draft.id).limit(limit)
        ).all()
        orgs = {org.id: org for org in session.scalars(
            select(Organization).where(Organization.id.in_({d.organization_id for d in due}))
        )}  # fmt: skip
        for draft in due:
            if not _approved_as_is(session, draft):
                continue
            account = _account_for(session, draft.organization_id, draft.platform, draft.account)
            assert account is not None  # the query asked for one
            key = publication_key(orgs[draft.organization_id], draft, draft.version, account)
            row = {
                "organization_id": draft.organization_id,
                "draft_id": draft.id,
                "version": draft.version,
                "account_id": account.id,
                "key": key,
                "state": "intent",
                "attempts": 0,
                "created_at": utcnow(),
            }
            # Stored once: a key already there (this worker's earlier round, or another
            # worker's) is left as it is.
            session.execute(insert_new(session, Publication), [row])
        tries = _retries(now, organization_id).order_by(Publication.id).limit(limit)
        return list(session.scalars(tries))


def _account_for(
    session: Session, org_id: int, platform: str | None, name: str | None = None
) -> PublishingAccount | None:
    """The account the outbox sends a draft for ``platform`` with: the one it names, else
    the first active one of the platform; ``None``: a manual channel."""
    query = select(PublishingAccount).where(
        PublishingAccount.organization_id == org_id,
        PublishingAccount.platform == platform,
        PublishingAccount.active.is_(True),
    )
    if name is not None:
        query = query.where(PublishingAccount.name == name)
    return session.scalar(query.order_by(PublishingAccount.id).limit(1))


def _approved_as_is(session: Session, draft: Draft) -> bool:
    """Whether the newest version is the one approved (an edit sends a draft back)."""
    review = session.scalar(
        select(DraftReview)
        .where(DraftReview.draft_id == draft.id)
        .order_by(DraftReview.id.desc())
        .limit(1)
    )
    return review is not None and review.decision == "approved" and review.version == draft.version


def _publish(
    store: Store,
    publication_id: int,
    now: datetime,
    channels: Callable[[str, Mapping[str, Any]], Channel],
    run: PublishRun,
) -> None:
    with store.session() as session:
        publication = session.get(Publication, publication_id)
        if publication is None or publication.state in ("sent", "refused"):
            return
        limited = run.limited.get(publication.account_id)
        if limited is not None:  # the account's limit is used up: the rest waits for it
            key = publication.key
            _failed(store, publication_id, limited, now, tried=False)
            run.failed.append((key, str(limited)))
            return
        draft = session.get(Draft, publication.draft_id)
        account = session.get(PublishingAccount, publication.account_id)
        assert draft is not None and account is not None
        if draft.state != "approved" or draft.version != publication.version:
            return  # edited after the intent: the new version needs approval first
        version = session.scalar(
            select(DraftVersion).where(
                DraftVersion.draft_id == draft.id, DraftVersion.number == publication.version
            )
        )
        assert version is not None
        reply_to = None
        if draft.reply_to_post_id is not None:
            from klopt.editorial.replies import reply_target

            mention = session.get(Post, draft.reply_to_post_id)
            assert mention is not None
            reply_to = reply_target(mention)
        from klopt.editorial.images import images_of

        images = tuple(
            Image(i.data, i.mime, i.alt) for i in images_of(session, draft.id, publication.version)
        )
        post = Outgoing(
            version.text, key=publication.key, language=version.language, reply_to=reply_to,
            since=publication.first_tried_at, images=images, visibility=draft.visibility,
        )  # fmt: skip
        platform, settings, key = account.platform, dict(account.settings), publication.key
        account_id, first_try = account.id, publication.first_tried_at
        publication.attempts += 1
        publication.first_tried_at = first_try or utcnow()  # stored before it is sent
    try:
        sent = channels(platform, settings).send(post)
    except KloptError as exc:
        if isinstance(exc, RateLimited) and exc.until is not None:
            exc = RateLimited.keyed(
                "publish.rate_limited", platform=platform.capitalize(),
                until=exc.until.isoformat(timespec="minutes"),
            ).until_time(exc.until)  # fmt: skip
            run.limited[account_id] = exc
        _failed(store, publication_id, exc, now, first_try=first_try)
        run.failed.append((key, str(exc)))
        return
    from klopt.editorial.drafts import mark_published

    with store.session() as session:
        publication = session.get(Publication, publication_id)
        assert publication is not None
        publication.state = "sent"
        publication.platform_id = sent.id
        publication.url = sent.url
        publication.sent_at = utcnow()
        publication.error = publication.hint = publication.problem = None
        mark_published(session, publication.draft_id, url=sent.url, platform=platform)
    run.sent.append(key)


def _failed(
    store: Store,
    publication_id: int,
    exc: KloptError,
    now: datetime,
    *,
    tried: bool = True,
    first_try: datetime | None = None,
) -> None:
    """Record a failure (``tried=False``: not sent at all, the account's limit was used
    up in this run). A failure that says the post was not made keeps the first try that
    may have reached the platform as it was."""
    with store.session() as session:
        publication = session.get(Publication, publication_id)
        assert publication is not None
        if tried and isinstance(exc, _NOT_MADE):
            publication.first_tried_at = first_try
        publication.error = str(exc)
        publication.hint = exc.hint
        publication.problem = error_json(exc)
        if isinstance(exc, PostRefused):  # the post itself: sending it again will not help
            publication.state = "refused"
            publication.next_attempt_at = None
            return
        publication.state = "failed"
        wait = min(FIRST_RETRY * 2 ** max(publication.attempts - 1, 0), LONGEST_RETRY)
        if isinstance(exc, RateLimited) and exc.until is not None:
            publication.next_attempt_at = max(exc.until, now + FIRST_RETRY)
        else:  # an expired token, a server that does not answer: later, with back-off
            publication.next_attempt_at = now + wait


def publishing_due(store: Store, organization_id: int, now: datetime) -> bool:
    """Whether the organisation has something to publish now (for the worker's schedule):
    a draft the outbox may take, or a publication to try again."""
    with store.session() as session:
        return (
            session.scalar(_untaken(now, organization_id).with_only_columns(Draft.id).limit(1))
            is not None
            or session.scalar(_retries(now, organization_id).limit(1)) is not None
        )


@dataclass(frozen=True)
class PublicationInfo:
    """A publication as people see it: which draft version, where, how it stands, and
    what went wrong with what to do (``problem.localized(lang)``)."""

    draft: int
    version: int
    account: str
    state: str
    attempts: int
    next_attempt_at: datetime | None
    url: str | None
    problem: KloptError | None


def list_publications(
    store: Store, org_ref: str | None, *, draft: int | None = None
) -> list[PublicationInfo]:
    """The organisation's publications (of one draft, by number), newest first."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        query = (
            select(Publication, Draft.number, PublishingAccount.name)
            .join(Draft, Draft.id == Publication.draft_id)
            .join(PublishingAccount, PublishingAccount.id == Publication.account_id)
            .where(Publication.organization_id == org.id)
        )
        if draft is not None:
            query = query.where(Draft.number == draft)
        rows = session.execute(query.order_by(Publication.id.desc())).all()
        return [
            PublicationInfo(
                number,
                p.version,
                account,
                p.state,
                p.attempts,
                p.next_attempt_at,
                p.url,
                publication_problem(p),
            )  # fmt: skip
            for p, number, account in rows
        ]


def publication_problem(publication: Publication) -> KloptError | None:
    """What went wrong, by key where it was kept so (else the English text kept)."""
    if publication.problem:
        return error_from_json(publication.problem)
    if publication.error:
        return KloptError(publication.error)
    return None


@dataclass(frozen=True)
class DraftOutbox:
    """How a draft goes out: the account the outbox sends it with (``None``: a manual
    channel, a person posts it and records the URL) and its publications, newest first."""

    account: str | None
    publications: list[PublicationInfo]

    @property
    def manual(self) -> bool:
        return self.account is None and not self.publications


def draft_outbox(store: Store, org_ref: str | None, number: int) -> DraftOutbox:
    """The outbox's view of draft ``number`` of the organisation (for its page)."""
    with store.session() as session:
        org = find_organization(session, org_ref)
        platform, chosen = session.execute(
            select(Draft.platform, Draft.account).where(
                Draft.organization_id == org.id, Draft.number == number
            )
        ).one()
        account = _account_for(session, org.id, platform, chosen)
        name = account.name if account is not None else None
    return DraftOutbox(name, list_publications(store, org_ref, draft=number))


#: How long after publishing an own post's reach is read back, and how often.
REACH_WITHIN = timedelta(days=14)
REACH_EVERY = timedelta(hours=6)


def _reach_query(now: datetime, organization_id: int | None) -> Any:
    query = select(Publication).where(
        Publication.state == "sent",
        Publication.platform_id.is_not(None),
        Publication.sent_at >= now - REACH_WITHIN,
        (Publication.reach_checked_at.is_(None))
        | (Publication.reach_checked_at <= now - REACH_EVERY),
    )
    if organization_id is not None:
        query = query.where(Publication.organization_id == organization_id)
    return query


def reach_due(store: Store, organization_id: int, now: datetime) -> bool:
    """Whether one of the organisation's recent posts is due for a reach reading."""
    with store.session() as session:
        return session.scalar(_reach_query(now, organization_id).limit(1)) is not None


def refresh_reach(
    store: Store,
    *,
    now: datetime | None = None,
    organization_id: int | None = None,
    channels: Callable[[str, Mapping[str, Any]], Channel] = channel_for,
    limit: int = 200,
) -> tuple[int, int]:
    """Read back likes, shares and replies of recently published own posts.

    The own post's ``reach`` becomes their sum (what the scorecard counts), the parts
    are kept in its ``raw['reach']``. Returns (posts read, posts that failed); a post
    that failed is read again at the next round.
    """
    now = now or utcnow()
    with store.session() as session:
        due = [
            (p.id, p.platform_id, account.platform, dict(account.settings), draft.post_id)
            for p, account, draft in session.execute(
                _reach_query(now, organization_id)
                .add_columns(PublishingAccount, Draft)
                .join(PublishingAccount, PublishingAccount.id == Publication.account_id)
                .join(Draft, Draft.id == Publication.draft_id)
                .order_by(Publication.sent_at)
                .limit(limit)
            ).all()
        ]
    read = failed = 0
    channels = _reused(channels)
    for publication_id, platform_id, platform, settings, post_id in due:
        try:
            reach = channels(platform, settings).reach(str(platform_id))
        except KloptError:
            failed += 1
            continue
        with store.session() as session:
            publication = session.get(Publication, publication_id)
            post = session.get(Post, post_id) if post_id is not None else None
            assert publication is not None
            publication.reach_checked_at = now
            if post is not None:
                from klopt.judging.tallies import record_reach

                record_reach(session, post.id, reach.total)  # the dashboard counts it too
                post.reach = reach.total
                post.raw = {
                    **(post.raw or {}),
                    "reach": {
                        "likes": reach.likes,
                        "shares": reach.shares,
                        "replies": reach.replies,
                    },
                }
        read += 1
    return read, failed
