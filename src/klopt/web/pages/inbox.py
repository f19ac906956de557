"""The inbox: what customers say, to look at first, with the promise each is about.

``GET /inbox`` lists mentions with their verdicts and evidence, filtered and ordered by
the database (:mod:`klopt.judging.inbox`); ``GET /inbox/{id}`` shows one with its
corrections and its thread (the replies, how each went out, their reach);
``POST /inbox/{id}/correct`` records a person's verdict, ``POST /inbox/{id}/reply``
writes a reply (:mod:`klopt.editorial.replies`). htmx sends that
form and swaps the mention's row with the answer; without JavaScript the same form posts
and the browser comes back to the list. ``static/inbox.js`` adds the keys.
"""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import APIRouter, Depends, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from markupsafe import Markup, escape

from klopt.errors import InputError, KloptError, NotFound
from klopt.judging.inbox import (
    MAX_LIMIT,
    ORDERS,
    InboxFilters,
    correct_mention,
    find_mention,
    inbox,
    inbox_promises,
    inbox_sources,
    mention_corrections,
    parse_ids,
    parse_moment,
)
from klopt.judging.verdicts import STANCES
from klopt.web.context import Viewer, page_viewer
from klopt.web.render import is_htmx, render

router = APIRouter(include_in_schema=False)

#: The query parameters the inbox reads, and the most characters each may have.
_PARAMS = {
    "promise": 40, "stance": 10, "platform": 40, "source": 100, "language": 8,
    "since": 40, "until": 40, "ids": 12000, "order": 20, "cursor": 200, "limit": 4,
}  # fmt: skip
_PAGE_SIZE = 25


def _wanted(request: Request) -> dict[str, str]:
    """The inbox's query parameters as sent (stripped), for the form and the links."""
    found = {}
    for name, most in _PARAMS.items():
        value = request.query_params.get(name, "").strip()
        if value:
            found[name] = value[:most]
    return found


def _filters(wanted: dict[str, str]) -> InboxFilters:
    """The filters the query asks for; InputError for a value klopt cannot use."""
    return InboxFilters(
        promise=wanted.get("promise"),
        stance=wanted.get("stance"),
        platform=wanted.get("platform"),
        source=wanted.get("source"),
        language=wanted.get("language"),
        since=parse_moment(wanted.get("since")),
        until=parse_moment(wanted.get("until")),
        ids=parse_ids(wanted.get("ids")),
    )


def _limit(text: str | None) -> int:
    if text is None:
        return _PAGE_SIZE
    if not text.isdigit():
        raise InputError.keyed("inbox.bad_limit", limit=text, most=MAX_LIMIT)
    return int(text)


def _url(wanted: dict[str, str], **changes: str | None) -> str:
    values = {**wanted, **changes}
    query = urlencode({k: v for k, v in values.items() if v})
    return "/inbox" + (f"?{query}" if query else "")


def safe_back(target: str | None) -> str:
    """Where a correction form sends the browser back to: an inbox address only."""
    if not target or not target.startswith("/inbox") or "\\" in target or "//" in target:
        return "/inbox"
    return target


def _choices(viewer: Viewer) -> dict[str, Any]:
    return {
        "promises": inbox_promises(viewer.store, viewer.org.slug),
        "sources": inbox_sources(viewer.store, viewer.org.slug),
        "stances": STANCES,
        "orders": ORDERS,
        "can_correct": viewer.can("verdict.correct"),
    }


@router.get("/inbox")
def inbox_page(request: Request, viewer: Annotated[Viewer, Depends(page_viewer)]) -> Response:
    """The inbox: one page of mentions, with the filters and the next page's link."""
    from klopt.web.app import status_of

    wanted = _wanted(request)
    here = _url(wanted)
    context: dict[str, Any] = {"wanted": wanted, "back": here, **_choices(viewer)}
    try:
        page = inbox(
            viewer.store, viewer.org.slug, _filters(wanted),
            order=wanted.get("order", "priority"), limit=_limit(wanted.get("limit")),
            cursor=wanted.get("cursor"),
        )  # fmt: skip
    except KloptError as exc:
        return render(
            request, viewer, "inbox/page.html", status=status_of(exc), page=None,
            error=exc.localized(viewer.lang), next_url=None, first_url=None, **context,
        )  # fmt: skip
    next_url = _url(wanted, cursor=page.next_cursor) if page.next_cursor else None
    first_url = _url(wanted, cursor=None) if wanted.get("cursor") else None
    return render(
        request, viewer, "inbox/page.html", page=page, error=None, next_url=next_url,
        first_url=first_url, **context,
    )  # fmt: skip


