"""The drafts pages and the content calendar: the editor's live check, the workflow's
actions with their refusals on the page, escaping, and the calendar per promise.

The app checks with the fast ``hashing`` embedder (``KLOPT_EMBEDDER``), as the demo store
was judged; the demo register promises delivery within 24 hours (P1).
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

import pytest
from markupsafe import Markup

from klopt.editorial.calendar import content_calendar
from klopt.editorial.drafts import list_drafts, show_draft
from klopt.store import Store
from klopt.web.pages.drafts import preview

ORG = "Voorbeeld BV"
OVER = "Vandaag besteld? Wij leveren binnen 12 uur in huis."
RETURNS = "Niet tevreden? U retourneert gratis binnen 30 dagen, zonder opgaaf van reden."
SCRIPT = "<script>alert(1)</script> Gratis retour binnen 30 dagen."
ESCAPED = "&lt;script&gt;alert(1)&lt;/script&gt;"


@pytest.fixture(autouse=True)
def _fast_checks(_isolated_home: None, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("KLOPT_EMBEDDER", "hashing")


def _state(store: Store, number: int = 1) -> str:
    (found,) = [d for d in list_drafts(store, ORG, actor="anna") if d.number == number]
    return found.state


def _alert(html: str) -> str:
    found = re.search(r'<p class="error" role="alert">(.*?)</p>', html, re.S)
    assert found is not None, html
    return found.group(1)


def _write(browser: Any, text: str, **fields: str) -> str:
    answer = browser.form("/drafts", {"text": text, **fields})
    assert answer.status_code == 303, answer.text
    location = str(answer.headers["location"])
    assert location.endswith("?done=created")
    return location.split("?")[0]


def test_bob_writes_until_the_finding_shows_and_the_draft_goes_out(
    browser: Any, web_store: Store
) -> None:
    bob = browser("bob", lang="nl")
    editor = bob.get("/drafts/new")
    assert editor.status_code == 200
    assert 'hx-post="/drafts/check"' in editor.text
    assert 'hx-trigger="input changed delay:300ms"' in editor.text
    assert 'aria-live="polite"' in editor.text
    assert '<script src="/static/editor.js" defer></script>' in editor.text
    assert editor.text.count("<h1>") == 1
    assert "Begin met schrijven: de bevindingen verschijnen hier terwijl u typt." in editor.text

    early = bob.htmx("POST", "/drafts/check", data={"text": "Vandaag besteld? Wij leveren"})
    assert early.status_code == 200 and "promise.exceeds" not in early.text
    live = bob.htmx("POST", "/drafts/check", data={"text": OVER, "platform": "x"})
    assert live.status_code == 200
    assert '<mark class="finding-error" data-findings="1">12 uur</mark>' in live.text
    assert "promise.exceeds" in live.text and "Score 75/100" in live.text
    assert "Belooft meer dan P1" in live.text  # the checker's message, in bob's language
    assert "Wij leveren binnen 24 uur." in live.text  # the promise as evidence

    page = _write(bob, OVER, platform="x", planned_at="2026-09-14T09:00")
    assert page == "/drafts/D1"
    detail = show_draft(web_store, ORG, "D1", actor="bob")
    assert detail.draft.state == "draft" and detail.draft.platform == "x"
    assert detail.draft.planned_at == datetime(2026, 9, 14, 9, 0, tzinfo=UTC)
    assert detail.versions[0].score == 75
    shown = bob.get("/drafts/D1?done=created")
    assert "Het concept is bewaard als versie 1." in shown.text
    assert '<mark class="finding-error" data-findings="1">12 uur</mark>' in shown.text

    assert bob.form("/drafts/D1/submit").status_code == 303
    assert _state(web_store) == "in_review"
    assert "/drafts/D1/approve" not in bob.get("/drafts/D1").text
    refused = bob.form("/drafts/D1/approve", {"version": "1"})
    assert refused.status_code == 403
    assert "bob" in _alert(refused.text) and _state(web_store) == "in_review"

    carla = browser("carla")
    assert 'action="/drafts/D1/approve"' in carla.get("/drafts/D1").text
    errors = carla.form("/drafts/D1/approve", {"version": "1"})
    assert errors.status_code == 422
    assert "promise.exceeds" in _alert(errors.text) and _state(web_store) == "in_review"
    approved = carla.form(
        "/drafts/D1/approve",
        {"version": "1", "override": "true", "note": "Spoedlevering in de Randstad."},
    )
    assert approved.status_code == 303, approved.text
    assert _state(web_store) == "approved"
    (review,) = show_draft(web_store, ORG, "D1", actor="carla").reviews
    assert review.reviewer == "carla" and review.overridden and review.version == 1
    assert review.findings is not None
    assert [f["rule"] for f in review.findings["findings"]] == ["promise.exceeds"]

    url = "https://x.example/voorbeeldfietsen/status/1"
    assert bob.form("/drafts/D1/publish", {"url": url}).status_code == 303
    published = show_draft(web_store, ORG, "D1", actor="bob").draft
    assert published.state == "published" and published.url == url
    from sqlalchemy import select

    from klopt.store.models import Post

    with web_store.session() as session:
        post = session.scalar(select(Post).where(Post.url == url))
        assert post is not None and post.kind == "own" and post.text == OVER
    page_after = bob.get("/drafts/D1").text
    assert f'<a href="{url}" rel="noopener noreferrer">' in page_after
    assert "Spoedlevering in de Randstad." in page_after


def test_nobody_approves_a_draft_they_wrote(browser: Any, web_store: Store) -> None:
    anna = browser("anna")
    _write(anna, RETURNS, platform="linkedin")
    assert anna.form("/drafts/D1/submit").status_code == 303
    assert "/drafts/D1/approve" not in anna.get("/drafts/D1").text  # the button is hidden
    refused = anna.form("/drafts/D1/approve", {"version": "1"})
    assert refused.status_code == 403
    assert "anna" in _alert(refused.text) and "D1" in _alert(refused.text)
    assert _state(web_store) == "in_review"


def test_changes_requested_then_a_new_version_with_its_diff(browser: Any, web_store: Store) -> None:
    bob, carla = browser("bob"), browser("carla")
    _write(bob, RETURNS, platform="linkedin")
    bob.form("/drafts/D1/submit")
    no_reason = carla.form("/drafts/D1/request-changes", {"note": "  ", "version": "1"})
    assert no_reason.status_code == 422 and _state(web_store) == "in_review"
    asked = carla.form(
        "/drafts/D1/request-changes", {"note": "Noem de termijn in werkdagen.", "version": "1"}
    )
    assert asked.status_code == 303 and _state(web_store) == "changes_requested"
    page = bob.get("/drafts/D1").text
    assert "Noem de termijn in werkdagen." in page and "Changes requested on version 1" in page

    edited = bob.form("/drafts/D1/edit", {"text": RETURNS.replace("30 dagen", "30 werkdagen")})
    assert edited.status_code == 303
    detail = show_draft(web_store, ORG, "D1", actor="bob")
    assert [v.number for v in detail.versions] == [1, 2]
    assert detail.versions[1].text.endswith("binnen 30 werkdagen, zonder opgaaf van reden.")
    page = bob.get("/drafts/D1").text
    assert "What changed from version 1 to version 2" in page
    assert '<del><span class="visually-hidden">removed: </span>dagen</del>' in page
    assert '<ins><span class="visually-hidden">added: </span>werkdagen</ins>' in page
    same = bob.get("/drafts/D1?from=2&to=2").text
    assert "The two versions are the same." in same
    unchanged = bob.form("/drafts/D1/edit", {"text": detail.versions[1].text})
    assert unchanged.status_code == 422  # nothing changed: the library's message
    assert "D1" in _alert(unchanged.text)
    assert bob.form("/drafts/D1/submit").status_code == 303
    assert _state(web_store) == "in_review"
    commented = carla.form("/drafts/D1/comment", {"text": "Beter zo."})
    assert commented.status_code == 303
    assert "Beter zo." in bob.get("/drafts/D1").text


def test_a_viewer_reads_but_is_refused_with_the_message_on_the_page(
    browser: Any, web_store: Store
) -> None:
    _write(browser("bob"), RETURNS, platform="x")
    vera = browser("vera")
    listing = vera.get("/drafts")
    assert listing.status_code == 200 and "/drafts/D1" in listing.text
    assert 'href="/drafts/new"' not in listing.text
    assert "may read drafts but not write them" in vera.get("/drafts/new").text
    page = vera.get("/drafts/D1").text
    assert "/drafts/D1/submit" not in page and "/drafts/D1/edit" not in page
    assert "cannot take a next step" in page
    refused = vera.form("/drafts", {"text": "Een nieuw bericht van vera."})
    assert refused.status_code == 403 and "vera" in _alert(refused.text)
    submit = vera.form("/drafts/D1/submit")
    assert submit.status_code == 403 and "vera" in _alert(submit.text)
    assert _state(web_store) == "draft"
    assert len(list_drafts(web_store, ORG, actor="anna")) == 1


def test_another_organisations_draft_is_not_found(browser: Any) -> None:
    _write(browser("bob"), RETURNS)
    olga = browser("olga")
    assert olga.get("/drafts/D1").status_code == 404
    assert olga.form("/drafts/D1/submit").status_code == 404
    assert "/drafts/D1" not in olga.get("/drafts").text


def test_html_in_a_draft_is_shown_as_text_everywhere(browser: Any) -> None:
    bob = browser("bob")
    _write(bob, SCRIPT, platform="x", planned_at="2026-09-14T09:00")
    live = bob.htmx("POST", "/drafts/check", data={"text": SCRIPT})
    pages = [
        live.text,
        bob.get("/drafts/D1").text,
        bob.get("/drafts").text,
        bob.get("/calendar?date=2026-09-14").text,
        bob.get("/calendar?view=week&date=2026-09-14").text,
    ]
    for html in pages:
        assert ESCAPED in html
        assert "<script>alert(1)" not in html


def test_the_preview_marks_overlapping_spans_by_characters() -> None:
    text = "Top 🚲 <b>!!!"
    findings: list[dict[str, Any]] = [
        {"start": 9, "end": 12, "severity": "warning"},  # "!!!"
        {"start": 11, "end": 12, "severity": "info"},  # the last "!"
        {"start": 4, "end": 5, "severity": "error"},  # the emoji: one character
        {"start": None, "end": None, "severity": "info"},  # the whole draft
    ]
    shown = preview(text, findings)
    assert isinstance(shown, Markup)
    assert str(shown) == (
        'Top <mark class="finding-error" data-findings="3">🚲</mark> &lt;b&gt;'
        '<mark class="finding-warning" data-findings="1">!!</mark>'
        '<mark class="finding-warning" data-findings="1 2">!</mark>'
    )


def test_the_live_check_of_an_empty_or_too_long_draft_says_so(browser: Any) -> None:
    bob = browser("bob")
    empty = bob.htmx("POST", "/drafts/check", data={"text": "  \n "})
    assert empty.status_code == 200 and "nothing to check yet" in empty.text
    long = bob.htmx("POST", "/drafts/check", data={"text": "a" * 100_001})
    assert long.status_code == 200 and "100,000" in long.text
    assert bob.client.post("/drafts/check", data={"text": OVER}).status_code == 403  # no CSRF


def test_the_calendar_shows_the_week_and_what_each_promise_gets(
    browser: Any, web_store: Store
) -> None:
    bob = browser("bob")
    _write(bob, RETURNS, platform="linkedin", planned_at="2026-09-14T09:00")
    _write(bob, "Later misschien.", platform="x", planned_at="2026-10-02T12:00")
    since, until = datetime(2026, 9, 1, tzinfo=UTC), datetime(2026, 10, 1, tzinfo=UTC)
    found = content_calendar(web_store, ORG, actor="vera", since=since, until=until)
    planned = [e for e in found.entries if e.kind == "planned"]
    assert [(e.draft, e.promises) for e in planned] == [("D1", ("P2",))]
    published = [e for e in found.entries if e.kind == "published"]
    assert len(published) == 5  # the demo's own posts of September 2026
    by_key = {p.promise: p for p in found.promises}
    assert [e.draft for e in by_key["P2"].planned] == ["D1"]
    assert by_key["P3"].empty and by_key["P3"] in found.uncovered

    week = bob.get("/calendar?view=week&date=2026-09-16")
    assert week.status_code == 200
    assert "Week 38, 2026 (2026-09-14 to 2026-09-20)" in week.text
    assert '<a href="/drafts/D1">D1</a>' in week.text and "supports P2" in week.text
    assert "/drafts/D2" not in week.text.split('id="promises-heading"')[0]
    gaps = f"{len(found.uncovered)} of {len(found.promises)} promises have no own content"
    assert gaps in week.text  # the coverage is that of the week's month
    rows = re.findall(r'<tr class="uncovered">\s*<th scope="row">(P\d+) ', week.text)
    assert rows == [p.promise for p in found.uncovered] and "P3" in rows and "P2" not in rows

    month = bob.get("/calendar?date=2026-09-16", headers={"Accept-Language": "nl"})
    assert "september 2026" in month.text and "Wat doe jij voor deze belofte online?" in month.text
    assert month.text.count('<th scope="row">') >= 5  # a row per week of the month
    assert bob.get("/calendar?view=year").status_code == 422
