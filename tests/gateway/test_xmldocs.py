"""Hardened XML parsing and the XPath helpers.

Each attack is refused twice over: by the prolog check, and (with that check switched
off) by the parser settings plus the check of the parsed tree. The tests watch for the
file or network access itself, not only for the exception.
"""

from __future__ import annotations

import os
import socket
import threading
from typing import TYPE_CHECKING

import pytest

from gateway import xmldocs
from gateway.errors import ConfigError, DocumentError, MappingError, UnsafeXmlError
from gateway.xmldocs import compile_xpath, local_name, parse_xml, xpath_nodes, xpath_text

if TYPE_CHECKING:
    from collections.abc import Iterator
    from pathlib import Path

LIMIT = 1 << 20

BILLION_LAUGHS = b"""<?xml version="1.0"?>
<!DOCTYPE lolz [
 <!ENTITY lol "lol">
 <!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;&lol;">
 <!ENTITY lol2 "&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;&lol1;">
 <!ENTITY lol3 "&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;&lol2;">
 <!ENTITY lol4 "&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;&lol3;">
 <!ENTITY lol5 "&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;&lol4;">
 <!ENTITY lol6 "&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;&lol5;">
 <!ENTITY lol7 "&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;&lol6;">
 <!ENTITY lol8 "&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;&lol7;">
 <!ENTITY lol9 "&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;&lol8;">
]>
<lolz>&lol9;</lolz>
"""

CXML = b"""<?xml version="1.0" encoding="UTF-8"?>
<cXML payloadID="1@buyer.example" timestamp="2024-04-15T13:58:00-05:00">
  <Header><From><Credential domain="NetworkID"><Identity>BUYER</Identity></Credential></From></Header>
  <Request>
    <OrderRequest>
      <OrderRequestHeader orderID="PO-1" orderDate="2024-04-15" type="new">
        <Total><Money currency="USD">12.50</Money></Total>
      </OrderRequestHeader>
      <ItemOut quantity="5" lineNumber="1">
        <ItemID><SupplierPartID>A-1</SupplierPartID></ItemID>
        <ItemDetail><UnitPrice><Money currency="USD">2.50</Money></UnitPrice>
          <Description xml:lang="en">Widget <b>blue</b> </Description>
          <UnitOfMeasure>EA</UnitOfMeasure></ItemDetail>
      </ItemOut>
    </OrderRequest>
  </Request>
</cXML>
"""


