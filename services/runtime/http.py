"""HTTP plumbing shared by the services: health, readiness, metrics, latency, error shape."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest

from . import metrics

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


class DomainConflict(Exception):
    """A request that is well formed but not allowed now (HTTP 409)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class NotFound(Exception):
    """The addressed resource does not exist (HTTP 404)."""


def add_operational_routes(app: FastAPI, ready: ReadyCheck) -> None:
    """``/healthz`` (the process answers), ``/readyz`` (its dependencies answer) and
    ``/metrics`` (Prometheus), plus request latency and the 404/409 error shapes."""

    @app.get("/healthz", include_in_schema=False)
    async def healthz() -> dict[str, str]:
        return {"status": "ok"}

    @app.get("/readyz", include_in_schema=False)
    async def readyz() -> Response:
        checks = await ready()
        status = 200 if all(checks.values()) else 503
        return JSONResponse({"ready": status == 200, "checks": checks}, status_code=status)

    @app.get("/metrics", include_in_schema=False)
    async def prometheus() -> Response:
        return Response(generate_latest(), media_type=CONTENT_TYPE_LATEST)

    @app.middleware("http")
    async def measure(
        request: Request, call_next: Callable[[Request], Awaitable[Response]]
    ) -> Response:
        started = time.perf_counter()
        response = await call_next(request)
        route = request.scope.get("route")
        path = getattr(route, "path", "unmatched")
        metrics.HTTP_LATENCY.labels(request.method, path, str(response.status_code)).observe(
            time.perf_counter() - started
        )
        return response

    @app.exception_handler(DomainConflict)
    async def conflict(_: Request, exc: DomainConflict) -> JSONResponse:
        return JSONResponse({"detail": str(exc), **exc.details}, status_code=409)

    @app.exception_handler(RequestValidationError)
    async def invalid(_: Request, exc: RequestValidationError) -> JSONResponse:
        # Field paths and messages only: echoing the input back would return a caller's
        # (possibly megabytes of) data, and secrets it sent, in the error.
        errors = [
            {"loc": list(e.get("loc", ())), "msg": e.get("msg", ""), "type": e.get("type", "")}
            for e in exc.errors()[:100]
        ]
        return JSONResponse({"detail": errors}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(_: Request, exc: NotFound) -> JSONResponse:
        return JSONResponse({"detail": str(exc)}, status_code=404)
