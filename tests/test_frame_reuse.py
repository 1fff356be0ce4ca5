"""Frame reuse (scp_scanner/ocr/reuse.py) and tesseract's crop cache: a cine is not read N
times from scratch, and its rows are exactly those of a full read of every frame.

Real tesseract and spaCy on dicomgen's cines (static name, ID, dates; a clock and a frame
counter that change on every frame; new speckle on every frame) and on pydicom's real
multi-frame files. Costs are asserted as counts of tesseract calls, never as times
(bench/bench_cine.py times them).
"""
from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import JPEGBaseline8Bit

import dicomgen
from conftest import run_scan
from scp_scanner import pii
from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.model import SOURCE_FRAME, Image, TextBox
from scp_scanner.ocr.prepare import below_ink
from scp_scanner.ocr.reuse import (AGAIN, AREA, KEEP, FrameReuse, box_key, changed_pixels,
                                   dirty_boxes, line_plans, plan_patches)
from scp_scanner.ocr.tesseract import TesseractEngine
from scp_scanner.pipeline import Pipeline

FRAMES = 12
CINES = {
    "rgb": {},
    "grey": {"grey": True},
    "jpeg": {"opts": dicomgen.CaseOptions(syntax=JPEGBaseline8Bit)},
    "held": {"hold": 3},          # 4 distinct frames, each stored 3 times
}


# At most this share of a full read's tesseract calls is made with reuse on.
SHARE_OF_CALLS = {"rgb": 0.3, "grey": 0.55, "jpeg": 0.3, "held": 0.15}


@pytest.fixture(scope="module")
def cines(tmp_path_factory) -> dict[str, tuple[Path, dicomgen.Truth]]:
    folder = tmp_path_factory.mktemp("cines")
    out = {}
    for name, kwargs in CINES.items():
        path = folder / f"cine_{name}.dcm"
        frames = FRAMES // kwargs.get("hold", 1)
        out[name] = (path, dicomgen.build_us_cine(path, 7, n_frames=frames, **kwargs))
    return out


@pytest.fixture(scope="module")
def ner():
    return pii.create("spacy")


def boxes_of(reader, images: list[Image]) -> list[list[tuple]]:
    return [[box_key(b) for b in reader.read(image)] for image in images]


@pytest.mark.parametrize("kind", list(CINES))
def test_cine_rows_equal_a_full_read_of_every_frame(cines, ner, kind):
    path, truth = cines[kind]
    full_engine = TesseractEngine(crop_cache=0)                 # every line read by tesseract
    full = Pipeline(full_engine, ner, rects=True, frame_reuse=False).process_file(path)
    engine = TesseractEngine()
    reused = Pipeline(engine, ner, rects=True, frame_reuse=True).process_file(path)
    assert reused.rows == full.rows
    assert reused.images == full.images == len(truth.images) == FRAMES
    # The cine was read: every frame flagged, its changing clock and counter in the text.
    wholes = [row for row in full.rows if row.left == -1]
    assert len(wholes) == FRAMES and all(row.is_sensitive == 1 for row in wholes)
    counters = sum(f"/{FRAMES // CINES[kind].get('hold', 1)}" in row.ocr_text for row in wholes)
    assert counters >= FRAMES // 2
    # Unchanged lines were not read again. Every read the full pass made was made again or
    # answered from the crop cache (fewer when whole frames repeat)...
    if kind == "held":
        assert engine.calls + engine.cache_hits < full_engine.calls
    else:
        assert engine.calls + engine.cache_hits == full_engine.calls
    # ...and most were answered (measured: 196 -> 49 calls RGB, 199 -> 52 JPEG, 198 -> 23
    # held; grey 278 -> 141: its speckle crosses the 128 ink level and joins the text lines
    # beside the sector into blocks that change, and are read again, on every frame).
    assert engine.calls <= SHARE_OF_CALLS[kind] * full_engine.calls, (engine.calls, full_engine.calls)


def test_held_frames_are_answered_without_reading(cines):
    path, _ = cines["held"]
    images = list(iter_images(read_dataset(path)))
    engine = TesseractEngine()
    reuse = FrameReuse(engine)
    got = boxes_of(reuse, images)
    assert got == boxes_of(TesseractEngine(crop_cache=0), images)
    assert reuse.counts.reused == FRAMES - FRAMES // 3         # 8 of 12 frames repeat the one before
    assert reuse.counts.full_reads == FRAMES // 3
    assert all(got[i] == got[i - i % 3] for i in range(FRAMES))


