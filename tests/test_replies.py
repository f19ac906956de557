"""Replies from the inbox (issue 16): a reply to a mention is a draft, checked against the
register, approved as the organisation chooses, sent as an answer to the mention on
Mastodon and Bluesky (local servers that answer like the APIs), and kept with the thread."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import Klopt
from klopt.accounts.audit import AuditEvent
from klopt.checking.check import CheckReport, check_draft
from klopt.checking.findings import Draft as DraftText
from klopt.editorial.drafts import approve_draft, edit_draft, show_draft
from klopt.editorial.outbox import add_account, publish_due, refresh_reach
from klopt.editorial.replies import (
    create_reply,
    reply_policy,
    set_reply_policy,
    thread,
)
from klopt.errors import InputError, NotAllowed, NotFound
from klopt.judging.judge import PromiseSpec
from klopt.store import Store
from klopt.store.models import Organization, Post, Publication, utcnow
from publishing_fakes import FakeBluesky, FakeMastodon
from test_outbox import _channels, _team

PROMISES = [
    PromiseSpec("P1", "Wij leveren binnen 24 uur."),
    PromiseSpec("P2", "Gratis retourneren binnen 30 dagen."),
]
#: What care should not write: more than the register promises (the issue's example).
TOO_MUCH = "Sorry voor het wachten! We zorgen dat het pakket binnen het uur bij u is."
FINE = "Sorry voor het wachten. Wij leveren binnen 24 uur; we kijken het na."


def _check(draft: DraftText) -> CheckReport:
    return check_draft(replace(draft, language="nl"), rules=None, promises=PROMISES)


def _mention(store: Store, platform: str, external_id: str, **raw: object) -> int:
    """A customer's mention as listening stores it."""
    with store.session() as session:
        org_id = session.scalars(select(Organization.id)).one()
        post = Post(
            organization_id=org_id, kind="mention", platform=platform, external_id=external_id,
            content_hash=external_id[-16:], author=str(raw.pop("author", "klant")),
            posted_at=utcnow(), text="Waar blijft mijn pakket? Al drie dagen niets.", raw=raw,
        )  # fmt: skip
        session.add(post)
        session.flush()
        return post.id


@pytest.fixture
def team(store: Store) -> Store:
    _team(store)
    return store


def _mastodon_account(store: Store, fake: FakeMastodon) -> None:
    add_account(
        store, None, "care", "mastodon", actor="anna",
        settings={"instance": fake.url, "token_env": "MASTODON_TOKEN"},
    )  # fmt: skip


def _customer_on_mastodon(store: Store, fake: FakeMastodon) -> tuple[int, str]:
    status_id = fake.customer_status("Waar blijft mijn pakket?", acct="klant")
    status = fake.statuses[status_id]
    mention = _mention(
        store, "mastodon", status["uri"], author=f"klant@{fake.url.split('//')[1]}",
        id=status_id, instance=fake.url, uri=status["uri"],
    )  # fmt: skip
    return mention, status_id


def test_always_a_reply_waits_for_a_person_then_goes_out_as_an_answer(
    team: Store, mastodon: FakeMastodon
) -> None:
    assert reply_policy(team, None) == "always"
    _mastodon_account(team, mastodon)
    mention, status_id = _customer_on_mastodon(team, mastodon)

    reply = create_reply(team, None, mention, FINE, actor="bob", check=_check)

    assert reply.state == "in_review" and reply.reply_to == mention
    assert reply.platform == "mastodon"
    # Mastodon tells only the people a post names: the reply names the customer first.
    assert reply.text.startswith("@klant@") and reply.text.endswith(FINE)
    assert publish_due(team, now=utcnow(), channels=_channels(mastodon)).sent == []

    approve_draft(team, None, reply.number, actor="carla", check=_check)
    run = publish_due(team, now=utcnow() + timedelta(seconds=1), channels=_channels(mastodon))

    assert len(run.sent) == 1
    answer = [s for s in mastodon.statuses.values() if s.get("in_reply_to_id")]
    assert [s["in_reply_to_id"] for s in answer] == [status_id]
    assert answer[0]["content"] == f"<p>{reply.text}</p>"
    (entry,) = thread(team, None, mention)
    assert entry.draft.state == "published" and entry.publication == "sent"
    assert entry.draft.url == answer[0]["url"]


