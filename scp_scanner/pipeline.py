"""Instance -> Images -> TextBoxes -> Verdicts -> Rows: the only place that knows the order.

Both `scan` (paths) and `serve` (spooled instances, in worker processes) call this.
Engines are given to the Pipeline by its builder (composition, no module-level state), so a
worker builds one Pipeline at start-up and reuses its loaded models for every instance.
"""
from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import replace
from pathlib import Path

import numpy as np
import pydicom

from . import ocr as ocr_engines
from . import pii as pii_engines
from .dicom import instance_info, iter_images, read_dataset
from .enclose import Encloser
from .dicom.limits import DecodeLimits
from .model import Image, InstanceInfo, Source, TextBox
from .ocr.expected import expected_words
from .ocr.reuse import FrameReuse
from .ocr.still_text import StillLayer, merged
from .output.rows import Row, image_rows
from .pipeline_types import InstanceResult, PipelineSettings, StageTimes
from .pii.judge import judge
from .pii.memo import RememberedNer
from .text import whole_text

log = logging.getLogger(__name__)

# What a held frame keeps of its pixels while its series is read (rows need its numbering).
_NO_PIXELS = np.zeros((0, 0), np.uint8)
# A line read on a cine's further frame counts as text for the still read (_with_still_text)
# with this many letters and digits: a lone glyph may be picture.
MIN_LINE_CHARACTERS = 3


def header_size(ds: pydicom.Dataset) -> tuple[int, int]:
    """(Rows, Columns) as the header gives them; 0 for one that is missing or not a number
    (decoding reports a bad header; this only sizes the engine's make_room)."""
    size = []
    for keyword in ("Rows", "Columns"):
        try:
            size.append(max(0, int(ds.get(keyword) or 0)))
        except (TypeError, ValueError):
            size.append(0)
    return size[0], size[1]


