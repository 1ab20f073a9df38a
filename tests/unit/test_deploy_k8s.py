"""The Kubernetes manifests in deploy/k8s are valid, all in one namespace, and carry no secret.

No cluster is needed: every object is checked against the Kubernetes 1.33 OpenAPI schema in
strict mode (unknown fields fail) by kubernetes-validate, from the dev lock beside the
interpreter. What the manifests say is checked by group: every container
(test_deploy_k8s_containers.py), the four services (test_deploy_k8s_services.py) and the NATS
cluster, its configuration through ``nats-server -t`` (test_deploy_k8s_nats.py).
"""

from __future__ import annotations

import copy
import re
import shutil
import subprocess

import pytest

from .k8s_manifests import (
    K8S,
    KUBERNETES_VERSION,
    MANIFESTS,
    NAMESPACE,
    OBJECTS,
    SECRET_TEMPLATE,
    Doc,
    applied_objects,
    find,
    label,
    load_documents,
    of_kind,
    run_tool,
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
