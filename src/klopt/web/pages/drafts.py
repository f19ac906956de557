"""The drafts pages: the list, the editor that checks as you type, the workflow's actions,
and the content calendar.

Every action calls one function of :mod:`klopt.editorial.drafts`, which checks the role
and the four-eyes rule; the page hides a button the viewer may not use, and when the
library refuses anyway its message is shown on the draft's page. The live check
(``POST /drafts/check``) uses the warm check of :func:`klopt.web.api.check.checker`.

Times are shown and entered in UTC, as the calendar counts them.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, date, datetime, timedelta
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Request, UploadFile
from fastapi import Path as FastPath
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import RedirectResponse, Response
from markupsafe import Markup, escape

from klopt.checking.marks import marked_pieces
from klopt.editorial.views import STATES, DraftDetail
from klopt.errors import InputError, KloptError, NotFound
from klopt.web.context import Viewer, page_viewer
from klopt.web.render import render

router = APIRouter(include_in_schema=False)

PageViewer = Annotated[Viewer, Depends(page_viewer)]
Text = Annotated[str, Form(max_length=200_000)]
Short = Annotated[str, Form(max_length=5000)]

#: Where the four-eyes rule and the states allow each action (the library decides).
_EDITABLE = ("draft", "in_review", "changes_requested", "approved")
_DONE_KEYS: tuple[str, ...] = (
    "created", "saved", "submit", "approve", "request_changes", "publish", "withdraw", "comment",
    "images",
)  # fmt: skip
_PLATFORMS = ("x", "linkedin", "instagram", "facebook", "mastodon", "bluesky")
_EVIDENCE: tuple[str, ...] = (
    "similarity", "draft", "promise", "match", "count", "limit", "length", "over", "cue",
    "expected", "term", "use",
)  # fmt: skip


# --- helpers -----------------------------------------------------------------------------


def _lines(text: str) -> str:
    """A textarea's text as stored: browsers send its line ends as CR LF."""
    return text.replace("\r\n", "\n").replace("\r", "\n")


def _clean(text: str) -> str:
    """Form text without NUL characters, which no store keeps."""
    return text.replace("\x00", "")


def _platform(value: str) -> str | None:
    """A platform from a form: empty is none; one klopt does not know is refused."""
    name = value.strip().lower()
    if not name:
        return None
    name = "x" if name == "twitter" else name
    if name not in _PLATFORMS:
        raise InputError.keyed("web.drafts.bad_platform", platform=value)
    return name


def _planned(value: str) -> datetime | None:
    """A ``datetime-local`` value (UTC); empty is none."""
    raw = value.strip()
    if not raw:
        return None
    try:
        stamp = datetime.fromisoformat(raw.replace("Z", "+00:00"))
    except ValueError:
        raise InputError.keyed("drafts.bad_time", value=value) from None
    if not 1900 <= stamp.year <= 2999:
        raise InputError.keyed("drafts.bad_time", value=value)
    return stamp.replace(tzinfo=UTC) if stamp.tzinfo is None else stamp.astimezone(UTC)


def link_ok(url: str | None) -> bool:
    """Whether ``url`` may be a link on a page (http or https, nothing that runs)."""
    return bool(url) and str(url).lower().startswith(("https://", "http://"))


def preview(text: str, findings: Sequence[Mapping[str, Any]]) -> Markup:
    """The draft with each finding's span in ``<mark class="finding-<severity>">``;
    the text is escaped piece by piece (offsets are characters, spans may overlap)."""
    spans = [(f.get("start"), f.get("end"), str(f.get("severity"))) for f in findings]
    out = []
    for piece in marked_pieces(text, spans):
        if piece.severity is None:
            out.append(escape(piece.text))
        else:
            numbers = " ".join(str(i + 1) for i in piece.findings)
            out.append(
                Markup('<mark class="finding-{}" data-findings="{}">{}</mark>').format(
                    piece.severity, numbers, piece.text
                )
            )
    return Markup("").join(out)


