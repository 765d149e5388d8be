"""The gateway's durable state behind one async API: payloads, documents, timelines, work.

Every method is async and safe to call from several tasks.

One :class:`Store` per process wraps a SQLAlchemy 2 async engine (``sqlite+aiosqlite``
or ``postgresql+asyncpg``). Raw payloads are content-addressed by sha256 and written
to ``<data_dir>/payloads/ab/cd/<sha256>`` with fsync of the file and its directory
before the row that names them commits (or into the ``payloads`` table when
``payloads_in_db``). Work is claimed with ``SELECT … FOR UPDATE SKIP LOCKED`` on
PostgreSQL and under a process-wide lock on SQLite, with a lease: a claim whose
lease expired (its worker died) is claimable again.

SQLite has one writer at a time: every write of every :class:`Store` on the same file in
this process runs under one ``asyncio.Lock`` and starts with ``BEGIN IMMEDIATE`` (other
processes wait on the busy timeout). A write made by the task that holds a
:meth:`Store.unit` open (``put_payload``, ``next_controls``, ``claim``…) joins that
unit's transaction instead of waiting for the lock it holds.

Imports SQLAlchemy, the standard library and the ``gateway.storage`` modules, plus
:mod:`gateway.x12.control` and :mod:`gateway.errors`.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import sqlalchemy as sa
from sqlalchemy.engine import make_url

from gateway.errors import (
    SchemaOutOfDateError as SchemaOutOfDateError,
)  # re-exported: it was defined here
from gateway.storage.accounts import AccountsStore
from gateway.storage.cash import CashStore
from gateway.storage.dso import DsoStore
from gateway.storage.engine import create_engine
from gateway.storage.ledger import LedgerStore
from gateway.storage.migrate import head_revision, schema_status
from gateway.storage.payloads import sha256_hex
from gateway.storage.records import (
    WORK_STATES,
    Controls,
    Direction,
    DocumentQuery,
    DocumentRecord,
    EventRecord,
    State,
)
from gateway.storage.rows import (
    document_record,
    event_record,
    reserve_controls,
    reserve_controls_many,
    search_statement,
    utcnow,
)
from gateway.storage.schema import documents, events, payloads
from gateway.storage.sessions import SessionRows
from gateway.storage.unit import Unit

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping, Sequence

    from gateway.settings import Settings
    from gateway.x12.control import ControlKind

__all__ = ["SchemaOutOfDateError", "Store", "Unit"]


RECEIVE_BATCH = 200
"""Most receipts committed together (see :meth:`Store.receive`)."""


@dataclass(slots=True)
class _Received:
    data: bytes
    fields: dict[str, Any]
    future: asyncio.Future[DocumentRecord] | None = None


def _settle(item: _Received, outcome: DocumentRecord | BaseException) -> None:
    future = item.future
    if future is None or future.done():  # the caller went away; the row stays stored
        return
    if isinstance(outcome, BaseException):
        future.set_exception(outcome)
    else:
        future.set_result(outcome)


class Store(LedgerStore, AccountsStore, CashStore, DsoStore, SessionRows):
    """See the module docstring. Build with :meth:`open`, end with :meth:`close`.

    The API keys, users and audit log methods come from
    :class:`gateway.storage.accounts.AccountsStore`; open items, ERP cursors and ack
    deadlines from :class:`gateway.storage.ledger.LedgerStore`; transactions from
    :class:`gateway.storage.base.StoreBase`.
    """

    @classmethod
    async def open(
        cls,
        url: str,
        *,
        data_dir: Path,
        payloads_in_db: bool = False,
        check_schema: bool = True,
    ) -> Store:
        """Connect; with ``check_schema`` raise :class:`SchemaOutOfDateError` when behind.

        A SQLite file that does not exist is not created here (that is ``o2c db upgrade``'s
        job): with ``check_schema`` it is reported as an empty database.
        """
        sqlite_file = _sqlite_file(url)
        if check_schema and sqlite_file is not None and not sqlite_file.exists():
            raise SchemaOutOfDateError(
                f"database schema is at nothing (an empty database: {sqlite_file} does not "
                f"exist yet), code needs {head_revision()}: run `o2c db upgrade`"
            )
        engine = create_engine(url)
        try:
            if check_schema:
                status = await schema_status(engine)
                if not status.up_to_date:
                    where = status.current or "nothing (an empty database)"
                    raise SchemaOutOfDateError(
                        f"database schema is at {where}, code needs {status.head}: "
                        "run `o2c db upgrade`"
                    )
        except BaseException:
            await engine.dispose()
            raise
        return cls(engine, data_dir=data_dir, payloads_in_db=payloads_in_db)

    @classmethod
    async def from_settings(cls, settings: Settings, *, check_schema: bool = True) -> Store:
        """:meth:`open` the store the settings name (database, data directory, payloads)."""
        return await cls.open(
            settings.database_url,
            data_dir=settings.data_dir,
            payloads_in_db=settings.payloads == "database",
            check_schema=check_schema,
        )

    # -- payloads -------------------------------------------------------------------------
    async def put_payload(self, data: bytes) -> str:
        """Store bytes durably (fsynced) under their sha256; return the hex digest.

        Inside a unit the payload is made durable by the unit's commit, just before
        the rows commit (files of one unit are fsynced together, in parallel).
        """
        [sha] = await self.put_payloads([data])
        return sha

    async def put_payloads(self, datas: Sequence[bytes]) -> list[str]:
        """:meth:`put_payload` for several payloads at once; their sha256s, in order.

        One trip to a worker thread and one round of parallel fsyncs for all of them.
        """
        datas = list(datas)
        active = self._active()
        if self._payloads_in_db:
            shas = await asyncio.to_thread(lambda: [sha256_hex(d) for d in datas])
            if active is not None:
                for sha, data in zip(shas, datas, strict=True):
                    active.unit.note_payload(sha, len(data), data)
            else:
                async with self.unit() as unit:
                    for sha, data in zip(shas, datas, strict=True):
                        unit.note_payload(sha, len(data), data)
            return shas
        if active is None:
            return await asyncio.to_thread(self._files.write_many, datas)
        results = await asyncio.to_thread(self._files.stage_many, datas)
        extra = []
        for (sha, staged), data in zip(results, datas, strict=True):
            if staged is None:
                continue
            if sha in active.unit.staged:
                extra.append(staged)  # staged twice in this unit: keep the first
            else:
                active.unit.staged[sha] = (staged, data)
        if extra:
            await asyncio.to_thread(self._files.discard, extra)
        return [sha for sha, _ in results]

    async def get_payload(self, sha256: str) -> bytes:
        """The bytes stored under ``sha256``; KeyError when unknown."""
        active = self._active()
        if active is not None and sha256 in active.unit.staged:
            return active.unit.staged[sha256][1]
        if not self._payloads_in_db:
            try:
                return await asyncio.to_thread(self._files.read, sha256)
            except KeyError:
                pass  # it may have been stored while payloads_in_db was on
        async with self._read() as conn:
            stmt = sa.select(payloads.c.data).where(payloads.c.sha256 == sha256)
            data = (await conn.execute(stmt)).scalar_one_or_none()
        if data is None:
            if self._payloads_in_db:
                try:
                    return await asyncio.to_thread(self._files.read, sha256)
                except KeyError:
                    pass
            raise KeyError(sha256)
        return bytes(data)

    # -- receiving ------------------------------------------------------------------------
    async def receive(
        self,
        data: bytes,
        *,
        partner_id: str | None,
        channel: str,
        filename: str | None = None,
        doc_type: str = "interchange",
        format: str = "x12",
        direction: Direction = "in",
        state: State = State.RECEIVED,
        controls: Controls = Controls(),  # noqa: B008 (frozen, shared safely)
        business_key: str | None = None,
        parent_id: int | None = None,
        message: str = "received",
        detail: dict[str, Any] | None = None,
    ) -> DocumentRecord:
        """Store the payload durably, then the document row and its first event, committed.

        When this returns the document survives a crash: only then may a channel tell
        the sender it has the file (HTTP 202, SFTP close OK, remote delete).
        """
        fields: dict[str, Any] = {
            "direction": direction,
            "partner_id": partner_id,
            "channel": channel,
            "doc_type": doc_type,
            "format": format,
            "state": state,
            "parent_id": parent_id,
            "filename": filename,
            "controls": controls,
            "business_key": business_key,
            "canonical": None,
            "message": message,
            "detail": detail,
        }
        if self._active() is not None:  # inside this task's own unit: join it
            [record] = await self._receive_batch([_Received(data, fields)])
            return record
        # Group commit: receipts arriving together share one round of fsyncs and one
        # transaction; each caller still returns only once its own row has committed.
        item = _Received(data, fields, asyncio.get_running_loop().create_future())
        self._receipts.append(item)
        if self._receiver is None or self._receiver.done():
            self._receiver = asyncio.create_task(self._commit_receipts(), name="o2c-receive")
        assert item.future is not None
        return await asyncio.shield(item.future)

    async def _commit_receipts(self) -> None:
        while self._receipts:
            batch = self._receipts[:RECEIVE_BATCH]
            del self._receipts[:RECEIVE_BATCH]
            try:
                records = await self._receive_batch(batch)
            except Exception as exc:
                if len(batch) == 1:
                    _settle(batch[0], exc)
                    continue
                for item in batch:  # one bad receipt must not fail its neighbours
                    try:
                        [record] = await self._receive_batch([item])
                    except Exception as one:
                        _settle(item, one)
                    else:
                        _settle(item, record)
                continue
            for item, record in zip(batch, records, strict=True):
                _settle(item, record)

    async def _receive_batch(self, batch: Sequence[_Received]) -> list[DocumentRecord]:
        """Payloads (fsynced before the rows commit), rows and first events: one unit."""
        async with self.unit() as unit:
            shas = await self.put_payloads([item.data for item in batch])
            return [
                await unit.insert(payload_sha256=sha, size=len(item.data), **item.fields)
                for item, sha in zip(batch, shas, strict=True)
            ]

    # -- work -----------------------------------------------------------------------------
    async def claim(
        self,
        *,
        worker: str,
        states: Iterable[State] = WORK_STATES,
        limit: int = 50,
        lease_seconds: float = 60.0,
        doc_types: Iterable[str] | None = None,
    ) -> list[DocumentRecord]:
        """Claim up to ``limit`` due documents in ``states`` for ``worker``, oldest first.

        Due: ``next_attempt_at`` is null or past, and no live lease is held by another
        worker. Each claimed row gets ``lease_owner=worker``, a lease expiry and
        ``attempts + 1``. Never hands one document to two live workers.

        A live lease of ``worker`` itself also keeps a document out: each document is
        handed out once per lease. ``lease_seconds=0`` makes the lease expire at once.
        """
        c = documents.c
        now = utcnow()
        select = (
            sa.select(c.id)
            .where(
                c.state.in_([State(s).value for s in states]),
                sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
                sa.or_(c.lease_expires_at.is_(None), c.lease_expires_at <= now),
            )
            .order_by(c.id)
            .limit(limit)
        )
        if doc_types is not None:
            select = select.where(c.doc_type.in_(list(doc_types)))
        if self.dialect == "postgresql":
            select = select.with_for_update(skip_locked=True)
        async with self._write() as conn:
            ids = list((await conn.execute(select)).scalars())
            if not ids:
                return []
            update = (
                sa.update(documents)
                .where(c.id.in_(ids))
                .values(
                    lease_owner=worker,
                    lease_expires_at=now + dt.timedelta(seconds=lease_seconds),
                    attempts=c.attempts + 1,
                    updated_at=now,
                )
                .returning(*documents.c)
            )
            rows = (await conn.execute(update)).all()
        return sorted((document_record(row) for row in rows), key=lambda r: r.id)

    async def release(self, worker: str, ids: Sequence[int] | None = None) -> int:
        """Drop ``worker``'s leases (all, or those ``ids``); return how many."""
        c = documents.c
        stmt = (
            sa.update(documents)
            .where(c.lease_owner == worker)
            .values(lease_owner=None, lease_expires_at=None, updated_at=utcnow())
        )
        if ids is not None:
            stmt = stmt.where(c.id.in_(list(ids)))
        async with self._write() as conn:
            return (await conn.execute(stmt)).rowcount

    # -- reading --------------------------------------------------------------------------
    async def get(self, doc_id: int) -> DocumentRecord | None:
        """One document, or None."""
        async with self._read() as conn:
            row = (await conn.execute(sa.select(documents).where(documents.c.id == doc_id))).first()
        return document_record(row) if row is not None else None

    async def events(self, doc_id: int) -> list[EventRecord]:
        """The document's timeline, oldest first."""
        stmt = sa.select(events).where(events.c.document_id == doc_id).order_by(events.c.id)
        async with self._read() as conn:
            return [event_record(row) for row in await conn.execute(stmt)]

    async def search(self, query: DocumentQuery) -> list[DocumentRecord]:
        """Documents matching every filter set in ``query``, newest first."""
        async with self._read() as conn:
            return [document_record(row) for row in await conn.execute(search_statement(query))]

    async def children(self, doc_id: int) -> list[DocumentRecord]:
        """Documents whose ``parent_id`` is ``doc_id`` (sets of a file, its acks), by id."""
        stmt = sa.select(documents).where(documents.c.parent_id == doc_id).order_by(documents.c.id)
        async with self._read() as conn:
            return [document_record(row) for row in await conn.execute(stmt)]

    async def count_by_state(self) -> dict[tuple[str | None, str, str], int]:
        """Document counts keyed by ``(partner_id, direction, state)`` (for metrics)."""
        c = documents.c
        stmt = sa.select(c.partner_id, c.direction, c.state, sa.func.count()).group_by(
            c.partner_id, c.direction, c.state
        )
        async with self._read() as conn:
            return {(p, d, s): int(n) for p, d, s, n in await conn.execute(stmt)}

    async def queue_depth(self) -> int:
        """How many documents are in a work state and due now."""
        c = documents.c
        now = utcnow()
        stmt = sa.select(sa.func.count()).where(
            c.state.in_([s.value for s in WORK_STATES]),
            sa.or_(c.next_attempt_at.is_(None), c.next_attempt_at <= now),
        )
        async with self._read() as conn:
            return int((await conn.execute(stmt)).scalar_one())

    async def find_interchange(
        self,
        *,
        partner_id: str | None,
        sender_id: str,
        interchange_control: str,
        since: dt.datetime,
        exclude_id: int,
    ) -> DocumentRecord | None:
        """An earlier (lower id) received interchange with this sender and ISA13 since ``since``.

        The duplicate check: ``exclude_id`` and documents marked duplicate do not count.
        """
        c = documents.c
        stmt = (
            sa.select(documents)
            .where(
                c.direction == "in",
                c.doc_type == "interchange",
                c.partner_id.is_not_distinct_from(partner_id),
                c.sender_id == sender_id,
                c.interchange_control == interchange_control,
                c.created_at >= since,
                c.id < exclude_id,
                c.state != State.DUPLICATE.value,
            )
            .order_by(c.id)
            .limit(1)
        )
        async with self._read() as conn:
            row = (await conn.execute(stmt)).first()
        return document_record(row) if row is not None else None

    # -- control numbers ------------------------------------------------------------------
    async def next_controls(self, scope: str, kind: ControlKind, count: int = 1) -> int:
        """Reserve ``count`` consecutive numbers of ``(scope, kind)``; return the first.

        In their own transaction (or the unit this task holds open). Never hands a number
        out twice, across processes; raises ControlNumbersExhaustedError past 999999999.
        """
        async with self._write() as conn:
            return await reserve_controls(conn, scope, kind, count)

    async def next_controls_many(
        self, counts: Mapping[tuple[str, ControlKind], int]
    ) -> dict[tuple[str, ControlKind], int]:
        """:meth:`next_controls` for several counters in one statement; the first of each."""
        async with self._write() as conn:
            return await reserve_controls_many(conn, counts)


def _sqlite_file(url: str) -> Path | None:
    """The file of a ``sqlite`` URL, or None (another database, or in memory)."""
    parsed = make_url(url)
    if parsed.get_backend_name() != "sqlite" or parsed.database in (None, "", ":memory:"):
        return None
    return Path(parsed.database)
