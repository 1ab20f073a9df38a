"""Three weeks of a campaign driven through the running services' HTTP APIs: units registered,
issues reported and rectified, an edition published and allocated each week."""

from __future__ import annotations

import asyncio
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any
from zoneinfo import ZoneInfo

import httpx

from tests.e2e.stack import Stack
from tests.integration.backup.support import eventually

TZ = ZoneInfo("Asia/Shanghai")
OFFICE = {"Authorization": "Bearer dev-office"}
VIEWER = {"Authorization": "Bearer dev-viewer"}
# (unit_id, category): three districts and four departments, so both lists are paid (R6.3).
UNITS = [
    ("bk-dist-a", "district"),
    ("bk-dist-b", "district"),
    ("bk-dist-c", "district"),
    ("bk-dept-1", "department"),
    ("bk-dept-2", "department"),
    ("bk-dept-3", "department"),
    ("bk-dept-4", "department"),
]
# Per round and unit: (issues reported, open issues rectified); different rates every week.
ROUNDS = [
    [(2, 2), (2, 1), (2, 0), (3, 3), (3, 2), (3, 1), (3, 0)],
    [(1, 1), (1, 0), (1, 2), (1, 0), (1, 1), (1, 3), (1, 1)],
    [(0, 0), (0, 2), (0, 1), (0, 1), (0, 1), (0, 0), (0, 3)],
]


@dataclass
class Campaign:
    """Drives the running services through their HTTP APIs, as the office and units would."""

    stack: Stack
    client: httpx.AsyncClient
    open_issues: dict[str, list[str]]
    reported: int = 0
    rectified: int = 0

    async def post(self, service: str, path: str, body: dict[str, Any], **kw: Any) -> Any:
        response = await self.client.post(f"{self.stack.url(service)}{path}", json=body, **kw)
        assert response.status_code in (200, 201), response.text
        return response.json()

    async def register_units(self) -> None:
        for unit_id, category in UNITS:
            body = {"unit_id": unit_id, "name": f"单位{unit_id[-1]}", "category": category}
            await self.post("issues", "/v1/units", body, headers=OFFICE)
            self.open_issues[unit_id] = []

    async def week(self, plan: list[tuple[int, int]]) -> dict[str, Any]:
        """Report and rectify as planned, wait for ranking's projection, publish an edition."""
        for (unit_id, _), (reports, fixes) in zip(UNITS, plan, strict=True):
            for _ in range(reports):
                issue = await self.post(
                    "issues",
                    "/v1/issues",
                    {
                        "unit_id": unit_id,
                        "category": "暴露垃圾",
                        "point_type": "community",
                        "description": "小区门口垃圾未清理",
                        "location": {"address": "江门市蓬江区"},
                        "found_at": datetime.now(UTC).isoformat(),
                        "inspector": "张三",
                        "team": "第一督查组",
                    },
                    headers=OFFICE,
                )
                self.open_issues[unit_id].append(issue["issue_id"])
                self.reported += 1
            for _ in range(fixes):
                issue_id = self.open_issues[unit_id].pop(0)
                await self.post(
                    "issues",
                    f"/v1/issues/{issue_id}/rectification",
                    {"evidence": ["https://photos.example/fixed.jpg"]},
                    headers={"Authorization": f"Bearer dev-unit-{unit_id}"},
                )
                self.rectified += 1
        cutoff = datetime.now(UTC)
        await asyncio.sleep(0.05)  # the cutoff must have passed (R4.1)

        async def projected() -> bool:
            preview = await self.post(
                "ranking", "/v1/editions/preview", {"cutoff": cutoff.isoformat()}, headers=OFFICE
            )
            rows = [r for c in preview["categories"].values() for r in c["rows"]]
            rows = [r for r in rows if r["unit_id"].startswith("bk-")]
            return (
                sum(int(r["reported"]) for r in rows) == self.reported
                and sum(int(r["rectified"]) for r in rows) == self.rectified
            )

        await eventually(projected)
        edition = await self.post(
            "ranking", "/v1/editions", {"cutoff": cutoff.isoformat()}, headers=OFFICE
        )
        year = cutoff.astimezone(TZ).year

        async def allocated() -> Any:
            url = f"{self.stack.url('incentives')}/v1/allocations/{year}/{edition['number']}"
            response = await self.client.get(url, headers=VIEWER)
            return response.json() if response.status_code == 200 else None

        await eventually(allocated)
        return {"year": year, **edition}
