"""Canonical JSON for published outputs (R7).

A recomputation from the event log must be comparable byte for byte with what was published, so
there is exactly one way to write a given value: sorted keys, no insignificant white space, UTF-8
with Chinese names written as themselves.

The bytes are exactly those of ``json.dumps(obj, sort_keys=True, separators=(",", ":"),
ensure_ascii=False)`` in UTF-8, the definition editions were first published under; orjson writes
them ~10x faster (an edition of 10,000 units is ~3 MB), and `json` takes over for what orjson
cannot write (integers beyond 64 bits), so the definition never depends on the library
(tests/unit/ranking/test_numbers_and_canonical.py compares the two on generated values).
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import cast

import orjson

__all__ = ["canonical_json", "canonical_members", "joined_members"]


def canonical_json(obj: object) -> bytes:
    """R7: serialise ``obj`` (dicts with str keys, lists/tuples, str, int, bool, None) canonically.

    Floats are refused outright: exact values travel as strings (``"9031/100"``), and a float in
    an output means a number was computed inexactly somewhere. Non-string keys are refused too,
    because `json` would silently turn ``1`` and ``"1"`` into the same key.
    """
    if not _ready(obj):
        _check(obj, "$")  # walks again, naming where it is wrong (raises), or accepts a subclass
    try:
        return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS)
    except orjson.JSONEncodeError:  # e.g. an int beyond 64 bits: the reference writes it
        return _reference(obj)


def canonical_members(obj: Mapping[str, object]) -> dict[str, bytes]:
    """R7: the canonical bytes of each member of the object ``obj``, checked as `canonical_json`
    checks them. An edition's content (~3 MB at 10,000 units) is serialised once this way and
    its bytes used twice: for its digest and inside the published message (`joined_members`)."""
    members: dict[str, bytes] = {}
    for key, value in obj.items():
        if type(key) is not str:
            raise TypeError(f"non-string key {key!r} at $")
        members[key] = canonical_json(value)
    return members


def joined_members(members: Mapping[str, bytes]) -> bytes:
    """R7: the canonical bytes of the object whose members are ``members`` (each already its
    canonical bytes, `canonical_members`): equal to `canonical_json` of the object itself."""
    parts = [orjson.dumps(key) + b":" + members[key] for key in sorted(members)]
    return b"{" + b",".join(parts) + b"}"


def _reference(obj: object) -> bytes:
    """The definition of the canonical bytes (see the module docstring)."""
    text = json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


_LEAVES = frozenset({str, int, bool, type(None)})


def _ready(obj: object) -> bool:
    """`_check` without building paths: True if every value is exactly a str, int, bool, None,
    dict with str keys, list or tuple. Anything else (a float, a subclass) sends the caller to
    `_check` for the verdict and its path. Recursive with the leaves tested inline: an edition
    holds ~10^6 values (a nesting too deep for it goes to `_check` as well)."""
    try:
        return _ready_value(obj)
    except RecursionError:
        return False


def _ready_value(obj: object) -> bool:
    kind = type(obj)
    if kind in _LEAVES:
        return True
    if kind is dict:
        for key, value in cast("dict[object, object]", obj).items():
            if type(key) is not str or (type(value) not in _LEAVES and not _ready_value(value)):
                return False
        return True
    if kind is list or kind is tuple:
        for value in cast("list[object]", obj):
            if type(value) not in _LEAVES and not _ready_value(value):
                return False
        return True
    return False


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
