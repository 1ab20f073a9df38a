"""HTTP plumbing shared by the services: health, readiness, metrics, latency, error shape."""

from __future__ import annotations

import time
from collections.abc import Awaitable, Callable

from fastapi import FastAPI, Request, Response
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from prometheus_client import CONTENT_TYPE_LATEST, generate_latest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from . import metrics

ReadyCheck = Callable[[], Awaitable[dict[str, bool]]]


class DomainConflict(Exception):
    """A request that is well formed but not allowed now (HTTP 409)."""

    def __init__(self, message: str, **details: object) -> None:
        super().__init__(message)
        self.details = details


class NotFound(Exception):
    """The addressed resource does not exist (HTTP 404)."""


class RequestLatency:
    """Observes each request's latency, to the start of its response, per method, route and
    status (``HTTP_LATENCY``).

    Pure ASGI: the ``@app.middleware("http")`` form (``BaseHTTPMiddleware``) runs every request
    through a task group and memory streams, a large share of a small request's CPU.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()

        async def observed_send(message: Message) -> None:
            if message["type"] == "http.response.start":
                # The router has put the matched route in this same scope by now.
                path = getattr(scope.get("route"), "path", "unmatched")
                status = str(message["status"])
                elapsed = time.perf_counter() - started
                metrics.HTTP_LATENCY.labels(scope["method"], path, status).observe(elapsed)
            await send(message)

        await self.app(scope, receive, observed_send)


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

    app.add_middleware(RequestLatency)

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
