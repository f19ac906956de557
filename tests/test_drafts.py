"""Drafts: the editorial workflow against the real store (SQLite, and PostgreSQL when set).

A team of five (anna admin, bob editor, carla approver, dirk viewer, erik without a role)
writes, reviews, publishes and withdraws drafts. The check is the real
``klopt.checking.check.check_draft`` with fake house-style rules that find an ERROR in every
text with "altijd" and no promises, so no model is loaded. Every refusal is checked for
its error key and for leaving the state, the versions and the reviews as they were.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update

from klopt.accounts.trail import trail
from klopt.accounts.users import add_user, grant, list_members, revoke
from klopt.checking.check import CheckReport, check_draft
from klopt.checking.findings import Draft as DraftText
from klopt.checking.findings import Finding, Severity, Span
from klopt.editorial.drafts import (
    DiffPart,
    approve_draft,
    comment_draft,
    create_draft,
    diff_versions,
    diff_words,
    draft_number,
    edit_draft,
    list_drafts,
    parse_time,
    publish_draft,
    request_changes,
    show_draft,
    submit_draft,
    withdraw_draft,
)
from klopt.errors import InputError, KloptError, NotAllowed, NotFound
from klopt.store import Store
from klopt.store.models import DraftReview, DraftVersion, Organization, Post, User

GOOD = "Wij leveren binnen 24 uur."
BAD = "Wij leveren altijd binnen 24 uur."
URL = "https://x.com/voorbeeld/status/1"
PLANNED = datetime(2026, 12, 1, 8, 0, tzinfo=UTC)  # 09:00 in Amsterdam


class OverpromiseRules:
    """House style that finds one ERROR, ``test.overpromise``, on the word "altijd"."""

    def check(self, draft: DraftText, *, lang: str | None = None) -> list[Finding]:
        start = draft.text.find("altijd")
        if start < 0:
            return []
        return [
            Finding("test.overpromise", Severity.ERROR, "Never say always.", Span(start, start + 6))
        ]


def fake_check(draft: DraftText) -> CheckReport:
    """The real check_draft with the fake rules and no promises (Dutch, so no detection)."""
    return check_draft(replace(draft, language="nl"), rules=OverpromiseRules(), promises=[])


# --- helpers -----------------------------------------------------------------------------


def _team(store: Store) -> None:
    """anna admin (granted first, by anyone), bob editor, carla approver, dirk viewer, and
    erik, a user without a role."""
    for name in ("anna", "bob", "carla", "dirk", "erik"):
        add_user(store, name, actor="setup")
    grant(store, None, "anna", "admin", actor="iemand")
    grant(store, None, "bob", "editor", actor="anna")
    grant(store, None, "carla", "approver", actor="anna")
    grant(store, None, "dirk", "viewer", actor="anna")


@contextmanager
def _refused(kind: type[KloptError], key: str) -> Iterator[None]:
    """The block raises ``kind`` with the message key ``key``."""
    with pytest.raises(kind) as caught:
        yield
    assert caught.value.key == key


def _new(store: Store, text: str = GOOD, *, platform: str | None = "x") -> int:
    """bob writes a draft; its number."""
    return create_draft(store, None, text, actor="bob", platform=platform, check=fake_check).number


def _in_review(store: Store, text: str = GOOD, *, platform: str | None = "x") -> int:
    number = _new(store, text, platform=platform)
    submit_draft(store, None, number, actor="bob")
    return number


def _approved(store: Store, text: str = GOOD, *, platform: str | None = "x") -> int:
    number = _in_review(store, text, platform=platform)
    approve_draft(store, None, number, actor="carla", check=fake_check)
    return number


def _reach(store: Store, state: str) -> int:
    """A new draft of bob's in ``state``."""
    if state == "draft":
        return _new(store)
    if state == "in_review":
        return _in_review(store)
    if state == "changes_requested":
        number = _in_review(store)
        request_changes(store, None, number, actor="carla", note="Korter graag.")
        return number
    number = _approved(store)
    if state == "published":
        publish_draft(store, None, number, actor="bob")
    elif state == "withdrawn":
        withdraw_draft(store, None, number, actor="bob")
    return number


def _state(store: Store, number: int) -> str:
    return show_draft(store, None, number, actor="anna").draft.state


def _count(store: Store, model: type[DraftReview | DraftVersion | Post]) -> int:
    with store.session() as session:
        return session.scalar(select(func.count()).select_from(model)) or 0