def evidence(viewer: Viewer, finding: Mapping[str, Any]) -> list[tuple[str, str]]:
    """What a finding rests on, as (label, value) pairs a person reads."""
    found = finding.get("evidence") or {}
    items = []
    for key in _EVIDENCE:
        value = found.get(key)
        if value is None or value == "":
            continue
        if isinstance(value, Mapping):
            value = value.get("text", "")
        elif isinstance(value, list):
            value = ", ".join(str(v) for v in value)
        elif key == "similarity" and isinstance(value, float):
            value = f"{value:.2f}"
        if value != "":
            items.append((viewer.t(f"web.drafts.evidence.{key}"), str(value)))
    return items


def _check_context(viewer: Viewer, report: Mapping[str, Any] | None, text: str) -> dict[str, Any]:
    findings = list(report.get("findings", ())) if report else []
    counts = {s: sum(1 for f in findings if f.get("severity") == s) for s in ("error", "warning")}
    counts["info"] = len(findings) - counts["error"] - counts["warning"]
    return {
        "report": report,
        "findings": findings,
        "counts": counts,
        "preview": preview(text, findings) if report else None,
        "evidence": lambda f: evidence(viewer, f),
    }


def _number(ref: str) -> int:
    from klopt.editorial.drafts import draft_number

    return draft_number(ref)


# --- the list ----------------------------------------------------------------------------


