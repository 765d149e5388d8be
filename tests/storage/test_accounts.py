from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING

import pytest

from gateway.errors import UsageError
from gateway.storage import Principal
from gateway.storage.credentials import check_password, hash_password

if TYPE_CHECKING:
    from gateway.storage import Store


async def test_api_key_create_verify_revoke(store: Store) -> None:
    key_id, key = await store.create_api_key(partner_id="acme", label="acme erp")
    assert key.startswith("o2c_") and len(key) > 40
    assert await store.verify_api_key(key) == Principal(
        name="acme erp", role="partner", partner_id="acme", key_id=key_id
    )
    assert await store.verify_api_key(key[:-1] + ("A" if key[-1] != "A" else "B")) is None
    assert await store.verify_api_key("o2c_wrong") is None
    assert await store.verify_api_key("") is None

    [listed] = await store.list_api_keys()
    assert listed["id"] == key_id and listed["partner_id"] == "acme"
    assert listed["role"] == "partner" and listed["label"] == "acme erp"
    assert listed["revoked_at"] is None and listed["created_at"].tzinfo is not None
    assert key not in repr(listed) and key[12:] not in repr(listed)

    assert await store.revoke_api_key(key_id) is True
    assert await store.revoke_api_key(key_id) is False
    assert await store.revoke_api_key(9999) is False
    assert await store.verify_api_key(key) is None
    [listed] = await store.list_api_keys()
    assert isinstance(listed["revoked_at"], dt.datetime)


async def test_api_keys_by_partner_and_roles(store: Store) -> None:
    acme_id, _ = await store.create_api_key(partner_id="acme")
    globex_id, _ = await store.create_api_key(partner_id="globex")
    admin_id, admin_key = await store.create_api_key(partner_id=None, role="admin")
    assert [k["id"] for k in await store.list_api_keys("acme")] == [acme_id]
    assert [k["id"] for k in await store.list_api_keys()] == [acme_id, globex_id, admin_id]
    principal = await store.verify_api_key(admin_key)
    assert principal is not None and principal.role == "admin" and principal.partner_id is None
    assert principal.name == f"api key {admin_id}"
    with pytest.raises(UsageError, match="partner"):
        await store.create_api_key(partner_id=None)
    with pytest.raises(UsageError, match="role"):
        await store.create_api_key(partner_id="acme", role="root")  # type: ignore[arg-type]


async def test_users(store: Store) -> None:
    user_id = await store.create_user("ops", "correct horse", "operator")
    assert user_id >= 1
    assert await store.verify_user("ops", "correct horse") == Principal(name="ops", role="operator")
    assert await store.verify_user("ops", "wrong") is None
    assert await store.verify_user("nobody", "correct horse") is None
    with pytest.raises(UsageError, match="already exists"):
        await store.create_user("ops", "other", "viewer")
    with pytest.raises(UsageError):
        await store.create_user("p", "pw", "partner")
    with pytest.raises(UsageError):
        await store.create_user("empty", "", "viewer")


def test_password_hashes_are_salted_and_checked() -> None:
    first, second = hash_password("pw"), hash_password("pw")
    assert first != second and first.startswith("scrypt$16384$8$1$")
    assert check_password("pw", first) and check_password("pw", second)
    assert not check_password("pw!", first)
    assert not check_password("pw", None)
    assert not check_password("pw", "garbage")


async def test_audit_log_is_newest_first(store: Store) -> None:
    await store.audit("admin", "apikey.create", "key 1", {"partner": "acme"})
    await store.audit("ops", "document.reprocess", "document 7")
    entries = await store.audit_log()
    assert [(e["actor"], e["action"], e["target"]) for e in entries] == [
        ("ops", "document.reprocess", "document 7"),
        ("admin", "apikey.create", "key 1"),
    ]
    assert entries[1]["detail"] == {"partner": "acme"} and entries[0]["detail"] == {}
    assert entries[0]["at"].tzinfo is not None and entries[0]["id"] > entries[1]["id"]
    assert len(await store.audit_log(limit=1)) == 1
