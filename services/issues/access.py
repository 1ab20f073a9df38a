"""Who may act on or read which issues (ARCHITECTURE.md "Interfaces": roles).

The role check itself is the runtime's ``requires`` dependency on each endpoint; what needs the
issue (its unit) is checked here, inside the use case, with the issue locked.
"""

from __future__ import annotations

from services.runtime.auth import Principal
from services.runtime.db import Conn


class Forbidden(Exception):
    """The caller's role may do this in general, but not to this issue (HTTP 403)."""


def require_own_unit(principal: Principal, unit_id: str, action: str) -> None:
    """A unit acts only on its own issues (a district does not act on its towns' issues)."""
    if principal.role == "unit" and principal.unit_id != unit_id:
        raise Forbidden(f"unit {principal.unit_id!r} may not {action} an issue of {unit_id!r}")


async def readable_units(conn: Conn, principal: Principal) -> set[str] | None:
    """The units whose issues ``principal`` may read; ``None`` means all of them.

    R1.1: a district's unit token also reads its towns' issues (it does not act on them).
    """
    if principal.role != "unit":
        return None
    cur = await conn.execute("SELECT unit_id FROM units WHERE parent_id = %s", (principal.unit_id,))
    return {principal.unit_id or "", *(row["unit_id"] for row in await cur.fetchall())}


async def require_readable(conn: Conn, principal: Principal, unit_id: str) -> None:
    """Refuse to show an issue of a unit the caller may not read."""
    allowed = await readable_units(conn, principal)
    if allowed is not None and unit_id not in allowed:
        raise Forbidden(f"unit {principal.unit_id!r} may not read issues of {unit_id!r}")
