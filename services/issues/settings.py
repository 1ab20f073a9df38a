"""Settings of the issues service (``ISSUES_*``, falling back to ``NATS_URL``/``DATABASE_URL``)."""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings


class IssuesSettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4)."""

    model_config = SettingsConfigDict(env_prefix="ISSUES_", extra="ignore", frozen=True)

    http_port: int = Field(8101, ge=1, le=65535)
    number_prefix: str = Field("JM", pattern=r"^[A-Z]{1,10}$")
    # R2.2: per-category rectification time limits; anything else gets the default.
    default_time_limit: timedelta = timedelta(days=3)
    category_time_limits: dict[str, timedelta] = {}
