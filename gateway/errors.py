"""The whole exception tree of o2c-gateway.

```
GatewayError
├── ConfigError                 bad YAML, unknown adapter, missing secret
├── UsageError                  a command was called with arguments that cannot work
│   └── CashActionError         a refused AR queue action; the message is for the clerk
├── OpenItemsError              an open-items CSV with bad rows (every one in ``problems``)
├── LedgerError                 DSO invoices/payments files with bad rows (``problems``)
├── DsoSnapshotError            a stored DSO snapshot that cannot be read back
├── ControlNumbersExhaustedError  a control-number counter at its maximum; a person resets it
├── LeaseLostError              a worker's claim was taken over: its unit rolls back
├── SchemaOutOfDateError        the database is behind the code: run ``o2c db upgrade``
├── DocumentError               the input is wrong; never retried; carries its ack code and position
│   ├── DocumentTooLargeError   over ``max_document_bytes``: refused before anything is stored
│   ├── EnvelopeError           TA1 for ISA/IEA, AK9/IK9 for GS/GE, AK5/IK5 for ST/SE
│   ├── SegmentError            segment/element problems: 997 AK3/AK4 or 999 IK3/IK4 codes
│   ├── UnsupportedDocumentError  a well-formed document we have no mapping for
│   ├── DuplicateInterchangeError same partner + ISA13 (or GS06/ST02) inside the window
│   └── UnsafeXmlError          DTD, entity or external reference in XML input
├── MappingError                one transaction failed a rule; it goes to the exception queue
└── DeliveryError
    ├── TransientDeliveryError  timeout, refused, 429/5xx: retried with backoff
    └── PermanentDeliveryError  auth, other 4xx, ERP validation: parked for a person
```

The class decides whether an error is retried; no code matches on message text.
Errors keep their facts as attributes and their message says what was expected
and what was found. This module imports nothing from the project.
"""

from __future__ import annotations

from dataclasses import dataclass, field

_MAX_PROBLEMS_SHOWN = 20
"""Problems a :class:`LedgerError` message lists before "... and N more"."""


@dataclass(frozen=True, slots=True)
class Position:
    """Where in a file something went wrong.

    ``offset`` is the byte offset of the segment's first byte in the source,
    ``segment`` its 1-based ordinal in the file and ``set_segment`` its 1-based
    position inside its transaction set (ST is 1), when it is inside one.
    """

    offset: int | None = None
    segment: int | None = None
    set_segment: int | None = None
    tag: str | None = None
    element: int | None = None
    component: int | None = None

    def describe(self) -> str:
        """Render the position for a person: ``segment 12 (PO1, byte 431), element 3``."""
        parts: list[str] = []
        if self.segment is not None:
            where = f"segment {self.segment}"
            extra = [
                x
                for x in (self.tag, f"byte {self.offset}" if self.offset is not None else None)
                if x
            ]
            if extra:
                where += f" ({', '.join(extra)})"
            parts.append(where)
        elif self.offset is not None:
            parts.append(f"byte {self.offset}")
        if self.element is not None:
            el = f"element {self.element:02d}"
            if self.component is not None:
                el += f"-{self.component}"
            parts.append(el)
        return ", ".join(parts) if parts else "unknown position"


class GatewayError(Exception):
    """Root of every error the gateway raises on purpose."""


class ConfigError(GatewayError):
    """Configuration is wrong; ``problems`` lists every finding, not just the first."""

    def __init__(self, message: str, *, problems: list[str] | None = None) -> None:
        super().__init__(message)
        self.problems = problems or [message]


class UsageError(GatewayError):
    """A command or API call was made with arguments that cannot work."""


@dataclass(eq=False)
class DocumentError(GatewayError):
    """The input is wrong. Never retried.

    ``code`` is the X12 code that acknowledges the problem (TA105 for the
    interchange, AK905/IK905 for a group, AK502/IK502 for a set, AK304/IK304 or
    AK403/IK403 for segments and elements), ``level`` says which of those it is.
    """

    message: str
    code: str = ""
    level: str = "document"
    position: Position = field(default_factory=Position)
    interchange_control: str | None = None
    group_control: str | None = None
    set_control: str | None = None

    def __post_init__(self) -> None:
        Exception.__init__(self, self.message)

    def __str__(self) -> str:
        return self.message


