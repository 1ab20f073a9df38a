"""Settings of the incentives service (``INCENTIVES_*``, falling back to ``NATS_URL``/
``DATABASE_URL``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from pydantic import Field, model_validator
from pydantic_settings import SettingsConfigDict

from services.runtime.settings import ServiceSettings

from .domain.fund import FundSettings
from .fund_file import load_fund_file


class IncentivesSettings(ServiceSettings):
    """One settings class for the service (STYLE.md 4).

    ``fund`` holds the R6.1/R6.2 rules: 800,000,000 fen a year by default, per-year overrides
    of the fund and of E. In production they come from the TOML file named by
    ``INCENTIVES_FUND_FILE`` (see ``fund.example.toml``); an inconsistent file stops the service
    at start, naming the field. Without a file the defaults apply (tests may pass ``fund``).
    """

    model_config = SettingsConfigDict(
        env_prefix="INCENTIVES_", env_nested_delimiter="__", extra="ignore", frozen=True
    )

    http_port: int = Field(8104, ge=1, le=65535)
    fund_file: Path | None = None
    fund: FundSettings = FundSettings()

    @model_validator(mode="before")
    @classmethod
    def _read_fund_file(cls, data: Any) -> Any:
        if not isinstance(data, dict) or not data.get("fund_file"):
            return data
        if data.get("fund") is not None:
            # Two sources of the same money rules would leave the reader guessing which won.
            raise ValueError("set the fund either in INCENTIVES_FUND_FILE or inline, not both")
        return {**data, "fund": load_fund_file(Path(data["fund_file"]))}
