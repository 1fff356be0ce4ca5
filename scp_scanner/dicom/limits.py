"""Limits on what one instance may make the workers decode, checked from the header before
any pixel is decoded (a "bomb" is refused with a one-line reason, not run out of memory).

A 306 KB instance declaring 300,000 frames of 1x1 pixels made 300,000 rows; a 4.2 MB RLE
instance of 16384x16384 drove a worker to 3.8 GB. The defaults are far above what
modalities produce (the largest single images, stitched radiographs and mammograms, are
under 30 Mpx; cine and enhanced multi-frame series stay in the low thousands of frames) and
can be raised in the `processing` section of the configuration (serve and `scan --config`).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from .errors import DicomInputError

if TYPE_CHECKING:        # annotations only: the scan's main process reads limits without pydicom
    import pydicom

DEFAULT_MAX_FRAMES = 20_000
DEFAULT_MAX_FRAME_PIXELS = 8192 * 8192
DEFAULT_MAX_DECODED_MB = 8192


@dataclass(frozen=True)
class DecodeLimits:
    max_frames: int = DEFAULT_MAX_FRAMES                 # image frames, and frames of one overlay
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS     # rows x columns of a frame or overlay
    max_decoded_bytes: int = DEFAULT_MAX_DECODED_MB << 20   # all frames of the instance, decoded


def _int(ds: pydicom.Dataset, tag: int) -> int:
    try:
        value = ds[tag].value if tag in ds else None
        if isinstance(value, (list, tuple)) or type(value).__name__ == "MultiValue":
            value = value[0] if len(value) else None
        return int(value) if value not in (None, "") else 0
    except Exception:  # hostile elements raise anything when parsed lazily
        return 0


def check_limits(ds: pydicom.Dataset, layout, limits: DecodeLimits) -> None:
    """Raise DicomInputError naming the limit (and its configuration key) that is passed."""
    if layout is not None:
        if layout.frames > limits.max_frames:
            raise DicomInputError(f"{layout.frames} frames, over the limit of {limits.max_frames} "
                                  f"(processing.max_frames)")
        pixels = layout.rows * layout.columns
        if pixels > limits.max_frame_pixels:
            raise DicomInputError(f"frame of {layout.rows}x{layout.columns} pixels, over the limit "
                                  f"of {limits.max_frame_pixels} (processing.max_frame_pixels)")
        total = layout.frame_bytes * layout.frames
        if total > limits.max_decoded_bytes:
            raise DicomInputError(f"{total >> 20} MiB of decoded pixels, over the limit of "
                                  f"{limits.max_decoded_bytes >> 20} MiB (processing.max_decoded_mb)")
    for group in range(0x6000, 0x6020, 2):
        if (group << 16 | 0x3000) not in ds and (group << 16 | 0x0010) not in ds:
            continue
        rows = _int(ds, group << 16 | 0x0010) or (layout.rows if layout else 0)
        columns = _int(ds, group << 16 | 0x0011) or (layout.columns if layout else 0)
        frames = max(1, _int(ds, group << 16 | 0x0015))
        if rows * columns > limits.max_frame_pixels:
            raise DicomInputError(f"overlay {group:04X} of {rows}x{columns} pixels, over the limit "
                                  f"of {limits.max_frame_pixels} (processing.max_frame_pixels)")
        if frames > limits.max_frames:
            raise DicomInputError(f"overlay {group:04X} has {frames} frames, over the limit of "
                                  f"{limits.max_frames} (processing.max_frames)")
