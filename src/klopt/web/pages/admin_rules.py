"""/admin/rules: the rule packs drafts are checked against, and checking a new pack.

klopt keeps no organisation rule packs in the store yet: ``klopt check --rules PATH``
names a pack file each time. So this page shows the active packs (those shipped with
klopt) with their rules, and an uploaded pack is checked exactly as ``load_packs`` would
load it beside them (YAML, fields, check types, its own examples, ids already used),
with the file and line of the first problem, but it is not stored.
"""

from __future__ import annotations

import re
import tempfile
from functools import cache, partial
from pathlib import Path
from typing import Annotated

from fastapi import APIRouter, File, Request, UploadFile
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from klopt.checking.rules import RulePack, RulePackError, RuleSet, load_packs
from klopt.errors import InputError, KloptError
from klopt.web.context import Viewer
from klopt.web.pages.admin_access import AdminViewer, render_admin

__all__ = ["router", "check_pack"]

router = APIRouter(include_in_schema=False)

#: The largest rule pack this page reads (the shipped one is about 40 KB).
MAX_PACK_BYTES = 1024 * 1024


@cache
def _shipped() -> RuleSet:
    """The packs shipped with klopt, loaded (and their examples verified) once."""
    return load_packs()


def _page(
    request: Request,
    viewer: Viewer,
    *,
    error: KloptError | None = None,
    checked: RulePack | None = None,
    file_name: str | None = None,
) -> Response:
    return render_admin(
        request, viewer, "admin/rules.html", error=error, checked=checked,
        file_name=file_name, packs=_shipped().packs,
    )  # fmt: skip


@router.get("/admin/rules")
def rules(request: Request, viewer: AdminViewer) -> Response:
    """The active rule packs and their rules."""
    return _page(request, viewer)


def _safe_name(name: str | None) -> str:
    base = re.split(r"[\\/]", name or "")[-1]
    base = re.sub(r"[^\w.\-]", "_", base)[:100].lstrip(".")
    return base if base.endswith((".yaml", ".yml")) else (base or "pack") + ".yaml"


def check_pack(data: bytes, file_name: str) -> RulePack:
    """Load ``data`` as the pack file ``file_name`` after the shipped packs.

    Raises:
        RulePackError: the pack cannot be used; its message names ``file_name`` (not
            where it was put to be read) and the line.
    """
    with tempfile.TemporaryDirectory(prefix="klopt-pack-") as folder:
        path = Path(folder) / file_name
        path.write_bytes(data)
        try:
            rule_set = load_packs([path])
        except RulePackError as exc:
            for key in ("path", "other"):  # where the packs lie is of no use to the reader
                if isinstance(exc.values.get(key), Path | str):
                    exc.values[key] = Path(str(exc.values[key])).name
            raise
        return rule_set.packs[-1]


@router.post("/admin/rules/check")
async def check(
    request: Request, viewer: AdminViewer, pack: Annotated[UploadFile, File()]
) -> Response:
    """Check an uploaded rule pack and say what is wrong with it, by line."""
    file_name = _safe_name(pack.filename)
    data = await pack.read(MAX_PACK_BYTES + 1)
    try:
        if len(data) > MAX_PACK_BYTES:
            raise InputError.keyed("admin.pack_too_big", name=file_name, kb=MAX_PACK_BYTES // 1024)
        checked = await run_in_threadpool(check_pack, data, file_name)
    except KloptError as exc:
        return await run_in_threadpool(
            partial(_page, request, viewer, error=exc, file_name=file_name)
        )
    return await run_in_threadpool(
        partial(_page, request, viewer, checked=checked, file_name=file_name)
    )
