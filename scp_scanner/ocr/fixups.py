"""Corrections of OCR output that are certain in context, applied to words in reading order.

Digits: in a word that is mostly a number (an ID, a date), letters that tesseract confuses
with digits (O/0, l/1, S/5) and that touch a digit are digits: "O1-Mar-1977" is 01-Mar-1977
and "RASO130260" is RA50130260.

DICOM person names are written FAMILY^GIVEN. Tesseract has no good model of '^': it reads it
as '*', '“', '"', ''' or a gap, and often splits the name in two words. Both halves are
identifying, but only the joined form matches the name as written; so a capitalised word,
a '^' look-alike and another capitalised word, adjacent on one line, are joined back into
FAMILY^GIVEN with one box.
"""
from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np

from ..model import TextBox
from .confusions import DIGIT_LOOKALIKES, NAME, TESSERACT_CARETS, caret_in_gap, same_line_neighbours


@dataclass(frozen=True)
class FixupParams:
    """The thresholds of the corrections below (defaults: today's tuned values; sweep one with
    bench/sweep.py, e.g. `--set fixups.split_gap=2.0,2.2,2.5`)."""

    neighbour_reach: float = 1.5
    """How far right of a word, in text heights, the next word may start and still be joined
    to it (FAMILY "*" GIVEN, "lain" "Fraser"): more joins names read with a wide gap, and
    risks joining words of two columns. Measured in text heights, not character widths,
    so it holds for narrow and wide fonts alike; set on the bench/score_scan.py corpora."""

    split_gap: float = 2.2
    """Two words closer than this many times the line's typical letter gap may be one word
    that the engine split ("MAC DONALD" in a monospace font), not two: a space is several
    letter gaps wide in every font, while the gap itself ranges from ~0.1 em
    (proportional) to ~0.2 em (mono). Higher joins more split words, and joins true word
    pairs sooner."""

    min_digits_for_number: int = 4
    """A word is "mostly a number" (an ID, a date) from this many digits on; lower turns the
    O of "O2" or the S of "S1" into digits in annotation."""


FIXUPS = FixupParams()

# What tesseract makes of '^' (ocr/confusions.py).
CARET_LOOKALIKES = TESSERACT_CARETS
_SEP = f"[{re.escape(CARET_LOOKALIKES)}]+"
ONE_WORD = re.compile(f"^({NAME}){_SEP}({NAME})$")
# A DICOM name's '^' (or the '"', '~', "'" or '`' it is read as: a small mark high in the
# line) with a space read beside it ("DUNCAN ^HAMISH", 'REID "CATRIONA', "DOE 'MORAG"):
# FAMILY^GIVEN has none, and an apostrophe inside a name (O'BRIEN) has no space beside it.
SPACED_CARET = re.compile(r'(?<=[A-Z]{2})(?: [\^"~\'`] ?|[\^"~\'`] )(?=[A-Z]{2})')
NAME_THEN_SEP = re.compile(f"^({NAME}){_SEP}$")
SEP_THEN_NAME = re.compile(f"^{_SEP}({NAME})$")
SEP_ONLY = re.compile(f"^{_SEP}$")
NAME_ONLY = re.compile(f"^{NAME}$")


def is_caret(text: str) -> bool:
    """Text that is only '^' look-alikes."""
    return bool(SEP_ONLY.match(text))


def _adjacent(a: TextBox, b: TextBox, params: FixupParams = FIXUPS) -> bool:
    """b follows a on the same line, separated by at most 1.5 text heights (neighbour_reach)."""
    return same_line_neighbours(a, b, params.neighbour_reach)


def _joined(first: TextBox, last: TextBox, family: str, given: str) -> TextBox:
    return TextBox(f"{family}^{given}", min(first.left, last.left), min(first.top, last.top),
                   max(first.right, last.right), max(first.bottom, last.bottom),
                   min(first.confidence, last.confidence))


