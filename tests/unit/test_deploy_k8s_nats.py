"""The NATS StatefulSet of deploy/k8s: three JetStream nodes with the project's limits."""

from __future__ import annotations

import os
import re
from pathlib import Path

from .k8s_manifests import (
    COMPOSE,
    env_of,
    find,
    matches,
    nats_config,
    of_kind,
    port_number,
    quantity,
    run_tool,
    yaml_loader,
)


# -- NATS ---------------------------------------------------------------------------------------
def test_nats_runs_three_replicas_of_the_compose_image() -> None:
    compose = yaml_loader().load(COMPOSE.read_text(encoding="utf-8"))
    statefulset = find("StatefulSet", "nats")
    assert statefulset["spec"]["replicas"] == 3
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    assert container["image"] == compose["services"]["nats"]["image"] == "nats:2.15.1-alpine"


def test_nats_pods_start_together_so_that_the_cluster_can_form() -> None:
    assert find("StatefulSet", "nats")["spec"]["podManagementPolicy"] == "Parallel"


def test_nats_pods_have_stable_names_in_a_headless_service_that_lists_unready_pods() -> None:
    statefulset = find("StatefulSet", "nats")
    headless = find("Service", statefulset["spec"]["serviceName"])
    assert headless["spec"]["clusterIP"] == "None"
    assert headless["spec"]["publishNotReadyAddresses"] is True
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert matches({"matchLabels": headless["spec"]["selector"]}, pod_labels)
    assert {p["port"] for p in headless["spec"]["ports"]} >= {4222, 6222}


def test_nats_client_service_reaches_the_client_port() -> None:
    statefulset = find("StatefulSet", "nats")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    client = find("Service", "nats")
    assert client["spec"].get("clusterIP") != "None"
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    assert matches({"matchLabels": client["spec"]["selector"]}, pod_labels)
    ports = {p["port"]: port_number(container, p["targetPort"]) for p in client["spec"]["ports"]}
    assert ports[4222] == 4222


def test_nats_reads_its_configuration_from_the_config_map() -> None:
    pod = find("StatefulSet", "nats")["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    config_path = Path(container["args"][container["args"].index("--config") + 1])
    mount = next(m for m in container["volumeMounts"] if Path(m["mountPath"]) == config_path.parent)
    volume = next(v for v in pod["volumes"] if v["name"] == mount["name"])
    assert volume["configMap"]["name"] == "nats-config"
    assert config_path.name in find("ConfigMap", "nats-config")["data"]


def test_nats_config_fsyncs_every_write_and_allows_8mb_payloads() -> None:
    config = nats_config()
    assert re.search(r"^\s*sync_interval:\s*always\s*$", config, re.MULTILINE)
    assert re.search(r"^\s*max_payload:\s*8MB\s*$", config, re.MULTILINE)


def test_nats_config_routes_to_the_three_pods_by_their_stable_dns_names() -> None:
    statefulset = find("StatefulSet", "nats")
    name, headless = statefulset["metadata"]["name"], statefulset["spec"]["serviceName"]
    block = re.search(r"routes:\s*\[(.*?)\]", nats_config(), re.DOTALL)
    assert block, "the cluster block has no routes"
    routes = block.group(1).split()
    assert routes == [
        f"nats-route://{name}-{i}.{headless}:6222" for i in range(statefulset["spec"]["replicas"])
    ]
    assert len(routes) == 3


def test_nats_config_names_each_server_after_its_pod() -> None:
    assert re.search(r"^server_name:\s*\$SERVER_NAME\s*$", nats_config(), re.MULTILINE)
    (container,) = find("StatefulSet", "nats")["spec"]["template"]["spec"]["containers"]
    server_name = env_of(container)["SERVER_NAME"]
    assert server_name["valueFrom"]["fieldRef"]["fieldPath"] == "metadata.name"


def test_nats_config_passes_the_nats_server_check(tmp_path: Path) -> None:
    config = tmp_path / "nats.conf"
    config.write_text(nats_config(), encoding="utf-8")
    env = {**os.environ, "SERVER_NAME": "nats-0"}
    result = run_tool("nats-server", "-t", "-c", config, env=env)
    assert result.returncode == 0, result.stdout + result.stderr


def test_nats_stores_jetstream_on_a_persistent_volume_claim() -> None:
    statefulset = find("StatefulSet", "nats")
    (container,) = statefulset["spec"]["template"]["spec"]["containers"]
    store = re.search(r"^\s*store_dir:\s*(\S+)\s*$", nats_config(), re.MULTILINE)
    assert store, "jetstream has no store_dir"
    store_dir = Path(store.group(1))
    claims = {t["metadata"]["name"]: t for t in statefulset["spec"]["volumeClaimTemplates"]}
    mounts = [
        m
        for m in container["volumeMounts"]
        if m["name"] in claims and store_dir.is_relative_to(m["mountPath"])
    ]
    assert len(mounts) == 1, f"store_dir {store_dir} is not on a volume claim"
    claim = claims[mounts[0]["name"]]["spec"]
    assert claim["accessModes"] == ["ReadWriteOnce"]
    assert quantity(claim["resources"]["requests"]["storage"]) > 0


def test_nats_probes_healthz_on_the_monitor_port() -> None:
    (container,) = find("StatefulSet", "nats")["spec"]["template"]["spec"]["containers"]
    monitor = re.search(r"^http:\s*\S*:(\d+)\s*$", nats_config(), re.MULTILINE)
    assert monitor, "the NATS monitor (http) is not enabled"
    for probe in ("livenessProbe", "readinessProbe", "startupProbe"):
        get = container[probe]["httpGet"]
        assert get["path"].split("?")[0] == "/healthz", probe
        assert port_number(container, get["port"]) == int(monitor.group(1)), probe


def test_nats_drain_keeps_two_of_three_nodes() -> None:
    statefulset = find("StatefulSet", "nats")
    pod_labels = statefulset["spec"]["template"]["metadata"]["labels"]
    pdbs = [p for p in of_kind("PodDisruptionBudget") if matches(p["spec"]["selector"], pod_labels)]
    assert len(pdbs) == 1
    assert pdbs[0]["spec"]["minAvailable"] == 2
