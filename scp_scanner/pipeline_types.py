"""The values that cross into and out of worker processes: PipelineSettings in (what to build a
Pipeline from), InstanceResult out (what processing one instance gave).

Kept apart from pipeline.py so that a process that only hands work to workers (`scan`'s main
process, the SCP's receiver) does not import the pipeline's image analysis (OpenCV) and
engines: `import scp_scanner.scan` took 0.73 s with them, 0.29 s of it for pipeline.py.
"""
from __future__ import annotations

from dataclasses import dataclass

from .dicom.limits import DecodeLimits
from .output.rows import Row


@dataclass(frozen=True)
class PipelineSettings:
    """Everything needed to build a Pipeline in another process (plain, picklable values)."""

    ocr: str | None = None                 # "rapidocr" | "tesseract" | "easyocr" | None
    pii: str | None = None                 # "spacy" | "spacy,MODEL" | "flair,PATH" | None
    rects: bool = False
    overlays: bool = True
    ocr_options: tuple[tuple[str, object], ...] = ()   # engine keyword options, e.g. ("min_confidence", 40)
    frame_reuse: bool = True               # reuse unchanged text between frames (ocr/reuse.py)
    frame_reuse_exact: bool = False        # ... reading changed frames whole (rows = full reads)
    still_text: bool = True                # text over moving picture read from the frames' minimum (ocr/still_text.py)
    limits: DecodeLimits = DecodeLimits()              # frames / pixels / decoded bytes per instance


@dataclass(frozen=True)
class StageTimes:
    """Seconds one instance spent in each stage of the pipeline (measured where it ran)."""

    decode: float = 0.0         # reading the file, decoding pixels into Images
    ocr: float = 0.0
    ner: float = 0.0            # NER + rules (the judge)

    def plus(self, other: StageTimes) -> StageTimes:
        return StageTimes(self.decode + other.decode, self.ocr + other.ocr, self.ner + other.ner)


@dataclass(frozen=True)
class InstanceResult:
    """What processing one instance produced, for the writer and the log line."""

    rows: list[Row]
    images: int
    sensitive_images: int
    seconds: float
    stages: StageTimes = StageTimes()
