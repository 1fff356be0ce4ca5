"""The CSV text itself: header, rows, and owner-only files (the text may hold PII).

Formula neutralisation: the CSVs are opened in spreadsheets, which run a cell that starts
with = + - @ (or a tab or carriage return) as a formula, and part of the text comes from
peers (UIDs, header values) or from OCR. Such a text cell is written with a leading
apostrophe (`=1+2` -> `'=1+2`), the mark spreadsheets themselves use for "text"; a cell that
is a plain number (`-5.0`, `+3`, `-1`) is left as it is, since a number cannot run anything
and OCR reads many. Integer columns are never changed, so the 14 columns parse as before
with csv.DictReader; a reader that wants the original text drops one leading apostrophe from
a text cell whose second character is one of = + - @ tab CR.
"""
from __future__ import annotations

import csv
import io
import re
from typing import Iterable

from .rows import Row, columns

LINE_END = "\n"
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
_NUMBER = re.compile(r"[+-]?(\d+(\.\d*)?|\.\d+)([eE][+-]?\d+)?")


def safe_cell(value: object) -> object:
    """A cell as written: text that a spreadsheet would run as a formula gets a leading '."""
    if isinstance(value, str) and value.startswith(FORMULA_START) and not _NUMBER.fullmatch(value):
        return "'" + value
    return value


def safe_row(row: Iterable[object]) -> list[object]:
    return [safe_cell(cell) for cell in row]


def render(rows: Iterable[Row], *, header: bool = False, reasons: bool = False) -> str:
    """Rows (and optionally the header) as CSV text, ready to be written in one call;
    `reasons` adds the opt-in reasons column."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator=LINE_END)
    if header:
        writer.writerow(columns(reasons))
    for row in rows:
        writer.writerow(safe_row(row.as_list(reasons)))
    return buffer.getvalue()
