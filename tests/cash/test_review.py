"""The AR review queue (:class:`gateway.cash.review.CashReview`) on lines a real worker made.

Every test runs on SQLite and on PostgreSQL (the ``store`` fixture).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import TYPE_CHECKING

import pytest

from gateway.cash.review import CashActionError, CashReview, QueueFilter, QueueLine
from tests.cash.conftest import add_item
from tests.cash.remit import Rmr, initech_820

if TYPE_CHECKING:
    from collections.abc import Awaitable, Callable

    from gateway.partners import PartnerRegistry
    from gateway.pipeline.receiver import PipelineReceiver
    from gateway.pipeline.worker import Worker
    from gateway.storage import Store

D = Decimal
TODAY = dt.date(2024, 5, 22)  # the payment was made on 2024-04-22: 30 days ago


@dataclass
class Setup:
    review: CashReview
    items: dict[str, int]
    lines: list[QueueLine]


@pytest.fixture
async def setup(
    store: Store, receiver: PipelineReceiver, worker: Worker, partners: PartnerRegistry
) -> Setup:
    items = {
        "A": await add_item(store, "9100002001", "300.00", po="4500020001"),
        "B": await add_item(store, "9100002021", "500.00", po="4500020002"),
        "C": await add_item(store, "9100002003", "120.00", po="4500020003"),
        "F": await add_item(store, "9100002005", "80.00", po="4500020005"),
        "closed": await add_item(store, "9100002000", "50.00", open_amount="0.00", status="closed"),
        "globex": await add_item(store, "9100002022", "499.00", partner="globex"),
        "euro": await add_item(store, "9100002030", "499.00", currency="EUR"),
    }
    data = initech_820(
        Rmr("PO", "4500020001", "290.00", "300.00", adx=(("-10.00", "01"),)),  # partial
        Rmr("IV", "9100002012", "499.00"),  # one typo from B, amount does not confirm
        Rmr("PO", "4500020003", "125.00"),  # overpaid by 5
        Rmr("PO", "4500020099", "0.50"),  # names nothing
        Rmr("PO", "4500020005", "79.40"),  # short by 0.60, within the tolerance of 1.00
    )
    file = await receiver(data, partner_id=None, channel="sftp_poll", filename="r.edi")
    await worker.run_once()
    assert file.partner_id == "initech"
    review = CashReview(store, partners, today=lambda: TODAY)
    lines = await review.queue(QueueFilter())
    return Setup(review, items, sorted(lines, key=lambda line: line.line_index))


async def _open(store: Store, item_id: int) -> tuple[Decimal, str]:
    item = await store.open_item_by_id(item_id)
    assert item is not None
    return item.open_amount, item.status


async def test_queue_lines_and_filters(setup: Setup) -> None:
    review, lines = setup.review, setup.lines
    assert [(q.line_index, q.status, q.unplaced_amount, q.shortfall_amount) for q in lines] == [
        (0, "partial", D("0.00"), D("10.00")),
        (1, "unmatched", D("499.00"), D("0.00")),
        (2, "matched", D("5.00"), D("0.00")),
        (3, "unmatched", D("0.50"), D("0.00")),
        (4, "partial", D("0.00"), D("0.60")),
    ]
    first = lines[0]
    assert (first.partner_id, first.trace_number, first.payment_date) == (
        "initech",
        "ACH240422000077",
        dt.date(2024, 4, 22),
    )
    assert first.age_days == 30 and first.adjustment_codes == ("01",)
    assert first.invoice_number == "9100002001" and first.review == "open"
    assert "overpaid by 5.00" in lines[2].reason
    assert await review.line(first.id) == first
    with pytest.raises(KeyError):
        await review.line(999_999)

    async def indexes(**kw: object) -> list[int]:
        return sorted(q.line_index for q in await review.queue(QueueFilter(**kw)))  # type: ignore[arg-type]

    assert await indexes(partner_id="globex") == []
    assert await indexes(partner_id="initech") == [0, 1, 2, 3, 4]
    assert await indexes(min_amount=D("100")) == [0, 1, 2]
    assert await indexes(max_amount=D("1.00")) == [3]
    assert await indexes(min_age_days=31) == []
    assert await indexes(min_age_days=30, max_age_days=30) == [0, 1, 2, 3, 4]
    assert await indexes(max_age_days=29) == []
    assert len(await review.queue(QueueFilter(limit=2))) == 2


async def test_candidates_score_the_partners_open_items(setup: Setup) -> None:
    review, lines, items = setup.review, setup.lines, setup.items
    typo = await review.candidates(lines[1].id)
    assert typo[0].open_item_id == items["B"]
    assert "two characters are swapped" in typo[0].reason
    assert "pays part of the 500.00 open" in typo[0].reason
    assert typo[0].score > typo[1].score
    offered = {c.open_item_id for c in await review.candidates(lines[1].id, limit=50)}
    assert items["globex"] not in offered  # another partner's invoice, same amount
    assert items["closed"] not in offered and items["C"] not in offered  # closed ones
    assert items["euro"] not in offered  # the payment is in USD
    assert all(0 <= c.score <= 1 for c in typo)

    engine = await review.candidates(lines[0].id, limit=2)
    assert engine[0].open_item_id == items["A"] and engine[0].open_amount == D("10.00")
    assert engine[0].reason.startswith("the engine's choice")
    assert len(engine) == 2


async def test_refused_actions_change_nothing(store: Store, setup: Setup) -> None:
    review, lines, items = setup.review, setup.lines, setup.items
    line = lines[1].id
    refusals: list[tuple[Callable[[], Awaitable[None]], str]] = [
        (lambda: review.apply(line, [(items["globex"], D("1.00"))], "clerk"), "not an invoice of"),
        (lambda: review.apply(line, [(items["closed"], D("1.00"))], "clerk"), "is closed"),
        (lambda: review.apply(line, [(items["euro"], D("1.00"))], "clerk"), "USD and invoice"),
        (lambda: review.apply(line, [(items["B"], D("500.00"))], "clerk"), "not yet placed"),
        (lambda: review.apply(line, [(items["A"], D("11.00"))], "clerk"), "open on invoice"),
        (lambda: review.apply(line, [(items["B"], D("1.005"))], "clerk"), "two decimal places"),
        (lambda: review.apply(line, [(items["B"], D("-1"))], "clerk"), "above zero"),
        (lambda: review.apply(line, [(items["B"], D(1)), (items["B"], D(2))], "clerk"), "twice"),
        (lambda: review.apply(line, [], "clerk"), "at least one invoice"),
        (lambda: review.apply(line, [(items["B"], D(1))], " "), "sign in again"),
        (lambda: review.apply(999_999, [(items["B"], D(1))], "clerk"), "no remittance line"),
        (lambda: review.deduct(lines[0].id, D("10.00"), "", "clerk"), "reason code"),
        (lambda: review.deduct(lines[0].id, D("10.01"), "01", "clerk"), "more than the 10.00"),
        (lambda: review.deduct(line, D("1.00"), "01", "clerk"), "no shortfall"),
        (lambda: review.write_off(lines[0].id, D("10.00"), "clerk"), "tolerance of 1.00"),
        (lambda: review.on_account(lines[2].id, D("5.01"), "clerk"), "not yet placed"),
        (lambda: review.add_note(line, "   ", "clerk"), "empty"),
        (lambda: review.reverse(999_999, "clerk"), "no application"),
    ]
    for action, text in refusals:
        with pytest.raises(CashActionError, match=text):
            await action()
    assert len(await store.cash_applications(partner_id="initech")) == 3  # the worker's
    assert await _open(store, items["A"]) == (D("10.00"), "open")
    assert await _open(store, items["B"]) == (D("500.00"), "open")
    assert await store.audit_entries([f"remittance_line:{q.id}" for q in lines]) == []
    assert [q.review for q in await review.queue(QueueFilter())] == ["open"] * 5


async def test_actions_settle_lines_and_audit(store: Store, setup: Setup) -> None:
    review, lines, items = setup.review, setup.lines, setup.items

    await review.deduct(lines[0].id, D("10.00"), "01", "clerk")
    assert await _open(store, items["A"]) == (D("0.00"), "closed")
    assert (await review.line(lines[0].id)).review == "resolved"

    await review.apply(lines[1].id, [(items["B"], D("400.00"))], "clerk")
    mid = await review.line(lines[1].id)
    assert (mid.review, mid.unplaced_amount) == ("open", D("99.00"))
    await review.on_account(lines[1].id, D("99.00"), "clerk")
    assert (await review.line(lines[1].id)).review == "resolved"
    assert await _open(store, items["B"]) == (D("100.00"), "open")

    await review.on_account(lines[2].id, D("5.00"), "clerk")
    await review.write_off(lines[4].id, D("0.60"), "clerk")
    assert await _open(store, items["F"]) == (D("0.00"), "closed")

    await review.add_note(lines[3].id, "asked Initech what 4500020099 is", "clerk")
    await review.add_note(lines[3].id, "a freight charge; refund", "lead")
    await review.resolve(lines[3].id, "lead")
    with pytest.raises(CashActionError, match="not in the review queue"):
        await review.resolve(lines[3].id, "lead")
    assert (await review.line(lines[3].id)).note == (
        "asked Initech what 4500020099 is\na freight charge; refund"
    )
    assert await review.queue(QueueFilter()) == []

    apps = await review.applications(lines[1].id)
    assert [(a.kind, a.amount, a.invoice_number, a.actor, a.erp_state) for a in apps] == [
        ("payment", D("400.00"), "9100002021", "clerk", "pending"),
        ("on_account", D("99.00"), None, "clerk", "pending"),
    ]
    deduction = (await review.applications(lines[0].id))[-1]
    assert (deduction.kind, deduction.reason_code, deduction.amount) == (
        "deduction",
        "01",
        D("10.00"),
    )
    history = await review.history(lines[1].id)
    assert [h["action"] for h in history] == ["cash.apply", "cash.on_account"]
    assert history[0]["actor"] == "clerk"
    assert history[0]["detail"]["before"] == {
        "review": "open",
        "unplaced": "499.00",
        "shortfall": "0.00",
        "note": None,
    }
    assert history[0]["detail"]["after"]["unplaced"] == "99.00"
    assert history[0]["detail"]["splits"] == [{"invoice": "9100002021", "amount": "400.00"}]
    assert history[1]["detail"]["after"]["review"] == "resolved"
    notes = await review.history(lines[3].id)
    assert [h["action"] for h in notes] == ["cash.note", "cash.note", "cash.resolve"]


async def test_reverse_reopens_the_invoice_and_the_line(store: Store, setup: Setup) -> None:
    review, lines, items = setup.review, setup.lines, setup.items
    await review.apply(lines[1].id, [(items["B"], D("499.00"))], "clerk")
    assert await _open(store, items["B"]) == (D("1.00"), "open")
    assert (await review.line(lines[1].id)).review == "resolved"
    payment = (await review.applications(lines[1].id))[0]

    await review.reverse(payment.id, "lead")
    assert await _open(store, items["B"]) == (D("500.00"), "open")
    line = await review.line(lines[1].id)
    assert (line.review, line.unplaced_amount) == ("open", D("499.00"))
    [reversed_] = await review.applications(lines[1].id)
    assert reversed_.reversed_by == "lead" and reversed_.reversed_at is not None
    with pytest.raises(CashActionError, match="already reversed"):
        await review.reverse(payment.id, "lead")
    assert await _open(store, items["B"]) == (D("500.00"), "open")
    last = (await review.history(lines[1].id))[-1]
    assert last["action"] == "cash.reverse" and last["detail"]["application"] == payment.id
    assert last["detail"]["before"]["review"] == "resolved"
    assert last["detail"]["after"]["review"] == "open"

    # the worker's own application of a matched line: reversing it queues the line
    [auto] = [a for a in await review.applications(lines[2].id) if a.kind == "payment"]
    assert auto.actor == "auto"
    await review.reverse(auto.id, "lead")
    assert await _open(store, items["C"]) == (D("120.00"), "open")
    assert (await review.line(lines[2].id)).unplaced_amount == D("125.00")
