"""How refusals answer over HTTP; every one of them changed nothing.

409: a transition the current state does not allow (with the state); 422: input the rules
reject, with JSON field paths; 403: the role may act, but not on this issue; 413: too large.
"""

from __future__ import annotations

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from ..access import Forbidden
from ..directory import ImportRejected
from ..domain.errors import DomainError, InvalidTransition, UnknownUnit
from ..spreadsheets import UnreadableFile

UPLOADS = ("/import", "/import/file")


def add_error_handlers(app: FastAPI, max_body: int, max_upload: int) -> None:
    @app.exception_handler(InvalidTransition)
    async def invalid_transition(_: Request, exc: InvalidTransition) -> JSONResponse:
        return JSONResponse(
            {"detail": str(exc), "current_state": exc.current_state, "attempted": exc.attempted},
            status_code=409,
        )

    @app.exception_handler(UnknownUnit)
    async def unknown_unit(_: Request, exc: UnknownUnit) -> JSONResponse:
        error = {"loc": ["body", "unit_id"], "msg": str(exc), "type": "unknown_unit"}
        return JSONResponse({"detail": [error]}, status_code=422)

    @app.exception_handler(DomainError)
    async def domain_error(_: Request, exc: DomainError) -> JSONResponse:
        error = {"loc": ["body"], "msg": str(exc), "type": type(exc).__name__}
        return JSONResponse({"detail": [error]}, status_code=422)

    @app.exception_handler(ImportRejected)
    async def import_rejected(_: Request, exc: ImportRejected) -> JSONResponse:
        return JSONResponse({"detail": str(exc), "rejected": exc.rows}, status_code=422)

    @app.exception_handler(UnreadableFile)
    async def unreadable(_: Request, exc: UnreadableFile) -> JSONResponse:
        error = {"loc": ["body", "file"], "msg": str(exc), "type": "unreadable_file"}
        return JSONResponse({"detail": [error]}, status_code=422)

    @app.exception_handler(Forbidden)
    async def forbidden(_: Request, exc: Forbidden) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=403)

    app.add_middleware(JsonBodyLimit, max_body=max_body, max_upload=max_upload)


class JsonBodyLimit:
    """Refuse a body larger than allowed before reading it (by its Content-Length): ordinary
    JSON up to ``max_body``, the upload endpoints up to ``max_upload``.

    Pure ASGI: the ``@app.middleware("http")`` form (``BaseHTTPMiddleware``) costs a task group
    and memory streams per request, a large share of an intake's CPU.
    """

    def __init__(self, app: ASGIApp, max_body: int, max_upload: int) -> None:
        self.app = app
        self.max_body = max_body
        self.max_upload = max_upload

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        limit = self.max_upload if scope["path"].endswith(UPLOADS) else self.max_body
        length = next((v for k, v in scope["headers"] if k == b"content-length"), b"0")
        if not length.isdigit() or int(length) > limit:
            detail = f"the request body is larger than {limit} bytes"
            await JSONResponse({"detail": detail}, status_code=413)(scope, receive, send)
            return
        await self.app(scope, receive, send)
