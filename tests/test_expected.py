"""The instance's header values weighed against the recogniser's reading (ocr/expected.py)."""
from __future__ import annotations

import datetime

import numpy as np
import pytest

from scp_scanner.ocr.expected import (NOTHING_EXPECTED, ExpectedWords, expected_spans, expected_words,
                                      mend_expected)
from test_lexicon import INDEX, greedy_steps, steps_of

HEADER = (("PatientName", "KHAN^CATRIONA"), ("PatientID", "1010679252"),
          ("PatientBirthDate", "19671010"), ("StudyDate", "20171225"),
          ("InstitutionName", "Raigmore Hospital"), ("AccessionNumber", "CT98244087"),
          ("ReferringPhysicianName", "FERGUSON^ELIZABETH"))


def read(line: str, rival: dict[int, tuple[str, float]] | None = None,
         expected: ExpectedWords | None = None, blank_doubted: int | tuple[int, ...] | None = None,
         lost: tuple[int, str] | list[tuple[int, str]] | None = None, sure: float = 0.97) -> str:
    """The line as mend_expected reads it from recogniser output for `line` whose characters
    are sure but for `rival` {i: (second choice, its probability)}; the character (or each) at
    `blank_doubted` with a blank (no character) its close second; lost (i, character), or a
    list of them: that character the runner-up on the blank step after character i (a letter
    the reading lost);
    sure: the probability of each character read (the rest shared by the other classes)."""
    probs = greedy_steps(line, rival, sure)
    for doubted in (() if blank_doubted is None else
                    (blank_doubted,) if isinstance(blank_doubted, int) else blank_doubted):
        steps = slice(3 * doubted, 3 * doubted + 2)
        probs[steps, 0] = 0.35
        probs[steps, INDEX[line[doubted]]] = 0.6
    for after, character in [lost] if isinstance(lost, tuple) else lost or []:
        probs[3 * after + 2, 0] = 0.6
        probs[3 * after + 2, INDEX[character]] = 0.35
    text, steps = mend_expected(line, steps_of(probs), probs, INDEX,
                                expected_words(HEADER) if expected is None else expected)
    assert len(steps) == len(text)
    return text


def test_header_values_become_words_names_codes_and_dates():
    expected = expected_words(HEADER + (("PatientName", "ANONYMOUS"), ("OtherPatientIDs", "AB1"),
                                        ("StudyTime", "081207"), ("PatientSex", "F")))
    assert set(expected.words) == {"khan", "catriona", "raigmore", "hospital", "ferguson", "elizabeth"}
    assert set(expected.names) == {("KHAN", "CATRIONA"), ("FERGUSON", "ELIZABETH")}
    assert set(expected.codes) == {"1010679252", "CT98244087"}          # AB1: too short for an ID
    assert set(expected.dates) == {datetime.date(1967, 10, 10), datetime.date(2017, 12, 25)}
    assert expected and expected.key and expected.key != expected_words(HEADER[:3]).key
    assert expected_words(HEADER).key == expected_words(HEADER).key
    # A header with nothing identifying (or placeholders only) expects nothing.
    assert expected_words([("PatientName", "Anonymized"), ("StudyDate", "2017")]) is NOTHING_EXPECTED
    assert not NOTHING_EXPECTED and NOTHING_EXPECTED.key == b""
    # A name with accents is whole words, never ASCII fragments of them.
    accented = expected_words([("PatientName", "MÜLLER^JÖRG"), ("InstitutionName", "Hôpital Nord")])
    assert set(accented.words) == {"müller", "jörg", "hôpital", "nord"}
    assert accented.names == (("MÜLLER", "JÖRG"),)
    # Neighbouring words of one value: an institution's in its order, a name's either way.
    assert set(expected.pairs) == {("raigmore", "hospital"), ("khan", "catriona"), ("catriona", "khan"),
                                   ("ferguson", "elizabeth"), ("elizabeth", "ferguson")}


@pytest.mark.parametrize("line, rival, mended", [
    # A letter the recogniser doubted: the header's institution, in the case read.
    ("Raignore Hospital", {4: ("m", 0.3)}, "Raigmore Hospital"),
    ("RAIGNORE HOSPITAL", {4: ("M", 0.3)}, "RAIGMORE HOSPITAL"),
    # An ID's digit, a date in the layout read (year first, dots), a date without separators.
    ("CHI 1010679152", {11: ("2", 0.3)}, "CHI 1010679252"),
    ("2017.12.23 08:12:07", {9: ("5", 0.3)}, "2017.12.25 08:12:07"),
    ("DOB 19671016", {11: ("0", 0.3)}, "DOB 19671010"),
    ("10.10.1987", {8: ("6", 0.3)}, "10.10.1967"),
    ("10-Oct-1987", {9: ("6", 0.3)}, "10-Oct-1967"),
    # A DICOM name whose caret was read as a letter, the caret the runner-up.
    ("FERGUSONNELIZABETH", {8: ("^", 0.3)}, "FERGUSON^ELIZABETH"),
    ("Acc CT98244037", {12: ("8", 0.3)}, "Acc CT98244087"),
])
def test_a_span_the_model_doubted_is_read_as_the_header_value_it_nearly_is(line, rival, mended):
    assert read(line, rival) == mended
    # Without the header, nothing changes.
    assert read(line, rival, NOTHING_EXPECTED) == line


@pytest.mark.parametrize("line", [
    "Raignore Hospital",          # every letter sure: another hospital's name stays as read
    "CHI 1010679152",
    "2017.12.23",
    "Ref FERGUSON^ELIZABETH",     # already the header's value
    "ABDOMEN 5 mm HFS",           # nothing of the header's shape near
])
def test_a_span_read_with_certainty_or_already_a_header_value_stays(line):
    # Sure as the recogniser is of clear text: every other class ~1e-6 at each step. (At the
    # helper's default 0.97 each other class has 3e-4, so a header word one letter away is
    # ~1e-7 as likely: beside its own neighbour that is enough, `Raignore Hospital` is read
    # as the header's `Raigmore Hospital`; see the tests of BY_CHANCE below.)
    assert read(line, sure=0.9999) == line


