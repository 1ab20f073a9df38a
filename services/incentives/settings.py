"""Settings of the incentives service (``INCENTIVES_*``, falling back to ``NATS_URL``/
``DATABASE_URL``)."""

from __future__ import annotations

from pydantic import Field
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

from .domain.fund import FundSettings


class IncentivesSettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4).

    ``fund`` holds the R6.1/R6.2 rules: 800,000,000 fen a year by default, per-year overrides
    of the fund and of E, e.g. ``INCENTIVES_FUND='{"years": {"2031": {"fund_fen": 1000}}}'`` or
    ``INCENTIVES_FUND__DEFAULT_FUND_FEN=900000000``.
    """

    model_config = SettingsConfigDict(
        env_prefix="INCENTIVES_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    http_port: int = Field(8104, ge=1, le=65535)
    fund: FundSettings = FundSettings()
