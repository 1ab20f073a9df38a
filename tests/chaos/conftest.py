"""Fault-injection tests: a short version of each runs in ``make test``; ``make chaos`` runs
the full ones (``CHAOS_FULL=1``)."""

from __future__ import annotations

import os

import pytest

FULL = os.environ.get("CHAOS_FULL") == "1"


@pytest.fixture
def scale() -> int:
    """How many messages a chaos test sends: the short version or the full one."""
    return 10 if FULL else 1
