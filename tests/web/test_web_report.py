"""The report page: the board report of a period as HTML or PDF, in Dutch or English,
for every member, of their own organisation only."""

from __future__ import annotations

import re
from typing import Any

import pytest
from fastapi.testclient import TestClient
from web_helpers import sign_in

from klopt.web.pages.report import current_quarter


def _text(html: str) -> str:
    return " ".join(re.sub(r"<[^>]+>", " ", html).replace("&#39;", "'").split())


def test_every_member_gets_the_form_in_their_language(app: Any) -> None:
    for name in ("anna", "bob", "carla", "vera"):
        page = sign_in(app, name).get("/report")
        assert page.status_code == 200 and page.text.count("<h1") == 1
        assert "Board report" in page.text
        assert f'name="period" value="{current_quarter()}"' in page.text
        assert '<option value="en" selected>English</option>' in page.text
    dutch = sign_in(app, "vera", lang="nl").get("/report")
    assert "Bestuursrapport" in dutch.text
    assert '<option value="nl" selected>Nederlands</option>' in dutch.text


def test_the_report_page_needs_a_session(app: Any) -> None:
    answer = TestClient(app).get("/report/download?period=2026-Q3", follow_redirects=False)
    assert answer.status_code == 303 and answer.headers["location"].startswith("/sign-in")


@pytest.mark.parametrize(
    ("lang", "title"),
    [
        ("nl", "Managementrapportage: Voorbeeld BV, Q3 2026"),
        ("en", "Management report: Voorbeeld BV, Q3 2026"),
    ],
)
def test_the_html_report_of_2026_q3_downloads_in_each_language(
    app: Any, lang: str, title: str
) -> None:
    vera = sign_in(app, "vera")
    answer = vera.get(
        "/report/download", params={"period": "2026-Q3", "lang": lang, "format": "html"}
    )
    assert answer.status_code == 200, answer.text
    assert answer.headers["content-type"] == "text/html; charset=utf-8"
    assert answer.headers["content-disposition"] == (
        f'attachment; filename="klopt-report-voorbeeld-bv-2026-Q3-{lang}.html"'
    )
    assert f"<title>{title}</title>" in answer.text
    assert f'<html lang="{lang}"' in answer.text
    assert "Ander BV" not in answer.text


def test_a_period_that_is_none_is_said_on_the_form(app: Any) -> None:
    bob = sign_in(app, "bob", lang="nl")
    answer = bob.get("/report/download", params={"period": "2026-Q5", "lang": "nl"})
    assert answer.status_code == 422
    assert "'2026-Q5' is geen periode." in _text(answer.text)
    assert 'value="2026-Q5"' in answer.text and "content-disposition" not in answer.headers
    other = bob.get("/report/download", params={"period": "2026-Q3", "lang": "de"})
    assert other.status_code == 422
    assert "klopt kan het rapport niet in 'de' schrijven." in _text(other.text)
    odd = bob.get("/report/download", params={"period": "2026-Q3", "format": "docx"})
    assert odd.status_code == 422 and "'docx' is geen rapportformaat." in _text(odd.text)


def test_the_pdf_downloads_or_says_why_the_server_cannot_print_it(app: Any) -> None:
    carla = sign_in(app, "carla")
    answer = carla.get(
        "/report/download", params={"period": "2026-Q3", "lang": "en", "format": "pdf"}
    )
    try:
        import weasyprint  # type: ignore[import-untyped]  # noqa: F401
    except OSError:  # no Pango: the page says so, with the HTML as the way out
        assert answer.status_code == 400
        assert "--format html" in answer.text or "HTML" in answer.text
        pytest.skip("WeasyPrint cannot load Pango here; the page said so")
    assert answer.status_code == 200, answer.text[:500]
    assert answer.headers["content-type"] == "application/pdf"
    assert answer.content.startswith(b"%PDF-")
    assert answer.headers["content-disposition"] == (
        'attachment; filename="klopt-report-voorbeeld-bv-2026-Q3-en.pdf"'
    )


def test_another_organisation_gets_its_own_report(app: Any) -> None:
    olga = sign_in(app, "olga")
    answer = olga.get("/report/download", params={"period": "2026-Q3", "lang": "en"})
    assert answer.status_code == 200
    assert "Management report: Ander BV, Q3 2026" in answer.text
    assert "Voorbeeld BV" not in answer.text
    assert "klopt-report-ander-bv-2026-Q3-en.html" in answer.headers["content-disposition"]


def test_the_file_name_is_safe_whatever_the_period_says(app: Any) -> None:
    from klopt.web.pages.admin_access import attachment

    assert attachment("klopt-report", "voorbeeld-bv", '2026"\r\n/../x', "nl", ext="html") == (
        'attachment; filename="klopt-report-voorbeeld-bv-2026_x-nl.html"'
    )
