"""Which partners' DSO crossed the warn or alert threshold of their profile.

A partner profile's ``business.dso`` (:class:`gateway.business.DsoThresholds`) says above
how many days to warn and above how many to alert. A DSO strictly above ``alert_days`` is
at level ``alert``, else strictly above ``warn_days`` at ``warn``; a null DSO (no sales in
the window) is at no level. Given the previous report, only partners whose level rose are
returned, which is what an alert webhook should fire on; without it, every partner at a
level is.

Imports only the standard library, ``gateway.business``, ``gateway.partners`` and
``gateway.dso``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from gateway.dso.ledger import PORTFOLIO

if TYPE_CHECKING:
    from collections.abc import Mapping
    from decimal import Decimal

    from gateway.business import DsoThresholds
    from gateway.dso.metrics import DsoReport
    from gateway.partners import PartnerRegistry

Level = Literal["warn", "alert"]
_RANK: dict[Level | None, int] = {None: 0, "warn": 1, "alert": 2}


@dataclass(frozen=True, slots=True)
class ThresholdCrossing:
    """A partner whose DSO is above a threshold."""

    partner_id: str
    level: Level
    dso: Decimal
    threshold_days: int
    previous_dso: Decimal | None = None


def partner_thresholds(registry: PartnerRegistry) -> dict[str, DsoThresholds]:
    """Each profile's DSO thresholds, by partner id."""
    return {profile.id: profile.business.dso for profile in registry.all()}


def level_of(dso: Decimal | None, thresholds: DsoThresholds) -> Level | None:
    """``alert``, ``warn`` or None for a DSO figure."""
    if dso is None:
        return None
    if dso > thresholds.alert_days:
        return "alert"
    return "warn" if dso > thresholds.warn_days else None


def crossed_thresholds(
    report: DsoReport,
    thresholds: Mapping[str, DsoThresholds],
    *,
    previous: DsoReport | None = None,
) -> list[ThresholdCrossing]:
    """Partners above their threshold (rising since ``previous`` when given), by partner id.

    Partners without an entry in ``thresholds``, and the portfolio row, are not checked.
    """
    crossings = []
    for partner_id, figures in report.partners.items():
        limits = thresholds.get(partner_id)
        if partner_id == PORTFOLIO or limits is None:
            continue
        level = level_of(figures.dso, limits)
        if level is None or figures.dso is None:
            continue
        before = previous.partners.get(partner_id) if previous is not None else None
        before_dso = before.dso if before is not None else None
        if previous is not None and _RANK[level_of(before_dso, limits)] >= _RANK[level]:
            continue
        crossings.append(
            ThresholdCrossing(
                partner_id=partner_id,
                level=level,
                dso=figures.dso,
                threshold_days=limits.alert_days if level == "alert" else limits.warn_days,
                previous_dso=before_dso,
            )
        )
    return sorted(crossings, key=lambda crossing: crossing.partner_id)
