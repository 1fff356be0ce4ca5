"""Fields whose form is known, read as the likeliest reading of that form.

Two fields of burned-in text admit only certain readings, whatever the font:
- the month of a date written day-month-year (`03-Oct-1947`) is one of twelve names;
- an NHS or CHI number (10 digits after an `NHS` or `CHI` label, spaced 3-3-4 or not)
  ends in a modulus-11 check digit over the other nine.

When the recogniser's greedy reading of such a field is not of its form (`03-Od-1947`,
`04-Jut-2025`, `NHS 4910665438` whose check digit fails), the field is read again from the
recogniser's own output: each reading of the form is scored by its CTC likelihood over the
field's time steps (lexicon.ctc_log_likelihood), and the likeliest is kept. Every month is
as likely as another beforehand, so the choice is the recogniser's alone. For a number, the
candidates are the valid numbers one digit away (a 10-digit number has at most one valid
digit per place), so a misread digit is put back where the model was least sure of it.
A reading not of its form keeps a small prior of its own (UNFORMED: test data is typed
without check digits), so one the recogniser was sure of stays as read. A field already of
its form is never touched, nor is a number under another label (`ID:`, `Acc`: hospital
numbers have no check digit). fixups.month_names, which works on the text alone, runs after
this in the engine's mend: it covers dates written with blanks (`12 Dee 2020`) and the
engine run with `lexicon=False`.

Three more forms are of the same kind:
- an NHS or CHI number is spaced 3-3-4 or not at all: `710178 3627` is not of the form, and
  is read again as the likelier of `710 178 3627` and `7101783627`; so is one with a full
  stop or comma read in a blank's place (`855.100 1264`);
- a numeric date keeps one separator: `13 02.2020`, `0907/2018` and `05.101935` are read
  again as the likeliest of the date with that separator in both places (`13.02.2020`);
- a DICOM person name is `FAMILY^GIVEN`. The recogniser's alphabet barely knows the caret
  (its probability is 1e-2 to 1e-4 where one stands), so a name in capitals often comes out
  as one unlisted word: the caret read as a letter (`FERGUSONNELIZABETH`), or dropped, or
  merged with the letter after it (`STEWARTHAIN`). `mend_names` reads such a word again as
  the likeliest `FAMILY^GIVEN` whose given name is a known name or English word of three
  letters or more, with the caret in place of a letter or between two, and the given name
  as read or one letter changed. The CTC likelihood must find a caret's trace where the
  caret goes: a word whose letters the recogniser was sure of stays as read. It runs before
  the word prior (lexicon.mend_words), which then mends each part on its own;
- a plain name is GIVEN FAMILY: a word of capitals or in CamelCase that is no listed word
  and starts with a known given name (`DAVIDWILSON`, `DavidStewart`) is also read as the
  name with a space after the given name, where the output holds a space's trace.

And the calendar and the clock are forms too:
- a numeric date with separators is a day of the calendar (day-month-year, month-day-year or
  year-month-day, 1900-2099), a time hh:mm(:ss) a time of day, and the day before a month's
  name 1-31. One that is not (`2024-86-18`, `21.84.2022`, `12:46:69`, `84-Sep-2002`: small
  faces read 0 as 8 and 5 as 6) is read again as the likeliest real one with one or two of
  its day, month or clock digits changed. A date written without separators is left alone:
  eight digits may be an accession number;
- a letter or mark read in a digit's place in a date, a time or an NHS/CHI number
  (`1B/11/1957`, `07:0%:28`, `CHI 220444E150`), one or two of them and a digit in each of the
  field's groups, is read again as the likeliest digit that makes the field real (a number's
  check digit holding, where any reading has one).
The readings of one length are weighed side by side (lexicon.likelihoods), so the hundreds
of real dates two digits away cost one pass over the time steps.
"""
from __future__ import annotations

import datetime
import itertools
import math
import re
import unicodedata
from typing import Callable

import numpy as np

from ..pii.given_names import GIVEN_NAMES
from ..pii.rules import mod11_ok
from .fixups import MONTH_ABBREVIATIONS
from .lexicon import Lexicon, ctc_log_likelihood, likelihoods, replace_spans, word_steps

