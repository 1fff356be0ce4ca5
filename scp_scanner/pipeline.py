"""Instance -> Images -> TextBoxes -> Verdicts -> Rows: the only place that knows the order.

Both `scan` (paths) and `serve` (spooled instances, in worker processes) call this.
Engines are given to the Pipeline by its builder (composition, no module-level state), so a
worker builds one Pipeline at start-up and reuses its loaded models for every instance.
"""
from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from pathlib import Path

import pydicom

from . import ocr as ocr_engines
from . import pii as pii_engines
from .dicom import instance_info, iter_images, read_dataset
from .dicom.limits import DecodeLimits
from .model import Image, InstanceInfo, TextBox
from .output.rows import Row, image_rows
from .pii.judge import judge
from .text import whole_text

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class PipelineSettings:
    """Everything needed to build a Pipeline in another process (plain, picklable values)."""

    ocr: str | None = None                 # "tesseract" | "easyocr" | None
    pii: str | None = None                 # "spacy" | "spacy,MODEL" | "flair,PATH" | None
    rects: bool = False
    overlays: bool = True
    ocr_options: tuple[tuple[str, object], ...] = ()   # engine keyword options, e.g. ("min_confidence", 40)
    limits: DecodeLimits = DecodeLimits()              # frames / pixels / decoded bytes per instance


@dataclass(frozen=True)
class InstanceResult:
    """What processing one instance produced, for the writer and the log line."""

    info: InstanceInfo
    rows: list[Row]
    images: int
    sensitive_images: int
    seconds: float


class Pipeline:
    def __init__(self, ocr: ocr_engines.OcrEngine | None = None, ner: pii_engines.NerEngine | None = None,
                 *, rects: bool = False, overlays: bool = True,
                 limits: DecodeLimits = DecodeLimits()):
        self.ocr = ocr
        self.limits = limits
        self.ner = ner
        self.rects = rects
        self.overlays = overlays

    @property
    def ner_name(self) -> str:
        return self.ner.name if (self.ner is not None and self.ocr is not None) else ""

    def image_rows(self, info: InstanceInfo, image: Image) -> tuple[list[Row], bool]:
        """Rows for one image, and whether its text was judged sensitive."""
        if self.ocr is None:
            return image_rows(info, image), False
        boxes: list[TextBox] = self.ocr.read(image)
        text = whole_text(boxes)
        verdict = judge(boxes, info, self.ner) if self.ner is not None else None
        rows = image_rows(info, image, ocr_engine=self.ocr.name, ner_engine=self.ner_name,
                          boxes=boxes, whole_text=text, verdict=verdict, rects=self.rects)
        return rows, bool(verdict and verdict.sensitive)

    def process_dataset(self, ds: pydicom.Dataset, filename: str) -> InstanceResult:
        """Every image of one decoded-header dataset. Raises DicomInputError on bad pixel data."""
        started = time.perf_counter()
        info = instance_info(ds, filename)
        rows: list[Row] = []
        images = sensitive = 0
        for image in iter_images(ds, overlays=self.overlays):
            image_rows_, is_sensitive = self.image_rows(info, image)
            rows.extend(image_rows_)
            images += 1
            sensitive += int(is_sensitive)
        return InstanceResult(info, rows, images, sensitive, time.perf_counter() - started)

    def process_file(self, path: str | Path, filename: str | None = None) -> InstanceResult:
        """Read and process one file. Raises DicomInputError naming the reason when it cannot."""
        ds = read_dataset(path, self.limits)
        return self.process_dataset(ds, str(path) if filename is None else filename)


def build_pipeline(settings: PipelineSettings) -> Pipeline:
    """Load the engines named in settings (once; call at worker start-up)."""
    ocr = ocr_engines.create(settings.ocr, **dict(settings.ocr_options)) if settings.ocr else None
    ner = None
    if settings.pii:
        name, model = pii_engines.parse_spec(settings.pii)
        ner = pii_engines.create(name, model)
    return Pipeline(ocr, ner, rects=settings.rects, overlays=settings.overlays,
                    limits=settings.limits)
