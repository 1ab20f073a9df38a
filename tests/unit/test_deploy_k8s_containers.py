"""Every container of the Kubernetes manifests in deploy/k8s: restricted pod security (non-root,
read-only root filesystem, no capabilities, RuntimeDefault seccomp), requests within limits,
probes, and no service account token it does not use."""

from __future__ import annotations

from .k8s_manifests import containers, effective, label, quantity, workloads


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
