"""The notify service: notices on issues, editions and allocations, the escalation ladder,
talks, recipients and deliveries over webhooks and robots (R5)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from services.contracts import notify as wire
from services.contracts.streams import INCENTIVES, ISSUES, NOTIFY, RANKING
from services.runtime.service import ServiceRuntime

from .api import router, subscribe
from .office import Office
from .settings import NotifySettings
from .use_cases import NotifyService
from .worker import DeliveryWorker

PUBLISHES = (wire.Delivered, wire.Failed)


def build(settings: NotifySettings | None = None) -> tuple[FastAPI, ServiceRuntime]:
    """Wire the notify service: its runtime, publishers, subscriber, worker and HTTP app.

    The runtime has no hook for extra background tasks, so the app's lifespan is the runtime's
    with the delivery worker nested inside it: started after the runtime (it needs the pool),
    stopped before it (its last outcomes still reach the outbox).
    """
    settings = settings or NotifySettings()
    # The streams we read too: our durables need them even if their owners start after us.
    streams = (NOTIFY, RANKING, ISSUES, INCENTIVES)
    runtime = ServiceRuntime("notify", settings, Path(__file__).parent / "migrations", streams)
    for model in PUBLISHES:
        runtime.bus.publisher(model)
    service = NotifyService(
        runtime=runtime,
        max_attempts=settings.delivery_attempts,
        default_webhook=settings.webhook_url is not None,
    )
    worker = DeliveryWorker(service, settings)
    service.on_planned = worker.poke  # what a commit planned is sent at once, not at the poll
    subscribe(runtime, service, settings)
    app = runtime.http_app("Chuangwen notify", [router(runtime, Office(service))])
    runtime_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            worker.start()
            try:
                yield
            finally:
                await worker.stop()

    app.router.lifespan_context = lifespan
    return app, runtime
