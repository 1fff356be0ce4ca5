"""Pure pixel transforms: stored DICOM values -> display-ready uint8, plus text masks.

Everything here takes and returns numpy arrays and plain numbers (no pydicom Dataset), so it
is tested on tiny hand-made arrays.

Why this windowing and not the header's WindowCenter/WindowWidth: burned-in text is usually
drawn at the extreme stored value (the maximum, sometimes the minimum). A clinical window
saturates those values together with bright anatomy, so the text melts into the picture.
Instead:

* the stored pixels equal to the frame's maximum (and minimum) that cover only a small part
  of the frame (at least ``text_min_pixels``, less than ``text_max_fraction``) are taken as
  "text-like";
* the rest (the bulk) is windowed linearly between robust percentiles of its own values,
  into a range that leaves headroom: ``[0, bulk_top]`` when there is high text,
  ``[bulk_bottom, 255]`` when there is low text;
* the text-like pixels themselves go to exactly 255 (high) and 0 (low).

So text keeps a crisp edge against anything else in the image, and the anatomy or the
ultrasound picture around it stays readable (OCR of surrounding labels, previews for humans).
MONOCHROME1 is inverted at the end, so that higher output always means brighter.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from pydicom.pixels.utils import unpack_bits

@dataclass(frozen=True)
class TransformParams:
    """Where text is told from the picture in stored pixels, and the window that keeps them
    apart in display pixels (defaults: today's values, measured on pydicom's and
    pydicom-data's files and on bench/make_corpus.py corpora; the OCR scores of
    bench/score_scan.py move with them)."""

    text_max_fraction: float = 0.15
    """A stored extreme value is "text-like" when it covers more than 0 and less than this
    fraction of the frame. Measured on the bundled ultrasound/MR files: text and graphics
    cover 0.04-3 % of a frame; air/padding at the minimum of CT/MR covers 20-70 %. Higher
    takes more padding for text; lower misses dense text screens."""

    text_min_pixels: int = 10
    """...and at least this many pixels: one glyph of the smallest legible font has more; a
    lone hot pixel at the maximum is not text (the percentile window absorbs it instead)."""

    bulk_low_percentile: float = 0.5
    """Robust window of the bulk: the low percentile, which ignores a few dark outliers;
    higher saturates more of the picture's dark end."""

    bulk_high_percentile: float = 99.5
    """...and the high one, which ignores hot pixels and metal; lower saturates more of the
    picture's bright end."""

    bulk_top: int = 210
    """The brightest output level of the bulk when text sits at the top extreme: the
    headroom up to 255 keeps text apart from the brightest anatomy for the "bright" ink
    (ocr/prepare.py), at the cost of the picture's contrast."""

    bulk_bottom: int = 45
    """The darkest output level of the bulk when text sits at the bottom extreme (the same
    trade at the dark end)."""

    percentile_samples: int = 1 << 18
    """Percentiles are taken on at most about this many samples (frames can be 4k x 4k):
    more is slower and barely moves the window."""

    rgb_neutral_spread: int = 40
    """RGB text is a bright neutral (grey/white) level or a saturated pure colour; each band
    below, made wider, follows text smeared by lossy JPEG further and takes in more of
    the picture. A pixel is "neutral" when max(channel) - min(channel) is at most this."""

    rgb_bright_floor: int = 160
    """A bright neutral level is at least this bright."""

    rgb_bright_band: int = 40
    """Neutral pixels within this of the brightest neutral level count as its text."""

    rgb_saturated_high: int = 200
    """A channel at or above this is "on" (a saturated colour)."""

    rgb_saturated_low: int = 60
    """A channel at or below this is "off" (a saturated colour)."""


TRANSFORMS = TransformParams()

# The defaults under their old names.
TEXT_MAX_FRACTION = TRANSFORMS.text_max_fraction
BULK_TOP = TRANSFORMS.bulk_top
BULK_BOTTOM = TRANSFORMS.bulk_bottom


def native_order(arr: np.ndarray) -> np.ndarray:
    """The array in the machine's byte order (big endian datasets decode to '>u2' arrays,
    and bit operations on a reinterpreting view would scramble them)."""
    if arr.dtype.isnative:
        return arr
    return arr.astype(arr.dtype.newbyteorder("="))


