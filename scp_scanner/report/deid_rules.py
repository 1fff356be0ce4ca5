"""Identifying boxes grouped per device and image size -> a pydicom/deid recipe.

The recipe format is the one `deid` (deid.config.DeidRecipe, deid 0.4.x) parses and
dicompixelanon reads, and that converts to CTP DicomPixelAnonymizer signatures:

    FORMAT dicom

    %filter scp-scanner

    LABEL SIEMENS Avanto 512x512 # 3 images, 7 boxes
      equals Manufacturer SIEMENS
      + equals ManufacturerModelName Avanto
      + equals Rows 512
      + equals Columns 512
      coordinates 10,4,180,22

deid reads `coordinates x0,y0,x1,y1` as xmin,ymin,xmax,ymax and blanks
pixels[ymin:ymax, xmin:xmax] (end exclusive, like the CSV's right/bottom), and
`ctpcoordinates x,y,w,h` as CTP's x, y, width, height. Every line of a LABEL group must
hold for the filter to fire (deid ANDs them; `+` marks that). `equals` compares the
value's text ignoring case; deid's parser splits lines on `+` and `||` and drops what
follows `#`, so values holding them are matched with `contains` and an anchored pattern
that stands '.' for those characters.
"""
from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from .findings import Box, Device, Finding

_UNSAFE = re.compile(r"\+|\|\||#|[\r\n]")


@dataclass(frozen=True)
class GroupKey:
    manufacturer: str
    model: str
    rows: int
    columns: int

    @property
    def label(self) -> str:
        name = " ".join(p for p in (self.manufacturer, self.model) if p) or "unknown device"
        return f"{_UNSAFE.sub(' ', name)} {self.columns}x{self.rows}"


@dataclass(frozen=True)
class RuleGroup:
    key: GroupKey
    images: int
    boxes: tuple[tuple[int, int, int, int], ...]     # merged x0, y0, x1, y1 (end exclusive)
    box_count: int


def _criterion(keyword: str, value: str) -> str:
    """One filter line that deid parses back to `keyword` and `value`."""
    if not value:
        return f"missing {keyword} || empty {keyword}"
    if not _UNSAFE.search(value):
        return f"equals {keyword} {value}"
    # deid's `contains` is re.search on the lower-cased value: the whole value, anchored,
    # with each character deid cannot read ('+', '|', '#') matched by '.'.
    pattern = "".join("." if ch in "+|#\r\n" else re.escape(ch) for ch in value.lower())
    return f"contains {keyword} ^{pattern}$"


def merge(boxes: Iterable[tuple[int, int, int, int]]) -> tuple[tuple[int, int, int, int], ...]:
    """Overlapping or touching rectangles joined into their bounding rectangles."""
    merged: list[list[int]] = []
    for box in sorted(set(boxes)):
        current = list(box)
        changed = True
        while changed:
            changed = False
            for other in merged:
                if not (current[2] < other[0] or other[2] < current[0]
                        or current[3] < other[1] or other[3] < current[1]):
                    merged.remove(other)
                    current = [min(current[0], other[0]), min(current[1], other[1]),
                               max(current[2], other[2]), max(current[3], other[3])]
                    changed = True
                    break
        merged.append(current)
    return tuple(sorted(tuple(b) for b in merged))


def _clamp(box: Box, device: Device, margin: int) -> tuple[int, int, int, int] | None:
    x0, y0 = max(0, box.left - margin), max(0, box.top - margin)
    x1, y1 = box.right + margin, box.bottom + margin
    if device.columns:
        x1 = min(x1, device.columns)
    if device.rows:
        y1 = min(y1, device.rows)
    return (x0, y0, x1, y1) if x1 > x0 and y1 > y0 else None


def groups(findings: Iterable[Finding], devices: dict[str, Device], margin: int = 0
           ) -> list[RuleGroup]:
    """Identifying boxes per (Manufacturer, ManufacturerModelName, Rows, Columns); files
    without a readable header are left out (their device is unknown)."""
    collected: dict[GroupKey, tuple[list, set]] = {}
    for finding in findings:
        device = devices.get(finding.filename)
        boxes = [b for b in finding.boxes if b.sensitive == 1]
        if device is None or not boxes:
            continue
        key = GroupKey(device.manufacturer, device.model, device.rows, device.columns)
        rects, images = collected.setdefault(key, ([], set()))
        images.add(finding.key)
        rects.extend(r for r in (_clamp(b, device, margin) for b in boxes) if r)
    result = [RuleGroup(key, len(images), merge(rects), len(rects))
              for key, (rects, images) in collected.items() if rects]
    return sorted(result, key=lambda g: (g.key.manufacturer, g.key.model, g.key.rows, g.key.columns))


def recipe(rule_groups: Iterable[RuleGroup], section: str = "scp-scanner") -> str:
    """The deid recipe text."""
    lines = ["FORMAT dicom", "",
             "# Written by scp-scanner rules: burned-in identifying text found by OCR + NER,",
             "# grouped by Manufacturer, ManufacturerModelName, Rows and Columns.",
             "# coordinates are xmin,ymin,xmax,ymax (end exclusive), as deid reads them.", "",
             f"%filter {section}", ""]
    for group in rule_groups:
        key = group.key
        lines.append(f"LABEL {key.label} # {group.images} image(s), {group.box_count} box(es)")
        criteria = [_criterion("Manufacturer", key.manufacturer),
                    _criterion("ManufacturerModelName", key.model),
                    f"equals Rows {key.rows}", f"equals Columns {key.columns}"]
        lines.append(f"  {criteria[0]}")
        lines.extend(f"  + {c}" for c in criteria[1:])
        lines.extend(f"  coordinates {x0},{y0},{x1},{y1}" for x0, y0, x1, y1 in group.boxes)
        lines.append("")
    return "\n".join(lines)
