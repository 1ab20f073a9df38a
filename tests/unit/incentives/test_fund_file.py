"""R6.1/R6.2 settings file: TOML, validated; inconsistent numbers stop the service at start."""

import subprocess
import sys
from pathlib import Path

import pytest
from pydantic import ValidationError

from services.incentives.domain.fund import FundSettings
from services.incentives.fund_file import FundFileError, load_fund_file
from services.incentives.settings import IncentivesSettings

EXAMPLE = Path("services/incentives/fund.example.toml")


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "fund.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_example_file_holds_the_defaults() -> None:
    assert load_fund_file(EXAMPLE) == FundSettings()


def test_a_file_sets_the_fund_and_e_per_year(tmp_path: Path) -> None:
    path = write(
        tmp_path,
        "default_fund_fen = 900000000\n[years.2019]\nfund_fen = 500000000\nplanned_editions = 40\n",
    )
    settings = IncentivesSettings(fund_file=path)
    assert settings.fund.fund_for(2019) == 500_000_000
    assert settings.fund.planned_editions_for(2019) == 40
    assert settings.fund.fund_for(2020) == 900_000_000
    assert settings.fund.planned_editions_for(2018) == 53


@pytest.mark.parametrize(
    ("text", "field"),
    [
        ("default_fund_fen = -1", "default_fund_fen"),
        ("[years.2019]\nfund_fen = -5", "years.2019.fund_fen"),
        ("[years.2019]\nplanned_editions = 0", "years.2019.planned_editions"),
        ("[years.1999]\nfund_fen = 1", "years.1999"),
        ("default_fund_fen = 8000000.5", "default_fund_fen"),
        ("fund = 1", "fund"),
    ],
)
def test_inconsistent_numbers_are_refused_naming_file_and_field(
    tmp_path: Path, text: str, field: str
) -> None:
    path = write(tmp_path, text)
    with pytest.raises(FundFileError) as info:
        load_fund_file(path)
    assert str(path) in str(info.value) and field in str(info.value)


def test_a_missing_or_broken_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(FundFileError, match="cannot be read"):
        load_fund_file(tmp_path / "absent.toml")
    with pytest.raises(FundFileError, match="not valid TOML"):
        load_fund_file(write(tmp_path, "default_fund_fen = = 1"))


def test_the_file_and_inline_fund_settings_are_not_mixed(tmp_path: Path) -> None:
    with pytest.raises(ValidationError, match="not both"):
        IncentivesSettings(fund_file=EXAMPLE, fund=FundSettings())


def test_the_service_does_not_start_with_an_inconsistent_file(tmp_path: Path) -> None:
    path = write(tmp_path, "[years.2019]\nplanned_editions = 0\n")
    done = subprocess.run(
        [sys.executable, "-m", "services.incentives"],
        env={"INCENTIVES_FUND_FILE": str(path), "PATH": "/usr/bin:/bin"},
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode != 0
    assert "not started" in done.stderr and "years.2019.planned_editions" in done.stderr
