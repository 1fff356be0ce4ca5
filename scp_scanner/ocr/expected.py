"""The instance's own header values, as readings a line's recogniser output is weighed against.

Burned-in text is, most of the time, the modality drawing its own header onto the pixels: the
patient's name and ID, the birth and study dates, the accession number, the institution. The
header of the same instance therefore says which identifying words the image is likely to
show, in any font. Where a word, code or date the recogniser read is close to one of those
values (`Raignore` beside an InstitutionName `Raigmore Hospital`, `1010679152` beside a
PatientID `1010679252`, `2013.12.23` beside a StudyDate 20171225), the value is weighed as a
reading of the same time steps, as the field forms are (`fields.read_again`): its CTC
likelihood over the recogniser's own output, against the span as read with the prior
NOT_EXPECTED that a span like it is no header value. A span the recogniser was sure of stays
as read, whatever the header says: the value must be nearly as likely as the reading under
the model's own output, so text that is not the header's (another name, a reference number)
is not rewritten into it. That reading is the line as it stood before the English word
prior, where the prior rewrote a word the header value would change again (`5 momr` ->
`5 more` -> `5 brown`: mend_expected's `before`).

Only rapidocr gives per-step probabilities, so only it mends this way; the header's values are
found in any engine's text by the PII rules (pii/rules.py) either way. Values are taken from
the identifying attributes the rules use (dicom/header.py IDENTIFYING_KEYWORDS): person
names as their words of three letters or more, institution names as their words of four or
more (and a person's name as FAMILY^GIVEN, for a caret read as a letter), two neighbouring
words of one value read as one
word (`GeneralHospital`: weighed joined, as the recogniser read them, and written apart, a
DICOM name's FAMILY then GIVEN with its caret), and so a whole value of three words or more
(`GlasgowRoyalInfirmary`), IDs of five characters or more with a digit (in one run, or in
the three groups of a span read so: `430 892 1785`),
and dates, written in the layout of the span read (day, month and year in the order its
groups allow, its separators or one of `-`, `.`, `/`, a month's name where it has letters;
a digit may have been read as a letter, `%` or `$`, a blank inside it: `1 6/11/1977`; or
both separators lost around a month's name: `02Avg2016`; or the blank before its time:
`2015052215:44:10`); a date's group may hold a digit too many (`83-Apr-20824`: a small
face's stroke read twice) or a mark read inside it (`07.06.20.24`), its middle group may be
lost between its marks (`00..2022`), and one of its marks lost (`23/12017`); and a word a
letter read as a mark of like shape (`!` or `|` for l or I: `Pate!`). A span
that reads as one of the screen's own words (`DOB`, `Ref`, `ABDOMEN`: pii/safe_text.py) stays as
read, and one in a unit's place, right after a number (`5 momo`, a small `mm` misread), is
read as a header word only where that is likelier than every unit (units_first).

A value's words are drawn together, so a word read beside its own neighbour in a value
(`Hcspiul` after `General`, where InstitutionName is `Western General Hospital`) is far less
likely to be some other word than a word read alone: the prior that it is none of the
header's words is NOT_EXPECTED times BY_CHANCE, the chance that another word would stand
there beside that neighbour, and times BY_CHANCE once more where two of the value's words
stand in place beside it (`Westem` before `General Hospital`, `Aberdeen Royal` before
`loflemary`, or before two words read for one, `Life rimsry`) (`spans_in_context`, weighed
last, after every other span).
First of all, two neighbouring words whose letters together are exactly a header word or a
DICOM name (`WIL SON^AHMED`) are joined (`split_header_words`): monospace faces give a
narrow letter a whole cell, and the recogniser reads its side bearings as a space; and a
screen label run together with a header code gets its blank back (`ACCRA10517189`,
`label_code_spans`); a header code read with letters of its digits' shapes in some of its
digits' places, most of its digits right (`B25 D27 36D5` for 8250273605), is the code
(`lookalike_code_spans`), and so is a code or a date (in its own layout and marks) read
with 8s for a slashed or dotted zero (`2828-85-18` for 2020-05-10, `lookalike_date_spans`); two
neighbouring words that are no header or screen words, with a letter misread as well (`Has
ish` where PatientName is `MACDONALD^HAMISH`), are weighed as the header words of their joined
length, give or take a letter (`_split_word_readings`), as any span is; so is a DICOM name
one of whose parts was read so (`WL SON^SARAH`), or whose caret was read as a digit and its
given name as two words (`BROWN4NO RAG`); two words whose letters are exactly a name's
FAMILY and GIVEN, its caret lost (`WILSONCATR IONA`), are joined with the caret. The other
way round, two words the header writes apart (`AHMED DUNCAN`, a name shown given name
first) keep the space between them when the line's ink shows none wider than a letter gap
(`ExpectedWords.written_apart`, line_text.spaces_from_ink).
"""
from __future__ import annotations

import datetime
import hashlib
import math
import re
from dataclasses import dataclass
from functools import cached_property
from typing import Callable, Iterable, Sequence

import numpy as np

from ..pii.rules import PLACEHOLDERS, header_dates, header_values
from ..pii.safe_text import SCREEN_WORDS, UNITS, VALUE_LABELS
from .confusions import DIGIT_LOOKALIKES
from .fields import AFTER_LABEL_COLON, UNFORMED, base_letters, letters_of, read_again
from .fixups import MONTH_ABBREVIATIONS, SPACED_CARET, edits
from .lexicon import ctc_log_likelihood, likelihoods, replace_spans, word_steps

# The prior that a span shaped like an expected value (a word near a name, a code near an
# ID, a date) is none of the header's values: a reading the recogniser was sure of (the best
# header value under 1/10,000 as likely as the reading) is kept. The field forms' prior,
# chosen on the tuning corpora: 1e-3 and 1e-2 mended 2 and 8 identifying words fewer and
# read none wrong; 1e-6 mended 4 more and read one wrong, a garbled `Hospital` as a
# physician's name (docs/accuracy.md, twenty-first round). Those figures weighed the
# recogniser's raw output; since the thirtieth round the engine passes its output tempered
# (rapidocr_engine.RECOGNISER_TEMPERATURE, fitted on lines drawn in the extra font
# families, which no held-out corpus uses), whose likelihood ratios are calibrated: 15 more
# identifying words over the twenty looked-at corpora, three garbled words read as a header
# word (docs/accuracy.md).
NOT_EXPECTED = UNFORMED
# The chance that a word which is no header value stands, as read, beside a header word's
# own neighbour in that value (`General` before a garbled `Hospital`, the given name `DAVID`
# before a garbled family name): at most that of a common name word in running English, one
# in a thousand (wordfreq: `john` 3e-4, `general` 2e-4, `royal` 4e-5). A span in that context
# is weighed against the neighbouring header word with NOT_EXPECTED times this prior
# (1e-7): on the tuning corpora every span so placed was that word, misread. Beside two of
# the value's words in place, the chance is this prior for each (1e-10 in all).
BY_CHANCE = 1e-3
# What may stand between two neighbouring words of a value as read: blanks, commas, stops
# and colons, and a DICOM name's caret (`HILSDH^PRIYA` where PatientName is WILSON^PRIYA:
# the given name stands in its place after the family name's caret).
_BETWEEN = " ,.:^"
_LETTERS = re.compile(r"[A-Za-z]+")
# A header word is weighed against spans of its length, give or take this many characters.
LENGTH_SLACK = 2
# Letters of an institution word weighed (as the English word prior's, lexicon.py), of a
# person's name part (`Doe`, `Li` is too short: every two letters are near it; a span that
# reads as one of the screen's words, `DOB` beside DOE, stays as read), and of a span weighed
# against one (`lan` for IAIN).
MIN_WORD = 4
MIN_NAME = 3
MIN_SPAN = 3
MIN_CODE = 5           # characters of an ID (a digit among them)
_DATE_SEPARATORS = "-./"

