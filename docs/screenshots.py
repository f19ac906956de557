"""Take the README's screenshots of the main pages: ``python docs/screenshots.py``.

It copies the demo store (``make demo`` first), gives the demo team passwords, serves
the app on 127.0.0.1 and photographs each page with headless Debian Chromium into
``docs/screenshots/``.
"""

from __future__ import annotations

import argparse
import secrets
import shutil
import sys
import tempfile
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests" / "web"))

PAGES = [
    ("dashboard", "/dashboard"),
    ("inbox", "/inbox"),
    ("register", "/register"),
    ("promise", "/register/promises/P1"),
    ("drafts", "/drafts"),
    ("editor", "/drafts/D1"),
    ("calendar", "/calendar"),
    ("report", "/report"),
    ("jobs", "/jobs"),
    ("admin", "/admin"),
]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--demo-db", type=Path, default=HERE.parent / ".demo" / "klopt.db")
    parser.add_argument("--out", type=Path, default=HERE / "screenshots")
    parser.add_argument("--lang", default="nl", choices=["nl", "en"])
    args = parser.parse_args()

    from live import chromium_browser, serving, sign_in

    from klopt.accounts.users import set_password
    from klopt.store import open_store
    from klopt.web.app import create_app

    folder = Path(tempfile.mkdtemp())
    shutil.copy(args.demo_db, folder / "klopt.db")
    store = open_store(f"sqlite:///{folder / 'klopt.db'}")
    secret = secrets.token_urlsafe(12)
    set_password(store, "anna", secret, actor="anna")
    args.out.mkdir(parents=True, exist_ok=True)
    with serving(create_app(store)) as base, chromium_browser() as browser:
        page = browser.new_page(viewport={"width": 1280, "height": 900}, locale=f"{args.lang}-NL")
        sign_in(page, base, "anna", secret)
        for name, path in PAGES:
            response = page.goto(base + path)
            if response is None or response.status >= 400:
                print(f"skipped {path}: {response.status if response else 'no answer'}")
                continue
            page.wait_for_load_state("networkidle")
            target = args.out / f"{name}.png"
            page.screenshot(path=str(target), full_page=False)
            print(f"wrote {target}")
    store.close()
    shutil.rmtree(folder)


if __name__ == "__main__":
    main()
