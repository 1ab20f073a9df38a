"""The issues service's rule settings (R2.2, R2.4, R2.5): a versioned TOML file, validated at
start. An invalid file stops the service with the offending field's path."""

from __future__ import annotations

import tomllib
from datetime import timedelta
from fractions import Fraction
from pathlib import Path
from typing import Annotated

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

DEFAULT_RULES_FILE = Path(__file__).parent / "rules.toml"
Hours = Annotated[int, Field(ge=0, le=24 * 365)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class OverdueRules(_Strict):
    """R2.4: how the scheduler polls."""

    poll_seconds: float = Field(5.0, gt=0, le=3600)
    batch: int = Field(200, ge=1, le=10_000)


class ReinspectionRules(_Strict):
    """R2.5: the daily draw's share and seed."""

    share: Annotated[str, StringConstraints(pattern=r"^\d{1,6}/\d{1,6}$")] = "3/10"
    seed: Annotated[str, StringConstraints(min_length=1, max_length=200)]

    @field_validator("share")
    @classmethod
    def _a_fraction_of_one(cls, share: str) -> str:
        num, den = (int(x) for x in share.split("/"))
        if den == 0 or num > den:
            raise ValueError("the share is a fraction between 0 and 1 (R2.5)")
        return share

    @property
    def fraction(self) -> Fraction:
        return Fraction(self.share)


class IssuesRules(_Strict):
    """The whole file; ``version`` names the rule version in force."""

    version: Annotated[str, StringConstraints(min_length=1, max_length=50)]
    default_time_limit_hours: Hours = 72
    time_limits_hours: dict[Annotated[str, StringConstraints(min_length=1)], Hours] = {}
    overdue: OverdueRules = OverdueRules()
    reinspection: ReinspectionRules

    @property
    def default_time_limit(self) -> timedelta:
        return timedelta(hours=self.default_time_limit_hours)

    @property
    def time_limits(self) -> dict[str, timedelta]:
        return {k: timedelta(hours=v) for k, v in self.time_limits_hours.items()}


class InvalidRules(ValueError):
    """The rules file cannot be used; the message names the file and the field."""


def load_rules(path: Path) -> IssuesRules:
    """Read and validate ``path``; raise `InvalidRules` naming the first bad fields."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRules(f"{path}: {exc}") from exc
    try:
        return IssuesRules.model_validate(data)
    except ValidationError as exc:
        fields = "; ".join(
            f"{'.'.join(str(p) for p in e['loc'])}: {e['msg']}" for e in exc.errors()[:10]
        )
        raise InvalidRules(f"{path}: {fields}") from None
