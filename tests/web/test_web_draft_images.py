"""Images of a draft in the web app and the API (issue 16): added with alt text as a new
version, shown on the draft's page, served to members only, refused with a message when
they are no image; through the API as base64."""

from __future__ import annotations

import base64
from typing import Any

import pytest
from web_helpers import ORG

from klopt.editorial.drafts import create_draft, show_draft
from klopt.store import Store

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


@pytest.fixture(autouse=True)
def _fast_checks(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


def _upload(who: Any, ref: str, data: bytes, alt: str, name: str = "fiets.png") -> Any:
    return who.client.post(
        f"/drafts/{ref}/images", data={"alt": alt, "csrf": who.csrf},
        files={"image": (name, data, "application/octet-stream")}, follow_redirects=False,
    )  # fmt: skip


def test_an_image_is_added_shown_served_and_removed(browser: Any, web_store: Store) -> None:
    create_draft(web_store, ORG, "Onze nieuwe werkplaats.", actor="bob", platform="mastodon")
    bob = browser("bob")

    added = _upload(bob, "D1", PNG, "Een monteur aan een wiel")

    assert added.status_code == 303 and added.headers["location"] == "/drafts/D1?done=images"
    page = bob.get("/drafts/D1?done=images").text
    assert '<img src="/drafts/D1/images/2/1" alt="Een monteur aan een wiel"' in page
    served = bob.get("/drafts/D1/images/2/1")
    assert served.status_code == 200 and served.content == PNG
    assert served.headers["content-type"] == "image/png"
    assert served.headers["x-content-type-options"] == "nosniff"
    assert browser("vera").get("/drafts/D1/images/2/1").status_code == 200  # members read
    assert browser("olga").get("/drafts/D1/images/2/1").status_code == 404  # other org
    assert bob.get("/drafts/D1/images/1/1").status_code == 404  # version 1 had none

    removed = bob.form("/drafts/D1/images/1/remove")
    assert removed.status_code == 303
    versions = show_draft(web_store, ORG, "D1", actor="bob").versions
    assert [len(v.images) for v in versions] == [0, 1, 0]


def test_what_is_no_image_is_refused_on_the_page(browser: Any, web_store: Store) -> None:
    create_draft(web_store, ORG, "Tekst.", actor="bob")
    bob = browser("bob", lang="nl")
    refused = _upload(bob, "D1", b"%PDF-1.7", "Een folder", name="folder.pdf")
    assert refused.status_code == 422
    assert "folder.pdf is geen PNG-, JPEG-, GIF- of WebP-afbeelding." in refused.text
    no_alt = _upload(bob, "D1", PNG, "  ")
    assert no_alt.status_code == 422 and "alt-tekst" in no_alt.text
    assert _upload(browser("vera"), "D1", PNG, "x").status_code == 403
    assert len(show_draft(web_store, ORG, "D1", actor="bob").versions) == 1


def test_images_visibility_and_account_through_the_api(api: Any, web_store: Store) -> None:
    bob = api("bob")
    body = {
        "text": "Nieuw: de e-bike.", "platform": "mastodon", "visibility": "unlisted",
        "images": [{"data": base64.b64encode(PNG).decode(), "alt": "De e-bike"}],
    }  # fmt: skip
    made = bob.post("/api/v1/drafts", json=body)
    assert made.status_code == 201, made.text
    assert made.json()["visibility"] == "unlisted"
    shown = bob.get("/api/v1/drafts/D1").json()
    assert shown["versions"][0]["images"] == [
        {"position": 1, "mime": "image/png", "alt": "De e-bike", "size": len(PNG)}
    ]
    text_only = {"text": "Tekst.", "images": [{"data": base64.b64encode(b"tekst").decode(),
                                               "alt": "x"}]}  # fmt: skip
    refused = bob.post("/api/v1/drafts", json=text_only)
    assert refused.status_code == 422 and "image 1" in refused.text
    kept = bob.patch("/api/v1/drafts/D1", json={"text": "Nieuw: de e-bike, nu te zien."})
    assert kept.status_code == 200
    versions = show_draft(web_store, ORG, "D1", actor="bob").versions
    assert [len(v.images) for v in versions] == [1, 1]
    unknown = bob.patch("/api/v1/drafts/D1", json={"account": "nergens"})
    assert unknown.status_code == 422 and "nergens" in unknown.text
