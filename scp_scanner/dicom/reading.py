"""Reading a file into a pydicom Dataset, and refusing what cannot be processed, early and
with a one-line reason (DicomInputError) instead of a traceback deep in a decoder.

Reading parses the header and keeps the encoded pixel bytes; nothing is decoded here.
"""
from __future__ import annotations

import logging
import os
import struct
import warnings
from dataclasses import dataclass
from pathlib import Path

import pydicom
from pydicom import uid as uids
from pydicom.dataelem import RawDataElement
from pydicom.encaps import parse_fragments
from pydicom.multival import MultiValue

from .errors import DicomInputError, NoImagesError, NotDicomError
from .limits import DecodeLimits, check_limits

log = logging.getLogger(__name__)

PIXEL_KEYWORDS = ("PixelData", "FloatPixelData", "DoubleFloatPixelData")
PIXEL_TAGS = {"PixelData": 0x7FE00010, "FloatPixelData": 0x7FE00008, "DoubleFloatPixelData": 0x7FE00009}
# Decoded size limits: one frame, and all frames together (frames are decoded one at a time,
# so the total only guards against absurd headers, not memory).
MAX_FRAME_BYTES = 1 << 30
MAX_TOTAL_BYTES = 16 << 30
# Groups a DICOM stream without preamble/meta plausibly starts with.
_FIRST_GROUPS = {0x0002, 0x0004, 0x0008, 0x0010, 0x0018, 0x0020, 0x0028}
_VRS = {b"AE", b"AS", b"AT", b"CS", b"DA", b"DS", b"DT", b"FD", b"FL", b"IS", b"LO", b"LT",
        b"OB", b"OD", b"OF", b"OL", b"OV", b"OW", b"PN", b"SH", b"SL", b"SQ", b"SS", b"ST",
        b"SV", b"TM", b"UC", b"UI", b"UL", b"UN", b"UR", b"US", b"UT", b"UV"}


@dataclass(frozen=True)
class PixelLayout:
    """The Image Pixel module values that decide how frames are decoded and shown."""

    keyword: str                 # PixelData | FloatPixelData | DoubleFloatPixelData
    transfer_syntax: pydicom.uid.UID
    rows: int
    columns: int
    frames: int
    samples: int
    bits_allocated: int
    bits_stored: int
    signed: bool
    photometric: str

    @property
    def syntax_name(self) -> str:
        """The transfer syntax's name for messages ("JPEG Extended (Process 2 and 4)")."""
        return getattr(self.transfer_syntax, "name", str(self.transfer_syntax)) or "unknown"

    @property
    def frame_bytes(self) -> int:
        """Decoded bytes of one frame as stored natively (YBR_FULL_422 keeps 2 samples/pixel)."""
        samples = 2 if (self.photometric == "YBR_FULL_422" and self.samples == 3) else self.samples
        bits = self.rows * self.columns * samples * self.bits_allocated
        if self.bits_allocated == 1:
            return (bits + 7) // 8
        return bits // 8

    @property
    def native_bytes(self) -> int:
        """Bytes of every frame as stored natively. 1-bit frames are packed one after another
        with no padding between them (PS3.5 8.1.1), so their total is not frames x frame_bytes
        when a frame's bits are not a multiple of 8."""
        if self.bits_allocated == 1:
            return (self.rows * self.columns * self.samples * self.frames + 7) // 8
        return self.frame_bytes * self.frames


def _looks_like_dicom_without_preamble(head: bytes) -> bool:
    """A dataset written without preamble and File Meta: the first element must be a
    plausible low group in little or big endian, explicit (a known VR) or implicit VR."""
    if len(head) < 8:
        return False
    for order in ("<", ">"):
        group, element = struct.unpack(order + "HH", head[:4])
        if group not in _FIRST_GROUPS:
            continue
        if head[4:6] in _VRS:
            return True
        (length,) = struct.unpack(order + "I", head[4:8])
        if order == "<" and (length < (1 << 24) or length == 0xFFFFFFFF) and element < 0x2000:
            return True
    return False


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _int(ds: pydicom.Dataset, keyword: str, default: int | None = None) -> int | None:
    """An integer attribute, None (or default) when absent; DicomInputError when unreadable."""
    try:
        value = ds.get(keyword)
    except Exception as exc:  # hostile elements raise anything when parsed lazily
        raise DicomInputError(f"invalid {keyword}: {_first_line(exc)}") from None
    if value is None or value == "":
        return default
    if isinstance(value, (list, tuple, MultiValue)):
        value = value[0] if len(value) else default
    try:
        return int(value)
    except (TypeError, ValueError):
        raise DicomInputError(f"invalid {keyword} {value!r}") from None


