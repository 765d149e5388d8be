"""The TA1/997/999 the gateway sends back for one received interchange.

:func:`build_replies` follows the partner's profile: per document type it sends a
997, a 999 or no functional ack (``x12.<set>.functional_ack``), and with
``x12.ta1: true`` a TA1 in every reply (besides when ISA14 asks for one or the
envelope is bad). It is :func:`gateway.pipeline.process.acknowledge`, the same reply
``o2c ack`` prints, numbered from storage.

Control numbers come from storage: a dry run counts how many ISA13, GS06 and ST02
numbers the replies take, :meth:`Store.next_controls` reserves that many in one short
transaction of their own (not the file's: the counter rows stay locked only briefly,
and a reply that is never stored leaves a gap, never a reuse), and the replies are
written again with the reserved numbers.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING

from gateway.pipeline.process import ack_plan, acknowledge
from gateway.x12.acks import ack_kind, needs_ta1
from gateway.x12.control import ControlKind, MemoryControlNumbers

if TYPE_CHECKING:
    import datetime as dt

    from gateway.partners import PartnerProfile
    from gateway.pipeline.process import InterchangeResult
    from gateway.storage import Store
    from gateway.x12.control import ControlNumbers
    from gateway.x12.writer import WrittenInterchange

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Reply:
    """One reply interchange: ``doc_type`` is ``997``, ``999`` or ``TA1``."""

    doc_type: str
    written: WrittenInterchange
    sender_id: str
    receiver_id: str
    with_ta1: bool


_Builder = Callable[["ControlNumbers"], "Reply | None"]


class _Tally:
    """A control-number source for the dry run: counts what each counter hands out."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, ControlKind], int] = {}

    def next(self, scope: str, kind: ControlKind) -> int:
        n = self.counts.get((scope, kind), 0) + 1
        self.counts[scope, kind] = n
        return n


def _reply(
    item: InterchangeResult, partner: PartnerProfile, now: dt.datetime
) -> Callable[[ControlNumbers], Reply | None]:
    interchange = item.interchange
    kept, override = ack_plan(partner, [g.ack for g in item.groups])
    kinds = {ack_kind(ga.group, override) for ga in kept if ga.group.functional_id != "FA"}
    fa_kind = kinds.pop() if len(kinds) == 1 else "997"
    wants_ta1 = partner.x12 is not None and partner.x12.ta1

    def build(numbers: ControlNumbers) -> Reply | None:
        written = acknowledge(item, partner, control_numbers=numbers, now=now)
        if written is None:
            return None
        doc_type = fa_kind if written.group_controls else "TA1"
        with_ta1 = wants_ta1 or needs_ta1(interchange)
        return Reply(doc_type, written, interchange.receiver_id, interchange.sender_id, with_ta1)

    return build


async def build_replies(
    store: Store, item: InterchangeResult, partner: PartnerProfile, *, now: dt.datetime
) -> list[Reply]:
    """The reply to a settled interchange for ``partner``, numbered from ``store``.

    A list (empty or one reply) so that callers need not care how many there are.
    """
    builders = [_reply(item, partner, now)]
    tally = _Tally()
    if not [b for b in builders if b(tally) is not None]:
        return []
    # one statement (in the caller's unit, or its own short transaction) for all counters
    firsts = await store.next_controls_many(tally.counts)
    start = {key: first - 1 for key, first in firsts.items()}
    numbers = MemoryControlNumbers(start)
    return [reply for b in builders if (reply := b(numbers)) is not None]
