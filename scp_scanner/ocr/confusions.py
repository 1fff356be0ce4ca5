"""What OCR engines make of the characters on medical images: one home for the look-alikes.

Every engine's post-processing (ocr/fixups.py for tesseract, ocr/easyocr_engine.py) and the
PII rules (pii/rules.py, pii/judge.py) read their confusion tables from here, so that a
look-alike found on one engine's output is added once, in view of the others.

The sets below differ on purpose; each says where it is used and why it is not the union:
widening one changes which words join into names or match header values, which moves the
benchmark scores (bench/score_scan.py). Change them with a score run before and after.

- `^` (DICOM FAMILY^GIVEN): tesseract has no good model of it and reads it as a quote, '*',
  '~', '°', '@' or a gap; easyocr reads it as '~', '"', '`', '*', '°' or a space.
- Digits: in IDs and dates, O/0, l/1/I/|, S/5 (and a few rarer ones) are read for each other.
- Ink: where the engine dropped the '^' altogether, the pixels still show a small mark in the
  upper half of the gap between the two words (caret_in_gap, caret_gaps).
"""
from __future__ import annotations

import re

import numpy as np

from ..model import TextBox

# --- '^' look-alikes --------------------------------------------------------------------------

# What tesseract makes of '^' inside or beside a word (ocr/fixups.py joins FAMILY*GIVEN,
# "DOE*" "JOHN" and "DOE" "*" "JOHN" back into FAMILY^GIVEN). Apostrophes are in: the words
# around must be capitalised name-shaped words, which O'Brien is not split into.
TESSERACT_CARETS = "^*“”\"'’‘`~°@ª®©"
# What easyocr makes of '^' inside one box ("DOE ~JOHN", 'DOE"JOHN'): a narrower set, because
# easyocr's recogniser reads quotes as quotes far more often than tesseract does.
EASYOCR_CARETS = "^~\"`*°"
# Separators of a DICOM-style name in the joined text of an image (pii/rules.py): the carets
# and the quotes OCR reads for them, but no apostrophe (O'Brien), '*' or '`' (emphasis, noise).
TEXT_CARETS = "^“”\"„‟″~"
# Characters that split an entity's text into tokens besides white space (pii/judge.py).
TOKEN_CARETS = "^“”\"„~"

# A capitalised name part as OCR reads it (letters and hyphens).
NAME = r"[A-Z][A-Za-z\-]+"


def is_upper_name(word: str) -> bool:
    """An all-capitals name part ("DOE", "SMITH-JONES"): how DICOM names are written."""
    return word.isupper() and re.fullmatch(NAME, word) is not None


# --- digit look-alikes ------------------------------------------------------------------------

# Letters tesseract reads in place of digits, and the digits they stand for (ocr/fixups.py,
# in words holding several digits, where the letter touches a digit).
DIGIT_LOOKALIKES = {"O": "0", "o": "0", "Q": "0", "D": "0", "l": "1", "I": "1", "|": "1", "S": "5",
                    "&": "8", "?": "7"}

# The rules' narrower reading (pii/rules.py digit_shadow): only O, l, I, | next to a digit and
# S between digits, because the text is every engine's and D, Q, & next to digits are real in
# annotation ("3D", "Q2", "R&D").
_O_NEAR_DIGIT = re.compile(r"(?<=\d)[Oo]|[Oo](?=\d)")
_ONE_NEAR_DIGIT = re.compile(r"(?<=\d)[lI|]|[lI|](?=\d)")
_S_IN_DIGITS = re.compile(r"(?<=\d)S(?=\d)")


def digit_shadow(text: str) -> str:
    """text with OCR's letter readings of digits put back where they touch digits
    ("24-MAY-O2" -> "24-MAY-02", "12345l7" -> "1234517"); same length, so spans carry over."""
    text = _O_NEAR_DIGIT.sub("0", text)
    text = _ONE_NEAR_DIGIT.sub("1", text)
    return _S_IN_DIGITS.sub("5", text)


# Folded on both sides before a header value is compared with the text (pii/rules.py): after
# lower-casing, o -> 0, i/l/|/! -> 1, s -> 5, so "RA5O13" in the text matches "RA5013".
FOLD = str.maketrans({"o": "0", "i": "1", "l": "1", "|": "1", "!": "1", "s": "5"})


def fold(text: str) -> str:
    return text.lower().translate(FOLD)


# --- where words sit --------------------------------------------------------------------------


