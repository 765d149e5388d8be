"""Parse, validate, acknowledge and map: one pass over an X12 file.

:func:`translate` streams one :class:`SetResult` per transaction set, then a
:class:`GroupResult` per functional group and an :class:`InterchangeResult`
per interchange, so memory stays bounded by one transaction set. Consumers
that want the cascade "a rejected interchange or group rejects its sets" use
:func:`settle`, which buffers one interchange at a time. :func:`acknowledge`
writes the replies to a settled interchange under the partner's ack preferences.

Must not import ``gateway.web``, ``gateway.cli`` or any adapter.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, BinaryIO

from gateway.errors import (
    DocumentError,
    EnvelopeError,
    MappingError,
    SegmentError,
    UnsupportedDocumentError,
)
from gateway.mapping import has_base_mapping, inbound_mapper
from gateway.model import CanonicalDocument, Envelope
from gateway.x12.acks import (
    GroupAck,
    SetAck,
    build_acks,
    interchange_rejected,
)
from gateway.x12.codes import GroupErrorCode, SetAckCode, SetErrorCode
from gateway.x12.envelope import (
    FunctionalGroup,
    GroupEnd,
    Interchange,
    InterchangeEnd,
    TransactionSet,
    read_envelopes,
)
from gateway.x12.guides import base_version, load_guide
from gateway.x12.reader import Delimiters, X12Reader
from gateway.x12.validator import SegmentIssue, validate_set

if TYPE_CHECKING:
    import datetime as dt
    from collections.abc import Callable, Iterator, Sequence
    from pathlib import Path

    from gateway.mapping import InboundMapper
    from gateway.partners import PartnerProfile
    from gateway.x12.acks import AckKind
    from gateway.x12.control import ControlNumbers
    from gateway.x12.writer import WrittenInterchange

ACK_SETS = frozenset({"997", "999"})  # acks are never acknowledged (X12.6)


@dataclass(eq=False)
class SetResult:
    """The outcome for one transaction set: a document, or the errors that stopped it."""

    transaction_set: TransactionSet
    document: CanonicalDocument | None = None
    errors: list[DocumentError | MappingError] = field(default_factory=list)
    ack: SetAck | None = None

    @property
    def ok(self) -> bool:
        """True when the set was translated."""
        return self.document is not None and not self.errors


@dataclass(eq=False)
class GroupResult:
    """End of a functional group, with what its 997/999 will say."""

    group: FunctionalGroup
    ack: GroupAck

    @property
    def rejected(self) -> bool:
        """True when the group itself is rejected (its AK9 has error codes)."""
        return bool(self.group.errors)


@dataclass(eq=False)
class InterchangeResult:
    """End of an interchange, with its groups' ack data."""

    interchange: Interchange
    groups: list[GroupResult] = field(default_factory=list)

    @property
    def rejected(self) -> bool:
        """True when the interchange envelope is bad (a TA1 R goes back)."""
        return interchange_rejected(self.interchange)


Result = SetResult | GroupResult | InterchangeResult


def translate(
    source: BinaryIO | bytes,
    *,
    map_documents: bool = True,
    mapper_for: Callable[[TransactionSet], InboundMapper | None] | None = None,
    mappings_dir: Path | None = None,
) -> Iterator[Result]:
    """Translate every transaction set in ``source``, in file order.

    ``mapper_for`` may name a partner's own mapping for a set; otherwise the base
    mapping for its transaction set and version (under ``mappings_dir``, by default
    ``Settings``' default) translates it.
    """
    acks: dict[int, GroupAck] = {}
    groups: dict[int, list[GroupResult]] = {}
    for event in read_envelopes(X12Reader(source, elements=True)):
        if isinstance(event, TransactionSet):
            result = _process_set(
                event, map_documents=map_documents, mapper_for=mapper_for, mappings_dir=mappings_dir
            )
            if result.ack is not None:
                acks.setdefault(id(event.group), GroupAck(event.group)).sets.append(result.ack)
            yield result
        elif isinstance(event, GroupEnd):
            ack = acks.pop(id(event.group), None) or GroupAck(event.group)
            gres = GroupResult(event.group, ack)
            groups.setdefault(id(event.group.interchange), []).append(gres)
            yield gres
        elif isinstance(event, InterchangeEnd):
            yield InterchangeResult(event.interchange, groups.pop(id(event.interchange), []))


