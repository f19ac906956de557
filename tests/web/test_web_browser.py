"""The journeys people make, in a real headless Chromium against a real server."""

from __future__ import annotations

from typing import Any

from live import axe_violations, chromium_browser, needs_chromium, serving, sign_in, watch
from web_helpers import password

pytestmark = needs_chromium


def test_sign_in_page_and_account_pass_axe_and_csp(sqlite_app: Any) -> None:
    with serving(sqlite_app) as base, chromium_browser() as browser:
        page = browser.new_page(locale="nl-NL")
        problems = watch(page)
        page.goto(f"{base}/sign-in")
        assert page.locator("h1").inner_text() == "Aanmelden"
        assert axe_violations(page) == []
        sign_in(page, base, "bob", password("bob"))
        page.goto(f"{base}/account")
        assert page.locator("h1").inner_text() == "Je account"
        assert axe_violations(page) == []
        assert problems == []
