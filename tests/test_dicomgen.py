"""The synthetic DICOM generator checked with pydicom: the files decode, hold the text where the
truth says and nowhere else, keep high-bit overlays through compression, and say what they are."""
from __future__ import annotations

import csv
import datetime as dt
import json
import random
import stat
import sys
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from pydicom import dcmread
from pydicom.uid import (
    ExplicitVRLittleEndian,
    JPEGBaseline8Bit,
    JPEGLosslessSV1,
    RLELossless,
)

from scp_scanner.output.rows import COLUMNS

import dicomgen
from conftest import load_bench
from dicomgen import (
    CASES,
    SOP_CLASS_BY_MODALITY,
    Annotation,
    ImageTruth,
    Truth,
    Word,
    build_case,
    chi_number,
    format_date,
    is_valid_mod11,
    make_corpus,
    nhs_number,
    read_truth,
)

SEED = 7
NEEDS_DCMTK = pytest.mark.skipif(not dicomgen.dcmtk_available(),
                                 reason="dcmtk's dcmcjpeg is not installed (apt-get install dcmtk)")
EXPECTED_CASES = [c for c in CASES if dicomgen.dcmtk_available() or c not in dicomgen.NEEDS_DCMTK]


@pytest.fixture(scope="module")
def corpus(tmp_path_factory) -> list[Truth]:
    return make_corpus(tmp_path_factory.mktemp("corpus") / "files", n_per_case=2, seed=SEED)


@pytest.fixture(scope="module")
def datasets(corpus):
    return {t.path: dcmread(t.path) for t in corpus}


def by_case(corpus: list[Truth], *names: str) -> list[Truth]:
    found = [t for t in corpus if t.case in names]
    assert found, f"no file of {names} in the corpus"
    return found


def raw_values(ds, bits: int = 16) -> np.ndarray:
    """Decoded values with BitsStored widened, so bits above the stored ones are kept."""
    stored, high = ds.BitsStored, ds.HighBit
    ds.BitsStored, ds.HighBit = bits, bits - 1
    try:
        return ds.pixel_array.copy()
    finally:
        ds.BitsStored, ds.HighBit = stored, high


def frames_of(array: np.ndarray, ds) -> np.ndarray:
    return array if int(ds.get("NumberOfFrames", 1)) > 1 else array[None]


def assert_ink_matches_boxes(ink: np.ndarray, words: tuple[Word, ...]) -> None:
    """Every marked pixel lies in some word's box and every box holds marked pixels."""
    inside = np.zeros_like(ink, dtype=bool)
    for w in words:
        inside[w.top:w.bottom, w.left:w.right] = True
        assert ink[w.top:w.bottom, w.left:w.right].any(), f"no ink in box of {w.text!r}"
    stray = ink & ~inside
    assert not stray.any(), f"{int(stray.sum())} text pixels outside every truth box"


# --- the whole corpus ------------------------------------------------------------------------


def test_corpus_has_every_case_and_truth_json_round_trips(corpus, tmp_path_factory):
    assert Counter(t.case for t in corpus) == {name: 2 for name in EXPECTED_CASES}
    folder = Path(corpus[0].path).parent
    assert read_truth(folder) == corpus
    assert read_truth(folder / dicomgen.TRUTH_FILENAME) == corpus


def test_files_and_folder_are_owner_only(corpus):
    folder = Path(corpus[0].path).parent
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for t in corpus:
        assert stat.S_IMODE(Path(t.path).stat().st_mode) == 0o600
    assert stat.S_IMODE((folder / dicomgen.TRUTH_FILENAME).stat().st_mode) == 0o600


def test_every_file_decodes_with_the_truth_frame_count(corpus, datasets):
    for t in corpus:
        ds = datasets[t.path]
        pixels = frames_of(ds.pixel_array, ds)
        frame_images = [i for i in t.images if i.overlay == -1]
        assert [i.frame for i in frame_images] == list(range(pixels.shape[0])), t.path
        for image in t.images:
            assert (image.width, image.height) == (ds.Columns, ds.Rows)


def test_transfer_syntax_and_sop_class_are_what_they_claim(corpus, datasets):
    expected = {
        "ct_rle": RLELossless, "highbit_rle": RLELossless,
        "ct_jpeg_lossless": JPEGLosslessSV1, "highbit_jpeg_lossless": JPEGLosslessSV1,
        "us_jpeg_baseline": JPEGBaseline8Bit, "sc_grey_jpeg_baseline": JPEGBaseline8Bit,
    }
    for t in corpus:
        ds = datasets[t.path]
        syntax = ds.file_meta.TransferSyntaxUID
        assert syntax == expected.get(t.case, ExplicitVRLittleEndian) == t.transfer_syntax
        assert syntax.is_compressed == (t.case in expected)
        with open(t.path, "rb") as f:
            assert f.read(132)[128:] == b"DICM"
        key = "US-MF" if ds.Modality == "US" and int(ds.get("NumberOfFrames", 1)) > 1 else ds.Modality
        assert ds.SOPClassUID == SOP_CLASS_BY_MODALITY[key] == ds.file_meta.MediaStorageSOPClassUID
        assert ds.file_meta.MediaStorageSOPInstanceUID == ds.SOPInstanceUID
        assert ds.Modality == t.modality


