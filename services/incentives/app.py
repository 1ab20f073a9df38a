"""The incentives service: the fund, the pools and the allocations ledger (R6)."""

from __future__ import annotations

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
    """Wire the incentives service: its runtime, publisher, subscriber and HTTP app."""
    settings = settings or IncentivesSettings()
    # RANKING is provisioned too (idempotent) so the consumer can start before ranking does.
    runtime = ServiceRuntime(
        "incentives", settings, Path(__file__).parent / "migrations", (INCENTIVES, RANKING)
    )
    runtime.bus.publisher(Allocated)
    service = IncentivesService(runtime=runtime, fund_settings=settings.fund)
    subscribe(runtime, service)
    app = runtime.http_app("Chuangwen incentives", [router(service)])
    return app, runtime
