"""The rapidocr engine (PP-OCRv6 on onnxruntime) with the real models from the rapidocr wheel.

One engine for the module (~0.3 s to build; ~0.1-0.5 s per image on one thread). Files come
from tests/dicomgen.py (known words and ink boxes) and are built with fixed seeds.
"""
from __future__ import annotations

import csv
import io
import shutil
import socket
from pathlib import Path

import numpy as np
import pytest

import dicomgen
from conftest import run_scan
from scp_scanner import ocr
from scp_scanner.ocr import line_text, rapidocr_engine
from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.model import SOURCE_FRAME, Image, TextBox
from scp_scanner.ocr.labels import dob_by_shape
from scp_scanner.ocr.line_text import mend
from scp_scanner.ocr.prepare import PREPARE, inks, regions_of
from scp_scanner.ocr.rapidocr_engine import (DETECTOR_FILE, RECOGNISER_FILE, Rect, RapidOcrEngine,
                                             choose_providers, dedupe, pieces)
from scp_scanner.registry import EngineError


def tokens(text: str) -> set[str]:
    """Lower-case letter/digit tokens, as bench/score_scan.py compares them."""
    return {"".join(c for c in t.lower() if c.isalnum()) for t in text.split()} - {""}


def found(word: str, text: str) -> bool:
    return tokens(word) <= tokens(text)


@pytest.fixture(scope="module")
def engine() -> RapidOcrEngine:
    return ocr.create("rapidocr")


def images_of(path) -> list[Image]:
    return list(iter_images(read_dataset(path)))


def read_case(engine, case: str, folder: Path, seed: int):
    truth = dicomgen.build_case(case, folder / f"{case}.dcm", seed=seed)
    images = {(i.frame, i.overlay): i for i in images_of(truth.path)}
    return [(image_truth, images[(image_truth.frame, image_truth.overlay)],
             engine.read(images[(image_truth.frame, image_truth.overlay)])) for image_truth in truth.images]


@pytest.mark.parametrize("case", ["ct_signed", "cr_mono1", "us_rgb", "sc_grey_jpeg_baseline",
                                  "us_jpeg_baseline"])
def test_words_of_generated_images_are_read_with_rects_around_them(engine, case, tmp_path):
    for image_truth, image, boxes in read_case(engine, case, tmp_path, seed=3):
        text = " ".join(b.text for b in boxes)
        words = image_truth.words
        hits = [w for w in words if found(w.text, text)]
        assert len(hits) >= 0.9 * len(words), (case, text, [w.text for w in words])
        assert all(found(w.text, text) for w in words if w.pii), (case, text)
        for box in boxes:
            assert 0 <= box.left < box.right <= image.width and 0 <= box.top < box.bottom <= image.height
            assert 0 <= box.confidence <= 100
        # Every word read lies inside a rectangle whose text holds it (2 px of slack).
        for word in hits:
            holders = [b for b in boxes if found(word.text, b.text)]
            assert any(b.left - 2 <= word.left and word.right <= b.right + 2
                       and b.top - 2 <= word.top and word.bottom <= b.bottom + 2 for b in holders), \
                (word, holders)


@pytest.mark.parametrize("case", ["mr_overlay", "xa_highbit", "highbit_rle"])
def test_overlays_are_read(engine, case, tmp_path):
    read = read_case(engine, case, tmp_path, seed=5)
    overlays = [(t, i, b) for t, i, b in read if i.source != SOURCE_FRAME]
    assert overlays
    pii = [w for t, _, _ in overlays for w in t.words if w.pii]
    assert pii
    for image_truth, image, boxes in overlays:
        text = " ".join(b.text for b in boxes)
        missing = [w.text for w in image_truth.words if w.pii and not found(w.text, text)]
        assert not missing, (case, image.describe(), text)


def test_ink_windows_hold_every_set_bit_with_a_white_margin():
    page = np.full((300, 500), 255, np.uint8)
    assert rapidocr_engine.ink_windows(page) == []
    page[20:30, 40:120] = 0                 # a line near the top
    page[250:262, 400:470] = 128            # a smoothed edge counts as ink
    page[296:300, 0:3] = 0                  # a mark at the page's corner
    windows = rapidocr_engine.ink_windows(page, block=16)
    assert len(windows) == 3
    ink = np.argwhere(page < 255)
    for y, x in ink:
        assert any(w.top <= y < w.bottom and w.left <= x < w.right for w in windows)
    for w in windows:
        assert 0 <= w.left < w.right <= 500 and 0 <= w.top < w.bottom <= 300
        inside = page[w.top:w.bottom, w.left:w.right] < 255
        ys, xs = np.nonzero(inside)
        # At least one block (16 px) of white round the ink, except where the page ends.
        assert ys.min() >= 16 or w.top == 0
        assert xs.min() >= 16 or w.left == 0
        assert w.bottom - w.top - 1 - ys.max() >= 16 or w.bottom == 300
        assert w.right - w.left - 1 - xs.max() >= 16 or w.right == 500
    assert sum(w.area for w in windows) < 0.2 * page.size


def test_an_overlay_is_detected_in_windows_round_its_ink_with_the_whole_pages_reading(monkeypatch):
    """pydicom's MR with overlays: its overlay's text (two short labels on a 484x484 plane)
    is read from windows round its set bits, fewer detector runs than the whole page needs,
    with the same reading as the whole page."""
    from pydicom.data import get_testdata_file

    overlay = next(i for i in images_of(get_testdata_file("MR-SIEMENS-DICOM-WithOverlays.dcm"))
                   if i.source != SOURCE_FRAME)
    windowed = ocr.create("rapidocr", model_cache=False)
    in_windows = windowed.read(overlay)
    monkeypatch.setattr(rapidocr_engine, "MAX_WINDOW_SHARE", 0.0)      # the whole page, as before
    whole = ocr.create("rapidocr", model_cache=False)
    on_the_page = whole.read(overlay)
    assert [b.text for b in in_windows] == [b.text for b in on_the_page] and in_windows
    # The same place, give or take the few pixels by which the detector's box moves with the
    # context it sees (a window, not the page).
    for a, b in zip(in_windows, on_the_page):
        inter = (max(0, min(a.right, b.right) - max(a.left, b.left))
                 * max(0, min(a.bottom, b.bottom) - max(a.top, b.top)))
        union = ((a.right - a.left) * (a.bottom - a.top) + (b.right - b.left) * (b.bottom - b.top) - inter)
        assert inter / union >= 0.5, (a, b)
    assert windowed.calls.detector < whole.calls.detector
    # A plane with no set bit (a group the modality declares and leaves empty) is not detected.
    blank = Image(pixels=np.zeros((1024, 1024), np.uint8), frame=0, overlay=3, source=overlay.source)
    runs = windowed.calls.detector
    assert windowed.read(blank) == [] and windowed.calls.detector == runs


def test_a_large_overlays_small_text_is_read_from_windows_round_its_ink(monkeypatch):
    """A 2000x1600 overlay plane holding one 14 px line in a corner: read from a window round
    its set bits at its own size, with fewer detector runs than the whole page takes. (The
    large-image path that read it before, a reduced pass over the page and windows round the
    lines its ink analysis located, read `DOE^NE`.)"""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    picture = PILImage.new("L", (1600, 2000), 0)
    ImageDraw.Draw(picture).text((40, 1930), "DOE^JANE 12/03/1961", fill=255, font=dicomgen.load_font(14))
    plane = Image(pixels=np.asarray(picture).copy(), frame=0, overlay=0,
                  source=next(s for s in type(SOURCE_FRAME) if s != SOURCE_FRAME))
    windowed = ocr.create("rapidocr", model_cache=False)
    text = " ".join(b.text for b in windowed.read(plane))
    assert found("DOE^JANE", text) and found("12/03/1961", text), text
    monkeypatch.setattr(rapidocr_engine, "MAX_WINDOW_SHARE", 0.0)
    page = ocr.create("rapidocr", model_cache=False)
    page.read(plane)
    assert windowed.calls.detector < page.calls.detector


def build_large_cr(path: Path, seed: int = 7, rows: int = 2500, cols: int = 2000, size: int = 10):
    """A 2000x2500 MONOCHROME1 CR with 10 px text in its corners (dicomgen's parts)."""
    rnd, rng = dicomgen._rngs(seed)
    identity = dicomgen.make_identity(rnd)
    annotation = dicomgen.make_annotation(identity, "CR", rnd, "pii")
    mask, words = dicomgen.text_mask(annotation, cols, rows, size, face="sans")
    body = dicomgen.anatomy(rng, rows, cols)
    stored = np.clip(np.rint(3600 - body * 2700 + rng.normal(0, 20, body.shape)), 200, 4000).astype(np.uint16)
    stored[mask] = 0
    ds = dicomgen.base_dataset(identity, "CR", rnd, burned_in=True, fresh_uids=True)
    ds.WindowCenter, ds.WindowWidth = 2000, 4000
    dicomgen.set_pixels(ds, stored[None], bits_stored=12, signed=False, photometric="MONOCHROME1")
    dicomgen.encode_and_save(ds, stored[None], path, dicomgen.ExplicitVRLittleEndian)
    return words


def test_small_text_on_a_large_cr_is_read_at_its_own_size(engine, tmp_path):
    words = build_large_cr(tmp_path / "large_cr.dcm")
    assert max(w.bottom - w.top for w in words) <= 10
    (image,) = images_of(tmp_path / "large_cr.dcm")
    assert (image.width, image.height) == (2000, 2500)
    boxes = engine.read(image)
    text = " ".join(b.text for b in boxes)
    assert [w.text for w in words if w.pii and not found(w.text, text)] == [], text
    hits = [w for w in words if found(w.text, text)]
    assert len(hits) >= 0.8 * len(words), text
    for word in hits:     # rectangles in the 2000x2500 image's own pixels
        assert any(b.left - 2 <= word.left and word.right <= b.right + 2 and b.top - 2 <= word.top
                   and word.bottom <= b.bottom + 2 for b in boxes if found(word.text, b.text)), word


def hd_video_frame(face: str, size: int, lines: list[str], quality: int = 76) -> Image:
    """A 1920x1080 colour frame (a red spiral disc on black, like HD endoscopy video) with
    small white anti-aliased text in its top corners, through JPEG at `quality`."""
    from PIL import Image as PILImage, ImageDraw, ImageFont

    rows, cols = 1080, 1920
    yy, xx = np.mgrid[0:rows, 0:cols]
    radius, angle = np.hypot(yy - rows / 2, xx - cols / 2), np.arctan2(yy - rows / 2, xx - cols / 2)
    disc = (radius < 450) * (0.5 + 0.5 * np.sin(radius / 12 + 3 * angle))
    picture = PILImage.fromarray(np.stack([disc * 220, disc * 90, disc * 80], axis=2).astype(np.uint8))
    draw, font = ImageDraw.Draw(picture), ImageFont.truetype(face, size)
    for i, line in enumerate(lines[:-1]):
        draw.text((30, 30 + i * (size + 4)), line, font=font, fill=(255, 255, 255))
    draw.text((1700, 30), lines[-1], font=font, fill=(255, 255, 255))
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=quality)
    return Image(np.asarray(PILImage.open(buffer).convert("RGB")), 0, -1)


@pytest.mark.parametrize("face", ["DejaVuSerifCondensed.ttf", "DejaVuSans.ttf"])
def test_small_thin_text_beside_hd_video_is_read(engine, face):
    """7 px anti-aliased text on a 1920x1080 frame: the reduced pass shrinks it to 2 px and the
    ink's threshold keeps only specks of its strokes, so its lines are found by their strokes'
    contrast (prepare.stroke_lines) and magnified for the detector. Before, the serif face's
    lines were not read at all, and the sans face's name was cut or lost."""
    path = Path("/usr/share/fonts/truetype/dejavu") / face
    if not path.is_file():
        pytest.skip(f"{path} is not installed (fonts-dejavu-extra)")
    lines = ["ROBERTSON^CATRIONA", "NHS 867 653 1056", "DOB 21-Jul-1995", "Ninewells Hospital"]
    boxes = engine.read(hd_video_frame(str(path), 7, lines))
    text = " ".join(b.text for b in boxes)
    for word in ("ROBERTSON^CATRIONA", "867", "653", "1056", "21-Jul-1995", "Hospital"):
        assert found(word, text), text
    for box in boxes:      # in the frame's own pixels, in its corners
        assert box.top < 80 and (box.right < 200 or box.left > 1650), box


def colour_image(colours: list[tuple[int, int, int]], lines: list[str]) -> tuple[Image, list[dicomgen.Word]]:
    """Coloured text (one colour per line) over a colour ultrasound-like picture."""
    rows, cols = 480, 640
    rng = np.random.default_rng(2)
    sector = dicomgen.ultrasound_sector(rng, rows, cols)
    rgb = np.stack([sector * 200, sector * 90, sector * 40], axis=2).astype(np.uint8)   # warm Doppler-ish
    rgb[300:360, 250:400] = (20, 60, 200)                                                # a blue flow patch
    words = []
    for i, (colour, line) in enumerate(zip(colours, lines)):
        annotation = dicomgen.Annotation.of(top_left=[dicomgen._seg(line, True)])
        mask, placed = dicomgen.text_mask(annotation, cols, rows, 16)
        shift = 26 * i
        mask = np.roll(mask, shift, axis=0)
        rgb[mask] = colour
        words += [dicomgen.Word(w.text, w.left, w.top + shift, w.right, w.bottom + shift, True) for w in placed]
    return Image(rgb, 0, -1), words


def test_coloured_text_on_a_colour_image_is_read(engine):
    image, words = colour_image([(255, 255, 0), (0, 255, 0), (0, 255, 255)],
                                ["MACLEOD^EILIDH", "CHI 0101804567", "Ninewells Hospital"])
    boxes = engine.read(image)
    text = " ".join(b.text for b in boxes)
    assert all(found(w.text, text) for w in words), text


def test_blank_and_tiny_images_give_no_text(engine):
    assert engine.read(Image(np.zeros((512, 512), np.uint8), 0, -1)) == []
    assert engine.read(Image(np.zeros((3, 3), np.uint8), 0, -1)) == []


def test_a_letter_beside_a_crossed_or_looped_mark_is_two_glyphs_for_the_floor(engine):
    """`C+` (contrast), read from a detected line at 70: a letter and a mark of crossing
    strokes or a loop are two glyphs, so the line's floor applies, not the single
    character's. A dot, stroke or bracket beside one character (`I.`, `1)`, `L-`) may be
    noise's, and so may any mark read from a lone glyph's crop: those stay under the single
    character's floor. The varied corpora's `C+` was read at 65-79 and dropped 10 times over
    24 unseen corpora."""
    image = Image(np.zeros((64, 64), np.uint8), 0, -1)
    view = rapidocr_engine.view_of(image)
    rect = Rect(10, 20, 30, 32)
    floor, single = rapidocr_engine.MIN_SCORE / 100, rapidocr_engine.MIN_SINGLE_CHAR_SCORE / 100
    between = (floor + single) / 2
    for text in ("C+", "5%", "#3", "c+ "):
        box = engine._accepted(image, view, rect, text, between)
        assert box is not None and box.text == text.strip(), text
        assert engine._accepted(image, view, rect, text, between, one_glyph=True) is None, text
        assert engine._accepted(image, view, rect, text, floor - 0.01) is None, text
    for text in ("I.", "1)", "L-", "R:"):
        assert engine._accepted(image, view, rect, text, between) is None, text
        assert engine._accepted(image, view, rect, text, single + 0.01) is not None, text
    assert engine._accepted(image, view, rect, "+", 0.99) is None     # no letter or digit: no text
    assert engine._accepted(image, view, rect, "CT", between).text == "CT"
    assert rapidocr_engine.glyph_count("C+ 5%") == 4
    assert rapidocr_engine.glyph_count("I. 1) L-") == 3


def test_missing_model_file_is_a_clear_error(tmp_path):
    source = Path(RapidOcrEngine().model_dir)
    shutil.copy(source / DETECTOR_FILE, tmp_path / DETECTOR_FILE)
    with pytest.raises(EngineError) as caught:
        ocr.create("rapidocr", rapidocr_model_dir=str(tmp_path))
    message = str(caught.value)
    assert RECOGNISER_FILE in message and str(tmp_path) in message and "pip install" in message


