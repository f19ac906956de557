"""The register pages, for the communications team: proposals and the register, the
decisions on them, the source documents and their versions, and one page per promise.

Every decision goes through the library (:mod:`klopt.register.promises`), which checks
the role (``register.decide``: approver or admin; ``register.propose`` for documents and
extraction); the pages only hide the buttons a viewer may not use. A decision sent by
htmx is answered with the promise's entry, swapped in place; without JavaScript the form
posts and the browser comes back to the page it came from.

An uploaded document is read from memory (Starlette keeps a large upload in a private
temporary file that is deleted with the request) by the readers ``klopt docs add`` uses;
its file name is only a label, escaped wherever it is shown.
"""

from __future__ import annotations

from functools import cache
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Form, Query, Request
from fastapi.responses import RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from klopt.errors import InputError, KloptError
from klopt.i18n import t
from klopt.web.context import SignInNeeded, Viewer, page_viewer
from klopt.web.render import is_htmx, render, render_plain

router = APIRouter(include_in_schema=False)

#: What a multipart body may hold beside the file itself (the boundary, the headers of
#: each part, the CSRF token and the other fields).
_FORM_OVERHEAD = 64 * 1024
_DECISIONS = ("approved", "rejected", "retired")
PageViewer = Annotated[Viewer, Depends(page_viewer)]


# --- what the templates show ------------------------------------------------------------


@cache
def _library() -> Any:
    from klopt.models.aspects import AspectLibrary

    return AspectLibrary.bundled()


def theme_label(theme: str | None, lang: str) -> str:
    """A theme's label in ``lang`` ("Levering"), or its id if klopt does not know it."""
    if not theme:
        return ""
    library = _library()
    if theme not in library:
        return theme
    label = library[theme].label
    return str(label.get(lang) or label.get("en") or theme)


def reason_label(reason: str, lang: str) -> str:
    """A stored reason ("deadline: 'binnen 24 uur'") with its label in ``lang``."""
    label, colon, rest = reason.partition(": ")
    if not colon:
        return reason
    prefix = ""
    if label.startswith("lead-in "):
        prefix, label = f"{_label('lead-in', lang)} ", label.removeprefix("lead-in ")
    return f"{prefix}{_label(label, lang)}{colon}{rest}"


def _label(label: str, lang: str) -> str:
    key = f"reason.{label}"
    shown = t(key, lang)
    return label if shown == key else shown


def _themes(lang: str) -> list[tuple[str, str]]:
    return sorted(((th.id, theme_label(th.id, lang)) for th in _library()), key=lambda x: x[1])


def _helpers(viewer: Viewer) -> dict[str, Any]:
    return {
        "theme_label": lambda theme: theme_label(theme, viewer.lang),
        "reason_label": lambda reason: reason_label(reason, viewer.lang),
        "themes": _themes(viewer.lang),
        "kinds": ("measurable", "aspirational"),
        "can_decide": viewer.can("register.decide"),
        "can_propose": viewer.can("register.propose"),
    }


def _here(request: Request) -> str:
    return request.url.path + (f"?{request.url.query}" if request.url.query else "")


def _back(target: str | None, default: str = "/register") -> str:
    """Where a form without JavaScript returns to: a register page of this site."""
    if target and target.startswith("/register") and "\\" not in target and "//" not in target:
        return target
    return default


# --- the register -----------------------------------------------------------------------


@router.get("/register")
def register_page(
    request: Request,
    viewer: PageViewer,
    status: Annotated[str | None, Query(max_length=20)] = None,
    proposed: Annotated[int | None, Query(ge=0)] = None,
) -> Response:
    """Proposals best-first, then the register (approved, or the status chosen)."""
    from klopt.register.overview import register_overview

    chosen = status or None
    overview = register_overview(viewer.store, viewer.org.slug, status=chosen)
    return render(
        request, viewer, "register/index.html", overview=overview, chosen=chosen or "approved",
        proposed=proposed, targets=overview.targets, here=_here(request), **_helpers(viewer),
    )  # fmt: skip


def _entry_answer(
    request: Request, viewer: Viewer, key: str, back: str | None, default: str
) -> Response:
    """After a decision: the promise's entry for htmx, else back to the page."""
    if not is_htmx(request):
        return RedirectResponse(_back(back, default), status_code=303)
    from klopt.register.overview import merge_targets, promise_entry

    entry = promise_entry(viewer.store, viewer.org.slug, key)
    targets = merge_targets(viewer.store, viewer.org.slug)
    return render(
        request, viewer, "register/_promise.html", entry=entry, targets=targets,
        here=_back(back, default), **_helpers(viewer),
    )  # fmt: skip