# --- the team ----------------------------------------------------------------------------


def test_the_team_has_the_roles_the_tests_rely_on(store: Store) -> None:
    _team(store)
    assert [(m.name, m.role) for m in list_members(store, None)] == [
        ("anna", "admin"),
        ("bob", "editor"),
        ("carla", "approver"),
        ("dirk", "viewer"),
    ]


# --- the happy path ----------------------------------------------------------------------


def test_a_new_draft_is_version_1_in_state_draft_numbered_per_organisation(store: Store) -> None:
    _team(store)
    first = create_draft(
        store, None, f"  {GOOD}\n", actor="bob", platform="Twitter", planned_at=PLANNED
    )
    second = create_draft(store, None, "Gratis retour.", actor="bob")
    assert (first.number, first.key, first.version, first.state) == (1, "D1", 1, "draft")
    assert (first.text, first.author, first.platform) == (GOOD, "bob", "x")
    assert first.planned_at == PLANNED
    assert first.published_at is None and first.url is None
    assert (second.number, second.key, second.platform, second.planned_at) == (2, "D2", None, None)
    assert [(d.key, d.state) for d in list_drafts(store, None, actor="dirk")] == [
        ("D1", "draft"),
        ("D2", "draft"),
    ]


def test_a_planned_time_with_an_offset_comes_back_as_the_same_instant_in_utc(
    store: Store,
) -> None:
    _team(store)
    planned = parse_time("2026-12-01 09:00+01:00")
    created = create_draft(store, None, GOOD, actor="bob", platform="linkedin", planned_at=planned)
    assert created.planned_at == PLANNED and created.planned_at.utcoffset() == timedelta(0)
    stored = show_draft(store, None, "D1", actor="bob").draft
    assert stored.planned_at == planned == PLANNED
    assert stored.planned_at is not None and stored.planned_at.utcoffset() == timedelta(0)
    assert stored.platform == "linkedin"
    listed = list_drafts(store, None, actor="bob", platform="LinkedIn")
    assert [d.planned_at for d in listed] == [PLANNED]


def test_the_check_of_each_version_is_stored_with_it(store: Store) -> None:
    _team(store)
    _new(store, BAD)
    (version,) = show_draft(store, None, 1, actor="bob").versions
    assert (version.language, version.score) == ("nl", 75)
    assert version.findings is not None
    assert [f["rule"] for f in version.findings["findings"]] == ["test.overpromise"]
    assert version.findings["findings"][0]["text"] == "altijd"
    assert [n["code"] for n in version.findings["notices"]] == ["promises.none"]


def test_submit_moves_a_draft_into_review(store: Store) -> None:
    _team(store)
    number = _new(store)
    moved = submit_draft(store, None, number, actor="bob")
    assert moved.state == "in_review"
    assert _state(store, number) == "in_review"


def test_an_approval_stores_the_version_and_the_findings_of_the_check(store: Store) -> None:
    _team(store)
    number = _in_review(store)
    review = approve_draft(store, None, number, actor="carla", check=fake_check, note="Prima.")
    assert (review.version, review.reviewer, review.decision) == (1, "carla", "approved")
    assert (review.note, review.score, review.overridden) == ("Prima.", 100, False)
    assert review.findings is not None
    assert review.findings["score"] == 100 and review.findings["findings"] == []
    assert _state(store, number) == "approved"
    with store.session() as session:
        stored = session.scalars(select(DraftReview)).one()
        assert (stored.version, stored.decision, stored.overridden) == (1, "approved", False)
        assert stored.findings is not None
        assert stored.findings["score"] == 100 and stored.findings["findings"] == []
    assert show_draft(store, None, number, actor="dirk").reviews == (review,)


def test_publishing_stores_an_own_post_with_the_text(store: Store) -> None:
    _team(store)
    number = _approved(store)
    when = datetime(2026, 12, 1, 9, 5, tzinfo=UTC)
    published = publish_draft(store, None, number, actor="bob", url=URL, published_at=when)
    assert (published.state, published.url, published.published_at) == ("published", URL, when)
    again = show_draft(store, None, number, actor="dirk").draft
    assert (again.state, again.url, again.published_at) == ("published", URL, when)
    with store.session() as session:
        post = session.scalars(select(Post)).one()
        assert (post.kind, post.text, post.platform, post.url) == ("own", GOOD, "x", URL)
        assert (post.author, post.posted_at) == ("bob", when)
        assert post.raw == {"draft": "D1", "version": 1}


