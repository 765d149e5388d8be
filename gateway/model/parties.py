"""Who, where and which: parties, addresses, contacts, references and dates.

These are the building blocks every canonical document shares, at its header
(N1 loop, REF, DTM) and often on its lines too. Codes are kept as the partner
sent them (``ST`` ship-to, ``92`` buyer-assigned id, ``011`` shipped date);
translating them is the mapping layer's job.

Imports only the standard library and pydantic.
"""

from __future__ import annotations

import datetime as dt

from pydantic import BaseModel, ConfigDict


class Address(BaseModel):
    """A postal address (N3/N4). Every part is optional because partners omit any of them."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    lines: tuple[str, ...] = ()
    city: str | None = None
    state: str | None = None
    """State or province code, e.g. ``OH``, ``ON``."""
    postal_code: str | None = None
    country: str | None = None
    """Country code as sent, usually ISO 3166 alpha-2 (``US``) or alpha-3."""


class Contact(BaseModel):
    """A contact person or department (PER) inside a party."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    function_code: str
    """What the contact is for, e.g. ``IC`` information contact, ``BD`` buyer."""
    name: str | None = None
    phone: str | None = None
    email: str | None = None
    fax: str | None = None


class Party(BaseModel):
    """A party named on a document (N1 loop): ship-to, bill-to, buyer, supplier, payer."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    role: str
    """Entity identifier code: ``ST``, ``BT``, ``BY``, ``SU``, ``RE``, ``PR``, ``PE``..."""
    name: str | None = None
    id_qualifier: str | None = None
    """How ``id`` is to be read, e.g. ``1`` DUNS, ``92`` buyer-assigned, ``UL`` GLN."""
    id: str | None = None
    additional_names: tuple[str, ...] = ()
    """Name lines beyond the first (N2)."""
    address: Address | None = None
    contacts: tuple[Contact, ...] = ()


class Reference(BaseModel):
    """A reference identification (REF), e.g. ``DP`` department number, ``IA`` vendor number."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    qualifier: str
    value: str
    description: str | None = None


class DateRef(BaseModel):
    """A qualified date (DTM), e.g. ``002`` delivery requested, ``011`` shipped.

    ``time`` carries no timezone; ``time_code`` keeps the partner's time-zone
    code (``ET``, ``UT``...) when one was sent.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    qualifier: str
    date: dt.date
    time: dt.time | None = None
    time_code: str | None = None