def join_dicom_names(boxes: list[TextBox], params: FixupParams = FIXUPS) -> list[TextBox]:
    out: list[TextBox] = []
    i = 0
    while i < len(boxes):
        box = boxes[i]
        match = ONE_WORD.match(box.text)
        if match:
            out.append(TextBox(f"{match[1]}^{match[2]}", box.left, box.top, box.right, box.bottom,
                               box.confidence))
            i += 1
            continue
        nxt = boxes[i + 1] if i + 1 < len(boxes) else None
        after = boxes[i + 2] if i + 2 < len(boxes) else None
        if nxt is not None and _adjacent(box, nxt, params):
            first, second = NAME_THEN_SEP.match(box.text), SEP_THEN_NAME.match(nxt.text)
            if first and NAME_ONLY.match(nxt.text):             # "DOE*" "JOHN"
                out.append(_joined(box, nxt, first[1], nxt.text))
                i += 2
                continue
            if second and NAME_ONLY.match(box.text):            # "DOE" "“JOHN"
                out.append(_joined(box, nxt, box.text, second[1]))
                i += 2
                continue
            if (after is not None and NAME_ONLY.match(box.text) and SEP_ONLY.match(nxt.text)
                    and NAME_ONLY.match(after.text) and _adjacent(nxt, after, params)):   # "DOE" "*" "JOHN"
                out.append(_joined(box, after, box.text, after.text))
                i += 3
                continue
        out.append(box)
        i += 1
    return out


# See FixupParams.split_gap.
SPLIT_GAP = FIXUPS.split_gap


def letter_gap(pixels: np.ndarray, words: list[TextBox]) -> float | None:
    """The median width of the blank column runs between the inked columns inside the words
    of one line: the font's letter spacing at this scale. None without enough letters."""
    if not words:
        return None
    top, bottom = min(w.top for w in words), max(w.bottom for w in words)
    gaps: list[int] = []
    for word in words:
        inked = (pixels[top:bottom, word.left:word.right] < 128).any(axis=0)
        run = 0
        seen_ink = False
        for column in inked:
            if column:
                if seen_ink and run:
                    gaps.append(run)
                seen_ink, run = True, 0
            else:
                run += 1
    return float(np.median(gaps)) if len(gaps) >= 3 else None


def continues(first: str, second: str) -> bool:
    """Could `second` be the rest of the word `first`? Letters only, and either a lower-case
    continuation ("Nir" "evells") or capitals on capitals ("MAC" "DONALD"). Numbers and a
    capitalised next word ("St" "Mary's", "120" "mAs") are kept apart: in narrow fonts a
    space is barely wider than a letter gap."""
    if not first.isalpha() or not second[:1].isalpha():
        return False
    return second[0].islower() or (first.isupper() and second[0].isupper()
                                   and second.rstrip(CARET_LOOKALIKES).isupper())


def join_split_names(pixels: np.ndarray, words: list[TextBox],
                     params: FixupParams = FIXUPS) -> list[TextBox]:
    """Mend two mistakes tesseract makes inside one line (`words` in the coordinates of
    `pixels`): FAMILY GIVEN where a dropped '^' shows in the gap becomes FAMILY^GIVEN, and a
    word split at a letter gap ("MAC DONALD") is joined back."""
    gap = letter_gap(pixels, words)
    out: list[TextBox] = []
    for word in words:
        if out:
            last = out[-1]
            if (NAME_ONLY.match(last.text) and NAME_ONLY.match(word.text)
                    and last.text.isupper() and word.text.isupper()
                    and caret_in_gap(pixels, last, word)):
                out[-1] = _joined(last, word, last.text, word.text)
                continue
            if (gap is not None and continues(last.text, word.text)
                    and 0 <= word.left - last.right <= params.split_gap * max(gap, 1.0)):
                out[-1] = TextBox(last.text + word.text, last.left, min(last.top, word.top),
                                  word.right, max(last.bottom, word.bottom),
                                  min(last.confidence, word.confidence))
                continue
        out.append(word)
    return out


def fix_digit_lookalikes(text: str, params: FixupParams = FIXUPS) -> str:
    """Replace digit look-alikes (DIGIT_LOOKALIKES, ocr/confusions.py) that touch a digit, in a
    word holding 4 or more digits (min_digits_for_number)."""
    if sum(ch.isdigit() for ch in text) < params.min_digits_for_number:
        return text
    chars = list(text)
    changed = True
    while changed:
        changed = False
        for i, ch in enumerate(chars):
            if ch in DIGIT_LOOKALIKES:
                neighbours = chars[max(0, i - 1):i] + chars[i + 1:i + 2]
                if any(n.isdigit() for n in neighbours):
                    chars[i] = DIGIT_LOOKALIKES[ch]
                    changed = True
    return "".join(chars)


