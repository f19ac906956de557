"""/api/v1/mentions: the inbox for programs, corrections, and mentions sent in.

``GET /api/v1/mentions`` gives what ``GET /inbox`` shows, a page at a time with an opaque
cursor; each item is :func:`klopt.judging.inbox.mention_json` (the fields of
``klopt mentions list --json``, grouped per mention). ``POST .../{id}/corrections``
records a person's verdict; ``POST /api/v1/mentions`` imports JSON or NDJSON as
``klopt mentions import`` imports a file (:mod:`klopt.listening.api_import`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict, Field
from starlette.concurrency import run_in_threadpool

from klopt.judging.inbox import (
    MAX_IDS,
    MAX_LIMIT,
    RANK_WINDOW,
    InboxFilters,
    correct_mention,
    find_mention,
    inbox,
    mention_json,
    parse_ids,
    parse_moment,
)
from klopt.listening.api_import import API_MAPPING, body_format, import_body
from klopt.web.context import Viewer, api_viewer

router = APIRouter(prefix="/api/v1", tags=["mentions"])

Stance = Literal["kept", "broken", "neutral"]
Order = Literal["priority", "uncertainty", "newest"]
_ID = Path(ge=1, le=2**31 - 1, description="klopt's id of the mention (`id` in the list).")


class ErrorDetail(BaseModel):
    """What went wrong and what to do next, in the request's language."""

    code: str = Field(description="The message key, e.g. `verdict.unknown_post`.")
    message: str
    hint: str | None = None
    problems: list[dict[str, Any]] | None = None


class ErrorBody(BaseModel):
    """Every error of the API."""

    error: ErrorDetail


_ERRORS: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorBody, "description": text}
    for code, text in (
        (401, "No token, or one that does not work."),
        (403, "The role does not allow it."),
        (404, "No such mention, promise or source in the organisation."),
        (422, "A value klopt cannot use."),
    )
}


class Evidence(BaseModel):
    """What the engine saw: the promise sentence, the matched words, the similarity."""

    model_config = ConfigDict(extra="allow")

    promise_sentence: str | None = None
    words: list[str] = Field(default_factory=list)
    similarity: float | None = None


class VerdictOut(BaseModel):
    """The current verdict of a mention on one promise."""

    promise: str = Field(description="The promise id, e.g. P1.")
    statement: str = Field(description="The promise's statement.")
    stance: Stance
    by_person: bool = Field(description="A person set it (a correction).")
    confidence: float | None = Field(description="The engine's confidence, 0 to 1.")
    evidence: Evidence
    engine_stance: Stance | None = Field(
        default=None, description="What the engine said, where a person corrected it."
    )


class MentionOut(BaseModel):
    """A mention with its current verdicts."""

    id: int = Field(description="klopt's id (for corrections and ?ids=).")
    post: str = Field(description="The id it was imported with.")
    kind: str = Field(description="`mention`, or `own` for an own post asked for by id.")
    platform: str
    posted_at: datetime | None
    author: str | None
    url: str | None
    text: str
    reach: int | None
    language: str | None
    doubt: float | None = Field(
        description=(
            "How unsure the engine is about it (0-1), from its newest judgement; null: "
            "not judged, or judged before klopt stored the doubt."
        )
    )
    verdicts: list[VerdictOut]
    not_about: list[str] = Field(description="Promises a person said it is not about.")


class MentionPage(BaseModel):
    """One page of mentions and the cursor of the next (null: the last page)."""

    items: list[MentionOut]
    next_cursor: str | None
    order: Order
    ranked_since: datetime | None = Field(
        default=None,
        description=(
            f"Set where more than {RANK_WINDOW} mentions pass the filters other than promise"
            " and stance: a ranked order weighs the newest of them, posted since this time."
            " order=newest (or an earlier period) reaches the older ones."
        ),
    )


