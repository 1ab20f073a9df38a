"""Versioned ranking rules (R4.3, R4.5, R4.7, R4.8): the configurable values, validated.

The version string is stamped on every edition (R7); a settings file may hold several versions
so that a rebuild uses the one each edition was computed with.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from decimal import Decimal
from fractions import Fraction
from typing import TypeVar

from services.ranking.domain.numbers import as_fraction, exact
from services.ranking.domain.units import Category

__all__ = ["ListSizes", "RankingRules"]

_HALF = Fraction(1, 2)


@dataclass(frozen=True, kw_only=True)
class ListSizes:
    """R4.5: how many units a list takes per category (before ties at the boundary)."""

    department: int
    district: int
    town: int

    def __post_init__(self) -> None:
        for category in Category:
            size = self.for_category(category)
            if isinstance(size, bool) or not isinstance(size, int) or size < 0:
                raise ValueError(f"list size for {category} must be an int >= 0, got {size!r}")

    def for_category(self, category: Category) -> int:
        """The size for ``category``."""
        return int(getattr(self, category.value))

    def as_dict(self) -> dict[str, int]:
        """JSON-ready form, keyed by category."""
        return {category.value: self.for_category(category) for category in Category}


def _red_default() -> ListSizes:
    return ListSizes(department=5, district=1, town=1)


def _black_default() -> ListSizes:
    return ListSizes(department=3, district=1, town=1)


@dataclass(frozen=True, kw_only=True)
class RankingRules:
    """One version of the ranking rules.

    - ``w_r``, ``w_a``: R4.3 weights of the rate and of the assessment score (default 1/2 each);
      both >= 0 and not both 0.
    - ``red``, ``black``: R4.5 list sizes (default 5/1/1 and 3/1/1).
    - ``black_exempt_at``: R4.7 exemption threshold on ``s`` (None = off, the default).
    - ``min_issues``: R4.8 a unit with fewer reported issues has no rate component (default 1).
    """

    version: str
    w_r: Fraction = _HALF
    w_a: Fraction = _HALF
    red: ListSizes = field(default_factory=_red_default)
    black: ListSizes = field(default_factory=_black_default)
    black_exempt_at: Fraction | None = None
    min_issues: int = 1

    def __post_init__(self) -> None:
        if not self.version or self.version != self.version.strip():
            raise ValueError(f"rule version must be a non-empty trimmed string: {self.version!r}")
        for name in ("w_r", "w_a"):
            if not isinstance(getattr(self, name), Fraction):
                raise TypeError(f"{name} must be a Fraction")
        for name in ("w_r", "w_a"):
            if getattr(self, name) < 0:
                raise ValueError(f"{name}: weights must be >= 0 (R4.3)")
        if self.w_r == 0 and self.w_a == 0:
            raise ValueError("w_r, w_a: at least one weight must be > 0 (R4.3)")
        if self.black_exempt_at is not None and not isinstance(self.black_exempt_at, Fraction):
            raise TypeError("black_exempt_at must be a Fraction or None")
        if isinstance(self.min_issues, bool) or not isinstance(self.min_issues, int):
            raise TypeError("min_issues: must be an int")
        if self.min_issues < 1:
            raise ValueError("min_issues: must be >= 1 (R4.8)")

    @classmethod
    def from_mapping(cls, data: Mapping[str, object]) -> RankingRules:
        """Load one rules version from a settings mapping (e.g. parsed TOML/JSON).

        Numbers may be ints, Decimals or exact strings (``"1/2"``, ``"0.5"``) but not floats, so a
        settings file cannot smuggle in an inexact weight. Missing keys take the defaults.
        """
        known = {"version", "w_r", "w_a", "red", "black", "black_exempt_at", "min_issues"}
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"{sorted(unknown)[0]}: unknown ranking rule key")
        kwargs: dict[str, object] = {"version": data["version"]}
        for name in ("w_r", "w_a", "black_exempt_at"):
            if data.get(name) is not None:
                kwargs[name] = _named(name, _exact, data[name])
        for name in ("red", "black"):
            if name in data:
                kwargs[name] = _named(name, _sizes, data[name])
        if "min_issues" in data:
            kwargs["min_issues"] = data["min_issues"]
        return cls(**kwargs)  # type: ignore[arg-type]  # each value is checked in __post_init__

    def as_dict(self) -> dict[str, object]:
        """JSON-ready form (exact numbers as ``"n/d"``); `from_mapping` reads it back."""
        return {
            "version": self.version,
            "w_r": exact(self.w_r),
            "w_a": exact(self.w_a),
            "red": self.red.as_dict(),
            "black": self.black.as_dict(),
            "black_exempt_at": (
                None if self.black_exempt_at is None else exact(self.black_exempt_at)
            ),
            "min_issues": self.min_issues,
        }


T = TypeVar("T")


def _named(name: str, convert: Callable[[object, str], T], value: object) -> T:
    """``convert(value, name)``; its error names the settings field (``w_r: ...``)."""
    try:
        return convert(value, name)
    except TypeError as exc:
        raise TypeError(f"{name}: {exc}") from None
    except ValueError as exc:
        raise ValueError(f"{name}: {exc}") from None


def _exact(value: object, name: str) -> Fraction:
    if isinstance(value, Fraction | Decimal | str) or (
        isinstance(value, int) and not isinstance(value, bool)
    ):
        return as_fraction(value)
    raise TypeError(f"must be an exact number (int, Decimal or string), got {value!r}")


def _sizes(value: object, name: str) -> ListSizes:
    if isinstance(value, ListSizes):
        return value
    if not isinstance(value, Mapping):
        raise TypeError(f"must map category to size, got {value!r}")
    unknown = set(value) - {c.value for c in Category}
    if unknown:
        raise ValueError(f"unknown categories {sorted(unknown)}")
    defaults = (_red_default() if name == "red" else _black_default()).as_dict()
    merged = {**defaults, **value}
    return ListSizes(
        department=merged["department"], district=merged["district"], town=merged["town"]
    )
