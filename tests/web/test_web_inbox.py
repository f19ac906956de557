"""The inbox page: mentions with verdicts and evidence, filters, order, pages, corrections
in one click (htmx and plain forms), roles, organisations, escaping, errors, languages."""

from __future__ import annotations

import html
import re
from datetime import UTC, datetime
from typing import Any

from live import needs_chromium
from markupsafe import escape
from web_helpers import ORG

from klopt.judging.inbox import InboxFilters, find_mention, inbox
from klopt.judging.verdicts import current_stances
from klopt.store import Store
from klopt.store.models import Post, Promise

ROW = re.compile(r'<tr id="mention-(\d+)"')


def _ids(page: str) -> list[int]:
    return [int(i) for i in ROW.findall(page)]


def _row(page: str, post_id: int) -> str:
    start = page.index(f'<tr id="mention-{post_id}"')
    return page[start : page.index("</tr>", start)]


def _all_pages(client: Any, url: str) -> list[int]:
    """Every mention id, following the next-page links from ``url``."""
    seen: list[int] = []
    while url:
        page = client.get(url)
        assert page.status_code == 200, page.text
        seen += _ids(page.text)
        found = re.search(r'<a href="([^"]+)" rel="next">', page.text)
        url = html.unescape(found.group(1)) if found else ""
    return seen


def _pairs(store: Store) -> dict[tuple[int, int], tuple[str, bool]]:
    from sqlalchemy import select

    from klopt.store.models import Organization

    with store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        assert org_id is not None
        return current_stances(session, org_id)


def _promise_id(store: Store, key: str) -> int:
    from sqlalchemy import select

    from klopt.store.models import Organization

    with store.session() as session:
        found = session.scalar(
            select(Promise.id)
            .join(Organization, Organization.id == Promise.organization_id)
            .where(Promise.key == key, Organization.name == ORG)
        )
        assert found is not None
        return found


def _a_mention(store: Store, promise: str, stance: str) -> int:
    """A mention whose current verdict on ``promise`` is ``stance`` (by the engine)."""
    pid = _promise_id(store, promise)
    return min(p for (p, q), (s, person) in _pairs(store).items() if q == pid and s == stance)


def test_the_inbox_shows_mentions_with_verdicts_and_evidence(browser: Any) -> None:
    bob = browser("bob")
    page = bob.get("/inbox")
    assert page.status_code == 200
    text = page.text
    assert text.count("<h1") == 1 and "<h1>Inbox</h1>" in text
    assert len(_ids(text)) == 25  # the first page
    assert '<th scope="col">Promises, verdicts and evidence</th>' in text
    assert "Promise sentence" in text and "<mark>" in text and "Similarity" in text
    assert re.search(r"confidence \d+%", text)
    assert 'rel="noopener noreferrer external">Original on ' in text
    assert "<kbd>j</kbd>" in text and "<kbd>1</kbd> kept" in text
    assert '<script src="/static/inbox.js" defer></script>' in text
    # the first mention is the one the library puts first, with its author and promises
    # (it may have none: the judge's doubt is high where a promise was nearly linked)
    store = bob.client.app.state.store
    first = find_mention(store, ORG, _ids(text)[0])
    row = _row(text, first.id)
    assert str(escape(first.text)) in row
    assert str(escape(first.author or "")) in row
    linked = next(m for m in (find_mention(store, ORG, i) for i in _ids(text)) if m.verdicts)
    row = _row(text, linked.id)
    assert linked.verdicts[0].promise in row and str(escape(linked.verdicts[0].statement)) in row


def test_the_page_has_no_inline_script_or_style_and_labels_every_control(browser: Any) -> None:
    text = browser("bob").get("/inbox").text
    assert not re.search(r"<script(?![^>]*\ssrc=)", text)
    assert " style=" not in text and not re.search(r"\son[a-z]+=", text)
    for control in re.findall(r'<(?:select|input(?! type="hidden"))[^>]*\sid="([^"]+)"', text):
        assert f'<label for="{control}"' in text, control
    assert "inbox." not in re.sub(r"<[^>]+>", "", text)  # no untranslated message key


