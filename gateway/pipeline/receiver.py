"""The one way into the gateway for inbound bytes: :class:`PipelineReceiver`.

Channels (HTTP, hosted SFTP, pollers, folders) hand every file to the receiver. It
refuses a file over ``Settings.max_document_bytes`` (nothing stored), tells X12
from XML and JSON by the first bytes, names the partner when the channel did not
(an X12 file by its ISA sender, cXML by its ``From`` credential, canonical JSON by
its envelope's sender), and stores the file through
:meth:`Store.receive` (durable before it returns). Then it wakes the workers of
this process through a :class:`Wakeup`; workers of other processes find the file
at their next poll.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import asyncio
import codecs
import json
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.errors import DocumentError, MappingError
from gateway.errors import (
    DocumentTooLargeError as DocumentTooLargeError,
)  # re-exported: it was defined here
from gateway.storage import Controls
from gateway.xmldocs import compile_xpath, parse_xml, xpath_nodes, xpath_text

if TYPE_CHECKING:
    from gateway.partners import PartnerRegistry
    from gateway.settings import Settings
    from gateway.storage import DocumentRecord, Store

log = logging.getLogger(__name__)

_BOM = codecs.BOM_UTF8
_WIDE_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)
_WHITESPACE = b" \t\r\n\f\v"
_ISA_FIELDS = 16  # ISA00 (the tag) to ISA15 are followed by a separator
_CXML_FROM = compile_xpath("/cXML/Header/From/Credential")
_IDENTITY = compile_xpath("string(Identity)")
_DOMAIN = compile_xpath("string(@domain)")
# Content types a channel may pass when the bytes say nothing we recognise.
_TYPE_HINTS = {
    "application/edi-x12": "x12",
    "application/xml": "xml",
    "text/xml": "xml",
    "application/json": "json",
}


class Wakeup:
    """Tells the workers of this process that work arrived (one event per listener)."""

    def __init__(self) -> None:
        self._events: list[asyncio.Event] = []

    def listen(self) -> asyncio.Event:
        """A new event that :meth:`notify` sets; the listener clears it after waking."""
        event = asyncio.Event()
        self._events.append(event)
        return event

    def forget(self, event: asyncio.Event) -> None:
        """Stop setting ``event``."""
        if event in self._events:
            self._events.remove(event)

    def notify(self) -> None:
        """Wake every listener."""
        for event in self._events:
            event.set()


@dataclass(frozen=True, slots=True)
class IsaHeader:
    """What the receiver reads from an ISA without parsing the file (trimmed values)."""

    sender_qualifier: str
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    control: str


def detect_format(data: bytes, content_type: str | None = None) -> str:
    """``x12``, ``xml``, ``json``, or ``unknown``: by the first bytes, else the content type.

    A UTF-8 byte order mark and leading whitespace are skipped; X12 starts with
    ``ISA``, XML with ``<`` and canonical JSON with ``{``.
    """
    head = _head(data)
    if head.startswith(b"ISA"):
        return "x12"
    if head.startswith(b"<"):
        return "xml"
    if head.startswith(b"{"):
        return "json"
    hint = (content_type or "").split(";")[0].strip().lower()
    return _TYPE_HINTS.get(hint, "unknown")


def read_isa(data: bytes) -> IsaHeader | None:
    """The ISA's sender, receiver and control number, or None when they cannot be read.

    The element separator is the byte after ``ISA`` (X12.5: the ISA is fixed
    length, but the trimmed values are what partner profiles name).
    """
    head = _head(data)[:512]
    if len(head) < 4 or not head.startswith(b"ISA"):
        return None
    sep = head[3:4]
    fields = head.split(sep, _ISA_FIELDS)
    if len(fields) < 14:
        return None
    try:
        values = [f.decode("ascii").strip() for f in fields[5:9]] + [
            fields[13].decode("ascii").strip()
        ]
    except UnicodeDecodeError:
        return None
    return IsaHeader(*values)


def _head(data: bytes) -> bytes:
    """The first bytes after a byte order mark and whitespace (UTF-16/32 read as ASCII)."""
    for bom, codec in _WIDE_BOMS:
        if data.startswith(bom):
            text = data[len(bom) : len(bom) + 4096].decode(codec, errors="replace")
            return text.encode("ascii", errors="replace").lstrip(_WHITESPACE)[:1024]
    start = len(_BOM) if data.startswith(_BOM) else 0
    return data[start : start + 1024].lstrip(_WHITESPACE)


class PipelineReceiver:
    """Implements :class:`gateway.ports.Receiver`: store durably, then wake the workers."""

    def __init__(
        self,
        store: Store,
        settings: Settings,
        partners: PartnerRegistry,
        *,
        wakeup: Wakeup | None = None,
    ) -> None:
        self.store = store
        self.settings = settings
        self.partners = partners
        self.wakeup = wakeup or Wakeup()

    async def __call__(
        self,
        data: bytes,
        *,
        partner_id: str | None,
        channel: str,
        filename: str | None = None,
        content_type: str | None = None,
    ) -> DocumentRecord:
        """Store ``data`` as a received document and return it (see the module docstring).

        Raises:
            DocumentTooLargeError: ``data`` is over the size limit; nothing was stored.
        """
        limit = self.settings.max_document_bytes
        if len(data) > limit:
            log.warning(
                "document refused: too large",
                extra={"partner_id": partner_id, "channel": channel, "size": len(data)},
            )
            raise DocumentTooLargeError(len(data), limit)
        fmt = detect_format(data, content_type)
        controls = Controls()
        detail: dict[str, str] = {"format": fmt}
        if fmt == "x12":
            isa = read_isa(data)
            if isa is not None:
                controls = Controls(
                    sender_id=isa.sender_id,
                    receiver_id=isa.receiver_id,
                    interchange_control=isa.control,
                )
                if partner_id is None:
                    found = self.partners.by_interchange(isa.sender_qualifier, isa.sender_id)
                    partner_id = found.id if found is not None else None
                    if found is None:
                        detail["note"] = (
                            f"no partner profile for ISA sender {isa.sender_qualifier}:"
                            f"{isa.sender_id}"
                        )
        elif partner_id is None and fmt in ("xml", "json"):
            partner_id = await asyncio.to_thread(self._structured_partner, data, fmt)
        record = await self.store.receive(
            data,
            partner_id=partner_id,
            channel=channel,
            filename=filename,
            doc_type="interchange" if fmt == "x12" else fmt,
            format=fmt,
            controls=controls,
            message=f"received {len(data)} bytes over {channel}"
            + (f" as {filename}" if filename else ""),
            detail=detail,
        )
        log.info(
            "document received",
            extra={
                "partner_id": record.partner_id,
                "document_id": record.id,
                "channel": channel,
                "format": fmt,
                "interchange_control": controls.interchange_control,
            },
        )
        self.wakeup.notify()
        return record

    def _structured_partner(self, data: bytes, fmt: str) -> str | None:
        """The partner a cXML ``From`` credential or a JSON envelope's sender names."""
        found = None
        if fmt == "xml":
            try:
                root = parse_xml(data, max_bytes=self.settings.max_document_bytes)
                credentials = xpath_nodes(root, _CXML_FROM)
            except (DocumentError, MappingError):
                return None  # the worker rejects it and says why
            for credential in credentials:
                domain = xpath_text(credential, _DOMAIN) or ""
                identity = xpath_text(credential, _IDENTITY) or ""
                found = found or self.partners.by_cxml(domain, identity)
        else:
            try:
                envelope = json.loads(data).get("envelope") or {}
                qualifier, sender = envelope["sender_qualifier"], envelope["sender_id"]
                found = self.partners.by_interchange(str(qualifier), str(sender))
            except (ValueError, AttributeError, KeyError, TypeError):
                return None
        return found.id if found is not None else None
