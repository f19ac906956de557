"""Replies in the web app (issue 16): care answers a mention from its page, the reply is
checked and approved as the admin chose, the thread shows it; an approved draft for a
manual channel is shown ready to copy, one for an account with its outbox state."""

from __future__ import annotations

import re
from typing import Any

import pytest
from live import needs_chromium
from sqlalchemy import select
from web_helpers import ORG

from klopt.editorial.drafts import show_draft
from klopt.editorial.replies import reply_policy, thread
from klopt.store import Store
from klopt.store.models import Organization, Post

#: More than the register's "Wij leveren binnen 24 uur." (P1): an error finding.
TOO_MUCH = "Sorry! Uw pakket is binnen 2 uur bij u."
FINE = "Sorry voor het wachten, we zoeken het voor u uit."


def _mention(store: Store) -> int:
    """A customer's mention of the demo organisation."""
    with store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        post_id = session.scalar(
            select(Post.id)
            .where(Post.organization_id == org_id, Post.kind == "mention")
            .order_by(Post.id)
            .limit(1)
        )
        assert post_id is not None
        return post_id


def test_care_answers_from_the_mention_and_the_thread_shows_it(
    browser: Any, web_store: Store
) -> None:
    mention = _mention(web_store)
    bob = browser("bob")
    page = bob.get(f"/inbox/{mention}").text
    assert f'action="/inbox/{mention}/reply"' in page
    assert "an approver reads it before klopt sends it" in page  # the policy: always

    sent = bob.form(f"/inbox/{mention}/reply", {"text": FINE})

    assert sent.status_code == 303
    assert sent.headers["location"] == f"/inbox/{mention}?done=reply#thread"
    (entry,) = thread(web_store, ORG, mention)
    assert entry.draft.state == "in_review" and entry.draft.text.endswith(FINE)
    shown = bob.get(f"/inbox/{mention}?done=reply").text
    assert f'<a href="/drafts/{entry.draft.key}">{entry.draft.key}</a>' in shown
    assert "in review" in shown
    draft_page = bob.get(f"/drafts/{entry.draft.key}").text
    assert f'<a href="/inbox/{mention}">#{mention}</a>' in draft_page


def test_the_admin_chooses_the_policy_and_an_error_still_waits(
    browser: Any, web_store: Store
) -> None:
    mention = _mention(web_store)
    anna = browser("anna")
    assert 'action="/admin/replies"' in anna.get("/admin").text
    saved = anna.form("/admin/replies", {"policy": "errors"})
    assert saved.status_code == 200 and "only when their check finds errors" in saved.text
    assert reply_policy(web_store, ORG) == "errors"
    assert browser("bob").form("/admin/replies", {"policy": "never"}).status_code == 403
    assert reply_policy(web_store, ORG) == "errors"

    bob = browser("bob")
    bob.form(f"/inbox/{mention}/reply", {"text": FINE})
    bob.form(f"/inbox/{mention}/reply", {"text": TOO_MUCH})

    fine, too_much = thread(web_store, ORG, mention)
    assert (fine.draft.state, too_much.draft.state) == ("approved", "in_review")
    review = show_draft(web_store, ORG, fine.draft.key, actor="bob").reviews[0]
    assert review.policy == "errors"
    page = bob.get(f"/drafts/{fine.draft.key}").text
    assert "approved by the reply policy (errors)" in page


def test_a_manual_channel_shows_the_approved_text_ready_to_copy(
    browser: Any, web_store: Store
) -> None:
    mention = _mention(web_store)
    browser("anna").form("/admin/replies", {"policy": "never"})
    bob = browser("bob")
    bob.form(f"/inbox/{mention}/reply", {"text": FINE})
    (entry,) = thread(web_store, ORG, mention)

    page = bob.get(f"/drafts/{entry.draft.key}").text

    assert entry.draft.state == "approved"
    assert "klopt does not post to" in page
    copy = re.search(r'<textarea id="copy-text"[^>]*>([^<]*)</textarea>', page)
    assert copy is not None and copy.group(1).endswith(FINE)
    assert 'data-copy="copy-text"' in page


def test_a_viewer_may_read_the_thread_but_not_reply(browser: Any, web_store: Store) -> None:
    mention = _mention(web_store)
    vera = browser("vera")
    page = vera.get(f"/inbox/{mention}").text
    assert "Replies" in page and f'action="/inbox/{mention}/reply"' not in page
    refused = vera.form(f"/inbox/{mention}/reply", {"text": FINE})
    assert refused.status_code == 403 and "viewer" in refused.text
    assert thread(web_store, ORG, mention) == []


def test_an_empty_reply_is_refused_on_the_page_and_nothing_is_stored(
    browser: Any, web_store: Store
) -> None:
    mention = _mention(web_store)
    bob = browser("bob", lang="nl")
    refused = bob.form(f"/inbox/{mention}/reply", {"text": "   "})
    assert refused.status_code == 422
    assert 'role="alert"' in refused.text
    assert thread(web_store, ORG, mention) == []
    assert bob.form("/inbox/999999/reply", {"text": FINE}).status_code == 404


@needs_chromium
@pytest.mark.slow
def test_reply_and_copy_in_a_real_browser_and_axe_finds_nothing(
    sqlite_app: Any, monkeypatch: pytest.MonkeyPatch
) -> None:
    from live import axe_violations, chromium_browser, serving, sign_in, watch
    from web_helpers import password

    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")
    store = sqlite_app.state.store
    mention = _mention(store)
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        context = chromium.new_context(locale="nl-NL")
        context.grant_permissions(["clipboard-read", "clipboard-write"], origin=base)
        anna = context.new_page()
        problems = watch(anna)
        sign_in(anna, base, "anna", password("anna"))
        anna.goto(f"{base}/admin")
        assert axe_violations(anna) == []
        anna.locator("#policy-never").check()
        anna.locator("form[action='/admin/replies'] button").click()
        anna.wait_for_selector("p.notice")
        anna.goto(f"{base}/inbox/{mention}")
        assert axe_violations(anna) == []
        anna.locator("#reply-text").fill(FINE)
        anna.locator("form[action$='/reply'] button").click()
        anna.wait_for_url(re.compile(rf"/inbox/{mention}\?done=reply"))
        assert axe_violations(anna) == []
        anna.locator("#thread tbody a").first.click()
        anna.wait_for_selector("#copy-text")
        assert axe_violations(anna) == []
        anna.locator("button[data-copy]").click()
        anna.wait_for_selector("[data-copy-status]:has-text('Gekopieerd.')")
        assert anna.evaluate("navigator.clipboard.readText()").endswith(FINE)
        assert problems == []
        context.close()
