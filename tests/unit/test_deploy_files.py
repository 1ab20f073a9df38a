"""The container deployment files lint clean and say what the services need.

No Docker engine is needed: the Dockerfile goes through hadolint, the compose file through the
compose-spec JSON Schema (check-jsonschema's vendored copy), every NATS configuration through
``nats-server -t``. The binaries come from the dev lock, beside the interpreter.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
DEPLOY = ROOT / "deploy"
DOCKERFILE = DEPLOY / "Dockerfile"
COMPOSE = DEPLOY / "compose.yaml"
NATS_DIR = DEPLOY / "nats"
BIN = Path(sys.executable).parent

SERVICE_PORTS = {"issues": 8101, "ranking": 8102, "notify": 8103, "incentives": 8104}
# permissions.conf is not a server configuration of its own: secured.conf includes it.
NATS_CONFIGS = sorted(p for p in NATS_DIR.rglob("*.conf") if p.name != "permissions.conf")
# The passwords the secured configuration reads from the server's environment.
NATS_PASSWORDS = {
    f"{user}_NATS_PASSWORD": "test-only"
    for user in ("ISSUES", "RANKING", "NOTIFY", "INCENTIVES", "READER", "ASSESSOR", "REPORTER")
}
CLUSTER_CONFIGS = sorted((NATS_DIR / "cluster").glob("node-*.conf"))


def run_tool(
    name: str, *args: str | Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    binary = BIN / name
    assert binary.exists(), f"{binary} is missing: install the dev lock (make install)"
    return subprocess.run(
        [str(binary), *map(str, args)],
        env={**os.environ, **(env or {})},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def load_compose() -> dict[str, Any]:
    yaml = pytest.importorskip("ruamel.yaml")  # installed with check-jsonschema
    data = yaml.YAML(typ="safe", pure=True).load(COMPOSE.read_text(encoding="utf-8"))
    assert isinstance(data, dict)
    return data


def with_defaults(value: str) -> str:
    """``value`` as compose interpolates it when no ``${VAR:-default}`` variable is set."""
    return re.sub(r"\$\{[A-Za-z_][A-Za-z0-9_]*:-([^}]*)\}", r"\1", value)


def final_stage(dockerfile: str) -> list[str]:
    """The instructions of the last stage, continuation lines joined, comments dropped."""
    joined = dockerfile.replace("\\\n", " ")
    lines = [ln.strip() for ln in joined.splitlines()]
    instructions = [ln for ln in lines if ln and not ln.startswith("#")]
    starts = [i for i, ln in enumerate(instructions) if ln.upper().startswith("FROM ")]
    assert starts, "no FROM instruction"
    return instructions[starts[-1] :]


# -- Dockerfile ---------------------------------------------------------------------------------
def test_dockerfile_passes_hadolint() -> None:
    result = run_tool("hadolint", DOCKERFILE)
    assert result.returncode == 0, result.stdout + result.stderr


def test_dockerfile_final_stage_runs_as_a_fixed_non_root_user() -> None:
    stage = final_stage(DOCKERFILE.read_text(encoding="utf-8"))
    users = [ln.split(None, 1)[1].strip() for ln in stage if ln.upper().startswith("USER ")]
    assert users, "the final stage has no USER instruction"
    user = users[-1].split(":")[0]
    assert user.isdigit(), f"USER {users[-1]!r}: use a fixed numeric UID"
    assert int(user) != 0


def test_dockerfile_chooses_the_service_by_command() -> None:
    stage = final_stage(DOCKERFILE.read_text(encoding="utf-8"))
    assert 'ENTRYPOINT ["python", "-m"]' in stage
    assert any(ln.startswith('CMD ["services.') for ln in stage)


def test_dockerfile_installs_from_the_hashed_lock() -> None:
    text = DOCKERFILE.read_text(encoding="utf-8")
    assert "--require-hashes" in text
    assert "requirements/runtime.lock" in text


def test_dockerignore_keeps_local_state_out_of_the_build_context() -> None:
    lines = (ROOT / ".dockerignore").read_text(encoding="utf-8").splitlines()
    rules = [ln.strip() for ln in lines if ln.strip() and not ln.startswith("#")]
    # Either everything is excluded and the needed paths allowed back, or each is listed.
    if "*" not in rules:
        for path in (".venv", ".data", ".git", "tests"):
            assert path in rules, path
    allowed_back = [rule[1:] for rule in rules if rule.startswith("!")]
    for path in (".venv", ".data", ".git", "tests"):
        assert not any(rule.startswith(path) for rule in allowed_back), path


# -- compose ------------------------------------------------------------------------------------
def test_compose_file_matches_the_compose_spec() -> None:
    result = run_tool("check-jsonschema", "--builtin-schema", "vendor.compose-spec", COMPOSE)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize(("name", "port"), SERVICE_PORTS.items())
def test_compose_runs_each_service_on_its_port(name: str, port: int) -> None:
    service = load_compose()["services"][name]
    assert service["command"] == [f"services.{name}"]
    assert service["build"]["dockerfile"] == "deploy/Dockerfile"
    env = service["environment"]
    prefix = name.upper()
    assert env[f"{prefix}_HTTP_HOST"] == "0.0.0.0"
    assert int(env[f"{prefix}_HTTP_PORT"]) == port
    # Each service connects as its own NATS user (deploy/nats/permissions.conf).
    assert env["NATS_URL"].startswith(f"nats://{name}:${{{prefix}_NATS_PASSWORD:?")
    assert env["NATS_URL"].endswith("@nats:4222")
    assert env["AUTH_MODE"] == "production"
    assert service["secrets"] == ["tokens"]
    assert env["DATABASE_URL"].startswith("postgresql://")
    assert "@postgres:5432/" in env["DATABASE_URL"]
    # With no variables set, the service is published on its own port (on loopback).
    ports = [with_defaults(str(p)) for p in service["ports"]]
    assert f"127.0.0.1:{port}:{port}" in ports, ports
    assert service["depends_on"]["postgres"]["condition"] == "service_healthy"
    assert "nats" in service["depends_on"]
    assert service["restart"] in {"always", "unless-stopped", "on-failure"}
    assert "container_name" not in service  # it would forbid --scale


def test_compose_runs_jetstream_and_postgres_with_volumes() -> None:
    compose = load_compose()
    nats, postgres = compose["services"]["nats"], compose["services"]["postgres"]
    assert any(v.startswith("./nats/server.conf:") for v in nats["volumes"])
    assert any(v.endswith(":/data") for v in nats["volumes"])
    assert "pg_isready" in postgres["healthcheck"]["test"]
    assert set(compose["volumes"]) >= {"nats-data", "postgres-data"}
    for image in (nats["image"], postgres["image"]):
        _, _, tag = image.partition(":")
        assert tag, f"{image}: pin a tag"
        assert tag != "latest", image


# -- NATS ---------------------------------------------------------------------------------------
def test_every_nats_configuration_is_present() -> None:
    names = {p.relative_to(NATS_DIR).as_posix() for p in NATS_CONFIGS}
    assert {"server.conf", "cluster/node-1.conf", "cluster/node-2.conf"} <= names
    assert "cluster/node-3.conf" in names


@pytest.mark.parametrize("config", NATS_CONFIGS, ids=lambda p: p.relative_to(NATS_DIR).as_posix())
def test_nats_configuration_raises_max_payload_and_syncs_always(config: Path) -> None:
    text = config.read_text(encoding="utf-8")
    assert "max_payload: 8MB" in text
    if "jetstream" in text:
        assert "sync_interval: always" in text


@pytest.mark.parametrize("config", NATS_CONFIGS, ids=lambda p: p.relative_to(NATS_DIR).as_posix())
def test_nats_server_accepts_configuration(config: Path) -> None:
    result = run_tool("nats-server", "-t", "-c", config, env=NATS_PASSWORDS)
    assert result.returncode == 0, result.stdout + result.stderr


@pytest.mark.parametrize("config", CLUSTER_CONFIGS, ids=lambda p: p.name)
def test_cluster_node_routes_to_the_two_other_nodes(config: Path) -> None:
    n = int(config.stem.removeprefix("node-"))
    text = config.read_text(encoding="utf-8")
    assert f"listen: 127.0.0.1:430{n}" in text
    assert f"listen: 127.0.0.1:630{n}" in text
    assert f"http: 127.0.0.1:830{n}" in text
    assert f"server_name: chuangwen-node-{n}" in text
    assert "name: chuangwen" in text
    assert f"store_dir: /var/lib/nats/node-{n}" in text
    for other in {1, 2, 3} - {n}:
        assert f"nats-route://127.0.0.1:630{other}" in text
