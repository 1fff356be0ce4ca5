"""Rules that find identifiers in OCR'd text without NER: dates, ID numbers, DICOM-style
names, and the instance's own header values.

Every finder takes the image's whole text and returns Hits: character spans into that text
with the rule that fired, so pii/judge.py can map them back to the OCR boxes. All regexes are
compiled once at import; header values are prepared once per distinct identifier tuple
(an LRU cache), so judging an image costs a few regex scans.

Choices, and why:
- Dates: any common format with a plausible day, month and year (years 1880-2100, or two
  digits). Bare 8-digit runs count when they read as YYYYMMDD / DDMMYYYY / MMDDYYYY.
  Two-part forms ("3/4", "1/45") and times ("12:30:45") are not dates.
- Digit runs of 6 or more digits are identifiers. Acquisition parameters stay below that:
  kVp <= 150, mAs in the hundreds, TR/TE/TI and matrix sizes <= 5 digits, and "512x512" is
  two runs of 3. Hospital numbers, MRNs and accession numbers are 6-12 digits, and a bare
  6-digit number on an image is far more often an ID (or a DDMMYY date) than anything else.
  Runs inside decimals ("0.000001") and dotted UIDs' middles are not counted as runs.
- NHS numbers (10 digits, 3-3-4 spacing allowed) and CHI numbers (DDMMYY + 4 digits) need
  a valid mod-11 check digit (and for CHI a valid date part), so that a spaced
  "123 456 7890" is not an NHS number.
- DICOM-style names: two alphabetic parts joined by `^` or what OCR reads it as (tesseract
  gives a curly quote), e.g. DOE^JOHN, DOE“JOHN: NER does not see these as names.
- A title before a capitalised word ("Dr Lee", "MR A PATEL") is a name.
- Letters that OCR reads for digits (O, l, I, |, S) are put back where they touch digits
  before looking for dates and numbers ("24-MAY-O2").
- Street addresses ("12 High Street") and UK postcodes ("DD1 9SY") identify a home.
- Common given names (given_names.py) catch all-caps names without a separator
  ("SARAH CONNOR"), which the small spaCy model does not tag.
- Header values are matched tolerantly: case and punctuation ignored, `^` and quotes read
  as spaces, and 0/O, 1/l/I/|, 5/S confusions folded; a match must start and end on a word
  boundary so a short value does not match inside a longer number.
"""
from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date
from functools import lru_cache

from ..ocr.confusions import TEXT_CARETS, digit_shadow, fold
from .given_names import is_given_name
from .safe_text import LABEL_WORDS, SAFE_WORDS


@dataclass(frozen=True)
class RuleParams:
    """How tolerantly the instance's own header values are matched in OCR'd text (defaults:
    today's values, set on the bench/score_scan.py corpora and tests/test_pii_rules.py; sweep
    one with bench/sweep.py, e.g. `--set rules.gap_every=2,3,4`)."""

    min_id: int = 4
    """An ID-like header value is sought only from this many characters on: shorter IDs
    ("1", "12", "123") match slice and series numbers."""

    min_date: int = 5
    """A header date is sought in its written forms from this many folded characters on."""

    min_name_part: int = 2
    """A name part is sought from this many letters on ("JO", "Al" only as a capitalised
    word)."""

    min_org: int = 4
    """An institution (or its distinctive words) from this many characters on."""

    gap_every: int = 3
    """One skipped character of the text (OCR's stray mark or split) is allowed per this
    many characters of a value beyond the first two: (n - 2) // gap_every. Lower
    tolerates more OCR noise inside a value, and matches more unrelated text."""

    name_letter_share: float = 0.5
    """A name value matches only where at least this share of the matched characters are
    letters in the text, so "J0HN" in the folded text is not matched inside a number."""


RULES = RuleParams()


