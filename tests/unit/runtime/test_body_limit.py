"""Request bodies are limited as they stream in, and 422s never echo the input back."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest
from fastapi import FastAPI, Request
from pydantic import BaseModel

from services.runtime.body_limit import BodySizeLimit
from services.runtime.http import add_operational_routes


class Item(BaseModel):
    name: str
    count: int


def app(limit: int) -> FastAPI:
    api = FastAPI()

    @api.post("/raw")
    async def raw(request: Request) -> dict[str, int]:
        return {"bytes": len(await request.body())}

    @api.post("/items")
    async def items(item: Item) -> dict[str, str]:
        return {"name": item.name}

    async def ready() -> dict[str, bool]:
        return {"ok": True}

    add_operational_routes(api, ready)
    api.add_middleware(BodySizeLimit, max_bytes=limit)
    return api


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app(1024))
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as c:
        yield c


async def test_a_declared_length_over_the_limit_is_refused_before_reading(
    client: httpx.AsyncClient,
) -> None:
    response = await client.post("/raw", content=b"x" * 2000)
    assert response.status_code == 413
    assert "1024 bytes" in response.json()["detail"]


async def test_a_chunked_body_without_a_length_is_cut_off_at_the_limit(
    client: httpx.AsyncClient,
) -> None:
    async def chunks() -> AsyncIterator[bytes]:
        for _ in range(100):
            yield b"y" * 100

    response = await client.post("/raw", content=chunks())
    assert response.status_code == 413


async def test_a_body_within_the_limit_passes(client: httpx.AsyncClient) -> None:
    assert (await client.post("/raw", content=b"z" * 1000)).json() == {"bytes": 1000}


async def test_a_422_names_the_fields_without_echoing_the_input(
    client: httpx.AsyncClient,
) -> None:
    secret = "s3cret-value-sent-by-mistake"
    response = await client.post("/items", json={"name": secret, "count": "many"})
    assert response.status_code == 422
    assert response.json()["detail"][0]["loc"] == ["body", "count"]
    assert secret not in response.text