# Right after a label's colon with no blank (`DOB:18/01/1944`): where a field may start
# though a colon stands before it (ocr/expected.py's header dates too).
AFTER_LABEL_COLON = r"(?<=[A-Za-z]:)"
# A field starts a word, or follows a label's colon, but no other mark: not a time's colon,
# a date's or a number's own.
_START = rf"(?:(?<![\w.:/-])|{AFTER_LABEL_COLON})"
# day, separator, month token (2-4 characters, a letter among them; digits and marks read in
# a letter's place too: `21-]an-2024`, `08-jµl-2024`), separator, year.
_DATE = re.compile(_START + r"(\d{1,2})(-)((?=[A-Za-z0-9|\[\]µ]*[A-Za-z])[A-Za-z0-9|\[\]µ]{2,4})(-?)((?:19|20)\d{2})(?!\d)")
# NHS / CHI, an optional "No" or "Number", an optional ':' or '#', the 10 digits.
# Between its groups a blank, or a full stop or comma read in a blank's place (`NHS
# 855.100 1264`, `959.9812948`: a small face's blank beside a speck of JPEG).
_LABELLED_NUMBER = re.compile(r"\b(?:NHS|CHI)(?: ?(?:No|Number)\.?)? ?[:#]? ?(\d{3}[ .,]?\d{3}[ .,]?\d{4}|\d{10})(?!\d)")
_NUMBER_MARKS = re.compile(r"[ .,]")
# The two spacings of such a number.
_SPACED_334 = re.compile(r"\d{3} \d{3} \d{4}|\d{10}")
# A numeric date, day first (13.02.2020) or year first (2020-02-13), each separator one of
# . - / or a blank read in its place, or none.
_NUMERIC_DATE = re.compile(_START + r"(?:(\d{2})([ .\-/]?)(\d{2})([ .\-/]?)((?:19|20)\d{2})"
                           r"|((?:19|20)\d{2})([ .\-/]?)(\d{2})([ .\-/]?)(\d{2}))(?![\w.:/-])")
_DATE_SEPARATORS = ".-/"
# A clock time, hh:mm or hh:mm:ss.
_TIME = re.compile(_START + r"\d{2}:\d{2}(?::\d{2})?(?![\w.:/-])")
# Digits a date or time that is no real one is read again in: one or two digits misread.
CALENDAR_EDITS = 2
# A character read in a digit's place in a date, a time or an NHS/CHI number: a letter or a
# mark (`1B/11/1957`, `07:0%:28`, `CHI 220444E150`). A field with one or two of them, and a
# digit in each of its groups, is read again as the likeliest field of its form.
_LOOK = "[0-9A-Za-z%|]"
LOOKALIKES_AT_MOST = 2
_LOOKALIKE_FIELDS = (
    ("date", re.compile(rf"{_START}(?:{_LOOK}{{2}}([.\-/]){_LOOK}{{2}}\1{_LOOK}{{4}}"
                        rf"|{_LOOK}{{4}}([.\-/]){_LOOK}{{2}}\2{_LOOK}{{2}})(?![\w.:/-])")),
    ("time", re.compile(rf"{_START}{_LOOK}{{2}}:{_LOOK}{{2}}(?::{_LOOK}{{2}})?(?![\w.:/-])")),
    ("number", re.compile(rf"\b(?:NHS|CHI)(?: ?(?:No|Number)\.?)? ?[:#]? ?"
                          rf"({_LOOK}{{3}} {_LOOK}{{3}} {_LOOK}{{4}}|{_LOOK}{{10}})(?![0-9A-Za-z])")),
)
# A word of capitals that may be a DICOM name whose caret was misread (FAMILY^GIVEN).
_CAPITAL_RUN = re.compile(r"(?<![A-Za-z^])[A-Z]{5,}(?![A-Za-z^])")
# Two capitalised words run together (`DavidStewart`), as a plain name whose space was dropped.
_CAMEL_CASE = re.compile(r"(?<![A-Za-z^])[A-Z][a-z]{3,}[A-Z][a-z]+(?![A-Za-z^])")
NAME_MIN_FAMILY = 2       # letters of the family name (Li, Ng, Doe)
NAME_MIN_GIVEN = 3        # letters of the given name (Ian, Ali, Eve)
# A month as dates write it in 2-4 letters: the abbreviations, and June, July, Sept whole.
_MONTHS = {month.lower() for month in MONTH_ABBREVIATIONS} | {"june", "july", "sept"}
# The prior share of such fields shown on screen that are not of their form (a number typed
# into a demo system without its check digit): a greedy reading that the recogniser was sure
# of (the best reading of the form under 1/10,000 as likely) is kept.
UNFORMED = 1e-4


