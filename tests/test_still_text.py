"""Still text (scp_scanner/ocr/still_text.py): a cine's annotation over a moving picture is
read once more from the per-pixel minimum of its frames, and what that reading holds that a
frame's own lines do not is added to the frame.

Real PP-OCR (rapidocr) and spaCy on dicomgen's held-out colour ultrasound cines and on
pydicom-data's real multi-frame files; the layer's arithmetic on small arrays.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import dicomgen
from conftest import run_scan
from scp_scanner import ocr, pii
from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.enclose import Encloser
from scp_scanner.model import Image, TextBox
from scp_scanner.ocr.still_text import CHANGE_LEVEL, StillLayer, merged
from scp_scanner.pipeline import Pipeline


@pytest.fixture(scope="module")
def engine():
    return ocr.create("rapidocr")


@pytest.fixture(scope="module")
def ner():
    return pii.create("spacy")


def texts_by_frame(rows) -> dict[int, list[str]]:
    out: dict[int, list[str]] = {}
    for row in rows:
        if row.left != -1:
            out.setdefault(row.frame, []).append(row.ocr_text)
    return out


def whole_rows(rows) -> dict[int, object]:
    return {row.frame: row for row in rows if row.left == -1}


@pytest.fixture(scope="module")
def speckle_cine(tmp_path_factory) -> Path:
    """Held-out varied seed 419's second colour ultrasound: 1024x768, three frames, small
    coloured text over speckle that is new on every frame, JPEG. Its frames' own readings
    lose the name on frame 3 (`WILSON° JOHN`) and the NHS number on frame 3; frame 1's
    `WILSON' JOHN` is the name since an apostrophe with a space beside it is read as its caret
    (fixups.SPACED_CARET)."""
    folder = tmp_path_factory.mktemp("still")
    truth = dicomgen.make_varied_corpus(folder, count=2, seed=419, fonts="heldout",
                                        cases=["v_us_colour"])[1]
    assert len(truth.images) == 3
    return Path(truth.path)


def test_still_text_over_moving_speckle_is_read_from_the_frames_minimum(engine, ner, speckle_cine):
    frames_only = Pipeline(engine, ner, rects=True, still_text=False).process_file(speckle_cine)
    with_still = Pipeline(engine, ner, rects=True).process_file(speckle_cine)
    before, after = texts_by_frame(frames_only.rows), texts_by_frame(with_still.rows)
    assert "WILSON^JOHN" in before[0] and "WILSON^JOHN" not in before[2]
    assert "WILSON^JOHN" in after[0] and "WILSON^JOHN" in after[2]
    assert not any("4229627777" in text for text in before[2])
    assert any("4229627777" in text for text in after[2])
    # The minimum only adds: every frame keeps each line it read itself, in the same order.
    for frame, texts in before.items():
        assert after[frame][:len(texts)] == texts
    whole = whole_rows(with_still.rows)
    assert all(whole[frame].is_sensitive == 1 for frame in range(3))
    assert with_still.images == frames_only.images == 3


@pytest.fixture(scope="module")
def hidden_first_frame(tmp_path_factory) -> Path:
    """Held-out varied seed 1279's fourth colour ultrasound: 800x600, three frames, 12 px
    FreeMono Oblique in light blue, JPEG. The speckle covers the banner on the first frame
    and moves off it on the second: the first frame's own reading holds no line at all."""
    folder = tmp_path_factory.mktemp("hidden")
    truth = dicomgen.make_varied_corpus(folder, count=4, seed=1279, fonts="heldout",
                                        cases=["v_us_colour"])[3]
    assert len(truth.images) == 3
    return Path(truth.path)


def test_lines_read_on_a_later_frame_have_the_minimum_read_when_the_first_frame_read_none(
        engine, ner, hidden_first_frame, monkeypatch):
    """Its first frame reads part of the banner itself since the colour pass reads pale
    clusters too (colour_text.coloured_level); with that pass as it was before (MIN_CHROMA
    alone), the first frame reads nothing and the later frames' lines decide the read."""
    from scp_scanner.ocr import rapidocr_engine
    from scp_scanner.ocr.colour_text import MIN_CHROMA

    own = texts_by_frame(Pipeline(engine, ner, rects=True, still_text=False).process_file(hidden_first_frame).rows)
    assert any("6060377769" in text for text in own[0])
    monkeypatch.setattr(rapidocr_engine, "coloured_level", lambda strength: MIN_CHROMA)
    frames_only = Pipeline(engine, ner, rects=True, still_text=False).process_file(hidden_first_frame)
    with_still = Pipeline(engine, ner, rects=True).process_file(hidden_first_frame)
    before, after = texts_by_frame(frames_only.rows), texts_by_frame(with_still.rows)
    assert 0 not in before and "Fraser, Jane" in before[1]
    assert any("6060377769" in text for text in after[0])
    assert any("Fraser, Jane" in text for text in after[0])
    assert whole_rows(frames_only.rows)[0].is_sensitive == 0
    assert all(row.is_sensitive == 1 for row in whole_rows(with_still.rows).values())


@pytest.mark.parametrize("name", ["OBXXXX1A_2frame.dcm", "color3d_jpeg_baseline.dcm",
                                  "examples_ybr_color.dcm"])
