"""Where an inbound document came from: its interchange, group and set identity.

An ``Envelope`` is what the X12 layer read around a transaction set (ISA, GS
and ST), kept on the canonical document so that acks, duplicate checks and
error reports can name it. A document written by hand (``o2c render``) or built
for sending has none; the writer makes fresh control numbers for outbound files.
Identifiers are kept without the space padding of fixed-width interchange fields.

Imports only the standard library and pydantic.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import BaseModel, ConfigDict


class Envelope(BaseModel):
    """The interchange, group and transaction-set identity of one document."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    sender_qualifier: str
    """Interchange sender id qualifier, e.g. ``01`` DUNS, ``12`` phone, ``ZZ`` mutually defined."""
    sender_id: str
    receiver_qualifier: str
    receiver_id: str
    interchange_control: str
    """Interchange control number as sent (nine digits, leading zeros kept)."""
    group_control: str
    transaction_control: str
    version: str
    """Group version, release and industry code, e.g. ``004010`` or ``005010X231A1``."""
    functional_id: str | None = None
    """Functional identifier code of the group, e.g. ``PO``, ``IN``, ``RA``, ``FA``."""
    usage_indicator: Literal["P", "T", "I"] | None = None
    """``P`` production, ``T`` test, ``I`` information."""
    interchange_date: dt.date | None = None
    interchange_time: dt.time | None = None
    interchange_version: str | None = None
    """Interchange control version, e.g. ``00401``, ``00501``."""
    group_sender_id: str | None = None
    """Application sender code of the group, when it differs from the interchange sender."""
    group_receiver_id: str | None = None
    implementation_reference: str | None = None
    """Implementation convention reference of the set, e.g. ``005010X231A1``."""
