"""The English word prior that mends words the recogniser misread by a letter (ocr/lexicon.py)."""
from __future__ import annotations

import itertools
import math
import string
import sys

import numpy as np
import pytest

import dicomgen
from scp_scanner.ocr import lexicon
from scp_scanner.registry import EngineError

# A toy alphabet: blank, then letters and a space, as CTCLabelDecode lays classes out.
ALPHABET = ["<blank>"] + list(string.ascii_letters + string.digits + ":-/.^|],%²~=@)>!") + [" "]
INDEX = {ch: i for i, ch in enumerate(ALPHABET) if i}


def brute_force(probs: np.ndarray, labels: list[int]) -> float:
    """log of the sum over every path of steps that collapses to the labels."""
    total = 0.0
    for path in itertools.product(range(probs.shape[1]), repeat=probs.shape[0]):
        collapsed = [c for i, c in enumerate(path) if c != 0 and (i == 0 or c != path[i - 1])]
        if collapsed == labels:
            total += math.prod(probs[t, c] for t, c in enumerate(path))
    return math.log(total)


@pytest.mark.parametrize("labels", [[1], [1, 2], [1, 1], [2, 1, 2]])
def test_ctc_likelihood_sums_every_alignment(labels):
    rng = np.random.default_rng(len(labels))
    probs = rng.dirichlet(np.ones(3), size=5)
    assert lexicon.ctc_log_likelihood(probs, labels) == pytest.approx(brute_force(probs, labels))


def greedy_steps(text: str, rival: dict[int, tuple[str, float]] | None = None,
                 sure: float = 0.97) -> np.ndarray:
    """Recogniser output for `text`: each character on two steps, a blank step between
    characters; rival {i: (character, probability)} puts a second choice on character i."""
    rows = []
    for i, ch in enumerate(text):
        for _ in range(2):
            row = np.full(len(ALPHABET), (1 - sure) / (len(ALPHABET) - 1))
            row[INDEX[ch]] = sure
            if rival and i in rival:
                other, p = rival[i]
                row[INDEX[other]] = p
                row[INDEX[ch]] = sure - p
            rows.append(row)
        blank = np.full(len(ALPHABET), (1 - sure) / (len(ALPHABET) - 1))
        blank[0] = sure
        rows.append(blank)
    return np.array(rows)


def steps_of(probs: np.ndarray) -> list[int]:
    argmax = probs.argmax(axis=1)
    keep = argmax != 0
    keep[1:] &= argmax[1:] != argmax[:-1]
    return np.flatnonzero(keep).tolist()


@pytest.fixture(scope="module")
def words() -> lexicon.Lexicon:
    return lexicon.load_lexicon()


def test_the_word_list_holds_common_words_names_and_places_and_stops_at_its_cut_off(words):
    for word in ("the", "abdomen", "infirmary", "murray", "aileen", "hamish", "glasgow"):
        assert word in words
    assert "abdohen" not in words and "infirrary" not in words
    # Ordered by frequency: 'the' above 'murray' above 'hurray'.
    assert words.prior("the") > words.prior("murray") > words.prior("hurray")
    assert words.log_frequencies.min() >= math.log(lexicon.LEXICON.list_frequency) - 1e-9
    assert 60_000 < len(words) < 150_000
    assert np.isnan(words.priors(["abdohen", "murray"])).tolist() == [True, False]
    # A higher cut-off reads fewer words, every one of them at or above it.
    path = lexicon.word_list_path()
    # Found without importing wordfreq: the file wordfreq itself reads for English.
    assert str(path) == __import__("wordfreq").available_languages("best")["en"]
    common = lexicon.read_word_list(str(path), 1e-5)
    assert 2_000 < len(common) < len(words) / 5
    assert all(word in words for word in common) and "hurray" not in common
    # Every word of the list is found by its key, with its own frequency.
    full = lexicon.read_word_list(str(path), lexicon.LEXICON.list_frequency)
    assert len(full) == len(words)
    sample = list(full)[::97]
    assert words.priors(sample) == pytest.approx([full[w] for w in sample])


