"""The worker's stage for a received X12 file: duplicates, translation, sets and acks.

:func:`process_interchange` takes a file in state ``received`` and, in one storage
transaction, writes one child document per transaction set (``parsed``, then
``acknowledged`` and ``mapped``, or ``rejected`` with the reason), the replies
(TA1/997/999, state ``queued`` for the partner's outbound channel) and the file's
own end state: ``acknowledged``, or ``rejected`` when the envelope is refused.

Decisions a commercial gateway makes the same way:

- Unknown sender: the file is rejected with the ISA sender named and no TA1 is
  sent. There is no profile, so no outbound channel to send one on, and a reply
  would confirm receipt to a party nobody set up. Add the sender to a profile's
  ``identity.isa`` and reprocess the document.
- A file that came in on one partner's channel but whose ISA sender belongs to no id
  of that partner is rejected the same way (one partner cannot send as another).
- Duplicate (same partner, ISA sender and ISA13 inside ``x12.duplicate_window_days``):
  state ``duplicate``, nothing translated, no ack, a webhook alert. A forced
  reprocess (``reprocess(..., force=True)``) skips the check once.
- Reprocessing a file reuses its child documents (matched by ISA13, GS06, ST02 and
  ST01) and sends no second ack when one was queued; a child already ``delivered``
  is left as it is. The ERP push is idempotent besides.

A child document points at its file's payload (same sha256): the set is the bytes
between its ST and SE inside that file.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

import asyncio
import dataclasses
import datetime as dt
import logging
from typing import TYPE_CHECKING, Any

from gateway.pipeline.context import log_extra
from gateway.pipeline.outcomes import business_key, describe_errors, error_note, translate_file
from gateway.pipeline.receiver import read_isa
from gateway.pipeline.replies import Reply, build_replies
from gateway.storage import Controls, State

if TYPE_CHECKING:
    from gateway.partners import PartnerProfile
    from gateway.pipeline.context import StageContext, Write
    from gateway.pipeline.outcomes import SetOutcome, Translation
    from gateway.pipeline.receiver import IsaHeader
    from gateway.storage import DocumentRecord, Unit

log = logging.getLogger(__name__)

ACK_DOC_TYPES = frozenset({"997", "999", "TA1"})
_MAX_NOTES = 20  # errors kept in a timeline event's detail
_ACCEPTED = frozenset({"A", "E"})


# -- the stage -----------------------------------------------------------------------------
async def process_interchange(sc: StageContext, doc: DocumentRecord) -> Write | None:
    """Process one received X12 file; see the module docstring.

    A refused file or a duplicate is recorded here; otherwise the file's writes (its
    sets, its replies with their control numbers, its end state) are returned for the
    worker to commit with the rest of its batch in one transaction.
    """
    data = await sc.store.get_payload(doc.payload_sha256)
    isa = read_isa(data)
    partner, problem = _partner_of(sc, doc, isa)
    if partner is None or problem is not None:
        await _reject_file(sc, doc, problem or "no partner")
        return None
    if isa is not None and await _duplicate(sc, doc, isa, partner):
        return None
    mapper_for = sc.mappings(partner).mapper_for
    translation = await asyncio.to_thread(translate_file, data, mapper_for)
    children = await sc.store.children(doc.id)
    old_acks = [c for c in children if c.direction == "out" and c.doc_type in ACK_DOC_TYPES]
    now = sc.clock()

    async def write(unit: Unit) -> None:
        replies: list[list[Reply]] = []
        if not old_acks:
            for ir in translation.interchanges:
                # inside the unit: the counters are reserved in the batch's transaction
                replies.append(await build_replies(sc.store, ir, partner, now=now))
        # the payloads are fsynced together just before the rows commit
        flat = [r for rs in replies for r in rs]
        digests = await sc.store.put_payloads([r.written.data for r in flat])
        shas = {id(r): sha for r, sha in zip(flat, digests, strict=True)}
        ack_docs = [
            [(r, await _add_reply(unit, doc, partner, r, shas[id(r)])) for r in rs]
            for rs in replies
        ]
        existing = {_key(c.controls, c.doc_type): c for c in children if c.direction == "in"}
        writer = _SetWriter(unit, doc, partner, ack_docs, old_acks)
        parked: list[tuple[int, str]] = []
        for outcome in translation.sets:
            failed = await writer.record(
                outcome, existing.get(_key(outcome.controls, outcome.code))
            )
            if failed is not None:
                parked.append(failed)
        state, message = _file_outcome(translation, writer, ack_docs, old_acks)
        await unit.set_state(doc.id, state, message, detail=writer.summary())
        log.info(
            "interchange processed: %s", state, extra=log_extra(doc, sets=len(translation.sets))
        )
        # Alerted as the batch is written: should its commit fail, the file is processed
        # again and the alert repeated, which a person can live with.
        for child_id, reason in parked:
            child = dataclasses.replace(doc, id=child_id, parent_id=doc.id, state=State.FAILED)
            await sc.alert("failed", child, reason)

    return write


def _key(controls: Controls, code: str) -> tuple[str | None, ...]:
    c = controls
    return (c.interchange_control, c.group_control, c.transaction_control, code)


def _partner_of(
    sc: StageContext, doc: DocumentRecord, isa: IsaHeader | None
) -> tuple[PartnerProfile | None, str | None]:
    """The file's partner, or why the file is refused."""
    sender = f"{isa.sender_qualifier}:{isa.sender_id}" if isa is not None else None
    partner = sc.partner(doc.partner_id)
    if doc.partner_id is not None and partner is None:
        return None, f"partner {doc.partner_id!r} has no profile any more"
    if partner is None and isa is not None:
        partner = sc.partners.by_interchange(isa.sender_qualifier, isa.sender_id)
    if partner is None:
        if isa is None:
            return None, "the ISA cannot be read, so the sender is unknown; no TA1 is sent"
        return None, (
            f"no partner profile for ISA sender {sender} (ISA13 {isa.control}); no TA1 is "
            "sent to an unknown sender. Add the id to a profile's identity.isa, then "
            "reprocess this document"
        )
    if not partner.active:
        return None, f"partner {partner.id} is inactive (active: false in its profile)"
    ids = {(i.qualifier.upper(), i.id.strip().upper()) for i in partner.identity.isa}
    if isa is not None and ids and (isa.sender_qualifier.upper(), isa.sender_id.upper()) not in ids:
        known = ", ".join(sorted(f"{q}:{i}" for q, i in ids))
        return None, (
            f"ISA sender {sender} is not an id of partner {partner.id} ({known}), "
            f"whose channel {doc.channel} the file came in on"
        )
    return partner, None


