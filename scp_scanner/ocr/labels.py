"""The screen's short words (a value's label, a unit), read as the likeliest word of its slot.

A modality's annotation is mostly labels and units around numbers: `Se:3 Im:45`, `W:400 L:40`,
`kVp 120`, `5 mm`, `DOB 12.03.1950`, `Ref DOE^JOHN`, `HFS`. These words are short (1-4
letters), so the English word prior (lexicon.py) never weighs them, and a small or thin face
turns them into their neighbours: `In:45`, `5 nm`, `D08`, `MHS 8047401173`, `NFS`. Where such a
word stands is a slot with a small vocabulary of its own:

- before a colon and a number (`Im:45`): a value's label (`VALUE_LABELS`);
- right after a number (`5 mm`, `20Hz`): a unit (`UNITS`); run into the number, its first
  letter may be the number's digit (`2OHz`: `0Hz` is weighed too);
- before a number or a DICOM name (`NHS 8047401173`, `Ref DOE^JOHN`): a value's label;
- a box holding one short word and nothing else (`HFS`): any of the screen's words
  (pii/safe_text.py: positions, views, anatomy, protocol words, labels, units).

A word of the slot's vocabulary, or any of the screen's words outside the first slot, stays as
read. Any other is weighed, as the field forms are (fields.read_again), against the
vocabulary's words one edit away (a letter changed, added or dropped; a digit read for its
letter look-alike, `D08` for `DOB`, costs nothing; no other digit changes): each by its CTC
likelihood over the same time steps of the recogniser's output and its prior, 1 / the size
of the slot's vocabulary, against the word as read with the prior NOT_A_LABEL. So a word the
recogniser was sure of stays as read whatever the vocabulary says, and the larger a slot's
vocabulary, the closer a second its word must have been (a box alone may hold any of ~740
screen words, so `HIS` alone is read `HFS` only where the `F` was a close second). The
vocabulary is the screen's, not the generator's: pii/safe_text.py lists vendors' labels,
units, positions, anatomy and protocol words for the PII rules.

After a number and a space, a lone `m` is weighed as `mm` (doubled_unit_spans): CTC
writes a doubled letter only with a blank step between its two, which a small `mm` may not
leave. A one-letter label before a number and `L:` is weighed as the window's `W`
(window_width_spans: `H:400 L:40` in faces whose W has H's straight sides), and a
one-character label before a number after `W:` and a number as the level's `L`
(window_level_spans: `W:400 1:40`), and three digits right before a date as its label `DOB`
(date_label_spans: `008 07/09/1943`).

A word that may identify someone is never weighed: a known given name (pii/given_names.py,
four letters and more), a common name of two or three letters (SHORT_NAMES), or a part of
the instance's own patient or physician name (`protected`). Single letters are never
weighed (every letter is one edit from every other).
"""
from __future__ import annotations

import math
import re
from functools import lru_cache

import numpy as np

from ..pii.given_names import GIVEN_NAMES
from ..pii.safe_text import LABEL_WORDS, SCREEN_WORDS, UNITS, VALUE_LABELS
from .confusions import DIGIT_LOOKALIKES as CONFUSED
from .fields import base_letters, read_again
from .lexicon import LETTER_SHAPES

# The prior that a word in a label's or unit's slot is none of the vocabulary's words. With
# each vocabulary word's own prior (1 / the slot's vocabulary size) counted, the best one must
# be at least that size x 1e-6 as likely as the reading: 6.5e-5 for one of 65 labels, 3.1e-5
# for one of 31 units, 7.4e-4 for one of 743 words alone in a box. Chosen on the tuning
# corpora: 1e-4 and 1e-5 mended fewer words (docs/accuracy.md, twenty-third round).
NOT_A_LABEL = 1e-6
MAX_LETTERS = 4
# Characters read for a letter (lexicon.LETTER_SHAPES' digits, a bar for i or l, and 4 for A):
# free to swap back.
LOOKALIKES = {**{digit: LETTER_SHAPES[digit] for digit in "0158"}, "4": "a", "|": "il"}
# How vocabulary words are written besides CAPITALS, lower case and Title.
WRITTEN = ("kVp", "kV", "mA", "mAs", "mGy", "Hz", "kHz", "MHz", "dB", "mmHg", "TIs", "TIb", "TIc")