def _spacings(digits: str) -> list[str]:
    """A 10-digit number in its two forms: spaced 3-3-4, and in one run."""
    return [f"{digits[:3]} {digits[3:6]} {digits[6:]}", digits]


def _check_digit_fixes(number: str) -> list[str]:
    """The valid numbers one digit away from `number` (spaces kept where they are)."""
    places = [i for i, ch in enumerate(number) if ch.isdigit()]
    return _digit_variants(number, places, lambda candidate: mod11_ok(candidate.replace(" ", "")),
                           edits=1)


def _month_readings(token: str) -> list[str]:
    """The twelve month names written as the token was (Title, CAPITALS or lower)."""
    if token.isupper():
        return [m.upper() for m in MONTH_ABBREVIATIONS]
    if token[:1].islower():
        return [m.lower() for m in MONTH_ABBREVIATIONS]
    return list(MONTH_ABBREVIATIONS)


def _date_readings(parts: tuple[str, str, str, str, str]) -> list[str]:
    """The date written with each separator it shows (a blank aside) in both places, or
    with every separator and none when it shows only blanks; [] when it is already of its
    form (one separator twice, or none at all)."""
    first, sep1, middle, sep2, last = parts
    if sep1 == sep2 and sep1 != " ":
        return []
    shown = ({sep for sep in (sep1, sep2) if sep and sep in _DATE_SEPARATORS}
             or {"", *_DATE_SEPARATORS})
    return [f"{first}{sep}{middle}{sep}{last}" for sep in sorted(shown)]


def _real_date(year: int, month: int, day: int) -> bool:
    try:
        datetime.date(year, month, day)
    except ValueError:
        return False
    return True


def _calendar_date(reading: str, day_first: bool) -> bool:
    """Whether a numeric date (8 digits and its separators) is a day of the calendar: day,
    month, year or, day first, month, day, year too (`12/25/2020`); or year, month, day."""
    digits = re.sub(r"\D", "", reading)
    if day_first:
        first, second, year = int(digits[:2]), int(digits[2:4]), int(digits[4:])
        return _real_date(year, second, first) or _real_date(year, first, second)
    return _real_date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))


def _clock_time(reading: str) -> bool:
    """Whether hh:mm or hh:mm:ss is a time of day."""
    hours, *rest = (int(part) for part in reading.split(":"))
    return hours < 24 and all(part < 60 for part in rest)


def _with_digits(field: str, places: tuple[int, ...] | list[int], digits: tuple[str, ...]) -> str:
    """The field with the given digits written at the given places."""
    chars = list(field)
    for place, digit in zip(places, digits):
        chars[place] = digit
    return "".join(chars)


def _digit_variants(reading: str, places: list[int], real: Callable[[str], bool],
                    edits: int = CALENDAR_EDITS) -> list[str]:
    """The readings that are `real`, with one to `edits` of the digits at `places` changed."""
    out = []
    for count in range(1, edits + 1):
        for chosen in itertools.combinations(places, count):
            choices = ["0123456789".replace(reading[place], "") for place in chosen]
            out.extend(candidate for digits in itertools.product(*choices)
                       if real(candidate := _with_digits(reading, chosen, digits)))
    return out


def _numeric_date_readings(parts: tuple[str, str, str, str, str], day_first: bool) -> list[str]:
    """The readings of a numeric date of its form (_date_readings) that are days of the
    calendar: each of them that is not (`2024-86-18`, `21.84.2022`) read again with one or
    two digits of its day and month changed. A date written without separators is a
    number like any other (an accession number may start 2015) and is left to its
    separators alone. [] when the date is of its form and real."""
    as_read = "".join(parts)
    out = []
    for reading in _date_readings(parts) or [as_read]:
        if not (parts[1] or parts[3]) or _calendar_date(reading, day_first):
            out.append(reading)
            continue
        digit_places = [i for i, ch in enumerate(reading) if ch.isdigit()]
        day_and_month = digit_places[:4] if day_first else digit_places[4:]
        out.extend(_digit_variants(reading, day_and_month,
                                   lambda candidate: _calendar_date(candidate, day_first)))
    return [] if out == [as_read] else out


