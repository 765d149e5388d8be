"""Two ERP connectors for trials and tests: ``memory`` and ``folder``.

Both take canonical purchase orders and are idempotent on ``(partner_id,
po_number)``: pushing the same order again answers ``created=False`` with the
id given the first time, so a retry or a reprocessed document never makes a
second order. Both also record cash applications (:class:`~gateway.ports.PaymentSink`),
idempotent on the payment's ``key``: recording a key again answers the first reference.

- ``memory`` keeps orders in a dict (``orders``) and payments in ``payments`` for
  tests and demos. Its fault knob ``failures`` is a list of errors raised by the next
  pushes (orders or payments), one each, standing in for an ERP that times out or
  refuses.
- ``folder`` writes ``<path>/<partner_id>/<po_number>.json`` (``path`` relative to
  the data directory unless absolute), and each payment as
  ``<path>/_payments/<key>.json`` (no partner folder name starts with ``_``). A file
  is written under a temporary name created with ``O_CREAT | O_EXCL``, fsynced, then
  linked to its final name: the link fails when the file exists, so two workers
  cannot both create it, and a crash never leaves a half-written file under the
  final name.

Imports only ``gateway.ports``, ``gateway.model``, ``gateway.errors`` and
``gateway.settings`` (adapter rule).
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import os
import re
import uuid
from pathlib import Path
from typing import TYPE_CHECKING, Any

from gateway.errors import ConfigError, DeliveryError, PermanentDeliveryError
from gateway.ports import ErpResult

if TYPE_CHECKING:
    from gateway.model import PurchaseOrder
    from gateway.ports import AdapterRegistry, GatewayContext, PaymentRecord

_SAFE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}")


class MemoryErp:
    """An ERP in a dict, keyed by ``(partner_id, po_number)``; see the module docstring."""

    name = "memory"

    def __init__(self) -> None:
        self.orders: dict[tuple[str, str], tuple[str, PurchaseOrder]] = {}
        self.failures: list[DeliveryError] = []
        self.pushes = 0
        """Calls of :meth:`push_order` and :meth:`record_payment`, failed ones included."""
        self.payments: dict[str, tuple[str, PaymentRecord]] = {}
        """Recorded payments by key: (reference, payment)."""

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        """Create the order unless it exists; raise the next queued failure first."""
        self.pushes += 1
        if self.failures:
            raise self.failures.pop(0)
        key = (partner_id, order.po_number)
        found = self.orders.get(key)
        if found is not None:
            return ErpResult(erp_order_id=found[0], status="open", created=False)
        erp_id = f"SO-{len(self.orders) + 1:06d}"
        self.orders[key] = (erp_id, order)
        return ErpResult(erp_order_id=erp_id, status="open", created=True)

    async def record_payment(self, payment: PaymentRecord) -> str:
        """Record the payment unless its key is known; raise the next queued failure first."""
        self.pushes += 1
        if self.failures:
            raise self.failures.pop(0)
        found = self.payments.get(payment.key)
        if found is not None:
            return found[0]
        reference = f"PAY-{len(self.payments) + 1:06d}"
        self.payments[payment.key] = (reference, payment)
        return reference

    async def health(self) -> bool:
        """Always healthy."""
        return True

    async def close(self) -> None:
        """Nothing to close."""


def safe_name(value: str) -> str:
    """A file name for ``value``: itself when harmless, else a cleaned name plus a hash.

    PO numbers come from partners; ``../x`` or ``a/b`` must not leave the folder, and two
    PO numbers that clean to the same name must not share a file.
    """
    if _SAFE.fullmatch(value) and value not in (".", ".."):
        return value
    cleaned = re.sub(r"[^A-Za-z0-9._-]", "_", value).lstrip("._")[:60] or "po"
    digest = hashlib.sha256(value.encode("utf-8")).hexdigest()[:12]
    return f"{cleaned}-{digest}"


class FolderErp:
    """Orders as JSON files, one per partner and PO number; see the module docstring."""

    name = "folder"

    def __init__(self, path: Path) -> None:
        self.path = path

    async def push_order(self, order: PurchaseOrder, *, partner_id: str) -> ErpResult:
        """Write the order unless its file exists; answer with the id in the file."""
        return await asyncio.to_thread(self._push, order, partner_id)

    def _push(self, order: PurchaseOrder, partner_id: str) -> ErpResult:
        folder = self.path / safe_name(partner_id)
        final = folder / f"{safe_name(order.po_number)}.json"
        if final.exists():
            return self._existing(final)
        erp_id = f"FOLDER-{uuid.uuid4().hex[:12].upper()}"
        record = {
            "erp_order_id": erp_id,
            "partner_id": partner_id,
            "order": order.model_dump(mode="json"),
        }
        if not _write_once(final, record, what="order"):
            return self._existing(final)
        return ErpResult(erp_order_id=erp_id, status="open", created=True)

    async def record_payment(self, payment: PaymentRecord) -> str:
        """Write ``_payments/<key>.json`` unless it exists; answer the reference in the file."""
        return await asyncio.to_thread(self._record_payment, payment)

    def _record_payment(self, payment: PaymentRecord) -> str:
        final = self.path / "_payments" / f"{safe_name(payment.key)}.json"
        if not final.exists():
            reference = f"FOLDER-PAY-{uuid.uuid4().hex[:12].upper()}"
            record = {
                "erp_reference": reference,
                "key": payment.key,
                "partner_id": payment.partner_id,
                "invoice_number": payment.invoice_number,
                "erp_invoice_id": payment.erp_invoice_id,
                "kind": payment.kind,
                "amount": str(payment.amount),
                "effective_date": payment.effective_date.isoformat(),
                "trace_number": payment.trace_number,
                "reason_code": payment.reason_code,
            }
            if _write_once(final, record, what="payment"):
                return reference
        try:
            return str(json.loads(final.read_bytes())["erp_reference"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PermanentDeliveryError(
                f"payment file {final} exists but cannot be read: {exc}"
            ) from exc

    @staticmethod
    def _existing(final: Path) -> ErpResult:
        try:
            record = json.loads(final.read_bytes())
            erp_id = str(record["erp_order_id"])
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise PermanentDeliveryError(
                f"order file {final} exists but cannot be read: {exc}"
            ) from exc
        return ErpResult(erp_order_id=erp_id, status="open", created=False)

    async def health(self) -> bool:
        """True when the folder exists or can be made, and is writable."""

        def check() -> bool:
            try:
                self.path.mkdir(parents=True, exist_ok=True)
            except OSError:
                return False
            return os.access(self.path, os.W_OK)

        return await asyncio.to_thread(check)

    async def close(self) -> None:
        """Nothing to close."""


def _write_once(final: Path, record: dict[str, Any], *, what: str) -> bool:
    """Write ``record`` as ``final`` atomically; False (nothing written) when it exists."""
    folder = final.parent
    body = json.dumps(record, indent=2, sort_keys=True).encode("utf-8")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        temp = folder / f".{final.name}.{uuid.uuid4().hex}.tmp"
        fd = os.open(temp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        try:
            os.write(fd, body)
            os.fsync(fd)
        finally:
            os.close(fd)
        try:
            os.link(temp, final)
        except FileExistsError:
            return False
        finally:
            temp.unlink(missing_ok=True)
        _fsync_dir(folder)
    except OSError as exc:
        raise PermanentDeliveryError(f"cannot write {what} file {final}: {exc}") from exc
    return True


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY)
    try:
        with contextlib.suppress(OSError):  # some file systems cannot fsync a directory
            os.fsync(fd)
    finally:
        os.close(fd)


async def memory_erp(ctx: GatewayContext, config: dict[str, Any]) -> MemoryErp:
    """Build the ``memory`` connector (it takes no settings)."""
    del ctx
    extra = sorted(set(config) - {"connector"})
    if extra:
        raise ConfigError(f"erp: the memory connector takes no settings, got {', '.join(extra)}")
    return MemoryErp()


async def folder_erp(ctx: GatewayContext, config: dict[str, Any]) -> FolderErp:
    """Build the ``folder`` connector: ``path`` (default ``erp``) under the data directory."""
    extra = sorted(set(config) - {"connector", "path"})
    if extra:
        raise ConfigError(f"erp: the folder connector takes only 'path', got {', '.join(extra)}")
    raw = config.get("path", "erp")
    if not isinstance(raw, str) or not raw:
        raise ConfigError("erp: 'path' of the folder connector must be a directory path")
    path = Path(raw)
    return FolderErp(path if path.is_absolute() else ctx.settings.data_dir / path)


def register(registry: AdapterRegistry) -> None:
    """Offer the ``memory`` and ``folder`` ERP connectors."""
    registry.add_erp("memory", memory_erp)
    registry.add_erp("folder", folder_erp)
