"""``POST /api/v1/check``: a draft post against the house style and the promise register.

It answers the JSON of ``klopt check --format json`` for the same text, platform and
draft language. The check is kept warm (:func:`klopt.checking.warm.warm_checker`): rule
packs and models load once per process, the approved promises are read on every check.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Callable
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from klopt.checking.check import MAX_DRAFT_LENGTH, CheckReport
from klopt.checking.findings import Draft
from klopt.web.context import Viewer, api_viewer

__all__ = ["router", "checker", "Platform", "PLATFORMS", "DraftBody", "plain_text", "CheckRequest"]

router = APIRouter(prefix="/api/v1")

#: The platforms ``klopt check --platform`` takes (``twitter`` is ``x``).
PLATFORMS = ("x", "twitter", "linkedin", "instagram", "facebook", "mastodon", "bluesky")
Platform = Literal["x", "twitter", "linkedin", "instagram", "facebook", "mastodon", "bluesky"]


def plain_text(value: str) -> str:
    """``value`` when it holds no NUL and no lone surrogate (neither can be stored or
    checked: PostgreSQL refuses NUL in text, a model cannot encode a lone surrogate)."""
    if "\x00" in value or any(unicodedata.category(c) == "Cs" for c in value):
        raise ValueError("text holds a NUL character or a lone surrogate")
    return value


DraftBody = Annotated[
    str,
    Field(min_length=1, max_length=MAX_DRAFT_LENGTH, description="The draft post."),
    AfterValidator(plain_text),
]


def checker(request: Request, viewer: Viewer) -> Callable[[Draft], CheckReport]:
    """The warm check of the viewer's organisation, in the viewer's language.

    The embedder is the app's ``embedder`` (``app.state.embedder``) when set, else the
    ``embedder`` setting (``KLOPT_EMBEDDER``), as for ``klopt check``.
    """
    from klopt.checking.warm import warm_checker
    from klopt.config import get_setting

    embedder = getattr(request.app.state, "embedder", None) or get_setting("embedder")
    return warm_checker(viewer.store, viewer.org.slug, embedder=embedder, lang=viewer.lang)


class CheckRequest(BaseModel):
    """A draft to check."""

    model_config = ConfigDict(extra="forbid")

    text: DraftBody
    platform: Platform | None = Field(None, description="Where it will be posted.")
    lang: Literal["nl", "en"] | None = Field(
        None, description="The draft's language; detected when not given."
    )


class NoticeOut(BaseModel):
    """What limited the check."""

    code: str
    message: str


class PromiseRef(BaseModel):
    """The promise a finding is about."""

    id: str
    statement: str | None


class FindingOut(BaseModel):
    """One finding; ``start``/``end`` are character offsets into the text."""

    rule: str
    severity: Literal["error", "warning", "info"]
    message: str
    start: int | None
    end: int | None
    text: str | None
    suggestion: str | None
    why: str | None
    promise: PromiseRef | None
    evidence: dict[str, Any]


class CheckOut(BaseModel):
    """The JSON of ``klopt check --format json``."""

    score: int = Field(ge=0, le=100)
    language: str
    platform: str | None
    notices: list[NoticeOut]
    findings: list[FindingOut]


@router.post("/check", response_model=CheckOut, tags=["check"])
def check_draft(
    request: Request, body: CheckRequest, viewer: Annotated[Viewer, Depends(api_viewer)]
) -> JSONResponse:
    """Check a draft: house-style rules, promise checks and a score from 0 to 100."""
    from klopt.checking.check import report_json

    report = checker(request, viewer)(Draft(body.text, body.platform, body.lang or "other"))
    return JSONResponse(report_json(report))
