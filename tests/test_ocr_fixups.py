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
    a, b = TextBox("DOE", 0, 0, 40, 20), TextBox("JOHN", 50, 0, 100, 20)
    letters = [(0, 0, 20, 10), (0, 15, 20, 25), (0, 30, 20, 40), (0, 50, 20, 60), (0, 65, 20, 75)]
    caret = line_with(letters + [(2, 43, 7, 47)])          # a mark in the upper half of the gap
    space = line_with(letters)
    low_mark = line_with(letters + [(14, 43, 18, 47)])     # a mark in the lower half: not a caret
    assert fixups.caret_in_gap(caret, a, b)
    assert not fixups.caret_in_gap(space, a, b)
    assert not fixups.caret_in_gap(low_mark, a, b)
    joined = fixups.join_split_names(caret, [a, b])
    assert [w.text for w in joined] == ["DOE^JOHN"]
    assert [w.text for w in fixups.join_split_names(space, [a, b])] == ["DOE", "JOHN"]


def test_a_word_split_at_a_letter_gap_is_joined_and_a_space_is_kept():
    pixels = line_with([])
    split = [TextBox("MAC", 0, 0, 30, 20), TextBox("DONALD", 34, 0, 90, 20)]     # gap 4 < 0.35 * 20
    spaced = [TextBox("JOHN", 0, 0, 30, 20), TextBox("SMITH", 40, 0, 90, 20)]    # gap 10
    assert [w.text for w in fixups.join_split_names(pixels, split)] == ["MACDONALD"]
    assert [w.text for w in fixups.join_split_names(pixels, spaced)] == ["JOHN", "SMITH"]


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
