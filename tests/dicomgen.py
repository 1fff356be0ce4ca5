"""Synthetic DICOM files with burned-in text whose words and boxes are known.

Why: the scanner must find text in every frame, overlay and overlay frame, in every pixel
representation and transfer syntax, and the only way to measure that is against files whose
text we wrote ourselves. Every builder here returns a `Truth` naming each image the scanner
should list (CSV numbering: frame and overlay count from 0, -1 where not applicable) and the
words drawn on it, with their ink boxes and whether they identify the patient.

Numbering of images (the same as the CSV contract, README "CSV numbering"):
- a frame of PixelData: frame = 0..NumberOfFrames-1, overlay = -1;
- an overlay: overlay = (group - 0x6000) / 2 (a lone 6002 is overlay 1);
- a frame of an overlay: frame = its index within the overlay, 0..n-1 (a single-frame overlay
  is frame 0); ImageFrameOrigin is not the number.

Boxes are ink boxes in the image's pixel space, right/bottom exclusive (like Pillow).
Everything is deterministic for a given seed except the UIDs, which are fresh per file by
default so that files from two runs can go to the same PACS (pass fresh_uids=False for
reproducible UIDs).
"""
from __future__ import annotations

import datetime as dt
import io
import json
import math
import os
import random
import shutil
import subprocess
import tempfile
from contextlib import contextmanager
from dataclasses import asdict, dataclass, replace
from functools import lru_cache
from pathlib import Path
from typing import Callable, Iterable

import numpy as np
from PIL import Image as PILImage
from PIL import ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.encaps import encapsulate
from pydicom.pixels import pack_bits
from pydicom.uid import (
    PYDICOM_IMPLEMENTATION_UID,
    ComputedRadiographyImageStorage,
    CTImageStorage,
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    MRImageStorage,
    RLELossless,
    SecondaryCaptureImageStorage,
    UltrasoundImageStorage,
    UltrasoundMultiFrameImageStorage,
    XRayAngiographicImageStorage,
    generate_uid,
)

# ---------------------------------------------------------------------------------------------
# Truth: what was drawn where
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Word:
    """One piece of burned-in text as drawn: its ink box and whether it identifies someone."""

    text: str
    left: int
    top: int
    right: int
    bottom: int
    pii: bool

    def overlaps(self, other: Word) -> bool:
        return not (self.right <= other.left or other.right <= self.left
                    or self.bottom <= other.top or other.bottom <= self.top)


@dataclass(frozen=True)
class ImageTruth:
    """One image the scanner should list, in CSV numbering, with the words drawn on it."""

    frame: int
    overlay: int
    words: tuple[Word, ...] = ()
    width: int = 0
    height: int = 0

    @property
    def has_pii(self) -> bool:
        return any(word.pii for word in self.words)

    @property
    def key(self) -> tuple[int, int]:
        return (self.frame, self.overlay)


@dataclass(frozen=True)
class Truth:
    """Everything a scorer needs about one written file."""

    path: str
    case: str
    transfer_syntax: str
    images: tuple[ImageTruth, ...]
    modality: str = ""

    def to_json(self, relative_to: str | os.PathLike | None = None) -> dict:
        data = asdict(self)
        if relative_to is not None:
            data["path"] = os.path.relpath(self.path, relative_to)
        return data

    @staticmethod
    def from_json(data: dict, base: str | os.PathLike | None = None) -> Truth:
        path = data["path"]
        if base is not None and not os.path.isabs(path):
            path = os.path.join(base, path)
        images = tuple(
            ImageTruth(frame=i["frame"], overlay=i["overlay"],
                       words=tuple(Word(**w) for w in i["words"]),
                       width=i.get("width", 0), height=i.get("height", 0))
            for i in data["images"])
        return Truth(path=path, case=data["case"], transfer_syntax=data["transfer_syntax"],
                     images=images, modality=data.get("modality", ""))


TRUTH_FILENAME = "truth.json"


def write_truth(truths: Iterable[Truth], out_path: str | os.PathLike, seed: int | None = None) -> None:
    """Write the truth JSON next to the files; paths in it are relative to its folder."""
    out_path = Path(out_path)
    payload = {
        "generator": "dicomgen",
        "seed": seed,
        "files": [t.to_json(relative_to=out_path.parent) for t in truths],
    }
    _write_private(out_path, json.dumps(payload, indent=1).encode())


def read_truth(path: str | os.PathLike) -> list[Truth]:
    path = Path(path)
    if path.is_dir():
        path = path / TRUTH_FILENAME
    payload = json.loads(path.read_text())
    return [Truth.from_json(item, base=path.parent) for item in payload["files"]]


# ---------------------------------------------------------------------------------------------
# Identities and the vocabulary of burned-in text
# ---------------------------------------------------------------------------------------------

FIRST_NAMES = ("John", "Mary", "Ahmed", "Fiona", "Iain", "Catriona", "Priya", "David", "Sarah",
               "Morag", "Angus", "Elizabeth", "Mohammed", "Aileen", "Hamish", "Graham", "Jane")
LAST_NAMES = ("Doe", "Smith", "Brown", "Wilson", "Campbell", "Stewart", "Robertson", "Thomson",
              "Macdonald", "Khan", "Patel", "Murray", "Reid", "Fraser", "Ferguson", "Duncan")
HOSPITALS = ("Ninewells Hospital", "Western General Hospital", "Aberdeen Royal Infirmary",
             "Perth Royal Infirmary", "Raigmore Hospital", "Glasgow Royal Infirmary",
             "Victoria Hospital", "Royal Infirmary Edinburgh", "Stracathro Hospital")
MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")

# Text that modalities burn in and that identifies nobody.
SAFE_WORDS = ("L", "R", "AP", "PA", "kVp 120", "mAs 250", "W:400 L:40", "Se:3 Im:45", "5 mm",
              "HFS", "ABDOMEN", "C+")

DATE_FORMATS = ("dicom", "dmy_slash", "dmy_month", "iso", "dmy_dot")


def format_date(value: dt.date, style: str) -> str:
    """A date as modalities print it: 19610312, 12/03/1961, 12-Mar-1961, 1961-03-12, 12.03.1961."""
    if style == "dicom":
        return value.strftime("%Y%m%d")
    if style == "dmy_slash":
        return value.strftime("%d/%m/%Y")
    if style == "dmy_month":
        return f"{value.day:02d}-{MONTHS[value.month - 1]}-{value.year}"
    if style == "iso":
        return value.isoformat()
    if style == "dmy_dot":
        return value.strftime("%d.%m.%Y")
    raise ValueError(f"unknown date style {style!r}")


