"""The register pages: proposals and the register, decisions by role, documents and their
versions, uploads that fail clearly, one page per promise, and other organisations."""

from __future__ import annotations

import html
import io
import re
from typing import Any

from live import axe_violations, chromium_browser, needs_chromium, serving, sign_in, watch
from web_helpers import DEMO, ORG, OTHER_ORG, password

from klopt.register.overview import document_histories
from klopt.register.promises import get_promise, list_promises, review_queue
from klopt.store import Store

MISSIE = (DEMO / "missie.md").read_bytes()


def _upload(b: Any, name: str, data: bytes, **fields: Any) -> Any:
    return b.client.post(
        "/register/documents",
        data={**fields, "csrf": b.csrf},
        files={"file": (name, data, "application/octet-stream")},
    )


def _text(page: str) -> str:
    """The page's text, tags dropped and entities read, spaces folded."""
    return re.sub(r"\s+", " ", html.unescape(re.sub(r"<[^>]+>", " ", page)))


def _with_proposals(b: Any, web_store: Store) -> list[Any]:
    """Upload missie.md and propose promises from it; the proposals best-first."""
    assert _upload(b, "missie.md", MISSIE).status_code == 200
    answer = b.form("/register/extract")
    assert answer.status_code == 303
    queue = review_queue(web_store, ORG)
    assert answer.headers["location"] == f"/register?status=proposed&proposed={len(queue)}"
    assert len(queue) > 3
    return queue


def _document_id(web_store: Store, name: str) -> int:
    return next(d.id for d in document_histories(web_store, ORG) if d.name == name)


# --- the register -----------------------------------------------------------------------


def test_the_register_shows_the_approved_promises_and_filters_by_status(
    browser: Any, web_store: Store
) -> None:
    page = browser("vera").get("/register")
    assert page.status_code == 200
    text = _text(page.text)
    assert "The register: approved promises (12)" in text
    assert "Wij leveren binnen 24 uur." in text and "Proposals to decide on (0)" in text
    assert page.text.count("<h1>") == 1 and 'style="' not in page.text
    rejected = browser("vera").get("/register?status=rejected")
    assert "Rejected promises (0)" in _text(rejected.text)
    assert "Wij leveren binnen 24 uur." not in rejected.text
    assert "No promises have this status." in rejected.text
    wrong = browser("vera").get("/register?status=kept")
    assert wrong.status_code == 422 and "is not a status of a promise" in wrong.text


def test_proposals_come_best_first_with_their_sentence_marked_in_its_paragraph(
    browser: Any, web_store: Store
) -> None:
    carla = browser("carla")
    queue = _with_proposals(carla, web_store)
    page = carla.get("/register?status=proposed&proposed=3")
    assert "3 new proposals from the documents." in page.text
    shown = re.findall(r'<article class="card promise" id="promise-(P\d+)"', page.text)
    assert shown == [v.key for v in queue]  # the ranking `klopt promises review` uses
    doc = _document_id(web_store, "missie.md")
    top = page.text.split(f'id="promise-{queue[0].key}"')[1].split("</article>")[0]
    assert f'<a href="/register/documents/{doc}">missie.md</a>' in top
    assert "version 1" in top and "§ Waar wij voor staan" in top
    # the sentence, marked, within the rest of its list item
    assert (
        "• Vakmanschap. Bij ons helpen vriendelijke vakmensen u met eerlijk advies. "
        "<mark>Onze monteurs krijgen elk jaar minstens vijf opleidingsdagen.</mark>"
    ) in page.text
    assert "Why proposed" in top and "number: &#39;vijf&#39;" in top


