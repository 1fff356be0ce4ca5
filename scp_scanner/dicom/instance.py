"""Instance -> Images: every frame, then every overlay (and overlay frame), in that order.

The public entry points of the dicom package live here (read_dataset and instance_info are
re-exported from their modules).
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pydicom

from ..model import Image, Source
from .display import Display
from .errors import DicomInputError
from .frames import iter_raw_frames
from .header import instance_info
from .overlays import OverlayPlan, plan_overlays, separate_planes
from .reading import pixel_layout, read_dataset, set_transfer_syntax
from .transforms import bit_plane, overlay_to_uint8

__all__ = ["instance_info", "iter_images", "read_dataset"]

log = logging.getLogger(__name__)


def _overlay_image(plane: np.ndarray, frame: int, plan: OverlayPlan) -> Image:
    mask = plane if plane.any() else None
    return Image(overlay_to_uint8(plane), frame, plan.number, plan.source, mask)


def iter_images(ds: pydicom.Dataset, overlays: bool = True) -> Iterator[Image]:
    """Yield every frame of the pixel data (frame 0..N-1, overlay -1), then, when `overlays`,
    every overlay plane in group order (overlay = (group - 0x6000) / 2; frame 0..n-1 within
    the overlay, 0 for a single-frame overlay).

    Frames are decoded one at a time. The bit planes of embedded (high-bit) overlays are
    taken from each frame as it is decoded and kept packed (1 bit per pixel) until the
    overlays' turn. If a frame cannot be decoded, the separate overlays are still yielded
    and DicomInputError is raised at the end.
    """
    set_transfer_syntax(ds)
    layout = pixel_layout(ds)
    plans = plan_overlays(ds, layout) if overlays else []
    wanted: dict[int, list[OverlayPlan]] = {}
    for plan in plans:
        for source in plan.source_frames:
            wanted.setdefault(source, []).append(plan)
    packed: dict[tuple[int, int], np.ndarray] = {}

    failure: DicomInputError | None = None
    if layout is not None:
        display = Display.of(ds, layout)
        try:
            for index, raw in enumerate(iter_raw_frames(ds, layout)):
                for plan in wanted.get(index, ()):
                    plane = bit_plane(raw if raw.ndim == 2 else raw[..., 0], plan.bit_position or 0)
                    packed[(plan.group, index)] = np.packbits(plane, axis=None)
                if index == 0:      # a capture's fields keep their offset for the clip
                    fields = display.fields(raw)
                pixels, mask = display.render(raw, ds, reuse_raw=True, fields=fields)
                del raw
                yield Image(pixels, index, -1, Source.FRAME, mask)
        except DicomInputError as exc:
            failure = exc

    for plan in plans:
        if plan.embedded:
            if failure is not None:
                continue
            size = plan.rows * plan.columns
            for number, source in zip(plan.frame_numbers, plan.source_frames):
                bits = packed.pop((plan.group, source))
                plane = np.unpackbits(bits, count=size).astype(bool).reshape(plan.rows, plan.columns)
                yield _overlay_image(plane, number, plan)
        else:
            planes = separate_planes(plan)
            for number, plane in zip(plan.frame_numbers, planes):
                yield _overlay_image(plane, number, plan)

    if failure is not None:
        raise failure