@dataclass(frozen=True)
class Hit:
    """A rule match: text[start:end] is identifying for the reason `rule` (+ detail)."""

    start: int
    end: int
    rule: str            # "date", "id", "nhs", "chi", "uid", "dicom-name", "given-name", "titled-name",
                         # "address", "postcode", "header:<Keyword>"
    text: str

    @property
    def reason(self) -> str:
        return f"{self.rule} {self.text!r}"


# --------------------------------------------------------------------------- dates

_MONTHS = {
    "jan": 1, "january": 1, "feb": 2, "february": 2, "mar": 3, "march": 3, "apr": 4, "april": 4,
    "may": 5, "jun": 6, "june": 6, "jul": 7, "july": 7, "aug": 8, "august": 8, "sep": 9,
    "sept": 9, "september": 9, "oct": 10, "october": 10, "nov": 11, "november": 11,
    "dec": 12, "december": 12,
}
_MON = (r"(?P<mon>jan(?:uary)?|feb(?:ruary)?|mar(?:ch)?|apr(?:il)?|may|june?|july?|aug(?:ust)?"
        r"|sep(?:t(?:ember)?)?|oct(?:ober)?|nov(?:ember)?|dec(?:ember)?)\.?")
_NUM_START = r"(?<![0-9A-Za-z])(?<![0-9][./:-])"     # not inside a number, word or dotted run
_NUM_END = r"(?![0-9A-Za-z])(?![./:-][0-9])"
_ORD = r"(?:st|nd|rd|th)?"

_DATE_PATTERNS: tuple[tuple[str, re.Pattern[str]], ...] = tuple(
    (kind, re.compile(pattern, re.IGNORECASE))
    for kind, pattern in (
        ("ymd", _NUM_START + r"(?P<y>\d{4})(?P<sep>[-/.])(?P<m>\d{1,2})(?P=sep)(?P<d>\d{1,2})" + _NUM_END),
        ("dmy|mdy", _NUM_START + r"(?P<a>\d{1,2})(?P<sep>[-/.])(?P<b>\d{1,2})(?P=sep)(?P<y>\d{4}|\d{2})" + _NUM_END),
        ("compact", _NUM_START + r"(?P<digits>\d{8})" + _NUM_END),
        ("d-mon-y", _NUM_START + r"(?P<d>\d{1,2})" + _ORD + r"[\s./-]{0,2}" + _MON
         + r"[\s./,-]{0,3}(?P<y>\d{4}|\d{2})" + _NUM_END),
        ("mon-d-y", r"(?<![A-Za-z])" + _MON + r"[\s./-]{0,2}(?P<d>\d{1,2})" + _ORD
         + r"[\s./,-]{1,3}(?P<y>\d{4}|\d{2})" + _NUM_END),
        ("y-mon-d", _NUM_START + r"(?P<y>\d{4})[\s./-]{0,2}" + _MON + r"[\s./-]{0,2}(?P<d>\d{1,2})" + _NUM_END),
        ("mon-y", r"(?<![A-Za-z])" + _MON + r"[\s./,-]{0,3}(?P<y>\d{4})" + _NUM_END),
    )
)


@dataclass(frozen=True)
class DateHit:
    start: int
    end: int
    text: str
    readings: tuple[tuple[int, int, int], ...]   # (year, month, day); 2-digit years kept < 100


NO_DAY = -1      # the day of a month-and-year date ("March 1961")


def _valid(year: int, month: int, day: int) -> bool:
    if year < 100:
        year += 2000
    elif not 1880 <= year <= 2100:
        return False
    if day == NO_DAY:                  # month + year only ("Mar 1961")
        return 1 <= month <= 12
    try:
        date(year, month, day)
    except ValueError:
        return False
    return True


