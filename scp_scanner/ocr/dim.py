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

Faint text is the same idea a step brighter: thin text (a hairline face) drawn well above a
flat near-black ground but far below the image's bright ink (16 px Lato Hairline in green on
an endoscopy frame's black margin: strokes at levels 30-50, the frame's picture and the
bright-ink threshold far above), which the detector does not see and the near-black ink above
cuts into pieces (its halo and cores fall either side of DIM_LEVEL). Ink at FAINT_STEP levels
or more over the background, short of the bright ink, split at that step into separate
glyphs and lines (of glyphs that may be lower than ordinary ones: FAINT_MIN_HEIGHT); lines on
a ground that stays within half that step of the background (JPEG and anti-aliasing leave a
halo a few levels deep round thin strokes), away from ordinary ink and from every line
already read, are read again from the image stretched between the background and their own
ink.
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from functools import cached_property

import numpy as np

from ..model import SOURCE_FRAME, Image
from .prepare import PREPARE, Region, bright_level, glyphs, histogram_u8, inks, line_regions, plausible_text, to_grey

DIM_LEVEL = 32          # a pixel at or under this grey level is near-black
MIN_DARK_SHARE = 0.05   # near-black pixels needed before dim text is looked for
MIN_STEP = 2            # levels between the dim ink and its background, at least
FLAT_SHARE = 0.8        # share of a dim line's other pixels within a level of the background
FAINT_STEP = 16         # levels between faint ink and its near-black background, at least
# Faint ink takes a hairline glyph's cores without its anti-aliased rims, a pixel above and
# below: its glyphs are up to two pixels shorter than the same text in ordinary ink (8 px Lato
# Hairline, cyan on black: 6 px), so a faint line may be that much lower than a line of text.
FAINT_MIN_HEIGHT = PREPARE.min_text_line_height - 2


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


def _flat_surround(grey: np.ndarray, ink: np.ndarray, region: Region, background: int,
                   tolerance: int) -> bool:
    """The line and half a text height round it: most of its pixels that are not ink lie
    within `tolerance` levels of the background (FLAT_SHARE)."""
    height, width = grey.shape
    grow = region.glyph_height // 2
    box = (slice(max(0, region.top - grow), min(height, region.bottom + grow)),
           slice(max(0, region.left - grow), min(width, region.right + grow)))
    ground = grey[box][~ink[box]].astype(np.int16)
    return bool(ground.size) and float(np.mean(np.abs(ground - background) <= tolerance)) >= FLAT_SHARE


def _level_counts(grey: np.ndarray, chunk: int = 1 << 20) -> np.ndarray:
    """How many pixels stand at each of the 256 levels of a uint8 image, a chunk at a time
    (histogram_u8 falls back to np.bincount, which makes a 64-bit copy of what it counts, on
    images too large for calcHist's float counts)."""
    counts = np.zeros(256, np.int64)
    flat = grey.reshape(-1)
    for start in range(0, flat.size, chunk):
        counts += histogram_u8(flat[start:start + chunk])
    return counts


@dataclass(frozen=True, eq=False)
class DarkGround:
    """A frame with a near-black ground (MIN_DARK_SHARE of its pixels at DIM_LEVEL or under):
    its grey levels, their histogram, and the ground's level, the commonest dark one."""

    image: Image
    grey: np.ndarray
    counts: np.ndarray
    background: int

    @cached_property
    def ordinary(self) -> list[Region]:
        """The lines of the frame's ordinary ink (prepare.inks), which the detector reads."""
        return [r for i in inks(self.image) for r in line_regions(glyphs(i.mask), i.mask.shape)]

    def away_from_ordinary(self, candidates: list[Region]) -> list[Region]:
        return [r for r in candidates if not any(_overlaps(r, o, r.glyph_height) for o in self.ordinary)]


def dark_ground(image: Image) -> DarkGround | None:
    """The frame's near-black ground, or None for an image that has none (or is no uint8 frame)."""
    if image.source != SOURCE_FRAME or image.pixels.dtype != np.uint8 or image.pixels.size == 0:
        return None
    grey = to_grey(image.pixels)
    counts = _level_counts(grey)
    if counts[:DIM_LEVEL + 1].sum() < MIN_DARK_SHARE * grey.size:
        return None
    return DarkGround(image, grey, counts, int(counts[:DIM_LEVEL + 1].argmax()))


def dim_lines(image: Image, ground: DarkGround | None = None) -> tuple[list[Region], int, int]:
    """The lines of dim text in a frame (original pixels), and the background and ink levels
    to stretch between; ([], 0, 0) when there are none. `ground`: dark_ground(image), when
    already made."""
    ground = ground or dark_ground(image)
    if ground is None:
        return [], 0, 0
    grey, background = ground.grey, ground.background
    # Dim ink stands MIN_STEP above the near-black background.
    ink = (grey <= DIM_LEVEL) & (grey >= background + MIN_STEP)
    if not plausible_text(ink):      # none, or so much that it is picture, not annotation
        return [], 0, 0
    candidates = [r for r in line_regions(glyphs(ink), ink.shape)
                  if r.text_like and _flat_ground(grey, ink, r, background)]
    lines = ground.away_from_ordinary(candidates) if candidates else []
    if not lines:
        return [], 0, 0
    top = max(background + MIN_STEP, int(np.percentile(grey[ink], 90)))
    return lines, background, top


def faint_lines(image: Image, read: list[Region], ground: DarkGround | None = None
                ) -> tuple[list[Region], int, int]:
    """The lines of faint text in a frame (original pixels) that overlap no `read` region
    (the lines read so far, dim ones included), and the background and ink levels to stretch
    between; ([], 0, 0) when there are none. `ground`: dark_ground(image), when already made."""
    ground = ground or dark_ground(image)
    if ground is None:
        return [], 0, 0
    grey, background = ground.grey, ground.background
    ink = (grey >= background + FAINT_STEP) & (grey < bright_level(grey, PREPARE, ground.counts))
    candidates = [r for r in line_regions(glyphs(ink), ink.shape)
                  if r.text_like_from(FAINT_MIN_HEIGHT) and not any(_overlaps(r, o, 0) for o in read)
                  and _flat_surround(grey, ink, r, background, FAINT_STEP // 2)]
    lines = ground.away_from_ordinary(candidates) if candidates else []
    if not lines:
        return [], 0, 0
    own = np.concatenate([grey[r.top:r.bottom, r.left:r.right][ink[r.top:r.bottom, r.left:r.right]]
                          for r in lines])
    return lines, background, max(background + FAINT_STEP, int(np.percentile(own, 90)))


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
