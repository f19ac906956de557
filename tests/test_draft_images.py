"""Images, visibility and the account of a draft (issue 16): images with alt text belong to
the version an approver approves, and go out with it (Mastodon media with a description,
Bluesky blobs with alt text) on the account the draft names."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from sqlalchemy import select

from helpers import Klopt
from klopt.editorial.drafts import (
    approve_draft,
    create_draft,
    edit_draft,
    show_draft,
    submit_draft,
)
from klopt.editorial.images import MAX_BYTES, new_image
from klopt.editorial.outbox import add_account, publish_due
from klopt.errors import InputError
from klopt.store import Store
from klopt.store.models import Publication, PublishingAccount
from publishing_fakes import FakeBluesky, FakeMastodon
from test_outbox import NOW, _channels, _check, _team

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
JPEG = b"\xff\xd8\xff\xe0" + b"\x01" * 64
WEBP = b"RIFF\x00\x00\x00\x00WEBPVP8 " + b"\x02" * 32


@pytest.fixture
def team(store: Store) -> Store:
    _team(store)
    return store


def test_an_image_is_checked_before_anything_is_stored() -> None:
    assert new_image(PNG, "  Een fietser  bij de deur ").alt == "Een fietser bij de deur"
    assert new_image(WEBP, "x").mime == "image/webp"
    assert new_image(JPEG, "x").mime == "image/jpeg"
    refusals = {
        "images.not_an_image": (b"%PDF-1.7 not an image", "alt"),
        "images.too_big": (PNG + b"\x00" * MAX_BYTES, "alt"),
        "images.no_alt": (PNG, "   "),
        "images.alt_too_long": (PNG, "a" * 1501),
    }
    for key, (data, alt) in refusals.items():
        with pytest.raises(InputError) as refused:
            new_image(data, alt, name="poster.png")
        assert refused.value.key == key and "poster.png" in str(refused.value)


def test_images_belong_to_a_version_and_an_approved_draft_goes_back_when_they_change(
    team: Store,
) -> None:
    one, two = new_image(PNG, "De fiets"), new_image(JPEG, "Het pakket")
    number = create_draft(team, None, "Nieuw in de winkel.", actor="bob", images=[one, two],
                          check=_check).number  # fmt: skip
    with pytest.raises(InputError) as too_many:
        create_draft(team, None, "Vijf.", actor="bob", images=[one] * 5)
    assert too_many.value.key == "images.too_many"

    edit_draft(team, None, number, "Nieuw in de winkel: de e-bike.", actor="bob", check=_check)
    submit_draft(team, None, number, actor="bob")
    approve_draft(team, None, number, actor="carla", check=_check)
    # Other alt text is another image: a new version, back to review.
    changed = edit_draft(team, None, number, actor="bob", images=[new_image(PNG, "De e-bike")],
                         check=_check)  # fmt: skip
    assert (changed.version, changed.state) == (3, "in_review")
    with pytest.raises(InputError) as same:
        edit_draft(team, None, number, actor="bob", images=[new_image(PNG, "De e-bike")])
    assert same.value.key == "drafts.nothing_to_change"
    edit_draft(team, None, number, actor="bob", images=[])

    versions = show_draft(team, None, number, actor="bob").versions
    assert [[i.alt for i in v.images] for v in versions] == [
        ["De fiets", "Het pakket"], ["De fiets", "Het pakket"], ["De e-bike"], [],
    ]  # fmt: skip
    assert versions[0].images[1].mime == "image/jpeg" and versions[0].images[0].size == len(PNG)
    assert versions[3].text == versions[2].text  # only the images changed


def test_images_visibility_and_the_chosen_account_go_out(
    team: Store, mastodon: FakeMastodon
) -> None:
    for name in ("main", "care"):
        add_account(team, None, name, "mastodon", actor="anna",
                    settings={"instance": mastodon.url, "token_env": "MASTODON_TOKEN"})  # fmt: skip
    number = create_draft(
        team, None, "Onze werkplaats, van binnen.", actor="bob", platform="mastodon",
        planned_at=NOW, images=[new_image(PNG, "Monteur aan een wiel")],
        visibility="unlisted", account="care", check=_check,
    ).number  # fmt: skip
    submit_draft(team, None, number, actor="bob")
    approve_draft(team, None, number, actor="carla", check=_check)

    run = publish_due(team, now=NOW, channels=_channels(mastodon))

    assert len(run.sent) == 1
    (status,) = mastodon.statuses.values()
    assert status["visibility"] == "unlisted"
    assert [m["description"] for m in status["media_attachments"]] == ["Monteur aan een wiel"]
    with team.session() as session:
        used = session.scalars(
            select(PublishingAccount.name).join(
                Publication, Publication.account_id == PublishingAccount.id
            )
        ).one()
    assert used == "care"
    with pytest.raises(InputError) as unknown:
        create_draft(team, None, "Elders.", actor="bob", platform="bluesky", account="care")
    assert unknown.value.key == "drafts.unknown_account"
    with pytest.raises(InputError) as hidden:
        create_draft(team, None, "Geheim.", actor="bob", visibility="secret")
    assert hidden.value.key == "drafts.bad_visibility"
    # Another platform: the account (of the old one) no longer applies.
    moved = create_draft(team, None, "Verhuisd.", actor="bob", platform="mastodon",
                         account="main").number  # fmt: skip
    assert edit_draft(team, None, moved, actor="bob", platform="bluesky").account is None


def test_bluesky_gets_the_images_as_blobs_with_alt_text(team: Store, bluesky: FakeBluesky) -> None:
    settings = {"identifier_env": "BSKY_HANDLE", "password_env": "BSKY_PASSWORD"}
    add_account(team, None, "bsky", "bluesky", actor="anna", settings=settings)
    number = create_draft(
        team, None, "Twee nieuwe modellen.", actor="bob", platform="bluesky", planned_at=NOW,
        images=[new_image(PNG, "Een rode fiets"), new_image(JPEG, "Een blauwe fiets")],
        check=_check,
    ).number  # fmt: skip
    submit_draft(team, None, number, actor="bob")
    approve_draft(team, None, number, actor="carla", check=_check)

    assert len(publish_due(team, now=NOW, channels=_channels(bluesky=bluesky)).sent) == 1

    (record,) = bluesky.records.values()
    embed = record["value"]["embed"]
    assert [i["alt"] for i in embed["images"]] == ["Een rode fiets", "Een blauwe fiets"]
    assert [b["mimeType"] for b in bluesky.blobs] == ["image/png", "image/jpeg"]


def test_images_from_the_command_line(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    from klopt.accounts.organizations import create_organization
    from klopt.store import open_store

    klopt = Klopt(tmp_path)
    store = open_store(klopt.db)
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    _team(store)
    monkeypatch.setenv("KLOPT_USER", "bob")
    photo, notes = tmp_path / "fiets.png", tmp_path / "fiets.txt"
    photo.write_bytes(PNG)
    notes.write_text("geen afbeelding", encoding="utf-8")

    klopt("drafts", "new", "Nieuw binnen.", "--image", str(photo), "--alt", "Een rode fiets",
          "--visibility", "unlisted", "--no-check")  # fmt: skip
    shown = klopt("drafts", "show", "D1").output
    assert "image 1: image/png" in shown and "Een rode fiets" in shown and "unlisted" in shown
    missing = klopt("drafts", "new", "Zonder alt.", "--image", str(photo), code=1).output
    assert "--alt" in missing and "Traceback" not in missing
    wrong = klopt("drafts", "new", "Tekst.", "--image", str(notes), "--alt", "x", code=1).output
    assert "fiets.txt" in wrong and "PNG" in wrong
    klopt("drafts", "edit", "D1", "--no-images", "--no-check")
    (draft,) = json.loads(klopt("drafts", "list", "--json").output)
    assert (draft["version"], draft["visibility"]) == (2, "unlisted")
    assert show_draft(store, None, "D1", actor="bob").versions[-1].images == ()
    store.close()


def test_the_migration_matches_the_model(store: Store) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.migration import MigrationContext

    from klopt.store.models import Base

    with store.engine.connect() as connection:
        diff = compare_metadata(MigrationContext.configure(connection), Base.metadata)
    new = ("draft_image", "'visibility'", "'account'", "first_tried_at", "'problem'")
    assert [d for d in diff if any(name in repr(d) for name in new)] == []