def test_a_words_key_is_its_own_whatever_words_are_keyed_beside_it():
    alone = [int(lexicon.word_keys([w])[0]) for w in ("murray", "mur", "hospital", "")]
    beside = lexicon.word_keys(["murray", "mur", "hospital", "", "pneumonoultramicroscopic"]).tolist()
    assert beside[:4] == alone
    assert len(set(beside)) == 5                     # a prefix ("mur") keys apart from its word
    assert lexicon.word_keys([]).dtype == np.int64 and lexicon.word_keys([]).size == 0


def test_candidates_are_one_edit_or_one_glyph_shape_away():
    assert {"infirmary", "mohammed", "abdomen"} & lexicon.candidates("infirrary") == {"infirmary"}
    assert "mohammed" in lexicon.candidates("mohanmed")
    assert "abdomen" in lexicon.candidates("abdohen")
    assert "western" in lexicon.candidates("westem")        # m read for rn
    assert "hospital" in lexicon.candidates("hospitd")      # d read for al
    assert "modern" not in lexicon.candidates("abdohen")
    assert "abdohen" not in lexicon.candidates("abdohen")


def test_a_letter_the_recogniser_was_torn_on_is_mended_to_the_word(words):
    probs = greedy_steps("ABDOHEN", {4: ("M", 0.40)})
    text, steps = lexicon.mend_words("ABDOHEN", steps_of(probs), probs, INDEX, words)
    assert text == "ABDOMEN" and len(steps) == len(text)


def test_a_sure_reading_a_code_and_a_short_word_are_kept(words):
    # The rival letter has almost no probability: the reading stands, though it is no word.
    probs = greedy_steps("ABDOHEN", {4: ("M", 0.0005)})
    assert lexicon.mend_words("ABDOHEN", steps_of(probs), probs, INDEX, words)[0] == "ABDOHEN"
    # Letters against digits are a code (the same doubt mends the word alone); a word under
    # four letters is left too.
    for text, at in (("ABDOHEN5", 4), ("5ABDOHEN", 5), ("HUB", 0)):
        probs = greedy_steps(text, {at: ("M", 0.40)})
        assert lexicon.mend_words(text, steps_of(probs), probs, INDEX, words)[0] == text


def test_a_digit_or_bar_read_for_a_letter_is_mended_to_the_listed_word(words):
    """'5TEWART^ELIZABETH', 'Campbel1', 'DOE^|ANE', 'In/irmary': one look-alike among
    letters, read as the letter where the recogniser doubted it; a sure reading, a code, a
    slash between two words and a look-alike whose letter makes no listed word are kept."""
    for line, at, rival, mended in (("Ref 5TEWART^ELIZABETH", 4, "S", "Ref STEWART^ELIZABETH"),
                                    ("Campbel1, Mohammed", 7, "l", "Campbell, Mohammed"),
                                    ("Ref DOE^|ANE", 8, "J", "Ref DOE^JANE"),
                                    ("Perth Royal In/irmary", 14, "f", "Perth Royal Infirmary")):
        probs = greedy_steps(line, {at: (rival, 0.3)})
        text, steps = lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)
        assert text == mended and len(steps) == len(text)
        sure = greedy_steps(line, {at: (rival, 1e-9)}, sure=0.9999)
        assert lexicon.mend_words(line, steps_of(sure), sure, INDEX, words)[0] == line
    for line, at, rival in (("HFS5", 3, "S"), ("AC53 480692", 2, "S"), ("CT1", 2, "l"),
                            ("and/or", 3, "f"), ("Page 1/3", 6, "l")):
        probs = greedy_steps(line, {at: (rival, 0.45)})
        assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == line