def test_the_packaged_fine_tuned_recogniser_is_read_by_default(engine):
    """The default recogniser is the package's fine-tuned one; its classes are exactly those the
    engine keeps from the stock model (blank, Latin characters, space), in the same order, so
    the word prior's and the fields' indices mean the same characters with either."""
    assert engine.recogniser_path == rapidocr_engine.TUNED_RECOGNISER
    assert engine.recogniser_path.is_file()
    assert engine.model_dir == rapidocr_engine.stock_model_dir()
    stock = ocr.create("rapidocr", rapidocr_model_dir=str(rapidocr_engine.stock_model_dir()))
    assert stock.recogniser_path == rapidocr_engine.stock_model_dir() / RECOGNISER_FILE
    assert engine._rec.get_outputs()[0].shape[-1] == len(engine._alphabet) == 163
    assert engine._alphabet == stock._alphabet
    assert list(engine._classes) == list(range(163))
    assert len(stock._classes) == 163 and stock._classes[-1] > 18000


def test_a_missing_fine_tuned_recogniser_is_a_clear_error(tmp_path, monkeypatch):
    monkeypatch.setattr(rapidocr_engine, "TUNED_RECOGNISER", tmp_path / "ppocr_rec_latin.onnx")
    with pytest.raises(EngineError) as caught:
        RapidOcrEngine()
    message = str(caught.value)
    assert "ppocr_rec_latin.onnx" in message and "reinstall" in message
    assert "rapidocr_model_dir" in message


def test_nothing_reaches_the_network(tmp_path, monkeypatch):
    """Building the engine and reading must not open a connection: every socket connect fails."""
    attempts = []

    def refuse(self, address, *args):
        attempts.append(address)
        raise OSError("network use refused by the test")

    monkeypatch.setattr(socket.socket, "connect", refuse)
    monkeypatch.setattr(socket.socket, "connect_ex", refuse)
    engine = RapidOcrEngine()
    truth = dicomgen.build_case("us_rgb", tmp_path / "us.dcm", seed=4)
    boxes = [b for image in images_of(truth.path) for b in engine.read(image)]
    assert boxes and attempts == []


def test_gpu_choice():
    assert choose_providers("auto", ["CPUExecutionProvider"]) == (["CPUExecutionProvider"], "cpu")
    assert choose_providers("cpu", ["CUDAExecutionProvider", "CPUExecutionProvider"])[1] == "cpu"
    providers, device = choose_providers("cuda:1", ["CUDAExecutionProvider", "CPUExecutionProvider"])
    assert device == "cuda:1" and providers[0] == ("CUDAExecutionProvider", {"device_id": 1})
    assert choose_providers("auto", ["CUDAExecutionProvider", "CPUExecutionProvider"])[1] == "cuda:0"
    with pytest.raises(EngineError, match="onnxruntime-gpu|CUDAExecutionProvider"):
        choose_providers("cuda", ["CPUExecutionProvider"])


def test_pieces_cover_the_area_with_overlaps_and_seams_are_merged():
    for height, width in [(480, 640), (2500, 2000), (100, 3000), (512, 512)]:
        covered = np.zeros((height, width), bool)
        for piece in pieces(height, width):
            assert (piece.right - piece.left) * (piece.bottom - piece.top) <= 384 * 384 + 48 * 3000
            covered[piece.top:piece.bottom, piece.left:piece.right] = True
        assert covered.all()
    # One line cut by a seam between two pieces, the same word found twice, a coarse box.
    merged = dedupe([(Rect(10, 100, 200, 115), 0), (Rect(190, 101, 300, 116), 1),
                     (Rect(20, 100, 60, 115), 1), (Rect(400, 400, 440, 420), 0)],
                    coarse=[Rect(0, 95, 320, 120), Rect(600, 600, 700, 640)])
    assert sorted(merged, key=lambda r: r.left) == [Rect(10, 100, 300, 116), Rect(400, 400, 440, 420),
                                                    Rect(600, 600, 700, 640)]


def test_a_line_seen_alone_inside_a_block_of_lines_is_kept_beside_the_block():
    line, block = Rect(10, 10, 75, 27), Rect(0, 11, 98, 79)        # 17 px line, 68 px block
    assert sorted(dedupe([(block, 0), (line, 0)]), key=lambda r: r.top) == [line, block]
    # A box inside another of about its own height is the same text: the larger is kept.
    assert dedupe([(Rect(0, 9, 98, 30), 0), (line, 1)]) == [Rect(0, 9, 98, 30)]


def test_a_held_line_is_read_only_where_its_block_reads_as_nothing(engine, monkeypatch):
    """The detector joins four lines of 9 px text over speckle into one box and sees the
    first line on its own as well (an unseen seed's banner, a name and a date). split_lines
    cuts the block into its four lines by its rows' shares of ink (dense_rows); where it
    cannot (cutting over speckle turned off here), the block reads as nothing, so the line
    seen alone is read. Where the block reads as one line, the line inside it is that
    reading and is not read again."""
    from PIL import Image as PILImage, ImageDraw

    rng = np.random.default_rng(0)
    grey = np.clip(dicomgen.speckle_field(rng, 600, 800) * 150, 0, 255).astype(np.uint8)
    picture = PILImage.fromarray(np.repeat(grey[..., None], 3, axis=2))
    draw, font = ImageDraw.Draw(picture), dicomgen.load_font(9, "mono")
    for i, text in enumerate(["BROWN^PRIYA", "ID: 9788018", "DOB 1933-02-06", "Acc RA55633910"]):
        draw.text((12, 12 + 14 * i), text, font=font, fill=(200, 200, 200))
    image = Image(np.asarray(picture), 0, -1)
    view = rapidocr_engine.view_of(image)
    block, line = Rect(0, 8, 110, 72), Rect(8, 8, 80, 26)
    cut = [b.text for b in engine._lines(image, view, [block])]
    assert cut[0] == "BROWN^PRIYA" and len(cut) == 4 and "DOB" in cut[2] and "Acc" in cut[3], cut
    monkeypatch.setattr(rapidocr_engine, "MIN_GRAIN", 2.0)
    assert engine._lines(image, view, [block]) == []
    assert [b.text for b in engine._lines(image, view, [block, line])] == ["BROWN^PRIYA"]

    picture = PILImage.new("RGB", (800, 600))
    ImageDraw.Draw(picture).text((100, 100), "Royal Infirmary", font=dicomgen.load_font(24),
                                 fill=(220, 220, 220))
    image = Image(np.asarray(picture), 0, -1)
    view = rapidocr_engine.view_of(image)
    block, inner = Rect(94, 92, 300, 140), Rect(96, 100, 180, 122)
    assert [b.text for b in engine._lines(image, view, [inner])] == ["Royal I"]
    assert [b.text for b in engine._lines(image, view, [block, inner])] == ["Royal Infirmary"]


def test_a_held_line_is_read_after_the_coloured_text(engine, tmp_path):
    """Tuning seed 9's colour ultrasound: the detector joins the right-hand banner's three
    coloured lines into one box and sees the last on its own too. The block reads as
    nothing; the coloured lines read one by one (_with_colour_text) read all three, the last as
    `Ref PATEL^SARAH`, so the line seen alone is not read over them (it reads `Rei`)."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=1, seed=9, fonts="tuning",
                                        cases=["v_us_colour"])[0]
    image = images_of(truth.path)[0]
    view = rapidocr_engine.view_of(image)
    detected = [r for r in engine.detect(image, view) if r.left > 800 and r.top < 100]
    assert any(rapidocr_engine.holds_lines(block, line) and rapidocr_engine.overlap_share(line, block) >= 0.6
               for block in detected for line in detected if line != block)
    right = [b.text for b in engine.read(image) if b.left > 800 and b.top < 100]
    assert "Ref PATEL^SARAH" in right and not any(t.startswith("Rei") for t in right)


def test_small_grey_lines_over_speckle_that_the_detector_missed_are_detected_again_magnified(
        engine, tmp_path, monkeypatch):
    """Held-out varied seed 409's fourth colour ultrasound (1024x768, 6-8 px grey text over
    full-frame speckle): at its own size the detector finds none of the bottom corners'
    lines, though the ink shows them as lines of glyphs; windows round them magnified to
    DET_TEXT_HEIGHT find and read them. Nothing read before is changed."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=4, seed=409, fonts="heldout",
                                        cases=["v_us_colour"])[3]
    image = [i for i in images_of(truth.path) if i.overlay == -1][0]
    view = rapidocr_engine.view_of(image)
    corner = [line for line in rapidocr_engine.small_ink_lines(image, view) if line.top > 700 and line.left > 900]
    assert corner and not any(r.top > 700 and r.left > 900 for r in engine.detect(image, view))
    bottom = [b.text for b in engine.read(image) if b.top > 650]
    assert "HFS" in bottom and "Se:3 Im:45" in bottom
    monkeypatch.setattr(engine, "_small_lines", lambda *args: [])
    assert not [b for b in engine.read(image) if b.top > 650]


