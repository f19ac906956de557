"""``/api/v1/drafts``: the editorial workflow for programs, with the CLI's rules and JSON.

Every route calls one function of :mod:`klopt.editorial.drafts`, which checks the role
(``draft.write`` editor/admin, ``draft.review`` approver/admin, ``draft.act``; four eyes:
nobody reviews a draft they wrote) and refuses before it writes anything: 403 for a role
that may not act, 404 for a draft of another organisation, 422 for an action the draft's
state does not allow. A draft is shown as ``klopt drafts list --json`` shows it
(:mod:`klopt.editorial.drafts_json`).
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from fastapi.responses import JSONResponse
from pydantic import AfterValidator, AwareDatetime, BaseModel, ConfigDict, Field

from klopt.web.api.check import DraftBody, Platform, checker, plain_text
from klopt.web.context import Viewer, api_viewer

__all__ = ["router"]

router = APIRouter(prefix="/api/v1", tags=["drafts"])

State = Literal["draft", "in_review", "changes_requested", "approved", "published", "withdrawn"]

Ref = Annotated[
    str,
    Path(pattern=r"^[dD]?[0-9]{1,9}$", description="The draft: D3 or 3.", examples=["D1"]),
]


def _sane_time(value: datetime) -> datetime:
    """A time that every store and time zone can hold (not year 1 or 9999)."""
    if not 1900 <= value.year <= 2999:
        raise ValueError("the year must be between 1900 and 2999")
    return value


Time = Annotated[AwareDatetime, AfterValidator(_sane_time)]
Note = Annotated[str, Field(max_length=5000), AfterValidator(plain_text)]
Url = Annotated[str, Field(max_length=2000, pattern=r"^https?://\S+$"), AfterValidator(plain_text)]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


Visibility = Literal["public", "unlisted", "private", "direct"]
AccountName = Annotated[str, Field(max_length=80), AfterValidator(plain_text)]


class ImageIn(_Body):
    """An image with its alt text (PNG, JPEG, GIF or WebP, at most 2,000,000 bytes)."""

    data: Annotated[
        str, Field(max_length=2_700_000, pattern=r"^[A-Za-z0-9+/=\s]*$",
                   description="The image's bytes in base64.")
    ]  # fmt: skip
    alt: Annotated[str, Field(min_length=1, max_length=1500), AfterValidator(plain_text)]


class NewDraft(_Body):
    """A new draft (version 1)."""

    text: DraftBody
    platform: Platform | None = None
    planned_at: Time | None = Field(None, description="When it should go out (with offset).")
    images: list[ImageIn] = Field(default_factory=list, max_length=4)
    visibility: Visibility = "public"
    account: AccountName | None = Field(
        None, description="The publishing account it goes out with (default: the platform's first)."
    )


class DraftEdit(_Body):
    """A new version of the text or the images, or another platform, planned time,
    visibility or account."""

    text: DraftBody | None = None
    platform: Platform | None = None
    planned_at: Time | None = None
    images: list[ImageIn] | None = Field(
        None, max_length=4, description="The new images ([] for none); left out: kept."
    )
    visibility: Visibility | None = None
    account: AccountName | None = Field(None, description='"" for the platform\'s first.')


def _images(images: list[ImageIn] | None) -> list[Any] | None:
    """The API's images, checked as the CLI's and the web app's are."""
    if images is None:
        return None
    import base64
    import binascii

    from klopt.editorial.images import new_image
    from klopt.errors import InputError

    found = []
    for number, image in enumerate(images, start=1):
        try:
            data = base64.b64decode(image.data, validate=False)
        except (binascii.Error, ValueError):
            raise InputError.keyed("images.not_an_image", name=f"image {number}") from None
        found.append(new_image(data, image.alt, name=f"image {number}"))
    return found


class Approval(_Body):
    """An approval of the newest version."""

    version: int | None = Field(None, ge=1, le=10**9, description="The version you read.")
    note: Note = ""
    override: bool = Field(False, description="Approve despite error findings (note why).")


class ChangeRequest(_Body):
    """Changes asked for, and why."""

    note: Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(plain_text)]
    version: int | None = Field(None, ge=1, le=10**9)


class Publication(_Body):
    """Where and when an approved draft went out."""

    url: Url | None = None
    published_at: Time | None = None
    platform: Platform | None = None


class Withdrawal(_Body):
    """Why the draft will not go out."""

    note: Note = ""


class NewComment(_Body):
    """A remark on a version (the newest by default)."""

    text: Annotated[str, Field(min_length=1, max_length=5000), AfterValidator(plain_text)]
    version: int | None = Field(None, ge=1, le=10**9)