_TOKEN = r"(?<![A-Za-z0-9|^])([A-Za-z0-9|]{2,%d})" % MAX_LETTERS
# Group 1 of each is the word weighed. A label before a colon may follow the value before it
# with the space lost (`Se:3lm:45`), but starts with a letter or a letter's look-alike.
_BEFORE_COLON = re.compile(r"(?<![A-Za-z|^])([A-Za-z|015][A-Za-z0-9|]{1,%d})(?=: ?\d)"
                           % (MAX_LETTERS - 1))
# A unit follows a whole number (not the digits of a label's value, `Se:3lm`, nor a misread
# name's, `DOE"30HN`).
_AFTER_NUMBER = re.compile(r"(?<![\w\"'^|:.,/-])\d+(?:[.,]\d+)? ?([A-Za-z]{2,%d})(?![A-Za-z0-9|])"
                           % MAX_LETTERS)
_BEFORE_VALUE = re.compile(_TOKEN + r"(?= (?:[A-Za-z]{0,3}\d|[A-Z]{2,}\^[A-Z]))")
_ALONE = re.compile(r"^\s*" + _TOKEN + r"\s*$")

# A unit's slot keeps the labels (`3627 DOB`), not the screen's other short words: `nm` is a
# modality code, but after a number it is `mm` misread.
_AFTER_NUMBER_KEPT = UNITS | LABEL_WORDS | VALUE_LABELS
# Given and family names of two or three letters (GIVEN_NAMES holds four and more), never
# weighed: `Ian` alone in a box is not `IAM`, `NG` is not `MG`.
SHORT_NAMES = frozenset("""
ian eve amy zoe max kim lee roy guy sam tom ali ann ben dan jon joe tim ted liz sue jan kay
rob ray bob jim meg ava mia leo jay raj ram ama li ng wu yu lo ho xu hu ko oh le ly vu do
""".split())
# slot: (its pattern, the words weighed there, the words that stay as read there)
SLOTS = (
    (_BEFORE_COLON, VALUE_LABELS, VALUE_LABELS),
    (_AFTER_NUMBER, UNITS, _AFTER_NUMBER_KEPT),
    (_BEFORE_VALUE, VALUE_LABELS, SCREEN_WORDS),
    (_ALONE, SCREEN_WORDS, SCREEN_WORDS),
)


def _same(read: str, word: str) -> bool:
    return read == word or word in LOOKALIKES.get(read, "")


def one_edit(read: str, word: str) -> bool:
    """word (lower case) is at most one edit from read (lower case): a letter changed, added
    or dropped; a digit or bar read for its letter look-alike costs nothing, and no other
    digit is changed or dropped (a value's digits are the value's, not the label's)."""
    if abs(len(read) - len(word)) > 1:
        return False
    if len(read) == len(word):
        differ = [(a, b) for a, b in zip(read, word) if not _same(a, b)]
        return not differ or (len(differ) == 1 and not differ[0][0].isdigit())
    if len(read) > len(word):             # a character read that is not there
        return any(not read[k].isdigit() and all(map(_same, read[:k] + read[k + 1:], word))
                   for k in range(len(read)))
    return any(all(map(_same, read, word[:k] + word[k + 1:])) for k in range(len(word)))


@lru_cache(maxsize=None)
def _forms(word: str) -> tuple[str, ...]:
    """A vocabulary word as screens write it: CAPITALS, lower case, Title, or its own form."""
    own = [w for w in WRITTEN if w.lower() == word]
    return tuple(dict.fromkeys([*own, word.upper(), word, word.capitalize()]))


@lru_cache(maxsize=4096)
def label_readings(read: str, vocabulary: frozenset[str]) -> tuple[str, ...]:
    """The vocabulary's words one edit from `read`, in every way they are written."""
    low = read.lower()
    near = sorted(word for word in vocabulary
                  if 2 <= len(word) <= MAX_LETTERS + 1 and word.isalpha() and one_edit(low, word))
    return tuple(form for word in near for form in _forms(word))


# Letters a number's digit is read as: confusions.DIGIT_LOOKALIKES' letters and bar (not its
# marks nor Q and D, which no unit starts with), and B for 8.
DIGIT_LOOKALIKES = {**{ch: CONFUSED[ch] for ch in "OoIl|S"}, "B": "8"}


