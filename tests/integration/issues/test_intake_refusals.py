"""A refused report writes nothing and gives its number back (R2.1 gap-free), whichever of
the intake's statements it is refused after."""

from __future__ import annotations

import httpx
import psycopg
import pytest

from tests.conftest import Servers

from .conftest import intake, unique

pytestmark = pytest.mark.integration


def _seq(number: str) -> int:
    return int(number.rsplit("-", 1)[1])


async def test_a_refused_report_writes_nothing_and_gives_its_number_back(
    issues_api: httpx.AsyncClient, servers: Servers
) -> None:
    unit = unique("refused")
    created = await issues_api.post(
        "/v1/units", json={"unit_id": unit, "name": "测试单位", "category": "district"}
    )
    assert created.status_code == 201, created.text
    first = await issues_api.post("/v1/issues", json=intake(unit))
    unknown = await issues_api.post("/v1/issues", json=intake(unique("nowhere")))
    # R2.2: refused by the domain, after the unit was read and the number drawn.
    early = await issues_api.post(
        "/v1/issues", json=intake(unit, deadline="2018-05-01T09:00:00+08:00")
    )
    second = await issues_api.post("/v1/issues", json=intake(unit))

    assert (first.status_code, second.status_code) == (201, 201)
    assert unknown.status_code == 422
    assert unknown.json()["detail"][0]["loc"] == ["body", "unit_id"]
    assert early.status_code == 422
    assert _seq(second.json()["number"]) == _seq(first.json()["number"]) + 1
    with psycopg.connect(servers.database_url) as conn:
        row = conn.execute(
            "SELECT count(*) FROM issues.issues WHERE unit_id = %s", (unit,)
        ).fetchone()
    assert row == (2,)
