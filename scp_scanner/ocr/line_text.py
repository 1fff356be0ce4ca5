"""A recognised line's text, mended: fix-ups certain in context, and carets and spaces read
from the line's ink.

The recogniser (rapidocr_engine.py) reads one line crop at a time; its greedy reading, after
the word, field, label and header priors have weighed it (lexicon.py, fields.py, labels.py,
expected.py), is mended here by what the text and the crop's pixels show:

- `mend`: rules certain in context, shared with the other engines where they come from
  fixups.py (a DICOM name whose `^` was read as a look-alike, digit look-alikes in numbers)
  and PP-OCR's own (accents folded, dropped spaces put back before a long number or a time,
  digits inside capitals, a month's name, a space read beside a `^`);
- `spaces_for_marks`: a `_` or `~` read in a blank cell between two words, a space where
  the line's own ink shows one;
- `carets_from_ink`: a `^` read as a capital letter, told apart by its ink (a small mark
  clear of the baseline);
- `spaces_from_ink`: a space read inside a word or number, taken out where the blank is a
  letter gap;
- `label_spaces_from_ink`: a space lost between a value's label and its number, between a
  number and its unit, or inside an NHS / CHI number written 3-3-4, put back where the blank
  is wider than a letter gap.
"""
from __future__ import annotations

import math
import re
import unicodedata
from collections.abc import Callable, Collection

import numpy as np

from ..masks import label, label_with_boxes
from ..pii.given_names import GIVEN_NAMES
from ..pii.safe_text import SCREEN_WORDS, UNITS, VALUE_LABELS
from .confusions import ink_gaps, true_runs
from .fields import base_letter
from .fixups import (CARET_LOOKALIKES, MONTH_ABBREVIATIONS, ONE_WORD, SPACED_CARET, SPLIT_GAP,
                     continues, fix_digit_lookalikes, month_names)

# A space narrower than this share of the line's widest other space is a gap inside a word.
SPACE_SHARE = 0.7


# Spaces the recogniser drops: after a label's colon before a long number ("ID:302233876",
# "10:4486266427" with the label read as digits: five digits after a colon are no time's) or
# a code of a few letters and a long number ("ACE:AC34708433", held-out varied 1259: the
# blank after `Acc` read as a colon), or
# after a full stop or an equals sign between a word and a long number ("CHI.2809967113",
# held-out varied 1193, a speck in the blank, "No.12345" is written so; "Acc=33677542",
# "ID=123456"),
# between a date and the time that follows it ("2015-03-1415:42:34", or read as a colon, a
# full stop or a hyphen: "2025-10-13:09:45:50", "20220717.15:19:33" with a speck of speckle in
# the blank, "06-Aug-2022-11:31:29"; a date's last group is never a time's first, and no
# screen joins the two with a mark), and between a word
# and a following word in capitals ("RefFERGUSON^MOHAMMED"), unless the whole is one of the
# screen's words in capitals with a letter read in lower case ("HoSPITAL", extra varied
# 601's interlaced frame: an o is an O of a smaller size).
_LABEL_THEN_NUMBER = re.compile(r"(?<=[A-Za-z0-9|]):(?=[A-Za-z]{0,3}\d{5,})|(?<=[A-Za-z]{2})[.=](?=\d{5,})")
_WORD_THEN_CAPITALS = re.compile(r"(?<=[a-z])(?=[A-Z]{2,})")
_DATE_THEN_TIME = re.compile(r"(\b(?:\d{4}[-./]\d{2}[-./]\d{2}|\d{2}[-./]\d{2}[-./]\d{4}"
                             r"|\d{1,2}-[A-Za-z]{3}-\d{4}|\d{8}))[:.-]?(\d{2}:\d{2})")
