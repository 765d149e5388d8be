"""The named transforms a mapping file may use: what each reads and what it refuses."""

from __future__ import annotations

from decimal import Decimal

import pytest

from gateway.mapping.functions import TransformProblem, make


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("12", "12"),
        ("12.50", "12.50"),
        ("189.9", "189.9"),
        ("-3.25", "-3.25"),
        (".5", "0.5"),
        ("5.", "5"),
        ("1E3", "1E+3"),
        ("2.5E-2", "0.025"),
    ],
)
def test_decimal_reads_x12_r_values_exactly(raw: str, expected: str) -> None:
    value = make("decimal", None, None)(raw)
    assert isinstance(value, Decimal)
    assert str(value) == expected  # the digits as sent: no float, no rescaling


@pytest.mark.parametrize(
    "raw", ["+1", "1_000", "NaN", "Infinity", "1,5", "1.2.3", "١٢", "1.٢", "abc", ".", "-", "1..2"]
)
def test_decimal_refuses_what_python_takes_but_x12_does_not(raw: str) -> None:
    with pytest.raises(TransformProblem, match="expected a decimal number"):
        make("decimal", None, None)(raw)
