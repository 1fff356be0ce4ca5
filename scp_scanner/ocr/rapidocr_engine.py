"""PP-OCR (PP-OCRv6 small detector and recogniser) through RapidOCR's models on onnxruntime.

What RapidOCR gives, and what is ours:
- rapidocr 3.x ships the PP-OCRv6 ONNX models in its wheel (31 MB, Apache-2.0) and the
  pre/post-processing around them. The detector is the wheel's; the recogniser is ours by
  default, PP-OCRv6's fine-tuned for burned-in text (TUNED_RECOGNISER, docs/recogniser.md).
  We load the two model files ourselves, by explicit path,
  into onnxruntime sessions with one intra-op and one inter-op thread. The models' outputs are
  read as RapidOCR reads them (DB boxes, greedy CTC), in ocr/ppocr_decode.py: importing
  RapidOCR's own two functions loads its whole pipeline (0.6 s at every start). RapidOCR's
  `RapidOCR` class is not used: it resolves models through a table of download URLs and fetches a
  missing model or character list from the network. Here nothing can: a missing file is an
  EngineError naming it, and the recogniser's character list must be inside the model.
- An untouched `RapidOCR()` call scales every image so its short side is 736 px (detection
  ~0.2-0.4 s for a 512x512 image) and caps the long side at 2000 px, which shrinks 10 px text
  on a 2000x2500 CR until it vanishes. Here the detector reads each image at its own pixel
  size (reduced only as far as the smallest text line the ink shows allows; small images
  magnified), in bounded pieces; large images in windows around the lines of thin strokes
  that prepare.py locates (small text, magnified to the detector's working size) plus one
  reduced pass for large type; after every other stage, lines of small text the ink shows
  where nothing was read are detected again in windows magnified to the detector's working
  size, and smoothed where still not found (_small_lines: 6-9 px grey text over speckle).
  Both models' answers are kept by the exact bytes of their input (a detector piece, a line
  crop), so a further cine frame runs the detector only on pieces whose pixels changed and
  the recogniser only on lines whose crops changed; the rows are those of a full read by
  construction. Frame reuse (ocr/reuse.py) goes further with `read_in`: a further frame is
  read only in the areas where its lines or its picture changed, each area at the scale a
  whole read would use, and with `read_lines`: a line whose glyphs changed in place is
  recognised where it stands.
- Each kind of image is fed as the detector reads it best: frames as their display pixels
  (grey, MONOCHROME1 already inverted, RGB/YBR/palette already RGB, passed as BGR as the
  models were trained), overlays (set bits) as dark text on white, smoothed and magnified,
  with a margin.

Boxes are lines (PP-OCR recognises a line at a time; a detected box whose ink shows lines one
above the other is cut into them first, split_lines; a line the detector also saw alone
inside such a block is read where nothing else reads its place, holds_lines), in the
original image's pixel space,
confidence 0..100. From the recogniser's own output, a word misread by one letter is mended
with an English word prior (lexicon.py), and a date's month or an NHS / CHI number not of
its form is read as the likeliest reading that is (fields.py; `lexicon=False` stops both);
the screen's short words and the header's values are weighed likewise (labels.py,
expected.py). Then the text is mended by context and by the line's ink (line_text.py: the
shared fix-ups of fixups.py, a caret read as a capital, spaces read or lost).
"""
from __future__ import annotations

import hashlib
import math
from collections import OrderedDict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from itertools import combinations
from pathlib import Path

import numpy as np

from ..masks import component_boxes
from ..model import SOURCE_FRAME, Image, TextBox
from ..pii.given_names import GIVEN_NAMES
from ..process import libc
from ..registry import EngineError
from .confusions import space_gaps, true_runs
from .fixups import word_shape
from .dim import dark_ground, dim_lines, faint_lines, stretched
from .colour_text import (MIN_CHROMA, chroma, colour_lines, coloured_level, is_colour_frame, lines_by_colour,
                          on_black, paler_lines, unread_lines)
from .dim import margin as dim_margin
from .expected import NOTHING_EXPECTED, ExpectedWords, mend_expected
from .fields import mend_fields, mend_names
from .labels import dob_by_shape, mend_labels
from .lexicon import calibrated, load_lexicon, mend_words, read_as_one_word
from .line_text import (carets_from_ink, ink_columns, ink_of, label_spaces_from_ink, mend, spaces_for_marks,
                        spaces_from_ink, without_specks)
from .ppocr_decode import DbSettings, alphabet_of, ctc_greedy, db_boxes, sure_regions
from .prepare import (PREPARE, Region, covered, enlarge, inks, is_text,
                      mask_page, merge_overlapping, overlap, reading_order, regions_of, same_line, stacked_rows, stroke_lines,
                      to_grey)

DETECTOR_FILE = "PP-OCRv6_det_small.onnx"
RECOGNISER_FILE = "PP-OCRv6_rec_small.onnx"
MODEL_FILES = (DETECTOR_FILE, RECOGNISER_FILE)
INSTALL = "pip install 'rapidocr==3.10.0' onnxruntime"
# The recogniser read by default: PP-OCRv6's, its neck and head fine-tuned on small, lossy and
# coloured text lines drawn in the `tuning` font families and cut down to the 163 classes read
# here (scripts/recogniser/, docs/recogniser.md). It ships inside this package; the detector
# comes from the rapidocr wheel. A configured rapidocr_model_dir supplies both files instead
# (the rapidocr wheel's models/ folder gives the stock recogniser back).
TUNED_RECOGNISER = Path(__file__).resolve().parent / "models" / "ppocr_rec_latin.onnx"
# The recogniser is surer of its readings than it is right. The word prior (lexicon.py)
# weighs its output against word frequencies, both as probabilities, so it reads the output
# tempered by this temperature (lexicon.calibrated): the one that makes the true readings of
# labelled line crops likeliest (temperature scaling, fitted by
# scripts/recogniser/calibrate.py on lines drawn in the `extra` font families, which neither
# its training nor any reported corpus holds): mean negative log likelihood of a line's true
# text 3.84 at T 1, 3.10 at 1.5, 3.25 at 1.75 over 597 lines (seed 1041); 5.42 at 1, 4.25 at
# 1.5, 4.28 at 1.75 over 399 lines (seeds 3001-3002). Greedy readings do not change: each
# step's likeliest character stays the likeliest. The instance's header values
# (expected.py) are weighed on the tempered output too: a likelihood ratio against a prior
# means what it says only where the likelihoods are calibrated. The field forms and names
# (fields.py) read the output as it is: their prior UNFORMED was set against it, and a
# number typed without its check digit (test data) must stay as read, not drift to a valid
# one.
RECOGNISER_TEMPERATURE = 1.5

# Detection. Images whose long side is at most FULL_SIDE are detected whole at their own
# size; smaller than MIN_SIDE they are magnified (at most MAX_MAGNIFY) so small type reaches
# the detector's working size. Larger images: windows around the lines of thin strokes
# (prepare.stroke_lines) at their own size, magnified where their text is under
# DET_TEXT_HEIGHT, plus the whole image reduced to REDUCED_SIDE for large type; when the
# windows would cover most of the image, the whole image at its own size.
FULL_SIDE = 1280
REDUCED_SIDE = 640
MIN_SIDE = 512
MAX_MAGNIFY = 2.0
MAX_WINDOW_SHARE = 0.5
# The detector's memory grows with its input (its head works at full resolution: +86 MB for
# one 512x512 call), so it reads pieces of at most MAX_DET_PIXELS (at most MAX_DET_WIDTH
# wide), overlapping by DET_OVERLAP px, and the duplicates are merged (dedupe). onnxruntime's
# CPU arena reuses freed buffers (12 corpus files: 385 MB peak RSS with it, 415 MB without);
# its memory patterns (an allocation plan kept per input shape) are off, since every crop
# width is a new shape: over a 120-frame echo cine they grew the process by ~60 MB, and a
# 1955x1841 CR read after it peaked at 437 MB with them, 406 MB without. With 320x320
# pieces `scan --ocr rapidocr --pii spacy --rects` peaked at 405 MB over 12 real files.
MAX_DET_PIXELS = 320 * 320
MAX_DET_WIDTH = 1024
DET_OVERLAP = 48
CPU_ARENA = True
MEM_PATTERN = False
# RELEASE: the arena keeps what a piece's run needed (~40 MB at MAX_DET_PIXELS) for the next
# run. An image larger than FULL_SIDE brings its own large arrays (a 2500x2000 CR: 5 MB a
# plane, and the ink analysis's masks and labels), so the arena is handed back before such an
# image is decoded (make_room: one run of a 32x32 blank with onnxruntime's
# memory.enable_memory_arena_shrinkage) and after each detector run on it (the same option).
# A 2500x2000 CR's scan peaked at 420 MB RSS without, 398 MB with, for 0.9-1.7 s more on
# that 4-5 s scan (handing it back once, after its detection, left the peak at 416 MB: it is
# reached during detection). Smaller images keep it: handing it back after every run cost
# 3-14% of the time of 21 real files (two runs).
# Large text needs no full-size detection: the detector's input is reduced so that the
# smallest line the ink shows (prepare.py's glyph lines) stays DET_TEXT_HEIGHT px high, by at
# most MIN_DET_SCALE (the cost falls with the square). Crops are still recognised at full size.
DET_TEXT_HEIGHT = 12
MIN_DET_SCALE = 0.5
# DB post-processing: RapidOCR's defaults for PP-OCRv6, except the box score (0.5), which
# dropped short marks such as "C+" on JPEG ultrasound (tuned on corpus seeds 1 and 2).
DB_THRESH = 0.3
DB_BOX_THRESH = 0.3
DB_UNCLIP = 1.6
# A frame's detector pass in pieces: small text over busy picture. The detector weighs a
# piece as a whole, and speckle filling most of it lowers its response to small text in the
# rest: on a 640x480 RGB ultrasound frame with 7 px grey text over speckle that fills the
# frame (the varied generator's seed 881), the 156-row strip holding the banner gave one
# fragment; the same rows cut 60, 80 or 96 rows high gave every left-hand line, and with the
# speckle below the banner set to black, every line. So where the map of a frame's pass was
# as sure of text as RapidOCR's own box score asks (SURE_TEXT, its default box_thresh) and
# neither a line it found nor a line read by any stage meets that region, the rows round it
# (DET_OVERLAP each side) are detected again in full-width strips of BAND_STRIP rows (the
# least pieces() cuts), after the other stages (_found_again_in_bands). Tried first and not
# kept: every frame in strips of 96 rows (+12-20% time on the real files, pydicom's colour
# test patterns flagged); the bands' lines merged into the first pass's boxes before the
# other stages (lines those stages read whole were taken by fragments found in the bands);
# regions met by no line read, whether the detector had found a line there or not (+52%
# detector runs on the real files: lines whose reading the recogniser's floor drops).
SURE_TEXT = 0.5
BAND_STRIP = 2 * DET_OVERLAP
# Overlays: set bits drawn dark on white, inside a white margin (the detector misses text
# touching the border); smaller than MIN_SIDE, magnified by OVERLAY_MAGNIFY and smoothed.
# Magnifying 512 px overlays as well cost 4x the detection time for no gain (seeds 1-2).
OVERLAY_MAGNIFY = 2
OVERLAY_MARGIN = 16
# An overlay's text is its set bits and nothing else: the detector reads only windows around
# them (blocks of OVERLAY_BLOCK px holding ink, with the blocks next to them: at least
# OVERLAY_MARGIN px of white round the ink, as the whole page has), not the white page, unless
# the windows cover most of it (MAX_WINDOW_SHARE).
OVERLAY_BLOCK = 16
# Recognition: crops resized to REC_HEIGHT (the model's input height), at least
# REC_MIN_WIDTH wide (RapidOCR pads every crop to 320: 20 against 28 ms per line here, same
# text). On the CPU one crop per call (batches pad to the widest crop and cost more per line,
# measured 41 -> 60 ms per line at 8); on a GPU, REC_GPU_BATCH at a time.
REC_HEIGHT = 48
REC_MIN_WIDTH = 96
REC_GPU_BATCH = 16
# Cine frames mostly repeat: both models' answers are kept, keyed by the exact bytes and shape
# of what the model reads (a detector piece after scaling; a line crop), so a further frame
# runs the detector only on the pieces whose pixels changed and the recogniser only on the
# lines whose crops changed. Each model is a pure function of its input, so a cached answer
# is the answer a fresh call gives: the rows equal those of a full read by construction, and
# whatever decided the scale (the smallest ink line of the frame) is already in the bytes.
# (On the CPU each crop is recognised alone; on a GPU crops go in batches padded to the
# widest, so there a line's reading may depend on its batch, cached or not.) LRU, bounded by
# entries: a recognised line ~0.2 KB, a piece's boxes ~0.1 KB per box, so ~1 MB and ~2 MB at
# most (peak RSS of `scan --ocr rapidocr --pii spacy --rects` over 10 real files: the same
# with and without them, 393 MiB).
CACHE_SIZE = 4096
DET_CACHE_SIZE = 2048
# Frame reuse reads a further frame's changed areas (read_in); an area where a line reaches
# its edge is widened up to this many times before the frame is read whole instead. A large
# frame's detection windows (detect) are widened so too, and then taken as they are.
AREA_GROWTH = 2
MIN_AREA_SIDE = 160
# A line detected again in an area, in place of an earlier line whose pixels did not change
# (picture moved beside it), is that line when every side lies within this share of its
# height (STILL_JITTER_MIN px at least) of the earlier one's: the detector's box edges move
# by a pixel or two with the picture around a line (12 of 55 unchanged lines of dicomgen's
# RGB cine), and a glyph added to the line would move a side by half a height or more.
STILL_JITTER = 0.1
STILL_JITTER_MIN = 2
# A lone glyph's crop: this share of its height around it (the detector's own boxes grow a
# word by about as much: DB_UNCLIP).
LONE_GLYPH_MARGIN = 0.4
# More lone glyphs than this in one image are texture, not markers.
MAX_LONE_GLYPHS = 8
# A grey frame's bright marks (bright_marks): strokes narrower than MARK_STROKE pixels that
# stand at least MARK_CONTRAST levels (of 255) above what surrounds them. Both were set
# before measuring, not tuned: a regular face's stems are 1-3 px wide up to 21 px high, a
# bold face's 2-3 px up to 12 px (DejaVu Sans; a bold 21 px stem is 5 px, which the opening
# keeps: such a marker is left to lone_glyphs), and 40 levels is a sixth of the range.
# Bright grains of speckle pass too; they are left out as any lone glyph is (not alone, more
# than MAX_LONE_GLYPHS, or not read as a character at MIN_SINGLE_CHAR_SCORE).
MARK_STROKE = 5
MARK_CONTRAST = 40


