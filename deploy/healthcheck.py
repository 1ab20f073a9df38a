"""Container health probe for the service image (standard library only).

The service this container runs is read from PID 1's command line (``python -m
services.<name>``; also found behind an init such as ``docker run --init``), its port from
``<NAME>_HTTP_PORT``. Exit 0 when ``GET /healthz`` on loopback answers 200, else 1.
"""

from __future__ import annotations

import os
import sys
import urllib.request
from pathlib import Path


def service_name(cmdline: bytes) -> str | None:
    """``ranking`` for ``python -m services.ranking`` (NUL-separated, as in /proc)."""
    for arg in cmdline.split(b"\0"):
        if arg.startswith(b"services."):
            return arg.decode().removeprefix("services.").split(".")[0]
    return None


def main() -> int:
    name = service_name(Path("/proc/1/cmdline").read_bytes())
    if name is None:
        print("healthcheck: PID 1 is not `python -m services.<name>`", file=sys.stderr)
        return 1
    port = os.environ.get(f"{name.upper()}_HTTP_PORT")
    if port is None:
        print(f"healthcheck: {name.upper()}_HTTP_PORT is not set", file=sys.stderr)
        return 1
    url = f"http://127.0.0.1:{int(port)}/healthz"
    try:
        with urllib.request.urlopen(url, timeout=3) as response:
            return 0 if response.status == 200 else 1
    except OSError as exc:
        print(f"healthcheck: {url}: {exc}", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