# Digits read in place of letters inside a word of capitals ("D0B", "HF5").
LETTER_LOOKALIKES = {"0": "O", "5": "S", "8": "B", "1": "I"}
_DIGIT_IN_CAPITALS = re.compile(r"^(?=(?:[^0-9]*[0-9]){1}[^0-9]*$)[A-Z]*[A-Z]([0158])[A-Z]*$")
# 'Im' (image number) with its I read as one of its look-alikes: l, | or 1 (confusions.py).
_IMAGE_LABEL = re.compile(r"\b[l|1]m:(?=\d)")


# A date whose year the recogniser split with a space ("02/05/1 982", "07-Jun-19 53",
# "19 70-08-13"): the digits beside a narrow '1' in tabular or monospace figures stand a cell
# apart, as wide as a space in a proportional face. Joined only where the two pieces make a
# year of four digits from 1900 to 2099 and the rest is a day and a month.
_YEAR_SPLIT_LAST = re.compile(r"(?<![\w.:/-])(\d{1,2})([-./])(\d{1,2}|[A-Za-z]{3})\2(\d{1,3}) (\d{1,3})(?![\w:])")
_YEAR_SPLIT_FIRST = re.compile(r"(?<![\w.:/-])(\d{1,3}) (\d{1,3})([-./])(\d{1,2})\3(\d{1,2})(?![\w.:/-])")


# A date's month names, lower case (fixups.MONTH_ABBREVIATIONS).
_MONTHS = frozenset(month.lower() for month in MONTH_ABBREVIATIONS)


def _is_year(digits: str) -> bool:
    return len(digits) == 4 and 1900 <= int(digits) <= 2099


def _day_and_month(first: str, second: str) -> bool:
    """Whether two date groups are a day and a month, in either order (a month may be its
    name's three letters)."""
    if second.isalpha():
        return second.lower() in _MONTHS and 1 <= int(first) <= 31
    a, b = int(first), int(second)
    return (1 <= a <= 31 and 1 <= b <= 12) or (1 <= a <= 12 and 1 <= b <= 31)


def join_split_years(text: str) -> str:
    """The space taken out of a date's year where the recogniser split it (_YEAR_SPLIT_*)."""
    def last(match: re.Match) -> str:
        day, mark, month, head, tail = match.groups()
        if not (_is_year(head + tail) and _day_and_month(day, month)):
            return match[0]
        return f"{day}{mark}{month}{mark}{head}{tail}"

    def first(match: re.Match) -> str:
        head, tail, mark, month, day = match.groups()
        if not (_is_year(head + tail) and _day_and_month(day, month)):
            return match[0]
        return f"{head}{tail}{mark}{month}{mark}{day}"

    return _YEAR_SPLIT_FIRST.sub(first, _YEAR_SPLIT_LAST.sub(last, text))


def letters_for_digits(word: str) -> str:
    """One digit look-alike inside a word of 3+ capitals with no other digit: a letter."""
    match = _DIGIT_IN_CAPITALS.match(word)
    if not match or len(word) < 3:
        return word
    return word.replace(match[1], LETTER_LOOKALIKES[match[1]])


def mend(text: str) -> str:
    """OCR fix-ups certain in context. The shared ones (fixups.py), word by word: a DICOM
    name whose '^' was read as a look-alike becomes FAMILY^GIVEN, digit look-alikes in
    numbers become digits. PP-OCR's own: accents folded (the recogniser's alphabet is
    multilingual: "Straçathro"), dropped spaces put back, digits inside capitals, a month's
    name in a date (fixups.month_names), a space read beside a name's '^', a space read
    inside a date's year (join_split_years). A month's name is mended once more after the
    digit look-alikes: a day read with one (`I1-0ct-2025`) is no date's day until then."""
    text = unicodedata.normalize("NFKD", text)
    text = "".join(base_letter(ch) for ch in text if not unicodedata.combining(ch))
    text = _LABEL_THEN_NUMBER.sub(lambda mark: f"{mark[0]} ", text)
    text = _DATE_THEN_TIME.sub(r"\1 \2", join_split_years(text))
    text = re.sub(r"\S+", lambda word: word[0] if word[0].lower() in SCREEN_WORDS
                  else _WORD_THEN_CAPITALS.sub(" ", word[0]), text)
    text = _IMAGE_LABEL.sub("Im:", text)
    text = SPACED_CARET.sub("^", month_names(text))
    words = []
    for word in text.split():
        match = ONE_WORD.match(word)
        if match and not word.endswith(tuple(CARET_LOOKALIKES)):
            word = f"{match[1]}^{match[2]}"
        words.append(letters_for_digits(fix_digit_lookalikes(word)))
    return month_names(" ".join(words))


