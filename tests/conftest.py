"""Session-wide real servers for integration and e2e tests.

One nats-server (JetStream, file storage) and one PostgreSQL, on free loopback ports, started
by the test session itself and stopped whatever happens. Unit tests never ask for them.
"""

from __future__ import annotations

import os
import secrets
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
from psycopg import sql

from services.runtime import embedded


@dataclass(frozen=True)
class Servers:
    nats_url: str
    database_url: str
    root: Path


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Servers]:
    root = tmp_path_factory.mktemp("servers")
    nats_port, pg_port = embedded.free_port(), embedded.free_port()
    nats = embedded.start_nats(nats_port, root / "nats", root / "nats.log")
    try:
        pg = embedded.start_postgres(pg_port, root / "pg", root / "postgres.log")
    except BaseException:
        embedded.stop(nats)
        raise
    try:
        yield Servers(
            nats_url=f"nats://127.0.0.1:{nats_port}",
            database_url=f"postgresql://postgres@127.0.0.1:{pg_port}/postgres",
            root=root,
        )
    finally:
        embedded.stop(nats)
        embedded.stop(pg)


@pytest.fixture(scope="session")
def isolated_servers(servers: Servers) -> Iterator[Servers]:
    """A NATS server and a database of their own, on the session's PostgreSQL: for tests that
    assert on whole rankings or ledgers, which other tests' units and money would disturb."""
    root = servers.root / "isolated"
    port = embedded.free_port()
    nats = embedded.start_nats(port, root / "nats", servers.root / "isolated-nats.log")
    try:
        yield Servers(
            nats_url=f"nats://127.0.0.1:{port}",
            database_url=_fresh_database(servers, "isolated"),
            root=root,
        )
    finally:
        embedded.stop(nats)


NATS_USERS = ("issues", "ranking", "notify", "incentives", "reader", "assessor", "reporter")
SECURED_CONFIG = Path(__file__).resolve().parents[1] / "deploy" / "nats" / "secured.conf"


@dataclass(frozen=True)
class SecuredServers(Servers):
    """A NATS server with the deploy/ users and permissions, and a database of its own."""

    passwords: dict[str, str] = field(default_factory=dict)

    def url_for(self, user: str) -> str:
        host = self.nats_url.removeprefix("nats://")
        return f"nats://{user}:{self.passwords[user]}@{host}"


def nats_passwords() -> dict[str, str]:
    """A fresh password per NATS user. A letter first: nats-server reads an environment value
    starting with a digit or "-" as a number and refuses the configuration (deploy/README.md)."""
    return {user: "p" + secrets.token_urlsafe(16) for user in NATS_USERS}


@pytest.fixture(scope="session")
def secured_servers(servers: Servers) -> Iterator[SecuredServers]:
    root = servers.root / "secured"
    port = embedded.free_port()
    passwords = nats_passwords()
    env = {f"{user.upper()}_NATS_PASSWORD": pw for user, pw in passwords.items()}
    nats = embedded.start_nats(
        port, root / "nats", servers.root / "secured-nats.log", SECURED_CONFIG, env
    )
    try:
        yield SecuredServers(
            nats_url=f"nats://127.0.0.1:{port}",
            database_url=_fresh_database(servers, "secured"),
            root=root,
            passwords=passwords,
        )
    finally:
        embedded.stop(nats)


def _fresh_database(servers: Servers, prefix: str) -> str:
    name = f"{prefix}_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(servers.database_url, autocommit=True) as conn:
        conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    return servers.database_url.rsplit("/", 1)[0] + f"/{name}"


@pytest.fixture
def server_env(servers: Servers, monkeypatch: pytest.MonkeyPatch) -> Servers:
    """The shared variables every service falls back to, pointing at the test servers."""
    monkeypatch.setenv("NATS_URL", servers.nats_url)
    monkeypatch.setenv("DATABASE_URL", servers.database_url)
    monkeypatch.setenv("AUTH_MODE", "dev")
    for key in [k for k in os.environ if k.endswith(("_NATS_URL", "_DATABASE_URL"))]:
        monkeypatch.delenv(key)
    return servers