async def _reject_file(sc: StageContext, doc: DocumentRecord, message: str) -> None:
    async with sc.unit(doc) as unit:
        await unit.set_state(doc.id, State.REJECTED, message, error=message)
    log.warning("file rejected: %s", message, extra=log_extra(doc))


async def _duplicate(
    sc: StageContext, doc: DocumentRecord, isa: IsaHeader, partner: PartnerProfile
) -> bool:
    """Flag the file as a duplicate when it is one; True then."""
    window = partner.x12.duplicate_window_days if partner.x12 is not None else 30
    if window == 0:
        return False
    original = await sc.store.find_interchange(
        partner_id=partner.id,
        sender_id=isa.sender_id,
        interchange_control=isa.control,
        since=sc.clock() - dt.timedelta(days=window),
        exclude_id=doc.id,
    )
    # only an earlier file is the original: of two copies received before either was
    # processed, the first is processed and the second is the duplicate
    if original is None or original.id > doc.id or await forced(sc, doc.id):
        return False
    message = (
        f"duplicate of document #{original.id}: ISA13 {isa.control} from "
        f"{isa.sender_qualifier}:{isa.sender_id} was received on "
        f"{original.created_at:%Y-%m-%d %H:%M} UTC, inside the {window}-day window; "
        "not processed (an admin may force reprocessing)"
    )
    detail = {"original_id": original.id, "interchange_control": isa.control}
    async with sc.unit(doc) as unit:
        await unit.event(doc.id, "duplicate", message, detail)
        await unit.set_state(doc.id, State.DUPLICATE, message, detail=detail)
    log.warning("duplicate interchange", extra=log_extra(doc, original_id=original.id))
    await sc.alert("duplicate", dataclasses.replace(doc, state=State.DUPLICATE), message)
    return True


