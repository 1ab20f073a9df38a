"""The versioned ranking rules file (R4.3, R4.5, R4.7, R4.8, R7), read and validated at start.

The file holds every rule version ever used (``[versions.<name>]``) and names the one in force
(``current``). An invalid file stops the service with the path of the bad field, e.g.
``rules.toml: versions.v2.w_r: ...``.
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from .domain.rules import RankingRules

DEFAULT_RULES_FILE = Path(__file__).parent / "rules.toml"


class InvalidRules(ValueError):
    """The rules file cannot be used; the message names the file and the field."""


@dataclass(frozen=True)
class RuleBook:
    """Every rule version of the file, and the one new editions use."""

    versions: Mapping[str, RankingRules]
    current: RankingRules

    def version(self, name: str) -> RankingRules:
        """The rules an edition stamped with ``name`` was computed with (R7)."""
        try:
            return self.versions[name]
        except KeyError:
            raise LookupError(f"rule version {name!r} is not in the rules file") from None


def parse_rule_book(
    data: Mapping[str, object], source: str, current: str | None = None
) -> RuleBook:
    """Validate a parsed rules file; ``current`` overrides the file's own choice."""
    unknown = set(data) - {"current", "versions"}
    if unknown:
        raise InvalidRules(f"{source}: {sorted(unknown)[0]}: unknown key")
    tables = data.get("versions")
    if not isinstance(tables, Mapping) or not tables:
        raise InvalidRules(f"{source}: versions: at least one [versions.<name>] table is needed")
    versions: dict[str, RankingRules] = {}
    for name, table in tables.items():
        where = f"{source}: versions.{name}"
        if not isinstance(table, Mapping):
            raise InvalidRules(f"{where}: must be a table")
        if "version" in table:
            raise InvalidRules(f"{where}.version: the table's name is its version")
        try:
            versions[name] = RankingRules.from_mapping({**table, "version": name})
        except (TypeError, ValueError) as exc:
            raise InvalidRules(f"{where}.{exc}") from None
    chosen = current if current is not None else data.get("current")
    if not isinstance(chosen, str) or chosen not in versions:
        raise InvalidRules(
            f"{source}: current: {chosen!r} is not one of the versions {sorted(versions)}"
        )
    return RuleBook(versions=versions, current=versions[chosen])


def load_rule_book(path: Path, current: str | None = None) -> RuleBook:
    """Read and validate ``path``; raise `InvalidRules` naming the bad field."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise InvalidRules(f"{path}: {exc}") from exc
    return parse_rule_book(data, str(path), current)
