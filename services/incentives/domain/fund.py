"""Incentive fund settings (创文绩效激励资金, R6.1, R6.2): validated and frozen.

A year's fund and E are taken from the settings once, when its first edition is settled, and
stored with its ledger (``funds``); every later pool of that year is computed from the stored
row. Settings that later disagree with it are never silently ignored nor silently applied:
settling that year is refused (``FundSettingsMismatch``) until they agree again; see
``use_cases.IncentivesService._settle``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Annotated
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, StrictInt, field_validator

from services.incentives.domain.calendar import planned_editions

DEFAULT_FUND_FEN = 800_000_000  # R6.1: 8,000,000 yuan per campaign year
MAX_FEN = 10**15  # the contracts' bound on an amount (services.contracts.base.Fen)
CampaignYear = Annotated[int, Field(ge=2000, le=2200)]  # as in the contracts (R4.1)
UNIT_CATEGORIES = frozenset({"department", "district", "town"})  # R1.1
DEFAULT_ELIGIBLE_CATEGORIES = frozenset({"district", "department"})  # R6.1: towns not paid


class YearOverride(BaseModel):
    """Per-year overrides of the fund (R6.1) and of the planned editions E (R6.2)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    fund_fen: StrictInt | None = Field(default=None, ge=0, le=MAX_FEN)
    planned_editions: StrictInt | None = Field(default=None, ge=1)


class FundSettings(BaseModel):
    """The fund rules of R6.1/R6.2 with their defaults; ``years`` overrides a single year."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    default_fund_fen: StrictInt = Field(default=DEFAULT_FUND_FEN, ge=0, le=MAX_FEN)
    eligible_categories: frozenset[str] = DEFAULT_ELIGIBLE_CATEGORIES
    years: Mapping[CampaignYear, YearOverride] = Field(default_factory=dict)
    # The weekly schedule E is counted from (R4.1 default: Monday 00:00 Asia/Shanghai).
    timezone: str = "Asia/Shanghai"
    cutoff_weekday: StrictInt = Field(default=0, ge=0, le=6)

    @field_validator("eligible_categories")
    @classmethod
    def _known_categories(cls, value: frozenset[str]) -> frozenset[str]:
        unknown = value - UNIT_CATEGORIES
        if unknown:
            raise ValueError(f"unknown unit categories {sorted(unknown)} (R1.1)")
        return value

    @field_validator("timezone")
    @classmethod
    def _known_timezone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown time zone {value!r}") from exc
        return value

    def fund_for(self, year: int) -> int:
        """R6.1: the fund of ``year`` in fen (override, else the default)."""
        override = self.years.get(year)
        if override is not None and override.fund_fen is not None:
            return override.fund_fen
        return self.default_fund_fen

    def planned_editions_for(self, year: int) -> int:
        """R6.2: E of ``year`` (override, else the scheduled cutoffs of the year)."""
        override = self.years.get(year)
        if override is not None and override.planned_editions is not None:
            return override.planned_editions
        return planned_editions(year, ZoneInfo(self.timezone), self.cutoff_weekday)


@dataclass(frozen=True)
class FundMismatch:
    """A year whose stored fund row (what its ledger was settled against) and the settings
    disagree on the fund (R6.1) or on E (R6.2)."""

    year: int
    stored_fund_fen: int
    settings_fund_fen: int
    stored_planned_editions: int
    settings_planned_editions: int

    def describe(self) -> str:
        return (
            f"fund settings of {self.year} differ from the year's stored fund: fund "
            f"{self.stored_fund_fen} fen stored, {self.settings_fund_fen} in the settings; "
            f"planned editions {self.stored_planned_editions} stored, "
            f"{self.settings_planned_editions} in the settings"
        )


def fund_mismatch(
    settings: FundSettings, year: int, stored_fund_fen: int, stored_planned_editions: int
) -> FundMismatch | None:
    """How ``settings`` differ from the stored fund row of ``year``; None when they agree."""
    fund, planned = settings.fund_for(year), settings.planned_editions_for(year)
    if (fund, planned) == (stored_fund_fen, stored_planned_editions):
        return None
    return FundMismatch(year, stored_fund_fen, fund, stored_planned_editions, planned)