def keep_stored_bits(arr: np.ndarray, bits_stored: int, signed: bool,
                     in_place: bool = False) -> np.ndarray:
    """Drop the bits above BitsStored, sign-extending signed data (two's complement).

    Unsigned data are masked. Signed data are shifted left then arithmetically right, so a
    12-bit -1 (0x0FFF in a 16-bit cell) becomes -1, never the bright 4095 that masking with
    ``& 0x0FFF`` would give. Non-integer arrays and BitsStored >= the cell size pass through.
    in_place: the caller is done with `arr`; when it owns its memory and may be written
    (a decoder's output, not a view of the dataset's bytes) it is changed where it is, and
    returned as the other dtype's view (a 2500x2000 frame: 10 MB less at once).
    """
    if arr.dtype.kind not in "iu":
        return arr
    arr = native_order(arr)
    cell_bits = arr.dtype.itemsize * 8
    if bits_stored <= 0 or bits_stored >= cell_bits:
        return arr
    shift = cell_bits - bits_stored
    kind = np.dtype(f"{'i' if signed else 'u'}{arr.dtype.itemsize}")
    cells = arr.view(kind)
    if in_place and arr.flags.writeable and arr.flags.owndata:
        if signed:
            np.left_shift(cells, shift, out=cells)
            np.right_shift(cells, shift, out=cells)
        else:
            np.bitwise_and(cells, (1 << bits_stored) - 1, out=cells)
        return cells
    if signed:
        return np.right_shift(np.left_shift(cells, shift), shift)
    return np.bitwise_and(cells, (1 << bits_stored) - 1)


def bit_plane(arr: np.ndarray, bit: int) -> np.ndarray:
    """Bool array of bit number ``bit`` of each integer cell (for overlays in high bits).

    The cell is read as unsigned, so bit 15 of a signed 16-bit value is its sign bit.
    Bits beyond the cell size give an all-False plane.
    """
    if arr.dtype.kind not in "iu" or bit < 0 or bit >= arr.dtype.itemsize * 8:
        return np.zeros(arr.shape[:2], dtype=bool)
    cells = native_order(arr).view(np.dtype(f"u{arr.dtype.itemsize}"))
    return ((cells >> bit) & 1).astype(bool)


def unpack_overlay_bits(data: bytes, rows: int, columns: int, frames: int = 1) -> np.ndarray:
    """OverlayData (60xx,3000) -> bool array (frames, rows, columns).

    Bits are packed little-endian-first (PS3.5 8.1.1, Annex D): bit 0 of byte 0 is the first
    pixel, and frames follow each other in the same bit stream without padding. Data shorter
    than declared are padded with zeros (a damaged overlay still shows what it holds).
    """
    needed = rows * columns * frames
    bits = unpack_bits(data)          # pydicom's: 0/1 per bit, bit 0 of byte 0 first
    if bits.size < needed:
        bits = np.concatenate([bits, np.zeros(needed - bits.size, dtype=np.uint8)])
    return bits[:needed].astype(bool).reshape(frames, rows, columns)


def overlay_to_uint8(plane: np.ndarray) -> np.ndarray:
    """Overlay bit plane -> uint8 white (255) on black (0)."""
    return np.where(plane, np.uint8(255), np.uint8(0))


def rescale(stored: np.ndarray, slope: float = 1.0, intercept: float = 0.0) -> np.ndarray:
    """Modality LUT by RescaleSlope/RescaleIntercept, as float32 (a zero slope counts as 1)."""
    values = stored.astype(np.float32, copy=True)
    if slope not in (0.0, 1.0):
        values *= np.float32(slope)
    if intercept != 0.0:
        values += np.float32(intercept)
    return values


def _fraction_ok(count: int, total: int, max_fraction: float, params: TransformParams) -> bool:
    return total > 0 and params.text_min_pixels <= count < max_fraction * total


def extreme_masks(stored: np.ndarray, max_fraction: float = TEXT_MAX_FRACTION,
                  params: TransformParams = TRANSFORMS) -> tuple[np.ndarray | None, np.ndarray | None]:
    """(high, low): bool masks of pixels at the maximum / minimum stored value, each only when
    that value covers at least text_min_pixels pixels and less than ``max_fraction`` of the
    frame, else None.
    """
    if stored.size == 0:
        return None, None
    finite = np.nan_to_num(stored) if stored.dtype.kind == "f" else stored
    top, bottom = finite.max(), finite.min()
    if top == bottom:
        return None, None
    high = finite == top
    low = finite == bottom
    high_ok = _fraction_ok(int(np.count_nonzero(high)), finite.size, max_fraction, params)
    low_ok = _fraction_ok(int(np.count_nonzero(low)), finite.size, max_fraction, params)
    return (high if high_ok else None), (low if low_ok else None)


def grey_text_mask(stored: np.ndarray, max_fraction: float = TEXT_MAX_FRACTION,
                   params: TransformParams = TRANSFORMS) -> np.ndarray | None:
    """Union of the qualifying extreme masks of a grey frame, or None."""
    high, low = extreme_masks(stored, max_fraction, params)
    if high is None:
        return low
    if low is None:
        return high
    return high | low