def test_publishing_without_a_time_uses_now(store: Store) -> None:
    _team(store)
    number = _approved(store)
    before = datetime.now(UTC)
    published = publish_draft(store, None, number, actor="carla")
    assert published.published_at is not None and published.published_at >= before
    assert published.url is None


# --- versions ----------------------------------------------------------------------------


def test_an_edit_is_a_new_version_written_by_the_editor(store: Store) -> None:
    _team(store)
    number = _new(store)
    edited = edit_draft(store, None, number, BAD, actor="anna", check=fake_check)
    assert (edited.version, edited.text, edited.state, edited.score) == (2, BAD, "draft", 75)
    detail = show_draft(store, None, number, actor="dirk")
    assert detail.draft.author == "bob"
    assert [(v.number, v.text, v.author) for v in detail.versions] == [
        (1, GOOD, "bob"),
        (2, BAD, "anna"),
    ]


def test_an_edit_with_the_same_text_is_refused_and_stores_nothing(store: Store) -> None:
    _team(store)
    number = _new(store)
    with _refused(InputError, "drafts.unchanged"):
        edit_draft(store, None, number, f" {GOOD} ", actor="bob", platform="linkedin")
    detail = show_draft(store, None, number, actor="bob")
    assert (detail.draft.version, detail.draft.platform) == (1, "x")
    assert _count(store, DraftVersion) == 1


def test_an_edit_that_changes_nothing_is_refused(store: Store) -> None:
    _team(store)
    number = _new(store)
    with _refused(InputError, "drafts.nothing_to_change"):
        edit_draft(store, None, number, actor="bob", platform="x")


def test_changing_only_the_platform_or_the_planned_time_makes_no_new_version(
    store: Store,
) -> None:
    _team(store)
    number = _approved(store)
    moved = edit_draft(store, None, number, actor="bob", platform="linkedin")
    assert (moved.version, moved.platform, moved.state) == (1, "linkedin", "approved")
    planned = edit_draft(store, None, number, actor="bob", planned_at=PLANNED)
    assert (planned.version, planned.planned_at, planned.state) == (1, PLANNED, "approved")
    assert _count(store, DraftVersion) == 1


def test_editing_an_approved_draft_sends_it_back_to_review(store: Store) -> None:
    _team(store)
    number = _approved(store)
    edited = edit_draft(store, None, number, "Wij leveren binnen 48 uur.", actor="bob")
    assert (edited.version, edited.state) == (2, "in_review")
    assert _state(store, number) == "in_review"


@pytest.mark.parametrize("state", ["published", "withdrawn"])
def test_a_closed_draft_cannot_be_edited(store: Store, state: str) -> None:
    _team(store)
    number = _reach(store, state)
    with _refused(InputError, "drafts.wrong_state"):
        edit_draft(store, None, number, "Nieuwe tekst.", actor="bob")
    with _refused(InputError, "drafts.wrong_state"):
        edit_draft(store, None, number, actor="bob", platform="linkedin")
    detail = show_draft(store, None, number, actor="bob").draft
    assert (detail.state, detail.version, detail.platform) == (state, 1, "x")


# --- diffs -------------------------------------------------------------------------------


def test_diff_words_marks_what_stayed_went_and_came() -> None:
    assert diff_words("Levering binnen 24 uur.", "Levering binnen 48 uur!") == [
        DiffPart("=", "Levering binnen "),
        DiffPart("-", "24"),
        DiffPart("+", "48"),
        DiffPart("=", " uur"),
        DiffPart("-", "."),
        DiffPart("+", "!"),
    ]
    assert diff_words("Zelfde tekst.", "Zelfde tekst.") == [DiffPart("=", "Zelfde tekst.")]


def test_diff_versions_compares_the_newest_with_the_one_before_by_default(store: Store) -> None:
    _team(store)
    number = _new(store, "Levering binnen 24 uur.")
    edit_draft(store, None, number, "Levering binnen 48 uur.", actor="bob")
    edit_draft(store, None, number, "Levering binnen 48 uur!", actor="bob")
    old, new, parts = diff_versions(store, None, number, actor="bob")
    assert (old, new) == (2, 3)
    assert parts == [
        DiffPart("=", "Levering binnen 48 uur"),
        DiffPart("-", "."),
        DiffPart("+", "!"),
    ]
    old, new, parts = diff_versions(store, None, number, actor="bob", old=1, new=2)
    assert (old, new) == (1, 2)
    assert [p.op for p in parts] == ["=", "-", "+", "="]