def test_carla_approves_in_place_with_htmx_and_rejects_without_javascript(
    browser: Any, web_store: Store
) -> None:
    carla = browser("carla")
    first, second = _with_proposals(carla, web_store)[:2]
    answer = carla.htmx(
        "POST", f"/register/promises/{first.key}/decide", data={"decision": "approved"}
    )
    assert answer.status_code == 200
    assert answer.text.lstrip().startswith(
        f'<article class="card promise" id="promise-{first.key}"'
    )
    assert "<html" not in answer.text and "status-approved" in answer.text
    assert ">Retire</button>" in answer.text and ">Approve</button>" not in answer.text
    assert get_promise(web_store, ORG, first.key).status == "approved"
    back = carla.form(
        f"/register/promises/{second.key}/decide",
        {"decision": "rejected", "next": "/register?status=proposed"},
    )
    assert back.status_code == 303 and back.headers["location"] == "/register?status=proposed"
    assert get_promise(web_store, ORG, second.key).status == "rejected"
    elsewhere = carla.form(
        f"/register/promises/{second.key}/decide",
        {"decision": "approved", "next": "https://evil.example/"},
    )
    assert elsewhere.headers["location"] == "/register"
    assert get_promise(web_store, ORG, second.key).status == "approved"
    approved = carla.get("/register")
    assert f'id="promise-{first.key}"' in approved.text
    assert "The register: approved promises (14)" in _text(approved.text)


def test_carla_edits_statement_theme_and_kind_and_the_original_is_kept(
    browser: Any, web_store: Store
) -> None:
    carla = browser("carla")
    answer = carla.htmx(
        "POST",
        "/register/promises/P1/edit",
        data={"statement": "Wij leveren binnen 48 uur.", "theme": "delivery", "kind": "measurable"},
    )
    assert answer.status_code == 200
    assert "Wij leveren binnen 48 uur." in answer.text
    assert "Original sentence" in answer.text and "Wij leveren binnen 24 uur." in answer.text
    assert '<option value="delivery" selected>Delivery</option>' in answer.text
    promise = get_promise(web_store, ORG, "P1")
    assert (promise.statement, promise.theme, promise.kind) == (
        "Wij leveren binnen 48 uur.", "delivery", "measurable",
    )  # fmt: skip
    assert promise.original_sentence == "Wij leveren binnen 24 uur."
    empty = carla.htmx("POST", "/register/promises/P1/edit", data={"statement": "  "})
    assert empty.status_code == 422
    assert '<p class="error" role="alert">A promise cannot have an empty statement.' in empty.text
    assert get_promise(web_store, ORG, "P1").statement == "Wij leveren binnen 48 uur."


def test_carla_merges_a_promise_into_another(browser: Any, web_store: Store) -> None:
    carla = browser("carla")
    answer = carla.htmx("POST", "/register/promises/P11/merge", data={"into": "P3"})
    assert answer.status_code == 200
    assert "status-merged" in answer.text and 'href="/register/promises/P3"' in answer.text
    assert "/register/promises/P11/decide" not in answer.text  # nothing left to decide
    merged, into = get_promise(web_store, ORG, "P11"), get_promise(web_store, ORG, "P3")
    assert merged.status == "merged" and merged.merged_into == "P3"
    assert merged.statement in into.paraphrases
    again = carla.htmx("POST", "/register/promises/P11/merge", data={"into": "P3"})
    assert again.status_code == 422 and 'role="alert"' in again.text
    assert "already merged" in again.text
    page = carla.get("/register?status=merged")
    assert "Merged promises (1)" in _text(page.text)


def test_only_approvers_and_admins_see_and_use_the_decisions(
    browser: Any, web_store: Store
) -> None:
    for name in ("vera", "bob"):
        page = browser(name).get("/register").text
        assert "/decide" not in page and "/edit" not in page and "/merge" not in page
    assert "/register/promises/P1/decide" in browser("anna").get("/register").text
    assert ('action="/register/extract"' in browser("bob").get("/register").text) is True
    assert 'action="/register/extract"' not in browser("vera").get("/register").text
    before = {v.key: (v.status, v.statement) for v in list_promises(web_store, ORG)}
    for name in ("vera", "bob"):
        b = browser(name)
        refused = b.form("/register/promises/P1/decide", {"decision": "retired"})
        assert refused.status_code == 403
        assert f"{name} is {'viewer' if name == 'vera' else 'editor'}" in refused.text
        edit = b.htmx("POST", "/register/promises/P1/edit", data={"statement": "Iets anders."})
        assert edit.status_code == 403 and '<p class="error" role="alert">' in edit.text
        assert "this needs the role approver / admin" in edit.text
        merge = b.form("/register/promises/P2/merge", {"into": "P1"})
        assert merge.status_code == 403
    after = {v.key: (v.status, v.statement) for v in list_promises(web_store, ORG)}
    assert after == before