def test_each_further_frame_costs_a_few_calls(cines):
    """First frame: every line (and retries); further frames: only what changed."""
    path, _ = cines["rgb"]
    images = list(iter_images(read_dataset(path)))
    engine = TesseractEngine()
    reuse = FrameReuse(engine)
    reuse.read(images[0])
    first = engine.calls
    for image in images[1:]:
        reuse.read(image)
    further = (engine.calls - first) / (FRAMES - 1)
    assert engine.cache_hits > 0
    assert further <= 0.6 * first, (first, further)


def test_scan_cli_gives_the_same_rows_with_and_without_reuse(cines, tmp_path):
    config = tmp_path / "full.yaml"
    config.write_text("processing:\n  frame_reuse: false\n")
    files = [str(cines["rgb"][0]), str(cines["held"][0])]
    args = ["--ocr", "tesseract", "--pii", "spacy", "--rects", *files]
    with_reuse = run_scan(*args)
    without = run_scan("--config", str(config), *args)
    assert with_reuse.returncode == without.returncode == 0, with_reuse.stderr + without.stderr
    assert with_reuse.stdout == without.stdout
    assert with_reuse.stdout.count("\n") > 2 * FRAMES * 2     # rect rows and whole rows


def test_scan_extract_reads_through_reuse_too(cines, tmp_path):
    """-x writes each image and reads it in the same pass (scan.scan_one's own loop)."""
    held = tmp_path / "held.dcm"
    held.write_bytes(cines["held"][0].read_bytes())
    plain = run_scan("--ocr", "tesseract", "--rects", str(held))
    extracted = run_scan("-x", "-f", "png", "--ocr", "tesseract", "--rects", str(held))
    assert plain.returncode == extracted.returncode == 0, plain.stderr + extracted.stderr
    assert extracted.stdout == plain.stdout
    assert len(list(tmp_path.glob("held.dcm_frame*.png"))) == FRAMES


def test_multiframe_overlay_rows_equal_a_full_read(tmp_path, ner):
    """A multi-frame XA whose multi-frame overlay repeats the name and ID on every overlay
    frame under a changing counter: the overlay frames are one series."""
    path = tmp_path / "xa.dcm"
    truth = dicomgen.build_case("xa_multiframe_overlay", path, seed=3, fresh_uids=False)
    overlay_frames = [i for i in truth.images if i.overlay == 0]
    assert len(overlay_frames) >= 2
    full_engine, engine = TesseractEngine(crop_cache=0), TesseractEngine()
    full = Pipeline(full_engine, ner, rects=True, frame_reuse=False).process_file(path)
    reused = Pipeline(engine, ner, rects=True, frame_reuse=True).process_file(path)
    assert reused.rows == full.rows
    overlay_wholes = [r for r in full.rows if r.overlay == 0 and r.left == -1]
    assert len(overlay_wholes) == len(overlay_frames) and all(r.is_sensitive == 1 for r in overlay_wholes)
    assert engine.calls + engine.cache_hits == full_engine.calls and engine.cache_hits > 0


# pydicom's real multi-frame files: MR, JPEG 2000, YBR JPEG echo/3-D render, palette colour
# ultrasound, CT, RGB secondary capture (at most 12 images of each).
REAL = ["emri_small.dcm", "emri_small_jpeg_2k_lossless.dcm", "examples_ybr_color.dcm",
        "color3d_jpeg_baseline.dcm", "OBXXXX1A_2frame.dcm", "liver.dcm", "SC_rgb_2frame.dcm"]


@pytest.mark.parametrize("name", REAL)
def test_real_multiframe_files_read_the_same_with_reuse(name):
    images = list(itertools.islice(iter_images(read_dataset(get_testdata_file(name))), 12))
    assert len(images) > 1
    full = boxes_of(TesseractEngine(crop_cache=0), images)
    assert boxes_of(FrameReuse(TesseractEngine()), images) == full


def test_real_palette_ultrasound_text_is_read_once(real_palette=("OBXXXX1A_2frame.dcm",)):
    images = list(iter_images(read_dataset(get_testdata_file(real_palette[0]))))
    baseline, engine = TesseractEngine(crop_cache=0), TesseractEngine()
    full = boxes_of(baseline, images)
    assert any("PHILIPS" in box[0] for box in full[0])
    assert boxes_of(FrameReuse(engine), images) == full
    assert engine.calls < baseline.calls and engine.cache_hits > 0


# ----- the patch machinery (for engines that declare local_reading), on plain arrays -----

