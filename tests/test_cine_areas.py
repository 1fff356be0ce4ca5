"""Further cine frames read in their changed areas only (ocr/reuse.py `_read_areas`, the
rapidocr engine's `read_in`), the exact mode beside it, and what else makes a cine cheap:
enclosing and NER answered from memory, JPEG baseline decoded by Pillow.

Real rapidocr (PP-OCRv6 from the rapidocr wheel), real spaCy, dicomgen's cines (a clock
and a frame counter that change on every frame, new speckle and a moving blob under a
static banner) and pydicom-data's real echo cine. Costs are asserted as counts (pixels
handed to the models, model calls), never as times; bench/bench_cine.py times them.
"""
from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage
from PIL import ImageDraw
from pydicom.data import get_testdata_file
from pydicom.pixels import iter_pixels
from pydicom.uid import JPEGBaseline8Bit

import dicomgen
from conftest import run_scan
from scp_scanner import ocr, pii
from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.enclose import Encloser, enclose
from scp_scanner.model import TextBox
from scp_scanner.ocr.reuse import FrameReuse, box_key, found_still_line
from scp_scanner.pii.memo import RememberedNer
from scp_scanner.pipeline import Pipeline

FRAMES = 12


@pytest.fixture(scope="module")
def cines(tmp_path_factory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("area_cines")
    out = {}
    for name, kwargs in {"rgb": {}, "grey": {"grey": True},
                         "jpeg": {"opts": dicomgen.CaseOptions(syntax=JPEGBaseline8Bit)}}.items():
        out[name] = folder / f"{name}.dcm"
        dicomgen.build_us_cine(out[name], 7, n_frames=FRAMES, **kwargs)
    return out


@pytest.fixture(scope="module")
def ner():
    return pii.create("spacy")


def engine():
    return ocr.create("rapidocr", gpu="cpu")


def keys(boxes) -> set[tuple]:
    return {box_key(b) for b in boxes}


def overlap(a, b) -> float:
    """How much of the smaller of two rows' rectangles the other covers (1: one holds it)."""
    iw = min(a.right, b.right) - max(a.left, b.left)
    ih = min(a.bottom, b.bottom) - max(a.top, b.top)
    smaller = min((a.right - a.left) * (a.bottom - a.top), (b.right - b.left) * (b.bottom - b.top))
    return max(0, iw) * max(0, ih) / max(1, smaller)


def test_rgb_cine_reads_as_a_full_read_and_only_changes_are_read(cines, ner):
    """The clock and the counter change on every frame. Every frame's text and verdicts are
    those of a full read of every frame; a line's rectangle is the one read where its pixels
    last changed (a full read moves the detector's box edges by a pixel or so when speckle
    elsewhere in its piece changes: 12 of 55 unchanged lines here). A further frame hands
    the models a small part of its pixels."""
    path = cines["rgb"]
    full = Pipeline(engine(), ner, rects=True, frame_reuse=False).process_file(path)
    reused = Pipeline(engine(), ner, rects=True).process_file(path)
    assert len(reused.rows) == len(full.rows) and reused.images == full.images == FRAMES
    for ours, theirs in zip(reused.rows, full.rows):
        assert (ours.frame, ours.ocr_text, ours.is_sensitive) == (theirs.frame, theirs.ocr_text, theirs.is_sensitive)
        assert ours.left == theirs.left == -1 or overlap(ours, theirs) >= 0.9, (ours, theirs)
    wholes = [row for row in reused.rows if row.left == -1]
    assert len(wholes) == FRAMES and all(row.is_sensitive == 1 for row in wholes)
    assert sum(f"{i + 1}/{FRAMES}" in row.ocr_text for i, row in enumerate(wholes)) >= FRAMES - 1
    images = list(iter_images(read_dataset(path)))
    reader = FrameReuse(engine())
    recognised_in_areas = 0
    for image in images:
        partial, calls = reader.counts.partial, reader.engine.calls.recogniser
        reader.read(image)
        if reader.counts.partial > partial:
            recognised_in_areas += reader.engine.calls.recogniser - calls
    frame = images[0].height * images[0].width
    # Frame 1 read whole, frame 9 read whole again (REFRESH_EVERY), the others in areas.
    assert reader.counts.full_reads == 2 and reader.counts.refreshes == 1, reader.counts
    assert reader.counts.partial == FRAMES - 2, reader.counts
    # The clock and the counter tick inside their boxes: recognised again where they stand,
    # without detection (measured: 17 lines over the 10 frames read in areas; the others,
    # such as the counter growing from 9/12 to 10/12, had their areas read).
    assert reader.counts.lines_again >= FRAMES - 2, reader.counts
    # Lines recognised on those frames: measured 25 (34 when every changed line's area was
    # detected and its lines, and those beside them, recognised again).
    assert recognised_in_areas <= 28, recognised_in_areas
    # Measured: 23% of a frame's pixels for each frame read in areas.
    in_areas = reader.counts.pixels_read - 2 * frame
    assert in_areas <= 0.35 * frame * (FRAMES - 2), (in_areas, frame)


def texts(boxes) -> set[str]:
    return {b.text for b in boxes}


def test_grey_cine_keeps_the_lines_a_full_read_drops(cines):
    """On the grey cine the detector drops the unchanged 'C+' on 4 of 12 frames when each
    frame is read whole (speckle elsewhere in its piece). Reading only what changed keeps
    every line a full read finds, and adds only lines read on an earlier frame."""
    images = list(iter_images(read_dataset(cines["grey"])))
    full = [texts(engine_read) for engine_read in map(engine().read, images)]
    reader = FrameReuse(engine())
    reused = [texts(reader.read(image)) for image in images]
    assert all(f <= r for f, r in zip(full, reused)), [sorted(r ^ f) for f, r in zip(full, reused)]
    assert all(r - f <= set().union(*reused[:i]) for i, (f, r) in enumerate(zip(full, reused)))
    assert any(r != f for f, r in zip(full, reused))        # the full read does drop a line
    assert reader.counts.partial >= FRAMES // 2, reader.counts


@pytest.mark.parametrize("kind", ["rgb", "grey", "jpeg"])
def test_exact_reuse_rows_equal_a_full_read_of_every_frame(cines, ner, kind):
    """processing.frame_reuse_exact: changed frames read whole, with the models' answers kept
    by exact input bytes: rows equal a full read's on every cine, JPEG included."""
    path = cines[kind]
    full = Pipeline(engine(), ner, rects=True, frame_reuse=False).process_file(path)
    exact = Pipeline(engine(), ner, rects=True, frame_reuse_exact=True).process_file(path)
    assert exact.rows == full.rows


def labelled(images: list, text: str, at: tuple[int, int], first: int) -> list:
    """The images, with `text` drawn in white at `at` (x, y) from index `first` on."""
    font = dicomgen.load_font(16)
    out = []
    for index, image in enumerate(images):
        if index >= first:
            picture = PILImage.fromarray(image.pixels)
            ImageDraw.Draw(picture).text(at, text, fill=(255, 255, 255), font=font)
            image = replace(image, pixels=np.asarray(picture))
        out.append(image)
    return out


def test_text_that_appears_over_the_picture_is_read(cines):
    """A label written over the changing sector from frame 6 on is found on every frame that
    shows it (the ink that appears where pixels changed is read), and on no earlier one."""
    shown = labelled(list(iter_images(read_dataset(cines["rgb"]))), "DOE^JANE 4567123", (260, 250), 6)
    reader = FrameReuse(engine())
    texts = [" ".join(b.text for b in reader.read(image) if 200 < b.top < 300) for image in shown]
    assert all("4567123" not in text for text in texts[:6]), texts
    assert all("4567123" in text and "JANE" in text for text in texts[6:]), texts
    assert reader.counts.partial >= FRAMES - 2, reader.counts


def test_a_short_label_that_appears_on_a_still_background_is_read(cines):
    """Two glyphs (`R2`) written on the black margin from frame 3 on: too short to look like
    a line of text, but the only pixels that changed around them, so they are read where they
    appear, on every frame that shows them and on no earlier one (before, they waited for the
    next whole read)."""
    shown = labelled(list(iter_images(read_dataset(cines["rgb"]))), "R2", (12, 240), 2)
    reader = FrameReuse(engine())
    seen = [[b.text for b in reader.read(image) if 220 < b.top < 270 and b.right < 100] for image in shown]
    assert seen[:2] == [[], []], seen
    assert all(texts == ["R2"] for texts in seen[2:]), seen
    assert reader.counts.refreshes == 1, reader.counts


def test_refreshes_grow_apart_while_they_find_no_still_line(tmp_path):
    """A 26-frame cine whose only changes are picture, clock and counter: the refresh at
    frame 9 finds nothing the kept reading lacked, so the next waits 16 frames (frame 25),
    not 8; every line a full read finds on a frame is still found on it."""
    path = tmp_path / "cine26.dcm"
    dicomgen.build_us_cine(path, 7, n_frames=26)
    images = list(iter_images(read_dataset(path)))
    reader = FrameReuse(engine())
    whole = engine()
    refreshed = []
    for index, image in enumerate(images):
        before = reader.counts.refreshes
        ours = texts(reader.read(image))
        if reader.counts.refreshes > before:
            refreshed.append(index)
        if index % 5 == 0 or index >= 23:
            full = texts(whole.read(image))
            assert full <= ours, (index, sorted(full - ours))
    assert refreshed == [8, 24], refreshed


def test_a_refresh_counts_only_new_lines_where_pixels_stood_still():
    """found_still_line: a line of the whole read that meets no kept line, over pixels that
    did not change, is what reading in areas missed; a new line over changed picture, or a
    kept line found again, is not."""
    def box(top, left, text="TEXT"):
        return TextBox(text=text, left=left, top=top, right=left + 60, bottom=top + 14, confidence=90.0)

    changed = np.zeros((200, 300), bool)
    changed[100:160, 150:300] = True                       # the picture moved here
    kept = [box(10, 10, "DOE^JANE")]
    assert not found_still_line([box(11, 11, "DOE^JANE")], kept, changed)        # found again
    assert not found_still_line([box(120, 200, ".B o")], kept, changed)          # over the picture
    assert found_still_line([box(11, 11), box(60, 20, "R2")], kept, changed)     # missed before
    assert not found_still_line([], kept, changed)


def test_a_line_erased_in_place_is_dropped(cines):
    """The counter's glyphs painted over with the background from frame 3 on: its ink stays
    inside its box, so it is recognised where it stands, reads as nothing, and its area is
    read instead: frames 3 and 4 list no counter, and every other line stays."""
    images = list(iter_images(read_dataset(cines["rgb"])))[:5]
    reader = FrameReuse(engine())
    first = reader.read(images[0])
    counter = next(b for b in first if b.text.startswith("Frame"))
    shown = [images[0], images[1]]
    for image in images[2:]:
        pixels = image.pixels.copy()
        pixels[counter.top:counter.bottom, counter.left:counter.right] = 0
        shown.append(replace(image, pixels=pixels))
    texts = [[b.text for b in reader.read(image)] for image in shown[1:]]
    assert any(t.startswith("Frame 2/") for t in texts[0]), texts[0]
    others = {b.text for b in first} - {counter.text}
    for read in texts[1:]:
        assert not any(t.startswith("Frame") for t in read), read
        assert len(others & set(read)) >= len(others) - 1, (others, read)
    assert reader.counts.lines_again >= 3 and reader.counts.partial == 4, reader.counts


def _rects(boxes, text: str) -> list[tuple[int, int, int, int]]:
    return [(b.left, b.top, b.right, b.bottom) for b in boxes if b.text == text]


def test_a_line_the_detector_misses_on_a_further_frame_is_read_where_it_stood(real_data):
    """pydicom-data's two-frame Philips ultrasound: the dim preset label `OB` is on both
    frames, but a whole read of frame 2 does not detect it (frame 2's pixels changed
    everywhere, so frame 2 is read whole). Reading frame 2 after frame 1, the line no box of
    frame 2 meets is recognised where it stood on frame 1, and kept. With the label painted
    black on frame 2, the same recognition reads nothing there, and nothing is kept."""
    images = [i for i in iter_images(read_dataset(real_data / "OBXXXX1A_2frame.dcm")) if i.overlay == -1]
    assert len(images) == 2
    assert not _rects(engine().read(images[1]), "OB")
    reader = FrameReuse(engine())
    where = _rects(reader.read(images[0]), "OB")
    assert len(where) == 1, where
    assert _rects(reader.read(images[1]), "OB") == where
    assert reader.counts.carried >= 1 and reader.counts.full_reads == 2, reader.counts

    left, top, right, bottom = where[0]
    pixels = images[1].pixels.copy()
    pixels[top:bottom, left:right] = 0
    erased = replace(images[1], pixels=pixels)
    reader = FrameReuse(engine())
    reader.read(images[0])
    assert not _rects(reader.read(erased), "OB")


def test_a_frame_whose_lines_all_changed_is_read_whole(cines):
    """Nothing to reuse (every line's pixels changed: here the frame is inverted): read
    whole; the next frame, inverted as well, keeps that reading where it did not change."""
    images = list(iter_images(read_dataset(cines["rgb"])))
    noisy = [images[0]] + [replace(image, pixels=np.ascontiguousarray(255 - image.pixels))
                           for image in images[1:3]]
    reader = FrameReuse(engine())
    for image in noisy:
        reader.read(image)
    assert reader.counts.full_reads == 2 and reader.counts.partial == 1
    assert reader.counts.whole_because == {"lines moved": 1}


def test_real_echo_cine_further_frames_read_a_small_part(tmp_path):
    """pydicom-data's 120-frame echo (JPEG baseline, YBR_FULL_422): the first 20 frames.
    Banner and settings stand still, the sector moves: further frames hand the models a
    small share of their pixels (measured: 5 areas in 37 frames, 0.4 M of 11.4 M pixels)."""
    path = get_testdata_file("color3d_jpeg_baseline.dcm")
    images = [image for _, image in zip(range(20), iter_images(read_dataset(path)))]
    reader = FrameReuse(engine())
    results = [reader.read(image) for image in images]
    frame = images[0].height * images[0].width
    whole = reader.counts.full_reads
    # Refreshed at frame 9, which found no still line the kept reading lacked: the next
    # refresh waits 16 frames.
    assert whole <= 2 + reader.counts.refreshes and reader.counts.refreshes == 1, reader.counts
    assert reader.counts.pixels_read - whole * frame <= 0.1 * frame * (len(images) - whole), reader.counts
    # The banner read on the first frame is on every frame.
    first = {b.text for b in results[0]}
    assert len(first) >= 10
    assert all(len(first & {b.text for b in boxes}) >= 0.8 * len(first) for boxes in results)


def test_a_text_mask_that_comes_and_goes_does_not_start_a_series():
    """pydicom's 30-frame YBR echo (JPEG baseline): the colour text mask (a saturated
    colour's pixels, kept when there are enough of them) appears on frames 21-22 only. Those
    frames are read in their changed areas like the others: the only whole reads are the
    first frame and the refreshes (before, the mask's coming and going started a series of
    its own: 4 whole reads, 2 of them refreshes), and the banner stays read."""
    images = list(iter_images(read_dataset(get_testdata_file("examples_ybr_color.dcm"))))
    assert [i for i, image in enumerate(images) if image.text_mask is not None] == [21, 22]
    reader = FrameReuse(engine())
    results = [reader.read(image) for image in images]
    assert reader.counts.full_reads == 1 + reader.counts.refreshes, reader.counts
    assert reader.counts.whole_because == {}, reader.counts
    first = {b.text for b in results[0]}
    assert len(first) >= 10
    for index in (20, 21, 22, 23):
        assert len(first & {b.text for b in results[index]}) >= 0.8 * len(first), (index, results[index])


def test_enclosing_from_memory_gives_the_same_boxes(cines):
    images = list(iter_images(read_dataset(cines["rgb"])))
    reader = engine()
    boxes = [reader.read(image) for image in images[:4]]
    encloser = Encloser()
    assert [encloser.enclose(i, b) for i, b in zip(images, boxes)] == [enclose(i, b) for i, b in zip(images, boxes)]
    total = sum(map(len, boxes))
    assert encloser.measured < total                      # the banner's lines were met again
    again = Encloser()
    again.enclose(images[0], boxes[0])
    again.enclose(images[0], boxes[0])
    assert again.measured == len(boxes[0])
    assert Encloser(memory=0).enclose(images[1], boxes[1]) == enclose(images[1], boxes[1])


def test_ner_from_memory_gives_the_engine_answers(ner):
    remembered = RememberedNer(ner, memory=2)
    texts = ["SMITH^JOHN Royal Infirmary 12/03/1961", "Fiona Campbell, Ninewells", "HFS 5 mm"]
    for text in texts + texts[::-1]:
        assert remembered.entities(text) == ner.entities(text)
    # Three distinct texts, a memory of two: the third is asked again, the others are not.
    assert remembered.calls == 4
    assert remembered.name == ner.name


def test_jpeg_baseline_frames_decode_as_pydicom_decodes_them():
    """Pillow (libjpeg-turbo) and OpenCV's YCbCr -> RGB against pydicom's default decode:
    conforming decoders, a level or so apart in a few pixels."""
    path = get_testdata_file("color3d_jpeg_baseline.dcm")
    ours = [image.pixels for _, image in zip(range(5), iter_images(read_dataset(path)))]
    reference = [frame for _, frame in zip(range(5), iter_pixels(path))]
    for a, b in zip(ours, reference):
        assert a.shape == b.shape == (480, 640, 3)
        difference = np.abs(a.astype(int) - b.astype(int))
        assert difference.max() <= 8 and difference.mean() < 0.1


def test_scan_config_exact_frame_reuse(cines, tmp_path):
    config = tmp_path / "exact.yaml"
    config.write_text("processing:\n  frame_reuse_exact: true\n")
    off = tmp_path / "off.yaml"
    off.write_text("processing:\n  frame_reuse: false\n")
    args = ["--ocr", "rapidocr", "--rects", str(cines["grey"])]
    exact = run_scan("--config", str(config), *args)
    full = run_scan("--config", str(off), *args)
    assert exact.returncode == full.returncode == 0, exact.stderr + full.stderr
    assert exact.stdout == full.stdout and exact.stdout.count("\n") > 2 * FRAMES
    bad = tmp_path / "bad.yaml"
    bad.write_text("processing:\n  frame_reuse_exact: sometimes\n")
    refused = run_scan("--config", str(bad), *args)
    assert refused.returncode == 2 and "frame_reuse_exact" in refused.stderr


def test_a_still_line_found_again_in_place_keeps_its_reading(cines):
    """`Se:3 Im:45` stands beside the moving picture: its own pixels never change, but
    picture as bright as its ink moves round it, so its area is detected again on every
    frame (the line may have grown). Found again in its place, it keeps the box and reading
    of the frame it was read on, and is not recognised again; only the changed lines are."""
    images = list(iter_images(read_dataset(cines["rgb"])))[:4]
    reader = FrameReuse(engine())
    first = [b for b in reader.read(images[0]) if b.text == "Se:3 Im:45"]
    assert len(first) == 1, "the frame's label line is read"
    line = first[0]
    crops: list[tuple[int, int]] = []
    recognise = reader.engine.recognise

    def recording(batch):
        crops.extend(crop.shape[:2] for crop in batch)
        return recognise(batch)

    reader.engine.recognise = recording
    for image in images[1:]:
        areas = reader.counts.areas_read
        boxes = reader.read(image)
        assert reader.counts.areas_read > areas, "its neighbourhood is read again"
        assert [b for b in boxes if b.text == "Se:3 Im:45"] == [line]
    height, width = line.bottom - line.top, line.right - line.left
    assert crops, "the clock and the counter are recognised again"
    assert not any(abs(h - height) <= 4 and abs(w - width) <= 6 for h, w in crops), (crops, line)


def test_a_detected_line_stands_for_a_still_one_only_in_its_place():
    """RapidOcrEngine._still_line: every side within STILL_JITTER of the earlier line's and
    no changed pixel in either rectangle; a line that grew by a glyph, or whose pixels
    changed, is recognised again."""
    from scp_scanner.model import SOURCE_FRAME, Image
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine, Rect, view_of

    image = Image(pixels=np.zeros((480, 640, 3), np.uint8), frame=1, overlay=-1, source=SOURCE_FRAME)
    view = view_of(image)
    line = TextBox("Se:3 Im:45", 40, 50, 140, 70, 90.0)
    changed = np.zeros((480, 640), bool)
    changed[10:20, 150:190] = True                                # picture elsewhere
    still = RapidOcrEngine._still_line
    assert still(image, view, Rect(41, 49, 142, 70), [line], changed) is line       # jitter
    assert still(image, view, Rect(40, 50, 152, 70), [line], changed) is None       # a glyph more
    assert still(image, view, Rect(41, 49, 142, 70), [], changed) is None
    assert still(image, view, Rect(41, 49, 142, 70), [line], None) is None
    changed[60, 141] = True                                       # inside the found rectangle
    assert still(image, view, Rect(41, 49, 142, 70), [line], changed) is None
