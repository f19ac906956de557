"""The web application: pages for people and ``/api/v1`` for programs, over one store.

Why FastAPI (on Starlette and uvicorn): the JSON API gets its OpenAPI document from the
same typed routes that serve it, which ``schemathesis`` then tests; pages are plain
Starlette responses rendered with Jinja2, and htmx (served by klopt itself) swaps their
live parts. No Node build step, nothing from a CDN: it works offline.

Every route is thin: it reads the request, calls one library function with the viewer's
organisation and name, and renders the answer. The library checks the role.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from importlib import resources
from typing import Any
from urllib.parse import quote

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, RedirectResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.exceptions import HTTPException as StarletteHTTPException

from klopt.errors import (
    Busy,
    ConfigError,
    DatabaseUnavailable,
    InputError,
    KloptError,
    NotAllowed,
    NotAuthenticated,
    NotFound,
    RateLimited,
    ReadOnlyStore,
    SourceError,
    StoreError,
    Throttled,
)
from klopt.i18n import t
from klopt.store import Store
from klopt.web.context import NoOrganization, SignInNeeded, browser_language

__all__ = ["create_app", "status_of", "error_body", "CONTENT_SECURITY_POLICY"]

#: No inline script or style, nothing from elsewhere: what a page may load and run.
CONTENT_SECURITY_POLICY = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "font-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; "
    "frame-ancestors 'none'; form-action 'self'"
)

#: The HTTP status of each kind of error (the first class that matches wins).
_STATUS: tuple[tuple[type[KloptError], int], ...] = (
    (Throttled, 429),
    (NotAuthenticated, 401),
    (NotAllowed, 403),
    (NotFound, 404),
    (RateLimited, 429),
    (Busy, 409),
    (ReadOnlyStore, 503),
    (DatabaseUnavailable, 503),
    (StoreError, 500),
    (SourceError, 502),
    (InputError, 422),
    (ConfigError, 400),
)


def status_of(exc: KloptError) -> int:
    """The HTTP status that says what kind of error ``exc`` is."""
    return next((code for kind, code in _STATUS if isinstance(exc, kind)), 400)


def error_body(exc: KloptError, lang: str) -> dict[str, Any]:
    """The JSON the API answers an error with: its key, message and hint in ``lang``."""
    if exc.key is None:
        return {"error": {"code": "error", "message": str(exc), "hint": None}}
    message = t(f"error.{exc.key}", lang).format(**_plain(exc.values, lang))
    hint_key = f"error.{exc.key}.hint"
    hint = t(hint_key, lang).format(**_plain(exc.values, lang)) if hint_key in _keys() else None
    return {"error": {"code": exc.key, "message": message, "hint": hint}}


def _plain(values: dict[str, Any], lang: str) -> dict[str, Any]:
    from klopt.i18n import Localized

    return {k: v.text(lang) if isinstance(v, Localized) else v for k, v in values.items()}


def _keys() -> dict[str, str]:
    from klopt.i18n import messages

    return messages("en")


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api/")


def _lang(request: Request) -> str:
    lang = request.query_params.get("lang")
    if lang in ("en", "nl"):
        return str(lang)
    return getattr(request.state, "lang", None) or browser_language(request)


async def _error_page(
    request: Request, lang: str, status: int, message: Callable[[str], str]
) -> Response:
    """The error page: with the site's navigation for someone signed in (in their
    language), else plain; ``message`` says what went wrong in a given language."""
    from starlette.concurrency import run_in_threadpool

    from klopt.web.context import viewer_if_signed_in
    from klopt.web.render import render, render_plain

    viewer = await run_in_threadpool(viewer_if_signed_in, request)
    if viewer is not None:
        text = message(viewer.lang)
        return render(
            request, viewer, "error.html", status=status, message=text, status_code=status
        )
    return render_plain(
        request, lang, "error.html", status=status, message=message(lang), status_code=status
    )


async def _klopt_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KloptError)
    lang = _lang(request)
    status = status_of(exc)
    headers = {"WWW-Authenticate": "Bearer"} if status == 401 else {}
    if isinstance(exc, Throttled):
        from klopt.accounts.sessions import FAILURE_WINDOW

        headers["Retry-After"] = str(int(FAILURE_WINDOW.total_seconds()))
    if _is_api(request):
        return JSONResponse(error_body(exc, lang), status_code=status, headers=headers)
    response = await _error_page(request, lang, status, exc.localized)
    response.headers.update(headers)
    return response


async def _sign_in_needed(request: Request, exc: Exception) -> Response:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    location = "/sign-in?next=" + quote(target, safe="")
    if request.headers.get("hx-request") == "true":
        return Response(status_code=401, headers={"HX-Redirect": location})
    return RedirectResponse(location, status_code=303)


async def _no_organization(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, NoOrganization)
    from klopt.web.render import csrf_field, render_plain

    return render_plain(
        request, exc.lang, "no_organization.html", status=403, user=exc.signed.user,
        csrf=csrf_field(exc.signed.csrf),
    )  # fmt: skip


async def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    lang = _lang(request)
    problems = [
        {"where": ".".join(str(p) for p in e.get("loc", ())), "problem": e.get("msg", "")}
        for e in exc.errors()
    ]
    body = {
        "error": {
            "code": "request.invalid",
            "message": t("web.problem.invalid_request", lang),
            "hint": t("web.problem.invalid_request.hint", lang),
            "problems": problems,
        }
    }
    if _is_api(request):
        return JSONResponse(body, status_code=422)
    return await _error_page(
        request, lang, 422, lambda language: t("web.problem.invalid_request", language)
    )


async def _http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    lang = _lang(request)
    name = {404: "no_page", 405: "wrong_method"}.get(exc.status_code, "http_error")
    if _is_api(request) or request.url.path == "/healthz":
        message = t(f"web.problem.{name}", lang, status=exc.status_code)
        hint = t(f"web.problem.{name}.hint", lang)
        body = {"error": {"code": f"web.{name}", "message": message, "hint": hint}}
        return JSONResponse(body, status_code=exc.status_code, headers=exc.headers)

    def problem(language: str) -> str:
        return (
            t(f"web.problem.{name}", language, status=exc.status_code)
            + " "
            + t(f"web.problem.{name}.hint", language)
        )

    return await _error_page(request, lang, exc.status_code, problem)


async def _unexpected(request: Request, exc: Exception) -> Response:
    """A bug: logged with its traceback on the server, one sentence for the person."""
    import logging

    logging.getLogger("klopt.web").exception("unexpected error on %s", request.url.path)
    lang = _lang(request)
    message = t("web.problem.unexpected", lang)
    if _is_api(request):
        body = {"error": {"code": "web.unexpected", "message": message, "hint": None}}
        return JSONResponse(body, status_code=500)
    from klopt.web.render import render_plain

    return render_plain(request, lang, "error.html", status=500, message=message, status_code=500)


def _security_headers(response: Response, request: Request) -> None:
    headers = response.headers
    headers.setdefault("Content-Security-Policy", CONTENT_SECURITY_POLICY)
    headers.setdefault("X-Content-Type-Options", "nosniff")
    headers.setdefault("Referrer-Policy", "same-origin")
    headers.setdefault("X-Frame-Options", "DENY")
    if not request.url.path.startswith("/static/"):
        headers.setdefault("Cache-Control", "no-store")
    if request.url.scheme == "https":
        headers.setdefault("Strict-Transport-Security", "max-age=31536000")


def create_app(
    store: Store,
    *,
    worker: Callable[[Store], Any] | None = None,
    upload_limit: int = 20 * 1024 * 1024,
) -> FastAPI:
    """The web app over ``store``.

    Args:
        store: The store it serves (SQLite or PostgreSQL).
        worker: Started with the app and stopped with it (the background schedule);
            ``None`` runs no background work (``klopt serve --no-worker``, tests).
        upload_limit: The largest file a person may upload, in bytes.
    """

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        running = worker(store) if worker is not None else None
        try:
            yield
        finally:
            if running is not None and hasattr(running, "stop"):
                running.stop()

    app = FastAPI(
        title="klopt",
        summary="Does the organisation keep the promises it makes? The say-do gap, per promise.",
        version=_version(),
        openapi_url="/api/v1/openapi.json",
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.upload_limit = upload_limit
    app.add_exception_handler(KloptError, _klopt_error)
    app.add_exception_handler(SignInNeeded, _sign_in_needed)
    app.add_exception_handler(NoOrganization, _no_organization)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(StarletteHTTPException, _http_error)
    app.add_exception_handler(Exception, _unexpected)

    @app.middleware("http")
    async def security_headers(request: Request, call_next: Any) -> Response:
        response: Response = await call_next(request)
        _security_headers(response, request)
        return response

    static = resources.files("klopt").joinpath("web", "static")
    app.mount("/static", StaticFiles(directory=str(static)), name="static")
    for router in _routers():
        app.include_router(router)
    return app


def _routers() -> list[Any]:
    from klopt.web.api import check, drafts, health, mentions, scorecard
    from klopt.web.pages import (
        admin,
        auth,
        dashboard,
        inbox,
        jobs,
        register,
        report,
    )
    from klopt.web.pages import drafts as draft_pages

    return [
        health.router,
        check.router,
        scorecard.router,
        mentions.router,
        drafts.router,
        auth.router,
        dashboard.router,
        inbox.router,
        register.router,
        draft_pages.router,
        report.router,
        admin.router,
        jobs.router,
    ]


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("klopt")
    except PackageNotFoundError:
        return "0"
