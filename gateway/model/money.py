"""Money in the canonical model: currency codes, payment terms, allowances and charges.

Amounts are ``Decimal`` in currency units: never floats, and never the
implied-decimal cents some X12 elements carry (the X12 layer converts those at
its edge).
Amounts may be negative, since credits exist. Nothing here rounds.

Imports only the standard library and pydantic.
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, StringConstraints

CurrencyCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]
"""An ISO 4217 alphabetic code such as ``USD``; checked in pydantic-core, not in Python."""


class Terms(BaseModel):
    """Terms of sale (ITD): when payment is due and what discount paying early earns."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    terms_type: str | None = None
    """Terms type code, e.g. ``01`` basic, ``05`` discount not applicable."""
    basis_date_code: str | None = None
    """Which date the days count from, e.g. ``3`` invoice date, ``2`` delivery date."""
    discount_percent: Decimal | None = None
    discount_due_date: dt.date | None = None
    discount_days: int | None = None
    net_due_date: dt.date | None = None
    net_days: int | None = None
    discount_amount: Decimal | None = None
    description: str | None = None


class AllowanceCharge(BaseModel):
    """One allowance or charge (SAC), on a document or on a line.

    ``indicator`` says which way it goes (``A`` lowers the amount due, ``C``
    raises it); ``amount`` is unsigned by that convention but may still be
    negative when the partner sends it so.
    """

    model_config = ConfigDict(frozen=True, extra="forbid")

    indicator: Literal["A", "C"]
    code: str
    """Allowance or charge code, e.g. ``D240`` freight, ``C310`` discount, ``H850`` tax."""
    amount: Decimal | None = None
    percent_basis: str | None = None
    """The percent qualifier: what ``percent`` applies to, e.g. ``1`` item list cost."""
    percent: Decimal | None = None
    method: str | None = None
    """Method of handling, e.g. ``02`` off invoice, ``06`` charge paid by the customer."""
    description: str | None = None