def same_line_neighbours(a: TextBox, b: TextBox, reach: float = 1.5) -> bool:
    """b follows a on one line, at most `reach` text heights to its right.
    (a may reach over b: tesseract sometimes gives an unsure word the whole line's box.)"""
    height = max(a.bottom - a.top, b.bottom - b.top, 1)
    same_line = abs((a.top + a.bottom) - (b.top + b.bottom)) / 2 <= height / 2
    return same_line and b.left > a.left and b.left - a.right <= reach * height


# --- a '^' that the engine dropped, seen in the ink -------------------------------------------


def true_runs(flags: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of True in a 1-D boolean array."""
    edges = np.diff(np.concatenate(([0], flags.astype(np.int8), [0])))
    return [(int(a), int(b)) for a, b in zip(np.flatnonzero(edges == 1), np.flatnonzero(edges == -1))]


def caret_in_gap(pixels: np.ndarray, a: TextBox, b: TextBox) -> bool:
    """Is there a separate mark with ink only in the upper half of the line where words a and b
    meet (in `pixels`' own coordinates, dark ink on white)? That is a '^' that the OCR engine
    dropped, reporting FAMILY and GIVEN as two words; it may have put the mark inside either
    word's box, so the search runs from the middle of a to the first quarter of b.

    A mark is a run of inked columns with blank columns on both sides: the upper-only ends of
    letters such as P, F or T are joined to their letter and do not count. (tesseract's words,
    ocr/fixups.py)"""
    top, bottom = min(a.top, b.top), max(a.bottom, b.bottom)
    left, right = (a.left + a.right) // 2, b.left + (b.right - b.left) // 4
    if right - left < 3 or bottom - top < 4:
        return False
    ink = pixels[top:bottom, left:right] < 128
    middle = (bottom - top) // 2
    inked = ink.any(axis=0)
    lower = ink[middle:].any(axis=0)
    return any(0 < start and end < inked.size and not lower[start:end].any()
               for start, end in true_runs(inked))


def ink_gaps(columns: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) runs of empty columns strictly between the first and last inked column."""
    inked = np.flatnonzero(columns)
    if inked.size == 0:
        return []
    inside = columns[inked[0]:inked[-1] + 1].astype(bool)
    return [(a + int(inked[0]), b + int(inked[0])) for a, b in true_runs(~inside)]


def space_gaps(columns: np.ndarray, spaces: int) -> list[tuple[int, int]] | None:
    """The `spaces` widest runs of empty columns of a line (ink_gaps), in order, when they
    stand out from the gaps between letters (2 px wider than the widest of those at least):
    the spaces between its words. None when the ink does not show that many."""
    gaps = ink_gaps(columns)
    if spaces < 1 or len(gaps) < spaces:
        return None
    widest = sorted(gaps, key=lambda g: g[1] - g[0], reverse=True)
    chosen = sorted(widest[:spaces])
    if len(widest) > spaces and min(b - a for a, b in chosen) < widest[spaces][1] - widest[spaces][0] + 2:
        return None
    return chosen


# The upper part of a line, where a '^' sits (the lower part of its gap stays empty).
CARET_ZONE = 0.45


def caret_gaps(words: list[str], ink: np.ndarray | None) -> list[bool] | None:
    """For each space between `words` (a line of text read from the box whose ink is `ink`),
    whether a '^' stands there; None when the ink cannot be matched to the words. (easyocr's
    boxes, which hold a whole line: ocr/easyocr_engine.py)

    The spaces are the widest column gaps of the line's lower part, one per space, in order;
    they must stand out from the gaps between letters. A gap holds a '^' when the upper part
    has a mark there that touches neither neighbouring letter (a T's bar or an f's arm
    reaching into the gap touches its letter)."""
    spaces = len(words) - 1
    if spaces < 1 or ink is None or ink.ndim != 2:
        return None
    rows = np.flatnonzero(ink.any(axis=1))
    if rows.size < 4:
        return None
    split = int(rows[0] + round((rows[-1] - rows[0] + 1) * CARET_ZONE))
    upper = ink[rows[0]:split].any(axis=0)
    lower = ink[split:rows[-1] + 1].any(axis=0)
    chosen = space_gaps(lower, spaces)
    if chosen is None:
        return None
    flags = []
    for start, end in chosen:
        inside = upper[start:end]
        flags.append(end - start >= 3 and bool(inside.any()) and not inside[0] and not inside[-1])
    return flags