def _real_field(kind: str, field: str) -> bool:
    """Whether a field of digits is a real one of its kind: a day of the calendar between
    1900 and 2099, a time of day, an NHS/CHI number whose check digit holds."""
    if kind == "date":
        year = field[:4] if field[4] in ".-/" else field[-4:]
        return year[:2] in ("19", "20") and _calendar_date(field, day_first=field[4] not in ".-/")
    if kind == "time":
        return _clock_time(field)
    return mod11_ok(field.replace(" ", ""))


def _lookalike_readings(kind: str, field: str) -> list[str]:
    """The real fields of the kind with each letter or mark that stands in a digit's place
    read as a digit; [] when the field has none, more than LOOKALIKES_AT_MOST, or a group
    without a digit (`Im:45`, `AB-CD-2020` are no such fields). An NHS/CHI number none of whose
    readings has a valid check digit keeps them all (demo data is typed without one)."""
    places = [i for i, ch in enumerate(field) if not ch.isdigit() and ch not in ".-/: "]
    if not 1 <= len(places) <= LOOKALIKES_AT_MOST:
        return []
    if not all(any(ch.isdigit() for ch in group) for group in re.split(r"[.\-/: ]", field)):
        return []
    readings = [_with_digits(field, places, digits)
                for digits in itertools.product("0123456789", repeat=len(places))]
    real = [reading for reading in readings if _real_field(kind, reading)]
    return real if real or kind != "number" else readings


def _fields(text: str) -> list[tuple[int, int, list[str]]]:
    """Each field not of its form: (start, end, the readings of its form, all as likely
    beforehand)."""
    found = []
    for match in _DATE.finditer(text):
        if match[3].lower() not in _MONTHS:
            found.append((match.start(3), match.end(3), _month_readings(match[3])))
        if not 1 <= int(match[1]) <= 31:
            found.append((match.start(1), match.end(1),
                          _digit_variants(match[1], list(range(len(match[1]))),
                                          lambda day: 1 <= int(day) <= 31)))
    for match in _LABELLED_NUMBER.finditer(text):
        number = match[1]
        digits = _NUMBER_MARKS.sub("", number)
        if not mod11_ok(digits):
            if "." in number or "," in number:      # each valid number near it, in both spacings
                found.append((match.start(1), match.end(1),
                              [written for fixed in _check_digit_fixes(digits) for written in _spacings(fixed)]))
            else:
                found.append((match.start(1), match.end(1), _check_digit_fixes(number)))
        elif not _SPACED_334.fullmatch(number):
            found.append((match.start(1), match.end(1), _spacings(digits)))
    for match in _NUMERIC_DATE.finditer(text):
        day_first = bool(match[1])
        parts = match.groups()[:5] if day_first else match.groups()[5:]
        readings = _numeric_date_readings(parts, day_first)
        if readings:
            found.append((match.start(), match.end(), readings))
    for match in _TIME.finditer(text):
        if not _clock_time(match[0]):
            places = [i for i, ch in enumerate(match[0]) if ch.isdigit()]
            found.append((match.start(), match.end(), _digit_variants(match[0], places, _clock_time)))
    for kind, pattern in _LOOKALIKE_FIELDS:
        for match in pattern.finditer(text):
            group = 1 if kind == "number" else 0
            readings = _lookalike_readings(kind, match[group])
            if readings:
                found.append((match.start(group), match.end(group), readings))
    return found


def _substitutions(word: str) -> set[str]:
    """The word and every word one letter changed from it (lower case)."""
    out = {word}
    for i in range(len(word)):
        out.update(word[:i] + c + word[i + 1:] for c in "abcdefghijklmnopqrstuvwxyz")
    return out