def test_uids_are_fresh_for_every_file(datasets):
    for keyword in ("SOPInstanceUID", "StudyInstanceUID", "SeriesInstanceUID"):
        values = [getattr(ds, keyword) for ds in datasets.values()]
        assert len(set(values)) == len(values), keyword


def test_header_carries_the_identifiers_shown_in_the_pixels(corpus, datasets):
    for t in corpus:
        ds = datasets[t.path]
        for keyword in ("PatientName", "PatientID", "PatientBirthDate", "AccessionNumber",
                        "InstitutionName", "StudyDate", "ReferringPhysicianName", "Manufacturer",
                        "ManufacturerModelName", "ImageType", "BurnedInAnnotation"):
            assert ds.get(keyword), f"{t.case}: {keyword} empty"
        pii = [w.text for i in t.images for w in i.words if w.pii]
        if not pii:
            continue
        family = str(ds.PatientName).split("^")[0].lower()
        digits = "".join(c for c in str(ds.PatientID) if c.isdigit())
        assert any(family in text.lower() for text in pii), (t.case, pii)
        assert any("".join(c for c in text if c.isdigit()) == digits for text in pii), (t.case, pii)
        burned = any(i.words for i in t.images if i.overlay == -1)
        assert ds.BurnedInAnnotation == ("YES" if burned else "NO")


def test_boxes_lie_within_images_and_do_not_overlap(corpus):
    for t in corpus:
        for image in t.images:
            for k, w in enumerate(image.words):
                assert 0 <= w.left < w.right <= image.width, (t.case, w)
                assert 0 <= w.top < w.bottom <= image.height, (t.case, w)
                assert 5 <= w.bottom - w.top <= 40, (t.case, w)          # annotation-sized text
                for other in image.words[:k]:
                    assert not w.overlaps(other), (t.case, w, other)


def test_text_kinds_per_case(corpus):
    for t in corpus:
        words = [w for i in t.images for w in i.words]
        if t.case == "no_text":
            assert words == []
        elif t.case == "safe_text":
            assert words and not any(w.pii for w in words)
        else:
            assert any(w.pii for w in words), t.case
            assert any(not w.pii for w in words) or t.case == "xa_multiframe_overlay", t.case


# --- pixels hold the text exactly where the truth says ---------------------------------------


def test_signed_ct_text_is_at_the_max_stored_value(corpus, datasets):
    for t in by_case(corpus, "ct_signed", "ct_rle", "ct_jpeg_lossless", "no_text"):
        ds = datasets[t.path]
        assert (ds.PixelRepresentation, ds.BitsAllocated, ds.BitsStored) == (1, 16, 12)
        assert ds.RescaleIntercept == -1024
        pixels = ds.pixel_array
        assert pixels.dtype == np.int16
        assert (pixels < 0).sum() > 1000, "air and padding must be negative"
        assert pixels.min() >= -2048 and pixels.max() <= 2047
        assert_ink_matches_boxes(pixels == 2047, t.images[0].words)


def test_monochrome1_text_is_at_the_min_stored_value(corpus, datasets):
    for t in by_case(corpus, "cr_mono1", "safe_text"):
        ds = datasets[t.path]
        assert ds.PhotometricInterpretation == "MONOCHROME1"
        assert_ink_matches_boxes(ds.pixel_array == 0, t.images[0].words)


def test_ultrasound_rgb_text_on_every_frame_with_a_counter(corpus, datasets):
    for t in by_case(corpus, "us_rgb", "us_rgb_multiframe"):
        ds = datasets[t.path]
        assert ds.PhotometricInterpretation == "RGB" and ds.SamplesPerPixel == 3
        frames = frames_of(ds.pixel_array, ds)
        for image, frame in zip(t.images, frames):
            assert_ink_matches_boxes((frame == 255).any(axis=-1), image.words)
        if t.case == "us_rgb_multiframe":
            assert 3 <= ds.NumberOfFrames <= 5
            counters = [[w.text for w in i.words if w.text.startswith("Frame")] for i in t.images]
            assert counters == [[f"Frame {k + 1}/{len(t.images)}"] for k in range(len(t.images))]


def test_jpeg_baseline_frames_decode_with_bright_text(corpus, datasets):
    for t in by_case(corpus, "us_jpeg_baseline", "sc_grey_jpeg_baseline"):
        ds = datasets[t.path]
        frames = frames_of(ds.pixel_array, ds)
        assert ds.LossyImageCompression == "01"
        if ds.SamplesPerPixel == 3:
            assert ds.PhotometricInterpretation == "YBR_FULL_422"
            assert frames.shape[-1] == 3
        for image, frame in zip(t.images, frames):
            grey = frame.max(axis=-1) if frame.ndim == 3 else frame
            for w in image.words:
                assert grey[w.top:w.bottom, w.left:w.right].max() >= 200, w.text
            outside = np.ones(grey.shape, dtype=bool)
            for w in image.words:
                outside[max(0, w.top - 3):w.bottom + 3, max(0, w.left - 3):w.right + 3] = False
            assert (grey[outside] >= 250).mean() < 0.001


