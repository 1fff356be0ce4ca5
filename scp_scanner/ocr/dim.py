"""Text burned in at near-black levels: found by the ink, shown stretched to the engine.

Why: an OCR model sees the levels of an 8-bit image as they are, and text drawn 4 levels
above a near-black background (the second frame of pydicom's OBXXXX1A_2frame carries the
patient ID, the date and the scanner's settings at levels 5-6 on 1-2, in an image whose
sector spans 0-255) is invisible to it, while the ink shows it as plainly as white text. So
the near-black pixels of a frame (at most DIM_LEVEL) that stand MIN_STEP levels or more above
the commonest of them (the background) are candidate ink; where they make lines of glyphs
(prepare.Region.text_like) on a flat ground (FLAT_SHARE), away from every line of the
image's ordinary ink, those lines are dim text, and the engine reads them again from the
image with its near-black levels stretched to the whole range.

The check costs one pass of connected components over the dark ink (1-7 ms an image here); a
JPEG image's halos around bright text fall on the bright text's own lines, and a sector's or
anatomy's speckled dark edge lies on a ramp of levels: neither is dim text.
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np

from ..model import SOURCE_FRAME, Image
from .prepare import PREPARE, Region, glyphs, inks, line_regions, plausible_text, to_grey

DIM_LEVEL = 32          # a pixel at or under this grey level is near-black
MIN_DARK_SHARE = 0.05   # near-black pixels needed before dim text is looked for
MIN_STEP = 2            # levels between the dim ink and its background, at least
FLAT_SHARE = 0.8        # share of a dim line's other pixels within a level of the background


def _overlaps(a: Region, b: Region, grow: int) -> bool:
    return not (a.right + grow <= b.left or b.right + grow <= a.left
                or a.bottom + grow <= b.top or b.bottom + grow <= a.top)


def _flat_ground(grey: np.ndarray, ink: np.ndarray, region: Region, background: int) -> bool:
    """Text is drawn on a flat ground: most of the line's other pixels lie within a level of
    the background (FLAT_SHARE). The dark edge of an ultrasound sector or of anatomy makes
    glyph-like pieces too, but on a ramp of levels."""
    box = (slice(region.top, region.bottom), slice(region.left, region.right))
    ground = grey[box][~ink[box]].astype(np.int16)
    return bool(ground.size) and float(np.mean(np.abs(ground - background) <= 1)) >= FLAT_SHARE


def _level_counts(grey: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """How many pixels stand at each of the 256 levels of a uint8 image, a chunk at a time
    (np.bincount makes a 64-bit copy of what it counts: 40 MB for a 2500x2000 frame)."""
    counts = np.zeros(256, np.int64)
    flat = grey.reshape(-1)
    for start in range(0, flat.size, chunk):
        counts += np.bincount(flat[start:start + chunk], minlength=256)
    return counts


def dim_lines(image: Image) -> tuple[list[Region], int, int]:
    """The lines of dim text in a frame (original pixels), and the background and ink levels
    to stretch between; ([], 0, 0) when there are none."""
    if image.source != SOURCE_FRAME or image.pixels.dtype != np.uint8 or image.pixels.size == 0:
        return [], 0, 0
    grey = to_grey(image.pixels)
    dark = grey <= DIM_LEVEL
    if dark.mean() < MIN_DARK_SHARE:
        return [], 0, 0
    # The near-black background is the commonest dark level; dim ink stands MIN_STEP above it.
    background = int(_level_counts(grey)[:DIM_LEVEL + 1].argmax())
    ink = dark & (grey >= background + MIN_STEP)
    if not plausible_text(ink):      # none, or so much that it is picture, not annotation
        return [], 0, 0
    candidates = [r for r in line_regions(glyphs(ink), ink.shape) if r.text_like]
    if not candidates:
        return [], 0, 0
    candidates = [r for r in candidates if _flat_ground(grey, ink, r, background)]
    if not candidates:
        return [], 0, 0
    ordinary = [r for i in inks(image) for r in line_regions(glyphs(i.mask), i.mask.shape)]
    lines = [r for r in candidates
             if not any(_overlaps(r, o, r.glyph_height) for o in ordinary)]
    if not lines:
        return [], 0, 0
    top = max(background + MIN_STEP, int(np.percentile(grey[ink], 90)))
    return lines, background, top


def stretched(image: Image, background: int, top: int) -> Image:
    """The image with levels background..top spread over 0..255 (brighter ones saturate):
    worked out once per level (uint8, 256 of them) and looked up (cv2.LUT), not per pixel
    in float32 (45 MB at once for a 2500x2000 frame)."""
    import cv2

    levels = np.arange(256, dtype=np.float32)
    table = np.clip((levels - background) * (255.0 / max(1, top - background)), 0, 255).astype(np.uint8)
    return replace(image, pixels=cv2.LUT(np.ascontiguousarray(image.pixels), table), text_mask=None)


def margin(region: Region) -> int:
    """Room around a dim line for the detector: two text heights."""
    return 2 * region.glyph_height + PREPARE.min_text_line_height
