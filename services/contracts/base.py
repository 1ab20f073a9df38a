"""Base model and bounded field types shared by every contract."""

from __future__ import annotations

import json
from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

UnitId = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9-]{0,62}[a-z0-9]$")]
ShortText = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
LongText = Annotated[str, StringConstraints(min_length=1, max_length=4000, strip_whitespace=True)]
Reason = Annotated[str, StringConstraints(min_length=1, max_length=1000, strip_whitespace=True)]
Url = Annotated[str, StringConstraints(pattern=r"^https?://\S+$", max_length=2000)]
# R7: exact values travel as reduced fractions in strings, beside a 2-place display string.
FractionText = Annotated[str, StringConstraints(pattern=r"^-?\d{1,30}/\d{1,30}$")]
DecimalText = Annotated[str, StringConstraints(pattern=r"^-?\d{1,30}(\.\d{1,30})?$")]
Fen = Annotated[int, Field(ge=-(10**15), le=10**15)]


class Contract(BaseModel):
    """Strict, immutable wire model: unknown fields are an error, never silently dropped."""

    model_config = ConfigDict(extra="forbid", frozen=True, populate_by_name=True)


def canonical_json(data: Any) -> bytes:
    """R7: sorted keys, no insignificant white space, UTF-8; floats are refused (exact values
    must be strings)."""

    def _refuse_floats(value: Any) -> Any:
        if isinstance(value, float):
            raise TypeError("floats are not allowed in canonical JSON (R7): use a string")
        if isinstance(value, dict):
            return {k: _refuse_floats(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [_refuse_floats(v) for v in value]
        return value

    return json.dumps(
        _refuse_floats(data), sort_keys=True, separators=(",", ":"), ensure_ascii=False
    ).encode()


def to_wire(model: BaseModel) -> bytes:
    """Serialise a contract model to canonical JSON, using field aliases (``schema``)."""
    return canonical_json(model.model_dump(mode="json", by_alias=True))