def test_separate_overlay_holds_the_text_and_pixels_hold_none(corpus, datasets):
    for t in by_case(corpus, "mr_overlay"):
        ds = datasets[t.path]
        assert t.images[0].key == (0, -1) and t.images[0].words == ()
        overlays = [i for i in t.images if i.overlay >= 0]
        for image in overlays:
            group = 0x6000 + 2 * image.overlay
            assert image.frame == 0
            assert ds[group, 0x0100].value == 1 and ds[group, 0x0102].value == 0
            assert (ds[group, 0x0010].value, ds[group, 0x0011].value) == (ds.Rows, ds.Columns)
            assert ds[group, 0x0040].value == "G" and list(ds[group, 0x0050].value) == [1, 1]
            assert_ink_matches_boxes(ds.overlay_array(group).astype(bool), image.words)
        assert overlays[0].has_pii
        assert ds.pixel_array.max() < 2047


def test_multiframe_overlay_frames_are_numbered_within_the_overlay(corpus, datasets):
    for t in by_case(corpus, "xa_multiframe_overlay"):
        ds = datasets[t.path]
        n_frames = int(ds.NumberOfFrames)
        origin = int(ds[0x6000, 0x0051].value)
        n_overlay = int(ds[0x6000, 0x0015].value)
        assert 1 < n_overlay < n_frames + 1 and origin - 1 + n_overlay <= n_frames
        frame_images = [i for i in t.images if i.overlay == -1]
        overlay_images = [i for i in t.images if i.overlay == 0]
        assert [i.frame for i in frame_images] == list(range(n_frames))
        assert [i.frame for i in overlay_images] == list(range(n_overlay))
        planes = ds.overlay_array(0x6000)
        assert planes.shape == (n_overlay, ds.Rows, ds.Columns)
        for image, plane in zip(overlay_images, planes):
            assert_ink_matches_boxes(plane.astype(bool), image.words)
            # The counter names the image frame (ImageFrameOrigin + index), not the number.
            assert f"Fr {origin + image.frame}" in [w.text for w in image.words]


def test_high_bit_overlay_lives_in_raw_pixel_bits_through_every_syntax(corpus, datasets):
    for t in by_case(corpus, "xa_highbit", "highbit_rle", "highbit_jpeg_lossless"):
        ds = datasets[t.path]
        assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 12, 11)
        bit = ds[0x6000, 0x0102].value
        assert bit in (12, 15)
        assert ds[0x6000, 0x0100].value == 16
        assert (0x6000, 0x3000) not in ds, "high-bit overlays carry no OverlayData"
        raw = raw_values(ds)
        overlay_image = next(i for i in t.images if i.overlay == 0)
        assert overlay_image.frame == 0 and overlay_image.has_pii
        assert_ink_matches_boxes(((raw >> bit) & 1).astype(bool), overlay_image.words)
        other_high = raw & ~np.uint16((1 << 12) - 1) & ~np.uint16(1 << bit)
        assert not other_high.any()
        # pydicom's default decode masks the high bits away: the overlay is invisible there.
        assert ds.pixel_array.max() <= 4095
        pixel_image = t.images[0]
        assert not pixel_image.has_pii
        assert_ink_matches_boxes((raw & 0xFFF) == 4095, pixel_image.words)


def test_both_high_bit_positions_occur(tmp_path):
    bits = set()
    for seed in range(12):
        t = build_case("xa_highbit", tmp_path / f"{seed}.dcm", seed=seed)
        bits.add(dcmread(t.path)[0x6000, 0x0102].value)
    assert bits == {12, 15}


@NEEDS_DCMTK
def test_jpeg_lossless_matches_the_uncompressed_values(tmp_path):
    plain = build_case("xa_highbit", tmp_path / "plain.dcm", seed=3, fresh_uids=False)
    for case in ("highbit_jpeg_lossless", "highbit_rle"):
        packed = build_case(case, tmp_path / f"{case}.dcm", seed=3, fresh_uids=False)
        assert packed.images == plain.images
        assert np.array_equal(raw_values(dcmread(packed.path)), raw_values(dcmread(plain.path)))
    ct = build_case("ct_signed", tmp_path / "ct.dcm", seed=5)
    ct_jpeg = build_case("ct_jpeg_lossless", tmp_path / "ctj.dcm", seed=5)
    assert np.array_equal(dcmread(ct.path).pixel_array, dcmread(ct_jpeg.path).pixel_array)


# --- determinism and vocabulary --------------------------------------------------------------


def test_same_seed_gives_the_same_file(tmp_path):
    a = build_case("ct_signed", tmp_path / "a.dcm", seed=11, fresh_uids=False)
    b = build_case("ct_signed", tmp_path / "b.dcm", seed=11, fresh_uids=False)
    assert a.images == b.images
    assert Path(a.path).read_bytes() == Path(b.path).read_bytes()
    c = build_case("ct_signed", tmp_path / "c.dcm", seed=11)
    assert c.images == a.images
    assert dcmread(c.path).SOPInstanceUID != dcmread(a.path).SOPInstanceUID
    d = build_case("ct_signed", tmp_path / "d.dcm", seed=12)
    assert d.images != a.images


def test_count_makes_exactly_that_many_files(tmp_path):
    truths = make_corpus(tmp_path / "c", count=5, seed=1)
    assert len(truths) == 5 and len({t.case for t in truths}) == 5
    assert sorted(p.name for p in (tmp_path / "c").glob("*.dcm")) == sorted(
        Path(t.path).name for t in truths)


def test_date_formats():
    day = dt.date(1961, 3, 12)
    assert [format_date(day, s) for s in dicomgen.DATE_FORMATS] == [
        "19610312", "12/03/1961", "12-Mar-1961", "1961-03-12", "12.03.1961"]


