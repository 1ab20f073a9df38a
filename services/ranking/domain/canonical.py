"""Canonical JSON for published outputs (R7).

A recomputation from the event log must be comparable byte for byte with what was published, so
there is exactly one way to write a given value: sorted keys, no insignificant white space, UTF-8
with Chinese names written as themselves.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

__all__ = ["canonical_json"]


def canonical_json(obj: object) -> bytes:
    """R7: serialise ``obj`` (dicts with str keys, lists/tuples, str, int, bool, None) canonically.

    Floats are refused outright: exact values travel as strings (``"9031/100"``), and a float in
    an output means a number was computed inexactly somewhere. Non-string keys are refused too,
    because `json` would silently turn ``1`` and ``"1"`` into the same key.
    """
    if not _ready(obj):
        _check(obj, "$")  # walks again, naming where it is wrong (raises), or accepts a subclass
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _ready(obj: object) -> bool:
    """`_check` without building paths, iteratively (an edition holds ~10^6 values): True if
    every value is exactly a str, int, bool, None, dict with str keys, list or tuple. Anything
    else (a float, a subclass) sends the caller to `_check` for the verdict and its path."""
    stack: list[Any] = [obj]
    while stack:
        value = stack.pop()
        kind = type(value)
        if kind is str or kind is int or kind is bool or value is None:
            continue
        if kind is dict:
            for key, item in value.items():
                if type(key) is not str:
                    return False
                stack.append(item)
        elif kind is list or kind is tuple:
            stack.extend(value)
        else:
            return False
    return True


def _check(obj: object, path: str) -> None:
    if obj is None or isinstance(obj, bool | str):
        return
    if isinstance(obj, float):
        raise TypeError(f"float at {path}: exact values must travel as strings (R7)")
    if isinstance(obj, int):
        return
    if isinstance(obj, Mapping):
        for key, value in obj.items():
            if not isinstance(key, str):
                raise TypeError(f"non-string key {key!r} at {path}")
            _check(value, f"{path}.{key}")
        return
    if isinstance(obj, list | tuple):
        for index, item in enumerate(obj):
            _check(item, f"{path}[{index}]")
        return
    raise TypeError(f"{type(obj).__name__} at {path} is not JSON-ready")
