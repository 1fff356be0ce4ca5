"""The CSV contract (docs/design.md, "The CSV contract"): 14 columns, in this order, and how
rows are made.

One opt-in column may follow the 14 (`scan --reasons`, `output.reasons`): `reasons`, why the
box or image was judged identifying ("ner:PERSON 'John Smith'; date '12/03/1961'"), blank
where nothing fired. This module is the only place that knows the columns.
"""
from __future__ import annotations

from dataclasses import dataclass, fields
from operator import attrgetter

from ..model import Image, InstanceInfo, TextBox, Verdict

COLUMNS: tuple[str, ...] = (
    "filename", "frame", "overlay", "imagetype", "manufacturer", "burnedinannotation",
    "ocr_engine", "left", "top", "right", "bottom", "ocr_text", "ner_engine", "is_sensitive",
)

REASONS_COLUMN = "reasons"
REASONS_SEPARATOR = "; "

NOT_CHECKED = -1


def columns(reasons: bool = False) -> tuple[str, ...]:
    """The header: the 14 columns, plus `reasons` when asked for."""
    return COLUMNS + (REASONS_COLUMN,) if reasons else COLUMNS


@dataclass(frozen=True)
class Row:
    filename: str
    frame: int
    overlay: int
    imagetype: str
    manufacturer: str
    burnedinannotation: str
    ocr_engine: str
    left: int
    top: int
    right: int
    bottom: int
    ocr_text: str
    ner_engine: str
    is_sensitive: int
    reasons: str = ""                # not one of the 14: written only with columns(reasons=True)

    def as_list(self, reasons: bool = False) -> list:
        # Every field is a str or an int: read them as they are (dataclasses.astuple deep-copies
        # each value, 0.2 s of the 21 real files' 3,162 rows).
        values = list(_FIELDS(self))
        return values if reasons else values[:len(COLUMNS)]


_FIELDS = attrgetter(*(f.name for f in fields(Row)))


def image_rows(info: InstanceInfo, image: Image, *, ocr_engine: str = "", ner_engine: str = "",
               boxes: list[TextBox] | None = None, whole_text: str = "",
               verdict: Verdict | None = None, rects: bool = False) -> list[Row]:
    """Rows for one image: one per box when `rects`, then the whole-text row (-1,-1,-1,-1).

    is_sensitive is -1 when no NER ran (no ner_engine or no verdict), else 1/0.
    """
    def flag(value: bool) -> int:
        if verdict is None or not ner_engine:
            return NOT_CHECKED
        return 1 if value else 0

    def row(text: str, rect: tuple[int, int, int, int], sensitive: bool, why: tuple[str, ...]) -> Row:
        return Row(info.filename, image.frame, image.overlay, info.imagetype, info.manufacturer,
                   info.burnedinannotation, ocr_engine, *rect, text,
                   ner_engine if verdict is not None else "", flag(sensitive),
                   REASONS_SEPARATOR.join(why) if flag(sensitive) == 1 else "")

    rows: list[Row] = []
    if rects and boxes:
        per_box = verdict.box_sensitive if verdict is not None else (False,) * len(boxes)
        for i, (box, sensitive) in enumerate(zip(boxes, per_box)):
            why = verdict.reasons_of(i) if verdict is not None else ()
            rows.append(row(box.text, (box.left, box.top, box.right, box.bottom), sensitive, why))
    rows.append(row(whole_text, (-1, -1, -1, -1), verdict.sensitive if verdict else False,
                    verdict.reasons if verdict else ()))
    return rows