@router.get("/inbox/{post_id}")
def mention_page(
    request: Request, post_id: int, viewer: Annotated[Viewer, Depends(page_viewer)]
) -> Response:
    """One mention: its text, verdicts and evidence, and who corrected what, when."""
    return _mention_page(request, viewer, post_id, done=request.query_params.get("done") == "reply")


def _mention_page(
    request: Request, viewer: Viewer, post_id: int, *, error: str | None = None,
    status: int = 200, text: str = "", done: bool = False,
) -> Response:  # fmt: skip
    from klopt.editorial.replies import reply_policy, thread

    mention = find_mention(viewer.store, viewer.org.slug, post_id)
    history = mention_corrections(viewer.store, viewer.org.slug, post_id)
    replies = thread(viewer.store, viewer.org.slug, post_id) if mention.kind != "own" else []
    # Its forms come back here; the link goes back to the list it was opened from.
    list_url = safe_back(request.query_params.get("back"))
    return render(
        request, viewer, "inbox/mention.html", status=status, mention=mention,
        history=history, back=f"/inbox/{mention.id}", list_url=list_url, replies=replies,
        reply_error=error, reply_text=text, replied=done,
        policy=reply_policy(viewer.store, viewer.org.slug), **_choices(viewer),
    )  # fmt: skip


@router.post("/inbox/{post_id}/reply")
def reply_page(
    request: Request,
    post_id: int,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    text: Annotated[str, Form(max_length=200_000)] = "",
) -> Response:
    """Write a reply to the mention: checked, then approved as the organisation chose."""
    from klopt.editorial.replies import create_reply
    from klopt.web.api.check import checker
    from klopt.web.app import status_of

    body = text.replace("\r\n", "\n")
    try:
        create_reply(
            viewer.store, viewer.org.slug, post_id, body, actor=viewer.user,
            check=checker(request, viewer),
        )  # fmt: skip
    except NotFound:
        raise
    except KloptError as exc:
        return _mention_page(
            request, viewer, post_id, error=exc.localized(viewer.lang), status=status_of(exc),
            text=body,
        )  # fmt: skip
    return RedirectResponse(f"/inbox/{post_id}?done=reply#thread", status_code=303)


@router.post("/inbox/{post_id}/correct")
def correct_page(
    request: Request,
    post_id: int,
    viewer: Annotated[Viewer, Depends(page_viewer)],
    stance: Annotated[str, Form(max_length=10)] = "",
    promise: Annotated[str, Form(max_length=40)] = "",
    instead: Annotated[str, Form(max_length=5)] = "",
    back: Annotated[str, Form(max_length=14000)] = "/inbox",
) -> Response:
    """Record a person's verdict; htmx gets the mention's row as it is now."""
    from klopt.web.app import status_of

    try:
        mention = correct_mention(
            viewer.store, viewer.org.slug, post_id, stance=stance, actor=viewer.user,
            promise=promise or None, instead=bool(instead),
        )  # fmt: skip
    except KloptError as exc:
        message = exc.localized(viewer.lang)
        if is_htmx(request):
            alert = Markup('<p class="error" role="alert">{}</p>').format(escape(message))
            return HTMLResponse(alert, status_code=status_of(exc))
        raise
    target = safe_back(back)
    if not is_htmx(request):
        return RedirectResponse(f"{target}#mention-{post_id}", status_code=303)
    return render(request, viewer, "inbox/row.html", m=mention, back=target, **_choices(viewer))
