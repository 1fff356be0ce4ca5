"""Pure image-preparation functions on tiny arrays: ink masks, glyphs, line regions, crops."""
from __future__ import annotations

import numpy as np
import pytest

from scp_scanner.model import SOURCE_FRAME, SOURCE_OVERLAY, Image, TextBox
from scp_scanner.ocr import prepare


def test_to_grey_takes_brightest_channel_so_coloured_text_stays_bright():
    rgb = np.zeros((2, 2, 3), np.uint8)
    rgb[0, 0] = (255, 255, 0)    # yellow annotation
    rgb[1, 1] = (0, 200, 0)      # green annotation
    grey = prepare.to_grey(rgb)
    assert grey.dtype == np.uint8 and grey.shape == (2, 2)
    assert grey[0, 0] == 255 and grey[1, 1] == 200 and grey[0, 1] == 0


def test_mask_page_is_black_text_on_white():
    mask = np.array([[True, False], [False, False]])
    assert prepare.mask_page(mask).tolist() == [[0, 255], [255, 255]]


def test_bright_level_rises_on_bright_images():
    assert prepare.bright_level(np.zeros((10, 10), np.uint8)) == prepare.BRIGHT_LEVEL
    bright = np.full((10, 10), 200, np.uint8)
    assert prepare.bright_level(bright) == 201


def test_plausible_text_is_some_ink_but_not_much():
    mask = np.zeros((10, 10), bool)
    assert not prepare.plausible_text(mask)
    mask[0, :5] = True
    assert prepare.plausible_text(mask)
    mask[:5, :] = True                     # half the image: anatomy, not text
    assert not prepare.plausible_text(mask)


def test_inks_of_an_overlay_are_only_its_bits():
    bits = np.zeros((20, 20), bool)
    bits[2, 2:6] = True
    overlay = Image(np.where(bits, 255, 0).astype(np.uint8), frame=-1, overlay=0,
                    source=SOURCE_OVERLAY, text_mask=bits)
    assert [ink.name for ink in prepare.inks(overlay)] == ["mask"]


def test_inks_of_dark_and_light_frames():
    dark = np.full((20, 20), 30, np.uint8)
    dark[1, 1:4] = 255
    assert [i.name for i in prepare.inks(Image(dark, 0, -1, SOURCE_FRAME))] == ["bright"]
    light = np.full((20, 20), 230, np.uint8)
    light[1, 1:4] = 0
    names = [i.name for i in prepare.inks(Image(light, 0, -1, SOURCE_FRAME))]
    assert "dark" in names and "bright" not in names


def glyph_row(mask: np.ndarray, top: int, lefts: list[int], height: int = 8, width: int = 5) -> None:
    for left in lefts:
        mask[top:top + height, left:left + width] = True


def test_glyphs_keep_character_shapes_and_drop_rules_and_dots():
    mask = np.zeros((60, 200), bool)
    glyph_row(mask, 5, [10, 17, 24])       # three characters
    mask[30, 0:200] = True                  # a horizontal rule, 1 px high
    mask[40:42, 50:52] = True               # a dot
    boxes = prepare.glyphs(mask)
    assert len(boxes) == 3
    assert sorted(boxes[:, 1].tolist()) == [10, 17, 24]


def test_line_regions_group_a_line_and_keep_lines_apart():
    mask = np.zeros((60, 300), bool)
    glyph_row(mask, 5, [10, 17, 24, 36, 43])     # "ABC DE" on one line
    glyph_row(mask, 25, [10, 17])                # a second line
    glyph_row(mask, 5, [200, 207])               # far right of line one: its own region
    regions = prepare.line_regions(prepare.glyphs(mask), mask.shape)
    spans = sorted((r.top, r.left, r.bottom, r.right, r.glyphs) for r in regions)
    assert spans == [(5, 10, 13, 48, 5), (5, 200, 13, 212, 2), (25, 10, 33, 22, 2)]
    assert all(r.single_line for r in regions)


def test_texture_gives_no_regions():
    rng = np.random.default_rng(1)
    speckle = np.zeros((800, 800), bool)
    for top, left in rng.integers(0, 790, size=(800, 2)):
        speckle[top:top + 5, left:left + 3] = True
    ink = prepare.Ink("bright", speckle)
    assert prepare.regions_of(ink) is None


