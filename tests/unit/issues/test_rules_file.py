"""The rules file (R2.2, R2.4, R2.5): validated at start, naming the offending field."""

from __future__ import annotations

from datetime import timedelta
from fractions import Fraction
from pathlib import Path

import pytest

from services.issues.rules import DEFAULT_RULES_FILE, InvalidRules, load_rules


def test_the_shipped_rules_file_is_valid() -> None:
    rules = load_rules(DEFAULT_RULES_FILE)
    assert rules.default_time_limit == timedelta(days=3)  # R2.2 default
    assert rules.reinspection.fraction == Fraction(3, 10)  # R2.5 default


@pytest.mark.parametrize(
    ("text", "field"),
    [
        (
            'version = "x"\n[time_limits_hours]\n"暴露垃圾" = -1\n[reinspection]\nseed = "s"',
            "暴露垃圾",
        ),
        ('version = "x"\n[reinspection]\nseed = "s"\nshare = "4/3"', "reinspection.share"),
        ('version = "x"\ntypo = 1\n[reinspection]\nseed = "s"', "typo"),
        ('version = "x"', "reinspection"),
    ],
)
def test_an_invalid_rules_file_is_refused_naming_the_field(
    tmp_path: Path, text: str, field: str
) -> None:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(InvalidRules, match=field) as caught:
        load_rules(path)
    assert str(path) in str(caught.value)