def lone_glyphs(image: Image, boxes: list[TextBox]) -> list[tuple[int, int, int, int]]:
    """Glyphs of the image's text mask (pixels at the extreme stored value, or of a bright
    neutral or saturated colour: dicom/transforms.py) that stand alone: a text glyph's height
    (PREPARE.min_text_line_height up to 3 times that), no wider than high, no other mark of
    the mask within a glyph height of it, and outside every line read. As (top, left,
    bottom, right); none when there are more than MAX_LONE_GLYPHS (texture)."""
    if image.text_mask is None or image.source != SOURCE_FRAME:
        return []
    low = PREPARE.min_text_line_height
    return _standing_alone(image.text_mask, boxes, low, 3 * low)


def lone_marks(image: Image, boxes: list[TextBox], glyphs: list[tuple[int, int, int, int]]
               ) -> list[tuple[int, int, int, int]]:
    """On a grey frame, its bright marks (bright_marks) that stand alone as lone_glyphs'
    do, from PREPARE.min_glyph_height, and that none of `glyphs` overlaps: a marker drawn at
    a level that is not the extreme one (`L` at 210 over tissue at 155), or too small for
    lone_glyphs. As lone_glyphs; none when there are more than MAX_LONE_GLYPHS."""
    if image.source != SOURCE_FRAME or image.pixels.ndim != 2 or image.pixels.dtype != np.uint8:
        return []
    marks = _standing_alone(bright_marks(image.pixels), boxes, PREPARE.min_glyph_height,
                            3 * PREPARE.min_text_line_height)
    return [m for m in marks
            if not any(g[0] < m[2] and m[0] < g[2] and g[1] < m[3] and m[1] < g[3] for g in glyphs)]


def bright_marks(grey: np.ndarray) -> np.ndarray:
    """Pixels of a uint8 grey frame at least MARK_CONTRAST levels above its opening by a
    MARK_STROKE square: what a glyph's strokes (narrower than the square) add to the
    brightness around them, at whatever level the glyph was drawn."""
    import cv2

    opened = cv2.morphologyEx(grey, cv2.MORPH_OPEN, np.ones((MARK_STROKE, MARK_STROKE), np.uint8))
    return cv2.subtract(grey, opened) >= MARK_CONTRAST


def _standing_alone(mask: np.ndarray, boxes: list[TextBox], low: int, high: int
                    ) -> list[tuple[int, int, int, int]]:
    """Components of the mask from low to high pixels high, no wider than high, with no
    other mark of the mask within their height and outside every line read; none when
    there are more than MAX_LONE_GLYPHS."""
    found = component_boxes(mask)
    if not len(found):
        return []
    heights, widths = found[:, 2] - found[:, 0], found[:, 3] - found[:, 1]
    candidates = np.flatnonzero((heights >= low) & (heights <= high) & (widths <= heights))
    marks = found[(heights >= 2) | (widths >= 2)]
    out = []
    for k in candidates.tolist():
        top, left, bottom, right = found[k].tolist()
        reach = bottom - top
        near = ((marks[:, 0] < bottom + reach) & (marks[:, 2] > top - reach)
                & (marks[:, 1] < right + reach) & (marks[:, 3] > left - reach))
        if near.sum() > 1:                      # itself, and something else nearby
            continue
        if any(b.left < right + 2 and left - 2 < b.right and b.top < bottom + 2 and top - 2 < b.bottom
               for b in boxes):
            continue
        out.append((top, left, bottom, right))
    return out if len(out) <= MAX_LONE_GLYPHS else []


# A line must be read at least this confidently (0..100) to count; a single character more so.
MIN_SCORE = 50.0
MIN_SINGLE_CHAR_SCORE = 80.0
# Marks drawn with crossing strokes or a closed loop, which a speck, a dot of noise or the
# straight edge of a picture does not make: one of them beside a letter or a digit is a
# second glyph (`C+`, contrast, on a screen's corner; `5%`), so such a line is read at
# MIN_SCORE, as any line of two glyphs is. A dot, a stroke or a bracket read beside one
# character (`I.`, `1)`) may be noise's, and that line still counts as a single character.
GLYPH_MARKS = frozenset("+#%&@*$")


def glyph_count(text: str) -> int:
    """The glyphs a reading shows for the single-character floor: its letters and digits,
    and its GLYPH_MARKS."""
    return sum(ch.isalnum() or ch in GLYPH_MARKS for ch in text)


# A detected box whose ink shows lines of text one above the other is read as those lines
# (split_lines): the detector joins small lines set a few pixels apart into one box, which the
# recogniser, reading one line at a time, reads as a scrap of one of them. Lines taller than
# this (view pixels at scale 1) are never joined so: a box with taller runs of ink holds
# texture, not stacked text.
SPLIT_JOINED_LINES = True
# A box at least this many times as high as a box inside it is a block of lines round that
# line, not the same text (holds_lines): one line's box is never twice its own height. The
# line itself must be at least LINE_ASPECT times as wide as high (a line of text, not a
# glyph or a speck inside an anatomy box).
BLOCK_LINES = 2
LINE_ASPECT = 2
MAX_JOINED_LINE = 3 * DET_TEXT_HEIGHT
# Cutting a box's lines apart over speckle (dense_rows): its rows' shares of inked columns
# at these quantiles stand for the background between lines and for the lines themselves;
# the lines must ink BAND_CONTRAST times the background's share, and the background at least
# MIN_GRAIN of its row (below that, blank rows cut the lines apart); two lines are two where
# a row between them falls to GAP_LEVEL of the span above the background. Measured: 4.7
# times for held-out varied 1447's grey date between two lines over speckle; 2.06 for
# single lines on backgrounds lit unevenly (varied 757's grey JPEG, 1283's MR), whose
# threshold cut across the background and which were cut into garbage at 2.
BACKGROUND_ROWS = 0.2
LINE_ROWS = 0.8
BAND_CONTRAST = 3.0
MIN_GRAIN = 0.02
GAP_LEVEL = 0.2
# The share of a box's ink that is coloured at which its lines are left to the colour pass,
# not cut over speckle (split_lines): 0.40-0.62 for 9-13 px green, cyan and magenta text over
# speckle at JPEG 50 (the tests' speckle_with_coloured_text), where the grey view's cut lines
# read worse than the colour pass does on black; 0 for held-out varied 1447's grey text.
COLOURED_INK = 0.1


@dataclass(frozen=True, eq=False)
class View:
    """What the detector reads: uint8 BGR pixels (grey: one channel, see _bgr), and how they
    map to the original image: original = (view - margin) / scale."""

    pixels: np.ndarray
    scale: float
    margin: int = 0

    def to_original(self, left: float, top: float, right: float, bottom: float,
                    height: int, width: int) -> tuple[int, int, int, int]:
        s, m = self.scale, self.margin
        box = (math.floor((left - m) / s), math.floor((top - m) / s),
               math.ceil((right - m) / s), math.ceil((bottom - m) / s))
        return (max(0, min(width, box[0])), max(0, min(height, box[1])),
                max(0, min(width, box[2])), max(0, min(height, box[3])))

    def rect(self, top: float, left: float, bottom: float, right: float, pad: float = 0,
             clamp: bool = False) -> Rect:
        """The view pixels over [top, bottom) x [left, right) of the image, grown by `pad`
        image pixels on every side (to_original's inverse); clamp: cut to the view."""
        s, m = self.scale, self.margin
        rect = Rect(int((left - pad) * s) + m, int((top - pad) * s) + m,
                    math.ceil((right + pad) * s) + m, math.ceil((bottom + pad) * s) + m)
        if not clamp:
            return rect
        return rect.clipped(*self.pixels.shape[:2])


@dataclass(frozen=True)
class Rect:
    """[left, right) x [top, bottom) in view pixels."""

    left: int
    top: int
    right: int
    bottom: int

    @property
    def area(self) -> int:
        return max(0, self.right - self.left) * max(0, self.bottom - self.top)

    def moved(self, left: int, top: int) -> Rect:
        """The rectangle of a piece's pixels in the pixels of the area whose (left, top) the
        piece starts at."""
        return Rect(self.left + left, self.top + top, self.right + left, self.bottom + top)

    def clipped(self, height: int, width: int) -> Rect:
        """The part inside a height x width view."""
        return Rect(max(0, self.left), max(0, self.top), min(width, self.right), min(height, self.bottom))


