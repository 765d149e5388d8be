"""``o2c db``, ``o2c apikeys`` and ``o2c users`` against a real database (SQLite and PostgreSQL)."""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import TYPE_CHECKING, TypeVar

import pytest

from gateway.cli import main
from gateway.storage import Principal, Store
from gateway.storage.migrate import head_revision

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

ROOT = Path(__file__).parents[2]
T = TypeVar("T")


def run(*argv: str) -> tuple[int, str]:
    out = io.StringIO()
    return main(list(argv), out=out), out.getvalue()


@pytest.fixture
def env(database_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Settings for the CLI: the test database, a data dir, the shipped partners."""
    data_dir = tmp_path / "var"
    monkeypatch.setenv("O2C_DATABASE_URL", database_url)
    monkeypatch.setenv("O2C_DATA_DIR", str(data_dir))
    monkeypatch.setenv("O2C_PARTNERS_DIR", str(ROOT / "partners"))
    monkeypatch.setenv("O2C_MAPPINGS_DIR", str(ROOT / "mappings"))
    monkeypatch.delenv("O2C_CONFIG_FILE", raising=False)
    monkeypatch.chdir(tmp_path)
    return data_dir


@pytest.fixture
def upgraded(env: Path) -> Path:
    code, _ = run("db", "upgrade")
    assert code == 0
    return env


def with_store(database_url: str, data_dir: Path, work: Callable[[Store], Awaitable[T]]) -> T:
    async def go() -> T:
        store = await Store.open(database_url, data_dir=data_dir)
        try:
            return await work(store)
        finally:
            await store.close()

    return asyncio.run(go())


def test_db_status_and_upgrade(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    head = head_revision()
    code, out = run("db", "status")
    assert code == 1
    assert f"nothing (an empty database), code needs {head}: run `o2c db upgrade`" in out

    code, out = run("db", "upgrade")
    assert code == 0
    assert f"upgraded from an empty database to {head} (applied 0001, 0002" in out
    assert "password" not in out

    code, out = run("db", "upgrade")
    assert code == 0 and f"already at {head}, nothing to do" in out
    code, out = run("db", "status")
    assert code == 0 and f"at {head}, up to date" in out


def test_commands_refuse_an_old_schema(env: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code, out = run("apikeys", "list")
    assert code == 1 and out == ""
    assert "run `o2c db upgrade`" in capsys.readouterr().err


def test_apikeys_create_list_revoke(
    upgraded: Path, database_url: str, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("apikeys", "create", "--partner", "northwind", "--label", "northwind erp")
    assert code == 0
    lines = out.splitlines()
    key = lines[-1]
    assert key.startswith("o2c_") and "created api key 1 for partner northwind" in lines[0]
    principal = with_store(database_url, upgraded, lambda s: s.verify_api_key(key))
    assert principal == Principal(
        name="northwind erp", role="partner", partner_id="northwind", key_id=1
    )

    code, out = run("apikeys", "create", "--role", "operator")
    assert code == 0
    staff_key = out.splitlines()[-1]
    staff = with_store(database_url, upgraded, lambda s: s.verify_api_key(staff_key))
    assert staff is not None and staff.role == "operator" and staff.partner_id is None

    code, out = run("apikeys", "list", "--format", "json")
    assert code == 0
    rows = json.loads(out)
    assert [(r["id"], r["partner_id"], r["role"]) for r in rows] == [
        (1, "northwind", "partner"),
        (2, None, "operator"),
    ]
    assert key not in out and rows[0]["revoked_at"] is None
    code, out = run("apikeys", "list", "--partner", "northwind")
    assert code == 0 and len(out.splitlines()) == 1 and "northwind erp" in out

    assert run("apikeys", "revoke", "1") == (0, "revoked api key 1\n")
    assert with_store(database_url, upgraded, lambda s: s.verify_api_key(key)) is None
    code, _ = run("apikeys", "revoke", "1")
    assert code == 1 and "no live api key 1" in capsys.readouterr().err
    code, out = run("apikeys", "list")
    assert "revoked" in out.splitlines()[0]

    audit = with_store(database_url, upgraded, lambda s: s.audit_log())
    assert [a["action"] for a in audit] == ["apikey.revoke", "apikey.create", "apikey.create"]
    assert all(a["actor"].startswith("cli") for a in audit)


def test_apikeys_create_checks_the_partner(
    upgraded: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, out = run("apikeys", "create", "--partner", "nobody")
    assert code == 1 and out == ""
    assert "no partner profile with id 'nobody'" in capsys.readouterr().err
    code, out = run("apikeys", "create")
    assert code == 2 and "needs --partner" in capsys.readouterr().err
    code, _ = run("apikeys", "create", "--partner", "northwind", "--role", "root")
    assert code == 2


def test_users_create(
    upgraded: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("s3cret pass\n"))
    code, out = run("users", "create", "alice", "--role", "operator", "--password-stdin")
    assert code == 0 and "created user alice" in out and "s3cret" not in out
    principal = with_store(database_url, upgraded, lambda s: s.verify_user("alice", "s3cret pass"))
    assert principal == Principal(name="alice", role="operator")

    monkeypatch.setattr("sys.stdin", io.StringIO("other\n"))
    code, _ = run("users", "create", "alice", "--role", "viewer", "--password-stdin")
    assert code == 2 and "already exists" in capsys.readouterr().err


def test_users_create_prompts(
    upgraded: Path,
    database_url: str,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    answers = iter(["pw one", "pw two"])
    monkeypatch.setattr("getpass.getpass", lambda prompt="": next(answers))
    code, _ = run("users", "create", "bob", "--role", "admin")
    assert code == 2 and "differ" in capsys.readouterr().err

    answers = iter(["pw one", "pw one"])
    code, out = run("users", "create", "bob", "--role", "admin")
    assert code == 0 and "role admin" in out
    principal = with_store(database_url, upgraded, lambda s: s.verify_user("bob", "pw one"))
    assert principal is not None and principal.role == "admin"
