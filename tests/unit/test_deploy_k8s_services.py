"""The four services' Deployments and Services in deploy/k8s: their module of the one image,
ports and probes, the NATS cluster and the secrets they use, and how they stop, drain and roll
out."""

from __future__ import annotations

from pathlib import Path

import pytest

from .k8s_manifests import (
    BROKER_GRACEFUL_TIMEOUT_SECONDS,
    IMAGE_UID,
    SERVICE_PORTS,
    effective,
    env_of,
    find,
    matches,
    of_kind,
    port_number,
)


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