def test_filters_by_promise_and_stance_give_exactly_those_mentions(
    browser: Any, web_store: Store
) -> None:
    p1 = _promise_id(web_store, "P1")
    expected = {p for (p, q), (s, _) in _pairs(web_store).items() if q == p1 and s == "broken"}
    assert expected
    shown = _all_pages(browser("bob").client, "/inbox?promise=P1&stance=broken&limit=7")
    assert sorted(shown) == sorted(expected)


def test_filters_by_platform_language_period_and_ids(browser: Any, web_store: Store) -> None:
    from sqlalchemy import select

    bob = browser("bob")
    with web_store.session() as session:
        posts = list(session.scalars(select(Post).where(Post.kind == "mention")))
    on_x = {p.id for p in posts if p.platform == "x"}
    assert on_x and set(_all_pages(bob.client, "/inbox?platform=X&limit=200")) == on_x
    dutch = {p.id for p in posts if p.language == "nl"}
    assert set(_all_pages(bob.client, "/inbox?language=nl&limit=200")) == dutch
    since, until = datetime(2026, 7, 1, tzinfo=UTC), datetime(2026, 8, 1, tzinfo=UTC)
    july = {p.id for p in posts if p.posted_at and since <= p.posted_at < until}
    in_july = "/inbox?since=2026-07-01&until=2026-08-01&order=newest&limit=50"
    assert july and set(_all_pages(bob.client, in_july)) == july
    chosen = sorted(on_x)[:3]
    page = bob.get("/inbox?ids=" + ",".join(map(str, chosen)))
    assert sorted(_ids(page.text)) == chosen
    assert "behind a number of the dashboard" in page.text


def test_the_dashboard_link_with_promise_stance_and_period_works(browser: Any) -> None:
    url = "/inbox?promise=P1&stance=broken&since=2026-06-01T00:00:00%2B00:00&until=2026-12-01"
    page = browser("bob").get(url)
    assert page.status_code == 200 and _ids(page.text)
    for post_id in _ids(page.text):
        assert "<strong>P1</strong>" in _row(page.text, post_id)


def test_the_three_orders(web_store: Store) -> None:
    def key(m: Any) -> float:
        """The doubt the order ranks by: 0 once corrected, else the stored doubt, else
        1 - the lowest open confidence (see klopt.judging.inbox)."""
        if m.not_about or any(v.by_person for v in m.verdicts):
            return 0.0
        if m.doubt is not None:
            return float(m.doubt)
        open_ = [v.confidence for v in m.verdicts if not v.by_person and v.confidence is not None]
        return 1 - min(open_, default=1.0)

    def weight(m: Any) -> float:
        return 1.0 + len(str(m.reach)) if m.reach and m.reach > 0 else 1.0

    every = inbox(web_store, ORG, order="priority", limit=200).mentions
    priority = [key(m) * weight(m) for m in every]
    assert priority == sorted(priority, reverse=True) and priority[0] > 0
    doubt = [key(m) for m in inbox(web_store, ORG, order="uncertainty", limit=200).mentions]
    assert doubt == sorted(doubt, reverse=True)
    times = [m.posted_at for m in inbox(web_store, ORG, order="newest", limit=200).mentions]
    assert times == sorted(times, reverse=True)  # type: ignore[type-var]
    # a widely seen mention the judge is unsure about comes before a sure, unseen one
    assert weight(every[0]) > 3