def _name_readings(word: str, lexicon: Lexicon) -> list[tuple[str, float]]:
    """FAMILY^GIVEN readings of a word of capitals: the caret in place of one of its
    letters or between two, the given name as read or one letter changed, and a known given
    name or a listed word (NAME_MIN_GIVEN letters or more); each with the log frequency of
    its two names (lexicon.unknown for one not listed), which ranks them, not the form."""
    lower = word.lower()
    givens: dict[str, set[str]] = {}
    for cut in range(NAME_MIN_FAMILY, len(lower)):
        for rest in {lower[cut + 1:], lower[cut:]}:
            if len(rest) >= NAME_MIN_GIVEN:
                givens.setdefault(rest, set()).add(lower[:cut])
    variants = sorted({v for rest in givens for v in _substitutions(rest)})
    known = {v for v, prior in zip(variants, lexicon.priors(variants))
             if v in GIVEN_NAMES or (len(v) >= NAME_MIN_GIVEN and not math.isnan(prior))}
    readings = {}
    for rest, families in givens.items():
        for given in _substitutions(rest) & known:
            for family in families:
                readings[f"{family}^{given}".upper()] = _two_names_prior(family, given, lexicon)
    readings.update(_plain_name_readings(word, lexicon))
    return sorted(readings.items())


def _plain_name_readings(word: str, lexicon: Lexicon) -> dict[str, float]:
    """GIVEN FAMILY readings of a word whose space the recogniser dropped (`DAVIDWILSON`,
    `DavidStewart`), or read as a letter in capitals (`MOHAMMEDEMURRAY`, extra varied 617's
    endoscopy frame, as _name_readings weighs a caret read as a letter): a known given name
    as read, a space, then a family name of NAME_MIN_FAMILY letters or more; in CamelCase
    only at the capital inside the word. Each with the log frequency of its two names
    (_two_names_prior), as _name_readings'."""
    lower = word.lower()
    if word.isupper():
        cuts = [(cut, rest) for cut in range(4, len(word) - NAME_MIN_FAMILY + 1)
                for rest in (cut, cut + 1) if len(word) - rest >= NAME_MIN_FAMILY]
    else:
        cuts = [(i, i) for i in range(4, len(word) - NAME_MIN_FAMILY + 1) if word[i].isupper()]
    readings = {}
    for cut, rest in cuts:
        given, family = lower[:cut], lower[rest:]
        if given in GIVEN_NAMES:
            readings[f"{word[:cut]} {word[rest:]}"] = _two_names_prior(given, family, lexicon)
    return readings


def _two_names_prior(first: str, second: str, lexicon: Lexicon) -> float:
    """The log frequency of two names together (lexicon.unknown for one not listed)."""
    return float(sum(lexicon.unknown if math.isnan(p) else p for p in lexicon.priors([first, second])))


def _names(text: str, lexicon: Lexicon) -> list[tuple[int, int, list[tuple[str, float]]]]:
    """Each word of capitals that is neither a listed word nor a given name, with its
    FAMILY^GIVEN and GIVEN FAMILY readings, and each CamelCase word that is not listed
    (`DavidStewart`), with its GIVEN FAMILY reading."""
    found = []
    for match in _CAPITAL_RUN.finditer(text):
        lower = match[0].lower()
        if lower in GIVEN_NAMES or lower in lexicon:
            continue
        readings = _name_readings(match[0], lexicon)
        if readings:
            found.append((match.start(), match.end(), readings))
    for match in _CAMEL_CASE.finditer(text):
        if match[0].lower() in lexicon:
            continue
        readings = sorted(_plain_name_readings(match[0], lexicon).items())
        if readings:
            found.append((match.start(), match.end(), readings))
    return found


def letters_of(text: str) -> str:
    """text's letters and digits, lower case (what a reading says, its blanks and marks
    aside)."""
    return "".join(ch for ch in text.lower() if ch.isalnum())