class CorrectionIn(BaseModel):
    """A person's verdict on a mention."""

    model_config = ConfigDict(extra="forbid")

    promise: str | None = Field(
        default=None, min_length=1, max_length=40, pattern=r"^[^\x00]+$",
        description="The promise id; leave it out with stance `none`: about no promise.",
    )  # fmt: skip
    stance: Literal["kept", "broken", "neutral", "none"] = Field(
        description="`none`: the mention is not about the promise."
    )
    instead: bool = Field(
        default=False,
        description="About this promise instead of the ones it is linked to now.",
    )
    note: str = Field(default="", max_length=2000, pattern=r"^[^\x00]*$")


class MentionIn(BaseModel):
    """One mention sent in (each field can be renamed with ``<role>_field``)."""

    text: str = Field(description="What the post says (required).")
    time: str | int | None = Field(None, description="ISO 8601, or epoch seconds.")
    id: str | int | None = Field(None, description="The post's own id; default: a text hash.")
    author: str | None = None
    url: str | None = None
    platform: str | None = Field(None, description="Default: the `platform` parameter.")
    reach: int | str | None = None
    lang: str | None = None


class RowProblemOut(BaseModel):
    """A row that was not imported, and why."""

    row: int = Field(description="Its line (NDJSON) or record number (JSON), from 1.")
    where: Literal["line", "record"]
    code: str | None = Field(description="The reason's key, e.g. `empty_text`.")
    message: str


class ImportOut(BaseModel):
    """What an import did."""

    batch: int
    format: Literal["json", "ndjson"]
    read: int
    new: int = Field(description="Mentions stored now.")
    duplicates: int = Field(description="Mentions already there (sent before, or the same post).")
    skipped: int = Field(description="Rows with a problem.")
    naive_times: int = Field(description="Times without a zone, taken as UTC.")
    problems: list[RowProblemOut]


@router.get("/mentions", response_model=MentionPage, responses=_ERRORS)
def list_mentions(
    viewer: Annotated[Viewer, Depends(api_viewer)],
    promise: Annotated[str | None, Query(max_length=40, description="A promise id.")] = None,
    stance: Stance | None = None,
    platform: Annotated[str | None, Query(max_length=40)] = None,
    source: Annotated[str | None, Query(max_length=100, description="A source's name.")] = None,
    language: Annotated[str | None, Query(max_length=8)] = None,
    since: Annotated[str | None, Query(max_length=40, description="ISO date or time.")] = None,
    until: Annotated[str | None, Query(max_length=40, description="Exclusive.")] = None,
    ids: Annotated[
        str | None, Query(max_length=12000, description=f"Up to {MAX_IDS} ids: 1,2,3.")
    ] = None,
    order: Order = "priority",
    limit: Annotated[int, Query(ge=1, le=MAX_LIMIT)] = 50,
    cursor: Annotated[str | None, Query(max_length=200, description="next_cursor.")] = None,
) -> dict[str, Any]:
    """Mentions with their current verdicts and evidence, to look at first.

    ``priority`` (what to check first): the engine's doubt about the mention (its newest
    judgement's; 0 once a person corrected it) × (1 + digits of the reach);
    ``uncertainty``: the doubt alone; ``newest``: by time.
    Pass ``next_cursor`` back as ``cursor`` (with the same filters and order) for the
    next page."""
    filters = InboxFilters(
        promise=promise, stance=stance, platform=platform, source=source, language=language,
        since=parse_moment(since), until=parse_moment(until), ids=parse_ids(ids),
    )  # fmt: skip
    page = inbox(viewer.store, viewer.org.slug, filters, order=order, limit=limit, cursor=cursor)
    return {
        "items": [mention_json(m) for m in page.mentions],
        "next_cursor": page.next_cursor,
        "order": page.order,
        "ranked_since": page.ranked_since,
    }


@router.get("/mentions/{mention_id}", response_model=MentionOut, responses=_ERRORS)
def get_mention(
    viewer: Annotated[Viewer, Depends(api_viewer)],
    mention_id: Annotated[int, _ID],
) -> dict[str, Any]:
    """One mention with its current verdicts."""
    return mention_json(find_mention(viewer.store, viewer.org.slug, mention_id))


