"""A seeded corpus for cash application: open items and 820 remittances that know their truth.

Every generated remittance line records the invoice it is really for (or none), whether a
careful clerk could tell which one that is from the partner's own open items (``matchable``)
and, when so, the status and amounts the engine should produce. Noise is what partners
send: typos and transposed digits, ``INV``/``#`` prefixes, case and spaces, leading zeros,
PO numbers instead of invoice numbers, short pays with ADX deductions, discounts taken on
time and late, overpayments, lines with no usable reference, and traps that must stay
unmatched: two invoices of the same amount, a closed invoice paid again, another partner's
invoice number, garbage, and a typo whose amount fits nothing.

Also used by ``benchmarks/cash.py``; :func:`write_open_items` and :func:`write_820` write
the corpus as the batch command reads it.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import TYPE_CHECKING

from gateway.cash.items import COLUMNS, OpenItem
from gateway.cash.ledger import normalize_reference
from gateway.model import Adjustment, Envelope, Remittance, RemittanceLine

if TYPE_CHECKING:
    from pathlib import Path

PAY_DATE = dt.date(2024, 6, 14)
CENT = Decimal("0.01")
MATCHABLE = {
    "exact": 28,
    "normalized": 14,
    "po": 9,
    "po_shared": 3,
    "typo": 10,
    "short_adx": 8,
    "discount_on_time": 7,
    "discount_late": 3,
    "overpay": 3,
    "amount_only": 5,
    "short_plain": 2,
    "partly_open": 2,
}
TRAPS = {
    "ambiguous_amount": 3,
    "closed_invoice": 2,
    "other_partner": 2,
    "garbage": 2,
    "typo_wrong_amount": 1,
}
_ALL = {**MATCHABLE, **TRAPS}


@dataclass
class TrueLine:
    """One remittance line and what it really is."""

    scenario: str
    qualifier: str
    reference: str
    paid: Decimal
    truth: str | None = None
    matchable: bool = False
    status: str = "unmatched"
    applied: Decimal = Decimal(0)
    discount: Decimal = Decimal(0)
    deduction: Decimal = Decimal(0)
    invoice_amount: Decimal | None = None
    rmr_discount: Decimal | None = None
    adjustments: tuple[tuple[Decimal, str], ...] = ()

    def model(self) -> RemittanceLine:
        return RemittanceLine(
            reference_qualifier=self.qualifier,
            reference=self.reference,
            paid_amount=self.paid,
            invoice_amount=self.invoice_amount,
            discount_amount=self.rmr_discount,
            adjustments=tuple(Adjustment(amount=a, reason_code=c) for a, c in self.adjustments),
        )


@dataclass
class GenPayment:
    """One payment of one partner: its lines and the BPR02 sent (sometimes wrong on purpose)."""

    partner_id: str
    trace_number: str
    amount: Decimal
    lines: list[TrueLine] = field(default_factory=list)

    @property
    def mismatched(self) -> bool:
        return self.amount != sum((line.paid for line in self.lines), Decimal(0))

    def model(self) -> Remittance:
        return Remittance(
            trace_number=self.trace_number,
            payment_amount=self.amount,
            credit_debit="C",
            payment_method="ACH",
            payment_date=PAY_DATE,
            currency="USD",
            lines=tuple(line.model() for line in self.lines),
            envelope=Envelope(
                sender_qualifier="ZZ",
                sender_id=self.partner_id,
                receiver_qualifier="ZZ",
                receiver_id="O2CGATEWAY",
                interchange_control="000000001",
                group_control="1",
                transaction_control="0001",
                version="004010",
            ),
        )


@dataclass
class Corpus:
    items: list[OpenItem]
    payments: list[GenPayment]

    def lines(self) -> list[TrueLine]:
        return [line for payment in self.payments for line in payment.lines]


def _money(rng: random.Random, low: int = 50, high: int = 25_000) -> Decimal:
    return Decimal(rng.randint(low * 100, high * 100)) / 100


class _Partner:
    """Builds one partner's open items and lines."""

    def __init__(self, rng: random.Random, partner_id: str, style: int) -> None:
        self.rng = rng
        self.id = partner_id
        self.style = style
        self.items: list[OpenItem] = []
        self.keys: set[str] = set()
        self.amounts: set[Decimal] = set()
        self.lines: list[TrueLine] = []

    def number(self) -> str:
        while True:
            digits = self.rng.randint(1_000_000, 9_999_999)
            text = (f"{digits}", f"INV-{digits:08d}", f"000{digits}", f"SO{digits}")[self.style]
            if normalize_reference(text) not in self.keys:
                return text

    def unique_amount(self) -> Decimal:
        """An amount no other item or line of this partner has; reserved from now on."""
        while True:
            amount = _money(self.rng)
            if amount not in self.amounts:
                self.amounts.add(amount)
                return amount

    def item(self, **kw: object) -> OpenItem:
        rng = self.rng
        amount = kw.pop("amount", None) or self.unique_amount()
        assert isinstance(amount, Decimal)
        fields: dict[str, object] = {
            "invoice_number": self.number(),
            "partner_id": self.id,
            "invoice_date": PAY_DATE - dt.timedelta(days=rng.randint(35, 90)),
            "amount": amount,
            "open_amount": amount,
            "po_number": f"45{rng.randint(0, 99_999_999):08d}",
            "currency": "USD",
        }
        fields |= kw
        invoice_date = fields["invoice_date"]
        assert isinstance(invoice_date, dt.date)
        fields["due_date"] = invoice_date + dt.timedelta(days=30)
        made = OpenItem(**fields)  # type: ignore[arg-type]
        self.items.append(made)
        self.keys.add(normalize_reference(made.invoice_number))
        self.amounts.update({made.amount, made.open_amount})
        return made

    def noisy(self, number: str) -> str:
        digits = normalize_reference(number)
        rng = self.rng
        while True:
            choice = rng.randrange(8)
            text = [
                number.lower(),
                f"INV{digits}",
                f"INV-{digits}",
                f"#{digits}",
                f"Inv # {digits}",
                f"00{digits}",
                f"{digits[:3]} {digits[3:]}",
                f" {number.replace('-', '')} ",
            ][choice]
            if text != number and normalize_reference(text) == digits:
                return text

    def typo(self, number: str) -> str:
        key = normalize_reference(number)
        rng = self.rng
        while True:
            chars = list(key)
            spots = [i for i, c in enumerate(chars) if c.isdigit()]
            i = rng.choice(spots[:-1])
            if rng.random() < 0.5 and chars[i] != chars[i + 1] and chars[i + 1].isdigit():
                chars[i], chars[i + 1] = chars[i + 1], chars[i]
            else:
                chars[i] = rng.choice([d for d in "0123456789" if d != chars[i]])
            text = "".join(chars)
            if normalize_reference(text) not in self.keys and not text.startswith("0"):
                return text


