"""Image preparation shared by the OCR engines: pure functions on numpy arrays.

OCR engines read dark text on a light background best, at a cap height of roughly 20-40
pixels. DICOM annotations are usually light text drawn at the extreme stored value over dark
anatomy, often only 8-14 pixels high. So each Image is offered to the engine as one or two
*views*:

- "mask": the pixels at the extreme stored value (Image.text_mask; for overlays, the set bits)
  as black on white. Crisp: no anatomy, no window to get wrong.
- "bright": display pixels near white (colour folded to grey by the brightest channel, so
  coloured annotation text on ultrasound keeps its contrast). Catches text that is not exactly
  at the extreme value (anti-aliased, lossy-compressed).
- "grey": the display pixels as they are, for light images only (documents).

Views are upscaled for small images; `Prepared.scale` maps boxes back to original pixel space.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from PIL import Image as PILImage

from ..model import SOURCE_FRAME, Image, TextBox

# Longest side, in pixels, that a view is scaled up towards (never down).
TARGET_LONG_SIDE = 1600
MAX_SCALE = 4
# Display level (0-255) at or above which a frame's pixel may be annotation text.
BRIGHT_LEVEL = 200
# Annotation text covers a small part of an image; a "text" view covering more is not one.
MAX_TEXT_FRACTION = 0.15


@dataclass(frozen=True, eq=False)
class Prepared:
    """One view of an Image for an OCR engine: uint8 grey, dark text on light background."""

    pixels: np.ndarray
    scale: int          # view = original * scale
    name: str           # "mask" or "grey"


def scale_for(height: int, width: int) -> int:
    """Integer upscale factor that brings the long side near TARGET_LONG_SIDE (1..MAX_SCALE)."""
    long_side = max(height, width, 1)
    return int(max(1, min(MAX_SCALE, TARGET_LONG_SIDE // long_side)))


def to_grey(pixels: np.ndarray) -> np.ndarray:
    """uint8 grey from grey or RGB; RGB takes the brightest channel (keeps coloured text bright)."""
    if pixels.ndim == 3:
        return pixels.max(axis=2).astype(np.uint8, copy=False)
    return pixels.astype(np.uint8, copy=False)


def mask_view(mask: np.ndarray) -> np.ndarray:
    """Black (0) where the mask is set, white (255) elsewhere."""
    return np.where(mask, 0, 255).astype(np.uint8)


def upscale(view: np.ndarray, scale: int, *, binary: bool) -> np.ndarray:
    """Enlarge by an integer factor: bilinear for binary views (smooth glyph edges instead of
    blocks), bicubic for grey ones."""
    if scale == 1:
        return view
    h, w = view.shape
    resample = PILImage.Resampling.BILINEAR if binary else PILImage.Resampling.BICUBIC
    return np.asarray(PILImage.fromarray(view).resize((w * scale, h * scale), resample))


def bright_view(grey: np.ndarray, level: int = BRIGHT_LEVEL) -> np.ndarray | None:
    """Black where the display is at least `level`, else white; None when that is not a small
    part of the image (then it is anatomy or a light background, not annotation)."""
    bright = grey >= level
    fraction = float(bright.mean()) if bright.size else 0.0
    if fraction == 0.0 or fraction > MAX_TEXT_FRACTION:
        return None
    return mask_view(bright)


def views(image: Image) -> list[Prepared]:
    """The views worth reading for this image, cheapest and cleanest first:

    1. "mask": Image.text_mask (extreme stored values, or an overlay's set bits);
    2. "bright": for frames, display pixels at or above BRIGHT_LEVEL (text that is bright but
       not exactly at the extreme: anti-aliased, lossy-compressed, coloured);
    3. "grey": for frames on a light background only (documents, secondary captures with dark
       text); dark images are not read as grey, where anatomy and noise read as garbage.
    """
    scale = scale_for(image.height, image.width)
    out: list[Prepared] = []
    if image.text_mask is not None and image.text_mask.any():
        out.append(Prepared(upscale(mask_view(image.text_mask), scale, binary=True), scale, "mask"))
    if image.source != SOURCE_FRAME:
        return out
    grey = to_grey(image.pixels)
    bright = bright_view(grey)
    if bright is not None:
        out.append(Prepared(upscale(bright, scale, binary=True), scale, "bright"))
    if grey.size and np.median(grey) >= 128:
        out.append(Prepared(upscale(grey, scale, binary=False), scale, "grey"))
    return out


def to_original(box: TextBox, scale: int, height: int, width: int) -> TextBox:
    """Map a box found in a view scaled by `scale` back into the original pixel space."""
    if scale == 1:
        left, top, right, bottom = box.left, box.top, box.right, box.bottom
    else:
        left, top = box.left // scale, box.top // scale
        right, bottom = -(-box.right // scale), -(-box.bottom // scale)
    return TextBox(box.text, max(0, left), max(0, top), min(width, right), min(height, bottom), box.confidence)


def overlap(a: TextBox, b: TextBox) -> float:
    """Intersection over the smaller box's area (1.0 when one box lies inside the other)."""
    iw = min(a.right, b.right) - max(a.left, b.left)
    ih = min(a.bottom, b.bottom) - max(a.top, b.top)
    if iw <= 0 or ih <= 0:
        return 0.0
    smaller = min((a.right - a.left) * (a.bottom - a.top), (b.right - b.left) * (b.bottom - b.top))
    return (iw * ih) / smaller if smaller > 0 else 0.0


def merge_views(found: list[list[TextBox]], *, threshold: float = 0.5) -> list[TextBox]:
    """Union of the boxes from several views; where boxes from different views overlap,
    keep the more confident one."""
    kept: list[TextBox] = []
    for boxes in found:
        for box in boxes:
            clash = [k for k in kept if overlap(k, box) >= threshold]
            if not clash:
                kept.append(box)
            elif all(box.confidence > k.confidence for k in clash):
                kept = [k for k in kept if k not in clash] + [box]
    return kept


def reading_order(boxes: list[TextBox]) -> list[TextBox]:
    """Sort into lines (top to bottom), then left to right within a line.

    Two boxes are on one line when their vertical centres are closer than half the
    smaller height."""
    rest = sorted(boxes, key=lambda b: (b.top + b.bottom) / 2)
    lines: list[list[TextBox]] = []
    for box in rest:
        centre = (box.top + box.bottom) / 2
        if lines:
            line = lines[-1]
            ref = line[0]
            ref_centre = (ref.top + ref.bottom) / 2
            half = min(ref.bottom - ref.top, box.bottom - box.top) / 2
            if abs(centre - ref_centre) <= max(half, 1):
                line.append(box)
                continue
        lines.append([box])
    return [box for line in lines for box in sorted(line, key=lambda b: b.left)]


def is_text(word: str) -> bool:
    """A word worth keeping: has at least one letter or digit."""
    return any(ch.isalnum() for ch in word)