class EnvelopeError(DocumentError):
    """ISA/IEA, GS/GE or ST/SE problem; ``level`` is interchange, group or set."""


class SegmentError(DocumentError):
    """A segment or element inside a transaction set breaks the implementation guide."""


class UnsupportedDocumentError(DocumentError):
    """A well-formed document of a type or version the gateway does not translate."""


class DuplicateInterchangeError(DocumentError):
    """The same partner sent the same control number inside its duplicate window."""


class UnsafeXmlError(DocumentError):
    """XML input declared a DTD, an entity or an external reference."""


class MappingError(GatewayError):
    """A transaction set could not be mapped to or from the canonical model."""

    def __init__(self, message: str, *, path: str | None = None) -> None:
        super().__init__(message)
        self.path = path


class DeliveryError(GatewayError):
    """Sending or pushing a document failed."""


class TransientDeliveryError(DeliveryError):
    """Timeout, refused connection, 429 or 5xx: retried with backoff."""


class PermanentDeliveryError(DeliveryError):
    """Authentication, other 4xx, ERP validation: parked for a person."""


class CashActionError(UsageError):
    """A refused cash action; ``str(exc)`` says why, for the clerk."""


class OpenItemsError(GatewayError):
    """The open-items file cannot be used; ``problems`` holds every finding as file:line: text."""

    def __init__(self, message: str, *, problems: list[str]) -> None:
        super().__init__(message)
        self.problems = problems


class DsoSnapshotError(GatewayError):
    """A stored snapshot's figures are not what :meth:`PartnerFigures.as_json` writes."""


class LedgerError(GatewayError):
    """The invoices or payments are wrong; ``problems`` lists each as ``file:line: column: why``.

    Raised for a whole file at once: every bad row is collected before raising.
    """

    def __init__(self, source: str, problems: list[str]) -> None:
        self.source = source
        self.problems = problems
        if len(problems) == 1:
            message = problems[0]
        else:
            shown = problems[:_MAX_PROBLEMS_SHOWN]
            more = len(problems) - len(shown)
            tail = [f"... and {more} more"] if more else []
            message = f"{source}: {len(problems)} problems\n  " + "\n  ".join(shown + tail)
        super().__init__(message)


class ControlNumbersExhaustedError(GatewayError):
    """A control-number counter reached its maximum; a person must reset it.

    Never retried: the same call would fail again. ``scope`` and ``kind`` name
    the counter.
    """

    def __init__(self, scope: str, kind: str, maximum: int) -> None:
        super().__init__(
            f"{kind} control numbers for {scope} are exhausted: {maximum} was the last one; "
            "reset the counter once the partner's duplicate window allows reusing numbers"
        )
        self.scope = scope
        self.kind = kind
        self.maximum = maximum


class DocumentTooLargeError(DocumentError):
    """An inbound file is over ``Settings.max_document_bytes``; nothing was stored.

    A :class:`~gateway.errors.DocumentError` so that adapters, which may import only
    ``gateway.errors``, can catch it. ``size`` and ``limit`` are in bytes.
    """

    def __init__(self, size: int, limit: int) -> None:
        DocumentError.__init__(
            self,
            f"document of {size} bytes is over the limit of {limit} bytes "
            "(max_document_bytes); it was not stored",
        )
        self.size = size
        self.limit = limit


class LeaseLostError(GatewayError):
    """A worker's claim on a document was taken over (its lease expired) before it committed.

    The unit rolls back: the new owner's work is the one that counts. This is the fence
    that keeps a slow worker from committing a second copy of what another one did.
    """

    def __init__(self, doc_id: int, owner: str) -> None:
        super().__init__(
            f"document {doc_id}: the claim of {owner} was taken over by another worker"
        )
        self.doc_id = doc_id
        self.owner = owner


class SchemaOutOfDateError(GatewayError):
    """The database schema is behind the code; the message says to run ``o2c db upgrade``."""
