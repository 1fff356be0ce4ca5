"""The screen's short words read as the likeliest word of their slot (ocr/labels.py)."""
from __future__ import annotations

import pytest

from scp_scanner.ocr.labels import label_readings, label_spans, mend_labels, one_edit
from scp_scanner.pii.safe_text import UNITS, VALUE_LABELS
from test_lexicon import ALPHABET, INDEX, greedy_steps, steps_of


def read(line: str, rival: dict[int, tuple[str, float]] | None = None,
         protected: frozenset[str] = frozenset()) -> str:
    """The line as mend_labels reads it from recogniser output for `line` whose characters
    are sure (0.999, the rest spread over the alphabet: a real model's other classes are as
    unlikely) but for `rival` {i: (second choice, its probability)}."""
    probs = greedy_steps(line, rival, sure=0.999)
    text, steps = mend_labels(line, steps_of(probs), probs, INDEX, protected)
    assert len(steps) == len(text)
    return text


def test_one_edit_counts_a_changed_added_or_dropped_character_and_look_alikes_as_free():
    assert one_edit("in", "im") and one_edit("nfs", "hfs") and one_edit("ch", "chi")
    assert one_edit("mmn", "mm") and one_edit("rcc", "acc")
    assert one_edit("d08", "dob")                 # 0 and 8 read for O and B cost nothing
    assert one_edit("1m", "im") and one_edit("|d", "id") and one_edit("m4s", "mas")
    assert not one_edit("amo", "mm") and not one_edit("ab", "abcd")
    # No other digit is changed or dropped: it is the value's.
    assert not one_edit("fr2", "fr") and not one_edit("s3", "se") and not one_edit("p7", "pa")


def test_a_slot_weighs_its_own_vocabulary_in_every_way_it_is_written():
    assert set(label_readings("In", VALUE_LABELS)) >= {"Im", "IM", "im", "ID", "Id"}
    assert "kVp" in label_readings("kVq", VALUE_LABELS)
    assert "mm" in label_readings("nm", UNITS) and "Im" not in label_readings("nm", UNITS)


@pytest.mark.parametrize("line, word", [
    ("Se:3 In:45", "In"),                 # before a colon and a number: a value's label
    ("5 nm", "nm"), ("20Hx", "Hx"),       # after a number: a unit
    ("D08 19480111", "D08"),              # before a number: a label
    ("Ret FRASER^IAIN", "Ret"),           # before a DICOM name
    ("Rcc AC97154281", "Rcc"),            # before a code
    ("NFS", "NFS"),                       # alone in its box: any of the screen's words
])
def test_short_words_in_a_slot_that_are_not_of_its_vocabulary_are_weighed(line, word):
    spans = label_spans(line)
    assert [line[start:end] for start, end, _ in spans] == [word]


@pytest.mark.parametrize("line", [
    "Se:3 Im:45 W:400 L:40", "kVp 120 mAs 250 5 mm", "DOB 12.03.1950", "Ref DOE^JOHN",
    "HFS", "3627 DOB",                   # of the slot's vocabulary, or a label after a number
    "In the", "V:40",                    # no slot; a single letter
    "Ian", "NG 45", "Li:3",              # short names are never weighed
    "ABDOMEN 120",                       # over four letters: the English word prior's
])
def test_words_of_their_slot_and_words_out_of_any_slot_are_left_alone(line):
    assert label_spans(line) == []


def test_a_part_of_the_instances_own_name_is_never_weighed():
    assert label_spans("Pim 45") and not label_spans("Pim 45", frozenset({"pim"}))


@pytest.mark.parametrize("line, rival, mended", [
    ("Se:3 In:45", {6: ("m", 0.01)}, "Se:3 Im:45"),
    ("5 nm", {2: ("m", 0.01)}, "5 mm"),
    ("D08 19480111", {1: ("O", 0.1), 2: ("B", 0.1)}, "DOB 19480111"),
    ("MHS 8047401173", {0: ("N", 0.01)}, "NHS 8047401173"),
    ("m4s 250", {1: ("A", 0.01)}, "mAs 250"),
    ("HIS", {1: ("F", 0.03)}, "HFS"),     # alone: one of ~740 words, so a closer second
])
def test_a_word_the_recogniser_doubted_is_read_as_the_slots_word_it_nearly_is(line, rival, mended):
    assert read(line, rival) == mended


