"""Bearer tokens and roles (ARCHITECTURE.md "Interfaces")."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pytest
from fastapi import Depends, FastAPI
from fastapi.testclient import TestClient

from services.runtime.auth import Principal, TokenBook, requires


def book_file(tmp_path: Path, token: str, **entry: str) -> Path:
    lines = ["[[tokens]]", f'sha256 = "{hashlib.sha256(token.encode()).hexdigest()}"']
    lines += [f'{key} = "{value}"' for key, value in entry.items()]
    path = tmp_path / "tokens.toml"
    path.write_text("\n".join(lines))
    return path


def test_dev_tokens_name_a_role_or_a_unit() -> None:
    book = TokenBook.load("dev", None)
    assert book.resolve("dev-office") == Principal("office", "dev-office")
    assert book.resolve("dev-unit-dist-pengjiang") == Principal(
        "unit", "dev-unit-dist-pengjiang", "dist-pengjiang"
    )
    assert book.resolve("dev-unit") is None
    assert book.resolve("dev-admin") is None


def test_production_refuses_dev_tokens_and_knows_only_hashed_ones(tmp_path: Path) -> None:
    path = book_file(tmp_path, "s3cret-office-token", role="office", name="市创文办")
    book = TokenBook.load("production", path)
    assert book.resolve("dev-office") is None
    assert book.resolve("s3cret-office-token") == Principal("office", "市创文办")
    assert book.resolve("s3cret-office-tokeN") is None
    assert "s3cret" not in path.read_text()


def test_production_without_a_tokens_file_does_not_start() -> None:
    with pytest.raises(ValueError, match="auth_tokens_file"):
        TokenBook.load("production", None)


def test_a_bad_tokens_file_names_the_bad_entry(tmp_path: Path) -> None:
    path = book_file(tmp_path, "t", role="mayor")
    with pytest.raises(ValueError, match=r"tokens\[0\]: unknown role 'mayor'"):
        TokenBook.load("production", path)


def test_401_says_what_is_missing_and_403_which_roles_are_needed() -> None:
    app = FastAPI()
    book = TokenBook.load("dev", None)

    @app.post("/void")
    async def void(who: Principal = Depends(requires(lambda: book, "office"))) -> dict[str, str]:  # noqa: B008
        return {"by": who.name}

    client = TestClient(app)
    missing = client.post("/void")
    assert missing.status_code == 401
    assert "missing bearer token" in missing.json()["detail"]
    assert client.post("/void", headers={"Authorization": "Bearer nope"}).status_code == 401
    forbidden = client.post("/void", headers={"Authorization": "Bearer dev-viewer"})
    assert forbidden.status_code == 403
    assert "needs one of: office" in forbidden.json()["detail"]
    ok = client.post("/void", headers={"Authorization": "Bearer dev-office"})
    assert ok.json() == {"by": "dev-office"}


def test_a_token_made_by_the_tool_is_accepted_in_production(tmp_path: Path) -> None:
    from tools.tokens import entry

    path = tmp_path / "tokens.toml"
    path.write_text(entry("abc-unit-token", "unit", "蓬江区", "dist-pengjiang"))
    book = TokenBook.load("production", path)
    assert book.resolve("abc-unit-token") == Principal("unit", "蓬江区", "dist-pengjiang")
