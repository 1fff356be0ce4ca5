"""Frames grabbed from interlaced video whose two fields disagree, put back together.

A video frame holds two fields: the even rows and the odd rows, scanned a field time apart.
A capture card that digitises an ultrasound or endoscopy video output may store the second
field darker than the first (a different black level or gain per field) or moved sideways
by a pixel or two (a field delay). Burned-in text then shows as combs: every other row of
each glyph dimmer or displaced, which at 7-10 px text leaves nothing a recogniser can read
(dicomgen's 7 px interlaced frame: `THOECS+ASKS` for `THOMSON^ANGUS`, read right once the
field is moved back).

Both are measured on the frame itself, the way a deinterlacer's field matching does:

- gain: the ratio of the two fields' mean values. The fields of one picture sample the
  same scene a row apart, so their means agree within a few per cent; a larger difference
  is the capture's. The estimate scales the second field to the first, so that glyphs are
  whole again in the bright ink it looks for text in. The frame itself keeps its values:
  the recogniser reads striped glyphs as well as evened ones (tuning seeds 1-3: scaling the
  frame too lost 3 words that shifting alone kept).
- shift: how far the odd rows must move sideways to match the even rows best, over the
  frame's text lines only (three or more glyphs in a row, in its bright ink or made of thin
  strokes: ocr/prepare.py's line regions and stroke lines). Picture content moves between
  fields with the patient, but burned-in text is drawn in the same place on both: it is
  the evidence of the capture's own offset. Speckle and noise carry none, and too few
  lines (under MIN_LINES) decide nothing. Each odd row is matched, by normalised
  correlation (insensitive to any gain left), against the mean of the even rows above and
  below it, on horizontal differences: a sideways move shows in vertical edges, and the
  rows either side of a glyph's row average away what changes from one row of a glyph to
  the next (an italic's slant, a bowl's curve). The frame's odd rows are moved back.

The shift is judged on the first frame of an instance (a capture's fields keep their offset
for the clip) and applied to every frame before windowing, so text masks, OCR and
rectangles all see the repaired frame. Rectangles stay in the stored image's pixel space:
a row moves by at most MAX_SHIFT pixels.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Field means within this share of each other are one picture's (the tuning corpora's other
# 8-bit frames: 0.96-1.04; their interlaced frames, darkened by 0.6-0.85: 1.16-1.64); beyond
# it the estimate rescales the second field before it looks for text.
GAIN_TOLERANCE = 0.10
# Sideways offsets tried, in pixels each way.
MAX_SHIFT = 2
# Text lines needed before a shift is judged; how well (normalised correlation, -1..1) the
# fields must match at the best shift, and how much better than no shift at all. On the
# tuning and extra-font corpora's 64 interlaced frames (varied seeds 1-3 and 5-11, extra
# seeds 301-306): unshifted frames match at 0.27 or more with no shift, and every other
# shift scores at least 0.25 below that; shifted frames match at 0.36 or more at their
# shift, at least 0.22 above no shift; one shifted frame (8 px italic, JPEG 50) still shows
# no shift. Matching raw rows against the row above instead, over bright-ink lines only,
# missed 7 of the 23 shifted frames (dim, thin or italic text).
MIN_LINES = 3
MIN_MATCH = 0.2
MIN_GAIN_IN_MATCH = 0.05
# Stroke contrast of the lines looked at: half the OCR's (prepare.STROKE_CONTRAST). Grey 70
# text on black, its second field darkened to 0.6-0.85 (the dimmest the generator draws),
# has anti-aliased strokes whose top-hat peaks under the OCR's 64; the lines here are only
# evidence, and the match thresholds above decide.
LINE_CONTRAST = 32
# Frames lower than this are not video; taller than this, not interlaced video (1080i is the
# tallest interlaced format), and not worth a look (a 2500x2000 CR).
MIN_ROWS = 64
MAX_ROWS = 1080


@dataclass(frozen=True)
class Fields:
    """How to put a frame's second field (its odd rows) back onto the first."""

    shift: int = 0        # the odd rows move this many pixels left (negative: right)

    @property
    def identity(self) -> bool:
        return self.shift == 0


NO_CHANGE = Fields()


def field_gain(grey: np.ndarray) -> float:
    """What the odd rows of a grey frame must be multiplied by for their mean to equal the
    even rows' (1.0 when they agree within GAIN_TOLERANCE or the frame is dark)."""
    rows = grey.shape[0] - grey.shape[0] % 2
    even, odd = float(grey[0:rows:2].mean()), float(grey[1:rows:2].mean())
    if odd < 1.0 or even < 1.0:
        return 1.0
    gain = even / odd
    return 1.0 if abs(gain - 1.0) <= GAIN_TOLERANCE else gain


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    a = a - a.mean()
    b = b - b.mean()
    denominator = float(np.sqrt((a * a).sum() * (b * b).sum()))
    return float((a * b).sum()) / denominator if denominator > 0 else 0.0


