"""Settings of the ranking service (``RANKING_*``, else ``NATS_URL``/``DATABASE_URL``)."""

from __future__ import annotations

from pathlib import Path

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

from .rule_book import DEFAULT_RULES_FILE

# `make install` puts Apache ECharts here (package.json, npm ci); the board serves it itself.
DEFAULT_ECHARTS_FILE = (
    Path(__file__).resolve().parents[2] / "node_modules" / "echarts" / "dist" / "echarts.min.js"
)


class RankingSettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4)."""

    model_config = SettingsConfigDict(env_prefix="RANKING_", extra="ignore", frozen=True)

    http_port: int = Field(8102, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    # R4.3-R4.8: the versioned rules file; ``rule_version`` overrides its ``current``.
    rules_file: Path = DEFAULT_RULES_FILE
    rule_version: str | None = None
    # R4.1: the weekly schedule (weekday 0 = Monday, local hour in ``timezone``).
    schedule_enabled: bool = True
    schedule_weekday: int = Field(0, ge=0, le=6)
    schedule_hour: int = Field(0, ge=0, le=23)
    schedule_grace_minutes: int = Field(120, ge=0, le=7 * 24 * 60)
    schedule_poll_seconds: float = Field(60.0, gt=0, le=3600)
    # R4.2: scores come once a month; waiting 1 s for a fetch of them to fill, not the issue
    # events' 0.02 s, spares an idle consumer 50 pull requests a second (~0.05 of a core).
    assessment_batch_wait_seconds: float = Field(1.0, gt=0, le=30)
    # The board page (GET /board): its data is public unless ``board_public`` is false, when
    # GET /v1/board needs a reader's token like the other read endpoints.
    board_public: bool = True
    board_echarts_file: Path = DEFAULT_ECHARTS_FILE
    board_overdue_cache_seconds: float = Field(30.0, ge=0, le=3600)