def test_a_reading_no_list_holds_is_weighed_two_edits_away_through_the_recognisers_second_choices(words):
    """'MACOONALO': both Ds of MACDONALD read O, each D the recogniser's second choice. Two
    edits away, it is mended; where the recogniser rated D under LexiconParams.runner_up at
    those steps, no reading two edits away is weighed and it stays as read."""
    line = "ELIZABETH MACOONALO"
    probs = greedy_steps(line, {13: ("D", 0.3), 18: ("D", 0.35)})
    steps = steps_of(probs)
    assert lexicon.runner_up_readings("MACOONALO", steps[10:19], probs, INDEX, 0.01) == {"macdonalo", "macoonald"}
    assert lexicon.mend_words(line, steps, probs, INDEX, words)[0] == "ELIZABETH MACDONALD"
    faint = greedy_steps(line, {13: ("D", 0.004), 18: ("D", 0.004)})
    assert lexicon.runner_up_readings("MACOONALO", steps_of(faint)[10:19], faint, INDEX, 0.01) == set()
    assert lexicon.mend_words(line, steps_of(faint), faint, INDEX, words)[0] == line


def test_tempering_keeps_each_steps_likeliest_character_and_spreads_its_doubt(words):
    from scp_scanner.ocr.rapidocr_engine import RECOGNISER_TEMPERATURE

    rng = np.random.default_rng(7)
    probs = rng.dirichlet(np.full(6, 0.3), size=20)
    assert lexicon.calibrated(probs, 1.0) is probs
    tempered = lexicon.calibrated(probs, 1.5)
    assert tempered.shape == probs.shape and np.allclose(tempered.sum(axis=1), 1)
    assert (tempered.argmax(axis=1) == probs.argmax(axis=1)).all()
    assert (tempered.max(axis=1) <= probs.max(axis=1) + 1e-12).all()
    assert (tempered.max(axis=1) < probs.max(axis=1)).any()
    # 'Westem': the recogniser gave 'r' and 'n' one in a thousand at the steps of its 'm'.
    # As it stands, that certainty outweighs the word's frequency; tempered as the engine
    # tempers it, the frequency reads 'Western'.
    line = "Westem General"
    probs = greedy_steps(line)
    m = steps_of(probs)[5]
    probs[m, INDEX["r"]] = probs[m + 1, INDEX["n"]] = 1e-3
    assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == line
    channel = lexicon.calibrated(probs, RECOGNISER_TEMPERATURE)
    assert lexicon.mend_words(line, steps_of(probs), channel, INDEX, words)[0] == "Western General"
    # A runner-up the recogniser gave one in a million gets p ** (1 / T): one in ten thousand.
    row = np.array([[1e-6, 1 - 2e-6, 1e-6]])
    assert lexicon.calibrated(row, 1.5)[0, 0] == pytest.approx(1e-6 ** (1 / 1.5), rel=1e-3)


def test_a_word_under_four_letters_is_never_made(words):
    """'ASXS' whose X the recogniser nearly read as nothing: dropping it gives a listed
    three-letter word, which a reviewer would see in place of the reading."""
    probs = greedy_steps("ASXS", sure=0.999)
    x = steps_of(probs)[2]
    probs[x:x + 2, 0] = 0.45
    probs[x:x + 2, INDEX["X"]] = 0.5
    assert lexicon.mend_words("ASXS", steps_of(probs), probs, INDEX, words)[0] == "ASXS"
    three = lexicon.LexiconParams(min_letters=3)
    assert lexicon.mend_words("ASXS", steps_of(probs), probs, INDEX, words, three)[0] == "ASS"


def test_a_listed_word_yields_to_a_far_more_frequent_one_only_when_the_recogniser_doubts_it(words):
    torn = greedy_steps("HURRAY", {0: ("M", 0.40)})
    assert lexicon.mend_words("HURRAY", steps_of(torn), torn, INDEX, words)[0] == "MURRAY"
    sure = greedy_steps("HURRAY", {0: ("M", 0.01)})
    assert lexicon.mend_words("HURRAY", steps_of(sure), sure, INDEX, words)[0] == "HURRAY"


def test_a_word_keeps_its_case_and_its_neighbours(words):
    line = "Royal Infirrary NHS"
    probs = greedy_steps(line, {11: ("m", 0.35)})
    text, steps = lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)
    assert text == "Royal Infirmary NHS"
    assert steps[:10] == steps_of(probs)[:10] and steps[-4:] == steps_of(probs)[-4:]