def _readings(kind: str, groups: dict[str, str | None]) -> tuple[tuple[int, int, int], ...]:
    if kind == "compact":
        s = groups["digits"] or ""
        options = [(int(s[:4]), int(s[4:6]), int(s[6:])),      # YYYYMMDD (DICOM DA)
                   (int(s[4:]), int(s[2:4]), int(s[:2])),      # DDMMYYYY
                   (int(s[4:]), int(s[:2]), int(s[2:4]))]      # MMDDYYYY
        return tuple(o for o in options if o[0] >= 1000 and _valid(*o))
    year = int(groups["y"] or 0)
    if kind == "dmy|mdy":
        a, b = int(groups["a"] or 0), int(groups["b"] or 0)
        options = [(year, b, a), (year, a, b)]
    else:
        month = int(groups["m"]) if groups.get("m") else _MONTHS[(groups["mon"] or "").lower()]
        day = int(groups["d"]) if groups.get("d") else NO_DAY
        options = [(year, month, day)]
    return tuple(dict.fromkeys(o for o in options if _valid(*o)))


# OCR's letter readings of digits are put back before dates and numbers are sought:
# digit_shadow (ocr/confusions.py).


def find_dates(text: str) -> list[DateHit]:
    """Every plausible date in text, with the (year, month, day) readings it allows."""
    hits: list[DateHit] = []
    taken: list[tuple[int, int]] = []
    shadow = digit_shadow(text)
    for kind, pattern in _DATE_PATTERNS:
        for match in pattern.finditer(shadow):
            start, end = match.span()
            if any(start < t_end and t_start < end for t_start, t_end in taken):
                continue
            readings = _readings(kind, match.groupdict())
            if readings:
                hits.append(DateHit(start, end, text[start:end], readings))
                taken.append((start, end))
    return sorted(hits, key=lambda h: h.start)


# --------------------------------------------------------------------------- identifiers

_DIGIT_RUN = re.compile(r"(?<![\d.,])\d{6,}(?![\d]|[.,]\d)")
_TEN_DIGITS = re.compile(r"(?<![\d.,-])(\d{3})([ -]?)(\d{3})\2(\d{4})(?![\d]|[.,-]\d)")
_CHI_SPACED = re.compile(r"(?<![\d.,-])(\d{6})[ -](\d{4})(?![\d]|[.,-]\d)")
_UID = re.compile(r"(?<![\d.])\d+(?:\.\d+){5,}(?![\d.])")


def mod11_ok(digits: str) -> bool:
    """NHS / CHI check digit: weights 10..2 over the first nine digits, 11 - (sum mod 11),
    where 11 means 0 and 10 means the number is invalid."""
    if len(digits) != 10 or not digits.isdigit():
        return False
    total = sum(int(d) * w for d, w in zip(digits[:9], range(10, 1, -1)))
    check = 11 - total % 11
    if check == 11:
        check = 0
    return check != 10 and check == int(digits[9])


def is_nhs_number(digits: str) -> bool:
    return mod11_ok(digits)


def is_chi_number(digits: str) -> bool:
    """CHI: DDMMYY of birth + 4 digits, the last a mod-11 check digit."""
    return (mod11_ok(digits)
            and _valid(int(digits[4:6]), int(digits[2:4]), int(digits[:2])))


def find_identifiers(text: str) -> list[Hit]:
    """NHS and CHI numbers (checksummed), long digit runs, dotted UIDs."""
    hits: list[Hit] = []
    original, text = text, digit_shadow(text)
    for match in _TEN_DIGITS.finditer(text):
        digits = match.group(1) + match.group(3) + match.group(4)
        if is_chi_number(digits):
            hits.append(Hit(match.start(), match.end(), "chi", match.group(0)))
        elif is_nhs_number(digits):
            hits.append(Hit(match.start(), match.end(), "nhs", match.group(0)))
    for match in _CHI_SPACED.finditer(text):
        digits = match.group(1) + match.group(2)
        if is_chi_number(digits):
            hits.append(Hit(match.start(), match.end(), "chi", match.group(0)))
    for match in _UID.finditer(text):
        hits.append(Hit(match.start(), match.end(), "uid", match.group(0)))
    for match in _DIGIT_RUN.finditer(text):
        if len(set(match.group(0))) == 1:          # "000000", "1111111": OCR of ticks and bars
            continue
        if not any(h.start <= match.start() and match.end() <= h.end for h in hits):
            hits.append(Hit(match.start(), match.end(), "id", match.group(0)))
    return [Hit(h.start, h.end, h.rule, original[h.start:h.end]) for h in hits]


