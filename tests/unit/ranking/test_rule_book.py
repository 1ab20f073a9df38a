from pathlib import Path

import pytest

from services.ranking.rule_book import DEFAULT_RULES_FILE, InvalidRules, load_rule_book

V1 = """
current = "v1"
[versions.v1]
w_r = "1/2"
w_a = "1/2"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "rules.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_file_holds_the_v1_defaults() -> None:
    book = load_rule_book(DEFAULT_RULES_FILE)
    assert book.current.version == "v1"
    assert book.current.red.as_dict() == {"department": 5, "district": 1, "town": 1}


def test_every_version_stays_loadable_and_current_can_be_overridden(tmp_path: Path) -> None:
    # R7: a rebuild uses the version stamped on each edition.
    path = _write(tmp_path, V1 + '[versions.v2]\nw_r = "2/3"\nw_a = "1/3"\nmin_issues = 3\n')
    book = load_rule_book(path)
    assert book.current.version == "v1"
    assert book.version("v2").min_issues == 3
    assert load_rule_book(path, current="v2").current.version == "v2"
    with pytest.raises(LookupError, match="v9"):
        book.version("v9")


@pytest.mark.parametrize(
    ("extra", "named"),
    [
        ("[versions.v2]\nw_r = 0.5\n", "versions.v2.w_r"),
        ('[versions.v2]\nw_a = "-1"\n', "versions.v2.w_a"),
        ("[versions.v2]\nmin_issues = 0\n", "versions.v2.min_issues"),
        ("[versions.v2]\nred = { town = -1 }\n", "versions.v2.red"),
        ("[versions.v2]\nblack = { city = 1 }\n", "versions.v2.black"),
        ('[versions.v2]\nblack_exempt_at = "high"\n', "versions.v2.black_exempt_at"),
        ("[versions.v2]\nwr = 1\n", "versions.v2.wr"),
    ],
)
def test_an_invalid_file_names_the_bad_field(tmp_path: Path, extra: str, named: str) -> None:
    with pytest.raises(InvalidRules, match=named.replace(".", r"\.")):
        load_rule_book(_write(tmp_path, V1 + extra))


def test_current_must_name_a_version_and_the_file_must_parse(tmp_path: Path) -> None:
    with pytest.raises(InvalidRules, match="current"):
        load_rule_book(_write(tmp_path, V1.replace('current = "v1"', 'current = "v7"')))
    with pytest.raises(InvalidRules, match=r"rules\.toml"):
        load_rule_book(_write(tmp_path, "current = "))
