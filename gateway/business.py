"""A partner's business settings: terms, currency, item cross-reference, units, cash, DSO.

These are the ``business:`` section of a partner profile. The item cross-reference
maps the partner's part numbers and UPCs to our SKUs, from an inline table or a
CSV file (:func:`read_xref_csv`); unit conversions carry ``Decimal`` factors; the
cash tolerances tell cash application how far a remittance may stray from an
invoice and still match; the DSO thresholds say when to warn.

Imports only the standard library, pydantic, ``gateway.model`` and
``gateway.yamlconfig``.
"""

from __future__ import annotations

import csv
import io
from decimal import Decimal
from functools import cached_property
from typing import TYPE_CHECKING, Annotated, Final, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, model_validator

from gateway.model import CurrencyCode, Terms
from gateway.yamlconfig import RelativePath, explain, matches

if TYPE_CHECKING:
    from pathlib import Path

_CONFIG = ConfigDict(frozen=True, extra="forbid")
_CSV_COLUMNS: Final = frozenset({"sku", "partner_part", "upc"})

Upc = Annotated[str, matches(r"[0-9]{8,14}", "a UPC, EAN or GTIN: 8 to 14 digits")]
Uom = Annotated[str, matches(r"[A-Z0-9]{2}", "a 2-character unit-of-measure code such as EA")]


class XrefEntry(BaseModel):
    """One item: our SKU and the partner's part number and/or UPC for it."""

    model_config = _CONFIG

    sku: str = Field(min_length=1, max_length=64)
    partner_part: str | None = Field(default=None, min_length=1, max_length=64)
    upc: Upc | None = None

    @model_validator(mode="after")
    def _has_partner_side(self) -> XrefEntry:
        if self.partner_part is None and self.upc is None:
            raise ValueError(f"SKU {self.sku!r} needs partner_part or upc (or both)")
        return self


class ItemXref(BaseModel):
    """The partner's part numbers and UPCs mapped to our SKUs.

    Written either inline (``items``) or as ``csv: acme/items.csv``, relative to the
    partners directory. After the registry loads a profile, ``items`` holds the CSV rows.
    """

    model_config = _CONFIG

    csv: RelativePath | None = None
    items: tuple[XrefEntry, ...] = ()

    @model_validator(mode="after")
    def _one_source(self) -> ItemXref:
        if self.csv is not None and self.items:
            raise ValueError("set csv or items, not both")
        _check_unique(self.items)
        return self

    @cached_property
    def _index(self) -> dict[tuple[str, str], str]:
        index: dict[tuple[str, str], str] = {}
        for item in self.items:
            if item.partner_part is not None:
                index[("part", item.partner_part)] = item.sku
            if item.upc is not None:
                index[("upc", item.upc)] = item.sku
        return index

    def sku_for(self, *, partner_part: str | None = None, upc: str | None = None) -> str | None:
        """Our SKU for a partner part number or UPC (the part number is tried first)."""
        if partner_part is not None and (sku := self._index.get(("part", partner_part))):
            return sku
        return self._index.get(("upc", upc)) if upc is not None else None


def _check_unique(items: tuple[XrefEntry, ...]) -> None:
    seen: dict[tuple[str, str], str] = {}
    for item in items:
        for key in (("partner part", item.partner_part), ("UPC", item.upc)):
            if key[1] is None:
                continue
            first = seen.setdefault((key[0], key[1]), item.sku)
            if first != item.sku:
                raise ValueError(f"{key[0]} {key[1]!r} maps to two SKUs: {first!r}, {item.sku!r}")


def read_xref_csv(path: Path, *, display: str) -> tuple[tuple[XrefEntry, ...], list[str]]:
    """Read a cross-reference CSV: a header with ``sku`` and ``partner_part`` and/or ``upc``.

    Other columns (a description, say) are ignored. Returns the rows and one problem
    per bad row or cell, each as ``file:line: column: message``.
    """
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        return (), [f"file not found: {display}"]
    except (OSError, UnicodeDecodeError) as exc:
        return (), [f"cannot read {display}: {exc}"]
    reader = csv.DictReader(io.StringIO(text))
    header = [h.strip().lower() for h in reader.fieldnames or []]
    if "sku" not in header or not {"partner_part", "upc"} & set(header):
        found = ", ".join(header) or "nothing"
        return (), [
            f"{display}:1: expected a header with sku and partner_part or upc, found {found}"
        ]
    rows: list[XrefEntry] = []
    problems: list[str] = []
    for row in reader:
        values = {
            key.strip().lower(): value.strip()
            for key, value in row.items()
            if isinstance(key, str) and isinstance(value, str) and value.strip()
        }
        try:
            rows.append(
                XrefEntry.model_validate({k: v for k, v in values.items() if k in _CSV_COLUMNS})
            )
        except ValidationError as exc:
            for err in exc.errors():
                column = ".".join(str(p) for p in err["loc"]) or "row"
                problems.append(f"{display}:{reader.line_num}: {column}: {explain(err)}")
    if not problems:
        try:
            _check_unique(tuple(rows))
        except ValueError as exc:
            problems.append(f"{display}: {exc}")
    return tuple(rows), problems


class UomConversion(BaseModel):
    """One partner unit is ``factor`` of our units, e.g. CA → EA with factor 12."""

    model_config = _CONFIG

    partner_uom: Uom
    our_uom: Uom
    factor: Decimal = Field(gt=0)
    sku: str | None = None
    """Only for this SKU; without it the conversion applies to every item."""


class CashTolerances(BaseModel):
    """How far a payment may differ from an invoice and still be applied automatically."""

    model_config = _CONFIG

    amount_tolerance: Decimal = Field(default=Decimal(0), ge=0)
    """Largest difference, in currency units, written off as a small balance."""
    discount_grace_days: int = Field(default=0, ge=0, le=60)
    """Days after the discount date during which a discounted payment is still accepted."""
    allow_amount_only: bool = False
    """Match on amount alone when the remittance names nothing we know."""
    remittance_references: tuple[Literal["invoice", "po"], ...] = Field(
        default=("invoice",), min_length=1
    )
    """What the partner quotes on remittance lines, in the order to try."""


class DsoThresholds(BaseModel):
    """Days sales outstanding for this partner above which to warn, then alert."""

    model_config = _CONFIG

    warn_days: int = Field(default=45, ge=1, le=365)
    alert_days: int = Field(default=60, ge=1, le=365)

    @model_validator(mode="after")
    def _ordered(self) -> DsoThresholds:
        if self.alert_days < self.warn_days:
            raise ValueError(
                f"alert_days ({self.alert_days}) must be at least warn_days ({self.warn_days})"
            )
        return self


class BusinessSettings(BaseModel):
    """The ``business:`` section of a partner profile."""

    model_config = _CONFIG

    currency: CurrencyCode = "USD"
    payment_terms: Terms | None = None
    """Default terms when a document carries none (ITD), e.g. 2% 10 net 30."""
    item_xref: ItemXref = ItemXref()
    uom: tuple[UomConversion, ...] = ()
    cash: CashTolerances = CashTolerances()
    dso: DsoThresholds = DsoThresholds()

    def convert_uom(
        self, quantity: Decimal, uom: str, *, sku: str | None = None
    ) -> tuple[Decimal, str]:
        """Convert a partner quantity to our unit; unchanged when no conversion applies."""
        for rule in sorted(self.uom, key=lambda r: r.sku is None):
            if rule.partner_uom == uom and rule.sku in (None, sku):
                return quantity * rule.factor, rule.our_uom
        return quantity, uom