def _box(text, left, top, right, bottom):
    return TextBox(text, left, top, right, bottom, 90.0)


def test_a_changed_clock_marks_its_whole_line_and_nothing_else():
    changed = np.zeros((200, 300), bool)
    changed[20:30, 250:260] = True                    # a digit of the clock changed
    boxes = [_box("DOE^JOHN", 10, 20, 90, 30),        # far left on the same row: kept
             _box("12/03/1961", 180, 20, 240, 30),    # same line, next to the clock
             _box("10:46:34", 245, 20, 295, 30),      # the clock
             _box("Frame", 200, 150, 240, 160)]       # elsewhere
    assert dirty_boxes(changed, boxes) == [False, True, True, False]


def test_patches_cover_the_change_and_paint_over_kept_text():
    height, width = 200, 300
    changed = np.zeros((height, width), bool)
    changed[100:140, 100:200] = True                  # moving picture in the middle
    boxes = [_box("DOE^JOHN", 10, 10, 90, 22), _box("CHI", 95, 120, 120, 132)]
    dirty = dirty_boxes(changed, boxes)
    assert dirty == [False, True]
    patches = plan_patches(changed, boxes, dirty)
    assert patches is not None and len(patches) == 1
    patch = patches[0]
    assert patch.holds(boxes[1]) and not patch.touches(boxes[0])
    image = Image(np.full((height, width), 200, np.uint8), 0, -1, SOURCE_FRAME)
    crop = patch.crop(image)
    assert crop.pixels.shape == patch.inside.shape
    assert (crop.pixels[patch.inside] == 200).all()
    # Too much changed: read whole.
    changed[:] = True
    assert plan_patches(changed, boxes, [True, True]) is None


def _drawn(lines: dict[tuple[int, int], str], size=(120, 400)) -> Image:
    """White text on black, each line drawn at its (left, top)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    picture = PILImage.new("L", (size[1], size[0]))
    draw = ImageDraw.Draw(picture)
    for (left, top), text in lines.items():
        draw.text((left, top), text, fill=255, font=dicomgen.load_font(14))
    return Image(np.asarray(picture), 0, -1, SOURCE_FRAME)


def _ink_box(image: Image, text: str, left: int, right: int, top: int = 0, bottom: int = 50) -> TextBox:
    """The line's box as a detector gives it: the ink in those bounds, a few pixels around it."""
    part = image.pixels[top:bottom, left:right]
    rows = np.flatnonzero(part.any(axis=1)) + top
    cols = np.flatnonzero(part.any(axis=0)) + left
    return _box(text, int(cols[0]) - 3, int(rows[0]) - 3, int(cols[-1]) + 4, int(rows[-1]) + 4)


def test_line_plans_read_a_changed_clock_again_where_it_stands():
    """A clock's seconds tick inside its own box: the clock is recognised again where it
    stands (no detection), and the date beside it, whose neighbourhood changed only inside
    the clock's box, keeps its reading."""
    before = _drawn({(10, 10): "12/03/1961", (130, 10): "10:46:34"})
    after = _drawn({(10, 10): "12/03/1961", (130, 10): "10:46:35"})
    boxes = [_ink_box(before, "12/03/1961", 0, 120), _ink_box(before, "10:46:34", 120, 400)]
    changed = changed_pixels(after, before)
    dirty = dirty_boxes(changed, boxes)
    assert dirty == [True, True]
    assert line_plans(changed, before, after, boxes, dirty) == [KEEP, AGAIN]


def test_line_plans_read_a_shrunk_line_again_and_the_area_of_a_grown_one():
    """"Frame 10" -> "Frame 9": the glyphs changed inside the box and the ink stays inside
    the rectangle it filled, so the box still holds the line: read again where it stands.
    "Frame 9" -> "Frame 10": the new glyph reaches past the box (ink changed outside every
    line), so the detector would draw another box: the line's neighbourhood is read again,
    and so is the line beside it on the same row (the detector may join them). A line far
    below, untouched, is kept."""
    ten = _drawn({(10, 10): "Se:3", (60, 10): "Frame 10", (10, 90): "HFS"})
    nine = _drawn({(10, 10): "Se:3", (60, 10): "Frame 9", (10, 90): "HFS"})
    boxes = [_ink_box(ten, "Se:3", 0, 55), _ink_box(ten, "Frame 10", 55, 400),
             _ink_box(ten, "HFS", 0, 400, 60, 120)]
    changed = changed_pixels(nine, ten)
    assert line_plans(changed, ten, nine, boxes, dirty_boxes(changed, boxes)) == [KEEP, AGAIN, KEEP]
    boxes = [_ink_box(nine, "Se:3", 0, 55), _ink_box(nine, "Frame 9", 55, 400),
             _ink_box(nine, "HFS", 0, 400, 60, 120)]
    changed = changed_pixels(ten, nine)
    assert changed[:, boxes[1].right:].any()            # the new glyph lies outside the box
    assert line_plans(changed, nine, ten, boxes, dirty_boxes(changed, boxes)) == [AREA, AREA, KEEP]