def _line(p: _Partner, scenario: str, others: list[_Partner]) -> TrueLine:
    rng = p.rng
    if scenario in ("exact", "normalized", "typo", "overpay", "po"):
        item = p.item()
        ref = {
            "exact": item.invoice_number,
            "normalized": p.noisy(item.invoice_number),
            "typo": p.typo(item.invoice_number),
            "overpay": item.invoice_number,
            "po": item.po_number or "",
        }[scenario]
        paid = item.open_amount + (_money(rng, 1, 50) if scenario == "overpay" else 0)
        return TrueLine(
            scenario, "PO" if scenario == "po" else "IV", ref, paid, item.invoice_number,
            True, "matched", item.open_amount,
        )  # fmt: skip
    if scenario == "po_shared":
        po = f"46{rng.randint(0, 99_999_999):08d}"
        group = [p.item(po_number=po) for _ in range(rng.randint(2, 3))]
        item = rng.choice(group)
        return TrueLine(
            scenario, "PO", po, item.open_amount, item.invoice_number, True, "matched",
            item.open_amount,
        )  # fmt: skip
    if scenario == "short_adx":
        item = p.item()
        cut = _money(rng, 1, 40)
        code = rng.choice(["01", "04", "19", "CS", "AX"])
        return TrueLine(
            scenario, "IV", item.invoice_number, item.open_amount - cut, item.invoice_number,
            True, "partial", item.open_amount - cut, deduction=cut, adjustments=((-cut, code),),
            invoice_amount=item.amount,
        )  # fmt: skip
    if scenario in ("discount_on_time", "discount_late"):
        days_ago = rng.randint(0, 10) if scenario == "discount_on_time" else rng.randint(12, 25)
        item = p.item(
            invoice_date=PAY_DATE - dt.timedelta(days=days_ago),
            discount_percent=Decimal(2),
            discount_days=10,
        )
        disc = (item.amount * 2 / 100).quantize(CENT, ROUND_HALF_UP)
        on_time = scenario == "discount_on_time"
        return TrueLine(
            scenario, "IV", item.invoice_number, item.open_amount - disc, item.invoice_number,
            True, "matched" if on_time else "partial", item.open_amount - disc,
            discount=disc if on_time else Decimal(0),
            rmr_discount=disc if rng.random() < 0.5 else None, invoice_amount=item.amount,
        )  # fmt: skip
    if scenario == "amount_only":
        item = p.item()
        return TrueLine(
            scenario, "IV", rng.choice(["SEE ATTACHED", "NONE", "REMIT"]), item.open_amount,
            item.invoice_number, True, "matched", item.open_amount,
        )  # fmt: skip
    if scenario == "short_plain":
        item = p.item()
        cut = _money(rng, 5, 200)
        return TrueLine(
            scenario, "IV", item.invoice_number, item.open_amount - cut, item.invoice_number,
            True, "partial", item.open_amount - cut,
        )  # fmt: skip
    if scenario == "partly_open":
        amount = p.unique_amount()
        rest = amount - _money(rng, 10, 40)
        while rest in p.amounts:
            rest -= CENT
        item = p.item(amount=amount, open_amount=rest)
        return TrueLine(
            scenario, "IV", p.noisy(item.invoice_number), item.open_amount, item.invoice_number,
            True, "matched", item.open_amount,
        )  # fmt: skip
    if scenario == "ambiguous_amount":
        amount = p.unique_amount()
        first = p.item(amount=amount)
        p.item(amount=amount)
        return TrueLine(scenario, "IV", "SEE ATTACHED", amount, first.invoice_number)
    if scenario == "closed_invoice":
        item = p.item(open_amount=Decimal(0))
        return TrueLine(scenario, "IV", item.invoice_number, item.amount, item.invoice_number)
    if scenario == "other_partner":
        other = rng.choice(others)
        theirs = other.item()
        return TrueLine(scenario, "IV", theirs.invoice_number, p.unique_amount())
    if scenario == "garbage":
        return TrueLine(scenario, "IV", f"ZZ{rng.randint(0, 99)}", p.unique_amount())
    assert scenario == "typo_wrong_amount"
    item = p.item()
    return TrueLine(
        scenario, "IV", p.typo(item.invoice_number), p.unique_amount(), item.invoice_number
    )