def test_a_decision_without_the_form_token_is_refused(browser: Any, web_store: Store) -> None:
    carla = browser("carla")
    answer = carla.client.post("/register/promises/P1/decide", data={"decision": "retired"})
    assert answer.status_code == 403
    assert get_promise(web_store, ORG, "P1").status == "approved"


# --- documents --------------------------------------------------------------------------


def test_uploading_a_new_version_shows_the_diff_of_the_promises(
    browser: Any, web_store: Store
) -> None:
    carla = browser("carla")
    _with_proposals(carla, web_store)
    doc = _document_id(web_store, "missie.md")
    training = next(v for v in list_promises(web_store, ORG) if "opleidingsdagen" in v.statement)
    gone = next(
        v for v in list_promises(web_store, ORG) if v.statement.startswith("Oude onderdelen")
    )
    text = MISSIE.decode()
    new = (
        text.replace("minstens vijf opleidingsdagen", "minstens drie opleidingsdagen")
        .replace(" Oude onderdelen nemen wij in voor hergebruik of recycling.", "")
        .replace(
            "Wij verkopen uw gegevens nooit.",
            "Wij verkopen uw gegevens nooit. Wij beantwoorden elke klacht binnen vijf werkdagen.",
        )
    )
    # another file name, stored as a new version of missie.md because it is chosen
    answer = _upload(carla, "missie-2026.md", new.encode(), document=str(doc))
    assert answer.status_code == 200
    page = _text(answer.text)
    assert "missie.md: stored as version 2" in page
    assert "Version 1 → 2" in page
    assert re.search(r"From version 1 to 2: \d+ promises unchanged, 1 changed, 1 gone, 1 new", page)
    assert (
        f"changed (flagged) {training.key} Onze monteurs krijgen elk jaar minstens vijf "
        "opleidingsdagen. Onze monteurs krijgen elk jaar minstens drie opleidingsdagen."
    ) in page
    assert f"gone (flagged) {gone.key} Oude onderdelen nemen wij in" in page
    assert "new new Wij beantwoorden elke klacht binnen vijf werkdagen." in page
    assert 'action="/register/extract"' in answer.text
    (history,) = document_histories(web_store, ORG)
    assert history.name == "missie.md" and [v.version for v in history.versions] == [2, 1]
    assert get_promise(web_store, ORG, training.key).flag == "source_changed"
    versions = carla.get(f"/register/documents/{doc}")
    assert versions.status_code == 200 and "Version 1 → 2" in versions.text
    assert f'<input type="hidden" name="document" value="{doc}">' in versions.text
    listing = carla.get("/register/documents").text
    assert f'<a href="/register/documents/{doc}">missie.md</a>' in listing
    same = _upload(carla, "missie.md", new.encode())
    assert "missie.md: unchanged, still version 2." in _text(same.text)
    promise_page = carla.get(f"/register/promises/{training.key}")
    assert "the document now words it differently" in promise_page.text
    assert "reworded in a newer version" in promise_page.text


def test_a_pdf_upload_gives_pages_and_an_encrypted_one_a_clear_error(
    browser: Any, web_store: Store
) -> None:
    from fpdf import FPDF
    from pypdf import PdfReader, PdfWriter

    pdf = FPDF()
    pdf.add_page()
    pdf.set_font("Helvetica", "", 12)
    pdf.multi_cell(0, 8, "Onze beloften. Wij leveren binnen 24 uur, ook op zaterdag.")
    data = bytes(pdf.output())
    bob = browser("bob")  # an editor may add documents
    added = _upload(bob, "brochure.pdf", data)
    assert added.status_code == 200 and "brochure.pdf: stored as version 1" in _text(added.text)
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(data)))
    writer.encrypt("geheim", algorithm="AES-128")
    locked = io.BytesIO()
    writer.write(locked)
    refused = _upload(bob, "slot.pdf", locked.getvalue())
    assert refused.status_code == 422
    assert (
        '<p class="error" role="alert">slot.pdf is encrypted with a password. '
        "Save an unprotected copy (print it to PDF) and add that.</p>"
    ) in refused.text
    assert [d.name for d in document_histories(web_store, ORG)] == ["brochure.pdf"]