class DraftOut(BaseModel):
    """A draft as ``klopt drafts list --json`` shows it."""

    draft: str
    state: State
    version: int
    platform: str | None
    planned_at: str | None
    author: str
    score: int | None
    text: str
    published_at: str | None
    url: str | None
    reply_to: int | None = Field(None, description="The mention a reply answers (its post id).")
    visibility: Visibility = "public"
    account: str | None = None


class ImageOut(BaseModel):
    """An image of a version (its bytes: ``GET /drafts/{ref}/images/{n}`` in the app)."""

    position: int
    mime: str
    alt: str
    size: int


class VersionOut(BaseModel):
    """One version, with the check report stored with it."""

    version: int
    text: str
    author: str
    created_at: str | None
    language: str | None
    score: int | None
    check: dict[str, Any] | None
    images: list[ImageOut] = []


class CommentOut(BaseModel):
    """One comment."""

    version: int
    author: str
    text: str
    created_at: str | None


class ReviewOut(BaseModel):
    """One review decision, with the check report stored with it."""

    version: int
    reviewer: str
    decision: Literal["approved", "changes_requested"]
    note: str
    score: int | None
    overridden: bool
    policy: Literal["errors", "never"] | None = Field(
        None, description="Set when the organisation's reply approval approved it, no person."
    )
    created_at: str | None
    check: dict[str, Any] | None


class DraftDetailOut(DraftOut):
    """A draft with its history."""

    versions: list[VersionOut]
    comments: list[CommentOut]
    reviews: list[ReviewOut]


class CheckedDraftOut(DraftOut):
    """A draft just written, with the check of its newest version."""

    check: dict[str, Any] | None


class DiffPartOut(BaseModel):
    """A run of words that stayed (=), went (-) or came (+)."""

    op: Literal["=", "-", "+"]
    text: str


class DiffOut(BaseModel):
    """What changed between two versions."""

    draft: str
    from_: int = Field(alias="from")
    to: int
    parts: list[DiffPartOut]


_ERRORS: dict[int | str, dict[str, Any]] = {
    401: {"description": "No token, or one that does not work."},
    403: {"description": "The role may not do this (or four eyes: you wrote it)."},
    404: {"description": "No such draft in the organisation."},
    422: {"description": "The request or the draft's state does not allow it."},
}

ApiViewer = Annotated[Viewer, Depends(api_viewer)]


def _org(viewer: Viewer) -> str:
    return viewer.org.slug


def _checked(viewer: Viewer, info: Any, status: int) -> JSONResponse:
    """The draft just written, with the check stored with its newest version."""
    from klopt.editorial.drafts import show_draft
    from klopt.editorial.drafts_json import draft_json

    detail = show_draft(viewer.store, _org(viewer), info.number, actor=viewer.user)
    body = {**draft_json(detail.draft), "check": detail.versions[-1].findings}
    return JSONResponse(body, status_code=status)


@router.get("/drafts", response_model=list[DraftOut], responses=_ERRORS)
def list_drafts(
    viewer: ApiViewer,
    state: Annotated[list[State] | None, Query()] = None,
    platform: Annotated[Platform | None, Query()] = None,
) -> JSONResponse:
    """The organisation's drafts by number (``klopt drafts list --json``)."""
    from klopt.editorial.drafts import list_drafts as find
    from klopt.editorial.drafts_json import draft_json

    found = find(
        viewer.store, _org(viewer), actor=viewer.user, states=state or (), platform=platform
    )
    return JSONResponse([draft_json(d) for d in found])


@router.post("/drafts", response_model=CheckedDraftOut, status_code=201, responses=_ERRORS)
def create_draft(request: Request, body: NewDraft, viewer: ApiViewer) -> JSONResponse:
    """Write a new draft (version 1, state ``draft``) and check it. Editor or admin."""
    from klopt.editorial.drafts import create_draft as create

    info = create(
        viewer.store, _org(viewer), body.text, actor=viewer.user, platform=body.platform,
        planned_at=body.planned_at, check=checker(request, viewer),
        images=_images(body.images) or (), visibility=body.visibility, account=body.account,
    )  # fmt: skip
    return _checked(viewer, info, 201)


@router.get("/drafts/{ref}", response_model=DraftDetailOut, responses=_ERRORS)
def show_draft(ref: Ref, viewer: ApiViewer) -> JSONResponse:
    """A draft with every version (and its check), comment and review."""
    from klopt.editorial.drafts import show_draft as show
    from klopt.editorial.drafts_json import detail_json

    return JSONResponse(detail_json(show(viewer.store, _org(viewer), ref, actor=viewer.user)))


@router.patch("/drafts/{ref}", response_model=CheckedDraftOut, responses=_ERRORS)
def edit_draft(request: Request, ref: Ref, body: DraftEdit, viewer: ApiViewer) -> JSONResponse:
    """Store a new version of the text (checked), or change the platform or planned time.
    Editing an approved draft sends it back to review."""
    from klopt.editorial.drafts import edit_draft as edit

    info = edit(
        viewer.store, _org(viewer), ref, body.text, actor=viewer.user, platform=body.platform,
        planned_at=body.planned_at, check=checker(request, viewer),
        images=_images(body.images), visibility=body.visibility, account=body.account,
    )  # fmt: skip
    return _checked(viewer, info, 200)