@pytest.mark.parametrize("line, rival", [
    ("Se:3 In:45", None),                 # sure of it: the vocabulary's word is far less likely
    ("Se:3 In:45", {6: ("m", 1e-3)}),
    ("HIS", {1: ("F", 0.01)}),            # alone: a second that a label's slot would take
])
def test_a_word_the_recogniser_was_sure_of_stays_as_read(line, rival):
    assert read(line, rival) == line


def test_a_protected_word_stays_as_read_however_doubted():
    assert read("Se:3 Tm:45", {5: ("I", 0.1)}) == "Se:3 Im:45"
    assert read("Se:3 Tm:45", {5: ("I", 0.1)}, frozenset({"tm"})) == "Se:3 Tm:45"


@pytest.mark.parametrize("case, index, misread, mended", [
    ("sc_grey_jpeg_baseline", 2, "D08 21/11/1978", "DOB 21/11/1978"),
    ("ct_rle", 4, "5 mmn mAs", "5 mm mAs"),
])
def test_generated_images_whose_labels_the_recogniser_misreads_are_read_right(tmp_path, case, index,
                                                                              misread, mended):
    """Generated files (classic cases, tuning fonts, seed 1) whose face makes the recogniser
    read `D08` for the `DOB` label and `5 mmn` for `5 mm`: read with the screen's words they
    are read right; without them, as before, and nothing else on the line changes."""
    import dicomgen
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine
    from scp_scanner.pipeline import Pipeline

    path = tmp_path / f"{case}.dcm"
    with dicomgen.classic_fonts("tuning"):
        dicomgen.build_case(case, path, dicomgen._file_seed(1, case, index))

    def whole_text(engine) -> str:
        rows = Pipeline(engine).process_file(path).rows
        return next(row.ocr_text for row in rows if row.left == -1)

    without = whole_text(RapidOcrEngine(screen_words=False))
    assert misread in without                   # the misread this test is about
    read = whole_text(RapidOcrEngine())
    assert mended in read and read.replace(mended, misread) == without


def test_a_units_first_letter_run_into_its_number_may_be_the_numbers_digit():
    """`2OHz`: run into the number, the unit's `O` may be the number's 0; `0Hz` is weighed
    beside the units, and read where the recogniser had 0 a close second. A unit after a
    space, or a letter that is no digit's look-alike, gets no such reading."""
    assert "0Hz" in [r for start, end, readings in label_spans("2OHz") for r, _ in readings]
    assert "0Hz" not in [r for start, end, readings in label_spans("5 OHz") for r, _ in readings]
    assert read("2OHz", {1: ("0", 0.3)}) == "20Hz"
    assert read("2OHz") == "2OHz"                       # sure of the O: as read


def _collapsed(line: str, at: int, blank: float):
    """Output for `line` whose doubled letter at `at`, `at + 1` is read as one run: the blank
    step between the two has the letter at 1 - blank and the blank at `blank`."""
    probs = greedy_steps(line, sure=0.999)
    gap = 3 * at + 2                        # the blank step after character `at`
    probs[gap, :] = (1 - 0.999) / (probs.shape[1] - 1)
    probs[gap, INDEX[line[at]]] = 1 - blank - 0.001
    probs[gap, 0] = blank
    return probs


@pytest.mark.parametrize("blank, mended", [
    (0.05, "ABDOMEN 5 mm HFS"),     # a blank a close second between the two: the doubled unit
    (1e-5, "ABDOMEN 5 m HFS"),      # the run sure to be one letter: as read
])
def test_a_lone_m_after_a_number_is_weighed_as_mm(blank, mended):
    probs = _collapsed("ABDOMEN 5 mm HFS", 10, blank)
    steps = steps_of(probs)
    text = "".join(ALPHABET[probs[s].argmax()] for s in steps)
    assert text == "ABDOMEN 5 m HFS"            # greedy decoding keeps one m
    mended_text, mended_steps = mend_labels(text, steps, probs, INDEX)
    assert mended_text == mended and len(mended_steps) == len(mended_text)


def test_a_lone_letter_is_weighed_only_as_a_doubled_unit_after_a_number():
    from scp_scanner.ocr.labels import doubled_unit_spans

    assert [(a, b, r) for a, b, r in doubled_unit_spans("5 m 2.5 M")] == [
        (2, 3, [("mm", 0.0)]), (8, 9, [("MM", 0.0)])]
    for line in ("5m", "Se:3 m", "x5 m", "5 L", "37 C", "5 mm"):
        assert doubled_unit_spans(line) == [], line


