"""Tesseract OCR: in-process through tesserocr when installed, else pytesseract (a subprocess).

tesserocr is ~6x faster per call (13-16 ms against 83-100 ms for a 512x512 image; docs/facts.md,
"OCR").
Debian's libtesseract uses OpenMP, which makes each call slower on a shared machine: each
entry point sets OMP_THREAD_LIMIT=1 before tesseract is loaded (scp_scanner/process.py).
"""
from __future__ import annotations

import os

import hashlib
import shutil
from collections import OrderedDict
from dataclasses import dataclass, replace
from pathlib import Path

import numpy as np
from PIL import Image as PILImage

from ..model import Image, TextBox
from ..registry import EngineError
from .fixups import (FIXUPS, FixupParams, capital_i_names, fix_digit_lookalikes,
                     is_caret, join_dicom_names, join_split_names)
from .prepare import (PREPARE, Crop, Ink, PrepareParams, Region, crop, crop_bounds,
                      inks, is_text, line_scale, merge_views, page_crop, reading_order,
                      regions_of)

TESSDATA_DIRS = (
    "/usr/share/tesseract-ocr/5/tessdata",
    "/usr/share/tesseract-ocr/4.00/tessdata",
    "/usr/share/tessdata",
    "/usr/local/share/tessdata",
    "/opt/homebrew/share/tessdata",
)
# Page segmentation modes: 7 reads one line (a located region is usually one line), 6 one
# block (lines that touched and grouped together); 11, "sparse text", finds scattered text on
# a whole page (the fallback when text could not be located).
PSM_SINGLE_BLOCK = 6
PSM_SINGLE_LINE = 7
PSM_SPARSE_TEXT = 11


@dataclass(frozen=True)
class TesseractParams:
    """Which of tesseract's words count, and when a line is read again (defaults: today's
    tuned values, set on bench/score_scan.py corpora; sweep one with bench/sweep.py, e.g.
    `--set tesseract.min_loose_confidence=50,60,70`)."""

    min_single_char_confidence: float = 70.0
    """A one-character word must be read this confidently to count: lower keeps lone "L"/"R"
    read unsurely, and brings back speckle read as "a", "e"."""

    min_text_line_confidence: float = 0.0
    """In a line that is surely text (Region.text_like), a word of letters and digits counts
    at this confidence: tesseract scores names written DOE^JOHN at 8-12 while reading
    them right (bench/sweep.py, seed 11, 45 files: a floor of 50 finds 270 of 297
    identifying words instead of 290)."""

    letter_share: float = 0.6
    """A word of a text line counts at min_text_line_confidence when at least this share of
    its characters are letters or digits; else it is mostly punctuation (see
    min_other_confidence)."""

    min_loose_confidence: float = 60.0
    """Outside text-like lines (texture, speckle), a word counts only at this confidence:
    lower reads anatomy as names ("Fit Ses", "Ms Ter"), higher loses words in odd
    layouts."""

    min_other_confidence: float = 30.0
    """Other words of a text line (mostly punctuation) count at this confidence."""

    retry_below_confidence: float = 80.0
    """A line read with a word below this confidence is read again at the next scale (one
    more tesseract call): higher retries more lines, lower keeps more misreads."""

    seen_share: float = 0.9
    """A line of a later ink is skipped when this share of its ink lies in words that
    earlier (cleaner) inks read with at least `confident` confidence: lower skips more
    re-reads (and their calls), and risks skipping a line only partly read."""

    confident: float = 80.0
    """The confidence at which a word of an earlier ink counts as read (see seen_share):
    lower skips more lines of later inks."""


TESSERACT = TesseractParams()

# Crops already read, by their exact bytes: on a corpus 43% of the calls read a crop identical
# to one read before (the same line seen from two inks, the same text on every frame of a
# cine). Tesseract is deterministic, so the words are reused. Bounded (least recently used
# out first): a line crop is ~20-100 kB, the cache keeps only its digest and the words.
CROP_CACHE_SIZE = 2048


