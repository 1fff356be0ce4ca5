"""JPEG scan headers that ask for what their process cannot do, set right.

A baseline or extended JPEG (sequential DCT, SOF0/SOF1) codes every scan over the whole
spectrum at full precision: ITU T.81 (B.2.3) fixes Ss = 0, Se = 63 and Ah = Al = 0 in its
scan headers. Some encoders wrote other values there (pydicom's JPEG-lossy.dcm, a 12-bit
nuclear medicine image, says Se = 0). IJG's libjpeg (dcmtk's dcmdjpeg) warns and decodes;
pylibjpeg's libjpeg stops ("A misplaced marker segment was found"), and Pillow and GDCM
refuse 12 bits, so without a repair the image is lost. The values are fixed by the process,
so setting them guesses nothing (docs/facts.md).
"""
from __future__ import annotations

# Start-of-frame markers of the sequential DCT processes, and the start-of-scan marker.
_SOF_SEQUENTIAL = (0xC0, 0xC1)
_SOS = 0xDA


def repaired_scan_headers(stream: bytes) -> bytes | None:
    """A sequential-DCT JPEG codestream (SOF0/SOF1) whose scan headers give another spectral
    selection or approximation than T.81 requires for it, with those set right; None when
    none needs it, or when the stream is not sequential DCT (progressive or lossless scans
    mean what they say)."""
    data = bytearray(stream)
    if data[:2] != b"\xff\xd8":
        return None
    at, sequential, changed = 2, None, False
    while at + 4 <= len(data) and data[at] == 0xFF:
        marker = data[at + 1]
        if marker == 0xFF:                        # fill byte before a marker
            at += 1
            continue
        length = int.from_bytes(data[at + 2:at + 4], "big")
        if 0xC0 <= marker <= 0xCF and marker not in (0xC4, 0xC8, 0xCC):
            sequential = marker in _SOF_SEQUENTIAL
        if marker == _SOS:
            if not sequential:
                return None
            count = data[at + 4] if at + 4 < len(data) else 0
            spectral = at + 5 + 2 * count         # Ss, then Se, then Ah/Al
            if spectral + 3 > len(data):
                return None
            if bytes(data[spectral:spectral + 3]) != b"\x00\x3f\x00":
                data[spectral:spectral + 3] = b"\x00\x3f\x00"
                changed = True
            # The entropy-coded data that follows holds no 0xFF but as 0xFF00 or a restart
            # marker, so the next marker segment is the next 0xFF not followed by 0 or RSTn.
            at = spectral + 3
            while at + 1 < len(data) and not (data[at] == 0xFF and data[at + 1] != 0
                                                and not 0xD0 <= data[at + 1] <= 0xD7):
                at += 1
            continue
        if marker == 0xD9:                        # end of image
            break
        at += 2 + length
    return bytes(data) if changed else None
