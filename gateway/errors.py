"""The whole exception tree of o2c-gateway.

```
GatewayError
├── ConfigError                 bad YAML, unknown adapter, missing secret
├── UsageError                  a command was called with arguments that cannot work
├── DocumentError               the input is wrong; never retried; carries its ack code and position
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
