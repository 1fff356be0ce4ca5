"""OCR fix-ups in context (pure functions on TextBoxes and tiny arrays)."""
from __future__ import annotations

import numpy as np
import pytest

from scp_scanner.model import TextBox
from scp_scanner.ocr import fixups, prepare


def words(*specs):
    """(text, left, right) on one 10-px line."""
    return [TextBox(text, left, 0, right, 10, 50.0) for text, left, right in specs]


@pytest.mark.parametrize("read, joined", [
    (("DOE*JOHN",), "DOE^JOHN"),
    (("DOE“JOHN",), "DOE^JOHN"),
    (("Doe^John",), "Doe^John"),
])
def test_caret_lookalike_inside_a_word_becomes_caret(read, joined):
    (box,) = fixups.join_dicom_names(words((read[0], 0, 80)))
    assert box.text == joined


def test_names_split_around_a_caret_lookalike_are_joined_with_one_box():
    for specs in ([("DOE*", 0, 40), ("JOHN", 45, 90)],
                  [("DOE", 0, 30), ("“JOHN", 35, 90)],
                  [("DOE", 0, 30), ("*", 33, 38), ("JOHN", 42, 90)],
                  [("DUNCAN", 0, 150), ("*", 70, 78), ("ELIZABETH", 80, 150)]):   # first box spans the line
        (box,) = fixups.join_dicom_names(words(*specs))
        assert box.text in ("DOE^JOHN", "DUNCAN^ELIZABETH")
        assert (box.left, box.right) == (0, specs[-1][2])


def test_words_far_apart_or_not_names_are_left_alone():
    kept = fixups.join_dicom_names(words(("DOE*", 0, 40), ("JOHN", 200, 240)))
    assert [w.text for w in kept] == ["DOE*", "JOHN"]
    kept = fixups.join_dicom_names(words(("W:400", 0, 40), ("*", 45, 50), ("L:40", 55, 80)))
    assert [w.text for w in kept] == ["W:400", "*", "L:40"]


def line_with(marks: list[tuple[int, int, int, int]]) -> np.ndarray:
    """A 20x100 white line with black rectangles (top, left, bottom, right)."""
    pixels = np.full((20, 100), 255, np.uint8)
    for top, left, bottom, right in marks:
        pixels[top:bottom, left:right] = 0
    return pixels


def test_a_dropped_caret_between_two_names_is_seen_in_the_ink():
    # Letters 10 px wide, 5 px apart; the words 20 px apart (a space is several letter gaps).
    a, b = TextBox("DOE", 0, 0, 40, 20), TextBox("JOHN", 60, 0, 100, 20)
    letters_ = [(0, 0, 20, 10), (0, 15, 20, 25), (0, 30, 20, 40), (0, 60, 20, 70), (0, 75, 20, 85)]
    caret = line_with(letters_ + [(2, 48, 7, 52)])         # a mark in the upper half of the gap
    space = line_with(letters_)
    low_mark = line_with(letters_ + [(14, 48, 18, 52)])    # a mark in the lower half: not a caret
    assert fixups.caret_in_gap(caret, a, b)
    assert not fixups.caret_in_gap(space, a, b)
    assert not fixups.caret_in_gap(low_mark, a, b)
    joined = fixups.join_split_names(caret, [a, b])
    assert [w.text for w in joined] == ["DOE^JOHN"]
    assert [w.text for w in fixups.join_split_names(space, [a, b])] == ["DOE", "JOHN"]


def letters(starts: list[int], width: int = 6) -> list[tuple[int, int, int, int]]:
    return [(2, left, 18, left + width) for left in starts]


def test_a_word_split_at_a_letter_gap_is_joined_and_a_space_is_kept():
    # Letters 6 px wide with 3 px gaps: "MAC" at 0-24, then "DON" 3 px later: a letter gap.
    split_pixels = line_with(letters([0, 9, 18, 27, 36, 45]))
    split = [TextBox("MAC", 0, 2, 24, 18), TextBox("DON", 27, 2, 51, 18)]
    assert [w.text for w in fixups.join_split_names(split_pixels, split)] == ["MACDON"]
    # The same letters with a 12 px gap (four letter gaps) between the words: a space.
    spaced_pixels = line_with(letters([0, 9, 18, 36, 45, 54]))
    spaced = [TextBox("JOE", 0, 2, 24, 18), TextBox("SMI", 36, 2, 60, 18)]
    assert [w.text for w in fixups.join_split_names(spaced_pixels, spaced)] == ["JOE", "SMI"]
    assert fixups.letter_gap(split_pixels, split) == 3
    assert fixups.letter_gap(line_with([]), split) is None