@pytest.fixture(params=["prolog check", "parser only"])
def layer(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Run an attack test with the prolog check on, then with it switched off."""
    if request.param == "parser only":
        monkeypatch.setattr(xmldocs, "_refuse_doctype", lambda text: None)
    return str(request.param)


@pytest.fixture
def listener() -> Iterator[socket.socket]:
    """A local TCP port that records whether anything connected to it."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        sock.listen(8)
        sock.setblocking(False)
        yield sock


def _connected(sock: socket.socket) -> bool:
    try:
        conn, _ = sock.accept()
    except BlockingIOError:
        return False
    conn.close()
    return True


def test_billion_laughs_is_refused(layer: str) -> None:
    # Without the prolog check, libxml2 stops it as an amplification error: still refused,
    # as a malformed document, and nothing is expanded.
    expected = UnsafeXmlError if layer == "prolog check" else DocumentError
    with pytest.raises(expected, match=r"DOCTYPE|amplification"):
        parse_xml(BILLION_LAUGHS, max_bytes=LIMIT)


def test_xxe_file_entity_is_refused_without_opening_the_file(layer: str, tmp_path: Path) -> None:
    # A FIFO shows whether anything opened the file: the writer's open() only returns
    # once a reader has opened the other end.
    fifo = tmp_path / "passwd"
    os.mkfifo(fifo)
    opened = threading.Event()

    def writer() -> None:
        with open(fifo, "wb") as pipe:
            opened.set()
            pipe.write(b"root:x:0:0:root:/root:/bin/bash\n")

    thread = threading.Thread(target=writer, daemon=True)
    thread.start()
    payload = (
        f'<?xml version="1.0"?><!DOCTYPE r [<!ENTITY xxe SYSTEM "file://{fifo}">]><r>&xxe;</r>'
    ).encode()
    try:
        with pytest.raises(UnsafeXmlError) as caught:
            parse_xml(payload, max_bytes=LIMIT)
        assert not opened.is_set()
        assert "root:" not in str(caught.value)
    finally:
        reader = os.open(fifo, os.O_RDONLY | os.O_NONBLOCK)  # let the writer finish
        thread.join(timeout=5)
        os.close(reader)


def test_etc_passwd_xxe_is_refused(layer: str) -> None:
    payload = b'<!DOCTYPE r [<!ENTITY xxe SYSTEM "file:///etc/passwd">]><r>&xxe;</r>'
    with pytest.raises(UnsafeXmlError) as caught:
        parse_xml(payload, max_bytes=LIMIT)
    assert "root:" not in str(caught.value)


def test_external_dtd_url_is_refused_without_network(layer: str, listener: socket.socket) -> None:
    port = listener.getsockname()[1]
    payload = f'<?xml version="1.0"?><!DOCTYPE r SYSTEM "http://127.0.0.1:{port}/evil.dtd"><r/>'
    with pytest.raises(UnsafeXmlError):
        parse_xml(payload.encode(), max_bytes=LIMIT)
    assert not _connected(listener)


def test_external_entity_url_is_refused_without_network(
    layer: str, listener: socket.socket
) -> None:
    port = listener.getsockname()[1]
    payload = (
        f'<!DOCTYPE r [<!ENTITY % p SYSTEM "http://127.0.0.1:{port}/p.dtd"> %p;'
        f'<!ENTITY x SYSTEM "http://127.0.0.1:{port}/x">]><r>&x;</r>'
    )
    with pytest.raises(UnsafeXmlError):
        parse_xml(payload.encode(), max_bytes=LIMIT)
    assert not _connected(listener)


def test_real_cxml_doctype_line_is_refused() -> None:
    payload = CXML.replace(
        b"<cXML ",
        b'<!DOCTYPE cXML SYSTEM "http://xml.cxml.org/schemas/cXML/1.2.060/cXML.dtd">\n<cXML ',
    )
    with pytest.raises(UnsafeXmlError, match="send the document without its DOCTYPE line"):
        parse_xml(payload, max_bytes=LIMIT)


@pytest.mark.parametrize(
    "payload",
    [
        b"<!-- note --><?pi x?>\n  <!doctype r><r/>",
        '<?xml version="1.0" encoding="UTF-16"?><!DOCTYPE r><r/>'.encode("utf-16"),
        '<?xml version="1.0" encoding="UTF-16BE"?><!DOCTYPE r><r/>'.encode("utf-16-be"),
        b"\xef\xbb\xbf<!DOCTYPE r><r/>",
        b'<!ENTITY x "y"><r/>',
    ],
    ids=["after-comment-and-pi", "utf-16-bom", "utf-16-be-no-bom", "utf-8-bom", "bare-entity"],
)
def test_doctype_found_however_encoded(payload: bytes) -> None:
    with pytest.raises(UnsafeXmlError):
        parse_xml(payload, max_bytes=LIMIT)


def test_doctype_text_inside_the_body_is_fine() -> None:
    root = parse_xml(b"<r><![CDATA[<!DOCTYPE x>]]></r>", max_bytes=LIMIT)
    assert root.text == "<!DOCTYPE x>"


def test_size_limit() -> None:
    data = b"<r>" + b"x" * 93 + b"</r>"
    assert len(data) == 100
    assert parse_xml(data, max_bytes=100).tag == "r"
    with pytest.raises(UnsafeXmlError, match="101 bytes refused: the limit is 100 bytes"):
        parse_xml(data + b" ", max_bytes=100)


def test_malformed_xml_gives_line_and_column() -> None:
    with pytest.raises(DocumentError) as caught:
        parse_xml(b"<r>\n  <a>\n  </b>\n</r>", max_bytes=LIMIT)
    assert not isinstance(caught.value, UnsafeXmlError)
    assert str(caught.value).startswith("malformed XML at line 3, column ")
    assert "mismatch" in str(caught.value)


def test_undeclared_entity_is_malformed() -> None:
    with pytest.raises(DocumentError, match="Entity 'x' not defined") as caught:
        parse_xml(b"<r>&x;</r>", max_bytes=LIMIT)
    assert not isinstance(caught.value, UnsafeXmlError)


def test_a_normal_cxml_order_parses() -> None:
    root = parse_xml(CXML, max_bytes=LIMIT)
    assert local_name(root) == "cXML"
    header = compile_xpath("/cXML/Request/OrderRequest/OrderRequestHeader")
    (order_header,) = xpath_nodes(root, header)
    assert xpath_text(order_header, compile_xpath("@orderID")) == "PO-1"
    assert xpath_text(order_header, compile_xpath("Total/Money")) == "12.50"
    assert xpath_text(order_header, compile_xpath("Total/Money/@currency")) == "USD"
    (item,) = xpath_nodes(root, compile_xpath("//ItemOut"))
    assert xpath_text(item, compile_xpath("ItemID/SupplierPartID")) == "A-1"
    assert xpath_text(item, compile_xpath("ItemDetail/Description")) == "Widget blue"
    assert xpath_text(item, compile_xpath("ItemDetail/UnitOfMeasure")) == "EA"


def test_xpath_text_results() -> None:
    root = parse_xml(b"<r><n>2</n><n>3</n><e>  </e></r>", max_bytes=LIMIT)
    assert xpath_text(root, compile_xpath("sum(n)")) == "5"
    assert xpath_text(root, compile_xpath("sum(n) div 2")) == "2.5"
    assert xpath_text(root, compile_xpath("count(n) = 2")) == "true"
    assert xpath_text(root, compile_xpath("n")) == "2"  # the first match
    assert xpath_text(root, compile_xpath("e")) is None  # blank
    assert xpath_text(root, compile_xpath("missing")) is None
    assert xpath_text(root, compile_xpath("string(n[2])")) == "3"


def test_namespaced_xpath() -> None:
    root = parse_xml(b'<o:Order xmlns:o="urn:x"><o:No>7</o:No></o:Order>', max_bytes=LIMIT)
    assert xpath_text(root, compile_xpath("o:No", {"o": "urn:x"})) == "7"
    assert local_name(root) == "Order"


@pytest.mark.parametrize(
    ("expr", "reason"),
    [
        ("//ItemOut[", "Invalid expression"),
        ("g:Order", "Undefined namespace prefix"),
        ("$v", "Undefined variable"),
        ("re:test(., 'a')", "Undefined namespace prefix"),
    ],
)
def test_bad_xpath_is_a_config_error(expr: str, reason: str) -> None:
    with pytest.raises(ConfigError) as caught:
        compile_xpath(expr)
    assert str(caught.value) == f"bad XPath {expr!r}: {reason}"


def test_xpath_nodes_needs_elements() -> None:
    root = parse_xml(b"<r><a>1</a></r>", max_bytes=LIMIT)
    with pytest.raises(MappingError, match="must select elements"):
        xpath_nodes(root, compile_xpath("a/text()"))
    with pytest.raises(MappingError, match="must select elements"):
        xpath_nodes(root, compile_xpath("count(a)"))
