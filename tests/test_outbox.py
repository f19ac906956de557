"""The outbox (issue 16): approved drafts go out at their time, exactly once, on the
organisation's Mastodon and Bluesky accounts (local servers that answer like the APIs)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from pytest_httpserver import HTTPServer
from sqlalchemy import select

from klopt.accounts.users import add_user, grant
from klopt.checking.check import CheckReport, check_draft
from klopt.checking.findings import Draft as DraftText
from klopt.editorial.drafts import approve_draft, create_draft, edit_draft, submit_draft
from klopt.editorial.outbox import Channel, add_account, list_accounts, publish_due
from klopt.errors import InputError
from klopt.listening.http import Http
from klopt.publishing import Outgoing, Sent
from klopt.publishing.bluesky import BlueskyAccount
from klopt.publishing.mastodon import MastodonAccount
from klopt.store import Store
from klopt.store.models import Draft, Post, Publication, utcnow
from publishing_fakes import HANDLE, PASSWORD, TOKEN, FakeBluesky, FakeMastodon

NOW = datetime(2026, 12, 1, 9, 0, tzinfo=UTC)


def _check(draft: DraftText) -> CheckReport:
    from dataclasses import replace

    return check_draft(replace(draft, language="nl"), rules=None, promises=[])


def _team(store: Store) -> None:
    for name in ("anna", "bob", "carla"):
        add_user(store, name, actor="setup")
    grant(store, None, "anna", "admin", actor="iemand")
    grant(store, None, "bob", "editor", actor="anna")
    grant(store, None, "carla", "approver", actor="anna")


def _approved(store: Store, text: str, platform: str, at: datetime = NOW) -> int:
    number = create_draft(
        store, None, text, actor="bob", platform=platform, planned_at=at, check=_check
    ).number
    submit_draft(store, None, number, actor="bob")
    approve_draft(store, None, number, actor="carla", check=_check)
    return number


def _draft(store: Store, number: int) -> Draft:
    with store.session() as session:
        draft = session.scalars(select(Draft).where(Draft.number == number)).one()
        session.expunge(draft)
        return draft


def _http() -> Http:
    return Http(sleep=lambda _: None, random=lambda: 0.5, backoff=0.01)


def _channels(
    mastodon: FakeMastodon | None = None, bluesky: FakeBluesky | None = None, token: str = TOKEN
):  # type: ignore[no-untyped-def]
    def make(platform: str, settings: Mapping[str, Any]) -> Channel:
        if platform == "mastodon":
            assert mastodon is not None
            return MastodonAccount(mastodon.url, settings["token_env"], http=_http(),
                                   environ={settings["token_env"]: token})  # fmt: skip
        assert bluesky is not None
        return BlueskyAccount(
            settings["identifier_env"], settings["password_env"], service=bluesky.url,
            http=_http(), environ={"BSKY_HANDLE": HANDLE, "BSKY_PASSWORD": PASSWORD},
        )  # fmt: skip

    return make


@pytest.fixture
def team(store: Store) -> Store:
    _team(store)
    settings = {"instance": "https://social.example", "token_env": "ORG_TOKEN"}
    add_account(store, None, "org-mastodon", "mastodon", actor="anna", settings=settings)
    return store


def test_accounts_hold_the_names_of_secrets_only(team: Store) -> None:
    [account] = list_accounts(team, None)
    assert (account.name, account.platform, account.settings["token_env"]) == (
        "org-mastodon", "mastodon", "ORG_TOKEN"
    )  # fmt: skip
    with pytest.raises(InputError):
        add_account(team, None, "x", "mastodon", actor="anna", settings={"instance": "https://a"})
    with pytest.raises(InputError):
        add_account(team, None, "org-mastodon", "mastodon", actor="anna",
                    settings={"instance": "https://a", "token_env": "T"})  # fmt: skip


def test_an_approved_draft_goes_out_at_its_time_once(team: Store, mastodon: FakeMastodon) -> None:
    number = _approved(team, "Vandaag besteld, morgen in huis.", "mastodon")
    later = _approved(team, "Volgende week nieuws.", "mastodon", at=NOW + timedelta(days=7))
    early = publish_due(team, now=NOW - timedelta(minutes=1), channels=_channels(mastodon))
    assert early.sent == [] and mastodon.statuses == {}
    run = publish_due(team, now=NOW, channels=_channels(mastodon))
    assert len(run.sent) == 1 and len(mastodon.statuses) == 1
    [status] = mastodon.statuses.values()
    info = _draft(team, number)
    assert (info.state, info.url) == ("published", status["url"])
    assert _draft(team, later).state == "approved"
    with team.session() as session:
        own = session.scalars(select(Post).where(Post.kind == "own")).all()
        assert [p.url for p in own] == [status["url"]]
    again = publish_due(team, now=NOW + timedelta(hours=1), channels=_channels(mastodon))
    assert again.sent == [] and len(mastodon.statuses) == 1


def test_a_draft_edited_after_approval_does_not_go_out(team: Store, mastodon: FakeMastodon) -> None:
    number = _approved(team, "Versie een.", "mastodon")
    edit_draft(team, None, number, "Versie twee, niet goedgekeurd.", actor="bob", check=_check)
    run = publish_due(team, now=NOW, channels=_channels(mastodon))
    assert run.sent == [] and mastodon.statuses == {}


class Crash(BaseException):
    """The worker killed (not an error it could handle)."""


class SendsThenDies:
    """A channel that sends, and then the worker is killed before it records the result."""

    def __init__(self, inner: Channel) -> None:
        self.inner = inner

    def send(self, post: Outgoing) -> Sent:
        self.inner.send(post)
        raise Crash

    def reach(self, post_id: str) -> Any:
        return self.inner.reach(post_id)


def test_a_crash_between_sending_and_recording_does_not_post_twice(
    team: Store, mastodon: FakeMastodon
) -> None:
    number = _approved(team, "Precies één keer.", "mastodon")
    real = _channels(mastodon)
    with pytest.raises(Crash):
        publish_due(team, now=NOW, channels=lambda p, s: SendsThenDies(real(p, s)))
    assert len(mastodon.statuses) == 1 and _draft(team, number).state == "approved"
    run = publish_due(team, now=NOW + timedelta(minutes=5), channels=real)
    assert len(run.sent) == 1 and len(mastodon.statuses) == 1
    assert _draft(team, number).state == "published"


def test_a_worker_back_hours_after_a_crash_does_not_post_twice(
    team: Store, mastodon: FakeMastodon
) -> None:
    number = _approved(team, "Precies één keer, ook na een nacht.", "mastodon")
    real = _channels(mastodon)
    with pytest.raises(Crash):
        publish_due(team, now=NOW, channels=lambda p, s: SendsThenDies(real(p, s)))
    # The worker stays down for hours: Mastodon no longer knows the key.
    with team.session() as session:
        intent = session.scalars(select(Publication)).one()
        assert intent.first_tried_at is not None  # stored before the post was sent
        intent.first_tried_at = utcnow() - timedelta(hours=3)
    for status in mastodon.statuses.values():
        status["created_at"] = (utcnow() - timedelta(hours=3)).isoformat()
    mastodon.forget_keys()

    run = publish_due(team, now=NOW + timedelta(hours=3), channels=real)

    assert len(run.sent) == 1 and len(mastodon.statuses) == 1
    assert _draft(team, number).state == "published"


def test_a_refused_post_stays_refused_and_an_expired_token_is_tried_again_later(
    team: Store, mastodon: FakeMastodon
) -> None:
    long_one = _approved(team, "x" * 501, "mastodon")
    run = publish_due(team, now=NOW, channels=_channels(mastodon))
    assert run.sent == [] and len(run.failed) == 1
    with team.session() as session:
        [refused] = session.scalars(select(Publication)).all()
        assert refused.state == "refused" and "character limit" in (refused.error or "")
        assert refused.hint and refused.next_attempt_at is None
    publish_due(team, now=NOW + timedelta(days=2), channels=_channels(mastodon))
    assert mastodon.statuses == {} and _draft(team, long_one).state == "approved"

    fine = _approved(team, "Korte tekst.", "mastodon")
    publish_due(team, now=NOW, channels=_channels(mastodon, token="expired"))
    with team.session() as session:
        failed = session.scalars(select(Publication).where(Publication.state == "failed")).one()
        retry_at = failed.next_attempt_at
        assert retry_at is not None and retry_at > NOW
    publish_due(team, now=NOW + timedelta(seconds=10), channels=_channels(mastodon))
    assert mastodon.statuses == {}  # not before its time
    publish_due(team, now=retry_at + timedelta(seconds=1), channels=_channels(mastodon))
    assert len(mastodon.statuses) == 1 and _draft(team, fine).state == "published"


def test_bluesky_drafts_go_out_once_too(store: Store, bluesky: FakeBluesky) -> None:
    _team(store)
    settings = {"identifier_env": "BSKY_HANDLE", "password_env": "BSKY_PASSWORD"}
    add_account(store, None, "org-bsky", "bluesky", actor="anna", settings=settings)
    number = _approved(store, "Nieuw: #service via https://example.com/hulp", "bluesky")
    bluesky.fail_after_accept = 1
    run = publish_due(store, now=NOW, channels=_channels(bluesky=bluesky))
    assert len(run.sent) == 1 and len(bluesky.records) == 1
    info = _draft(store, number)
    assert (
        info.state == "published" and info.url and info.url.startswith("https://bsky.app/profile/")
    )


def test_the_command_line_adds_an_account_publishes_and_shows_the_status(
    tmp_path: object, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    from pathlib import Path

    from helpers import Klopt
    from klopt.store import open_store

    klopt = Klopt(Path(str(tmp_path)))
    store = open_store(klopt.db)
    from klopt.accounts.organizations import create_organization

    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    monkeypatch.setenv("KLOPT_TEST_MASTODON_TOKEN", TOKEN)
    out = klopt(
        "accounts", "add", "org", "--platform", "mastodon", "--instance", mastodon.url,
        "--token-env", "KLOPT_TEST_MASTODON_TOKEN",
    ).output  # fmt: skip
    assert "org (mastodon)" in out
    assert TOKEN not in klopt("accounts", "list").output
    _team(store)
    _approved(store, "Vandaag besteld, morgen in huis.", "mastodon", at=NOW)
    assert "1 published, 0 failed." in klopt("publish").output
    assert len(mastodon.statuses) == 1
    shown = klopt("publish", "--status").output
    assert "D1v1" in shown and "sent" in shown
    assert "0 gepubliceerd, 0 mislukt." in klopt("--lang", "nl", "publish").output
    store.close()


def test_the_worker_publishes_when_the_time_has_come(
    team: Store, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    from klopt.editorial.outbox import list_accounts
    from klopt.jobs.schedule import JOB_KINDS
    from klopt.jobs.worker import Worker
    from klopt.store.models import PublishingAccount

    fake = FakeMastodon(httpserver).install()
    with team.session() as session:  # point the team's account at the local server
        account = session.scalars(select(PublishingAccount)).one()
        account.settings = {"instance": fake.url, "token_env": "KLOPT_TEST_TOKEN"}
    monkeypatch.setenv("KLOPT_TEST_TOKEN", TOKEN)
    assert list_accounts(team, None)[0].settings["instance"] == fake.url
    _approved(team, "Om negen uur de deur uit.", "mastodon", at=NOW)
    clock = [NOW - timedelta(minutes=1)]
    worker = Worker(team, actor="anna", kinds=[k for k in JOB_KINDS if k.name == "publish"],
                    now=lambda: clock[0])  # fmt: skip
    assert worker.run_once() == [] and fake.statuses == {}
    clock[0] = NOW + timedelta(minutes=1)
    [(job, info)] = worker.run_once()
    assert (job.kind, info.status, info.counts) == ("publish", "ok", {"sent": 1, "failed": 0})
    assert info.summary("nl") == "1 verstuurd, 0 mislukt" and len(fake.statuses) == 1


def test_reach_of_published_posts_is_read_back_into_the_own_post(
    team: Store, mastodon: FakeMastodon
) -> None:
    from klopt.editorial.outbox import REACH_EVERY, REACH_WITHIN, refresh_reach

    _approved(team, "Tel mijn bereik.", "mastodon")
    publish_due(team, now=NOW, channels=_channels(mastodon))
    [status] = mastodon.statuses.values()
    status.update(favourites_count=7, reblogs_count=3, replies_count=2)
    # sent_at is the time it was really sent: the readings are relative to now
    assert refresh_reach(team, now=utcnow(), channels=_channels(mastodon)) == (1, 0)
    with team.session() as session:
        own = session.scalars(select(Post).where(Post.kind == "own")).one()
        assert own.reach == 12
        assert own.raw["reach"] == {"likes": 7, "shares": 3, "replies": 2}
    status.update(favourites_count=9)
    assert refresh_reach(team, now=utcnow(), channels=_channels(mastodon)) == (0, 0)
    assert refresh_reach(
        team, now=utcnow() + REACH_EVERY + timedelta(minutes=1), channels=_channels(mastodon)
    ) == (1, 0)
    with team.session() as session:
        assert session.scalars(select(Post).where(Post.kind == "own")).one().reach == 14
    too_late = utcnow() + REACH_WITHIN + timedelta(days=1)
    assert refresh_reach(team, now=too_late, channels=_channels(mastodon)) == (0, 0)


def test_account_mistakes_say_what_to_do_in_both_languages(team: Store) -> None:
    from klopt.i18n import t

    with pytest.raises(InputError) as unknown:
        add_account(team, None, "x", "linkedin", actor="anna", settings={})
    assert unknown.value.key == "publish.unknown_platform" and "--url" in (unknown.value.hint or "")
    with pytest.raises(InputError) as missing:
        add_account(team, None, "x", "bluesky", actor="anna", settings={"identifier_env": "H"})
    assert "--password-env" in str(missing.value)
    assert "--password-env" in t("error.publish.missing_setting", "nl", platform="bluesky",
                                 options="--password-env")  # fmt: skip


def test_sync_watch_publishes_what_is_due_too(
    tmp_path: object, mastodon: FakeMastodon, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`klopt sync --watch` is one of the three ways the schedule runs (issue 16)."""
    from pathlib import Path

    from helpers import Klopt
    from klopt.accounts.organizations import create_organization
    from klopt.store import open_store

    klopt = Klopt(Path(str(tmp_path)))
    store = open_store(klopt.db)
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    _team(store)
    monkeypatch.setenv("KLOPT_TEST_MASTODON_TOKEN", TOKEN)
    settings = {"instance": mastodon.url, "token_env": "KLOPT_TEST_MASTODON_TOKEN"}
    add_account(store, None, "org", "mastodon", actor="anna", settings=settings)
    _approved(store, "Ook tijdens het luisteren gaat het weg.", "mastodon", at=NOW)

    import klopt.listening.sync as sync

    real_sync, ticks = sync.sync_sources, []

    def one_tick(*args: Any, **kwargs: Any) -> Any:
        if ticks:
            raise KeyboardInterrupt  # Ctrl-C in the second tick
        ticks.append(1)
        return real_sync(*args, **kwargs)

    monkeypatch.setattr(sync, "sync_sources", one_tick)
    monkeypatch.setenv("KLOPT_USER", "bob")
    out = klopt("sync", "--watch").output

    assert len(mastodon.statuses) == 1 and _draft(store, 1).state == "published"
    assert "publish: ok" in out and "1 sent" in out
    store.close()