# --- four eyes ---------------------------------------------------------------------------


def test_an_admin_cannot_approve_a_draft_they_created(store: Store) -> None:
    _team(store)
    number = create_draft(store, None, GOOD, actor="anna").number
    submit_draft(store, None, number, actor="anna")
    with _refused(NotAllowed, "drafts.own"):
        approve_draft(store, None, number, actor="anna", check=fake_check)
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0


def test_an_admin_cannot_approve_a_draft_they_wrote_a_version_of(store: Store) -> None:
    _team(store)
    number = _in_review(store)
    edit_draft(store, None, number, "Wij leveren binnen 12 uur.", actor="anna")
    with _refused(NotAllowed, "drafts.own"):
        approve_draft(store, None, number, actor="anna", check=fake_check)
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0


def test_an_admin_can_approve_someone_elses_draft(store: Store) -> None:
    _team(store)
    number = _in_review(store)
    assert approve_draft(store, None, number, actor="anna", check=fake_check).reviewer == "anna"
    assert _state(store, number) == "approved"


# --- roles -------------------------------------------------------------------------------


def test_a_viewer_cannot_create_comment_or_approve(store: Store) -> None:
    _team(store)
    number = _in_review(store)
    with _refused(NotAllowed, "users.not_allowed"):
        create_draft(store, None, GOOD, actor="dirk")
    with _refused(NotAllowed, "users.not_allowed"):
        comment_draft(store, None, number, "Mooi!", actor="dirk")
    with _refused(NotAllowed, "users.not_allowed"):
        approve_draft(store, None, number, actor="dirk", check=fake_check)
    detail = show_draft(store, None, number, actor="dirk")
    assert (detail.draft.state, detail.comments, detail.reviews) == ("in_review", (), ())
    assert len(list_drafts(store, None, actor="dirk")) == 1


def test_a_viewer_can_list_show_and_diff(store: Store) -> None:
    _team(store)
    number = _new(store)
    edit_draft(store, None, number, BAD, actor="bob")
    assert [d.key for d in list_drafts(store, None, actor="dirk")] == ["D1"]
    assert [v.number for v in show_draft(store, None, number, actor="dirk").versions] == [1, 2]
    assert diff_versions(store, None, number, actor="dirk")[2] == [
        DiffPart("=", "Wij leveren"),
        DiffPart("+", " altijd"),
        DiffPart("=", " binnen 24 uur."),
    ]


def test_an_editor_cannot_approve(store: Store) -> None:
    _team(store)
    number = create_draft(store, None, GOOD, actor="anna").number
    submit_draft(store, None, number, actor="anna")
    with _refused(NotAllowed, "users.not_allowed"):
        approve_draft(store, None, number, actor="bob", check=fake_check)
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0


def test_an_approver_cannot_create_or_edit(store: Store) -> None:
    _team(store)
    number = _new(store)
    with _refused(NotAllowed, "users.not_allowed"):
        create_draft(store, None, GOOD, actor="carla")
    with _refused(NotAllowed, "users.not_allowed"):
        edit_draft(store, None, number, BAD, actor="carla")
    assert [(d.key, d.version) for d in list_drafts(store, None, actor="carla")] == [("D1", 1)]


@pytest.mark.parametrize("name", ["erik", "niemand"])
def test_a_user_without_a_role_cannot_list_or_show(store: Store, name: str) -> None:
    _team(store)
    _new(store)
    with _refused(NotAllowed, "users.no_role"):
        list_drafts(store, None, actor=name)
    with _refused(NotAllowed, "users.no_role"):
        show_draft(store, None, 1, actor=name)


# --- refused approvals -------------------------------------------------------------------


def test_approving_a_draft_that_is_not_in_review_is_refused(store: Store) -> None:
    _team(store)
    number = _new(store)
    with _refused(InputError, "drafts.wrong_state"):
        approve_draft(store, None, number, actor="carla", check=fake_check)
    assert _state(store, number) == "draft"
    assert _count(store, DraftReview) == 0


