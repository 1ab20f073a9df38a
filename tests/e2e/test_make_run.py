"""``make run``: the whole system comes up, and Ctrl-C stops all of it (no orphan process),
keeping the data in the data folder."""

from __future__ import annotations

import os
import signal
import subprocess
import time
from pathlib import Path

import httpx
import psutil
import pytest

from services.runtime.embedded import free_port

from .stack import ROOT, SERVICES

pytestmark = pytest.mark.e2e


def session_members(sid: int) -> list[psutil.Process]:
    members = []
    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getsid(proc.pid) == sid:
                members.append(proc)
        except (ProcessLookupError, PermissionError):
            continue
    return members


def test_make_run_serves_every_service_and_ctrl_c_stops_everything(tmp_path: Path) -> None:
    ports = {service: free_port() for service in SERVICES}
    env = {k: v for k, v in os.environ.items() if k not in ("NATS_URL", "DATABASE_URL")}
    env |= {f"{s.upper()}_HTTP_PORT": str(p) for s, p in ports.items()}
    data = tmp_path / "data"
    log = (tmp_path / "make-run.log").open("w+b")
    make = subprocess.Popen(
        ["make", "run", f"NATS_PORT={free_port()}", f"PG_PORT={free_port()}", f"DATA_DIR={data}"],
        cwd=ROOT,
        env=env,
        stdout=log,
        stderr=subprocess.STDOUT,
        start_new_session=True,  # its own session and process group, like a terminal's job
    )
    try:
        deadline = time.monotonic() + 120
        for service, port in ports.items():
            while True:
                assert make.poll() is None, "make run exited early"
                try:
                    if httpx.get(f"http://127.0.0.1:{port}/healthz", timeout=2).status_code == 200:
                        break
                except httpx.HTTPError:
                    pass
                assert time.monotonic() < deadline, f"{service} did not answer /healthz"
                time.sleep(0.3)
        assert len(session_members(make.pid)) >= 7  # make, honcho, 2 servers, 4 services...

        os.killpg(make.pid, signal.SIGINT)  # what Ctrl-C sends to the foreground job
        make.wait(90)
        time.sleep(1)
        assert session_members(make.pid) == [], "processes outlived make run"
    finally:
        if make.poll() is None:
            os.killpg(make.pid, signal.SIGKILL)
        log.seek(0)
        output = log.read().decode(errors="replace")
    for service in SERVICES:
        assert f"{service} listens on http://127.0.0.1:{ports[service]}" in output
    assert "NATS JetStream listens on" in output
    assert "PostgreSQL listens on" in output
    assert (data / "postgres" / "PG_VERSION").exists()
    assert (data / "nats" / "jetstream").is_dir()
