"""How refusals answer over HTTP; every one of them changed nothing.

409: a transition the current state does not allow (with the state); 422: input the rules
reject, with JSON field paths; 403: the role may act, but not on this issue; 413: too large.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.responses import JSONResponse

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

    @app.middleware("http")
    async def limit_body(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        """Refuse a body larger than allowed before reading it (by its Content-Length)."""
        limit = max_upload if request.url.path.endswith(UPLOADS) else max_body
        length = request.headers.get("content-length", "0")
        if not length.isdigit() or int(length) > limit:
            detail = f"the request body is larger than {limit} bytes"
            return JSONResponse({"detail": detail}, status_code=413)
        return await call_next(request)