def test_a_file_that_is_no_document_is_refused_and_nothing_is_stored(
    browser: Any, web_store: Store
) -> None:
    carla = browser("carla")
    png = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64
    answer = _upload(carla, "logo.png", png)
    assert answer.status_code == 422
    assert "klopt cannot read logo.png: there is no reader for &#39;.png&#39;." in answer.text
    broken = _upload(carla, "brochure.pdf", b"%PDF-1.7\n1 0 obj <<\n")
    assert broken.status_code == 422
    assert "brochure.pdf is not a readable PDF" in broken.text
    assert "save or export it again" in broken.text
    empty = _upload(carla, "leeg.md", b"   \n")
    assert empty.status_code == 422 and "leeg.md is empty." in empty.text
    none = carla.client.post("/register/documents", data={"csrf": carla.csrf})
    assert none.status_code == 422 and "No file was chosen" in none.text
    assert document_histories(web_store, ORG) == []


def test_a_file_over_the_limit_is_refused_and_nothing_is_stored(
    app: Any, browser: Any, web_store: Store
) -> None:
    app.state.upload_limit = 1000
    carla = browser("carla")
    answer = _upload(carla, "missie.md", MISSIE)
    assert answer.status_code == 413
    assert "The file missie.md is larger than the 1000 B klopt accepts; nothing was stored." in (
        _text(answer.text)
    )
    huge = _upload(carla, "groot.md", b"Wij leveren alles. " * 10_000)  # refused unread
    assert huge.status_code == 413
    assert "The upload is larger than the 1000 B klopt accepts" in huge.text
    assert document_histories(web_store, ORG) == []
    app.state.upload_limit = 20 * 1024 * 1024
    assert _upload(carla, "missie.md", MISSIE).status_code == 200


def test_a_file_name_is_only_a_label_and_is_shown_escaped(browser: Any, web_store: Store) -> None:
    carla = browser("carla")
    name = "<img src=x onerror=alert(1)>.md"
    answer = _upload(carla, name, MISSIE)
    assert answer.status_code == 200
    escaped = "&lt;img src=x onerror=alert(1)&gt;.md"
    assert escaped in answer.text and "<img src" not in answer.text
    (stored,) = document_histories(web_store, ORG)
    assert stored.name == name
    assert escaped in carla.get("/register/documents").text
    page = carla.get(f"/register/documents/{stored.id}").text
    assert escaped in page and "<img src" not in page
    travel = _upload(carla, "../../etc/passwd.md", MISSIE)  # a path is cut to its last part
    assert travel.status_code == 200
    assert sorted(d.name for d in document_histories(web_store, ORG)) == [name, "passwd.md"]


def test_a_viewer_sees_no_upload_form_and_may_not_upload(browser: Any, web_store: Store) -> None:
    vera = browser("vera")
    page = vera.get("/register/documents")
    assert page.status_code == 200 and 'type="file"' not in page.text
    assert "No documents yet." in page.text
    refused = _upload(vera, "missie.md", MISSIE)
    assert refused.status_code == 403 and "vera is viewer" in refused.text
    assert vera.form("/register/extract").status_code == 403
    assert document_histories(web_store, ORG) == []


# --- one promise ------------------------------------------------------------------------


def test_the_promise_page_shows_mentions_over_time_and_own_posts(
    browser: Any, web_store: Store
) -> None:
    from klopt.judging.history import promise_history

    history = promise_history(web_store, ORG, "P1")
    assert history.buckets and history.own_posts
    page = browser("vera").get("/register/promises/P1")
    assert page.status_code == 200
    assert "<h1>Promise P1</h1>" in page.text and "Wij leveren binnen 24 uur." in page.text
    text = _text(page.text)
    for b in history.buckets:
        assert f"{b.label} {b.kept} {b.broken} {b.neutral} {b.total}" in text
    totals = [history.total(s) for s in ("kept", "broken", "neutral")]
    assert f"total {totals[0]} {totals[1]} {totals[2]} {sum(totals)}" in text
    assert '<svg role="img" aria-labelledby="chart-title chart-desc"' in page.text
    assert page.text.count('<rect class="broken"') == sum(1 for b in history.buckets if b.broken)
    assert 'href="/inbox?promise=P1&amp;stance=broken"' in page.text
    newest = history.own_posts[0]
    assert html.escape(newest.text, quote=False) in page.text or newest.text in text
    assert "Vandaag besteld, morgen in huis" in text  # e001, an own post about P1
    assert 'style="' not in page.text and "<script>" not in page.text
    assert " on" + "click=" not in page.text
    weekly = browser("vera").get("/register/promises/P1?by=week")
    weeks = promise_history(web_store, ORG, "P1", grain="week").buckets
    assert weeks and "-W" in weeks[0].label
    assert all(
        f"{b.label} {b.kept} {b.broken} {b.neutral} {b.total}" in _text(weekly.text) for b in weeks
    )
    assert browser("vera").get("/register/promises/P1?by=day").status_code == 422