def test_crop_scales_a_line_to_target_height_and_maps_boxes_back():
    mask = np.zeros((100, 100), bool)
    glyph_row(mask, 40, [20, 27, 34], height=12)
    ink = prepare.Ink("mask", mask)
    (region,) = prepare.regions_of(ink)
    piece = prepare.crop(ink, region)
    assert piece.scale == 3                              # 12 px glyphs -> 36 px
    assert (piece.pixels == 0).any() and piece.pixels[0, 0] == 255
    # A box around the whole ink (dark half of the smoothed crop, as an OCR engine binarises
    # it) in crop pixels maps back onto the glyphs.
    ys, xs = np.nonzero(piece.pixels < 128)
    found = TextBox("abc", int(xs.min()), int(ys.min()), int(xs.max()) + 1, int(ys.max()) + 1, 90.0)
    back = piece.to_original(found)
    assert (back.left, back.top, back.right, back.bottom) == (20, 40, 39, 52)


def test_merge_keeps_the_more_confident_of_overlapping_boxes():
    a = TextBox("D0E", 0, 0, 10, 5, 40.0)
    b = TextBox("DOE", 1, 0, 10, 5, 90.0)
    c = TextBox("120", 50, 50, 60, 55, 80.0)
    merged = prepare.merge_views([[a, c], [b]])
    assert sorted(x.text for x in merged) == ["120", "DOE"]


def test_reading_order_is_lines_then_left_to_right():
    boxes = [TextBox("second", 50, 21, 80, 30), TextBox("first", 0, 0, 30, 10),
             TextBox("line", 0, 20, 40, 31), TextBox("one", 40, 1, 60, 10)]
    assert [b.text for b in prepare.reading_order(boxes)] == ["first", "one", "line", "second"]


def test_is_text_needs_a_letter_or_digit():
    assert prepare.is_text("L") and prepare.is_text("120")
    assert not prepare.is_text("|") and not prepare.is_text("—")


def test_label_numbers_components_as_ndimage_does_in_16_bits_or_32():
    from scipy import ndimage

    rng = np.random.default_rng(3)
    few = rng.random((200, 300)) < 0.2
    labels, count = prepare.label(few, connectivity=8)
    assert labels.dtype == np.uint16
    expected, expected_count = ndimage.label(few, structure=np.ones((3, 3), bool))
    assert count == expected_count and (labels == expected).all()
    many = np.zeros((600, 600), bool)
    many[::2, ::2] = True                        # 90,000 components: more than 16 bits hold
    labels, count = prepare.label(many)
    assert count == 90_000 and labels.dtype.itemsize >= 4 and labels.max() == 90_000


@pytest.mark.parametrize("shape, density", [((480, 640), 0.02), ((97, 131), 0.3), ((1000, 1200), 0.2),
                                            ((7, 9), 0.0)])
def test_component_boxes_are_ndimages_8_connected_components(shape, density) -> None:
    from scipy import ndimage

    from scp_scanner.ocr.prepare import component_boxes

    mask = np.random.default_rng(shape[0]).random(shape) < density
    labels, count = ndimage.label(mask, structure=np.ones((3, 3), bool))
    expected = sorted((s[0].start, s[1].start, s[0].stop, s[1].stop) for s in ndimage.find_objects(labels))
    got = component_boxes(mask)
    assert got.shape == (count, 4)
    assert sorted(map(tuple, got.tolist())) == expected
    if shape == (1000, 1200):
        assert count > 65535                     # past 16-bit labels: the 32-bit pass


def test_component_boxes_of_an_empty_mask() -> None:
    from scp_scanner.ocr.prepare import component_boxes

    assert component_boxes(np.zeros((0, 5), bool)).shape == (0, 4)


