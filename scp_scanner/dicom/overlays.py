"""Overlay planes (groups 6000-601E): which exist, where their bits live, which frames.

Two storage forms:
* separate: (60xx,3000) OverlayData, bits packed LSB-first, OverlayRows x OverlayColumns,
  NumberOfFramesInOverlay frames in one continuous bit stream;
* embedded (retired, still written by older XA/RF/US equipment): the plane is bit
  OverlayBitPosition of each PixelData cell, above BitsStored. pydicom's pixel_array masks
  those bits away, so the frames are decoded without that correction (see frames.py) and the
  plane is read from the raw cells.

Placement: an overlay is produced at its own rows x columns, not pasted into the image at
OverlayOrigin; OCR rectangles of an overlay are therefore in overlay pixel space, which is
the same as image space whenever the origin is 1\\1 (the usual case).

Numbering (the CSV contract, docs/design.md "The CSV contract"; the reference's
consumers, such as its redaction tool, find an overlay by this number):
* overlay = (group - 0x6000) / 2: the group's own index among the 16 possible groups, so a
  lone 6002 is overlay 1 and 6000 + 6004 are overlays 0 and 2;
* frame = the overlay frame's index within its overlay, 0..n-1; a single-frame overlay is
  frame 0. ImageFrameOrigin only says which image frame an overlay frame belongs to (it
  decides which PixelData frame holds an embedded overlay's bits), never the number.

Multi-frame: a separate overlay with NumberOfFramesInOverlay = n gives n images. An embedded
overlay lives in every image frame's cells: with NumberOfFramesInOverlay = n the image frames
ImageFrameOrigin-1 .. ImageFrameOrigin-2+n hold its frames 0..n-1; when a multi-frame image has
an embedded overlay without NumberOfFramesInOverlay, the plane of every image frame is
produced as overlay frames 0..NumberOfFrames-1 (each frame's bits can differ, and text missed
is worse than a few extra OCR calls).

Legacy embedded form: some writers (GE XA among them) declare an embedded overlay with
OverlayBitsAllocated = 1 (as for OverlayData), OverlayBitPosition at or above BitsStored, and
no OverlayData. The bits are in PixelData (other toolkits, GDCM for one, read them there), so
such a group is read as embedded.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass

import numpy as np
import pydicom

from ..model import Source
from .reading import PixelLayout
from .transforms import unpack_overlay_bits

log = logging.getLogger(__name__)

OVERLAY_GROUPS = range(0x6000, 0x601F, 2)


@dataclass(frozen=True)
class OverlayPlan:
    """One overlay group, resolved: where its bits are and which images it yields."""

    group: int
    number: int                       # the CSV overlay column: (group - 0x6000) / 2
    rows: int
    columns: int
    frame_numbers: tuple[int, ...]    # CSV frame per yielded image: 0..n-1 within the overlay
    source_frames: tuple[int, ...]    # embedded: image frame whose bits hold each image
    bit_position: int | None = None   # embedded only
    data: bytes | None = None         # separate only

    @property
    def embedded(self) -> bool:
        return self.bit_position is not None

    @property
    def source(self) -> Source:
        return Source.OVERLAY if len(self.frame_numbers) == 1 else Source.OVERLAY_FRAME


def _get(ds: pydicom.Dataset, group: int, element: int):
    elem = ds.get((group, element))
    if elem is None:
        return None
    value = elem.value
    if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
        value = value[0] if len(value) else None
    return value


def _get_int(ds: pydicom.Dataset, group: int, element: int) -> int | None:
    try:
        value = _get(ds, group, element)
        return None if value in (None, "") else int(value)
    except Exception as exc:  # hostile elements raise anything when parsed lazily
        log.warning("overlay %04X: unreadable (%04X,%04X): %s", group, group, element, exc)
        return None


def overlay_groups(ds: pydicom.Dataset) -> list[int]:
    """The overlay groups present (any element in 60xx, xx even, 00-1E), in order."""
    groups = {tag.group for tag in ds.keys() if tag.group in OVERLAY_GROUPS}
    return sorted(groups)


def _overlay_data(ds: pydicom.Dataset, group: int) -> bytes | None:
    elem = ds.get((group, 0x3000))
    if elem is None or elem.value is None or len(elem.value) == 0:
        return None
    data = bytes(elem.value)
    little = ds.original_encoding[1]
    if little is False and elem.VR == "OW" and len(data) >= 2:
        # Big endian OW: the packed bits are in 16-bit words, byte-swapped on disk.
        words = np.frombuffer(data[: len(data) // 2 * 2], dtype=">u2")
        data = words.astype("<u2").tobytes()
    return data


def _separate_plan(ds, group: int, number: int, data: bytes, layout: PixelLayout | None
                   ) -> OverlayPlan | None:
    rows = _get_int(ds, group, 0x0010) or (layout.rows if layout else None)
    columns = _get_int(ds, group, 0x0011) or (layout.columns if layout else None)
    if not rows or not columns or rows < 0 or columns < 0:
        log.warning("overlay %04X: OverlayData without OverlayRows/OverlayColumns; skipped", group)
        return None
    frames = max(1, _get_int(ds, group, 0x0015) or 1)
    needed = rows * columns * frames
    available = len(data) * 8
    if available < needed:
        log.warning("overlay %04X: OverlayData has %d of %d bits; missing bits are blank",
                    group, available, needed)
    if needed > (1 << 34):
        log.warning("overlay %04X: absurd size %dx%dx%d; skipped", group, rows, columns, frames)
        return None
    return OverlayPlan(group, number, rows, columns, tuple(range(frames)), (), None, data)


def _embedded_plan(ds, group: int, number: int, layout: PixelLayout | None) -> OverlayPlan | None:
    if layout is None or layout.keyword != "PixelData" or layout.bits_allocated <= 1:
        log.warning("overlay %04X: no OverlayData and no integer pixel data to hold it; skipped", group)
        return None
    bits_allocated = _get_int(ds, group, 0x0100)
    position = _get_int(ds, group, 0x0102)
    if position is None and bits_allocated is None:
        if _get_int(ds, group, 0x0010) is not None:
            log.warning("overlay %04X: no OverlayData and no OverlayBitPosition; skipped", group)
        return None
    if bits_allocated is not None and bits_allocated <= 1:
        # The legacy form: declared like separate data, but the bits are in PixelData. Only a
        # position among the unused high bits can hold them.
        if position is None or not layout.bits_stored <= position < layout.bits_allocated:
            log.warning("overlay %04X: OverlayBitsAllocated 1, no OverlayData and OverlayBitPosition "
                        "%s not among the unused bits %d-%d; skipped", group, position,
                        layout.bits_stored, layout.bits_allocated - 1)
            return None
        log.debug("overlay %04X: OverlayBitsAllocated 1 without OverlayData: read from bit %d "
                  "of PixelData", group, position)
    if not position:
        # Bit position 0 cannot hold an overlay next to pixel data; some writers mean
        # "the first unused bit" (as other toolkits assume).
        if layout.bits_stored < layout.bits_allocated:
            position = layout.bits_stored
        else:
            log.warning("overlay %04X: OverlayBitPosition 0 and no unused bits; skipped", group)
            return None
    if position >= layout.bits_allocated:
        log.warning("overlay %04X: OverlayBitPosition %d outside %d-bit cells; skipped",
                    group, position, layout.bits_allocated)
        return None
    if position < layout.bits_stored:
        log.warning("overlay %04X: OverlayBitPosition %d inside the %d stored bits",
                    group, position, layout.bits_stored)
    explicit_frames = _get_int(ds, group, 0x0015)
    origin = max(1, _get_int(ds, group, 0x0051) or 1)
    if layout.frames == 1:
        sources = (0,)
    elif explicit_frames is not None and explicit_frames <= 1:
        sources = (min(origin - 1, layout.frames - 1),)
    elif explicit_frames is not None:
        sources = tuple(f for f in range(origin - 1, origin - 1 + explicit_frames) if f < layout.frames)
    else:
        sources = tuple(range(layout.frames))
    if not sources:
        return None
    numbers = tuple(range(len(sources)))
    return OverlayPlan(group, number, layout.rows, layout.columns, numbers, sources, position, None)


def plan_overlays(ds: pydicom.Dataset, layout: PixelLayout | None) -> list[OverlayPlan]:
    """Every usable overlay group, in group order, numbered (group - 0x6000) / 2."""
    plans = []
    for group in overlay_groups(ds):
        number = (group - OVERLAY_GROUPS.start) // 2
        data = _overlay_data(ds, group)
        if data is not None:
            plan = _separate_plan(ds, group, number, data, layout)
        else:
            plan = _embedded_plan(ds, group, number, layout)
        if plan is not None:
            plans.append(plan)
    return plans


def separate_planes(plan: OverlayPlan) -> np.ndarray:
    """Bool (frames, rows, columns) of a separate overlay."""
    assert plan.data is not None
    return unpack_overlay_bits(plan.data, plan.rows, plan.columns, len(plan.frame_numbers))
