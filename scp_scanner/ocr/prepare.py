"""Image preparation shared by the OCR engines: pure functions on numpy arrays.

Why not hand the whole image to the OCR engine? Measured on real files: tesseract's page
layout analysis drops short isolated words (an overlay's "Tra" at 8 px was never read from the
whole 484x484 page at any scale, yet read at 96% confidence from a crop around it), and reads
anatomy and speckle as garbage words. So text is first *located*, then each line is read
from its own crop at its own scale:

1. Ink: where text may be. Three sources, each a boolean mask:
   - "mask": Image.text_mask, pixels at the extreme stored value (or an overlay's set bits);
     crisp, independent of any window;
   - "bright": display pixels at or above a level (anti-aliased, lossy or coloured text;
     colour folded to grey by the brightest channel so coloured ultrasound text stays bright);
   - "dark": for light images only (documents), pixels below mid-grey.
2. Glyphs: connected components of the ink whose size and shape fit a character.
3. Lines: glyphs smeared sideways by about their height and grouped; each group is a region.
4. Crops: each region cut from its ink source (dark text on white), padded, and scaled so the
   line is ~36 px high, the size tesseract reads best.

Boxes found in a crop map back to the original image's pixel space with `Crop.to_original`.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property

import numpy as np
from PIL import Image as PILImage
from PIL import ImageFilter

from ..masks import component_boxes, label
from ..model import Image, Source, TextBox

@dataclass(frozen=True)
class PrepareParams:
    """The thresholds of locating and cropping text (defaults: today's tuned values).

    Each field says what it trades off and what set it; "corpora" means bench/score_scan.py
    on bench/make_corpus.py corpora (identifying words found, images flagged). Sweep one with
    bench/sweep.py, e.g. `--set prepare.smear_reach=0.7,0.8,0.9`."""

    bright_level: int = 128
    """Lowest display level (0-255) at which a frame's pixel may be annotation text. Lower
    keeps the anti-aliased edges of white text (level 200 thinned 11-14 px glyphs into
    misreads), higher keeps anatomy out."""

    bright_percentile: float = 90
    """On bright images the level rises to just above this percentile of the grey levels, so
    that bright pixels stay a small part of the image (else the whole image is "ink")."""

    max_text_fraction: float = 0.15
    """Annotation text covers a small part of an image; an ink mask covering more is not
    text. Higher reads dense text screens, lower skips textured images sooner."""

    min_glyph_height: int = 4
    """The smallest glyph height, in original pixels: lower admits speckle as glyphs."""

    max_glyph_height: int = 120
    """The largest glyph height, in original pixels: higher admits anatomy and logos as
    glyphs."""

    max_glyph_aspect: float = 8
    """A component wider than this many times its height is a horizontal rule or a run of
    merged marks, not a glyph; lower drops italics and touching letters."""

    min_text_line_height: int = 7
    """Median glyph height of a line that is surely text: speckle and noise make smaller
    blobs. (Region.text_like and Region.speck use the module default PREPARE.)"""

    smear_reach: float = 0.8
    """Each glyph is widened by this share of its height on both sides before glyphs are
    grouped into lines: more joins the words of a line (and separate columns of text),
    less splits a line at its spaces into separate crops (more tesseract calls, and words
    read without their line: bench/sweep.py, seed 11, 45 files: 0.2 finds 219 of 297
    identifying words, 0.8 and 0.9 find 290)."""

    target_line_height: int = 36
    """Height, in pixels, that a line of text is scaled to before recognition (the size
    tesseract reads best, see above)."""

    max_scale: int = 6
    """The largest integer scale used to get there: more reads tiny text, at a cost in
    tesseract time that grows with the crop's area."""

    binary_smoothing: float = 0.35
    """Gaussian radius, in source pixels, that smooths an enlarged binary text mask.
    Measured on three synthetic corpora (identifying words read): 0.2 -> 94.9-96.3%, 0.35
    -> 97.1-98.0%, 0.5 -> 95.1-97.8%, 0.7 -> 90.7-91.9%; no smoothing (bilinear) ->
    94.3-94.9%."""

    max_regions: int = 250
    """Beyond this many line regions in one ink mask, it is texture, not annotation (read as
    a whole page instead): higher reads more regions one by one, at one tesseract call
    each."""

    page_side: int = 1200
    """Reading a whole page (the fallback), it is enlarged towards this long side in pixels:
    larger reads small text on small pages, at a tesseract cost that grows with the area."""

    max_page_scale: int = 4
    """...by an integer scale of at most this."""


PREPARE = PrepareParams()

# The default level, under its old name.
BRIGHT_LEVEL = PREPARE.bright_level


@dataclass(frozen=True, eq=False)
class Ink:
    """Where text may be, and the picture to read it from (dark text on white, uint8)."""

    name: str             # "mask" | "bright" | "dark"
    mask: np.ndarray      # bool, original pixel space
    # uint8, original pixel space, text dark on white; None: the mask drawn so (mask_page),
    # made when first read (only tesseract reads pages; on a 2500x2000 CR each is 5 MB).
    picture: np.ndarray | None = None

    @cached_property
    def page(self) -> np.ndarray:
        return self.picture if self.picture is not None else mask_page(self.mask)


@dataclass(frozen=True)
class Region:
    """A line of text candidates: [top, bottom) x [left, right) in original pixels."""

    top: int
    left: int
    bottom: int
    right: int
    glyph_height: int     # tallest glyph (outliers over twice the median left out): the text height
    glyphs: int

    @property
    def text_like(self) -> bool:
        """Several glyphs of annotation size on one line: text, very likely, even where the
        OCR engine is unsure of the words (tesseract gives DICOM names like DOE^JOHN ~10%)."""
        return self.text_like_from(PREPARE.min_text_line_height)

    def text_like_from(self, min_height: int) -> bool:
        """text_like, for glyphs at least min_height px tall (ink that leaves out the glyphs'
        rims makes them lower: dim.FAINT_MIN_HEIGHT)."""
        return self.glyphs >= 3 and self.glyph_height >= min_height and self.single_line

    @property
    def speck(self) -> bool:
        """One or two blobs lower than any line of annotation text (speckle, noise, a dot):
        reading it costs a tesseract call on a crop enlarged 6x and can only give a one- or
        two-letter scrap. On a grey ultrasound cine 50 of a frame's 57 bright regions."""
        return self.glyphs < 3 and self.glyph_height < PREPARE.min_text_line_height

    @property
    def single_line(self) -> bool:
        """Lines set close together can touch and group as one region: then it is a block."""
        return (self.bottom - self.top) <= 1.5 * self.glyph_height


@dataclass(frozen=True, eq=False)
class Crop:
    """A region cut out and scaled for recognition."""

    pixels: np.ndarray    # uint8, dark text on white
    top: int              # where the crop's (0, 0) sits in the original image
    left: int
    scale: int            # crop pixels per original pixel
    height: int           # original image size, to clip mapped boxes
    width: int
    margin: int = 0       # white border added around the scaled piece, in crop pixels

    def to_original(self, box: TextBox) -> TextBox:
        """A box found in this crop, in the original image's pixel space."""
        s, m = self.scale, self.margin
        left, top = self.left + (box.left - m) // s, self.top + (box.top - m) // s
        right, bottom = self.left + -(-(box.right - m) // s), self.top + -(-(box.bottom - m) // s)
        return TextBox(box.text, max(0, left), max(0, top), min(self.width, right),
                       min(self.height, bottom), box.confidence)


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """uint8 grey from grey or RGB; RGB takes the brightest channel (keeps coloured text bright)."""
    if pixels.ndim == 3:
        # Channel by channel: numpy's max over a 3-long last axis is ~30x slower (33 ms for
        # 640x480 here, a tenth of a whole tesseract read of the frame).
        out = np.maximum(pixels[..., 0], pixels[..., 1])
        np.maximum(out, pixels[..., 2], out=out)
        return out.astype(np.uint8, copy=False)
    return pixels.astype(np.uint8, copy=False)


# Thin text: strokes narrower than STROKE_KERNEL px and STROKE_CONTRAST grey levels brighter
# (or darker) than what surrounds them. A global threshold (inks) keeps only the cores of the
# strokes of small anti-aliased text, 1-2 px specks that no line is made of (7 px white serif
# text beside 1920x1080 endoscopy video: the brightest stroke 232, the threshold 161, 69
# pixels over it); the contrast with the strokes' own surroundings keeps whole glyphs.
STROKE_KERNEL = 5
STROKE_CONTRAST = 64


def stroke_lines(grey: np.ndarray, params: PrepareParams = PREPARE,
                 contrast: int = STROKE_CONTRAST) -> list[Region]:
    """Lines (and lone glyphs: orientation markers) made of thin strokes, `contrast` grey
    levels bright on darker (white top-hat) or dark on brighter (black top-hat): where small
    text is, whatever the grey level of the image around it."""
    import cv2

    kernel = cv2.getStructuringElement(cv2.MORPH_RECT, (STROKE_KERNEL, STROKE_KERNEL))
    lines = []
    for operation in (cv2.MORPH_TOPHAT, cv2.MORPH_BLACKHAT):
        strokes = cv2.morphologyEx(grey, operation, kernel) >= contrast
        lines += line_regions(glyphs(strokes, params), strokes.shape, params)
    return lines


def mask_page(mask: np.ndarray) -> np.ndarray:
    """Black (0) where the mask is set, white (255) elsewhere (uint8 throughout: with Python
    ints np.where builds an int64 page first, 29 MB for a 1955x1841 CR)."""
    return np.where(mask, np.uint8(0), np.uint8(255))


# OpenCV counts in float32, exact below 2 ** 24 pixels; larger arrays are counted by numpy.
_EXACT_FLOAT_COUNTS = 1 << 24


def histogram_u8(grey: np.ndarray) -> np.ndarray:
    """Counts (int64) of each level 0-255 of a uint8 array: OpenCV's calcHist, 0.09 ms for a
    640x480 frame against 0.42 ms for np.bincount (which copies the frame in 64 bits first)."""
    if 0 < grey.size < _EXACT_FLOAT_COUNTS:
        import cv2

        plane = np.ascontiguousarray(grey.reshape(grey.shape[0], -1) if grey.ndim > 1 else grey[None, :])
        return cv2.calcHist([plane], [0], None, [256], [0, 256]).ravel().astype(np.int64)
    return np.bincount(grey.ravel(), minlength=256)


def percentile_u8(grey: np.ndarray, q: float, counts: np.ndarray | None = None) -> float:
    """np.percentile(grey, q) of a uint8 array, from its histogram (`counts`, histogram_u8's,
    when already made): the same value (numpy's linear interpolation between the two order
    statistics, computed as numpy computes it) in a fraction of a sort's time. Every image's
    ink needs it."""
    counts = np.cumsum(histogram_u8(grey) if counts is None else counts)
    n = int(counts[-1])
    position = np.float64(q) / 100 * (n - 1)
    below = int(np.floor(position))
    above = min(below + 1, n - 1)
    # The value at sorted index i: the smallest v whose cumulative count exceeds i.
    a, b = np.float64(np.searchsorted(counts, below, side="right")), np.float64(np.searchsorted(counts, above, side="right"))
    t = position - below
    return float(b - (b - a) * (1 - t)) if t >= 0.5 else float(a + (b - a) * t)


def median_of_counts(counts: np.ndarray) -> float:
    """np.median of whole values given as their counts (counts[v]: how many are v; a uint8
    image's histogram_u8): the middle value, or the mean of the two middle values for an
    even count."""
    cumulative = np.cumsum(counts)
    n = int(cumulative[-1])
    low = int(np.searchsorted(cumulative, (n - 1) // 2, side="right"))
    high = int(np.searchsorted(cumulative, n // 2, side="right"))
    return (low + high) / 2


def bright_level(grey: np.ndarray, params: PrepareParams = PREPARE, counts: np.ndarray | None = None) -> int:
    """bright_level, or just above the image's 90th percentile when that is brighter
    (`counts`: a uint8 image's histogram_u8, when already made)."""
    if not grey.size:
        return params.bright_level
    if grey.dtype == np.uint8:
        value = percentile_u8(grey, params.bright_percentile, counts)
    else:
        value = np.percentile(grey, params.bright_percentile)
    return max(params.bright_level, int(value) + 1)


def plausible_text(mask: np.ndarray, params: PrepareParams = PREPARE) -> bool:
    """Some ink, but only a small part of the image."""
    fraction = float(mask.mean()) if mask.size else 0.0
    return 0.0 < fraction <= params.max_text_fraction


def inks(image: Image, params: PrepareParams = PREPARE) -> list[Ink]:
    """The ink masks worth reading for this image, cleanest first."""
    out: list[Ink] = []
    if image.text_mask is not None and plausible_text(image.text_mask, params):
        out.append(Ink("mask", image.text_mask))
    if image.source != Source.FRAME:
        return out
    grey = to_grey(image.pixels)
    counts = histogram_u8(grey) if grey.size else None     # to_grey's output is uint8
    bright = grey >= bright_level(grey, params, counts)
    if plausible_text(bright, params):
        out.append(Ink("bright", bright))
    if counts is not None and median_of_counts(counts) >= 128:
        dark = grey < 128
        if plausible_text(dark, params):
            out.append(Ink("dark", dark, grey))
    return out


def glyphs(mask: np.ndarray, params: PrepareParams = PREPARE) -> np.ndarray:
    """Bounding boxes (top, left, bottom, right) of connected components shaped like glyphs."""
    boxes = component_boxes(mask)
    heights = boxes[:, 2] - boxes[:, 0]
    widths = boxes[:, 3] - boxes[:, 1]
    keep = ((heights >= params.min_glyph_height) & (heights <= params.max_glyph_height)
            & (widths <= params.max_glyph_aspect * heights)   # not a rule or a run of merged marks
            & (widths >= 1))
    return boxes[keep]


def line_regions(glyph_boxes: np.ndarray, shape: tuple[int, int],
                 params: PrepareParams = PREPARE) -> list[Region]:
    """Group glyphs into lines: each glyph is widened by 0.8 of its height (smear_reach) on
    both sides, and glyphs whose widened boxes touch form one region."""
    if len(glyph_boxes) == 0:
        return []
    height, width = shape
    smear = np.zeros(shape, bool)
    starts = np.empty(len(glyph_boxes), int)          # each smeared glyph's first column
    for i, (top, left, bottom, right) in enumerate(glyph_boxes):
        reach = max(2, int(round(params.smear_reach * (bottom - top))))
        starts[i] = max(0, left - reach)
        smear[top:bottom, starts[i]:min(width, right + reach)] = True
    labels, _ = label(smear, ordered=False)
    owner = labels[glyph_boxes[:, 0], glyph_boxes[:, 1]]
    regions = []
    for line in np.unique(owner):
        members = glyph_boxes[owner == line]
        heights = members[:, 2] - members[:, 0]
        text_height = heights[heights <= 2 * np.median(heights)].max()
        top = int(members[:, 0].min())
        first = int(starts[owner == line][members[:, 0] == top].min())
        regions.append((top, first, Region(top, int(members[:, 1].min()), int(members[:, 2].max()),
                                           int(members[:, 3].max()), int(text_height), len(members))))
    # In raster order of each line's first smeared pixel (its top row is its glyphs' top, and
    # there the leftmost smeared column starts it): the order of ndimage.label's numbering.
    return [region for _, _, region in sorted(regions, key=lambda item: item[:2])]


def regions_of(ink: Ink, params: PrepareParams = PREPARE) -> list[Region] | None:
    """Line regions of one ink mask, or None when there are too many to be annotation."""
    regions = line_regions(glyphs(ink.mask, params), ink.mask.shape, params)
    if len(regions) > params.max_regions:
        return None
    return regions


def enlarge(piece: np.ndarray, scale: int, *, binary: bool, params: PrepareParams = PREPARE) -> np.ndarray:
    """Scale up by an integer factor. A binary piece (text mask: jagged 1-pixel steps) is
    smoothed with a Gaussian of a third of a source pixel after bicubic scaling, so tesseract
    sees round glyphs: bilinear blocks made it read 8 as 6 and "Se" as "S$e" in 10 px
    digits, which the smoothed glyphs read right."""
    image = PILImage.fromarray(piece).resize((piece.shape[1] * scale, piece.shape[0] * scale),
                                             PILImage.Resampling.BICUBIC)
    if binary:
        image = image.filter(ImageFilter.GaussianBlur(params.binary_smoothing * scale))
    return np.asarray(image)


def line_scale(region: Region, params: PrepareParams = PREPARE) -> int:
    """The scale that brings the region's text to target_line_height."""
    return int(max(1, min(params.max_scale, round(params.target_line_height / max(region.glyph_height, 1)))))


def crop_bounds(ink: Ink, region: Region) -> tuple[int, int, int, int]:
    """(top, bottom, left, right) of the page cut for a region: its rows (and one more above
    and below), and half a text height more on each side."""
    height, width = ink.page.shape
    side = max(2, region.glyph_height // 2)
    return (max(0, region.top - 1), min(height, region.bottom + 1),
            max(0, region.left - side), min(width, region.right + side))


def crop(ink: Ink, region: Region, scale: int | None = None, params: PrepareParams = PREPARE) -> Crop:
    """The region cut from the ink's page, scaled to target_line_height, on a white margin.

    Only the region's own rows are cut (a margin of the page above and below would bring in
    slivers of the neighbouring lines, which tesseract then tries to read); the margin that
    tesseract needs is added as white."""
    height, width = ink.page.shape
    top, bottom, left, right = crop_bounds(ink, region)
    scale = line_scale(region, params) if scale is None else scale
    piece = ink.page[top:bottom, left:right]
    if scale > 1:
        piece = enlarge(piece, scale, binary=ink.name != "dark", params=params)
    margin = params.target_line_height // 2
    piece = np.pad(piece, margin, constant_values=255)
    # Crop (0, 0) sits `margin` crop pixels before (top, left): at a fractional original pixel,
    # so boxes are mapped with the margin removed first.
    return Crop(piece, top, left, scale, height, width, margin)


def page_scale(height: int, width: int, params: PrepareParams = PREPARE) -> int:
    """Upscale for reading a whole page (the fallback when there are too many regions)."""
    return int(max(1, min(params.max_page_scale, round(params.page_side / max(height, width, 1)))))


def page_crop(ink: Ink, params: PrepareParams = PREPARE) -> Crop:
    """The whole ink page as one crop (fallback)."""
    height, width = ink.page.shape
    scale = page_scale(height, width, params)
    page = ink.page
    if scale > 1:
        page = enlarge(page, scale, binary=ink.name != "dark", params=params)
    return Crop(page, 0, 0, scale, height, width)


def overlap(a: TextBox, b: TextBox) -> float:
    """Intersection over the smaller box's area (1.0 when one box lies inside the other)."""
    iw = min(a.right, b.right) - max(a.left, b.left)
    ih = min(a.bottom, b.bottom) - max(a.top, b.top)
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a.right - a.left) * (a.bottom - a.top), (b.right - b.left) * (b.bottom - b.top))
    return (iw * ih) / smaller if smaller > 0 else 0.0


def ink_stays_inside(before: np.ndarray, after: np.ndarray) -> bool:
    """Does a text line's ink in the crop `after` stay inside the rectangle its ink filled in
    `before` (same shape)? A line whose glyphs changed without reaching further (a clock's
    seconds, a counter going from 10 to 9) still fits the box drawn around it, with at least
    the room it had. Ink is the minority side of one Otsu threshold of both crops' grey
    (brightest channel), so a glyph that changed does not move the threshold for the glyphs
    that did not."""
    import cv2

    grey = np.ascontiguousarray(np.concatenate([to_grey(before), to_grey(after)], axis=0))
    if grey.size == 0 or grey.min() == grey.max():
        return grey.size > 0
    _, binary = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = binary.astype(bool)
    if ink.mean() > 0.5:
        ink = ~ink
    first, second = ink[:before.shape[0]], ink[before.shape[0]:]

    def extent(mask: np.ndarray) -> tuple[int, int, int, int] | None:
        rows, cols = np.flatnonzero(mask.any(axis=1)), np.flatnonzero(mask.any(axis=0))
        return (rows[0], cols[0], rows[-1], cols[-1]) if rows.size else None

    was, now = extent(first), extent(second)
    if now is None:
        return True
    return was is not None and was[0] <= now[0] and was[1] <= now[1] and now[2] <= was[2] and now[3] <= was[3]


def below_ink(line: np.ndarray, values: np.ndarray) -> bool:
    """Are all `values` (pixels, grey or colour) on the background side of the ink of the
    text line `line` (its box's pixels)? The line's grey (brightest channel) splits in two at
    its Otsu threshold; ink is the smaller side, and the level between the two sides' means
    divides ink from background (a two-level drawing splits at its first level, so the
    threshold alone would count any change above the background as ink). A line of one
    level has no ink to compare with: False."""
    import cv2

    grey = np.ascontiguousarray(to_grey(line))
    if grey.size == 0 or grey.min() == grey.max():
        return False
    _, binary = cv2.threshold(grey, 0, 1, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    upper = binary.astype(bool)
    level = (float(grey[upper].mean()) + float(grey[~upper].mean())) / 2
    others = to_grey(values)
    if upper.mean() <= 0.5:          # bright ink
        return bool((others < level).all())
    return bool((others > level).all())


def covered(a: TextBox, b: TextBox) -> bool:
    """Does one of the two boxes lie mostly (half its area or more) inside the other (the
    same line found twice)?"""
    return overlap(a, b) >= 0.5


def stacked_rows(bands: list[tuple[int, int]], i: int) -> tuple[int, int, int]:
    """(top, bottom, pad): the rows to read line `i` of lines stacked one above the other
    (`bands`: each one's [start, end) rows, top to bottom) with a margin `pad` of a quarter
    of its height (1 px at least) above and below it, up to halfway to the line before and
    the line after it. Not clamped to any box."""
    start, end = bands[i]
    pad = max(1, round((end - start) / 4))
    top = max(start - pad, (bands[i - 1][1] + start) // 2) if i else start - pad
    bottom = min(end + pad, (end + bands[i + 1][0] + 1) // 2) if i + 1 < len(bands) else end + pad
    return top, bottom, pad


def same_line(a: TextBox, b: TextBox) -> bool:
    """Are the two boxes one line found twice: covered, and each box's middle row inside the
    other's rows? A box grown over the top rows of the next line covers that line's own box
    in area, but the next line's middle lies below it."""
    return (covered(a, b) and b.top <= (a.top + a.bottom) / 2 < b.bottom
            and a.top <= (b.top + b.bottom) / 2 < a.bottom)


def merge_views(found: list[list[TextBox]], *, threshold: float = 0.5) -> list[TextBox]:
    """Union of the boxes read from several inks. A box that overlaps boxes read from an
    earlier ink (the same text read twice) replaces them only when it is more confident than
    all of them; boxes read from one ink never displace each other."""
    kept: list[TextBox] = []
    for boxes in found:
        earlier = list(kept)
        for box in boxes:
            clash = [k for k in earlier if overlap(k, box) >= threshold]
            if not clash:
                kept.append(box)
            elif all(box.confidence > k.confidence for k in clash):
                kept = [k for k in kept if k not in clash] + [box]
                earlier = [k for k in earlier if k not in clash]
    return kept


def merge_overlapping(items: list, meets, join) -> list:
    """Items (rectangles of any kind) with every overlapping pair joined, repeatedly, until
    none overlap: `meets(a, b)` says whether two overlap, `join(a, b)` gives their union."""
    items = list(items)
    merged = True
    while merged:
        merged = False
        out: list = []
        for item in items:
            for i, other in enumerate(out):
                if meets(item, other):
                    out[i] = join(item, other)
                    merged = True
                    break
            else:
                out.append(item)
        items = out
    return items


def reading_order(boxes: list[TextBox]) -> list[TextBox]:
    """Sort into lines (top to bottom), then left to right within a line.

    A box joins a line when their vertical extents overlap by at least half the smaller
    height (so a short mark such as '^' or '-' stays on the line of its word)."""
    lines: list[tuple[list[int], list[TextBox]]] = []     # ([top, bottom], boxes)
    for box in sorted(boxes, key=lambda b: (b.top, b.left)):
        for span, members in lines:
            shared = min(span[1], box.bottom) - max(span[0], box.top)
            if shared >= 0.5 * max(1, min(span[1] - span[0], box.bottom - box.top)):
                members.append(box)
                span[0], span[1] = min(span[0], box.top), max(span[1], box.bottom)
                break
        else:
            lines.append(([box.top, box.bottom], [box]))
    lines.sort(key=lambda line: line[0][0])
    return [box for _, members in lines for box in sorted(members, key=lambda b: b.left)]


def is_text(word: str) -> bool:
    """A word worth keeping: has at least one letter or digit."""
    return any(ch.isalnum() for ch in word)