def _refusal(request: Request, viewer: Viewer, exc: KloptError) -> Response:
    """A library error: a fragment with role="alert" for htmx, else the error page."""
    if not is_htmx(request):
        raise exc
    from klopt.web.app import status_of

    return render(
        request, viewer, "register/_alert.html", message=exc.localized(viewer.lang),
        status=status_of(exc),
    )  # fmt: skip


@router.post("/register/promises/{key}/decide")
def decide(
    request: Request,
    viewer: PageViewer,
    key: str,
    decision: Annotated[str, Form(max_length=20)],
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
) -> Response:
    """Approve, reject or retire one promise."""
    from klopt.register.promises import set_status

    try:
        set_status(viewer.store, viewer.org.slug, [key], decision, actor=viewer.user)
    except KloptError as exc:
        return _refusal(request, viewer, exc)
    return _entry_answer(request, viewer, key, next, "/register")


@router.post("/register/promises/{key}/edit")
def edit(
    request: Request,
    viewer: PageViewer,
    key: str,
    statement: Annotated[str | None, Form(max_length=2000)] = None,
    theme: Annotated[str | None, Form(max_length=60)] = None,
    kind: Annotated[str | None, Form(max_length=20)] = None,
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
) -> Response:
    """Reword a promise, or change its theme or kind; the original sentence is kept."""
    from klopt.register.promises import edit_promise

    try:
        edit_promise(
            viewer.store, viewer.org.slug, key, actor=viewer.user, statement=statement,
            theme=theme, kind=kind or None,
        )  # fmt: skip
    except KloptError as exc:
        return _refusal(request, viewer, exc)
    return _entry_answer(request, viewer, key, next, "/register")


@router.post("/register/promises/{key}/merge")
def merge(
    request: Request,
    viewer: PageViewer,
    key: str,
    into: Annotated[str, Form(max_length=40)],
    next: Annotated[str, Form(max_length=2000)] = "",  # noqa: A002
) -> Response:
    """Merge this promise into another: that one keeps its sources and wordings."""
    from klopt.register.promises import merge_promises

    try:
        merge_promises(viewer.store, viewer.org.slug, into, [key], actor=viewer.user)
    except KloptError as exc:
        return _refusal(request, viewer, exc)
    return _entry_answer(request, viewer, key, next, "/register")


@router.post("/register/extract")
def extract(request: Request, viewer: PageViewer) -> Response:
    """Propose promises from the stored documents (``klopt promises extract``)."""
    from klopt.register.promises import extract_promises

    proposed = extract_promises(viewer.store, viewer.org.slug, actor=viewer.user)
    return RedirectResponse(f"/register?status=proposed&proposed={len(proposed)}", 303)


# --- one promise ------------------------------------------------------------------------


@router.get("/register/promises/{key}")
def promise_page(
    request: Request,
    viewer: PageViewer,
    key: str,
    by: Annotated[str, Query(pattern="^(month|week)$")] = "month",
) -> Response:
    """One promise: what it says, where it comes from, its mentions over time, and the
    own posts that carried it."""
    from klopt.judging.history import promise_history
    from klopt.register.overview import merge_targets, promise_entry

    entry = promise_entry(viewer.store, viewer.org.slug, key)
    history = promise_history(viewer.store, viewer.org.slug, key, grain=by)
    return render(
        request, viewer, "register/promise.html", entry=entry, history=history,
        chart=chart(history.buckets), targets=merge_targets(viewer.store, viewer.org.slug),
        here=_here(request), **_helpers(viewer),
    )  # fmt: skip


#: The chart's drawing area, in SVG units.
_HEIGHT = 160
_BAR = 48
_GAP = 14
_STANCES = ("kept", "broken", "neutral")


