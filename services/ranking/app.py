"""The ranking service: rates, assessment scores and editions of the red/black lists (R3, R4)."""

from __future__ import annotations

from pathlib import Path
from zoneinfo import ZoneInfo

from fastapi import FastAPI

from services.contracts.assessments import AssessmentScored
from services.contracts.ranking import EditionPublished, RatesPublished
from services.contracts.streams import ASSESSMENTS, ISSUES, RANKING
from services.runtime.service import ServiceRuntime

from .api import router
from .consumers import subscribe_all
from .domain.rules import RankingRules
from .editions import EditionsService
from .settings import RankingSettings


def build(settings: RankingSettings | None = None) -> tuple[FastAPI, ServiceRuntime]:
    """Wire the ranking service: projection consumers, edition publishers and HTTP API."""
    settings = settings or RankingSettings()
    # ranking provisions ASSESSMENTS (other systems publish there) and its own RANKING stream;
    # ISSUES is declared too so that ranking can start before the issues service.
    runtime = ServiceRuntime(
        "ranking", settings, Path(__file__).parent / "migrations", (ISSUES, ASSESSMENTS, RANKING)
    )
    runtime.bus.publisher(AssessmentScored)
    runtime.bus.publisher(EditionPublished)
    runtime.bus.publisher(RatesPublished)
    subscribe_all(runtime)
    editions = EditionsService(
        runtime=runtime,
        rules=RankingRules(version=settings.rule_version),
        tz=ZoneInfo(settings.timezone),
    )
    return runtime.http_app("Chuangwen ranking", [router(editions)]), runtime
