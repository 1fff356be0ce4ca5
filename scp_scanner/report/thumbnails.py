"""Pixels for the report: thumbnails of Images and per-model heat maps, as PNG bytes."""
from __future__ import annotations

import io
from collections.abc import Iterable

import numpy as np
from PIL import Image as PILImage

from ..model import Image

HEAT_CELLS = 48          # heat map resolution (cells per side)
HEAT_SIDE = 144          # heat map PNG size in pixels


def png(pixels: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    PILImage.fromarray(pixels).save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def thumbnail(image: Image, max_side: int = 360) -> bytes:
    """The image's display pixels scaled to fit max_side (never enlarged), as PNG."""
    picture = PILImage.fromarray(image.pixels)
    scale = min(1.0, max_side / max(image.width, image.height))
    size = (max(1, round(image.width * scale)), max(1, round(image.height * scale)))
    if size != (image.width, image.height):
        picture = picture.resize(size, PILImage.Resampling.LANCZOS)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()


def heat_map(boxes: Iterable[tuple[float, float, float, float]]) -> bytes:
    """Where boxes sit in their images: each box given as fractions (x0, y0, x1, y1) of its
    image's width and height adds 1 to the cells it covers; black (none) to yellow (most)."""
    counts = np.zeros((HEAT_CELLS, HEAT_CELLS), dtype=np.float64)
    for x0, y0, x1, y1 in boxes:
        c0, c1 = (int(np.clip(v * HEAT_CELLS, 0, HEAT_CELLS)) for v in (x0, x1))
        r0, r1 = (int(np.clip(v * HEAT_CELLS, 0, HEAT_CELLS)) for v in (y0, y1))
        counts[r0:max(r1, r0 + 1), c0:max(c1, c0 + 1)] += 1
    level = counts / counts.max() if counts.max() > 0 else counts
    rgb = np.zeros((HEAT_CELLS, HEAT_CELLS, 3), dtype=np.uint8)
    rgb[..., 0] = np.clip(level * 2, 0, 1) * 255                 # black -> red -> yellow
    rgb[..., 1] = np.clip(level * 2 - 1, 0, 1) * 255
    rgb[..., 2] = (counts == 0) * 24                               # empty cells dark blue-grey
    picture = PILImage.fromarray(rgb).resize((HEAT_SIDE, HEAT_SIDE), PILImage.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG", optimize=True)
    return buffer.getvalue()