# --------------------------------------------------------------------------- DICOM-style names

# Two alphabetic parts joined by ^ or what OCR makes of it (curly/straight quotes, tilde:
# TEXT_CARETS in ocr/confusions.py).
_CARETS = TEXT_CARETS
_VOWELS = frozenset("aeiouy")
_DICOM_NAME = re.compile(
    r"(?<![A-Za-z0-9])(?P<family>[A-Za-z][A-Za-z'-]*[A-Za-z])[" + re.escape(_CARETS) + r"]+"
    r"(?P<given>[A-Za-z][A-Za-z'-]*)(?:[" + re.escape(_CARETS) + r"]+[A-Za-z'-]+)*(?![A-Za-z0-9])"
)


# The same split across two OCR boxes ("DOE^" + "JOHN" -> "DOE^ JOHN"): a space is allowed
# after the separator only for an all-capitals family name of 3+ letters, so a quoted word
# ('Protocol “Chest”') is not read as a name.
_DICOM_NAME_SPLIT = re.compile(
    r"(?<![A-Za-z0-9])(?P<family>[A-Z][A-Z'-]+[A-Z])[" + re.escape(_CARETS) + r"]+ "
    r"(?P<given>[A-Za-z][A-Za-z'-]*)(?![A-Za-z0-9])"
)


def find_dicom_names(text: str) -> list[Hit]:
    """FAMILY^GIVEN tokens (and their OCR readings), unless both parts are allow-listed."""
    hits: list[Hit] = []
    for pattern in (_DICOM_NAME, _DICOM_NAME_SPLIT):
        for match in pattern.finditer(text):
            family, given = match.group("family").lower(), match.group("given").lower()
            if family in SAFE_WORDS and (given in SAFE_WORDS or len(given) < 2):
                continue
            if not any(len(part) >= 3 and _VOWELS.intersection(part) for part in (family, given)):
                continue                            # 'Ae"ll': OCR noise around a quote mark
            if any(h.start <= match.start() < h.end for h in hits):
                continue
            hits.append(Hit(match.start(), match.end(), "dicom-name", match.group(0)))
    return hits


# --------------------------------------------------------------------------- titled names

_TITLED = re.compile(
    r"(?<![A-Za-z])(?:Dr|DR|Mr|Mrs|MRS|Ms|Miss|MISS|Prof|PROF|Doctor|DOCTOR)\.?\s+"
    r"(?:[A-Z]\.?\s+){0,2}(?P<name>[A-Z][A-Za-z'-]*[A-Za-z])(?![A-Za-z0-9])")


def find_titled_names(text: str) -> list[Hit]:
    """"Dr Lee", "Mr A. Patel": a title then a capitalised word that is no annotation.
    Upper-case "MR" and "MS" are left out: on images they are the modality ("MR LIVER")."""
    hits = []
    for match in _TITLED.finditer(text):
        name = match.group("name").lower()
        if len(name) < 2 or name in SAFE_WORDS or name in LABEL_WORDS or not _VOWELS.intersection(name):
            continue
        hits.append(Hit(match.start(), match.end(), "titled-name", match.group(0)))
    return hits


# --------------------------------------------------------------------------- addresses

_STREET = re.compile(
    r"(?<![\w.])\d{1,4}[A-Za-z]?,?\s+(?:[A-Z][A-Za-z'-]+\s+){1,3}"
    r"(?:Street|St|Road|Rd|Avenue|Ave|Lane|Ln|Drive|Dr|Close|Crescent|Cres|Place|Pl|Way|Court|Ct|"
    r"Terrace|Gardens|Square|Sq|Boulevard|Blvd|Park|Grove|Wynd|Brae|Mews)\b\.?")