def test_approving_a_version_that_is_no_longer_the_newest_is_refused(store: Store) -> None:
    _team(store)
    number = _in_review(store)
    edit_draft(store, None, number, "Wij leveren binnen 48 uur.", actor="bob")
    with _refused(InputError, "drafts.stale"):
        approve_draft(store, None, number, actor="carla", check=fake_check, version=1)
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0
    review = approve_draft(store, None, number, actor="carla", check=fake_check, version=2)
    assert review.version == 2


def test_approving_a_version_with_error_findings_is_refused(store: Store) -> None:
    _team(store)
    number = _in_review(store, BAD)
    with pytest.raises(InputError) as caught:
        approve_draft(store, None, number, actor="carla", check=fake_check, note="Ok")
    assert caught.value.key == "drafts.has_errors"
    assert caught.value.values["rules"] == "test.overpromise"
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0


@pytest.mark.parametrize("note", ["", "   "])
def test_an_override_without_a_note_is_refused(store: Store, note: str) -> None:
    _team(store)
    number = _in_review(store, BAD)
    with _refused(InputError, "drafts.override_needs_note"):
        approve_draft(
            store, None, number, actor="carla", check=fake_check, override=True, note=note
        )
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0


def test_an_override_with_a_note_approves_and_keeps_the_note(store: Store) -> None:
    _team(store)
    number = _in_review(store, BAD)
    review = approve_draft(
        store, None, number, actor="carla", check=fake_check, override=True, note=" Juridisch ok. "
    )
    assert (review.decision, review.overridden, review.note, review.score) == (
        "approved",
        True,
        "Juridisch ok.",
        75,
    )
    assert _state(store, number) == "approved"
    with store.session() as session:
        stored = session.scalars(select(DraftReview)).one()
        assert (stored.overridden, stored.note) == (True, "Juridisch ok.")
        assert stored.findings is not None
        assert [f["rule"] for f in stored.findings["findings"]] == ["test.overpromise"]


# --- request changes ---------------------------------------------------------------------


@pytest.mark.parametrize("note", ["", "  "])
def test_requesting_changes_needs_a_reason(store: Store, note: str) -> None:
    _team(store)
    number = _in_review(store)
    with _refused(InputError, "drafts.reason_needed"):
        request_changes(store, None, number, actor="carla", note=note)
    assert _state(store, number) == "in_review"
    assert _count(store, DraftReview) == 0


def test_requested_changes_go_back_to_review_when_submitted_again(store: Store) -> None:
    _team(store)
    number = _in_review(store)
    review = request_changes(store, None, number, actor="carla", note="Korter graag.")
    assert (review.decision, review.note, review.version) == (
        "changes_requested",
        "Korter graag.",
        1,
    )
    assert _state(store, number) == "changes_requested"
    edit_draft(store, None, number, "Binnen 24 uur bezorgd.", actor="bob")
    assert _state(store, number) == "changes_requested"
    assert submit_draft(store, None, number, actor="bob").state == "in_review"


# --- withdraw ----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "in_review", "changes_requested", "approved"])
def test_an_open_draft_can_be_withdrawn(store: Store, state: str) -> None:
    _team(store)
    number = _reach(store, state)
    assert withdraw_draft(store, None, number, actor="carla", note="Niet nodig.").state == (
        "withdrawn"
    )
    assert _state(store, number) == "withdrawn"


@pytest.mark.parametrize("state", ["published", "withdrawn"])
def test_a_closed_draft_cannot_be_withdrawn(store: Store, state: str) -> None:
    _team(store)
    number = _reach(store, state)
    with _refused(InputError, "drafts.wrong_state"):
        withdraw_draft(store, None, number, actor="bob")
    assert _state(store, number) == state


def test_withdrawing_keeps_every_version(store: Store) -> None:
    _team(store)
    number = _new(store)
    edit_draft(store, None, number, BAD, actor="bob")
    withdraw_draft(store, None, number, actor="bob")
    detail = show_draft(store, None, number, actor="dirk")
    assert detail.draft.state == "withdrawn"
    assert [(v.number, v.text) for v in detail.versions] == [(1, GOOD), (2, BAD)]
    assert [d.state for d in list_drafts(store, None, actor="dirk", states=["withdrawn"])] == [
        "withdrawn"
    ]


# --- comments ----------------------------------------------------------------------------