class Pipeline:
    def __init__(self, ocr: ocr_engines.OcrEngine | None = None, ner: pii_engines.NerEngine | None = None,
                 *, rects: bool = False, overlays: bool = True, frame_reuse: bool = True,
                 frame_reuse_exact: bool = False, still_text: bool = True,
                 limits: DecodeLimits = DecodeLimits()):
        self.ocr = ocr
        self.limits = limits
        # Both remember their answers (a cine's frames mostly repeat their text and pixels);
        # the answers are those of the plain calls by construction (enclose.py, pii/memo.py).
        self.ner = RememberedNer(ner) if ner is not None else None
        self.encloser = Encloser()
        self.rects = rects
        self.overlays = overlays
        self.frame_reuse = frame_reuse
        self.frame_reuse_exact = frame_reuse_exact
        self.still_text = still_text

    @property
    def ner_name(self) -> str:
        return self.ner.name if (self.ner is not None and self.ocr is not None) else ""

    def begin_instance(self, ds: pydicom.Dataset, info: InstanceInfo) -> None:
        """Before an instance's images are read: engines that can use them are told its size
        (make_room) and the values its header leads one to expect in its text (expect:
        ocr/expected.py)."""
        make_room = getattr(self.ocr, "make_room", None)
        if make_room is not None:
            make_room(*header_size(ds))
        expect = getattr(self.ocr, "expect", None)
        if expect is not None:
            expect(expected_words(info.identifiers))

    def frame_reader(self) -> FrameReuse | None:
        """A reader for one instance's images, in iter_images order: it reuses the reading of
        text that did not change since the previous frame (ocr/reuse.py)."""
        if self.ocr is None or not self.frame_reuse:
            return None
        return FrameReuse(self.ocr, exact=self.frame_reuse_exact)

    def _read(self, image: Image, reader: ocr_engines.OcrEngine | None) -> tuple[list[TextBox], float]:
        """The image's lines (rectangles holding every pixel of their glyphs, whatever the
        engine: enclose.py) and the seconds it took."""
        assert self.ocr is not None
        started = time.perf_counter()
        boxes = self.encloser.enclose(image, (reader or self.ocr).read(image))
        return boxes, time.perf_counter() - started

    def _judged_rows(self, info: InstanceInfo, image: Image, boxes: list[TextBox]
                     ) -> tuple[list[Row], bool, float]:
        """Rows for an image read as `boxes`, whether it was judged sensitive, and the
        seconds the judging took."""
        assert self.ocr is not None
        started = time.perf_counter()
        text = whole_text(boxes)
        verdict = judge(boxes, info, self.ner) if self.ner is not None else None
        judged = time.perf_counter()
        rows = image_rows(info, image, ocr_engine=self.ocr.name, ner_engine=self.ner_name,
                          boxes=boxes, whole_text=text, verdict=verdict, rects=self.rects)
        return rows, bool(verdict and verdict.sensitive), judged - started

    def _with_still_text(self, held: list[tuple[Image, list[TextBox]]], layer: StillLayer
                         ) -> tuple[list[tuple[Image, list[TextBox]]], float]:
        """A series' frames with the lines read in its per-pixel minimum added where the
        picture moved under its text (ocr/still_text.py), and the seconds that read took.
        The lines tested are the first frame's and those of three characters or more read
        on its other frames: speckle over the banner may hide every line of the first frame
        from the detector (held-out varied 1279's colour cine: its first frame read
        nothing, its second every line), while a lone glyph read on one frame is picture as
        often as text (the `I` beside the sector of pydicom-data's two-frame Philips
        ultrasound, on its second frame only)."""
        lines = {(b.left, b.top, b.right, b.bottom): b for b in held[0][1]}
        lines.update({(b.left, b.top, b.right, b.bottom): b for _, own in held[1:] for b in own
                      if sum(ch.isalnum() for ch in b.text) >= MIN_LINE_CHARACTERS})
        if len(held) < 2 or not layer.moves_under(list(lines.values())):
            return held, 0.0
        still = layer.image(held[0][0])
        boxes, seconds = self._read(still, None)
        return [(image, merged(own, boxes)) for image, own in held], seconds

    def process_dataset(self, ds: pydicom.Dataset, filename: str, read_seconds: float = 0.0,
                        on_image: Callable[[Image], None] | None = None) -> InstanceResult:
        """Every image of one decoded-header dataset. Raises DicomInputError on bad pixel data.
        `read_seconds`: time the caller spent reading the file, counted as decoding.
        `on_image`: called with each image as it is decoded, before it is read (`scan -x`
        writes it out).

        With still_text, the frames of PixelData are judged once all are read: the lines
        that stand still while the picture moves under them are read once more, from the
        frames' per-pixel minimum (ocr/still_text.py). Only the minimum and maximum, the first
        frame and each frame's lines are held meanwhile, never all the frames' pixels."""
        started = time.perf_counter()
        info = instance_info(ds, filename)
        rows: list[Row] = []
        images = sensitive = 0
        stages = StageTimes(decode=read_seconds)
        reader = self.frame_reader()
        self.begin_instance(ds, info)
        held: list[tuple[Image, list[TextBox]]] = []      # frames read, not yet judged
        layer = StillLayer()
        pending = iter_images(ds, overlays=self.overlays)
        while True:
            decoding = time.perf_counter()
            image = next(pending, None)
            stages = stages.plus(StageTimes(decode=time.perf_counter() - decoding))
            if held and (image is None or image.source is not Source.FRAME
                         or image.pixels.shape != layer.shape):
                series, seconds = self._with_still_text(held, layer)
                stages = stages.plus(StageTimes(ocr=seconds))
                for frame, boxes in series:
                    frame_rows, is_sensitive, seconds = self._judged_rows(info, frame, boxes)
                    stages = stages.plus(StageTimes(ner=seconds))
                    rows.extend(frame_rows)
                    sensitive += int(is_sensitive)
                held, layer = [], StillLayer()
            if image is None:
                break
            images += 1
            if on_image is not None:
                on_image(image)
            if self.ocr is None:
                rows.extend(image_rows(info, image))
                continue
            boxes, seconds = self._read(image, reader)
            stages = stages.plus(StageTimes(ocr=seconds))
            if self.still_text and image.source is Source.FRAME:
                layer.add(image)
                held.append((replace(image, pixels=_NO_PIXELS, text_mask=None), boxes))
                continue
            image_rows_, is_sensitive, seconds = self._judged_rows(info, image, boxes)
            stages = stages.plus(StageTimes(ner=seconds))
            rows.extend(image_rows_)
            sensitive += int(is_sensitive)
        return InstanceResult(rows, images, sensitive,
                              time.perf_counter() - started + read_seconds, stages)

    def process_file(self, path: str | Path, filename: str | None = None) -> InstanceResult:
        """Read and process one file. Raises DicomInputError naming the reason when it cannot."""
        started = time.perf_counter()
        ds = read_dataset(path, self.limits)
        return self.process_dataset(ds, str(path) if filename is None else filename,
                                    read_seconds=time.perf_counter() - started)


def build_pipeline(settings: PipelineSettings) -> Pipeline:
    """Load the engines named in settings (once; call at worker start-up)."""
    ocr = ocr_engines.create(settings.ocr, **dict(settings.ocr_options)) if settings.ocr else None
    ner = None
    if settings.pii:
        name, model = pii_engines.parse_spec(settings.pii)
        ner = pii_engines.create(name, model)
    return Pipeline(ocr, ner, rects=settings.rects, overlays=settings.overlays,
                    frame_reuse=settings.frame_reuse, frame_reuse_exact=settings.frame_reuse_exact,
                    still_text=settings.still_text, limits=settings.limits)