def test_the_inbox_shows_the_judges_doubt_and_says_what_each_order_does(
    browser: Any, web_store: Store
) -> None:
    from sqlalchemy import update

    from klopt.store.models import Judgement

    post_id = _a_mention(web_store, "P1", "kept")
    with web_store.session() as session:
        session.execute(update(Judgement).where(Judgement.post_id == post_id).values(doubt=0.87))
    bob = browser("bob")
    page = bob.get(f"/inbox?ids={post_id}").text
    assert '<p class="inbox-doubt muted">The judge&#39;s doubt: 87%</p>' in _row(page, post_id)
    assert '<option value="priority">Check first (doubt × reach)</option>' in page
    assert '<option value="uncertainty">Most doubt first</option>' in page
    assert "the judge has the most doubt about them and many people saw them" in page
    # a judgement without a stored doubt (made before klopt stored it) shows none
    with web_store.session() as session:
        session.execute(update(Judgement).where(Judgement.post_id == post_id).values(doubt=None))
    assert "inbox-doubt" not in _row(bob.get(f"/inbox?ids={post_id}").text, post_id)
    assert (
        "Twijfel van de beoordelaar" not in browser("bob", lang="nl").get(f"/inbox/{post_id}").text
    )
    with web_store.session() as session:
        session.execute(update(Judgement).where(Judgement.post_id == post_id).values(doubt=0.4))
    dutch = browser("bob", lang="nl").get(f"/inbox?order=uncertainty&ids={post_id}").text
    assert "Twijfel van de beoordelaar: 40%" in _row(dutch, post_id)
    assert '<option value="uncertainty" selected>Meeste twijfel eerst</option>' in dutch
    assert "Eerst bekijken (twijfel × bereik)" in dutch


def test_pages_follow_each_other_without_gaps_or_repeats(browser: Any, web_store: Store) -> None:
    from sqlalchemy import func, select

    with web_store.session() as session:
        mentions = session.scalar(
            select(func.count()).select_from(Post).where(Post.kind == "mention")
        )
    bob = browser("bob")
    for order in ("priority", "uncertainty", "newest"):
        seen = _all_pages(bob.client, f"/inbox?order={order}&limit=40")
        assert len(seen) == len(set(seen)) == mentions, order
    second = bob.get("/inbox?limit=40")
    nxt = re.search(r'<a href="([^"]+)" rel="next">', second.text)
    assert nxt is not None
    assert "First page" in bob.get(html.unescape(nxt.group(1))).text


def test_a_correction_by_htmx_returns_the_row_and_changes_the_scorecard_at_once(
    browser: Any, web_store: Store
) -> None:
    from klopt.insight.scorecard import build_scorecard

    def p1() -> Any:
        card = build_scorecard(web_store, ORG, since=datetime(2026, 1, 1, tzinfo=UTC),
                               until=datetime(2027, 1, 1, tzinfo=UTC))  # fmt: skip
        return next(row for row in card.rows if row.key == "P1")

    post_id = _a_mention(web_store, "P1", "kept")
    before = p1()
    bob = browser("bob")
    answer = bob.htmx("POST", f"/inbox/{post_id}/correct",
                      data={"promise": "P1", "stance": "broken", "back": "/inbox"})  # fmt: skip
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(f'<tr id="mention-{post_id}"')
    assert "<html" not in answer.text
    assert '<span class="badge broken">broken</span>' in answer.text
    assert '<span class="badge corrected">corrected</span>' in answer.text
    assert "(the judge said kept)" in answer.text
    after = p1()
    assert after.kept.count == before.kept.count - 1
    assert after.broken.count == before.broken.count + 1
    page = bob.get(f"/inbox/{post_id}")
    assert "Corrections" in page.text and "bob" in page.text and "broken" in page.text


def test_a_correction_without_javascript_posts_a_form_and_comes_back(
    browser: Any, web_store: Store
) -> None:
    post_id = _a_mention(web_store, "P1", "kept")
    bob = browser("bob")
    back = "/inbox?promise=P1&order=newest"
    answer = bob.form(f"/inbox/{post_id}/correct",
                      {"promise": "P1", "stance": "neutral", "back": back})  # fmt: skip
    assert answer.status_code == 303
    assert answer.headers["location"] == f"{back}#mention-{post_id}"
    assert find_mention(web_store, ORG, post_id).verdicts[0].stance == "neutral"
    # the form on the page carries the session's token and works without htmx
    page = bob.get("/inbox").text
    assert 'name="csrf" value="' + bob.csrf in page and 'action="/inbox/' in page
    off_site = bob.form(f"/inbox/{post_id}/correct",
                        {"promise": "P1", "stance": "kept", "back": "//evil.example/"})  # fmt: skip
    assert off_site.headers["location"] == f"/inbox#mention-{post_id}"