def envelope_of(ts: TransactionSet) -> Envelope:
    """The canonical envelope block for a received transaction set."""
    group = ts.group
    inter = group.interchange
    return Envelope(
        sender_qualifier=inter.sender_qualifier,
        sender_id=inter.sender_id,
        receiver_qualifier=inter.receiver_qualifier,
        receiver_id=inter.receiver_id,
        interchange_control=inter.control,
        group_control=group.control,
        transaction_control=ts.control,
        version=group.version,
        functional_id=group.functional_id,
        usage_indicator=inter.usage or None,
    )


def _reject(result: SetResult, errors: list[DocumentError], codes: tuple[str, ...]) -> SetResult:
    ts = result.transaction_set
    result.errors.extend(errors)
    if ts.code not in ACK_SETS:
        result.ack = SetAck(ts.code, ts.control, ts.convention, SetAckCode.REJECTED, codes[:5])
    return result


def _process_set(
    ts: TransactionSet,
    *,
    map_documents: bool,
    mapper_for: Callable[[TransactionSet], InboundMapper | None] | None = None,
    mappings_dir: Path | None = None,
) -> SetResult:
    result = SetResult(ts)
    group = ts.group
    inter = group.interchange
    if inter.errors:
        err = inter.errors[0]
        return _reject(
            result,
            [_cascade(ts, f"interchange {inter.control} is rejected: {err.message}", err)],
            (),
        )
    if base_version(group.version) is None:
        if not any(e.code == GroupErrorCode.VERSION_NOT_SUPPORTED for e in group.errors):
            group.errors.append(_group_version_error(group))
        return _reject(result, [_cascade(ts, group.errors[-1].message, group.errors[-1])], ())
    if ts.errors:
        return _reject(result, list(ts.errors), tuple(e.code for e in ts.errors))
    guide = load_guide(ts.code, group.version)
    mapper = mapper_for(ts) if mapper_for is not None else None
    if guide is None or (mapper is None and not has_base_mapping(ts.code)):
        unsupported = UnsupportedDocumentError(
            f"transaction set {ts.code} ({group.version}) is not a document this gateway accepts",
            code=SetErrorCode.NOT_SUPPORTED,
            level="set",
            position=ts.segments[0].position(),
            **_controls(ts),
        )
        return _reject(result, [unsupported], (SetErrorCode.NOT_SUPPORTED,))
    validation = validate_set(ts.segments, guide, inter.delimiters)
    if validation.issues:
        errors: list[DocumentError] = [_issue_error(ts, issue) for issue in validation.issues]
        result.errors.extend(errors)
        if ts.code not in ACK_SETS:
            result.ack = SetAck(
                ts.code,
                ts.control,
                ts.convention,
                SetAckCode.REJECTED,
                (),  # the ack builder picks 5, or I5 for implementation-only findings
                tuple(validation.issues),
            )
        return result
    if ts.code not in ACK_SETS:
        result.ack = SetAck(ts.code, ts.control, ts.convention, SetAckCode.ACCEPTED)
    if map_documents:
        # the base mapping is compiled on first use, so validating needs no mapping files
        mapper = mapper or inbound_mapper(ts.code, group.version, mappings_dir=mappings_dir)
        assert mapper is not None  # has_base_mapping said there is one
        try:
            result.document = mapper(
                validation.tree, delimiters=inter.delimiters, envelope=envelope_of(ts)
            )
        except MappingError as exc:
            result.errors.append(exc)
    return result


def _controls(ts: TransactionSet) -> dict[str, str]:
    return {
        "interchange_control": ts.group.interchange.control,
        "group_control": ts.group.control,
        "set_control": ts.control,
    }


def _cascade(ts: TransactionSet, message: str, cause: DocumentError) -> DocumentError:
    return EnvelopeError(
        message,
        code=cause.code,
        level=cause.level,
        position=cause.position,
        **_controls(ts),
    )


def _group_version_error(group: FunctionalGroup) -> EnvelopeError:
    return EnvelopeError(
        f"GS08 version {group.version!r} is not supported: "
        "this gateway translates 004010 and 005010",
        code=GroupErrorCode.VERSION_NOT_SUPPORTED,
        level="group",
        position=group.gs.position(element=8),
        interchange_control=group.interchange.control,
        group_control=group.control,
    )


