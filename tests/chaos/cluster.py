"""The 3-node JetStream cluster of ``deploy/nats/cluster/`` on loopback, as tests run it.

The node files are used as they are; only the placeholder ``store_dir`` is replaced in a copy
(nats-server refuses a second store_dir on the command line).
"""

from __future__ import annotations

import signal
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from services.runtime.embedded import nats_binary, wait_for_port

CLUSTER = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "cluster"
NODES = (1, 2, 3)


def client_url(node: int) -> str:
    return f"nats://127.0.0.1:{4300 + node}"


def monitor(node: int, path: str) -> Any:
    return httpx.get(f"http://127.0.0.1:{8300 + node}{path}", timeout=5).json()


@dataclass
class Cluster:
    root: Path
    procs: dict[int, subprocess.Popen[bytes]] = field(default_factory=dict)

    def config(self, node: int) -> Path:
        text = (CLUSTER / f"node-{node}.conf").read_text()
        placeholder = f"/var/lib/nats/node-{node}"
        assert placeholder in text, "the deploy file's store_dir placeholder moved"
        path = self.root / f"node-{node}.conf"
        path.write_text(text.replace(placeholder, str(self.root / f"store-{node}")))
        return path

    def start(self, node: int) -> None:
        log = (self.root / f"node-{node}.log").open("ab")
        self.procs[node] = subprocess.Popen(
            [nats_binary(), "-c", str(self.config(node))], stdout=log, stderr=subprocess.STDOUT
        )
        wait_for_port(4300 + node, 30)

    def start_all(self) -> None:
        for node in NODES:
            self.start(node)
        self.wait_formed()

    def wait_formed(self) -> None:
        deadline = time.monotonic() + 30
        while True:  # wait until every node knows the meta leader of a 3-node cluster
            try:
                metas = [monitor(node, "/jsz").get("meta_cluster") or {} for node in NODES]
                if all(m.get("leader") and m.get("cluster_size") == 3 for m in metas):
                    return
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError("the cluster did not form")
            time.sleep(0.2)

    def kill(self, node: int) -> None:
        """kill -9: no chance to flush anything."""
        self.procs[node].send_signal(signal.SIGKILL)
        self.procs[node].wait(10)

    def stop_all(self) -> None:
        for proc in self.procs.values():
            if proc.poll() is None:
                proc.send_signal(signal.SIGINT)
        for proc in self.procs.values():
            try:
                proc.wait(20)
            except subprocess.TimeoutExpired:
                proc.kill()
