"""``GET /healthz``: whether the app runs and its store answers (no sign-in needed)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import text
from sqlalchemy.exc import SQLAlchemyError

from klopt.web.context import store_of

router = APIRouter()


class Health(BaseModel):
    """Whether the store answers."""

    status: str
    store: str


@router.get("/healthz", response_model=Health, responses={503: {"model": Health}})
def healthz(request: Request) -> JSONResponse:
    """``ok`` when the store answers a query, ``unavailable`` (503) when it does not."""
    try:
        with store_of(request).engine.connect() as connection:
            connection.execute(text("SELECT 1"))
    except SQLAlchemyError:
        return JSONResponse({"status": "unavailable", "store": "no answer"}, status_code=503)
    return JSONResponse({"status": "ok", "store": "answers"})