def _sample(values: np.ndarray, params: TransformParams) -> np.ndarray:
    flat = values.ravel()
    step = max(1, flat.size // params.percentile_samples)
    return flat[::step]


# Rows of a frame taken at a time when sampling its bulk (below): bounds the copies to a few MB.
_SAMPLE_CHUNK = 1 << 20


def _bulk_sample(values: np.ndarray, text: np.ndarray | None, params: TransformParams) -> np.ndarray:
    """_sample(values[~text]) without copying the bulk: the same elements (every step-th
    pixel outside the text mask, in C order), gathered chunk by chunk. On a 1955x1841 CR
    the copy was 14 MB of float32 and a 3.6 MB inverted mask at the scan's peak."""
    if text is None:
        return _sample(values, params)
    flat, mask = values.ravel(), text.ravel()
    total = flat.size - int(np.count_nonzero(mask))
    step = max(1, total // params.percentile_samples)
    parts, seen = [], 0
    for start in range(0, flat.size, _SAMPLE_CHUNK):
        chunk = flat[start:start + _SAMPLE_CHUNK][~mask[start:start + _SAMPLE_CHUNK]]
        parts.append(chunk[(-seen) % step::step].copy())     # not a view: it would keep the chunk
        seen += chunk.size
    return np.concatenate(parts) if parts else flat[:0]


# Pixels looked up at a time: indexing makes a 64-bit copy of its index (512 KB here).
_LOOKUP_CHUNK = 1 << 16


def _look_up(table: np.ndarray, stored: np.ndarray, first: int) -> np.ndarray:
    """table[stored - first], a chunk at a time."""
    out = np.empty(stored.shape, np.uint8)
    flat_in, flat_out = stored.reshape(-1), out.reshape(-1)
    index = np.empty(min(_LOOKUP_CHUNK, flat_in.size), np.intp)
    for start in range(0, flat_in.size, _LOOKUP_CHUNK):
        part = flat_in[start:start + _LOOKUP_CHUNK]
        at = index[:part.size]
        at[...] = part               # widened first: int8 - first could wrap
        at -= first
        np.take(table, at, out=flat_out[start:start + part.size])
    return out


def window_grey(stored: np.ndarray, slope: float = 1.0, intercept: float = 0.0,
                monochrome1: bool = False, max_fraction: float = TEXT_MAX_FRACTION,
                params: TransformParams = TRANSFORMS) -> tuple[np.ndarray, np.ndarray | None]:
    """Grey stored values (already bit-corrected and sign-extended) -> (uint8, text_mask).

    See the module docstring for the window. A constant frame gives all zeros (before the
    MONOCHROME1 inversion) and no mask.
    """
    stored = np.asarray(stored)
    if stored.dtype.kind == "f":
        stored = np.nan_to_num(stored)
    high, low = extreme_masks(stored, max_fraction, params)
    if slope < 0:      # a negative slope swaps which stored extreme is brightest
        high, low = low, high

    text = None
    if high is not None and low is not None:
        text = high | low
    else:
        text = high if high is not None else low
    out_low = params.bulk_bottom if low is not None else 0
    out_high = params.bulk_top if high is not None else 255

    # Integers of 16 bits or fewer take at most 65,536 values: the window is worked out once
    # per value, in a table, with the same float32 steps, and looked up (the same bytes,
    # without a float32 copy of the frame: 20 MB for a 2500x2000 CR). Other data: per pixel.
    table = stored.dtype.kind in "iu" and stored.dtype.itemsize <= 2 and stored.size > 0
    if table:
        first = int(stored.min())
        values = rescale(np.arange(first, int(stored.max()) + 1), slope, intercept)
        sample = rescale(_bulk_sample(stored, text, params), slope, intercept)
    else:
        values = rescale(stored, slope, intercept)
        sample = _bulk_sample(values, text, params)

    scaled = None
    if sample.size:
        lo, hi = np.percentile(sample, [params.bulk_low_percentile, params.bulk_high_percentile])
        if hi <= lo:
            lo, hi = float(sample.min()), float(sample.max())
        if hi > lo:
            # In place: `values` is this function's own float32 copy (rescale), and each
            # step rounds as the out-of-place expression did, so the bytes are the same.
            scaled = values
            scaled -= np.float32(lo)
            scaled *= np.float32((out_high - out_low) / (hi - lo))
            scaled += np.float32(out_low)
            np.clip(scaled, out_low, out_high, out=scaled)
            scaled += np.float32(0.5)
            scaled = scaled.astype(np.uint8)
    if scaled is None:
        out = np.full(stored.shape, out_low if sample.size else 0, dtype=np.uint8)
    elif table:
        out = _look_up(scaled, stored, first)
    else:
        out = scaled
    if high is not None:
        out[high] = 255
    if low is not None:
        out[low] = 0
    if monochrome1:
        out = np.uint8(255) - out
    return out, text


def rgb_to_uint8(rgb: np.ndarray, bits_stored: int = 8) -> np.ndarray:
    """RGB samples of any depth -> uint8 (rows, cols, 3), full scale = 2**BitsStored - 1."""
    if rgb.dtype == np.uint8:
        return rgb
    if rgb.dtype.kind == "f":
        top = float(np.nanmax(rgb)) if rgb.size else 1.0
        scale = 255.0 / top if top > 0 else 1.0
    else:
        full = (1 << bits_stored) - 1 if 0 < bits_stored <= 32 else int(rgb.max())
        scale = 255.0 / full if full > 0 else 1.0
    out = np.nan_to_num(rgb.astype(np.float64)) * scale
    return np.clip(out + 0.5, 0, 255).astype(np.uint8)


def lut_output_to_uint8(rgb: np.ndarray) -> np.ndarray:
    """Palette (LUT) output -> uint8. 16-bit LUT entries are scaled down by 256, unless the
    table only uses 0..255 (some writers declare 16-bit entries holding 8-bit values).
    """
    if rgb.dtype == np.uint8:
        return rgb
    if rgb.size and int(rgb.max()) <= 255:
        return rgb.astype(np.uint8)
    return (rgb.astype(np.uint32) >> 8).astype(np.uint8)


def rgb_text_mask(rgb: np.ndarray, max_fraction: float = TEXT_MAX_FRACTION,
                  params: TransformParams = TRANSFORMS) -> np.ndarray | None:
    """Bool mask of likely text in a uint8 RGB frame, or None.

    Candidates, each kept only when it covers at least text_min_pixels pixels and less than
    ``max_fraction`` of the frame:
    the brightest neutral (white/grey) level of the frame (within ``rgb_bright_band``, and at
    least ``rgb_bright_floor``), and each saturated pure colour (red, green, yellow, cyan...:
    every channel clearly on or off). Ultrasound annotations are white, light grey, green,
    yellow or cyan; lossy JPEG smears them, hence the bands rather than exact values.
    """
    if rgb.ndim != 3 or rgb.shape[2] < 3 or rgb.size == 0:
        return None
    if rgb.dtype != np.uint8:
        rgb = rgb_to_uint8(rgb)
    import cv2

    # The channels as planes of their own (OpenCV's split, min and max: 0.2 ms a 640x480 frame,
    # against 0.9 ms for numpy's minimum and maximum over the interleaved channels).
    red, green, blue = cv2.split(np.ascontiguousarray(rgb[..., :3]))
    total = rgb.shape[0] * rgb.shape[1]
    low_channel = cv2.min(cv2.min(red, green), blue)
    high_channel = cv2.max(cv2.max(red, green), blue)
    masks: list[np.ndarray] = []

    p = params
    neutral = (high_channel - low_channel) <= p.rgb_neutral_spread     # uint8: high >= low
    neutral_levels = low_channel[neutral]
    if neutral_levels.size:
        brightest = int(neutral_levels.max())
        if brightest >= p.rgb_bright_floor:
            floor = max(p.rgb_bright_floor, brightest - p.rgb_bright_band)
            bright = neutral & (low_channel >= floor)
            if _fraction_ok(int(np.count_nonzero(bright)), total, max_fraction, p):
                masks.append(bright)

    # Saturated pure colours: every channel clearly on or off, at least one of each.
    clear = (high_channel >= p.rgb_saturated_high) & (low_channel <= p.rgb_saturated_low)
    if clear.any():
        on_r, on_g, on_b = (red >= p.rgb_saturated_high, green >= p.rgb_saturated_high,
                            blue >= p.rgb_saturated_high)
        for channel, on in ((red, on_r), (green, on_g), (blue, on_b)):
            clear &= on | (channel <= p.rgb_saturated_low)
        code = (on_r.astype(np.uint8) << 2) | (on_g.astype(np.uint8) << 1) | on_b.astype(np.uint8)
        counts = np.bincount(code[clear], minlength=8)
        for colour in np.flatnonzero(counts):
            if _fraction_ok(int(counts[colour]), total, max_fraction, p):
                masks.append(clear & (code == colour))

    if not masks:
        return None
    combined = masks[0]
    for mask in masks[1:]:
        combined = combined | mask
    return combined
