"""The demo's campaign is seeded, realistic in shape, on the report's calendar (2018), and fits
the services' limits."""

from __future__ import annotations

import csv
import io
import json
from datetime import UTC, date, datetime
from pathlib import Path

import pytest

from cli.demo.campaign import CAMPAIGN_START, Clock, assessed_at, campaign_months, final_state, plan
from cli.demo.command import batches, campaign_clock, units_csv
from cli.demo.stack import notice_type
from cli.errors import CliError
from cli.instants import TZ

UNITS = list(csv.DictReader((Path(__file__).parents[3] / "data" / "jiangmen-units.csv").open()))
CLOCK = Clock.monday(CAMPAIGN_START)
NOW = datetime(2026, 11, 28, tzinfo=UTC)


def test_the_directory_is_jiangmen() -> None:
    categories = [u["category"] for u in UNITS]
    assert len(UNITS) == 67
    assert (categories.count("district"), categories.count("town")) == (7, 20)
    assert categories.count("department") == 40


def test_the_same_seed_gives_the_same_campaign() -> None:
    a, b = plan(UNITS, CLOCK, seed=7), plan(UNITS, CLOCK, seed=7)
    assert a.issues == b.issues and a.scores == b.scores
    assert plan(UNITS, CLOCK, seed=8).issues != a.issues


def test_about_3440_issues_about_90_percent_rectified_with_failed_reinspections() -> None:
    campaign = plan(UNITS, CLOCK)
    assert len(campaign.issues) == 3440
    counted = [i for i in campaign.issues if final_state(i) != "void"]
    fixed = [i for i in counted if final_state(i) in ("rectified", "verified")]
    assert 0.87 < len(fixed) / len(counted) < 0.93
    fails = sum(1 for i in campaign.issues for t in i["transitions"] if t["kind"] == "fail")
    assert fails > 50
    months = ["2018-01", "2018-02", "2018-03", "2018-04"]
    assert len(campaign.scores) == 67 * 4 and {s["month"] for s in campaign.scores} == set(months)
    assert len({i["ledger_number"] for i in campaign.issues}) == 3440


def test_the_campaign_is_on_the_reports_calendar() -> None:
    campaign = plan(UNITS, CLOCK)
    assert campaign.starts_at == datetime(2018, 1, 1, tzinfo=TZ)
    assert campaign.starts_at.isoformat() == "2018-01-01T00:00:00+08:00"
    assert len(campaign.cutoffs) == 17
    assert campaign.cutoffs[0] == datetime(2018, 1, 8, tzinfo=TZ)
    assert campaign.cutoffs[-1] == campaign.ends_at == datetime(2018, 4, 30, tzinfo=TZ)
    assert all(c.weekday() == 0 and c.hour == 0 for c in campaign.cutoffs)
    recorded = sorted({s["recorded_at"] for s in campaign.scores})
    assert recorded == [
        "2018-01-26T17:00:00+08:00",
        "2018-02-23T17:00:00+08:00",
        "2018-03-30T17:00:00+08:00",
        "2018-04-27T17:00:00+08:00",
    ]
    assert all(i["reported_at"].endswith("+08:00") for i in campaign.issues)
    assert min(i["found_at"] for i in campaign.issues) >= campaign.starts_at.isoformat()


def test_every_time_is_inside_the_campaign_and_in_order() -> None:
    campaign = plan(UNITS, CLOCK, issues=300, weeks=3)
    assert campaign.ends_at == datetime(2018, 1, 22, tzinfo=TZ)
    end = campaign.ends_at.isoformat()
    for issue in campaign.issues:
        times = [issue["reported_at"], *(t["at"] for t in issue["transitions"])]
        assert times == sorted(times) and times[-1] <= end
        assert issue["found_at"] < issue["reported_at"] < issue["deadline"]
    assert [i["reported_at"] for i in campaign.issues] == sorted(
        i["reported_at"] for i in campaign.issues
    )
    # January's assessment would come after the campaign: it is recorded just before its end.
    assert {s["month"] for s in campaign.scores} == {"2018-01"}
    assert all(s["recorded_at"] < end for s in campaign.scores)


def test_months_and_assessment_days() -> None:
    assert campaign_months(CLOCK, 17 * 7.0) == ["2018-01", "2018-02", "2018-03", "2018-04"]
    december = Clock.monday(date(2018, 12, 3))
    assert campaign_months(december, 6 * 7.0) == ["2018-12", "2019-01"]
    assert assessed_at("2018-12") == datetime(2018, 12, 28, 17, tzinfo=TZ)
    assert assessed_at("2018-06") == datetime(2018, 6, 29, 17, tzinfo=TZ)


def test_the_start_is_a_past_monday() -> None:
    assert campaign_clock("2018-01-01", 17, NOW).start == datetime(2018, 1, 1, tzinfo=TZ)
    with pytest.raises(CliError, match="2018-01-02 is a Tuesday, not a Monday"):
        campaign_clock("2018-01-02", 17, NOW)
    with pytest.raises(CliError, match="'soon' is not a date"):
        campaign_clock("soon", 17, NOW)
    with pytest.raises(CliError, match="the last cutoff 2026-12-21 has not passed yet"):
        campaign_clock("2026-11-23", 4, NOW)


def test_units_are_registered_as_of_the_start() -> None:
    rows = list(csv.DictReader(io.StringIO(units_csv(UNITS, CLOCK.start).decode())))
    assert len(rows) == 67 and rows[0]["unit_id"] == UNITS[0]["unit_id"]
    assert {r["registered_at"] for r in rows} == {"2018-01-01T00:00:00+08:00"}
    assert rows[0].keys() == {*UNITS[0].keys(), "registered_at"}


def test_backfill_bodies_stay_under_the_request_limit() -> None:
    campaign = plan(UNITS, CLOCK, issues=500)
    found = batches(campaign.issues, 60 * 1024)
    assert sum(n for _, n in found) == 500
    assert all(len(body) <= 60 * 1024 for body, _ in found)
    assert json.loads(found[0][0])["issues"][0] == campaign.issues[0]


def test_notice_types() -> None:
    assert notice_type(b'{"notice_type": "criticism"}') == "criticism"
    assert notice_type(b'{"type": "notify.rate_report", "data": {}}') == "rate_report"
    assert notice_type(b"not json") == "unknown"
