from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from services.ranking.domain.instants import edition_year, month_of
from services.ranking.domain.schedule import latest_scheduled_cutoff, scheduled_cutoffs

SHANGHAI = ZoneInfo("Asia/Shanghai")


def test_2018_has_53_monday_cutoffs() -> None:
    # R4.1 / R6.2: weekly Monday 00:00 cutoffs; 2018 starts on a Monday and has 53 of them.
    cutoffs = scheduled_cutoffs(2018, SHANGHAI)
    assert len(cutoffs) == 53
    assert cutoffs[0] == datetime(2018, 1, 1, tzinfo=SHANGHAI)
    assert cutoffs[-1] == datetime(2018, 12, 31, tzinfo=SHANGHAI)
    assert all(c.weekday() == 0 and c.hour == 0 for c in cutoffs)
    assert len(scheduled_cutoffs(2019, SHANGHAI)) == 52


def test_schedule_can_move_to_another_weekday_and_hour() -> None:
    # R4.1: the schedule is configurable.
    cutoffs = scheduled_cutoffs(2018, SHANGHAI, weekday=4, hour=18)
    assert cutoffs[0] == datetime(2018, 1, 5, 18, tzinfo=SHANGHAI)


def test_edition_belongs_to_the_shanghai_year_of_its_cutoff() -> None:
    # R4.1: Monday 2018-01-01 00:00 in Shanghai is still 2017 in UTC.
    cutoff = datetime(2017, 12, 31, 16, tzinfo=UTC)
    assert edition_year(cutoff, SHANGHAI) == 2018
    assert month_of(cutoff, SHANGHAI) == (2018, 1)


def test_latest_scheduled_cutoff_waits_for_the_grace_delay() -> None:
    # R4.1: scheduled publication waits the grace delay (default 2 h) after the cutoff.
    grace = timedelta(hours=2)
    monday = datetime(2018, 6, 4, tzinfo=SHANGHAI)
    assert latest_scheduled_cutoff(monday + timedelta(hours=1), grace, SHANGHAI) == monday - (
        timedelta(weeks=1)
    )
    assert latest_scheduled_cutoff(monday + grace, grace, SHANGHAI) == monday
    assert latest_scheduled_cutoff(monday + timedelta(days=6), grace, SHANGHAI) == monday


def test_latest_scheduled_cutoff_respects_a_later_hour_on_the_same_day() -> None:
    now = datetime(2018, 6, 8, 10, tzinfo=SHANGHAI)  # Friday 10:00, slot is Friday 18:00
    expected = datetime(2018, 6, 1, 18, tzinfo=SHANGHAI)
    assert latest_scheduled_cutoff(now, timedelta(0), SHANGHAI, weekday=4, hour=18) == expected


def test_naive_instants_are_refused() -> None:
    with pytest.raises(ValueError, match="timezone-aware"):
        edition_year(datetime(2018, 1, 1), SHANGHAI)