def test_a_small_line_whose_box_touches_a_line_read_before_is_kept(engine, tmp_path):
    """Held-out varied seed 449's third colour ultrasound, second frame: the frame counter `2/2`
    under `Se:3 Im:45` is found only by _small_lines, and its box reaches 4 px into that
    line's. A line found there is dropped only where it is mostly a line read before
    (prepare.covered); dropped on any touch, the counter was lost."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=3, seed=449, fonts="heldout",
                                        cases=["v_us_colour"])[2]
    image = [i for i in images_of(truth.path) if i.frame == 1 and i.overlay == -1][0]
    boxes = engine.read(image)
    counter = [b for b in boxes if b.text == "2/2"]
    assert len(counter) == 1
    assert any(b.text == "Se:3 Im:45" and b.bottom > counter[0].top and b.right > counter[0].left for b in boxes)


def speckled_corner(face: str, size: int, quality: int, seed: int) -> np.ndarray:
    """BGR view pixels: four lines of thin grey (200) anti-aliased text over ultrasound speckle
    (dicomgen.speckle_field x 150), 300x400, through JPEG at `quality` (4:2:2)."""
    from PIL import Image as PILImage, ImageDraw, ImageFont

    grey = dicomgen.speckle_field(np.random.default_rng(seed), 300, 400) * 150
    ink = PILImage.new("L", (400, 300), 0)
    draw, font = ImageDraw.Draw(ink), ImageFont.truetype(face, size)
    for i, line in enumerate(["BROWN^PRIYA", "ID: 9788018", "DOB 1933-02-06", "Acc RA55633910"]):
        draw.text((12, 12 + 14 * i), line, fill=255, font=font)
    cover = np.asarray(ink, np.float32)[..., None] / 255
    rgb = np.clip(np.rint(grey[..., None] * (1 - cover) + 200 * cover), 0, 255).astype(np.uint8)
    buffer = io.BytesIO()
    PILImage.fromarray(np.repeat(rgb, 3, axis=2)).save(buffer, "JPEG", quality=quality, subsampling=1)
    return np.ascontiguousarray(np.asarray(PILImage.open(buffer).convert("RGB"))[..., ::-1])


def test_thin_text_over_speckle_is_detected_in_a_smoothed_window(engine):
    """8 px FreeMono Oblique (held-out family) over speckle, JPEG at quality 50: in its window
    magnified 1.5x, as _small_lines reads it, the detector finds none of the four lines, the
    speckle's pixel-wide grain breaking the thin strokes; blurred first (smooth=True) it
    finds all four, each where its line is."""
    face = Path("/usr/share/fonts/truetype/freefont/FreeMonoOblique.ttf")
    if not face.is_file():
        pytest.skip(f"{face} is not installed (fonts-freefont-ttf)")
    pixels = speckled_corner(str(face), 8, 50, seed=0)
    window = Rect(0, 0, 140, 80)
    assert not engine._window_boxes(pixels, [window], 1.5, release=False)
    found_lines = sorted(r.top for r in dedupe(engine._window_boxes(pixels, [window], 1.5, release=False,
                                                                    smooth=True)))
    assert len(found_lines) == 4 and all(abs(top - (8 + 14 * i)) <= 6 for i, top in enumerate(found_lines))


def test_mend_uses_the_shared_fixups_and_restores_dropped_spaces():
    assert mend("DOE*JOHN ID:302233876") == "DOE^JOHN ID: 302233876"
    assert mend("10:4486266427 12:30:45") == "10: 4486266427 12:30:45"   # a label read as digits
    assert mend("CHI.2809967113 No.12345 v2.12345 12.34567") == "CHI. 2809967113 No. 12345 v2.12345 12.34567"
    assert mend("Acc=33677542 x=12") == "Acc= 33677542 x=12"
    assert mend("ACE:AC34708433 Se:3lm45") == "ACE: AC34708433 Se:3lm45"   # a code after the colon
    assert mend("2015-03-1415:42:34 O1-Mar-1977") == "2015-03-14 15:42:34 01-Mar-1977"
    assert mend("2025-10-13:09:45:50") == "2025-10-13 09:45:50"      # the blank read as a colon
    assert mend("20220717.15:19:33") == "20220717 15:19:33"          # a speck in the blank: a stop
    assert mend("06-Aug-2022-11:31:29") == "06-Aug-2022 11:31:29"    # or a hyphen
    assert mend("13.02.2020.5:42") == "13.02.2020.5:42"              # no time of two digits
    assert mend("Se:3 13:09:45") == "Se:3 13:09:45"                  # a time alone is no date
    assert mend("D0B HF5 Se:3 lm:45 Straçathro") == "DOB HFS Se:3 Im:45 Stracathro"
    assert mend("Se:3 1m:45") == "Se:3 Im:45"          # the I read as a one (sans faces)
    assert mend("1m 45 21m:30") == "1m 45 21m:30"      # a one before m elsewhere stays
    assert mend("T1 kVp 120 AC38610246") == "T1 kVp 120 AC38610246"
    # A day read with a look-alike and a misread month: the month is mended once the day is one.
    assert mend("I1-0ct-2025 11:38:40") == "11-Oct-2025 11:38:40"
    assert mend("DOB O3-Dee-1947") == "DOB 03-Dec-1947"
    # A word run into a word in capitals gets its blank, unless the two are one of the
    # screen's words with a capital read small (extra varied 601: `HoSPITAL`).
    assert mend("RefFERGUSON^MOHAMMED MsJONES") == "Ref FERGUSON^MOHAMMED Ms JONES"
    assert mend("NINEWELLS HoSPITAL") == "NINEWELLS HoSPITAL"


@pytest.mark.parametrize("read, mended", [
    # D and O read as 0, B as 8, 6 or 9, right before a date: its label DOB
    ("008 07/09/1943", "DOB 07/09/1943"),
    ("Ref 006 14-Apr-2004 Acc 12", "Ref DOB 14-Apr-2004 Acc 12"),
    ("ID: 1234567 009 19480111", "ID: 1234567 DOB 19480111"),
    ("12:30:45 008 22/09/1930", "12:30:45 DOB 22/09/1930"),
    # letters and digits of those shapes, O read as D
    ("00B 18/04/1973", "DOB 18/04/1973"),
    ("NHS 592 072 4218 DO6 23-Sep-1977", "NHS 592 072 4218 DOB 23-Sep-1977"),
    ("D08 12.03.1950", "DOB 12.03.1950"),
    ("ID DDB 19480111", "ID DOB 19480111"),
    # other digits, no date after them, or part of a longer number: as read
    ("000 07/09/1943", "000 07/09/1943"),
    ("018 07/09/1943", "018 07/09/1943"),
    ("008 12:30:45", "008 12:30:45"),
    ("1008 07/09/1943", "1008 07/09/1943"),
    ("ID: 008 Acc 1234", "ID: 008 Acc 1234"),
    ("2025-01-008 07/09/1943", "2025-01-008 07/09/1943"),
    ("HFS 12.03.2000", "HFS 12.03.2000"),                # other words before a date stay
    ("ABC 12.03.2000", "ABC 12.03.2000"),
    ("2D0 12/03/2000", "2D0 12/03/2000"),
    ("D08 12:30", "D08 12:30"),
    ("Dob 12.03.2000", "Dob 12.03.2000"),
])
def test_a_date_label_read_as_look_alikes_is_dob(read, mended):
    """labels.dob_by_shape, as the engine applies it (after mend, with the screen's words)."""
    assert dob_by_shape(mend(read)) == mended


@pytest.mark.parametrize("read, mended", [
    # A year split beside a narrow '1' (tabular or monospace figures), day first or year first.
    ("02/05/1 982", "02/05/1982"),
    ("DOB 07-Jun-19 53", "DOB 07-Jun-1953"),
    ("19 70-08-13", "1970-08-13"),
    ("12.5.2 019 14:02", "12.5.2019 14:02"),
    ("20 22-11-27 14:20:22", "2022-11-27 14:20:22"),
    # No date made, or a date there already: the space stays.
    ("1.2.3 456", "1.2.3 456"),              # 3456 is no year
    ("Page 1/3 2024", "Page 1/3 2024"),      # two groups only
    ("1/3/4 1 982", "1/3/4 1 982"),          # 41 is no year's start, 1982 stands apart
    ("5/25/2011 11-05-25", "5/25/2011 11-05-25"),
    ("40/13/19 82", "40/13/19 82"),          # no day and month
    ("13/05/2023 1002:12", "13/05/2023 1002:12"),
])
def test_mend_joins_a_year_the_recogniser_split(read, mended):
    assert mend(read) == mended


def test_scan_cli_with_rapidocr_and_spacy_writes_rect_rows(tmp_path):
    truth = dicomgen.build_case("ct_signed", tmp_path / "ct.dcm", seed=8)
    result = run_scan("--ocr", "rapidocr", "--pii", "spacy", "--rects", truth.path)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert len(rows) >= 3
    rects = [r for r in rows if r["left"] != "-1"]
    whole = [r for r in rows if r["left"] == "-1"]
    assert len(whole) == 1 and rects
    assert {r["ocr_engine"] for r in rows} == {"rapidocr"} and {r["ner_engine"] for r in rows} == {"spacy"}
    for r in rects:
        left, top, right, bottom = (int(r[k]) for k in ("left", "top", "right", "bottom"))
        assert 0 <= left < right <= 512 and 0 <= top < bottom <= 512
        assert r["is_sensitive"] in ("0", "1")
    assert whole[0]["is_sensitive"] == "1"
    name = next(w.text for w in truth.images[0].words if w.pii)
    assert found(name, whole[0]["ocr_text"])


def test_textboxes_are_plain_values(engine, tmp_path):
    (_, _, boxes), = read_case(engine, "sc_grey_jpeg_baseline", tmp_path, seed=9)
    assert boxes and all(isinstance(b, TextBox) and isinstance(b.left, int) for b in boxes)


def test_serve_with_rapidocr_writes_the_rows_scan_writes(tmp_path):
    """serve's default engine (config.py, config/scp-scanner.yaml) end to end: instances sent
    by dcmtk's storescu give the rows that `scan --ocr rapidocr` gives for the same files."""
    import pydicom

    from scp_harness import Server, storescu

    (tmp_path / "in").mkdir()
    (tmp_path / "scp").mkdir()
    files = [tmp_path / "in" / f"{case}.dcm" for case in ("ct_signed", "mr_overlay")]
    for seed, path in enumerate(files):
        dicomgen.build_case(path.stem, path, seed=seed)
    uid_of = {str(p): str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in files}
    server = Server(tmp_path / "scp", "--pii", "spacy", "--rects", ocr="rapidocr", workers=1).start()
    try:
        result = storescu(server.port, files)
        assert result.returncode == 0, result.stderr
        served = server.rows_then_stop(uid_of.values())
    finally:
        server.stop_quietly()
    scanned = run_scan("--ocr", "rapidocr", "--pii", "spacy", "--rects", *map(str, files))
    assert scanned.returncode == 0, scanned.stderr
    expected = list(csv.DictReader(io.StringIO(scanned.stdout)))
    for row in expected:
        row["filename"] = uid_of[row["filename"]]
    key = lambda r: (r["filename"], int(r["frame"]), int(r["overlay"]), r["left"], r["top"])  # noqa: E731
    assert sorted(served, key=key) == sorted(expected, key=key)
    assert {r["ocr_engine"] for r in served} == {"rapidocr"}
    assert any(r["is_sensitive"] == "1" for r in served)



@pytest.mark.parametrize("grey", [False, True], ids=["rgb", "grey"])
def test_cine_frames_reuse_model_answers_and_read_as_a_full_read(grey, tmp_path):
    """On a cine with a changing clock and frame counter, new speckle and a moving blob on
    every frame (each frame stored twice, as a cine captured faster than it is redrawn), an
    engine keeping its models' answers (keyed by exact input bytes) gives the boxes (text,
    rectangle, confidence: what the rows are made of) that an engine reading every input
    afresh gives. The recogniser reads only the changed lines (the clock, the counter) of a
    further frame, and the detector runs only on pieces it has not seen: none on a repeated
    frame. (The sector's speckle reaches every detector piece, so a changed frame is
    detected whole.) On the grey cine speckle makes glyph-like blobs beside the text on some
    frames, which changes the detector's scale and so every piece: the rows still equal a
    full read's, as the key is the scaled bytes."""
    path = tmp_path / "cine.dcm"
    dicomgen.build_us_cine(path, 7, n_frames=3, grey=grey, hold=2)
    frames = images_of(path)
    assert len(frames) == 6
    # On the CPU each line is recognised alone (on a GPU a line's batch may change its reading).
    cached, fresh = ocr.create("rapidocr", gpu="cpu"), ocr.create("rapidocr", gpu="cpu", model_cache=False)
    calls = []
    for image in frames:
        before = (cached.calls.detector, cached.calls.recogniser)
        boxes = cached.read(image)
        assert boxes and boxes == fresh.read(image)
        calls.append((cached.calls.detector - before[0], cached.calls.recogniser - before[1]))
    (first_det, first_rec), further = calls[0], calls[1:]
    assert first_det > 0 and first_rec > 0
    assert calls[1::2] == [(0, 0)] * 3, calls                            # repeated frames
    assert sum(det for det, _ in further) < len(further) * first_det, calls
    if not grey:      # the clock and the counter are read again, the other lines are not
        assert all(0 < rec < first_rec and det <= first_det for det, rec in calls[2::2]), calls
    # Without the caches every frame runs both models in full.
    assert fresh.calls.detector >= 6 * first_det
    assert fresh.calls.recogniser >= 6 * first_rec - 6


def rendered_line(text: str, size: int = 16, face: str = "sans") -> tuple[np.ndarray, list[float]]:
    """A light-on-dark line of text (BGR) and the x centre of each character, from the font's
    own advance widths (what CTC time steps approximate); face: dicomgen.load_font's."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    font = dicomgen.load_font(size, face)
    width = int(font.getlength(text)) + 16
    picture = PILImage.new("RGB", (width, size + 12), (10, 10, 10))
    ImageDraw.Draw(picture).text((8, 4), text, fill=(235, 235, 235), font=font)
    xs = [8 + font.getlength(text[:i]) + font.getlength(ch) / 2 for i, ch in enumerate(text)]
    return np.asarray(picture)[:, :, ::-1].copy(), xs


@pytest.mark.parametrize("size", [12, 16, 20])
def test_a_mark_read_in_a_blank_cell_is_a_space(size):
    """A monospace line's space read as `_` or `~` (pydicom-data's ALOKA screen:
    `*WESTWAY_MEDICAL*`, `:M~11:24:20`) is a space where the line's own ink is blank, even
    with the next line's tops cut into the bottom of the crop; a real underscore or tilde,
    which has ink where it stands, stays."""
    crop, xs = rendered_line("WESTWAY MEDICAL", size, "mono")
    below, _ = rendered_line("ULTRASOUND", size, "mono")
    cut = size // 3                                         # the next line's tops, cut by the crop
    crop = np.vstack([crop, below[4:4 + cut, :crop.shape[1]]]) if below.shape[1] >= crop.shape[1] \
        else np.vstack([crop, np.pad(below[4:4 + cut], ((0, 0), (0, crop.shape[1] - below.shape[1]), (0, 0)))])
    steps = list(range(len(xs)))
    for misread in ("WESTWAY_MEDICAL", "WESTWAY~MEDICAL"):
        assert line_text.spaces_for_marks(misread, steps, xs, crop) == ("WESTWAY MEDICAL", steps)
    # A mark beside a space read as well: one space, the steps in step with the text.
    text, kept = line_text.spaces_for_marks("WESTWAY _MEDICAL", steps + [len(steps)],
                                            xs[:8] + [xs[7] + 1] + xs[8:], crop)
    assert (text, len(kept)) == ("WESTWAY MEDICAL", len(text))
    for real in ("WESTWAY_MEDICAL", "NHS~123"):
        crop, xs = rendered_line(real, size, "mono")
        assert line_text.spaces_for_marks(real, list(range(len(real))), xs, crop)[0] == real


def test_the_real_aloka_banner_reads_its_spaces(engine, real_data):
    """pydicom-data's ALOKA ultrasound: its bitmap face's blank cells were read as `_` and
    `~`, gluing the institution's two words (`*WESTWAY_MEDICAL*`) and the clock to its label."""
    text = " ".join(box.text for box in engine.read(images_of(real_data / "gdcm-US-ALOKA-16.dcm")[0]))
    assert {"*WESTWAY", "MEDICAL*", "11:24:20", "24-MAY-02"} <= set(text.split()), text
    assert "_" not in text and "~" not in text, text


@pytest.mark.parametrize("size", [14, 18, 24])
def test_a_caret_read_as_a_capital_is_put_back_from_the_ink(size):
    """The recogniser reads DICOM names' '^' as a capital (STEWARTACATRIONA); the ink shows a
    mark standing clear of the baseline, which no capital is."""
    crop, xs = rendered_line("STEWART^CATRIONA", size)
    misread = "STEWARTACATRIONA"
    assert line_text.carets_from_ink(misread, xs, crop) == "STEWART^CATRIONA"
    # Real capitals stay capitals, whatever their neighbours.
    for text in ("STEWARTACATRIONA", "FIONAMURRAY", "DOEJANEQUAY"):
        crop, xs = rendered_line(text, size)
        assert line_text.carets_from_ink(text, xs, crop) == text
    # Words under 5 capitals, mixed case, or already with a caret are left alone.
    crop, xs = rendered_line("Stewart^Catriona", size)
    assert line_text.carets_from_ink("StewartACatriona", xs, crop) == "StewartACatriona"


def test_broken_capitals_are_no_caret(engine, tmp_path):
    """Extra varied seed 659's second interlaced frame: 15 px Unifont in green, every other
    row at 0.62 of its level, JPEG quality 57. Thresholded, the ink of `AHMED CAMPBELL` breaks
    into more pieces than letters, and the top of the `M` stood cut off from its legs with no
    ink under it: the recogniser's `CAMPBELL` (sure of it) became `CA^PBELL`, then `CA^BELL`,
    and the family name was lost. Capitals broken into more pieces than letters tell nothing
    about a caret."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=2, seed=659, fonts="extra", cases=["v_interlaced"])[1]
    text = " ".join(box.text for box in engine.read(images_of(truth.path)[0]))
    assert "AHMED CAMPBELL" in text and "^" not in text, text


def test_a_word_read_whole_by_the_word_prior_is_no_name(engine, tmp_path):
    """Extra varied seed 883's safe-text frame: `ABDOMEN` in 8 px Caladea Italic, read
    `ARDOMIEN`. The top of its D stood apart above the line with no ink under it, as a
    caret's does, so the ink put a caret back (`AR^OMIEN`), the word prior then read `OMEN`,
    and the rules flagged `AR^OMEN` as a DICOM name on an image with no identifier. Read
    without the caret, the word prior makes the letters one English word, ABDOMEN: a mark
    inside a word is part of a letter."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=1, seed=883, fonts="extra", cases=["v_safe_text"])[0]
    text = " ".join(box.text for box in engine.read(images_of(truth.path)[0]))
    assert "ABDOMEN" in text.split() and "^" not in text, text