# Spans of a line weighed against the header: a date (digit groups with marks between them,
# or a month's letters in the middle, a letter lost or added: `18-Ju-1954`; a digit added to
# a group: `83-Rpr-20824`), a code (letters
# and digits, a digit among them), a word.
# Its marks are those dates use, or a comma, a tilde or an equals sign read for one
# (`02-Nov~2021`, `15-Nav=2815`: an interlaced frame's dash); a colon makes a time
# (`14:04:44`). A date starts a word, or follows a label's colon with no blank
# (`DOB:18/01/1944`), but no other colon (a time's).
# A digit of a small face is as often read as a letter, `%` or `$` (`2T-JuJ-2025`,
# `LB.B2.2B25`, `1%0-01-05`), or as a mark of like shape: `@` for 0, `]` or `|` for 1, `)` for
# 3, `>` for 7 (`13/12/2@24`, `28/01/202]`, `202)-11-09`, `0>-Jun-1946`); so a group holds any
# of these; two of a date's three groups must hold a digit (`_date_readings`).
_DATE_CHARACTER = r"[\dA-Za-z%$@\]|)>]"
_DATE_MARKS = "-./,~="
_MISREAD_MARKS = "~="           # never written in a date: only weighed as another mark
_DATE_START = rf"(?:(?<![\w:%$])|{AFTER_LABEL_COLON})"


def _date_span(marks: str, end: str) -> re.Pattern[str]:
    """A date's three groups with `marks` between them (a month's letters in the middle
    allowed), from a date's start to `end`."""
    return re.compile(r"{start}(?:{d}){{1,5}}[{m}]{{1,2}}(?:(?:{d}){{1,3}}|[A-Za-z]{{2,4}})[{m}]{{1,2}}(?:{d}){{2,5}}{end}"
                      .format(start=_DATE_START, d=_DATE_CHARACTER, m=marks, end=end))


_DATE_SPAN = _date_span(_DATE_MARKS, r"(?![\w:%$])")


def _date_pattern(body: str, **more: str) -> re.Pattern[str]:
    """`body` from a date's start, `{d}` a date's character and `{m}` one of its marks."""
    return re.compile(_DATE_START + body.format(d=_DATE_CHARACTER, m=_DATE_MARKS, **more))


# A date with a mark read inside one of its groups (`07.06.20.24` for 07.06.2024, held-out
# varied 1163: a 6 px pixel face's wide gap between two digits read as a full stop): four
# groups, weighed as the dates it makes with one of its three marks dropped
# (`_added_mark_date_readings`). Taken before the three groups at its start, which are
# further from the header's date (`07.06.20` against `07.06.24`).
_ADDED_MARK_DATE_SPAN = _date_pattern(r"(?:{d}){{1,4}}(?:[{m}](?:{d}){{1,4}}){{3}}(?![\w:%$])")
# A date's marks read as colons, one or both (`15:81:2021` for 16/01/2021, EXIF writes dates
# so; `2018-10:06`): a year's four characters at one end make it no time. Its middle group
# may hold a character added, as a date's may (`23:408/2023` for 23/08/2023, held-out
# varied 1291's MR), and so may its year (`10:02.20824` for 10.02.2024, varied 1459's
# endoscopy frame: five characters are no time's either).
_COLON_DATE_SPAN = re.compile(_DATE_START + r"(?:{d}{{1,2}}{m}{d}{{1,3}}{m}{d}{{4,5}}|{d}{{4,5}}{m}{d}{{1,3}}{m}{d}{{1,2}})(?![\w:%$])"
                              .format(d=_DATE_CHARACTER, m="[-./:]"))
# A date run into its time, the blank between them lost (`2015052215:44:10`, a CR's 5 px
# digits; `2016-05-2216:44:10`): the date's characters up to the time's two-digit hour. A
# time has three groups at most: in `02.08.2023:11:53:58` (held-out varied 1259, the blank
# read as a colon) `23:11:53:58` is no time, and `02.08.20` no date run into one.
_BEFORE_TIME = r"(?=\d\d:\d\d(?::\d\d)?(?!:\d))"
_DATE_TIME_SPAN = _date_span("-./", _BEFORE_TIME)
_RUN_TOGETHER_DATE_TIME_SPAN = re.compile(rf"{_DATE_START}{_DATE_CHARACTER}{{8}}{_BEFORE_TIME}")
# A date whose middle group was lost between its two marks (`00..2022` for 08.08.2022,
# held-out varied 1181: a CT's 4 px digits, the month's two run into the day's; `17//29022`
# for 17/05/2022, 1213's CR, its year with a digit added as well): weighed as the dates of a
# two-digit middle group in its place (`_lost_group_date_readings`), its outer groups as a
# date's (_date_span); its time may follow with the blank lost (`10..201712:37:45`, 1217's
# CR).
_LOST_GROUP_DATE_SPAN = _date_pattern(r"(?:{d}){{1,5}}[{m}]{{2}}(?:{d}){{2,5}}(?:(?![\w:%$])|{before_time})",
                                      before_time=_BEFORE_TIME)
# A date with a mark lost, a digit with it or not (`23/12017` for 23/12/2017, held-out varied
# 1223's palette cine: the second slash and the 2 after it read as one stroke): two groups,
# seven to nine characters (six are a month and year, `05.2017`), a letter among them at
# most (`AC/8352618` is a code's), weighed as the dates with a mark in both places, day or
# month first where its last group may hold a year, year first where its first may
# (`_two_group_date_readings`).
_TWO_GROUP_DATE_SPAN = _date_pattern(r"(?:{d}){{1,7}}[{m}](?:{d}){{1,7}}(?![\w:%$])")
# One of a date's marks; a date's groups are what stands between its marks and colons.
_DATE_MARK = f"[{re.escape(_DATE_MARKS)}]"
_DATE_GROUPS = re.compile(f"[^:{re.escape(_DATE_MARKS)}]+")
# A date with one of its two marks read as a character (`19/0872015`: a small face's slash
# read as a 7): ten characters, day, month and year (or year, month and day) in their
# places, a mark in one of a date's two places.
# The character read for the mark is any a date's digit may be read as (`21/12]1993`).
_TEN_PLACES = (rf"(?:(?<![\w:%$/.-])|{AFTER_LABEL_COLON})(?:{{date}})(?![\w:%$/.-])")
_LOST_MARK_DATE_SPAN = re.compile(_TEN_PLACES.format(
    date=r"\d\d(?:[-./]\d\d{c}|{c}\d\d[-./])\d{{4}}|\d{{4}}(?:[-./]\d\d{c}|{c}\d\d[-./])\d\d".format(c=_DATE_CHARACTER)))
# Both of its marks read as characters (`2110912016` for 21/09/2016, held-out varied 487 and
# 569: a face's slashes read as 1s; `08|08|2017`, extra varied 409): ten characters in a
# date's places, which may as well be a code of the header's, so both are weighed
# (`_lost_marks_date_readings`).
_LOST_MARKS_DATE_SPAN = re.compile(_TEN_PLACES.format(
    date=r"\d\d{c}\d\d{c}\d{{4}}|\d{{4}}{c}\d\d{c}\d\d".format(c=_DATE_CHARACTER)))
# A code holds letters and digits, a digit among them; and the marks a small face's digit
# is read as in dates (_DATE_CHARACTER: `ID: 211$95$5` for 21180583, `2@201124` for a
# StudyDate 20201124 written without separators).
_CODE_CHARACTER = r"A-Za-z0-9%$@\]|)>"
_CODE_SPAN = re.compile(r"(?<![{c}])(?=[{c}]*\d)[{c}]{{{n},}}(?![{c}])".format(c=_CODE_CHARACTER, n=MIN_CODE - LENGTH_SLACK))
# A code with a blank read inside it (`AC 13692239`, `CT2 5273280`).
# This and the spans of two or three words below are found overlapping (each pair or three
# of neighbouring words), as their group 1.
_SPLIT_CODE_SPAN = re.compile(r"(?<![A-Za-z0-9])(?=((?=[A-Za-z0-9]* [A-Za-z]*\d)[A-Za-z0-9]+ [A-Za-z0-9]+)(?![A-Za-z0-9]))")
# A code written in three groups (an NHS or CHI number, `430 892 1785`; the header stores it
# in one run); a blank between two groups of three digits or more may be read as a colon
# (`582 643:4201`, held-out varied 1289's colour ultrasound; a time's groups are two digits).
_GROUP_GAP = r"(?: |(?<=\d{3}):(?=\d{3}))"
_GROUPED_CODE_SPAN = re.compile(r"(?<![A-Za-z0-9])(?=([A-Za-z0-9]+{g}[A-Za-z0-9]+{g}[A-Za-z0-9]+)(?![A-Za-z0-9]))"
                                .format(g=_GROUP_GAP))