def test_nhs_and_chi_numbers_have_valid_mod11_check_digits():
    assert is_valid_mod11("943 476 5919")
    assert not is_valid_mod11("9434765918")
    rnd = random.Random(0)
    for _ in range(200):
        assert is_valid_mod11(nhs_number(rnd))
        birth = dt.date(rnd.randint(1930, 2010), rnd.randint(1, 12), rnd.randint(1, 28))
        male = rnd.random() < 0.5
        chi = chi_number(rnd, birth, male)
        assert is_valid_mod11(chi) and chi.startswith(birth.strftime("%d%m%y"))
        assert int(chi[8]) % 2 == (1 if male else 0)


def test_layout_shrinks_or_drops_lines_rather_than_colliding():
    long = (dicomgen.Segment("Queen Elizabeth University Hospital Glasgow", True),)
    ann = Annotation.of(top_left=[long, long], top_right=[long])
    placements = dicomgen.fit_layout(ann, 256, 256, 24)
    mask, words = dicomgen.render(placements, 256, 256)
    assert words, "something must still fit"
    assert all(w.right <= 256 for w in words)
    for k, w in enumerate(words):
        assert not any(w.overlaps(o) for o in words[:k])
    assert_ink_matches_boxes(mask, tuple(words))


def test_image_truth_key_and_pii_flag():
    image = ImageTruth(2, 0, (Word("DOE^JOHN", 1, 1, 9, 9, True), Word("L", 20, 1, 25, 9, False)))
    assert image.key == (2, 0) and image.has_pii
    assert not ImageTruth(0, -1, (Word("L", 1, 1, 5, 9, False),)).has_pii


# --- the bench scorer that reads this truth (bench/score_scan.py) ----------------------------

@pytest.fixture(scope="module")
def scorer():
    return load_bench("score_scan")


def write_csv(path: Path, truths: list[Truth], text_of=None, flag_of=None, skip=()) -> None:
    """A CSV in the spec's 14 columns as a scanner would write it: box rows, then whole text."""
    with open(path, "w", newline="") as f:
        out = csv.writer(f)
        out.writerow(COLUMNS)
        for t in truths:
            for image in t.images:
                if (Path(t.path).name, image.frame, image.overlay) in skip:
                    continue
                text = text_of(t, image) if text_of else " ".join(w.text for w in image.words)
                flag = flag_of(t, image) if flag_of else int(image.has_pii)
                for w in image.words:
                    out.writerow([t.path, image.frame, image.overlay, "ORIGINAL", "m", "YES",
                                  "tesseract", w.left, w.top, w.right, w.bottom, w.text, "spacy",
                                  int(w.pii)])
                out.writerow([t.path, image.frame, image.overlay, "ORIGINAL", "m", "YES",
                              "tesseract", -1, -1, -1, -1, text, "spacy", flag])


def test_scorer_tokens_ignore_case_and_punctuation(scorer):
    seen = scorer.tokens("doe“john 12/03/1961 kVp W: 400 L:40 se3 im:45")
    assert scorer.word_found("DOE^JOHN", seen)
    assert scorer.word_found("12/03/1961", seen)
    assert scorer.word_found("Se:3 Im:45", seen)
    assert not scorer.word_found("kVp 120", seen), "every token of a word must be found"
    assert not scorer.word_found("W:400 L:40", seen), "'W: 400' is two other tokens"
    assert not scorer.word_found("+", seen), "a word with no letters or digits is never found"
    split = scorer.tokens("DUNCAN “JANE W: 400 L:40", split_punct=True)
    assert not scorer.word_found("DUNCAN^JANE", scorer.tokens("DUNCAN “JANE"))
    assert scorer.word_found("DUNCAN^JANE", split, split_punct=True)
    assert scorer.word_found("W:400 L:40", split, split_punct=True)


def test_scorer_on_hand_made_csvs(scorer, corpus, tmp_path):
    perfect = tmp_path / "perfect.csv"
    write_csv(perfect, corpus)
    scores = scorer.score(corpus, scorer.read_whole_rows(perfect))
    t = scores.total
    assert t.files == len(corpus) and t.images == sum(len(x.images) for x in corpus)
    assert (t.images_listed, t.words_found, t.pii_words_found, t.pii_images_flagged) == (
        t.images, t.words, t.pii_words, t.pii_images)
    assert t.clean_images_flagged == 0 and t.clean_images > 0
    assert scores.misses == [] and scores.extra_rows == [] and scores.flag_errors == []

    ct = next(x for x in corpus if x.case == "ct_signed")
    mr = next(x for x in corpus if x.case == "mr_overlay")
    dropped = (Path(ct.path).name, 0, -1)
    first_mr_pii = next(w for w in mr.images[1].words if w.pii)

    def text_of(truth, image):
        words = [w.text.upper() for w in image.words]
        if truth is mr and image.overlay == 0:
            words.remove(first_mr_pii.text.upper())
        return " ".join(words)

    def flag_of(truth, image):
        return 1 if truth is mr else int(image.has_pii)

    faulty = tmp_path / "faulty.csv"
    write_csv(faulty, corpus, text_of, flag_of, skip={dropped})
    scores = scorer.score(corpus, scorer.read_whole_rows(faulty))
    t = scores.total
    ct_words = ct.images[0].words
    assert t.images_listed == t.images - 1
    assert scores.missed_images == [dropped]
    assert t.words_found == t.words - len(ct_words) - 1
    assert t.pii_words_found == t.pii_words - sum(w.pii for w in ct_words) - 1
    assert t.pii_images_flagged == t.pii_images - 1
    assert t.clean_images_flagged == sum(not i.has_pii for i in mr.images)
    assert scores.per_case["mr_overlay"].pii_words_found == scores.per_case["mr_overlay"].pii_words - 1
    table = scorer.format_table(scores)
    assert "ALL" in table and "mr_overlay" in table


