"""An independent checker for the 997 and 999 acknowledgments we emit, built on pyx12.

pyx12 ships HIPAA maps: its 997 (``997.4010.xml``) and 999 (``999.5010.xml``,
``999.5010X231.A1.xml``) maps list healthcare codes as the only valid AK101
(functional identifier) and AK201 (transaction set id) values, so an ack for a
PO group or an 850 set fails there. :func:`make_map_dir` copies pyx12's map
folder and removes just those two ``<valid_codes>`` lists; everything else
(envelope codes, AK5/IK5/AK9 codes, lengths, types, counts, loop structure)
stays checked. pyx12 expresses a code list in one of two ways: inline
``<valid_codes><code>..</code></valid_codes>`` under an ``<element>`` of a map,
or ``<valid_codes external="id"/>`` naming a codeset in ``codes.xml``. AK101
and AK201 use the inline form only (``codes.xml`` has no codeset for data
elements 479 or 143), so removing the inline list removes the restriction;
:func:`make_map_dir` fails if a future pyx12 changes that.

:func:`check_ack` runs ``pyx12.x12n_document.x12n_document`` and returns every
error it reports. pyx12 keeps its error tree inside that function, and its
JSON/HTML writers skip element errors on ISA, GS, ST and SE (an ST03 or SE01
problem), while its own 997/999 output is not written for an FA group. Every
error does pass through ``pyx12.error_handler.err_handler`` (``isa_error``,
``gs_error``, ``st_error``, ``seg_error``, ``ele_error``), which logs it at
ERROR on the ``pyx12.error_handler`` logger; engine failures (not an X12 file,
no map for the GS08) are logged on ``pyx12`` or raised. So the checker
collects ERROR records of the ``pyx12`` logger tree for the duration of the
call (this thread only), adds raised ``X12Error``/``EngineError`` messages
(``Map not found`` for a GS01/GS08 pair ``maps.xml`` does not route), and,
should pyx12 return "invalid" without logging anything, says so. Input pyx12
cannot read at all (no ISA at byte 0, an ISA not 106 characters, ISA12 other
than 00401/00501) is reported from ``pyx12.x12file.X12Reader``'s own error.

Test support only: imports pyx12 and nothing from ``gateway``.
"""

from __future__ import annotations

import io
import logging
import re
import shutil
import threading
from importlib.resources import as_file, files
from typing import TYPE_CHECKING

import pyx12.errors
import pyx12.params
import pyx12.x12file
import pyx12.x12n_document

if TYPE_CHECKING:
    from pathlib import Path

MAP_DIR_NAME = "pyx12-map"
# The maps whose AK101/AK201 code lists are dropped (maps.xml routes FA groups to them).
ACK_MAPS = ("997.4010.xml", "999.5010.xml", "999.5010X231.A1.xml")
UNRESTRICTED = ("AK101", "AK201")

_VALID_CODES = re.compile(
    r"\n?[ \t]*(?:<valid_codes\b[^>]*/>|<valid_codes\b[^>]*>.*?</valid_codes>)", re.DOTALL
)


class MapEditError(RuntimeError):
    """pyx12's map folder does not look the way :func:`make_map_dir` expects."""


def make_map_dir(target: Path) -> Path:
    """Copy pyx12's map folder to ``target / MAP_DIR_NAME``, without AK101/AK201 code lists.

    Args:
        target: an existing or new directory; the copy goes in a fresh subdirectory.

    Returns:
        the map folder to pass as ``map_dir`` to :func:`check_ack`.

    Raises:
        MapEditError: a map lacks the element or its inline code list, or the
            element names an external codeset.
    """
    dest = target / MAP_DIR_NAME
    with as_file(files("pyx12") / "map") as source:
        shutil.copytree(source, dest, ignore=shutil.ignore_patterns("__pycache__", "*.py"))
    for name in ACK_MAPS:
        path = dest / name
        text = path.read_text(encoding="utf-8")
        for xid in UNRESTRICTED:
            text = _drop_code_list(text, xid, name)
        path.write_text(text, encoding="utf-8")
    return dest


def _drop_code_list(text: str, xid: str, map_name: str) -> str:
    """Remove the one inline ``<valid_codes>`` list of element ``xid`` from a map's text."""
    element = re.compile(rf'<element xid="{xid}">.*?</element>', re.DOTALL)
    found = element.findall(text)
    if len(found) != 1:
        raise MapEditError(f"{map_name}: expected one <element xid={xid!r}>, found {len(found)}")
    body = found[0]
    lists = _VALID_CODES.findall(body)
    if len(lists) != 1 or "external=" in lists[0] or "<code>" not in lists[0]:
        raise MapEditError(
            f"{map_name}: expected one inline <valid_codes> list in {xid}, found {lists!r}"
        )
    return text.replace(body, _VALID_CODES.sub("", body), 1)


class _ErrorRecords(logging.Handler):
    """Collects ERROR records logged by one thread."""

    def __init__(self, thread: int) -> None:
        super().__init__(logging.ERROR)
        self.thread = thread
        self.messages: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        if record.thread == self.thread:
            self.messages.append(record.getMessage())


def check_ack(x12: bytes, map_dir: Path) -> list[str]:
    """Validate an X12 interchange with pyx12 and the maps of ``map_dir``.

    Returns:
        pyx12's error messages in the order it found them (``Line:5 SEG:3 - ...``,
        ``Line:2 ELE:7 - ...``); an empty list means pyx12 accepted the document.
    """
    text = x12.decode("latin-1")  # one character per byte, as our reader reads it
    try:
        # x12n_document only logs "does not look like an X12 data file"; ask why first
        pyx12.x12file.X12Reader(io.StringIO(text)).close()
    except pyx12.errors.X12Error as exc:
        return [f"X12Error: {exc}"]
    logger = logging.getLogger("pyx12")
    handler = _ErrorRecords(threading.get_ident())
    old_level = logger.level
    if logger.getEffectiveLevel() > logging.ERROR:
        logger.setLevel(logging.ERROR)
    logger.addHandler(handler)
    raised: list[str] = []
    try:
        valid = pyx12.x12n_document.x12n_document(
            param=pyx12.params.ParamsBase(),
            src_file=io.StringIO(text),
            fd_997=None,
            fd_html=None,
            map_path=str(map_dir),
        )
    except (pyx12.errors.X12Error, pyx12.errors.EngineError) as exc:
        valid = False
        raised.append(f"{type(exc).__name__}: {exc}")
    finally:
        logger.removeHandler(handler)
        logger.setLevel(old_level)
    messages = handler.messages + raised
    if not valid and not messages:
        messages.append("pyx12 found the document invalid but reported no error")
    return messages