@pytest.mark.parametrize("line, rival, mended", [
    ("H:400 L:40", {0: ("W", 0.2)}, "W:400 L:40"),           # W a close second: the window
    ("Se:3 M:400 L:40", {5: ("W", 0.2)}, "Se:3 W:400 L:40"),
    ("H:400 L:40", {0: ("W", 1e-5)}, "H:400 L:40"),          # the H sure: as read
    ("H:400 C:40", {0: ("W", 0.2)}, "H:400 C:40"),           # no level after it
    ("AH:400 L:40", {1: ("W", 0.2)}, "AH:400 L:40"),         # not a one-letter label
])
def test_a_one_letter_label_before_a_level_is_weighed_as_the_window_width(line, rival, mended):
    assert read(line, rival) == mended


@pytest.mark.parametrize("line, rival, mended", [
    ("W:400 1:40", {6: ("L", 0.2)}, "W:400 L:40"),           # L a close second: the level
    ("W: 350 I:40", {7: ("L", 0.2)}, "W: 350 L:40"),
    ("W:400 1:40", {6: ("L", 1e-5)}, "W:400 1:40"),          # the 1 sure: as read
    ("W:400 1 40", {6: ("L", 0.2)}, "W:400 1 40"),           # no colon: not a label's slot
    ("AW:400 1:40", {7: ("L", 0.2)}, "AW:400 1:40"),         # not after the window's width
])
def test_a_one_character_label_after_the_window_width_is_weighed_as_its_level(line, rival, mended):
    assert read(line, rival) == mended


@pytest.mark.parametrize("line, rival, mended", [
    ("Se:3 Id:45", {6: ("m", 0.2)}, "Se:3 Im:45"),           # m a close second: the image
    ("Se: 12 ld:7", {7: ("I", 0.3), 8: ("m", 0.3)}, "Se: 12 Im:7"),
    ("Se:3 Id:45", {6: ("m", 1e-5)}, "Se:3 Id:45"),          # the d sure: as read
    ("Se:3 Id 45", {6: ("m", 0.2)}, "Se:3 Id 45"),           # no colon: not a label's slot
    ("Ac:3 Id:45", {6: ("m", 0.2)}, "Ac:3 Id:45"),           # not after the series
    # Its colon lost or read as another mark (held-out fonts: `Se:3 1m45`, `Se:3 1m.45`).
    ("Se:3 1m45", {5: ("I", 0.3)}, "Se:3 Im45"),
    ("Se:3 1m.45", {5: ("I", 0.3)}, "Se:3 Im.45"),
    ("Se:3 1m45", {5: ("I", 1e-5)}, "Se:3 1m45"),           # the 1 sure: as read
    # Read as digits, before its colon (`Se:3 10:45`).
    ("Se:3 10:45", {5: ("I", 0.3), 6: ("m", 0.3)}, "Se:3 Im:45"),
    ("Se:3 10:45", {5: ("I", 1e-5), 6: ("m", 1e-5)}, "Se:3 10:45"),
    # Digits before a digit are the number's own.
    ("Se:3 145", {5: ("I", 0.3)}, "Se:3 145"),
])
def test_a_short_label_after_the_series_number_is_weighed_as_the_image_number(line, rival, mended):
    assert read(line, rival) == mended


@pytest.mark.parametrize("line, rival, mended", [
    # D, O and B close seconds: the date's label
    ("008 07/09/1943", {0: ("D", 0.45), 1: ("O", 0.4), 2: ("B", 0.4)}, "DOB 07/09/1943"),
    ("Ref 009 14-Apr-2004", {4: ("D", 0.45), 5: ("O", 0.4), 6: ("B", 0.4)}, "Ref DOB 14-Apr-2004"),
    ("008 19480111", {0: ("D", 0.45), 1: ("O", 0.4), 2: ("B", 0.4)}, "DOB 19480111"),
    # the digits sure: as read
    ("008 07/09/1943", {0: ("D", 0.01), 1: ("O", 0.01), 2: ("B", 0.01)}, "008 07/09/1943"),
    # a time, four digits: no date's label
    ("008 12:30:45", {0: ("D", 0.45), 1: ("O", 0.4), 2: ("B", 0.4)}, "008 12:30:45"),
    ("1008 07/09/1943", {1: ("D", 0.45), 2: ("O", 0.4), 3: ("B", 0.4)}, "1008 07/09/1943"),
])
def test_three_digits_before_a_date_are_weighed_as_its_label(line, rival, mended):
    assert read(line, rival) == mended
