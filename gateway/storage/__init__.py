"""Durable storage: SQLAlchemy 2 async on SQLite or PostgreSQL, Alembic migrations."""

from gateway.storage.ledger import OpenItem
from gateway.storage.records import (
    FINAL_STATES,
    WORK_STATES,
    Controls,
    DocumentQuery,
    DocumentRecord,
    EventRecord,
    Principal,
    Role,
    State,
)
from gateway.storage.store import SchemaOutOfDateError, Store, Unit
from gateway.storage.unit import LeaseLostError, NewDocument

__all__ = [
    "FINAL_STATES",
    "WORK_STATES",
    "Controls",
    "DocumentQuery",
    "DocumentRecord",
    "EventRecord",
    "LeaseLostError",
    "NewDocument",
    "OpenItem",
    "Principal",
    "Role",
    "SchemaOutOfDateError",
    "State",
    "Store",
    "Unit",
]