def _under_the_bottom_of(line: str, text: str, size: int) -> tuple[np.ndarray, list[float]]:
    """`text` rendered with the bottoms of `line`'s glyphs (the line above) cut into the top
    of its crop, as a detector's box grown over the line above gives it; its xs as read."""
    crop, xs = rendered_line(text, size)
    above, _ = rendered_line(line, size)
    ink_rows = np.flatnonzero((above.max(axis=2) > 128).any(axis=1))
    cut = above[ink_rows[-1] - size // 3:ink_rows[-1] + 1]
    cut = np.pad(cut, ((0, 0), (0, max(0, crop.shape[1] - cut.shape[1])), (0, 0)), constant_values=10)
    return np.vstack([cut[:, :crop.shape[1]], crop]), xs


@pytest.mark.parametrize("size", [12, 16, 20])
def test_the_line_above_cut_into_the_crop_is_no_caret(size):
    """A 16 px bitmap `Ref FRASER MOHAMMED` (tuning varied 10) became `Ref FR^SER MOHAMMED`: the
    crop held the bottoms of the line above, whose many short pieces set the capitals' top
    and baseline to theirs, and one of them stood over the `A` with no ink under it; the same
    pieces hid a true caret's (the last assertion failed before). Pieces the crop's edge cuts
    that do not reach its middle are the other line's (line_ink)."""
    for text in ("FRASERMOHAMMED", "FIONAMURRAY", "DOEJANEQUAY"):
        crop, xs = _under_the_bottom_of("16-Oct-2015 13:35:30 MOHAMMED", text, size)
        assert line_text.carets_from_ink(text, xs, crop) == text
    crop, xs = _under_the_bottom_of("16-Oct-2015 13:35:30 MOHAMMED", "STEWART^CATRIONA", size)
    assert line_text.carets_from_ink("STEWARTACATRIONA", xs, crop) == "STEWART^CATRIONA"


def test_a_large_radiograph_without_text_is_read_only_reduced():
    """pydicom-data's 1955x1841 CR: its anatomy made the ink analysis's candidate lines cover
    97% of it, ~1 s of detection at full size for nothing. Its smooth edges hold no thin
    strokes, so only the pass reduced to REDUCED_SIDE runs, and nothing is read as text."""
    from pydicom.data import get_testdata_file

    image = images_of(get_testdata_file("RG1_UNCR.dcm"))[0]
    view = rapidocr_engine.view_of(image)
    height, width = view.pixels.shape[:2]
    assert len(rapidocr_engine.pieces(height, width)) == 64
    assert rapidocr_engine.stroke_lines(rapidocr_engine.to_grey(image.pixels)) == []
    engine = RapidOcrEngine()
    assert engine.read(image) == []
    factor = rapidocr_engine.REDUCED_SIDE / max(height, width)
    reduced = rapidocr_engine._magnify(view.pixels, factor).shape[:2]
    assert engine.calls.detector == len(rapidocr_engine.pieces(*reduced)), engine.calls


def test_a_caret_is_found_on_speckle_and_beside_a_read_space():
    """JPEG speckle leaves one-pixel specks of 'ink' under a caret; they are not ink. And a
    caret read with a space beside it ('DUNCAN ^HAMISH', 'REID "CATRIONA') is one name."""
    crop, xs = rendered_line("STEWART^CATRIONA", 16)
    rng = np.random.default_rng(5)
    noisy = crop.astype(np.int16) + rng.integers(-20, 21, crop.shape)
    ys, xs_ = rng.integers(0, crop.shape[0], 40), rng.integers(0, crop.shape[1], 40)
    noisy[ys, xs_] = 235                                  # specks as bright as the text
    baseline = int(np.flatnonzero((crop.max(axis=2) > 128).any(axis=1))[-1])
    noisy[baseline - 1, int(round(xs[7]))] = 235          # one right under the caret
    noisy = np.clip(noisy, 0, 255).astype(np.uint8)
    assert line_text.carets_from_ink("STEWARTACATRIONA", xs, noisy) == "STEWART^CATRIONA"
    for text in ("FIONAMURRAY", "DOEJANEQUAY"):
        crop, xs = rendered_line(text, 16)
        noisy = crop.copy()
        noisy[ys % crop.shape[0], xs_ % crop.shape[1]] = 235
        assert line_text.carets_from_ink(text, xs, noisy) == text
    assert line_text.mend("Ref DUNCAN ^HAMISH HFS") == "Ref DUNCAN^HAMISH HFS"
    assert line_text.mend('Ref REID "CATRIONA') == "Ref REID^CATRIONA"
    assert line_text.mend("R ^ L") == "R ^ L"           # not two names
    # An apostrophe read for it with a space beside it (held-out varied 1321: `DOE 'MORAG`);
    # one inside a name has none.
    assert line_text.mend("DOE 'MORAG Perth") == "DOE^MORAG Perth"
    assert line_text.mend("O'BRIEN^JOHN") == "O'BRIEN^JOHN"
    assert line_text.mend("DOB 23-Dee1974") == "DOB 23-Dec-1974"


def test_a_space_read_inside_a_number_beside_its_separator_is_dropped():
    """'16: 23:44' and '13 .02.2020' (a space the recogniser put after or before a number's
    separator, where the ink shows a letter gap) are 16:23:44 and 13.02.2020; a label's
    space ('Se: 3') and a real gap stay."""
    crop, xs = rendered_line("16:23:44 1932-08-01 Se: 3", 16)
    def misread(text: str, at: int) -> tuple[str, list[float]]:
        """text with a space put after character `at`, and a position for it."""
        return text[:at + 1] + " " + text[at + 1:], xs[:at + 1] + [(xs[at] + xs[at + 1]) / 2] + xs[at + 1:]
    text, positions = misread("16:23:44 1932-08-01 Se: 3", 2)
    assert text == "16: 23:44 1932-08-01 Se: 3"
    assert line_text.spaces_from_ink(text, positions, crop) == "16:23:44 1932-08-01 Se: 3"
    text, positions = misread("16:23:44 1932-08-01 Se: 3", 16)
    assert text == "16:23:44 1932-08- 01 Se: 3"
    assert line_text.spaces_from_ink(text, positions, crop) == "16:23:44 1932-08-01 Se: 3"
    text, positions = misread("16:23:44 1932-08-01 Se: 3", 15)
    assert text == "16:23:44 1932-08 -01 Se: 3"
    assert line_text.spaces_from_ink(text, positions, crop) == "16:23:44 1932-08-01 Se: 3"
    # Two numbers that a real space parts stay two.
    crop, xs = rendered_line("12:30-   45 Se: 3", 16)
    text = "12:30- 45 Se: 3"
    positions = xs[:6] + [(xs[6] + xs[8]) / 2] + xs[9:]
    assert line_text.spaces_from_ink(text, positions, crop) == text
    crop, xs = rendered_line("12:30   -45 Se: 3", 16)
    text = "12:30 -45 Se: 3"
    positions = xs[:5] + [(xs[5] + xs[7]) / 2] + xs[8:]
    assert line_text.spaces_from_ink(text, positions, crop) == text
    # Inside a date's month name: '06-D ec-2021' is 06-Dec-2021; a space drawn there stays,
    # and so does one between two words that make no month.
    crop, xs = rendered_line("DOB 06-Dec-2021 Se: 3", 16)
    text, positions = "DOB 06-D ec-2021 Se: 3", xs[:8] + [(xs[7] + xs[8]) / 2] + xs[8:]
    assert line_text.spaces_from_ink(text, positions, crop) == "DOB 06-Dec-2021 Se: 3"
    crop, xs = rendered_line("DOB 06-D   ec-2021 Se: 3", 16)
    text, positions = "DOB 06-D ec-2021 Se: 3", xs[:8] + [(xs[8] + xs[10]) / 2] + xs[11:]
    assert line_text.spaces_from_ink(text, positions, crop) == text
    assert not line_text._inside_month("06-D", "ex-2021") and line_text._inside_month("6.Ja", "n.1950")


def test_a_space_read_between_a_labels_colon_and_a_short_number_is_dropped_where_the_ink_shows_none():
    """'Se: 3' read where 'Se:3' is drawn (the colon's bearing and the digit's side by side)
    is Se:3; a drawn space after a label stays, and so does the space before a long number or
    a date, whatever the ink ('ID: 0671160' keeps its ID a word of its own)."""
    line = "Se:3 Im:45 W:400 ID:0671160 DOB:12.03.1950"
    crop, xs = rendered_line(line, 16)

    def misread(at: int) -> tuple[str, list[float]]:
        return line[:at + 1] + " " + line[at + 1:], xs[:at + 1] + [(xs[at] + xs[at + 1]) / 2] + xs[at + 1:]

    for colon, mended in ((2, line), (7, line), (12, line)):
        text, positions = misread(colon)
        assert line_text.spaces_from_ink(text, positions, crop) == mended
    for colon in (19, 31):            # an ID, a date: the space is left for the ink to argue
        text, positions = misread(colon)
        assert line_text.spaces_from_ink(text, positions, crop) == text
    drawn = "Se:   3 Im:45"
    crop, xs = rendered_line(drawn, 16)
    text = "Se: 3 Im:45"
    positions = xs[:3] + [(xs[3] + xs[5]) / 2] + xs[6:]
    assert line_text.spaces_from_ink(text, positions, crop) == text


def test_text_at_near_black_levels_is_read():
    """The second frame of pydicom-data's OBXXXX1A_2frame draws the patient ID, the date and
    the settings at levels 5-6 on 1-2 (its sector spans 0-255): the ink shows them as dim
    lines on a flat ground, and the engine reads them from the stretched levels. The first
    frame (white text) has no dim lines."""
    from pydicom.data import get_testdata_file

    from scp_scanner.ocr import dim

    first, second = images_of(get_testdata_file("OBXXXX1A_2frame.dcm"))
    assert dim.dim_lines(first)[0] == []
    lines, background, top = dim.dim_lines(second)
    assert len(lines) >= 5 and background <= 2 and top <= 8
    text = " ".join(box.text for box in ocr.create("rapidocr").read(second))
    for word in ("11-05-25-142825", "5/25/2011", "Philips Healthcare"):
        assert found(word, text), text


def speckle_with_coloured_text(size: int, quality: int, colour=(0, 255, 0), seed: int = 3) -> Image:
    """Grey speckle filling a 640x480 RGB frame, four lines of DejaVu text in a saturated
    colour over it at `size` px, saved and read back as JPEG at `quality`."""
    import io

    from PIL import Image as PILImage
    from PIL import ImageDraw

    grey = dicomgen.speckle_field(np.random.default_rng(seed), 480, 640) * 150
    picture = PILImage.fromarray(np.clip(np.repeat(grey[..., None], 3, axis=2), 0, 255).astype(np.uint8))
    draw, font = ImageDraw.Draw(picture), dicomgen.load_font(size)
    for i, line in enumerate(COLOURED_LINES):
        draw.text((12, 10 + i * (size + 6)), line, fill=colour, font=font)
    stream = io.BytesIO()
    picture.save(stream, "JPEG", quality=quality)
    stream.seek(0)
    pixels = np.asarray(PILImage.open(stream).convert("RGB")).copy()
    return Image(pixels=pixels, frame=0, overlay=-1, source=SOURCE_FRAME)


COLOURED_LINES = ["SMITH^JOHN", "CHI 2409470068", "Ninewells Hospital", "12/03/1961 10:22:41"]


@pytest.mark.parametrize("colour", [(0, 255, 0), (255, 0, 255), (0, 200, 255)])
def test_small_coloured_text_over_speckle_is_read_on_black(colour, monkeypatch):
    """9 px coloured text over speckle filling the frame (JPEG 90), in colours whose grey
    level is near the speckle's: the detector sees one texture and finds none of it; shown
    on black (neutral pixels set to black) it is read."""
    image = speckle_with_coloured_text(9, 90, colour)
    engine = RapidOcrEngine(model_cache=False)
    words = ("SMITH^JOHN", "2409470068", "Hospital", "10:22:41")
    boxes = engine.read(image)
    text = " ".join(box.text for box in boxes)
    # 9 px glyphs: a letter here and there is misread, but the lines are there and most words.
    assert len(boxes) >= 4 and sum(found(word, text) for word in words) >= 2, text
    # The detector's plain read: neither the colour pass nor the small lines' magnified second
    # look (_small_lines, which finds some of these lines by their ink too).
    monkeypatch.setattr(engine, "_with_colour_text", lambda image, boxes: boxes)
    monkeypatch.setattr(engine, "_small_lines", lambda *args: [])
    plain = " ".join(b.text for b in engine.read(image))
    assert not any(found(word, plain) for word in words), "the plain read needs no colour pass here"


def test_coloured_text_seen_but_not_read_is_kept_as_an_unread_box():
    """7 px magenta lines over speckle, JPEG 35: found by their colour and detected on black,
    but the recogniser cannot read them. They are kept as boxes with no text (unread), where
    the lines are drawn. The same lines drawn grey (no colour to find them by) give none,
    and so does coloured text large enough to read."""
    engine = RapidOcrEngine(model_cache=False)
    boxes = engine.read(speckle_with_coloured_text(7, 35, (255, 0, 255)))
    unread = [b for b in boxes if b.unread]
    assert len(unread) >= 2, boxes
    assert all(b.text == "" and b.left < 200 and b.top < 10 + 4 * 13 for b in unread), unread
    assert not any(b.unread for b in engine.read(speckle_with_coloured_text(7, 35, (128, 128, 128))))
    readable = engine.read(speckle_with_coloured_text(13, 90, (255, 0, 255)))
    assert readable and not any(b.unread for b in readable), readable


def colour_doppler(seed: int, quality: int = 75) -> Image:
    """Grey speckle with a colour-flow box (260x210) of red and blue streaks, as colour
    Doppler shows flow along a vessel: a smooth random velocity field, stretched sideways,
    coloured where its speed is over a quarter of the maximum; no text. Saved and read back
    as JPEG."""
    from PIL import Image as PILImage
    from scipy.ndimage import gaussian_filter

    rng = np.random.default_rng(seed)
    rgb = np.repeat((dicomgen.speckle_field(rng, 480, 640) * 150)[..., None], 3, axis=2)
    velocity = gaussian_filter(rng.normal(size=(480, 640)), (4, 12))
    velocity /= np.abs(velocity).max()
    flow = np.zeros((480, 640), bool)
    flow[120:330, 200:460] = True
    red, blue = flow & (velocity > 0.25), flow & (velocity < -0.25)
    rgb[red] = np.stack([200 + 55 * velocity[red], 60 * velocity[red], np.zeros(red.sum())], axis=1)
    rgb[blue] = np.stack([np.zeros(blue.sum()), -80 * velocity[blue], 200 - 55 * velocity[blue]], axis=1)
    stream = io.BytesIO()
    PILImage.fromarray(np.clip(rgb, 0, 255).astype(np.uint8)).save(stream, "JPEG", quality=quality)
    stream.seek(0)
    pixels = np.asarray(PILImage.open(stream).convert("RGB")).copy()
    return Image(pixels=pixels, frame=0, overlay=-1, source=SOURCE_FRAME)


def test_colour_doppler_streaks_are_neither_read_nor_unread_text():
    """Streaks of colour flow over speckle are line-high colour clusters too. On this frame
    the detector, on black, drew one box 130 px high round them, and four unread boxes (a
    clean image flagged) came of it; a box taller than a line is no line. Nor does a cluster
    the detector found no line in become a line to read."""
    boxes = RapidOcrEngine(model_cache=False).read(colour_doppler(3))
    assert boxes == [], boxes


def test_an_unread_box_needs_a_detected_line_and_five_characters_of_length():
    from scp_scanner.ocr.colour_text import unread_lines

    line = (20, 10, 30, 80)                           # top, left, bottom, right: 7 heights long
    detected = [TextBox("", 8, 18, 84, 33)]
    (box,) = unread_lines([line], detected)
    assert box.unread and box.text == "" and (box.left, box.top, box.right, box.bottom) == (8, 18, 84, 33)
    assert unread_lines([line], []) == []                              # the detector saw no line
    assert unread_lines([line], [TextBox("", 100, 18, 150, 33)]) == []            # nor there
    # A boxed label of two or three letters (22 px at 10 px high) is no identifier's length.
    assert unread_lines([(462, 412, 472, 434)], [TextBox("", 406, 456, 438, 479)]) == []
    # A detected box taller than any line (streaks of Doppler flow on black) is no line.
    assert unread_lines([line], [TextBox("", 8, 18, 84, 150)]) == []
    # Two clusters of one detected line give one box.
    assert unread_lines([line, (21, 12, 29, 78)], detected) == [box]


def test_stacked_coloured_lines_over_speckle_are_read_one_by_one():
    """Three short green lines set 4 px apart at the right edge, 8 px over speckle (JPEG 70),
    as an ultrasound writes its series and image numbers: on black the detector joins them
    into one box, which the recogniser cannot read (three unread boxes before). Cut by their
    colour clusters, each line is read."""
    import io

    from PIL import Image as PILImage
    from PIL import ImageDraw

    grey = dicomgen.speckle_field(np.random.default_rng(5), 480, 640) * 150
    picture = PILImage.fromarray(np.clip(np.repeat(grey[..., None], 3, axis=2), 0, 255).astype(np.uint8))
    draw, font = ImageDraw.Draw(picture), dicomgen.load_font(8)
    for i, line in enumerate(["Se:3 Im:45", "HFS", "2/2"]):
        draw.text((630 - draw.textlength(line, font=font), 400 + i * 12), line, fill=(0, 255, 0), font=font)
    stream = io.BytesIO()
    picture.save(stream, "JPEG", quality=70)
    stream.seek(0)
    pixels = np.asarray(PILImage.open(stream).convert("RGB")).copy()
    boxes = RapidOcrEngine(model_cache=False).read(Image(pixels=pixels, frame=0, overlay=-1, source=SOURCE_FRAME))
    texts = [box.text for box in boxes]
    assert "HFS" in texts and any(text.startswith("Se:3") for text in texts), boxes
    assert not any(box.unread for box in boxes), boxes
    assert all(box.top >= 395 and box.left >= 560 for box in boxes), boxes


def test_a_read_box_grown_over_the_next_line_leaves_that_line_to_the_pass_on_black():
    """A first read's box reaches past its line (tuning varied 5: 20 rows round a 7 px date,
    over the top rows of `Ref MURRAY^JOHN` below it). Only its own line's coloured rows are
    taken as read (own_rows), so the next line is still a cluster; and a line read on black
    there is a line of its own (prepare.same_line), not the box it touches."""
    from scp_scanner.ocr.colour_text import colour_lines, own_rows
    from scp_scanner.ocr.prepare import same_line

    pixels = np.zeros((60, 120, 3), np.uint8)
    pixels[12:19, 10:100] = (0, 255, 0)                      # the line read
    pixels[25:32, 4:110] = (0, 255, 0)                       # the next line, 6 px below
    image = Image(pixels=pixels, frame=0, overlay=-1, source=SOURCE_FRAME)
    grown = TextBox("15.01.2025 14:11:36", 8, 7, 102, 27, 90.0)
    assert own_rows(pixels[..., 1] > 0, grown) == (12, 19)
    assert colour_lines(image, [grown]) == [(25, 4, 32, 110)]
    # A box over no colour at all is taken whole.
    assert own_rows(np.zeros((60, 120), bool), grown) == (7, 27)
    below = TextBox("Ref MURRAY^JOHN", 2, 22, 112, 35, 94.0)
    again = TextBox("15.01.2025 14:11:36", 9, 8, 101, 22, 93.0)
    assert not same_line(below, grown) and same_line(again, grown)


def test_stacked_coloured_lines_joined_by_colour_bleeding_are_split_into_lines():
    """Four green lines 8 px high set 5 px apart, joined by colour bleeding between them (a
    JPEG'd 4:2:2 frame: held-out varied seed 263, whose banner was then neither read nor
    flagged on two of three frames) make one cluster taller than a line; it is split at
    the emptiest rows between its lines' bodies, one cluster per line. A blob taller than a
    line (colour flow) has one body and stays out, and so does a coloured strip whose grey
    lines were read (pydicom-data's OBXXXX1A title bar): its bands are solid colour."""
    from scp_scanner.ocr.colour_text import MAX_HEIGHT, colour_lines, stacked_bands

    pixels = np.zeros((120, 160, 3), np.uint8)
    tops = [10, 23, 36, 49]
    for top in tops:
        for left in range(8, 100, 6):                      # glyph-like strokes, 4 px wide
            pixels[top:top + 8, left:left + 4] = (0, 255, 0)
        pixels[top + 8:top + 13, 30:33] = (0, 180, 0)      # bleeding down to the next line
    image = Image(pixels=pixels, frame=0, overlay=-1, source=SOURCE_FRAME)
    assert tops[-1] + 13 - tops[0] > MAX_HEIGHT                 # one cluster, taller than a line
    areas = colour_lines(image, [])
    assert len(areas) == 4, areas
    for i, ((top, left, bottom, right), line_top) in enumerate(zip(areas, tops)):
        # Its own line's body whole, no other line's.
        assert top <= line_top and line_top + 8 <= bottom and (left, right) == (8, 102), areas
        assert (i == 0 or top >= tops[i - 1] + 8) and (i == 3 or bottom <= tops[i + 1]), areas
    # Each band reaches to the emptiest row between two lines' bodies.
    rows = np.array([0] * 2 + [40] * 8 + [3] * 5 + [40] * 8 + [3] * 5 + [40] * 8)
    assert stacked_bands(rows) == [(0, 10), (10, 23), (23, len(rows))]
    # One body (a blob of flow), or bodies closer than a line's height (one line's strokes).
    assert stacked_bands(np.array([5] * 10 + [60] * 40 + [5] * 10)) == []
    assert stacked_bands(np.array([40] * 3 + [10] * 3 + [40] * 3)) == []
    blob = np.zeros((120, 160, 3), np.uint8)
    blob[10:90, 20:140] = (200, 30, 0)
    assert colour_lines(Image(pixels=blob, frame=0, overlay=-1, source=SOURCE_FRAME), []) == []
    # A coloured strip with grey lines in it, those lines read: its bands are solid colour.
    strip = np.zeros((120, 400, 3), np.uint8)
    strip[0:60] = (37, 62, 94)
    for top in (12, 38):
        strip[top:top + 9, 100:360:3] = (200, 200, 200)
    read = [TextBox("OB 5/25/2011", 96, 9, 364, 24, 95.0), TextBox("Philips", 96, 35, 364, 50, 95.0)]
    assert colour_lines(Image(pixels=strip, frame=0, overlay=-1, source=SOURCE_FRAME), read) == []


def test_a_coloured_word_of_two_glyphs_is_a_line_and_a_coloured_box_is_not(monkeypatch):
    """`C+` in green (two glyphs, 1.5 heights long) is a cluster of its own: too short for a
    line of three letters, long enough for a word of two. A blue frame round a label of the
    same size (pydicom-data's 3-D echo frames its `THI` so), a bar, a lone glyph and a blob
    of colour are not."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    from scp_scanner.ocr import colour_text
    from scp_scanner.ocr.colour_text import colour_lines

    picture = PILImage.new("RGB", (200, 100), (30, 30, 30))
    draw = ImageDraw.Draw(picture)
    draw.text((10, 10), "C+", fill=(0, 255, 0), font=dicomgen.load_font(13, "mono"))
    draw.rectangle((100, 10, 124, 26), outline=(40, 80, 255))          # a frame, 1.5 heights
    draw.rectangle((100, 60, 124, 62), fill=(255, 200, 0))             # a bar
    draw.text((10, 60), "I", fill=(0, 255, 0), font=dicomgen.load_font(13, "mono"))
    image = Image(pixels=np.asarray(picture).copy(), frame=0, overlay=-1, source=SOURCE_FRAME)
    areas = colour_lines(image, [])
    assert len(areas) == 1 and areas[0][1] < 20 and areas[0][0] < 20, areas
    top, left, bottom, right = areas[0]
    assert colour_text.WORD_ASPECT * (bottom - top) <= right - left < colour_text.MIN_ASPECT * (bottom - top)
    monkeypatch.setattr(colour_text, "WORD_ASPECT", colour_text.MIN_ASPECT)
    assert colour_lines(image, []) == []                    # three letters long only: none
    monkeypatch.undo()
    blob = np.full((100, 200, 3), 30, np.uint8)
    blob[20:36, 20:44] = (200, 30, 0)
    assert colour_lines(Image(pixels=blob, frame=0, overlay=-1, source=SOURCE_FRAME), []) == []


def test_the_blue_frame_of_a_real_echos_label_is_no_two_glyph_word(monkeypatch):
    """pydicom-data's 3-D echo frames its `THI` label in blue; the frame's cluster is 1.5
    heights long, as a word of two glyphs is, but its top and bottom rows are coloured
    across it. Read as a word, it gave a `TI` beside the label on every frame."""
    from pydicom.data import get_testdata_file

    from scp_scanner.ocr import colour_text

    frame = images_of(get_testdata_file("color3d_jpeg_baseline.dcm"))[8]
    corner = [box.text for box in RapidOcrEngine().read(frame) if box.left > 380 and box.top > 440]
    assert "Page 1/3" in corner and "TI" not in corner, corner
    monkeypatch.setattr(colour_text, "FRAME_ROW", 2.0)      # rows across it allowed: read
    assert "TI" in [box.text for box in RapidOcrEngine().read(frame) if box.left > 380 and box.top > 440]


def test_a_two_glyph_coloured_word_the_detector_misses_is_read(engine, tmp_path, monkeypatch):
    """Held-out varied seed 1381's colour cine: `C+` in 13 px green Noto Sans Mono over
    speckle, between `5 mm` and `ABDOMEN`, which the detector finds. It found nothing where
    `C+` stands, and the colour pass read clusters three letters long only: it was missed
    on all three frames."""
    from scp_scanner.ocr import colour_text

    path = dicomgen.make_varied_corpus(tmp_path, count=1, seed=1381, fonts="heldout", cases=["v_us_colour"])[0].path
    texts = [box.text for box in engine.read(images_of(path)[0])]
    assert "C+" in texts and "ABDOMEN" in texts, texts
    monkeypatch.setattr(colour_text, "WORD_ASPECT", colour_text.MIN_ASPECT)
    assert "C+" not in [box.text for box in RapidOcrEngine().read(images_of(path)[0])]


def test_lines_on_black_are_cut_by_their_colour_clusters():
    """A detected box holding two coloured clusters stacked one above the other (the detector
    joins `Se:3 Im:45` and `2/2` set 6 px apart on speckle) is cut into one line per
    cluster, each with a margin of a quarter of its height that stays clear of the other; a
    box holding one cluster, or two side by side, stays whole; a cluster that no detected
    box reaches is not read (Doppler's streaks of flow are such clusters too)."""
    from scp_scanner.ocr.colour_text import lines_by_colour

    upper, lower = (445, 580, 456, 640), (458, 608, 470, 640)         # top, left, bottom, right
    cut = lines_by_colour([(436, 576, 466, 638)], [upper, lower])
    # Its margin reaches past the box the detector drew (the lower line's ink went on below it).
    assert cut == [(442, 576, 457, 638), (457, 602, 473, 638)]
    assert cut[0][2] <= cut[1][0]
    whole = [(436, 576, 466, 638)]
    assert lines_by_colour(whole, [upper]) == whole
    assert lines_by_colour(whole, [(445, 578, 456, 600), (446, 604, 456, 636)]) == whole
    alone = (456, 0, 467, 36)
    assert lines_by_colour([], [alone]) == []
    assert lines_by_colour(whole, [upper, lower, alone]) == cut


def test_coloured_lines_left_over_by_a_read_are_found_and_grey_frames_have_none():
    from scp_scanner.ocr.colour_text import colour_lines, on_black

    image = speckle_with_coloured_text(13, 90)
    areas = colour_lines(image, [])
    assert len(areas) == len(COLOURED_LINES)
    assert all(5 <= bottom - top <= 30 and left < 30 for top, left, bottom, right in areas)
    covering = [TextBox("x", left, top, right, bottom, 99.0) for top, left, bottom, right in areas]
    assert colour_lines(image, covering) == []
    grey = Image(pixels=image.pixels.mean(axis=2).astype(np.uint8), frame=0, overlay=-1, source=SOURCE_FRAME)
    assert colour_lines(grey, []) == []
    shown = on_black(image).pixels.astype(int)
    strength = image.pixels.max(axis=2).astype(int) - image.pixels.min(axis=2)
    grey, coloured = strength == 0, strength >= 40
    assert grey.any() and coloured.any() and not shown[grey].any()
    assert (shown[coloured] == image.pixels[coloured]).all()
    # A glyph's partly coloured edge is kept in proportion to its chroma, not cut.
    edge = (strength >= 10) & (strength < 40)
    assert edge.sum() > 100
    expected = np.rint(image.pixels[edge] * (strength[edge] / 40.0)[:, None])
    assert np.abs(shown[edge] - expected).max() <= 1
    assert (shown[edge] > 0).any(axis=1).mean() > 0.9


def test_small_coloured_text_over_speckle_keeps_its_glyph_edges_on_black():
    """9-10 px coloured text over speckle at JPEG quality 50, where the detector finds none
    of it on the frame as it is: shown on black with the glyphs' partly coloured edges cut
    (every pixel under chroma 40 set to black) the four frames read none of the 28 words
    (`never-Hosprg`, `Nhewelts Hesort`); with the edges kept in proportion, each frame reads
    `Hospital` and 12 of the 28 words are read."""
    engine = RapidOcrEngine(model_cache=False)
    words = [word for line in COLOURED_LINES for word in line.split()]
    read = 0
    for size in (9, 10):
        for colour in ((0, 255, 0), (0, 200, 255)):
            text = " ".join(box.text for box in engine.read(speckle_with_coloured_text(size, 50, colour)))
            assert found("Hospital", text), (size, colour, text)
            read += sum(found(word, text) for word in words)
    assert read >= 8, read


def test_pale_coloured_text_is_coloured_where_the_frame_itself_has_little_chroma(engine, real_data, tmp_path):
    """Extra varied seed 661's fourth colour ultrasound: 7 px JetBrains Mono SemiBold Italic
    in light blue (150, 200, 255) over grey speckle, JPEG quality 44. JPEG keeps chroma at half
    resolution, so the glyphs' chroma is 15-51 and only two rows of a line reach MIN_CHROMA:
    no cluster was a line's height and the frame read nothing, its name, CHI number and
    accession number unflagged. Its own chroma is 8 at the 99th percentile, so its pixels are
    coloured from 24 (coloured_level); real echoes' noise keeps them at MIN_CHROMA."""
    from scp_scanner.ocr.colour_text import LEAST_CHROMA, MIN_CHROMA, chroma, coloured_level

    truth = dicomgen.make_varied_corpus(tmp_path, count=4, seed=661, fonts="extra", cases=["v_us_colour"])[3]
    image = images_of(truth.path)[0]
    assert coloured_level(chroma(image.pixels)) == 24
    text = " ".join(box.text for box in engine.read(image))
    assert "CHI 160290973" in text and "ABDOMEN" in text, text
    result = run_scan("--ocr", "rapidocr", "--pii", "spacy", "--rects", truth.path)
    assert result.returncode == 0, result.stderr
    whole = [row for row in csv.DictReader(io.StringIO(result.stdout)) if row["left"] == "-1"]
    assert len(whole) == 1 and whole[0]["is_sensitive"] == "1", whole
    assert all(word in whole[0]["ocr_text"] for word in ("1602909733", "06/05/2020", "CT58698868")), whole
    for name in ("color3d_jpeg_baseline.dcm", "OBXXXX1A.dcm", "US1_UNCR.dcm"):
        assert coloured_level(chroma(images_of(real_data / name)[0].pixels)) == MIN_CHROMA, name
    grey = np.full((50, 50, 3), 90, np.uint8)
    assert coloured_level(chroma(grey)) == LEAST_CHROMA


def test_small_coloured_lines_no_line_found_meets_are_detected_magnified(tmp_path):
    """Held-out varied seed 1321's second colour ultrasound: 7 px Terminus in green over
    speckle, glyphs 5 px high. At its own size the colour pass found the birth date and
    accession lines as one box (read `Pos R02170.813`) and the name and NHS lines not at all;
    windows with such an unmet cluster are detected again magnified, as _small_lines' are, so
    that their lines reach DET_TEXT_HEIGHT (clusters of 5-6 px: twice, MAX_MAGNIFY), and the
    name is read."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=2, seed=1321, fonts="heldout", cases=["v_us_colour"])[1]
    result = run_scan("--ocr", "rapidocr", "--pii", "spacy", "--rects", truth.path)
    assert result.returncode == 0, result.stderr
    whole = [row for row in csv.DictReader(io.StringIO(result.stdout)) if row["left"] == "-1"]
    first = [row for row in whole if row["frame"] == "0"]
    assert len(first) == 1 and first[0]["is_sensitive"] == "1", whole
    assert "WILSON^JOHN" in first[0]["ocr_text"], first


def test_real_colour_ultrasound_leaves_no_coloured_line_to_read_again(engine, real_data):
    """On two of pydicom-data's colour ultrasound files the coloured pixels that a read leaves
    over are markers and scales (0.4-1.5 times as wide as high), not words: the colour pass
    reads nothing again there. A solid marker is not a line either. (The echo
    color3d_jpeg_baseline leaves one: its blue-framed `THI` label, a word.)"""
    from scp_scanner.ocr.colour_text import colour_lines

    for name in ("US1_UNCR.dcm", "gdcm-US-ALOKA-16.dcm"):
        image = images_of(real_data / name)[0]
        assert colour_lines(image, engine.read(image)) == [], name
    pixels = np.zeros((100, 200, 3), np.uint8)
    pixels[40:66, 50:86] = (0, 90, 255)                    # a 26x36 coloured square
    pixels[10:19, 100:190] = (0, 255, 0)                   # a 9x90 coloured bar: a line's shape
    image = Image(pixels=pixels, frame=0, overlay=-1, source=SOURCE_FRAME)
    assert colour_lines(image, []) == [(10, 100, 19, 190)]


def test_a_dark_ramp_is_not_dim_text():
    """Dim text on a flat ground is found; the speckled dark edge of a real ultrasound sector
    (pydicom-data's US1_J2KI), whose dark levels also make a line of glyph-like pieces, lies
    on a ramp of levels and is not."""
    from PIL import Image as PILImage
    from PIL import ImageDraw
    from pydicom.data import get_testdata_file

    from scp_scanner.ocr import dim
    from scp_scanner.ocr.prepare import glyphs, line_regions, to_grey

    picture = PILImage.new("L", (400, 200), 1)
    ImageDraw.Draw(picture).text((20, 20), "DOE^JOHN 12345", fill=6, font=dicomgen.load_font(16))
    image = Image(pixels=np.asarray(picture).copy(), frame=0, overlay=-1, source=SOURCE_FRAME)
    lines, background, top = dim.dim_lines(image)
    assert background == 1 and len(lines) == 1 and top <= 6

    sector = images_of(get_testdata_file("US1_J2KI.dcm"))[0]
    grey = to_grey(sector.pixels)
    ink = (grey >= 2) & (grey <= dim.DIM_LEVEL)
    assert any(r.text_like for r in line_regions(glyphs(ink), ink.shape))
    assert dim.dim_lines(sector)[0] == []


def _line_image(text: str) -> Image:
    """White DejaVu text on black, 600x120, drawn at (20, 40)."""
    from PIL import Image as PILImage
    from PIL import ImageDraw

    picture = PILImage.new("RGB", (600, 120))
    ImageDraw.Draw(picture).text((20, 40), text, fill=(255, 255, 255), font=dicomgen.load_font(16))
    return Image(np.asarray(picture), 0, -1, SOURCE_FRAME)


def _recognised_widths(engine, monkeypatch) -> list[int]:
    """The widths of the crops the recogniser is handed from now on."""
    widths: list[int] = []
    recognise = engine.recognise

    def spy(crops):
        widths.extend(c.shape[1] for c in crops)
        return recognise(crops)

    monkeypatch.setattr(engine, "recognise", spy)
    return widths


def test_a_line_read_again_reads_only_the_words_that_changed(monkeypatch):
    """A clock ticks at the end of its line: read_lines, told which pixels changed, hands
    the recogniser the changed word alone (cut at the middle of the gap before it) and puts
    its reading in place of the old word; the date before it keeps its reading."""
    engine = ocr.create("rapidocr", gpu="cpu")
    before, after = _line_image("12/03/1961 10:46:34"), _line_image("12/03/1961 10:46:35")
    [line] = engine.read(before)
    assert line.text == "12/03/1961 10:46:34"
    changed = (before.pixels != after.pixels).any(axis=2)
    widths = _recognised_widths(engine, monkeypatch)
    [again] = engine.read_lines(after, [line], changed=changed)
    assert again.text == "12/03/1961 10:46:35"
    assert (again.left, again.top, again.right, again.bottom) == (line.left, line.top, line.right, line.bottom)
    assert len(widths) == 1 and widths[0] < 0.6 * (line.right - line.left), widths
    # The clock erased: the ink no longer shows two words, so the line is read whole.
    erased = _line_image("12/03/1961")
    assert engine.read_lines(erased, [line], changed=(before.pixels != erased.pixels).any(axis=2))[0].text \
        == "12/03/1961"
    assert widths[1:] == [line.right - line.left], widths
    # Without the changed pixels, or with changes in every word, the line is read whole.
    del widths[:]
    assert engine.read_lines(after, [line])[0].text == "12/03/1961 10:46:35"
    both = _line_image("13/03/1961 10:46:35")
    everywhere = (before.pixels != both.pixels).any(axis=2)
    assert engine.read_lines(both, [line], changed=everywhere)[0].text == "13/03/1961 10:46:35"
    assert widths == [line.right - line.left] * 2, widths


def test_a_changed_word_that_reads_as_another_kind_of_token_sends_the_line_to_a_whole_read(monkeypatch):
    """A word read alone lacks its line's context (a counter's `2/4` can come back as
    `214`): a reading whose shape differs from the old word's (fixups.word_shape) is not
    taken, and the line is read whole. Here the clock's separators really changed."""
    engine = ocr.create("rapidocr", gpu="cpu")
    before, after = _line_image("12/03/1961 10:46:34"), _line_image("12/03/1961 10-46-35")
    [line] = engine.read(before)
    widths = _recognised_widths(engine, monkeypatch)
    [again] = engine.read_lines(after, [line], changed=(before.pixels != after.pixels).any(axis=2))
    assert again.text == "12/03/1961 10-46-35"
    assert len(widths) == 2 and widths[0] < widths[1] == line.right - line.left, widths


def test_a_line_whose_ink_does_not_show_its_spaces_is_read_whole(monkeypatch):
    """The reading has a space that the ink does not show as a gap wider than the letters'
    (here the old reading is given two words for one unbroken number): the words cannot be
    told apart in the ink, so the line is read whole."""
    engine = ocr.create("rapidocr", gpu="cpu")
    before, after = _line_image("1234567890"), _line_image("1234567891")
    [line] = engine.read(before)
    split = TextBox("12345 67890", line.left, line.top, line.right, line.bottom, line.confidence)
    widths = _recognised_widths(engine, monkeypatch)
    [again] = engine.read_lines(after, [split], changed=(before.pixels != after.pixels).any(axis=2))
    assert again.text == "1234567891"
    assert widths == [line.right - line.left], widths


def test_grey_is_read_from_one_channel_as_from_three_equal_ones(engine):
    """A grey image's view is its own array (no BGR copy); the models get three equal
    channels per piece and per line. The reading equals that of the same pixels stored as
    three equal channels."""
    from dataclasses import replace

    rows, cols = 480, 640
    rng = np.random.default_rng(5)
    grey = (dicomgen.ultrasound_sector(rng, rows, cols) * 180).astype(np.uint8)
    annotation = dicomgen.Annotation.of(top_left=[dicomgen._seg("SMITH^JOHN 12-Mar-1961", True)])
    mask, _ = dicomgen.text_mask(annotation, cols, rows, 14)
    grey[mask] = 255
    one = Image(grey, 0, -1)
    view = rapidocr_engine.view_of(one)
    assert view.pixels is grey                       # not copied
    three = replace(one, pixels=np.repeat(grey[:, :, None], 3, axis=2))
    boxes = engine.read(one)
    assert any("SMITH" in b.text for b in boxes), boxes
    assert boxes == engine.read(three)


def test_make_room_hands_memory_back_and_changes_no_reading(engine, tmp_path):
    """Before a large image is decoded the pipeline calls make_room(rows, columns): the
    detector's arena is handed back (large images only); readings stay as they were."""
    from scp_scanner.pipeline import header_size

    build_large_cr(tmp_path / "large_cr.dcm")
    ds = read_dataset(tmp_path / "large_cr.dcm")
    assert header_size(ds) == (2500, 2000)
    (image,) = images_of(tmp_path / "large_cr.dcm")
    first = engine.read(image)
    calls = engine.calls.detector
    engine.make_room(640, 480)                   # small: nothing to do
    engine.make_room(*header_size(ds))
    assert engine.calls.detector == calls        # the release run is not a detection
    assert engine.read(image) == first
    # A header without a usable size gives 0 (decoding reports it; make_room does nothing).
    ds.Rows = None
    assert header_size(ds)[0] == 0
    engine.make_room(*header_size(ds))


def test_dim_levels_are_stretched_by_table_as_by_the_per_pixel_formula():
    from scp_scanner.ocr.dim import _level_counts, stretched

    rng = np.random.default_rng(4)
    for pixels in (rng.integers(0, 256, (300, 400), dtype=np.uint8),
                   rng.integers(0, 256, (120, 160, 3), dtype=np.uint8)):
        for background, top in ((0, 5), (3, 40), (10, 10)):
            expected = np.clip((pixels.astype(np.float32) - background) * (255.0 / max(1, top - background)),
                               0, 255).astype(np.uint8)
            got = stretched(Image(pixels, 0, -1), background, top).pixels
            assert got.shape == expected.shape and (got == expected).all()
        assert (_level_counts(pixels, chunk=1000) == np.bincount(pixels.ravel(), minlength=256)).all()


@pytest.mark.parametrize("shape", [(70, 45, 3), (64, 96, 3), (33, 100), (1, 1, 3)])
def test_detector_input_equals_padded_scaled_pixels_in_one_reused_buffer(shape) -> None:
    rng = np.random.default_rng(sum(shape))
    pixels = rng.integers(0, 256, shape, dtype=np.uint8)
    height, width = shape[:2]
    ph, pw = -(-height // 32) * 32, -(-width // 32) * 32
    padded = np.pad(pixels, ((0, ph - height), (0, pw - width)) + ((0, 0),) * (pixels.ndim - 2), mode="edge")
    if padded.ndim == 2:
        padded = np.stack([padded] * 3, axis=2)
    expected = (padded.astype(np.float32) / 127.5 - 1.0).transpose(2, 0, 1)[None]
    # A buffer larger than needed, holding an earlier piece's values, is reused as it is.
    stale = np.full(3 * 128 * 128, 7.0, np.float32)
    got, buffer = rapidocr_engine.detector_input(pixels, stale)
    assert buffer is stale and got.shape == (1, 3, ph, pw) and got.flags.c_contiguous
    assert np.array_equal(got, expected)
    # Too small a buffer (or none) is replaced by one that fits.
    got, buffer = rapidocr_engine.detector_input(pixels, np.zeros(5, np.float32))
    assert buffer.size == 3 * ph * pw and np.array_equal(got, expected)


def _frame_with_mask(mask: np.ndarray) -> Image:
    pixels = np.where(mask, 255, 40).astype(np.uint8)
    return Image(pixels, 0, -1, SOURCE_FRAME, mask)


def test_lone_glyphs_are_alone_of_text_size_and_unread():
    mask = np.zeros((200, 300), bool)
    mask[100:110, 290:296] = True             # a lone letter at the right edge
    mask[100:110, 4:10] = True                 # another at the left, inside a read line's box
    mask[20:30, 100:106] = True                # two letters side by side: a word, not alone
    mask[20:30, 109:115] = True
    mask[150:152, 150:152] = True              # a speck: too small
    mask[50:90, 200:240] = True                # a block: too large
    read = [TextBox("R", 2, 98, 12, 112, 99.0)]
    assert rapidocr_engine.lone_glyphs(_frame_with_mask(mask), read) == [(100, 290, 110, 296)]
    # Many lone marks: texture, none taken.
    many = np.zeros((200, 300), bool)
    for k in range(rapidocr_engine.MAX_LONE_GLYPHS + 1):
        many[10 + 20 * (k // 4):20 + 20 * (k // 4), 10 + 40 * (k % 4):16 + 40 * (k % 4)] = True
    assert rapidocr_engine.lone_glyphs(_frame_with_mask(many), []) == []
    no_mask = Image(np.zeros((50, 50), np.uint8), 0, -1, SOURCE_FRAME, None)
    assert rapidocr_engine.lone_glyphs(no_mask, []) == []


def _l_shape(pixels: np.ndarray, top: int, left: int, height: int, level: int) -> None:
    """An `L` of 1 px strokes, height x (height // 2 + 1), drawn at `level`."""
    pixels[top:top + height, left] = level
    pixels[top + height - 1, left:left + height // 2 + 1] = level


def test_bright_marks_find_a_glyph_at_any_level_brighter_than_around_it():
    rng = np.random.default_rng(5)
    grey = rng.integers(140, 170, (120, 160)).astype(np.uint8)       # tissue with grain
    _l_shape(grey, 50, 150, 6, 210)           # a small marker at 210, not the frame's extreme
    _l_shape(grey, 50, 20, 6, 180)            # too faint: under MARK_CONTRAST above the grain
    grey[80:100, 60:90] = 230                 # a bright block: wider than a stroke
    image = Image(grey, 0, -1, SOURCE_FRAME, None)
    marks = rapidocr_engine.bright_marks(grey)
    assert marks[50:56, 150].all() and not marks[50:56, 20].any() and not marks[85:95, 65:85].any()
    # No text mask: lone_glyphs has nothing; the marker is a lone mark.
    assert rapidocr_engine.lone_glyphs(image, []) == []
    assert rapidocr_engine.lone_marks(image, [], []) == [(50, 150, 56, 154)]
    # Not where a line was read, nor where a glyph of the text mask stands already.
    assert rapidocr_engine.lone_marks(image, [TextBox("L", 148, 48, 156, 58, 99.0)], []) == []
    assert rapidocr_engine.lone_marks(image, [], [(49, 149, 57, 155)]) == []
    # Colour frames have their own text mask (rgb_text_mask); marks are looked for in grey only.
    colour = Image(np.stack([grey] * 3, axis=2), 0, -1, SOURCE_FRAME, None)
    assert rapidocr_engine.lone_marks(colour, [], []) == []


def test_a_small_marker_below_the_frames_extreme_level_is_read(engine, tmp_path):
    """Tuning seed 1's third busy CT (make_corpus.py --style varied --fonts tuning --seed 1):
    its right-hand `L`, 6 px high, is drawn at a level that is not the frame's extreme
    stored value, so no text mask holds it, and the detector finds no box there; it is read
    as a bright mark (lone_marks)."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=3, seed=1, fonts="tuning", cases=["v_ct_busy"])[2]
    marker = [w for w in truth.images[0].words if w.text == "L"][0]
    image = next(iter(iter_images(read_dataset(truth.path))))
    assert image.text_mask is None or not image.text_mask[marker.top:marker.bottom, marker.left:marker.right].any()
    assert rapidocr_engine.lone_glyphs(image, []) == [] or all(
        g[1] >= marker.right or g[3] <= marker.left for g in rapidocr_engine.lone_glyphs(image, []))
    boxes = engine.read(image)
    assert any(b.text == "L" and b.left <= marker.left and marker.right <= b.right
               and b.top <= marker.top and marker.bottom <= b.bottom for b in boxes), boxes


def test_orientation_marker_that_the_detector_misses_is_read(engine, tmp_path):
    """Tuning seed 3's first busy CT (make_corpus.py --style varied --fonts tuning --seed 3):
    its right-hand 'L' stands alone, 9 px from the edge, and the detector finds no box
    there; it is read from its own crop now."""
    truth = dicomgen.make_varied_corpus(tmp_path, count=1, seed=3, fonts="tuning", cases=["v_ct_busy"])[0]
    marker = [w for w in truth.images[0].words if w.text == "L"][0]
    image = next(iter(iter_images(read_dataset(truth.path))))
    boxes = engine.read(image)
    assert any(b.text == "L" and b.left <= marker.left and marker.right <= b.right
               and b.top <= marker.top and marker.bottom <= b.bottom for b in boxes), boxes
    view = rapidocr_engine.view_of(image)
    detected = [r for r in engine.detect(image, view) if r.left <= marker.right and marker.left <= r.right
                and r.top <= marker.bottom and marker.top <= r.bottom]
    assert detected == []                      # the detector alone misses it


def test_two_listed_words_read_with_a_narrow_space_stay_two_words():
    """In a small face a space is as narrow as a letter gap: 'CATRIONA DOE' drawn with no
    more blank between A and D than between letters. Without the lexicon the space is taken
    for one inside a word (the rule that joins 'ABD OMEN'); with it, two words the lexicon
    knows that make no word together stay apart, while a split word is still joined, and so
    is FAMILY GIVEN (a DICOM name whose caret left no ink: the scorer's STEWARTDAVID)."""
    from scp_scanner.ocr.lexicon import load_lexicon
    from scp_scanner.pii.given_names import GIVEN_NAMES

    known = load_lexicon()

    def listed(word: str) -> bool:
        return word in known or word in GIVEN_NAMES

    def with_space(text: str, at: int) -> tuple[str, list[float], np.ndarray]:
        """text drawn without a space, read with one after character `at`."""
        crop, xs = rendered_line(text, 16)
        return (text[:at + 1] + " " + text[at + 1:], xs[:at + 1] + [(xs[at] + xs[at + 1]) / 2] + xs[at + 1:],
                crop)

    for text, at in (("CATRIONADOE Raigmore", 7), ("DAVIDWILSON Acc", 4)):
        read, positions, crop = with_space(text, at)
        assert line_text.spaces_from_ink(read, positions, crop) == text       # joined
        assert line_text.spaces_from_ink(read, positions, crop, listed) == read
    for text, at in (("ABDOMEN Se: 3", 2), ("MACDONALD Ward", 2), ("Stracathro Hospital", 3),
                     ("STEWARTDAVID Acc", 6)):
        read, positions, crop = with_space(text, at)
        assert line_text.spaces_from_ink(read, positions, crop, listed) == text


def test_a_space_between_two_words_the_header_writes_apart_stays():
    """'AHMED DUNCAN' where PatientName is DUNCAN^AHMED: DUNCAN is a given name too, so
    without the header the narrow space is taken for a lost caret (FAMILY GIVEN) and the
    words are joined; the header writes them apart given name first, so they stay two.
    FAMILY GIVEN in the header's own order is still joined, and so is a split word."""
    from scp_scanner.ocr.expected import expected_words
    from scp_scanner.ocr.lexicon import load_lexicon
    from scp_scanner.pii.given_names import GIVEN_NAMES

    known = load_lexicon()

    def listed(word: str) -> bool:
        return word in known or word in GIVEN_NAMES

    expected = expected_words([("PatientName", "DUNCAN^AHMED"), ("InstitutionName", "Glasgow Royal Infirmary")])
    assert ("ahmed", "duncan") in expected.written_apart and ("royal", "infirmary") in expected.written_apart
    assert ("duncan", "ahmed") not in expected.written_apart          # the DICOM name's caret
    for text, at, kept in (("AHMEDDUNCAN CHI", 4, True), ("DUNCANAHMED CHI", 5, False),
                           ("ABDOMEN Se: 3", 2, False)):
        crop, xs = rendered_line(text, 16)
        read = text[:at + 1] + " " + text[at + 1:]
        positions = xs[:at + 1] + [(xs[at] + xs[at + 1]) / 2] + xs[at + 1:]
        assert line_text.spaces_from_ink(read, positions, crop, listed) == text          # joined
        assert line_text.spaces_from_ink(read, positions, crop, listed, expected.written_apart) == (
            read if kept else text)


def _stacked(lines: list[str], face: str, size: int, step: int, top: int = 452) -> Image:
    """A black 640x480 frame with white lines of text `step` px apart in its bottom-left corner."""
    from PIL import Image as PILImage, ImageDraw, ImageFont

    picture = PILImage.new("RGB", (640, 480), (0, 0, 0))
    draw, font = ImageDraw.Draw(picture), ImageFont.truetype(face, size)
    for i, line in enumerate(lines):
        draw.text((10, top + i * step), line, font=font, fill=(255, 255, 255))
    return Image(np.asarray(picture), 0, -1)


def test_line_bands_are_lines_of_glyphs_not_parts_of_one_glyph_nor_texture():
    ink = np.zeros((24, 40), bool)
    ink[4:10, 2:6] = ink[4:10, 8:12] = True             # a line of two glyphs
    ink[13:19, 2:6] = ink[13:19, 8:12] = ink[13:19, 16:20] = True   # a line of three below it
    assert rapidocr_engine.line_bands(ink, 4, 36) == [(4, 10), (13, 19)]
    # An i's dots over its line, a neighbour's descenders cut at the box's edge: one line.
    dotted = np.zeros((24, 40), bool)
    dotted[2:3, 3:5] = dotted[2:3, 9:11] = True
    dotted[5:14, 3:5] = dotted[5:14, 9:11] = True
    dotted[20:23, 3:12] = True
    assert len(rapidocr_engine.line_bands(dotted, 4, 36)) < 2
    # One glyph in two parts (a marker's bowl over its stem) is no two lines.
    glyph = np.zeros((24, 40), bool)
    glyph[0:6, 3:12] = glyph[13:17, 3:5] = True
    assert rapidocr_engine.line_bands(glyph, 4, 36) == []
    # Specks of speckle or JPEG noise in the rows between two lines (a pixel or two a row)
    # do not join them.
    specked = ink.copy()
    specked[10:12, 30] = specked[12, 34] = True
    assert rapidocr_engine.line_bands(specked, 4, 36) == [(4, 10), (13, 19)]
    # A line's sparse rows (a line above, cut at the box's edge, shows only its feet) are ink.
    feet = np.zeros((24, 40), bool)
    feet[0:4, 2] = feet[0:4, 9] = feet[0:4, 16] = True
    feet[7:14, 2:6] = feet[7:14, 8:12] = True
    assert rapidocr_engine.line_bands(feet, 4, 36) == [(0, 4), (7, 14)]
    # Runs taller than a joined line can be: texture, never cut.
    texture = np.zeros((150, 60), bool)
    texture[0:70, ::3] = texture[93:141, ::3] = True
    assert rapidocr_engine.line_bands(texture, 4, 36) == []


def _glyph_row(ink: np.ndarray, top: int, height: int = 9) -> None:
    """A line of box glyphs like `E`s into `ink`: two stems and three bars each, so the rows
    between the bars hold the stems alone."""
    for x in range(4, ink.shape[1] - 10, 8):
        ink[top:top + height, x:x + 2] = ink[top:top + height, x + 4:x + 6] = True
        for bar in (top, top + height // 2, top + height - 1):
            ink[bar, x:x + 6] = True


def test_line_bands_over_speckle_are_cut_by_their_rows_share_of_ink():
    """Over speckle every row holds ink, so no blank row parts two lines; a line's rows
    hold far more of it than the rows between lines (held-out varied 1447: a birth date
    between an NHS number and an accession number, 10 px grey Noto Sans Mono Bold over
    speckle, one detected box that was read as its last line only)."""
    rng = np.random.default_rng(5)
    two = rng.random((40, 100)) < 0.15
    _glyph_row(two, 6)
    _glyph_row(two, 24)
    assert rapidocr_engine.line_bands(two, 4, 36) == [(6, 15), (24, 33)]
    # One line over speckle, its rows between the bars holding stems alone: one line.
    one = rng.random((24, 100)) < 0.15
    _glyph_row(one, 6)
    assert len(rapidocr_engine.line_bands(one, 4, 36)) < 2
    # Runs at the box's top or bottom row (a neighbouring line cut at the edge, texture
    # round the box) are no lines of it: one line inside is no cut.
    edged = rng.random((40, 100)) < 0.15
    edged[0:5, ::2] = edged[34:40, ::2] = True
    _glyph_row(edged, 16)
    assert rapidocr_engine.dense_rows(edged) == [(16, 25)]
    assert len(rapidocr_engine.line_bands(edged, 4, 36)) < 2
    # A background lit unevenly, which Otsu's threshold cuts across, inks about half of its
    # rows between the lines as well: twice the share is no line.
    lit = rng.random((40, 100)) < 0.3
    lit[6:15] |= rng.random((9, 100)) < 0.45
    lit[24:33] |= rng.random((9, 100)) < 0.45
    assert rapidocr_engine.dense_rows(lit) == []
    # Speckle alone, and lines on a clean background (blank rows decide there), are not cut so.
    assert rapidocr_engine.dense_rows(rng.random((40, 100)) < 0.15) == []
    clean = np.zeros((40, 100), bool)
    _glyph_row(clean, 6)
    _glyph_row(clean, 24)
    assert rapidocr_engine.dense_rows(clean) == []
    assert rapidocr_engine.line_bands(clean, 4, 36) == [(6, 15), (24, 33)]


def test_a_line_between_two_others_over_speckle_is_read(engine, tmp_path, monkeypatch):
    """Held-out varied seed 1447's fourth colour ultrasound: the birth date `25-Feb-1932`
    (10 px grey Noto Sans Mono Bold over speckle) stands in one detected box with the
    accession number below it; the box's ink is speckle's in every row, and the date was
    lost. Cut by its rows' share of ink, both lines are read."""
    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine as Fresh

    path = dicomgen.make_varied_corpus(tmp_path, count=4, seed=1447, fonts="heldout",
                                       cases=["v_us_colour"])[3].path
    texts = [box.text for box in engine.read(images_of(path)[0])]
    assert "25-Feb-1932" in texts and "Acc CT44937690" in texts, texts
    monkeypatch.setattr(rapidocr_engine, "MIN_GRAIN", 2.0)
    assert "25-Feb-1932" not in [box.text for box in Fresh().read(images_of(path)[0])]


def test_split_lines_cuts_a_box_of_two_lines_into_one_box_each_and_reads_a_line_once():
    page = np.zeros((60, 80, 3), np.uint8)
    page[10:16, 5:9] = page[10:16, 11:15] = 255                     # "C+"
    page[19:25, 5:9] = page[19:25, 11:15] = page[19:25, 21:25] = 255  # "Fr 1"
    joined = Rect(2, 6, 30, 29)
    cut = rapidocr_engine.split_lines(page, [joined], 4, 36)
    assert sorted(cut, key=lambda r: r.top) == [Rect(2, 8, 19, 18), Rect(2, 17, 29, 27)]
    # A line that another box already holds is read in that box, not again.
    own = Rect(3, 16, 28, 28)
    assert sorted(rapidocr_engine.split_lines(page, [joined, own], 4, 36), key=lambda r: r.top) == \
        [Rect(2, 8, 19, 18), own]
    # A box of one line is left as detected.
    assert rapidocr_engine.split_lines(page, [Rect(2, 17, 29, 27)], 4, 36) == [Rect(2, 17, 29, 27)]


def test_small_lines_the_detector_joins_are_read_each_as_its_own_line(engine, monkeypatch):
    """`C+` over `Fr 1` in a 5x7 bitmap face, 9 px apart (an ultrasound's corner): the detector
    finds one box for both, whose reading was `F+`. Cut into its lines, each is read."""
    face = Path("/usr/share/fonts/X11/misc/5x7-ISO8859-1.pcf.gz")
    if not face.is_file():
        pytest.skip(f"{face} is not installed (xfonts-base)")
    image = _stacked(["C+", "Fr 1"], str(face), 7, 9)
    texts = [b.text for b in engine.read(image)]
    assert "C+" in texts and "Fr" in texts and "1" in texts, texts
    for box in engine.read(image):          # each box one line: no taller than a 7 px line's box
        assert box.bottom - box.top <= 12 and box.top >= 440, box
    monkeypatch.setattr(rapidocr_engine, "SPLIT_JOINED_LINES", False)
    fresh = RapidOcrEngine()
    assert "C+" not in [b.text for b in fresh.read(image)]


@pytest.mark.parametrize("size", [11, 16])
@pytest.mark.parametrize("line, spaces, glued", [
    # A value's label and its number, a number and the next label: written run together
    # ('T2', 'b1000'), or with no label of a value, as read.
    ("kVp 120 W:400 L:40 Se:3 Im:45 Fr 1", ("kVp ", "W:400 ", "Se:3 ", "Fr "),
     ("kVp120 T2 b1000", "CT79688828 RA10939846", "T2 3ab:45")),
    # A number and its unit: written run together ('20Hz', '3cm3cm' on pydicom's US1
    # screen), or a code whose letter is a unit ('3M12L'), as read.
    ("5 mm 120 kVp 20 Hz", ("5 ", "120 ", "20 "), ("5mm 20Hz", "3cm3cm 3M12L", "RA10939846")),
])
def test_a_space_lost_between_a_label_or_unit_and_its_value_is_put_back_where_the_ink_shows_one(
        size, line, spaces, glued):
    """'kVp120', 'W:400L:40', 'Se:3Im:45', 'Fr1', '5mm': the recogniser lost the space the ink
    shows between a value's label and its number, between a number and the next label, or
    between a number and its unit. What is written run together shows no such blank and
    stays."""
    crop, xs = rendered_line(line, size)
    dropped, at = set(), 0
    for part in spaces:                     # each space after its part, left to right
        at = line.index(part, at) + len(part)
        dropped.add(at - 1)
    kept = [i for i in range(len(line)) if i not in dropped]
    lost = "".join(line[i] for i in kept)
    assert len(lost.split()) == len(line.split()) - len(spaces)
    text, positions = line_text.label_spaces_from_ink(lost, [xs[i] for i in kept], crop)
    assert text == line and len(positions) == len(text)
    for written in glued:
        crop, xs = rendered_line(written, size)
        assert line_text.label_spaces_from_ink(written, xs, crop) == (written, xs)


@pytest.mark.parametrize("size", [11, 16])
def test_a_fields_label_glued_to_the_value_before_it_is_two_fields(size):
    """A number run into the next field's known label and colon ('W:400L:40') is two fields
    whatever the ink shows."""
    for glued, fields in (("W:400L:40 Se:3Im:45", "W:400 L:40 Se:3 Im:45"), ("Se:3im:45", "Se:3 im:45")):
        crop, xs = rendered_line(glued, size)
        text, positions = line_text.label_spaces_from_ink(glued, xs, crop)
        assert text == fields and len(positions) == len(text)
        assert all(a <= b for a, b in zip(positions, positions[1:]))


@pytest.mark.parametrize("size", [11, 16])
def test_an_nhs_number_written_3_3_4_gets_its_spaces_back_where_the_ink_shows_them(size):
    """'NHS 7101783627': the recogniser ran an NHS number written 3-3-4 together; the ink
    shows both blanks. One written in one run shows none and stays as read."""
    line = "NHS 710 178 3627"
    crop, xs = rendered_line(line, size)
    kept = [i for i in range(len(line)) if i not in (7, 11)]
    lost = "".join(line[i] for i in kept)
    assert lost == "NHS 7101783627"
    assert line_text.label_spaces_from_ink(lost, [xs[i] for i in kept], crop)[0] == line
    crop, xs = rendered_line(lost, size)
    assert line_text.label_spaces_from_ink(lost, xs, crop) == (lost, xs)

    # A number's spaces are its widest blanks: glyphs 4 px wide, 1 px apart, 3 px after the
    # third and sixth digits, but 4 px round a narrow `1` further on (an italic serif's `1`s
    # stand so): one run, as read. With that blank 2 px, the 3-3-4 spaces go back.
    digits = "CHI 2607031184"

    def bars(blanks: list[int]) -> tuple[np.ndarray, list[float]]:
        """A bar per character (none for the space), blanks[i] px between i and i + 1."""
        crop = np.zeros((12, 4 + 4 * len(digits) + sum(blanks) + 8, 3), np.uint8)
        xs, x = [], 4
        for ch, blank in zip(digits, blanks + [0]):
            if ch != " ":
                crop[2:10, x:x + 4] = 235
            xs.append(x + 2.0)
            x += 4 + blank
        return crop, xs
    crop, xs = bars([1, 1, 1, 1, 1, 1, 3, 1, 1, 3, 4, 1, 1])
    assert line_text.label_spaces_from_ink(digits, xs, crop)[0] == digits
    crop, xs = bars([1, 1, 1, 1, 1, 1, 3, 1, 1, 3, 2, 1, 1])
    assert line_text.label_spaces_from_ink(digits, xs, crop)[0] == "CHI 260 703 1184"


@pytest.mark.parametrize("size", [15, 18, 19])
def test_a_monospace_one_before_the_third_and_sixth_digits_is_no_space(size, monkeypatch):
    """Held-out varied seed 1327's CT: `CHI 0612918785` in one run, hard-edged Noto Mono at
    15 px, read `CHI 061 291 8785`. A monospace `1` leans on its flag, so the blank after it
    is the number's widest, and both `1`s stand just before the places of an NHS number's
    spaces. The digits' ink centres step one advance there, as everywhere else in the
    number; across a true space they step about two (in this face) and the spaces go back."""
    face = Path("/usr/share/fonts/truetype/noto/NotoMono-Regular.ttf")
    if not face.is_file():
        pytest.skip(f"{face} is not installed (fonts-noto-mono)")
    from PIL import Image as PILImage
    from PIL import ImageDraw

    def hard_edged(text: str) -> tuple[np.ndarray, list[float]]:
        font = dicomgen.load_font(size, str(face))
        picture = PILImage.new("RGB", (int(font.getlength(text)) + 16, size + 12), (10, 10, 10))
        draw = ImageDraw.Draw(picture)
        draw.fontmode = "1"
        draw.text((8, 4), text, fill=(235, 235, 235), font=font)
        xs = [8 + font.getlength(text[:i]) + font.getlength(ch) / 2 for i, ch in enumerate(text)]
        return np.asarray(picture)[:, :, ::-1].copy(), xs

    digits = "CHI 0612918785"
    crop, xs = hard_edged(digits)
    assert line_text.label_spaces_from_ink(digits, xs, crop)[0] == digits
    spaced = "CHI 061 291 8785"
    line, at = hard_edged(spaced)
    kept = [i for i in range(len(spaced)) if i not in (7, 11)]
    assert line_text.label_spaces_from_ink(digits, [at[i] for i in kept], line)[0] == spaced
    # The premise: the blanks alone (the widest two, at the spaces' places) would split it.
    monkeypatch.setattr(line_text, "_steps_apart", lambda *args: True)
    assert line_text.label_spaces_from_ink(digits, xs, crop)[0] == spaced


def test_a_real_test_patterns_revision_date_is_read_and_left_alone(engine):
    """pydicom's SMPTE test pattern (mlut_18.dcm): its caption `SMPTE TEST PATTERN Rev. 3/1/91`
    is read, date and all, and judged to identify nobody: a date right after a revision,
    version or copyright label is the document's own (pii/rules.py)."""
    from pydicom.data import get_testdata_file

    from scp_scanner.dicom import instance_info
    from scp_scanner.pii.judge import judge
    from scp_scanner.pii.spacy_engine import SpacyEngine

    path = get_testdata_file("mlut_18.dcm")
    image = images_of(path)[0]
    boxes = engine.read(image)
    text = " ".join(box.text for box in boxes)
    assert "Rev. 3/1/91" in text, text
    verdict = judge(boxes, instance_info(read_dataset(path), path), SpacyEngine())
    assert not verdict.sensitive, verdict.reasons


def test_small_text_beside_larger_ink_keeps_the_detector_at_its_own_size(engine, tmp_path):
    """Held-out varied 709's grey JPEG screen: 7 px FreeSans Bold Oblique (a 5 px cap height)
    in its corner, while the only line of annotation size its ink showed was a 19 px blob of
    anatomy. The detector's input was reduced for that line (0.63), the small text vanished,
    and a PII image went unflagged. Rows of five or more glyphs smaller than annotation size
    now keep the detector at the image's own size; an image of large text alone is still
    read reduced."""
    path = tmp_path / "small.dcm"
    style = dicomgen.build_varied_case("v_sc_grey_jpeg", path, 1954825192, "heldout")[1]
    assert (style["face"], style["size"]) == ("FreeSansBoldOblique.ttf", 7)
    image = images_of(path)[0]
    view = rapidocr_engine.view_of(image)
    assert rapidocr_engine.smallest_text(image) > rapidocr_engine.DET_TEXT_HEIGHT
    assert rapidocr_engine.smaller_glyph_rows(image)
    assert rapidocr_engine.detection_scale(image, view) == 1.0
    text = " ".join(box.text for box in engine.read(image))
    assert "GRAHAM DUNCAN" in text and "1706771371" in text, text

    crop, _ = rendered_line("SMITH JOHN 12/03/1961", 40)
    large = np.zeros((512, 512, 3), np.uint8)
    large[20:20 + crop.shape[0], 10:10 + min(crop.shape[1], 500)] = crop[:, :500]
    image = Image(large[:, :, ::-1].copy(), 0, -1, SOURCE_FRAME, None)
    assert not rapidocr_engine.smaller_glyph_rows(image)
    assert rapidocr_engine.detection_scale(image, rapidocr_engine.view_of(image)) < 0.95

    # A cine's speckle: on the generator's RGB cine one frame's sector lines up two rows of
    # three small blobs each; those are not taken for small text (the scale would flip).
    cine = tmp_path / "cine.dcm"
    dicomgen.build_us_cine(cine, 7, n_frames=3, grey=False, hold=2)
    frames = images_of(cine)
    speckled = [f for f in frames if any(
        r.glyphs >= 3 and r.single_line and r.glyph_height < PREPARE.min_text_line_height
        for ink in inks(f) for r in regions_of(ink) or [])]
    assert speckled
    assert not any(rapidocr_engine.smaller_glyph_rows(f) for f in frames)


def test_small_text_over_speckle_is_detected_again_where_the_map_was_sure_of_text(tmp_path, monkeypatch):
    """Varied 881's RGB ultrasound frame (its first scan's one unflagged PII image): 7 px
    FreeMono Bold (4-5 px glyphs), grey, over speckle that fills the frame, JPEG 78. The strip
    holding the banner, 156 rows of mostly speckle, gave one fragment, read `70T`, though the
    detector's map was sure of text over the banner's first line. After every other stage,
    rows where the map was sure of text that neither a line found nor a line read meets are
    detected again in strips BAND_STRIP rows high, where the banner's lines are found;
    without that pass they are not read."""
    path = tmp_path / "us.dcm"
    truth, style = dicomgen.build_varied_case("v_us_colour", path, 917779957, "heldout")
    assert (style["face"], style["size"], style["over_speckle"]) == ("FreeMonoBold.ttf", 7, True)
    assert {"DAVID PATEL", "633 707 0542", "28.08.1953"} <= {w.text for w in truth.images[0].words if w.pii}
    (image,) = images_of(path)
    engine = RapidOcrEngine(model_cache=False)
    text = " ".join(box.text for box in engine.read(image))
    assert found("PATEL", text) and found("633 707 0542", text) and found("28.08.1953", text), text
    monkeypatch.setattr(engine, "_found_again_in_bands", lambda image, view, boxes: boxes)
    plain = " ".join(box.text for box in engine.read(image))
    assert not any(found(word, plain) for word in ("PATEL", "0542", "28.08.1953")), plain


def test_a_coloured_line_read_whole_on_black_stands_for_the_fragment_read_first(tmp_path, monkeypatch):
    """Held-out varied 941's RGB ultrasound frame (its first scan lost `Hospital`): cyan 8 px
    FreeSans Bold Oblique over speckle at JPEG quality. The detector found only `Ninewells`
    of `Ninewells Hospital` on the frame; on the frame's colour set on black it finds the
    line whole, which used to be dropped as the same line as the fragment. The fragment
    now gives way to it, and the line is read once."""
    path = tmp_path / "us.dcm"
    truth, style = dicomgen.build_varied_case("v_us_colour", path, 1750630245, "heldout")
    assert (style["face"], style["size"], style["colour"]) == ("FreeSansBoldOblique.ttf", 8, [0, 255, 255])
    assert "Ninewells Hospital" in {w.text for w in truth.images[0].words if w.pii}
    (image,) = images_of(path)
    engine = RapidOcrEngine(model_cache=False)
    boxes = engine.read(image)
    assert [b.text for b in boxes if "Ninewells" in b.text] == ["Ninewells Hospital"], boxes
    assert not any(b.unread for b in boxes)
    # Without the colour pass, the frame's own reading holds only the fragment.
    monkeypatch.setattr(engine, "_with_colour_text", lambda image, boxes: boxes)
    plain = engine.read(image)
    assert [b.text for b in plain if "Ninewells" in b.text] == ["Ninewells"], plain


def test_two_coloured_lines_read_on_black_stand_for_the_block_read_first(tmp_path, monkeypatch):
    """Held-out varied 953's RGB ultrasound frame: orange 10 px FreeMono Oblique, hard-edged,
    over speckle at JPEG 55. The detector joined the name and the ID line below it into one
    box and read the ID alone; on black the colour pass found and read both lines, each of
    them the same line as that box (prepare.same_line), so both were dropped and the name
    was left as an unread box. Two lines read on black, one above the other, that are the
    same line as one box read before stand for it: the name is read."""
    path = tmp_path / "us.dcm"
    truth, style = dicomgen.build_varied_case("v_us_colour", path, 2253345290, "heldout")
    assert (style["face"], style["size"], style["colour"]) == ("FreeMonoOblique.ttf", 10, [255, 160, 0])
    assert {"Graham Macdonald", "425027797"} <= {w.text for w in truth.images[0].words if w.pii}
    (image,) = images_of(path)
    engine = RapidOcrEngine(model_cache=False)
    boxes = engine.read(image)
    text = " ".join(b.text for b in boxes)
    # Read without the header's help here (the pipeline's header-guided forms mend the rest).
    assert found("Graham", text) and found("425027797", text), text
    assert not any(b.unread for b in boxes), boxes
    monkeypatch.setattr(rapidocr_engine, "stacked", lambda a, b: False)
    plain = engine.read(image)
    assert not found("Graham", " ".join(b.text for b in plain)), plain
    assert any(b.unread for b in plain), plain


def test_lines_stacked_one_above_the_other_are_told_from_one_line_found_twice():
    assert rapidocr_engine.stacked(TextBox("", 8, 8, 113, 24), TextBox("", 8, 18, 99, 37))
    assert not rapidocr_engine.stacked(TextBox("", 8, 8, 113, 24), TextBox("", 6, 7, 95, 39))
    assert not rapidocr_engine.stacked(TextBox("", 8, 8, 60, 24), TextBox("", 40, 9, 113, 25))


def test_lines_found_again_stand_only_for_fragments_of_the_first_pass():
    """A line found again in a band is dropped where a line read before holds most of it,
    unless that one covers less than half of its width (a fragment of it, which then gives
    way); a line found only in the band is added. The bands reach DET_OVERLAP rows round
    each region, full width, merged where they meet."""
    fragment, whole = Rect(44, 20, 58, 28), Rect(8, 17, 79, 31)
    kept, larger = Rect(12, 12, 59, 22), Rect(10, 9, 60, 28)
    alone = Rect(560, 17, 626, 30)
    assert rapidocr_engine.lines_found_again([fragment, kept], [whole, larger, alone]) == [whole, alone]
    assert rapidocr_engine.fragment_of(fragment, whole) and not rapidocr_engine.fragment_of(kept, larger)
    # A line of a block of two lines found again is no fragment of the block.
    assert not rapidocr_engine.fragment_of(Rect(9, 448, 31, 459), Rect(0, 448, 80, 470))
    assert rapidocr_engine.lines_found_again([kept], []) == []
    overlap = rapidocr_engine.DET_OVERLAP
    assert rapidocr_engine.bands_round([Rect(8, 2, 60, 8), Rect(300, 30, 400, 40), Rect(8, 300, 60, 310)],
                                       480, 640) == [Rect(0, 0, 640, 40 + overlap),
                                                     Rect(0, 300 - overlap, 640, 310 + overlap)]


def test_a_narrow_block_of_coloured_lines_over_speckle_is_cut_into_its_lines(tmp_path):
    """Held-out varied 733's colour ultrasound: four short magenta lines (name, NHS number,
    DOB, accession) in a 10 px bitmap face, 12 px apart over speckle at JPEG 49. JPEG's
    colour bleeding joined them into one cluster 48 px high and 73 px wide: not taller than a
    line may be, but narrower than a line is long, so it was dropped whole, and the detector
    (which saw the four lines over speckle as one box it could not read) left them with no
    rectangle at all: nothing for the redactor to cover. A cluster not of one line's shape is
    now cut into its stacked lines like a taller one, and each line gets a box."""
    from scp_scanner.ocr.colour_text import colour_lines

    path = tmp_path / "us.dcm"
    truth, style = dicomgen.build_varied_case("v_us_colour", path, 3526797876, "heldout")
    assert (style["face"], style["size"], style["jpeg_quality"]) == ("clR5x10.pcf.gz", 10, 49)
    (image,) = images_of(path)
    block = [w for w in truth.images[0].words if w.left < 100 and w.top < 100]
    middles = sorted({(w.top + w.bottom) // 2 for w in block})
    assert len(middles) == 4
    clusters = [c for c in colour_lines(image, []) if c[1] < 100 and c[0] < 100]
    assert len(clusters) == 4 and all(top <= m < bottom for (top, _, bottom, _), m in zip(clusters, middles))
    boxes = RapidOcrEngine(model_cache=False).read(image)
    for m in middles:
        assert any(b.left < 40 and b.top <= m < b.bottom for b in boxes), (m, boxes)


@pytest.mark.parametrize("seed, index, face, size, words", [
    (953, 3, "Lato-HairlineItalic.ttf", 16, ("THOMSON^MOHAMMED", "5423110", "Stracathro", "05/01/2025")),
    (797, 0, "Cantarell-Thin.otf", 10, ("0311475183", "1947-11-03", "Stracathro", "11-Jul-2015")),
])
def test_faint_thin_text_on_a_black_margin_is_read(engine, tmp_path, seed, index, face, size, words):
    """Two extra varied endoscopy frames (1920x1080, JPEG) whose identifiers went unread and
    the images unflagged: 16 px Lato Hairline Italic in green, strokes at levels 30-50 (the
    text's 99th percentile 44), and 10 px Cantarell Thin in white at JPEG 52, whose hairline
    strokes peak at 99; both on black, both far under the bright ink's threshold. The
    detector found no line there, and the near-black ink cut the strokes apart at DIM_LEVEL
    (their halos fall under it, their cores over it). Split at FAINT_STEP above the black,
    they are faint lines on a flat ground (ocr/dim.py), read from the stretched levels."""
    from scp_scanner.ocr import dim

    truth, style = dicomgen.build_varied_case("v_endoscopy", tmp_path / f"v_endoscopy_{index:03d}.dcm",
                                              dicomgen.varied_file_seed(seed, "v_endoscopy", index), "extra")
    assert (style["face"], style["size"]) == (face, size), style
    image = images_of(truth.path)[0]
    assert dim.dim_lines(image)[0] == []
    lines, background, top = dim.faint_lines(image, [])
    assert len(lines) >= 5 and background <= 2 and top < 128, (lines, background, top)
    text = " ".join(box.text for box in engine.read(image))
    for word in words:
        assert word in text.split(), text


def test_faint_text_lower_than_a_line_of_ordinary_ink_is_read(engine, tmp_path):
    """Extra varied 1063's colour ultrasound frame: name, NHS number, hospital and dates in
    8 px Lato Hairline, cyan on black, JPEG 82, strokes peaking at level 81. The faint ink
    (FAINT_STEP over the black) holds the strokes' cores, 6 px tall without their rims, under
    the 7 px that ordinary ink needs for a line of text; so no faint line was found, nothing
    was read and the frame went unflagged. A faint line may be two pixels lower
    (FAINT_MIN_HEIGHT)."""
    from scp_scanner import pii
    from scp_scanner.ocr import dim
    from scp_scanner.pipeline import Pipeline

    truth, style = dicomgen.build_varied_case("v_us_colour", tmp_path / "v_us_colour_001.dcm",
                                              dicomgen.varied_file_seed(1063, "v_us_colour", 1), "extra")
    assert (style["face"], style["size"], style["colour"]) == ("Lato-Hairline.ttf", 8, [0, 255, 255]), style
    image = images_of(truth.path)[0]
    lines, background, top = dim.faint_lines(image, [])
    assert lines and all(line.glyph_height < PREPARE.min_text_line_height for line in lines), lines
    assert background == 0 and top < 128, (background, top)
    # Read as a scan reads it (the header's words expected), then the rules and spaCy.
    rows = Pipeline(engine, pii.create("spacy")).process_file(truth.path).rows
    whole = next(row for row in rows if row.left == -1 and row.frame == 0)
    assert {"ANGUS", "BROWN", "9682113814"} <= set(whole.ocr_text.split()), whole.ocr_text
    assert whole.is_sensitive == 1


def test_faint_lines_skip_what_was_read_and_bright_text():
    """White text is ordinary ink, not faint; a faint line that a line already read overlaps
    is not looked at again; and a ramp of dark levels (a real ultrasound sector's edge,
    pydicom-data's US1_J2KI) makes no faint line."""
    from PIL import Image as PILImage
    from PIL import ImageDraw
    from pydicom.data import get_testdata_file

    from scp_scanner.ocr import dim
    from scp_scanner.ocr.prepare import Region

    picture = PILImage.new("L", (500, 200), 0)
    draw, font = ImageDraw.Draw(picture), dicomgen.load_font(16)
    draw.text((20, 20), "DOE^JOHN 12345", fill=40, font=font)
    draw.text((20, 120), "SMITH^JANE 67890", fill=255, font=font)
    image = Image(pixels=np.asarray(picture).copy(), frame=0, overlay=-1, source=SOURCE_FRAME)
    lines, background, top = dim.faint_lines(image, [])
    assert len(lines) == 1 and lines[0].top < 60 and background == 0 and top <= 40, lines
    read = [Region(18, 18, 40, 200, 16, 0)]
    assert dim.faint_lines(image, read)[0] == []
    assert dim.faint_lines(images_of(get_testdata_file("US1_J2KI.dcm"))[0], [])[0] == []


def test_a_line_cut_at_the_edge_of_its_window_is_detected_whole(engine, tmp_path):
    """Extra varied seed 997's second endoscopy frame (1920x1080): 8 px Lato Thin in white at
    JPEG 92. A frame this large is detected in windows round its lines of thin strokes, and
    only a few letters of each line stood out as such (`NHS 6`, `Acc A`): the lines read
    there were cut at the windows' edges (`NHS 6576`, `Acc AC62`, `:tora Hospit`), and the
    NHS number, the accession number, the hospital and the date were lost. A window in which
    a line reaches its edge is widened and detected again."""
    truth, style = dicomgen.build_varied_case("v_endoscopy", tmp_path / "v_endoscopy_001.dcm",
                                              dicomgen.varied_file_seed(997, "v_endoscopy", 1), "extra")
    assert (style["face"], style["size"]) == ("Lato-Thin.ttf", 8), style
    text = " ".join(box.text for box in engine.read(images_of(truth.path)[0]))
    for word in ("6576575084", "AC62505501", "Victoria", "2017-07-12"):
        assert word in text.split(), text
