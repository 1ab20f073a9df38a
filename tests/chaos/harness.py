"""What the fault-injection tests share: servers of a test's own, service processes that can be
killed, bulk publishing, and reading what a service stored.

Every service runs as a real process (``python -m services.<name>``), so kill -9 and SIGTERM are
the real thing; servers a test kills or stops are its own, never the session's.
"""

from __future__ import annotations

import asyncio
import http.server
import json
import os
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from collections.abc import Awaitable, Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import nats
import nats.errors
import nats.js.errors
import psycopg
from nats.aio.client import Client as NATS
from nats.js.api import AckPolicy, ConsumerConfig, DeliverPolicy
from nats.js.client import JetStreamContext
from psycopg.rows import dict_row

from services.contracts.base import to_wire
from services.contracts.envelope import Event
from services.runtime import embedded
from tests.conftest import Servers, _fresh_database

ROOT = Path(__file__).resolve().parents[2]
SERVICES = ("issues", "ranking", "notify", "incentives")
OFFICE = {"Authorization": "Bearer dev-office"}


# -- servers -----------------------------------------------------------------------------------
@dataclass
class OwnNats:
    """A nats-server of the test's own (same configuration as the session's), restartable on
    the same port and store."""

    root: Path
    port: int = field(default_factory=embedded.free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"nats://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = embedded.start_nats(self.port, self.root / "nats", self.root / "nats.log")

    def kill(self) -> None:
        """kill -9: nothing flushed beyond what was fsynced (``sync_interval: always``)."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)

    def stop(self) -> None:
        if self.proc is not None:
            embedded.stop(self.proc)


@dataclass
class OwnPostgres:
    """A PostgreSQL of the test's own (the session's one is never stopped)."""

    root: Path
    port: int = field(default_factory=embedded.free_port)
    proc: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def start(self) -> None:
        self.root.mkdir(parents=True, exist_ok=True)
        self.proc = embedded.start_postgres(self.port, self.root / "pg", self.root / "pg.log")

    def stop(self) -> None:
        """Fast shutdown (SIGINT): open connections are cut, like an outage."""
        if self.proc is not None:
            embedded.stop(self.proc)


def fresh_database(servers: Servers, prefix: str) -> str:
    """A database of the test's own on the session's PostgreSQL."""
    return _fresh_database(servers, prefix)


# -- service processes -------------------------------------------------------------------------
@dataclass
class ServiceProcess:
    """One replica of a service as a real process; ``exits`` keeps the return code of each past
    life (a fault hook exits with ``FAULT_EXIT_CODE``, kill -9 gives -9)."""

    service: str
    env: dict[str, str]
    logs: Path
    name: str = ""
    port: int = field(default_factory=embedded.free_port)
    proc: subprocess.Popen[bytes] | None = None
    exits: list[int] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.name = self.name or self.service

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def log_file(self) -> Path:
        return self.logs / f"{self.name}.log"

    def start(self, wait: bool = True) -> None:
        inherited = {
            k: v
            for k, v in os.environ.items()
            if not k.endswith(("NATS_URL", "DATABASE_URL", "_FAULT_HOOKS"))
        }
        env = {
            **inherited,
            "PYTHONPATH": str(ROOT),
            "AUTH_MODE": "dev",
            **self.env,
            f"{self.service.upper()}_HTTP_PORT": str(self.port),
        }
        self.logs.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as out:
            self.proc = subprocess.Popen(
                [sys.executable, "-m", f"services.{self.service}"],
                cwd=ROOT,
                env=env,
                stdout=out,
                stderr=subprocess.STDOUT,
            )
        if wait:
            self.wait_ready()

    def alive(self) -> bool:
        return self.proc is not None and self.proc.poll() is None

    def wait_ready(self, within: float = 90) -> None:
        deadline = time.monotonic() + within
        while True:
            if not self.alive():
                self._reap()
                raise RuntimeError(f"{self.name} exited early:\n{self.tail()}")
            try:
                if httpx.get(self.url + "/readyz", timeout=2).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"{self.name} not ready in {within}s:\n{self.tail()}")
            time.sleep(0.1)

    def tail(self, chars: int = 3000) -> str:
        return self.log_file.read_text(errors="replace")[-chars:]

    def _reap(self) -> None:
        if self.proc is not None and self.proc.returncode is not None:
            self.exits.append(self.proc.returncode)
            self.proc = None

    def kill(self) -> None:
        """kill -9."""
        assert self.proc is not None
        self.proc.send_signal(signal.SIGKILL)
        self.proc.wait(10)
        self._reap()

    def wait_exit(self, within: float) -> int:
        """Wait until the process ends by itself (e.g. a fault hook); its return code."""
        assert self.proc is not None
        code = self.proc.wait(within)
        self._reap()
        return code

    def terminate(self, within: float) -> tuple[int | None, float]:
        """SIGTERM; (return code or None if it did not exit in time, seconds it took)."""
        assert self.proc is not None
        started = time.monotonic()
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(within)
        except subprocess.TimeoutExpired:
            return None, time.monotonic() - started
        took = time.monotonic() - started
        code = self.proc.returncode
        self._reap()
        return code, took

    def stop(self) -> None:
        """Teardown: whatever state it is in, it ends."""
        if self.proc is not None and self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(30)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(10)
        if self.proc is not None:
            self._reap()


def service_env(nats_url: str, database_url: str, **extra: str) -> dict[str, str]:
    """The variables of a service process on the given servers (test settings in ``extra``)."""
    return {"NATS_URL": nats_url, "DATABASE_URL": database_url, **extra}


# notify under test: retries within seconds instead of minutes.
FAST_NOTIFY = {
    "NOTIFY_BACKOFF_BASE_SECONDS": "0.5",
    "NOTIFY_BACKOFF_MAX_SECONDS": "3",
    "NOTIFY_DELIVERY_POLL_SECONDS": "0.5",
    "NOTIFY_DELIVERY_ATTEMPTS": "50",
}


async def start_together(procs: Iterable[ServiceProcess]) -> None:
    """Start every process at once, then wait until each one is ready: their migrations and
    stream provisioning race, as when a deployment starts."""
    starting = list(procs)
    for proc in starting:
        proc.start(wait=False)
    for proc in starting:
        await asyncio.to_thread(proc.wait_ready)


def stop_all(procs: Iterable[ServiceProcess]) -> None:
    for proc in procs:
        proc.stop()


# -- the bus -----------------------------------------------------------------------------------
async def connect(url: str) -> NATS:
    return await nats.connect(url, max_reconnect_attempts=-1, reconnect_time_wait=0.2)


async def publish_acked(
    js: JetStreamContext, subject: str, payload: bytes, msg_id: str, attempts: int = 600
) -> int:
    """Publish with ``Nats-Msg-Id`` until JetStream acknowledges it; the stream sequence (a
    duplicate inside the window is acknowledged with the first one's sequence)."""
    for _ in range(attempts):
        try:
            ack = await js.publish(subject, payload, timeout=2, headers={"Nats-Msg-Id": msg_id})
            return int(ack.seq)
        except (TimeoutError, nats.errors.Error, nats.js.errors.Error, OSError):
            await asyncio.sleep(0.1)
    raise AssertionError(f"{msg_id} was never acknowledged")


async def publish_events(
    js: JetStreamContext, events: Sequence[Event], concurrency: int = 64
) -> None:
    """Publish ``events`` as their producer's relay would (``Nats-Msg-Id`` = event id), a few
    in flight at a time; order within an aggregate is kept by publishing in chunks."""
    for start in range(0, len(events), concurrency):
        chunk = events[start : start + concurrency]
        await asyncio.gather(
            *(publish_acked(js, e.SUBJECT, to_wire(e), str(e.event_id)) for e in chunk)
        )


async def stream_messages(
    js: JetStreamContext, stream: str, subjects: Sequence[str]
) -> list[tuple[int, str, bytes, dict[str, str]]]:
    """Every message of ``stream`` on ``subjects``: (sequence, subject, data, headers), read
    with an ephemeral consumer so that no service's durable is touched."""
    info = await js.stream_info(stream)
    out: list[tuple[int, str, bytes, dict[str, str]]] = []
    if not info.state.messages:
        return out
    config = ConsumerConfig(
        filter_subjects=list(subjects),
        ack_policy=AckPolicy.NONE,
        deliver_policy=DeliverPolicy.ALL,
        inactive_threshold=30,
    )
    sub = await js.pull_subscribe(subjects[0], stream=stream, config=config)
    try:
        while not out or out[-1][0] < info.state.last_seq:
            try:
                batch = await sub.fetch(1000, timeout=2)
            except nats.errors.TimeoutError:
                break
            for msg in batch:
                seq = msg.metadata.sequence.stream
                out.append((seq, msg.subject, msg.data, dict(msg.headers or {})))
    finally:
        await sub.unsubscribe()
    return out


# -- the databases -----------------------------------------------------------------------------
async def query(url: str, sql: str, params: Sequence[Any] = ()) -> list[dict[str, Any]]:
    async with await psycopg.AsyncConnection.connect(url, row_factory=dict_row) as conn:
        cur = await conn.execute(sql, params)
        return list(await cur.fetchall())


async def eventually(
    check: Callable[[], Awaitable[bool]], within: float, what: str, every: float = 0.2
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"not within {within}s: {what}")
        await asyncio.sleep(every)


# -- a webhook receiver that can fail --------------------------------------------------------
@dataclass
class FlakyReceiver:
    """A real local HTTP receiver; while ``failing`` it answers 503 (an outage of the units'
    endpoint), else 204. Every attempt is recorded as (status, webhook-id, body)."""

    port: int = field(default_factory=embedded.free_port)
    failing: bool = False
    attempts: list[tuple[int, str, dict[str, Any]]] = field(default_factory=list)

    def start(self) -> None:
        receiver = self

        class Handler(http.server.BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                body = self.rfile.read(int(self.headers.get("content-length", 0)))
                status = 503 if receiver.failing else 204
                receiver.attempts.append(
                    (status, self.headers.get("webhook-id", ""), json.loads(body))
                )
                self.send_response(status)
                self.end_headers()

            def log_message(self, *args: Any) -> None:
                pass

        class Server(http.server.ThreadingHTTPServer):
            # notify sends a batch at once: the default backlog of 5 resets connections.
            request_queue_size = 256
            daemon_threads = True

        self.server = Server(("127.0.0.1", self.port), Handler)
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def stop(self) -> None:
        self.server.shutdown()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}/hooks/chuangwen"

    def delivered(self) -> list[tuple[str, dict[str, Any]]]:
        return [(wid, body) for status, wid, body in list(self.attempts) if status == 204]

    def supervision_notices(self) -> dict[str, set[str]]:
        """R5.1: the notification ids delivered per issue (``issue:<id>``); exactly one each
        is what every chaos test expects, however often a message was redelivered."""
        ids: dict[str, set[str]] = defaultdict(set)
        for _, body in self.delivered():
            if body["notice_type"] == "supervision":
                ids[body["about"]].add(body["notification_id"])
        return ids