def test_drafts_for_manual_channels_or_already_taken_never_crowd_out_the_others(
    team: Store, mastodon: FakeMastodon
) -> None:
    """A round takes at most ``limit`` drafts; LinkedIn drafts (posted by hand) and drafts
    whose post was refused stay approved, and must not fill that limit round after round."""
    from klopt.editorial.outbox import publishing_due

    for number in range(6):
        _approved(team, f"Op LinkedIn, met de hand {number}.", "linkedin")
    refused = _approved(team, "x" * 501, "mastodon")
    assert not publish_due(team, now=NOW, channels=_channels(mastodon), limit=5).sent
    assert _draft(team, refused).state == "approved"  # refused: the draft waits for a person
    with team.session() as session:
        org_id = session.scalars(select(Draft.organization_id)).first()
    assert org_id is not None and not publishing_due(team, org_id, NOW)

    later = _approved(team, "Deze gaat gewoon weg.", "mastodon")
    assert publishing_due(team, org_id, NOW)
    run = publish_due(team, now=NOW, channels=_channels(mastodon), limit=5)

    assert len(run.sent) == 1 and _draft(team, later).state == "published"


def test_one_bluesky_login_serves_a_whole_run_and_a_workers_rounds(
    team: Store, bluesky: FakeBluesky
) -> None:
    """Bluesky allows 300 logins a day: a login per post would stop the outbox after 300."""
    from klopt.editorial.outbox import Channels

    settings = {"identifier_env": "BSKY_HANDLE", "password_env": "BSKY_PASSWORD"}
    add_account(team, None, "bsky", "bluesky", actor="anna", settings=settings)
    for number in range(3):
        _approved(team, f"Bericht {number}.", "bluesky")
    assert len(publish_due(team, now=NOW, channels=_channels(bluesky=bluesky)).sent) == 3
    assert bluesky.logins == 1

    kept = Channels(_channels(bluesky=bluesky))  # as a worker keeps them between rounds
    for number in range(2):
        _approved(team, f"Later bericht {number}.", "bluesky", at=NOW + timedelta(hours=1))
        publish_due(team, now=NOW + timedelta(hours=2), channels=kept)
    assert bluesky.logins == 2 and len(bluesky.records) == 5


