"""One decoded frame -> display-ready uint8 pixels and text mask, by photometric kind.

The header-dependent glue around the pure transforms: it reads RescaleSlope/Intercept, the
photometric interpretation and (for PALETTE COLOR) the dataset's colour LUTs.
The Modality LUT Sequence and VOI LUT are ignored on purpose: the window is taken from the
data (transforms.window_grey), and a monotonic LUT would not change it.
"""
from __future__ import annotations

import logging
from dataclasses import dataclass, field

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut

from . import interlace
from .errors import DicomInputError
from .reading import PixelLayout
from .transforms import (keep_stored_bits, lut_output_to_uint8, rgb_text_mask, rgb_to_uint8,
                         window_grey)

log = logging.getLogger(__name__)


def _float(ds: pydicom.Dataset, keyword: str, default: float) -> float:
    try:
        value = ds.get(keyword)
        if isinstance(value, (list, tuple, pydicom.multival.MultiValue)):
            value = value[0] if len(value) else None
        if value is None or value == "":
            return default
        number = float(value)
        return number if np.isfinite(number) else default
    except Exception:  # hostile elements raise anything when parsed lazily
        log.debug("unreadable %s; using %s", keyword, default)
        return default


@dataclass(frozen=True)
class Display:
    """How to show the frames of one dataset."""

    layout: PixelLayout
    slope: float = 1.0
    intercept: float = 0.0
    # PALETTE COLOR: the LUT's output for every index value, by index dtype (palette_colours).
    _tables: dict[np.dtype, np.ndarray] = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def of(cls, ds: pydicom.Dataset, layout: PixelLayout) -> "Display":
        slope = _float(ds, "RescaleSlope", 1.0) or 1.0
        return cls(layout, slope, _float(ds, "RescaleIntercept", 0.0))

    @property
    def palette(self) -> bool:
        return self.layout.photometric == "PALETTE COLOR" and self.layout.samples == 1

    def palette_colours(self, indices: np.ndarray, ds: pydicom.Dataset) -> np.ndarray:
        """apply_color_lut(indices, ds), from a table of the LUT's output for every value
        the indices' dtype holds, built at the instance's first frame: pydicom reads the LUT
        anew on every call and expands a segmented one in Python each time (pydicom-data's
        16-bit ALOKA ultrasound: 52 ms a frame; 29 ms once for its table, then 4 ms a frame).
        The LUT maps each pixel on its own, so the table's rows are its answers, exactly.
        Indices wider than 16 bits are mapped directly (a table would be too large)."""
        if indices.dtype.itemsize > 2:
            return apply_color_lut(indices, ds)
        table = self._tables.get(indices.dtype)
        if table is None:
            every = np.arange(1 << (8 * indices.dtype.itemsize), dtype=indices.dtype)
            table = self._tables[indices.dtype] = apply_color_lut(every, ds)
        return table[indices]

    def fields(self, raw: np.ndarray) -> interlace.Fields:
        """How to repair the second field of this instance's frames, judged on one raw frame
        (8-bit grey or colour video; palette indexes are not values and are left alone)."""
        if self.palette or self.layout.bits_stored != 8:
            return interlace.NO_CHANGE
        return interlace.estimate(raw[..., 0] if raw.ndim == 3 and raw.shape[2] == 1 else raw)

    def render(self, raw: np.ndarray, ds: pydicom.Dataset, reuse_raw: bool = False,
               fields: interlace.Fields = interlace.NO_CHANGE) -> tuple[np.ndarray, np.ndarray | None]:
        """(uint8 pixels, text mask or None) for one raw decoded frame. reuse_raw: the caller
        is done with `raw` (its overlay bits taken), so a grey frame's bits above BitsStored
        may be dropped where they are (keep_stored_bits in_place). fields: the repair of an
        interlaced capture's second field (interlace.estimate), applied before windowing."""
        layout = self.layout
        if raw.ndim == 3 and raw.shape[2] == 1:
            raw = raw[..., 0]
        if raw.ndim == 3:
            stored = interlace.apply(keep_stored_bits(raw, layout.bits_stored, False), fields)
            rgb = rgb_to_uint8(stored, layout.bits_stored)
            return np.ascontiguousarray(rgb), rgb_text_mask(rgb)
        if self.palette:
            indices = keep_stored_bits(raw, layout.bits_stored, False)
            try:
                rgb = lut_output_to_uint8(self.palette_colours(indices, ds))
            except Exception as exc:  # pydicom's LUT code raises anything on a hostile table
                raise DicomInputError(f"bad PALETTE COLOR lookup table: {str(exc).splitlines()[0][:150]}") from None
            return np.ascontiguousarray(rgb), rgb_text_mask(rgb)
        stored = keep_stored_bits(raw, layout.bits_stored, layout.signed, in_place=reuse_raw)
        stored = interlace.apply(stored, fields)
        return window_grey(stored, self.slope, self.intercept,
                           monochrome1=layout.photometric == "MONOCHROME1")