# UK postcodes; the inward code's letters never include C, I, K, M, O or V, so "L4 5MM" is not one.
_POSTCODE = re.compile(r"(?<![A-Za-z0-9])[A-Z]{1,2}\d[A-Z\d]? ?\d[ABD-HJLNP-UW-Z]{2}(?![A-Za-z0-9])")


def find_addresses(text: str) -> list[Hit]:
    """Street addresses ("12 High Street") and UK postcodes ("DD1 9SY"). Street types that
    are also annotation words ("2 Lateral View", "Row", "Walk") are left out."""
    return ([Hit(m.start(), m.end(), "address", m.group(0)) for m in _STREET.finditer(text)]
            + [Hit(m.start(), m.end(), "postcode", m.group(0)) for m in _POSTCODE.finditer(text)])


# --------------------------------------------------------------------------- given names

_WORD = re.compile(r"(?<![A-Za-z])[A-Za-z]{4,}(?![A-Za-z])")


def find_given_names(text: str) -> list[Hit]:
    """Common given names (given_names.py), e.g. in all-caps names NER does not tag; a name
    is written with a capital (`SARAH`, `Sarah`), so a word of small letters is none: `5 sara`
    is a unit misread (5 mm), not a person (over 11,315 lines read from 16 corpora and the
    real test files, the two lower-case hits were that and a hospital's `victoria`)."""
    return [Hit(m.start(), m.end(), "given-name", m.group(0))
            for m in _WORD.finditer(text) if m.group(0)[0].isupper() and is_given_name(m.group(0))]


# --------------------------------------------------------------------------- header values

PLACEHOLDERS = frozenset(
    "anonymous anonymized anonymised anon unknown none null na n/a test phantom removed "
    "redacted deidentified xxx xxxx patient".split())
_NAME_TITLES = frozenset("mr mrs ms miss mx dr prof sir rev jr sr ii iii iv md phd".split())
_ORG_GENERIC = frozenset(
    "royal general saint memorial regional county city national community children childrens "
    "foundation services service group health centre center the and of for district "
    "teaching institute infirmary hospital hospitals clinic medical university".split())
_IGNORED_KEYWORD_PARTS = ("Time", "Sex", "Age", "Size", "Weight", "Modality", "Description")


# OCR confusions folded on both sides before comparing: O->0, I/l/|/!->1, S->5
# (fold, ocr/confusions.py).
_fold = fold


@dataclass(frozen=True)
class Needle:
    """One header value prepared for searching: folded alphanumerics, and what it is."""

    keyword: str
    folded: str
    kind: str            # "name" (letters expected) or "id" (anything)


def _compact(text: str) -> str:
    return "".join(ch for ch in _fold(text) if ch.isalnum())


def _date_needles(value: str) -> list[str]:
    digits = re.sub(r"\D", "", value)[:8]
    if len(digits) != 8:
        return []
    y, m, d = int(digits[:4]), int(digits[4:6]), int(digits[6:])
    if not _valid(y, m, d):
        return []
    yy, mon = f"{y % 100:02d}", date(y, m, 1).strftime("%b").lower()
    full = date(y, m, 1).strftime("%B").lower()
    forms = {f"{y}{m:02d}{d:02d}", f"{d:02d}{m:02d}{y}", f"{m:02d}{d:02d}{y}",
             f"{d:02d}{m:02d}{yy}", f"{m:02d}{d:02d}{yy}", f"{yy}{m:02d}{d:02d}",
             f"{d}{m}{y}", f"{m}{d}{y}"}
    for month in (mon, full):
        forms |= {f"{d}{month}{y}", f"{d:02d}{month}{y}", f"{d}{month}{yy}", f"{d:02d}{month}{yy}",
                  f"{month}{d}{y}", f"{month}{d:02d}{y}"}
    return [_compact(f) for f in forms]