def test_errors_only_a_reply_that_promises_too_much_waits(
    team: Store, mastodon: FakeMastodon
) -> None:
    set_reply_policy(team, None, "errors", actor="anna")
    _mastodon_account(team, mastodon)
    mention, _ = _customer_on_mastodon(team, mastodon)

    fine = create_reply(team, None, mention, FINE, actor="bob", check=_check)
    too_much = create_reply(team, None, mention, TOO_MUCH, actor="bob", check=_check)

    assert fine.state == "approved"
    assert too_much.state == "in_review"
    findings = show_draft(team, None, too_much.number, actor="bob").versions[-1].findings
    assert findings is not None
    assert [f["rule"] for f in findings["findings"]] == ["promise.exceeds"]
    (review,) = show_draft(team, None, fine.number, actor="bob").reviews
    assert review.policy == "errors" and not review.overridden
    with team.session() as session:
        event = session.scalars(
            select(AuditEvent).where(AuditEvent.action == "draft.approve")
        ).one()
        assert event.actor == "klopt" and event.details["policy"] == "errors"

    run = publish_due(team, now=utcnow() + timedelta(seconds=1), channels=_channels(mastodon))
    assert len(run.sent) == 1  # the fine one only
    # Fixing the text lets it through as well: the policy decides on every new version.
    fixed = edit_draft(team, None, too_much.number, FINE + " Excuses!", actor="bob", check=_check)
    assert fixed.state == "approved"


def test_never_no_reply_waits_and_its_findings_stay_with_it(
    team: Store, mastodon: FakeMastodon
) -> None:
    set_reply_policy(team, None, "never", actor="anna")
    _mastodon_account(team, mastodon)
    mention, _ = _customer_on_mastodon(team, mastodon)

    reply = create_reply(team, None, mention, TOO_MUCH, actor="bob", check=_check)

    assert reply.state == "approved"
    (review,) = show_draft(team, None, reply.number, actor="bob").reviews
    assert review.policy == "never" and review.overridden
    assert [f["rule"] for f in (review.findings or {})["findings"]] == ["promise.exceeds"]


def test_the_policy_is_an_admins_choice_among_three(team: Store) -> None:
    with pytest.raises(InputError) as bad:
        set_reply_policy(team, None, "sometimes", actor="anna")
    assert "always, errors, never" in str(bad.value)
    with pytest.raises(NotAllowed):
        set_reply_policy(team, None, "never", actor="bob")
    assert reply_policy(team, None) == "always"


def test_a_reply_to_an_unknown_post_or_an_own_post_is_refused(team: Store) -> None:
    with pytest.raises(NotFound):
        create_reply(team, None, 999, FINE, actor="bob", check=_check)
    own = _mention(team, "mastodon", "https://m.example/own/1")
    with team.session() as session:
        post = session.get(Post, own)
        assert post is not None
        post.kind = "own"
    with pytest.raises(InputError):
        create_reply(team, None, own, FINE, actor="bob", check=_check)
    with pytest.raises(NotAllowed):  # viewers and approvers do not write
        create_reply(team, None, own, FINE, actor="carla", check=_check)


def test_a_mention_read_on_another_server_is_found_by_its_uri(
    team: Store, mastodon: FakeMastodon
) -> None:
    set_reply_policy(team, None, "never", actor="anna")
    _mastodon_account(team, mastodon)
    uri = "https://elders.example/users/klant/statuses/777"
    here = mastodon.customer_status("Waar blijft mijn pakket?", uri=uri)
    mention = _mention(
        team, "mastodon", uri, author="klant@elders.example", id="777",
        instance="https://elders.example", uri=uri,
    )  # fmt: skip

    create_reply(team, None, mention, FINE, actor="bob", check=_check)
    run = publish_due(team, now=utcnow() + timedelta(seconds=1), channels=_channels(mastodon))

    assert len(run.sent) == 1
    (answer,) = [s for s in mastodon.statuses.values() if s.get("in_reply_to_id")]
    assert answer["in_reply_to_id"] == here  # this server's id, not the other's 777


def test_a_mention_that_is_gone_leaves_the_reply_refused_with_what_to_do(
    team: Store, mastodon: FakeMastodon
) -> None:
    set_reply_policy(team, None, "never", actor="anna")
    _mastodon_account(team, mastodon)
    uri = "https://elders.example/users/klant/statuses/778"
    mention = _mention(team, "mastodon", uri, author="klant@elders.example", id="778",
                       instance="https://elders.example", uri=uri)  # fmt: skip

    create_reply(team, None, mention, FINE, actor="bob", check=_check)
    run = publish_due(team, now=utcnow() + timedelta(seconds=1), channels=_channels(mastodon))

    assert run.sent == [] and len(run.failed) == 1
    (entry,) = thread(team, None, mention)
    assert entry.publication == "refused" and entry.problem is not None
    assert "cannot find" in entry.problem.localized("en")
    assert "withdraw" in entry.problem.localized("en")
    assert "trek het antwoord dan in" in entry.problem.localized("nl")
    assert not [s for s in mastodon.statuses.values() if s.get("in_reply_to_id")]