async def forced(sc: StageContext, doc_id: int) -> bool:
    """True when the latest reprocess request for the document was forced."""
    for event in reversed(await sc.store.events(doc_id)):
        if event.kind == "reprocess":
            return bool(event.detail.get("force"))
    return False


async def _add_reply(
    unit: Unit, doc: DocumentRecord, partner: PartnerProfile, reply: Reply, sha: str
) -> int:
    written = reply.written
    channel = partner.channels.outbound
    what = reply.doc_type + (" with TA1" if reply.with_ta1 and reply.doc_type != "TA1" else "")
    return await unit.add_document(
        direction="out",
        partner_id=partner.id,
        channel=channel.kind if channel is not None else None,
        doc_type=reply.doc_type,
        format="x12",
        state=State.QUEUED,
        payload_sha256=sha,
        size=len(written.data),
        message=f"{what} for interchange {doc.controls.interchange_control or '?'} "
        f"(document #{doc.id}) queued",
        parent_id=doc.id,
        controls=Controls(
            sender_id=reply.sender_id,
            receiver_id=reply.receiver_id,
            interchange_control=written.interchange_control,
            group_control=written.group_controls[0] if written.group_controls else None,
            transaction_control=(written.set_controls[0][0] if written.set_controls else None),
        ),
        detail={"ta1": reply.with_ta1, "groups": list(written.group_controls)},
    )