def mod11_check_digit(digits: str) -> int | None:
    """The NHS / CHI check digit for 9 digits (weights 10..2); None where no valid digit exists."""
    total = sum(int(d) * w for d, w in zip(digits, range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def is_valid_mod11(number: str) -> bool:
    digits = "".join(c for c in number if c.isdigit())
    return len(digits) == 10 and mod11_check_digit(digits[:9]) == int(digits[9])


def nhs_number(rnd: random.Random) -> str:
    """A 10-digit NHS number with a valid modulus-11 check digit (no spaces)."""
    while True:
        body = str(rnd.randint(4, 9)) + "".join(str(rnd.randint(0, 9)) for _ in range(8))
        check = mod11_check_digit(body)
        if check is not None:
            return body + str(check)


def chi_number(rnd: random.Random, birth: dt.date, male: bool) -> str:
    """A Scottish CHI number: DDMMYY, two digits, a sex digit (odd male), a mod-11 check digit."""
    while True:
        sex = rnd.choice("13579" if male else "02468")
        body = birth.strftime("%d%m%y") + f"{rnd.randint(0, 99):02d}" + sex
        check = mod11_check_digit(body)
        if check is not None:
            return body + str(check)


@dataclass(frozen=True)
class Identity:
    """The person and visit whose identifiers go into the header and, some of them, the pixels."""

    family: str
    given: str
    birth: dt.date
    male: bool
    patient_id: str
    id_kind: str            # "mrn", "nhs" or "chi"
    accession: str
    institution: str
    study_date: dt.date
    study_time: str         # HHMMSS
    referring_family: str
    referring_given: str

    @property
    def dicom_name(self) -> str:
        return f"{self.family.upper()}^{self.given.upper()}"

    @property
    def referring_dicom_name(self) -> str:
        return f"{self.referring_family.upper()}^{self.referring_given.upper()}"

    def header_identifiers(self) -> dict[str, str]:
        """The identifying header values, keyword -> value as stored."""
        return {
            "PatientName": self.dicom_name,
            "PatientID": self.patient_id,
            "PatientBirthDate": self.birth.strftime("%Y%m%d"),
            "AccessionNumber": self.accession,
            "InstitutionName": self.institution,
            "StudyDate": self.study_date.strftime("%Y%m%d"),
            "ReferringPhysicianName": self.referring_dicom_name,
        }


def make_identity(rnd: random.Random) -> Identity:
    male = rnd.random() < 0.5
    birth = dt.date(rnd.randint(1930, 2010), rnd.randint(1, 12), rnd.randint(1, 28))
    kind = rnd.choice(("mrn", "nhs", "chi"))
    if kind == "nhs":
        pid = nhs_number(rnd)
    elif kind == "chi":
        pid = chi_number(rnd, birth, male)
    else:
        pid = "".join(str(rnd.randint(0, 9)) for _ in range(rnd.randint(7, 10)))
    study = dt.date(rnd.randint(2015, 2025), rnd.randint(1, 12), rnd.randint(1, 28))
    return Identity(
        family=rnd.choice(LAST_NAMES), given=rnd.choice(FIRST_NAMES), birth=birth, male=male,
        patient_id=pid, id_kind=kind,
        accession=rnd.choice(("RA", "CT", "AC", "")) + str(rnd.randint(10_000_000, 99_999_999)),
        institution=rnd.choice(HOSPITALS), study_date=study,
        study_time=f"{rnd.randint(7, 19):02d}{rnd.randint(0, 59):02d}{rnd.randint(0, 59):02d}",
        referring_family=rnd.choice(LAST_NAMES), referring_given=rnd.choice(FIRST_NAMES))


def format_name(identity: Identity, style: str) -> str:
    """Names as they appear burned in: DOE^JOHN, John Doe, JOHN DOE, Doe, John."""
    if style == "dicom":
        return identity.dicom_name
    if style == "plain":
        return f"{identity.given} {identity.family}"
    if style == "upper":
        return f"{identity.given.upper()} {identity.family.upper()}"
    if style == "comma":
        return f"{identity.family}, {identity.given}"
    raise ValueError(f"unknown name style {style!r}")


def format_patient_id(identity: Identity, rnd: random.Random) -> str:
    if identity.id_kind == "nhs" and rnd.random() < 0.5:
        p = identity.patient_id
        return f"{p[:3]} {p[3:6]} {p[6:]}"        # NHS numbers are often shown 3-3-4
    return identity.patient_id


# ---------------------------------------------------------------------------------------------
# Annotation content: regions of lines of segments
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Segment:
    """A word to draw; a line holds one or more, separated by a gap."""

    text: str
    pii: bool = False


Line = tuple[Segment, ...]
REGIONS = ("top_left", "top_right", "bottom_left", "bottom_right", "mid_left", "mid_right")


@dataclass(frozen=True)
class Annotation:
    """What to burn on one image: lines per screen region, listed top to bottom."""

    regions: tuple[tuple[str, tuple[Line, ...]], ...] = ()

    @staticmethod
    def of(**regions: list[Line]) -> Annotation:
        for name in regions:
            if name not in REGIONS:
                raise ValueError(f"unknown region {name!r}")
        return Annotation(tuple((name, tuple(lines)) for name, lines in regions.items() if lines))

    def lines(self, region: str) -> tuple[Line, ...]:
        for name, lines in self.regions:
            if name == region:
                return lines
        return ()

    def with_line(self, region: str, line: Line) -> Annotation:
        """A copy with one more line at the bottom of a region (e.g. a per-frame counter)."""
        out, done = [], False
        for name, lines in self.regions:
            if name == region:
                lines, done = lines + (line,), True
            out.append((name, lines))
        if not done:
            out.append((region, (line,)))
        return Annotation(tuple(out))

    def without_longest_line(self) -> Annotation:
        widest = max(((len(" ".join(s.text for s in line)), name, i)
                      for name, lines in self.regions for i, line in enumerate(lines)),
                     default=None)
        if widest is None:
            return self
        _, region, index = widest
        return Annotation(tuple((name, tuple(l for i, l in enumerate(lines)
                                             if not (name == region and i == index)))
                                for name, lines in self.regions))

    @property
    def empty(self) -> bool:
        return not any(lines for _, lines in self.regions)


def _seg(text: str, pii: bool = False) -> Line:
    return (Segment(text, pii),)


def pii_lines(identity: Identity, rnd: random.Random) -> tuple[list[Line], list[Line]]:
    """Identifying lines for the top-left and top-right corners, in varied formats."""
    left: list[Line] = [_seg(format_name(identity, rnd.choice(("dicom", "dicom", "plain", "upper",
                                                                  "comma"))), True)]
    label = {"nhs": "NHS", "chi": "CHI", "mrn": "ID:"}[identity.id_kind]
    left.append((Segment(label), Segment(format_patient_id(identity, rnd), True)))
    if rnd.random() < 0.8:
        birth = format_date(identity.birth, rnd.choice(DATE_FORMATS))
        left.append((Segment("DOB"), Segment(birth, True)) if rnd.random() < 0.6
                    else _seg(birth, True))
    if rnd.random() < 0.5:
        left.append((Segment("Acc"), Segment(identity.accession, True)))
    right: list[Line] = []
    if rnd.random() < 0.8:
        right.append(_seg(identity.institution, True))
    study = format_date(identity.study_date, rnd.choice(DATE_FORMATS))
    t = identity.study_time
    right.append((Segment(study, True), Segment(f"{t[:2]}:{t[2:4]}:{t[4:]}")))
    if rnd.random() < 0.3:
        right.append((Segment("Ref"), Segment(identity.referring_dicom_name, True)))
    return left, right


SAFE_BY_MODALITY: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    # (bottom-left pool, bottom-right pool)
    "CT": (("kVp 120", "mAs 250", "5 mm", "C+"), ("W:400 L:40", "Se:3 Im:45", "HFS", "ABDOMEN")),
    "CR": (("AP", "kVp 120", "mAs 250"), ("PA", "ABDOMEN", "HFS")),
    "US": (("5 mm", "ABDOMEN", "C+"), ("Se:3 Im:45", "HFS")),
    "MR": (("5 mm", "HFS"), ("W:400 L:40", "Se:3 Im:45", "ABDOMEN")),
    "XA": (("kVp 120", "mAs 250"), ("AP", "Se:3 Im:45")),
    "OT": (("5 mm", "ABDOMEN"), ("W:400 L:40", "Se:3 Im:45")),
}


def safe_lines(modality: str, rnd: random.Random) -> dict[str, list[Line]]:
    """Non-identifying lines (technique, window, series/image, markers) for the lower corners."""
    left_pool, right_pool = SAFE_BY_MODALITY.get(modality, SAFE_BY_MODALITY["OT"])
    left = rnd.sample(left_pool, rnd.randint(1, len(left_pool)))
    right = rnd.sample(right_pool, rnd.randint(1, len(right_pool)))
    regions: dict[str, list[Line]] = {
        "bottom_left": [_seg(t) for t in left],
        "bottom_right": [_seg(t) for t in right],
    }
    if modality in ("CT", "CR", "MR") and rnd.random() < 0.7:
        regions["mid_left"] = [_seg("R")]
        regions["mid_right"] = [_seg("L")]
    return regions


def make_annotation(identity: Identity, modality: str, rnd: random.Random, text: str) -> Annotation:
    """text: "pii" (identifiers + safe text), "safe" (safe text only) or "none"."""
    if text == "none":
        return Annotation()
    regions = safe_lines(modality, rnd)
    if text == "pii":
        regions["top_left"], regions["top_right"] = pii_lines(identity, rnd)
    elif text != "safe":
        raise ValueError(f"unknown text kind {text!r}")
    return Annotation.of(**regions)


# ---------------------------------------------------------------------------------------------
# Layout and rendering of text into a boolean mask
# ---------------------------------------------------------------------------------------------

FONT_DIR = Path("/usr/share/fonts/truetype/dejavu")
FONT_FILES = {"sans": FONT_DIR / "DejaVuSans.ttf", "mono": FONT_DIR / "DejaVuSansMono.ttf"}
MIN_FONT = 10


@lru_cache(maxsize=64)
def load_font(size: int, face: str = "sans") -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    path = FONT_FILES.get(face, Path(face) if os.path.isabs(face) else None)  # or a font file
    if path is not None and path.exists():
        return ImageFont.truetype(str(path), size)
    return ImageFont.load_default(size=size)


@dataclass(frozen=True)
class Placement:
    """A word positioned for drawing: origin (x, y) with Pillow's 'la' anchor, size and face."""

    text: str
    pii: bool
    x: int
    y: int
    size: int
    face: str
    box: tuple[int, int, int, int]     # Pillow text box (may be a little wider than the ink)


class LayoutError(ValueError):
    """The annotation does not fit the image at this font size."""


def layout(annotation: Annotation, width: int, height: int, size: int,
           face: str = "sans") -> list[Placement]:
    """Place each region's lines in its corner or edge; raise LayoutError if anything collides."""
    font = load_font(size, face)
    ascent, descent = font.getmetrics()
    line_h = ascent + descent + max(2, size // 5)
    gap = max(4, int(size * 0.6))
    margin = max(4, width // 64)
    placements: list[Placement] = []
    regions_of: list[str] = []

    def line_width(line: Line) -> int:
        return sum(int(math.ceil(font.getlength(s.text))) for s in line) + gap * (len(line) - 1)

    for region, lines in annotation.regions:
        if not lines:
            continue
        total_h = line_h * len(lines)
        if region.startswith("top"):
            y0 = margin
        elif region.startswith("bottom"):
            y0 = height - margin - total_h
        else:
            y0 = height // 2 - total_h // 2
        for i, line in enumerate(lines):
            w = line_width(line)
            x = margin if region.endswith("left") else width - margin - w
            y = y0 + i * line_h
            for seg in line:
                box = tuple(int(v) for v in font.getbbox(seg.text, anchor="la"))
                box = (x + box[0], y + box[1], x + box[2], y + box[3])
                placements.append(Placement(seg.text, seg.pii, x, y, size, face, box))
                regions_of.append(region)
                x += int(math.ceil(font.getlength(seg.text))) + gap

    # Words of one region may sit close; different regions keep well apart, as on a console,
    # so that a left and a right corner never read as one line.
    near, apart = 2, max(3 * gap, width // 16)
    for i, (p, region) in enumerate(zip(placements, regions_of)):
        l, t, r, b = p.box
        if l < 0 or t < 0 or r > width or b > height:
            raise LayoutError(f"{p.text!r} leaves the {width}x{height} image at size {size}")
        for q, other in zip(placements[:i], regions_of):
            pad = near if other == region else apart
            ql, qt, qr, qb = q.box
            if not (r + pad <= ql or qr + pad <= l or b + near <= qt or qb + near <= t):
                raise LayoutError(f"{p.text!r} comes too near {q.text!r} at size {size}")
    return placements


def fit_layout(annotation: Annotation, width: int, height: int, size: int,
               face: str = "sans") -> list[Placement]:
    """The largest layout at or below `size` that fits; drop the longest line if none does.
    A size under MIN_FONT (classic cases drawn with a font set) is tried alone, and so is a
    bitmap face's own size."""
    low = size if size < MIN_FONT or str(face).endswith(".pcf.gz") else MIN_FONT
    while not annotation.empty:
        for s in range(size, low - 1, -1):
            try:
                return layout(annotation, width, height, s, face)
            except LayoutError:
                continue
        annotation = annotation.without_longest_line()
    return []


def ink_tight_words(placements: list, ink: np.ndarray, grow: int = 0) -> list[Word]:
    """One truth Word per placement, its box (first grown by `grow` px on each side) shrunk to
    the ink drawn inside it (ink: bool rows x columns)."""
    height, width = ink.shape[:2]
    words = []
    for p in placements:
        l, t, r, b = (max(0, p.box[0] - grow), max(0, p.box[1] - grow),
                      min(width, p.box[2] + grow), min(height, p.box[3] + grow))
        sub = ink[t:b, l:r]
        rows, cols = np.nonzero(sub.any(axis=1))[0], np.nonzero(sub.any(axis=0))[0]
        if rows.size:
            l, t, r, b = l + int(cols[0]), t + int(rows[0]), l + int(cols[-1]) + 1, t + int(rows[-1]) + 1
        words.append(Word(p.text, l, t, r, b, p.pii))
    return words


def render(placements: list[Placement], width: int, height: int) -> tuple[np.ndarray, list[Word]]:
    """Draw the placements as a boolean mask (hard edges, as modalities burn text) and the
    truth words with ink-tight boxes."""
    canvas = PILImage.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    if _classic_fonts["set"] is not None:
        draw.fontmode = "1"     # the face's own hard-edged raster: thin faces keep their strokes
    for p in placements:
        draw.text((p.x, p.y), p.text, fill=255, font=load_font(p.size, p.face), anchor="la")
    mask = np.asarray(canvas) >= 128
    words = ink_tight_words(placements, mask)
    return mask, words


def text_mask(annotation: Annotation, width: int, height: int, size: int,
              face: str = "sans") -> tuple[np.ndarray, list[Word]]:
    return render(fit_layout(annotation, width, height, size, face), width, height)


def render_coverage(placements: list[Placement], width: int, height: int
                    ) -> tuple[np.ndarray, list[Word]]:
    """Draw the placements anti-aliased, as a viewer or a screen grab shows text: coverage
    0..255 per pixel (uint8), and the truth words with boxes that hold every pixel of any
    coverage (the faint edges included: those are what a redaction must blank too)."""
    canvas = PILImage.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    for p in placements:
        draw.text((p.x, p.y), p.text, fill=255, font=load_font(p.size, p.face), anchor="la")
    coverage = np.asarray(canvas).copy()
    return coverage, ink_tight_words(placements, coverage > 0, grow=1)


# The classic cases draw DejaVu Sans or Mono at 12-24 px (scaled with the image's width).
# Inside `classic_fonts(SET)` they draw instead a face of a font set (tuning or heldout,
# FONT_FAMILIES below: each family equally often) at CLASSIC_FONT_SIZES px whatever the
# width, or a bitmap face at its own size; the text stays hard-edged, as the classic cases
# burn it. This is the corpus "the project's cases in other fonts and sizes".
CLASSIC_FONT_SIZES = (9, 16)       # inclusive; hard-edged outlines under 9 px lose strokes
_classic_fonts: dict[str, object] = {"set": None, "bitmap_size": None, "face": None, "size": None}


@contextmanager
def classic_fonts(fonts: str | None):
    """Within this block the classic builders draw with the font set `fonts` (None: DejaVu)."""
    if fonts is not None and fonts not in FONT_SETS:
        raise ValueError(f"unknown font set {fonts!r}; choose one of: {', '.join(FONT_SETS)}")
    before = dict(_classic_fonts)
    _classic_fonts.update({"set": fonts, "bitmap_size": None, "face": None, "size": None})
    try:
        yield
    finally:
        _classic_fonts.update(before)


def pick_face(rnd: random.Random) -> str:
    """Most consoles use a proportional face; some a monospaced one. Inside classic_fonts: a
    face of the set (its file's path)."""
    if _classic_fonts["set"] is not None:
        faces = font_faces(str(_classic_fonts["set"]))
        if not faces:
            raise RuntimeError("no font of the chosen set is installed; install the Makefile's "
                               "APT_TEST font packages (make apt-test)")
        family = rnd.choice(sorted({f.family for f in faces}))
        face = rnd.choice([f for f in faces if f.family == family])
        _classic_fonts.update(bitmap_size=face.bitmap_size, face=face.path)
        return face.path
    return "mono" if rnd.random() < 0.3 else "sans"


def pick_font_size(rnd: random.Random, width: int) -> int:
    """A size typical of DICOM annotations: 12-24 px on a 512-wide image, scaled with width.
    Inside classic_fonts: CLASSIC_FONT_SIZES px, or the bitmap face's own size."""
    if _classic_fonts["set"] is not None:
        bitmap = _classic_fonts["bitmap_size"]
        _classic_fonts["size"] = int(bitmap) if bitmap else rnd.randint(*CLASSIC_FONT_SIZES)
        return int(_classic_fonts["size"])
    return max(MIN_FONT, round(rnd.choice((12, 14, 16, 18, 20, 22, 24)) * width / 512))


# ---------------------------------------------------------------------------------------------
# Backgrounds: smooth "anatomy" in 0..1 plus noise
# ---------------------------------------------------------------------------------------------


def _ellipse(yy: np.ndarray, xx: np.ndarray, cy: float, cx: float, ry: float, rx: float,
             edge: float = 0.04) -> np.ndarray:
    """1 inside, 0 outside, with a soft edge: a smooth blob rather than a hard disc."""
    r = np.sqrt(((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2)
    return 1.0 / (1.0 + np.exp(np.clip((r - 1.0) / edge, -60.0, 60.0)))


def anatomy(rng: np.random.Generator, height: int, width: int, shift: float = 0.0) -> np.ndarray:
    """A body cross-section: soft-tissue ellipse, a few organs, a bright bony ring, a gradient
    and noise. Values in 0..1; 0 is air."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    yy /= height
    xx /= width
    cy, cx = 0.5 + rng.uniform(-0.03, 0.03), 0.5 + rng.uniform(-0.03, 0.03) + shift
    ry, rx = rng.uniform(0.28, 0.36), rng.uniform(0.3, 0.38)
    body = _ellipse(yy, xx, cy, cx, ry, rx)
    img = 0.45 * body * (0.9 + 0.2 * (yy - cy))                # tissue with a gentle gradient
    for _ in range(rng.integers(3, 6)):                       # organs, brighter or darker
        oy, ox = cy + rng.uniform(-0.5, 0.5) * ry, cx + rng.uniform(-0.5, 0.5) * rx
        img += rng.uniform(-0.15, 0.2) * _ellipse(yy, xx, oy, ox, rng.uniform(0.04, 0.1),
                                                  rng.uniform(0.04, 0.1)) * body
    ring = _ellipse(yy, xx, cy, cx, ry * 0.92, rx * 0.92) - _ellipse(yy, xx, cy, cx, ry * 0.86, rx * 0.86)
    img += 0.35 * np.clip(ring, 0, 1)
    img += 0.4 * _ellipse(yy, xx, cy + ry * 0.6, cx, 0.035, 0.03) * body   # a vertebra
    img += rng.normal(0.0, 0.015, img.shape).astype(np.float32) * (0.3 + body)
    return np.clip(img, 0.0, 1.0)


def ultrasound_sector(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A fan of speckle on black, as a curvilinear probe shows it. Values in 0..1."""
    yy, xx = np.mgrid[0:height, 0:width].astype(np.float32)
    apex_y, apex_x = height * 0.08, width / 2
    r = np.hypot(yy - apex_y, xx - apex_x)
    angle = np.arctan2(xx - apex_x, yy - apex_y)
    inside = (np.abs(angle) < 0.6) & (r > height * 0.08) & (r < height * 0.8)
    speckle = rng.rayleigh(0.5, (height, width)).astype(np.float32)
    depth = 1.0 - 0.5 * (r / (height * 0.8))
    tissue = 0.6 + 0.25 * np.sin(r / 23.0) * np.cos(angle * 4)
    blob = _ellipse(yy / height, xx / width, rng.uniform(0.4, 0.6), 0.5 + rng.uniform(-0.1, 0.1),
                    0.08, 0.1)
    img = np.clip(speckle * depth * tissue * (1 - 0.8 * blob), 0, 1)
    return img * inside


# ---------------------------------------------------------------------------------------------
# Datasets: header, file meta, writing
# ---------------------------------------------------------------------------------------------

SOP_CLASS_BY_MODALITY = {
    "CT": CTImageStorage,
    "CR": ComputedRadiographyImageStorage,
    "US": UltrasoundImageStorage,
    "US-MF": UltrasoundMultiFrameImageStorage,
    "MR": MRImageStorage,
    "XA": XRayAngiographicImageStorage,
    "OT": SecondaryCaptureImageStorage,
}
DEVICES = {
    "CT": ("SIEMENS", "SOMATOM Force"),
    "CR": ("FUJIFILM Corporation", "FCR PROFECT"),
    "US": ("GE Healthcare", "LOGIQ E9"),
    "MR": ("Philips", "Ingenia"),
    "XA": ("Philips Medical Systems", "Allura Xper"),
    "OT": ("ACME Imaging", "ScreenCapture 2"),
}


def _uid(fresh: bool, rnd: random.Random) -> str:
    if fresh:
        return generate_uid()
    return generate_uid(entropy_srcs=[str(rnd.getrandbits(128))])


def base_dataset(identity: Identity, modality: str, rnd: random.Random, *,
                 multiframe: bool = False, burned_in: bool, fresh_uids: bool = True) -> Dataset:
    """Header and file meta with the identity's values, device, ImageType and fresh UIDs."""
    sop_class = SOP_CLASS_BY_MODALITY["US-MF" if modality == "US" and multiframe else modality]
    ds = Dataset()
    for keyword, value in identity.header_identifiers().items():
        setattr(ds, keyword, value)
    ds.PatientSex = "M" if identity.male else "F"
    ds.StudyTime = identity.study_time
    ds.SOPClassUID = sop_class
    ds.SOPInstanceUID = _uid(fresh_uids, rnd)
    ds.StudyInstanceUID = _uid(fresh_uids, rnd)
    ds.SeriesInstanceUID = _uid(fresh_uids, rnd)
    ds.FrameOfReferenceUID = _uid(fresh_uids, rnd)
    ds.StudyID = str(rnd.randint(1, 9999))
    ds.SeriesNumber = rnd.randint(1, 20)
    ds.InstanceNumber = rnd.randint(1, 200)
    ds.Modality = modality
    ds.Manufacturer, ds.ManufacturerModelName = DEVICES[modality]
    ds.SoftwareVersions = "VA" + str(rnd.randint(10, 60))
    ds.ImageType = (["DERIVED", "SECONDARY"] if modality == "OT"
                    else ["ORIGINAL", "PRIMARY", "AXIAL" if modality == "CT" else "OTHER"])
    ds.BurnedInAnnotation = "YES" if burned_in else "NO"
    ds.SpecificCharacterSet = "ISO_IR 100"
    if modality == "OT":
        ds.ConversionType = "WSD"

    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = sop_class
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    meta.ImplementationClassUID = PYDICOM_IMPLEMENTATION_UID
    meta.ImplementationVersionName = "SCPSCAN_TESTGEN"
    ds.file_meta = meta
    return ds


def set_pixels(ds: Dataset, frames: np.ndarray, *, bits_stored: int, signed: bool,
               photometric: str) -> None:
    """Native pixel data and the Image Pixel module for frames shaped (n, rows, cols[, 3])."""
    n, rows, cols = frames.shape[:3]
    colour = frames.ndim == 4
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel = 3 if colour else 1
    ds.PhotometricInterpretation = photometric
    if colour:
        ds.PlanarConfiguration = 0
    bits_allocated = frames.dtype.itemsize * 8
    ds.BitsAllocated = bits_allocated
    ds.BitsStored = bits_stored
    ds.HighBit = bits_stored - 1
    ds.PixelRepresentation = 1 if signed else 0
    if n > 1 or "NumberOfFrames" in ds:
        ds.NumberOfFrames = n
    ds.PixelData = np.ascontiguousarray(frames).astype(frames.dtype.newbyteorder("<")).tobytes()
    ds["PixelData"].VR = "OW" if bits_allocated > 8 else "OB"


def _write_private(path: Path, data: bytes) -> None:
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as f:
        f.write(data)
    os.chmod(path, 0o600)


def save(ds: Dataset, path: str | os.PathLike) -> None:
    """Write a conformant Part 10 file, owner-only (it holds synthetic PII)."""
    buffer = io.BytesIO()
    ds.save_as(buffer, enforce_file_format=True)
    _write_private(Path(path), buffer.getvalue())


def make_private_dir(path: str | os.PathLike) -> Path:
    path = Path(path)
    path.mkdir(parents=True, exist_ok=True, mode=0o700)
    os.chmod(path, 0o700)
    return path


# ---------------------------------------------------------------------------------------------
# Overlays
# ---------------------------------------------------------------------------------------------


def add_overlay_data(ds: Dataset, group: int, planes: np.ndarray, *,
                     image_frame_origin: int | None = None, description: str = "") -> None:
    """A separate 60xx overlay: packed OverlayData for one plane (rows, cols) or several
    (n, rows, cols); multi-frame overlays get NumberOfFramesInOverlay and ImageFrameOrigin."""
    if planes.ndim == 2:
        planes = planes[None]
    n, rows, cols = planes.shape
    ds.add_new((group, 0x0010), "US", rows)
    ds.add_new((group, 0x0011), "US", cols)
    ds.add_new((group, 0x0040), "CS", "G")
    ds.add_new((group, 0x0050), "SS", [1, 1])
    ds.add_new((group, 0x0100), "US", 1)
    ds.add_new((group, 0x0102), "US", 0)
    if description:
        ds.add_new((group, 0x0022), "LO", description)
    if n > 1 or image_frame_origin is not None:
        ds.add_new((group, 0x0015), "IS", n)
        ds.add_new((group, 0x0051), "US", image_frame_origin or 1)
    ds.add_new((group, 0x3000), "OW", pack_bits(planes.astype(np.uint8).ravel()))


def add_high_bit_overlay(ds: Dataset, group: int, rows: int, cols: int, bit: int) -> None:
    """The header of an overlay kept in bit `bit` of PixelData (retired but still met in XA,
    old CT/MR): no OverlayData, OverlayBitsAllocated = BitsAllocated."""
    ds.add_new((group, 0x0010), "US", rows)
    ds.add_new((group, 0x0011), "US", cols)
    ds.add_new((group, 0x0040), "CS", "G")
    ds.add_new((group, 0x0050), "SS", [1, 1])
    ds.add_new((group, 0x0100), "US", 16)
    ds.add_new((group, 0x0102), "US", bit)


# ---------------------------------------------------------------------------------------------
# Compression
# ---------------------------------------------------------------------------------------------


def compress_rle(ds: Dataset, frames: np.ndarray) -> None:
    """RLE Lossless of the raw values, high bits included: BitsStored is widened to
    BitsAllocated while encoding (RLE works on bytes) and put back after."""
    bits_stored, high_bit = ds.BitsStored, ds.HighBit
    ds.BitsStored, ds.HighBit = ds.BitsAllocated, ds.BitsAllocated - 1
    arr = frames if frames.shape[0] > 1 else frames[0]
    try:
        ds.compress(RLELossless, arr, encoding_plugin="pylibjpeg")
    except (RuntimeError, ValueError, ImportError):
        ds.compress(RLELossless, arr, encoding_plugin="pydicom")
    ds.BitsStored, ds.HighBit = bits_stored, high_bit


def dcmtk_available() -> bool:
    return shutil.which("dcmcjpeg") is not None


def compress_jpeg_lossless(ds: Dataset, path: Path) -> Dataset:
    """JPEG Lossless SV1 (1.2.840.10008.1.2.4.70) with dcmtk's dcmcjpeg. BitsStored is widened
    to BitsAllocated while encoding so high-bit overlays survive, then restored in the header
    (encapsulated data need no re-encode for that)."""
    from pydicom import dcmread

    bits_stored, high_bit = ds.BitsStored, ds.HighBit
    ds.BitsStored, ds.HighBit = ds.BitsAllocated, ds.BitsAllocated - 1
    with tempfile.TemporaryDirectory(prefix="dicomgen-") as tmp:
        raw, out = Path(tmp) / "in.dcm", Path(tmp) / "out.dcm"
        ds.save_as(raw, enforce_file_format=True)
        result = subprocess.run(["dcmcjpeg", "+e1", str(raw), str(out)],
                                capture_output=True, text=True, timeout=60)
        if result.returncode != 0:
            raise RuntimeError(f"dcmcjpeg failed for {path.name}: {result.stderr.strip()}")
        encoded = dcmread(out)
    if encoded.file_meta.TransferSyntaxUID != JPEGLosslessSV1:
        raise RuntimeError(f"dcmcjpeg wrote {encoded.file_meta.TransferSyntaxUID}")
    ds.BitsStored, ds.HighBit = bits_stored, high_bit
    encoded.BitsStored, encoded.HighBit = bits_stored, high_bit
    return encoded


def compress_jpeg_baseline(ds: Dataset, frames: np.ndarray, quality: int = 92) -> None:
    """JPEG baseline (1.2.840.10008.1.2.4.50) for 8-bit grey or RGB: frames encoded by Pillow
    (RGB as YCbCr 4:2:2, hence YBR_FULL_422) and encapsulated by pydicom."""
    if frames.dtype != np.uint8:
        raise ValueError("JPEG baseline needs 8-bit frames")
    colour = frames.ndim == 4
    encoded = []
    for frame in frames:
        buffer = io.BytesIO()
        PILImage.fromarray(frame, "RGB" if colour else "L").save(
            buffer, "JPEG", quality=quality, **({"subsampling": 1} if colour else {}))
        encoded.append(buffer.getvalue())
    ds.PixelData = encapsulate(encoded, has_bot=len(encoded) > 1)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    if colour:
        ds.PhotometricInterpretation = "YBR_FULL_422"
    ds.LossyImageCompression = "01"
    ds.LossyImageCompressionMethod = "ISO_10918_1"
    ds.LossyImageCompressionRatio = round(frames.nbytes / max(1, sum(map(len, encoded))), 2)
    ds.file_meta.TransferSyntaxUID = JPEGBaseline8Bit


# Video transfer syntaxes (PS3.5 8.2.5-8.2.7) the generator writes through PyAV's FFmpeg
# encoders: name -> (transfer syntax UID, encoder, output form). MPEG-2 as a program stream,
# H.264 and HEVC as bare Annex B elementary streams: the scanner must find each form itself.
VIDEO_CODECS = {
    "mpeg2": ("1.2.840.10008.1.2.4.100", "mpeg2video", "mpeg"),
    "h264": ("1.2.840.10008.1.2.4.102", "libx264", "h264"),
    "hevc": ("1.2.840.10008.1.2.4.107", "libx265", "hevc"),
}
HEVC_MAIN_10 = "1.2.840.10008.1.2.4.108"


def encode_video(frames: np.ndarray, codec: str, fps: int = 25, form: str | None = None,
                 ten_bit: bool = False) -> bytes:
    """8-bit RGB frames (n, rows, columns, 3) as one video stream (VIDEO_CODECS), 4:2:0, at
    a quality a recorder would use (H.264/HEVC constant quality 20, MPEG-2 at 8 Mbit/s);
    `form`: FFmpeg's muxer instead of the codec's usual one (e.g. "mpegts"); `ten_bit`:
    10 bits per sample (HEVC Main 10)."""
    import av

    _, encoder, usual = VIDEO_CODECS[codec]
    form = form or usual
    out = io.BytesIO()
    with av.open(out, mode="w", format=form) as container:
        stream = container.add_stream(encoder, rate=fps)
        stream.width, stream.height = frames.shape[2], frames.shape[1]
        stream.pix_fmt = "yuv420p10le" if ten_bit else "yuv420p"
        stream.thread_count = 1
        if codec == "mpeg2":
            stream.bit_rate = 8_000_000
        else:
            stream.options = {"crf": "20", **({"x265-params": "log-level=error"} if codec == "hevc" else {})}
        for frame in frames:
            container.mux(stream.encode(av.VideoFrame.from_ndarray(np.ascontiguousarray(frame), format="rgb24")))
        container.mux(stream.encode(None))
    return out.getvalue()


def store_as_video(ds: Dataset, frames: np.ndarray, codec: str, form: str | None = None,
                   ten_bit: bool = False) -> None:
    """The dataset's 8-bit RGB frames stored as one video stream in one fragment (YBR_PARTIAL_420,
    as recorders write it); `ten_bit` (HEVC only): HEVC Main 10, 10 of 16 bits per sample."""
    syntax = HEVC_MAIN_10 if ten_bit else VIDEO_CODECS[codec][0]
    ds.PixelData = encapsulate([encode_video(frames, codec, form=form, ten_bit=ten_bit)], has_bot=False)
    ds["PixelData"].VR = "OB"
    ds["PixelData"].is_undefined_length = True
    ds.PhotometricInterpretation = "YBR_PARTIAL_420"
    ds.SamplesPerPixel, ds.PlanarConfiguration = 3, 0
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = (16, 10, 9, 0) if ten_bit else (8, 8, 7, 0)
    ds.LossyImageCompression = "01"
    ds.file_meta.TransferSyntaxUID = syntax


def encode_and_save(ds: Dataset, frames: np.ndarray, path: Path, syntax: str) -> str:
    """Write ds with its native frames in the asked transfer syntax; returns the syntax used."""
    if syntax == ExplicitVRLittleEndian:
        save(ds, path)
    elif syntax == RLELossless:
        compress_rle(ds, frames)
        save(ds, path)
    elif syntax == JPEGLosslessSV1:
        save(compress_jpeg_lossless(ds, path), path)
    elif syntax == JPEGBaseline8Bit:
        compress_jpeg_baseline(ds, frames)
        save(ds, path)
    else:
        raise ValueError(f"unsupported transfer syntax {syntax}")
    return syntax


# ---------------------------------------------------------------------------------------------
# Case builders: each writes one file and returns its Truth
# ---------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class CaseOptions:
    text: str = "pii"                  # "pii", "safe" or "none"
    syntax: str = ExplicitVRLittleEndian
    fresh_uids: bool = True


def _rngs(seed: int) -> tuple[random.Random, np.random.Generator]:
    return random.Random(seed), np.random.default_rng(seed)


def _truth(path: Path, case: str, syntax: str, modality: str, images: list[ImageTruth]) -> Truth:
    return Truth(str(path), case, str(syntax), tuple(images), modality)


def build_ct(path: Path, seed: int, opts: CaseOptions = CaseOptions(), case: str = "ct_signed") -> Truth:
    """Signed 12-bit CT: PixelRepresentation 1, stored air below zero around the body and
    -2000 outside the reconstruction circle, RescaleIntercept -1024, text at 2047."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 512
    mask, words = text_mask(make_annotation(identity, "CT", rnd, opts.text), size, size,
                            pick_font_size(rnd, size), face=face)
    body = anatomy(rng, size, size)
    hu = -1030 + body * 2300 + rng.normal(0, 12, body.shape)          # air ~-1030, bone ~1000+
    stored = hu + 1024                                                  # HU = stored - 1024
    yy, xx = np.mgrid[0:size, 0:size]
    outside = np.hypot(yy - size / 2, xx - size / 2) > size * 0.49
    stored[outside] = -2000
    stored = np.clip(np.rint(stored), -2048, 2046).astype(np.int16)
    stored[mask] = 2047
    ds = base_dataset(identity, "CT", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.KVP, ds.SliceThickness = 120, 5
    set_pixels(ds, stored[None], bits_stored=12, signed=True, photometric="MONOCHROME2")
    encode_and_save(ds, stored[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "CT",
                  [ImageTruth(0, -1, tuple(words), size, size)])


def build_cr(path: Path, seed: int, opts: CaseOptions = CaseOptions(), case: str = "cr_mono1") -> Truth:
    """MONOCHROME1 CR: low stored values display white, so the text is at stored 0."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    rows, cols = 768, 640
    mask, words = text_mask(make_annotation(identity, "CR", rnd, opts.text), cols, rows,
                            pick_font_size(rnd, cols), face=face)
    body = anatomy(rng, rows, cols)
    stored = 3600 - body * 2700 + rng.normal(0, 20, body.shape)        # exposure dark on display
    stored = np.clip(np.rint(stored), 200, 4000).astype(np.uint16)
    stored[mask] = 0
    ds = base_dataset(identity, "CR", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    ds.WindowCenter, ds.WindowWidth = 2000, 4000
    ds.BodyPartExamined, ds.ViewPosition = "ABDOMEN", "AP"
    set_pixels(ds, stored[None], bits_stored=12, signed=False, photometric="MONOCHROME1")
    encode_and_save(ds, stored[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "CR", [ImageTruth(0, -1, tuple(words), cols, rows)])


US_COLOURS = ((255, 255, 255), (255, 255, 0), (0, 255, 0), (255, 255, 255))


def build_us(path: Path, seed: int, opts: CaseOptions = CaseOptions(), case: str = "us_rgb",
             n_frames: int | tuple[int, int] = 1) -> Truth:
    """RGB ultrasound, single or multi-frame (n_frames, or a random count in an inclusive
    range); multi-frame files carry a per-frame counter."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    if isinstance(n_frames, tuple):
        n_frames = rnd.randint(*n_frames)
    rows, cols = 480, 640
    annotation = make_annotation(identity, "US", rnd, opts.text)
    size = pick_font_size(rnd, 512)
    colour = np.array(rnd.choice(US_COLOURS), dtype=np.uint8)
    frames, images = [], []
    for f in range(n_frames):
        ann = annotation
        if n_frames > 1 and opts.text != "none":
            ann = annotation.with_line("bottom_right", _seg(f"Frame {f + 1}/{n_frames}"))
        mask, words = text_mask(ann, cols, rows, size, face=face)
        grey = (ultrasound_sector(rng, rows, cols) * 220).astype(np.uint8)
        rgb = np.repeat(grey[..., None], 3, axis=2)
        rgb[mask] = colour
        frames.append(rgb)
        images.append(ImageTruth(f, -1, tuple(words), cols, rows))
    stack = np.stack(frames)
    ds = base_dataset(identity, "US", rnd, multiframe=n_frames > 1,
                      burned_in=any(i.words for i in images), fresh_uids=opts.fresh_uids)
    if n_frames > 1:
        ds.NumberOfFrames = n_frames
        ds.FrameTime = 40.0
        ds.FrameIncrementPointer = 0x00181063
    set_pixels(ds, stack, bits_stored=8, signed=False, photometric="RGB")
    encode_and_save(ds, stack, path, opts.syntax)
    return _truth(path, case, opts.syntax, "US", images)


def build_grey_sc(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                  case: str = "sc_grey") -> Truth:
    """8-bit greyscale secondary capture (a screen grab of a viewer), text at 255."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 512
    mask, words = text_mask(make_annotation(identity, "OT", rnd, opts.text), size, size,
                            pick_font_size(rnd, size), face=face)
    grey = (anatomy(rng, size, size) * 230).astype(np.uint8)
    grey[mask] = 255
    ds = base_dataset(identity, "OT", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    set_pixels(ds, grey[None], bits_stored=8, signed=False, photometric="MONOCHROME2")
    encode_and_save(ds, grey[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "OT", [ImageTruth(0, -1, tuple(words), size, size)])


def build_mr_overlay(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                     case: str = "mr_overlay") -> Truth:
    """MR whose text lives only in separate overlays: 6000 with identifiers, sometimes 6002
    with safe text. Nothing is drawn in the pixels."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 256 * rnd.choice((1, 2))
    font = pick_font_size(rnd, size)
    pixels = np.rint(anatomy(rng, size, size) * 1800).astype(np.uint16)
    ds = base_dataset(identity, "MR", rnd, burned_in=False, fresh_uids=opts.fresh_uids)
    ds.WindowCenter, ds.WindowWidth = 900, 1800
    ds.MagneticFieldStrength, ds.EchoTime, ds.RepetitionTime = 1.5, 90, 4000
    set_pixels(ds, pixels[None], bits_stored=12, signed=False, photometric="MONOCHROME2")
    images = [ImageTruth(0, -1, (), size, size)]
    ann = make_annotation(identity, "MR", rnd, opts.text)
    pii_only = Annotation.of(top_left=list(ann.lines("top_left")),
                             top_right=list(ann.lines("top_right")))
    plane, words = text_mask(pii_only if not pii_only.empty else ann, size, size, font, face=face)
    add_overlay_data(ds, 0x6000, plane, description="ANNOTATION")
    images.append(ImageTruth(0, 0, tuple(words), size, size))
    if rnd.random() < 0.5:
        safe = Annotation.of(bottom_left=list(ann.lines("bottom_left")),
                             bottom_right=list(ann.lines("bottom_right")))
        plane2, words2 = text_mask(safe, size, size, font, face=face)
        add_overlay_data(ds, 0x6002, plane2, description="GRAPHICS")
        images.append(ImageTruth(0, 1, tuple(words2), size, size))
    encode_and_save(ds, pixels[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "MR", images)


def build_high_bit_overlay(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                           case: str = "xa_highbit") -> Truth:
    """XA-like: BitsAllocated 16, BitsStored 12, the overlay in bit 12 or 15 of PixelData, no
    OverlayData. Identifiers are only in the overlay; the pixels carry safe text at most."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 512
    font = pick_font_size(rnd, size)
    bit = rnd.choice((12, 15))
    ann = make_annotation(identity, "XA", rnd, opts.text)
    overlay_ann = Annotation.of(top_left=list(ann.lines("top_left")),
                                top_right=list(ann.lines("top_right")))
    plane, words = text_mask(overlay_ann if not overlay_ann.empty else ann, size, size, font, face=face)
    pixel_words: list[Word] = []
    pixels = np.rint(2600 - anatomy(rng, size, size) * 1800).astype(np.uint16)  # dense = dark
    if rnd.random() < 0.5 and opts.text != "none":
        safe = Annotation.of(bottom_left=list(ann.lines("bottom_left")))
        pmask, pixel_words = text_mask(safe, size, size, font, face=face)
        pixels[pmask] = 4095
    raw = pixels | (plane.astype(np.uint16) << bit)
    ds = base_dataset(identity, "XA", rnd, burned_in=bool(pixel_words), fresh_uids=opts.fresh_uids)
    ds.WindowCenter, ds.WindowWidth = 2048, 4096
    set_pixels(ds, raw[None], bits_stored=12, signed=False, photometric="MONOCHROME2")
    add_high_bit_overlay(ds, 0x6000, size, size, bit)
    encode_and_save(ds, raw[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "XA",
                  [ImageTruth(0, -1, tuple(pixel_words), size, size),
                   ImageTruth(0, 0, tuple(words), size, size)])


def build_multiframe_overlay(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                             case: str = "xa_multiframe_overlay", origin: int | None = None
                             ) -> Truth:
    """A multi-frame XA with a multi-frame OverlayData overlay covering some of its frames
    (NumberOfFramesInOverlay, ImageFrameOrigin, random unless `origin` is given); each overlay
    frame has its own counter naming its image frame."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 512
    n_frames = rnd.randint(3, 5)
    n_overlay = rnd.randint(2, n_frames - 1)
    if origin is None:
        origin = rnd.randint(1, n_frames - n_overlay + 1)     # 1-based image frame
    else:
        n_frames = max(n_frames, origin - 1 + n_overlay)
    font = pick_font_size(rnd, size)
    frames = np.stack([np.rint(2600 - anatomy(rng, size, size, shift=0.01 * f) * 1800)
                       for f in range(n_frames)]).astype(np.uint16)
    ann = make_annotation(identity, "XA", rnd, opts.text)
    overlay_ann = Annotation.of(top_left=list(ann.lines("top_left"))[:2])
    planes, images = [], [ImageTruth(f, -1, (), size, size) for f in range(n_frames)]
    for i in range(n_overlay):
        frame_ann = overlay_ann.with_line("bottom_right", _seg(f"Fr {origin + i}"))
        plane, words = text_mask(frame_ann, size, size, font, face=face)
        planes.append(plane)
        images.append(ImageTruth(i, 0, tuple(words), size, size))
    ds = base_dataset(identity, "XA", rnd, multiframe=True, burned_in=False,
                      fresh_uids=opts.fresh_uids)
    ds.NumberOfFrames = n_frames
    ds.FrameTime = 66.7
    ds.FrameIncrementPointer = 0x00181063
    set_pixels(ds, frames, bits_stored=12, signed=False, photometric="MONOCHROME2")
    add_overlay_data(ds, 0x6000, np.stack(planes), image_frame_origin=origin,
                     description="FRAME ANNOTATION")
    encode_and_save(ds, frames, path, opts.syntax)
    return _truth(path, case, opts.syntax, "XA", images)


def build_sparse_overlays(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                          case: str = "mr_overlay_6002", groups: tuple[int, ...] = (0x6002,)) -> Truth:
    """MR with separate overlays in the given groups only (a lone 6002; 6000 and 6004): the
    CSV numbers an overlay by its group, (group - 0x6000) / 2, not by its position among the
    groups present. The first group holds the identifiers, the others safe text."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 256
    font = max(MIN_FONT, rnd.choice((12, 14)))
    pixels = np.rint(anatomy(rng, size, size) * 1800).astype(np.uint16)
    ds = base_dataset(identity, "MR", rnd, burned_in=False, fresh_uids=opts.fresh_uids)
    ds.WindowCenter, ds.WindowWidth = 900, 1800
    set_pixels(ds, pixels[None], bits_stored=12, signed=False, photometric="MONOCHROME2")
    images = [ImageTruth(0, -1, (), size, size)]
    ann = make_annotation(identity, "MR", rnd, opts.text)
    parts = [Annotation.of(top_left=list(ann.lines("top_left")))]
    parts += [Annotation.of(bottom_left=list(ann.lines("bottom_left")),
                            bottom_right=list(ann.lines("bottom_right")))] * (len(groups) - 1)
    for group, part in zip(groups, parts):
        plane, words = text_mask(part if not part.empty else ann, size, size, font, face=face)
        add_overlay_data(ds, group, plane, description="ANNOTATION")
        images.append(ImageTruth(0, (group - 0x6000) // 2, tuple(words), size, size))
    encode_and_save(ds, pixels[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "MR", images)


def build_legacy_high_bit_overlays(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                                   case: str = "xa_legacy_overlays", n_groups: int = 4,
                                   text_group: int = 2) -> Truth:
    """GE XA style: BitsAllocated 16, BitsStored 8, and overlays in the 8 unused bits declared
    in the legacy form: OverlayBitsAllocated 1 (as if separate), OverlayBitPosition 8.., no
    OverlayData. Group 6000+2k is in bit 8+k; group `text_group` holds the patient's name, ID
    and dates, the last group safe text, the others nothing (as on the real files, where most
    of the 16 declared planes are empty)."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 512
    font = pick_font_size(rnd, size)
    ann = make_annotation(identity, "XA", rnd, opts.text)
    pii_part = Annotation.of(top_left=list(ann.lines("top_left")),
                             top_right=list(ann.lines("top_right")))
    safe_part = Annotation.of(bottom_left=list(ann.lines("bottom_left")))
    pixels = np.rint(200 - anatomy(rng, size, size) * 150).astype(np.uint16)   # 8 stored bits
    raw = pixels.copy()
    images = [ImageTruth(0, -1, (), size, size)]
    ds = base_dataset(identity, "XA", rnd, burned_in=False, fresh_uids=opts.fresh_uids)
    ds.Manufacturer, ds.ManufacturerModelName = "GE MEDICAL SYSTEMS", "DL"
    ds.WindowCenter, ds.WindowWidth = 128, 256
    for k in range(n_groups):
        group, bit = 0x6000 + 2 * k, 8 + k
        part = pii_part if k == text_group else safe_part if k == n_groups - 1 else Annotation()
        words: list[Word] = []
        if not part.empty:
            plane, words = text_mask(part, size, size, font, face=face)
            raw |= plane.astype(np.uint16) << bit
        ds.add_new((group, 0x0010), "US", size)
        ds.add_new((group, 0x0011), "US", size)
        ds.add_new((group, 0x0040), "CS", "G")
        ds.add_new((group, 0x0050), "SS", [1, 1])
        ds.add_new((group, 0x0100), "US", 1)          # the legacy declaration
        ds.add_new((group, 0x0102), "US", bit)
        images.append(ImageTruth(0, k, tuple(words), size, size))
    set_pixels(ds, raw[None], bits_stored=8, signed=False, photometric="MONOCHROME2")
    encode_and_save(ds, raw[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "XA", images)


def build_antialiased_sc(path: Path, seed: int, opts: CaseOptions = CaseOptions(),
                         case: str = "sc_antialiased", background: int = 40) -> Truth:
    """8-bit greyscale screen capture with anti-aliased text (faint edge pixels between the
    text value 255 and a flat background) around an image in the middle that keeps clear of
    the text: every pixel that differs from `background` near a word belongs to its glyphs."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    size = 512
    placements = fit_layout(make_annotation(identity, "OT", rnd, opts.text), size, size,
                            pick_font_size(rnd, size), face=face)
    coverage, words = render_coverage(placements, size, size)
    grey = np.full((size, size), background, dtype=np.float32)
    inner = slice(size // 4, 3 * size // 4)
    grey[inner, inner] = background + anatomy(rng, size // 2, size // 2) * 150
    grey = grey + (255 - grey) * (coverage.astype(np.float32) / 255.0)
    grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    ds = base_dataset(identity, "OT", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    set_pixels(ds, grey[None], bits_stored=8, signed=False, photometric="MONOCHROME2")
    encode_and_save(ds, grey[None], path, opts.syntax)
    return _truth(path, case, opts.syntax, "OT", [ImageTruth(0, -1, tuple(words), size, size)])


def build_us_cine(path: Path, seed: int, opts: CaseOptions = CaseOptions(), case: str = "us_cine",
                  n_frames: int = 12, grey: bool = False, hold: int = 1) -> Truth:
    """An ultrasound cine: every frame has new speckle and a moving blob, the same burned-in
    name, ID, date of birth, hospital, study date and safe settings, and a clock (HH:MM:SS,
    one second on per frame) and a frame counter that change on every frame. RGB with
    coloured text, or 8-bit grey (`grey`). `hold` > 1 stores each frame that many times in a
    row (a cine captured faster than the scanner redraws). Not one of CASES: adding it there would change
    every existing corpus (file seeds follow the sorted case names)."""
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    face = pick_face(rnd)
    rows, cols = 480, 640
    size = pick_font_size(rnd, 512)
    colour = np.array(rnd.choice(US_COLOURS), dtype=np.uint8)
    left, right = pii_lines(identity, rnd)
    right = [line for line in right if not any(":" in s.text for s in line)]
    study = format_date(identity.study_date, rnd.choice(DATE_FORMATS))
    t = identity.study_time
    start = dt.datetime(2000, 1, 1, int(t[:2]), int(t[2:4]), int(t[4:]))
    safe = safe_lines("US", rnd)
    frames, images, placed_size = [], [], None
    for f in range(n_frames):
        clock = (start + dt.timedelta(seconds=f)).strftime("%H:%M:%S")
        ann = Annotation.of(top_left=left, top_right=right + [(Segment(study, True), Segment(clock))],
                            bottom_left=safe["bottom_left"],
                            bottom_right=safe["bottom_right"] + [_seg(f"Frame {f + 1}/{n_frames}")])
        if placed_size is None:
            placements = fit_layout(ann, cols, rows, size, face)
            placed_size = placements[0].size if placements else size
        else:                       # the same font on every frame, as a console draws it
            placements = layout(ann, cols, rows, placed_size, face)
        mask, words = render(placements, cols, rows)
        sector = ultrasound_sector(rng, rows, cols)
        yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
        moving = _ellipse(yy / rows, xx / cols, 0.45 + 0.01 * f, 0.45 + 0.008 * f, 0.07, 0.06)
        picture = (np.clip(sector * (1 - 0.7 * moving), 0, 1) * 200).astype(np.uint8)
        if grey:
            pixels = picture.copy()
            pixels[mask] = 255
        else:
            pixels = np.repeat(picture[..., None], 3, axis=2)
            pixels[mask] = colour
        for _ in range(hold):
            images.append(ImageTruth(len(frames), -1, tuple(words), cols, rows))
            frames.append(pixels)
    stack = np.stack(frames)
    ds = base_dataset(identity, "US", rnd, multiframe=True, burned_in=True,
                      fresh_uids=opts.fresh_uids)
    ds.NumberOfFrames = len(frames)
    ds.FrameTime = 40.0
    ds.FrameIncrementPointer = 0x00181063
    set_pixels(ds, stack, bits_stored=8, signed=False,
               photometric="MONOCHROME2" if grey else "RGB")
    encode_and_save(ds, stack, path, opts.syntax)
    return _truth(path, case, opts.syntax, "US", images)


def build_video_cine(path: Path, seed: int, codec: str = "h264", n_frames: int = 12,
                     form: str | None = None, ten_bit: bool = False) -> Truth:
    """build_us_cine's RGB cine (same text, clock and counter) stored as a video stream
    (store_as_video: MPEG-2, H.264 or HEVC), as an ultrasound or endoscopy video recorder
    sends it. Needs PyAV. Not one of CASES (see build_us_cine)."""
    import pydicom

    truth = build_us_cine(path, seed, case=f"us_video_{codec}", n_frames=n_frames)
    ds = pydicom.dcmread(path)
    frames = ds.pixel_array.reshape(n_frames, ds.Rows, ds.Columns, 3)
    store_as_video(ds, frames, codec, form, ten_bit)
    save(ds, path)
    return replace(truth, transfer_syntax=str(ds.file_meta.TransferSyntaxUID))


# ---------------------------------------------------------------------------------------------
# The corpus
# ---------------------------------------------------------------------------------------------

Builder = Callable[[Path, int], Truth]


def _case(builder: Callable[..., Truth], name: str, **kwargs) -> Builder:
    opts = CaseOptions(**{k: v for k, v in kwargs.items() if k in ("text", "syntax")})
    extra = {k: v for k, v in kwargs.items() if k not in ("text", "syntax")}

    def build(path: Path, seed: int, fresh_uids: bool = True) -> Truth:
        return builder(path, seed, replace(opts, fresh_uids=fresh_uids), case=name, **extra)

    build.__name__ = f"build_{name}"
    return build


CASES: dict[str, Builder] = {
    "ct_signed": _case(build_ct, "ct_signed"),
    "cr_mono1": _case(build_cr, "cr_mono1"),
    "us_rgb": _case(build_us, "us_rgb"),
    "us_rgb_multiframe": _case(build_us, "us_rgb_multiframe", n_frames=(3, 5)),
    "mr_overlay": _case(build_mr_overlay, "mr_overlay"),
    "xa_highbit": _case(build_high_bit_overlay, "xa_highbit"),
    "xa_multiframe_overlay": _case(build_multiframe_overlay, "xa_multiframe_overlay"),
    "ct_rle": _case(build_ct, "ct_rle", syntax=RLELossless),
    "ct_jpeg_lossless": _case(build_ct, "ct_jpeg_lossless", syntax=JPEGLosslessSV1),
    "us_jpeg_baseline": _case(build_us, "us_jpeg_baseline", syntax=JPEGBaseline8Bit,
                              n_frames=(3, 4)),
    "sc_grey_jpeg_baseline": _case(build_grey_sc, "sc_grey_jpeg_baseline", syntax=JPEGBaseline8Bit),
    "highbit_rle": _case(build_high_bit_overlay, "highbit_rle", syntax=RLELossless),
    "highbit_jpeg_lossless": _case(build_high_bit_overlay, "highbit_jpeg_lossless",
                                   syntax=JPEGLosslessSV1),
    "no_text": _case(build_ct, "no_text", text="none"),
    "safe_text": _case(build_cr, "safe_text", text="safe"),
}
# Cases outside the default corpus (so that the default corpus of a seed stays the same files):
# the numbering contract's corner cases, the legacy overlay form, anti-aliased text.
EXTRA_CASES: dict[str, Builder] = {
    "mr_overlay_6002": _case(build_sparse_overlays, "mr_overlay_6002", groups=(0x6002,)),
    "mr_overlay_6000_6004": _case(build_sparse_overlays, "mr_overlay_6000_6004",
                                  groups=(0x6000, 0x6004)),
    "xa_overlay_origin2": _case(build_multiframe_overlay, "xa_overlay_origin2", origin=2),
    "xa_legacy_overlays": _case(build_legacy_high_bit_overlays, "xa_legacy_overlays"),
    "xa_legacy_overlays_jpeg_lossless": _case(build_legacy_high_bit_overlays,
                                              "xa_legacy_overlays_jpeg_lossless",
                                              syntax=JPEGLosslessSV1),
    "sc_antialiased": _case(build_antialiased_sc, "sc_antialiased"),
}
NEEDS_DCMTK = frozenset({"ct_jpeg_lossless", "highbit_jpeg_lossless",
                         "xa_legacy_overlays_jpeg_lossless"})


def build_case(case: str, path: str | os.PathLike, seed: int = 0, fresh_uids: bool = True) -> Truth:
    """Write one file of the named case; see CASES and EXTRA_CASES for the names."""
    builder = CASES.get(case) or EXTRA_CASES.get(case)
    if builder is None:
        raise KeyError(f"unknown case {case!r}; known: {', '.join([*CASES, *EXTRA_CASES])}")
    return builder(Path(path), seed, fresh_uids)


def _file_seed(seed: int, case: str, index: int) -> int:
    number = (sorted(CASES).index(case) if case in CASES
              else len(CASES) + sorted(EXTRA_CASES).index(case))
    return int(np.random.SeedSequence([seed, number, index]).generate_state(1)[0])


def make_corpus(out_dir: str | os.PathLike, n_per_case: int = 3, seed: int = 0, *,
                cases: Iterable[str] | None = None, count: int | None = None,
                fresh_uids: bool = True, fonts: str | None = None) -> list[Truth]:
    """Write files of every case (n_per_case each, or `count` in all, cases in turn) into
    out_dir (made owner-only) with truth.json beside them; returns the truths. fonts: draw
    with that font set's faces at CLASSIC_FONT_SIZES (see classic_fonts), not DejaVu."""
    out = make_private_dir(out_dir)
    names = list(cases) if cases is not None else list(CASES)
    if not dcmtk_available():
        names = [n for n in names if n not in NEEDS_DCMTK]
    if count is None:
        plan = [(name, i) for i in range(n_per_case) for name in names]
    else:
        plan = [(names[k % len(names)], k // len(names)) for k in range(count)]
    truths, styles = [], {}
    with classic_fonts(fonts):
        for name, i in plan:
            truths.append(build_case(name, out / f"{name}_{i:03d}.dcm", _file_seed(seed, name, i),
                                     fresh_uids))
            if fonts is not None:
                styles[Path(truths[-1].path).name] = {"face": Path(str(_classic_fonts["face"])).name,
                                                      "size": _classic_fonts["size"]}
    write_truth(truths, out / TRUTH_FILENAME, seed=seed)
    if fonts is not None:
        _write_private(out / STYLES_FILENAME,
                       json.dumps({"seed": seed, "fonts": fonts, "files": styles}, indent=1).encode())
    return truths


# ---------------------------------------------------------------------------------------------
# The varied style: many fonts, small sizes, lossy and busy images (the benchmark's corpus)
# ---------------------------------------------------------------------------------------------
#
# Why: the cases above draw DejaVu Sans/Mono at 12-24 px, hard-edged, on quiet corners, and the
# scanner was tuned on them. Real consoles use other faces (bitmap and terminal fonts among
# them), small anti-aliased text, lossy JPEG, coloured text, text over speckle and anatomy,
# palette colour and interlaced video. These builders draw that variety from a chosen set of
# font families, so that a benchmark can tune on one set (TUNING) and report on another whose
# families it never saw (HELD_OUT). They are separate from CASES, whose seeds the unit tests
# rely on; make_varied_corpus writes them.

FONT_SETS = ("tuning", "heldout", "all", "extra", "training")
_TT, _X11 = Path("/usr/share/fonts/truetype"), Path("/usr/share/fonts/X11/misc")
_OT, _X = Path("/usr/share/fonts/opentype"), Path("/usr/share/fonts/X11")
# family -> (set, folder, file-name pattern). Debian packages: fonts-dejavu-core,
# fonts-dejavu-extra, fonts-liberation2, fonts-liberation, xfonts-base (the misc "Fixed" and
# "Clean" bitmaps), fonts-freefont-ttf, fonts-noto-mono, fonts-terminus.
# The `extra` families only feed the recogniser's training lines (scripts/recogniser/,
# `--fonts training` = tuning + extra); no benchmark reports on them, and none of them is a
# held-out family or one derived from the same design (FreeFont comes from URW's Nimbus fonts,
# so URW base35 and TeX Gyre are left out). Packages: fonts-roboto-unhinted, fonts-open-sans,
# fonts-lato, fonts-cantarell, fonts-go, fonts-hack, fonts-inconsolata, fonts-jetbrains-mono,
# fonts-anonymous-pro, fonts-courier-prime, fonts-crosextra-carlito, fonts-crosextra-caladea,
# fonts-unifont, fonts-monoid, fonts-firacode, xfonts-x3270-misc, xfonts-75dpi, xfonts-100dpi
# (the X11 Helvetica, Times, Courier, New Century Schoolbook, Charter and Lucida bitmaps).
FONT_FAMILIES: dict[str, tuple[str, Path, str]] = {
    "dejavu": ("tuning", _TT / "dejavu", r"DejaVu.*\.ttf"),
    "liberation": ("tuning", _TT, r"liberation2?/Liberation.*\.ttf"),
    "misc-fixed": ("tuning", _X11, r"\d+x\d+[BO]?(-ISO8859-1)?\.pcf\.gz"),
    "freefont": ("heldout", _TT / "freefont", r"Free.*\.ttf"),
    "noto-mono": ("heldout", _TT / "noto", r"Noto(Sans)?Mono-.*\.ttf"),
    "terminus": ("heldout", _TT / "terminus", r"Terminus.*\.ttf"),
    "misc-clean": ("heldout", _X11, r"cl[RBI]\d+x\d+(-ISO8859-1)?\.pcf\.gz"),
    "roboto": ("extra", _TT / "roboto", r"unhinted/Roboto.*\.ttf"),
    "open-sans": ("extra", _TT / "open-sans", r"OpenSans-.*\.ttf"),
    "lato": ("extra", _TT / "lato", r"Lato-.*\.ttf"),
    "cantarell": ("extra", _OT / "cantarell", r"Cantarell-.*\.otf"),
    "go": ("extra", Path("/usr/share/fonts/fonts-go"), r"Go-.*\.ttf"),
    "hack": ("extra", _TT / "hack", r"Hack-.*\.ttf"),
    "inconsolata": ("extra", _TT / "inconsolata", r"Inconsolata.*\.otf"),
    "jetbrains-mono": ("extra", _TT / "jetbrains-mono", r"JetBrainsMono-.*\.ttf"),
    "anonymous-pro": ("extra", _TT / "anonymous-pro", r"Anonymous Pro.*\.ttf"),
    "courier-prime": ("extra", _OT / "courier-prime", r"Courier Prime.*\.otf"),
    "carlito-caladea": ("extra", _TT / "crosextra", r"(Carlito|Caladea)-.*\.ttf"),
    "unifont": ("extra", _OT / "unifont", r"unifont\.otf"),
    "monoid": ("extra", _TT / "monoid", r"Monoid-.*\.ttf"),
    "firacode": ("extra", _TT / "firacode", r"FiraCode-.*\.ttf"),
    "x3270": ("extra", _X11, r"3270-\d+b?\.pcf\.gz"),
    "x11-75dpi": ("extra", _X / "75dpi", r"(helv|tim|cour|ncen|char|lu[bt]?)[A-Z]+\d+(-ISO8859-1)?\.pcf\.gz"),
    "x11-100dpi": ("extra", _X / "100dpi", r"(helv|tim|cour|ncen|char|lu[bt]?)[A-Z]+\d+(-ISO8859-1)?\.pcf\.gz"),
}
# Which families each set draws from.
_SET_MEMBERS = {"tuning": ("tuning",), "heldout": ("heldout",), "all": ("tuning", "heldout"),
                "extra": ("extra",), "training": ("tuning", "extra")}
VARIED_SIZES = (7, 16)         # font sizes in px, inclusive (hard-edged outlines from 9 px)
HARD_EDGED_MIN = 9             # hard-edged outlines below 9 px lose strokes even to the eye


@dataclass(frozen=True)
class FontFace:
    """One font file of a family; bitmap (PCF) faces have one pixel size."""

    family: str
    path: str
    bitmap_size: int | None = None

    @property
    def name(self) -> str:
        return Path(self.path).name


def _bitmap_size(path: Path) -> int | None:
    """The pixel size of an X11 bitmap: the height in a misc name like 9x15B-ISO8859-1.pcf.gz,
    else (75dpi/100dpi faces such as helvR12, 3270-12) the first size FreeType opens it at."""
    import re

    match = re.match(r"(?:cl[RBI])?\d+x(\d+)", path.name)
    if match:
        return int(match.group(1))
    for size in range(5, 41):
        try:
            ImageFont.truetype(str(path), size)
            return size
        except OSError:
            continue
    return None


# Characters a face must draw as glyphs of their own (a capital, a digit, lower case).
LETTER_PROBE = "AB8ag"


def draws_letters(path: str | Path, size: int = 12) -> bool:
    """Whether a face draws LETTER_PROBE's characters each as its own glyph, not as the
    face's missing-glyph box. FreeType finds a character through the face's Unicode
    charmap; X11 bitmaps without one (the 3270 terminal fonts of xfonts-x3270-misc, the
    cursor font) draw every character as the same box, which no reader can read."""
    font = ImageFont.truetype(str(path), size)

    def drawn(character: str) -> bytes:
        image = PILImage.new("L", (4 * size, 4 * size))
        ImageDraw.Draw(image).text((size, size), character, font=font, fill=255)
        return image.tobytes()

    missing = drawn("\ue000")           # a private-use character: no face here draws one
    glyphs = [drawn(character) for character in LETTER_PROBE]
    return len(set(glyphs)) == len(glyphs) and missing not in glyphs


@lru_cache(maxsize=None)
def font_faces(fonts: str = "all", sizes: tuple[int, int] = VARIED_SIZES) -> tuple[FontFace, ...]:
    """The installed faces of a font set (FONT_SETS: "all" is tuning + heldout; "training" is
    tuning + extra, for the recogniser's training lines only), sorted; one file per
    face (Liberation 2 before 1, an X11 bitmap's ISO8859-1 encoding before its others),
    only bitmaps whose size lies in `sizes` (inclusive), and only faces that draw letters
    (draws_letters)."""
    import re

    if fonts not in FONT_SETS:
        raise ValueError(f"unknown font set {fonts!r}; choose one of: {', '.join(FONT_SETS)}")
    check_sizes(sizes)
    faces: list[FontFace] = []
    for family, (which, folder, pattern) in FONT_FAMILIES.items():
        if which not in _SET_MEMBERS[fonts] or not folder.is_dir():
            continue
        regex = re.compile(pattern)
        files = sorted((p for p in folder.rglob("*") if regex.fullmatch(str(p.relative_to(folder)))),
                       key=lambda p: (p.name, "liberation2" not in str(p), "ISO8859-1" not in p.name))
        seen: set[str] = set()
        for path in files:
            key = path.name.split("-ISO8859")[0].removesuffix(".pcf.gz")
            size = _bitmap_size(path) if path.name.endswith(".pcf.gz") else None
            if key in seen or (size is not None and not sizes[0] <= size <= sizes[1]):
                continue
            try:
                if not draws_letters(path, size or 12):
                    continue
            except OSError:
                continue
            seen.add(key)
            faces.append(FontFace(family, str(path), size))
    return tuple(faces)


@dataclass(frozen=True)
class TextStyle:
    """How one file's text is drawn."""

    face: FontFace
    size: int
    antialias: bool

    def describe(self) -> dict:
        return {"family": self.face.family, "face": self.face.name, "size": self.size,
                "antialias": self.antialias}


def check_sizes(sizes: tuple[int, int]) -> None:
    """A range of font sizes the generator can draw: 5 to 64 px, the smaller first."""
    low, high = sizes
    if not 5 <= low <= high <= 64:
        raise ValueError(f"font sizes {low}-{high} px: give two sizes from 5 to 64 px, the smaller first")


def pick_text_style(rnd: random.Random, faces: tuple[FontFace, ...],
                    sizes: tuple[int, int] = VARIED_SIZES) -> TextStyle:
    """A face of `faces` (each family equally often) at a size drawn from `sizes`, anti-aliased
    or not (hard-edged only from HARD_EDGED_MIN px; a bitmap face at its own size)."""
    if not faces:
        raise RuntimeError("no font of the chosen set is installed; install the Makefile's "
                           "APT_TEST font packages (make apt-test), and for the extra set "
                           "its APT_TRAIN ones (make apt-train)")
    family = rnd.choice(sorted({f.family for f in faces}))       # each family equally often
    face = rnd.choice([f for f in faces if f.family == family])
    if face.bitmap_size is not None:
        return TextStyle(face, face.bitmap_size, False)
    low, high = sizes
    # Hard-edged outlines below 9 px lose strokes even to the eye; anti-aliased ones keep them.
    antialias = rnd.random() < 0.6 or high < HARD_EDGED_MIN
    return TextStyle(face, rnd.randint(low if antialias else max(low, HARD_EDGED_MIN), high),
                     antialias)


def fit_layout_styled(annotation: Annotation, width: int, height: int,
                      style: TextStyle) -> list[Placement]:
    """The largest layout at or below the style's size (a bitmap face only at its own size);
    drop the longest line while none fits."""
    low = style.size if style.face.bitmap_size is not None else min(style.size, HARD_EDGED_MIN)
    while not annotation.empty:
        for s in range(style.size, low - 1, -1):
            try:
                return layout(annotation, width, height, s, style.face.path)
            except LayoutError:
                continue
        annotation = annotation.without_longest_line()
    return []


def text_coverage(annotation: Annotation, width: int, height: int,
                  style: TextStyle) -> tuple[np.ndarray, list[Word]]:
    """Text coverage 0..1 (anti-aliased or binary, as the style says) and the truth words with
    their ink boxes (pixels at least a quarter covered)."""
    placements = fit_layout_styled(annotation, width, height, style)
    canvas = PILImage.new("L", (width, height), 0)
    draw = ImageDraw.Draw(canvas)
    draw.fontmode = "L" if style.antialias else "1"
    for p in placements:
        draw.text((p.x, p.y), p.text, fill=255, font=load_font(p.size, p.face), anchor="la")
    coverage = np.asarray(canvas, dtype=np.float32) / 255.0
    ink = coverage >= 0.25
    words = ink_tight_words(placements, ink)
    return coverage, words


def blend(background: np.ndarray, ink, coverage: np.ndarray) -> np.ndarray:
    """background (h, w) or (h, w, 3) with `ink` (a value or an RGB triple) laid over it."""
    a = coverage[..., None] if background.ndim == 3 else coverage
    return background * (1.0 - a) + np.asarray(ink, dtype=np.float32) * a


# Backgrounds that fill the frame, so the corners' text sits on image content.

def speckle_field(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """Ultrasound-like speckle over the whole frame, with depth bands. Values in 0..1."""
    yy = np.linspace(0, 1, height, dtype=np.float32)[:, None]
    speckle = rng.rayleigh(0.35, (height, width)).astype(np.float32)
    bands = 0.7 + 0.3 * np.sin(yy * rng.uniform(8, 20) + rng.uniform(0, 6))
    return np.clip(speckle * bands, 0, 1)


def anatomy_fill(rng: np.random.Generator, height: int, width: int) -> np.ndarray:
    """A body cross-section enlarged until it fills the frame, on a gradient. Values in 0..1."""
    big = anatomy(rng, int(height * 1.7), int(width * 1.7))
    y0, x0 = (big.shape[0] - height) // 2, (big.shape[1] - width) // 2
    body = big[y0:y0 + height, x0:x0 + width]
    ramp = np.linspace(rng.uniform(0.0, 0.25), rng.uniform(0.0, 0.25), width, dtype=np.float32)
    return np.clip(body + ramp[None, :], 0, 1)


def interlace(frame: np.ndarray, shift: int, darken: float) -> np.ndarray:
    """A field-interlaced video frame: the odd rows (the second field) shifted right by `shift`
    pixels, as by motion between fields, and darkened."""
    out = frame.astype(np.float32).copy()
    odd = np.zeros_like(out[1::2])
    odd[:, shift:] = out[1::2, :out.shape[1] - shift] if shift else out[1::2]
    out[1::2] = odd * darken
    return out


TEXT_COLOURS = ((255, 255, 255), (255, 255, 0), (0, 255, 0), (0, 255, 255), (255, 160, 0),
                (150, 200, 255), (255, 0, 255), (200, 200, 200))


@dataclass(frozen=True)
class VariedOptions:
    text: str = "pii"                  # "pii", "safe" or "none"
    fonts: str = "heldout"
    fresh_uids: bool = True
    sizes: tuple[int, int] = VARIED_SIZES     # font sizes drawn from, px, inclusive


def _varied_start(seed: int, opts: VariedOptions, modality: str):
    rnd, rng = _rngs(seed)
    identity = make_identity(rnd)
    style = pick_text_style(rnd, font_faces(opts.fonts, opts.sizes), opts.sizes)
    return rnd, rng, identity, style, make_annotation(identity, modality, rnd, opts.text)


def _save_varied(ds: Dataset, frames: np.ndarray, path: Path, rnd: random.Random,
                 lossy: bool) -> tuple[str, dict]:
    """Write JPEG baseline at a quality drawn from 40-95 when `lossy` (8-bit only), else
    native or RLE; returns the syntax and what was chosen."""
    if lossy:
        quality = rnd.randint(40, 95)
        compress_jpeg_baseline(ds, frames, quality=quality)
        save(ds, path)
        return JPEGBaseline8Bit, {"jpeg_quality": quality}
    syntax = rnd.choice((ExplicitVRLittleEndian, RLELossless))
    encode_and_save(ds, frames, path, syntax)
    return syntax, {}


def _save_one_image(ds: Dataset, frames: np.ndarray, path: Path, rnd: random.Random, lossy: bool,
                    case: str, modality: str, words: list, style, pixels: dict | None = None,
                    **more) -> tuple[Truth, dict]:
    """Write a file whose frames all carry `words` (one image in the truth), and what was
    chosen. `pixels`: set_pixels' keywords, when the frames are not set on `ds` yet."""
    if pixels is not None:
        set_pixels(ds, frames, **pixels)
    syntax, extra = _save_varied(ds, frames, path, rnd, lossy=lossy)
    rows, cols = frames.shape[1:3]
    return (_truth(path, case, syntax, modality, [ImageTruth(0, -1, tuple(words), cols, rows)]),
            {**style.describe(), **extra, **more})


def build_varied_ct(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                    case: str = "v_ct_busy") -> tuple[Truth, dict]:
    """Signed CT whose anatomy fills the frame: grey text (not always the brightest value)
    over tissue."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "CT")
    size = 512
    cov, words = text_coverage(ann, size, size, style)
    # Tissue shows at most 65% grey in the 40/400 window (HU <= 100), so the text stays legible
    # over it; the text is white there (240+ HU) but not always the brightest value stored.
    hu = -900 + anatomy_fill(rng, size, size) * 1000 + rng.normal(0, 15, (size, size))
    text_hu = rnd.uniform(300, 1000)
    stored = np.clip(np.rint(blend(hu, text_hu, cov) + 1024), -2048, 2047).astype(np.int16)
    ds = base_dataset(identity, "CT", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    ds.RescaleIntercept, ds.RescaleSlope, ds.RescaleType = -1024, 1, "HU"
    ds.WindowCenter, ds.WindowWidth = 40, 400
    return _save_one_image(ds, stored[None], path, rnd, False, case, "CT", words, style,
                           pixels={"bits_stored": 12, "signed": True, "photometric": "MONOCHROME2"})


def build_varied_mr(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                    case: str = "v_mr") -> tuple[Truth, dict]:
    """12-bit MR, text at 85-100% of the window over anatomy (at most 61%) and a gradient."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "MR")
    size = rnd.choice((256, 384, 512))
    cov, words = text_coverage(ann, size, size, style)
    body = anatomy_fill(rng, size, size) if rnd.random() < 0.5 else anatomy(rng, size, size)
    pixels = np.rint(blend(body * 1100, rnd.uniform(0.85, 1.0) * 1800, cov)).astype(np.uint16)
    ds = base_dataset(identity, "MR", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    ds.WindowCenter, ds.WindowWidth = 900, 1800
    return _save_one_image(ds, pixels[None], path, rnd, False, case, "MR", words, style,
                           pixels={"bits_stored": 12, "signed": False, "photometric": "MONOCHROME2"})


def build_varied_cr(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                    case: str = "v_cr_large") -> tuple[Truth, dict]:
    """A large MONOCHROME1 CR (up to 2500x2000) with small text: its pixel size stays 7-16."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "CR")
    rows, cols = rnd.choice(((1280, 1024), (2500, 2000)))
    cov, words = text_coverage(ann, cols, rows, style)
    body = anatomy(rng, rows // 4, cols // 4)
    body = np.kron(body, np.ones((4, 4), np.float32)) + rng.normal(0, 0.01, (rows, cols))
    stored = np.clip(np.rint(blend(3600 - body * 2700, 0.0, cov)), 0, 4095).astype(np.uint16)
    ds = base_dataset(identity, "CR", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    ds.WindowCenter, ds.WindowWidth = 2000, 4000
    return _save_one_image(ds, stored[None], path, rnd, False, case, "CR", words, style,
                           pixels={"bits_stored": 12, "signed": False, "photometric": "MONOCHROME1"})


def _multiframe(ds: Dataset, n_frames: int) -> None:
    if n_frames > 1:
        ds.NumberOfFrames = n_frames
        ds.FrameTime = 40.0
        ds.FrameIncrementPointer = 0x00181063


def build_varied_us(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                    case: str = "v_us_colour") -> tuple[Truth, dict]:
    """RGB ultrasound, 1-3 frames, coloured text over a sector or over speckle filling the
    frame, JPEG at quality 40-95."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "US")
    rows, cols = rnd.choice(((480, 640), (600, 800), (768, 1024)))
    n_frames = rnd.randint(1, 3)
    colour = rnd.choice(TEXT_COLOURS)
    full = rnd.random() < 0.5
    frames, images = [], []
    for f in range(n_frames):
        frame_ann = ann
        if n_frames > 1 and opts.text != "none":
            frame_ann = ann.with_line("bottom_right", _seg(f"{f + 1}/{n_frames}"))
        cov, words = text_coverage(frame_ann, cols, rows, style)
        grey = speckle_field(rng, rows, cols) * 150 if full else ultrasound_sector(rng, rows, cols) * 200
        rgb = blend(np.repeat(grey[..., None], 3, axis=2), colour, cov)
        frames.append(np.clip(np.rint(rgb), 0, 255).astype(np.uint8))
        images.append(ImageTruth(f, -1, tuple(words), cols, rows))
    stack = np.stack(frames)
    ds = base_dataset(identity, "US", rnd, multiframe=n_frames > 1,
                      burned_in=any(i.words for i in images), fresh_uids=opts.fresh_uids)
    _multiframe(ds, n_frames)
    set_pixels(ds, stack, bits_stored=8, signed=False, photometric="RGB")
    syntax, extra = _save_varied(ds, stack, path, rnd, lossy=True)
    return (_truth(path, case, syntax, "US", images),
            {**style.describe(), **extra, "colour": list(colour), "over_speckle": full})


def palette_luts(rnd: random.Random) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """16-bit red, green and blue tables of 256 entries: 0-223 a colour map (echo-like
    bronze or Doppler-like red-yellow), 224-255 a grey ramp for text."""
    t = np.linspace(0, 1, 224)
    if rnd.random() < 0.5:
        red, green, blue = t ** 0.8, t ** 1.1, t ** 1.8            # bronze
    else:
        red, green, blue = np.clip(t * 2, 0, 1), np.clip(t * 2 - 1, 0, 1), 0.2 * t
    ramp = np.linspace(0.3, 1.0, 32)
    return tuple(np.rint(np.concatenate([c, ramp]) * 65535).astype(np.uint16)
                 for c in (red, green, blue))


def palette_text(index: np.ndarray, coverage: np.ndarray,
                 tables: tuple[np.ndarray, np.ndarray, np.ndarray]) -> np.ndarray:
    """Palette indices with white text laid over them: each pixel the text touches (coverage
    above 0) becomes the table entry nearest the colour it would show, the entry's colour
    blended with white by the coverage. A pixel a stroke covers by a tenth keeps a trace of
    it, as in any colour render, where keeping only pixels covered by a quarter or more (as
    this generator did before 6 December 2026) left thin 7-10 px faces as scattered dots."""
    colours = np.stack(tables, axis=1).astype(np.float32) / 65535.0        # (256, 3)
    out = index.copy()
    touched = coverage > 0
    share = coverage[touched][:, None]
    wanted = colours[index[touched]] * (1.0 - share) + share               # white text
    distance = ((wanted[:, None, :] - colours[None, :, :]) ** 2).sum(axis=2)
    out[touched] = distance.argmin(axis=1).astype(np.uint8)
    return out


def build_varied_palette(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                         case: str = "v_us_palette") -> tuple[Truth, dict]:
    """PALETTE COLOR echo cine (1-3 frames): the image through a colour map, white text laid
    over it (anti-aliased or not, as the style says) and each pixel the text touches stored
    as the table's entry nearest its colour (palette_text)."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "US")
    rows, cols = 480, 640
    n_frames = rnd.randint(1, 3)
    frames, coverages, images = [], [], []
    for f in range(n_frames):
        frame_ann = ann
        if n_frames > 1 and opts.text != "none":
            frame_ann = ann.with_line("bottom_left", _seg(f"Fr {f + 1}"))
        cov, words = text_coverage(frame_ann, cols, rows, style)
        frames.append(np.rint(ultrasound_sector(rng, rows, cols) * 223).astype(np.uint8))
        coverages.append(cov)
        images.append(ImageTruth(f, -1, tuple(words), cols, rows))
    ds = base_dataset(identity, "US", rnd, multiframe=n_frames > 1,
                      burned_in=any(i.words for i in images), fresh_uids=opts.fresh_uids)
    _multiframe(ds, n_frames)
    tables = palette_luts(rnd)
    stack = np.stack([palette_text(index, cov, tables) for index, cov in zip(frames, coverages)])
    set_pixels(ds, stack, bits_stored=8, signed=False, photometric="PALETTE COLOR")
    for group, table in zip((0x1101, 0x1102, 0x1103), tables):   # red, green, blue
        ds.add_new((0x0028, group), "US", [256, 0, 16])                     # ...Descriptor
        ds.add_new((0x0028, group + 0x100), "OW", table.astype("<u2").tobytes())   # ...Data
    syntax, extra = _save_varied(ds, stack, path, rnd, lossy=False)
    return _truth(path, case, syntax, "US", images), {**style.describe(), **extra}


def endoscopy_frame(rng: np.random.Generator, rows: int, cols: int) -> np.ndarray:
    """Colour endoscopy video: a pink-red mucosa disc with highlights, right of centre, on
    black. RGB floats 0..255."""
    yy, xx = np.mgrid[0:rows, 0:cols].astype(np.float32)
    cy, cx, radius = rows / 2, cols * 0.58, rows * 0.42
    disc = _ellipse(yy / rows, xx / cols, cy / rows, cx / cols, radius / rows, radius / cols, 0.01)
    folds = 0.6 + 0.4 * np.sin(np.hypot(yy - cy, xx - cx) / rng.uniform(8, 20)
                               + np.arctan2(yy - cy, xx - cx) * 3)
    noise = rng.normal(0, 0.05, (rows, cols)).astype(np.float32)
    base = np.stack([200 * folds, 90 * folds, 80 * folds], axis=-1) * (1 + noise[..., None])
    spots = (rng.random((rows, cols)) > 0.9995).astype(np.float32)
    base += 255 * np.repeat(spots[..., None], 3, axis=2)
    return np.clip(base * disc[..., None], 0, 255)


def build_varied_endoscopy(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                           case: str = "v_endoscopy") -> tuple[Truth, dict]:
    """A screen capture of colour endoscopy video, white (or coloured) text beside it in the
    black margin, JPEG at quality 40-95."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "OT")
    rows, cols = rnd.choice(((576, 720), (480, 640), (1080, 1920)))
    colour = (255, 255, 255) if rnd.random() < 0.6 else rnd.choice(TEXT_COLOURS)
    cov, words = text_coverage(ann, cols, rows, style)
    rgb = np.clip(np.rint(blend(endoscopy_frame(rng, rows, cols), colour, cov)), 0, 255).astype(np.uint8)
    ds = base_dataset(identity, "OT", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    set_pixels(ds, rgb[None], bits_stored=8, signed=False, photometric="RGB")
    return _save_one_image(ds, rgb[None], path, rnd, True, case, "OT", words,
                           style, colour=list(colour))


def build_varied_interlaced(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                            case: str = "v_interlaced") -> tuple[Truth, dict]:
    """A frame grabbed from interlaced video (ultrasound on a video capture card): text and
    image drawn, then the second field darkened (and, in 30%, shifted by 1 px); RGB or grey,
    native or JPEG at quality 40-95."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "US")
    rows, cols = 576, 768
    # Static text keeps its place in both fields, mostly; a capture card's field delay moves
    # the second field by a pixel now and then. Larger shifts leave 1-px strokes illegible.
    shift, darken = int(rnd.random() < 0.3), rnd.uniform(0.6, 0.85)
    colour = rnd.choice(TEXT_COLOURS)
    cov, words = text_coverage(ann, cols, rows, style)
    grey = ultrasound_sector(rng, rows, cols) * 200
    rgb = interlace(blend(np.repeat(grey[..., None], 3, axis=2), colour, cov), shift, darken)
    rgb = np.clip(np.rint(rgb), 0, 255).astype(np.uint8)
    words = [replace(w, right=min(cols, w.right + shift)) for w in words]
    frames = rgb[None] if rnd.random() < 0.6 else rgb[None].mean(axis=3).astype(np.uint8)
    ds = base_dataset(identity, "US", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    set_pixels(ds, frames, bits_stored=8, signed=False,
               photometric="RGB" if frames.ndim == 4 else "MONOCHROME2")
    return _save_one_image(ds, frames, path, rnd, rnd.random() < 0.6, case, "US", words, style,
                           colour=list(colour), field_shift=shift, field_gain=round(darken, 3))


def build_varied_sc_grey(path: Path, seed: int, opts: VariedOptions = VariedOptions(),
                         case: str = "v_sc_grey_jpeg") -> tuple[Truth, dict]:
    """8-bit grey screen capture, grey text over anatomy filling the frame, JPEG 40-95."""
    rnd, rng, identity, style, ann = _varied_start(seed, opts, "OT")
    size = rnd.choice((512, 768))
    cov, words = text_coverage(ann, size, size, style)
    grey = blend(anatomy_fill(rng, size, size) * 170, rnd.uniform(225, 255), cov)
    grey = np.clip(np.rint(grey), 0, 255).astype(np.uint8)
    ds = base_dataset(identity, "OT", rnd, burned_in=bool(words), fresh_uids=opts.fresh_uids)
    return _save_one_image(ds, grey[None], path, rnd, True, case, "OT", words, style,
                           pixels={"bits_stored": 8, "signed": False, "photometric": "MONOCHROME2"})


VariedBuilder = Callable[[Path, int, VariedOptions], tuple[Truth, dict]]


def _varied(builder: Callable[..., tuple[Truth, dict]], name: str, text: str = "pii") -> VariedBuilder:
    def build(path: Path, seed: int, opts: VariedOptions) -> tuple[Truth, dict]:
        return builder(path, seed, replace(opts, text=text), case=name)

    build.__name__ = f"build_{name}"
    return build


VARIED_CASES: dict[str, VariedBuilder] = {
    "v_ct_busy": _varied(build_varied_ct, "v_ct_busy"),
    "v_mr": _varied(build_varied_mr, "v_mr"),
    "v_cr_large": _varied(build_varied_cr, "v_cr_large"),
    "v_us_colour": _varied(build_varied_us, "v_us_colour"),
    "v_us_palette": _varied(build_varied_palette, "v_us_palette"),
    "v_endoscopy": _varied(build_varied_endoscopy, "v_endoscopy"),
    "v_interlaced": _varied(build_varied_interlaced, "v_interlaced"),
    "v_sc_grey_jpeg": _varied(build_varied_sc_grey, "v_sc_grey_jpeg"),
    "v_no_text": _varied(build_varied_us, "v_no_text", text="none"),
    "v_safe_text": _varied(build_varied_mr, "v_safe_text", text="safe"),
}
STYLES_FILENAME = "styles.json"          # per file: the face, size, anti-aliasing, JPEG quality


def build_varied_case(case: str, path: str | os.PathLike, seed: int = 0, fonts: str = "heldout",
                      fresh_uids: bool = True, sizes: tuple[int, int] = VARIED_SIZES
                      ) -> tuple[Truth, dict]:
    """Write one file of a varied case (see VARIED_CASES) drawn with the font set `fonts` at
    `sizes`; returns its truth and how its text was drawn."""
    if case not in VARIED_CASES:
        raise KeyError(f"unknown varied case {case!r}; known: {', '.join(VARIED_CASES)}")
    return VARIED_CASES[case](Path(path), seed,
                              VariedOptions(fonts=fonts, fresh_uids=fresh_uids, sizes=tuple(sizes)))


def varied_file_seed(seed: int, case: str, index: int) -> int:
    """The seed of a varied corpus's `index`-th file of `case` (its name's number): each file
    of a corpus can be drawn alone, as it is in the corpus."""
    return int(np.random.SeedSequence([seed, 1 + list(VARIED_CASES).index(case), index, 0x5EED]).generate_state(1)[0])


def make_varied_corpus(out_dir: str | os.PathLike, count: int = 40, seed: int = 0, *,
                       fonts: str = "heldout", cases: Iterable[str] | None = None,
                       fresh_uids: bool = True, sizes: tuple[int, int] = VARIED_SIZES) -> list[Truth]:
    """Write `count` files of the varied cases (taken in turn) drawn with the font set `fonts`
    at font sizes drawn from `sizes` (px, inclusive; VARIED_SIZES by default) into out_dir
    (owner-only), with truth.json and styles.json beside them."""
    check_sizes(sizes)
    out = make_private_dir(out_dir)
    names = list(cases) if cases is not None else list(VARIED_CASES)
    truths, styles = [], {}
    for k in range(count):
        name, index = names[k % len(names)], k // len(names)
        truth, style = build_varied_case(name, out / f"{name}_{index:03d}.dcm",
                                         varied_file_seed(seed, name, index), fonts, fresh_uids, sizes)
        truths.append(truth)
        styles[os.path.basename(truth.path)] = style
    write_truth(truths, out / TRUTH_FILENAME, seed=seed)
    _write_private(out / STYLES_FILENAME,
                   json.dumps({"seed": seed, "fonts": fonts, "sizes": list(sizes), "files": styles},
                              indent=1).encode())
    return truths