@router.get("/drafts/{ref}/diff", response_model=DiffOut, responses=_ERRORS)
def diff_draft(
    ref: Ref,
    viewer: ApiViewer,
    old: Annotated[int | None, Query(alias="from", ge=1, le=10**9)] = None,
    new: Annotated[int | None, Query(alias="to", ge=1, le=10**9)] = None,
) -> JSONResponse:
    """What changed between two versions, word by word (``klopt drafts diff``)."""
    from klopt.editorial.drafts import diff_versions, draft_number
    from klopt.editorial.drafts_json import diff_json

    first, second, parts = diff_versions(
        viewer.store, _org(viewer), ref, actor=viewer.user, old=old, new=new
    )
    return JSONResponse(diff_json(f"D{draft_number(ref)}", first, second, parts))


@router.post("/drafts/{ref}/submit", response_model=DraftOut, responses=_ERRORS)
def submit_draft(ref: Ref, viewer: ApiViewer) -> JSONResponse:
    """Ask for review: ``draft`` or ``changes_requested`` becomes ``in_review``."""
    from klopt.editorial.drafts import submit_draft as submit
    from klopt.editorial.drafts_json import draft_json

    return JSONResponse(draft_json(submit(viewer.store, _org(viewer), ref, actor=viewer.user)))


@router.post("/drafts/{ref}/approve", response_model=ReviewOut, responses=_ERRORS)
def approve_draft(
    request: Request, ref: Ref, viewer: ApiViewer, body: Approval | None = None
) -> JSONResponse:
    """Approve the newest version (checked once more; the findings are stored with the
    approval). Approver or admin, never the draft's writer; errors need ``override``."""
    from klopt.editorial.drafts import approve_draft as approve
    from klopt.editorial.drafts_json import review_json

    body = body or Approval(version=None, override=False)
    review = approve(
        viewer.store, _org(viewer), ref, actor=viewer.user, check=checker(request, viewer),
        version=body.version, note=body.note, override=body.override,
    )  # fmt: skip
    return JSONResponse(review_json(review))


@router.post("/drafts/{ref}/request-changes", response_model=ReviewOut, responses=_ERRORS)
def request_changes(
    request: Request, ref: Ref, body: ChangeRequest, viewer: ApiViewer
) -> JSONResponse:
    """Send a draft in review back to its editors, saying why. Approver or admin."""
    from klopt.editorial.drafts import request_changes as send_back
    from klopt.editorial.drafts_json import review_json

    review = send_back(
        viewer.store, _org(viewer), ref, actor=viewer.user, note=body.note,
        version=body.version, check=checker(request, viewer),
    )  # fmt: skip
    return JSONResponse(review_json(review))


@router.post("/drafts/{ref}/publish", response_model=DraftOut, responses=_ERRORS)
def publish_draft(ref: Ref, viewer: ApiViewer, body: Publication | None = None) -> JSONResponse:
    """Mark an approved draft as published (with its URL); it becomes an own post."""
    from klopt.editorial.drafts import publish_draft as publish
    from klopt.editorial.drafts_json import draft_json

    body = body or Publication()
    info = publish(
        viewer.store, _org(viewer), ref, actor=viewer.user, url=body.url,
        published_at=body.published_at, platform=body.platform,
    )  # fmt: skip
    return JSONResponse(draft_json(info))


@router.post("/drafts/{ref}/withdraw", response_model=DraftOut, responses=_ERRORS)
def withdraw_draft(ref: Ref, viewer: ApiViewer, body: Withdrawal | None = None) -> JSONResponse:
    """Withdraw a draft that should not go out; it stays, with its history."""
    from klopt.editorial.drafts import withdraw_draft as withdraw
    from klopt.editorial.drafts_json import draft_json

    note = (body or Withdrawal()).note
    return JSONResponse(
        draft_json(withdraw(viewer.store, _org(viewer), ref, actor=viewer.user, note=note))
    )


@router.post(
    "/drafts/{ref}/comments", response_model=CommentOut, status_code=201, responses=_ERRORS
)
def comment_draft(ref: Ref, body: NewComment, viewer: ApiViewer) -> JSONResponse:
    """Add a comment to a version of a draft (the newest by default)."""
    from klopt.editorial.drafts import comment_draft as comment
    from klopt.editorial.drafts_json import comment_json

    made = comment(
        viewer.store, _org(viewer), ref, body.text, actor=viewer.user, version=body.version
    )
    return JSONResponse(comment_json(made), status_code=201)