def set_transfer_syntax(ds: pydicom.Dataset) -> None:
    """Give a dataset read without File Meta the Transfer Syntax UID its encoding implies,
    so pydicom's pixel decoders can run on it."""
    meta = getattr(ds, "file_meta", None)
    if meta is None:
        meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta = meta
    if meta.get("TransferSyntaxUID"):
        return
    try:
        compressed = _is_undefined_length(ds)
    except Exception:  # a guess only: anything unreadable means not compressed
        compressed = False
    if compressed:
        raise DicomInputError("compressed pixel data but no Transfer Syntax UID in the file meta")
    implicit, little = ds.original_encoding
    if implicit is None:
        implicit, little = True, True
    if implicit:
        meta.TransferSyntaxUID = uids.ImplicitVRLittleEndian
    elif little:
        meta.TransferSyntaxUID = uids.ExplicitVRLittleEndian
    else:
        meta.TransferSyntaxUID = uids.ExplicitVRBigEndian


def _is_undefined_length(ds: pydicom.Dataset) -> bool:
    raw = ds.get_item(0x7FE00010)
    if isinstance(raw, RawDataElement):
        return raw.length == 0xFFFFFFFF
    return bool(getattr(raw, "is_undefined_length", False))


def _check_elements(ds: pydicom.Dataset) -> None:
    """Find truncation and damaged elements now, not in the middle of a decoder.

    A top-level element whose value is shorter than its declared length means the file ended
    early (pydicom keeps the short value silently). An element whose value cannot be
    converted (a garbled VR, say) is an error when it describes the pixels or overlays
    (groups 0028, 60xx, 7FE0); elsewhere it is dropped with a warning, so one damaged
    description does not hide the images.
    """
    for tag in list(ds.keys()):
        name = pydicom.datadict.keyword_for_tag(tag) or str(tag)
        try:
            raw = ds.get_item(tag)       # may already convert (and fail) for odd VRs
            if isinstance(raw, RawDataElement) and raw.value is not None:
                if raw.length != 0xFFFFFFFF and len(raw.value) < raw.length:
                    raise DicomInputError(
                        f"truncated file: {name} has {len(raw.value)} of {raw.length} bytes")
            ds[tag]
        except DicomInputError:
            raise
        except Exception as exc:  # hostile elements raise anything when parsed lazily
            if tag.group in (0x0028, 0x7FE0) or 0x6000 <= tag.group <= 0x60FF:
                raise DicomInputError(f"corrupt element {name}: {_first_line(exc)}") from None
            log.warning("dropping damaged element %s: %s", name, _first_line(exc))
            del ds[tag]


def has_overlays(ds: pydicom.Dataset) -> bool:
    """Whether any 60xx overlay group with data or a size is present."""
    for tag in ds.keys():
        if 0x6000 <= tag.group <= 0x601E and tag.group % 2 == 0 and tag.element in (0x3000, 0x0010):
            return True
    return False


def pixel_keyword(ds: pydicom.Dataset) -> str | None:
    for keyword in PIXEL_KEYWORDS:
        if PIXEL_TAGS[keyword] in ds:
            return keyword
    return None


