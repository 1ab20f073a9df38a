"""Test-only fault hooks for the fault-injection suite (``tests/chaos/``, issue 7).

Every hook is off unless ``ServiceSettings.fault_hooks`` names it, and no real configuration
does (the default is empty; deploy/ never sets ``<SERVICE>_FAULT_HOOKS``). A hook is written
``name`` (it fires at the first time the process reaches its point) or ``name@N`` (at the N-th
time). Firing prints one line to stderr and ends the process at once with ``os._exit`` and
``FAULT_EXIT_CODE``: no ``finally``, no flush, no graceful shutdown, like a kill -9, so the
test can tell from the exit code that the hook fired.
"""

from __future__ import annotations

import os
import sys
from collections import Counter
from collections.abc import Iterable

FAULT_EXIT_CODE = 86

# The points in the code where a hook may fire.
POINTS = frozenset(
    {
        # outbox relay: the use case committed its outbox row; the relay is about to send it
        # (the earlier rows of its window may be sent and not yet acknowledged).
        "crash_after_commit_before_publish",
        # outbox relay: JetStream acknowledged the row; it is not marked published yet.
        "crash_after_publish_before_mark",
    }
)


class Faults:
    """The hooks a process was started with; ``point`` is a no-op for every other name."""

    def __init__(self, hooks: Iterable[str] = ()) -> None:
        self._fire_at: dict[str, int] = {}
        for hook in hooks:
            name, _, nth = hook.partition("@")
            if name not in POINTS:
                raise ValueError(f"unknown fault hook {name!r}; known: {sorted(POINTS)}")
            self._fire_at[name] = int(nth or 1)
        self._reached: Counter[str] = Counter()

    def point(self, name: str) -> None:
        """A fault point: exits the process if ``name``'s hook is due here."""
        fire_at = self._fire_at.get(name)
        if fire_at is None:
            return
        self._reached[name] += 1
        if self._reached[name] == fire_at:
            sys.stderr.write(f"fault hook fired: {name}\n")
            sys.stderr.flush()
            os._exit(FAULT_EXIT_CODE)
