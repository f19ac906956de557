"""/admin/rules: the rule packs drafts are checked against, and the organisation's own.

The page shows the active packs (those shipped with klopt and the organisation's stored
ones) with their rules, and lists the stored packs with who stored them and when. An
uploaded pack is checked exactly as it would be used (YAML, fields, check types, its own
examples, ids already used) and stored (:func:`klopt.checking.packs.add_pack`), or its
first problem is shown with the file and line; a stored pack can be removed.
"""

from __future__ import annotations

import re
from functools import partial
from typing import Annotated

from fastapi import APIRouter, File, Form, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from klopt.checking.packs import PackInfo, add_pack, list_packs, organization_rules, remove_pack
from klopt.errors import InputError, KloptError
from klopt.web.context import Viewer
from klopt.web.pages.admin_access import AdminViewer, render_admin

__all__ = ["router"]

router = APIRouter(include_in_schema=False)

#: The largest rule pack this page reads (the shipped one is about 40 KB).
MAX_PACK_BYTES = 1024 * 1024


def _page(
    request: Request,
    viewer: Viewer,
    *,
    error: KloptError | None = None,
    stored: PackInfo | None = None,
    notice: str | None = None,
) -> Response:
    return render_admin(
        request, viewer, "admin/rules.html", error=error, stored=stored, notice=notice,
        packs=organization_rules(viewer.store, viewer.org.slug).packs,
        own=list_packs(viewer.store, viewer.org.slug),
    )  # fmt: skip


@router.get("/admin/rules")
def rules(request: Request, viewer: AdminViewer) -> Response:
    """The active rule packs and their rules, and the organisation's stored packs."""
    return _page(request, viewer)


def _safe_name(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w.\-]", "_", base)[:100].lstrip(".")
    return base if base.endswith((".yaml", ".yml")) else (base or "pack") + ".yaml"


def _text(data: bytes, file_name: str) -> str:
    if len(data) > MAX_PACK_BYTES:
        raise InputError.keyed("admin.pack_too_big", name=file_name, kb=MAX_PACK_BYTES // 1024)
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise InputError.keyed("admin.pack_not_utf8", name=file_name) from exc


@router.post("/admin/rules/add")
async def add(
    request: Request, viewer: AdminViewer, pack: Annotated[UploadFile, File()]
) -> Response:
    """Check an uploaded rule pack and store it, or say what is wrong with it, by line."""
    file_name = _safe_name(pack.filename)
    data = await pack.read(MAX_PACK_BYTES + 1)
    try:
        text = _text(data, file_name)
        stored = await run_in_threadpool(
            partial(add_pack, viewer.store, viewer.org.slug, file_name, text, actor=viewer.user)
        )
    except KloptError as exc:
        return await run_in_threadpool(partial(_page, request, viewer, error=exc))
    return await run_in_threadpool(partial(_page, request, viewer, stored=stored))


@router.post("/admin/rules/remove")
def remove(
    request: Request, viewer: AdminViewer, name: Annotated[str, Form(max_length=100)]
) -> Response:
    """Stop checking drafts against a stored pack."""
    try:
        remove_pack(viewer.store, viewer.org.slug, name, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    return _page(request, viewer, notice=viewer.t("web.admin.rules.removed", name=name))