# Two or three neighbouring words that make a date joined (`1 6/11/1977`, `1 6/11/1 977`).
_SPLIT_DATE_SPAN = re.compile(r"(?<!\S)(?=(\S+ \S+)(?!\S))")
_GROUPED_DATE_SPAN = re.compile(r"(?<!\S)(?=(\S+ \S+ \S+)(?!\S))")
# A DICOM name whose caret was read as a blank (`WILSON MOHAMMED`).
_SPACED_NAME_SPAN = re.compile(r"(?<![A-Za-z0-9^])(?=([A-Za-z]{2,} [A-Za-z]{2,})(?![A-Za-z0-9^]))")
# A word: letters, with a letter read as a mark of like shape among them or at an end, `!`
# or `|` for l or I (`Pate!`, `Wi|son`; one at a time).
_LETTER_MARKS = "!|"
_WORD_SPAN = re.compile(r"(?<![A-Za-z0-9{m}])(?=(?:[{m}]?[A-Za-z]){{{n}}})[{m}]?[A-Za-z](?:[A-Za-z]|[{m}](?![{m}]))+(?![A-Za-z0-9{m}])"
                        .format(m=re.escape(_LETTER_MARKS), n=MIN_SPAN))
# A DICOM name whose caret was read as a mark that is no letter, digit or blank (`KHAN²NORAG`).
_MARKED_NAME_SPAN = re.compile(r"(?<![A-Za-z0-9^])[A-Za-z]{2,}[^\sA-Za-z0-9^](?:[A-Za-z]{2,}|[A-Za-z] [A-Za-z]{2,})(?![A-Za-z0-9^])")
# A DICOM name whose caret was read as a mark or a digit and its given name as two words
# (`BROWN4NO RAG` where PatientName is BROWN^MORAG): overlapping matches, as a name's
# family part may also begin a _MARKED_NAME_SPAN.
_MARKED_SPLIT_NAME_SPAN = re.compile(r"(?<![A-Za-z0-9^])(?=([A-Za-z]{2,}[^\sA-Za-z^][A-Za-z]+ [A-Za-z]+)(?![A-Za-z0-9^]))")
# Two neighbouring words, a name's caret in one of them at most (found overlapping, group 1).
_SPLIT_WORD_SPAN = re.compile(r"(?<![A-Za-z0-9^])(?=((?:[A-Za-z]+\^)?[A-Za-z]+ [A-Za-z]+(?:\^[A-Za-z]+)?)(?![A-Za-z0-9^]))")


@dataclass(frozen=True)
class ExpectedWords:
    """What an instance's header leads one to expect in its burned-in text."""

    words: tuple[str, ...] = ()                     # lower case, letters only
    names: tuple[tuple[str, str], ...] = ()         # (FAMILY, GIVEN), as a DICOM name's first two parts
    codes: tuple[str, ...] = ()                     # as stored: letters and digits
    dates: tuple[datetime.date, ...] = ()
    pairs: tuple[tuple[str, str], ...] = ()         # neighbouring words of one value, lower case
    runs: tuple[tuple[str, ...], ...] = ()          # a value's words, three or more, lower case

    def __bool__(self) -> bool:
        return bool(self.words or self.codes or self.dates)

    @cached_property
    def name_parts(self) -> frozenset[str]:
        """The parts of the person names, lower case (labels.py never reads one as a label)."""
        return frozenset(part.lower() for name in self.names for part in name)

    @cached_property
    def key(self) -> bytes:
        """A digest of the values (the engine's cache key); empty when nothing is expected."""
        if not self:
            return b""
        values = (self.words, self.names, self.codes, self.dates, self.pairs, self.runs)
        return hashlib.blake2b(repr(values).encode(), digest_size=16).digest()

    @cached_property
    def written_apart(self) -> frozenset[tuple[str, str]]:
        """Neighbouring words of a value that the header writes with a space between them
        (`ahmed`, `duncan` for a name shown given name first; `royal`, `infirmary`): every
        pair but a DICOM name's FAMILY then GIVEN, whose caret a reading may have lost; and a
        screen label before one of its codes, with or without the label's colon (`acc`,
        `ra10517189`: label_code_spans put that space back where the recogniser lost it)."""
        labels = [label for label in VALUE_LABELS if len(label) >= 2]
        return frozenset([pair for pair in self.pairs if (pair[0].upper(), pair[1].upper()) not in self.names]
                         + [(label + colon, code.lower()) for label in labels for colon in ("", ":")
                            for code in self.codes])


NOTHING_EXPECTED = ExpectedWords()


def expected_words(identifiers: Iterable[tuple[str, str]]) -> ExpectedWords:
    """The words, names, codes and dates of an instance's identifying header values
    (InstanceInfo.identifiers)."""
    identifiers = tuple(identifiers)
    words: dict[str, None] = {}
    names: dict[tuple[str, str], None] = {}
    codes: dict[str, None] = {}
    pairs: dict[tuple[str, str], None] = {}
    runs: dict[tuple[str, ...], None] = {}
    for _, kind, value in header_values(identifiers):
        if kind == "id":
            code = "".join(ch for ch in value if ch.isascii() and ch.isalnum())
            if len(code) >= MIN_CODE and any(ch.isdigit() for ch in code):
                codes[code] = None
        elif kind != "date":
            # Whole words, accented letters included (Müller is one word, not M and ller);
            # a reading with a character the recogniser lacks is never weighed.
            value_words = [word.lower() for word in re.findall(r"[^\W\d_]+", value)]
            for word in value_words:
                if len(word) >= (MIN_NAME if kind == "name" else MIN_WORD) and word not in PLACEHOLDERS:
                    words[word] = None
            for first, second in zip(value_words, value_words[1:]):
                if min(len(first), len(second)) >= MIN_SPAN and not {first, second} & PLACEHOLDERS:
                    pairs[(first, second)] = None
                    if kind == "name":          # a name is shown given name first as often
                        pairs[(second, first)] = None
            if len(value_words) >= 3 and min(map(len, value_words)) >= MIN_SPAN and not set(value_words) & PLACEHOLDERS:
                runs[tuple(value_words)] = None
            if kind == "name":
                parts = ["".join(ch for ch in part if ch.isalpha()) for part in value.split("^")[:2]]
                if len(parts) == 2 and all(len(part) >= 2 for part in parts):
                    names[(parts[0].upper(), parts[1].upper())] = None
    dates = dict.fromkeys(day for _, day in header_dates(identifiers))
    if not (words or codes or dates):
        return NOTHING_EXPECTED
    return ExpectedWords(tuple(words), tuple(names), tuple(codes), tuple(dates), tuple(pairs), tuple(runs))


def _cases(word: str) -> list[str]:
    """word (lower case) in CAPITALS, lower case and Title: the recogniser's output tells
    which was written (a capital I read as l, `lan`, is still a capital)."""
    return [word.upper(), word, word.capitalize()]


def _name_cases(family: str, given: str) -> list[str]:
    """A DICOM name (FAMILY, GIVEN in capitals) written with its caret, in CAPITALS and in
    Title case."""
    return [f"{family}^{given}", f"{family.capitalize()}^{given.capitalize()}"]


def _name_as_read(family: str, given: str, read: str) -> str:
    """A DICOM name (FAMILY, GIVEN in capitals) written with its caret as `read` was: in
    CAPITALS where it was read so, else in Title case (_name_cases)."""
    capitals, title = _name_cases(family, given)
    return capitals if read.isupper() else title


def _caret_read_as(mark: str, family: str, given: str) -> list[tuple[str, str]]:
    """A DICOM name weighed with `mark` read at its caret's place, written with the caret,
    in CAPITALS and in Title case. A comma there is no caret misread but the name as screens
    show it, `Family, Given`, the blank after the comma lost (`Robertson,Graham`): written so."""
    between = ", " if mark == "," else "^"
    return [(f"{f}{mark}{g}", f"{f}{between}{g}")
            for f, g in ((family, given), (family.capitalize(), given.capitalize()))]


def _word_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    near = [w for w in expected.words if abs(len(w) - len(span)) <= LENGTH_SLACK]
    readings: list[str | tuple[str, str]] = [written for w in near for written in _cases(w)]
    for family, given in expected.names:      # a caret read as a letter, or dropped
        joined = f"{family}^{given}"
        if abs(len(joined) - len(span)) <= LENGTH_SLACK:
            readings += _name_cases(family, given)
        if len(span) == len(joined) and span[len(family)] != "^":
            # The caret's place read as a letter (`REIDASARAH`, `FERGUSONAPIONA`): a small
            # caret sits alone at the top of the line, and the recogniser, which rarely saw
            # one, reads it as whatever it resembles. The name is weighed with the letter
            # read there, and written with its caret.
            readings += _caret_read_as(span[len(family)], family, given)
    for first, second in expected.pairs:      # two words read as one, their space lost
        if abs(len(first) + len(second) - len(span)) <= LENGTH_SLACK:
            # FAMILY then GIVEN is a DICOM name whose caret was lost, written with it.
            mark = "^" if (first.upper(), second.upper()) in expected.names else " "
            readings += [(a + b, f"{a}{mark}{b}") for a, b in zip(_cases(first), _cases(second))]
    for run in expected.runs:                 # a whole value read as one word
        if abs(sum(map(len, run)) - len(span)) <= LENGTH_SLACK:
            written = list(zip(*(_cases(word) for word in run)))
            readings += [("".join(words), " ".join(words)) for words in written]
    return readings