def digit_then_unit(word: str, units: frozenset[str]) -> tuple[str, ...]:
    """`word` read after a number, with no space, as a digit of that number (its first
    letter's look-alike) and a unit one edit from the rest: `OHz` -> `0Hz`."""
    digit = DIGIT_LOOKALIKES.get(word[:1])
    rest = word[1:]
    if digit is None or len(rest) < 2:
        return ()
    same = tuple(form for form in _forms(rest.lower()) if rest.lower() in units)
    return tuple(digit + form for form in same + label_readings(rest, units))


def label_spans(text: str, protected: frozenset[str] = frozenset()
                ) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """The short words of a line's reading that stand in a label's or unit's slot and are
    not of its vocabulary, each with the vocabulary's words near it and their log prior:
    each word of the slot's vocabulary as likely as another (1 / its size); a word is
    weighed once, for the first slot it stands in."""
    found: list[tuple[int, int, list[tuple[str, float]]]] = []
    taken = np.zeros(len(text) + 1, bool)
    for pattern, vocabulary, kept in SLOTS:
        for match in pattern.finditer(text):
            start, end = match.span(1)
            word = match[1]
            low = word.lower()
            if (taken[start:end].any() or not any(ch.isalpha() for ch in word)
                    or low in kept or low in SHORT_NAMES or low in GIVEN_NAMES or low in protected):
                continue
            readings = label_readings(word, vocabulary)
            if pattern is _AFTER_NUMBER and start and text[start - 1].isdigit():
                # Run into its number, a unit's first letter may be the number's last digit
                # (`2OHz`: 20 Hz): the digit and a unit are weighed too.
                readings = tuple(dict.fromkeys(readings + digit_then_unit(word, vocabulary)))
            if readings:
                taken[start:end] = True
                prior = -math.log(len(vocabulary))
                found.append((start, end, [(reading, prior) for reading in readings]))
    return found


# Slots a screen fills one way (below): the word read there, when it is not that word, keeps a
# share of ONE_WAY_SHARE, and the recogniser's likelihood decides against that prior.
ONE_WAY_SHARE = 0.01

# A unit read as one letter after a number and a space, whose unit is that letter written
# twice (`5 m` for `5 mm`): CTC writes a doubled letter only with a blank step between its
# two, and a small monospace `mm` leaves none, so greedy decoding keeps one. Both are units;
# on a screen, after a number, `mm` is the far likelier.
_LONE_AFTER_NUMBER = re.compile(r"(?<![\w\"'^|:.,/-])\d+(?:[.,]\d+)? ([A-Za-z])(?![A-Za-z0-9|^])")
# (`cc` is a doubled unit too, but a lone `C` after a number is as often a temperature's.)
DOUBLED_UNITS = frozenset({"mm"})


def doubled_unit_spans(text: str) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Each lone letter after a number whose doubling is a unit (`5 m`), with that unit."""
    found = []
    for match in _LONE_AFTER_NUMBER.finditer(text):
        letter = match[1]
        if (2 * letter).lower() in DOUBLED_UNITS:
            found.append((*match.span(1), [(2 * letter, 0.0)]))
    return found


# A window's width written before its level (`W:400 L:40`), the W read as another letter (in
# bitmap and terminal faces W has H's straight sides: `H:400 L:40`). Before `L:` and a
# number, the one-letter label of a number is the window's W on every screen that writes the
# pair.
_WINDOW_WIDTH = re.compile(r"(?<![A-Za-z0-9|])([A-VX-Za-vx-z|])(?=: ?\d+(?:[.,]\d+)? L: ?\d)")


def window_width_spans(text: str) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Each one-letter label before a number and `L:`, other than W, with W (its case)."""
    return [(*match.span(1), [("w" if match[1].islower() else "W", 0.0)])
            for match in _WINDOW_WIDTH.finditer(text)]


# A window's level written after its width (`W:400 L:40`), the L read as another character
# (`W:400 1:40`, `W:400 I:40`: a small L's foot lost). After `W:` and a number, the
# one-character label of a number is the window's L on every screen that writes the pair.
_WINDOW_LEVEL = re.compile(r"(?<![A-Za-z0-9|])W: ?\d+(?:[.,]\d+)? ([A-KM-Za-km-z0-9|])(?=: ?\d)")