def test_line_plans_read_the_area_when_the_ink_reaches_further_inside_the_box():
    """A glyph drawn into the box's margin (the line grew, though not past its box): the
    box no longer holds the line with the room the detector gave it, so its area is read."""
    before = _drawn({(10, 10): "10:46:34"})
    box = _ink_box(before, "10:46:34", 0, 400)
    wide = _box("10:46:34", box.left, box.top, box.right + 12, box.bottom)
    after = _drawn({(10, 10): "10:46:34", (wide.right - 9, 12): "."})
    changed = changed_pixels(after, before)
    assert changed.any() and not changed[:, wide.right:].any()
    assert line_plans(changed, before, after, [wide], dirty_boxes(changed, [wide])) == [AREA]


def test_line_plans_keep_a_line_beside_speckle_that_stays_below_its_ink():
    """Speckle changing beside a white line (an echo's sector next to its labels), on the
    background side of the line's ink before and after: nothing the line is read at
    changed, so it keeps its reading. The same change at the ink's level (a glyph may have
    joined the line) reads its area, and so does one that crosses the level on either frame,
    or one where the line's own box changed too."""
    rng = np.random.default_rng(5)
    before = _drawn({(10, 10): "Se:3 Im:45"})
    box = _ink_box(before, "Se:3 Im:45", 0, 400)
    spot = (slice(box.top, box.bottom), slice(box.right + 6, box.right + 20))

    def speckled(image: Image, low: int, high: int) -> Image:
        pixels = image.pixels.copy()
        pixels[spot] = rng.integers(low, high, pixels[spot].shape, dtype=np.uint8)
        return replace(image, pixels=pixels)

    first, second = speckled(before, 10, 60), speckled(before, 10, 60)
    changed = changed_pixels(second, first)
    assert changed[spot].any() and not changed[box.top:box.bottom, box.left:box.right].any()
    dirty = dirty_boxes(changed, [box])
    assert dirty == [True]
    assert line_plans(changed, first, second, [box], dirty) == [KEEP]
    # The line's own box changed as well (a new picture, not speckle beside still text).
    redrawn = replace(second, pixels=second.pixels.copy())
    redrawn.pixels[box.top:box.bottom, box.left:box.right][second.pixels[box.top:box.bottom, box.left:box.right] == 0] = 1
    changed = changed_pixels(redrawn, first)
    assert line_plans(changed, first, redrawn, [box], dirty_boxes(changed, [box])) == [AREA]
    bright = speckled(before, 200, 256)
    changed = changed_pixels(bright, first)
    assert line_plans(changed, first, bright, [box], dirty_boxes(changed, [box])) == [AREA]
    changed = changed_pixels(first, bright)
    assert line_plans(changed, bright, first, [box], dirty_boxes(changed, [box])) == [AREA]


def test_below_ink_knows_bright_and_dark_ink():
    """below_ink: the background side of a line's Otsu threshold, for white text on black
    and black text on white; a line of one level has no ink to compare with."""
    white = np.zeros((12, 40), np.uint8)
    white[3:9, 5:30:3] = 250
    assert below_ink(white, np.array([0, 40, 90], np.uint8))
    assert not below_ink(white, np.array([0, 40, 200], np.uint8))
    dark = 255 - white
    assert below_ink(dark, np.array([255, 220, 170], np.uint8))
    assert not below_ink(dark, np.array([255, 30], np.uint8))
    assert below_ink(np.stack([white] * 3, axis=-1), np.array([[10, 20, 30]], np.uint8))
    assert not below_ink(np.full((12, 40), 9, np.uint8), np.array([0], np.uint8))


