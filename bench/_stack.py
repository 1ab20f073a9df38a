"""The four services as child processes for a benchmark, started as ``make run`` starts them, on
a NATS server and a database of their own, with their memory watched."""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import psutil
import psycopg

from services.runtime import embedded

SERVICES = ("issues", "ranking", "notify", "incentives")
ROOT = Path(__file__).resolve().parents[1]


class Services:
    """The four services as child processes, with their memory watched."""

    def __init__(self, nats_url: str, database_url: str, logs: Path) -> None:
        self.ports = {s: embedded.free_port() for s in SERVICES}
        self.logs = logs
        self.procs: dict[str, subprocess.Popen[bytes]] = {}
        self.peak_mb = dict.fromkeys(SERVICES, 0.0)
        prefixes = tuple(f"{s.upper()}_" for s in SERVICES)
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(prefixes)}
        self.env |= {"NATS_URL": nats_url, "DATABASE_URL": database_url, "AUTH_MODE": "dev"}
        self.env |= {"LOG_LEVEL": "WARNING", "PYTHONPATH": str(ROOT)}
        self.env |= {f"{s.upper()}_HTTP_PORT": str(p) for s, p in self.ports.items()}
        self.env["RANKING_SCHEDULE_ENABLED"] = "false"

    def url(self, service: str) -> str:
        return f"http://127.0.0.1:{self.ports[service]}"

    def spawn(self, service: str) -> None:
        with (self.logs / f"{service}.log").open("ab") as log:
            self.procs[service] = subprocess.Popen(
                [sys.executable, "-m", f"services.{service}"],
                cwd=ROOT,
                env=self.env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )

    async def start(self, within: float = 120) -> None:
        for s in SERVICES:
            self.spawn(s)
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=2) as client:
            for s in SERVICES:
                while not await _ready(client, self.url(s) + "/readyz"):
                    if self.procs[s].poll() is not None or time.monotonic() > deadline:
                        raise RuntimeError(f"{s} did not start:\n{self.tail(s)}")
                    await asyncio.sleep(0.2)

    def tail(self, service: str) -> str:
        return (self.logs / f"{service}.log").read_text(errors="replace")[-2000:]

    def sample(self) -> dict[str, float]:
        """Each service's RSS now, in MB; the highest seen so far is kept."""
        now = {}
        for s, p in self.procs.items():
            with contextlib.suppress(psutil.Error):  # a service that died shows in its log
                now[s] = psutil.Process(p.pid).memory_info().rss / 2**20
                self.peak_mb[s] = max(self.peak_mb[s], now[s])
        return now

    def high_water(self) -> dict[str, float]:
        """The peak RSS of each process's whole life: the kernel's VmHWM (Linux), or samples."""
        found = dict(self.peak_mb)
        for s, p in self.procs.items():
            status = Path(f"/proc/{p.pid}/status")
            for line in status.read_text().splitlines() if status.exists() else ():
                if line.startswith("VmHWM:"):
                    found[s] = max(found[s], int(line.split()[1]) / 1024)
        return found

    def stop(self) -> None:
        for p in self.procs.values():
            if p.poll() is None:
                p.terminate()
        for p in self.procs.values():
            try:
                p.wait(30)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait(10)


async def _ready(client: httpx.AsyncClient, url: str) -> bool:
    try:
        return (await client.get(url)).status_code == 200
    except httpx.HTTPError:
        return False


async def fresh_database(database_url: str) -> str:
    """A new, empty database on the server of ``database_url``; its URL."""
    name = f"bench_pipeline_{uuid.uuid4().hex[:8]}"
    async with await psycopg.AsyncConnection.connect(database_url, autocommit=True) as conn:
        await conn.execute(f"CREATE DATABASE {name}")
    return urlunsplit(urlsplit(database_url)._replace(path=f"/{name}"))


async def sample_every(services: Services, seconds: float) -> None:
    """Sample the services' memory until cancelled."""
    while True:
        services.sample()
        await asyncio.sleep(seconds)