def read_again(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
               found: list[tuple[int, int, list[tuple[str, float] | tuple[str, float, str]]]],
               unformed: float = UNFORMED, prior_counts: bool = False,
               floor: Callable[[int, int], float] | None = None) -> tuple[str, list[int]]:
    """text with each found span (start, end, readings) read as its likeliest reading of the
    form, where that beats the span as read with the `unformed` prior. Readings are (string,
    log prior): the prior ranks the readings of the form against each other; whether the
    span is of the form at all is the recogniser's likelihood and `unformed` alone, or, with
    prior_counts, the likeliest reading's likelihood and prior together (a reading that is
    one of many words of its kind is less likely beforehand than the kind). A reading
    may carry a third member, the text written in the span's place when it wins (two words
    whose space the recogniser lost are weighed joined, as it read them, and written apart).
    floor(first, last), where given: a log likelihood of the span's time steps under which
    the span as read is never weighed (the reading an earlier step replaced), where the
    reading would change its letters or digits: one that only writes the span's blanks and
    marks otherwise (`PATEL PRIYA` -> `PATEL^PRIYA`) is weighed as before."""
    if len(steps) != len(text) or not found:
        return text, steps
    argmax = probs.argmax(axis=1)
    changes = []
    for start, end, readings in found:
        first, last = word_steps(argmax, steps, start, end)
        window = probs[first:last]
        if any(c not in index for c in text[start:end]):
            continue
        weighed = [(reading[0], reading[1], reading[2] if len(reading) > 2 else reading[0])
                   for reading in readings
                   if all(c in index for c in reading[0]) and window.shape[0] >= len(reading[0])]
        if not weighed:
            continue
        scored = [(likelihood + prior, likelihood, written) for (_, prior, written), likelihood
                  in zip(weighed, likelihoods(window, index, [r for r, _, _ in weighed]))]
        best, likeliest, written = max(scored)
        if prior_counts:
            likeliest = best
        kept = ctc_log_likelihood(window, [index[c] for c in text[start:end]])
        if floor is not None and letters_of(written) != letters_of(text[start:end]):
            kept = max(kept, floor(first, last))
        if likeliest + math.log1p(-unformed) > kept + math.log(unformed):
            changes.append((start, end, written))
    return replace_spans(text, steps, changes)


# A Latin letter that Unicode writes as its base letter with a mark it does not decompose
# (`ø` LATIN SMALL LETTER O WITH STROKE, `ł`, `đ`, `ħ`; `ı` DOTLESS I).
_MARKED_LETTER = re.compile(r"LATIN (SMALL|CAPITAL) LETTER (?:DOTLESS )?([A-Z])(?: WITH .*)?$")


def base_letter(ch: str) -> str:
    """The base letter of an accented or marked Latin letter (`é` -> `e`, `ø` -> `o`,
    `Ł` -> `L`); any other character as it is. The recogniser's alphabet is multilingual,
    and on an English-language screen its marked letters are the plain ones misread (a
    blurred small `i`'s dot read as an acute accent, a speck across an `o` as a stroke)."""
    if ch.isascii():
        return ch
    base = [c for c in unicodedata.normalize("NFKD", ch) if not unicodedata.combining(c)]
    if len(base) == 1 and base[0].isascii() and base[0].isalpha():
        return base[0]
    match = _MARKED_LETTER.match(unicodedata.name(ch, ""))
    if not match:
        return ch
    return match[2] if match[1] == "CAPITAL" else match[2].lower()


def base_letters(text: str) -> str:
    """text with each accented or marked Latin letter written as its base letter, one
    character for one (`Véctoria` -> `Vectoria`, `Høspill` -> `Hospill`): the spans of a
    form are looked for in these, while the span as read is weighed in the recogniser's own
    letters. line_text.mend folds them only after the forms are read."""
    if text.isascii():
        return text
    return "".join(map(base_letter, text))


def mend_fields(text: str, steps: list[int], probs: np.ndarray,
                index: dict[str, int]) -> tuple[str, list[int]]:
    """The reading with each field that is not of its form (a date's month, a numeric date's
    separators, an NHS or CHI number's check digit or spacing) read as the likeliest reading
    that is, and each character's time step (a replaced field's spread over the old one's).
    text and steps: the greedy CTC reading of one line and each character's time step;
    probs: the recogniser's output (steps x classes); index: each character's class."""
    found = [(start, end, [(reading, 0.0) for reading in readings])
             for start, end, readings in _fields(base_letters(text))]      # all as likely beforehand
    return read_again(text, steps, probs, index, found)


def mend_names(text: str, steps: list[int], probs: np.ndarray, index: dict[str, int],
               lexicon: Lexicon) -> tuple[str, list[int]]:
    """The reading with each word of capitals that is no word nor name read as the
    likeliest FAMILY^GIVEN name where the recogniser's output holds a caret's trace
    (`FERGUSONNELIZABETH` -> `FERGUSON^ELIZABETH`); arguments as mend_fields'."""
    if len(steps) != len(text):
        return text, steps
    return read_again(text, steps, probs, index, _names(text, lexicon))
