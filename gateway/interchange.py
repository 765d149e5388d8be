"""How a partner's interchanges look: its ids, ISA15 usage, delimiters, acks, versions.

These are the ``identity:`` and ``x12:`` sections of a partner profile: the ISA
and GS ids (and cXML credentials) the partner is recognised by, the delimiters
we write to it, whether it gets TA1s, how long control numbers are remembered
for duplicate checks, and the version and functional ack of each X12 document
type it exchanges (``x12.850``, ``x12.810``...).

Imports only the standard library, pydantic, ``gateway.settings`` (shared value
types) and ``gateway.yamlconfig``.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from gateway.settings import GsId, IsaId, IsaQualifier
from gateway.yamlconfig import matches

_CONFIG = ConfigDict(frozen=True, extra="forbid")
Separator = Annotated[
    str, matches(r"[^A-Za-z0-9\s]", "one punctuation character such as '*', '|', '>' or '~'")
]


class InterchangeId(BaseModel):
    """An ISA qualifier and id the partner sends as sender (ISA05/ISA06)."""

    model_config = _CONFIG

    qualifier: IsaQualifier
    id: IsaId


class CxmlCredential(BaseModel):
    """A cXML ``From`` credential, e.g. domain ``NetworkID``, identity ``AN01000000001``."""

    model_config = _CONFIG

    domain: str = Field(min_length=1, max_length=64)
    identity: str = Field(min_length=1, max_length=128)


class UsageIndicators(BaseModel):
    """ISA15 per direction: ``P`` production or ``T`` test."""

    model_config = _CONFIG

    inbound: Literal["P", "T"] = "P"
    outbound: Literal["P", "T"] = "P"


class Identity(BaseModel):
    """How the partner is recognised: ISA and GS ids for X12, credentials for cXML."""

    model_config = _CONFIG

    isa: tuple[InterchangeId, ...] = ()
    gs_ids: tuple[GsId, ...] = ()
    """GS02 application sender codes the partner uses (several allowed)."""
    usage: UsageIndicators = UsageIndicators()
    cxml: tuple[CxmlCredential, ...] = ()


class OutboundDelimiters(BaseModel):
    """Delimiters of the X12 we send; ``repetition`` is only written from version 00501 on."""

    model_config = _CONFIG

    element: Separator = "*"
    component: Separator = ":"
    repetition: Separator = "^"
    segment: Separator = "~"
    newline: bool = True
    """Write a line break after each segment terminator."""

    @model_validator(mode="after")
    def _distinct(self) -> OutboundDelimiters:
        chars = [self.element, self.component, self.repetition, self.segment]
        twice = sorted({c for c in chars if chars.count(c) > 1})
        if twice:
            raise ValueError(f"the four delimiters must differ, found {twice[0]!r} twice")
        return self


class X12Document(BaseModel):
    """One X12 document type the partner exchanges, e.g. the 850 it sends us."""

    model_config = _CONFIG

    version: Literal["004010", "005010"]
    functional_ack: Literal["997", "999", "none"] = "997"
    """Inbound: the ack we send back; outbound: the ack we expect from the partner."""


class OrderAckDocument(X12Document):
    """The 855 we send; ``ack_type`` is BAK02: AC with detail and changes, AD detail, AK none."""

    ack_type: Literal["AC", "AD", "AK"] = "AD"


class X12Settings(BaseModel):
    """X12 settings: outbound delimiters, TA1, duplicates, and one entry per document type."""

    model_config = _CONFIG

    delimiters: OutboundDelimiters = OutboundDelimiters()
    ta1: bool = False
    """Send a TA1 for every interchange received (else only when ISA14 asks or on errors)."""
    duplicate_window_days: int = Field(default=30, ge=0, le=3650)
    """An ISA13 seen again from this partner within this many days is a duplicate."""
    ack_deadline_hours: float = Field(default=24.0, gt=0, le=24 * 30)
    """Hours after we queue an 810 or 855 by which the partner's 997/999 must be back;
    past it the document is marked overdue and an alert goes out."""
    invoice: X12Document | None = Field(default=None, alias="810")
    remittance: X12Document | None = Field(default=None, alias="820")
    order: X12Document | None = Field(default=None, alias="850")
    order_ack: OrderAckDocument | None = Field(default=None, alias="855")

    def documents(self) -> dict[str, X12Document]:
        """The configured document types by transaction set id (``"850"``)."""
        out: dict[str, X12Document] = {}
        for name, info in type(self).model_fields.items():
            value = getattr(self, name)
            if isinstance(value, X12Document) and info.alias:
                out[info.alias] = value
        return out