def test_scorer_runs_a_command_and_prints_a_table(scorer, corpus, tmp_path, capsys):
    fake = tmp_path / "writer.py"
    fake.write_text(
        "import shutil, sys\n"
        "args = sys.argv[1:]\n"
        f"shutil.copy({str(tmp_path / 'made.csv')!r}, args[args.index('-o') + 1])\n"
        "assert sum(a.endswith('.dcm') for a in args) == int(args[0])\n")
    write_csv(tmp_path / "made.csv", corpus)
    folder = Path(corpus[0].path).parent
    report = tmp_path / "scores.json"
    cmd = f"{sys.executable} {fake} {len(corpus)} {{files}} -o {{out}}"
    assert scorer.main([str(folder), "--cmd", cmd, "--json", str(report)]) == 0
    printed = capsys.readouterr().out
    assert "seconds per image:" in printed and "n/a" not in printed
    data = json.loads(report.read_text())
    assert data["returncode"] == 0 and data["total"]["words_found"] == data["total"]["words"]
    assert scorer.build_command("x --ocr {ocr} --pii {pii}", ["a.dcm"], "o.csv", "easyocr", "flair,m") == [
        "x", "--ocr", "easyocr", "--pii", "flair,m", "a.dcm", "-o", "o.csv"]


# --- the extra cases (not in the default corpus) ------------------------------------------------


def test_extra_cases_leave_the_default_corpus_alone():
    assert not set(dicomgen.EXTRA_CASES) & set(CASES)
    assert all(name in dicomgen.EXTRA_CASES for name in (
        "mr_overlay_6002", "mr_overlay_6000_6004", "xa_overlay_origin2", "xa_legacy_overlays",
        "xa_legacy_overlays_jpeg_lossless", "sc_antialiased"))


@pytest.mark.parametrize("case, groups", [("mr_overlay_6002", [0x6002]),
                                          ("mr_overlay_6000_6004", [0x6000, 0x6004])])
