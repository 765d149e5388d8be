"""What cash application takes in and gives back: partner rules, payments, line decisions.

A :class:`PaymentAdvice` is one 820 remittance already attributed to a partner, with that
partner's :class:`PartnerRules`. The engine answers with one :class:`PaymentResult` per
advice, holding one :class:`LineResult` per remittance line (RMR) in the order sent.

Imports only the standard library, ``gateway.model`` and ``gateway.business``; must not
import ``gateway.pipeline``, ``gateway.web`` or ``gateway.cli``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import TYPE_CHECKING, Final, Literal

if TYPE_CHECKING:
    from gateway.business import CashTolerances
    from gateway.model import Remittance

Status = Literal["matched", "partial", "unmatched"]
"""``matched``: the invoice is settled (in full, or in full with a discount earned);
``partial``: cash applied but the invoice stays open or a deduction was recorded;
``unmatched``: nothing applied, the line waits for a person."""

Rule = Literal["exact", "normalized", "po", "near_miss", "amount_only", "none"]
"""Which matching rule found the invoice, from most to least certain."""

STATUSES: Final[tuple[Status, ...]] = ("matched", "partial", "unmatched")
RULES: Final[tuple[Rule, ...]] = ("exact", "normalized", "po", "near_miss", "amount_only", "none")
ZERO: Final = Decimal(0)


@dataclass(frozen=True, slots=True)
class PartnerRules:
    """The cash settings of one partner; the defaults hold for a partner without a profile."""

    allow_amount_only: bool = True
    """Match a line on its amount alone when its reference names nothing we know."""
    discount_grace_days: int = 0
    """Days after the discount date during which a discount is still earned."""
    references: tuple[str, ...] = ("invoice", "po")
    """What the partner quotes on remittance lines (``invoice``, ``po``), in the order to try."""
    amount_tolerance: Decimal = ZERO
    """Short pays up to this amount are named as small balances a person may write off."""

    @classmethod
    def from_profile(cls, cash: CashTolerances) -> PartnerRules:
        """The rules of a partner profile's ``business.cash`` section."""
        return cls(
            allow_amount_only=cash.allow_amount_only,
            discount_grace_days=cash.discount_grace_days,
            references=tuple(cash.remittance_references),
            amount_tolerance=cash.amount_tolerance,
        )


@dataclass(frozen=True, slots=True)
class PaymentAdvice:
    """One remittance (820) to apply, attributed to ``partner_id``."""

    remittance: Remittance
    partner_id: str
    rules: PartnerRules = field(default_factory=PartnerRules)


@dataclass(slots=True)
class LineResult:
    """The decision for one remittance line.

    Amounts are what this run did: ``applied_amount`` is cash put on the invoice,
    ``discount_amount`` the early-payment discount granted, ``adjustment_amount`` the
    deduction recorded (positive: the partner paid that much less). ``confidence`` is how
    sure the match is (0 for an unmatched line); ``reason`` says why, for a person.
    """

    index: int
    reference: str
    invoice_number: str | None
    status: Status
    applied_amount: Decimal
    discount_amount: Decimal
    adjustment_amount: Decimal
    confidence: float
    reason: str
    rule: Rule = "none"
    adjustment_codes: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class PaymentResult:
    """One payment and its lines; ``unapplied_amount`` is left on account."""

    trace_number: str
    payer_id: str
    payment_amount: Decimal
    lines: tuple[LineResult, ...]
    unapplied_amount: Decimal
    lines_total: Decimal
    """The sum of the lines' paid amounts, checked against ``payment_amount`` (BPR02)."""
    currency: str | None = None

    @property
    def total_mismatch(self) -> Decimal:
        """BPR02 minus the sum of the lines; anything but zero is flagged, never absorbed."""
        return self.payment_amount - self.lines_total


@dataclass(slots=True)
class CashRun:
    """The outcome of applying a batch of payments against one ledger."""

    payments: list[PaymentResult] = field(default_factory=list)
