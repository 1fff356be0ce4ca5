"""CSV rows (one or more files, with or without the reasons column) -> findings per image.

A finding is one image of one file, as the CSV numbers it (filename, frame, overlay), with its
rectangles, whole text, engines, flag and reasons. The DICOM file it names is looked up later
(report, rules) by the same (frame, overlay) numbering, taken from the Images that
`scp_scanner.dicom.iter_images` yields, never recomputed here.
"""
from __future__ import annotations

import csv
import os
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pydicom

from ..errors import ScannerError
from ..output.rows import COLUMNS, REASONS_COLUMN, REASONS_SEPARATOR

WHOLE = (-1, -1, -1, -1)


class FindingsError(ScannerError, ValueError):
    """A CSV file that cannot be used (unreadable, or not scp-scanner rows)."""


@dataclass(frozen=True)
class Box:
    left: int
    top: int
    right: int
    bottom: int
    text: str
    sensitive: int                   # 1, 0 or -1 (not checked)
    reasons: tuple[str, ...] = ()


@dataclass(frozen=True)
class Finding:
    """One image's rows."""

    filename: str
    frame: int
    overlay: int
    imagetype: str
    manufacturer: str                # the CSV's manufacturer column
    ocr_engine: str
    ner_engine: str
    text: str                        # whole text (the -1,-1,-1,-1 row)
    sensitive: int                   # of the whole text: 1, 0 or -1
    reasons: tuple[str, ...]
    boxes: tuple[Box, ...]

    @property
    def key(self) -> tuple[str, int, int]:
        return (self.filename, self.frame, self.overlay)

    @property
    def flagged(self) -> bool:
        return self.sensitive == 1 or any(box.sensitive == 1 for box in self.boxes)


@dataclass(frozen=True)
class Device:
    """Header facts of a file the CSV names (no patient attributes)."""

    modality: str = ""
    manufacturer: str = ""
    model: str = ""
    rows: int = 0
    columns: int = 0

    @property
    def label(self) -> str:
        return " ".join(part for part in (self.manufacturer, self.model) if part) or "unknown"


def _reasons(value: str) -> tuple[str, ...]:
    return tuple(part for part in value.split(REASONS_SEPARATOR) if part) if value else ()


def _int(row: dict, key: str, where: str) -> int:
    try:
        return int(row[key])
    except (TypeError, ValueError):
        raise FindingsError(f"{where}: column {key!r} is not a number: {row.get(key)!r}") from None


def read_rows(paths: Iterable[str | os.PathLike]) -> Iterator[tuple[Path, dict]]:
    """(csv path, row dict) for every row of every file; checks each header."""
    for path in map(Path, paths):
        try:
            handle = open(path, newline="", encoding="utf-8")
        except OSError as exc:
            raise FindingsError(f"{path}: cannot read: {exc.strerror or exc}") from None
        with handle:
            reader = csv.DictReader(handle)
            header = tuple(reader.fieldnames or ())
            if header[:len(COLUMNS)] != COLUMNS or header[len(COLUMNS):] not in ((), (REASONS_COLUMN,)):
                raise FindingsError(f"{path}: not scp-scanner rows (header {','.join(header)[:80]!r})")
            for row in reader:
                yield path, row


def findings(paths: Iterable[str | os.PathLike]) -> list[Finding]:
    """The images of the CSV files, in the order first seen (a file named twice, e.g. by two
    runs, keeps its last rows for each image)."""
    grouped: dict[tuple[str, int, int], dict] = {}
    for path, row in read_rows(paths):
        where = f"{path}"
        key = (row["filename"], _int(row, "frame", where), _int(row, "overlay", where))
        rect = tuple(_int(row, k, where) for k in ("left", "top", "right", "bottom"))
        sensitive = _int(row, "is_sensitive", where)
        reasons = _reasons(row.get(REASONS_COLUMN) or "")
        entry = grouped.get(key)
        if entry is None or entry.get("complete"):
            entry = grouped[key] = {"row": row, "boxes": [], "complete": False}
        if rect == WHOLE:
            entry.update(row=row, text=row["ocr_text"], sensitive=sensitive, reasons=reasons,
                         complete=True)
        else:
            entry["boxes"].append(Box(*rect, row["ocr_text"], sensitive, reasons))
    result = []
    for (filename, frame, overlay), entry in grouped.items():
        row = entry["row"]
        result.append(Finding(filename, frame, overlay, row["imagetype"], row["manufacturer"],
                              row["ocr_engine"], row["ner_engine"], entry.get("text", ""),
                              entry.get("sensitive", -1), entry.get("reasons", ()),
                              tuple(entry["boxes"])))
    return result


def locate(filename: str, csv_dirs: Iterable[Path] = ()) -> Path | None:
    """The DICOM file a CSV row names: the path as written, else relative to a CSV's folder."""
    candidate = Path(filename)
    if candidate.is_file():
        return candidate
    if not candidate.is_absolute():
        for folder in csv_dirs:
            if (folder / candidate).is_file():
                return folder / candidate
    return None


def read_device(path: Path) -> Device | None:
    """Modality, Manufacturer, ManufacturerModelName, Rows, Columns (None if unreadable)."""
    try:
        ds = pydicom.dcmread(path, stop_before_pixels=True, force=True,
                             specific_tags=["Modality", "Manufacturer", "ManufacturerModelName",
                                            "Rows", "Columns"])
    except Exception:           # hostile or truncated files raise almost anything
        return None

    def text(keyword: str) -> str:
        return str(ds.get(keyword, "") or "").strip()

    def number(keyword: str) -> int:
        try:
            return int(ds.get(keyword, 0) or 0)
        except (TypeError, ValueError):
            return 0

    device = Device(text("Modality"), text("Manufacturer"), text("ManufacturerModelName"),
                    number("Rows"), number("Columns"))
    # force=True reads files without a preamble, and anything else as an empty dataset.
    return device if device != Device() else None