def _name_parts(value: str) -> list[str]:
    parts = re.split(r"[\^\s,.=]+", value)
    out = []
    for part in parts:
        low = part.lower().strip("'-")
        letters = sum(ch.isalpha() for ch in low)
        if letters < 2 or low in PLACEHOLDERS or low in _NAME_TITLES:
            continue
        if low in SAFE_WORDS or low in LABEL_WORDS:     # "HEAD^PHANTOM", "OB^^^^": annotations
            continue
        out.append(low)
    return out


def _org_words(value: str) -> list[str]:
    words = [w.lower() for w in re.split(r"[^A-Za-z'-]+", value)]
    return [w for w in words if len(w) >= 4 and w not in _ORG_GENERIC
            and w not in SAFE_WORDS and w not in LABEL_WORDS and w not in PLACEHOLDERS]


def _keyword_kind(keyword: str) -> str:
    if any(part in keyword for part in _IGNORED_KEYWORD_PARTS):
        return "ignore"
    if keyword.endswith("Date") or keyword.endswith("DateTime"):
        return "date"
    if keyword.startswith("Institution") or "Address" in keyword:
        return "org"
    if "Name" in keyword or "Physician" in keyword or "Person" in keyword or "Operator" in keyword:
        return "name"
    return "id"


@lru_cache(maxsize=256)
def prepare_header(identifiers: tuple[tuple[str, str], ...],
                   params: RuleParams = RULES) -> tuple[Needle, ...]:
    """The searchable forms of an instance's identifying header values (cached per tuple)."""
    needles: dict[tuple[str, str], Needle] = {}

    def add(keyword: str, folded: str, kind: str, minimum: int) -> None:
        if len(folded) >= minimum and (keyword, folded) not in needles:
            needles[(keyword, folded)] = Needle(keyword, folded, kind)

    for keyword, kind, value in header_values(identifiers):
        if kind == "date":
            for form in _date_needles(value):
                add(keyword, form, "id", params.min_date)
        elif kind == "name":
            for part in _name_parts(value):
                add(keyword, _compact(part), "name", params.min_name_part)
        elif kind == "org":
            words = _org_words(value)
            if words:          # "Philips Healthcare", "General Hospital": nothing to find
                add(keyword, _compact(value), "name", params.min_org)
            for word in words:
                add(keyword, _compact(word), "name", params.min_org)
        else:
            add(keyword, _compact(value), "id", params.min_id)
    return tuple(needles.values())


def header_values(identifiers: Iterable[tuple[str, str]]) -> Iterator[tuple[str, str, str]]:
    """(keyword, kind, value) for each value worth looking for among an instance's identifying
    header values: each value of a multi-valued one, with its kind (date, org, name, id);
    ignored attributes and placeholders (ANONYMOUS, UNKNOWN...) left out."""
    for keyword, raw in identifiers:
        kind = _keyword_kind(keyword)
        if kind == "ignore":
            continue
        for value in str(raw).split("\\"):
            value = value.strip()
            if value and value.lower() not in PLACEHOLDERS:
                yield keyword, kind, value


def header_dates(identifiers: tuple[tuple[str, str], ...]) -> tuple[tuple[str, date], ...]:
    """(keyword, date) for every date-valued identifying attribute."""
    out = []
    for keyword, raw in identifiers:
        if _keyword_kind(keyword) != "date":
            continue
        digits = re.sub(r"\D", "", str(raw))[:8]
        if len(digits) == 8 and _valid(int(digits[:4]), int(digits[4:6]), int(digits[6:])):
            out.append((keyword, date(int(digits[:4]), int(digits[4:6]), int(digits[6:]))))
    return tuple(out)


