"""The only place XML is parsed: hardened lxml, plus XPath helpers for cXML and partner XML.

:func:`parse_xml` refuses, before lxml sees a byte, any document over the size
limit or with a DOCTYPE (and so any DTD, entity declaration or external
reference) in its prolog; the parser itself is also set not to load DTDs,
resolve entities or touch the network, and the parsed tree is checked once more
for a DTD. Real cXML carries a DOCTYPE line: buyers must send it without one.

:func:`compile_xpath` checks an expression when a mapping is loaded (a bad one is
a :class:`ConfigError`); :func:`xpath_text` and :func:`xpath_nodes` apply it.
Other modules use the ``XmlElement`` and ``XPath`` aliases here and never import
lxml themselves (ruff TID251).

Imports only the standard library, lxml and ``gateway.errors``.
"""

from __future__ import annotations

import codecs
import re
from typing import TYPE_CHECKING, TypeAlias

from lxml import etree

from gateway.errors import ConfigError, DocumentError, MappingError, UnsafeXmlError

if TYPE_CHECKING:
    from collections.abc import Mapping

XmlElement: TypeAlias = etree._Element
"""A parsed XML element."""
XPath: TypeAlias = etree.XPath
"""A compiled XPath expression."""

_PROLOG_SCAN = 64 * 1024  # a prolog longer than this is refused
# One prolog item at a time: whitespace, XML declaration or PI, comment.
_PROLOG_ITEM = re.compile(r"\s+|<\?.*?\?>|<!--.*?-->", re.DOTALL)
_POSITION_SUFFIX = re.compile(r", line \d+, column \d+$")
_BOMS = (
    (codecs.BOM_UTF32_LE, "utf-32-le"),
    (codecs.BOM_UTF32_BE, "utf-32-be"),
    (codecs.BOM_UTF8, "utf-8"),
    (codecs.BOM_UTF16_LE, "utf-16-le"),
    (codecs.BOM_UTF16_BE, "utf-16-be"),
)


def _parser() -> etree.XMLParser:
    """A parser that loads no DTD, resolves no entity and opens no file or URL."""
    return etree.XMLParser(
        resolve_entities=False,
        no_network=True,
        load_dtd=False,
        dtd_validation=False,
        huge_tree=False,
        remove_comments=True,
        remove_pis=True,
    )


def parse_xml(data: bytes, *, max_bytes: int) -> XmlElement:
    """Parse an XML document from bytes, refusing anything unsafe.

    Raises:
        UnsafeXmlError: the document is larger than ``max_bytes``, or declares a DOCTYPE
            (a DTD, entities or an external reference).
        DocumentError: the document is not well-formed; the message gives line and column.
    """
    if len(data) > max_bytes:
        raise UnsafeXmlError(
            f"XML document of {len(data):,} bytes refused: the limit is {max_bytes:,} bytes"
        )
    _refuse_doctype(_prolog_text(data))
    try:
        root = etree.fromstring(data, parser=_parser())
    except etree.XMLSyntaxError as exc:
        line, column = exc.position
        reason = _POSITION_SUFFIX.sub("", str(exc.msg))
        raise DocumentError(f"malformed XML at line {line}, column {column}: {reason}") from exc
    docinfo = root.getroottree().docinfo
    declared = getattr(docinfo, "doctype", "")  # lxml-stubs lacks DocInfo.doctype
    if declared or docinfo.internalDTD is not None or docinfo.externalDTD is not None:
        raise UnsafeXmlError("XML with a DOCTYPE refused: DTDs and entities are not accepted")
    return root


def _prolog_text(data: bytes) -> str:
    """The start of the document as text, decoded well enough to find a DOCTYPE."""
    head = data[:_PROLOG_SCAN]
    for bom, encoding in _BOMS:
        if head.startswith(bom):
            return head[len(bom) :].decode(encoding, errors="replace")
    if head[:4] in (b"<\x00?\x00", b"<\x00\x00\x00"):
        return head.decode("utf-32-le" if head[1:4] == b"\x00\x00\x00" else "utf-16-le", "replace")
    if head[:4] in (b"\x00<\x00?", b"\x00\x00\x00<"):
        return head.decode("utf-32-be" if head[:3] == b"\x00\x00\x00" else "utf-16-be", "replace")
    return head.decode("latin-1")  # ASCII-compatible encodings put '<!' at the same bytes


def _refuse_doctype(text: str) -> None:
    """Walk the prolog item by item; anything starting ``<!`` other than a comment is refused."""
    position = 0
    while True:
        match = _PROLOG_ITEM.match(text, position)
        if match is None:
            break
        position = match.end()
    rest = text[position:]
    if rest.startswith("<!"):
        what = "a DOCTYPE" if rest[2:9].upper() == "DOCTYPE" else f"{rest[:10]!r}"
        raise UnsafeXmlError(
            f"XML with {what} refused: DTDs, entity declarations and external references are "
            "not accepted (send the document without its DOCTYPE line)"
        )
    if not rest and len(text) >= _PROLOG_SCAN:
        raise UnsafeXmlError(f"XML prolog longer than {_PROLOG_SCAN:,} characters refused")


def compile_xpath(expr: str, namespaces: Mapping[str, str] | None = None) -> XPath:
    """Compile an XPath 1.0 expression (no regular-expression extensions).

    The expression is also tried once on an empty element, so that an undefined
    namespace prefix, variable or function is found now rather than per document.

    Raises:
        ConfigError: the expression is not valid; the message names it.
    """
    try:
        compiled = etree.XPath(
            expr, namespaces=dict(namespaces or {}), regexp=False, smart_strings=False
        )
        compiled(etree.Element("probe"))
    except etree.XPathError as exc:
        raise ConfigError(f"bad XPath {expr!r}: {exc}") from exc
    return compiled


def _evaluate(node: XmlElement, compiled: XPath) -> object:
    try:
        return compiled(node)
    except etree.XPathError as exc:
        raise MappingError(f"XPath {compiled.path!r} failed: {exc}", path=compiled.path) from exc


def xpath_text(node: XmlElement, compiled: XPath) -> str | None:
    """The text an XPath selects, stripped; None when it selects nothing or only blanks.

    For an element that is all its text, as XPath's ``string()``; when several nodes
    match, the first one counts. Numbers come back without a trailing ``.0``.
    """
    result = _evaluate(node, compiled)
    if isinstance(result, list):
        if not result:
            return None
        result = result[0]
    if isinstance(result, bool):
        text = "true" if result else "false"
    elif isinstance(result, float):
        text = str(int(result)) if result.is_integer() else repr(result)
    elif isinstance(result, etree._Element):
        text = "".join(t for t in result.itertext() if isinstance(t, str))
    else:
        text = str(result)
    text = text.strip()
    return text or None


def xpath_nodes(node: XmlElement, compiled: XPath) -> list[XmlElement]:
    """The elements an XPath selects, in document order.

    Raises:
        MappingError: the expression selects something other than elements.
    """
    result = _evaluate(node, compiled)
    if not isinstance(result, list) or not all(isinstance(r, etree._Element) for r in result):
        raise MappingError(
            f"XPath {compiled.path!r} must select elements, not text or numbers",
            path=compiled.path,
        )
    return [r for r in result if isinstance(r, etree._Element)]


def local_name(element: XmlElement) -> str:
    """The tag of an element without its namespace: ``OrderRequest``."""
    return etree.QName(element).localname
