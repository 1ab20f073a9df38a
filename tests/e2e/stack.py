"""The whole system as separate processes on the session's real NATS and PostgreSQL."""

from __future__ import annotations

import http.server
import json
import os
import subprocess
import sys
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.runtime.embedded import free_port

SERVICES = ("issues", "ranking", "notify", "incentives")
ROOT = Path(__file__).resolve().parents[2]
WEBHOOK_SECRET = "whsec_" + "c2VjcmV0LWZvci1lMmUtdGVzdHMtb25seQ=="


@dataclass
class Receiver:
    """A real local HTTP receiver that records every POST (the units' webhook endpoint)."""

    port: int = field(default_factory=free_port)
    received: list[dict[str, Any]] = field(default_factory=list)
    # Seconds to take over each request (a slow receiver keeps a delivery batch in flight).
    delay: float = 0.0

    def start(self) -> None:
        received = self.received
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", 0))
                body = self.rfile.read(length)
                time.sleep(receiver.delay)
                received.append({"headers": dict(self.headers), "body": body})
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = http.server.ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chuangwen"

    def bodies(self) -> list[dict[str, Any]]:
        return [json.loads(item["body"]) for item in list(self.received)]


@dataclass
class Stack:
    nats_url: str
    database_url: str
    logs: Path
    receiver: Receiver
    # Per-service NATS URLs (with each service's user) for a secured server; else NATS_URL.
    nats_urls: dict[str, str] = field(default_factory=dict)
    ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in SERVICES})
    procs: dict[str, subprocess.Popen[bytes]] = field(default_factory=dict)

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def start(self) -> None:
        self.logs.mkdir(parents=True, exist_ok=True)
        for service in SERVICES:
            self.spawn(service)
        self.wait_healthy(90)

    def spawn(self, service: str) -> None:
        """Start (or restart) one service's process, appending to its log."""
        env = {
            **os.environ,
            "NATS_URL": self.nats_url,
            "DATABASE_URL": self.database_url,
            "PYTHONPATH": str(ROOT),
            "NOTIFY_WEBHOOK_URL": self.receiver.url,
            "NOTIFY_WEBHOOK_SECRET": WEBHOOK_SECRET,
            "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",
            "AUTH_MODE": "dev",
        }
        for name in SERVICES:
            env[f"{name.upper()}_HTTP_PORT"] = str(self.ports[name])
            if name in self.nats_urls:
                env[f"{name.upper()}_NATS_URL"] = self.nats_urls[name]
        with (self.logs / f"{service}.log").open("ab") as log:
            self.procs[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                cwd=ROOT,
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    def kill(self, service: str) -> None:
        """kill -9: no shutdown, no chance to commit or ack anything."""
        self.procs[service].kill()
        self.procs[service].wait(10)

    def wait_healthy(self, within: float) -> None:
        deadline = time.monotonic() + within
        for service in SERVICES:
            while True:
                if self.procs[service].poll() is not None:
                    log = (self.logs / f"{service}.log").read_text()[-3000:]
                    raise RuntimeError(f"{service} exited early:\n{log}")
                try:
                    if httpx.get(self.url(service) + "/readyz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                if time.monotonic() > deadline:
                    raise TimeoutError(f"{service} not ready in {within}s")
                time.sleep(0.2)

    def stop(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.terminate()
        for proc in self.procs.values():
            try:
                proc.wait(30)
            except subprocess.TimeoutExpired:
                proc.kill()
