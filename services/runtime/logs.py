"""Structured JSON logs on stderr, one object per line."""

from __future__ import annotations

import logging
import sys

# Imported for its side effect before we configure anything: importing FastStream creates its
# "faststream" logger with a handler of its own (coloured text on stderr), level INFO and
# ``propagate = False``, so that its records (a subscriber task's failure and restart among
# them) would bypass our handler and our level.
import faststream  # noqa: F401
from pythonjsonlogger.json import JsonFormatter

# Libraries that say too much at INFO; they keep WARNING and above.
QUIET = ("nats", "httpx", "uvicorn.access")


def configure_logging(service: str, level: str = "INFO") -> None:
    """JSON logs tagged with the service name, at ``level``, for our records and the libraries'
    alike (FastStream's per-message logs are sent at DEBUG: they cost ~40% of throughput at
    INFO)."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter(
            "%(asctime)s %(levelname)s %(name)s %(message)s",
            rename_fields={"asctime": "time", "levelname": "level", "name": "logger"},
            static_fields={"service": service},
        )
    )
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    # FastStream's logger (see the import above) goes through the root's handler and level.
    own = logging.getLogger("faststream")
    own.handlers.clear()
    own.propagate = True
    own.setLevel(logging.NOTSET)
    for noisy in QUIET:
        logging.getLogger(noisy).setLevel(max(logging.WARNING, root.level))