def test_the_engine_mends_a_damaged_glyph_and_can_be_told_not_to(words):
    """The real recogniser on 'Infirmary' whose 'm' lost the lower half of its middle stem:
    greedy decoding misreads it (the stock recogniser 'Infirrary', the fine-tuned one
    'Infirrmary'); the likelihood of 'm' at those steps and the word's frequency read
    'Infirmary'."""
    from test_rapidocr_engine import rendered_line

    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine

    size, text = 16, "Infirmary"
    crop, _ = rendered_line(text, size)
    font = dicomgen.load_font(size)
    left, width = 8 + font.getlength(text[:5]), font.getlength("m")
    crop[4 + size // 2:4 + size, int(left + 0.3 * width):math.ceil(left + 0.7 * width)] = 10
    misread = RapidOcrEngine(lexicon=False).recognise([crop])[0][0]
    assert misread != "Infirmary" and misread.startswith("Infirr") and misread.endswith("ary")
    assert RapidOcrEngine().recognise([crop])[0][0] == "Infirmary"


def test_the_engine_reads_a_damaged_digit_of_an_nhs_number_from_its_check_digit():
    """The real recogniser on 'NHS 4910668438' whose second '8' lost its top-left quarter:
    greedy decoding reads '3', which fails the number's check digit; of the valid numbers one
    digit away the recogniser's output makes 4910668438 the likeliest. (Over 200 such
    damages to five numbers' digits, the ones read as 10 wrong digits were put right 33
    times in 48; a number read right was never changed.)"""
    from test_rapidocr_engine import rendered_line

    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine

    size, text = 14, "NHS 4910668438"
    crop, _ = rendered_line(text, size)
    font = dicomgen.load_font(size)
    left, width = 8 + font.getlength(text[:10]), font.getlength("8")
    crop[4:4 + size // 2 + 1, int(left):math.ceil(left + 0.5 * width)] = 10
    assert RapidOcrEngine(lexicon=False).recognise([crop])[0][0] == "NHS 4910663438"
    assert RapidOcrEngine().recognise([crop])[0][0] == text


def test_a_missing_word_list_is_a_clear_error(monkeypatch):
    lexicon.load_lexicon.cache_clear()
    monkeypatch.setitem(sys.modules, "wordfreq", None)       # as if not installed
    try:
        with pytest.raises(EngineError, match=r"pip install 'wordfreq.*processing.lexicon: false"):
            lexicon.load_lexicon()
    finally:
        lexicon.load_lexicon.cache_clear()


# --- fields of a known form (ocr/fields.py) ----------------------------------------------------


def test_check_digit_fixes_are_the_valid_numbers_one_digit_away():
    from scp_scanner.ocr.fields import _check_digit_fixes
    from scp_scanner.pii.rules import mod11_ok

    fixes = _check_digit_fixes("533 199 4945")
    assert "533 199 4946" in fixes and len(fixes) <= 10
    for fix in fixes:
        assert mod11_ok(fix.replace(" ", ""))
        assert sum(a != b for a, b in zip(fix, "533 199 4945")) == 1


@pytest.mark.parametrize("line, at, rival, mended", [
    ("NHS 4910665438", 10, "8", "NHS 4910668438"),        # the check digit fails: 5 was 8
    ("CHI 1211412647", 11, "5", "CHI 1211412547"),
    ("NHS 533 199 4945", 15, "6", "NHS 533 199 4946"),
])
def test_a_labelled_number_whose_check_digit_fails_is_read_again_where_the_model_doubted(line, at, rival, mended):
    from scp_scanner.ocr.fields import mend_fields

    probs = greedy_steps(line, {at: (rival, 0.3)})
    text, steps = mend_fields(line, steps_of(probs), probs, INDEX)
    assert text == mended and len(steps) == len(text)


def test_valid_unlabelled_or_surely_read_numbers_are_kept():
    from scp_scanner.ocr.fields import mend_fields

    for line, at in (("NHS 4910668438", 10), ("ID: 4910665438", 10), ("Acc 4910665438", 10)):
        probs = greedy_steps(line, {at: ("3", 0.45)})
        assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line
    # Demo data typed without a check digit, read with no doubt anywhere, stays as read.
    line = "CHI 0101804567"
    probs = greedy_steps(line, sure=0.999)
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line
    # The same number with a doubted digit is read as the valid number.
    probs = greedy_steps(line, {7: ("2", 0.3)}, sure=0.999)
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "CHI 0102804567"


def test_a_month_misread_in_a_date_is_read_as_the_likeliest_month():
    from scp_scanner.ocr.fields import mend_fields

    # 'Oct' read as 'Od': the steps of 'd' also hold 'c' then 't'.
    line = "DOB 03-Od-1947"
    probs = greedy_steps(line)
    d = steps_of(probs)[8]
    probs[d, :] = probs[d + 1, :] = 0.001
    probs[d, [INDEX["d"], INDEX["c"]]] = 0.5, 0.45
    probs[d + 1, [INDEX["d"], INDEX["t"]]] = 0.5, 0.45
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "DOB 03-Oct-1947"
    # Two months one edit from 'Jut': the recogniser's own doubt picks Jul over Jun.
    line = "04-Jut-2025"
    probs = greedy_steps(line, {5: ("l", 0.3)})
    probs[steps_of(probs)[5], INDEX["n"]] = 0.05
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "04-Jul-2025"
    # A mark or a lower-case letter read for the month's first letter ('21-]an-2024').
    for line, at, mended in (("21-]an-2024", 3, "21-Jan-2024"), ("08-jul-2024", 3, "08-jul-2024")):
        probs = greedy_steps(line, {at: ("J", 0.3)})
        assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == mended
    # A month already read, and a token that is no date's month, are kept.
    for line in ("13-Jul-2022", "12-AP-20", "Se:3 Im:45", "03-Sept-1947", "01-JUNE-2020"):
        probs = greedy_steps(line)
        assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line
    # Sept and June are months as they stand, even where the recogniser doubted their last letter.
    for line in ("03-Sept-1947", "01-JUNE-2020"):
        probs = greedy_steps(line)
        last = steps_of(probs)[6]
        probs[last:last + 2, 0] = 0.4
        assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line


def test_a_labelled_number_spaced_neither_3_3_4_nor_at_all_is_read_in_one_of_its_spacings():
    from scp_scanner.ocr.fields import mend_fields

    # 'NHS 491 066 8438' with the first blank read as nothing: the steps between 1 and 0
    # hold a trace of a space.
    line = "NHS 491066 8438"
    probs = greedy_steps(line)
    between = steps_of(probs)[6] + 2            # the blank step after '1'
    probs[between, INDEX[" "]] = 0.2
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "NHS 491 066 8438"
    # With no trace of a space there, and the blank that was read in doubt, the number is
    # read without it.
    probs = greedy_steps(line)
    for step in (steps_of(probs)[10], steps_of(probs)[10] + 1):
        probs[step, 0], probs[step, INDEX[" "]] = 0.45, 0.5
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "NHS 4910668438"
    # Both spacings of the form are kept as read.
    for line in ("NHS 491 066 8438", "NHS 4910668438"):
        probs = greedy_steps(line)
        assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line


def test_a_full_stop_read_in_a_labelled_numbers_blank_is_read_as_the_blank():
    """'NHS 855.100 1264' (extra varied 457) and 'NHS 959.9812948' (extra varied 437): a
    small face's blank read as a full stop beside a speck of JPEG. Where the output holds a
    trace of a space there, the number is read in one of its two spacings; a full stop the
    recogniser was sure of stays as read; with a check digit that fails, the valid numbers
    one digit away are weighed, in both spacings."""
    from scp_scanner.ocr.fields import mend_fields

    line = "NHS 855.100 1264"
    probs = greedy_steps(line, {7: (" ", 0.3)})
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "NHS 855 100 1264"
    probs = greedy_steps(line, sure=0.99999)
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line
    line = "NHS 959.9812948"
    probs = greedy_steps(line, {7: (" ", 0.3)})
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "NHS 959 981 2948"
    line = "NHS 855.100 1265"                       # 1264 is valid; its last digit in doubt
    probs = greedy_steps(line, {7: (" ", 0.3), 15: ("4", 0.3)})
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "NHS 855 100 1264"


def test_a_numeric_date_gets_one_separator_in_both_places():
    from scp_scanner.ocr.fields import mend_fields

    # '13.02.2020' whose first dot was read as a blank (the dot its close second).
    line = "DOB 13 02.2020"
    probs = greedy_steps(line, {6: (".", 0.3)})
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "DOB 13.02.2020"
    # '09/07/2018' whose first slash was lost: a trace of it between the 9 and the 0.
    line = "0907/2018"
    probs = greedy_steps(line)
    probs[steps_of(probs)[1] + 2, INDEX["/"]] = 0.2
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "09/07/2018"
    # Year first, too.
    line = "2020-02 13"
    probs = greedy_steps(line, {7: ("-", 0.3)})
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "2020-02-13"
    # A DICOM date (yyyymmdd) read with a doubtful blank inside.
    line = "DOB 2023 1204"
    probs = greedy_steps(line)
    for step in (steps_of(probs)[8], steps_of(probs)[8] + 1):
        probs[step, 0], probs[step, INDEX[" "]] = 0.45, 0.5
    assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == "DOB 20231204"
    # A separator that was read is the only one tried (the missing one is not 'none').
    from scp_scanner.ocr.fields import _date_readings
    assert _date_readings(("09", "", "07", "/", "2018")) == ["09/07/2018"]
    assert _date_readings(("13", " ", "02", ".", "2020")) == ["13.02.2020"]
    assert _date_readings(("13", ".", "02", ".", "2020")) == []
    # Dates of the form, and numbers read surely apart, are kept.
    for line in ("13.02.2020", "2020-02-13", "20200213", "13/02/2020", "Se 12 34 2020", "14 10.48"):
        probs = greedy_steps(line)
        assert mend_fields(line, steps_of(probs), probs, INDEX)[0] == line
    line = "13 02 2020"
    assert mend_fields(line, steps_of(greedy_steps(line, sure=0.99)), greedy_steps(line, sure=0.99),
                       INDEX)[0] == line


def test_a_dicom_name_whose_caret_was_misread_is_read_as_family_caret_given(words):
    from scp_scanner.ocr.fields import mend_names

    # The caret read as 'N', the caret its rival at those steps.
    line = "Ref FERGUSONNELIZABETH"
    probs = greedy_steps(line, {12: ("^", 0.05)})
    text, steps = mend_names(line, steps_of(probs), probs, INDEX, words)
    assert text == "Ref FERGUSON^ELIZABETH" and len(steps) == len(text)
    # The caret and the 'I' after it read as one 'H': a trace of '^' on its first step,
    # and 'I' nearly as likely as 'H' on its second.
    line = "STEWARTHAIN"
    probs = greedy_steps(line)
    first = steps_of(probs)[7]
    probs[first, INDEX["^"]] = 0.05
    probs[first + 1, INDEX["I"]], probs[first + 1, INDEX["H"]] = 0.45, 0.5
    assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == "STEWART^IAIN"
    # No trace of a caret: the word stays as read. Words, names, names with their caret,
    # lower case and short words are never read as names.
    # (The real recogniser gives '^' 1e-2 to 1e-4 where a caret stands, 1e-6 to 1e-10 at
    # other letters' and blanks' steps.)
    line = "FERGUSONNELIZABETH"
    probs = greedy_steps(line, sure=0.999)
    assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == line
    for line in ("ABDOMEN", "ELIZABETH", "FERGUSON^ELIZABETH", "Fergusonnelizabeth", "DOEJ"):
        probs = greedy_steps(line, {3: ("^", 0.3)})
        assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == line


def test_a_plain_name_whose_space_was_dropped_is_read_with_it(words):
    from scp_scanner.ocr.fields import mend_names

    # 'David Stewart' read as one CamelCase word, a trace of the space between d and S.
    line = "DavidStewart 07/10/2024"
    probs = greedy_steps(line)
    probs[steps_of(probs)[4] + 2, INDEX[" "]] = 0.05
    text, steps = mend_names(line, steps_of(probs), probs, INDEX, words)
    assert text == "David Stewart 07/10/2024" and len(steps) == len(text)
    # In capitals: a known given name first, then the family name.
    line = "DAVIDWILSON Acc"
    probs = greedy_steps(line)
    probs[steps_of(probs)[4] + 2, INDEX[" "]] = 0.05
    assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == "DAVID WILSON Acc"
    # The space read as a letter (extra varied 617: `MOHAMMEDEMURRAY`), the space its rival.
    line = "DAVIDEWILSON Acc"
    probs = greedy_steps(line, {5: (" ", 0.3)})
    text, steps = mend_names(line, steps_of(probs), probs, INDEX, words)
    assert text == "DAVID WILSON Acc" and len(steps) == len(text)
    probs = greedy_steps(line, sure=0.999)
    assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == line
    # No trace of a space, a listed word (Johnson), a first part that is no given name, or
    # CamelCase whose parts make a listed word: read as they were.
    for line in ("DavidStewart", "DAVIDWILSON"):
        probs = greedy_steps(line, sure=0.999)
        assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == line
    for line in ("JOHNSON", "Johnson", "CardioVascular", "MOUTHPIECE", "PowerDoppler"):
        probs = greedy_steps(line)
        for step in range(probs.shape[0]):
            probs[step, INDEX[" "]] = max(probs[step, INDEX[" "]], 0.01)
        assert mend_names(line, steps_of(probs), probs, INDEX, words)[0] == line


def test_after_a_caret_a_given_name_is_likelier_than_an_english_word(words):
    # 'IAIN' read as 'LAIN' (an English word) with 'I' the close second: after a caret the
    # name wins; the same doubt elsewhere leaves the word as read.
    line = "Ref FRASER^LAIN"
    probs = greedy_steps(line, {11: ("I", 0.2)})
    assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == "Ref FRASER^IAIN"
    line = "LAIN FRASER"
    probs = greedy_steps(line, {0: ("I", 0.2)})
    assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == line
    # A three-letter reading after a caret is weighed against the given names alone.
    line = "DOE^AIN"
    probs = greedy_steps(line, {4: ("I", 0.2)})
    assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == "DOE^IAIN"
    line = "DOE^AIM"
    probs = greedy_steps(line, {6: ("P", 0.3)})       # 'AIP' is no name: 'AIM' stays
    assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == line
    # A given name read without doubt stays, after a caret or not.
    for line in ("SMITH^IAIN", "SMITH^JOHN", "Ref DOE^ANE"):
        probs = greedy_steps(line, sure=0.999)
        assert lexicon.mend_words(line, steps_of(probs), probs, INDEX, words)[0] == line


def fields_read(line: str, probs: np.ndarray) -> str:
    """The line as mend_fields reads it from the recogniser output `probs`."""
    from scp_scanner.ocr.fields import mend_fields

    return mend_fields(line, steps_of(probs), probs, INDEX)[0]


@pytest.mark.parametrize("line, at, rival, mended", [
    ("DOB 2024-86-18", 9, "0", "DOB 2024-06-18"),       # a month of 86: 8 was 0
    ("21.84.2022", 3, "0", "21.04.2022"),
    ("04/83/2017 10:41:41", 3, "0", "04/03/2017 10:41:41"),
    ("Study 19:84:15", 9, "0", "Study 19:04:15"),       # a minute of 84
    ("12:46:69", 6, "5", "12:46:59"),
    ("84-Sep-2002", 0, "0", "04-Sep-2002"),             # a day of 84 before a month's name
    ("DOB:18/81/1944", 7, "0", "DOB:18/01/1944"),       # run into its label's colon
    ("Time:19:84:15", 8, "0", "Time:19:04:15"),
])
def test_a_date_or_time_that_is_no_real_one_is_read_again_where_the_model_doubted(line, at, rival, mended):
    from scp_scanner.ocr.fields import mend_fields

    probs = greedy_steps(line, {at: (rival, 0.3)})
    text, steps = mend_fields(line, steps_of(probs), probs, INDEX)
    assert text == mended and len(steps) == len(text)


def test_real_dates_and_times_numbers_without_separators_and_sure_readings_are_kept():
    # Real days (day first, month first, year first), real times, with a digit in doubt.
    for line, at in (("13.02.2020", 1), ("12/25/2020", 4), ("2020-02-29", 9), ("23:59:59", 7),
                     ("07:05", 4), ("29-Feb-2024", 1)):
        probs = greedy_steps(line, {at: ("8", 0.45)})
        assert fields_read(line, probs) == line
    # Eight digits without separators may be an accession number: not read as a date.
    line = "Acc 20156334"
    probs = greedy_steps(line, {9: ("0", 0.45)})
    assert fields_read(line, probs) == line
    # A date that is no day of the calendar, read with no doubt, stays as read.
    for line in ("2024-86-18", "31.02.2021", "25:61"):
        probs = greedy_steps(line, sure=0.999)
        assert fields_read(line, probs) == line


def test_a_date_that_is_no_day_is_read_as_the_likeliest_real_one_two_digits_away():
    from scp_scanner.ocr.fields import _calendar_date, _digit_variants

    variants = _digit_variants("2022-00-00", [5, 6, 8, 9], lambda r: _calendar_date(r, False))
    assert "2022-08-08" in variants and "2022-00-00" not in variants
    assert all(sum(a != b for a, b in zip(v, "2022-00-00")) <= 2 for v in variants)
    # Both zeros of the month and the day read for eights.
    line = "2022-00-00"
    probs = greedy_steps(line, {6: ("8", 0.3), 9: ("8", 0.3)})
    assert fields_read(line, probs) == "2022-08-08"
    # 31 February is no day: the doubted digit makes it one.
    line = "31.02.2021"
    probs = greedy_steps(line, {0: ("2", 0.3)})
    assert fields_read(line, probs) == "21.02.2021"


def test_readings_of_one_length_are_weighed_side_by_side_as_one_by_one():
    rng = np.random.default_rng(5)
    probs = rng.dirichlet(np.ones(6) * 0.5, size=12)
    rows = rng.integers(1, 6, size=(40, 5))
    together = lexicon.ctc_log_likelihoods(probs, rows)
    assert together.shape == (40,)
    for row, value in zip(rows, together):
        assert value == lexicon.ctc_log_likelihood(probs, row.tolist())
    assert lexicon.ctc_log_likelihood(probs[:4], [1, 2]) == pytest.approx(brute_force(probs[:4], [1, 2]))


@pytest.mark.parametrize("line, at, mended", [
    ("DOB 1B/11/1957", 5, "DOB 18/11/1957"),            # B for 8 in a date
    ("L7/02/1972 Ref", 0, "17/02/1972 Ref"),            # L for 1
    ("Study 07:0%:28", 10, "Study 07:05:28"),           # a mark for a digit in a time
    ("CHI 220444E150", 10, "CHI 2204445150"),           # E for 5: the check digit holds
    ("NHS B83 102 6682", 4, "NHS 883 102 6682"),
])
def test_a_letter_or_mark_read_in_a_digits_place_in_a_field_is_read_as_the_digit(line, at, mended):
    from scp_scanner.ocr.fields import mend_fields

    digit = mended[at]
    probs = greedy_steps(line, {at: (digit, 0.3)})
    text, steps = mend_fields(line, steps_of(probs), probs, INDEX)
    assert text == mended and len(steps) == len(text)


def test_words_and_codes_shaped_like_fields_keep_their_letters():
    from scp_scanner.ocr.fields import _lookalike_readings

    # Each group needs a digit, and two letters at most stand in for digits.
    for kind, field in (("time", "Im:45"), ("date", "AB-CD-2020"), ("date", "1A/BC/2020"),
                        ("number", "ABC1234567")):
        assert _lookalike_readings(kind, field) == []
    # A settings line and an accession number are no such fields, whatever the doubt.
    for line, at in (("Se:3 Im:45", 5), ("Acc AC44803902", 5), ("W:400 L:40", 6)):
        probs = greedy_steps(line, {at: ("1", 0.45)})
        assert fields_read(line, probs) == line
    # A letter read with no doubt stays: the recogniser must hold a digit's trace there.
    line = "DOB 1B/11/1957"
    probs = greedy_steps(line, sure=0.999)
    assert fields_read(line, probs) == line
