"""R4.1 / R6.2: the campaign calendar and the default number of planned editions E."""

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from services.incentives.domain.calendar import campaign_year, planned_editions


@pytest.mark.parametrize(
    ("year", "expected"),
    [
        (2018, 53),  # R6.2: 2018 starts on a Monday
        (2019, 52),
        (2023, 52),  # starts on a Sunday, not a leap year
        (2012, 53),  # leap year starting on a Sunday: Mondays on 2 Jan and 31 Dec
        (2024, 53),  # leap year starting on a Monday
        (2029, 53),
    ],
)
def test_planned_editions_count_the_monday_cutoffs_of_the_year(year: int, expected: int) -> None:
    assert planned_editions(year) == expected


def test_planned_editions_follow_a_configured_weekday() -> None:
    # 2018 starts on a Monday and has 365 days, so only Mondays occur 53 times.
    assert [planned_editions(2018, weekday=d) for d in range(7)] == [53, 52, 52, 52, 52, 52, 52]


def test_planned_editions_reject_an_impossible_weekday() -> None:
    with pytest.raises(ValueError, match="weekday"):
        planned_editions(2018, weekday=7)


def test_planned_editions_count_cutoffs_skipped_by_a_midnight_dst_gap() -> None:
    # Santiago springs forward at 00:00 on a Sunday; Sunday cutoffs still happen (at 01:00).
    assert planned_editions(2023, ZoneInfo("America/Santiago"), weekday=6) == 53


def test_edition_belongs_to_the_shanghai_year_of_its_cutoff() -> None:
    # R4.1: 31 Dec 16:00 UTC is already 1 Jan 00:00 in Shanghai.
    assert campaign_year(datetime(2018, 12, 31, 16, 0, tzinfo=UTC)) == 2019
    assert campaign_year(datetime(2018, 12, 31, 15, 59, tzinfo=UTC)) == 2018


def test_campaign_year_needs_an_aware_cutoff() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        campaign_year(datetime(2018, 1, 1))