def test_bluesky_replies_keep_the_threads_root(team: Store, bluesky: FakeBluesky) -> None:
    set_reply_policy(team, None, "never", actor="anna")
    add_account(
        team, None, "bsky", "bluesky", actor="anna",
        settings={"identifier_env": "BSKY_HANDLE", "password_env": "BSKY_PASSWORD"},
    )  # fmt: skip
    first = bluesky.customer_post("Mijn pakket is kwijt.")
    root = {"uri": first["uri"], "cid": first["cid"]}
    second = bluesky.customer_post("Nog steeds niets!", reply_to={"root": root, "parent": root})
    # As listening keeps it now (uri, cid, the thread) and as it kept it before (uri only).
    kept = _mention(team, "bluesky", second["uri"], uri=second["uri"], cid=second["cid"],
                    reply={"root": root, "parent": root})  # fmt: skip
    older = _mention(team, "bluesky", first["uri"] + "x", uri=second["uri"])

    create_reply(team, None, kept, FINE, actor="bob", check=_check)
    create_reply(team, None, older, FINE + " Sorry.", actor="bob", check=_check)
    run = publish_due(
        team, now=utcnow() + timedelta(seconds=1), channels=_channels(bluesky=bluesky)
    )

    assert len(run.sent) == 2
    replies = [r["value"]["reply"] for r in bluesky.records.values()]
    parent = {"uri": second["uri"], "cid": second["cid"]}
    assert replies == [{"root": root, "parent": parent}] * 2


def test_the_thread_shows_each_replys_reach(team: Store, mastodon: FakeMastodon) -> None:
    set_reply_policy(team, None, "never", actor="anna")
    _mastodon_account(team, mastodon)
    mention, _ = _customer_on_mastodon(team, mastodon)
    create_reply(team, None, mention, FINE, actor="bob", check=_check)
    sent_at = utcnow() + timedelta(seconds=1)
    publish_due(team, now=sent_at, channels=_channels(mastodon))
    with team.session() as session:
        status_id = session.scalars(select(Publication.platform_id)).one()
    mastodon.statuses[str(status_id)].update(favourites_count=4, reblogs_count=1)

    later = sent_at + timedelta(hours=1)
    read, failed = refresh_reach(team, now=later, channels=_channels(mastodon))

    assert (read, failed) == (1, 0)
    (entry,) = thread(team, None, mention)
    assert entry.reach == 5
    assert entry.reach_parts == {"likes": 4, "shares": 1, "replies": 0}


def test_reply_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from klopt.accounts.organizations import create_organization
    from klopt.store import open_store

    klopt = Klopt(tmp_path)
    store = open_store(klopt.db)
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    _team(store)
    mention = _mention(store, "bluesky", "at://did:plc:k/app.bsky.feed.post/1")

    monkeypatch.setenv("KLOPT_USER", "anna")
    assert "always" in klopt("reply-policy").output
    assert "errors" in klopt("reply-policy", "errors").output
    assert reply_policy(store, None) == "errors"
    monkeypatch.setenv("KLOPT_USER", "bob")
    written = klopt("reply", f"#{mention}", "Excuses, we zoeken het uit.").output

    assert "D1" in written
    (draft,) = json.loads(klopt("drafts", "list", "--json").output)
    assert draft["reply_to"] == mention and draft["text"] == "Excuses, we zoeken het uit."
    assert draft["state"] == "approved"  # no errors, and the policy is "errors"
    assert f"#{mention}" in klopt("drafts", "show", "D1").output
    unknown = klopt("reply", "#999", "Hallo", code=1)
    assert "Traceback" not in unknown.output and "999" in unknown.output
    assert "fout" in klopt("--lang", "nl", "reply-policy", "soms", code=1).output
    store.close()


def test_the_migration_matches_the_model(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from klopt.store.models import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    new = ("reply_to_post_id", "reply_approval", "'policy'")
    assert [d for d in diff if any(name in repr(d) for name in new)] == []