class _SetWriter:
    """Writes the child documents of one file inside the file's transaction."""

    def __init__(
        self,
        unit: Unit,
        doc: DocumentRecord,
        partner: PartnerProfile,
        ack_docs: list[list[tuple[Reply, int]]],
        old_acks: list[DocumentRecord],
    ) -> None:
        self.unit, self.doc, self.partner = unit, doc, partner
        self.ack_docs, self.old_acks = ack_docs, old_acks
        self.counts: dict[str, int] = {}
        docs = partner.x12.documents() if partner.x12 is not None else {}
        self.no_ack = {code for code, d in docs.items() if d.functional_ack == "none"}

    def summary(self) -> dict[str, Any]:
        """Counts of the sets by what happened to them."""
        return {"sets": dict(self.counts)}

    def _ack_of(self, outcome: SetOutcome) -> tuple[str, int] | None:
        """The 997/999 document that answers this set, as ``(kind, id)``."""
        if outcome.code in self.no_ack:
            return None
        if self.ack_docs:
            if outcome.interchange >= len(self.ack_docs):
                return None  # sets after the last interchange's end: no reply covers them
            for reply, ack_id in self.ack_docs[outcome.interchange]:
                if reply.doc_type != "TA1":
                    return reply.doc_type, ack_id
            return None
        for old in self.old_acks:
            if old.doc_type != "TA1":
                return old.doc_type, old.id
        return None

    async def record(
        self, o: SetOutcome, existing: DocumentRecord | None
    ) -> tuple[int, str] | None:
        """Write one set; returns ``(id, message)`` when it was parked as failed."""
        if existing is not None and existing.state == State.DELIVERED:
            await self.unit.event(
                existing.id,
                "note",
                f"seen again when file #{self.doc.id} was reprocessed: already delivered, "
                "left as it is",
            )
            self._count("unchanged")
            return None
        child = await self._parsed(o, existing)
        ack = self._ack_of(o)
        if o.ack_status is not None and o.ack_status not in _ACCEPTED:
            text = describe_errors(o.errors) or "rejected"
            message = f"rejected: {text}"
            if ack is not None:
                tag = "IK5" if ack[0] == "999" else "AK5"
                codes = "".join(f"*{c}" for c in o.ack_codes)
                message = (
                    f"rejected in the {ack[0]} (document #{ack[1]}, {tag}*{o.ack_status}{codes}): "
                    f"{text}"
                )
            detail = {"errors": list(o.errors[:_MAX_NOTES]), "ack_codes": list(o.ack_codes)}
            await self.unit.set_state(child, State.REJECTED, message, detail=detail, error=text)
            self._count("rejected")
            return None
        if o.ack_status is not None and ack is not None:
            with_errors = " with errors" if o.ack_status == "E" else ""
            await self.unit.set_state(
                child,
                State.ACKNOWLEDGED,
                f"accepted{with_errors} in the {ack[0]} (document #{ack[1]})",
                detail={"ack_id": ack[1], "status": o.ack_status},
            )
        return await self._mapped(o, child, fresh=existing is None)

    async def _parsed(self, o: SetOutcome, existing: DocumentRecord | None) -> int:
        c = o.controls
        message = (
            f"parsed {o.code} set {c.transaction_control} of group {c.group_control} "
            f"(interchange {c.interchange_control}, version {o.version})"
        )
        if existing is not None:
            await self.unit.set_state(
                existing.id,
                State.PARSED,
                f"{message}, again: file #{self.doc.id} was reprocessed",
                reset_attempts=True,
            )
            return existing.id
        # a new child takes its canonical document at once (one statement less per set)
        canonical = o.document.model_dump(mode="json") if o.document is not None else None
        return await self.unit.add_document(
            canonical=canonical,
            business_key=business_key(o.document) if o.document is not None else None,
            direction="in",
            partner_id=self.partner.id,
            channel=self.doc.channel,
            doc_type=o.code,
            format="x12",
            state=State.PARSED,
            payload_sha256=self.doc.payload_sha256,
            size=self.doc.size,
            message=message,
            parent_id=self.doc.id,
            filename=self.doc.filename,
            controls=c,
        )

    async def _mapped(self, o: SetOutcome, child: int, *, fresh: bool) -> tuple[int, str] | None:
        if o.document is None:
            text = describe_errors(o.errors) or "the mapping gave no document"
            message = (
                f"mapping failed: {text}; fix the mapping or the partner profile, "
                "then reprocess the file"
            )
            detail = {"errors": list(o.errors[:_MAX_NOTES])}
            if o.ack_status is None:  # an ack we could not read: bad input, not ours
                await self.unit.set_state(child, State.REJECTED, message, detail=detail, error=text)
                self._count("rejected")
                return None
            await self.unit.set_state(child, State.FAILED, message, detail=detail, error=text)
            self._count("failed")
            return child, message
        key = business_key(o.document)
        if not fresh:
            await self.unit.set_canonical(child, o.document.model_dump(mode="json"), key)
        await self.unit.set_state(
            child,
            State.MAPPED,
            f"mapped to {o.document.type}" + (f" {key}" if key else ""),
            detail={"type": o.document.type, "business_key": key},
        )
        self._count("mapped")
        return None

    def _count(self, what: str) -> None:
        self.counts[what] = self.counts.get(what, 0) + 1


def _file_outcome(
    t: Translation,
    writer: _SetWriter,
    ack_docs: list[list[tuple[Reply, int]]],
    old_acks: list[DocumentRecord],
) -> tuple[State, str]:
    replies = [f"{r.doc_type} #{i}" for rs in ack_docs for r, i in rs]
    if old_acks:
        replies = [f"{a.doc_type} #{a.id} (queued before)" for a in old_acks]
    sent = f"; replies: {', '.join(replies)}" if replies else "; no acknowledgment sent"
    if not t.interchanges:
        return State.REJECTED, "no interchange found in the file" + sent
    rejected = [ir for ir in t.interchanges if ir.rejected]
    if len(rejected) == len(t.interchanges):
        errors = [e for ir in rejected for e in ir.interchange.errors]
        text = describe_errors([error_note(e) for e in errors]) or "envelope errors"
        return State.REJECTED, f"interchange rejected: {text}" + sent
    counts = ", ".join(f"{n} {what}" for what, n in sorted(writer.counts.items()))
    total = sum(writer.counts.values())
    return State.ACKNOWLEDGED, f"{total} transaction set(s): {counts or 'none'}" + sent
