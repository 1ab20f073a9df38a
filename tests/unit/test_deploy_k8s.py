"""The Kubernetes manifests in deploy/k8s are valid and say what the services need.

No cluster is needed: every object is checked against the Kubernetes 1.33 OpenAPI schema in
strict mode (unknown fields fail) by kubernetes-validate, and the NATS cluster configuration in
the ConfigMap through ``nats-server -t``. Both come from the dev lock, beside the interpreter.
"""

from __future__ import annotations

import copy
import functools
import os
import re
import shutil
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


# -- schema -------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    "doc", [d for _, d in OBJECTS], ids=[f"{p.name}:{label(d)}" for p, d in OBJECTS]
)
def test_every_manifest_is_valid_kubernetes_1_33_with_no_unknown_fields(doc: Doc) -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    try:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)
    except kubernetes_validate.ValidationError as exc:
        path = ".".join(map(str, exc.absolute_path))
        pytest.fail(f"{label(doc)}: {path}: {exc.message}")


def test_strict_validation_rejects_a_misspelt_field() -> None:
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    deployment = copy.deepcopy(find("Deployment", "issues"))
    deployment["spec"]["template"]["spec"]["containers"][0]["securityContext"]["readOnlyRoot"] = (
        True
    )
    with pytest.raises(kubernetes_validate.ValidationError):
        kubernetes_validate.validate(deployment, KUBERNETES_VERSION, strict=True)


def test_manifest_files_pass_the_kubernetes_validate_command() -> None:
    result = run_tool(
        "kubernetes-validate", "--strict", "--quiet", "-k", f"{KUBERNETES_VERSION}.0", *MANIFESTS
    )
    assert result.returncode == 0, result.stdout + result.stderr


def test_kustomization_applies_every_manifest_but_the_secret_template() -> None:
    kustomization = yaml_loader().load((K8S / "kustomization.yaml").read_text(encoding="utf-8"))
    assert kustomization["kind"] == "Kustomization"
    assert kustomization["namespace"] == NAMESPACE
    expected = {p.name for p in MANIFESTS} - {SECRET_TEMPLATE.name}
    assert set(kustomization["resources"]) == expected
    assert [i["name"] for i in kustomization.get("images", [])] == ["chuangwen"]


def test_kustomization_builds_into_the_same_valid_objects() -> None:
    kubectl = shutil.which("kubectl")
    if kubectl is None:
        pytest.skip("kubectl is not installed (its built-in kustomize builds deploy/k8s)")
    kubernetes_validate = pytest.importorskip("kubernetes_validate")
    result = subprocess.run(
        [kubectl, "kustomize", str(K8S)], capture_output=True, text=True, timeout=120, check=False
    )
    assert result.returncode == 0, result.stderr
    built = [d for d in yaml_loader().load_all(result.stdout) if d is not None]
    expected = {(d["kind"], d["metadata"]["name"]) for d in applied_objects()}
    assert {(d["kind"], d["metadata"]["name"]) for d in built} == expected
    for doc in built:
        kubernetes_validate.validate(doc, KUBERNETES_VERSION, strict=True)


def test_every_object_lives_in_the_chuangwen_namespace() -> None:
    for _, doc in OBJECTS:
        if doc["kind"] == "Namespace":
            assert doc["metadata"]["name"] == NAMESPACE
        else:
            assert doc["metadata"].get("namespace") == NAMESPACE, label(doc)


def test_namespace_enforces_the_restricted_pod_security_standard() -> None:
    labels = find("Namespace", NAMESPACE)["metadata"]["labels"]
    assert labels["pod-security.kubernetes.io/enforce"] == "restricted"


# -- every container ----------------------------------------------------------------------------
def test_every_container_runs_as_a_non_root_user() -> None:
    for workload in workloads():
        for pod, container in containers(workload):
            assert effective(pod, container, "runAsNonRoot") is True, label(workload, container)
            uid = effective(pod, container, "runAsUser")
            assert isinstance(uid, int), f"{label(workload, container)}: set a numeric runAsUser"
            assert uid != 0, label(workload, container)


def test_every_container_has_a_read_only_root_filesystem() -> None:
    for workload in workloads():
        for _, container in containers(workload):
            security = container.get("securityContext", {})
            assert security.get("readOnlyRootFilesystem") is True, label(workload, container)


def test_every_container_drops_all_capabilities_and_cannot_escalate() -> None:
    for workload in workloads():
        for _, container in containers(workload):
            security = container.get("securityContext", {})
            assert security.get("allowPrivilegeEscalation") is False, label(workload, container)
            capabilities = security.get("capabilities", {})
            assert capabilities.get("drop") == ["ALL"], label(workload, container)
            assert not capabilities.get("add"), label(workload, container)