# In most sans-serif fonts a capital I and a small l are the same glyph; tesseract picks "l".
# A word "lxxx" right before a capitalised word is a given name ("lain Fraser" is Iain Fraser).
_L_FOR_I = re.compile(r"^l[aeiouy][a-z]{1,10}$")
_CAPITALISED = re.compile(r"^[A-Z][a-z]+[,.]?$")


def capital_i_names(words: list[TextBox], params: FixupParams = FIXUPS) -> list[TextBox]:
    """Turn a leading 'l' into 'I' in a lower-case word followed by a capitalised one on the
    same line (words in reading order)."""
    out = list(words)
    for i, word in enumerate(out[:-1]):
        following = out[i + 1]
        if (_L_FOR_I.match(word.text) and _CAPITALISED.match(following.text)
                and _adjacent(word, following, params)):
            out[i] = TextBox("I" + word.text[1:], word.left, word.top, word.right, word.bottom,
                             word.confidence)
    return out


# Dates written with a month's name (03-Oct-1947, 03 Oct 1947) are identifying, and their
# month is one of twelve words: a month read with a look-alike ("0ct", "Ju1", "Dee", "Har")
# or with a separator lost or doubled ("23-Dec1974", "15- Jun-1969") is put back when one
# month alone is nearest (one edit; two for a two-letter reading). A tie ("Jut": Jul or Jun)
# is left as read.
MONTH_ABBREVIATIONS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
_MONTH_LOOKALIKES = str.maketrans({"0": "o", "1": "l", "|": "l", "5": "s", "8": "b"})
_MONTH_DATE = re.compile(r"(?<![\w.:/-])(\d{1,2})( ?- ?| )([A-Za-z0-9|]{2,3})( ?- ?| |)(\d{4})(?![\w:/-])")


def edits(a: str, b: str) -> int:
    """Levenshtein distance of two short words: characters inserted, deleted or replaced."""
    row = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        prev, row[0] = row[0], i
        for j, cb in enumerate(b, 1):
            prev, row[j] = row[j], min(row[j] + 1, row[j - 1] + 1, prev + (ca != cb))
    return row[-1]


def nearest_month(token: str) -> str | None:
    """The month abbreviation that `token` was read from, or None when it is not near one
    month alone. Two letters at least must have been read."""
    if sum(ch.isalpha() for ch in token) < 2:
        return None
    word = token.lower().translate(_MONTH_LOOKALIKES)
    ranked = sorted((edits(word, m.lower()), m) for m in MONTH_ABBREVIATIONS)
    (best, month), (second, _) = ranked[0], ranked[1]
    if best <= (2 if len(word) == 2 else 1) and second > best:
        return month
    return None


def month_names(text: str) -> str:
    """Dates with a month's name mended (see above); the day-month-year order stays, the
    separators become '-' where one was read, else spaces."""
    def mended(match: re.Match) -> str:
        day, first, token, second, year = match.groups()
        sep = "-" if "-" in first + second else " "
        # Without a hyphen only three letters make a month: "12 AP 2020" stays (a view, AP).
        month = nearest_month(token) if sep == "-" or len(token) == 3 else None
        if month is None:
            return match[0]
        if token[0].islower() or token.isupper():
            month = month.lower() if token[0].islower() else month.upper()
        return f"{day}{sep}{month}{sep}{year}"
    return _MONTH_DATE.sub(mended, text)


_SHAPE = str.maketrans({**{d: "9" for d in "0123456789"},
                        **{c: "a" for c in "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"}})


def word_shape(word: str) -> str:
    """A word's kind of token: each digit as 9, each Latin letter as a, anything else as it
    is (`13:03:52` -> `99:99:99`, `Frame` -> `aaaaa`, `2/4` -> `9/9`). A clock, a date or a
    counter keeps its shape from frame to frame while its digits change."""
    return word.translate(_SHAPE)
