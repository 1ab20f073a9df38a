"""The incentives service: the fund, the pools and the allocations ledger (R6)."""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator
from pathlib import Path

from fastapi import FastAPI

from services.contracts.incentives import Allocated
from services.contracts.streams import INCENTIVES, RANKING
from services.runtime.service import ServiceRuntime

from .api import router
from .consumers import subscribe
from .settings import IncentivesSettings
from .use_cases import IncentivesService


def build(settings: IncentivesSettings | None = None) -> tuple[FastAPI, ServiceRuntime]:
    """Wire the incentives service: its runtime, publisher, subscriber and HTTP app; the app's
    lifespan is the runtime's, then the check of the fund settings against the stored funds."""
    settings = settings or IncentivesSettings()
    # RANKING is provisioned too (idempotent) so the consumer can start before ranking does.
    runtime = ServiceRuntime(
        "incentives", settings, Path(__file__).parent / "migrations", (INCENTIVES, RANKING)
    )
    runtime.bus.publisher(Allocated)
    service = IncentivesService(runtime=runtime, fund_settings=settings.fund)
    subscribe(runtime, service)
    app = runtime.http_app("Chuangwen incentives", [router(service)])
    runtime_lifespan = app.router.lifespan_context

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with runtime_lifespan(app):
            # R6.1/R6.2: say at start which years' settings differ from their stored fund.
            await service.check_fund_settings()
            yield

    app.router.lifespan_context = lifespan
    return app, runtime
