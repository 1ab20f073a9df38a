"""The Kubernetes manifests in deploy/k8s are valid and say what the services need.

No cluster is needed: every object is checked against the Kubernetes 1.33 OpenAPI schema in
strict mode (unknown fields fail) by kubernetes-validate, and the NATS cluster configuration in
the ConfigMap through ``nats-server -t``. Both come from the dev lock, beside the interpreter.
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from .k8s_manifests import (
    BROKER_GRACEFUL_TIMEOUT_SECONDS,
    IMAGE_UID,
    K8S,
    KUBERNETES_VERSION,
    MANIFESTS,
    NAMESPACE,
    OBJECTS,
    SECRET_TEMPLATE,
    SERVICE_PORTS,
    Doc,
    applied_objects,
    containers,
    effective,
    env_of,
    find,
    label,
    load_documents,
    matches,
    of_kind,
    port_number,
    quantity,
    run_tool,
    workloads,
    yaml_loader,
)


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