def find_tessdata(lang: str, tessdata: str | None = None) -> str:
    """The tessdata folder holding LANG.traineddata: configured, $TESSDATA_PREFIX, or the
    usual system places. Raises EngineError saying what to install."""
    if tessdata:
        # A folder the user named must hold the data: falling back silently would hide a typo.
        if (Path(tessdata) / f"{lang}.traineddata").is_file():
            return tessdata
        raise EngineError(f"tesseract language data {lang}.traineddata not found in the configured "
                          f"tessdata folder {tessdata}; put it there, or leave tessdata unset to use "
                          f"the system's (apt-get install tesseract-ocr tesseract-ocr-{lang})")
    candidates: list[str] = []
    if os.environ.get("TESSDATA_PREFIX"):
        prefix = os.environ["TESSDATA_PREFIX"]
        candidates += [prefix, os.path.join(prefix, "tessdata")]
    candidates += list(TESSDATA_DIRS)
    for folder in candidates:
        if folder and (Path(folder) / f"{lang}.traineddata").is_file():
            return folder
    raise EngineError(
        f"tesseract language data {lang}.traineddata not found (looked in {', '.join(c for c in candidates if c)}); "
        f"install it with: apt-get install tesseract-ocr tesseract-ocr-{lang}, or set tessdata in the "
        "config / TESSDATA_PREFIX to the folder that holds it")


class _TesserocrReader:
    """One libtesseract instance, reused for every call (loading it costs ~40 ms)."""

    backend = "tesserocr"

    def __init__(self, tessdata: str, lang: str):
        import tesserocr

        self._tesserocr = tesserocr
        self._api = tesserocr.PyTessBaseAPI(path=tessdata.rstrip("/") + "/", lang=lang,
                                            psm=PSM_SPARSE_TEXT)
        # Screen annotations carry no DPI; tell tesseract something sensible so it stops guessing.
        self._api.SetVariable("user_defined_dpi", "300")

    def words(self, pixels: np.ndarray, psm: int = PSM_SPARSE_TEXT) -> list[TextBox]:
        tesserocr = self._tesserocr
        api = self._api
        api.SetPageSegMode(psm)
        api.SetImage(PILImage.fromarray(pixels))
        api.Recognize()
        out: list[TextBox] = []
        iterator = api.GetIterator()
        level = tesserocr.RIL.WORD
        for word in tesserocr.iterate_level(iterator, level):
            try:
                text = word.GetUTF8Text(level)
            except RuntimeError:  # an empty word: tesserocr raises instead of returning ""
                continue
            box = word.BoundingBox(level)
            if not text or box is None:
                continue
            left, top, right, bottom = box
            out.append(TextBox(text.strip(), left, top, right, bottom, float(word.Confidence(level))))
        api.Clear()
        return out


class _PytesseractReader:
    """The tesseract command line through pytesseract: slower, but needs only the binary."""

    backend = "pytesseract"

    def __init__(self, tessdata: str, lang: str):
        import pytesseract

        if shutil.which("tesseract") is None:
            raise EngineError("the tesseract program is not installed; install it with: "
                              "apt-get install tesseract-ocr tesseract-ocr-eng")
        self._pytesseract = pytesseract
        self._lang = lang
        self._config = f"--tessdata-dir {tessdata} -c user_defined_dpi=300"

    def words(self, pixels: np.ndarray, psm: int = PSM_SPARSE_TEXT) -> list[TextBox]:
        data = self._pytesseract.image_to_data(PILImage.fromarray(pixels), lang=self._lang,
                                               config=f"--psm {psm} {self._config}",
                                               output_type=self._pytesseract.Output.DICT)
        out = []
        for text, left, top, width, height, conf in zip(data["text"], data["left"], data["top"],
                                                        data["width"], data["height"], data["conf"]):
            if text and text.strip():
                out.append(TextBox(text.strip(), left, top, left + width, top + height, float(conf)))
        return out