def test_about_another_promise_and_about_no_promise(browser: Any, web_store: Store) -> None:
    post_id = _a_mention(web_store, "P1", "kept")
    bob = browser("bob")
    moved = bob.htmx("POST", f"/inbox/{post_id}/correct",
                     data={"promise": "P3", "stance": "broken", "instead": "1"})  # fmt: skip
    assert moved.status_code == 200
    mention = find_mention(web_store, ORG, post_id)
    assert [(v.promise, v.stance, v.by_person) for v in mention.verdicts] == [
        ("P3", "broken", True)
    ]
    assert mention.not_about == ("P1",)
    assert "Not about P1 (corrected)." in moved.text
    cleared = bob.htmx("POST", f"/inbox/{post_id}/correct", data={"stance": "none"})
    assert cleared.status_code == 200
    assert find_mention(web_store, ORG, post_id).verdicts == ()
    assert "The judge found no promise this mention is about." in cleared.text
    assert "Not about P1, P3 (corrected)." in cleared.text
    # and it no longer counts for either promise
    assert not any(p == post_id for (p, _), _v in _pairs(web_store).items())


def test_a_viewer_sees_no_correction_buttons_and_may_not_correct(
    browser: Any, web_store: Store
) -> None:
    post_id = _a_mention(web_store, "P1", "kept")
    vera = browser("vera")
    page = vera.get("/inbox").text
    assert _ids(page) and 'action="/inbox/' not in page and "<kbd>1</kbd>" not in page
    refused = vera.htmx("POST", f"/inbox/{post_id}/correct",
                        data={"promise": "P1", "stance": "broken"})  # fmt: skip
    assert refused.status_code == 403
    assert 'role="alert"' in refused.text and "viewer" in refused.text
    plain = vera.form(f"/inbox/{post_id}/correct", {"promise": "P1", "stance": "broken"})
    assert plain.status_code == 403
    assert find_mention(web_store, ORG, post_id).verdicts[0].stance == "kept"


def test_another_organisations_mention_is_not_found(browser: Any, web_store: Store) -> None:
    post_id = _a_mention(web_store, "P1", "kept")
    olga = browser("olga")
    assert olga.get(f"/inbox/{post_id}").status_code == 404
    refused = olga.form(f"/inbox/{post_id}/correct", {"promise": "P1", "stance": "broken"})
    assert refused.status_code == 404
    assert olga.htmx("POST", f"/inbox/{post_id}/correct",
                     data={"promise": "P1", "stance": "broken"}).status_code == 404  # fmt: skip
    assert _ids(olga.get(f"/inbox?ids={post_id}").text) == []
    assert "No mentions match these filters." in olga.get("/inbox").text
    assert find_mention(web_store, ORG, post_id).verdicts[0].stance == "kept"


def test_a_mention_holding_html_is_shown_as_text(browser: Any, web_store: Store) -> None:
    from klopt.listening.api_import import body_format, import_body

    body = (
        b'[{"text": "<script>alert(1)</script> <img src=x onerror=alert(2)>", '
        b'"id": "xss1", "author": "<b>eve</b>", "url": "javascript:alert(3)", "reach": 5}]'
    )
    result = import_body(web_store, ORG, body, body_format("application/json"), actor="bob")
    assert result.imported == 1
    page = browser("bob").get("/inbox?platform=api").text
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &lt;img src=x onerror=alert(2)&gt;" in page
    assert "<script>alert(1)" not in page and "<b>eve</b>" not in page
    assert "&lt;b&gt;eve&lt;/b&gt;" in page and "javascript:alert(3)" not in page


