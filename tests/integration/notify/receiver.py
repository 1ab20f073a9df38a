"""A real HTTP receiver on 127.0.0.1 that records every request (minimal HTTP/1.1)."""

from __future__ import annotations

import asyncio
import json
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any


@dataclass(frozen=True)
class Received:
    headers: dict[str, str]
    body: bytes
    status: int
    target: str = "/"  # path and query of the request line

    @property
    def json(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads(self.body)
        return data


class Receiver:
    """Answers 500 to the first ``failures_per_message`` requests of each ``webhook-id``,
    then 200."""

    def __init__(
        self,
        failures_per_message: int = 0,
        respond: Callable[[str, dict[str, str]], tuple[int, bytes, str]] | None = None,
    ) -> None:
        self.failures_per_message = failures_per_message
        # (target, headers) -> (status, body, extra header lines), instead of 500-then-200
        self.respond = respond
        self.requests: list[Received] = []
        self._seen: Counter[str] = Counter()
        self._server: asyncio.Server | None = None

    @property
    def url(self) -> str:
        assert self._server is not None
        port = self._server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}/hooks/chuangwen"

    async def start(self) -> None:
        self._server = await asyncio.start_server(self._handle, "127.0.0.1", 0)

    async def stop(self) -> None:
        if self._server is not None:
            self._server.close()
            await self._server.wait_closed()

    def for_units(self, units: set[str]) -> list[Received]:
        return [r for r in self.requests if r.status == 200 and r.json.get("unit_id") in units]

    async def _handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            head = (await reader.readuntil(b"\r\n\r\n")).decode("latin-1")
            target = head.split(" ", 2)[1]
            lines = head.split("\r\n")[1:]
            headers = {
                k.strip().lower(): v.strip()
                for k, v in (line.split(":", 1) for line in lines if ":" in line)
            }
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            msg_id = headers.get("webhook-id", "")
            self._seen[msg_id] += 1
            status = 500 if self._seen[msg_id] <= self.failures_per_message else 200
            answer, extra = b"", ""
            if self.respond is not None:
                status, answer, extra = self.respond(target, headers)
            self.requests.append(Received(headers, body, status, target))
            writer.write(
                f"HTTP/1.1 {status} X\r\nContent-Length: {len(answer)}\r\n{extra}"
                "Connection: close\r\n\r\n".encode()
                + answer
            )
            await writer.drain()
        finally:
            writer.close()
