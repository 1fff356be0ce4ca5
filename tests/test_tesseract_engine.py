"""The tesseract engine with the real tesseract (tesserocr in-process and the pytesseract CLI)."""
from __future__ import annotations

import numpy as np
import pytest
from PIL import Image as PILImage, ImageDraw, ImageFont

from scp_scanner import ocr
from scp_scanner.model import Image
from scp_scanner.ocr.tesseract import TesseractEngine

FONT = "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf"


def burned_in(lines: list[tuple[int, int, str]], size: int = 14,
              antialias: bool = True) -> tuple[np.ndarray, dict[str, tuple]]:
    """A dark, smooth 512x512 'scan' with white text; returns pixels and each word's box.
    Modalities draw text without anti-aliasing (antialias=False): every glyph pixel is 255."""
    yy, xx = np.mgrid[0:512, 0:512]
    background = 40 + 80 * np.exp(-((xx - 256) ** 2 + (yy - 256) ** 2) / 30000)
    image = PILImage.fromarray(background.astype(np.uint8))
    draw = ImageDraw.Draw(image)
    if not antialias:
        draw.fontmode = "1"
    font = ImageFont.truetype(FONT, size)
    boxes = {}
    for x, y, text in lines:
        draw.text((x, y), text, fill=255, font=font)
        boxes[text] = draw.textbbox((x, y), text, font=font)
    return np.asarray(image), boxes


@pytest.fixture(scope="module")
def engine() -> TesseractEngine:
    return ocr.create("tesseract")


def test_reads_words_and_places_boxes_in_original_pixels(engine):
    pixels, truth = burned_in([(12, 12, "12/03/1961"), (380, 480, "W:400"), (300, 30, "9434765919")])
    boxes = engine.read(Image(pixels, 0, -1, text_mask=pixels == 255))
    found = {b.text: b for b in boxes}
    assert engine.backend == "tesserocr"
    for word, (left, top, right, bottom) in truth.items():
        assert word in found, (word, [b.text for b in boxes])
        box = found[word]
        # The box lies on the drawn text, within a few pixels, in the 512x512 space.
        assert abs(box.left - left) <= 4 and abs(box.right - right) <= 4
        assert abs(box.top - top) <= 6 and abs(box.bottom - bottom) <= 6
        assert 0 <= box.confidence <= 100


def test_text_only_in_mask_is_read_from_the_mask(engine):
    """Text at the extreme stored value but displayed dim (a bad window) is still read."""
    pixels, _ = burned_in([(20, 20, "HOSPITAL")], antialias=False)
    dim = np.where(pixels == 255, 120, pixels).astype(np.uint8)   # no longer bright
    boxes = engine.read(Image(dim, 0, -1, text_mask=pixels == 255))
    assert "HOSPITAL" in [b.text for b in boxes]


def test_blank_image_gives_no_text(engine):
    pixels = np.full((256, 256), 30, np.uint8)
    assert engine.read(Image(pixels, 0, -1)) == []


def test_pytesseract_backend_reads_the_same_text():
    engine = TesseractEngine(backend="pytesseract")
    pixels, _ = burned_in([(12, 12, "12/03/1961")])
    assert engine.backend == "pytesseract"
    assert "12/03/1961" in [b.text for b in engine.read(Image(pixels, 0, -1))]


def test_missing_language_data_names_the_package_to_install(tmp_path):
    with pytest.raises(ocr.EngineError, match="apt-get install tesseract-ocr tesseract-ocr-xyz"):
        TesseractEngine(lang="xyz", tessdata=str(tmp_path))


def test_unknown_engine_is_named():
    with pytest.raises(ocr.EngineError, match="unknown OCR engine 'nope'.*tesseract"):
        ocr.create("nope")


@pytest.mark.parametrize("size", [12, 14])
def test_narrow_font_words_stay_apart(engine, size):
    """Pillow's own font (narrow spaces): words are not glued together by the split-word mend."""
    image = PILImage.fromarray(np.full((256, 512), 40, np.uint8))
    draw = ImageDraw.Draw(image)
    font = ImageFont.load_default(size=size)
    for y, text in ((10, "DOB 12/03/1961"), (34, "St Mary's Hospital"), (58, "kVp 120 mAs 250")):
        draw.text((10, y), text, fill=255, font=font)
    pixels = np.asarray(image)
    read = [b.text for b in engine.read(Image(pixels, 0, -1, text_mask=pixels == 255))]
    for word in ("DOB", "12/03/1961", "Hospital", "120", "mAs", "250"):
        assert word in read, read


def test_min_confidence_drops_unsure_words_inside_text_lines():
    """processing.ocr_min_confidence is a floor for every word, text lines included; unset,
    the tuned thresholds keep a DICOM name that tesseract reads right but scores low."""
    pixels, _ = burned_in([(12, 12, "DOE^JOHN 12/03/1961"), (12, 40, "Ninewells Hospital"),
                           (12, 70, "CHI 1203998074"), (300, 480, "W:400 L:40")],
                          size=13, antialias=False)
    image = Image(pixels, 0, -1, text_mask=pixels == 255)
    default = TesseractEngine().read(image)
    assert {"DOE^JOHN", "12/03/1961", "Ninewells", "Hospital", "1203998074"} <= {b.text for b in default}
    unsure = min(b.confidence for b in default)
    assert unsure < 90
    previous = {b.text for b in default}
    for floor in (unsure + 1, 90.0):
        strict = TesseractEngine(min_confidence=floor).read(image)
        kept = {b.text for b in strict}
        assert strict and all(b.confidence >= floor for b in strict), strict
        assert kept <= previous and kept != {b.text for b in default}
        previous = kept
    assert "1203998074" in previous                           # confident words stay


def test_engine_reads_with_the_parameters_it_is_given(engine):
    """Tunables reach the stages through the engine (no module state): an engine whose
    preparation takes no ink mask as text reads nothing where the default engine reads."""
    from dataclasses import replace

    from scp_scanner.ocr.prepare import PREPARE
    pixels, _ = burned_in([(20, 20, "HOSPITAL")], antialias=False)
    image = Image(pixels, 0, -1, text_mask=pixels == 255)
    assert "HOSPITAL" in [b.text for b in engine.read(image)]
    blind = TesseractEngine(prepare=replace(PREPARE, max_text_fraction=0.0))
    assert blind.read(image) == []
    assert "HOSPITAL" in [b.text for b in engine.read(image)]      # the default is untouched