class _Folded:
    """The text's alphanumerics, folded, with each one's index in the original text."""

    def __init__(self, text: str):
        self.text = text
        chars, index = [], []
        for i, ch in enumerate(text):
            for folded in _fold(ch):               # lower() can make two characters of one
                if folded.isalnum():
                    chars.append(folded)
                    index.append(i)
        self.folded = "".join(chars)
        self.index = index

    def _boundary(self, inner: int, outer: int) -> bool:
        """No word continues across text[inner] -> text[outer] (outer may be out of range)."""
        if outer < 0 or outer >= len(self.text):
            return True
        a, b = self.text[inner], self.text[outer]
        if not (b.isalnum() or b in "|!"):
            return True
        return a.isdigit() != b.isdigit()          # "ID12345": letter/digit change is a boundary

    def find(self, needle: Needle, params: RuleParams = RULES) -> list[tuple[int, int]]:
        spans = []
        n = len(needle.folded)
        max_gaps = max(0, (n - 2) // params.gap_every)
        start = self.folded.find(needle.folded)
        while start >= 0:
            positions = self.index[start:start + n]
            first, last = positions[0], positions[-1]
            gaps = sum(1 for p, q in zip(positions, positions[1:]) if q - p > 1)
            letters = sum(self.text[p].isalpha() for p in positions)
            ok = (gaps <= max_gaps
                  and self._boundary(first, first - 1) and self._boundary(last, last + 1)
                  and (needle.kind != "name" or letters >= params.name_letter_share * n)
                  # a two-letter name part ("JO", "Al") only as a capitalised word, not "al"
                  and (needle.kind != "name" or n > 2 or self.text[first].isupper()))
            if ok:
                spans.append((first, last + 1))
            start = self.folded.find(needle.folded, start + 1)
        return spans


def _as_key(identifiers) -> tuple[tuple[str, str], ...]:
    """A hashable, all-string form of identifiers (a caller may pass lists or PersonNames)."""
    return tuple((str(keyword), str(value)) for keyword, value in identifiers)


def find_header_values(text: str, identifiers: tuple[tuple[str, str], ...],
                       params: RuleParams = RULES) -> list[Hit]:
    """Where the instance's own identifying header values appear in the text."""
    needles = prepare_header(_as_key(identifiers), params)
    if not needles or not text:
        return []
    folded = _Folded(text)
    hits = []
    for needle in needles:
        for start, end in folded.find(needle, params):
            hits.append(Hit(start, end, f"header:{needle.keyword}", text[start:end]))
    return hits


# --------------------------------------------------------------------------- all rules

# A date labelled as a document's or a device's own (`SMPTE TEST PATTERN Rev. 3/1/91`,
# `Version 2/14/2003`, `© 12/2004`): its revision, version or copyright date, no person's.
# The label must stand right before the date; a date the instance's header holds is the
# patient's or the study's whatever stands before it.
_DOCUMENT_DATE_LABEL = re.compile(
    r"(?:(?<![A-Za-z])(?:rev|revision|ver|version)\.?|©|\(c\)|copyright)\s*[:#]?\s*$", re.IGNORECASE)


def find_all(text: str, identifiers: tuple[tuple[str, str], ...] = (),
             params: RuleParams = RULES) -> list[Hit]:
    """Every rule hit in text, most specific reason first for a span (header > date > id)."""
    identifiers = _as_key(identifiers)
    hits = find_header_values(text, identifiers, params)
    known = header_dates(identifiers)
    for found in find_dates(text):
        rule = "date"
        for keyword, value in known:
            if any(y in (value.year, value.year % 100) and m == value.month and d == value.day
                   for y, m, d in found.readings):
                rule = f"header:{keyword}"
                break
        if rule == "date" and _DOCUMENT_DATE_LABEL.search(text[:found.start]):
            continue
        hits.append(Hit(found.start, found.end, rule, found.text))
    hits.extend(find_identifiers(text))
    hits.extend(find_dicom_names(text))
    hits.extend(find_given_names(text))
    hits.extend(find_titled_names(text))
    hits.extend(find_addresses(text))
    return hits