@router.post(
    "/mentions/{mention_id}/corrections",
    response_model=MentionOut,
    status_code=201,
    responses=_ERRORS,
)
def add_correction(
    viewer: Annotated[Viewer, Depends(api_viewer)],
    mention_id: Annotated[int, _ID],
    body: CorrectionIn,
) -> dict[str, Any]:
    """Record a person's verdict (it overrides the engine everywhere at once); the
    mention as it is now. Needs the role editor, approver or admin."""
    mention = correct_mention(
        viewer.store, viewer.org.slug, mention_id, stance=body.stance, actor=viewer.user,
        promise=body.promise, instead=body.instead, note=body.note,
    )  # fmt: skip
    return mention_json(mention)


_ARRAY = {"type": "array", "items": MentionIn.model_json_schema()}
_BODY_SCHEMA = {
    "requestBody": {
        "required": True,
        "content": {
            "application/json": {
                "schema": {
                    "oneOf": [
                        _ARRAY,
                        {
                            "type": "object",
                            "properties": {"mentions": _ARRAY},
                            "required": ["mentions"],
                        },
                    ]
                }
            },
            "application/x-ndjson": {
                "schema": {"type": "string", "description": "One JSON object per line."}
            },
        },
    }
}


@router.post(
    "/mentions",
    response_model=ImportOut,
    responses={**_ERRORS, 413: {"model": ErrorBody, "description": "The body is too large."}},
    openapi_extra=_BODY_SCHEMA,
)
async def send_mentions(
    request: Request,
    viewer: Annotated[Viewer, Depends(api_viewer)],
    platform: Annotated[
        str,
        Query(
            min_length=1,
            max_length=40,
            pattern=r"^[^\x00]+$",
            description="Platform where a row names none.",
        ),
    ] = "api",
    text_field: Annotated[str, Query(min_length=1, max_length=100)] = "text",
    time_field: Annotated[str, Query(min_length=1, max_length=100)] = "time",
    id_field: Annotated[str, Query(min_length=1, max_length=100)] = "id",
    author_field: Annotated[str, Query(min_length=1, max_length=100)] = "author",
    url_field: Annotated[str, Query(min_length=1, max_length=100)] = "url",
    platform_field: Annotated[str, Query(min_length=1, max_length=100)] = "platform",
    reach_field: Annotated[str, Query(min_length=1, max_length=100)] = "reach",
    lang_field: Annotated[str, Query(min_length=1, max_length=100)] = "lang",
) -> Any:
    """Import mentions: JSON (an array, or ``{"mentions": [...]}``) or NDJSON. Sending the
    same mentions again stores nothing twice; bad rows are reported with their numbers."""
    from dataclasses import replace

    from klopt.errors import InputError
    from klopt.web.app import error_body

    form = body_format(request.headers.get("content-type"))
    body = await _read_body(request)
    if body is None:
        too_large = InputError.keyed("inbox.too_large", most=request.app.state.upload_limit)
        return JSONResponse(error_body(too_large, viewer.lang), status_code=413)
    mapping = replace(
        API_MAPPING, text=text_field, time=time_field, id=id_field, author=author_field,
        url=url_field, platform=platform_field, reach=reach_field, lang=lang_field,
        default_platform=platform.lower(),
    )  # fmt: skip
    result = await run_in_threadpool(
        import_body, viewer.store, viewer.org.slug, body, form, actor=viewer.user, mapping=mapping
    )
    where = "line" if result.format == "ndjson" else "record"
    return {
        "batch": result.batch_id, "format": result.format, "read": result.read,
        "new": result.imported, "duplicates": result.duplicates, "skipped": result.skipped,
        "naive_times": result.naive_times,
        "problems": [
            {"row": p.line, "where": where, "code": p.key, "message": p.text(viewer.lang)}
            for p in result.problems
        ],
    }  # fmt: skip


async def _read_body(request: Request) -> bytes | None:
    """The body, or None when it is larger than the app takes."""
    limit: int = request.app.state.upload_limit
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > limit:
        return None
    chunks, size = [], 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