def test_a_comment_goes_on_the_newest_version_by_default(store: Store) -> None:
    _team(store)
    number = _new(store)
    edit_draft(store, None, number, BAD, actor="bob")
    comment = comment_draft(store, None, number, "  Kan 'altijd' weg? ", actor="carla")
    assert (comment.version, comment.author, comment.text) == (2, "carla", "Kan 'altijd' weg?")
    assert show_draft(store, None, number, actor="dirk").comments == (comment,)


def test_a_comment_can_go_on_an_older_version(store: Store) -> None:
    _team(store)
    number = _new(store)
    edit_draft(store, None, number, BAD, actor="bob")
    comment = comment_draft(store, None, number, "Dit was beter.", actor="bob", version=1)
    assert comment.version == 1
    assert [c.version for c in show_draft(store, None, number, actor="bob").comments] == [1]


def test_a_comment_on_a_version_that_does_not_exist_is_refused(store: Store) -> None:
    _team(store)
    number = _new(store)
    with _refused(NotFound, "drafts.no_version"):
        comment_draft(store, None, number, "Hallo?", actor="carla", version=3)
    assert show_draft(store, None, number, actor="carla").comments == ()


def test_an_empty_comment_is_refused(store: Store) -> None:
    _team(store)
    number = _new(store)
    with _refused(InputError, "drafts.empty_comment"):
        comment_draft(store, None, number, "  \n", actor="carla")
    assert show_draft(store, None, number, actor="carla").comments == ()


# --- publish -----------------------------------------------------------------------------


@pytest.mark.parametrize("state", ["draft", "in_review", "changes_requested"])
def test_publishing_a_draft_that_is_not_approved_is_refused(store: Store, state: str) -> None:
    _team(store)
    number = _reach(store, state)
    with _refused(InputError, "drafts.wrong_state"):
        publish_draft(store, None, number, actor="bob", url=URL)
    assert _state(store, number) == state
    assert _count(store, Post) == 0


def test_publishing_without_any_platform_is_refused(store: Store) -> None:
    _team(store)
    number = _approved(store, platform=None)
    with _refused(InputError, "drafts.no_platform"):
        publish_draft(store, None, number, actor="bob")
    assert _state(store, number) == "approved"
    assert _count(store, Post) == 0
    published = publish_draft(store, None, number, actor="bob", platform="Twitter")
    assert (published.state, published.platform) == ("published", "x")


def test_publishing_under_a_known_url_links_the_imported_post(store: Store) -> None:
    _team(store)
    with store.session() as session:
        org_id = session.scalars(select(Organization.id)).one()
        imported = Post(
            organization_id=org_id,
            platform="x",
            external_id="1",
            content_hash="h",
            text=GOOD,
            url=URL,
        )
        session.add(imported)
        session.flush()
        imported_id = imported.id
    number = _approved(store)
    publish_draft(store, None, number, actor="bob", url=URL)
    assert _count(store, Post) == 1
    with store.session() as session:
        post = session.scalars(select(Post)).one()
        assert (post.id, post.external_id, post.kind) == (imported_id, "1", "own")


# --- audit -------------------------------------------------------------------------------


def test_the_audit_trail_lists_every_step_with_actor_and_version(store: Store) -> None:
    _team(store)
    create_draft(store, None, GOOD, actor="bob", platform="x", planned_at=PLANNED)
    comment_draft(store, None, "D1", "Graag 48 uur.", actor="carla")
    submit_draft(store, None, "D1", actor="bob")
    request_changes(store, None, "D1", actor="carla", note="48 uur.")
    edit_draft(store, None, "D1", "Wij leveren binnen 48 uur.", actor="bob", check=fake_check)
    submit_draft(store, None, "D1", actor="bob")
    approve_draft(store, None, "D1", actor="carla", check=fake_check, version=2)
    publish_draft(store, None, "D1", actor="bob", url=URL)
    _new(store)  # D2 is not in D1's trail
    events = trail(store, None, actor="anna", subject_type="draft", subject_id="D1")
    assert [(e.action, e.actor, e.details["version"]) for e in events] == [
        ("draft.create", "bob", 1),
        ("draft.comment", "carla", 1),
        ("draft.submit", "bob", 1),
        ("draft.request_changes", "carla", 1),
        ("draft.edit", "bob", 2),
        ("draft.submit", "bob", 2),
        ("draft.approve", "carla", 2),
        ("draft.publish", "bob", 2),
    ]
    assert all(e.subject_type == "draft" and e.subject_id == "D1" for e in events)
    assert events[0].details["planned_at"] == PLANNED.isoformat()
    assert events[2].details["state"] == ["draft", "in_review"]
    assert events[6].details["state"] == ["in_review", "approved"]
    assert events[7].details["url"] == URL


