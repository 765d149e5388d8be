"""A progress bar for long cash runs, written to stderr so stdout stays clean JSON.

On a terminal it redraws one line (a carriage return, no newline) for any run of
:data:`TTY_MIN` lines or more; when stderr is a file or a pipe it writes a plain line at each
quarter, and only for runs of :data:`LARGE` lines or more, so logs of small runs stay quiet.

Imports only the standard library; must not import ``gateway.pipeline``, ``gateway.web``
or ``gateway.cli``.
"""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, Final

if TYPE_CHECKING:
    from typing import TextIO

TTY_MIN: Final = 1_000
LARGE: Final = 100_000
_WIDTH: Final = 30


class ProgressBar:
    """Shows ``done`` of ``total`` for one phase of a run."""

    def __init__(self, stream: TextIO, total: int, label: str) -> None:
        self._stream = stream
        self._total = total
        self._label = label
        self._tty = _is_tty(stream)
        self.enabled = total >= (TTY_MIN if self._tty else LARGE)
        self._shown = -1
        self._start = time.monotonic()

    def __call__(self, done: int) -> None:
        """Report ``done`` units finished."""
        if not self.enabled or self._total <= 0:
            return
        share = min(done, self._total) / self._total
        step = int(share * (100 if self._tty else 4))
        if step == self._shown:
            return
        self._shown = step
        if self._tty:
            filled = int(share * _WIDTH)
            bar = "#" * filled + "-" * (_WIDTH - filled)
            self._stream.write(f"\r{self._label} [{bar}] {share:6.1%} {done}/{self._total}")
        else:
            self._stream.write(f"{self._label}: {share:.0%} ({done}/{self._total})\n")
        self._stream.flush()

    def close(self) -> None:
        """End the bar's line on a terminal and say how long the phase took."""
        if self.enabled and self._tty:
            took = time.monotonic() - self._start
            self._stream.write(f"\r{self._label}: {self._total} done in {took:.1f} s\x1b[K\n")
            self._stream.flush()


def _is_tty(stream: TextIO) -> bool:
    try:
        return stream.isatty()
    except (AttributeError, ValueError):  # a closed or detached stream
        return False