def _issue_error(ts: TransactionSet, issue: SegmentIssue) -> SegmentError:
    seg = issue.segment
    parts = [f"{issue.tag} at position {issue.set_position} of set {ts.control}"]
    if issue.code is not None:
        parts.append(
            f"segment error {issue.code.value} ({issue.code.name.lower().replace('_', ' ')})"
        )
    for el in issue.elements:
        what = f"element {issue.tag}{el.position:02d}"
        if el.component:
            what += f"-{el.component}"
        found = f", found {el.bad_value!r}" if el.bad_value else ""
        parts.append(
            f"{what}: error {el.code.value} ({el.code.name.lower().replace('_', ' ')}){found}"
        )
    first = issue.elements[0] if issue.elements else None
    code = (
        first.code.value
        if first is not None and issue.code is None
        else (issue.code.value if issue.code else "")
    )
    return SegmentError(
        "; ".join(parts),
        code=code,
        level="element" if first is not None else "segment",
        position=seg.position(
            set_segment=issue.set_position,
            element=first.position if first else None,
            component=first.component if first else None,
        )
        if seg is not None
        else ts.segments[0].position(set_segment=issue.set_position),
        **_controls(ts),
    )


def settle(results: Iterator[Result]) -> Iterator[Result]:
    """Buffer each interchange and apply the rejection cascade before yielding it.

    A set whose group or interchange turns out to be rejected (a bad GE or IEA
    is only seen at the end) loses its document and gets the envelope error.
    """
    pending: list[Result] = []
    for item in results:
        pending.append(item)
        if not isinstance(item, InterchangeResult):
            continue
        for held in pending:
            if isinstance(held, SetResult) and held.document is not None:
                cause = _envelope_cause(held.transaction_set)
                if cause is not None:
                    held.document = None
                    held.errors.append(cause)
        yield from pending
        pending = []
    yield from pending


def _envelope_cause(ts: TransactionSet) -> DocumentError | None:
    inter = ts.group.interchange
    if inter.errors:
        err = inter.errors[0]
        return _cascade(ts, f"interchange {inter.control} is rejected: {err.message}", err)
    if ts.group.errors:
        err = ts.group.errors[0]
        return _cascade(ts, f"functional group {ts.group.control} is rejected: {err.message}", err)
    return None


# -- acknowledging -------------------------------------------------------------------------


def ack_plan(
    profile: PartnerProfile, group_acks: Sequence[GroupAck]
) -> tuple[list[GroupAck], AckKind | None]:
    """The groups that get a 997/999, and the kind the profile asks for (None: by version).

    A group is left out when ``x12.<set>.functional_ack`` is ``none`` for every set type
    in it; naming both 997 and 999 for one interchange leaves the kind to each version.
    """
    documents = profile.x12.documents() if profile.x12 is not None else {}
    kept: list[GroupAck] = []
    kinds: set[str] = set()
    for ga in group_acks:
        wanted = {documents[s.code].functional_ack for s in ga.sets if s.code in documents}
        if wanted == {"none"}:
            continue
        kinds |= wanted - {"none"}
        kept.append(ga)
    return kept, "997" if kinds == {"997"} else "999" if kinds == {"999"} else None


def acknowledge(
    item: InterchangeResult,
    profile: PartnerProfile | None = None,
    *,
    control_numbers: ControlNumbers,
    now: dt.datetime,
) -> WrittenInterchange | None:
    """The TA1/997/999 reply to one settled interchange, under the partner's preferences.

    Without a profile: a TA1 when ISA14 asks or the envelope is bad, 997 before 005010,
    999 from 005010 on, in the inbound's delimiters. With one, :func:`ack_plan` picks
    the groups and the kind, ``x12.ta1: true`` puts a TA1 in every reply, and the reply
    is written in the partner's outbound delimiters. None when there is nothing to send.
    """
    inter = item.interchange
    group_acks = [g.ack for g in item.groups]
    kind: AckKind | None = None
    delimiters: Delimiters | None = None
    wants_ta1 = False
    if profile is not None:
        group_acks, kind = ack_plan(profile, group_acks)
        delimiters = reply_delimiters(profile)
        wants_ta1 = profile.x12 is not None and profile.x12.ta1
    return build_acks(
        inter,
        group_acks,
        control_numbers=control_numbers,
        now=now,
        delimiters=delimiters,
        kind_override=kind,
        with_ta1=wants_ta1,
    )


def reply_delimiters(profile: PartnerProfile) -> Delimiters | None:
    """The delimiters the partner wants our files in, or None (answer in the inbound's)."""
    if profile.x12 is None:
        return None
    d = profile.x12.delimiters
    return Delimiters(
        element=d.element,
        component=d.component,
        repetition=d.repetition,
        segment=d.segment,
        suffix="\n" if d.newline else "",
    )
