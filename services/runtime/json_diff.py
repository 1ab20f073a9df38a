"""Where a stored output and its recomputation differ, as JSON paths (the rebuilds, R7).

Generic over any JSON value: ranking's editions and incentives' allocations alike.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from services.contracts.base import canonical_json


@dataclass(frozen=True)
class Difference:
    """One difference: ``label`` names the output (``2024/3 r1 (INCENTIVES #7)``), ``path`` the
    place in it, ``stored`` and ``ours`` the two values (shortened JSON)."""

    label: str
    path: str
    stored: str
    ours: str


def differences(label: str, stored: Any, ours: Any, path: str = "$") -> Iterator[Difference]:
    """Where two JSON values differ, as paths (``$.awards[0].fen``); lists of different lengths
    differ as a whole."""
    if isinstance(stored, dict) and isinstance(ours, dict):
        for key in sorted(set(stored) | set(ours)):
            yield from differences(label, stored.get(key), ours.get(key), f"{path}.{key}")
    elif isinstance(stored, list) and isinstance(ours, list) and len(stored) == len(ours):
        for i, (a, b) in enumerate(zip(stored, ours, strict=True)):
            yield from differences(label, a, b, f"{path}[{i}]")
    elif canonical_json(stored) != canonical_json(ours):
        yield Difference(label, path, shorten(stored), shorten(ours))


def shorten(value: Any, chars: int = 200) -> str:
    """``value`` as JSON, cut to ``chars`` characters."""
    text = json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= chars else text[: chars - 3] + "..."
