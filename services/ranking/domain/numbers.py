"""Exact numbers and their display strings (R7).

Every published number travels twice: an exact reduced fraction in a string and a display string
rounded half up to 2 places. Both are made here, from `Fraction`s only, so a float can never
creep into a published figure.
"""

from __future__ import annotations

import re
from decimal import Decimal
from fractions import Fraction
from math import gcd

__all__ = [
    "as_fraction",
    "display",
    "display_percent",
    "exact",
    "exact_ratio",
    "parse_exact",
    "percent_of",
]

_EXACT = re.compile(r"^(-?[0-9]+)/([1-9][0-9]*)$")


def as_fraction(value: Fraction | Decimal | int | str) -> Fraction:
    """Convert an exact input (Fraction, Decimal, int, "n/d" or "12.5") to a `Fraction`.

    Floats and bools are refused: a float has already lost exactness (R4.3 "compute exactly"),
    and a bool is an int only by accident of Python.
    """
    if isinstance(value, bool | float):
        raise TypeError(f"exact number expected, got {type(value).__name__}: {value!r}")
    if isinstance(value, Fraction):
        return value
    if isinstance(value, Decimal):
        if not value.is_finite():
            raise ValueError(f"finite number expected, got {value}")
        return Fraction(value)
    if isinstance(value, int):
        return Fraction(value)
    if isinstance(value, str):
        # Fraction(str) accepts "3/4" and "0.75" exactly; anything else raises ValueError.
        return Fraction(value.strip())
    raise TypeError(f"exact number expected, got {type(value).__name__}: {value!r}")


def exact(value: Fraction) -> str:
    """R7: the exact value as a reduced fraction string, always ``"n/d"``.

    Integers are written with denominator 1 (``"100/1"``, ``"0/1"``) so that every exact field
    has a single shape and a reader never has to special-case it. `Fraction` is always reduced
    with a positive denominator, so the string is canonical.
    """
    if not isinstance(value, Fraction):
        raise TypeError(f"Fraction expected, got {type(value).__name__}")
    return f"{value.numerator}/{value.denominator}"


def exact_ratio(part: int, whole: int) -> str:
    """`exact` of ``part / whole`` (``whole`` > 0), straight from the counts: an edition writes
    tens of thousands of rates, and building a `Fraction` for each costs more than the rest."""
    if whole <= 0:
        raise ValueError(f"a ratio needs a positive whole, got {whole}")
    common = gcd(part, whole)
    return f"{part // common}/{whole // common}"


def parse_exact(text: str) -> Fraction:
    """Inverse of `exact`: read a ``"n/d"`` string, insisting that it is the canonical form (R7)."""
    match = _EXACT.match(text)
    if match is None:
        raise ValueError(f"not an exact fraction string: {text!r}")
    value = Fraction(int(match.group(1)), int(match.group(2)))
    # A non-reduced string would give two spellings of one number and break byte comparison.
    if exact(value) != text:
        raise ValueError(f"fraction string is not reduced: {text!r}")
    return value


def display(value: Fraction) -> str:
    """R7: the value rounded half up (away from zero) to 2 places, e.g. ``9031/100 -> "90.31"``.

    Done in integers: ``|value| * 100 = q + r/den``; round up when ``2r >= den``. This is the
    schoolbook rule the campaign office uses, not banker's rounding, and never touches a float.
    """
    if not isinstance(value, Fraction):
        raise TypeError(f"Fraction expected, got {type(value).__name__}")
    return _display(value.numerator, value.denominator)


def display_percent(rate: Fraction) -> str:
    """R7 for rates (R3.3): a rate is exact as the fraction itself (``"3107/3440"``) but is shown
    as a percentage (``"90.32"``), as the campaign reports quote it ("90.3%")."""
    if not isinstance(rate, Fraction):
        raise TypeError(f"Fraction expected, got {type(rate).__name__}")
    return _display(rate.numerator * 100, rate.denominator)  # rate * 100, without a new Fraction


def percent_of(part: int, whole: int) -> str:
    """`display_percent` of ``part / whole`` (``whole`` > 0), straight from the counts."""
    if whole <= 0:
        raise ValueError(f"a ratio needs a positive whole, got {whole}")
    return _display(part * 100, whole)


def _display(numerator: int, denominator: int) -> str:
    # The value numerator/denominator (denominator > 0), rounded half up to 2 places in
    # integers; the rounding depends only on the value, so the fraction need not be reduced.
    hundredths, remainder = divmod(abs(numerator) * 100, denominator)
    if 2 * remainder >= denominator:
        hundredths += 1
    # "-0.00" would be a second spelling of zero.
    sign = "-" if numerator < 0 and hundredths != 0 else ""
    return f"{sign}{hundredths // 100}.{hundredths % 100:02d}"
