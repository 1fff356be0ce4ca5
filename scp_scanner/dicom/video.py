"""Decoding the video transfer syntaxes (MPEG-2, MPEG-4 AVC/H.264, HEVC/H.265) frame by frame.

pydicom has no decoder for them: PS3.5 8.2.5-8.2.7 store one video stream in the
encapsulated PixelData (its fragments, in order, are the stream; NumberOfFrames counts its
pictures), as endoscopes, surgical cameras and ultrasound video recorders send it. The
stream is handed to FFmpeg's decoders through PyAV (`av`, whose wheel carries FFmpeg) in one
of the three forms a recorder writes: an MPEG-2 transport stream, an MPEG-2 program stream,
or the codec's bare elementary stream, told apart by their first bytes. FFmpeg is never left
to guess the form: its other demuxers (playlists, concatenation lists...) can open other
files and URLs, which bytes from the network must never reach. A stream whose video is not
the codec its transfer syntax names (a JPEG labelled MPEG-2) is refused. Pictures come out
in display order, one at a time, as RGB (or grey for a MONOCHROME2 video), 8 bits per
sample, or 16 bits scaled to BitsStored for HEVC Main 10: the same frames the rest of
`dicom/` gets from pydicom. PyAV is imported only when a video is decoded (the SCP's
receiving process only asks whether it is installed).

FFmpeg's decoder runs with one thread (a worker's budget is one core: docs/design.md).
"""
from __future__ import annotations

import importlib.util
import io
import itertools
import sys
from collections.abc import Iterator

import numpy as np
import pydicom
from pydicom.encaps import generate_frames
from pydicom.uid import MPEGTransferSyntaxes

from .errors import DicomInputError
from .reading import PixelLayout

VIDEO_SYNTAXES = frozenset(MPEGTransferSyntaxes)
INSTALL = "pip install av"
_MPEG2 = {pydicom.uid.MPEG2MPML, pydicom.uid.MPEG2MPMLF, pydicom.uid.MPEG2MPHL, pydicom.uid.MPEG2MPHLF}
_HEVC = {pydicom.uid.HEVCMP51, pydicom.uid.HEVCM10P51}
# FFmpeg's decoders and bare-stream demuxer for each family (the rest of the syntaxes: H.264).
_FAMILIES = {"mpeg2": ({"mpeg2video", "mpeg1video"}, "mpegvideo"),
             "h264": ({"h264"}, "h264"), "hevc": ({"hevc"}, "hevc")}
_TS_PACKET = 188


def family(syntax: pydicom.uid.UID) -> str:
    return "mpeg2" if syntax in _MPEG2 else "hevc" if syntax in _HEVC else "h264"


def container_form(stream: bytes, syntax: pydicom.uid.UID) -> str:
    """FFmpeg's demuxer for the stream: MPEG-2 transport stream (0x47 every 188 bytes),
    program stream (a pack header, 00 00 01 BA), else the codec's bare elementary stream."""
    if stream[:1] == b"\x47" and (len(stream) <= _TS_PACKET or stream[_TS_PACKET:_TS_PACKET + 1] == b"\x47"):
        return "mpegts"
    if stream[:4] == b"\x00\x00\x01\xba":
        return "mpeg"
    return _FAMILIES[family(syntax)][1]


def is_video(layout: PixelLayout) -> bool:
    return layout.transfer_syntax in VIDEO_SYNTAXES


def video_decoder_available() -> bool:
    """Is PyAV installed (with it, FFmpeg's MPEG-2, H.264 and HEVC decoders)? Asked without
    importing it (FFmpeg's libraries are ~30 MB to map)."""
    if "av" in sys.modules:
        return sys.modules["av"] is not None      # None: an import of it is blocked
    return importlib.util.find_spec("av") is not None


def check_video_decoder(layout: PixelLayout) -> None:
    """Raise DicomInputError, saying how to install it, when PyAV is missing."""
    if not video_decoder_available():
        name = layout.syntax_name
        raise DicomInputError(f"no decoder installed for {name}: needs PyAV ({INSTALL})")


def _stream(ds: pydicom.Dataset) -> bytes:
    """The video stream: every fragment of the encapsulated PixelData, in order."""
    return next(generate_frames(ds.PixelData, number_of_frames=1))


def _picture(frame, layout: PixelLayout) -> np.ndarray:
    """One decoded picture as the frame pydicom would give: (rows, columns, 3) RGB or
    (rows, columns) grey, uint8, or uint16 holding BitsStored bits."""
    deep = layout.bits_stored > 8
    if layout.samples == 1:
        pixels = frame.to_ndarray(format="gray16le" if deep else "gray")
    else:
        pixels = frame.to_ndarray(format="rgb48le" if deep else "rgb24")
    if deep:
        pixels = pixels >> (16 - min(16, layout.bits_stored))
    if pixels.shape[0] < layout.rows or pixels.shape[1] < layout.columns:
        raise DicomInputError(f"video pictures are {pixels.shape[1]}x{pixels.shape[0]}, "
                              f"the header says {layout.columns}x{layout.rows}")
    return np.ascontiguousarray(pixels[:layout.rows, :layout.columns])


def iter_video_frames(ds: pydicom.Dataset, layout: PixelLayout) -> Iterator[np.ndarray]:
    """Each picture of the dataset's video stream, in display order (see _picture)."""
    import av

    name = layout.syntax_name
    data = _stream(ds)
    try:
        container = av.open(io.BytesIO(data), mode="r", format=container_form(data, layout.transfer_syntax))
    except (av.error.FFmpegError, ValueError, StopIteration) as exc:
        raise DicomInputError(f"cannot open the {name} stream: {str(exc)[:200]}") from None
    try:
        decoders, _ = _FAMILIES[family(layout.transfer_syntax)]
        videos = [s for s in container.streams.video if s.codec_context.name in decoders]
        if not videos:
            found = ", ".join(s.codec_context.name for s in container.streams.video) or "no video"
            raise DicomInputError(f"the {name} stream holds {found}, not the video its syntax names")
        stream = videos[0]
        stream.thread_type = "SLICE"
        stream.codec_context.thread_count = 1
        pictures = container.decode(stream)
        for index in itertools.count():
            try:
                frame = next(pictures, None)
            except av.error.FFmpegError as exc:     # a damaged picture
                reason = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
                raise DicomInputError(f"cannot decode frame {index} ({name}): {reason[:300]}") from None
            if frame is None:
                return
            yield _picture(frame, layout)
    finally:
        container.close()
