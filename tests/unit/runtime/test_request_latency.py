"""Request latency is observed per method, matched route template and status."""

from __future__ import annotations

import httpx
from fastapi import FastAPI
from prometheus_client import REGISTRY

from services.runtime.http import add_operational_routes


def _count(method: str, route: str, status: str) -> float:
    labels = {"method": method, "route": route, "status": status}
    value = REGISTRY.get_sample_value("chuangwen_http_request_seconds_count", labels)
    return value or 0.0


async def test_latency_is_labelled_by_route_template_and_status() -> None:
    api = FastAPI()

    @api.post("/v1/things/{thing_id}", status_code=201)
    async def thing(thing_id: str) -> dict[str, str]:
        return {"thing_id": thing_id}

    async def ready() -> dict[str, bool]:
        return {"ok": True}

    add_operational_routes(api, ready)
    before = _count("POST", "/v1/things/{thing_id}", "201"), _count("GET", "unmatched", "404")
    transport = httpx.ASGITransport(app=api)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as client:
        assert (await client.post("/v1/things/a")).status_code == 201
        assert (await client.get("/nowhere")).status_code == 404
    after = _count("POST", "/v1/things/{thing_id}", "201"), _count("GET", "unmatched", "404")
    assert after[0] > before[0]
    assert after[1] > before[1]
