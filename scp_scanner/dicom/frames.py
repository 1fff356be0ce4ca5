"""Decoding PixelData frame by frame, keeping the bits above BitsStored.

pydicom 3 (pydicom/pixels/decoders/base.py) applies `correct_unused_bits=True` by default for
native, RLE and JPEG syntaxes: it shifts every cell left then right by BitsAllocated-BitsStored,
which erases overlays embedded in the high bits. For JPEG 2000 and JPEG-LS it applies only a
sign correction and keeps whatever precision the codestream has. We therefore ask for
`correct_unused_bits=False` (a documented decoder option, passed through `iter_pixels`
kwargs), read overlay bit planes from the raw cells, and drop the unused bits ourselves
(transforms.keep_stored_bits) before windowing, for every syntax alike.

`iter_pixels` decodes one frame at a time (native: one frame's slice; encapsulated: one
frame's fragments), so a 120-frame cine never needs all frames in memory.
"""
from __future__ import annotations

import logging
from collections.abc import Iterator

import numpy as np
import pydicom
from pydicom.encaps import encapsulate, generate_frames
from pydicom.pixels import get_decoder, iter_pixels

from .errors import DicomInputError
from .jpeg_scan import repaired_scan_headers
from .reading import PixelLayout
from .transforms import native_order
from .video import check_video_decoder, is_video, iter_video_frames

log = logging.getLogger(__name__)


def _reason(exc: BaseException) -> str:
    """One line: pydicom's summary plus the first plugin's own error when it lists them."""
    lines = [line.strip() for line in str(exc).strip().splitlines() if line.strip()]
    if not lines:
        return type(exc).__name__
    text = lines[0].rstrip(":") + (f": {lines[1]}" if len(lines) > 1 and lines[0].endswith(":") else "")
    return text[:300]


def check_decoder(layout: PixelLayout) -> None:
    """Raise DicomInputError when no installed decoder handles the transfer syntax."""
    syntax = layout.transfer_syntax
    name = layout.syntax_name
    if not syntax:
        raise DicomInputError("no Transfer Syntax UID")
    if is_video(layout):
        check_video_decoder(layout)
        return
    try:
        decoder = get_decoder(syntax)
    except NotImplementedError:
        raise DicomInputError(f"unsupported transfer syntax {name} ({syntax})") from None
    if not decoder.is_available:
        missing = "; ".join(decoder.missing_dependencies) or "a decoder plugin"
        raise DicomInputError(f"no decoder installed for {name}: needs {missing}")


# JPEG baseline (the usual ultrasound cine): Pillow's libjpeg-turbo decodes a 640x480 frame
# ~4x faster than pylibjpeg's libjpeg (120 echo frames: 0.11 s against 0.45 s), and the
# YCbCr -> RGB step, done by OpenCV's integer code rather than pydicom's float code (0.49 s
# for the same frames), becomes ~0.05 s. Decoders differ by a level or so in some pixels (both
# are conforming JPEG decoders); any frame Pillow cannot decode is decoded by pydicom's usual
# plugins instead.
_FAST_JPEG = {pydicom.uid.JPEGBaseline8Bit}
_YBR_FULL = {"YBR_FULL", "YBR_FULL_422"}


def _ybr_to_rgb(frame: np.ndarray) -> np.ndarray:
    """8-bit full-range YCbCr (JPEG's, as DICOM's YBR_FULL) to RGB. OpenCV converts from Y, Cr,
    Cb: the channels are swapped with mixChannels (0.2 ms a 640x480 frame, against 2.1 ms for
    numpy's `frame[..., (0, 2, 1)]`)."""
    import cv2

    swapped = np.empty(frame.shape, np.uint8)
    cv2.mixChannels([np.ascontiguousarray(frame)], [swapped], [0, 0, 2, 1, 1, 2])
    return cv2.cvtColor(swapped, cv2.COLOR_YCrCb2RGB)


def _pillow_ready() -> bool:
    try:
        return bool(get_decoder(pydicom.uid.JPEGBaseline8Bit).is_available)  # Pillow is a core dependency
    except Exception:   # noqa: BLE001 - no decoder registry: use pydicom's defaults
        return False


# JPEG's sequential DCT processes (baseline, extended): a frame of theirs that no plugin
# decodes is tried again with its scan headers set right (dicom/jpeg_scan.py).
_SEQUENTIAL_DCT = {pydicom.uid.JPEGBaseline8Bit, pydicom.uid.JPEGExtended12Bit}