def field_shift(grey: np.ndarray, lines: list[tuple[int, int, int, int]]) -> int:
    """How many pixels left the odd rows of `grey` must move to match the even rows best
    inside the text lines ((top, left, bottom, right) each); 0 unless the fields match well
    there (MIN_MATCH) and clearly better (MIN_GAIN_IN_MATCH) than with no shift. Each odd
    row is compared with the mean of the even rows either side of it, on horizontal
    differences (vertical edges)."""
    if len(lines) < MIN_LINES:
        return 0
    height, width = grey.shape
    edges = np.zeros(grey.shape, np.float32)
    edges[:, 1:] = np.diff(grey.astype(np.float32), axis=1)
    between: list[np.ndarray] = []
    odd_rows: list[tuple[np.ndarray, int, int]] = []
    for top, left, bottom, right in lines:
        top -= top % 2
        bottom = min(height - height % 2 - 2, bottom + bottom % 2)
        left, right = max(left, MAX_SHIFT), min(right, width - MAX_SHIFT)
        if bottom - top < 2 or right <= left:
            continue
        above, below = edges[top:bottom:2, left:right], edges[top + 2:bottom + 2:2, left:right]
        between.append(((above + below) / 2).ravel())
        odd_rows.append((edges[top + 1:bottom + 1:2], left, right))
    if not between:
        return 0
    even = np.concatenate(between)
    scores = {}
    for shift in range(-MAX_SHIFT, MAX_SHIFT + 1):
        odd = np.concatenate([rows[:, left + shift:right + shift].ravel() for rows, left, right in odd_rows])
        scores[shift] = _correlation(even, odd)
    best = max(scores, key=lambda s: (scores[s], -abs(s)))
    if scores[best] < MIN_MATCH or scores[best] - scores[0] < MIN_GAIN_IN_MATCH:
        return 0
    return best


def text_lines(grey: np.ndarray) -> list[tuple[int, int, int, int]]:
    """Rows of three or more glyphs, of any glyph height (7 px text is below the annotation
    size prepare.py reads alone), in the frame's bright ink or made of thin strokes at
    LINE_CONTRAST (ocr/prepare.py's line regions and stroke lines), as (top, left, bottom,
    right); a line that both find, or that overlaps another, is one."""
    from ..ocr.prepare import Ink, bright_level, merge_overlapping, regions_of, stroke_lines

    regions = regions_of(Ink("bright", grey >= bright_level(grey))) or []
    regions += stroke_lines(grey, contrast=LINE_CONTRAST)
    lines = [(r.top, r.left, r.bottom, r.right) for r in regions if r.glyphs >= 3 and r.single_line]
    return merge_overlapping(lines, _overlap, lambda a, b: (min(a[0], b[0]), min(a[1], b[1]),
                                                             max(a[2], b[2]), max(a[3], b[3])))


def _overlap(a: tuple[int, int, int, int], b: tuple[int, int, int, int]) -> bool:
    return a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def estimate(pixels: np.ndarray) -> Fields:
    """The field repair of an 8-bit video frame (grey or RGB, stored values): the shift that
    puts its second field back (judged with the fields' brightness evened)."""
    if (pixels.dtype != np.uint8 or pixels.ndim not in (2, 3)
            or not MIN_ROWS <= pixels.shape[0] <= MAX_ROWS):
        return NO_CHANGE
    import cv2

    from ..ocr.prepare import to_grey

    grey = to_grey(pixels)                  # uint8: colour's brightest channel
    gain = field_gain(grey)
    if gain != 1.0:
        grey = grey.copy()
        grey[1::2] = cv2.convertScaleAbs(np.ascontiguousarray(grey[1::2]), alpha=gain)
    return Fields(field_shift(grey, text_lines(grey)))


def apply(pixels: np.ndarray, fields: Fields) -> np.ndarray:
    """The frame with its odd rows moved as `fields` says (a new array; the frame itself when
    there is nothing to do). Pixels moved in from outside the frame repeat its edge column."""
    shift = fields.shift
    if shift == 0 or pixels.ndim not in (2, 3) or pixels.shape[0] < 2 or abs(shift) >= pixels.shape[1]:
        return pixels
    out = pixels.copy()
    odd = pixels[1::2]
    if shift > 0:
        out[1::2, :-shift] = odd[:, shift:]
        out[1::2, -shift:] = odd[:, -1:]
    else:
        out[1::2, -shift:] = odd[:, :shift]
        out[1::2, :-shift] = odd[:, :1]
    return out