def test_changed_pixels_are_exact_and_include_the_text_mask():
    a = Image(np.zeros((8, 8, 3), np.uint8), 0, -1, SOURCE_FRAME, np.zeros((8, 8), bool))
    pixels = a.pixels.copy()
    pixels[2, 3, 1] = 1                               # one channel, one level
    mask = a.text_mask.copy()
    mask[5, 5] = True
    b = Image(pixels, 1, -1, SOURCE_FRAME, mask)
    assert list(zip(*np.nonzero(changed_pixels(b, a)))) == [(2, 3), (5, 5)]


def test_a_text_mask_that_appears_is_changed_where_it_is_set():
    """A frame without a mask has no pixel of it: the next frame's mask is a change where
    it is set, and the frame after, with none again, changed there too."""
    pixels = np.zeros((8, 8, 3), np.uint8)
    mask = np.zeros((8, 8), bool)
    mask[2:4, 5] = True
    plain, masked = Image(pixels, 0, -1, SOURCE_FRAME), Image(pixels.copy(), 1, -1, SOURCE_FRAME, mask)
    assert list(zip(*np.nonzero(changed_pixels(masked, plain)))) == [(2, 5), (3, 5)]
    assert list(zip(*np.nonzero(changed_pixels(plain, masked)))) == [(2, 5), (3, 5)]
    assert not changed_pixels(plain, Image(pixels.copy(), 2, -1, SOURCE_FRAME)).any()


def test_patches_read_by_a_local_engine_give_the_full_rows(cines):
    """Forced on (tesseract does not promise local reading; on this RGB cine it reads crops
    alike): changed frames are read in patches, checked once, and give the full reads."""
    path, _ = cines["rgb"]
    images = list(iter_images(read_dataset(path)))
    full = boxes_of(TesseractEngine(crop_cache=0), images)
    reuse = FrameReuse(TesseractEngine(), crops=True)
    assert boxes_of(reuse, images) == full
    assert reuse.counts.partial == FRAMES - 1 and reuse.counts.checks_failed == 0
    assert reuse.counts.pixels_read < 0.7 * FRAMES * images[0].height * images[0].width


def test_easyocr_cine_rows_equal_a_full_read(tmp_path, ner):
    """easyocr reads a changed frame whole (its detector magnifies small crops); held frames
    are answered from the frame before. 2 distinct frames, each stored twice."""
    from scp_scanner.ocr.easyocr_engine import EasyOcrEngine

    path = tmp_path / "cine_held.dcm"
    dicomgen.build_us_cine(path, 7, n_frames=2, hold=2)
    engine = EasyOcrEngine()
    full = Pipeline(engine, ner, rects=True, frame_reuse=False).process_file(path)
    reused = Pipeline(engine, ner, rects=True, frame_reuse=True).process_file(path)
    assert reused.rows == full.rows and full.images == 4
    assert any("/2" in row.ocr_text for row in full.rows if row.left == -1)
    images = list(iter_images(read_dataset(path)))
    reuse = FrameReuse(engine)
    assert boxes_of(reuse, images[:2]) == [[box_key(b) for b in engine.read(i)] for i in images[:2]]
    assert (reuse.counts.full_reads, reuse.counts.reused) == (1, 1)


def test_the_cine_generator_changes_only_the_clock_counter_and_picture(cines):
    path, truth = cines["rgb"]
    words = [{w.text for w in image.words} for image in truth.images]
    static = set.intersection(*words)
    assert {w.text for w in truth.images[0].words if w.pii} - static <= set()   # identifiers stay
    changing = [sorted(w - static) for w in words]
    assert all(len(c) == 2 for c in changing)                                     # clock, counter
    assert len({tuple(c) for c in changing}) == FRAMES
    assert changing[0][0] != changing[1][0] and ":" in "".join(changing[0])
    images = list(iter_images(read_dataset(path)))
    for a, b in zip(images, images[1:]):
        assert changed_pixels(b, a).mean() > 0.2                                  # new speckle


def test_changed_pixels_finds_every_change_of_one_level_in_one_channel() -> None:
    rng = np.random.default_rng(11)
    before = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
    after = before.copy()
    after[3, 4, 2] ^= 1                          # blue changed by one level
    after[10:12, 20:30, 0] = 255 - after[10:12, 20:30, 0]
    after[40, 60] = before[40, 60]               # unchanged
    expected = (after != before).any(axis=2)
    got = changed_pixels(Image(after, 1, -1), Image(before, 0, -1))
    assert got.dtype == bool and np.array_equal(got, expected)
    grey = changed_pixels(Image(after[..., 0].copy(), 1, -1), Image(before[..., 0].copy(), 0, -1))
    assert np.array_equal(grey, after[..., 0] != before[..., 0])
