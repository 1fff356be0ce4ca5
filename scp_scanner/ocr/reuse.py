"""Cine without N full reads: reuse the reading of text whose pixels did not change.

In a multi-frame image (or a multi-frame overlay) the burned-in text is usually the same on
every frame while the picture under it moves. `FrameReuse` wraps any OCR engine (anything
with `name` and `read(image) -> list[TextBox]`, see ocr/__init__.py) and is fed one
instance's images in the order `dicom.iter_images` yields them. Per series (frames, or the
planes of one overlay, of one shape) it keeps the previous image and the boxes read from it.

1. Changed pixels: pixels (or text-mask bits) that differ from the previous image, exactly,
   with no tolerance. That is also the right test for JPEG: baseline JPEG codes each 8x8
   block (16x16 with chroma subsampling) on its own, so a block whose pixels did not change
   decodes to the same bytes; a change next door reaches at most a pixel or two over the
   block edge (chroma upsampling), which the margins below cover. Wavelet codecs (JPEG 2000)
   spread a change thinly over a wide area: their frames show as changed almost everywhere.
2. Nothing changed (a held frame, a still overlay plane): the previous boxes are the answer;
   a deterministic engine reads the same pixels the same way. Exact for every engine.
3. Something changed, and the engine can read areas of an image as its whole read reads
   them (`read_in`: rapidocr, which detects an area at the scale a whole read chooses and
   recognises its lines alone): a line whose neighbourhood (a text height above and below,
   two to each side) kept its pixels, changed only inside other lines' boxes, or (its own
   box unchanged) changed only on the background side of the line's ink (speckle darker
   than white text, before and after: `below_ink`), keeps its reading; a line whose glyphs
   changed inside its box while its ink stays inside the rectangle it filled (a clock's
   seconds, a counter going from 10 to 9) is recognised again where it stands
   (`read_lines`, no detection: line_plans; its rectangle stays the one drawn before, so it
   may be a glyph wider than a full read's; rapidocr recognises only the words that hold
   changed pixels); the neighbourhoods of the other lines (one that grew, or has picture
   moving beside it, and what stands next to it on its row) are read again, where a line
   whose own pixels did not change and that the detector finds again in its place keeps
   its reading (`read_in`'s `still`: the picture beside it moved, its glyphs did not), and
   so is text-like ink (ocr/prepare.py: three
   or more glyphs of annotation size in a line) that appeared where the picture changed,
   and shorter ink that appeared where nothing else changed around it (`appeared_alone`).
   A line reaching its area's edge widens the area,
   then means a whole read. Whole reads instead: when most lines changed (noise over the
   whole frame: nothing to reuse, and lines read in small areas lose the picture around
   them), when the areas cover most of the frame, and as refreshes (REFRESH_EVERY frames
   after a whole read, longer while refreshes find nothing), whose lines join those kept
   (a detector misses a line on some frames and finds it on others).
   The rows are not those of a full read of every frame exactly: a full read moves the
   detector's box edges by a pixel or so, and sometimes drops a line, when pixels
   elsewhere in its piece change (12 of 55 unchanged lines of dicomgen's RGB cine; "C+" on
   4 of 12 grey frames), while here a line keeps the reading it had where its pixels last
   changed. `exact=True` (processing.frame_reuse_exact) reads changed frames whole (case 5)
   and gives a full read's rows by construction.
4. Something changed, and the engine reads crops as it reads the same pixels inside the
   whole image (it says so with `local_reading = True`): the changed pixels, grown by a text
   height, and every earlier box whose line they touch (a line is never cut) form patches;
   each patch is cut out with everything else painted over and read, its boxes replace the
   earlier ones there, and the boxes elsewhere are kept. The first time a patch is used, the
   same patch of the previous image is read too and must give exactly the boxes the previous
   reading holds there; if not, the series is read whole from then on. A box that reaches a
   patch's edge, or too large a changed share (MAX_CHANGED_SHARE), also means a whole read.
5. Otherwise the frame is read whole. tesseract and easyocr are in this case: measured on
   synthetic cines, tesseract's bright-ink level follows the whole frame's brightest tenth
   and speckle joins text lines into blocks, easyocr magnifies small images before
   detection and fixes carets from the whole image's ink, so a crop reads differently (the
   check above caught it, or rows differed). Tesseract skips the unchanged lines of a
   whole read itself: its crop cache (ocr/tesseract.py) answers every line crop that is
   byte-identical to one read before, so only the changed lines (a clock, a counter) and
   changed non-text blobs reach tesseract, and the rows are exactly those of full reads;
   rapidocr's model caches do the same for its detector pieces and line crops.
6. After a further frame is read in case 3 (whole or in areas), the previous frame's lines
   that no line of its reading meets are recognised where they stood (`read_lines`, no
   detection) and kept where the recogniser reads them as a whole read keeps a line
   (`_carry`): on a noisy frame (small coloured text over new speckle, JPEG'd) the
   detector misses lines that are still there. The text kept is what this frame's pixels
   read (a counter that went on reads as it now is); a line that is gone reads as nothing.
   Over the 37 looked-at synthetic corpora: 10 identifying and 11 other words more, none
   lost; pydicom-data's two-frame Philips ultrasound keeps its dim `OB` and `P` on frame 2.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field, replace

import numpy as np

from ..masks import dilate, label_with_boxes
from ..model import Image, Source, TextBox
from .prepare import below_ink, covered, ink_stays_inside, inks, merge_overlapping, reading_order, regions_of

# Above this share of changed (to-be-read) pixels the frame is read whole: cropping saves
# little then, and a whole read needs no locality.
MAX_CHANGED_SHARE = 0.8
# A further frame is read in its changed areas only while at least this share of the previous
# frame's lines kept their pixels; when the changes reach most lines (noise over the whole
# frame), lines read in small areas lose the rest of the picture the detector saw (tuning
# seeds 1-2: 7 words fewer over 17 such frames), and the whole frame is read.
MIN_KEPT_SHARE = 0.25
# Frames read in changed areas keep what the last whole read found, misses included; the
# REFRESH_EVERY-th frame of a series is read whole again (its lines joined to those kept).
# A refresh that finds no line the kept reading lacked where the pixels stood still doubles
# the wait for the next one, up to MAX_REFRESH_EVERY; one that finds such a line brings the
# wait back to REFRESH_EVERY. With a refresh every 8th frame, pydicom-data's 120-frame echo
# made 14 refreshes, 3.7 of its 11 s in-process, and none found a still line (only picture
# read as text, `.B o`, and lines split otherwise); now it makes 3.
REFRESH_EVERY = 8
MAX_REFRESH_EVERY = 64
# Margin around changed pixels, in pixels, when no earlier box gives the text height (else
# the tallest earlier box); MIN_MARGIN is the least. A glyph that newly appears is changed
# pixels itself, so the margin only needs to reach the rest of its line's neighbourhood.
DEFAULT_MARGIN = 16
MIN_MARGIN = 4
# Kept boxes inside a patch that is read again are painted over this many pixels beyond
# their rectangle (anti-aliased glyph edges).
PAINT = 2
# Changed pixels are grouped on a coarse grid (blocks of this many pixels a side): speckle
# that changes everywhere inside a sector becomes one patch instead of thousands.
BLOCK = 8


@dataclass(frozen=True)
class Area:
    """[top, bottom) x [left, right) in image pixels."""

    top: int
    left: int
    bottom: int
    right: int

    @property
    def size(self) -> int:
        return (self.bottom - self.top) * (self.right - self.left)

    def meets(self, other: Area) -> bool:
        return (self.top < other.bottom and other.top < self.bottom
                and self.left < other.right and other.left < self.right)


@dataclass
class ReuseCounts:
    """What FrameReuse did, for tests and the benchmark (deterministic counts, no times)."""

    full_reads: int = 0          # images read whole
    reused: int = 0              # images answered from the previous reading alone
    partial: int = 0             # images read in cropped areas only
    crop_reads: int = 0          # engine calls on crops (checks included)
    checks_failed: int = 0       # series found not to read crops as it reads whole frames
    areas_read: int = 0          # areas read by an engine's read_in (changed lines, new text)
    lines_again: int = 0         # lines recognised again in place (glyphs changed, layout not)
    refreshes: int = 0           # of the full reads, the refreshes (_Series.refresh_every)
    carried: int = 0             # previous lines a frame's reading lacked, found again in place
    # Why further frames were read whole: "lines moved" (no line, or most lines, kept their
    # pixels: nothing, or too little, to reuse), "large change"
    # (the areas to read cover most of the frame), "line cut" (a line reached its area's edge).
    whole_because: dict = field(default_factory=dict)

    def read_whole(self, why: str) -> None:
        self.whole_because[why] = self.whole_because.get(why, 0) + 1
    pixels_read: int = 0         # pixels handed to the engine, crops and whole images


def box_key(box: TextBox) -> tuple:
    """What a box contributes to a row: text and rectangle (confidence is not in the CSV)."""
    return (box.text, box.left, box.top, box.right, box.bottom)


def same_boxes(a: list[TextBox], b: list[TextBox]) -> bool:
    return [box_key(x) for x in a] == [box_key(y) for y in b]


def changed_pixels(current: Image, previous: Image) -> np.ndarray:
    """bool (rows, cols): where the pixels or the text mask differ (exactly). A frame with no
    mask has no pixel of it: one whose mask appears or goes changed where the mask is set."""
    a, b = current.pixels, previous.pixels
    if a.ndim == 3 and a.shape == b.shape and a.dtype == b.dtype == np.uint8 and 1 < a.shape[2] <= 4:
        # 8-bit colour: a pixel changed where the sum of its channels' absolute differences
        # (saturated at 255) is not 0. OpenCV: 0.6 ms a 640x480 RGB frame, against 2.5 ms
        # for numpy channel by channel.
        import cv2

        summed = cv2.transform(cv2.absdiff(np.ascontiguousarray(a), np.ascontiguousarray(b)),
                               np.ones((1, a.shape[2]), np.float32))
        diff = summed > 0
    else:
        diff = a != b
        if diff.ndim == 3:          # channel by channel (numpy's any over a short last axis is slow)
            diff = np.logical_or.reduce([diff[..., c] for c in range(diff.shape[2])])
    masks = [m for m in (current.text_mask, previous.text_mask) if m is not None]
    if len(masks) == 2:
        diff = diff | (masks[0] != masks[1])
    elif masks:
        diff = diff | masks[0]
    return diff


def neighbourhood(box: TextBox, height: int, width: int) -> Area:
    """Where a box's line may go on: a text height above and below, two to each side (an
    engine groups glyphs into a line across gaps of about one and a half text heights)."""
    h = max(MIN_MARGIN, box.bottom - box.top)
    return Area(max(0, box.top - h), max(0, box.left - 2 * h),
                min(height, box.bottom + h), min(width, box.right + 2 * h))


def same_line(a: TextBox, b: TextBox) -> bool:
    shared = min(a.bottom, b.bottom) - max(a.top, b.top)
    return shared >= 0.5 * max(1, min(a.bottom - a.top, b.bottom - b.top))


def dirty_boxes(changed: np.ndarray, boxes: list[TextBox]) -> list[bool]:
    """Boxes to read again: those with a changed pixel in their neighbourhood, and then every
    box of their line (words of one line within reach of each other), so a line is never cut."""
    height, width = changed.shape
    near = [neighbourhood(b, height, width) for b in boxes]
    dirty = [bool(changed[n.top:n.bottom, n.left:n.right].any()) for n in near]
    grew = True
    while grew:
        grew = False
        for i, box in enumerate(boxes):
            if dirty[i]:
                continue
            if any(dirty[j] and same_line(box, other) and near[i].meets(_area_of(other))
                   for j, other in enumerate(boxes)):
                dirty[i] = grew = True
    return dirty


KEEP, AGAIN, AREA = "keep", "again", "area"


def line_plans(changed: np.ndarray, before: Image, after: Image, boxes: list[TextBox],
               dirty: list[bool]) -> list[str]:
    """What a further frame read in areas does with each earlier line: KEEP its reading,
    recognise it AGAIN where it stands, or read its neighbourhood's AREA (detection, then
    recognition). A dirty line (dirty_boxes) is kept when every changed pixel of its
    neighbourhood lies inside other lines (a clock beside it ticked) or, when its own box
    kept its pixels, stayed outside them on the background side of the line's ink in both
    frames (an echo's speckle beside its white labels: what the line is read at did not
    change there; a frame changed everywhere, lines included, is a new picture); read again
    when they lie inside lines and some inside its own, and its ink stays inside the rectangle
    it filled before (glyphs changed, the line did not grow: a clock's seconds, a counter
    going from 10 to 9); else its area is read (the line grew, or something changed outside
    every line: the line may have gained a neighbour, or picture moved beside it). A line
    on the same row within reach of an AREA line is read with it (the detector may join
    them)."""
    height, width = changed.shape
    in_lines = np.zeros_like(changed)
    for b in boxes:
        in_lines[b.top:b.bottom, b.left:b.right] = True
    loose = changed & ~in_lines
    plans = []
    for box, is_dirty in zip(boxes, dirty):
        n = neighbourhood(box, height, width)
        if not is_dirty:
            plans.append(KEEP)
        elif loose[n.top:n.bottom, n.left:n.right].any():
            still = not changed[box.top:box.bottom, box.left:box.right].any()
            plans.append(KEEP if still and _background_change(before, after, box, n, loose) else AREA)
        elif not changed[box.top:box.bottom, box.left:box.right].any():
            plans.append(KEEP)
        elif ink_stays_inside(before.pixels[box.top:box.bottom, box.left:box.right],
                              after.pixels[box.top:box.bottom, box.left:box.right]):
            plans.append(AGAIN)
        else:
            plans.append(AREA)
    return spread_areas(boxes, plans, height, width)


def _background_change(before: Image, after: Image, box: TextBox, near: Area, loose: np.ndarray) -> bool:
    """Did the pixels that changed outside every line around `box` stay, before and after,
    on the background side of its ink (speckle below white text's level)?"""
    where = loose[near.top:near.bottom, near.left:near.right]
    line = before.pixels[box.top:box.bottom, box.left:box.right]
    changed = [image.pixels[near.top:near.bottom, near.left:near.right][where] for image in (before, after)]
    return below_ink(line, np.concatenate(changed))


def spread_areas(boxes: list[TextBox], plans: list[str], height: int, width: int) -> list[str]:
    """Every line on the same row within reach of an AREA line (its neighbourhood meets it)
    becomes AREA too, until none does: the detector may join them into one line."""
    plans = list(plans)
    near = [neighbourhood(b, height, width) for b in boxes]
    grew = True
    while grew:
        grew = False
        for i, box in enumerate(boxes):
            if plans[i] != AREA and any(plans[j] == AREA and same_line(box, other)
                                        and near[i].meets(_area_of(other))
                                        for j, other in enumerate(boxes)):
                plans[i] = AREA
                grew = True
    return plans


@dataclass(frozen=True, eq=False)
class Patch:
    """One area to read again: its bounding rectangle and which of its pixels belong to it
    (bool, the rectangle's shape). The other pixels of the rectangle, and the kept boxes
    inside it, are painted over before the engine sees the crop."""

    area: Area
    inside: np.ndarray
    hidden: tuple[TextBox, ...]

    @property
    def key(self) -> tuple:
        return (self.area, self.hidden, hashlib.blake2b(np.packbits(self.inside).tobytes(),
                                                        digest_size=16).digest())

    def holds(self, box: TextBox) -> bool:
        """Does the box (image space), grown by a pixel, lie inside this patch's pixels?"""
        top, left = max(0, box.top - 1 - self.area.top), max(0, box.left - 1 - self.area.left)
        bottom = min(self.inside.shape[0], box.bottom + 1 - self.area.top)
        right = min(self.inside.shape[1], box.right + 1 - self.area.left)
        return bool(self.inside[top:bottom, left:right].all())

    def touches(self, box: TextBox) -> bool:
        """Does the box (image space) cover any of this patch's pixels?"""
        top, left = max(0, box.top - self.area.top), max(0, box.left - self.area.left)
        bottom = min(self.inside.shape[0], box.bottom - self.area.top)
        right = min(self.inside.shape[1], box.right - self.area.left)
        return top < bottom and left < right and bool(self.inside[top:bottom, left:right].any())

    def crop(self, image: Image) -> Image:
        """The rectangle cut out, everything not to be read painted with its median colour."""
        a = self.area
        pixels = image.pixels[a.top:a.bottom, a.left:a.right].copy()
        mask = image.text_mask[a.top:a.bottom, a.left:a.right].copy() if image.text_mask is not None else None
        paint = ~self.inside
        for box in self.hidden:
            paint[max(0, box.top - a.top - PAINT):max(0, box.bottom - a.top + PAINT),
                  max(0, box.left - a.left - PAINT):max(0, box.right - a.left + PAINT)] = True
        if paint.any():
            pixels[paint] = np.median(pixels[paint], axis=0).astype(pixels.dtype)
            if mask is not None:
                mask[paint] = False
        return replace(image, pixels=pixels, text_mask=mask)


def plan_patches(changed: np.ndarray, boxes: list[TextBox], dirty: list[bool]) -> list[Patch] | None:
    """Patches to read again: the changed pixels grown by a text height, and the rectangles
    of the boxes to read again, grouped on a BLOCK grid; None when they cover more than
    MAX_CHANGED_SHARE of the image."""
    height, width = changed.shape
    rows, cols = -(-height // BLOCK), -(-width // BLOCK)
    padded = np.zeros((rows * BLOCK, cols * BLOCK), bool)
    padded[:height, :width] = changed
    coarse = padded.reshape(rows, BLOCK, cols, BLOCK).any(axis=(1, 3))
    margin = max([b.bottom - b.top for b in boxes], default=DEFAULT_MARGIN)
    reach = max(1, -(-max(MIN_MARGIN, margin) // BLOCK))
    grid = dilate(coarse, 2 * reach + 1)
    for box, is_dirty in zip(boxes, dirty):
        if is_dirty:
            grid[max(0, box.top - MIN_MARGIN) // BLOCK:-(-(box.bottom + MIN_MARGIN) // BLOCK),
                 max(0, box.left - MIN_MARGIN) // BLOCK:-(-(box.right + MIN_MARGIN) // BLOCK)] = True
    full = grid.repeat(BLOCK, 0).repeat(BLOCK, 1)[:height, :width]
    if full.sum() > MAX_CHANGED_SHARE * height * width:
        return None
    labels, _, found = label_with_boxes(grid, connectivity=8)
    full_labels = labels.repeat(BLOCK, 0).repeat(BLOCK, 1)[:height, :width]
    kept = [b for b, d in zip(boxes, dirty) if not d]
    patches = []
    for index, (top, left, bottom, right) in enumerate(found.tolist(), start=1):
        area = Area(top * BLOCK, left * BLOCK, min(height, bottom * BLOCK), min(width, right * BLOCK))
        inside = full_labels[area.top:area.bottom, area.left:area.right] == index
        hidden = tuple(b for b in kept if area.meets(_area_of(b)))
        patches.append(Patch(area, inside, hidden))
    return patches


def shifted(box: TextBox, area: Area) -> TextBox:
    return replace(box, left=box.left + area.left, right=box.right + area.left,
                   top=box.top + area.top, bottom=box.bottom + area.top)


@dataclass
class _Series:
    image: Image
    boxes: list[TextBox]
    checked: set[tuple] = field(default_factory=set)    # Patch.key of patches verified
    whole_only: bool = False                             # crops failed the check: read whole
    since_whole: int = 0                                 # frames read in areas since a whole read
    refresh_every: int = REFRESH_EVERY                   # frames from a whole read to the next refresh


def series_key(image: Image) -> tuple:
    """Images of one series: same kind (frames, or one overlay's planes) and same shape. A
    text mask that comes and goes does not start a series: a colour frame's mask is its
    pixels of the brightest neutral level or a saturated colour, kept only when there are
    enough of them (dicom/transforms.py), so JPEG video's few saturated pixels make it appear
    on some frames (pydicom's 30-frame YBR echo: frames 21-22, 11 pixels); the pixels where
    it changed are read again (changed_pixels), as any others."""
    kind = "frame" if image.source == Source.FRAME else "overlay"
    return (kind, image.overlay, image.pixels.shape, image.pixels.dtype.str)


class FrameReuse:
    """An OcrEngine that reads an instance's images through `engine`, reusing the reading of
    unchanged text from the previous image of the same series. Make one per instance."""

    def __init__(self, engine, *, crops: bool | None = None, exact: bool = False):
        self.engine = engine
        self.name = engine.name
        # Further frames read in their changed areas only (see the module's doc), by an engine
        # that can read areas of an image as its whole read does (`read_in`); exact=True keeps
        # to whole reads (with the engine's own caches), whose rows are full reads' by
        # construction.
        self.areas = hasattr(engine, "read_in") and not exact
        # Read changed patches as crops only for an engine that reads a crop as it reads the
        # same pixels inside the whole image (see the module's doc); others read changed
        # images whole (their own caches, such as tesseract's crop cache, do the rest).
        self.crops = bool(getattr(engine, "local_reading", False)) if crops is None else crops
        self.counts = ReuseCounts()
        self._series: dict[tuple, _Series] = {}

    def _read_whole(self, image: Image) -> list[TextBox]:
        self.counts.full_reads += 1
        self.counts.pixels_read += image.height * image.width
        return list(self.engine.read(image))

    def _read_patch(self, image: Image, patch: Patch) -> list[TextBox] | None:
        """The boxes read in one patch, in image space; None when one may be cut by the
        patch's edge or runs into a kept box."""
        self.counts.crop_reads += 1
        self.counts.pixels_read += int(patch.inside.sum())
        boxes = [shifted(box, patch.area) for box in self.engine.read(patch.crop(image))]
        if not all(patch.holds(box) for box in boxes):
            return None
        if any(_area_of(box).meets(_area_of(k)) for box in boxes for k in patch.hidden):
            return None
        return boxes

    def read(self, image: Image) -> list[TextBox]:
        key = series_key(image)
        series = self._series.get(key)
        if series is None:
            boxes = self._read_whole(image)
            self._series[key] = _Series(image, boxes)
            return list(boxes)
        if self.areas and series.since_whole + 1 >= series.refresh_every:
            boxes = self._refresh(image, series)
        else:
            boxes = self._read_changed(image, series)
            series.since_whole += 1
            if boxes is None:
                boxes = self._read_whole(image)
                series.since_whole = 0
        if self.areas and hasattr(self.engine, "read_lines"):
            boxes = self._carry(image, series.boxes, boxes)
        series.image, series.boxes = image, boxes
        return list(boxes)

    def _carry(self, image: Image, earlier: list[TextBox], boxes: list[TextBox]) -> list[TextBox]:
        """This frame's reading with the previous frame's lines that none of its lines meets
        recognised where they stood (engine.read_lines) and added where the recogniser reads
        them as a whole read would keep a line (the module's doc, case 6)."""
        missing = [b for b in earlier if not any(_area_of(b).meets(_area_of(x)) for x in boxes)]
        if not missing:
            return boxes
        found = [line for line in self.engine.read_lines(image, missing) if line is not None]
        self.counts.carried += len(found)
        return reading_order(boxes + found) if found else boxes

    def _refresh(self, image: Image, series: _Series) -> list[TextBox]:
        """Now and then (series.refresh_every) a frame read in areas is read whole, and the
        lines read on earlier frames whose pixels did not change since are kept beside what
        it finds where it finds nothing (the detector misses a line now and then: the echo's
        "TIS 0.7" on 25 of 39 frames read whole, though its pixels never changed). The wait
        for the next refresh doubles unless this one found a line the kept reading lacked
        where the pixels stood still (`found_still_line`)."""
        self.counts.refreshes += 1
        series.since_whole = 0
        boxes = self._read_whole(image)
        changed = changed_pixels(image, series.image)
        series.refresh_every = (REFRESH_EVERY if found_still_line(boxes, series.boxes, changed)
                                else min(MAX_REFRESH_EVERY, 2 * series.refresh_every))
        kept = [b for b, d in zip(series.boxes, dirty_boxes(changed, series.boxes)) if not d]
        found = [_area_of(b) for b in boxes]
        return reading_order(boxes + [b for b in kept if not any(_area_of(b).meets(f) for f in found)])

    def _read_changed(self, image: Image, series: _Series) -> list[TextBox] | None:
        changed = changed_pixels(image, series.image)
        if not changed.any():
            self.counts.reused += 1
            return list(series.boxes)
        if self.areas:
            return self._read_areas(image, series, changed)
        if not self.crops or series.whole_only:
            return None
        dirty = dirty_boxes(changed, series.boxes)
        patches = plan_patches(changed, series.boxes, dirty)
        if patches is None:
            return None
        found: list[TextBox] = []
        for patch in patches:
            if patch.key not in series.checked:
                if not self._check(series, patch):
                    return None
                series.checked.add(patch.key)
            boxes = self._read_patch(image, patch)
            if boxes is None:
                return None
            found.extend(boxes)
        self.counts.partial += 1
        kept = [b for b, d in zip(series.boxes, dirty) if not d]
        return reading_order(kept + found)

    def _read_areas(self, image: Image, series: _Series, changed: np.ndarray) -> list[TextBox] | None:
        """A further frame read where it changed: lines whose neighbourhood kept its pixels
        (or changed only inside other lines) keep their reading; lines whose glyphs changed
        in place are recognised again where they stand (an engine with `read_lines`); the
        neighbourhoods of the others, and the text-like ink that appeared where pixels
        changed, are read again (engine.read_in). None: read whole."""
        height, width = changed.shape
        dirty = dirty_boxes(changed, series.boxes)
        if hasattr(self.engine, "read_lines"):
            plans = line_plans(changed, series.image, image, series.boxes, dirty)
        else:
            plans = [AREA if d else KEEP for d in dirty]
        kept = [b for b, p in zip(series.boxes, plans) if p == KEEP]
        again = [b for b, p in zip(series.boxes, plans) if p == AGAIN]
        if len(kept) + len(again) < max(1, MIN_KEPT_SHARE * len(series.boxes)):
            self.counts.read_whole("lines moved")
            return None
        if again:
            self.counts.lines_again += len(again)
            readings = dict(zip([i for i, p in enumerate(plans) if p == AGAIN],
                                self.engine.read_lines(image, again, changed=changed)))
            if any(line is None for line in readings.values()):
                # A whole read would drop the line now: its area is read, with its row.
                plans = spread_areas(series.boxes, [AREA if i in readings and readings[i] is None else p
                                                    for i, p in enumerate(plans)], height, width)
            again = [readings[i] for i, p in enumerate(plans) if p == AGAIN]
        # Lines that changed, read again whole (a line reaching its area's edge: read the
        # frame whole); and text that may have appeared over changed picture.
        lines = merge_areas([neighbourhood(b, height, width) for b, p in zip(series.boxes, plans) if p == AREA])
        appeared = merge_areas(new_text_areas(image, changed, kept + again))
        fresh = [a for a in appeared if not any(a.meets(line) for line in lines)]
        lines = merge_areas(lines + [a for a in appeared if a not in fresh])
        if sum(a.size for a in lines + fresh) > MAX_CHANGED_SHARE * height * width:
            self.counts.read_whole("large change")
            return None
        known = kept + again
        # Lines read again for their neighbourhood only (their own pixels did not change): one
        # the detector finds again in place is the same glyphs, and keeps its reading.
        still = [b for b, p in zip(series.boxes, plans)
                 if p == AREA and not changed[b.top:b.bottom, b.left:b.right].any()]
        found: list[TextBox] = []
        for areas, whole_lines in ((lines, True), (fresh, False)):
            if not areas:
                continue
            self.counts.areas_read += len(areas)
            self.counts.pixels_read += sum(a.size for a in areas)
            read = self.engine.read_in(image, [(a.top, a.left, a.bottom, a.right) for a in areas],
                                       whole_lines=whole_lines, known=known,
                                       still=still, changed=changed)
            if read is None:
                self.counts.read_whole("line cut")
                return None
            found += read
        # A kept line's pixels did not change, and a line read again stands where it stood:
        # their readings stand, and a line found again mostly over one is the same line.
        found = [b for b in found if not any(covered(b, k) for k in known)]
        self.counts.partial += 1
        return reading_order(known + found)

    def _check(self, series: _Series, patch: Patch) -> bool:
        """Does reading this patch of the previous image give the boxes its whole reading
        holds there? If not, this engine reads crops differently from whole images here:
        the series is read whole from now on."""
        expected = [b for b in series.boxes if patch.touches(b) and b not in patch.hidden]
        got = self._read_patch(series.image, patch)
        if got is None or not same_boxes(reading_order(got), reading_order(expected)) \
                or not same_boxes(reading_order(series.boxes), series.boxes):
            self.counts.checks_failed += 1
            series.whole_only = True
            return False
        return True


def found_still_line(whole: list[TextBox], kept: list[TextBox], changed: np.ndarray) -> bool:
    """Did a whole read find a line that no kept line meets, where no pixel changed since
    the previous frame? That is what reading in areas misses (a line the detector skipped on
    the last whole read, ink too short to look like text where it appeared); a line in
    changing picture is not (speckle read as text comes and goes, and text that appears
    there is read where it appears)."""
    new = [b for b in whole if not any(_area_of(b).meets(_area_of(k)) for k in kept)]
    return any(not dirty for dirty in dirty_boxes(changed, new))


def new_text_areas(image: Image, changed: np.ndarray, kept: list[TextBox]) -> list[Area]:
    """Areas where text may have appeared: line regions of the ink (ocr/prepare.py) inside
    the changed pixels' bounding box that are not specks, touch changed pixels and lie over
    no kept line, each with a margin of two text heights (a line may reach further than its
    ink shows)."""
    rows, cols = np.nonzero(changed.any(axis=1))[0], np.nonzero(changed.any(axis=0))[0]
    if rows.size == 0:
        return []
    top, bottom, left, right = int(rows[0]), int(rows[-1]) + 1, int(cols[0]), int(cols[-1]) + 1
    height, width = changed.shape
    part = replace(image, pixels=image.pixels[top:bottom, left:right],
                   text_mask=None if image.text_mask is None else image.text_mask[top:bottom, left:right])
    out: list[Area] = []
    for ink in inks(part):
        regions = regions_of(ink)
        if regions is None:           # too many to be annotation: texture, not text
            continue
        for r in regions:
            area = Area(top + r.top, left + r.left, top + r.bottom, left + r.right)
            if not changed[area.top:area.bottom, area.left:area.right].any():
                continue
            if not (r.text_like or (not r.speck and appeared_alone(changed, area, r.glyph_height))):
                continue
            if any(area.meets(_area_of(k)) for k in kept):
                continue
            pad = 2 * r.glyph_height + 8
            out.append(Area(max(0, area.top - pad), max(0, area.left - pad),
                            min(height, area.bottom + pad), min(width, area.right + pad)))
    return out


def appeared_alone(changed: np.ndarray, area: Area, text_height: int) -> bool:
    """Did the pixels change here and nowhere around (two text heights on every side)? Ink
    too short to look like a line of text (`R`, `LT`, `12`) that appears on a still
    background is annotation: a picture changes over a wide area, not in one glyph's box."""
    pad, edge = 2 * text_height, 2
    around = changed[max(0, area.top - pad):area.bottom + pad, max(0, area.left - pad):area.right + pad]
    inside = changed[max(0, area.top - edge):area.bottom + edge, max(0, area.left - edge):area.right + edge]
    return int(around.sum()) == int(inside.sum())


def merge_areas(areas: list[Area]) -> list[Area]:
    """Overlapping areas joined, until none overlap."""
    return merge_overlapping(areas, Area.meets, lambda a, b: Area(
        min(a.top, b.top), min(a.left, b.left), max(a.bottom, b.bottom), max(a.right, b.right)))


def _area_of(box: TextBox) -> Area:
    return Area(box.top, box.left, box.bottom, box.right)