def test_one_worker_run_publishes_batch_after_batch(
    team: Store, httpserver: HTTPServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Many drafts due at once go out in one run of the publish job, not one batch per
    round (30 s apart)."""
    import klopt.jobs.schedule as schedule
    from klopt.jobs.worker import Worker
    from klopt.store.models import PublishingAccount

    fake = FakeMastodon(httpserver).install()
    with team.session() as session:
        account = session.scalars(select(PublishingAccount)).one()
        account.settings = {"instance": fake.url, "token_env": "KLOPT_TEST_TOKEN"}
    monkeypatch.setenv("KLOPT_TEST_TOKEN", TOKEN)
    monkeypatch.setattr(schedule, "PUBLISH_BATCH", 2)
    for number in range(5):
        _approved(team, f"Tegelijk {number}.", "mastodon", at=NOW)
    kinds = [k for k in schedule.JOB_KINDS if k.name == "publish"]
    worker = Worker(team, actor="anna", kinds=kinds, now=lambda: NOW + timedelta(minutes=1))

    [(job, info)] = worker.run_once()

    assert info.counts == {"sent": 5, "failed": 0} and len(fake.statuses) == 5


def test_a_used_up_rate_limit_holds_back_the_rest_of_the_accounts_round(
    team: Store, mastodon: FakeMastodon
) -> None:
    """After the platform says "no more until X", the account's other posts wait for X
    without a request each (they would only spend the limit's next window)."""
    for number in range(4):
        _approved(team, f"Bericht {number}.", "mastodon")
    mastodon.rate_limited = 1
    http = Http(sleep=lambda _: None, random=lambda: 0.5, max_wait=0.0)

    def make(platform: str, settings: Mapping[str, Any]) -> Channel:
        return MastodonAccount(mastodon.url, "T", http=http, environ={"T": TOKEN})

    run = publish_due(team, now=NOW, channels=make)

    assert run.sent == [] and len(run.failed) == 4 and mastodon.requests == 1
    with team.session() as session:
        waiting = session.scalars(select(Publication).order_by(Publication.id)).all()
        assert {p.state for p in waiting} == {"failed"}
        assert len({p.next_attempt_at for p in waiting}) == 1  # all until the same reset
        assert [p.attempts for p in waiting] == [1, 0, 0, 0]
        # The platform said the post was not made: no later try looks for it.
        assert all(p.first_tried_at is None for p in waiting)


def test_what_went_wrong_is_shown_in_the_readers_language(
    team: Store, mastodon: FakeMastodon
) -> None:
    from klopt.editorial.outbox import list_publications

    _approved(team, "x" * 501, "mastodon")
    publish_due(team, now=NOW, channels=_channels(mastodon))
    (publication,) = list_publications(team, None)
    assert publication.problem is not None
    assert "Mastodon refused the post (422)" in publication.problem.localized("en")
    assert "Mastodon weigerde het bericht (422)" in publication.problem.localized("nl")
