"""The small typed values that flow through the pipeline, in the order they flow.

Instance header facts -> Image -> TextBox -> Verdict -> Row (see output/rows.py).
Nothing here does I/O; everything is a plain value that pickles cheaply between processes.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:        # annotations only: a process that only hands files on needs no numpy
    import numpy as np


class Source(StrEnum):
    """Where an image came from inside an instance (equal to, and printed as, its string)."""

    FRAME = "frame"                  # a frame of PixelData
    OVERLAY = "overlay"              # a single-frame overlay plane (60xx)
    OVERLAY_FRAME = "overlay-frame"  # one frame of a multi-frame overlay


# The members under their earlier module-level names.
SOURCE_FRAME = Source.FRAME
SOURCE_OVERLAY = Source.OVERLAY
SOURCE_OVERLAY_FRAME = Source.OVERLAY_FRAME


@dataclass(frozen=True)
class InstanceInfo:
    """Header facts about one DICOM instance that the CSV and the PII rules need."""

    filename: str                    # what goes in the CSV `filename` column
    sop_instance_uid: str = ""
    imagetype: str = ""              # ImageType values joined with '/', empty values kept in place
    manufacturer: str = ""           # ManufacturerModelName, else Manufacturer + SoftwareVersions,
                                     # else the secondary-capture device (see dicom/header.py)
    burnedinannotation: str = ""
    # Header values that identify the person (names, IDs, dates, institution...),
    # as (attribute keyword, value as stored) pairs. Used by the PII rules.
    identifiers: tuple[tuple[str, str], ...] = ()


@dataclass(frozen=True, eq=False)
class Image:
    """One thing OCR reads: a frame, an overlay or an overlay frame, as 8-bit pixels.

    pixels: uint8, shape (rows, cols) for grey or (rows, cols, 3) for RGB, display-ready
        (windowed, MONOCHROME1 inverted so that higher is brighter, palette applied).
    text_mask: optional bool (rows, cols): pixels at an extreme stored value, where burned-in
        text usually sits. Overlays have it too (the set bits). None when nothing qualifies.
    frame, overlay: the CSV numbering: count from 0, -1 where not applicable. A frame of
        PixelData is (frame, -1); an overlay is ((index within the overlay), (group-0x6000)/2).
    """

    pixels: np.ndarray
    frame: int
    overlay: int
    source: Source = Source.FRAME
    text_mask: np.ndarray | None = None

    @property
    def height(self) -> int:
        return int(self.pixels.shape[0])

    @property
    def width(self) -> int:
        return int(self.pixels.shape[1])

    def describe(self) -> str:
        kind = "RGB" if self.pixels.ndim == 3 else "grey"
        return f"{self.source} frame={self.frame} overlay={self.overlay} {self.width}x{self.height} {kind}"


@dataclass(frozen=True)
class TextBox:
    """A piece of text found by OCR, with its rectangle in the original image's pixel space."""

    text: str
    left: int
    top: int
    right: int
    bottom: int
    confidence: float = -1.0         # 0..100, -1 when the engine gives none
    # Text seen but not read: a line of coloured annotation that the detector found and the
    # recogniser could not read (ocr/colour_text.py); its text is blank and it is flagged,
    # since what cannot be read cannot be cleared (pii/judge.py).
    unread: bool = False


@dataclass(frozen=True)
class Entity:
    """A named entity found by NER in a text: character span [start, end) and its label."""

    start: int
    end: int
    label: str                       # normalised: PERSON, ORG, LOC, DATE, ... (engine labels mapped)
    text: str = ""


@dataclass(frozen=True)
class Verdict:
    """The judgement on one image's text: per-box flags and the whole-text flag."""

    box_sensitive: tuple[bool, ...]  # one per TextBox, same order
    sensitive: bool                  # the image's text as a whole holds PII
    reasons: tuple[str, ...] = field(default=())  # e.g. "ner:PERSON 'John Smith'", "header:PatientID"
    # Why each box was flagged: one tuple per TextBox, same order, empty where nothing fired;
    # () as a whole when no box is flagged.
    box_reasons: tuple[tuple[str, ...], ...] = field(default=())

    def reasons_of(self, index: int) -> tuple[str, ...]:
        """Why box `index` was flagged (() when it was not)."""
        return self.box_reasons[index] if index < len(self.box_reasons) else ()
