"""Loading and reading the Kubernetes manifests of deploy/k8s, for tests/unit/test_deploy_k8s.py."""

from __future__ import annotations

import functools
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
K8S = ROOT / "deploy" / "k8s"
COMPOSE = ROOT / "deploy" / "compose.yaml"
BIN = Path(sys.executable).parent
KUBERNETES_VERSION = "1.33"

NAMESPACE = "chuangwen"
IMAGE_UID = 10001  # the chuangwen user of deploy/Dockerfile
BROKER_GRACEFUL_TIMEOUT_SECONDS = 30  # services/runtime/broker.py
SERVICE_PORTS = {"issues": 8101, "ranking": 8102, "notify": 8103, "incentives": 8104}
SECRET_TEMPLATE = K8S / "secrets.example.yaml"
MANIFESTS = sorted(p for p in K8S.glob("*.yaml") if p.name != "kustomization.yaml")

Doc = dict[str, Any]


# -- loading ------------------------------------------------------------------------------------
def yaml_loader() -> Any:
    yaml = pytest.importorskip("ruamel.yaml")
    return yaml.YAML(typ="safe", pure=True)


def load_documents(path: Path) -> list[Doc]:
    docs = [d for d in yaml_loader().load_all(path.read_text(encoding="utf-8")) if d is not None]
    assert all(isinstance(d, dict) for d in docs), f"{path.name}: a document is not a mapping"
    return docs


@functools.cache
def all_objects() -> tuple[tuple[Path, Doc], ...]:
    """Every object of every manifest, parsed once (tests copy before changing one)."""
    return tuple((path, doc) for path in MANIFESTS for doc in load_documents(path))


def applied_objects() -> list[Doc]:
    """What ``kubectl apply -k deploy/k8s`` creates (the secret template is not part of it)."""
    return [doc for path, doc in all_objects() if path != SECRET_TEMPLATE]


def find(kind: str, name: str) -> Doc:
    found = [d for d in applied_objects() if d["kind"] == kind and d["metadata"]["name"] == name]
    assert len(found) == 1, f"expected one {kind}/{name}, found {len(found)}"
    return found[0]


def of_kind(kind: str) -> list[Doc]:
    return [d for d in applied_objects() if d["kind"] == kind]


def workloads() -> list[Doc]:
    return [d for d in applied_objects() if d["kind"] in {"Deployment", "StatefulSet"}]


def containers(workload: Doc) -> Iterator[tuple[Doc, Doc]]:
    """(pod spec, container) for every container and init container of ``workload``."""
    pod = workload["spec"]["template"]["spec"]
    for container in [*pod.get("initContainers", []), *pod["containers"]]:
        yield pod, container


def label(doc: Doc, container: Doc | None = None) -> str:
    name = f"{doc['kind']}/{doc['metadata']['name']}"
    return f"{name} container {container['name']}" if container else name


def effective(pod: Doc, container: Doc, key: str) -> Any:
    """A security setting as the kubelet applies it: the container's, else the pod's."""
    value = container.get("securityContext", {}).get(key)
    return pod.get("securityContext", {}).get(key) if value is None else value


def env_of(container: Doc) -> dict[str, Doc]:
    return {e["name"]: e for e in container.get("env", [])}


def port_number(container: Doc, port: int | str) -> int:
    if isinstance(port, int):
        return port
    named = [p["containerPort"] for p in container.get("ports", []) if p.get("name") == port]
    assert named, f"container {container['name']} has no port named {port!r}"
    return int(named[0])


def quantity(value: int | float | str) -> float:
    """A Kubernetes resource quantity (``250m``, ``512Mi``, ``2``) as a number."""
    units = {"m": 1e-3, "k": 1e3, "M": 1e6, "G": 1e9, "Ki": 2**10, "Mi": 2**20, "Gi": 2**30}
    match = re.fullmatch(r"([0-9.]+)([A-Za-z]*)", str(value))
    assert match and match.group(2) in {"", *units}, f"unexpected quantity {value!r}"
    return float(match.group(1)) * units.get(match.group(2), 1)


def matches(selector: Doc, labels: Doc) -> bool:
    assert set(selector) == {"matchLabels"}, "only matchLabels selectors are checked here"
    return all(labels.get(k) == v for k, v in selector["matchLabels"].items())


def nats_config() -> str:
    text = find("ConfigMap", "nats-config")["data"]["nats.conf"]
    assert isinstance(text, str)
    return text


def run_tool(name: str, *args: str | Path, env: dict[str, str] | None = None) -> Any:
    binary = BIN / name
    assert binary.exists(), f"{binary} is missing: install the dev lock (make install)"
    return subprocess.run(
        [str(binary), *map(str, args)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
        env=env,
    )


OBJECTS = all_objects()