def test_bad_filters_say_so_in_the_users_language(browser: Any) -> None:
    bob = browser("bob")
    wrong = bob.get("/inbox?stance=great")
    assert wrong.status_code == 422
    assert "&#39;great&#39; is not a verdict to filter on." in wrong.text
    assert 'role="alert"' in wrong.text and "<h1>Inbox</h1>" in wrong.text
    assert bob.get("/inbox?since=yesterday").status_code == 422
    assert bob.get("/inbox?cursor=bm9wZQ").status_code == 422
    assert bob.get("/inbox?ids=1,x").status_code == 422
    assert bob.get("/inbox?since=2026-08-01&until=2026-07-01").status_code == 422
    unknown = bob.get("/inbox?promise=P99")
    assert unknown.status_code == 404 and "There is no promise &#39;P99&#39;" in unknown.text
    dutch = browser("bob", lang="nl").get("/inbox?order=random")
    assert dutch.status_code == 422 and "is geen volgorde van de inbox" in dutch.text
    assert "<h1>Inbox</h1>" in dutch.text and "Eerst bekijken" in dutch.text
    bad = bob.htmx("POST", "/inbox/1/correct", data={"promise": "P1", "stance": "great"})
    assert bad.status_code == 422 and 'role="alert"' in bad.text


def test_the_dutch_inbox_is_dutch(browser: Any) -> None:
    page = browser("bob", lang="nl").get("/inbox").text
    assert '<html lang="nl">' in page
    for words in ("Beloften, oordelen en onderbouwing", "Zin van de belofte", "Nagekomen",
                  "Over geen enkele belofte", "Volgende pagina"):  # fmt: skip
        assert words in page, words
    assert "inbox." not in re.sub(r"<[^>]+>", "", page)


def test_a_page_deep_in_a_large_list_uses_the_cursor_not_an_offset(web_store: Store) -> None:
    first = inbox(web_store, ORG, InboxFilters(), order="newest", limit=100)
    assert first.next_cursor is not None
    second = inbox(web_store, ORG, InboxFilters(), order="newest", limit=100,
                   cursor=first.next_cursor)  # fmt: skip
    assert {m.id for m in first.mentions}.isdisjoint(m.id for m in second.mentions)


@needs_chromium
def test_keys_move_and_correct_in_a_real_browser_and_axe_finds_nothing(sqlite_app: Any) -> None:
    from live import axe_violations, chromium_browser, serving, watch
    from live import sign_in as sign_in_page
    from web_helpers import password

    found = find_mention

    store = sqlite_app.state.store
    with serving(sqlite_app) as base, chromium_browser() as chromium:
        page = chromium.new_page(locale="en-GB")
        problems = watch(page)
        sign_in_page(page, base, "bob", password("bob"))
        page.goto(f"{base}/inbox?order=newest")
        assert axe_violations(page) == []
        rows = page.locator("tr.inbox-row")
        page.keyboard.press("j")
        page.keyboard.press("j")
        page.keyboard.press("ArrowDown")
        page.keyboard.press("k")
        second = rows.nth(1)
        assert second.get_attribute("aria-current") == "true"
        assert page.evaluate("document.activeElement.id") == second.get_attribute("id")
        post_id = int((second.get_attribute("id") or "").removeprefix("mention-"))
        promise = found(store, ORG, post_id).verdicts[0].promise
        with page.expect_response(f"**/inbox/{post_id}/correct"):
            page.keyboard.press("2")
        page.wait_for_selector(f"#mention-{post_id} .badge.corrected")
        assert found(store, ORG, post_id).verdicts[0].stance == "broken"
        assert found(store, ORG, post_id).verdicts[0].promise == promise
        page.wait_for_selector(f'#mention-{post_id}[aria-current="true"]:focus')
        page.keyboard.press("Enter")
        page.wait_for_url(re.compile(rf"/inbox/{post_id}\?back="))
        assert page.locator("h1").inner_text().startswith("Mention ")
        assert axe_violations(page) == []
        assert problems == []


