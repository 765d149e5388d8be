"""The receiver: size limit, format detection, partner by ISA sender."""

from __future__ import annotations

import codecs
from typing import TYPE_CHECKING

import pytest

from gateway.errors import DocumentError
from gateway.pipeline.receiver import DocumentTooLargeError, detect_format, read_isa
from gateway.storage import DocumentQuery
from tests.pipeline.files import BIGBOX_850, NORTHWIND_850

if TYPE_CHECKING:
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.settings import Settings
    from gateway.storage import Store


async def test_too_large_is_refused_and_nothing_stored(
    store: Store, receiver: PipelineReceiver, settings: Settings, data_dir: object
) -> None:
    wakes = receiver.wakeup.listen()
    big = b"ISA" + b"x" * (settings.max_document_bytes - 2)
    with pytest.raises(DocumentTooLargeError) as caught:
        await receiver(big, partner_id="bigbox", channel="http")
    assert isinstance(caught.value, DocumentError)  # adapters catch it through gateway.errors
    assert caught.value.size == len(big) and caught.value.limit == settings.max_document_bytes
    assert "over the limit" in str(caught.value)
    assert await store.search(DocumentQuery()) == []
    assert not wakes.is_set()
    # exactly at the limit is accepted
    at_limit = await receiver(big[:-1], partner_id="bigbox", channel="http")
    assert at_limit.size == settings.max_document_bytes
    assert wakes.is_set()


async def test_received_x12_is_durable_with_its_controls(
    store: Store, receiver: PipelineReceiver
) -> None:
    doc = await receiver(NORTHWIND_850, partner_id=None, channel="sftp_hosted", filename="a.edi")
    assert doc.partner_id == "northwind" and doc.filename == "a.edi"
    assert doc.controls.sender_id == "NORTHWINDDIST"
    assert doc.controls.interchange_control == "000000312"
    assert await store.get_payload(doc.payload_sha256) == NORTHWIND_850
    events = await store.events(doc.id)
    assert events[0].message == f"received {len(NORTHWIND_850)} bytes over sftp_hosted as a.edi"


@pytest.mark.parametrize(
    ("data", "content_type", "expected"),
    [
        (BIGBOX_850, None, "x12"),
        (codecs.BOM_UTF8 + b"\r\n  " + BIGBOX_850, None, "x12"),
        (b"<?xml version='1.0'?><a/>", None, "xml"),
        (codecs.BOM_UTF16_LE + "<a/>".encode("utf-16-le"), None, "xml"),
        (b'\n{"type": "invoice"}', None, "json"),
        (b"garbage", "application/json", "json"),
        (b"garbage", "text/plain", "unknown"),
        (b"", None, "unknown"),
    ],
)
def test_detect_format(data: bytes, content_type: str | None, expected: str) -> None:
    assert detect_format(data, content_type) == expected


def test_read_isa() -> None:
    isa = read_isa(BIGBOX_850)
    assert isa is not None
    assert (isa.sender_qualifier, isa.sender_id) == ("12", "5555550100")
    assert (isa.receiver_qualifier, isa.receiver_id) == ("ZZ", "O2CGATEWAY")
    assert isa.control == "000004711"
    nw = read_isa(NORTHWIND_850)
    assert nw is not None and nw.sender_id == "NORTHWINDDIST"  # '|' separator
    assert read_isa(b"ISA*00*short") is None
    assert read_isa(b"<xml/>") is None
