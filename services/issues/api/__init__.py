"""HTTP and bus adapters of the issues service: parse, call one use case, return (STYLE.md 2).

Every endpoint names the roles it allows through the runtime's ``requires`` dependency; what
depends on the issue itself (a unit acts on its own issues only) is checked in the use case.
"""

from __future__ import annotations

from typing import Any

from fastapi import Depends

from services.runtime.auth import Role, requires
from services.runtime.service import ServiceRuntime

READERS: tuple[Role, ...] = ("office", "inspector", "unit", "viewer", "ops")


def allow(runtime: ServiceRuntime, *roles: Role) -> Any:
    """A FastAPI dependency: the caller's principal if its role is one of ``roles``."""
    return Depends(requires(lambda: runtime.tokens, *roles))