@router.get("/drafts")
def drafts_list(
    request: Request,
    viewer: PageViewer,
    state: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """The organisation's drafts, optionally of one state."""
    from klopt.editorial.drafts import list_drafts

    states = (state,) if state else ()
    found = list_drafts(viewer.store, viewer.org.slug, actor=viewer.user, states=states)
    return render(request, viewer, "drafts/list.html", drafts=found, state=state, states=STATES)


# --- the editor --------------------------------------------------------------------------


def _editor(
    request: Request,
    viewer: Viewer,
    detail: DraftDetail | None,
    *,
    error: str | None = None,
    status: int = 200,
    text: str | None = None,
    platform: str | None = None,
    planned: str | None = None,
    diff: tuple[int, int, list[Any]] | None = None,
    done: str = "",
) -> Response:
    """The editor of a new draft (``detail`` is ``None``) or of one draft with its history."""
    context: dict[str, Any] = {
        "detail": detail,
        "error": error,
        "platforms": _PLATFORMS,
        "done": done if done in _DONE_KEYS else "",
        "diff": diff,
        "link_ok": link_ok,
    }
    if detail is None:
        context.update(
            text=text or "", platform=platform or "", planned=planned or "", may={"edit": True}
        )
        context.update(_check_context(viewer, None, ""))
        return render(request, viewer, "drafts/editor.html", status=status, **context)
    d = detail.draft
    newest = detail.versions[-1]
    if planned is None:
        planned = d.planned_at.strftime("%Y-%m-%dT%H:%M") if d.planned_at else ""
    writers = {v.author for v in detail.versions} | {d.author}
    context.update(
        text=d.text if text is None else text,
        platform=d.platform or "" if platform is None else platform,
        planned=planned,
        may={
            "edit": viewer.can("draft.write") and d.state in _EDITABLE,
            "submit": viewer.can("draft.write") and d.state in ("draft", "changes_requested"),
            "review": viewer.can("draft.review") and d.state == "in_review"
            and viewer.user not in writers,
            "publish": viewer.can("draft.act") and d.state == "approved",
            "withdraw": viewer.can("draft.act") and d.state not in ("published", "withdrawn"),
            "comment": viewer.can("draft.act"),
        },
        newest=newest,
    )  # fmt: skip
    context.update(_check_context(viewer, newest.findings, newest.text))
    from klopt.editorial.outbox import draft_outbox

    context["outbox"] = draft_outbox(viewer.store, viewer.org.slug, d.number)
    return render(request, viewer, "drafts/editor.html", status=status, **context)


@router.get("/drafts/new")
def drafts_new(request: Request, viewer: PageViewer) -> Response:
    """An empty editor; the check runs as you type."""
    return _editor(request, viewer, None)


@router.post("/drafts")
def drafts_create(
    request: Request,
    viewer: PageViewer,
    text: Text = "",
    platform: Short = "",
    planned_at: Short = "",
) -> Response:
    """Store version 1 of a new draft, checked; then its page."""
    from klopt.editorial.drafts import create_draft
    from klopt.web.api.check import checker
    from klopt.web.app import status_of

    body = _clean(_lines(text))
    try:
        info = create_draft(
            viewer.store, viewer.org.slug, body, actor=viewer.user, platform=_platform(platform),
            planned_at=_planned(planned_at), check=checker(request, viewer),
        )  # fmt: skip
    except KloptError as exc:
        return _editor(
            request, viewer, None, error=exc.localized(viewer.lang), status=status_of(exc),
            text=body, platform=platform, planned=planned_at,
        )  # fmt: skip
    return RedirectResponse(f"/drafts/{info.key}?done=created", status_code=303)


@router.post("/drafts/check")
def drafts_check(
    request: Request, viewer: PageViewer, text: Text = "", platform: Short = ""
) -> Response:
    """The live check: the text with its findings marked, the score and the findings."""
    from klopt.checking.check import report_json
    from klopt.checking.findings import Draft
    from klopt.web.api.check import checker

    body = _clean(_lines(text))
    context: dict[str, Any] = {"message": None}
    if not body.strip():
        context.update(_check_context(viewer, None, ""))
        context["message"] = viewer.t("web.drafts.check.empty")
    else:
        try:
            report = checker(request, viewer)(Draft(body, _platform(platform)))
        except KloptError as exc:
            context.update(_check_context(viewer, None, ""))
            context["message"] = exc.localized(viewer.lang)
        else:
            context.update(_check_context(viewer, report_json(report), body))
    return render(request, viewer, "drafts/_check.html", **context)


def _show(
    request: Request, viewer: Viewer, ref: str, *, old: int | None = None,
    new: int | None = None, **kwargs: Any,
) -> Response:  # fmt: skip
    from klopt.editorial.drafts import diff_versions, show_draft

    detail = show_draft(viewer.store, viewer.org.slug, ref, actor=viewer.user)
    diff = None
    if len(detail.versions) > 1 or old is not None or new is not None:
        diff = diff_versions(
            viewer.store, viewer.org.slug, ref, actor=viewer.user, old=old, new=new
        )
    return _editor(request, viewer, detail, diff=diff, **kwargs)


@router.get("/drafts/{ref}")
def drafts_show(
    request: Request,
    viewer: PageViewer,
    ref: str,
    old: Annotated[int | None, Query(alias="from", ge=1, le=10**9)] = None,
    new: Annotated[int | None, Query(alias="to", ge=1, le=10**9)] = None,
    done: Annotated[str, Query(max_length=40)] = "",
) -> Response:
    """A draft: its text in the editor, its check, versions with a diff, reviews, comments
    and the actions the viewer may take."""
    return _show(request, viewer, ref, old=old, new=new, done=done)


def _act(
    request: Request, viewer: Viewer, ref: str, done: str, action: Callable[[], Any],
    **form: Any,
) -> Response:  # fmt: skip
    """Take ``action``; on success back to the draft, else its page with the refusal."""
    from klopt.web.app import status_of

    number = _number(ref)
    try:
        action()
    except NotFound:
        raise
    except KloptError as exc:
        return _show(
            request, viewer, ref, error=exc.localized(viewer.lang), status=status_of(exc), **form
        )
    return RedirectResponse(f"/drafts/D{number}?done={done}", status_code=303)


@router.post("/drafts/{ref}/edit")
def drafts_edit(
    request: Request,
    viewer: PageViewer,
    ref: str,
    text: Text = "",
    platform: Short = "",
    planned_at: Short = "",
) -> Response:
    """A new version when the text changed; the platform and planned time when given."""
    from klopt.editorial.drafts import edit_draft, show_draft
    from klopt.web.api.check import checker

    body = _clean(_lines(text))

    def edit() -> None:
        current = show_draft(viewer.store, viewer.org.slug, ref, actor=viewer.user).draft
        edit_draft(
            viewer.store, viewer.org.slug, ref, None if body == current.text else body,
            actor=viewer.user, platform=_platform(platform), planned_at=_planned(planned_at),
            check=checker(request, viewer),
        )  # fmt: skip

    return _act(
        request, viewer, ref, "saved", edit, text=body, platform=platform, planned=planned_at
    )


@router.post("/drafts/{ref}/submit")
def drafts_submit(request: Request, viewer: PageViewer, ref: str) -> Response:
    """Ask for review."""
    from klopt.editorial.drafts import submit_draft

    return _act(request, viewer, ref, "submit", lambda: submit_draft(
        viewer.store, viewer.org.slug, ref, actor=viewer.user))  # fmt: skip


@router.post("/drafts/{ref}/approve")
def drafts_approve(
    request: Request,
    viewer: PageViewer,
    ref: str,
    version: Annotated[int | None, Form(ge=1, le=10**9)] = None,
    note: Short = "",
    override: Annotated[bool, Form()] = False,
) -> Response:
    """Approve the version the approver read; it is checked once more, the findings kept."""
    from klopt.editorial.drafts import approve_draft
    from klopt.web.api.check import checker

    return _act(request, viewer, ref, "approve", lambda: approve_draft(
        viewer.store, viewer.org.slug, ref, actor=viewer.user, check=checker(request, viewer),
        version=version, note=_clean(note), override=override,
    ))  # fmt: skip


@router.post("/drafts/{ref}/request-changes")
def drafts_request_changes(
    request: Request,
    viewer: PageViewer,
    ref: str,
    note: Short = "",
    version: Annotated[int | None, Form(ge=1, le=10**9)] = None,
) -> Response:
    """Send the draft back to its editors, saying why."""
    from klopt.editorial.drafts import request_changes
    from klopt.web.api.check import checker

    return _act(request, viewer, ref, "request_changes", lambda: request_changes(
        viewer.store, viewer.org.slug, ref, actor=viewer.user, note=_clean(note),
        version=version, check=checker(request, viewer),
    ))  # fmt: skip


@router.post("/drafts/{ref}/publish")
def drafts_publish(
    request: Request, viewer: PageViewer, ref: str, url: Short = "", platform: Short = ""
) -> Response:
    """Record that the approved draft went out, and where (its URL)."""
    from klopt.editorial.drafts import publish_draft

    address = _clean(url).strip()

    def publish() -> None:
        if address and not link_ok(address):
            raise InputError.keyed("web.drafts.bad_url", url=address)
        publish_draft(
            viewer.store, viewer.org.slug, ref, actor=viewer.user, url=address or None,
            platform=_platform(platform),
        )  # fmt: skip

    return _act(request, viewer, ref, "publish", publish)


@router.get("/drafts/{ref}/images/{version}/{position}")
def drafts_image(
    viewer: PageViewer,
    ref: str,
    version: Annotated[int, FastPath(ge=1, le=10**9)],
    position: Annotated[int, FastPath(ge=1, le=4)],
) -> Response:
    """One image of a version, as stored (checked to be an image when it was added)."""
    from klopt.editorial.images import draft_image

    mime, data = draft_image(
        viewer.store, viewer.org.slug, ref, version, position, actor=viewer.user
    )
    headers = {"Cache-Control": "private, max-age=3600", "X-Content-Type-Options": "nosniff",
               "Content-Security-Policy": "default-src 'none'"}  # fmt: skip
    return Response(data, media_type=mime, headers=headers)


@router.post("/drafts/{ref}/images")
async def drafts_add_image(
    request: Request,
    viewer: PageViewer,
    ref: str,
    image: Annotated[UploadFile, File()],
    alt: Short = "",
) -> Response:
    """A new version with one more image (and its alt text)."""
    from klopt.editorial.images import MAX_BYTES, change_images, new_image
    from klopt.web.api.check import checker

    data = await image.read(MAX_BYTES + 1)
    name = _safe_file_name(image.filename)

    def add() -> None:
        picture = new_image(data, alt, name=name)
        change_images(viewer.store, viewer.org.slug, ref, actor=viewer.user, add=picture,
                      check=checker(request, viewer))  # fmt: skip

    return await run_in_threadpool(partial(_act, request, viewer, ref, "images", add))


@router.post("/drafts/{ref}/images/{position}/remove")
def drafts_remove_image(
    request: Request,
    viewer: PageViewer,
    ref: str,
    position: Annotated[int, FastPath(ge=1, le=4)],
) -> Response:
    """A new version without one of the images."""
    from klopt.editorial.images import change_images
    from klopt.web.api.check import checker

    def remove() -> None:
        change_images(viewer.store, viewer.org.slug, ref, actor=viewer.user, remove=position,
                      check=checker(request, viewer))  # fmt: skip

    return _act(request, viewer, ref, "images", remove)


def _safe_file_name(name: str | None) -> str:
    """An uploaded file's name as it may be shown: its last part, printable, short."""
    last = (name or "").replace("\\", "/").rsplit("/", 1)[-1]
    return "".join(c for c in last if c.isprintable())[:80] or "image"


@router.post("/drafts/{ref}/withdraw")
def drafts_withdraw(request: Request, viewer: PageViewer, ref: str, note: Short = "") -> Response:
    """Withdraw the draft; it stays, with its history."""
    from klopt.editorial.drafts import withdraw_draft

    return _act(request, viewer, ref, "withdraw", lambda: withdraw_draft(
        viewer.store, viewer.org.slug, ref, actor=viewer.user, note=_clean(note)))  # fmt: skip


@router.post("/drafts/{ref}/comment")
def drafts_comment(request: Request, viewer: PageViewer, ref: str, text: Short = "") -> Response:
    """Add a comment to the newest version."""
    from klopt.editorial.drafts import comment_draft

    return _act(request, viewer, ref, "comment", lambda: comment_draft(
        viewer.store, viewer.org.slug, ref, _clean(_lines(text)), actor=viewer.user))  # fmt: skip


# --- the content calendar ----------------------------------------------------------------


def _month_start(day: date) -> date:
    return day.replace(day=1)


def _next_month(day: date) -> date:
    return (day.replace(day=28) + timedelta(days=4)).replace(day=1)


def _utc(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, tzinfo=UTC)


@router.get("/calendar")
def calendar(
    request: Request,
    viewer: PageViewer,
    view: Annotated[str, Query(pattern="^(week|month)$")] = "month",
    day: Annotated[date | None, Query(alias="date")] = None,
) -> Response:
    """Own posts planned and published, by week or month, and per promise what own
    content supports it this month; promises with none stand out."""
    from klopt.editorial.calendar import content_calendar

    chosen = day or datetime.now(UTC).date()
    if not date(1900, 1, 1) <= chosen <= date(2999, 12, 1):
        raise InputError.keyed("drafts.bad_time", value=chosen.isoformat())
    month = _month_start(chosen)
    if view == "week":
        start = chosen - timedelta(days=chosen.weekday())
        end, back, ahead = start + timedelta(days=7), chosen - timedelta(7), chosen + timedelta(7)
    else:
        start = month - timedelta(days=month.weekday())
        last = _next_month(month) - timedelta(days=1)
        end = last + timedelta(days=7 - last.weekday())
        back, ahead = _month_start(month - timedelta(days=1)), _next_month(month)
    found = content_calendar(
        viewer.store, viewer.org.slug, actor=viewer.user, since=_utc(start), until=_utc(end),
        coverage_since=_utc(month), coverage_until=_utc(_next_month(month)),
    )  # fmt: skip
    days = [start + timedelta(days=i) for i in range((end - start).days)]
    by_day: dict[date, list[Any]] = {d: [] for d in days}
    for entry in found.entries:
        by_day.setdefault(entry.when.date(), []).append(entry)
    return render(
        request, viewer, "calendar.html", view=view, chosen=chosen, month=month,
        weeks=[days[i : i + 7] for i in range(0, len(days), 7)], by_day=by_day,
        calendar=found, back=back, ahead=ahead, link_ok=link_ok,
    )  # fmt: skip
