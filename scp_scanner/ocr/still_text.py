"""Text that stands still while a cine's picture moves under it, read once more on its own.

Burned-in annotation is drawn on every frame of a cine at the same place in the same colour,
while the picture under and around it (speckle, a beating heart, colour flow) changes from
frame to frame. So the per-pixel minimum over the frames (each channel apart) keeps what is
bright on every frame, the text, and darkens what is bright only on some, the picture: small
text over moving speckle stands there nearly on black, as the detector and the recogniser
read it best. Measured on the synthetic RGB ultrasound cines of 55 looked-at corpora (2 and
3 frames, 7-16 px faces over full-frame speckle, JPEG 40-95), one read of that minimum
recovered 62 of the 99 identifying words and 238 words in all that the frames' own readings
missed, and lost none; none of the 161 real files was read again (their text stands on
black, where nothing moves under it, or fades with a whole frame).

How it is used (pipeline.py): a series of two frames or more is read frame by frame as
before (ocr/reuse.py), while `StillLayer` keeps the running minimum and maximum and the
first frame.
At the end of the series, when the picture moves under a line read on its first frame, or
one of three characters or more read on a further frame (`moves_under`; speckle over a
banner may hide every line of one frame, the first among them), the minimum is read once,
whole, and each frame gets the lines of that
reading whose words its own lines there do not already hold (`merged`). A frame loses no
line of its own: the minimum only adds.

Text that changes between frames (a clock, a frame counter) has no minimum of its own: what
is left of it is the strokes all its states share, and reads as some other number. Such a
reading is added to every frame beside the frame's own reading; it is not identifying in
the cases measured (`3/3` beside `1/3`), and the rectangle covers the line either way.
Dark text on a bright moving picture vanishes in a minimum; it is read as before.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from ..model import Image, TextBox
from .prepare import overlap

# A line's picture moves when this share of its box's pixels ranges over the frames (maximum
# - minimum) by more than CHANGE_LEVEL grey levels (any channel). JPEG re-coding
# of unchanged 8x8 blocks gives the same bytes, and a block beside moving picture differs
# by a few levels; speckle under a line differs by tens to over a hundred.
CHANGE_LEVEL = 24
MOVING_SHARE = 0.2
# ... and the line itself stands still: of its brightest tenth of pixels on the first frame
# (its ink, where it is text), at least this share keeps its level in the minimum (within
# twice CHANGE_LEVEL: JPEG codes the text's blocks with the picture around them). A frame
# shown dimmed (pydicom-data's two-frame Philips ultrasound: its second frame a faded copy
# of the first, banner and text and all) keeps none of it, so there is nothing more to read;
# text over moving speckle in the generator's cines kept 26-100% on each line.
INK_KEPT = 0.1


@dataclass
class StillLayer:
    """The running per-pixel minimum and maximum of one series' frames (same shape), and
    its first frame. `add` each frame's pixels in order."""

    first: np.ndarray | None = None
    minimum: np.ndarray | None = None
    maximum: np.ndarray | None = None
    mask: np.ndarray | None = None     # the frames' text masks ANDed, while every frame has one
    frames: int = 0
    masks: int = 0

    def add(self, image: Image) -> None:
        """One more frame. The minimum and maximum are made from the second frame on (a
        single image costs no copy)."""
        if self.first is None:
            self.first = image.pixels
        elif self.minimum is None or self.maximum is None:
            self.minimum = np.minimum(self.first, image.pixels)
            self.maximum = np.maximum(self.first, image.pixels)
        else:
            np.minimum(self.minimum, image.pixels, out=self.minimum)
            np.maximum(self.maximum, image.pixels, out=self.maximum)
        if image.text_mask is not None and self.masks == self.frames:
            self.mask = image.text_mask if self.mask is None else self.mask & image.text_mask
            self.masks += 1
        self.frames += 1

    @property
    def shape(self) -> tuple[int, ...] | None:
        """The series' frame shape (None before its first frame)."""
        return None if self.first is None else self.first.shape

    def image(self, like: Image) -> Image:
        """The minimum as an Image numbered as `like` (the series' first frame)."""
        assert self.minimum is not None
        mask = self.mask if self.masks == self.frames else None
        return Image(self.minimum, like.frame, like.overlay, like.source, mask)

    def moves_under(self, boxes: list[TextBox]) -> bool:
        """Did the picture change under one of these lines (read on the series' frames) in
        the course of the series, while the line's own ink stayed (its brightest pixels on
        the first frame kept in the minimum)? The change is the frames'
        range (maximum - minimum), whichever frame was the darkest: the first frame may be
        the one whose speckle is dimmest."""
        if self.frames < 2 or self.first is None or self.minimum is None or self.maximum is None:
            return False
        for box in boxes:
            top, bottom = max(0, box.top), max(0, box.bottom)
            left, right = max(0, box.left), max(0, box.right)
            first = self.first[top:bottom, left:right].astype(np.int16)
            if first.size == 0:
                continue
            low = self.minimum[top:bottom, left:right]
            moved = self.maximum[top:bottom, left:right].astype(np.int16) - low > CHANGE_LEVEL
            kept = first - low <= 2 * CHANGE_LEVEL
            level = first
            if first.ndim == 3:
                moved, kept, level = moved.any(axis=2), kept.all(axis=2), first.max(axis=2)
            if moved.mean() <= MOVING_SHARE:
                continue
            ink = level >= np.percentile(level, 90)
            if kept[ink].mean() >= INK_KEPT:
                return True
        return False


def _words(text: str) -> list[str]:
    """A line's words, lower case, letters and digits only ('DOE^JOHN' -> 'doejohn')."""
    return [w for w in ("".join(c for c in part.lower() if c.isalnum()) for part in text.split()) if w]


def merged(frame: list[TextBox], still: list[TextBox]) -> list[TextBox]:
    """A frame's lines, then each line read in the minimum whose words the frame's lines
    that meet it do not all hold (a line the frame missed, or read otherwise)."""
    out = list(frame)
    for line in still:
        words = _words(line.text)
        if not words:
            continue
        held = {w for box in frame if overlap(line, box) > 0 for w in _words(box.text)}
        if not all(w in held for w in words):
            out.append(line)
    return out