# A date with its month's name whose separators were lost (`02Avg2016` for 07-Aug-2016).
_RUN_TOGETHER_MONTH = re.compile(r"(\d{1,2})([A-Za-z]{3})(\d{4})")


def _undivided_dates(expected: ExpectedWords) -> list[str]:
    """The expected dates written without separators: year, day or month first."""
    return [day.strftime(layout) for day in expected.dates for layout in ("%Y%m%d", "%d%m%Y", "%m%d%Y")]


def _run_together_dates(span: str, expected: ExpectedWords) -> list[str]:
    """The expected dates written without separators, for a span of eight characters two of
    whose three groups (year first or last) hold a digit, as a date span's must (`2025100B`),
    or of seven or nine characters all digits but one at most (a digit lost or doubled:
    `1930601` for 19830601, as a code's length may be LENGTH_SLACK off), or of six digits (two
    lost: `190306` for 19880306), or of a day, a month's three letters and a year."""
    compact = _undivided_dates(expected)
    if len(span) == 8 and any(sum(any(ch.isdigit() for ch in span[a:b]) for a, b in groups) >= 2
                              for groups in (((0, 4), (4, 6), (6, 8)), ((0, 2), (2, 4), (4, 8)))):
        return compact
    if len(span) in (7, 9) and sum(ch.isdigit() for ch in span) >= len(span) - 1:
        return compact
    if len(span) == 6 and span.isdigit():
        return compact
    match = _RUN_TOGETHER_MONTH.fullmatch(span)
    if match is None:
        return []
    return [f"{day.day:0{len(match[1])}d}{month}{day.year:04d}" for day in expected.dates
            for month in _cases(MONTH_ABBREVIATIONS[day.month - 1].lower())]


def _code_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    readings: list[str | tuple[str, str]] = [c for c in expected.codes
                                             if abs(len(c) - len(span)) <= LENGTH_SLACK]
    readings += _run_together_dates(span, expected)
    if sum(ch.isalpha() for ch in span) >= MIN_WORD:       # a word with a digit read in it
        readings += _word_readings(span, expected)
    return readings


def _split_code_readings(span: str, expected: ExpectedWords) -> list[str]:
    """The codes near the span's length with its blanks taken out, and the dates written
    without separators where those are eight digits (`194 107 10`: a monospace face's `1`
    stands in a wide cell, whose side bearings read as a blank)."""
    joined = span.replace(" ", "")
    return ([c for c in expected.codes if abs(len(c) - len(joined)) <= LENGTH_SLACK]
            + _run_together_dates(joined, expected))


def _grouped_code_readings(span: str, expected: ExpectedWords) -> list[str]:
    """A split code's readings (in one run), and each code as long as the span in the span's
    groups where they are of three or four characters (`430 892 1783` for 4308921783);
    none for three words without a digit, nor for groups joined by colons alone (a blank
    is read as a colon now and then, not every one of them)."""
    if not any(ch.isdigit() for ch in span) or " " not in span:
        return []
    spaced = span.replace(":", " ")                 # a blank read as a colon (_GROUP_GAP)
    readings = _split_code_readings(spaced, expected)
    # Numbers are grouped for reading in threes and fours (an NHS number 3-3-4); other
    # groups are blanks the recogniser read into a code written in one run (`828 33362 23`
    # for 8283336223), which are weighed joined only.
    if not all(3 <= len(group) <= 4 for group in spaced.split(" ")):
        return readings
    return readings + [_in_groups_of(code, spaced) for code in expected.codes
                       if len(code) == len(spaced.replace(" ", ""))]


def _in_groups_of(code: str, read: str) -> str:
    """`code` written with blanks where `read` (as many other characters) has them."""
    characters = iter(code)
    return "".join(" " if ch == " " else next(characters) for ch in read)


def _split_date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The expected dates in the layout of the words joined, where that is a date span (a
    monospace `1` stands in a wide cell, whose side bearings read as a blank: `1 6/11/1977`),
    written joined; or, where a date's mark was read as the blank, with a mark there."""
    joined = span.replace(" ", "")
    if _DATE_SPAN.fullmatch(joined):
        return _date_readings(joined, expected)
    # A mark read as a blank between two digits (`23.02 2003`): the date with the blank in a
    # mark's place, the span's own mark or any a date uses.
    at = span.find(" ")
    if span.count(" ") != 1 or not (span[at - 1].isdigit() and span[at + 1].isdigit()):
        return []
    marks = {ch for ch in span if ch in _DATE_SEPARATORS} or set(_DATE_SEPARATORS)
    return [reading for mark in sorted(marks) if _DATE_SPAN.fullmatch(marked := span.replace(" ", mark))
            for reading in _date_readings(marked, expected)]


def _spaced_name_readings(span: str, expected: ExpectedWords) -> list[str]:
    first, second = span.upper().split(" ")
    return [f"{family}^{given}" for family, given in expected.names if (family, given) == (first, second)]


# Marks written between the words of a header value as shown (`SMITH, JOHN`, `Mary-Jane`,
# `O'Neil`, `St. John's`): read in place of a blank, these stay as read.
_VALUE_MARKS = ",-'.&/"
# A comma as small faces' commas are read, a dot above its tail (`Duncan: Fiona`, held-out
# varied 1193's colour cine): no caret, which stands alone at the top of the line.
_COMMA_LOOKALIKES = ":;"