@pytest.mark.parametrize("line, rival, mended", [
    # The caret's place read as a letter the recogniser was sure of, the rest the header's.
    ("Ref FERGUSONAELIZABETH", {}, "Ref FERGUSON^ELIZABETH"),
    ("KHANNCATRIONA 1010679252", {}, "KHAN^CATRIONA 1010679252"),
    ("Ref FergusonYElizabeth", {}, "Ref Ferguson^Elizabeth"),
    # and a letter of the name doubted besides (`FERGUSONAPIONA` for FERGUSON^FIONA).
    ("Ref FERGUSONAPLIZABETH", {13: ("E", 0.3)}, "Ref FERGUSON^ELIZABETH"),
])
def test_a_names_caret_read_as_a_letter_is_read_as_the_caret(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line


@pytest.mark.parametrize("line, rival, mended", [
    # The caret's place read as a mark (a small caret as `²`, which the line's final folding
    # would make a digit), the rest the header's or nearly.
    ("KHAN²CATRIONA 1010679252", {}, "KHAN^CATRIONA 1010679252"),
    ("Ref FERGUSON]ELIZABETH", {}, "Ref FERGUSON^ELIZABETH"),
    ("KHAN²GATRIONA", {5: ("C", 0.3)}, "KHAN^CATRIONA"),
])
def test_a_names_caret_read_as_a_mark_is_read_as_the_caret(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line


@pytest.mark.parametrize("line, rival, mended", [
    # A comma at the caret's place is the name as screens show it, its blank lost (fresh varied
    # 809's CR: `Robertson,Graham`, written `Robertson^Graham` before): written so.
    ("Khan,Catriona 1010679252", {}, "Khan, Catriona 1010679252"),
    ("KHAN,GATRIONA", {5: ("C", 0.3)}, "KHAN, CATRIONA"),
])
def test_a_names_comma_with_its_blank_lost_is_written_with_the_blank_not_a_caret(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line


def test_a_names_caret_read_as_a_mark_with_a_blank_in_its_given_name_is_read_as_the_caret():
    """`FERGUSON"F FIONA` (held-out varied 251): the caret read as a mark, the given name's
    first letter doubled with a blank after it, both of them doubted."""
    line = "Ref FERGUSON]E ELIZABETH"
    assert read(line, blank_doubted=(13, 14)) == "Ref FERGUSON^ELIZABETH"
    assert read(line, expected=NOTHING_EXPECTED, blank_doubted=(13, 14)) == line
    # Read with certainty, the letter and the blank stay.
    assert read(line, sure=0.9999) == line


@pytest.mark.parametrize("line", [
    "KHAN²GATRIONA",              # a letter read with certainty: another name
    "KHANA²CATRIONA",             # the mark after a letter more than the family name
    "BSA 1.8 m²",                 # a unit's mark
])
def test_a_mark_between_letters_is_a_caret_only_where_the_name_is_there(line):
    assert read(line, sure=0.9999) == line


@pytest.mark.parametrize("line", [
    "Ref FERGUSONAPLIZABETH",     # another letter read with certainty: another name
    "Ref FERGUSONAAELIZABETH",    # a letter more than the name's caret
    "ELIZABETHAFERGUSON",         # not FAMILY then GIVEN
])
def test_a_caret_read_as_a_letter_needs_the_rest_of_the_name(line):
    assert read(line, sure=0.9999) == line


def test_a_span_with_an_accented_letter_is_found_in_its_base_letters_and_weighed_as_read():
    """The recogniser's alphabet holds accented letters (a blurred i's dot read as an acute:
    `Véctoria`); the span is looked for in base letters and weighed as read, so the
    header's `Victoria` wins where the model doubted the `é` (its `i` a close second), and
    not where it was sure. fields.base_letters keeps one character for one, letters with a
    mark Unicode does not decompose (`ø`, `ł`, a dotless `ı`) as well; no other character
    changes."""
    from scp_scanner.ocr.fields import base_letters
    from scp_scanner.ocr.line_text import mend
    from test_lexicon import ALPHABET

    assert base_letters("Véctoria mÅs ñ Høspill 5 mm² 13±31") == "Vectoria mAs n Hospill 5 mm² 13±31"
    assert base_letters("ŁÓDŹ Đıð ß æ 12°") == "LODZ Dið ß æ 12°"
    assert mend("Ninewells Høspital") == "Ninewells Hospital"          # folded in the text written
    alphabet = ALPHABET[:-1] + ["é", " "]
    index = {ch: i for i, ch in enumerate(alphabet) if i}
    expected = expected_words([("InstitutionName", "Victoria Hospital")])

    def mended(line: str, doubted: float, sure: float = 0.97) -> str:
        rows = []
        for i, ch in enumerate(line):
            row = np.full(len(alphabet), (1 - sure) / (len(alphabet) - 1))
            row[index[ch]] = sure
            if ch == "é":
                row[index["i"]], row[index["é"]] = doubted, sure - doubted
            rows += [row, row, np.eye(len(alphabet))[0]]
        probs = np.array(rows)
        return mend_expected(line, steps_of(probs), probs, index, expected)[0]

    assert mended("Véctoria Hospital", 0.3) == "Victoria Hospital"
    assert mended("Véctoria", 0.3) == "Victoria"
    assert mended("Véctoria Hospital", 1e-6, sure=0.9999) == "Véctoria Hospital"


def test_a_label_or_a_short_name_never_claims_the_other():
    header = (("PatientName", "DOE^HAMISH"), ("PatientBirthDate", "19930124"))
    # DOE is too short a word to weigh (as for the English word prior); DOB is a label.
    assert read("DOB 19930124", {2: ("E", 0.45)}, expected_words(header)) == "DOB 19930124"
    assert read("Dob 19930124", {2: ("e", 0.45)}, expected_words(header)) == "Dob 19930124"
    assert read("HAMlSH DOE", {3: ("I", 0.3)}, expected_words(header)) == "HAMISH DOE"


def test_a_time_is_no_date_though_its_digits_could_be_one():
    header = (("PatientBirthDate", "20040414"),)
    # 14:04:44 could be 14.04.04 written with colons; a colon makes it a time.
    assert read("14:04:44", {6: ("0", 0.45)}, expected_words(header)) == "14:04:44"
    assert read("14.04.44", {6: ("0", 0.45)}, expected_words(header)) == "14.04.04"
    assert [r for _, _, rs in expected_spans("25/09/207", expected_words(header)) for r, *_ in rs
            if r.startswith("14/04/")] == ["14/04/04", "14/04/2004"]


def test_spans_are_dates_then_codes_then_words_and_never_overlap():
    spans = expected_spans("KHAM 2017.12.23 1010679152 Hospita1 CT98244087", expected_words(HEADER))
    texts = ["KHAM 2017.12.23 1010679152 Hospita1 CT98244087"[a:b] for a, b, _ in spans]
    # The ID equal to the header's is left out; a word with a digit in it is a code.
    assert texts == ["2017.12.23", "1010679152", "Hospita1", "KHAM"]
    starts = sorted((a, b) for a, b, _ in spans)
    assert all(b1 <= a2 for (_, b1), (a2, _) in zip(starts, starts[1:]))
    readings = dict(((a, b), [r for r, *_ in rs]) for a, b, rs in spans)
    date_readings = readings[(5, 15)]
    assert "2017.12.25" in date_readings and "2017-12-25" in date_readings and "1967/10/10" in date_readings
    assert {"KHAN", "Khan", "khan"} <= set(readings[(0, 4)])       # the output tells the case


def test_overlapping_pairs_are_weighed_nearest_the_header_first():
    from scp_scanner.ocr.expected import _JOINED
    from scp_scanner.ocr.fixups import edits

    expected = expected_words((("PatientID", "46437901"), ("AccessionNumber", "19189534")))
    # Both `ACC 19189` and `19189 634` are a code's length; the second is one edit from it.
    assert [(a, b) for a, b, _ in expected_spans("ACC 19189 634", expected, _JOINED)] == [(4, 13)]
    assert edits("19189634", "19189534") == 1 and edits("kitten", "sitting") == 3
    assert edits("", "abc") == 3 and edits("abc", "abc") == 0


def test_the_engine_keeps_readings_apart_per_set_of_expected_values():
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine

    engine = RapidOcrEngine()
    crop = np.full((24, 120, 3), 255, np.uint8)
    engine.expect(expected_words(HEADER))
    first = engine.recognise([crop])
    keys = set(engine._cache)
    engine.expect(NOTHING_EXPECTED)
    assert engine.recognise([crop]) == first
    assert len(set(engine._cache) - keys) == 1       # read again, not answered from the other set's entry
    switched_off = RapidOcrEngine(header_words=False)
    switched_off.expect(expected_words(HEADER))
    assert switched_off._expected is NOTHING_EXPECTED


@pytest.mark.parametrize("line, rival, blank, mended", [
    ("Acc AC 13692239", {}, 6, "Acc AC13692239"),            # a blank where the ink had none
    # `Acc 7478` is as long as a code too, and overlaps the pair nearer the header's value.
    ("Acc 7478 6918", {}, 8, "Acc 74786918"),
    ("Ref KHAN CATRIONA", {8: ("^", 0.3)}, None, "Ref KHAN^CATRIONA"),
    ("lain Smith", {0: ("I", 0.3)}, None, "Iain Smith"),
    ("THIN9IN", {2: ("O", 0.3), 3: ("M", 0.3), 4: ("S", 0.3), 5: ("O", 0.3)}, None, "THOMSON"),
])
def test_a_code_or_name_read_as_two_words_or_a_word_with_a_digit_is_weighed_whole(line, rival, blank, mended):
    header = HEADER + (("PatientName", "THOMSON^IAIN"), ("AccessionNumber", "AC13692239"),
                       ("OtherPatientIDs", "74786918"))
    assert read(line, rival, expected_words(header), blank) == mended
    assert read(line, {}, expected_words(header)) == line          # each change sure: as read


def test_a_code_with_digits_read_as_marks_is_weighed_as_the_header_id():
    """A small face's digit read as `%` or `$` (`ID: 211$95$5` for 21180583, extra-font
    varied 304), as in dates: the span is still a code, weighed against the header's IDs."""
    header = HEADER + (("OtherPatientIDs", "21180583"),)
    line = "ID: 211%95%5"
    assert read(line, {7: ("8", 0.3), 8: ("0", 0.3), 10: ("8", 0.3), 11: ("3", 0.3)}, expected_words(header)) == "ID: 21180583"
    assert read(line, {7: ("8", 0.3), 8: ("0", 0.3), 10: ("8", 0.3), 11: ("3", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line        # sure of its marks


def test_a_date_without_separators_with_a_digit_read_as_a_mark_is_weighed_as_the_header_date():
    """`2@201124` for a StudyDate 20201124 written without separators (held-out varied 659,
    an interlaced frame): `@` is a 0 read as a mark, as in dates, so the span is still a
    code of eight characters, weighed against the header's dates written so."""
    header = HEADER + (("StudyDate", "20201124"),)
    line = "2@201124 11:35:38"
    assert read(line, {1: ("0", 0.3)}, expected_words(header)) == "20201124 11:35:38"
    assert read(line, {1: ("0", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line     # sure of its mark


def test_a_date_without_separators_that_lost_a_digit_is_weighed_as_the_header_date():
    """`DOB 1930601` for a PatientBirthDate 19830601 (held-out varied 647, an interlaced
    frame): seven digits are no date of eight, but a digit lost, as a code's length may be
    off by one or two; weighed against the header's dates written without separators. A
    span of seven with two letters in it is no such date."""
    header = HEADER + (("PatientBirthDate", "19830601"),)
    line = "DOB 1930601"
    assert read(line, {5: ("9", 0.3)}, expected_words(header), lost=(5, "8")) == "DOB 19830601"
    assert read(line, {5: ("9", 0.3)}, NOTHING_EXPECTED, lost=(5, "8")) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line          # sure of it
    assert "19830601" not in [r for _, _, rs in expected_spans("Ref AB30601", expected_words(header))
                              for r, *_ in rs]


def test_a_date_without_separators_that_lost_two_digits_is_weighed_as_the_header_date():
    """`DOB 190306` for a PatientBirthDate 19880306 (held-out varied 977, an endoscopy frame in
    8 px anti-aliased Terminus): six digits, two of the date's lost, as a code's length may be
    off by two; weighed against the header's dates written without separators. Six
    characters with a letter among them are no such date."""
    header = HEADER + (("PatientBirthDate", "19830601"),)
    line = "DOB 193061"
    lost = [(5, "8"), (8, "0")]
    assert read(line, {}, expected_words(header), lost=lost) == "DOB 19830601"
    assert read(line, {}, NOTHING_EXPECTED, lost=lost) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line          # sure of it
    assert "19830601" not in [r for _, _, rs in expected_spans("Ref 1930B1", expected_words(header))
                              for r, *_ in rs]


def test_a_date_run_together_with_its_months_name_is_weighed_as_the_header_date():
    """`02Avg2016` for 07-Aug-2016 (extra-font classic 302, 10 px Open Sans condensed light
    italic): both separators lost, so no date span held it; as a code it was weighed
    against the header's IDs only. A day, a month's three letters and a year run together
    are weighed against the header's dates written so."""
    header = HEADER + (("StudyDate", "20160807"),)
    line = "Date 02Avg2016"
    assert read(line, {6: ("7", 0.3), 8: ("u", 0.3)}, expected_words(header)) == "Date 07Aug2016"
    assert read(line, {6: ("7", 0.3), 8: ("u", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line


def test_a_code_written_in_three_groups_is_weighed_in_its_groups():
    """An NHS number shown 3-3-4 where the header stores it in one run: the value is weighed
    with the blanks where the line has them, since the recogniser was sure of those."""
    header = (("PatientID", "4308921783"),)
    line = "NHS 430 892 1785"
    assert read(line, {15: ("3", 0.3)}, expected_words(header)) == "NHS 430 892 1783"
    assert read(line, {15: ("3", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.999) == line
    # Blanks that make groups of other sizes were read into a code written in one run
    # (held-out varied 251: `828 33362 23`): weighed joined, where the recogniser doubted them.
    header = (("PatientID", "8283336223"),)
    line = "NHS 828 33362 23"
    assert read(line, {}, expected_words(header), blank_doubted=(7, 13)) == "NHS 8283336223"
    assert read(line, {}, NOTHING_EXPECTED, blank_doubted=(7, 13)) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line      # blanks it was sure of
    # Three words without a digit are no code, however near an ID their letters are.
    from scp_scanner.ocr.expected import _JOINED
    near = expected_words((("PatientID", "ABCDEFGH1"),))
    assert [r for _, _, rs in expected_spans("AB CD EFG1", near, _JOINED) for r, *_ in rs] == ["ABCDEFGH1"]
    assert not expected_spans("AB CD EFGH", near, _JOINED)
    # A blank between groups of three digits or more read as a colon (held-out varied 1289:
    # `582 643:4201`); a time's colon, between groups of two, is none.
    header = (("PatientID", "4308921783"),)
    line = "NHS 430 892:1783"
    assert read(line, {11: (" ", 0.3)}, expected_words(header)) == "NHS 430 892 1783"
    assert read(line, {11: (" ", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line
    assert not expected_spans("43 08:92 17", expected_words(header), _JOINED)
    # Groups joined by colons alone are not taken for a grouped code.
    assert not [(start, end) for start, end, _ in expected_spans("NHS 430:892:1783", expected_words(header), _JOINED)
                if (start, end) == (4, 16)]


@pytest.mark.parametrize("line, rival, blank, mended", [
    # One header word read as two, a letter misread too (split_header_words takes only
    # exact letters): weighed as the word.
    ("Has ish Macdonald", {2: ("m", 0.3)}, 3, "Hamish Macdonald"),
    ("Raigmore Hos pltal", {14: ("i", 0.3)}, 12, "Raigmore Hospital"),
    ("HAM SH MACDONALD", {}, 3, "HAMISH MACDONALD"),               # a letter lost and the space
    # A screen word (spiral CT, Inf for inferior) that goes on in lower case, as no new word
    # does (extra-font classic 301, varied 305): weighed as the header word.
    ("Raigmore Ho spiral", {15: ("t", 0.3)}, 11, "Raigmore Hospital"),
    ("Perth Royal Inf irmery", {19: ("a", 0.3)}, 15, "Perth Royal Infirmary"),
    # A screen word before a capitalised word: a label beside a word, as written.
    ("Perth Royal Inf Irmery", {19: ("a", 0.3)}, 15, "Perth Royal Inf Irmery"),
])
def test_a_header_word_read_as_two_words_with_a_letter_misread_is_weighed_whole(line, rival, blank, mended):
    header = HEADER + (("PatientName", "MACDONALD^HAMISH"), ("StationName", "Perth Royal Infirmary"))
    assert read(line, rival, expected_words(header), blank) == mended
    assert read(line, rival, NOTHING_EXPECTED, blank) == line
    assert read(line, {}, expected_words(header)) == line          # the space and letters sure: as read


def test_two_words_are_weighed_as_one_header_word_only_when_nearer_it_together():
    """tuning varied 8: `Rd CHAPEL` is the label `Ref` beside `CAMPBELL` misread; CHAPEL
    alone is nearer CAMPBELL than RdCHAPEL is, so the pair is not offered the name (the
    single word is, in the next round), while `Has ish` together is nearer HAMISH."""
    from scp_scanner.ocr.expected import _split_word_readings

    expected = expected_words(HEADER + (("PatientName", "MACDONALD^HAMISH"),
                                        ("ReferringPhysicianName", "CAMPBELL^AILEEN")))
    assert _split_word_readings("Rd CHAPEL", expected) == []
    assert "Hamish" in _split_word_readings("Has ish", expected)
    assert _split_word_readings("Ho Spiral", expected) == []          # Spiral: a screen word, a new word
    assert "Hospital" in _split_word_readings("Ho spiral", expected)  # going on in lower case
    assert _split_word_readings("Raigmore Hosp", expected) == []      # Raigmore: a header word


@pytest.mark.parametrize("line, rival, blank, lost, mended", [
    # extra varied 541's interlaced frame: the I of WILSON lost, a blank read beside it.
    ("WL SON^SARAH", {}, 2, (0, "I"), "WILSON^SARAH"),
    ("Wilson^Sa ah", {9: ("r", 0.3)}, None, None, "Wilson^Sarah"),
    ("WILSON^SA AH", {9: ("R", 0.3)}, None, None, "WILSON^SARAH"),
])
def test_a_name_part_read_as_two_words_is_weighed_as_the_name(line, rival, blank, lost, mended):
    header = HEADER + (("OtherPatientNames", "WILSON^SARAH"),)
    assert read(line, rival, expected_words(header), blank, lost) == mended
    assert read(line, rival, NOTHING_EXPECTED, blank, lost) == line
    assert read(line, {}, expected_words(header)) == line          # the blank sure: as read


def test_a_name_whose_caret_was_read_as_a_digit_and_given_name_as_two_words_is_weighed_as_it():
    """held-out varied 929's palette cine: `BROWN4NO RAG` for BROWN^MORAG on all three
    frames (the caret read as 4, the M as N, a blank inside the given name)."""
    header = HEADER + (("OtherPatientNames", "BROWN^MORAG"),)
    line = "Ref BROWN4NO RAG 12"
    assert read(line, {10: ("M", 0.3)}, expected_words(header), 12) == "Ref BROWN^MORAG 12"
    assert read(line, {10: ("M", 0.3)}, NOTHING_EXPECTED, 12) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line       # sure: as read
    # A family part of another length, or a given name two letters longer, is no such name.
    assert read("Ref BROWNE4NO RAG 12", {11: ("M", 0.3)}, expected_words(header), 13) == "Ref BROWNE4NO RAG 12"
    assert read("Ref BROWN4NO RAGAN 12", {10: ("M", 0.3)}, expected_words(header), 12) == "Ref BROWN4NO RAGAN 12"


def test_a_name_with_its_letters_exact_and_its_caret_read_as_a_mark_beside_a_blank_gets_its_caret():
    """held-out varied 1109's colour cine: `Ref THOMSON³ JOHN` for THOMSON^JOHN on all three
    frames (7 px FreeSerif Bold Italic; the small caret read as a raised three, then a
    blank). No span pattern held a blank after the mark, and `³` becomes `3` when the line
    is folded at the end. Every letter is the header's, so the caret is written unweighed."""
    from scp_scanner.ocr.expected import marked_carets

    header = (("ReferringPhysicianName", "THOMSON^JOHN"),)
    assert marked_carets("Ref THOMSON³ JOHN Acc", expected_words(header)) == [(4, 17, "THOMSON^JOHN")]
    assert marked_carets("Thomson ³ John", expected_words(header)) == [(0, 14, "Thomson^John")]
    assert marked_carets("THOMSON3 JOHN", expected_words(header)) == [(0, 13, "THOMSON^JOHN")]
    for line in ("THOMSON, JOHN", "THOMSON: JOHN", "Thomson; John", "THOMSON JOHN", "THOMSEN³ JOHN",
                 "THOMSON³ JOHNS", "THOMSON³JOHN"):
        assert marked_carets(line, expected_words(header)) == [], line
    assert marked_carets("Ref THOMSON³ JOHN", NOTHING_EXPECTED) == []
    # Through mend_expected, sure of every character (no likelihood is weighed).
    assert read("Ref FERGUSON² ELIZABETH", {}, expected_words(HEADER), sure=0.9999) == "Ref FERGUSON^ELIZABETH"
    assert read("Ref FERGUSON² ELIZABETH", {}, NOTHING_EXPECTED) == "Ref FERGUSON² ELIZABETH"


def test_a_name_part_is_offered_only_when_its_two_words_together_are_nearer_it():
    from scp_scanner.ocr.expected import _split_word_readings

    expected = expected_words(HEADER + (("OtherPatientNames", "WILSON^SARAH"),))
    assert "WILSON^SARAH" in _split_word_readings("WL SON^SARAH", expected)
    assert "WILSON^SARAH" in _split_word_readings("WILSON^SA AH", expected)
    assert _split_word_readings("AL SON^SARAH", expected) == []       # two edits from WILSON
    assert _split_word_readings("WILSON X^SARAH", expected) == []     # WILSON alone is as near
    assert _split_word_readings("WL SON^SANDRA", expected) == []      # another given name


@pytest.mark.parametrize("line, rival, mended", [
    # Two words of one value read as one, their space lost: written apart.
    ("Western RaigmoreHospital", {}, "Western Raigmore Hospital"),
    ("RayqmoreHospital", {2: ("i", 0.3), 3: ("g", 0.3)}, "Raigmore Hospital"),
    ("CATRIONAKHAN 1010679252", {}, "CATRIONA KHAN 1010679252"),
    # FAMILY GIVEN in a DICOM name's order: its caret was lost.
    ("Ref FergusonElizabeth", {}, "Ref Ferguson^Elizabeth"),
    ("Ref ElizabethFerguson", {}, "Ref Elizabeth Ferguson"),
    ("KHANCATRIONA", {}, "KHAN^CATRIONA"),
])
def test_two_header_words_read_as_one_are_read_as_the_two(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line


def test_a_whole_value_of_three_words_read_as_one_is_read_as_its_words():
    """`GlasgowRoyalInfirmary`: tight spacing lost both spaces of a three-word value; it is
    weighed joined, as read, and written apart. Without the header, or in another order, it
    stays as read."""
    expected = expected_words([("InstitutionName", "Glasgow Royal Infirmary"), ("PatientID", "244443232")])
    assert expected.runs == (("glasgow", "royal", "infirmary"),)
    assert read("GlasgowRoyalInfirmary ID: 244443232", expected=expected) == "Glasgow Royal Infirmary ID: 244443232"
    assert read("GLASGOWROYALINFIRMARY", expected=expected) == "GLASGOW ROYAL INFIRMARY"
    assert read("GlasgowRoyalInfirmary", expected=NOTHING_EXPECTED) == "GlasgowRoyalInfirmary"
    assert read("RoyalGlasgowInfirmary", expected=expected) == "RoyalGlasgowInfirmary"
    # A value of two words, or with a word too short to weigh, gives no run.
    assert expected_words([("InstitutionName", "Raigmore Hospital")]).runs == ()
    assert expected_words([("InstitutionName", "St Johns Hospital")]).runs == ()


@pytest.mark.parametrize("line", [
    "HospitalRaigmore",           # not an order the header writes them in
    "RaigmoreHospitals",          # as sure as read, and another word
])
def test_two_words_joined_otherwise_stay_as_read(line):
    assert read(line) == line


def test_a_date_whose_month_lost_a_letter_is_read_as_the_header_date():
    # `10-Oc-1967`: the month's t on a blank step, runner-up; the year's 8 doubted.
    assert read("DOB 10-Oc-1987", {12: ("6", 0.3)}, lost=(8, "t")) == "DOB 10-Oct-1967"
    assert read("DOB 10-Oc-1987", {12: ("6", 0.3)}, NOTHING_EXPECTED, lost=(8, "t")) == "DOB 10-Oc-1987"


@pytest.mark.parametrize("line, rival, mended", [
    # A day's 0 read as a letter, the 0 its runner-up.
    ("DOB 1O-Oct-1967", {5: ("0", 0.3)}, "DOB 10-Oct-1967"),
    # Year first, with two of its digits read as one %: three characters are a year's four,
    # one lost (day and month first are weighed too).
    ("DOB 1%7-10-10", {5: ("9", 0.3)}, "DOB 1967-10-10"),
    # Two groups of letters and digits, the month's letters read in digits' place.
    ("2017.1Z.2S 08:12:07", {6: ("2", 0.3), 9: ("5", 0.3)}, "2017.12.25 08:12:07"),
    # Run together, a digit read as a letter (two of its three groups hold a digit).
    ("2017122S 08:12:07", {7: ("5", 0.3)}, "20171225 08:12:07"),
    # Its marks read as colons, a year's four characters at one end: no time.
    ("26:12:2017 08:12:07", {1: ("5", 0.3)}, "25:12:2017 08:12:07"),
    ("2017:12:26", {9: ("5", 0.3)}, "2017:12:25"),
    # One mark read as a colon, the other as written (held-out varied 293: `2001-03:00`):
    # written with the other mark in both places, as dates write them.
    ("DOB 1967-10:16", {13: ("0", 0.3)}, "DOB 1967-10-10"),
    ("27:12.2017", {1: ("5", 0.3)}, "25.12.2017"),
    # One of its marks read as a character (a small face's slash as a 7, held-out varied
    # 251), the other in its place.
    ("DOB 25/1272017", {9: ("/", 0.3)}, "DOB 25/12/2017"),
    ("2017-12725 08:12:07", {7: ("-", 0.3)}, "2017-12-25 08:12:07"),
    ("25712/2017", {2: ("/", 0.3)}, "25/12/2017"),
    # A digit read as a mark of like shape: `@` for 0, `]` for 1, `>` for 7, `)` for 3.
    ("25/12/2@17", {7: ("0", 0.3)}, "25/12/2017"),
    ("DOB ]0/10/1967", {4: ("1", 0.3)}, "DOB 10/10/1967"),
    ("10-Oct-196>", {10: ("7", 0.3)}, "10-Oct-1967"),
    ("2017-12-25 1)-12-2017", {12: ("3", 0.3)}, "2017-12-25 1)-12-2017"),
])
def test_a_date_with_digits_read_as_letters_or_marks_is_read_as_the_header_date(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line
    # Sure of its characters, the recogniser's reading stands.
    assert read(line, sure=0.999) == line


@pytest.mark.parametrize("line, rival, mended", [
    # A letter read as a mark of like shape (fresh varied 787's endoscopy: `Ahmed Pate!` for
    # Ahmed Patel): the word is weighed with the mark in it.
    ("Raigmore Hospita!", {16: ("l", 0.3)}, "Raigmore Hospital"),
    ("Raigmore Hosp|tal", {13: ("i", 0.3)}, "Raigmore Hospital"),
])
def test_a_word_with_a_letter_read_as_a_mark_is_read_as_the_header_word(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line
    assert read(line, sure=0.999) == line


def test_a_date_whose_mark_was_read_as_a_blank_is_read_as_the_header_date():
    # Held-out varied 733's interlaced frame: `DOB 23.02 2003`, the second full stop read as
    # a blank (the mark its runner-up there).
    expected = expected_words((("PatientBirthDate", "20030223"),))
    assert read("DOB 23.02 2003", {9: (".", 0.3)}, expected) == "DOB 23.02.2003"
    assert read("DOB 23 02.2003", {6: (".", 0.3)}, expected) == "DOB 23.02.2003"
    assert read("DOB 23.02 2003", {9: (".", 0.3)}, NOTHING_EXPECTED) == "DOB 23.02 2003"
    assert read("DOB 23.02 2003", expected=expected, sure=0.999) == "DOB 23.02 2003"


def test_a_date_whose_day_or_month_lost_its_zero_is_read_as_the_header_date():
    # Held-out varied 617's MR: `09/6/2024` for 09/06/2024; the zero on the blank step after
    # the first mark, runner-up. A date pads its day and month alike.
    expected = expected_words((("StudyDate", "20240609"),))
    assert read("Date 09/6/2024", expected=expected, lost=(7, "0")) == "Date 09/06/2024"
    assert read("Date 9/06/2024", expected=expected, lost=(4, "0")) == "Date 09/06/2024"
    assert read("Date 09/6/2024", expected=NOTHING_EXPECTED, lost=(7, "0")) == "Date 09/6/2024"
    # Written without zeros, or read with no trace of one: as read.
    assert read("Date 9/6/2024", expected=expected, lost=(4, "0")) == "Date 9/6/2024"
    assert read("Date 09/6/2024", expected=expected, sure=0.999) == "Date 09/6/2024"


def test_a_header_value_must_be_nearly_as_likely_as_the_reading_before_the_word_prior():
    """A span the English word prior rewrote is weighed at no less than the line as it stood
    before the prior (`before`): a header value one unlikely letter from what the recogniser
    read does not take the span because the prior's word was less likely still (fresh varied
    863: `5 momr` -> `5 more` -> `5 brown`, a referring physician's name, on a colour cine's
    three frames)."""
    expected = expected_words(HEADER)
    probs = greedy_steps("CATRIOMA", sure=0.999)
    steps = steps_of(probs)
    rewritten = "XATRIOMX"                  # two letters the prior put in, as unlikely each
    assert mend_expected(rewritten, steps, probs, INDEX, expected, ("CATRIOMA", steps))[0] == rewritten
    # Without the line before the prior, the bar is the rewritten word's (as before).
    assert mend_expected(rewritten, steps, probs, INDEX, expected)[0] == "CATRIONA"
    # Where the recogniser itself doubted the letter, the header's name is read.
    probs = greedy_steps("CATRIOMA", {6: ("N", 0.3)}, sure=0.999)
    assert mend_expected(rewritten, steps, probs, INDEX, expected, ("CATRIOMA", steps))[0] == "CATRIONA"


def test_a_screen_word_the_word_prior_wrote_is_weighed_against_the_header():
    """A screen word is left as read (`Ref`, `DOB` beside a name like DOE), but one the
    English word prior wrote where the recogniser read something else is not the screen's:
    extra varied 673's 8 px bitmap face read `RATELAPRIYA`, the caret put back and the prior
    made `RATE^PRIYA` (`rate` is a frame rate's word), where ReferringPhysicianName is
    PATEL^PRIYA; and `Rktel, Mary` became `Rate, Mary` where PatientName is PATEL^MARY."""
    expected = expected_words((("PatientName", "PATEL^MARY"), ("ReferringPhysicianName", "PATEL^PRIYA")))
    line = "Ref RATEL^PRIYA"
    probs = greedy_steps(line, {4: ("P", 0.2)})
    steps = steps_of(probs)
    lost = line.index("L")
    rewritten, rewritten_steps = line[:lost] + line[lost + 1:], steps[:lost] + steps[lost + 1:]
    worded = (rewritten, rewritten_steps)
    assert mend_expected(rewritten, rewritten_steps, probs, INDEX, expected, (line, steps),
                         worded)[0] == "Ref PATEL^PRIYA"
    # Read so by the recogniser itself, or written by the labels' vocabulary after the word
    # prior (`D0B` -> `DOB` beside a patient called DOE), the screen word stays.
    probs = greedy_steps(rewritten, {4: ("P", 0.2)})
    steps = steps_of(probs)
    assert mend_expected(rewritten, steps, probs, INDEX, expected, (rewritten, steps), (rewritten, steps))[0] == rewritten
    doe = expected_words((("PatientName", "DOE^MORAG"),))
    probs = greedy_steps("D0B 19.11.2005", {1: ("O", 0.2), 2: ("E", 0.1)})
    steps = steps_of(probs)
    read_so = ("D0B 19.11.2005", steps)
    assert mend_expected("DOB 19.11.2005", steps, probs, INDEX, doe, read_so, read_so)[0] == "DOB 19.11.2005"


@pytest.mark.parametrize("line, added, mended", [
    # A digit added to a group, as small faces' strokes are read twice (fresh varied 809's
    # interlaced frame `83-Rpr-20824` for 03-Apr-2024; 811's `24/083/1558`; 787's palette
    # cine `89/11/29823`): the added digit doubted, a blank its close second.
    ("25/12/20177", 10, "25/12/2017"),
    ("Study 25/12/20817 08:12:07", 14, "Study 25/12/2017 08:12:07"),
    ("DOB 10/101/1967", 9, "DOB 10/10/1967"),
    ("DOB 10-Oct-19867", 13, "DOB 10-Oct-1967"),
    ("DOB 100-Oct-1967", 6, "DOB 10-Oct-1967"),
    ("DOB 19667-10-10", 7, "DOB 1967-10-10"),
])
def test_a_date_with_a_digit_added_to_a_group_is_read_as_the_header_date(line, added, mended):
    assert read(line, blank_doubted=added) == mended
    # Not the header's, or read with no doubt: it stays as read.
    assert read(line, blank_doubted=added, expected=NOTHING_EXPECTED) == line
    assert read(line, sure=0.999) == line


def test_a_date_with_a_mark_read_inside_a_group_is_read_as_the_header_date():
    """`07.06.20.24` for 07.06.2024 (held-out varied 1163, a 6 px pixel face under JPEG: the
    wide gap between two of the year's digits read as a full stop): four groups, weighed
    with each mark dropped; the first three groups alone are no date to mend (`07.06.24.24`
    came of weighing `07.06.20` against the date written with a two-digit year)."""
    header = HEADER + (("StudyDate", "20240607"),)
    line = "07.06.20.24 19:20:06"
    assert read(line, blank_doubted=8, expected=expected_words(header)) == "07.06.2024 19:20:06"
    # A 4 doubted in the year's first half: its first three groups stay as read.
    assert read(line, {7: ("4", 0.3)}, expected_words(header)) == line
    assert read(line, {7: ("4", 0.3)}, expected_words(header), blank_doubted=8) == "07.06.2024 19:20:06"
    assert read(line, blank_doubted=8, expected=NOTHING_EXPECTED) == line
    assert read(line, expected=expected_words(header), sure=0.9999) == line      # sure of its mark
    assert read("DOB 10.10.19.67", blank_doubted=12) == "DOB 10.10.1967"


@pytest.mark.parametrize("line, rival, mended", [
    # Run into its label's colon with no blank (held-out varied 491: `DOB:18/81/1944`).
    ("DOB:10/18/1967", {8: ("0", 0.3)}, "DOB:10/10/1967"),
    ("Date:2017-12-23 08:12:07", {14: ("5", 0.3)}, "Date:2017-12-25 08:12:07"),
    ("DOB:1O/1O/1967", {5: ("0", 0.3), 8: ("0", 0.3)}, "DOB:10/10/1967"),
])
def test_a_date_run_into_its_labels_colon_is_read_as_the_header_date(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line


@pytest.mark.parametrize("line", ["Time:12:25:17", "T:08:12:26", "Se:3 Im:45", "12:25.17"])
def test_after_a_labels_colon_a_time_or_a_number_is_no_date(line):
    assert [line[a:b] for a, b, _ in expected_spans(line, expected_words(HEADER))
            if any(ch in line[a:b] for ch in "-./")] == []
    assert read(line, {len(line) - 1: ("5", 0.3)}) == line


@pytest.mark.parametrize("mark", ["~", "="])
def test_a_date_mark_read_as_a_tilde_or_equals_sign_is_written_as_a_dash_where_the_header_date_is_read(mark):
    # Held-out varied 491's interlaced frame: `02-Nav~2021` for StudyDate 20211102; 1181's
    # `15-Nav=2815` for 15-Nov-2019. A date is never written with a tilde or an equals sign,
    # so the span's own marks are not among its readings.
    line = f"25-Dac{mark}2017"
    assert read(line, {4: ("e", 0.3), 6: ("-", 0.3)}) == "25-Dec-2017"
    assert read(line, {4: ("e", 0.3), 6: ("-", 0.3)}, NOTHING_EXPECTED) == line
    readings = [r for _, _, rs in expected_spans(line, expected_words(HEADER)) for r, *_ in rs]
    assert "25-Dec-2017" in readings and not any(mark in r for r in readings)


def test_a_date_with_a_mark_lost_is_read_as_the_header_date():
    """`23/12017` for 23/12/2017 (held-out varied 1223's palette cine: the second slash and the
    2 after it read as one stroke): two groups, weighed with a mark in both places. Six
    characters are a month and its year; two letters make a code."""
    line = "DOB 10/101967"
    assert read(line, lost=[(6, "/")]) == "DOB 10/10/1967"
    assert read(line, lost=[(6, "/")], expected=NOTHING_EXPECTED) == line
    assert read(line, sure=0.9999) == line
    assert read("1967/1010", lost=[(3, "/")]) == "1967/10/10"            # year first
    for span in ("Exp 10.1967", "Acc AC/8352618"):
        assert not [r for _, _, rs in expected_spans(span, expected_words(HEADER)) for r, *_ in rs
                    if "/" in r or "." in r], span


def test_a_date_whose_middle_group_was_lost_between_its_marks_is_read_as_the_header_date():
    """`00..2022` for 08.08.2022 (held-out varied 1181, a CT's 4 px digits): two marks with
    nothing between them, weighed with a two-digit group in its place. One mark alone
    (`25.2017`) is no such date: a month and year, or a number."""
    line = "DOB 10..1967"
    assert read(line, lost=[(5, "1"), (6, "0")]) == "DOB 10.10.1967"
    assert read(line, lost=[(5, "1"), (6, "0")], expected=NOTHING_EXPECTED) == line
    assert read(line, sure=0.9999) == line                      # nothing lost there
    # or its time run into it (1217's CR: `10..201712:37:45` for 18.05.2017 12:37:45)
    assert read("DOB 10..196712:30:45", lost=[(6, "1")]) == "DOB 10.10.196712:30:45"
    assert read("DOB 10..196712:30:45", lost=[(6, "1")], expected=NOTHING_EXPECTED) == "DOB 10..196712:30:45"
    # and a digit added to its year (held-out varied 1213's CR: `17//29022` for 17/05/2022)
    assert [(start, end) for start, end, rs in expected_spans("DOB 10//19867", expected_words(HEADER))
            if "10/10/1967" in [r for r, *_ in rs]] == [(4, 13)]
    assert not expected_spans("Study 25.2017", expected_words(HEADER))


def test_a_one_read_as_a_slash_in_a_header_code_or_date_is_weighed_as_the_one():
    """A thin or italic face's `1` is a slanted stroke, read as `/`: `6576/401` for
    PatientID 65761401, `1976/013` for a birth date 19761013 (held-out varied 757's CR),
    `932/800956` (varied 1321), `2003//23` for 20031123 (varied 1361's MR). Each is weighed
    as the header value with a 1 for each slash; the recogniser decides."""
    line = "ID: 10/0679252 DOB 1967/010"
    assert read(line, {6: ("1", 0.3), 23: ("1", 0.3)}) == "ID: 1010679252 DOB 19671010"
    assert read(line, {6: ("1", 0.3), 23: ("1", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, sure=0.9999) == line                      # the slashes sure: as read
    two = expected_words((("PatientBirthDate", "20031123"),))
    assert "20031123" in [r for _, _, rs in expected_spans("DOB 2003//23", two) for r, *_ in rs]
    # Only where every other character is the value's: a date written with its marks, a
    # frame counter and a ratio are not the header's values.
    for span in ("10/10/1967", "DOB 1967/011", "Fr 1/3", "ID: 10/0679253"):
        assert not [r for _, _, rs in expected_spans(span, expected_words(HEADER)) for r, *_ in rs
                    if r in ("1010679252", "19671010")], span


def test_a_date_with_its_blank_read_as_a_colon_is_no_date_run_into_a_time():
    """`02.08.2023:11:53:58` (held-out varied 1259): the date and its time, the blank between
    them read as a colon. `23:11:53:58` is no time (four groups), so `02.08.20` is no date
    run into one, weighed against the header's `02.08.23`; the date as read stays."""
    header = (("StudyDate", "20230802"),)
    line = "02.08.2023:11:53:58"
    assert read(line, {7: ("3", 0.3)}, expected_words(header)) == line
    assert not [(start, end) for start, end, _ in expected_spans(line, expected_words(header)) if end == 8]
    # A date run into a time of three groups is still one (`2015052215:44:10`).
    assert read("02.08.2012:30:45", {7: ("3", 0.3)}, expected_words(header)) == "02.08.2312:30:45"


def test_a_months_name_with_a_letter_read_as_a_digit_is_weighed_as_the_name():
    """`11-0ct-2915` for 11-Oct-2015 (held-out varied 1277's CT): the month's O read as a
    zero, the year's 0 as a 9. Three characters with two letters are weighed as a month's
    name, and as its digits."""
    line = "DOB 10-0ct-1967"
    assert read(line, {7: ("O", 0.3)}) == "DOB 10-Oct-1967"
    assert read("DOB 10-0ct-1907", {7: ("O", 0.3), 13: ("6", 0.3)}) == "DOB 10-Oct-1967"
    assert read(line, {7: ("O", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, sure=0.9999) == line


@pytest.mark.parametrize("line", ["12:25:17", "08:12:26 2017", "Se:12:2017", "12:25.17"])
def test_colons_make_a_time_unless_a_year_stands_at_one_end(line):
    assert read(line, {1: ("5", 0.3)}) == line


def test_a_date_with_a_mark_read_as_a_colon_may_have_a_character_added_in_its_middle():
    """`23:408/2023` for 23/08/2023 (held-out varied 1291's MR): a slash read as a colon and
    a 4 added before the month, as a date's middle group may have (`24/083/1558`). The span
    is weighed against the header's date in its layout; `12:345:17` has no year at an end
    and stays a time's shape."""
    header = expected_words((("StudyDate", "20230823"),))
    readings = {r for start, end, rs in expected_spans("23:408/2023 15:06:43", header) if (start, end) == (0, 11)
                for r, *_ in rs}
    assert "23/08/2023" in readings
    assert not expected_spans("12:345:17", header)


def test_a_span_beside_its_values_word_is_weighed_against_the_words_that_fit_there_first():
    """`Gairmare Hospital`: alone, the likeliest header word is the patient's GAIRMORE (one
    letter off); beside `Hospital` only Raigmore fits (three letters off, each a close
    second), and the context round, now before the single words' round, takes it."""
    header = HEADER + (("PatientName", "GAIRMORE^ANNA"),)
    rival = {0: ("R", 0.3), 3: ("g", 0.3), 5: ("o", 0.3)}
    assert read("Gairmare Hospital", rival, expected_words(header)) == "Raigmore Hospital"
    # Without its neighbour, the single round's likeliest word.
    assert read("Gairmare 12", rival, expected_words(header)) == "Gairmore 12"


def test_a_names_parts_weighed_apart_are_then_weighed_as_the_name_with_its_caret():
    # `KHAM CATRIONA`: KHAM is weighed as KHAN (the name's two words as read were no name),
    # then the two as KHAN^CATRIONA, the caret a second to the space.
    assert read("KHAM CATRIONA", {3: ("N", 0.3), 4: ("^", 0.2)}) == "KHAN^CATRIONA"
    # The space sure: the two words stay apart.
    assert read("KHAM CATRIONA", {3: ("N", 0.3), 4: ("^", 1e-6)}) == "KHAN CATRIONA"


def test_a_screen_label_run_together_with_a_header_code_gets_its_blank_back():
    """`ACCRA10517189` (held-out varied 281): the label `Acc` and the accession number with
    the blank between them lost, which left the number no word of its own. Every character
    agrees with the header, so the blank is put back without weighing."""
    assert read("Ref DOE ACCCT98244087 R L") == "Ref DOE ACC CT98244087 R L"
    assert read("NHS1010679252 Acc:CT98244087") == "NHS 1010679252 Acc: CT98244087"
    assert read("ACCCT98244087", expected=NOTHING_EXPECTED) == "ACCCT98244087"
    # No screen label before it, a code read otherwise, or a run that is itself a header code.
    assert read("XYCT98244087 ACCCT98244081") == "XYCT98244087 ACCCT98244081"
    header = (("PatientID", "ID12345678"), ("AccessionNumber", "12345678"))
    assert read("ID12345678", expected=expected_words(header)) == "ID12345678"
    # The blank put back is one the line's ink check (line_text.spaces_from_ink) keeps: the
    # recogniser lost it because it is narrow.
    apart = expected_words(HEADER).written_apart
    assert {("acc", "ct98244087"), ("acc:", "ct98244087"), ("nhs", "1010679252")} <= apart
    assert ("w", "1010679252") not in apart and ("acc", "raigmore") not in apart


def test_a_value_read_as_the_header_writes_it_is_not_weighed_in_parts():
    """`May` of a birth date read right is no misread `MARY`, however likely the `r` the
    recogniser nearly read after its `a`."""
    header = expected_words((("PatientName", "DOE^MARY"), ("PatientBirthDate", "19870518")))
    assert read("DOB 18-May-1987", {}, header, lost=(8, "r")) == "DOB 18-May-1987"
    assert read("Ref May", {}, header, lost=(5, "r")) == "Ref Mary"   # a word alone is weighed


def test_a_date_read_with_a_blank_inside_is_weighed_joined():
    """A monospace `1` stands in a wide cell whose side bearings read as a blank: the words
    joined are weighed as the header's date; three words too, nearest the header first
    among the spans of two and three words that overlap."""
    from scp_scanner.ocr.expected import _JOINED

    assert read("DOB 1 0/10/1967", {}, blank_doubted=5) == "DOB 10/10/1967"
    assert read("DOB 1 0/10/1967", {}, NOTHING_EXPECTED, blank_doubted=5) == "DOB 1 0/10/1967"
    assert read("DOB 1 0/10/1967", {}, sure=0.9999) == "DOB 1 0/10/1967"      # sure: as read
    spans = expected_spans("DOB 1 0/10/1 967", expected_words(HEADER), _JOINED)
    assert [(a, b) for a, b, _ in spans] == [(4, 16)]
    assert "10/10/1967" in [r for r, *_ in spans[0][2]]
    # Eight digits read in groups are a date written without separators.
    spans = expected_spans("DOB 196 710 10", expected_words(HEADER), _JOINED)
    assert [(a, b) for a, b, _ in spans] == [(4, 14)] and "19671010" in [r for r, *_ in spans[0][2]]


@pytest.mark.parametrize("span", ["1.5/2.0", "Dr.J.Smith", "ab-cd-e1", "W:400 L:40"])
def test_marks_between_letters_or_a_single_digit_are_no_date(span):
    # Fewer than two of three groups hold a digit, the last has fewer than two characters, or
    # a colon makes it a label's value.
    from scp_scanner.ocr.expected import _DATE_SPAN, _date_readings

    dates_only = (((_DATE_SPAN, _date_readings),),)
    assert expected_spans(span, expected_words(HEADER), dates_only) == []
    # The same marks between digits are weighed as a date.
    assert expected_spans("1.5/2017", expected_words(HEADER), dates_only) != []


def test_a_radiograph_whose_hospital_the_recogniser_misreads_is_read_as_its_header_says(tmp_path):
    """A generated CR (classic case, tuning fonts, seed 1) whose 9-16 px face makes the
    recogniser read `Raignore` where `Raigmore Hospital` is burned in, as its InstitutionName
    says: read with the header, the hospital is read right; without it, as before."""
    import dicomgen
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine
    from scp_scanner.pipeline import Pipeline

    path = tmp_path / "cr.dcm"
    with dicomgen.classic_fonts("tuning"):
        dicomgen.build_case("cr_mono1", path, dicomgen._file_seed(1, "cr_mono1", 1))

    def whole_text(engine) -> str:
        rows = Pipeline(engine).process_file(path).rows
        return next(row.ocr_text for row in rows if row.left == -1)

    without = whole_text(RapidOcrEngine(header_words=False))
    assert "Raignore Hospital" in without         # the misread this test is about
    read = whole_text(RapidOcrEngine())
    assert "Raigmore Hospital" in read
    assert read.replace("Raigmore", "Raignore") == without      # nothing else changed


def test_a_birth_date_whose_ones_the_recogniser_read_as_slashes_is_read_as_the_header_says(tmp_path, monkeypatch):
    """Held-out varied seed 1361's second MR: the birth date 20031123 burned in a thin face,
    read `2003//23`, its two 1s as slashes. Weighed with its slashes read for 1s, it is read
    as the header's PatientBirthDate; without that reading, as before."""
    import dicomgen
    from scp_scanner.ocr import expected
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine
    from scp_scanner.pipeline import Pipeline

    path = dicomgen.make_varied_corpus(tmp_path, count=2, seed=1361, fonts="heldout", cases=["v_mr"])[1].path

    def whole_text() -> str:
        rows = Pipeline(RapidOcrEngine()).process_file(path).rows
        return next(row.ocr_text for row in rows if row.left == -1)

    assert "DOB 20031123" in whole_text()
    monkeypatch.setattr(expected, "_slashes_for_ones", lambda span, values: [])
    assert "DOB 2003//23" in whole_text()           # the misread this test is about


def test_header_values_are_weighed_on_the_recognisers_tempered_output(tmp_path, monkeypatch):
    """A generated MR overlay (classic case, held-out fonts, seed 41, seen since the
    twentieth round) whose 9 px Terminus makes the recogniser sure of `rbhassad` where
    PatientName MACDONALD^MOHAMMED is burned in as `Macdonald, Mohammed`. On its raw output
    the name is under NOT_EXPECTED as likely as the misreading; on the output tempered as the
    word prior reads it (RECOGNISER_TEMPERATURE, fitted on lines of the extra font
    families), whose likelihood ratios are calibrated, it is read."""
    import dicomgen
    from scp_scanner.ocr import rapidocr_engine
    from scp_scanner.pipeline import Pipeline

    path = tmp_path / "mr.dcm"
    with dicomgen.classic_fonts("heldout"):
        dicomgen.build_case("mr_overlay", path, dicomgen._file_seed(41, "mr_overlay", 1))

    def overlay_text() -> str:
        rows = Pipeline(rapidocr_engine.RapidOcrEngine()).process_file(path).rows
        return next(row.ocr_text for row in rows if row.left == -1 and row.overlay == 0)

    tempered = overlay_text()
    monkeypatch.setattr(rapidocr_engine, "RECOGNISER_TEMPERATURE", 1.0)
    raw = overlay_text()
    assert "rbhassad" in raw                          # the misreading this test is about
    assert "Mohammed" in tempered
    assert tempered.replace("Mohammed", "rbhassad") == raw      # nothing else changed


def test_a_three_letter_name_is_weighed_but_the_screens_words_beside_it_stay():
    """`Dae` for a PatientName DOE^AHMED (a held-out face's o read as a): a name's parts of
    three letters are header words; `DOB` and `Ref` read beside it stay, and a part of two
    letters is none (every two letters are near it)."""
    doe = expected_words([("PatientName", "DOE^AHMED"), ("ReferringPhysicianName", "LI^WEI")])
    assert set(doe.words) == {"doe", "ahmed", "wei"}
    assert read("Ahmed Dae", {7: ("o", 0.3)}, doe) == "Ahmed Doe"
    assert read("Ahmed Dae", {7: ("o", 0.3)}, expected_words(HEADER)) == "Ahmed Dae"
    assert read("DOB 12.03.1950", {2: ("E", 0.3)}, doe) == "DOB 12.03.1950"
    assert read("Ref DOE^AHMED", {2: ("e", 0.3)}, doe) == "Ref DOE^AHMED"


# Recogniser output that puts the header's letter at 0.002 beside a sure misread: the header
# word is about 1e-5 as likely as the reading, under NOT_EXPECTED (1e-4) alone and over it
# times BY_CHANCE (1e-7).
FAINT = 0.002


@pytest.mark.parametrize("line, rival, mended", [
    # The institution's own neighbour read beside the span, before it or after it.
    ("Raigmore Hcspital", {10: ("o", FAINT)}, "Raigmore Hospital"),
    ("Raignore Hospital", {4: ("m", FAINT)}, "Raigmore Hospital"),
    # A person's name is shown in either order.
    ("CATRIONA KHAM", {12: ("N", FAINT)}, "CATRIONA KHAN"),
    ("KHAM CATRIONA", {3: ("N", FAINT)}, "KHAN CATRIONA"),
    ("Ref Ferguson, Elizabeth", {14: ("b", FAINT)}, "Ref Ferguson, Elizabeth"),
    ("Ref Ferguson, Elizaheth", {19: ("b", FAINT)}, "Ref Ferguson, Elizabeth"),
    # A DICOM name's parts are neighbours across its caret (extra-font varied 306:
    # `HILSDH^PRIYA` where PatientName is WILSON^PRIYA).
    ("KHAM^CATRIONA", {3: ("N", FAINT)}, "KHAN^CATRIONA"),
    ("Ref KHAN^CATRIOMA", {15: ("N", FAINT)}, "Ref KHAN^CATRIONA"),
])
def test_a_misread_header_word_beside_its_own_neighbour_is_read_as_that_word(line, rival, mended):
    assert read(line, rival) == mended


@pytest.mark.parametrize("line, rival", [
    ("Hcspital", {1: ("o", FAINT)}),                    # alone
    ("Ninewells Hcspital", {11: ("o", FAINT)}),         # beside a word the header does not hold
    ("Hospital Raignore", {13: ("m", FAINT)}),          # an institution's words in another order
    ("KHAM^ELIZABETH", {3: ("N", FAINT)}),              # beside a given name that is not its own
    ("Raigmore Hcspital", {10: ("o", 1e-5)}),           # the header's letter no likelier than any other
])
def test_without_its_neighbour_a_faintly_doubted_span_stays_as_read(line, rival):
    assert read(line, rival) == line


# The header's letter at 3e-5 on its two steps: about 1e-9 as likely as the reading, under
# NOT_EXPECTED times BY_CHANCE (1e-7), over it times BY_CHANCE squared (1e-10).
FAINTER = 3e-5
WESTERN = expected_words((("InstitutionName", "Western General Hospital"),))


@pytest.mark.parametrize("line, rival, mended", [
    # Both neighbours of a value's three words in place, or two on one side: mended.
    ("Western Gemeral Hospital", {10: ("n", FAINTER)}, "Western General Hospital"),
    ("Westerm General Hospital", {6: ("n", FAINTER)}, "Western General Hospital"),
    ("Western General Hcspital", {17: ("o", FAINTER)}, "Western General Hospital"),
    # One neighbour only, or the other words not the value's: as read.
    ("General Hcspital", {9: ("o", FAINTER)}, "General Hcspital"),
    ("Eastern General Hcspital", {17: ("o", FAINTER)}, "Eastern General Hcspital"),
    ("Western Hcspital", {9: ("o", FAINTER)}, "Western Hcspital"),
])
def test_a_misread_word_with_two_of_its_values_words_in_place_is_read_as_that_word(line, rival, mended):
    assert read(line, rival, WESTERN) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line
    assert read(line, {}, WESTERN, sure=0.99999) == line      # a sure reading stands


@pytest.mark.parametrize("line, mended", [
    # A space read inside a header word or a DICOM name: every letter is the header's.
    ("WIL SON^AHMED", "WILSON^AHMED"),
    ("Ref WI LSON^AHMED 12", "Ref WILSON^AHMED 12"),
    ("WILSON^AH MED", "WILSON^AHMED"),
    ("WIL SON^ AHMED", "WILSON^AHMED"),          # and one read beside the caret
    ("WILSON ^AHMED", "WILSON^AHMED"),
    ("Raig more Hospital", "Raigmore Hospital"),
    ("Raigmore Hos pital", "Raigmore Hospital"),
    # extra varied 521: a DICOM name's caret lost as well, a space read in its given name.
    ("Ref WILSONAH MED", "Ref WILSON^AHMED"),
    ("Ref WilsonAh med", "Ref Wilson^Ahmed"),
    # Two header words stay two; letters that are not the header's stay as read.
    ("WILSON AHMED", "WILSON AHMED"),
    ("Raigmore Hospital", "Raigmore Hospital"),
    ("MAC DONALD", "MAC DONALD"),
    ("WIL SON^AHMAD", "WIL SON^AHMAD"),
    ("Hos pitals", "Hos pitals"),
])
def test_a_space_read_inside_a_header_word_or_name_is_taken_out(line, mended):
    header = HEADER + (("PatientName", "WILSON^AHMED"), ("ReferringPhysicianName", "MAC^DONALD"))
    # The recogniser sure of every character, its space too: no likelihood is weighed.
    assert read(line, expected=expected_words(header), sure=0.9999) == mended
    assert read(line, expected=NOTHING_EXPECTED, sure=0.9999) == line


def test_a_months_two_digits_read_as_letters_are_weighed_as_digits():
    """`07/BB/2023` for 07/08/2023 (a 5 px CR date): two letters in the month's place were
    weighed as a month's name only (`Aug`), so the header date never came up. Two letters
    are weighed as the month's digits as well as its name."""
    header = HEADER + (("StudyDate", "20230807"),)
    line = "Date 07/BB/2023"
    assert read(line, {8: ("0", 0.3), 9: ("8", 0.3)}, expected_words(header)) == "Date 07/08/2023"
    assert read(line, {8: ("0", 0.3), 9: ("8", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line
    # A month's name with a letter lost is still weighed as the name.
    assert read("DOB 10-Oc-1987", {12: ("6", 0.3)}, lost=(8, "t")) == "DOB 10-Oct-1967"


@pytest.mark.parametrize("line, rival, mended", [
    # Year, month and day run together into the time's hour (a CR's 5 px digits).
    ("2017122508:12:07", {7: ("5", 0.3)}, "2017122508:12:07"),
    ("2017122608:12:07", {7: ("5", 0.3)}, "2017122508:12:07"),
    # With its marks.
    ("2017-12-2608:12:07", {9: ("5", 0.3)}, "2017-12-2508:12:07"),
    ("26.12.201708:12:07", {1: ("5", 0.3)}, "25.12.201708:12:07"),
])
def test_a_date_run_into_its_time_is_weighed_as_the_header_date(line, rival, mended):
    """The blank between a date and its time lost (`2015052215:44:10`, held-out varied 541's
    CR): the date span ended only before a blank or a mark, so the date was weighed as a code
    of ten characters against the header's IDs. A date followed straight by a two-digit
    hour and its colon is weighed as a date."""
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line
    assert read(line, {}, sure=0.9999) == line


def test_a_date_before_a_one_digit_hour_is_not_cut_into_it():
    """Only a two-digit hour ends a run-together date: `2017-12-2518:12` is never taken as
    the date `2017-12-251` before an hour `8`."""
    from scp_scanner.ocr.expected import _SINGLE
    spans = [(start, end) for start, end, _ in expected_spans("2017-12-2618:12:07", expected_words(HEADER), _SINGLE)]
    assert (0, 10) in spans and not any(end == 11 for _, end in spans)


def test_a_mark_read_between_two_words_of_a_value_is_weighed_as_its_blank():
    """`Ninewells:Hospital` (extra varied 383, an 8 px face over colour speckle): a colon read
    in the blank between two words of the InstitutionName. Each word is the header's, so
    nothing weighed the mark; the pair with a blank is weighed against it."""
    header = (("InstitutionName", "Ninewells Hospital"), ("PatientName", "SMITH^JOHN"))
    line = "Ninewells:Hospital Acc"
    assert read(line, {9: (" ", 0.3)}, expected_words(header)) == "Ninewells Hospital Acc"
    assert read(line, {9: (" ", 0.3)}, NOTHING_EXPECTED) == line
    assert read(line, {}, expected_words(header), sure=0.9999) == line            # a colon it was sure of
    # A mark a value may write between its words stays as read (a hyphen, a comma, a stop).
    header += (("InstitutionName", "Aberdeen Royal Infirmary"),)
    assert read("Aberdeen Royal-Infirmary", {14: (" ", 0.3)}, expected_words(header)) == "Aberdeen Royal-Infirmary"
    assert read("Aberdeen Royal:Infirmary", {14: (" ", 0.3)}, expected_words(header)) == "Aberdeen Royal Infirmary"


@pytest.mark.parametrize("line, rival, mended", [
    # Both slashes read as 1s (held-out varied 487 and 569: `2110912016` for 21/09/2016).
    ("2511212017 08:12:07", {2: ("/", 0.3), 5: ("/", 0.3)}, "25/12/2017 08:12:07"),
    ("DOB 1011011967", {6: ("/", 0.3), 9: ("/", 0.3)}, "DOB 10/10/1967"),
    ("2017112125", {4: ("-", 0.3), 7: ("-", 0.3)}, "2017-12-25"),
    # Read as marks of a digit's shape (extra varied 409: `08|08|2017`, `21/12]1993`).
    ("25|12|2017 08:12:07", {2: ("/", 0.3), 5: ("/", 0.3)}, "25/12/2017 08:12:07"),
    ("DOB 10/10]1967", {9: ("/", 0.3)}, "DOB 10/10/1967"),
    # Ten digits are as well a code: the header's ID, a digit misread, is still weighed.
    ("ID 1010679262", {11: ("5", 0.3)}, "ID 1010679252"),
])
def test_a_date_with_its_marks_read_as_characters_is_weighed_with_the_codes(line, rival, mended):
    assert read(line, rival) == mended
    assert read(line, rival, NOTHING_EXPECTED) == line
    assert read(line, {}, sure=0.9999) == line


ABERDEEN = expected_words((("InstitutionName", "Aberdeen Royal Infirmary"), ("PatientName", "DOE^AHMED")))


@pytest.mark.parametrize("before, mended", [
    ("Aberdeen Royal ", "Aberdeen Royal Infirmary"),     # two of its value's words in place
    ("Royal ", "Royal Life rimsry"),                     # one of them only
    ("Aberdeen ", "Aberdeen Life rimsry"),               # a value word, but not its neighbour
    ("", "Life rimsry"),                                 # alone
])
def test_a_values_word_read_as_two_garbled_words_is_weighed_beside_its_neighbours(before, mended):
    """`Aberdeen Royal Life rimsry` (held-out varied 1163, a 7 px magenta interlaced frame):
    two words for `Infirmary`, each as far from it as both together, so the split-word
    round never weighed them; beside their value's words in place they are (its four letters
    misread and two characters added are together about 6 nats under the reading)."""
    o = len(before)
    garbled = dict(rival={o: ("I", 0.3), o + 1: ("n", 0.3), o + 3: ("i", 0.3), o + 8: ("a", 0.3)},
                   blank_doubted=(o + 4, o + 6))
    line = before + "Life rimsry"
    assert read(line, expected=ABERDEEN, **garbled) == mended
    assert read(line, expected=NOTHING_EXPECTED, **garbled) == line
    assert read(line, expected=ABERDEEN, sure=0.9999) == line      # a sure reading stands


def test_a_screen_word_with_two_of_a_values_words_in_place_is_weighed_as_that_values_word():
    """`Water General Hospital` (held-out varied 599): `water` is an MR screen word, so the
    span was left as read though both of its neighbours are the InstitutionName's. With two
    of a value's words in place beside it, a screen word is weighed against that value's
    word; with one (`Ref` before a family name), or none, it stays."""
    from test_lexicon import ALPHABET

    def output(line: str) -> np.ndarray:
        """`line`'s output with `e` the close second of its `a` and `s` and `n` the runners-up
        on the blank steps after `a` and `r`: the recogniser's doubt between Water and
        Western."""
        probs = greedy_steps(line, {line.index("a"): ("e", 0.4)})
        for after, letter in ((line.index("a"), "s"), (line.index("r"), "n")):
            probs[3 * after + 2] = (1 - 0.95) / (len(ALPHABET) - 2)
            probs[3 * after + 2, 0], probs[3 * after + 2, INDEX[letter]] = 0.6, 0.35
        return probs

    header = expected_words([("InstitutionName", "Western General Hospital"), ("PatientName", "DOE^FIONA")])
    for line, mended in (("Water General Hospital", "Western General Hospital"),
                         ("Water Hospital", "Water Hospital"),
                         ("Water DOE", "Water DOE")):
        probs = output(line)
        assert mend_expected(line, steps_of(probs), probs, INDEX, header)[0] == mended
        assert mend_expected(line, steps_of(probs), probs, INDEX, NOTHING_EXPECTED)[0] == line


def test_a_code_read_with_letters_of_its_digits_shape_is_the_header_code():
    """Held-out varied 1433's NHS number in 10 px FreeMono read `B25 D27 36D5` on two frames,
    and extra varied 563's accession number `RA3BDB7724`: the recogniser sure of each letter,
    the header's value was never near enough to be weighed. A run that is a header code but
    for letters of its digits' shapes in some of their places is that code, its blanks where
    they were read; nothing else is written so."""
    from scp_scanner.ocr.expected import lookalike_code_spans

    expected = expected_words(HEADER + (("OtherPatientIDs", "8250273605"),))
    # Sure of every letter (a millionth for the digit): written as the header's codes anyway.
    assert read("NHS B25 D27 36D5", sure=0.999999, expected=expected) == "NHS 825 027 3605"
    assert read("Acc CT9B244DB7", sure=0.999999) == "Acc CT98244087"
    assert read("ID: 1Dl0679252", sure=0.999999) == "ID: 1010679252"
    spans = lookalike_code_spans
    # Another character than a shape's (a 3 for a 9), a letter where the code has a letter
    # (`CI` for CT), more letters than digits read right, a word of letters: left as read.
    assert spans("NHS B25 D27 36D9", expected) == []
    assert spans("Acc CI98244087", expected) == []
    assert spans("BBDBDB", expected_words((("PatientID", "880808"),))) == []
    assert spans("BOSSI", expected_words((("PatientID", "80551"),))) == []
    # A name's part after a caret is no code; the header code itself is left alone.
    assert spans("KHAN^1Dl0679252", expected) == [] and spans("1010679252", expected) == []
    assert read("NHS B25 D27 36D5", sure=0.999999) == "NHS B25 D27 36D5"      # not this header's


def test_a_zero_read_as_eight_in_a_header_code_or_date_is_the_header_value():
    """A zero with a slash or a dot inside (Terminus, JetBrains Mono, the misc-clean bitmaps)
    reads as 8 at small sizes, with confidence: `2828-85-18` for 2020-05-10 (varied 1249's
    CT, 8 px Terminus), `277748185` and `14.84.2817` (extra varied 773's CR, 8 px JetBrains
    Mono). A header code or date, in the reading's own layout and marks, with 8s in some of
    its zeros' places and as many of its digits read as themselves, is the header value."""
    from scp_scanner.ocr.expected import lookalike_code_spans

    assert read("DOB 1967-18-18", sure=0.999999) == "DOB 1967-10-10"
    assert read("25.12.2817 08:12:07", sure=0.999999) == "25.12.2017 08:12:07"
    assert read("DOB 19671818", sure=0.999999) == "DOB 19671010"
    assert read("ID 1818679252", sure=0.999999) == "ID 1010679252"
    assert read("Acc CT98244887", sure=0.999999) == "Acc CT98244087"
    spans = lookalike_code_spans
    expected = expected_words(HEADER)
    # No header value there (another date, another digit than an 8 in a zero's place, a
    # setting), more eights than digits read right, the header's value itself: left as read.
    assert read("DOB 1967-18-18", sure=0.999999, expected=NOTHING_EXPECTED) == "DOB 1967-18-18"
    assert spans("DOB 1967-18-19", expected) == [] and spans("1968-10-10", expected) == []
    assert spans("mAs 258 kVp 128", expected) == [] and spans("DOB 1967-10-10", expected) == []
    assert spans("1888888", expected_words((("PatientID", "1000000"),))) == []
    # A reading that is another header code is that code, not this one's look-alike.
    both = expected_words((("PatientID", "1000800"), ("OtherPatientIDs", "1800800")))
    assert spans("ID 1800800", both) == []


def test_a_date_whose_colon_stands_beside_another_mark_is_written_with_that_mark_in_both_places():
    """A date writes its two marks alike (EXIF's colons too), so a colon beside a stop or a
    hyphen is that mark misread (`26.02:2017`, `2018-10:06`: 34 such dates over 91 corpora's
    rows): weighed as read and written with the other mark. A colon date's year may hold a
    digit added, as a date's may (`10:02.20824`, varied 1459's endoscopy frame)."""
    assert read("25.12:2017") == "25.12.2017"
    assert read("DOB 1967-10:10") == "DOB 1967-10-10"
    assert read("25.12:2017", expected=NOTHING_EXPECTED) == "25.12:2017"      # no header date
    assert read("2017:12:25") == "2017:12:25"                                  # both colons
    assert read("10:10.19670", blank_doubted=10) == "10.10.1967"
    assert read("10:10.19670", blank_doubted=10, expected=NOTHING_EXPECTED) == "10:10.19670"


def test_a_date_with_a_months_name_and_one_mark_lost_is_weighed_as_the_header_date():
    """`14Amg-1951` for 14-Aug-1951 (varied 1459's CR, 7 px): a month's name run into its
    day on one side, its mark kept on the other; weighed as the header's dates with the mark
    in both places."""
    assert read("DOB 10Ocf-1967", {8: ("t", 0.3)}) == "DOB 10-Oct-1967"
    assert read("DOB 10-Ocf1967", {9: ("t", 0.3)}, lost=(9, "-")) == "DOB 10-Oct-1967"
    assert read("DOB 10Ocf-1967", {8: ("t", 0.3)}, expected=NOTHING_EXPECTED) == "DOB 10Ocf-1967"
    assert read("DOB 10Ocf-1967", {8: ("t", 1e-6)}) == "DOB 10Ocf-1967"          # sure: as read


def test_a_unit_the_recogniser_misread_is_read_as_no_header_name(tmp_path, monkeypatch):
    """Held-out varied 2153's safe-text image (no identifier in it): `5 mm` in 12 px X11
    Clean italic (clI6x12), which the recogniser read `5 momo` and the word prior `5 mono`.
    ReferringPhysicianName is ROBERTSON^MARY, and MARY came within NOT_EXPECTED of `momo`, so
    the line was read `5 mary`, a given name, and the clean image flagged. In a unit's place
    `mm` is far likelier than MARY under the recogniser's output (units_first): the span
    stays as read and nothing is flagged; without that weighing, as before."""
    import dicomgen
    from scp_scanner import pii
    from scp_scanner.ocr import expected
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine
    from scp_scanner.pipeline import Pipeline

    path = tmp_path / "v_safe_text_003.dcm"
    _, style = dicomgen.build_varied_case("v_safe_text", path,
                                          dicomgen.varied_file_seed(2153, "v_safe_text", 3), "heldout")
    assert style["face"] == "clI6x12.pcf.gz", style
    ner = pii.create("spacy")

    def whole():
        rows = Pipeline(RapidOcrEngine(), ner).process_file(path).rows
        return next(row for row in rows if row.left == -1)

    read = whole()
    assert "mary" not in read.ocr_text.lower().split() and read.is_sensitive == 0, read.ocr_text
    monkeypatch.setattr(expected, "units_first", lambda text, steps, probs, index, found: found)
    read = whole()
    assert "5 mary" in read.ocr_text and read.is_sensitive == 1      # the misread this test is about


def test_a_header_name_read_beside_a_number_is_still_weighed():
    """A word after a number stands in a unit's place, but a name the recogniser nearly read
    there is far likelier than any unit: it is weighed as the header's name as before."""
    assert read("Fr 1 FERGUSQN", {11: ("O", 0.3)}) == "Fr 1 FERGUSON"
    assert read("5 KHAM", {5: ("N", 0.3)}) == "5 KHAN"
