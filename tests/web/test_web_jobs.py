"""The jobs page: what the schedule ran for the viewer's organisation and what failed (in
the viewer's language), newest first, and which worker holds which job now."""

from __future__ import annotations

import re
from typing import Any

from sqlalchemy import select
from web_helpers import ORG, OTHER_ORG

from klopt.errors import KloptError
from klopt.jobs import Job, JobKind, Outcome, Round, Worker, take_lease
from klopt.jobs.runs import finish_run, start_run
from klopt.store import Store
from klopt.store.models import Organization


def _org_id(store: Store, name: str) -> int:
    with store.session() as session:
        return int(session.scalar(select(Organization.id).where(Organization.name == name)) or 0)


def _record(store: Store) -> None:
    """Runs of both organisations, as a worker leaves them."""
    ours, theirs = _org_id(store, ORG), _org_id(store, OTHER_ORG)
    done = start_run(store, ours, "sync", "fietsnieuws", "host-a:11:aaaaaa")
    finish_run(store, done, "ok", {"new": 7, "duplicates": 2, "skipped": 0, "pages": 1})
    failed = start_run(store, ours, "sync", "prive-feed", "host-a:11:aaaaaa")
    error = KloptError.keyed("jobs.delivery_failed", count=2)
    finish_run(store, failed, "failed", {}, error)
    judged = start_run(store, ours, "judge", "", "host-b:12:bbbbbb")
    finish_run(store, judged, "ok", {"judged": 7, "verdicts": 4})
    other = start_run(store, theirs, "sync", "geheime-bron", "host-c:13:cccccc")
    finish_run(store, other, "ok", {"new": 1})
    held = take_lease(store, f"alerts:{ours}", "host-b:12:bbbbbb", seconds=300, job="alerts",
                      organization_id=ours)  # fmt: skip
    assert held is not None
    hidden = take_lease(store, f"sync:{theirs}:x", "host-c:13:cccccc", seconds=300, job="sync",
                        subject="andere-lease", organization_id=theirs)  # fmt: skip
    assert hidden is not None


def _rows(html: str) -> list[str]:
    table = html.split('<table id="runs">', 1)[1].split("</table>", 1)[0]
    return re.findall(r"<tr class=\"run-[a-z]+\">(.*?)</tr>", table, flags=re.S)


def test_the_jobs_page_shows_the_runs_newest_first_and_what_failed(
    browser: Any, web_store: Store
) -> None:
    _record(web_store)
    page = browser("vera").get("/jobs")  # a viewer may look
    assert page.status_code == 200
    html = page.text
    assert html.count("<h1>") == 1 and "Background jobs" in html
    rows = _rows(html)
    assert len(rows) == 3
    assert "judge" in rows[0] and "7 posts judged, 4 verdicts" in rows[0]  # newest first
    assert "prive-feed" in rows[1] and "failed" in rows[1]
    assert "2 alert deliveries failed." in rows[1]
    assert "fietsnieuws" in rows[2] and "7 new, 2 duplicates" in rows[2]
    assert "host-a:11:aaaaaa" in rows[2]
    # the lease held now, and by whom
    leases = html.split('id="leases-heading"', 1)[1].split("</section>", 1)[0]
    assert "host-b:12:bbbbbb" in leases and "alerts" in leases


def test_another_organisations_runs_and_leases_are_not_shown(
    browser: Any, web_store: Store
) -> None:
    _record(web_store)
    html = browser("anna").get("/jobs").text
    assert "geheime-bron" not in html and "host-c:13:cccccc" not in html
    assert "andere-lease" not in html
    theirs = browser("olga").get("/jobs").text  # and the other way round
    assert "geheime-bron" in theirs and "fietsnieuws" not in theirs
    assert "host-b:12:bbbbbb" not in theirs


def test_the_jobs_page_speaks_the_viewers_language(browser: Any, web_store: Store) -> None:
    _record(web_store)
    html = browser("bob", lang="nl").get("/jobs").text
    assert "Achtergrondtaken" in html and "mislukt" in html
    assert "2 signaalmeldingen konden niet worden bezorgd." in html  # the error, in Dutch
    assert "7 nieuw, 2 dubbel" in html


def test_the_jobs_page_filters_by_status(browser: Any, web_store: Store) -> None:
    _record(web_store)
    rows = _rows(browser("anna").get("/jobs?status=failed").text)
    assert len(rows) == 1 and "prive-feed" in rows[0]
    assert len(_rows(browser("anna").get("/jobs?status=whatever").text)) == 3  # all


def test_a_run_of_the_real_schedule_is_shown(browser: Any, web_store: Store) -> None:
    def count(r: Round, job: Job) -> Outcome:
        return Outcome("ok", {"counted": 3})

    kind = JobKind("count", lambda r, o, s: [Job("count", o, s)], lambda r, j: True, count)
    Worker(web_store, actor="anna", only=ORG, kinds=[kind]).run_once()
    html = browser("anna").get("/jobs").text
    assert "counted: 3" in html


def test_without_runs_the_page_says_so_and_escapes_what_it_shows(
    browser: Any, web_store: Store
) -> None:
    html = browser("anna").get("/jobs").text
    assert 'id="no-runs"' in html and 'id="no-leases"' in html
    ours = _org_id(web_store, ORG)
    run = start_run(web_store, ours, "sync", "<script>x</script>", "w")
    finish_run(web_store, run, "ok", {"new": 1})
    html = browser("anna").get("/jobs").text
    assert "<script>x</script>" not in html and "&lt;script&gt;x&lt;/script&gt;" in html


def test_the_jobs_page_needs_a_signed_in_user(app: Any) -> None:
    from fastapi.testclient import TestClient

    answer = TestClient(app).get("/jobs", follow_redirects=False)
    assert answer.status_code == 303 and "/sign-in" in answer.headers["location"]