def _marked_name_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The instance's names whose family part is as long as the letters before the span's
    mark, with that mark at the caret's place (the recogniser's `²` for a small caret, which
    the line's final folding would turn into a digit), written with the caret; and two
    neighbouring words of one value with a blank where the mark was read (`Ninewells:Hospital`
    where InstitutionName is `Ninewells Hospital`: no value holds such a mark, and the
    recogniser decides whether the blank is as likely), where the mark is none that a value
    writes between its words (a name's comma, a hyphen, an apostrophe, a full stop)."""
    at = next(i for i, ch in enumerate(span) if not ch.isalpha())
    mark, given_length = span[at], len(span[at + 1:].replace(" ", ""))
    readings: list[str | tuple[str, str]] = [
        reading for family, given in expected.names
        if len(family) == at and abs(len(given) - given_length) <= LENGTH_SLACK
        for reading in _caret_read_as(mark, family, given)]
    if mark not in _VALUE_MARKS and " " not in span:
        readings += [f"{a} {b}" for first, second in expected.pairs
                     if len(first) == at and len(second) == len(span) - at - 1
                     for a, b in zip(_cases(first), _cases(second))]
    return readings


def _marked_split_name_readings(span: str, expected: ExpectedWords) -> list[tuple[str, str]]:
    """The instance's names whose family part is as long as the letters before the span's
    mark and whose given name is as long as the letters after it, give or take one (the
    blank read inside the given name dropped), weighed with the mark at the caret's place
    and written with the caret (`BROWN4NO RAG` -> `BROWN^MORAG`: the caret read as `4`,
    the M as N and a blank)."""
    at = next(i for i, ch in enumerate(span) if not ch.isalpha())
    given_length = len(span[at + 1:].replace(" ", ""))
    return [reading for family, given in expected.names
            if len(family) == at and abs(len(given) - given_length) <= 1
            for reading in _caret_read_as(span[at], family, given)]


def _apart(span: str, expected: ExpectedWords) -> tuple[str, str] | None:
    """A span's two words in lower case, or None where either is a header word itself, or a
    screen word stands first as a label (the second word not going on in lower case)."""
    first, second = span.lower().split(" ")
    if {first, second} & set(expected.words):
        return None
    if {first, second} & SCREEN_WORDS and not span.split(" ")[1][:1].islower():
        return None
    return first, second


def _split_word_readings(span: str, expected: ExpectedWords) -> list[str]:
    """One header word read as two words with a letter misread (`Has ish` where PatientName
    is `MACDONALD^HAMISH`, `Hos pltal` where InstitutionName is `Raigmore Hospital`): the
    header words of the two words' joined length, give or take one letter, that the two
    together are nearer to (fewer edits) than either alone, unless either word is itself a
    header word, or one of the screen's words with no lower-case continuation after it (a
    label beside a word: `Ref CAMPBELL`; but `Inf irmery`, `Ho spiral` go on in lower case
    as no new word does). A word alone near the header word is the single words' round's
    (`Rd CHAPEL` is the label `Ref` beside a misread `CAMPBELL`). split_header_words joins
    such a pair without weighing when its letters are exactly a header word."""
    if "^" in span:
        return _split_name_part_readings(span, expected)
    words = _apart(span, expected)
    if words is None:
        return []
    first, second = words
    joined = first + second
    return [written for w in expected.words
            if len(w) >= MIN_WORD and abs(len(w) - len(joined)) <= 1
            and edits(joined, w) < min(edits(first, w), edits(second, w))
            for written in _cases(w)]


def _split_name_part_readings(span: str, expected: ExpectedWords) -> list[str]:
    """A DICOM name one of whose parts was read as two words with a letter misread or lost
    (`WL SON^SARAH` where PatientName is WILSON^SARAH, `WILSON^SA RH`): the name, where the
    other part is read exactly and the two words together are nearer the split part (at most
    one edit) than either alone, in CAPITALS or Title case as `_word_readings` writes a name.
    The blank is the narrow gap of a monospace face's thin letter (I, l), read as a space
    and the letter lost with it; the recogniser's output decides, as for any span."""
    head, _, tail = span.partition(" ")
    readings = []
    for family, given in expected.names:
        if "^" in tail and tail.split("^")[1].upper() == given:       # `WL SON^SARAH`
            split, whole = (head, tail.split("^")[0]), family
        elif "^" in head and head.split("^")[0].upper() == family:    # `WILSON^SA RH`
            split, whole = (head.split("^")[1], tail), given
        else:
            continue
        joined = "".join(split).upper()
        if edits(joined, whole) <= 1 and edits(joined, whole) < min(edits(part.upper(), whole) for part in split):
            readings += _name_cases(family, given)
    return readings


def _lost_mark_date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The expected dates in the span's layout with its one mark in both of a date's places,
    weighed against the span as read (the recogniser decides whether the character read in
    the other place is the mark)."""
    places = (4, 7) if span[4] in _DATE_SEPARATORS or span[7] in _DATE_SEPARATORS else (2, 5)
    mark = span[places[0]] if span[places[0]] in _DATE_SEPARATORS else span[places[1]]
    return _date_readings(_marked(span, places, mark), expected)


def _lost_marks_date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The header's codes near the span's length (as a code span weighs them) and the
    expected dates with a mark in both of a date's places (day first or year first)."""
    return _code_readings(span, expected) + [
        reading for places in ((2, 5), (4, 7)) for reading in _date_readings(_marked(span, places, "/"), expected)]


def _added_mark_date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The expected dates in the layout of each date the span makes with one of its marks
    dropped, its two groups beside it joined."""
    return [reading for at, mark in enumerate(span) if mark in _DATE_MARKS
            if _DATE_SPAN.fullmatch(joined := span[:at] + span[at + 1:])
            for reading in _date_readings(joined, expected)]


def _slashes_for_ones(span: str, expected: ExpectedWords) -> list[str]:
    """The header's codes and its dates written without separators that the span is, but for
    a `1` read as `/` in each of its slashes (`6576/401` for PatientID 65761401, `2003//23`
    for a birth date 20031123: a thin or italic face's `1` is a slanted stroke)."""
    values = list(expected.codes) + _undivided_dates(expected)
    return [value for value in dict.fromkeys(values) if len(value) == len(span) and all(
        value[i] == ("1" if ch == "/" else ch) for i, ch in enumerate(span))]


def _lost_group_date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The expected dates in the layout of the span with a two-digit group between its two
    marks; and the header values the span is with its slashes read for 1s."""
    marks = re.search(f"{_DATE_MARK}{{2}}", span)
    return (_date_readings(f"{span[:marks.start() + 1]}00{span[marks.end() - 1:]}", expected)
            + _slashes_for_ones(span, expected))


# A day, a month's three letters and a year with one of the date's two marks lost, its
# groups otherwise a date's (`14Amg-1951` for 14-Aug-1951, varied 1459's CR).
_ONE_MARK_NAMED_DATE = re.compile(r"(\d{1,2})([A-Za-z]{3})([-./])(\d{4})|(\d{1,2})([-./])([A-Za-z]{3})(\d{4})")


def _two_group_date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """The expected dates in a three-group layout of the span's mark: day or month first
    (its last group four characters or more), year first (its first so), or with a month's
    name where one of its marks was lost (_ONE_MARK_NAMED_DATE); and the header values the
    span is with its slash read for a 1."""
    ones = _slashes_for_ones(span, expected)
    first, mark, last = re.split(f"({_DATE_MARK})", span, maxsplit=1)
    named = _ONE_MARK_NAMED_DATE.fullmatch(span)
    if named:
        # A month's name with the mark on one side of it lost (`14Amg-1951`): the date's
        # three groups with the span's mark in both places.
        day, month, year = (group for group in named.groups() if group and group not in _DATE_MARKS)
        return _date_readings(f"{day}{mark}{month}{mark}{year}", expected) + ones
    if not 7 <= len(first) + len(last) <= 9 or sum(ch.isalpha() for ch in span) > 1:
        return ones
    layouts = ([f"00{mark}00{mark}0000"] if len(last) >= 4 else []) + (
        [f"0000{mark}00{mark}00"] if len(first) >= 4 else [])
    return [reading for layout in layouts for reading in _date_readings(layout, expected)] + ones


def _marked(span: str, places: tuple[int, int], mark: str) -> str:
    """The span with `mark` in both of a date's mark places."""
    return "".join(mark if i in places else ch for i, ch in enumerate(span))


def _date_readings(span: str, expected: ExpectedWords) -> list[str | tuple[str, str]]:
    """Each expected date in the layout of `span`: the same groups (year first or last, a
    month's name where the span has letters), with the span's own separators or one of
    _DATE_SEPARATORS in both places; a colon beside another mark weighed as read and written
    as that mark (weighed, written)."""
    groups = [m for m in _DATE_GROUPS.finditer(span)]
    if len(groups) != 3 or sum(any(ch.isdigit() for ch in g[0]) for g in groups) < 2:
        return []
    marks = [span[groups[0].end():groups[1].start()], span[groups[1].end():groups[2].start()]]
    # A tilde or an equals sign is a mark misread (no date is written with one): the span's
    # own marks are weighed only without them.
    own = (marks[0], marks[1])
    layouts = ({own} if not set(_MISREAD_MARKS) & set(span) else set()) | {
        (sep, sep) for sep in _DATE_SEPARATORS}
    # A colon beside another mark is that mark misread (`26.02:2017`, `2018-10:06`: a date
    # writes its two marks alike, EXIF's colons too): weighed as read, written with the
    # other mark in both places.
    other = (own[0] + own[1]).replace(":", "")
    alike = other[:1] if ":" in own[0] + own[1] and own[0] != own[1] and other[:1] in _DATE_SEPARATORS else None
    first, middle, last = (g[0] for g in groups)
    # Three characters, two of them letters, are a month's name with a letter read as a
    # digit (`11-0ct-2015`, held-out varied 1277's CT: O read as 0); the digits' month is
    # weighed as well.
    named = middle.isalpha() or (len(middle) == 3 and sum(ch.isalpha() for ch in middle) == 2)
    readings = []
    for day in expected.dates:
        orders = []
        if named:
            month = MONTH_ABBREVIATIONS[day.month - 1]
            # A day of three characters is one with a digit added, as a year of five is.
            orders = [(f"{day.day:0{min(len(first), 2)}d}", written, f"{day.year:04d}") for written in _cases(month.lower())]
        # Two letters in the month's place are a month's name with a letter lost (`Ju`) or
        # its two digits read as letters (`07/BB/2023`): both are weighed.
        if not middle.isalpha() or len(middle) == 2:
            # Three characters are a year with one lost, or a day or month with one added;
            # five, a year with one added (`24/083/1558`, `89/11/29823`: a small face's
            # stroke read twice).
            if len(first) >= 3:
                orders.append((f"{day.year:04d}", f"{day.month:02d}", f"{day.day:02d}"))
            if len(first) <= 3:
                # A year of two digits, or four; three is one of them with a digit lost or
                # added, five the four with one added.
                years = {2: [f"{day.year % 100:02d}"], 4: [f"{day.year:04d}"], 5: [f"{day.year:04d}"]}.get(
                    len(last), [f"{day.year:04d}", f"{day.year % 100:02d}"])
                lead, second = min(len(first), 2), min(len(middle), 2)
                if lead != second:
                    # A date pads its day and month alike: one of one digit beside one of
                    # two lost its zero (`09/6/2024`, `05.5.1961`).
                    lead = second = 2
                orders += [order for year in years for order in (
                    (f"{day.day:0{lead}d}", f"{day.month:0{second}d}", year),
                    (f"{day.month:0{lead}d}", f"{day.day:0{second}d}", year))]
        for a, b, c in orders:
            readings += [(f"{a}{one}{b}{two}{c}", f"{a}{alike}{b}{alike}{c}") if alike and (one, two) == own
                         else f"{a}{one}{b}{two}{c}" for one, two in layouts]
    return readings


# Spans weighed in two rounds: a code, a date, a name or a header word read as two or three
# words first (`AC 13692239`, `430 892 1785`, `1 6/11/1977`, `WILSON MOHAMMED`, `Has ish`),
# then, on what that gave, dates, codes and words.
_JOINED = (((_SPLIT_CODE_SPAN, _split_code_readings), (_GROUPED_CODE_SPAN, _grouped_code_readings),
            (_SPLIT_DATE_SPAN, _split_date_readings), (_GROUPED_DATE_SPAN, _split_date_readings),
            (_SPACED_NAME_SPAN, _spaced_name_readings), (_SPLIT_WORD_SPAN, _split_word_readings),
            (_MARKED_NAME_SPAN, _marked_name_readings),
            (_MARKED_SPLIT_NAME_SPAN, _marked_split_name_readings)),)
_SINGLE = (((_DATE_SPAN, _date_readings), (_COLON_DATE_SPAN, _date_readings),
            (_LOST_MARK_DATE_SPAN, _lost_mark_date_readings), (_LOST_MARKS_DATE_SPAN, _lost_marks_date_readings),
            (_ADDED_MARK_DATE_SPAN, _added_mark_date_readings),
            (_LOST_GROUP_DATE_SPAN, _lost_group_date_readings),
            (_TWO_GROUP_DATE_SPAN, _two_group_date_readings), (_DATE_TIME_SPAN, _date_readings),
            (_RUN_TOGETHER_DATE_TIME_SPAN, _run_together_dates)), ((_CODE_SPAN, _code_readings),),
           ((_WORD_SPAN, _word_readings),))
# A DICOM name whose two parts the rounds above read apart (`THOSE MORE` -> `THOMSON MORAG`).
_SPACED_NAMES = (((_SPACED_NAME_SPAN, _spaced_name_readings),),)


def _never(start: int, end: int) -> bool:
    return False


def expected_spans(text: str, expected: ExpectedWords, kinds=_SINGLE, screen_words: bool = False,
                   written: Callable[[int, int], bool] = _never
                   ) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """The spans of a line's reading that may be header values, each with the values written
    as the span would be (all as likely beforehand); spans already equal to one are left out.
    `kinds` are tiers of (pattern, readings) taken in turn, and a span is weighed once, for
    the first tier that it matches. Spans of one tier that overlap (each pair of
    neighbouring words: `Acc 7478` and `7478 6918`; two words and three: `194 107` and
    `194 107 10`) are taken nearest the header first, by edits between their letters and
    digits and a value's. The screen's own words are left as read unless `screen_words`, or
    where `written(start, end)`: the English word prior wrote the word there, not the
    recogniser (prior_wrote)."""
    found: list[tuple[int, int, list[tuple[str, float]]]] = []
    taken = np.zeros(len(text) + 1, bool)
    for tier in kinds:
        candidates = []
        for pattern, readings_of in tier:
            group = 1 if pattern.groups else 0
            for match in pattern.finditer(text):
                start, end = match.span(group)
                span = match[group]
                if taken[start:end].any() or (span.lower() in SCREEN_WORDS and not screen_words
                                              and not written(start, end)):
                    continue            # the screen's own words (DOB, Ref, ABDOMEN) stay as read
                # (weighed, written): a reading is written as weighed but for two words whose
                # space the recogniser lost, weighed joined and written apart.
                readings = sorted(set(_weighed_and_written(readings_of(span, expected))))
                if not readings:
                    continue
                if any(span == written for _, written in readings):
                    # Read as the header writes it: no later tier weighs a part of it (`May`
                    # of a birth date `18-May-1987` against a name `MARY`).
                    taken[start:end] = True
                    continue
                nearest = min(edits(letters_of(span), letters_of(weighed)) for weighed, _ in readings)
                candidates.append((nearest, start, end, readings))
        kept = []
        for _, start, end, readings in sorted(candidates):
            if not taken[start:end].any():
                taken[start:end] = True
                kept.append((start, end, [(weighed, 0.0, written) for weighed, written in readings]))
        found += sorted(kept)
    return found


def prior_wrote(text: str, steps: list[int], before: tuple[str, list[int]] | None,
                worded: tuple[str, list[int]] | None) -> Callable[[int, int], bool]:
    """Whether the span start..end of `text` (each character's time step in `steps`) is a
    word the English word prior wrote: from the span's first step up to the next
    character's, the line read otherwise before that prior (`before`: text and steps) than
    right after it (`worded`). `RATEL^PRIYA` became `RATE^PRIYA` where
    ReferringPhysicianName is PATEL^PRIYA (extra varied 673's 8 px bitmap face); `rate` is a
    screen word (a frame rate) and a screen word is left as read, but the recogniser did not
    read it. A screen word that the labels' vocabulary wrote (`D0B` -> `DOB`) stays one."""
    if before is None or worded is None or len(before[0]) != len(before[1]) or len(worded[0]) != len(worded[1]):
        return _never

    def over(line: tuple[str, list[int]], first: int, stop: float) -> str:
        return "".join(ch for ch, step in zip(*line) if first <= step < stop)

    def wrote(start: int, end: int) -> bool:
        first = steps[start]
        stop = steps[end] if end < len(steps) else math.inf
        return over(before, first, stop) != over(worded, first, stop)
    return wrote


def before_word_prior(read: tuple[str, list[int]], probs: np.ndarray, index: dict[str, int]
                      ) -> Callable[[int, int], float]:
    """floor for read_again: the log likelihood of the characters of `read` (the line as it
    stood before the English word prior: text and each character's time step) whose steps
    lie in first..last-1."""
    text, steps = read

    def floor(first: int, last: int) -> float:
        labels = [index.get(ch) for ch, step in zip(text, steps) if first <= step < last]
        if not labels or None in labels:
            return -math.inf
        return ctc_log_likelihood(probs[first:last], labels)
    return floor


def mend_expected(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
                  expected: ExpectedWords, before: tuple[str, list[int]] | None = None,
                  worded: tuple[str, list[int]] | None = None) -> tuple[str, list[int]]:
    """The reading with each span read as the header value the recogniser's output finds
    likeliest, where that beats the span as read with the NOT_EXPECTED prior; arguments as
    fields.mend_fields', with the instance's ExpectedWords. `before`: the line (text, steps)
    as it stood before the English word prior (lexicon.mend_words). Where a header value
    would change a span's letters or digits, the span is weighed as read there too, the
    likelier of the two: a word the prior wrote in place of what the recogniser read (`5
    momr` -> `5 more`) is less likely under the output, and a header value must be nearly as
    likely as the recogniser's own reading, not merely as the prior's (`5 more` -> `5
    brown`, a physician's name, on a colour cine's three frames). A value that only writes
    the span's blanks and marks (a caret) is weighed against the span as it stands.
    `worded`: the line right after that prior; with `before`, it tells a screen word the
    prior wrote, which is weighed (prior_wrote)."""
    if not expected or len(steps) != len(text):
        return text, steps
    floor = (before_word_prior(before, probs, index)
             if before is not None and len(before[0]) == len(before[1]) else None)
    # A blank read beside a name's caret (`WIL SON^ SARAH`) is dropped first, as line_text.mend
    # drops it at the end, so that the name's spans are found whole.
    text, steps = replace_spans(text, steps, [(i, i + 1, "") for match in SPACED_CARET.finditer(text)
                                              for i in range(*match.span()) if text[i] == " "])
    # Spans are looked for in base letters (fields.base_letters: `Véctoria`), weighed as read.
    text, steps = replace_spans(text, steps, split_header_words(base_letters(text), expected)
                                + label_code_spans(base_letters(text), expected))
    text, steps = replace_spans(text, steps, marked_carets(base_letters(text), expected))
    text, steps = replace_spans(text, steps, lookalike_code_spans(base_letters(text), expected))
    for kinds in (_JOINED, _SINGLE):
        text, steps = read_again(text, steps, probs, index,
                                 units_first(text, steps, probs, index, expected_spans(
                                     base_letters(text), expected, kinds,
                                     written=prior_wrote(text, steps, before, worded))),
                                 NOT_EXPECTED, floor=floor)
        # A span with its value's words read in place beside it, against the words that fit
        # there, at the lower prior (two neighbours first): after the joined spans (`Ho spiral`
        # -> `Hospital`) and before the single ones, which weigh every header word alike and
        # would take a worse fit (`Western Sedans Hospital` -> `Jane`, where General fits).
        for neighbours in (2, 1):
            text, steps = read_again(text, steps, probs, index,
                                     spans_in_context(base_letters(text), expected, neighbours,
                                                      prior_wrote(text, steps, before, worded)),
                                     NOT_EXPECTED * BY_CHANCE ** neighbours, floor=floor)
    return read_again(text, steps, probs, index, expected_spans(base_letters(text), expected, _SPACED_NAMES),
                      NOT_EXPECTED, floor=floor)


# A word right after a bare number and a blank stands in a unit's place (`5 mm`, `20 Hz`).
_UNIT_PLACE = re.compile(r"(?<![\w\"'^|:.,/-])\d+(?:[.,]\d+)? ([A-Za-z]+)(?![A-Za-z0-9|^])")
_UNIT_READINGS = tuple(sorted({written for unit in UNITS for written in _cases(unit)}))


def units_first(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
                found: list[tuple[int, int, list[tuple[str, float, str]]]]
                ) -> list[tuple[int, int, list[tuple[str, float, str]]]]:
    """found (expected_spans' spans and readings), where a span in a unit's place keeps only
    the header readings likelier than every unit (safe_text.UNITS) under the recogniser's
    output over its time steps. A unit is expected after a number as a header word is
    expected where the screen shows one, so of two readings the recogniser is torn between
    the likelier wins: a small `mm` the recogniser read `momo`, nearer `mm` than any word,
    is no physician's given name MARY (however near MARY is to `momo` under the
    NOT_EXPECTED prior), while a name read beside a number (`Fr 1 SMITH`) is far likelier
    than any unit and is weighed as before."""
    places = {match.start(1): match.end(1) for match in _UNIT_PLACE.finditer(base_letters(text))}
    if not places or len(steps) != len(text):
        return found
    argmax = probs.argmax(axis=1)
    kept = []
    for start, end, readings in found:
        if places.get(start) != end:
            kept.append((start, end, readings))
            continue
        first, last = word_steps(argmax, steps, start, end)
        window = probs[first:last]
        units = [u for u in _UNIT_READINGS if all(c in index for c in u) and len(u) <= window.shape[0]]
        weighed = [r for r in readings if all(c in index for c in r[0]) and len(r[0]) <= window.shape[0]]
        if not units or not weighed:
            kept.append((start, end, readings))
            continue
        best_unit = max(likelihoods(window, index, units))
        likelier = [r for r, ll in zip(weighed, likelihoods(window, index, [r[0] for r in weighed]))
                    if ll > best_unit]
        if likelier:
            kept.append((start, end, likelier))
    return kept


def split_header_words(text: str, expected: ExpectedWords) -> list[tuple[int, int, str]]:
    """(start, end, joined) of each pair of neighbouring words whose letters, the space
    between them taken out, are exactly a header word or a DICOM name FAMILY^GIVEN (`WIL
    SON^AHMED`, `WI LSON^AHMED` where PatientName is `WILSON^AHMED`): a space read inside it,
    where monospace faces give a narrow letter a whole cell; or a DICOM name's letters with
    its caret lost as well (`WILSONCATR IONA`: written with the caret, in capitals where
    read so, else in Title case). Every letter agrees with the header, so no likelihood is
    weighed; two header words stay two (`Raigmore Hospital`, `WILSON CATRIONA`)."""
    names = {f"{family}^{given}" for family, given in expected.names}
    # A name's caret lost as well (`WILSONCATR IONA` where a name is WILSON^CATRIONA).
    caretless = {f"{family}{given}": (family, given) for family, given in expected.names}
    words = set(expected.words)
    changes = []
    for match in _SPLIT_WORD_SPAN.finditer(text):
        start, end = match.span(1)
        first, second = match[1].split(" ")
        joined = first + second
        if first.lower() in words and second.lower() in words:
            continue
        if joined.isalpha() and joined.upper() in caretless:
            joined = _name_as_read(*caretless[joined.upper()], joined)
        elif not ((joined.isalpha() and len(joined) >= MIN_WORD and joined.lower() in words)
                  or joined.upper() in names):
            continue
        if not changes or start >= changes[-1][1]:
            changes.append((start, end, joined))
    return changes


# Two words of letters with a mark or a digit (no letter or caret) and a blank between them,
# the blank on either side of it or both (`THOMSON³ JOHN`, `THOMSON 3 JOHN`).
_MARKED_SPACED_NAME_SPAN = re.compile(r"(?<![A-Za-z0-9^])([A-Za-z]{2,})(?: [^\sA-Za-z^] ?|[^\sA-Za-z^] )([A-Za-z]{2,})(?![A-Za-z0-9^])")


def marked_carets(text: str, expected: ExpectedWords) -> list[tuple[int, int, str]]:
    """(start, end, name) of each DICOM name FAMILY^GIVEN of the header read with its letters
    exact and its caret read as a mark or a digit with a blank beside it (`THOMSON³ JOHN`
    where ReferringPhysicianName is THOMSON^JOHN: a small caret read as a raised three, then
    a blank): written with the caret, in capitals where read so, else in Title case. Every
    letter agrees with the header, so no likelihood is weighed. A mark that a value writes
    between its words (`THOMSON, JOHN`: _VALUE_MARKS) or a comma's look-alike (`THOMSON:
    JOHN`) stays as read, as does a blank alone (`THOMSON JOHN`)."""
    names = set(expected.names)
    changes = []
    for match in _MARKED_SPACED_NAME_SPAN.finditer(text):
        family, given = match[1], match[2]
        mark = match[0][len(family):len(match[0]) - len(given)].strip()
        if mark in _VALUE_MARKS + _COMMA_LOOKALIKES or (family.upper(), given.upper()) not in names:
            continue
        changes.append((*match.span(), _name_as_read(family.upper(), given.upper(), family + given)))
    return changes


# A run of letters and digits, or two with a colon between them: a label run together with
# its value (`ACCRA10517189`, `Acc:RA10517189`).
_LABEL_RUN = re.compile(r"(?<![A-Za-z0-9:])[A-Za-z]{2}[A-Za-z0-9]*(?::[A-Za-z0-9]+)?(?![A-Za-z0-9:])")


def label_code_spans(text: str, expected: ExpectedWords) -> list[tuple[int, int, str]]:
    """(start, end, written) of each screen label (pii/safe_text.VALUE_LABELS, two letters or
    more) run together with a header code that follows it, its blank lost (`ACCRA10517189`
    where AccessionNumber is RA10517189; `ID:7545482287`): written with the blank, after the
    label's colon where it has one. Every character agrees with the header, so no likelihood
    is weighed; a run that is itself a header code stays whole."""
    codes = set(expected.codes)
    out = []
    for match in _LABEL_RUN.finditer(text):
        run = match[0]
        if run in codes:
            continue
        for length in range(2, 5):
            label, rest = run[:length], run[length:]
            colon = rest[:1] if rest.startswith(":") else ""
            if label.isalpha() and label.lower() in VALUE_LABELS and rest[len(colon):] in codes:
                out.append((*match.span(), f"{label}{colon} {rest[len(colon):]}"))
                break
    return out


# Letters whose shape a digit shares, in small and monospace faces: the OCR look-alikes (0
# and D, O or Q, 1 and I, l or a bar, 5 and S), and 8 and B, 2 and Z, 6 and G, which differ
# by a corner or a serif. And one digit (_SLASHED_ZERO): a zero with a slash or a dot
# inside (Terminus, JetBrains Mono, the misc-clean bitmaps; common in terminal and screen
# faces) is an 8 to the recogniser at small sizes: `2828-85-18` for 2020-05-10 (varied
# 1249's CT, 8 px Terminus), `277748185` and `14.84.2817` (extra varied 773's CR, 8 px
# JetBrains Mono). A date read with letters stays as read where the recogniser is sure of
# them (they are weighed, `_date_readings`); a date with 8s for its zeros is written.
_SLASHED_ZERO = {"8": "0"}
_DIGIT_SHAPES = {**DIGIT_LOOKALIKES, "B": "8", "Z": "2", "G": "6", **_SLASHED_ZERO}
_CODE_TOKEN = re.compile(r"[A-Za-z0-9|]+")


def lookalike_code_spans(text: str, expected: ExpectedWords) -> list[tuple[int, int, str]]:
    """(start, end, written) of each run of one to three words (a blank between each) that
    is a header code but for letters read in some of its digits' places, each a letter of
    that digit's shape (_DIGIT_SHAPES: `B25 D27 36D5` where the NHS number is 8250273605,
    held-out varied 1433's palette cine in 10 px FreeMono; `RA3BDB7724` for RA38087724),
    with as many of its digits or more read as themselves: written as the code, its blanks
    where they were read. The recogniser was sure of each letter there, so the header's
    value was never near enough to be weighed in; every other character agrees with the
    header, so no likelihood is weighed (as split_header_words). The header's dates written
    undivided are looked for too, with 8s for their zeros only (_SLASHED_ZERO), and dates
    with marks after the codes (lookalike_date_spans); a run that is itself a header code or
    date is left alone."""
    codes = [code for code in expected.codes if any(ch.isdigit() for ch in code)]
    dates = _undivided_dates(expected)
    if not codes and not dates:
        return []
    tokens = list(_CODE_TOKEN.finditer(text))
    found: list[tuple[int, int, str]] = []
    for first in range(len(tokens)):
        for last in range(min(len(tokens), first + 3) - 1, first - 1, -1):
            run = tokens[first:last + 1]
            if any(b.start() - a.end() != 1 or text[a.end()] != " " for a, b in zip(run, run[1:])):
                continue
            start, end = run[0].start(), run[-1].end()
            if (start and text[start - 1] in "^") or (found and start < found[-1][1]):
                continue
            read = "".join(token[0] for token in run)
            written = None if read in codes or read in dates else next(
                (value for values, shapes in ((codes, _DIGIT_SHAPES), (dates, _SLASHED_ZERO))
                 for value in values if _lookalike_of(read, value, shapes)), None)
            if written is None:
                continue
            found.append((start, end, _in_groups_of(written, text[start:end])))
            break
    return found + lookalike_date_spans(text, expected, found)


def lookalike_date_spans(text: str, expected: ExpectedWords,
                         taken: Sequence[tuple[int, int, str]] = ()) -> list[tuple[int, int, str]]:
    """(start, end, written) of each date span (marks between its groups) that is one of the
    header's dates in the span's own layout and marks but for 8s in some of its zeros' places
    (_SLASHED_ZERO: `2828-85-18` for 2020-05-10), outside the `taken` spans: written as that
    date, unweighed, as a look-alike code is."""
    found: list[tuple[int, int, str]] = []
    for match in _DATE_SPAN.finditer(text):
        start, end = match.span()
        span = match[0]
        if any(start < b and a < end for a, b, _ in taken) or not any(ch.isdigit() for ch in span):
            continue
        # A colon beside another mark is compared as read, written alike.
        readings = _weighed_and_written(_date_readings(span, expected))
        if any(span == weighed for weighed, _ in readings):
            continue
        written = next((written for weighed, written in readings
                        if _lookalike_of(span, weighed, _SLASHED_ZERO)), None)
        if written is not None:
            found.append((start, end, written))
    return found


def _weighed_and_written(readings: Iterable[str | tuple[str, str]]) -> list[tuple[str, str]]:
    """Readings as (weighed, written) pairs: a plain reading is written as it is weighed."""
    return [(r, r) if isinstance(r, str) else r for r in readings]


def _lookalike_of(read: str, code: str, shapes: dict[str, str] = _DIGIT_SHAPES) -> bool:
    """Is `read` the header `code` with a character of its digit's shape (`shapes`) in one or
    more of the code's digits' places, and at least as many of its digits read as themselves?"""
    if len(read) != len(code) or read == code:
        return False
    shaped = same = 0
    for ch, value in zip(read, code):
        if ch == value:
            same += value.isdigit()
        elif value.isdigit() and shapes.get(ch) == value:
            shaped += 1
        else:
            return False
    return 0 < shaped <= same


def _neighbours(words: list[tuple[int, int, str]], text: str, start: int, end: int
                ) -> tuple[list[str], list[str]]:
    """The words read before and after text[start:end] that run up to it with only blanks
    or _BETWEEN marks between each and the next, in their order, lower case."""
    before: list[str] = []
    at = start
    for first, last, word in reversed([w for w in words if w[1] <= start]):
        if text[last:at].strip(_BETWEEN):
            break
        before.insert(0, word)
        at = first
    after: list[str] = []
    at = end
    for first, last, word in (w for w in words if w[0] >= end):
        if text[at:first].strip(_BETWEEN):
            break
        after.append(word)
        at = last
    return before, after


def _in_place(word: str, before: list[str], after: list[str], expected: ExpectedWords) -> int:
    """How many of the words of a header value holding `word` stand in their place beside
    it: 2 for both neighbours of a value's three words or more, or two before or after it
    (`Aberdeen Royal` before a misread `Infirmary`), 1 for a pair's neighbour, else 0."""
    for run in expected.runs:
        for i, value_word in enumerate(run):
            if value_word != word:
                continue
            left, right = list(run[max(0, i - 2):i]), list(run[i + 1:i + 3])
            if ((before[-1:] == left[-1:] != [] and after[:1] == right[:1] != [])
                    or (len(left) == 2 and before[-2:] == left) or (len(right) == 2 and after[:2] == right)):
                return 2
    pairs = set(expected.pairs)
    return int(bool((before and (before[-1], word) in pairs) or (after and (word, after[0]) in pairs)))


def _value_word_readings(span: str, expected: ExpectedWords) -> list[str]:
    """The header words of the length of a span's two words joined, give or take
    LENGTH_SLACK letters, however far their letters are from the span's: a word of a value
    read as two garbled words (`Life rimsry` for Infirmary, held-out varied 1163's 7 px
    magenta interlaced frame), for spans_in_context, which keeps only the word with two of
    its value's words in place beside the span. Not where either word is a header word, or a
    name's caret is among them, or a screen word stands first as a label (as
    _split_word_readings)."""
    words = None if "^" in span else _apart(span, expected)
    if words is None:
        return []
    first, second = words
    return [written for w in expected.words
            if len(w) >= MIN_WORD and abs(len(w) - len(first) - len(second)) <= LENGTH_SLACK
            for written in _cases(w)]


# A value's word read as two words, weighed beside two of its value's words before the
# single words, which would otherwise take each half alone. Beside one (`HAM SH` before
# MACDONALD) the split-word round's nearness alone decides.
_SPLIT_IN_CONTEXT = (((_SPLIT_WORD_SPAN, _value_word_readings),),)


def spans_in_context(text: str, expected: ExpectedWords, neighbours: int = 1,
                     written: Callable[[int, int], bool] = _never
                     ) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """The word and code spans still weighed against header words, each with only the
    words at least `neighbours` of whose own neighbours in their header value stand beside
    the span as read (_in_place: `Hcspiul` after `General` where InstitutionName is `Western
    General Hospital`, 1; `Westem` before `General Hospital`, 2; `THIN9IN` after `DAVID`
    where PatientName is `THOMSON^DAVID`, 1); with two in place, two words read for one of
    a value's words first (`Aberdeen Royal Life rimsry`). `written`: as expected_spans'."""
    if not expected.pairs:
        return []
    words = [(m.start(), m.end(), m[0].lower()) for m in _LETTERS.finditer(text)]
    out = []
    taken = np.zeros(len(text) + 1, bool)
    # A screen word with two of a value's words in place beside it is weighed too (`Water
    # General Hospital` for Western General Hospital, held-out varied 577 and 599: `water` is
    # an MR word); beside one, a label stays (`Ref` before a family name).
    for kinds in ((_SPLIT_IN_CONTEXT, _SINGLE) if neighbours >= 2 else (_SINGLE,)):
        for start, end, readings in expected_spans(text, expected, kinds, screen_words=neighbours >= 2,
                                                   written=written):
            if taken[start:end].any():
                continue
            before, after = _neighbours(words, text, start, end)
            kept = [(weighed, prior, written) for weighed, prior, written in readings
                    if written.isalpha() and _in_place(written.lower(), before, after, expected) >= neighbours]
            if kept:
                taken[start:end] = True
                out.append((start, end, kept))
    return sorted(out)
