"""scripts/recogniser/: the text and labels of the fine-tuned recogniser's training lines
(docs/recogniser.md). Training itself needs the `train` extra and is not run here."""
from __future__ import annotations

import random
import sys
from pathlib import Path

import pytest

import dicomgen
from dicomgen import Word

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts" / "recogniser"))
import line_text  # noqa: E402
import make_lines  # noqa: E402
from scp_scanner.ocr.rapidocr_engine import latin  # noqa: E402

ALPHABET = {chr(c) for c in range(32, 256) if latin(chr(c))}


def test_importing_the_scripts_leaves_the_generator_alone():
    assert dicomgen.make_annotation is not line_text.random_annotation


def test_install_makes_the_builders_draw_the_random_text(monkeypatch):
    monkeypatch.setattr(dicomgen, "make_annotation", dicomgen.make_annotation)
    line_text.install()
    assert dicomgen.make_annotation is line_text.random_annotation


def drawn_text(seed: int, files: int = 200) -> list[str]:
    rnd = random.Random(seed)
    return [seg.text for _ in range(files)
            for _, lines in line_text.random_annotation(None, "US", rnd, "pii").regions
            for line in lines for seg in line]


def test_the_lines_hold_only_characters_the_recogniser_reads_and_none_of_the_generators_lists():
    texts = drawn_text(7)
    assert len(texts) > 1000
    assert set("".join(texts)) <= ALPHABET
    joined = "\n".join(texts)
    for hospital in dicomgen.HOSPITALS:
        assert hospital not in joined
    for safe in ("Se:3 Im:45", "W:400 L:40", "kVp 120", "mAs 250"):
        assert safe not in joined
    # Dates, times, DICOM names and plain words all occur.
    assert any("^" in t for t in texts) and any(":" in t for t in texts)
    assert any(any(ch.isdigit() for ch in t) for t in texts)
    assert any(t.isalpha() and t.islower() for t in texts)


def test_the_same_seed_draws_the_same_lines():
    assert drawn_text(3, 20) == drawn_text(3, 20)
    assert drawn_text(3, 20) != drawn_text(4, 20)


def test_no_text_means_no_lines():
    assert line_text.random_annotation(None, "CT", random.Random(1), "none").empty


def w(text: str, left: int, top: int, right: int, bottom: int) -> Word:
    return Word(text, left, top, right, bottom, False)


@pytest.mark.parametrize("box, expected", [
    ((8, 10, 120, 24), "DOE^JANE 12:03:44"),        # both words inside
    ((8, 10, 60, 24), "DOE^JANE"),                  # one word inside, the other outside
    ((8, 10, 90, 24), None),                        # the crop cuts the second word
    ((200, 10, 260, 24), None),                     # no word
    ((8, 10, 120, 60), None),                       # two lines
])
def test_a_crop_is_labelled_with_the_words_wholly_inside_it(box, expected):
    words = [w("12:03:44", 64, 12, 118, 22), w("DOE^JANE", 10, 12, 58, 22), w("NHS", 10, 40, 40, 50)]
    assert make_lines.label(box, words, ALPHABET) == expected


def test_a_crop_with_a_character_the_recogniser_lacks_is_dropped():
    assert make_lines.label((0, 0, 100, 20), [w("Łódź", 2, 2, 60, 18)], ALPHABET) is None


def test_calibration_finds_the_temperature_of_an_overconfident_recogniser():
    """calibrate.mean_nll: output that is sure of a wrong letter on one line in three is
    best tempered (T > 1); output that is right and sure is best as it is (T = 1)."""
    import calibrate
    import numpy as np

    def output(labels: list[int], wrong_at: int | None) -> np.ndarray:
        rows = []
        for i, label in enumerate(labels):
            row = np.full(4, 0.001)
            row[3 if i == wrong_at else label] = 0.997
            rows += [row, np.array([0.997, 0.001, 0.001, 0.001])]
        return np.array(rows)

    lines = [[1, 2, 1], [2, 1, 2], [1, 1, 2]]
    overconfident = [(output(labels, 1 if n == 0 else None), labels) for n, labels in enumerate(lines)]
    scores = {t: calibrate.mean_nll(overconfident, t) for t in calibrate.TEMPERATURES}
    assert min(scores, key=scores.get) > 1.0
    right = [(output(labels, None), labels) for labels in lines]
    scores = {t: calibrate.mean_nll(right, t) for t in calibrate.TEMPERATURES}
    assert min(scores, key=scores.get) == 1.0


def test_calibration_reads_labelled_crops_with_the_engine(tmp_path, capsys, monkeypatch):
    import pickle

    import calibrate
    from test_rapidocr_engine import rendered_line

    crops = [(rendered_line(text, 16)[0], text, "varied", "x.dcm")
             for text in ("Western General", "DOB 12/03/1961", "ABDOMEN")]
    path = tmp_path / "lines.pkl"
    path.write_bytes(pickle.dumps(crops))
    monkeypatch.setattr(sys, "argv", ["calibrate.py", str(path)])
    assert calibrate.main() == 0
    out = capsys.readouterr().out
    assert out.startswith("3 lines, ")
    assert "best T " in out
    assert len([line for line in out.splitlines() if line.startswith("T ")]) == len(calibrate.TEMPERATURES)