def test_every_container_uses_the_runtime_default_seccomp_profile() -> None:
    for workload in workloads():
        for pod, container in containers(workload):
            profile = effective(pod, container, "seccompProfile") or {}
            assert profile.get("type") == "RuntimeDefault", label(workload, container)


def test_every_container_has_cpu_and_memory_requests_within_limits() -> None:
    for workload in workloads():
        for _, container in containers(workload):
            resources = container.get("resources", {})
            for resource in ("cpu", "memory"):
                request = resources.get("requests", {}).get(resource)
                limit = resources.get("limits", {}).get(resource)
                where = f"{label(workload, container)} {resource}"
                assert request is not None and limit is not None, f"{where}: request and limit"
                assert quantity(request) <= quantity(limit), where


def test_every_container_has_liveness_and_readiness_probes() -> None:
    for workload in workloads():
        # Init containers run to completion and take no probes; every long-running one does.
        for container in workload["spec"]["template"]["spec"]["containers"]:
            assert "livenessProbe" in container, label(workload, container)
            assert "readinessProbe" in container, label(workload, container)


def test_no_pod_mounts_a_service_account_token_it_does_not_use() -> None:
    for workload in workloads():
        pod = workload["spec"]["template"]["spec"]
        assert pod.get("automountServiceAccountToken") is False, label(workload)


# -- the four services --------------------------------------------------------------------------
@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_runs_its_own_module_from_the_one_image(service: str) -> None:
    (container,) = find("Deployment", service)["spec"]["template"]["spec"]["containers"]
    # The image's ENTRYPOINT is ["python", "-m"]: args (not command) pick the module.
    assert "command" not in container
    assert container["args"] == [f"services.{service}"]
    assert container["image"].split(":")[0] == "chuangwen"


@pytest.mark.parametrize(("service", "port"), SERVICE_PORTS.items())
def test_each_service_probes_healthz_and_readyz_on_its_own_port(service: str, port: int) -> None:
    (container,) = find("Deployment", service)["spec"]["template"]["spec"]["containers"]
    liveness = container["livenessProbe"]["httpGet"]
    readiness = container["readinessProbe"]["httpGet"]
    assert liveness["path"] == "/healthz"
    assert readiness["path"] == "/readyz"
    assert port_number(container, liveness["port"]) == port
    assert port_number(container, readiness["port"]) == port
    if "startupProbe" in container:
        startup = container["startupProbe"]["httpGet"]
        assert (startup["path"], port_number(container, startup["port"])) == ("/healthz", port)