def generate(
    seed: int, *, partners: int = 20, lines_per_partner: int = 150, background: int = 300
) -> Corpus:
    """Generate open items and payments; ``background`` items per partner are never paid."""
    rng = random.Random(seed)
    names = list(_ALL)
    weights = list(_ALL.values())
    books = [_Partner(rng, f"CUST{n:04d}", n % 4) for n in range(partners)]
    payments: list[GenPayment] = []
    for book in books:
        others = [b for b in books if b is not book]
        lines = [_line(book, s, others) for s in rng.choices(names, weights, k=lines_per_partner)]
        for _ in range(background):
            closed = rng.random() < 0.1
            terms = rng.random() < 0.3
            amount = book.unique_amount()
            book.item(
                amount=amount,
                open_amount=Decimal(0) if closed else amount,
                discount_percent=Decimal(1) if terms else Decimal(0),
                discount_days=15 if terms else None,
            )
        rng.shuffle(lines)
        while lines:
            size = rng.randint(1, 25)
            chunk, lines = lines[:size], lines[size:]
            total = sum((line.paid for line in chunk), Decimal(0))
            if rng.random() < 0.05:
                total += _money(rng, 1, 100)
            trace = f"{book.id}-{len(payments):06d}"
            payments.append(GenPayment(book.id, trace, total, chunk))
    items = [item for book in books for item in book.items]
    rng.shuffle(items)
    rng.shuffle(payments)
    return Corpus(items, payments)


def write_open_items(items: list[OpenItem], path: Path) -> None:
    """Write open items as the batch command's CSV."""
    with path.open("w", encoding="utf-8", newline="") as handle:
        handle.write(",".join(COLUMNS) + "\n")
        for i in items:
            handle.write(
                f"{i.invoice_number},{i.partner_id},{i.po_number or ''},{i.invoice_date},"
                f"{i.due_date},{i.amount},{i.open_amount},{i.currency or ''},"
                f"{i.discount_percent or ''},{'' if i.discount_days is None else i.discount_days}\n"
            )


def x12_820(payments: list[GenPayment], *, control: int = 1) -> str:
    """The payments as X12 004010 820s, one interchange per partner, one set per payment."""
    by_partner: dict[str, list[GenPayment]] = {}
    for payment in payments:
        by_partner.setdefault(payment.partner_id, []).append(payment)
    out: list[str] = []
    for n, (partner, group) in enumerate(by_partner.items(), start=control):
        isa = f"{n:09d}"
        out.append(
            f"ISA*00*          *00*          *ZZ*{partner:<15}*ZZ*{'O2CGATEWAY':<15}*"
            f"240614*1200*U*00401*{isa}*0*P*>~"
        )
        out.append(f"GS*RA*{partner}*O2CGATEWAY*20240614*1200*{n}*X*004010~")
        for s, payment in enumerate(group, start=1):
            body = [
                f"ST*820*{s:04d}",
                f"BPR*C*{payment.amount}*C*ACH*CCP*01*999000001*DA*1234567890*1512345678"
                f"**01*999000002*DA*9876543210*{PAY_DATE:%Y%m%d}",
                f"TRN*1*{payment.trace_number}*1512345678",
                "CUR*PR*USD",
                f"N1*PR*{partner}",
                "ENT*1",
            ]
            for line in payment.lines:
                amounts = [str(line.paid), _opt(line.invoice_amount), _opt(line.rmr_discount)]
                body.append(f"RMR*{line.qualifier}*{line.reference}**" + "*".join(amounts))
                body[-1] = body[-1].rstrip("*")
                body += [f"ADX*{amount}*{code}" for amount, code in line.adjustments]
            body.append(f"SE*{len(body) + 1}*{s:04d}")
            out += [segment + "~" for segment in body]
        out.append(f"GE*{len(group)}*{n}~")
        out.append(f"IEA*1*{isa}~")
    return "\n".join(out) + "\n"


def _opt(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def write_820(payments: list[GenPayment], path: Path) -> None:
    """Write the payments as one 820 file."""
    path.write_text(x12_820(payments), encoding="ascii")