def _repaired_frames(ds: pydicom.Dataset, layout: PixelLayout, start: int,
                     failure: BaseException) -> Iterator[np.ndarray]:
    """Frames from `start` on, each decoded from its codestream with its scan headers set
    right (repaired_scan_headers; colour as RGB). `failure` is raised again when frame
    `start` has nothing to repair: the plugins' own reason stands."""
    decoder = get_decoder(layout.transfer_syntax)
    options = dict(rows=layout.rows, columns=layout.columns, samples_per_pixel=layout.samples,
                   bits_allocated=layout.bits_allocated, bits_stored=layout.bits_stored,
                   pixel_representation=int(layout.signed), number_of_frames=1,
                   photometric_interpretation=layout.photometric,
                   planar_configuration=int(ds.get("PlanarConfiguration", 0) or 0),
                   correct_unused_bits=False)
    streams = generate_frames(ds.PixelData, number_of_frames=layout.frames)
    for index, stream in enumerate(streams):
        if index < start:
            continue
        repaired = repaired_scan_headers(stream)
        if repaired is None and index == start:
            raise failure
        frame, _ = decoder.as_array(encapsulate([repaired or stream]), **options)
        yield frame


def _decoded(ds: pydicom.Dataset, layout: PixelLayout) -> Iterator[np.ndarray]:
    """Frames as pydicom decodes them (colour as RGB), Pillow first for JPEG baseline, video
    through FFmpeg (dicom/video.py); a sequential-DCT frame that no plugin decodes is decoded
    again with its scan headers set right (repaired_scan_headers)."""
    if is_video(layout):
        yield from iter_video_frames(ds, layout)
        return
    fast = (layout.transfer_syntax in _FAST_JPEG and layout.bits_allocated == 8 and _pillow_ready())
    done = 0
    if fast:
        ybr = layout.samples == 3 and layout.photometric in _YBR_FULL
        frames = iter_pixels(ds, correct_unused_bits=False, decoding_plugin="pillow", as_rgb=not ybr)
        try:
            for frame in frames:
                yield _ybr_to_rgb(frame) if ybr and frame.ndim == 3 else frame
                done += 1
            return
        except Exception:   # noqa: BLE001 - Pillow refused a frame: pydicom's other plugins try
            frames.close()
    rest = iter_pixels(ds, correct_unused_bits=False)
    try:
        for index, frame in enumerate(rest):
            if index >= done:
                yield frame
                done += 1
    except Exception as exc:   # noqa: BLE001 - every plugin refused frame `done`
        rest.close()
        if layout.transfer_syntax not in _SEQUENTIAL_DCT or layout.keyword != "PixelData":
            raise
        yield from _repaired_frames(ds, layout, done, exc)


def iter_raw_frames(ds: pydicom.Dataset, layout: PixelLayout) -> Iterator[np.ndarray]:
    """Yield each decoded frame with its unused high bits intact.

    Grey frames are (rows, columns); colour frames (rows, columns, 3), YBR already converted
    to RGB. At most layout.frames frames are yielded.
    """
    check_decoder(layout)
    name = layout.syntax_name
    frames = _decoded(ds, layout)
    for index in range(layout.frames):
        try:
            arr = next(frames)
        except StopIteration:
            raise DicomInputError(
                f"pixel data holds {index} frame(s), header declares {layout.frames}") from None
        except (DicomInputError, KeyboardInterrupt, SystemExit):
            raise
        except BaseException as exc:  # noqa: BLE001 - Rust decoders panic with a BaseException
            # (pylibjpeg-rle raises pyo3 PanicException on some damaged RLE segments).
            raise DicomInputError(f"cannot decode frame {index} ({name}): {_reason(exc)}") from None
        yield native_order(arr)
    if is_video(layout):
        _say_if_pictures_are_left(ds, layout, frames)
    frames.close()


def _say_if_pictures_are_left(ds: pydicom.Dataset, layout: PixelLayout, frames: Iterator[np.ndarray]) -> None:
    """A video stream may hold more pictures than its NumberOfFrames: the CSV numbers the
    frames the header declares, so the rest are not read; say so (one more picture decoded)."""
    try:
        left = next(frames, None) is not None
    except DicomInputError:     # a damaged picture past the declared frames: none to read either way
        return
    if left:
        log.warning("%s: the video holds more pictures than its NumberOfFrames (%d); those after "
                    "are not read", ds.get("SOPInstanceUID", "?"), layout.frames)
