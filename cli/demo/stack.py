"""The demo's own stack: ``make run`` on free ports with a data folder of its own, started in
a process group of its own and stopped as a group; and a webhook receiver counting notices."""

from __future__ import annotations

import base64
import http.server
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from cli.config import SERVICES
from cli.errors import CliError

ROOT = Path(__file__).resolve().parents[2]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Receiver:
    """Stands in for the office's webhook endpoint: counts every notice by type."""

    port: int = field(default_factory=free_port)
    counts: Counter[str] = field(default_factory=Counter)

    def start(self) -> None:
        counts = self.counts

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                counts[notice_type(body)] += 1
                self.send_response(204)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        self.server = _Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()
        self.server.server_close()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chuangwen"


class _Server(http.server.ThreadingHTTPServer):
    request_queue_size = 256  # notify delivers many notices at once
    daemon_threads = True


def notice_type(body: bytes) -> str:
    """The notice type of a webhook body, wherever the envelope keeps it."""
    try:
        data = json.loads(body)
    except ValueError:
        return "unknown"
    for candidate in (data, data.get("data") if isinstance(data, dict) else None):
        if isinstance(candidate, dict) and candidate.get("notice_type"):
            return str(candidate["notice_type"])
    if isinstance(data, dict) and isinstance(data.get("type"), str):
        return str(data["type"]).rsplit(".", 1)[-1]
    return "unknown"


@dataclass
class DemoStack:
    """``make run`` with its own NATS, PostgreSQL, data folder and HTTP ports."""

    data_dir: Path
    webhook_url: str
    ports: dict[str, int] = field(default_factory=lambda: {s: free_port() for s in SERVICES})
    nats_port: int = field(default_factory=free_port)
    pg_port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def urls(self) -> dict[str, str]:
        return {s: f"http://127.0.0.1:{p}" for s, p in self.ports.items()}

    @property
    def nats_url(self) -> str:
        return f"nats://127.0.0.1:{self.nats_port}"

    @property
    def log(self) -> Path:
        return self.data_dir / "run.log"

    def start(self) -> None:
        make = shutil.which("make")
        if make is None:
            raise CliError("the demo starts its stack with `make run`: make is not installed")
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith(("NATS_URL", "DATABASE_URL")) and not k.startswith("MAKE")
        }
        env |= {f"{s.upper()}_HTTP_PORT": str(p) for s, p in self.ports.items()}
        secret = base64.b64encode(secrets.token_bytes(24)).decode()
        env |= {
            "RANKING_SCHEDULE_ENABLED": "false",  # the demo publishes its editions itself
            "NOTIFY_WEBHOOK_URL": self.webhook_url,
            "NOTIFY_WEBHOOK_SECRET": f"whsec_{secret}",
            "NOTIFY_ALLOW_PRIVATE_TARGETS": "true",
        }
        self.data_dir.mkdir(parents=True, exist_ok=True)
        argv = [make, "--no-print-directory", "-C", str(ROOT), "run"]
        argv += [f"NATS_PORT={self.nats_port}", f"PG_PORT={self.pg_port}"]
        argv += [f"DATA_DIR={self.data_dir}"]
        with self.log.open("ab") as log:
            self.proc = subprocess.Popen(  # noqa: S603 - fixed argv: make run of this repo
                argv, stdout=log, stderr=subprocess.STDOUT, env=env, start_new_session=True
            )

    def wait_ready(self, within: float, tick: Any = None) -> None:
        deadline = time.monotonic() + within
        for service, url in self.urls.items():
            while not _ready(url):
                if self.proc is not None and self.proc.poll() is not None:
                    tail = self.log.read_text(errors="replace")[-2000:]
                    raise CliError(f"`make run` stopped early (log {self.log}):\n{tail}")
                if time.monotonic() > deadline:
                    raise CliError(f"{service} not ready within {within:.0f}s (log {self.log})")
                time.sleep(0.3)
            if tick is not None:
                tick()

    def stop(self) -> None:
        """SIGTERM to the process group we started (make, honcho, servers, services)."""
        proc = self.proc
        if proc is None or proc.poll() is not None:
            return
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(30)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait(10)


def _ready(url: str) -> bool:
    try:
        return httpx.get(url + "/readyz", timeout=2).status_code == 200
    except httpx.HTTPError:
        return False