def test_a_ranked_order_weighs_the_newest_mentions_when_very_many_match(
    browser: Any, web_store: Store, monkeypatch: Any
) -> None:
    import klopt.judging.inbox as library

    monkeypatch.setattr(library, "RANK_WINDOW", 40)
    newest = inbox(web_store, ORG, order="newest", limit=40).mentions
    cut = newest[-1].posted_at
    assert cut is not None
    page = inbox(web_store, ORG, order="priority", limit=15)
    assert page.ranked_since == cut
    bob = browser("bob")
    ranked = _all_pages(bob.client, "/inbox?limit=15")
    assert sorted(ranked) == sorted(m.id for m in newest)
    shown = bob.get("/inbox").text
    assert "it ranks the newest 40, posted since " + cut.strftime("%Y-%m-%d %H:%M") in shown
    # the promise and stance filters apply within those newest mentions
    p1 = _promise_id(web_store, "P1")
    recent = {m.id for m in newest}
    broken = {p for (p, q), (s, _) in _pairs(web_store).items() if q == p1 and s == "broken"}
    assert set(_all_pages(bob.client, "/inbox?promise=P1&stance=broken")) == broken & recent
    # the newest order and a list of ids reach every mention
    assert len(_all_pages(bob.client, "/inbox?order=newest&limit=200")) == 225
    assert "ranks the newest" not in bob.get("/inbox?order=newest").text


def test_the_source_filter_shows_what_one_listening_source_brought(
    browser: Any, web_store: Store
) -> None:
    from sqlalchemy import select, update

    from klopt.store.models import ImportBatch, ListeningSource, Organization

    with web_store.session() as session:
        org_id = session.scalar(select(Organization.id).where(Organization.name == ORG))
        assert org_id is not None
        source = ListeningSource(organization_id=org_id, name="mastodon-feed", kind="rss")
        session.add(source)
        session.flush()
        batch = ImportBatch(
            organization_id=org_id, source="sync", format="rss", source_id=source.id
        )
        session.add(batch)
        session.flush()
        chosen = list(
            session.scalars(
                select(Post.id).where(Post.kind == "mention", Post.platform == "mastodon")
            )
        )[:6]
        session.execute(update(Post).where(Post.id.in_(chosen)).values(import_batch_id=batch.id))
    bob = browser("bob")
    page = bob.get("/inbox?source=mastodon-feed")
    assert sorted(_ids(page.text)) == sorted(chosen)
    assert '<option value="mastodon-feed" selected>mastodon-feed</option>' in page.text
    unknown = bob.get("/inbox?source=elsewhere")
    assert unknown.status_code == 404 and "There is no source &#39;elsewhere&#39;." in unknown.text


def test_a_mention_page_corrects_in_place_and_links_back_to_its_list(
    browser: Any, web_store: Store
) -> None:
    post_id = _a_mention(web_store, "P1", "kept")
    bob = browser("bob")
    listing = bob.get(f"/inbox?promise=P1&ids={post_id}").text
    opened = re.search(rf'<a href="(/inbox/{post_id}\?back=[^"]+)" data-open-link>', listing)
    assert opened is not None
    page = bob.get(html.unescape(opened.group(1))).text
    assert f'<a href="/inbox?promise=P1&amp;ids={post_id}">Back to the inbox</a>' in page
    assert "<h1>Mention " in page and "Nobody has corrected this mention yet." in page
    here = f"/inbox/{post_id}"
    answer = bob.form(f"{here}/correct", {"promise": "P1", "stance": "broken", "back": here})
    assert answer.headers["location"] == f"/inbox/{post_id}#mention-{post_id}"
    history = bob.get(answer.headers["location"]).text
    assert re.search(r"<td>bob</td>\s*<td>P1</td>\s*<td>broken</td>", history)