def already_read(ink: Ink, region: Region, confident: list[TextBox],
                 params: TesseractParams = TESSERACT) -> bool:
    """Does most of this line's ink lie inside words already read confidently?"""
    if not confident:
        return False
    rows, cols = slice(region.top, region.bottom), slice(region.left, region.right)
    own = ink.mask[rows, cols]
    total = int(own.sum())
    if total == 0:
        return True
    covered = np.zeros_like(own)
    for box in confident:
        top, bottom = max(box.top, region.top), min(box.bottom, region.bottom)
        left, right = max(box.left, region.left), min(box.right, region.right)
        if top < bottom and left < right:
            covered[top - region.top:bottom - region.top, left - region.left:right - region.left] = True
    return int((own & covered).sum()) >= params.seen_share * total


def reading_confidence(words: list[TextBox]) -> float:
    """Mean word confidence weighted by length; 0 for nothing read."""
    total = sum(len(w.text) for w in words)
    return sum(w.confidence * len(w.text) for w in words) / total if total else 0.0


class TesseractEngine:
    """OCR with tesseract over the prepared views of an image (see prepare.py)."""

    name = "tesseract"
    # A crop is not read as the same pixels inside the whole frame (the bright-ink level
    # follows the frame's brightest tenth; speckle joins text lines into blocks), so frame
    # reuse reads a changed frame whole and the crop cache skips every unchanged line.
    local_reading = False

    def __init__(self, *, lang: str = "eng", tessdata: str | None = None,
                 min_confidence: float | None = None, backend: str = "auto",
                 crop_cache: int = CROP_CACHE_SIZE, params: TesseractParams = TESSERACT,
                 prepare: PrepareParams = PREPARE, fixups: FixupParams = FIXUPS, **_ignored):
        folder = find_tessdata(lang, tessdata)
        # processing.ocr_min_confidence: a floor for every word on top of the tuned thresholds
        # above; None keeps those alone.
        self.min_confidence = None if min_confidence is None else float(min_confidence)
        if backend not in ("auto", "tesserocr", "pytesseract"):
            raise EngineError(f"tesseract backend must be auto, tesserocr or pytesseract, not {backend!r}")
        reader = None
        if backend in ("auto", "tesserocr"):
            try:
                reader = _TesserocrReader(folder, lang)
            except ImportError:
                if backend == "tesserocr":
                    raise EngineError("tesserocr is not installed; install it with: pip install tesserocr") from None
        if reader is None:
            reader = _PytesseractReader(folder, lang)
        self._reader = reader
        self._crops: OrderedDict[bytes, list[TextBox]] = OrderedDict()
        self._crop_cache = int(crop_cache)     # entries kept; 0 = no cache (benchmark baseline)
        self.calls = 0           # tesseract calls made (crops read), for tests and benchmarks
        self.cache_hits = 0      # crops answered from the cache
        self.params, self.prepare, self.fixups = params, prepare, fixups

    @property
    def backend(self) -> str:
        return self._reader.backend

    def _keep(self, box: TextBox, text_line: bool) -> bool:
        if not is_text(box.text):
            # A lone '^' look-alike stays until DICOM names are joined (see fixups.py).
            return text_line and is_caret(box.text)
        p = self.params
        floor = self.min_confidence if self.min_confidence is not None else 0.0
        alnum = sum(ch.isalnum() for ch in box.text)
        if alnum <= 1:
            return box.confidence >= max(floor, p.min_single_char_confidence)
        if text_line:
            if alnum >= p.letter_share * len(box.text):
                return box.confidence >= max(floor, p.min_text_line_confidence)
            return box.confidence >= (p.min_other_confidence if self.min_confidence is None else floor)
        # Not a line of annotation-sized glyphs (texture, speckle, a stray mark): only words
        # read with some certainty count, or anatomy reads as names ("Fit Ses", "Ms Ter").
        return box.confidence >= max(floor, p.min_other_confidence, p.min_loose_confidence)

    def _cached(self, parts: tuple, pixels: np.ndarray, read) -> list[TextBox]:
        """read() through the crop cache, keyed by the exact bytes of `pixels` and `parts`
        (everything else the result depends on)."""
        digest = hashlib.blake2b(np.ascontiguousarray(pixels).tobytes(), digest_size=20)
        digest.update(repr((pixels.shape, parts)).encode())
        key = digest.digest()
        words = self._crops.get(key)
        if words is not None:
            self._crops.move_to_end(key)
            self.cache_hits += 1
            return list(words)
        words = read()
        if self._crop_cache > 0:
            self._crops[key] = words
            if len(self._crops) > self._crop_cache:
                self._crops.popitem(last=False)
        return list(words)

    def _read_crop(self, piece: Crop, psm: int, text_line: bool = False) -> list[TextBox]:
        self.calls += 1
        words = [box for box in self._reader.words(piece.pixels, psm) if self._keep(box, text_line)]
        if psm == PSM_SINGLE_LINE:
            words = join_split_names(piece.pixels, words, self.fixups)
        return [piece.to_original(box) for box in words]

    def _read_page(self, ink: Ink) -> list[TextBox]:
        return self._cached(("page", ink.name), ink.page,
                            lambda: self._read_crop(page_crop(ink, self.prepare), PSM_SPARSE_TEXT))

    def _read_line(self, ink: Ink, region: Region, scale: int, psm: int) -> list[TextBox]:
        """One region read at one scale; the cache is keyed by the unscaled page piece and
        where it sits (the scaled crop is a pure function of them), so a line that did not
        change is neither enlarged nor read again."""
        top, bottom, left, right = crop_bounds(ink, region)
        parts = ("line", top, left, ink.page.shape, scale, ink.name == "dark", psm, region.text_like)
        return self._cached(parts, ink.page[top:bottom, left:right],
                            lambda: self._read_crop(crop(ink, region, scale, self.prepare), psm,
                                                   region.text_like))

    def _read_region(self, ink: Ink, region: Region) -> list[TextBox]:
        """Read one line; when tesseract is unsure of it, read it again one scale larger and
        keep the more confident reading (glyph shapes at another size resolve many misreads)."""
        psm = PSM_SINGLE_LINE if region.single_line else PSM_SINGLE_BLOCK
        scale = line_scale(region, self.prepare)
        words = self._read_line(ink, region, scale, psm)
        if region.text_like and words and min(w.confidence for w in words) < self.params.retry_below_confidence:
            again = self._read_line(ink, region, scale + 1, psm)
            if reading_confidence(again) > reading_confidence(words):
                words = again
        return words

    def _read_ink(self, ink: Ink, confident: list[TextBox]) -> list[TextBox]:
        regions = regions_of(ink, self.prepare)
        if regions is None:          # texture, not annotation: let tesseract find what it can
            return self._read_page(ink)
        boxes: list[TextBox] = []
        for region in regions:
            if region.speck or already_read(ink, region, confident, self.params):
                continue
            boxes.extend(self._read_region(ink, region))
        return boxes

    def read(self, image: Image) -> list[TextBox]:
        """Read every ink of the image, cleanest first; a line that an earlier ink already
        read confidently is not read again."""
        found: list[list[TextBox]] = []
        confident: list[TextBox] = []
        for ink in inks(image, self.prepare):
            boxes = self._read_ink(ink, confident)
            found.append(boxes)
            confident.extend(b for b in boxes if b.confidence >= self.params.confident)
        words = capital_i_names(join_dicom_names(reading_order(merge_views(found)), self.fixups), self.fixups)
        return [replace(word, text=fix_digit_lookalikes(word.text, self.fixups))
                for word in words if is_text(word.text)]
