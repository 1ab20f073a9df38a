"""R6.1/R6.2: a year's fund and E are fixed by its first settlement; settings that later differ
are never silently ignored: the service warns at start and refuses to settle that year (an ERROR
with both values, a metric, retries with backoff, then a dead letter) until they agree."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from prometheus_client import REGISTRY

from services.incentives.domain.calendar import planned_editions
from services.incentives.domain.fund import FundSettings, YearOverride
from tests.conftest import Servers

from .editions import board, edition
from .support import eventually, publish, replica, settled

pytestmark = pytest.mark.integration
YEAR = 2050
CHANGED = FundSettings(years={YEAR: YearOverride(fund_fen=500_000_000)})


def _refusals() -> float:
    value = REGISTRY.get_sample_value(
        "chuangwen_incentives_fund_settings_mismatch_total", {"year": str(YEAR)}
    )
    return value or 0.0


async def test_changed_fund_settings_of_a_settled_year_warn_at_start_and_refuse_to_settle(
    server_env: Servers, js: Any, caplog: pytest.LogCaptureFixture
) -> None:
    red = board({"dist-a": "90", "dist-b": "80"}, red=("dist-a",))
    async with replica() as first:
        await publish(js, edition(YEAR, 1, district=red))
        await settled(first, YEAR, 1)
        before = (await first.http.get(f"/v1/funds/{YEAR}")).json()
    assert before["fund_fen"] == 800_000_000

    caplog.set_level(logging.WARNING, logger="services.incentives")
    refused_before = _refusals()
    async with replica(fund=CHANGED) as second:
        warnings = [
            r
            for r in caplog.records
            if r.levelno == logging.WARNING and getattr(r, "year", None) == YEAR
        ]
        assert len(warnings) == 1
        assert (warnings[0].stored_fund_fen, warnings[0].settings_fund_fen) == (  # type: ignore[attr-defined]
            800_000_000,
            500_000_000,
        )

        await publish(js, edition(YEAR, 2, district=red))

        def errors() -> list[logging.LogRecord]:
            return [
                r
                for r in caplog.records
                if r.levelno == logging.ERROR and getattr(r, "year", None) == YEAR
            ]

        async def refused() -> bool:
            return len(errors()) >= 1

        await eventually(refused)
        record = errors()[0]
        assert "settlement refused" in record.getMessage()
        assert (record.stored_fund_fen, record.settings_fund_fen) == (800_000_000, 500_000_000)  # type: ignore[attr-defined]
        assert record.stored_planned_editions == planned_editions(YEAR)  # type: ignore[attr-defined]
        assert _refusals() > refused_before
        # No money moved: edition 2 is not settled and the fund is as it was.
        assert (await second.http.get(f"/v1/allocations/{YEAR}/2")).status_code == 404
        assert (await second.http.get(f"/v1/funds/{YEAR}")).json() == before


async def test_settings_that_agree_with_the_stored_fund_warn_about_nothing(
    server_env: Servers, js: Any, caplog: pytest.LogCaptureFixture
) -> None:
    year = YEAR + 1
    caplog.set_level(logging.WARNING, logger="services.incentives")
    async with replica() as running:
        await publish(js, edition(year, 1, district=board({"dist-a": "90"}, red=("dist-a",))))
        await settled(running, year, 1)
    caplog.clear()
    async with replica():
        pass
    assert [r for r in caplog.records if getattr(r, "year", None) == year] == []
