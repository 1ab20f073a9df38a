"""R6.1 / R6.2: fund settings, their defaults, per-year overrides and validation."""

import pytest
from pydantic import ValidationError

from services.incentives.domain.fund import FundMismatch, FundSettings, YearOverride, fund_mismatch


def test_defaults_are_eight_million_yuan_for_districts_and_departments() -> None:
    settings = FundSettings()
    assert settings.fund_for(2018) == 800_000_000
    assert settings.eligible_categories == frozenset({"district", "department"})
    assert settings.planned_editions_for(2018) == 53
    assert settings.planned_editions_for(2019) == 52


def test_a_year_can_override_fund_and_planned_editions() -> None:
    settings = FundSettings.model_validate_json(
        '{"years": {"2019": {"fund_fen": 500000000, "planned_editions": 40}}}'
    )
    assert settings.fund_for(2019) == 500_000_000
    assert settings.planned_editions_for(2019) == 40
    assert settings.fund_for(2020) == 800_000_000


def test_an_override_of_only_e_keeps_the_default_fund() -> None:
    settings = FundSettings(years={2018: YearOverride(planned_editions=10)})
    assert settings.fund_for(2018) == 800_000_000
    assert settings.planned_editions_for(2018) == 10


@pytest.mark.parametrize(
    ("raw", "field"),
    [
        ({"default_fund_fen": -1}, "default_fund_fen"),
        ({"years": {2019: {"fund_fen": -1}}}, "years.2019.fund_fen"),
        ({"years": {2019: {"planned_editions": 0}}}, "years.2019.planned_editions"),
        ({"default_fund_fen": 1.5}, "default_fund_fen"),
        ({"eligible_categories": ["province"]}, "eligible_categories"),
        ({"timezone": "Mars/Olympus"}, "timezone"),
        ({"cutoff_weekday": 7}, "cutoff_weekday"),
        ({"fund": 1}, "fund"),
    ],
)
def test_invalid_settings_are_rejected_naming_the_field(raw: object, field: str) -> None:
    with pytest.raises(ValidationError) as info:
        FundSettings.model_validate(raw)
    assert field in str(info.value)


def test_settings_are_frozen() -> None:
    settings = FundSettings()
    with pytest.raises(ValidationError):
        settings.default_fund_fen = 1  # type: ignore[misc]


def test_settings_that_differ_from_a_stored_fund_say_how_and_agreeing_ones_say_nothing() -> None:
    settings = FundSettings(years={2019: YearOverride(fund_fen=500_000_000)})
    assert fund_mismatch(settings, 2018, 800_000_000, 53) is None
    changed = fund_mismatch(settings, 2019, 800_000_000, 52)
    assert changed == FundMismatch(2019, 800_000_000, 500_000_000, 52, 52)
    assert "800000000" in changed.describe() and "500000000" in changed.describe()
    fewer = fund_mismatch(
        FundSettings(years={2018: YearOverride(planned_editions=10)}), 2018, 800_000_000, 53
    )
    assert fewer is not None and (
        fewer.stored_planned_editions,
        fewer.settings_planned_editions,
    ) == (53, 10)
