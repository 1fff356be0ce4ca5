"""OCR engines behind one small interface, chosen by name.

An engine is a class with a `name` and `read(image) -> list[TextBox]`, built once per process
(models load in the constructor). `create("tesseract")` builds one; a new engine is one new
module plus one line in ENGINES. An engine that reads a cropped sub-image exactly as it reads
the same pixels inside the whole image may say so with `local_reading = True`: frame reuse
(reuse.py) then reads only the changed parts of a changed frame. An engine with `read_in`
(areas of an image, as its whole read reads them) and `read_lines` (earlier lines recognised
again where they stand), such as rapidocr, lets frame reuse read a further frame only where
its lines or its picture changed (docs/design.md, "Engines"). An engine whose models keep
working memory between calls may offer `make_room(rows, columns)`: the pipeline calls it
before it decodes an instance's images of that size, so that memory is handed back before a
large image's own arrays are made (rapidocr: its detector's arena, before a large CR). An
engine that can weigh readings may offer `expect(expected)`: the pipeline calls it before it
reads an instance's images, with the values the instance's own header leads one to expect in
its text (ocr/expected.py; rapidocr weighs them against each line's recogniser output).
"""
from __future__ import annotations

from typing import Protocol

from .. import registry
from ..model import Image, TextBox
from ..registry import EngineError


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image) -> list[TextBox]:
        """All text in the image, boxes in the image's own pixel coordinates, reading order."""
        ...


# name -> (module, class, what to install when the import fails)
ENGINES: registry.Registry = {
    "tesseract": ("scp_scanner.ocr.tesseract", "TesseractEngine",
                  "apt-get install tesseract-ocr tesseract-ocr-eng; pip install 'scp-scanner' (tesserocr or pytesseract)"),
    "easyocr": ("scp_scanner.ocr.easyocr_engine", "EasyOcrEngine",
                "pip install 'scp-scanner[easyocr]'"),
    "rapidocr": ("scp_scanner.ocr.rapidocr_engine", "RapidOcrEngine",
                 "pip install 'rapidocr==3.10.0' onnxruntime (or pip install 'scp-scanner')"),
}


# Engines that may be loaded in a process that then forks its workers (`scan`): on the CPU
# they hold no thread pool or device context a fork would break. easyocr brings torch, whose
# OpenMP pools and CUDA context are not fork-safe; its workers are spawned.
FORK_SAFE = frozenset({"tesseract", "rapidocr"})


def create(name: str, **options) -> OcrEngine:
    return registry.create("OCR", ENGINES, name, **options)


__all__ = ["ENGINES", "FORK_SAFE", "EngineError", "OcrEngine", "create"]