def pixel_layout(ds: pydicom.Dataset) -> PixelLayout | None:
    """Validated Image Pixel values of a dataset, or None when it has no pixel data.

    Raises DicomInputError for missing or absurd values and for native pixel data shorter
    than its header declares.
    """
    keyword = pixel_keyword(ds)
    if keyword is None:
        return None
    missing = [k for k in ("Rows", "Columns", "BitsAllocated", "SamplesPerPixel",
                           "PhotometricInterpretation") if k not in ds]
    if missing:
        raise DicomInputError(f"pixel data without {', '.join(missing)}")
    rows, columns = _int(ds, "Rows"), _int(ds, "Columns")
    bits_allocated = _int(ds, "BitsAllocated")
    samples = _int(ds, "SamplesPerPixel")
    bits_stored = _int(ds, "BitsStored", bits_allocated)
    frames = _int(ds, "NumberOfFrames", 1) or 1
    signed = bool(_int(ds, "PixelRepresentation", 0))
    try:
        photometric = str(ds.PhotometricInterpretation).strip().upper()
    except Exception as exc:  # hostile elements raise anything when parsed lazily
        raise DicomInputError(f"invalid PhotometricInterpretation: {_first_line(exc)}") from None
    if not rows or not columns or rows < 0 or columns < 0:
        raise DicomInputError(f"invalid image size {rows}x{columns}")
    if frames < 0:
        raise DicomInputError(f"invalid NumberOfFrames {frames}")
    if samples not in (1, 3):
        raise DicomInputError(f"unsupported SamplesPerPixel {samples}")
    if keyword == "PixelData" and bits_allocated not in (1, 8, 16, 32, 64):
        raise DicomInputError(f"unsupported BitsAllocated {bits_allocated}")
    if keyword != "PixelData":
        bits_allocated = 32 if keyword == "FloatPixelData" else 64
        bits_stored = bits_allocated
    if bits_stored is None or not 0 < bits_stored <= bits_allocated:
        bits_stored = bits_allocated
    meta = getattr(ds, "file_meta", None)
    transfer_syntax = pydicom.uid.UID(str(meta.get("TransferSyntaxUID", ""))) if meta is not None else ""
    layout = PixelLayout(keyword, transfer_syntax, rows, columns, frames, samples,
                         bits_allocated, bits_stored, signed, photometric)

    if layout.frame_bytes > MAX_FRAME_BYTES or layout.frame_bytes * frames > MAX_TOTAL_BYTES:
        raise DicomInputError(
            f"absurd image size {rows}x{columns}x{samples}x{bits_allocated} bits, {frames} frames")

    try:
        data = getattr(ds, keyword)
    except Exception as exc:  # hostile elements raise anything when parsed lazily
        raise DicomInputError(f"unreadable {keyword}: {_first_line(exc)}") from None
    if data is None:
        raise DicomInputError(f"empty {keyword}")
    try:
        encapsulated = keyword == "PixelData" and transfer_syntax.is_encapsulated
    except ValueError:
        raise DicomInputError(f"unsupported transfer syntax {transfer_syntax or '(empty)'}") from None
    if encapsulated:
        try:
            count, _ = parse_fragments(bytes(data[:]) if not isinstance(data, bytes) else data)
        except Exception as exc:  # hostile fragments raise anything from pydicom's parser
            raise DicomInputError(f"corrupt compressed pixel data: {_first_line(exc)}") from None
        fragments = count - 1          # the first item is the Basic Offset Table
        if fragments < 1:
            raise DicomInputError("compressed pixel data has no fragments")
        # A video syntax stores one stream for all frames (dicom/video.py), in any number
        # of fragments.
        if fragments < frames and transfer_syntax not in pydicom.uid.MPEGTransferSyntaxes:
            raise DicomInputError(
                f"NumberOfFrames {frames} exceeds the {fragments} compressed fragments")
    else:
        expected = layout.native_bytes
        if len(data) < expected:
            raise DicomInputError(
                f"{keyword} shorter than declared: {len(data)} of {expected} bytes "
                f"({rows}x{columns}, {frames} frame(s), {bits_allocated} bits)")
    return layout


def read_dataset(path: str | os.PathLike[str], limits: DecodeLimits | None = None) -> pydicom.Dataset:
    """Read and check one file. Raises DicomInputError with a one-line reason, also when the
    header declares more than `limits` allow (checked before anything is decoded).

    Files with the 128-byte preamble and "DICM" are read as usual; files without preamble and
    File Meta are read only when their first bytes look like a DICOM data element.
    """
    path = Path(path)
    try:
        with path.open("rb") as handle:
            head = handle.read(132)
    except OSError as exc:
        raise DicomInputError(f"cannot open: {exc.strerror or _first_line(exc)}") from None
    if not head:
        raise NotDicomError("empty file")
    has_preamble = len(head) == 132 and head[128:132] == b"DICM"
    if not has_preamble and not _looks_like_dicom_without_preamble(head):
        raise NotDicomError("not a DICOM file")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            ds = pydicom.dcmread(path, force=not has_preamble)
        except Exception as exc:  # pydicom raises anything on a hostile file
            raise DicomInputError(f"corrupt DICOM: {_first_line(exc)}") from None
    for warning in caught:
        message = str(warning.message)
        if "End of file reached" in message or "unexpected end" in message.lower():
            raise DicomInputError("truncated file: it ends inside the pixel data or a sequence")
        log.debug("%s: %s", path, message)
    if len(ds) == 0:
        raise NotDicomError("not a DICOM file (no data elements)")

    _check_elements(ds)
    set_transfer_syntax(ds)
    layout = pixel_layout(ds)
    if layout is None and not has_overlays(ds):
        raise NoImagesError("no pixel data and no overlays", ds)
    check_limits(ds, layout, limits or DecodeLimits())
    return ds