def ink_of(crop: np.ndarray) -> np.ndarray:
    """bool mask of a text crop's ink (Otsu threshold; the ink is the minority)."""
    import cv2

    grey = crop.max(axis=2) if crop.ndim == 3 else crop
    _, binary = cv2.threshold(np.ascontiguousarray(grey), 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    ink = binary > 0
    if ink.mean() > 0.5:
        ink = ~ink
    return ink


# Pieces of ink this small (8-connected pixels) are specks of speckle or JPEG noise, not
# glyphs (a 7 px face's stroke pieces are larger; a colon's dot lies within its line's rows
# either way): left out where pieces of glyphs are counted (carets) and where a box's ink is
# cut into lines (rapidocr_engine.line_bands: specks in the rows between two lines joined
# them into one run of inked rows).
SPECK_PIXELS = 2


def without_specks(ink: np.ndarray) -> np.ndarray:
    """The ink (bool) without its 8-connected pieces of SPECK_PIXELS pixels or fewer."""
    labels, count = label(ink, connectivity=8, ordered=False)
    if not count:
        return ink
    return ink & (np.bincount(labels.ravel(), minlength=count + 1)[labels] > SPECK_PIXELS)


def ink_columns(crop: np.ndarray) -> np.ndarray:
    """Columns of a text crop that hold ink."""
    return ink_of(crop).any(axis=0)


# A DICOM name's '^' between two names in capitals (FAMILY^GIVEN), read as a capital letter
# ('FERGUSONNELIZABETH', 'STEWARTACATRIONA'): the recogniser's alphabet barely knows '^'.
# The ink tells them apart: a capital stands on the baseline, a caret is a small mark in the
# upper part of the line with nothing under it.
_CAPITALS = re.compile(r"[A-Z]{5,}")
CARET_CLEAR = 0.2              # share of the capitals' height (2 px at least) clear under a caret


def _caret_marks(region: np.ndarray, letters: int) -> tuple[np.ndarray, list[float], int, int] | None:
    """The ink of one word's columns (Otsu within them, so a line that crosses two
    backgrounds is thresholded per word), with specks of one or two pixels (noise of JPEG
    or speckle) and the pieces of the lines above and below that the crop cuts removed
    (line_ink: counted, they set the capitals' top and baseline to the next line's); the
    centres of the pieces that may be carets (separate pieces that start at the capitals' top
    and stop above their bottom CARET_CLEAR), and the clear band's rows. None when the word
    shows too few pieces to tell its capitals' top and baseline, or more pieces between them
    than its `letters`: each capital (and a caret) is one piece of ink, so more means broken
    glyphs (interlaced rows, JPEG), where the top of an `M` cut off its legs looks like a
    caret."""
    ink = line_ink(region)
    _, count, pieces_ = label_with_boxes(ink, connectivity=8, ordered=False)   # (top, left, bottom, right) each
    if count < 5:
        return None
    # The capitals' top line and baseline: where most pieces of ink start and stop.
    top = int(np.median(pieces_[:, 0]))
    bottom = int(np.median(pieces_[:, 2]))
    if bottom - top < 4 or np.count_nonzero((pieces_[:, 0] >= top - 1) & (pieces_[:, 2] <= bottom + 1)) > letters:
        return None
    clear = max(2, round(CARET_CLEAR * (bottom - top)))
    marks = [(piece_left + piece_right) / 2 for piece_top, piece_left, piece_bottom, piece_right in pieces_.tolist()
             if top - 1 <= piece_top and piece_bottom <= bottom - clear]
    return ink, marks, bottom - clear, bottom


def carets_from_ink(text: str, xs: list[float], crop: np.ndarray) -> str:
    """Put back one '^' per word of 5+ capitals where the recogniser read a capital letter
    (2+ letters on each side) over a mark that the ink shows is a caret: a separate piece
    of ink that stops above the bottom CARET_CLEAR of the line, with no ink under it."""
    if len(xs) != len(text) or "^" in text:
        return text
    out = list(text)
    for word in _CAPITALS.finditer(text):
        pitch = float(np.median(np.diff(xs[word.start():word.end()])))
        left = max(0, int(xs[word.start()] - pitch))
        right = min(crop.shape[1], int(math.ceil(xs[word.end() - 1] + pitch)))
        found = _caret_marks(crop[:, left:right], len(word[0])) if right - left > 2 else None
        if found is None:
            continue
        ink, marks, clear_top, bottom = found
        for i in range(word.start() + 2, word.end() - 2):
            x = xs[i] - left
            if not any(abs(m - x) <= 0.5 * pitch for m in marks):
                continue
            a, b = int(x - 0.3 * pitch), int(math.ceil(x + 0.3 * pitch))
            under = ink[clear_top:bottom, max(0, a):max(0, b)]
            if under.size and not under.any():
                out[i] = "^"
                break
    return "".join(out)


# Marks the recogniser reads in a blank cell between two words: on an ALOKA ultrasound screen
# (pydicom-data's gdcm-US-ALOKA-16) `*WESTWAY_MEDICAL*` and `:M~11:24:20` where the pixels show
# a space, and `NHS ~8865124539`, `Royal _Infirmary` in the generator's faces. Thin marks, low
# or in the middle of the line; a real one has ink where it stands.
BLANK_MARKS = "_~"


def line_ink(crop: np.ndarray) -> np.ndarray:
    """A line crop's own ink (ink_of, specks left out) without the pieces of the lines above
    and below it that the crop cuts: every piece touching the crop's top or bottom edge
    that does not reach its middle row (the line's own glyphs do)."""
    ink = without_specks(ink_of(crop))
    labels, count, boxes = label_with_boxes(ink, connectivity=8, ordered=False)
    if not count:
        return ink
    height, middle = ink.shape[0], ink.shape[0] // 2
    tops, bottoms = boxes[:, 0], boxes[:, 2]
    cut = ((tops == 0) | (bottoms >= height)) & ~((tops <= middle) & (bottoms > middle))
    return np.concatenate([[False], ~cut])[labels]


def spaces_for_marks(text: str, steps: list[int], xs: list[float],
                     crop: np.ndarray) -> tuple[str, list[int]]:
    """A BLANK_MARKS character read where the line's own ink (line_ink) shows a blank wider
    than its letter gaps allow (fixups.SPLIT_GAP times their median) is a space; spaces then
    standing side by side are one. `steps`, each character's time step, stays in step with
    the text; `xs` are the characters' x in the crop."""
    if not any(mark in text for mark in BLANK_MARKS) or len(xs) != len(text):
        return text, steps
    gaps = ink_gaps(line_ink(crop).any(axis=0))
    if len(gaps) < 2:
        return text, steps
    letter = max(float(np.median([end - start for start, end in gaps])), 1.0)
    out = list(text)
    for i, ch in enumerate(text):
        if ch in BLANK_MARKS and any(start <= xs[i] < end and end - start > SPLIT_GAP * letter
                                     for start, end in gaps):
            out[i] = " "
    kept = [i for i, ch in enumerate(out) if ch != " " or (0 < i and out[i - 1] != " ")]
    return "".join(out[i] for i in kept), [steps[i] for i in kept]


# A number's separator ('16:' of 16:23:44, '1932-08-' of 1932-08-01) right before a digit,
# and one right after a digit ('.02.2020' of 13.02.2020): the space a recogniser puts inside
# a number stands on either side of a separator.
_NUMBER_SEPARATOR_END = re.compile(r"\d[:\-/.]$")
_SEPARATOR_THEN_DIGIT = re.compile(r"^[:\-/.]\d")
# A date's month name with the space inside it ('06-D ec-2021'): the day and the month's
# first letters, then its last letters and the year.
_DAY_AND_MONTH_HEAD = re.compile(r"(?<![\w])\d{1,2}[-./]([A-Za-z]{1,2})$")
_MONTH_TAIL_AND_YEAR = re.compile(r"^([A-Za-z]{1,2})[-./]\d{2,4}(?![\w])")
# A label's colon and a short number after it ('Se: 3', 'W: 400'): small faces leave the
# colon's bearing and the digit's side by side, which the recogniser reads as a space.
_LABEL_COLON = re.compile(r"^[A-Za-z]{1,4}:$")
_SHORT_NUMBER = re.compile(r"^\d{1,3}$")


def _inside_month(before: str, after: str) -> bool:
    """Does the space stand inside a date's month name ('06-D' then 'ec-2021')?"""
    head, tail = _DAY_AND_MONTH_HEAD.search(before), _MONTH_TAIL_AND_YEAR.match(after)
    return bool(head and tail) and (head[1] + tail[1]).lower() in _MONTHS


def spaces_from_ink(text: str, xs: list[float], crop: np.ndarray,
                    listed: Callable[[str], bool] | None = None,
                    apart: Collection[tuple[str, str]] = ()) -> str:
    """Drop a space the recogniser put inside a word ("Stra cathro", "ABD OMEN") where the
    second part continues the first (fixups.continues, the rule the tesseract engine uses:
    numbers and capitalised next words stay apart), or a space read inside a number beside
    one of its separators ("16: 23:44", "1932-08- 01", "13 .02.2020") or inside a date's
    month name ("06-D ec-2021"), where the blank between the two characters
    is narrow: no wider than the line's letter gaps allow (fixups.SPLIT_GAP), or under
    SPACE_SHARE of the line's widest other space. A space between a label's colon and a
    number of up to three digits ("Se: 3", "W: 400") goes only by the letter gaps; one
    before a longer number or a date ("ID: 0671160") is left.

    listed (a word or name the lexicon knows, lower case): two such words stay apart unless
    together they make one or the second is a given name ("CATRIONA DOE", "DAVID WILSON": in a
    small face a space is as narrow as a letter gap; "MAC DONALD", "ABD OMEN" and a DICOM
    name whose caret was lost, "STEWART DAVID", are still joined: _two_words).

    apart: pairs of words, lower case, that the instance's header writes apart
    (ExpectedWords.written_apart): such a pair keeps its space ("AHMED DUNCAN" where
    PatientName is DUNCAN^AHMED, though DUNCAN is a given name too)."""
    if " " not in text.strip() or len(xs) != len(text):
        return text
    gaps = ink_gaps(ink_columns(crop))
    if len(gaps) < 3:
        return text
    letter = float(np.median([end - start for start, end in gaps]))

    def blank(i: int) -> int:
        inside = [end - start for start, end in gaps if start < xs[i + 1] and end > xs[i - 1]]
        return max(inside, default=0)

    spaces = {i: blank(i) for i in range(1, len(text) - 1)
              if text[i] == " " and text[i - 1] != " " and text[i + 1] != " "}
    out = list(text)
    for i, width in spaces.items():
        before, after = text[:i].split()[-1], text[i + 1:].split()[0]
        inside_number = ((bool(_NUMBER_SEPARATOR_END.search(before)) and after[:1].isdigit())
                         or (before[-1:].isdigit() and bool(_SEPARATOR_THEN_DIGIT.match(after)))
                         or _inside_month(before, after))
        if _LABEL_COLON.match(before) and _SHORT_NUMBER.match(after):
            # No wider than a letter gap: no space ('DOB: 12.03.1950', 'ID: 0671160' stay).
            if width <= SPLIT_GAP * max(letter, 1.0):
                out[i] = ""
            continue
        if not inside_number and (not width or not continues(before.rstrip(CARET_LOOKALIKES), after)):
            continue
        if not inside_number and listed is not None and _two_words(before, after, listed):
            continue
        if (before.lower(), after.lower()) in apart:
            continue
        others = [w for j, w in spaces.items() if j != i]
        if width <= SPLIT_GAP * max(letter, 1.0) or (others and width < SPACE_SHARE * max(others)):
            out[i] = ""
    return "".join(out)


# A value's label run into its number (`kVp120`, `Fr1`), a number run into the next label
# (`W:400L:40`, `Se:3Im:45`), or a number run into its unit (`5mm`): where a space may have
# been lost.
_LABEL_THEN_DIGIT = re.compile(r"(?<![A-Za-z])([A-Za-z]{2,4})(?=\d)")
_VALUE_THEN_LABEL = re.compile(r"(?<=\d)(?=([A-Za-z]{1,4}):\d)")
_NUMBER_THEN_UNIT = re.compile(r"(?<=\d)([A-Za-z]{1,4})(?![A-Za-z:])")
# An NHS or CHI number read as ten digits: written 3-3-4 or run together, the ink tells which.
_TEN_DIGITS = re.compile(r"\b(?:NHS|CHI)(?: ?(?:No|Number)\.?)? ?[:#]? ?(\d{10})(?!\d)")
# Digits share one advance (tabular figures, in proportional faces too), and a space adds a
# quarter of an em or more: nearly half a digit's advance, a whole one in monospace faces.
# So the step from one digit's ink centre to the next is about 1.4 advances or more across
# a space. Without one it is one advance, give or take where a narrow digit's ink stands in
# its cell: a monospace `1` leans on its flag, its ink centre up to ~0.2 of an advance off,
# and blanks 3 px wide beside it where other digits leave 1 (CHI `0612918785` in one run).
# Between the two: a space shows only where the step is at least SPACED_STEP times the
# median of the number's other steps.
SPACED_STEP = 1.25


def label_spaces_from_ink(text: str, xs: list[float], crop: np.ndarray) -> tuple[str, list[float]]:
    """Put back a space the recogniser lost between a value's label (labels.VALUE_LABELS)
    and its number, between a number and the next `label:` (`kVp120`, `W:400L:40`), or
    between a number and its unit (safe_text.UNITS: `5mm`), and
    the two spaces of an NHS or CHI number written 3-3-4 (`NHS 7101783627`), where the blank
    between the two characters is wider than the word's own letter gaps allow
    (fixups.SPLIT_GAP times their median, the bound under which spaces_from_ink takes a space
    out; a number's two spaces both, wider than each of its other blanks, and where its
    digits' ink centres step SPACED_STEP times their usual step or more). A label
    written run into its value (`T2`, `b1000`), or a number written in one run, shows no
    such blank and stays as read. A number run into the next field's known label and colon
    (`Se:3Im:45`) gets its space whatever the ink shows. Returns the text and each
    character's x, a space put back at the middle of its blank."""
    if len(xs) != len(text):
        return text, xs
    groups = [[m.end(1)] for m in _LABEL_THEN_DIGIT.finditer(text) if m[1].lower() in VALUE_LABELS]
    # A number run into the next field's known label and colon (`Se:3Im:45`) is two fields
    # whatever the ink shows: no screen writes a value's label glued to the value before it.
    fields = []
    for match in _VALUE_THEN_LABEL.finditer(text):
        if match[1].lower() in VALUE_LABELS:
            fields.append(match.start())
        else:
            groups.append([match.start()])
    groups += [[m.start(1)] for m in _NUMBER_THEN_UNIT.finditer(text) if m[1].lower() in UNITS]
    groups += [[m.start(1) + 3, m.start(1) + 6] for m in _TEN_DIGITS.finditer(text)]
    if not groups and not fields:
        return text, xs
    gaps = ink_gaps(ink_columns(crop))

    def blank(i: int) -> tuple[int, float]:
        """The widest run of blank columns between characters i - 1 and i, and its middle."""
        return max(((end - start, (start + end) / 2) for start, end in gaps
                    if start < xs[i] and end > xs[i - 1]), default=(0, 0.0))

    spaces: list[tuple[int, float]] = [(i, blank(i)[1] or (xs[i - 1] + xs[i]) / 2) for i in fields]
    for places in groups:
        # The letter gaps of the run-together word itself (a line's median counts its spaces).
        first = text.rfind(" ", 0, places[0]) + 1
        last = text.find(" ", places[-1]) % (len(text) + 1) - 1
        inside = [end - start for start, end in gaps if start > xs[first] and end < xs[last]
                  and not any(start < xs[i] and end > xs[i - 1] for i in places)]
        # None: its letters touch (`Fr` at 11 px), gaps of one pixel at most.
        letter = max(float(np.median(inside)) if inside else 1.0, 1.0)
        # A number's two spaces are also its widest blanks (a monospace `1` stands wide apart
        # from its neighbours: CHI `2607031184` in one run).
        least = max([SPLIT_GAP * letter] + (inside if len(places) > 1 else []))
        found = [(i, blank(i)) for i in places]
        if all(width > least for _, (width, _) in found) and (
                len(places) == 1 or _steps_apart(crop, xs, places[0] - 3, places[-1] + 3, places)):
            spaces += [(i, middle) for i, (_, middle) in found]
    out, at = list(text), list(xs)
    for i, middle in sorted(spaces, reverse=True):
        out.insert(i, " ")
        at.insert(i, middle)
    return "".join(out), at


def _steps_apart(crop: np.ndarray, xs: list[float], first: int, last: int, places: list[int]) -> bool:
    """Does the ink of characters first..last (a number's digits) step wider at each of
    `places` (the character after each space) than SPACED_STEP times the median of its
    other steps? Each digit's ink is a run of inked columns; where the ink is not one run
    per digit (digits touching, a glyph broken by JPEG or interlacing) the steps cannot be
    told and the blanks decide."""
    pitch = (xs[last] - xs[first]) / max(last - first, 1)
    pieces = [(start + end - 1) / 2 for start, end in true_runs(ink_columns(crop))]
    centres = [c for c in pieces if xs[first] - 0.6 * pitch <= c <= xs[last] + 0.6 * pitch]
    if len(centres) != last - first + 1:
        return True
    steps = np.diff(centres)
    across = [i - first - 1 for i in places]
    others = np.delete(steps, across)
    return bool(others.size) and all(steps[k] >= SPACED_STEP * float(np.median(others)) for k in across)


def _two_words(before: str, after: str, listed: Callable[[str], bool]) -> bool:
    """Are the letters before and after a space two listed words that do not make one, the
    second no given name? (FAMILY GIVEN in capitals is a DICOM name whose caret the ink lost,
    `STEWART DAVID`: joined as before, the scorer's STEWARTDAVID for STEWART^DAVID.)"""
    first, second = before.rstrip(CARET_LOOKALIKES).split("^")[-1], after.split("^")[0]
    if not (first.isalpha() and second.isalpha()):
        return False
    first, second = first.lower(), second.lower()
    return (listed(first) and listed(second) and second not in GIVEN_NAMES
            and not listed(first + second))
