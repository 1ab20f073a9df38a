"""Make a bearer token for production (AUTH_MODE=production).

``python -m tools.tokens --role office --name 市创文办`` prints the new token once (give it to
its holder) and the TOML entry to append to the tokens file, which stores only its SHA-256
hash. Unit tokens need ``--unit-id``.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys

from services.runtime.auth import ROLES


def entry(token: str, role: str, name: str, unit_id: str | None) -> str:
    """The ``[[tokens]]`` entry of ``token`` (its hash only)."""
    lines = [
        "[[tokens]]",
        f'sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"',
        f"role = {json.dumps(role)}",
        f"name = {json.dumps(name, ensure_ascii=False)}",
    ]
    if unit_id:
        lines.append(f"unit_id = {json.dumps(unit_id)}")
    return "\n".join(lines) + "\n"


def main(argv: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--role", choices=ROLES, required=True)
    parser.add_argument("--name", required=True)
    parser.add_argument("--unit-id")
    args = parser.parse_args(argv)
    if args.role == "unit" and not args.unit_id:
        parser.error("a unit token needs --unit-id")
    token = secrets.token_urlsafe(32)
    print(f"token (shown once): {token}", file=sys.stderr)
    print(entry(token, args.role, args.name, args.unit_id))
    return 0


if __name__ == "__main__":
    raise SystemExit(main(sys.argv[1:]))