def chart(buckets: Any) -> dict[str, Any]:
    """Stacked bars (kept, broken, neutral) per bucket, as plain numbers for the SVG."""
    top = max((b.total for b in buckets), default=0) or 1
    bars = []
    step = max(1, -(-len(buckets) // 12))  # at most a dozen labels under the bars
    for i, bucket in enumerate(buckets):
        x = _GAP + i * (_BAR + _GAP)
        y = _HEIGHT
        parts = []
        for stance in _STANCES:
            count = getattr(bucket, stance)
            height = round(count / top * (_HEIGHT - 10), 1)
            y = round(y - height, 1)
            if count:
                parts.append({"stance": stance, "y": y, "height": height, "count": count})
        bars.append(
            {"x": x, "parts": parts, "bucket": bucket, "label": i % step == 0, "mid": x + _BAR / 2}
        )
    return {
        "bars": bars,
        "width": _GAP + len(buckets) * (_BAR + _GAP),
        "height": _HEIGHT + 24,
        "base": _HEIGHT,
        "bar": _BAR,
        "top": top,
    }


# --- documents --------------------------------------------------------------------------


def _suffixes() -> str:
    from klopt.register.documents import supported_suffixes

    return ",".join(supported_suffixes())


def _documents_page(
    request: Request,
    viewer: Viewer,
    *,
    error: str | None = None,
    status: int = 200,
    chosen: int | None = None,
) -> Response:
    from klopt.register.overview import document_histories

    documents = document_histories(viewer.store, viewer.org.slug)
    return render(
        request, viewer, "register/documents.html", status=status, documents=documents,
        error=error, chosen=chosen, **_upload_form(request, viewer),
    )  # fmt: skip


def _upload_form(request: Request, viewer: Viewer) -> dict[str, Any]:
    limit = int(request.app.state.upload_limit)
    return {
        "suffixes": _suffixes(),
        "limit_text": _size(limit),
        "can_propose": viewer.can("register.propose"),
    }


def _size(limit: int) -> str:
    if limit >= 1024 * 1024:
        return f"{limit / (1024 * 1024):.0f} MB"
    if limit >= 1024:
        return f"{limit / 1024:.0f} kB"
    return f"{limit} B"


@router.get("/register/documents")
def documents_page(request: Request, viewer: PageViewer) -> Response:
    """Every source document with its versions, and the upload form."""
    return _documents_page(request, viewer)


@router.get("/register/documents/{document_id}")
def document_page(request: Request, viewer: PageViewer, document_id: int) -> Response:
    """One document: its versions and what each new version did to the promises."""
    from klopt.errors import NotFound
    from klopt.register.overview import document_history
    from klopt.register.promises import version_diff

    document = document_history(viewer.store, viewer.org.slug, document_id)
    diffs = []
    for info in document.versions[:-1]:  # every version but the first has a diff
        try:
            diffs.append(version_diff(viewer.store, viewer.org.slug, document.name, info.version))
        except NotFound:
            continue
    return render(
        request, viewer, "register/document.html", document=document, diffs=diffs,
        **_upload_form(request, viewer),
    )  # fmt: skip


def _declared_length(request: Request) -> int:
    try:
        return int(request.headers.get("content-length", "0"))
    except ValueError:
        return 0


def _too_large(lang: str, limit: int, name: str | None = None) -> str:
    """Why a file was refused for its size (its name when the form was read)."""
    key = "web.register.problem.too_large" if name else "web.register.problem.body_too_large"
    message = t(key, lang, name=name, limit=_size(limit))
    return f"{message} {t(key + '.hint', lang, limit=_size(limit))}"


@router.post("/register/documents")
async def upload_document(request: Request) -> Response:
    """Store an uploaded document (a new one, or a new version of one) and show what the
    new version did to the promises.

    A body larger than the limit is refused before it is read; a file that turns out too
    large, of no known kind, or unreadable leaves the store as it was."""
    from klopt.web.context import browser_language, signed_in_user

    limit = int(request.app.state.upload_limit)
    if _declared_length(request) > limit + _FORM_OVERHEAD:
        signed = await run_in_threadpool(signed_in_user, request)
        if signed is None:
            raise SignInNeeded()
        lang = signed.lang or browser_language(request)
        message = _too_large(lang, limit)
        return render_plain(request, lang, "error.html", status=413, message=message)
    viewer = await page_viewer(request)  # reads the form and checks its CSRF token
    form = await request.form()
    try:
        upload = form.get("file")
        if not isinstance(upload, UploadFile) or not upload.filename:
            error = InputError.keyed("web.register.no_file")
            return await _upload_refused(request, viewer, error.localized(viewer.lang), 422)
        data = await upload.read(limit + 1)
        if len(data) > limit:
            message = _too_large(viewer.lang, limit, upload.filename)
            return await _upload_refused(request, viewer, message, 413)
        return await _store_upload(request, viewer, upload.filename, data, form.get("document"))
    finally:
        await form.close()


async def _upload_refused(request: Request, viewer: Viewer, message: str, status: int) -> Response:
    return await run_in_threadpool(
        lambda: _documents_page(request, viewer, error=message, status=status)
    )


async def _store_upload(
    request: Request, viewer: Viewer, file_name: str, data: bytes, document: Any
) -> Response:
    from klopt.register.uploads import add_upload
    from klopt.web.app import status_of

    document_id = int(document) if isinstance(document, str) and document.isdigit() else None
    try:
        result = await run_in_threadpool(
            lambda: add_upload(
                viewer.store, viewer.org.slug, file_name, data, actor=viewer.user,
                document_id=document_id,
            )
        )  # fmt: skip
    except KloptError as exc:
        message = exc.localized(viewer.lang)
        return await _upload_refused(request, viewer, message, status_of(exc))
    return render(
        request, viewer, "register/uploaded.html", result=result, added=result.added,
        diff=result.added.diff, can_propose=viewer.can("register.propose"),
    )  # fmt: skip
