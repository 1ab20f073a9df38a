"""Settings of the ranking service (``RANKING_*``, else ``NATS_URL``/``DATABASE_URL``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class RankingSettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4)."""

    model_config = SettingsConfigDict(env_prefix="RANKING_", extra="ignore", frozen=True)

    http_port: int = Field(8102, ge=1, le=65535)
    timezone: str = "Asia/Shanghai"
    rule_version: str = "v1"
