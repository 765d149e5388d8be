"""The engine on a generated corpus whose truth is known: >= 97 % matched, no false application."""

from __future__ import annotations

from collections import Counter

import pytest

from gateway.cash.apply import apply_payments
from gateway.cash.ledger import Ledger
from gateway.cash.report import summary_json
from gateway.cash.results import PaymentAdvice
from tests.cash.generate import MATCHABLE, TRAPS, generate


@pytest.mark.parametrize("seed", [20240614, 7, 99])
def test_generated_corpus(seed: int) -> None:
    corpus = generate(seed, partners=12, lines_per_partner=200, background=250)
    advices = [PaymentAdvice(p.model(), p.partner_id) for p in corpus.payments]
    run = apply_payments(Ledger(corpus.items), advices)

    false: list[str] = []
    wrong_amounts: list[str] = []
    matchable = matched = 0
    seen = Counter(line.scenario for line in corpus.lines())
    for truth_payment, result in zip(corpus.payments, run.payments, strict=True):
        assert result.trace_number == truth_payment.trace_number
        assert result.payer_id == truth_payment.partner_id
        for truth, line in zip(truth_payment.lines, result.lines, strict=True):
            matchable += truth.matchable
            if line.status == "unmatched":
                assert line.applied_amount == 0 and line.invoice_number is None
                continue
            if not truth.matchable or line.invoice_number != truth.truth:
                false.append(f"{truth.scenario} {truth.reference!r} -> {line.invoice_number}")
                continue
            matched += 1
            got = (line.status, line.applied_amount, line.discount_amount, line.adjustment_amount)
            want = (truth.status, truth.applied, truth.discount, truth.deduction)
            if got != want:
                wrong_amounts.append(f"{truth.scenario}: {got} != {want}: {line.reason}")

    assert false == [], "false applications"
    assert wrong_amounts == []
    assert matched / matchable >= 0.97, f"{matched}/{matchable}"
    # every kind of noise and every trap was exercised
    assert set(seen) == set(MATCHABLE) | set(TRAPS)
    mismatched = {p.trace_number for p in corpus.payments if p.mismatched}
    flagged = {m["trace_number"] for m in summary_json(run)["total_mismatches"]}
    assert mismatched and flagged == mismatched


def test_runs_are_deterministic() -> None:
    corpus = generate(5, partners=4, lines_per_partner=80, background=50)
    advices = [PaymentAdvice(p.model(), p.partner_id) for p in corpus.payments]
    first = apply_payments(Ledger(corpus.items), advices)
    second = apply_payments(Ledger(list(reversed(corpus.items))), advices)
    assert first == second
