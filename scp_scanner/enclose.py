"""Rectangles that hold every pixel of their text, whatever the OCR engine.

A rectangle in the CSV is what a redaction tool blanks, so it must enclose the whole glyphs,
anti-aliased edges included: the engines' boxes are drawn around what they recognised, often
a pixel inside the faint edge pixels (blanked with the reference's tools, 28-50 such pixels
per image stayed visible). This runs once, after OCR and before rows, for every engine.

Each box is grown until its border holds no pixel of its glyphs. Around the box (one text
height up and down, three sideways: the reach):
* the background is the median of the pixels outside the box and its noise their median
  absolute deviation; a pixel's difference is its distance from that background (colour:
  its most different channel);
* glyph strokes are the pixels whose difference is at least a quarter of the box's own
  contrast; glyph pixels are the strokes and every pixel within EDGE pixels of a stroke that
  differs from the background by more than the noise (on a flat background: by anything at
  all). So faint anti-aliased edges count, and the faint ringing that JPEG spreads several
  pixels away from text does not pull boxes apart;
* every 8-connected piece of glyph pixels that the box touches is taken whole when it lies
  within the reach and mostly on the box's own rows (a glyph that a misread cut, such as the
  '5' of '5 mm' read as '3mm' from its lower part, is blanked whole); a piece that reaches
  further (anatomy, speckle, a line through the text) or lies mostly above or below the box
  (the next line's glyph whose tail the box grazes) is taken only within grow_for pixels.
Growth is therefore bounded by the reach and clamped to the image. Boxes never shrink.
"""
from __future__ import annotations

import hashlib
from collections import OrderedDict
from dataclasses import replace

import numpy as np

from .masks import dilate, label
from .model import Image, TextBox
from .ocr.prepare import histogram_u8, median_of_counts

# How far a side may move for a piece that is not taken whole: anti-aliased edges are
# 1-2 px, engines' boxes are off by 1-2 px.
MIN_GROW, MAX_GROW = 2, 4
# A pixel differs from the background when it is more than this many noise units (median
# absolute deviations scaled to a standard deviation) away from it.
NOISE_UNITS = 3.0
_MAD_TO_SIGMA = 1.4826
# Stroke pixels differ by at least this share of the box's contrast; edge pixels lie within
# EDGE pixels of a stroke.
STROKE_SHARE = 0.25
EDGE = 2
# A touched piece is taken whole only when at least this share of its pixels lies on the
# box's own rows.
MIN_LEVEL_SHARE = 0.5
# Enclosers remember this many answers (a box's rectangle and the bytes of its window decide
# the answer, so a cine's unchanged lines are not measured again: on a 120-frame echo cine
# enclosing took 17 ms a frame before, 1 ms after); ~100 bytes each.
MEMORY = 4096


def grow_for(box: TextBox) -> int:
    """How far each side of this box may move for a piece not taken whole: a quarter of its
    height, 2 to 4 pixels."""
    return int(min(MAX_GROW, max(MIN_GROW, round((box.bottom - box.top) / 4))))


def enclose(image: Image, boxes: list[TextBox]) -> list[TextBox]:
    """The boxes, each grown to hold every pixel of the glyphs it touches (same order)."""
    pixels = image.pixels
    return [_enclose_one(pixels, box) for box in boxes]


class Encloser:
    """`enclose` that remembers its answers: a box's new rectangle is a function of its own
    rectangle, the image's size and the exact bytes of the window around it, so a box met
    again over the same pixels (a cine frame's unchanged line) is answered from memory. The
    answers are those of `enclose` by construction."""

    def __init__(self, memory: int = MEMORY):
        self.memory = memory
        self._known: OrderedDict[tuple, tuple[int, int, int, int]] = OrderedDict()
        self.measured = 0           # boxes measured afresh (for tests; never timed)

    def enclose(self, image: Image, boxes: list[TextBox]) -> list[TextBox]:
        return [self._one(image.pixels, box) for box in boxes]

    def _one(self, pixels: np.ndarray, box: TextBox) -> TextBox:
        area = _window(pixels.shape[:2], box)
        if area is None or not self.memory:
            self.measured += area is not None
            return _enclose_one(pixels, box)
        wl, wt, wr, wb = area
        window = np.ascontiguousarray(pixels[wt:wb, wl:wr])
        key = (box.left, box.top, box.right, box.bottom, pixels.shape, pixels.dtype.str,
               hashlib.blake2b(window.tobytes(), digest_size=16).digest())
        rect = self._known.get(key)
        if rect is None:
            self.measured += 1
            grown = _enclose_one(pixels, box)
            rect = (grown.left, grown.top, grown.right, grown.bottom)
            self._known[key] = rect
            while len(self._known) > self.memory:
                self._known.popitem(last=False)
        else:
            self._known.move_to_end(key)
        if rect == (box.left, box.top, box.right, box.bottom):
            return box
        return replace(box, left=rect[0], top=rect[1], right=rect[2], bottom=rect[3])