def window_level_spans(text: str) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Each one-character label before a number after `W:` and a number, other than L, with
    L (lower case where it was read so)."""
    return [(*match.span(1), [("l" if match[1].islower() else "L", 0.0)])
            for match in _WINDOW_LEVEL.finditer(text)]


# An image's number written after its series' (`Se:3 Im:45`), its label read as one or two
# other characters (`Se:3 I:45`, `Se:3 Id:45`: a small `m` lost or read as `d`; `Se:3 10:45`),
# or run into its number, its colon lost or read as another mark (`Se:3 1m45`, `Se:3 1m.45`).
# After `Se:` and a number, the next label of a number is the image's Im on every screen that
# writes the pair. A label of digits only is one before a colon (`10:45`); before a digit it
# is the number's own (`Se:3 145`).
_IMAGE_NUMBER = re.compile(r"(?<![A-Za-z0-9|])Se: ?\d{1,4} ([A-Za-z0-9|]{1,2})(?=(: ?|[.,/-])?\d)")


def image_number_spans(text: str, protected: frozenset[str] = frozenset()
                       ) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Each label of one or two characters, other than Im (any case) and the `protected`
    words, before a number after `Se:` and a number, with Im."""
    return [(*match.span(1), [("Im", 0.0)]) for match in _IMAGE_NUMBER.finditer(text)
            if match[1].lower() != "im" and match[1].lower() not in protected
            and (not match[1].isdigit() or (match[2] or "").startswith(":"))]


# A date's three-letter label read as three digits (`008 07/09/1943`, `009 14-Apr-2004`,
# `006 10-Apr-1985`: D and O read as 0, B as 8, 9 or 6), which the slots above leave alone as
# a number. Before a date, a label of three characters that holds no letter is the birth
# date's DOB on every screen that labels one so; the recogniser's output decides (where it
# is sure of the digits, dob_by_shape below still writes D, O and B's look-alikes as DOB).
_THREE_BEFORE_DATE = (r"(?<![\w|^:./-])(%s{3}) (?=\d{1,4}([-./])(?:\d{1,2}|[A-Za-z]{3})\2\d{2,4}(?![\w:])"
                      r"|\d{8}(?![\w:]))")
_DATE_LABEL = re.compile(_THREE_BEFORE_DATE % "[0-9|]")


def date_label_spans(text: str) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Each three-character label without a letter right before a date, with DOB."""
    return [(*match.span(1), [("DOB", 0.0)]) for match in _DATE_LABEL.finditer(text)]


# D, O and B read as their look-alikes: D and O as 0 or as each other, B as 8 (or 6 or 9, a
# bowl lost): `008 07/09/1943`, `00B 18/04/1973`, `D06 10-Apr-1985`, `DDB 19480111`. In small
# monospace and terminal faces the recogniser is sure of such characters (D, O and B a
# millionth as likely or less), so the label slots, which weigh DOB by its output, leave them;
# the shapes and the date after them do not. In a date label's place (three characters right
# before a date, no other character of the word), nothing else is written so. Over 52
# synthetic corpora the digit-only forms were read 46 times, every one a DOB; over 55, the
# mixed forms (`00B`, `D06`, `D08`, `0O8`, `DDB`) 16 more, every one a DOB. 161 real files'
# rows are the same with and without this rule.
_DOB_PLACE = re.compile(_THREE_BEFORE_DATE % "[0-9A-Z]")
_DOB_SHAPES = re.compile(r"[D0O][O0D][B689]")


def dob_by_shape(text: str) -> str:
    """Each three characters of D, O and B's shapes (_DOB_SHAPES) in a date label's place
    written DOB; other words stay (the engine's last fix-up of a line, after line_text.mend,
    with the screen's words)."""
    out = list(text)
    for match in _DOB_PLACE.finditer(text):
        if _DOB_SHAPES.fullmatch(match[1]):
            out[match.start(1):match.end(1)] = "DOB"
    return "".join(out)


def mend_labels(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
                protected: frozenset[str] = frozenset()) -> tuple[str, list[int]]:
    """The reading with each short word in a label's or unit's slot read as the vocabulary's
    likeliest word, where that beats the word as read with the NOT_A_LABEL prior; arguments
    as fields.mend_fields', and `protected`: lower-case words never weighed (the instance's
    own name parts)."""
    if len(steps) != len(text):
        return text, steps
    text, steps = read_again(text, steps, probs, index, label_spans(base_letters(text), protected),
                             NOT_A_LABEL, prior_counts=True)
    letters = base_letters(text)
    one_way = sorted(doubled_unit_spans(letters) + window_width_spans(letters)
                     + window_level_spans(letters) + image_number_spans(letters, protected)
                     + date_label_spans(letters))
    return read_again(text, steps, probs, index, one_way, ONE_WAY_SHARE)