def test_a_user_who_is_not_a_member_cannot_read_the_trail(store: Store) -> None:
    _team(store)
    _new(store)
    assert trail(store, None, actor="dirk", subject_type="draft")
    with _refused(NotAllowed, "users.no_role"):
        trail(store, None, actor="erik", subject_type="draft", subject_id="D1")


# --- users -------------------------------------------------------------------------------


def test_an_editor_cannot_grant_roles_once_there_is_an_admin(store: Store) -> None:
    _team(store)
    with _refused(NotAllowed, "users.not_allowed"):
        grant(store, None, "erik", "editor", actor="bob")
    with _refused(NotAllowed, "users.not_allowed"):
        revoke(store, None, "dirk", actor="bob")
    assert [m.name for m in list_members(store, None)] == ["anna", "bob", "carla", "dirk"]


def test_the_last_admin_can_be_neither_revoked_nor_demoted(store: Store) -> None:
    _team(store)
    with _refused(NotAllowed, "users.last_admin"):
        revoke(store, None, "anna", actor="anna")
    with _refused(NotAllowed, "users.last_admin"):
        grant(store, None, "anna", "editor", actor="anna")
    assert ("anna", "admin") in [(m.name, m.role) for m in list_members(store, None)]


def test_an_inactive_admin_does_not_count_as_the_admin_who_stays(store: Store) -> None:
    _team(store)
    add_user(store, "oud", actor="anna")
    grant(store, None, "oud", "admin", actor="anna")
    with store.session() as session:
        session.execute(update(User).where(User.name == "oud").values(active=False))
    with _refused(NotAllowed, "users.last_admin"):
        grant(store, None, "anna", "editor", actor="anna")
    assert ("anna", "admin") in [(m.name, m.role) for m in list_members(store, None)]


def test_a_second_admin_lets_the_first_step_down(store: Store) -> None:
    _team(store)
    grant(store, None, "carla", "admin", actor="anna")
    grant(store, None, "anna", "editor", actor="anna")
    revoke(store, None, "anna", actor="carla")
    assert [(m.name, m.role) for m in list_members(store, None)] == [
        ("bob", "editor"),
        ("carla", "admin"),
        ("dirk", "viewer"),
    ]


# --- references and times ----------------------------------------------------------------


@pytest.mark.parametrize("ref", ["3", "D3", "d3", " D3 ", 3])
def test_draft_number_reads_every_way_of_naming_a_draft(ref: str | int) -> None:
    assert draft_number(ref) == 3


@pytest.mark.parametrize("ref", ["x", "0", "D-1", "", "D", "3a", 0, -1])
def test_draft_number_rejects_what_is_not_a_draft(ref: str | int) -> None:
    with _refused(InputError, "drafts.bad_ref"):
        draft_number(ref)


def test_parse_time_keeps_the_offset_it_is_given() -> None:
    stamp = parse_time("2026-12-01 09:00+01:00")
    assert stamp.utcoffset() == timedelta(hours=1)
    assert stamp == PLANNED
    assert parse_time("2026-12-01T08:00Z") == PLANNED


def test_parse_time_gives_a_time_without_zone_the_local_zone() -> None:
    stamp = parse_time("2026-12-01 09:00")
    assert stamp.tzinfo is not None
    assert stamp.replace(tzinfo=None) == datetime(2026, 12, 1, 9, 0)
    assert stamp == datetime(2026, 12, 1, 9, 0).astimezone()


@pytest.mark.parametrize("value", ["morgen", "", "2026-13-01"])
def test_parse_time_refuses_what_is_not_a_time(value: str) -> None:
    with _refused(InputError, "drafts.bad_time"):
        parse_time(value)


def test_an_unknown_draft_is_not_found(store: Store) -> None:
    _team(store)
    _new(store)
    with _refused(NotFound, "drafts.unknown"):
        show_draft(store, None, "D9", actor="bob")
    with _refused(NotFound, "drafts.unknown"):
        submit_draft(store, None, 9, actor="bob")
    with _refused(NotFound, "drafts.unknown"):
        approve_draft(store, None, 9, actor="carla", check=fake_check)