# What the detector gives for a piece: its text boxes, and the regions its map is sure of
# text in (SURE_TEXT), both in the piece's pixels.
Detection = tuple[tuple[Rect, ...], tuple[Rect, ...]]


def _bgr(pixels: np.ndarray) -> np.ndarray:
    """What the models read: BGR for colour; grey stays one channel (the image's own array,
    not copied), its three equal channels made only for each piece or line handed to a
    model (a 2500x2000 CR's view was 15 MB of BGR; the readings are the same)."""
    if pixels.ndim == 2:
        return pixels
    return np.ascontiguousarray(pixels[:, :, ::-1])


def _channels_first(pixels: np.ndarray) -> np.ndarray:
    """(channels, height, width) of a BGR or grey area: grey read as three equal channels."""
    if pixels.ndim == 2:
        return np.broadcast_to(pixels, (3,) + pixels.shape)
    return pixels.transpose(2, 0, 1)


def detector_input(pixels: np.ndarray, buffer: np.ndarray | None) -> tuple[np.ndarray, np.ndarray]:
    """The detector's input for a BGR or grey piece: (1, 3, H, W) float32, each pixel
    x / 127.5 - 1, grey as three equal channels; the network wants sides in multiples of 32,
    so the edge pixels are repeated (no new edges). Written into `buffer`, which is returned
    too, grown when too small: a piece is at most ~MAX_DET_PIXELS, so one buffer of ~1.5 MB
    serves every run, where fresh arrays for each step (padding, float, scaling, channels
    first: ~6 MB a piece) were new pages from the system every time (1.1 GB of page faults
    over 21 real files). The values are those of `np.pad(..., mode="edge").astype(np.float32)
    / 127.5 - 1.0`, bit for bit."""
    height, width = pixels.shape[:2]
    ph, pw = -(-height // 32) * 32, -(-width // 32) * 32
    size = 3 * ph * pw
    if buffer is None or buffer.size < size:
        buffer = np.empty(size, np.float32)
    out = buffer[:size].reshape(1, 3, ph, pw)
    inside = out[0, :, :height, :width]
    if pixels.ndim == 2:
        np.divide(pixels, np.float32(127.5), out=inside[0])
        inside[1:] = inside[0]
    else:
        for channel in range(3):
            np.divide(pixels[:, :, channel], np.float32(127.5), out=inside[channel])
    np.subtract(inside, np.float32(1.0), out=inside)
    out[0, :, :height, width:] = out[0, :, :height, width - 1:width]
    out[0, :, height:, :] = out[0, :, height - 1:height, :]
    return out, buffer


def _magnify(pixels: np.ndarray, scale: float) -> np.ndarray:
    import cv2

    height, width = pixels.shape[:2]
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    return cv2.resize(pixels, size, interpolation=cv2.INTER_CUBIC)


# Speckle and JPEG grain a pixel wide, over which the detector finds no line of small text
# (a colour ultrasound's 8 px grey header over speckle: no line at 1.5x to 3x), are blurred
# away by a Gaussian of this sigma (view pixels, after magnifying); text strokes, magnified,
# are wider and stay.
SMOOTH_SIGMA = 0.8


def smoothed(pixels: np.ndarray) -> np.ndarray:
    """The pixels blurred by a 3x3 Gaussian of SMOOTH_SIGMA."""
    import cv2

    return cv2.GaussianBlur(pixels, (3, 3), SMOOTH_SIGMA)


def view_of(image: Image) -> View:
    """The pixels the detector and recogniser read for this image."""
    if image.source != SOURCE_FRAME:
        # Overlay planes: set bits are the text. Dark on white, the jagged 1-bit edges smoothed
        # as they are enlarged (prepare.enlarge), with a white margin.
        mask = image.text_mask if image.text_mask is not None else image.pixels > 0
        page = mask_page(mask)
        scale = OVERLAY_MAGNIFY if max(image.height, image.width) < MIN_SIDE else 1
        page = enlarge(page, scale, binary=True) if scale > 1 else page
        page = np.pad(page, OVERLAY_MARGIN, constant_values=255)
        return View(_bgr(page), float(scale), OVERLAY_MARGIN)
    pixels = image.pixels
    long_side = max(image.height, image.width, 1)
    scale = 1.0
    if long_side < MIN_SIDE:
        scale = min(MAX_MAGNIFY, MIN_SIDE / long_side)
        pixels = _magnify(pixels, scale)
    return View(_bgr(pixels), scale)


def scaled(rect: Rect, factor: float, height: int, width: int) -> Rect:
    """A box found on pixels reduced by `factor`, in the unreduced pixels."""
    return Rect(int(rect.left / factor), int(rect.top / factor), min(width, math.ceil(rect.right / factor)),
                min(height, math.ceil(rect.bottom / factor)))


def merge_rects(rects: list[Rect]) -> list[Rect]:
    """Union of overlapping rectangles, repeated until none overlap."""
    return merge_overlapping(
        rects, lambda a, b: a.left < b.right and b.left < a.right and a.top < b.bottom and b.top < a.bottom,
        lambda a, b: Rect(min(a.left, b.left), min(a.top, b.top), max(a.right, b.right), max(a.bottom, b.bottom)))


def ink_windows(page: np.ndarray, block: int = OVERLAY_BLOCK) -> list[Rect]:
    """Windows of a dark-on-white page (an overlay's view) holding all its ink: the blocks of
    `block` px that hold a non-white pixel, grown by one block on every side, overlapping
    windows merged; none for a blank page."""
    import cv2

    ink = page < 255
    if ink.ndim == 3:
        ink = ink.any(axis=2)
    height, width = ink.shape
    rows, cols = -(-height // block), -(-width // block)
    padded = np.zeros((rows * block, cols * block), bool)
    padded[:height, :width] = ink
    grid = padded.reshape(rows, block, cols, block).any(axis=(1, 3)).astype(np.uint8)
    if not grid.any():
        return []
    grown = cv2.dilate(grid, np.ones((3, 3), np.uint8))
    count, _, stats, _ = cv2.connectedComponentsWithStats(grown, connectivity=8)
    return merge_rects([Rect(int(x) * block, int(y) * block, min(width, int(x + w) * block),
                             min(height, int(y + h) * block))
                        for x, y, w, h, _ in stats[1:count]])


def small_text_magnification(window: Rect, thin: list[tuple[Rect, int]]) -> float:
    """How much a window is magnified for the detector: so that the smallest line of thin
    strokes inside it (its window, its text height) reaches DET_TEXT_HEIGHT px, at most
    MAX_MAGNIFY times; 1 for a window without such a line."""
    heights = [height for rect, height in thin if window.left <= rect.left and rect.right <= window.right
               and window.top <= rect.top and rect.bottom <= window.bottom]
    return min(MAX_MAGNIFY, max(1.0, DET_TEXT_HEIGHT / min(heights))) if heights else 1.0


def reaches_edge(rect: Rect, window: Rect, height: int, width: int) -> bool:
    """A line detected in a window of a height x width view touches one of the window's
    sides that is not the view's own: it may go on outside the window."""
    return ((rect.left <= window.left + 1 and window.left > 0) or (rect.top <= window.top + 1 and window.top > 0)
            or (rect.right >= window.right - 1 and window.right < width)
            or (rect.bottom >= window.bottom - 1 and window.bottom < height))


def widened(window: Rect, reach: list[Rect]) -> Rect:
    """A window grown on every side by twice the tallest of the lines that reach its edge
    (16 px at least), so that they fit."""
    grow = max(16, 2 * max(r.bottom - r.top for r in reach))
    return Rect(window.left - grow, window.top - grow, window.right + grow, window.bottom + grow)


def window_of(region: Region, view: View) -> Rect:
    """A line's window in view pixels: the line with a margin of two text heights and 8 px."""
    height, width = view.pixels.shape[:2]
    pad = 2 * region.glyph_height + 8
    s, m = view.scale, view.margin
    return Rect(max(0, int((region.left - pad) * s) + m), max(0, int((region.top - pad) * s) + m),
                min(width, int((region.right + pad) * s) + m), min(height, int((region.bottom + pad) * s) + m))


def ink_regions(image: Image) -> list[list[Region] | None]:
    """The regions of each of the image's inks (prepare.regions_of: None for an ink that
    shows only texture), worked out once for the functions below that take them."""
    return [regions_of(ink) for ink in inks(image)]


def text_lines(image: Image, regions: list[list[Region] | None] | None = None) -> list[Region] | None:
    """The lines of text the image's ink shows (prepare.Region.text_like: 3+ glyphs of
    annotation size in one line; speckle makes single blobs), or None where an ink shows
    only texture (regions_of): then the text's size is unknown. `regions`: ink_regions'."""
    per_ink = ink_regions(image) if regions is None else regions
    if any(found is None for found in per_ink):
        return None
    return [r for found in per_ink for r in found if r.text_like]


def smallest_text(image: Image, regions: list[list[Region] | None] | None = None) -> int | None:
    """The height (original pixels) of the smallest line of text the image's ink shows
    (text_lines), or None when the ink shows none, or only texture."""
    lines = text_lines(image, regions)
    return min(r.glyph_height for r in lines) if lines else None


def small_ink_lines(image: Image, view: View) -> list[Region]:
    """The lines of text the image's ink shows (text_lines) smaller in the view than
    DET_TEXT_HEIGHT; none where an ink shows only texture."""
    return [r for r in text_lines(image) or [] if r.glyph_height * view.scale < DET_TEXT_HEIGHT]


SMALL_ROW_GLYPHS = 5


def smaller_glyph_rows(image: Image, regions: list[list[Region] | None] | None = None) -> bool:
    """Whether the image's ink shows a row of SMALL_ROW_GLYPHS or more glyphs, on one line,
    smaller than annotation size (prepare.Region.text_like's least height): text of a 7 px
    face (a 5 px cap height) is such a row, and a detector's input reduced for larger text
    loses it. Five, not text_like's three: a name, a date or an ID runs to six characters or
    more, while a cine's speckle lines up three blobs of one height now and then (two such
    rows on one frame of the generator's RGB cine, none on the next), and the scale decided
    here would flip from frame to frame, so each further frame is detected afresh.
    `regions`: ink_regions'."""
    per_ink = ink_regions(image) if regions is None else regions
    return any(r.glyphs >= SMALL_ROW_GLYPHS and r.single_line and r.glyph_height < PREPARE.min_text_line_height
               for found in per_ink for r in found or [])


def detection_scale(image: Image, view: View) -> float:
    """How much the detector's input may be reduced: so that the smallest text the ink shows
    stays DET_TEXT_HEIGHT px high (never below MIN_DET_SCALE; 1 when the size is unknown, or
    when rows of glyphs smaller than annotation size may be text: smaller_glyph_rows)."""
    regions = ink_regions(image)
    smallest = smallest_text(image, regions)
    if smallest is None or smallest * view.scale <= DET_TEXT_HEIGHT / 0.95 or smaller_glyph_rows(image, regions):
        return 1.0
    return float(min(1.0, max(MIN_DET_SCALE, DET_TEXT_HEIGHT / (smallest * view.scale))))


def pieces(height: int, width: int, strip: int | None = None) -> list[Rect]:
    """Overlapping pieces of at most MAX_DET_PIXELS covering a height x width area: full-width
    strips (text lines run sideways, so strips overlapping by more than a line's height keep
    every line whole in one of them), cut into columns only when wider than MAX_DET_WIDTH.
    `strip`: the strips' height instead (at least 2 * DET_OVERLAP)."""
    cols = 1 if width <= MAX_DET_WIDTH else math.ceil((width - DET_OVERLAP) / (MAX_DET_WIDTH - DET_OVERLAP))
    piece_w = math.ceil((width + (cols - 1) * DET_OVERLAP) / cols)
    strip = max(2 * DET_OVERLAP, strip or MAX_DET_PIXELS // max(1, piece_w))
    rows = 1 if height <= strip else math.ceil((height - DET_OVERLAP) / (strip - DET_OVERLAP))
    piece_h = math.ceil((height + (rows - 1) * DET_OVERLAP) / rows)

    def starts(count: int, size: int, total: int) -> list[int]:
        return [min(i * (size - DET_OVERLAP), max(0, total - size)) for i in range(count)]

    return [Rect(x, y, min(width, x + piece_w), min(height, y + piece_h))
            for y in starts(rows, piece_h, height) for x in starts(cols, piece_w, width)]


def line_bands(ink: np.ndarray, min_height: float, max_height: float,
               dense: Callable[[], bool] = lambda: True) -> list[tuple[int, int]]:
    """The rows [start, end) of each line of text a detected box holds, from its ink (ink_of;
    specks left out, line_text.without_specks):
    runs of inked rows at least `min_height` and half the tallest run high (an i's dot, an
    accent, a neighbouring line's descenders cut at the box's edge are lower) that hold two
    glyphs or more side by side (a single glyph's parts are no lines); none when a run is
    taller than `max_height` (texture: anatomy, a sector's speckle) or there is one run.
    Where those give fewer than two lines and `dense()` holds (the ink is not coloured),
    the runs of rows that speckle inks throughout are cut by their shares of ink
    (dense_rows)."""
    ink = without_specks(ink)
    bands = _tall_enough(true_runs(ink.any(axis=1)), min_height, max_height,
                         lambda start, end: len(true_runs(ink[start:end].any(axis=0))) >= 2)
    if len(bands) < 2 and dense():
        # Over speckle every row may hold ink: the rows' shares of it tell the lines apart.
        shares = _tall_enough(dense_rows(ink), min_height, max_height, lambda start, end: True)
        if len(shares) >= 2:
            return shares
    return bands


def _tall_enough(runs: list[tuple[int, int]], min_height: float, max_height: float,
                 glyphs: Callable[[int, int], bool]) -> list[tuple[int, int]]:
    """line_bands' runs that are lines: none where there is one run or one is taller than
    `max_height`; else those `min_height` and half the tallest high, where `glyphs` holds."""
    if len(runs) < 2:
        return []
    tallest = max(end - start for start, end in runs)
    if tallest > max_height:
        return []
    return [(start, end) for start, end in runs if end - start >= max(min_height, tallest / 2)
            and glyphs(start, end)]


def dense_rows(ink: np.ndarray) -> list[tuple[int, int]]:
    """The [start, end) runs of a box's rows that hold a line's ink where speckle or grain
    inks every row (line_bands finds no blank row between lines): a projection profile with
    hysteresis. A row belongs to a line where its share of inked columns reaches halfway from
    the background's share (the box's BACKGROUND_ROWS quantile) to the lines' (its
    LINE_ROWS quantile); two such runs are two lines only where a row between them falls
    to within GAP_LEVEL of that span above the background (a line's rows between its
    letters' bars still hold their stems), else they are one run, the rows between them
    included; runs at the box's top or bottom row are left out. None on a clean background
    (no speckle: line_bands' blank rows decide) or where the lines' share is not
    BAND_CONTRAST times the background's (a background lit unevenly, which Otsu's
    threshold cuts across: about twice)."""
    if ink.shape[0] < 2 or ink.shape[1] < 2:
        return []
    share = ink.mean(axis=1)
    background, lines = np.quantile(share, [BACKGROUND_ROWS, LINE_ROWS])
    if background < MIN_GRAIN or lines < BAND_CONTRAST * background:
        return []
    inked = true_runs(share >= (background + lines) / 2)
    gap_level = background + GAP_LEVEL * (lines - background)
    runs: list[tuple[int, int]] = []
    for start, end in inked:
        if runs and share[runs[-1][1]:start].min() > gap_level:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    # A line lies inside its box: a run at the box's edge is a neighbouring line's part cut
    # there, or texture round the box (a CR's noise, a lit background's gradient).
    return [(start, end) for start, end in runs if start > 0 and end < len(share)]


def split_lines(pixels: np.ndarray, rects: list[Rect], min_height: float,
                max_height: float) -> list[Rect]:
    """Detected boxes (view pixels) with each box whose ink shows two lines or more (the
    detector joins small lines set close together: `C+` over `Fr 1`, a name over an NHS
    number, read as `F` and `NS45`) cut into one box per line: the line's rows with a margin
    of a quarter of its height that stays clear of the next line, and its own inked columns
    with twice that; a line cut out that another box holds is read once, in that box."""
    whole: list[Rect] = []
    cut: list[Rect] = []
    for rect in rects:
        crop = pixels[rect.top:rect.bottom, rect.left:rect.right]
        ink = ink_of(crop)
        bands = line_bands(ink, min_height, max_height, dense=lambda: not coloured_ink(crop, ink))
        if len(bands) < 2:
            whole.append(rect)
            continue
        for i, (start, end) in enumerate(bands):
            top, bottom, pad = stacked_rows(bands, i)
            top, bottom = max(0, top), min(rect.bottom - rect.top, bottom)
            # Its own columns: a neighbour's part in the box then lies inside the neighbour's box.
            inked = np.flatnonzero(ink[start:end].any(axis=0))
            left = max(0, int(inked[0]) - 2 * pad)
            right = min(rect.right - rect.left, int(inked[-1]) + 1 + 2 * pad)
            cut.append(Rect(rect.left + left, rect.top + top, rect.left + right, rect.top + bottom))
    if not cut:
        return rects
    # A line cut out of one box that another box (or a larger cut) holds is that box's line.
    kept = list(whole)
    for rect in sorted(dict.fromkeys(cut), key=lambda r: -r.area):
        if not any(overlap_share(rect, other) >= 0.6 for other in kept):
            kept.append(rect)
    return kept


def coloured_ink(crop: np.ndarray, ink: np.ndarray) -> bool:
    """Is COLOURED_INK or more of a crop's ink (RGB) coloured, at MIN_CHROMA? Coloured text
    over speckle is the colour pass's to find and read (_with_colour_text), on black."""
    if crop.ndim != 3 or crop.shape[2] < 3 or not ink.any():
        return False
    return float((chroma(crop)[ink] >= MIN_CHROMA).mean()) >= COLOURED_INK


def overlap_share(a: Rect, b: Rect) -> float:
    """Intersection over the smaller rectangle's area."""
    iw = min(a.right, b.right) - max(a.left, b.left)
    ih = min(a.bottom, b.bottom) - max(a.top, b.top)
    if iw <= 0 or ih <= 0:
        return 0.0
    return iw * ih / max(1, min(a.area, b.area))


def same_line_touching(a: Rect, b: Rect) -> bool:
    """Two pieces of one line cut at a tile seam: vertically aligned and touching sideways."""
    ih = min(a.bottom, b.bottom) - max(a.top, b.top)
    shorter = max(1, min(a.bottom - a.top, b.bottom - b.top))
    return ih >= 0.7 * shorter and min(a.right, b.right) >= max(a.left, b.left)


def holds_lines(block: Rect, line: Rect) -> bool:
    """Is `block` a box of several lines round `line` (at least BLOCK_LINES times as high), not
    the same text? The detector joins small lines set close together into one box (over
    speckle, where their ink cannot be cut apart: split_lines), while seeing one of them on
    its own as well; that line is kept and read, not taken for a part of the block."""
    height = line.bottom - line.top
    return block.bottom - block.top >= BLOCK_LINES * height and line.right - line.left >= LINE_ASPECT * height


def covered_by(image: Image, view: View, rect: Rect, boxes: Iterable[TextBox]) -> bool:
    """Does one of `boxes` (image pixels) cover the line `rect` (view pixels), or lie in it
    (prepare.covered)?"""
    line = TextBox("", *view.to_original(rect.left, rect.top, rect.right, rect.bottom,
                                         image.height, image.width))
    return any(covered(line, box) for box in boxes)


def regions_unmet(regions: list[Rect], lines: list[Rect]) -> list[Rect]:
    """The regions that none of the lines meets."""
    return [region for region in regions if not any(overlap_share(region, line) > 0 for line in lines)]


def bands_round(regions: list[Rect], height: int, width: int) -> list[Rect]:
    """Full-width bands of a height x width area round `regions`: DET_OVERLAP rows above and
    below each, bands that meet merged."""
    return merge_rects([Rect(0, max(0, r.top - DET_OVERLAP), width, min(height, r.bottom + DET_OVERLAP))
                        for r in regions])


def fragment_of(rect: Rect, line: Rect) -> bool:
    """Is `rect` a piece of `line`: mostly inside it, less than half as wide, and more than
    half as high (a piece of the same line, not a line of a block of two or more)?"""
    return (overlap_share(rect, line) >= 0.6 and 2 * (rect.right - rect.left) < line.right - line.left
            and 2 * (rect.bottom - rect.top) > line.bottom - line.top)


def stacked(a: TextBox, b: TextBox) -> bool:
    """Are the two boxes lines one above the other: neither's middle row inside the other's
    rows?"""
    return not (b.top <= (a.top + a.bottom) / 2 < b.bottom or a.top <= (b.top + b.bottom) / 2 < a.bottom)


def _rect_of(box: TextBox) -> Rect:
    """A box's rectangle (image pixels) as a Rect."""
    return Rect(box.left, box.top, box.right, box.bottom)


def lines_found_again(found: list[Rect], again: list[Rect]) -> list[Rect]:
    """The lines of a second look at a place (`again`) that a first look (`found`) lacks: a
    line found again is dropped where a line found before holds most of it, unless that one
    is a fragment of it (fragment_of: the line found again then stands for it)."""
    return [line for line in again
            if not any(overlap_share(line, rect) >= 0.6 and not fragment_of(rect, line) for rect in found)]


def dedupe(boxes: list[tuple[Rect, int]], coarse: list[Rect] = ()) -> list[Rect]:
    """Boxes detected in overlapping pieces ((rect, piece number) pairs): a box lying mostly
    inside another is the same text (the larger kept), and parts of one line cut at a seam
    of different pieces are joined. Boxes of a reduced pass (`coarse`: blurred, whole text
    blocks as one box) count only where no box at full size was found. A box inside a block
    of lines round it (holds_lines) is kept as well, after the others, where no other box of
    about its height holds it; it changes none of the others (_lines reads it only where
    nothing else reads its place)."""
    kept: list[tuple[Rect, int]] = []
    held: list[Rect] = []
    for rect, source in sorted(boxes, key=lambda item: -item[0].area):
        for i, (other, other_source) in enumerate(kept):
            if overlap_share(rect, other) >= 0.6:
                if holds_lines(other, rect):
                    held.append(rect)
                break
            if source != other_source and same_line_touching(rect, other):
                kept[i] = (Rect(min(rect.left, other.left), min(rect.top, other.top),
                                max(rect.right, other.right), max(rect.bottom, other.bottom)), other_source)
                break
        else:
            kept.append((rect, source))
    fine = [rect for rect, _ in kept]
    fine += [rect for rect in coarse if not any(overlap_share(rect, other) > 0 for other in fine)]
    for line in held:                               # larger first, as sorted above
        if not any(overlap_share(line, other) >= 0.6 and not holds_lines(other, line)
                   for other in fine):
            fine.append(line)
    return fine




# The recogniser's alphabet is PP-OCR's multilingual one (18,708 characters, mostly CJK);
# burned-in DICOM text is Latin. Characters outside ASCII and the Latin-1 letters are never
# chosen (their scores are zeroed before decoding), so speckle cannot read as CJK.
def latin(character: str) -> bool:
    return len(character) == 1 and (32 <= ord(character) < 127 or character in "°µ±²³"
                                     or (0xC0 <= ord(character) <= 0xFF and character.isalpha()))


def char_steps(indices: np.ndarray) -> list[int]:
    """The time step of each character that CTC decoding emits (repeats collapsed, blanks,
    index 0, dropped), as ppocr_decode.ctc_greedy decodes."""
    keep = indices != 0
    keep[1:] &= indices[1:] != indices[:-1]
    return np.flatnonzero(keep).tolist()


def char_positions(steps: list[int], step: float) -> list[float]:
    """Each character's x in its crop: the middle of its CTC time step, `step` crop pixels
    a time step."""
    return [(t + 0.5) * step for t in steps]


_TRIM = getattr(libc(), "malloc_trim", None)   # not glibc: nothing to do


def release_freed_memory() -> None:
    """Hand the heap memory freed while reading one image back to the system (glibc keeps
    it otherwise: a 120-frame echo cine before a 1955x1841 CR raised that CR's peak RSS from
    406 to 441 MB, over the 400 MiB budget of `scan`)."""
    if _TRIM is not None:
        _TRIM(0)


def stock_model_dir() -> Path:
    """The rapidocr wheel's models/ folder. Raises EngineError when rapidocr is missing."""
    try:
        import rapidocr
    except ImportError:
        raise EngineError(f"rapidocr is not installed; install it with: {INSTALL} "
                          "(or pip install 'scp-scanner')") from None
    return Path(rapidocr.__file__).resolve().parent / "models"


def find_model_dir(model_dir: str | None) -> Path:
    """The folder holding both model files: configured, else the rapidocr wheel's models/.
    Raises EngineError naming the missing file and how to install it."""
    if model_dir:
        folder = Path(model_dir).expanduser()
        where = f"the configured rapidocr model folder {folder}"
    else:
        folder = stock_model_dir()
        where = f"the rapidocr package's models folder {folder}"
    for name in MODEL_FILES:
        if not (folder / name).is_file():
            raise EngineError(f"{where} lacks {name}; reinstall the models with: "
                              f"pip install --force-reinstall {INSTALL.removeprefix('pip install ')}"
                              + ("" if not model_dir else f", or put {name} in {folder}"))
    return folder


def choose_providers(gpu: bool | str | None, available: list[str]) -> tuple[list, str]:
    """onnxruntime providers from the configured `gpu` value (auto|cpu|cuda|cuda:N, or a
    bool): auto takes CUDA when onnxruntime-gpu offers it, cuda demands it. Returns the
    providers list and a description."""
    word = str(gpu).strip().lower() if gpu is not None else "auto"
    cuda = "CUDAExecutionProvider" in available
    if word in ("false", "no", "off", "0", "cpu"):
        return ["CPUExecutionProvider"], "cpu"
    if word in ("", "auto", "none"):
        if not cuda:
            return ["CPUExecutionProvider"], "cpu"
        return [("CUDAExecutionProvider", {"device_id": 0}), "CPUExecutionProvider"], "cuda:0"
    device = 0
    if word.startswith("cuda:"):
        device = int(word.split(":", 1)[1])
    elif word not in ("true", "yes", "on", "1", "cuda", "gpu"):
        raise EngineError(f"rapidocr gpu must be auto, cpu, cuda or cuda:N, not {gpu!r}")
    if not cuda:
        raise EngineError(f"rapidocr gpu is set to {gpu!r} but onnxruntime offers no CUDAExecutionProvider "
                          "(install it with: pip install 'scp-scanner[gpu]'); set gpu to cpu or auto")
    return [("CUDAExecutionProvider", {"device_id": device}), "CPUExecutionProvider"], f"cuda:{device}"


def digest(pixels: np.ndarray) -> bytes:
    """A key for a model input: its exact bytes, shape and type."""
    return hashlib.blake2b(np.ascontiguousarray(pixels).tobytes(), digest_size=16,
                           person=f"{pixels.shape}{pixels.dtype}".encode()[:16]).digest()


@dataclass
class ModelCalls:
    """How often each model ran (cache hits excluded); for tests and benchmarks, never timed."""

    detector: int = 0
    recogniser: int = 0         # lines recognised


class RapidOcrEngine:
    """PP-OCRv6 on onnxruntime, both models loaded in the constructor (~0.3 s)."""

    name = "rapidocr"

    def __init__(self, *, rapidocr_model_dir: str | None = None, gpu: bool | str | None = None,
                 min_confidence: float | None = None, threads: int | None = None,
                 model_cache: bool = True, lexicon: bool = True, header_words: bool = True,
                 screen_words: bool = True, **_ignored):
        folder = find_model_dir(rapidocr_model_dir or None)
        recogniser = folder / RECOGNISER_FILE if rapidocr_model_dir else TUNED_RECOGNISER
        if not recogniser.is_file():
            raise EngineError(f"the fine-tuned recogniser {recogniser} is missing from this installation; "
                              "reinstall scp-scanner (pip install --force-reinstall .), or set "
                              "processing.rapidocr_model_dir to a folder holding both PP-OCRv6 files")
        try:
            import cv2
            import onnxruntime as ort
            import pyclipper  # noqa: F401  (the detector's boxes grow back with it: ppocr_decode)
        except ImportError as exc:
            raise EngineError(f"rapidocr cannot be used ({exc}); install it with: {INSTALL}") from exc
        count = max(1, int(threads or 1))
        cv2.setNumThreads(count)
        self.providers, self.device = choose_providers(gpu, ort.get_available_providers())
        options = ort.SessionOptions()
        options.intra_op_num_threads = count
        options.inter_op_num_threads = 1
        options.enable_cpu_mem_arena = CPU_ARENA
        options.enable_mem_pattern = MEM_PATTERN
        options.log_severity_level = 3
        options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
        try:
            self._det = ort.InferenceSession(str(folder / DETECTOR_FILE), sess_options=options,
                                             providers=self.providers)
            self._rec = ort.InferenceSession(str(recogniser), sess_options=options,
                                             providers=self.providers)
            # Large images only: the detector's arena is handed back after each run (below).
            self._release = ort.RunOptions()
            self._release.add_run_config_entry("memory.enable_memory_arena_shrinkage", "cpu:0")
        except Exception as exc:  # onnxruntime raises its own types for unreadable models
            raise EngineError(f"rapidocr models in {folder} cannot be loaded ({exc}); reinstall them with: "
                              f"pip install --force-reinstall {INSTALL.removeprefix('pip install ')}") from exc
        characters = self._rec.get_modelmeta().custom_metadata_map.get("character")
        if not characters:
            raise EngineError(f"{recogniser} carries no character list (not a PP-OCR "
                              f"recogniser exported by RapidOCR); reinstall with: {INSTALL}")
        # The classes: the CTC blank first, the model's characters, then a space.
        alphabet = alphabet_of(characters.splitlines())
        classes = self._rec.get_outputs()[0].shape[-1]
        if isinstance(classes, int) and classes != len(alphabet):
            raise EngineError(f"{recogniser} gives {classes} classes for a character list of "
                              f"{len(alphabet)} (model and list do not match); reinstall with: {INSTALL}")
        # The classes read: the blank, Latin letters, digits, punctuation and the space (163 of
        # PP-OCRv6's 18,710; the fine-tuned recogniser has only these). A stock recogniser's
        # output keeps only their columns: the others can never be chosen, and a line's 60
        # steps of all classes are 4.5 MB of fresh pages.
        self._classes = np.flatnonzero([i == 0 or ch == " " or latin(ch) for i, ch in enumerate(alphabet)])
        self._alphabet = [alphabet[i] for i in self._classes]
        self._index = {ch: i for i, ch in enumerate(self._alphabet) if i}
        # Misread words mended towards English words the recogniser found nearly as likely,
        # dates' months and NHS / CHI numbers towards the likeliest reading of their form.
        self._lexicon = load_lexicon() if lexicon else None
        # A word or name the lexicon knows (spaces_from_ink keeps two of them apart).
        self._listed = ((lambda word: word in self._lexicon or word in GIVEN_NAMES)
                        if self._lexicon is not None else None)
        self._db = DbSettings(thresh=DB_THRESH, box_thresh=DB_BOX_THRESH, unclip_ratio=DB_UNCLIP)
        self.min_confidence = max(float(min_confidence or 0.0), MIN_SCORE)
        self.model_dir = folder
        self.recogniser_path = recogniser
        # model_cache=False: every input read afresh (the baseline the caches are checked against).
        self._cache_size = CACHE_SIZE if model_cache else 0
        self._det_cache_size = DET_CACHE_SIZE if model_cache else 0
        self._cache: OrderedDict[bytes, tuple[str, float]] = OrderedDict()
        self._det_cache: OrderedDict[bytes, Detection] = OrderedDict()
        self._sure: list[Rect] = []     # detect()'s regions sure of text, unmet (_found_again_in_bands)
        self.calls = ModelCalls()
        self._det_input: np.ndarray | None = None     # detector_input's buffer
        # The header values of the instance being read (expect(); ocr/expected.py).
        self._header_words = header_words
        self._expected: ExpectedWords = NOTHING_EXPECTED
        # The screen's short words (a label, a unit) read against its vocabulary (ocr/labels.py),
        # and a space lost between a label and its value put back where the ink shows one.
        self._screen_words = screen_words

    # --- detection ------------------------------------------------------------------------

    def _detect_pieces(self, pixels: np.ndarray, first: int = 0, release: bool = False,
                       sure: list[Rect] | None = None, strip: int | None = None) -> list[tuple[Rect, int]]:
        """Text boxes of a BGR area at its own size, read in pieces (see MAX_DET_PIXELS;
        `strip`: pieces()'); each box with the number of the piece it came from (first,
        first + 1, ...). release: each detector run hands its arena back (a large image, see
        RELEASE). `sure`: a list given here gets the regions where the map was sure of text
        (SURE_TEXT), in the area's pixels."""
        height, width = pixels.shape[:2]
        found = []
        for number, piece in enumerate(pieces(height, width, strip), start=first):
            rects, regions = self._detect(pixels[piece.top:piece.bottom, piece.left:piece.right], release)
            found += [(rect.moved(piece.left, piece.top), number) for rect in rects]
            if sure is not None:
                sure += [region.moved(piece.left, piece.top) for region in regions]
        return found

    def _detect(self, pixels: np.ndarray, release: bool = False) -> Detection:
        """Text boxes of a BGR piece at its own size, and the regions where its map was sure
        of text; a piece whose bytes were read before gets those found then (see
        DET_CACHE_SIZE)."""
        height, width = pixels.shape[:2]
        if height < 8 or width < 8:
            return (), ()
        if not self._det_cache_size:
            return self._run_detector(pixels, release)
        key = digest(pixels)
        found = self._det_cache.get(key)
        if found is None:
            found = self._det_cache[key] = self._run_detector(pixels, release)
            while len(self._det_cache) > self._det_cache_size:
                self._det_cache.popitem(last=False)
        else:
            self._det_cache.move_to_end(key)
        return found

    def _found_again_in_bands(self, image: Image, view: View, boxes: list[TextBox]) -> list[TextBox]:
        """`boxes` (the lines read by every stage before), with lines found again in
        full-width bands round the regions where the frame's detector pass was sure of text
        (SURE_TEXT) that neither a line it found nor a line read meets, read; a line read
        that is a fragment of one found again and read gives way to it (lines_found_again).
        The last reading of a place but the lone glyphs', so that it adds lines only where
        the other stages read none."""
        read = [view.rect(b.top, b.left, b.bottom, b.right) for b in boxes]
        regions = regions_unmet(self._sure, read)
        if not regions:
            return boxes
        again: list[tuple[Rect, int]] = []
        for k, band in enumerate(bands_round(regions, *view.pixels.shape[:2])):
            again += [(r.moved(0, band.top), n)
                      for r, n in self._detect_pieces(view.pixels[band.top:band.bottom], first=k * 1000,
                                                      strip=BAND_STRIP)]
        # Strips overlapping by DET_OVERLAP keep whole only lines up to that height; a taller
        # box there is picture (a blob of anatomy read as `O`) or a block of lines.
        new = lines_found_again(read, [r for r in dedupe(again) if r.bottom - r.top <= DET_OVERLAP])
        found = self._lines(image, view, new) if new else []
        lines = [view.rect(b.top, b.left, b.bottom, b.right) for b in found]
        return [box for box, rect in zip(boxes, read) if not any(fragment_of(rect, line) for line in lines)] + found

    def expect(self, expected: ExpectedWords) -> None:
        """Before an instance's images are read: the values its header leads one to expect in
        its text, weighed against each line's reading (ocr/expected.py) until the next call
        (the pipeline makes one per instance; NOTHING_EXPECTED weighs nothing). The
        recogniser's cache keeps readings per set of expected values."""
        self._expected = expected if self._header_words else NOTHING_EXPECTED

    def make_room(self, rows: int, columns: int) -> None:
        """Before an image larger than FULL_SIDE is decoded: hand the detector's arena back,
        so the memory kept from earlier images' pieces is not held beside the large image's
        own arrays (see RELEASE)."""
        if max(rows, columns) > FULL_SIDE:
            self._release_arena()
            self._det_input = None

    def _release_arena(self) -> None:
        """A run of each model on a small blank with the arena-shrinking option: each arena
        hands back all it holds beyond that run's needs."""
        for session, shape in ((self._det, (1, 3, 32, 32)), (self._rec, (1, 3, REC_HEIGHT, REC_MIN_WIDTH))):
            session.run(None, {session.get_inputs()[0].name: np.zeros(shape, np.float32)}, self._release)

    def _run_detector(self, pixels: np.ndarray, release: bool = False) -> Detection:
        """Text boxes of a BGR piece at its own size (padded to a multiple of 32), and the
        regions where its map is sure of text (SURE_TEXT)."""
        height, width = pixels.shape[:2]
        self.calls.detector += 1
        norm, self._det_input = detector_input(pixels, self._det_input)
        out = self._det.run(None, {self._det.get_inputs()[0].name: norm},
                            self._release if release else None)[0]
        quads = db_boxes(out[0, 0], self._db)
        sure = tuple(Rect(*region) for region in sure_regions(out[0, 0, :height, :width], SURE_TEXT))
        rects = []
        for quad in quads:
            xs, ys = quad[:, 0], quad[:, 1]
            rect = Rect(int(max(0, xs.min())), int(max(0, ys.min())),
                        int(min(width, xs.max())), int(min(height, ys.max())))
            if rect.right - rect.left >= 3 and rect.bottom - rect.top >= 3:
                rects.append(rect)
        return tuple(rects), sure

    def detect(self, image: Image, view: View) -> list[Rect]:
        """The image's text lines (view pixels). On a frame detected whole at its own size, the
        regions where the map was sure of text that no line found meets are kept for
        _found_again_in_bands."""
        self._sure = []
        pixels = view.pixels
        height, width = pixels.shape[:2]
        if image.source != SOURCE_FRAME:
            windows = ink_windows(pixels)
            if sum(w.area for w in windows) <= MAX_WINDOW_SHARE * height * width:
                return dedupe(self._window_boxes(pixels, windows, detection_scale(image, view),
                                                 release=max(height, width) > FULL_SIDE))
        if max(height, width) <= FULL_SIDE:
            factor = detection_scale(image, view)
            if factor >= 0.95:
                sure: list[Rect] = []
                found = dedupe(self._detect_pieces(pixels, sure=sure))
                if image.source == SOURCE_FRAME:
                    self._sure = regions_unmet(sure, found)
                return found
            return [scaled(rect, factor, height, width)
                    for rect in dedupe(self._detect_pieces(_magnify(pixels, factor)))]
        factor = REDUCED_SIDE / max(height, width)
        coarse = [scaled(r, factor, height, width)                      # release: see RELEASE
                  for r in dedupe(self._detect_pieces(_magnify(pixels, factor), release=True))]
        # The reduced pass loses text under ~12 px (7 px at a third of 1920 px is 2 px), so
        # the lines of thin strokes (prepare.stroke_lines), small text's, are read at full
        # size too. The ink's own lines are not: on anatomy they covered most of a CR and cost
        # ~1 s of detection for nothing (pydicom-data's 1955x1841 CR: 0.97 of it in candidate
        # lines, no thin strokes at all); larger text is the reduced pass's.
        lines = stroke_lines(to_grey(image.pixels))
        thin = [(window_of(line, view), line.glyph_height) for line in lines if line.glyphs >= 3]
        windows = merge_rects([window_of(line, view) for line in lines])
        if sum(w.area for w in windows) > MAX_WINDOW_SHARE * height * width:
            windows = [Rect(0, 0, width, height)]
        factors = [small_text_magnification(window, thin) for window in windows]
        # A window round a line's thin strokes may hold only part of the line (8 px Lato Thin
        # at JPEG 92: three of a name's letters stood out), and the line read there was cut
        # at the window's edge (`NHS 6576` for `NHS 6576575084`): such windows are widened.
        return dedupe(self._window_boxes(pixels, windows, factors, release=True, whole_lines=True), coarse)

    def _window_boxes(self, pixels: np.ndarray, windows: list[Rect], factor: float | list[float],
                      release: bool, smooth: bool = False, whole_lines: bool = False) -> list[tuple[Rect, int]]:
        """Text boxes of the given windows of a view, each window detected in pieces (resized
        by `factor`, one for all or one per window, when it is under 0.95 or over 1.05), in the
        view's pixels, each with the number of its piece (pieces numbered on across windows).
        release: as for _detect_pieces; smooth: each window blurred (smoothed) once resized;
        whole_lines: a window where a line reaches its edge inside the view is widened and
        detected again, at most AREA_GROWTH times (a window made round part of a line)."""
        factors = factor if isinstance(factor, list) else [factor] * len(windows)
        found: list[tuple[Rect, int]] = []
        first = 0
        for window, scale in zip(windows, factors):
            for attempt in range(AREA_GROWTH + 1 if whole_lines else 1):
                resized = not 0.95 <= scale <= 1.05
                piece = pixels[window.top:window.bottom, window.left:window.right]
                height, width = piece.shape[:2]
                read = _magnify(piece, scale) if resized else piece
                read = smoothed(read) if smooth else read
                numbered = self._detect_pieces(read, first=first, release=release)
                first += len(pieces(*read.shape[:2]))
                boxes = [((scaled(rect, scale, height, width) if resized else rect).moved(window.left, window.top), n)
                         for rect, n in numbered]
                reach = [rect for rect, _ in boxes if reaches_edge(rect, window, *pixels.shape[:2])]
                if not reach or attempt == AREA_GROWTH:
                    break
                window = widened(window, reach).clipped(*pixels.shape[:2])
            found.extend(boxes)
        return found

    # --- recognition ----------------------------------------------------------------------

    def line_outputs(self, crops: list[np.ndarray]) -> tuple[np.ndarray, int]:
        """The recogniser's output for line crops read as one batch (crops x time steps x
        the classes read here, each step's probabilities), and the batch's input width."""
        import cv2

        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        width = max(REC_MIN_WIDTH, int(math.ceil(REC_HEIGHT * max(ratios))))
        batch = np.zeros((len(crops), 3, REC_HEIGHT, width), np.float32)
        for i, (crop, ratio) in enumerate(zip(crops, ratios)):
            w = min(width, max(1, int(math.ceil(REC_HEIGHT * ratio))))
            resized = cv2.resize(crop, (w, REC_HEIGHT)).astype(np.float32) / 127.5 - 1.0
            batch[i, :, :, :w] = _channels_first(resized)
        return self._rec.run(None, {self._rec.get_inputs()[0].name: batch})[0][:, :, self._classes], width

    def _recognise_batch(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        ratios = [c.shape[1] / max(1, c.shape[0]) for c in crops]
        preds, width = self.line_outputs(crops)
        out = []
        for probs, crop, ratio in zip(preds, crops, ratios):
            text, score = ctc_greedy(probs, self._alphabet)
            steps = char_steps(probs.argmax(axis=1))
            # Where each character stands in the crop: its CTC time step across the input.
            step = width / probs.shape[0] * crop.shape[1] / min(width, max(1, math.ceil(REC_HEIGHT * ratio)))
            text, steps = spaces_for_marks(str(text), steps, char_positions(steps, step), crop)
            careted = carets_from_ink(text, char_positions(steps, step), crop)
            before = worded = None  # the line before and after the English word prior (mend_expected)
            tempered = calibrated(probs, RECOGNISER_TEMPERATURE)
            if careted != text and not (self._lexicon is not None and read_as_one_word(
                    text, steps, tempered, self._index, self._lexicon, careted.index("^"))):
                text = careted
            if self._lexicon is not None:      # a '^' put back splits a name into its words
                text, steps = mend_names(text, steps, probs, self._index, self._lexicon)
                before = (text, steps)
                text, steps = worded = mend_words(text, steps, tempered, self._index, self._lexicon)
                text, steps = mend_fields(text, steps, probs, self._index)
            if self._screen_words:
                text, steps = mend_labels(text, steps, probs, self._index, self._expected.name_parts)
            text, steps = mend_expected(text, steps, tempered, self._index, self._expected, before, worded)
            xs = char_positions(steps, step)
            if self._screen_words:
                text, xs = label_spaces_from_ink(text, xs, crop)
            text = spaces_from_ink(text, xs, crop, self._listed, self._expected.written_apart)
            out.append((text, float(score)))
        return out

    def recognise(self, crops: list[np.ndarray]) -> list[tuple[str, float]]:
        """Text and score (0..1) of each crop; identical crops are read once (LRU cache)."""
        keys = [digest(c) + self._expected.key for c in crops]
        todo = sorted({i for i, k in enumerate(keys) if k not in self._cache},
                      key=lambda i: crops[i].shape[1] / max(1, crops[i].shape[0]))
        fresh: dict[bytes, tuple[str, float]] = {}
        unique = []
        seen = set()
        for i in todo:
            if keys[i] not in seen:
                seen.add(keys[i])
                unique.append(i)
        step = 1 if self.device == "cpu" else REC_GPU_BATCH
        for start in range(0, len(unique), step):
            chunk = unique[start:start + step]
            self.calls.recogniser += len(chunk)
            for i, result in zip(chunk, self._recognise_batch([crops[i] for i in chunk])):
                fresh[keys[i]] = result
        out = []
        for key in keys:
            result = fresh.get(key) or self._cache[key]
            out.append(result)
            if self._cache_size:
                self._cache[key] = result
                self._cache.move_to_end(key)
        while len(self._cache) > self._cache_size:
            self._cache.popitem(last=False)
        return out

    # --- the engine -----------------------------------------------------------------------

    def read(self, image: Image) -> list[TextBox]:
        try:
            return self._read(image)
        finally:
            release_freed_memory()

    def _read(self, image: Image) -> list[TextBox]:
        if image.pixels.size == 0:
            return []
        view = view_of(image)
        held: list[Rect] = []
        boxes = self._lines(image, view, self.detect(image, view), held_out=held)
        boxes += self._dim_text(image, boxes)
        boxes = self._with_colour_text(image, boxes)
        boxes += self._held_lines(image, view, held, boxes)
        boxes += self._small_lines(image, view, boxes)
        boxes = self._found_again_in_bands(image, view, boxes)
        return reading_order(boxes + self._lone_glyphs(image, view, boxes))

    def _small_lines(self, image: Image, view: View, boxes: list[TextBox]) -> list[TextBox]:
        """Small lines of text the ink shows (small_ink_lines) that no line read so far meets,
        detected again in windows round them magnified so that their text reaches
        DET_TEXT_HEIGHT (at most MAX_MAGNIFY), as a large image's lines of thin strokes are,
        and read; the lines read there that are not mostly a line read before (covered) are
        kept. At its own size the detector misses 6-7 px grey text over speckle that it finds
        magnified (`Se:3 Im:45`, `HFS` in a colour ultrasound's corner). Windows where a line
        is still not met are detected once more smoothed (SMOOTH_SIGMA): thin strokes over
        speckle, broken by its grain. Read last of the stages, so that it only adds lines
        where none was read."""
        if image.source != SOURCE_FRAME or max(view.pixels.shape[:2]) > FULL_SIDE:
            return []
        missed = [line for line in small_ink_lines(image, view)
                  if not any(overlap(box, TextBox("", line.left, line.top, line.right, line.bottom)) > 0
                             for box in boxes)]
        if not missed:
            return []
        thin = [(window_of(line, view), line.glyph_height * view.scale) for line in missed]
        windows = merge_rects([window for window, _ in thin])
        factors = [small_text_magnification(window, thin) for window in windows]
        cores = [view.rect(line.top, line.left, line.bottom, line.right) for line in missed]
        def meeting(found: list[Rect], lines: list[Rect]) -> list[Rect]:
            return [rect for rect in found if any(overlap_share(rect, line) > 0 for line in lines)]

        rects = meeting(dedupe(self._window_boxes(view.pixels, windows, factors, release=False)), cores)
        # Windows with a line still not met are detected again smoothed (speckle's grain).
        unmet = [core for core in cores if not meeting(rects, [core])]
        again = [(window, factor) for window, factor in zip(windows, factors) if meeting([window], unmet)]
        if again:
            rects += meeting(dedupe(self._window_boxes(view.pixels, [w for w, _ in again], [f for _, f in again],
                                                       release=False, smooth=True)), unmet)
        return [box for box in self._lines(image, view, rects) if not any(covered(box, o) for o in boxes)]

    def _lone_glyphs(self, image: Image, view: View, boxes: list[TextBox]) -> list[TextBox]:
        """Letters standing alone (orientation markers: L, R, A, P, H, F), which the
        detector, trained on words, does not find: glyphs of the text mask (lone_glyphs)
        and a grey frame's bright marks (lone_marks) that no line read holds, each
        recognised alone where it stands (a single character must be read at
        MIN_SINGLE_CHAR_SCORE; a mark only as one character)."""
        glyphs = lone_glyphs(image, boxes)
        marks = lone_marks(image, boxes, glyphs)
        rects = [view.rect(top, left, bottom, right, max(2, round(LONE_GLYPH_MARGIN * (bottom - top))),
                           clamp=True)
                 for top, left, bottom, right in glyphs + marks]
        read = self._line_boxes(image, view, rects, one_glyph=True)
        # A mark is one glyph: a reading of more characters is picture (`88` on a checkerboard).
        return [b for k, b in enumerate(read) if b is not None
                and (k < len(glyphs) or sum(ch.isalnum() for ch in b.text) == 1 == len(b.text.strip()))]

    def _with_colour_text(self, image: Image, boxes: list[TextBox]) -> list[TextBox]:
        """`boxes` (the lines read so far) with the lines of coloured text that no line
        already read covers (ocr/colour_text.py: a colour frame's chromatic pixels in
        line-high clusters), read from the frame with its neutral pixels set to black, in
        windows around them: the lines detected there, cut by the clusters
        (colour_text.lines_by_colour). A line read there that is a line already read
        (prepare.same_line: mostly inside it, their middles in each other's rows) is that
        line, unless each such line read before is a fragment of it (fragment_of: the
        detector found `Ninewells` of a cyan `Ninewells Hospital` over speckle, which it
        finds whole on black) or a block of it and another line read here below or above it
        (`stacked`: a name and an ID joined in one box, read as the ID alone); those lines
        read before then give way to it. One that only touches a
        line read, or whose middle lies outside it (a first read's box grown over the next
        line's top rows), is kept."""
        if not is_colour_frame(image):
            return boxes
        strength = chroma(image.pixels)
        areas = colour_lines(image, boxes, strength)
        least = coloured_level(strength)
        pale = paler_lines(image, boxes, strength, least, areas)
        if not areas and not pale:
            return boxes
        found: list[TextBox] = []
        rects: list[Rect] = []
        for group, level in ((areas, MIN_CHROMA), (pale, least)):
            if group:
                shown = on_black(image, strength, level)
                view = view_of(shown)
                read_here, detected = self._colour_group(shown, view, group)
                found += read_here
                rects += detected
        same = [[k for k, o in enumerate(boxes) if same_line(box, o)] for box in found]
        # A line read before that two lines stacked one above the other, read here, are each
        # the same line as is a block of them (the detector joined a name and an ID 8 px
        # apart into one box over speckle and read the ID alone).
        blocks = {k for k in range(len(boxes))
                  if any(stacked(found[i], found[j]) for i, j in combinations(
                      [i for i, ks in enumerate(same) if k in ks], 2))}
        read, given_way = [], set()
        for box, ks in zip(found, same):
            if all(k in blocks or fragment_of(_rect_of(boxes[k]), _rect_of(box)) for k in ks):
                read.append(box)
                given_way.update(ks)
        boxes = [o for k, o in enumerate(boxes) if k not in given_way]
        left = colour_lines(image, boxes + read, strength)
        if pale:
            left += paler_lines(image, boxes + read, strength, least, left)
        # Both groups' views share the frame's scale and margin (view_of).
        return boxes + read + unread_lines(left, [TextBox("", *view.to_original(r.left, r.top, r.right, r.bottom,
                                                                                image.height, image.width))
                                                  for r in rects])

    def _colour_group(self, shown: Image, view: View, areas: list[tuple[int, int, int, int]]
                      ) -> tuple[list[TextBox], list[Rect]]:
        """The lines read round clusters of coloured pixels (`areas`: colour_lines') of a frame
        shown on black (on_black), and the boxes the detector found there (view pixels)."""
        # Each cluster with two line heights around it; windows that overlap are read as one
        # (a line found in two windows would be read twice).
        windows = merge_rects([view.rect(top, left, bottom, right, 2 * (bottom - top) + 8)
                               for top, left, bottom, right in areas])
        clusters = [view.rect(top, left, bottom, right, clamp=True) for top, left, bottom, right in areas]
        rects: list[Rect] = []
        for window in windows:
            rects.extend(self._detect_window(shown, view, window, window, whole_lines=False) or [])
        # A window with a cluster that no line found meets is detected again magnified, so that
        # its lines reach DET_TEXT_HEIGHT, as _small_lines' are: on 7 px green text over
        # speckle (5 px glyphs) the name and NHS lines were found at no size of their own.
        unmet = [(c, c.bottom - c.top) for c in clusters if not any(overlap_share(r, c) > 0 for r in rects)]
        for window in windows:
            factor = small_text_magnification(window, unmet)
            if factor > 1.05:
                rects.extend(r for r in self._detect_window(shown, view, window, window, whole_lines=False,
                                                            magnify=factor) or []
                             if any(overlap_share(r, c) > 0 for c, _ in unmet))
        height, width = view.pixels.shape[:2]
        lines = [Rect(max(0, left), max(0, top), min(width, right), min(height, bottom))
                 for top, left, bottom, right in lines_by_colour(
            [(r.top, r.left, r.bottom, r.right) for r in rects],
            [(c.top, c.left, c.bottom, c.right) for c in clusters])]
        return self._lines(shown, view, lines), rects

    def _dim_text(self, image: Image, boxes: list[TextBox]) -> list[TextBox]:
        """Lines of text drawn at near-black levels, then faint lines that no line read so
        far overlaps (ocr/dim.py), each read from the image with its levels stretched; the
        lines read there that no line already read overlaps are kept."""
        ground = dark_ground(image)
        if ground is None:
            return []
        found = self._stretched_lines(image, boxes, *dim_lines(image, ground))
        read = [Region(b.top, b.left, b.bottom, b.right, b.bottom - b.top, 0) for b in boxes + found]
        return found + self._stretched_lines(image, boxes + found, *faint_lines(image, read, ground))

    def _stretched_lines(self, image: Image, boxes: list[TextBox], lines: list[Region],
                         background: int, top: int) -> list[TextBox]:
        if not lines:
            return []
        bright = stretched(image, background, top)
        view = view_of(bright)
        rects: list[Rect] = []
        for region in lines:
            pad = dim_margin(region)
            core = view.rect(region.top, region.left, region.bottom, region.right)
            window = view.rect(region.top, region.left, region.bottom, region.right, pad)
            rects.extend(self._detect_window(bright, view, core, window, whole_lines=False) or [])
        return [box for box in self._lines(bright, view, rects)
                if not any(overlap(box, o) > 0 for o in boxes)]

    def read_in(self, image: Image, areas: list[tuple[int, int, int, int]], *,
                whole_lines: bool = True, known: list[TextBox] = (), still: list[TextBox] = (),
                changed: np.ndarray | None = None) -> list[TextBox] | None:
        """The text lines inside `areas` ((top, left, bottom, right), image pixels) of this
        image, each area detected alone at the scale its own smallest text line needs (as a
        whole read chooses it for the whole image), then recognised as a whole read does
        (frame reuse's further frames: ocr/reuse.py). An area where a line reaches
        its edge inside the image is widened (AREA_GROWTH times); None when the line still
        reaches it (it may go on outside: read the image whole), unless whole_lines is False
        (areas of changed picture, where a detection that keeps growing is texture): then
        the lines are taken as found. A detected line that a `known` line (image pixels:
        one frame reuse keeps) covers, or that covers one (prepare.covered), is not
        recognised again; one detected in place of a `still` line (an earlier line whose
        pixels did not change: every side within STILL_JITTER, no `changed` pixel in either
        rectangle) is that line, its reading kept."""
        try:
            if image.pixels.size == 0:
                return []
            view = view_of(image)
            rects: list[Rect] = []
            for top, left, bottom, right in areas:
                core = view.rect(top, left, bottom, right)
                # The detector reads a line better with some picture around it.
                grow_x = max(0, MIN_AREA_SIDE - (core.right - core.left) + 1) // 2
                grow_y = max(0, MIN_AREA_SIDE - (core.bottom - core.top) + 1) // 2
                window = Rect(core.left - grow_x, core.top - grow_y, core.right + grow_x, core.bottom + grow_y)
                found = self._detect_window(image, view, core, window, whole_lines)
                if found is None:
                    return None
                rects.extend(found)
            kept: list[TextBox] = []
            others: list[Rect] = []
            for rect in dict.fromkeys(rects):
                line = self._still_line(image, view, rect, still, changed)
                if line is None:
                    others.append(rect)
                elif line not in kept:
                    kept.append(line)
            return reading_order(self._lines(image, view, others, known) + kept)
        finally:
            release_freed_memory()

    @staticmethod
    def _still_line(image: Image, view: View, rect: Rect, still: list[TextBox],
                    changed: np.ndarray | None) -> TextBox | None:
        """The `still` line that a detected rectangle (view pixels) stands in place of, if
        any: every side within STILL_JITTER of the line's, and no changed pixel in either."""
        if not still or changed is None:
            return None
        left, top, right, bottom = view.to_original(rect.left, rect.top, rect.right, rect.bottom,
                                                    image.height, image.width)
        for box in still:
            jitter = max(STILL_JITTER_MIN, round(STILL_JITTER * (box.bottom - box.top)))
            if (abs(left - box.left) <= jitter and abs(right - box.right) <= jitter
                    and abs(top - box.top) <= jitter and abs(bottom - box.bottom) <= jitter
                    and not changed[min(top, box.top):max(bottom, box.bottom),
                                    min(left, box.left):max(right, box.right)].any()):
                return box
        return None

    def _detect_window(self, image: Image, view: View, core: Rect, window: Rect,
                       whole_lines: bool = True, magnify: float = 1.0) -> list[Rect] | None:
        """Lines (view pixels) that meet `core`, detected in `window` (core and some picture
        around it; magnified by `magnify` when over 1.05, else at the scale its ink needs),
        widened while such a line reaches its edge (at most AREA_GROWTH times); None when one
        still does (with whole_lines; else the lines as found)."""
        height, width = view.pixels.shape[:2]
        for _ in range(AREA_GROWTH + 1):
            window = window.clipped(height, width)
            piece = view.pixels[window.top:window.bottom, window.left:window.right]
            factor = magnify if magnify > 1.05 else self._area_scale(image, view, window)
            if not 0.95 <= factor <= 1.05:
                found = [scaled(r, factor, *piece.shape[:2])
                         for r in dedupe(self._detect_pieces(_magnify(piece, factor)))]
            else:
                found = dedupe(self._detect_pieces(piece))
            found = [r.moved(window.left, window.top) for r in found]
            found = [r for r in found if overlap_share(r, core) > 0]
            reach = [r for r in found if reaches_edge(r, window, height, width)]
            if not reach:
                return found
            window = widened(window, reach)
        return None if whole_lines else found

    @staticmethod
    def _area_scale(image: Image, view: View, window: Rect) -> float:
        """detection_scale for one window of the view: from the smallest text line the ink of
        that part of the image shows (large images are detected at their own size)."""
        if max(view.pixels.shape[:2]) > FULL_SIDE:
            return 1.0
        s, m = view.scale, view.margin
        top, left = max(0, int((window.top - m) / s)), max(0, int((window.left - m) / s))
        bottom, right = math.ceil((window.bottom - m) / s), math.ceil((window.right - m) / s)
        part = replace(image, pixels=image.pixels[top:bottom, left:right],
                       text_mask=None if image.text_mask is None else image.text_mask[top:bottom, left:right])
        return detection_scale(part, view)

    def read_lines(self, image: Image, boxes: list[TextBox],
                   changed: np.ndarray | None = None) -> list[TextBox | None]:
        """These lines (boxes this engine read from an earlier image of the same shape)
        recognised again in this image where they stand, without detection: frame reuse's
        lines whose glyphs changed while their ink stayed inside its rectangle
        (ocr/reuse.py line_plans). With `changed` (bool, image pixels: what differs from
        the earlier image), a line whose words the ink separates as its reading does (one
        wide gap per space: confusions.space_gaps) has only the words holding changed
        pixels recognised, each cut from the line at the middle of the gaps around it, and
        put in place of the old words (a clock's seconds, not its date), when each keeps its
        old word's shape (fixups.word_shape: `13:03:52` -> `13:03:53`); else the line is
        read whole. One entry per box: the new reading, or None where a whole read would
        drop the line (too unsure, or no text)."""
        try:
            if image.pixels.size == 0 or not boxes:
                return [None] * len(boxes)
            view = view_of(image)
            plans: list[tuple[TextBox, Rect, list[tuple[int, tuple[int, int]]] | None]] = []
            for box in boxes:
                rect = view.rect(box.top, box.left, box.bottom, box.right, clamp=True)
                plans.append((box, rect, self._changed_words(view, rect, box, changed)))
            parts = [Rect(rect.left + a, rect.top, rect.left + b, rect.bottom)
                     for _, rect, words in plans if words is not None for _, (a, b) in words]
            read_parts = iter(self.recognise([view.pixels[r.top:r.bottom, r.left:r.right] for r in parts]))
            out: list[TextBox | None] = []
            for box, rect, words in plans:
                out.append(None)
                if words is None:
                    continue
                old = box.text.split(" ")
                new, score = list(old), box.confidence / 100.0
                for index, _ in words:
                    text, part_score = next(read_parts)
                    new[index] = text.strip()
                    score = min(score, part_score)
                # A word read alone lacks its line's context: a counter's `2/4` can come back
                # as `214`. A reading whose shape changed is not taken; the line is read whole.
                if all(word_shape(n) == word_shape(o) for n, o in zip(new, old)):
                    out[-1] = self._accepted(image, view, rect, " ".join(new), score)
                else:
                    plans[len(out) - 1] = (box, rect, None)
            again = [i for i, (_, _, words) in enumerate(plans) if words is None]
            for i, line in zip(again, self._line_boxes(image, view, [plans[i][1] for i in again])):
                out[i] = line
            return out
        finally:
            release_freed_memory()

    @staticmethod
    def _word_spans(view: View, rect: Rect, words: int) -> list[tuple[int, int]] | None:
        """[start, end) columns of each word of a line's crop (view pixels, from the crop's
        left), cut at the middle of the gaps between words; None when the ink does not show
        one wide gap per space."""
        crop = view.pixels[rect.top:rect.bottom, rect.left:rect.right]
        gaps = space_gaps(ink_columns(crop), words - 1) if words > 1 and crop.size else None
        if gaps is None:
            return None
        cuts = [0] + [(a + b) // 2 for a, b in gaps] + [crop.shape[1]]
        return list(zip(cuts[:-1], cuts[1:]))

    def _changed_words(self, view: View, rect: Rect, box: TextBox,
                       changed: np.ndarray | None) -> list[tuple[int, tuple[int, int]]] | None:
        """The words of a line (their index in its reading, their span: _word_spans) that
        hold changed pixels, when reading only those is possible and saves something; else
        None (read the line whole)."""
        if changed is None or view.scale != 1.0 or view.margin or " " not in box.text.strip():
            return None
        spans = self._word_spans(view, rect, len(box.text.split(" ")))
        if spans is None:
            return None
        columns = changed[box.top:box.bottom, box.left:box.right].any(axis=0)
        touched = [(i, span) for i, span in enumerate(spans) if columns[span[0]:span[1]].any()]
        return touched if 0 < len(touched) < len(spans) else None

    def _held_lines(self, image: Image, view: View, held: list[Rect],
                    boxes: list[TextBox]) -> list[TextBox]:
        """The lines (view pixels) the detector saw alone inside blocks of lines (holds_lines)
        that no line read by then covers or lies in (prepare.covered), recognised: the last
        reading of a place, after the dim and coloured text's."""
        rects = [r for r in held if not covered_by(image, view, r, boxes)]
        return [b for b in self._line_boxes(image, view, rects) if b is not None]

    def _lines(self, image: Image, view: View, detected: list[Rect],
               known: list[TextBox] = (), held_out: list[Rect] | None = None) -> list[TextBox]:
        """Detected lines (view pixels) recognised, mended and filtered, as boxes in the
        image's pixel space, in reading order. A detected line that one of the `known` lines
        (image pixels) covers, or that covers one (prepare.covered), is that line, and is not
        recognised. A line inside a block of lines (holds_lines) is read only where no other
        line's reading covers its place: here, after the others, or, given `held_out`, later
        by the caller (the line's rectangle is added to it)."""
        rects = list(dict.fromkeys(detected))
        # A line the detector also saw on its own inside a block of lines (dedupe keeps both)
        # is read only where nothing else reads its place: the block read as one line, or
        # the block's line cut out of it, is that text as before.
        held = [r for r in rects if any(o != r and overlap_share(r, o) >= 0.6 and holds_lines(o, r)
                                        for o in rects)]
        rects = [r for r in rects if r not in held]
        if SPLIT_JOINED_LINES:
            rects = split_lines(view.pixels, rects, PREPARE.min_glyph_height * view.scale,
                                MAX_JOINED_LINE * view.scale)
        if known:
            rects = [r for r in rects if not covered_by(image, view, r, known)]
            held = [r for r in held if not covered_by(image, view, r, known)]
        lines = self._line_boxes(image, view, rects)
        boxes = [b for b in lines if b is not None]
        read = [r for r, b in zip(rects, lines) if b is not None]
        held = [r for r in held if not any(overlap_share(r, o) >= 0.6 for o in read)]
        if held_out is not None:
            held_out.extend(held)
        else:
            # Recognised apart: the recogniser's batches of the other lines stay as they were.
            boxes += [b for b in self._line_boxes(image, view, held) if b is not None]
        return reading_order(boxes)

    def _line_boxes(self, image: Image, view: View, rects: list[Rect],
                    one_glyph: bool = False) -> list[TextBox | None]:
        """Each line (view pixels) recognised, mended and filtered: its box in the image's
        pixel space, or None where it is dropped. one_glyph: each rect is one glyph's crop
        (lone_glyphs), so any mark read beside its letter is noise's."""
        if not rects:
            return []
        crops = [view.pixels[r.top:r.bottom, r.left:r.right] for r in rects]
        return [self._accepted(image, view, rect, text, score, one_glyph)
                for rect, (text, score) in zip(rects, self.recognise(crops))]

    def _accepted(self, image: Image, view: View, rect: Rect, text: str, score: float,
                  one_glyph: bool = False) -> TextBox | None:
        """A line's reading (view pixels) mended, as a box in the image's pixel space; None
        where it is dropped (no text, too unsure, a single character under
        MIN_SINGLE_CHAR_SCORE, or not a text line's height)."""
        text = mend(text.strip())
        if self._screen_words:
            text = dob_by_shape(text)
        confidence = round(score * 100.0, 2)
        if not is_text(text) or confidence < self.min_confidence:
            return None
        glyphs = sum(ch.isalnum() for ch in text) if one_glyph else glyph_count(text)
        if glyphs <= 1 and confidence < MIN_SINGLE_CHAR_SCORE:
            return None
        left, top, right, bottom = view.to_original(rect.left, rect.top, rect.right, rect.bottom,
                                                    image.height, image.width)
        if right > left and 0 < bottom - top <= PREPARE.max_glyph_height:
            return TextBox(text, left, top, right, bottom, confidence)
        return None
