"""OCR engines behind one small interface, chosen by name.

An engine is a class with a `name` and `read(image) -> list[TextBox]`, built once per process
(models load in the constructor). `create("tesseract")` builds one; a new engine is one new
module plus one line in ENGINES.
"""
from __future__ import annotations

import importlib
from typing import Protocol

from ..model import Image, TextBox


class OcrEngine(Protocol):
    name: str

    def read(self, image: Image) -> list[TextBox]:
        """All text in the image, boxes in the image's own pixel coordinates, reading order."""
        ...


# name -> (module, class, what to install when the import fails)
ENGINES: dict[str, tuple[str, str, str]] = {
    "tesseract": ("scp_scanner.ocr.tesseract", "TesseractEngine",
                  "apt-get install tesseract-ocr tesseract-ocr-eng; pip install 'scp-scanner' (tesserocr or pytesseract)"),
    "easyocr": ("scp_scanner.ocr.easyocr_engine", "EasyOcrEngine",
                "pip install 'scp-scanner[easyocr]'"),
}


class EngineError(RuntimeError):
    """An engine cannot be used: unknown name, missing package or model. The message says why."""


def create(name: str, **options) -> OcrEngine:
    try:
        module_name, class_name, install = ENGINES[name.strip().lower()]
    except KeyError:
        raise EngineError(f"unknown OCR engine {name!r}; choose one of: {', '.join(ENGINES)}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineError(f"OCR engine {name!r} is not installed ({exc}); install it with: {install}") from exc
    return getattr(module, class_name)(**options)
