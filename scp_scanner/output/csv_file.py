"""The CSV text itself: header, rows, and owner-only files (the text may hold PII)."""
from __future__ import annotations

import csv
import io
import os
from typing import IO, Iterable

from .rows import Row, columns

LINE_END = "\n"


def render(rows: Iterable[Row], *, header: bool = False, reasons: bool = False) -> str:
    """Rows (and optionally the header) as CSV text, ready to be written in one call;
    `reasons` adds the opt-in reasons column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    if header:
        writer.writerow(columns(reasons))
    for row in rows:
        writer.writerow(row.as_list(reasons))
    return buffer.getvalue()


def open_private(path: str, mode: str = "w") -> IO[str]:
    """Open a text file that only its owner can read or write (created 0600)."""
    flags = os.O_WRONLY | os.O_CREAT | (os.O_APPEND if "a" in mode else os.O_TRUNC)
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode, newline="", encoding="utf-8")
