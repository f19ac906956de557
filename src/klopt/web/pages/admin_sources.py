"""/admin/sources: where the organisation listens, each source's state, and "sync now".

The add form has the kinds and settings ``klopt sources add`` has (made from each kind's
:class:`klopt.listening.source.Setting`), less the ``file`` kind: on a server that would
read the server's own disk. A secret is never a setting, only the name of the environment
variable that holds it; here that name must start with the organisation's prefix
(:func:`secret_prefix`), so that an admin cannot have the server send its own secrets, or
another organisation's, to an address of their choosing.

"Sync now" runs the library's sync of that one source in the request, with a short
time-out and few retries (:func:`web_http`), and shows its counts or its error.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Annotated, Any

from fastapi import APIRouter, Form, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from klopt.errors import InputError, KloptError
from klopt.i18n import messages
from klopt.listening.http import Http
from klopt.listening.source import Setting, source_kinds
from klopt.listening.sync import SyncResult, add_source, list_sources, remove_source, sync_source
from klopt.web.context import Viewer
from klopt.web.pages.admin_access import AdminViewer, render_admin

__all__ = ["router", "secret_prefix", "web_http", "web_kinds"]

router = APIRouter(include_in_schema=False)

_Name = Annotated[str, Form(max_length=100)]
#: The most values one setting that may be given several times takes from the form.
_MAX_VALUES = 50


def web_http() -> Http:
    """The HTTP client of a sync run in a web request: a short time-out, one retry, and
    no long waits for a rate limit (the source then says when it may run again)."""
    return Http(timeout=10.0, retries=1, backoff=0.5, max_wait=5.0)


def secret_prefix(org_slug: str) -> str:
    """How the environment variables of the organisation's secrets must start, e.g.
    ``KLOPT_SOURCE_VOORBEELD_BV_`` for ``voorbeeld-bv``."""
    return "KLOPT_SOURCE_" + re.sub(r"[^A-Z0-9]+", "_", org_slug.upper()).strip("_") + "_"


@dataclass(frozen=True)
class FieldSpec:
    """One setting of a kind as the form asks for it."""

    name: str
    label: str
    help: str | None
    required: bool
    multiple: bool
    secret_env: bool


@dataclass(frozen=True)
class KindSpec:
    """One kind of source as the form offers it."""

    kind: str
    help: str | None
    fields: tuple[FieldSpec, ...]


def _text(key: str, lang: str, default: str | None) -> str | None:
    from klopt.i18n import t

    return t(key, lang) if key in messages("en") else default


def web_kinds(lang: str) -> list[KindSpec]:
    """The kinds the web app offers: every registered kind that reads the network."""
    return [
        KindSpec(
            kind,
            _text(f"help.sources.add.{kind}", lang, None),
            tuple(_field(kind, s, lang) for s in cls.settings),
        )
        for kind, cls in source_kinds().items()
        if getattr(cls, "network", False)
    ]


def _field(kind: str, setting: Setting, lang: str) -> FieldSpec:
    return FieldSpec(
        setting.name,
        _text(f"web.admin.sources.setting.{setting.name}", lang, setting.name) or setting.name,
        _text(f"help.sources.add.{kind}.option.{setting.name}", lang, None),
        setting.required,
        setting.multiple,
        setting.secret_env,
    )


def _page(
    request: Request,
    viewer: Viewer,
    *,
    error: KloptError | None = None,
    notice: str | None = None,
    result: SyncResult | None = None,
    kind: str | None = None,
    values: Mapping[str, str] | None = None,
) -> Response:
    return render_admin(
        request, viewer, "admin/sources.html", error=error, notice=notice, result=result,
        sources=list_sources(viewer.store, viewer.org.slug), kinds=web_kinds(viewer.lang),
        open_kind=kind, values=values or {}, prefix=secret_prefix(viewer.org.slug),
    )  # fmt: skip


@router.get("/admin/sources")
def sources(request: Request, viewer: AdminViewer) -> Response:
    """The sources with their kind, schedule, state, last sync and last error."""
    return _page(request, viewer)


@router.post("/admin/sources/add")
async def add(request: Request, viewer: AdminViewer) -> Response:
    """Add a source of one kind with the settings of its form."""
    form = await request.form()
    kind = str(form.get("kind") or "")
    name = str(form.get("name") or "")[:100]
    values = {k: str(v)[:2000] for k, v in form.items() if isinstance(v, str) and k != "csrf"}
    try:
        spec = next((k for k in web_kinds(viewer.lang) if k.kind == kind), None)
        if spec is None:
            kinds = ", ".join(k.kind for k in web_kinds(viewer.lang))
            raise InputError.keyed("source.unknown_kind", kind=kind, kinds=kinds)
        options = _options(spec, form, secret_prefix(viewer.org.slug))
        interval = _interval(str(form.get("interval") or ""))
        own = form.get("own") == "on"
        info = await run_in_threadpool(
            add_source, viewer.store, viewer.org.slug, name, kind, options,
            actor=viewer.user, own=own, interval=interval,
        )  # fmt: skip
    except KloptError as exc:
        shown = {k: v for k, v in values.items() if not k.endswith("_env")}  # maybe a secret
        return await run_in_threadpool(
            partial(_page, request, viewer, error=exc, kind=kind, values=shown)
        )
    notice = viewer.t("web.admin.sources.added", name=info.name, kind=info.kind)
    return await run_in_threadpool(partial(_page, request, viewer, notice=notice))


def _options(spec: KindSpec, form: Mapping[str, Any], prefix: str) -> dict[str, Any]:
    """The settings from the form: one value, or one per line; secret names checked."""
    options: dict[str, Any] = {}
    for field in spec.fields:
        raw = str(form.get(f"setting.{field.name}") or "").strip()
        if not raw:
            continue
        if field.multiple:
            options[field.name] = [v.strip() for v in raw.splitlines() if v.strip()][:_MAX_VALUES]
        elif field.secret_env:
            if not raw.startswith(prefix) or not re.fullmatch(r"[A-Z][A-Z0-9_]*", raw):
                # The value is not repeated: it may be a pasted secret.
                raise InputError.keyed("admin.secret_prefix", setting=field.name, prefix=prefix)
            options[field.name] = raw
        else:
            options[field.name] = raw
    return options


def _interval(minutes: str) -> int | None:
    if not minutes.strip():
        return None
    if not minutes.strip().isdigit() or not 1 <= int(minutes) <= 100_000:
        raise InputError.keyed("admin.bad_interval", value=minutes[:20])
    return int(minutes) * 60


@router.post("/admin/sources/remove")
def remove(request: Request, viewer: AdminViewer, name: _Name) -> Response:
    """Stop listening to a source; its mentions stay."""
    try:
        remove_source(viewer.store, viewer.org.slug, name, actor=viewer.user)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    return _page(request, viewer, notice=viewer.t("sources.removed", name=name))


@router.post("/admin/sources/sync")
def sync(request: Request, viewer: AdminViewer, name: _Name) -> Response:
    """Sync one source now and show what it brought in (or why it stopped)."""
    try:
        result = sync_source(viewer.store, viewer.org.slug, name, actor=viewer.user, http=web_http)
    except KloptError as exc:
        return _page(request, viewer, error=exc)
    return _page(request, viewer, result=result)
