"""Bearer tokens mapped to roles (ARCHITECTURE.md "Interfaces": office, inspector, unit, viewer,
ops).

- ``dev`` mode (``make run``, tests): the documented tokens ``dev-office``, ``dev-inspector``,
  ``dev-viewer``, ``dev-ops`` and ``dev-unit-<unit_id>`` are accepted.
- ``production`` mode: tokens come from a secrets file (TOML) that stores only their SHA-256
  hashes; dev tokens are refused there even if a file lists them.

401 says the token is missing or unknown; 403 names the roles the action needs.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import tomllib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from fastapi import HTTPException, Request

Role = Literal["office", "inspector", "unit", "viewer", "ops"]
ROLES: tuple[Role, ...] = ("office", "inspector", "unit", "viewer", "ops")
_DEV_UNIT = re.compile(r"^dev-unit-([a-z0-9][a-z0-9-]{0,62}[a-z0-9])$")


@dataclass(frozen=True)
class Principal:
    """Who is calling: a role, and for the unit role the unit it speaks for."""

    role: Role
    name: str
    unit_id: str | None = None


class TokenBook:
    """Resolves bearer tokens to principals."""

    def __init__(self, mode: Literal["dev", "production"], hashed: dict[str, Principal]) -> None:
        self.mode = mode
        self._hashed = hashed

    @classmethod
    def load(cls, mode: Literal["dev", "production"], tokens_file: Path | None) -> TokenBook:
        """Read the secrets file; a production book without one is a configuration error."""
        hashed: dict[str, Principal] = {}
        if tokens_file is not None:
            data = tomllib.loads(tokens_file.read_text(encoding="utf-8"))
            for i, entry in enumerate(data.get("tokens", [])):
                try:
                    role = entry["role"]
                    if role not in ROLES:
                        raise ValueError(f"unknown role {role!r}")
                    if role == "unit" and not entry.get("unit_id"):
                        raise ValueError("a unit token needs unit_id")
                    digest = str(entry["sha256"]).lower()
                    if not re.fullmatch(r"[0-9a-f]{64}", digest):
                        raise ValueError("sha256 must be 64 hex digits")
                except (KeyError, ValueError) as exc:
                    raise ValueError(f"{tokens_file}: tokens[{i}]: {exc}") from exc
                hashed[digest] = Principal(role, entry.get("name", role), entry.get("unit_id"))
        elif mode == "production":
            raise ValueError("auth_mode=production needs auth_tokens_file")
        return cls(mode, hashed)

    def resolve(self, token: str) -> Principal | None:
        if token.startswith("dev-"):
            return self._dev(token) if self.mode == "dev" else None
        digest = hashlib.sha256(token.encode()).hexdigest()
        for known, principal in self._hashed.items():
            if hmac.compare_digest(known, digest):
                return principal
        return None

    @staticmethod
    def _dev(token: str) -> Principal | None:
        if match := _DEV_UNIT.match(token):
            return Principal("unit", token, match.group(1))
        role = token.removeprefix("dev-")
        if role in ROLES and role != "unit":
            return Principal(role, token)
        return None


def requires(
    book: Callable[[], TokenBook], *roles: Role
) -> Callable[[Request], Awaitable[Principal]]:
    """A FastAPI dependency: the caller's principal, if its role is one of ``roles``.

    ``book`` is called per request (the service loads its tokens when it starts)."""

    async def dependency(request: Request) -> Principal:
        header = request.headers.get("authorization", "")
        scheme, _, token = header.partition(" ")
        if scheme.lower() != "bearer" or not token.strip():
            raise HTTPException(
                401,
                "missing bearer token (Authorization: Bearer <token>)",
                headers={"WWW-Authenticate": "Bearer"},
            )
        principal = book().resolve(token.strip())
        if principal is None:
            raise HTTPException(
                401, "unknown or revoked token", headers={"WWW-Authenticate": "Bearer"}
            )
        if principal.role not in roles:
            raise HTTPException(
                403, f"role {principal.role!r} may not do this; needs one of: {', '.join(roles)}"
            )
        return principal

    return dependency
