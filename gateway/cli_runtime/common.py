"""What the runtime commands share: the command type, settings and opening the store."""

from __future__ import annotations

import argparse
from collections.abc import Callable
from typing import TextIO

Command = Callable[[argparse.Namespace, TextIO], int]
