"""Pages: Jinja2 templates in ``web/templates``, every value escaped, every text translated.

A template gets ``t`` (a message in the viewer's language), ``viewer``, ``csrf`` (the
hidden field every form carries) and ``request``. Autoescaping is on for every template,
so a mention, promise, comment or file name holding HTML is shown as text.
"""

from __future__ import annotations

from datetime import datetime
from functools import cache
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, select_autoescape
from markupsafe import Markup, escape

from klopt.i18n import t
from klopt.web.context import CSRF_FIELD, Viewer

__all__ = ["render", "render_plain", "environment", "is_htmx", "csrf_field"]


@cache
def environment() -> Environment:
    """The one template environment (autoescaping on for every file)."""
    env = Environment(
        loader=PackageLoader("klopt", "web/templates"),
        autoescape=select_autoescape(default=True, default_for_string=True),
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["when"] = _when
    env.filters["pct"] = _pct
    return env


def _when(value: datetime | None, fmt: str = "%Y-%m-%d %H:%M") -> str:
    return value.strftime(fmt) if value is not None else ""


def _pct(value: float | None, digits: int = 0) -> str:
    return "–" if value is None else f"{value * 100:.{digits}f}%"


def is_htmx(request: Request) -> bool:
    """Whether htmx sent the request (it swaps a part of the page with the answer)."""
    return request.headers.get("hx-request") == "true"


def csrf_field(token: str | None) -> Markup:
    if not token:
        return Markup("")
    return Markup('<input type="hidden" name="{}" value="{}">').format(CSRF_FIELD, escape(token))


def render(
    request: Request,
    viewer: Viewer,
    template: str,
    *,
    status: int = 200,
    headers: dict[str, str] | None = None,
    **context: Any,
) -> HTMLResponse:
    """The page ``template`` for ``viewer``."""
    html = (
        environment()
        .get_template(template)
        .render(
            request=request,
            viewer=viewer,
            lang=viewer.lang,
            t=lambda key, **v: t(key, viewer.lang, **v),
            csrf=csrf_field(viewer.csrf),
            csrf_token=viewer.csrf or "",
            **context,
        )
    )
    return HTMLResponse(html, status_code=status, headers=headers)


def render_plain(
    request: Request, lang: str, template: str, *, status: int = 200, **context: Any
) -> HTMLResponse:
    """A page for someone who is not signed in (the sign-in page, an error)."""
    values: dict[str, Any] = {
        "request": request,
        "viewer": None,
        "lang": lang,
        "t": lambda key, **v: t(key, lang, **v),
        "csrf": Markup(""),
        "csrf_token": "",
    }
    values.update(context)
    html = environment().get_template(template).render(**values)
    return HTMLResponse(html, status_code=status)