@pytest.mark.parametrize("read, fixed", [
    ("O1-Mar-1977", "01-Mar-1977"),
    ("RASO130260", "RA50130260"),
    ("l2/O3/1961", "12/03/1961"),
    ("RA&4287436", "RA84287436"),
    ("DOE^JOHN", "DOE^JOHN"),          # no digits: untouched
    ("CASE1234", "CASE1234"),          # S not touching a digit
    ("Im:45", "Im:45"),                # too few digits to be a number
])
def test_digit_lookalikes_touching_digits_become_digits(read, fixed):
    assert fixups.fix_digit_lookalikes(read) == fixed


def test_a_leading_l_before_a_capitalised_word_is_a_capital_i():
    fixed = fixups.capital_i_names(words(("lain", 0, 30), ("Fraser", 35, 80)))
    assert [w.text for w in fixed] == ["Iain", "Fraser"]
    kept = fixups.capital_i_names(words(("Left", 0, 30), ("lateral", 35, 80)))
    assert [w.text for w in kept] == ["Left", "lateral"]


def test_enlarge_smooths_binary_masks_but_keeps_their_extent():
    piece = np.full((10, 10), 255, np.uint8)
    piece[3:7, 3:7] = 0
    big = prepare.enlarge(piece, 3, binary=True)
    assert big.shape == (30, 30)
    assert big[15, 15] < 64 and big[0, 0] > 230                  # ink stays ink, paper stays paper
    assert ((big > 0) & (big < 255)).sum() > 0                   # edges are smooth, not stepped
    assert prepare.enlarge(piece, 2, binary=False).shape == (20, 20)


@pytest.mark.parametrize("first, second, joined", [
    ("MAC", "DONALD", True), ("MAC", "DONALD^SARAH", True), ("Nir", "evells", True),
    ("St", "Mary's", False), ("120", "mAs", False), ("mAs", "250", False), ("ID", "9434", False),
    ("JOHN", "Smith", False),
])
def test_only_letters_that_can_continue_a_word_are_joined(first, second, joined):
    assert fixups.continues(first, second) is joined


@pytest.mark.parametrize("read, mended", [
    ("DOB 23-Dee1974 Acc", "DOB 23-Dec-1974 Acc"),     # one letter off, a separator lost
    ("18-0ct-2025 10:25:21", "18-Oct-2025 10:25:21"),  # a digit look-alike
    ("13-Ju1-2022", "13-Jul-2022"),
    ("26-Har-2016", "26-Mar-2016"),
    ("DOB 15- Jun-1969", "DOB 15-Jun-1969"),           # a space read after the hyphen
    ("03-jan- 1985", "03-jan-1985"),                   # the case read is kept
    ("12 JUN 2019", "12 JUN 2019"),
    ("12 JAM 2019", "12 JAN 2019"),
])
def test_a_month_read_wrong_in_a_date_is_mended(read, mended):
    assert fixups.month_names(read) == mended


@pytest.mark.parametrize("read", [
    "04-Jut-2025",          # Jul or Jun: a tie is left as read
    "23-5m-2022",           # one letter only
    "NHS 12 345 6789",      # no letters
    "Se 12 ABC 2020",       # not near any month
    "1.2-Oct-2020",         # part of a longer number
    "12-May-2020 14:10:48",  # already right
    "kVp 80 AP 1024",       # two letters between numbers, no hyphen: a view, not a month
])
def test_text_that_is_not_a_misread_month_is_left_alone(read):
    assert fixups.month_names(read) == read


def test_the_nearest_month_must_be_the_only_nearest():
    assert fixups.nearest_month("Dee") == "Dec"
    assert fixups.nearest_month("0ct") == "Oct"
    assert fixups.nearest_month("Jut") is None
    assert fixups.nearest_month("XYZ") is None


def test_word_shape_keeps_separators_and_folds_digits_and_letters():
    assert fixups.word_shape("13:03:52") == fixups.word_shape("23:59:07") == "99:99:99"
    assert fixups.word_shape("2/4") == "9/9" != fixups.word_shape("214")
    assert fixups.word_shape("Frame") == "aaaaa" and fixups.word_shape("CT98798356") == "aa99999999"
    assert fixups.word_shape("12-Jun-1993") == "99-aaa-9999"