def test_the_promise_page_speaks_dutch(browser: Any) -> None:
    page = browser("carla", lang="nl").get("/register/promises/P3")
    assert "<h1>Belofte P3</h1>" in page.text and "Vermeldingen door de tijd" in page.text
    assert "Goedkeuren" not in page.text and ">Intrekken</button>" in page.text
    assert "Belofteregister" in browser("carla", lang="nl").get("/register").text


def test_an_unknown_promise_or_document_is_not_found(browser: Any) -> None:
    carla = browser("carla")
    assert carla.get("/register/promises/P999").status_code == 404
    assert carla.get("/register/documents/99999").status_code == 404
    answer = carla.htmx("POST", "/register/promises/P999/decide", data={"decision": "approved"})
    assert answer.status_code == 404 and "There is no promise &#39;P999&#39;" in answer.text


def test_another_organisation_sees_none_of_it(browser: Any, web_store: Store) -> None:
    carla = browser("carla")
    assert _upload(carla, "missie.md", MISSIE).status_code == 200
    doc = _document_id(web_store, "missie.md")
    olga = browser("olga")
    assert olga.get("/register/promises/P5").status_code == 404
    assert olga.get(f"/register/documents/{doc}").status_code == 404
    own = olga.get("/register/promises/P1")
    assert "We answer every e-mail within one working day." in own.text
    assert "Wij leveren binnen 24 uur." not in own.text
    listing = olga.get("/register").text
    assert "Wij leveren" not in listing and "We answer every e-mail" in listing
    assert "missie.md" not in olga.get("/register/documents").text
    refused = olga.form("/register/promises/P5/decide", {"decision": "retired"})
    assert refused.status_code == 404
    assert get_promise(web_store, ORG, "P5").status == "approved"
    version = _upload(olga, "missie.md", MISSIE, document=str(doc))
    assert version.status_code == 404
    assert [d.name for d in document_histories(web_store, OTHER_ORG)] == []
    assert [v.version for v in document_histories(web_store, ORG)[0].versions] == [1]


# --- in a real browser ------------------------------------------------------------------


@needs_chromium
def test_the_register_in_a_browser_passes_axe_and_approves_in_place(
    sqlite_app: Any, sqlite_web_store: Store
) -> None:
    with serving(sqlite_app) as base, chromium_browser() as browser:
        page = browser.new_page(locale="en-US")
        problems = watch(page)
        sign_in(page, base, "carla", password("carla"))
        page.goto(f"{base}/register/documents")
        assert axe_violations(page) == []
        page.set_input_files("#upload-file", str(DEMO / "missie.md"))
        page.locator("form.upload button[type=submit]").click()
        page.wait_for_load_state("networkidle")
        assert page.locator("h1").inner_text() == "Document stored"
        assert axe_violations(page) == []
        page.locator("form[action='/register/extract'] button").click()
        page.wait_for_load_state("networkidle")
        assert "/register?status=proposed" in page.url
        assert axe_violations(page) == []
        first = page.locator("article.promise").first
        key = (first.get_attribute("id") or "").removeprefix("promise-")
        page.evaluate("window.stillHere = true")
        first.get_by_role("button", name="Approve").click()
        page.locator(f"#promise-{key} .status-approved").wait_for()
        assert page.evaluate("window.stillHere === true")  # swapped in place, no reload
        assert get_promise(sqlite_web_store, ORG, key).status == "approved"
        page.goto(f"{base}/register/promises/P1")
        assert page.locator("h1").inner_text() == "Promise P1"
        assert axe_violations(page) == []
        page.goto(f"{base}/register")
        assert axe_violations(page) == []
        assert problems == []