def test_real_multiframe_files_are_not_read_again(engine, ner, name, monkeypatch):
    """pydicom-data's two-frame Philips ultrasound (its second frame a dimmed copy of the
    first, text and all: the text does not stand still; the lone `I` its second frame reads
    beside the sector is no line) and two real echo cines (text on black beside the sector:
    nothing moves under it): the minimum is not read, and the rows are those of the frames
    alone."""
    from pydicom.data import get_testdata_file

    minimums = []
    original = StillLayer.image
    monkeypatch.setattr(StillLayer, "image", lambda layer, like: minimums.append(like) or original(layer, like))

    path = get_testdata_file(name)
    frames = [image for image in iter_images(read_dataset(path)) if image.overlay == -1]
    layer = StillLayer()
    for image in frames:
        layer.add(image)
    first_lines = Encloser().enclose(frames[0], engine.read(frames[0]))
    assert len(frames) > 1 and first_lines
    assert not layer.moves_under(first_lines)
    frames_only = Pipeline(engine, ner, rects=True, still_text=False).process_file(path)
    with_still = Pipeline(engine, ner, rects=True).process_file(path)
    assert with_still.rows == frames_only.rows
    assert not minimums


def test_scan_config_still_text_false_reads_frames_only(speckle_cine, tmp_path):
    config = tmp_path / "frames-only.yaml"
    config.write_text("processing:\n  still_text: false\n")
    default = run_scan("--ocr", "rapidocr", "--pii", "spacy", "--rects", str(speckle_cine))
    frames_only = run_scan("--ocr", "rapidocr", "--pii", "spacy", "--rects", "--config", str(config),
                           str(speckle_cine))
    assert default.returncode == frames_only.returncode == 0
    third_frame = [line for line in default.stdout.splitlines() if f"{speckle_cine.name},2," in line]
    assert any("WILSON^JOHN" in line for line in third_frame)
    assert not any(f"{speckle_cine.name},2," in line and "WILSON^JOHN" in line
                   for line in frames_only.stdout.splitlines())


def frame(pixels: np.ndarray, number: int, mask: np.ndarray | None = None) -> Image:
    return Image(pixels, number, -1, text_mask=mask)


def test_the_layer_keeps_each_pixels_minimum_and_the_text_masks_of_every_frame():
    rng = np.random.default_rng(0)
    stack = rng.integers(0, 256, (3, 8, 10, 3), dtype=np.uint8)
    masks = rng.random((3, 8, 10)) > 0.3
    layer = StillLayer()
    for i in range(3):
        layer.add(frame(stack[i], i, masks[i]))
    still = layer.image(frame(stack[0], 0))
    assert np.array_equal(still.pixels, stack.min(axis=0))
    assert np.array_equal(still.text_mask, masks.all(axis=0))
    assert np.array_equal(layer.first, stack[0])
    # A frame without a mask: the minimum has none.
    layer.add(frame(stack[1], 3))
    assert layer.image(frame(stack[0], 0)).text_mask is None


def test_the_picture_moves_under_a_line_when_its_pixels_darken_in_the_minimum():
    line = TextBox("DOE^JOHN", 10, 10, 50, 20)
    still_black = np.zeros((40, 80), np.uint8)
    still_black[12:18, 12:48] = 200                      # the text, the same on every frame
    layer = StillLayer()
    for i in range(3):
        layer.add(frame(still_black.copy(), i))
    assert not layer.moves_under([line])
    speckled = StillLayer()
    rng = np.random.default_rng(1)
    for i in range(3):
        pixels = np.where(still_black > 0, 200, rng.integers(0, 150, (40, 80))).astype(np.uint8)
        speckled.add(frame(pixels, i))
    assert speckled.moves_under([line])
    # The first frame may be the one whose picture is darkest (held-out varied 293's cine):
    # the frames' range tells, not the first frame against the minimum.
    dim_first = StillLayer()
    for level in (20, 140, 90):
        background = rng.integers(0, level + 1, (40, 80))
        dim_first.add(frame(np.where(still_black > 0, 200, background).astype(np.uint8), level))
    assert dim_first.moves_under([line])
    # Changes of JPEG's size (a few levels) are no movement; a single frame never is.
    noisy = StillLayer()
    noisy.add(frame(still_black + 3, 0))
    noisy.add(frame(still_black + np.uint8(CHANGE_LEVEL // 2), 1))
    assert not noisy.moves_under([line])
    single = StillLayer()
    single.add(frame(still_black, 0))
    assert not single.moves_under([line])
    # A frame shown dimmed, text and all: the picture darkened, but the line did not stand
    # still, so the minimum has nothing more to read.
    faded = StillLayer()
    faded.add(frame(np.where(still_black > 0, 200, 90).astype(np.uint8), 0))
    faded.add(frame(np.where(still_black > 0, 40, 10).astype(np.uint8), 1))
    assert not faded.moves_under([line])


def test_merged_adds_only_lines_whose_words_the_frame_does_not_hold():
    own = [TextBox("WILSON' JOHN", 10, 10, 70, 25), TextBox("NHS 4229627777", 10, 30, 80, 40)]
    still = [TextBox("WILSON^JOHN", 11, 11, 68, 24),          # read otherwise there: added
             TextBox("NHS 4229627777", 11, 30, 80, 40),       # the same words: not added
             TextBox("CT46227287", 30, 50, 80, 60),           # a line the frame missed: added
             TextBox("", 10, 70, 40, 80, unread=True)]        # nothing read: not added
    out = merged(own, still)
    assert out[:2] == own
    assert [b.text for b in out[2:]] == ["WILSON^JOHN", "CT46227287"]
