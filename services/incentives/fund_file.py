"""The fund settings file (TOML) of R6.1/R6.2: read it, validate it, say what is wrong.

``INCENTIVES_FUND_FILE`` names it; ``fund.example.toml`` beside this module shows every key
with its default. A file that cannot be read or whose numbers are inconsistent (a negative fund,
E < 1, a year outside 2000-2200, an unknown key) raises ``FundFileError`` naming the file and
each offending field, and the service does not start.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from pydantic import ValidationError

from .domain.fund import FundSettings


class FundFileError(ValueError):
    """The fund settings file is missing, not TOML, or inconsistent."""


def load_fund_file(path: Path) -> FundSettings:
    """The validated ``FundSettings`` of the TOML file at ``path``."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise FundFileError(f"fund settings file {path} cannot be read: {exc.strerror}") from exc
    try:
        data = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise FundFileError(f"fund settings file {path} is not valid TOML: {exc}") from exc
    try:
        return FundSettings.model_validate(data)
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(str(part) for part in error['loc']) or '<root>'}: {error['msg']}"
            for error in exc.errors()
        )
        raise FundFileError(f"fund settings file {path} is inconsistent: {problems}") from exc