def _window(shape: tuple[int, int], box: TextBox) -> tuple[int, int, int, int] | None:
    """The window (left, top, right, bottom) whose pixels decide how a box grows; None for a
    box outside the image."""
    height, width = shape
    left, top = max(0, box.left), max(0, box.top)
    right, bottom = min(width, box.right), min(height, box.bottom)
    if right <= left or bottom <= top:
        return None
    # Glyphs that touch one another make wide pieces: three text heights sideways, one up/down.
    reach_y = max(grow_for(box), bottom - top)
    reach_x = 3 * reach_y
    return (max(0, left - reach_x), max(0, top - reach_y),
            min(width, right + reach_x), min(height, bottom + reach_y))


def background_and_noise(window: np.ndarray, outside: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Per channel of an 8-bit window: the median of the pixels where `outside` is set and
    their median absolute deviation from it (float32, the values np.median gives), from the
    ring's histogram: one pass over its pixels, where np.median sorts them twice."""
    planes = window[..., None] if window.ndim == 2 else window
    channels = planes.shape[-1]
    background = np.empty(channels, np.float32)
    deviation = np.empty(channels, np.float32)
    levels = np.arange(256)
    for channel in range(channels):
        counts = histogram_u8(planes[..., channel][outside])
        middle = median_of_counts(counts)
        background[channel] = middle
        # Twice a value's distance from the median (a whole or half number) is a whole number.
        twice = np.abs(2 * levels - int(2 * middle))
        deviation[channel] = median_of_counts(np.bincount(twice, weights=counts, minlength=511)) / 2
    return background, deviation


def glyph_pixels(window: np.ndarray, inside: np.ndarray, outside: np.ndarray) -> np.ndarray | None:
    """Bool mask of the window's glyph pixels (see the module text); `inside` is the box,
    `outside` where the background is measured. None when there is no background left."""
    if not outside.any():
        return None
    values = window.astype(np.float32)
    if values.ndim == 2:
        values = values[..., None]
    if window.dtype == np.uint8:
        background, spread = background_and_noise(window, outside)
    else:
        ring = values[outside]                   # (n, channels)
        background = np.median(ring, axis=0)
        spread = np.median(np.abs(ring - background), axis=0)
    noise = spread * _MAD_TO_SIGMA
    deviation = np.abs(values - background)
    # Integer pixels: "differs at all" is a difference of at least 1. Channel by channel:
    # numpy's reductions over a last axis of three are several times slower.
    limit = np.maximum(NOISE_UNITS * noise, 0.5)
    differs = deviation[..., 0] > limit[0]
    difference = deviation[..., 0].copy()
    for channel in range(1, deviation.shape[-1]):
        differs |= deviation[..., channel] > limit[channel]
        np.maximum(difference, deviation[..., channel], out=difference)
    contrast = float(difference[inside].max()) if inside.any() else 0.0
    strokes = differs & (difference >= STROKE_SHARE * contrast)
    if not strokes.any():
        return strokes
    near_strokes = dilate(strokes, 3, iterations=EDGE)
    return differs & near_strokes


def _enclose_one(pixels: np.ndarray, box: TextBox) -> TextBox:
    height, width = pixels.shape[:2]
    area = _window((height, width), box)
    if area is None:
        return box
    left, top = max(0, box.left), max(0, box.top)
    right, bottom = min(width, box.right), min(height, box.bottom)
    grow = grow_for(box)
    wl, wt, wr, wb = area
    window = pixels[wt:wb, wl:wr]
    inside = np.zeros(window.shape[:2], dtype=bool)
    inside[top - wt:bottom - wt, left - wl:right - wl] = True
    near = np.zeros_like(inside)
    near[max(0, top - wt - grow):bottom - wt + grow, max(0, left - wl - grow):right - wl + grow] = True
    glyphs = glyph_pixels(window, inside, ~near)
    if glyphs is None:
        return box
    labels, count = label(glyphs, connectivity=8, ordered=False)
    touched = np.unique(labels[inside])
    touched = touched[touched > 0]
    if touched.size == 0:
        return box
    # A piece that reaches the window's edge (where that is not the image's edge) is larger
    # than a glyph; a piece mostly above or below the box's rows belongs to the next line.
    edge = np.zeros_like(inside)
    edge[0, :], edge[-1, :] = wt > 0, wb < height
    edge[:, 0] |= wl > 0
    edge[:, -1] |= wr < width
    rows_of_box = np.zeros_like(inside)
    rows_of_box[top - wt:bottom - wt, :] = True
    sizes = np.bincount(labels.ravel(), minlength=count + 1)
    level = np.bincount(labels[rows_of_box].ravel(), minlength=count + 1)
    partial = np.zeros(count + 1, dtype=bool)
    partial[np.unique(labels[edge])] = True
    partial |= level < MIN_LEVEL_SHARE * sizes
    whole = np.zeros(count + 1, dtype=bool)
    whole[touched] = True
    taken = whole[labels] & (near | ~partial[labels])
    rows, cols = np.nonzero(taken)
    new = (min(left, wl + int(cols.min())), min(top, wt + int(rows.min())),
           max(right, wl + int(cols.max()) + 1), max(bottom, wt + int(rows.max()) + 1))
    if new == (box.left, box.top, box.right, box.bottom):
        return box
    return replace(box, left=new[0], top=new[1], right=new[2], bottom=new[3])