@pytest.mark.parametrize(("service", "port"), SERVICE_PORTS.items())
def test_each_service_listens_on_all_interfaces_on_its_port(service: str, port: int) -> None:
    (container,) = find("Deployment", service)["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    prefix = service.upper()
    assert env[f"{prefix}_HTTP_HOST"]["value"] == "0.0.0.0"
    assert env[f"{prefix}_HTTP_PORT"]["value"] == str(port)
    assert [p["containerPort"] for p in container["ports"]] == [port]


@pytest.mark.parametrize(("service", "port"), SERVICE_PORTS.items())
def test_each_service_is_reachable_through_a_service_on_its_port(service: str, port: int) -> None:
    deployment = find("Deployment", service)
    (container,) = deployment["spec"]["template"]["spec"]["containers"]
    svc = find("Service", service)
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert matches({"matchLabels": svc["spec"]["selector"]}, pod_labels)
    (svc_port,) = svc["spec"]["ports"]
    assert svc_port["port"] == port
    assert port_number(container, svc_port["targetPort"]) == port


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_replicates_its_streams_on_the_three_nats_nodes(service: str) -> None:
    (container,) = find("Deployment", service)["spec"]["template"]["spec"]["containers"]
    env = env_of(container)
    assert env[f"{service.upper()}_STREAM_REPLICAS"]["value"] == "3"
    assert find("StatefulSet", "nats")["spec"]["replicas"] == 3
    client = find("Service", "nats")
    client_port = next(p["port"] for p in client["spec"]["ports"] if p["name"] == "client")
    assert env["NATS_URL"]["value"] == f"nats://nats:{client_port}"


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_reads_the_database_url_from_a_secret(service: str) -> None:
    (container,) = find("Deployment", service)["spec"]["template"]["spec"]["containers"]
    database_url = env_of(container)["DATABASE_URL"]
    assert "value" not in database_url, "DATABASE_URL must not be written into the manifest"
    ref = database_url["valueFrom"]["secretKeyRef"]
    assert (ref["name"], ref["key"]) == ("chuangwen-database", "DATABASE_URL")


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_authenticates_with_a_tokens_file_mounted_from_a_secret(
    service: str,
) -> None:
    pod = find("Deployment", service)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    env = env_of(container)
    assert env["AUTH_MODE"]["value"] == "production"
    tokens_file = Path(env["AUTH_TOKENS_FILE"]["value"])
    mounts = [m for m in container["volumeMounts"] if tokens_file.parent == Path(m["mountPath"])]
    assert len(mounts) == 1, f"no volume is mounted at {tokens_file.parent}"
    assert mounts[0].get("readOnly") is True
    volume = next(v for v in pod["volumes"] if v["name"] == mounts[0]["name"])
    secret = volume["secret"]
    assert secret["secretName"] == "chuangwen-auth-tokens"
    keys = {item["path"]: item["key"] for item in secret.get("items", [])}
    assert keys.get(tokens_file.name) == "tokens.toml"
    # Secret files belong to root and the pod's fsGroup: the service's group must read them.
    assert pod["securityContext"]["fsGroup"] == IMAGE_UID
    assert secret["defaultMode"] & 0o040, "the group cannot read the tokens file"
    assert not secret["defaultMode"] & 0o007, "others can read the tokens file"


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_runs_as_the_images_user_and_writes_only_to_an_empty_dir_tmp(
    service: str,
) -> None:
    pod = find("Deployment", service)["spec"]["template"]["spec"]
    (container,) = pod["containers"]
    assert effective(pod, container, "runAsUser") == IMAGE_UID
    tmp = [m for m in container["volumeMounts"] if m["mountPath"] == "/tmp"]
    assert len(tmp) == 1
    volume = next(v for v in pod["volumes"] if v["name"] == tmp[0]["name"])
    assert "emptyDir" in volume
    writable = [m for m in container["volumeMounts"] if not m.get("readOnly")]
    assert writable == tmp


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_outlasts_the_brokers_graceful_shutdown(service: str) -> None:
    pod = find("Deployment", service)["spec"]["template"]["spec"]
    grace = pod["terminationGracePeriodSeconds"]
    assert grace >= 40
    (container,) = pod["containers"]
    pre_stop = container.get("lifecycle", {}).get("preStop", {}).get("sleep", {})
    assert grace >= pre_stop.get("seconds", 0) + BROKER_GRACEFUL_TIMEOUT_SECONDS + 10


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_runs_two_replicas_and_a_drain_keeps_one(service: str) -> None:
    deployment = find("Deployment", service)
    replicas = deployment["spec"]["replicas"]
    assert replicas == 2
    pod_labels = deployment["spec"]["template"]["metadata"]["labels"]
    assert matches(deployment["spec"]["selector"], pod_labels)
    pdbs = [p for p in of_kind("PodDisruptionBudget") if matches(p["spec"]["selector"], pod_labels)]
    assert len(pdbs) == 1, f"{service}: expected one PodDisruptionBudget"
    budget = pdbs[0]["spec"]
    if "minAvailable" in budget:
        kept = budget["minAvailable"]
    else:
        kept = replicas - budget["maxUnavailable"]
    assert isinstance(kept, int)
    assert 1 <= kept < replicas, f"{service}: a drain must keep one and may evict one"


@pytest.mark.parametrize("service", SERVICE_PORTS)
def test_each_service_rolls_out_without_losing_capacity(service: str) -> None:
    strategy = find("Deployment", service)["spec"]["strategy"]
    assert strategy["type"] == "RollingUpdate"
    assert strategy["rollingUpdate"]["maxUnavailable"] == 0


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


# -- secrets ------------------------------------------------------------------------------------
def test_secret_template_holds_only_placeholders() -> None:
    secrets = load_documents(SECRET_TEMPLATE)
    assert {s["metadata"]["name"] for s in secrets} == {
        "chuangwen-database",
        "chuangwen-auth-tokens",
    }
    assert "TEMPLATE" in SECRET_TEMPLATE.read_text(encoding="utf-8")
    for secret in secrets:
        assert secret["kind"] == "Secret"
        assert "data" not in secret, "base64 data could hide a real value"
        for key, value in secret["stringData"].items():
            assert "REPLACE-ME" in value, f"{secret['metadata']['name']}.{key} is no placeholder"
            assert not re.search(r"\b[0-9a-f]{64}\b", value), "a real token hash"


def test_no_applied_manifest_carries_a_secret() -> None:
    assert not of_kind("Secret")
    for doc in of_kind("ConfigMap"):
        text = "\n".join(map(str, doc.get("data", {}).values())).lower()
        assert not re.search(r"password\s*[:=]|postgresql://\S+:\S+@", text), label(doc)