def test_percentile_of_uint8_from_its_histogram_is_numpys() -> None:
    """bright_level's 90th percentile of a uint8 frame comes from a histogram: numpy's value
    exactly, interpolation included, for any size and spread."""
    rng = np.random.default_rng(5)
    for k in range(400):
        values = rng.integers(0, int(rng.integers(1, 256)) + 1, int(rng.integers(1, 2000)), dtype=np.uint8)
        if k % 3 == 0:
            values = np.sort(values)[:max(1, values.size // 2)].reshape(-1, 1)
        for q in (0, 10, 33.3, 50, 90, 99.5, 100):
            assert prepare.percentile_u8(values, q) == np.percentile(values, q), (k, q)
    frame = rng.integers(0, 256, (480, 640), dtype=np.uint8)
    assert prepare.bright_level(frame) == max(128, int(np.percentile(frame, 90)) + 1)


def test_histogram_and_median_of_uint8_are_numpys() -> None:
    """histogram_u8 (OpenCV's counts) equals np.bincount, and median_of_counts of it np.median, for
    1-D and 2-D arrays, strided views, one level or many, odd and even sizes."""
    rng = np.random.default_rng(9)
    for k in range(300):
        frame = rng.integers(0, int(rng.integers(1, 256)) + 1,
                             (int(rng.integers(1, 60)), int(rng.integers(1, 90))), dtype=np.uint8)
        for values in (frame, frame[::2, 1::3], frame.ravel(), frame[:, :1]):
            if not values.size:
                continue
            counts = prepare.histogram_u8(values)
            assert counts.dtype == np.int64
            assert np.array_equal(counts, np.bincount(values.ravel(), minlength=256)), k
            assert prepare.median_of_counts(counts) == np.median(values), k


def test_line_regions_come_in_the_order_of_ndimage_labels_of_the_smear() -> None:
    """line_regions labels the smear without ordering it and sorts the lines by their first
    smeared pixel: the regions and their order are those that numbering the smear as
    ndimage.label does gives (random glyph boxes, lines touching, nested and apart)."""
    from scp_scanner.masks import label

    rng = np.random.default_rng(3)
    params = prepare.PREPARE
    for trial in range(300):
        height, width = int(rng.integers(20, 120)), int(rng.integers(20, 160))
        count = int(rng.integers(1, 40))
        tops = rng.integers(0, height - 4, count)
        lefts = rng.integers(0, width - 2, count)
        boxes = np.stack([tops, lefts, np.minimum(height, tops + rng.integers(3, 15, count)),
                          np.minimum(width, lefts + rng.integers(1, 12, count))], axis=1)
        smear = np.zeros((height, width), bool)
        for top, left, bottom, right in boxes:
            reach = max(2, int(round(params.smear_reach * (bottom - top))))
            smear[top:bottom, max(0, left - reach):min(width, right + reach)] = True
        labels, _ = label(smear)
        owner = labels[boxes[:, 0], boxes[:, 1]]
        expected = []
        for line in np.unique(owner):
            members = boxes[owner == line]
            heights = members[:, 2] - members[:, 0]
            expected.append(prepare.Region(int(members[:, 0].min()), int(members[:, 1].min()),
                                           int(members[:, 2].max()), int(members[:, 3].max()),
                                           int(heights[heights <= 2 * np.median(heights)].max()),
                                           len(members)))
        assert prepare.line_regions(boxes, (height, width)) == expected, trial


@pytest.mark.parametrize("text_level, background", [(255, 20), (15, 235)])
def test_lines_of_thin_strokes_are_found_bright_or_dark_and_smooth_anatomy_makes_none(text_level, background):
    """7 px anti-aliased text through JPEG: white on dark (top-hat) and black on light
    (black-hat) each give a line over the whole text, and none elsewhere; a smooth picture
    with noise, like a CR's anatomy, gives none."""
    import io

    import dicomgen
    from PIL import Image as PILImage, ImageDraw, ImageFont

    picture = PILImage.new("L", (600, 200), background)
    font = ImageFont.truetype(str(dicomgen.FONT_FILES["sans"]), 7)
    ImageDraw.Draw(picture).text((40, 50), "ROBERTSON^CATRIONA 21-Jul-1995", font=font, fill=text_level)
    buffer = io.BytesIO()
    picture.save(buffer, "JPEG", quality=70)
    grey = np.asarray(PILImage.open(buffer))
    lines = prepare.stroke_lines(grey)      # the strokes, and the gaps between them, are thin
    assert lines and all(45 <= line.top and line.bottom <= 62 and line.left >= 35 and line.right <= 175
                         for line in lines), lines
    assert any(line.left <= 45 and line.right >= 150 and line.glyphs >= 9 for line in lines), lines

    rng = np.random.default_rng(4)
    anatomy = dicomgen.anatomy(rng, 800, 800)
    smooth = np.clip(40 + anatomy * 180 + rng.normal(0, 4, anatomy.shape), 0, 255).astype(np.uint8)
    assert prepare.stroke_lines(smooth) == []
