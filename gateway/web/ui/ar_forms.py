"""The AR queue's forms: the queue filter, amounts, payment splits and deduction reason codes.

Everything here reads what a clerk typed (a form's ``name -> text``) and turns it into
the values :class:`gateway.cash.review.CashReview` takes, or raises
:class:`~gateway.errors.UsageError` with a message that names the field; the pages show
that message as a notice, never a traceback.

Imports the standard library, :mod:`gateway.errors` and :mod:`gateway.cash.review`.
"""

from __future__ import annotations

import re
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING

from gateway.cash.review import QueueFilter
from gateway.errors import UsageError

if TYPE_CHECKING:
    from collections.abc import Iterable, Mapping

CENT = Decimal("0.01")
MAX_AMOUNT = Decimal("9999999999999999.99")
"""The largest amount the ``Numeric(18, 2)`` columns hold."""
FILTER_FIELDS = ("partner", "min_age", "max_age", "min_amount", "max_amount")
SPLIT_PREFIX = "amount-"
"""Apply form: ``amount-<open item id>`` holds the amount for that invoice."""
OTHER_CODE = "other"
"""The reason select's value meaning "the code typed in the free-text field"."""

REASON_CODES: tuple[tuple[str, str], ...] = (
    ("01", "Pricing error"),
    ("03", "Extension error"),
    ("04", "Item not accepted - damaged"),
    ("05", "Item not accepted - quality"),
    ("06", "Quantity contested (short shipment)"),
    ("07", "Incorrect product"),
    ("11", "Returns - damage"),
    ("14", "Returns - promotion"),
    ("19", "Duplicate billing"),
    ("24", "Incorrect discount"),
    ("54", "Freight deducted"),
    ("55", "Tax deducted"),
    ("56", "Advertising allowance taken"),
    ("57", "Volume discount taken"),
    ("59", "Item not received"),
)
"""The common X12 adjustment reason codes (element 426, sent in the 820's ADX02)."""

_CODE = re.compile(r"[A-Za-z0-9]{1,16}")
_AMOUNT = re.compile(r"\$?\d{1,3}(,\d{3})+(\.\d+)?|\$?\d*\.?\d+")


def parse_amount(text: str, name: str, *, allow_zero: bool = False) -> Decimal:
    """An amount of money typed by a person: ``120.50``, ``1,250.00`` or ``$75``.

    Raises:
        UsageError: not a positive amount with at most two decimals; names ``name``.
    """
    raw = text.strip().replace(" ", "")
    if not _AMOUNT.fullmatch(raw):
        raise UsageError(f"{name}: expected an amount like 120.50, got {text.strip()!r}")
    try:
        value = Decimal(raw.lstrip("$").replace(",", ""))
    except InvalidOperation:
        raise UsageError(f"{name}: expected an amount like 120.50, got {text.strip()!r}") from None
    if value > MAX_AMOUNT:
        raise UsageError(f"{name}: at most {MAX_AMOUNT:,}, got {text.strip()!r}")
    if value != value.quantize(CENT):
        raise UsageError(f"{name}: at most two decimals (cents), got {text.strip()!r}")
    if value == 0 and not allow_zero:
        raise UsageError(f"{name}: expected an amount above 0.00, got {text.strip()!r}")
    return value.quantize(CENT)


def _days(text: str, name: str) -> int | None:
    text = text.strip()
    if not text:
        return None
    if not text.isdigit() or len(text) > 6:
        raise UsageError(f"{name}: expected a whole number of days, got {text!r}")
    return int(text)


def _optional_amount(text: str, name: str) -> Decimal | None:
    return parse_amount(text, name, allow_zero=True) if text.strip() else None


def queue_filter(params: Mapping[str, str], partner_ids: Iterable[str]) -> QueueFilter:
    """The queue's filter form as a :class:`QueueFilter`.

    Raises:
        UsageError: a field is malformed or a range is upside down.
    """
    text = {name: (params.get(name) or "").strip() for name in FILTER_FIELDS}
    partner = text["partner"] or None
    if partner is not None and partner not in set(partner_ids):
        raise UsageError(f"partner: there is no partner {partner!r}")
    chosen = QueueFilter(
        partner_id=partner,
        min_age_days=_days(text["min_age"], "age from"),
        max_age_days=_days(text["max_age"], "age to"),
        min_amount=_optional_amount(text["min_amount"], "paid from"),
        max_amount=_optional_amount(text["max_amount"], "paid to"),
    )
    low_age, high_age = chosen.min_age_days, chosen.max_age_days
    if low_age is not None and high_age is not None and low_age > high_age:
        raise UsageError(f"age: from {low_age} days is more than to {high_age} days")
    low, high = chosen.min_amount, chosen.max_amount
    if low is not None and high is not None and low > high:
        raise UsageError(f"paid: from {low} is more than to {high}")
    return chosen


def splits(
    form: Mapping[str, str], labels: Mapping[int, str], *, optional: bool = False
) -> list[tuple[int, Decimal]]:
    """The apply form's ``(open item id, amount)`` pairs; blank fields are skipped.

    ``labels`` names each open item (its invoice number) for the messages; with
    ``optional`` (another invoice was typed in too) no amount here is fine.

    Raises:
        UsageError: an amount is malformed, or no amount was entered at all.
    """
    chosen: list[tuple[int, Decimal]] = []
    for key, value in form.items():
        if not key.startswith(SPLIT_PREFIX) or not value.strip():
            continue
        item = key.removeprefix(SPLIT_PREFIX)
        if not item.isdigit():
            raise UsageError(f"{key}: not an invoice of this form")
        item_id = int(item)
        label = f"amount for invoice {labels.get(item_id, f'#{item_id}')}"
        chosen.append((item_id, parse_amount(value, label)))
    if not chosen and not optional:
        raise UsageError("enter the amount to apply to at least one invoice")
    return chosen


def reason_code(form: Mapping[str, str]) -> str:
    """The deduction's reason code: a listed code, or the one typed in "other code".

    Raises:
        UsageError: no code, or a typed code that is not 1-16 letters and digits.
    """
    chosen = (form.get("reason") or "").strip()
    if chosen == OTHER_CODE or not chosen:
        chosen = (form.get("other_code") or "").strip()
        if not chosen:
            raise UsageError("reason: choose a reason code or type one under other code")
        if not _CODE.fullmatch(chosen):
            raise UsageError(f"other code: expected 1-16 letters or digits, got {chosen!r}")
        return chosen.upper()
    if chosen not in dict(REASON_CODES):
        raise UsageError(f"reason: unknown reason code {chosen!r}")
    return chosen


def note_text(form: Mapping[str, str], *, limit: int = 2000) -> str:
    """The note's text, trimmed.

    Raises:
        UsageError: empty, or longer than ``limit`` characters.
    """
    text = (form.get("note") or "").strip()
    if not text:
        raise UsageError("note: write something first")
    if len(text) > limit:
        raise UsageError(f"note: at most {limit} characters, got {len(text)}")
    return text