def test_sparse_overlay_cases_use_only_their_groups(tmp_path, case, groups):
    t = build_case(case, tmp_path / "s.dcm", seed=2)
    ds = dcmread(t.path)
    assert sorted({tag.group for tag in ds.keys() if 0x6000 <= tag.group <= 0x601E}) == groups
    assert [i.overlay for i in t.images if i.overlay >= 0] == [(g - 0x6000) // 2 for g in groups]
    for image in t.images[1:]:
        assert image.frame == 0
        assert_ink_matches_boxes(ds.overlay_array(0x6000 + 2 * image.overlay).astype(bool), image.words)
    assert t.images[1].has_pii


def _check_legacy_file(t: Truth) -> None:
    ds = dcmread(t.path)
    assert (ds.BitsAllocated, ds.BitsStored, ds.HighBit) == (16, 8, 7)
    raw = raw_values(ds)
    for image in t.images[1:]:
        group = 0x6000 + 2 * image.overlay
        assert ds[group, 0x0100].value == 1                 # the legacy declaration
        assert ds[group, 0x0102].value == 8 + image.overlay
        assert (group, 0x3000) not in ds
        plane = ((raw >> (8 + image.overlay)) & 1).astype(bool)
        assert_ink_matches_boxes(plane, image.words)
    texts = {w.text for w in t.images[3].words}
    assert any(w.pii for w in t.images[3].words) and texts
    assert ds.pixel_array.max() <= 255                       # pydicom's decode hides the planes


def test_legacy_overlay_case_native(tmp_path):
    _check_legacy_file(build_case("xa_legacy_overlays", tmp_path / "l.dcm", seed=3))


@NEEDS_DCMTK
def test_legacy_overlay_case_jpeg_lossless(tmp_path):
    t = build_case("xa_legacy_overlays_jpeg_lossless", tmp_path / "l.dcm", seed=3)
    assert dcmread(t.path).file_meta.TransferSyntaxUID == JPEGLosslessSV1
    _check_legacy_file(t)


def test_antialiased_case_has_faint_edges_inside_the_truth_boxes(tmp_path):
    t = build_case("sc_antialiased", tmp_path / "aa.dcm", seed=3)
    grey = dcmread(t.path).pixel_array
    words = t.images[0].words
    assert words and any(w.pii for w in words)
    background = 40
    text_area = np.zeros(grey.shape, dtype=bool)
    for w in words:
        text_area[w.top:w.bottom, w.left:w.right] = True
    glyph = (grey != background) & text_area
    faint = glyph & (grey < 200)
    assert faint.sum() > 0.2 * glyph.sum()                   # anti-aliased, not hard-edged
    # Around the words only the flat background: every differing pixel there is a glyph's.
    border = np.zeros(grey.shape, dtype=bool)
    for w in words:
        border[max(0, w.top - 3):w.bottom + 3, max(0, w.left - 3):w.right + 3] = True
    assert (grey[border & ~text_area] == background).all()


# --- the varied style (the benchmark's corpus) ----------------------------------------------

from scp_scanner.dicom import iter_images  # noqa: E402


@pytest.fixture(scope="module")
def varied(tmp_path_factory) -> dict[str, tuple[Truth, dict]]:
    """One file of every varied case, held-out fonts for even positions, tuning fonts for odd."""
    folder = tmp_path_factory.mktemp("varied")
    return {case: dicomgen.build_varied_case(case, folder / f"{case}.dcm", seed=100 + k,
                                             fonts=("heldout", "tuning")[k % 2])
            for k, case in enumerate(dicomgen.VARIED_CASES)}


def test_font_sets_are_disjoint_non_empty_and_hold_bitmaps():
    tuning, heldout = dicomgen.font_faces("tuning"), dicomgen.font_faces("heldout")
    families = {s: {f.family for f in dicomgen.font_faces(s)} for s in ("tuning", "heldout")}
    # Every family the Makefile's APT_TEST installs is there, on the side FONT_FAMILIES says.
    assert families["tuning"] == {"dejavu", "liberation", "misc-fixed"}
    assert families["heldout"] == {"freefont", "noto-mono", "terminus", "misc-clean"}
    assert not {f.path for f in tuning} & {f.path for f in heldout}
    assert set(dicomgen.font_faces("all")) == set(tuning) | set(heldout)
    for faces in (tuning, heldout):
        assert any(f.bitmap_size for f in faces) and any(f.bitmap_size is None for f in faces)
        assert all(7 <= f.bitmap_size <= 16 for f in faces if f.bitmap_size)
    with pytest.raises(ValueError, match="unknown font set"):
        dicomgen.font_faces("mine")


def test_the_training_only_fonts_stay_out_of_every_reported_set():
    """The `extra` families feed only the recogniser's training lines: none is held out,
    none is in `all` (what the benchmarks draw), and `training` is tuning plus extra.
    (Installed by `make apt-train`, not by CI: then the extra set is empty.)"""
    sides = {family: which for family, (which, _, _) in dicomgen.FONT_FAMILIES.items()}
    extra_families = {family for family, which in sides.items() if which == "extra"}
    assert extra_families and not extra_families & {"freefont", "noto-mono", "terminus", "misc-clean"}
    tuning, extra = set(dicomgen.font_faces("tuning")), set(dicomgen.font_faces("extra"))
    assert set(dicomgen.font_faces("training")) == tuning | extra
    assert not extra & set(dicomgen.font_faces("all"))
    assert {f.family for f in extra} <= extra_families
    assert all(7 <= f.bitmap_size <= 16 for f in extra if f.bitmap_size)


def test_a_face_that_draws_every_character_as_one_box_is_never_drawn():
    """X11 bitmaps without a Unicode charmap draw every character as their missing-glyph box
    (xfonts-x3270-misc's 3270 terminal fonts did so in the extra set, and no reader could read
    their checkerboard lines); such faces are left out of every set."""
    misc = Path("/usr/share/fonts/X11/misc")
    cursor = misc / "cursor.pcf.gz"          # xfonts-base, installed with the tuning fonts
    assert dicomgen.draws_letters(cursor, dicomgen._bitmap_size(cursor)) is False
    assert dicomgen.draws_letters(misc / "6x13-ISO8859-1.pcf.gz", 13) is True
    for fonts in ("tuning", "heldout", "extra"):
        for face in dicomgen.font_faces(fonts):
            assert dicomgen.draws_letters(face.path, face.bitmap_size or 12), face.path
            assert not face.name.startswith(("3270", "cursor")), face.path


@pytest.mark.parametrize("case", list(dicomgen.VARIED_CASES))
def test_varied_case_is_a_valid_file_with_its_words(varied, case):
    truth, style = varied[case]
    ds = dcmread(truth.path)
    assert ds.file_meta.TransferSyntaxUID == truth.transfer_syntax
    images = list(iter_images(ds))
    assert [(i.frame, i.overlay) for i in images] == [i.key for i in truth.images]
    for image, expected in zip(images, truth.images):
        assert image.pixels.shape[:2] == (expected.height, expected.width)
    words = [w for i in truth.images for w in i.words]
    if case == "v_no_text":
        assert not words and ds.BurnedInAnnotation == "NO"
        return
    assert words and ds.BurnedInAnnotation == "YES"
    if case == "v_safe_text":
        assert not any(w.pii for w in words)
    else:
        family = str(ds.PatientName).split("^")[0].lower()
        digits = "".join(c for c in str(ds.PatientID) if c.isdigit())
        pii = [w.text for w in words if w.pii]
        assert any(family in text.lower() for text in pii), (case, pii)
        assert any("".join(c for c in text if c.isdigit()) == digits for text in pii), (case, pii)
    assert 7 <= style["size"] <= 16 and style["face"] in {
        Path(f.path).name for f in dicomgen.font_faces("all")}
    for image, expected in zip(images, truth.images):
        for k, w in enumerate(expected.words):
            assert 0 <= w.left < w.right <= expected.width and 0 <= w.top < w.bottom <= expected.height
            assert not any(w.overlaps(other) for other in expected.words[:k]), (case, w)
            # The text differs from what surrounds it: the box is not flat.
            box = image.pixels[w.top:w.bottom, w.left:w.right].astype(np.float32)
            assert np.ptp(box) > 40, (case, w)
    # the truth file keeps the words as they were drawn
    dicomgen.write_truth([truth], Path(truth.path).with_suffix(".json"))
    assert read_truth(Path(truth.path).with_suffix(".json")) == [truth]


def test_varied_corpus_draws_its_variety_from_the_chosen_font_set(tmp_path):
    truths = dicomgen.make_varied_corpus(tmp_path / "c", count=30, seed=5, fonts="tuning")
    assert read_truth(tmp_path / "c") == truths
    assert stat.S_IMODE((tmp_path / "c" / dicomgen.STYLES_FILENAME).stat().st_mode) == 0o600
    styles = json.loads((tmp_path / "c" / dicomgen.STYLES_FILENAME).read_text())
    assert styles["seed"] == 5 and styles["fonts"] == "tuning"
    drawn = list(styles["files"].values())
    assert {Path(t.path).name for t in truths} == set(styles["files"])
    assert {s["family"] for s in drawn} <= {"dejavu", "liberation", "misc-fixed"}
    assert len({s["family"] for s in drawn}) >= 2 and len({s["face"] for s in drawn}) >= 10
    assert {s["antialias"] for s in drawn} == {True, False}
    qualities = [s["jpeg_quality"] for s in drawn if "jpeg_quality" in s]
    assert len(set(qualities)) >= 3 and all(40 <= q <= 95 for q in qualities)
    assert all(7 <= s["size"] <= 16 for s in drawn)
    assert Counter(t.case for t in truths) == {c: 3 for c in dicomgen.VARIED_CASES}


def test_varied_corpus_at_other_font_sizes(tmp_path):
    """`sizes` draws every face at a size of that range (hard-edged from 9 px, bitmaps only of
    such a size), and the drawn words grow with it; the default range draws what it drew."""
    cases = ["v_mr", "v_ct_busy", "v_sc_grey_jpeg"]
    big = dicomgen.make_varied_corpus(tmp_path / "big", count=9, seed=4, fonts="heldout",
                                      cases=cases, sizes=(26, 40))
    styles = json.loads((tmp_path / "big" / dicomgen.STYLES_FILENAME).read_text())
    assert styles["sizes"] == [26, 40]
    assert all(26 <= s["size"] <= 40 for s in styles["files"].values())
    small = dicomgen.make_varied_corpus(tmp_path / "small", count=9, seed=4, fonts="heldout",
                                        cases=cases, sizes=(5, 8))
    drawn = json.loads((tmp_path / "small" / dicomgen.STYLES_FILENAME).read_text())["files"].values()
    assert all(5 <= s["size"] <= 8 for s in drawn)
    # under 9 px, an outline is drawn anti-aliased; only a bitmap face is hard-edged
    assert all(s["antialias"] or s["face"].endswith(".pcf.gz") for s in drawn)

    def median_height(truths):
        heights = sorted(w.bottom - w.top for t in truths for i in t.images for w in i.words)
        return heights[len(heights) // 2]

    default = dicomgen.make_varied_corpus(tmp_path / "a", count=9, seed=4, fonts="heldout", cases=cases)
    assert median_height(small) < median_height(default) < median_height(big)
    same = dicomgen.make_varied_corpus(tmp_path / "b", count=9, seed=4, fonts="heldout", cases=cases,
                                       sizes=dicomgen.VARIED_SIZES)
    assert [t.images for t in default] == [t.images for t in same]
    for wrong in ((4, 9), (9, 7), (20, 65)):
        with pytest.raises(ValueError, match="from 5 to 64 px"):
            dicomgen.make_varied_corpus(tmp_path / "x", count=1, sizes=wrong)


def test_make_corpus_reads_a_size_range(tmp_path, capsys):
    script = load_bench("make_corpus")

    assert script.parse_args([str(tmp_path), "--style", "varied", "--sizes", "17-26"]).sizes == (17, 26)
    assert script.parse_args([str(tmp_path), "--style", "varied", "--sizes", "12"]).sizes == (12, 12)
    assert script.parse_args([str(tmp_path), "--style", "varied"]).sizes is None
    for wrong, says in (("3-9", "from 5 to 64 px"), ("big", "give LOW-HIGH")):
        with pytest.raises(SystemExit):
            script.parse_args([str(tmp_path), "--style", "varied", "--sizes", wrong])
        assert says in capsys.readouterr().err
    with pytest.raises(SystemExit):
        script.parse_args([str(tmp_path), "--sizes", "9-12"])
    assert "--sizes needs --style varied" in capsys.readouterr().err


def test_same_seed_gives_the_same_varied_file_and_sets_give_different_faces(tmp_path):
    a, sa = dicomgen.build_varied_case("v_us_colour", tmp_path / "a.dcm", 3, "heldout", False)
    b, sb = dicomgen.build_varied_case("v_us_colour", tmp_path / "b.dcm", 3, "heldout", False)
    assert a.images == b.images and sa == sb
    assert Path(a.path).read_bytes() == Path(b.path).read_bytes()
    heldout = {dicomgen.build_varied_case("v_mr", tmp_path / f"h{s}.dcm", s, "heldout")[1]["family"]
               for s in range(8)}
    assert heldout <= {"freefont", "noto-mono", "terminus", "misc-clean"} and len(heldout) >= 2


def test_palette_case_decodes_to_colour_with_grey_text(varied):
    truth, _ = varied["v_us_palette"]
    ds = dcmread(truth.path)
    assert ds.PhotometricInterpretation == "PALETTE COLOR" and ds.BitsAllocated == 8
    images = list(iter_images(ds))
    assert len(images) == len(truth.images) == int(ds.get("NumberOfFrames", 1))
    for image, expected in zip(images, truth.images):
        rgb = image.pixels.astype(np.int16)
        assert rgb.ndim == 3 and rgb.shape[2] == 3
        # The sector is in colour (the map's red exceeds its blue), the text grey and bright.
        sector = rgb[rgb.shape[0] // 2, rgb.shape[1] // 2 - 20: rgb.shape[1] // 2 + 20]
        assert (sector[:, 0] >= sector[:, 2]).all() and (sector[:, 0] - sector[:, 2]).max() > 30
        for w in expected.words:
            box = rgb[w.top:w.bottom, w.left:w.right]
            bright = box.max(axis=2) > 200
            assert bright.any(), w
            assert (np.ptp(box[bright], axis=1) <= 2).all(), w            # neutral grey


def test_palette_text_keeps_a_trace_of_strokes_that_cover_a_pixel_little():
    """A thin face's strokes cover most of their pixels by less than a quarter; each pixel
    the text touches is stored as the table entry nearest its colour, so they stay visible
    (before 6 December 2026 only pixels covered by a quarter or more were written, and a
    10 px Cantarell Thin banner was left as a few scattered dots)."""
    tables = dicomgen.palette_luts(random.Random(0))
    colours = np.stack(tables, axis=1).astype(np.float64) / 65535.0
    index = np.zeros((3, 4), np.uint8)                     # the colour map's black
    index[:, 3] = 200                                      # and a bright part of the picture
    coverage = np.zeros((3, 4), np.float32)
    coverage[0, 0], coverage[0, 1], coverage[0, 2] = 0.15, 0.5, 1.0
    out = dicomgen.palette_text(index, coverage, tables)
    shown = colours[out].mean(axis=2)
    assert np.array_equal(out[1:], index[1:]) and out[0, 3] == 200      # untouched pixels kept
    assert out[0, 2] == 255 and shown[0, 2] == 1.0                      # full cover: white
    # A tenth-and-a-half's trace is kept (an entry nearer white laid over black by 0.15 than
    # the black is), and more cover shows brighter.
    wanted = np.full(3, 0.15)
    assert out[0, 0] != 0
    assert ((colours[out[0, 0]] - wanted) ** 2).sum() < ((colours[0] - wanted) ** 2).sum()
    assert 0 < shown[0, 0] < shown[0, 1] < shown[0, 2]
    assert abs(shown[0, 1] - 0.5) < 0.05


def test_interlaced_case_darkens_the_second_field_of_its_text(varied):
    truth, style = varied["v_interlaced"]
    images = list(iter_images(dcmread(truth.path)))
    assert len(images) == 1 and style["field_shift"] in (0, 1) and style["field_gain"] < 0.9
    pixels = images[0].pixels.astype(np.float32)
    grey = pixels.mean(axis=2) if pixels.ndim == 3 else pixels
    first = second = 0.0
    for w in truth.images[0].words:
        box = grey[w.top:w.bottom, w.left:w.right]
        rows = np.arange(w.top, w.bottom)
        first += box[rows % 2 == 0].sum()
        second += box[rows % 2 == 1].sum()
    assert second < 0.92 * first


def test_classic_cases_in_another_font_set(tmp_path):
    """--style classic --fonts SET: the classic cases drawn in that set's faces at 9-16 px (a
    bitmap face at its own size), recorded in styles.json; outside the block, DejaVu again."""
    truths = make_corpus(tmp_path / "c", count=15, seed=3, fonts="heldout")
    styles = json.loads((tmp_path / "c" / dicomgen.STYLES_FILENAME).read_text())
    assert styles["fonts"] == "heldout" and set(styles["files"]) == {Path(t.path).name for t in truths}
    heldout = {face.name: face for face in dicomgen.font_faces("heldout")}
    for name, style in styles["files"].items():
        face = heldout[style["face"]]                       # a held-out face, nothing else
        low, high = dicomgen.CLASSIC_FONT_SIZES
        assert style["size"] == face.bitmap_size if face.bitmap_size else low <= style["size"] <= high
    # Text is drawn and its words lie in the image, at the small size asked for.
    words = [w for t in truths for image in t.images for w in image.words]
    assert len(words) > 100
    assert min(w.bottom - w.top for w in words) < 12
    with_text = next(t for t in truths if t.case == "ct_signed")
    pixels = dcmread(with_text.path).pixel_array
    word = with_text.images[0].words[0]
    assert (pixels[word.top:word.bottom, word.left:word.right] == 2047).any()
    # The block restores the classic faces.
    assert dicomgen.pick_face(random.Random(1)) in ("sans", "mono")
    again = make_corpus(tmp_path / "d", count=1, seed=3)
    assert not (tmp_path / "d" / dicomgen.STYLES_FILENAME).exists()
    plain = build_case(again[0].case, tmp_path / "e.dcm", seed=dicomgen._file_seed(3, again[0].case, 0))
    assert again[0].images == plain.images
