"""`scp-scanner scan` end to end: the real CLI, real tesseract, real spaCy, synthetic files
with known burned-in words (tests/dicomgen.py) and real files from pydicom-data."""
from __future__ import annotations

import csv
import io
import os
import re
import shutil
import stat
from collections import defaultdict
from pathlib import Path

import pydicom
import pytest
from pydicom.uid import generate_uid

from conftest import run_scan
from scp_scanner.output.rows import COLUMNS

WHOLE = ("-1", "-1", "-1", "-1")


def parse(text: str) -> list[dict]:
    reader = csv.DictReader(io.StringIO(text))
    assert tuple(reader.fieldnames) == COLUMNS
    return list(reader)


def tokens(text: str) -> set[str]:
    """Lower-case tokens with punctuation removed (the scorer's rule)."""
    return {re.sub(r"[^\w]", "", t).lower() for t in text.split()} - {""}


def word_found(word: str, text: str) -> bool:
    found = tokens(text)
    return all(re.sub(r"[^\w]", "", t).lower() in found for t in word.split() if re.sub(r"[^\w]", "", t))


@pytest.fixture(scope="module")
def scanned(corpus, tmp_path_factory):
    """One scan of the whole synthetic corpus, as a user would run it on a folder."""
    folder = Path(corpus[0].path).parent
    out = tmp_path_factory.mktemp("scan") / "rows.csv"
    result = run_scan("--ocr", "tesseract", "--pii", "spacy", "--rects", "-o", str(out), str(folder))
    assert result.returncode == 0, result.stderr
    return parse(out.read_text()), out, result


def whole_rows(rows: list[dict]) -> dict[tuple[str, int, int], dict]:
    out = {}
    for row in rows:
        if (row["left"], row["top"], row["right"], row["bottom"]) == WHOLE:
            key = (Path(row["filename"]).name, int(row["frame"]), int(row["overlay"]))
            assert key not in out, f"two whole-text rows for {key}"
            out[key] = row
    return out


def test_every_image_of_every_file_is_listed_once(scanned, corpus):
    rows, _, _ = scanned
    wholes = whole_rows(rows)
    expected = {(Path(t.path).name, i.frame, i.overlay) for t in corpus for i in t.images}
    assert set(wholes) == expected
    assert len(expected) > len(corpus)       # frames, overlays and overlay frames, not just files


def test_rows_of_a_file_are_contiguous_and_rects_come_before_their_whole_row(scanned):
    rows, _, _ = scanned
    seen, previous = set(), None
    for row in rows:
        name = row["filename"]
        if name != previous:
            assert name not in seen, f"rows of {name} are split"
            seen.add(name)
            previous = name
    open_rects = 0
    for row in rows:
        if (row["left"], row["top"], row["right"], row["bottom"]) == WHOLE:
            open_rects = 0
        else:
            open_rects += 1
            assert int(row["left"]) < int(row["right"]) and int(row["top"]) < int(row["bottom"])
    assert open_rects == 0, "rectangle rows after the last whole-text row"


def test_engines_are_named_and_flags_are_in_range(scanned):
    rows, out, _ = scanned
    assert {r["ocr_engine"] for r in rows} == {"tesseract"}
    assert {r["ner_engine"] for r in rows} == {"spacy"}
    assert {r["is_sensitive"] for r in rows} <= {"0", "1"}
    assert stat.S_IMODE(out.stat().st_mode) == 0o600


def test_words_are_read_and_pii_is_flagged(scanned, corpus):
    rows, _, _ = scanned
    wholes = whole_rows(rows)
    words = found = pii_words = pii_found = 0
    for truth in corpus:
        for image in truth.images:
            row = wholes[(Path(truth.path).name, image.frame, image.overlay)]
            for word in image.words:
                hit = word_found(word.text, row["ocr_text"])
                words += 1
                found += hit
                pii_words += word.pii
                pii_found += hit and word.pii
            if image.has_pii:
                assert row["is_sensitive"] == "1", (truth.case, image.key, row["ocr_text"])
            else:
                assert row["is_sensitive"] == "0", (truth.case, image.key, row["ocr_text"])
    assert words > 100 and pii_words > 40
    # Regression floors for this 15-file corpus (measured: 89% of words, 90% of identifying
    # words; the README gives the figures on larger corpora from bench/score_scan.py).
    assert found / words >= 0.85, f"{found}/{words} words read"
    assert pii_found / pii_words >= 0.85, f"{pii_found}/{pii_words} identifying words read"


def test_identifiers_hidden_in_high_bits_are_read(scanned, corpus):
    rows, _, _ = scanned
    wholes = whole_rows(rows)
    for truth in corpus:
        if "highbit" not in truth.case:
            continue
        overlay_images = [i for i in truth.images if i.overlay >= 0]
        assert overlay_images
        for image in overlay_images:
            row = wholes[(Path(truth.path).name, image.frame, image.overlay)]
            pii = [w.text for w in image.words if w.pii]
            assert pii and any(word_found(w, row["ocr_text"]) for w in pii), (truth.case, row["ocr_text"])
            assert row["is_sensitive"] == "1"


def test_rect_rows_are_in_the_original_pixel_space_and_cover_their_words(scanned, corpus):
    rows, _, _ = scanned
    by_image = defaultdict(list)
    for row in rows:
        if (row["left"], row["top"], row["right"], row["bottom"]) != WHOLE:
            by_image[(Path(row["filename"]).name, int(row["frame"]), int(row["overlay"]))].append(row)
    checked = 0
    for truth in corpus:
        for image in truth.images:
            rects = by_image[(Path(truth.path).name, image.frame, image.overlay)]
            for rect in rects:
                assert 0 <= int(rect["left"]) < int(rect["right"]) <= image.width
                assert 0 <= int(rect["top"]) < int(rect["bottom"]) <= image.height
            for word in image.words:
                if " " in word.text:
                    continue
                match = [r for r in rects if r["ocr_text"] == word.text]
                if match:
                    r = match[0]
                    # The box lies on the drawn word, give or take a few pixels.
                    assert abs(int(r["left"]) - word.left) <= 6 and abs(int(r["top"]) - word.top) <= 6
                    assert abs(int(r["right"]) - word.right) <= 6 and abs(int(r["bottom"]) - word.bottom) <= 6
                    checked += 1
    assert checked > 50


def test_without_rects_each_image_has_one_row(corpus, tmp_path):
    files = [t.path for t in corpus if t.case in ("ct_signed", "mr_overlay")]
    result = run_scan("--ocr", "tesseract", *files)
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    expected = sum(len(t.images) for t in corpus if t.case in ("ct_signed", "mr_overlay"))
    assert len(rows) == expected
    assert all((r["left"], r["top"], r["right"], r["bottom"]) == WHOLE for r in rows)
    assert {r["ner_engine"] for r in rows} == {""} and {r["is_sensitive"] for r in rows} == {"-1"}
    assert any(r["ocr_text"] for r in rows)


def test_no_ocr_lists_images_with_blank_text(corpus):
    truth = next(t for t in corpus if t.case == "xa_multiframe_overlay")
    result = run_scan(truth.path)
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    assert [(int(r["frame"]), int(r["overlay"])) for r in rows] == [i.key for i in truth.images]
    assert all(r["ocr_engine"] == "" and r["ocr_text"] == "" and r["is_sensitive"] == "-1" for r in rows)


def test_no_overlays_leaves_overlays_out(corpus):
    truth = next(t for t in corpus if t.case == "mr_overlay")
    result = run_scan("--no-overlays", truth.path)
    rows = parse(result.stdout)
    assert rows and all(r["overlay"] == "-1" for r in rows)
    assert len(rows) == sum(1 for i in truth.images if i.overlay == -1)


def test_identify_only_stops_extraction_ocr_and_pii_still_run(corpus, tmp_path):
    """-i as in the reference (its batch scripts call -i --ocr X --pii Y --rects): the images
    are listed on stderr, nothing is extracted, and OCR and PII run as asked."""
    truth = next(t for t in corpus if t.case == "us_rgb_multiframe")
    source = tmp_path / "us.dcm"
    shutil.copy(truth.path, source)
    result = run_scan("-i", "-x", "--ocr", "tesseract", "--pii", "spacy", "--rects", str(source))
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    wholes = whole_rows(rows)
    assert sorted(k[1:] for k in wholes) == sorted(i.key for i in truth.images)
    assert all(r["ocr_engine"] == "tesseract" and r["ner_engine"] == "spacy" for r in rows)
    assert len(rows) > len(wholes)                                  # rectangle rows too
    for image in truth.images:
        row = wholes[("us.dcm", image.frame, image.overlay)]
        assert row["is_sensitive"] == str(int(image.has_pii))
        found = [w for w in image.words if word_found(w.text, row["ocr_text"])]
        assert len(found) >= 0.8 * len(image.words), (row["ocr_text"], [w.text for w in image.words])
    listed = [line for line in result.stderr.splitlines() if line.startswith(str(source))]
    assert len(listed) == len(truth.images)
    assert all("RGB" in line and "_frame" in line for line in listed)
    assert not [p for p in tmp_path.iterdir() if p.suffix in (".tiff", ".png")]


def test_identify_without_ocr_lists_images_with_blank_text(corpus):
    truth = next(t for t in corpus if t.case == "mr_overlay")
    result = run_scan("-i", truth.path)
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    assert [(int(r["frame"]), int(r["overlay"])) for r in rows] == [i.key for i in truth.images]
    assert all(r["ocr_engine"] == "" and r["ocr_text"] == "" and r["is_sensitive"] == "-1" for r in rows)


@pytest.mark.parametrize("fmt", ["tiff", "png"])
def test_extract_writes_one_private_image_per_frame_and_overlay(corpus, tmp_path, fmt):
    truth = next(t for t in corpus if t.case == "xa_multiframe_overlay")
    source = tmp_path / "xa.dcm"
    shutil.copy(truth.path, source)
    args = ["-x"] + (["-f", fmt] if fmt == "png" else []) + [str(source)]
    result = run_scan(*args)
    assert result.returncode == 0, result.stderr
    written = sorted(p.name for p in tmp_path.iterdir() if p.suffix == f".{fmt}")
    expected = []
    for image in truth.images:
        parts = ["xa.dcm"] + ([f"overlay{image.overlay}"] if image.overlay >= 0 else []) \
            + ([f"frame{image.frame}"] if image.frame >= 0 else [])
        expected.append("_".join(parts) + f".{fmt}")
    assert written == sorted(expected)
    for name in written:
        assert stat.S_IMODE((tmp_path / name).stat().st_mode) == 0o600
    from PIL import Image as PILImage
    with PILImage.open(tmp_path / written[0]) as picture:
        assert picture.format == ("TIFF" if fmt == "tiff" else "PNG")


@pytest.fixture
def shared_tmp():
    """A temporary folder that another user can traverse (pytest's own are 0700)."""
    import tempfile

    folder = Path(tempfile.mkdtemp(prefix="scp-scanner-test-"))
    folder.chmod(0o755)
    yield folder
    shutil.rmtree(folder, ignore_errors=True)


def test_extract_falls_back_to_current_folder_when_input_folder_is_read_only(corpus, shared_tmp):
    tmp_path = shared_tmp
    readonly = tmp_path / "ro"
    readonly.mkdir()
    shutil.copy(corpus[0].path, readonly / "a.dcm")
    (readonly / "a.dcm").chmod(0o644)
    work = tmp_path / "work"
    work.mkdir()
    work.chmod(0o777)
    tmp_path.chmod(0o755)
    if os.geteuid() == 0:
        # root writes anywhere: run the scan as 'nobody', for whom the input folder (root's,
        # 0755) is read-only and the current folder (0777) is writable.
        readonly.chmod(0o755)
        result = run_scan("-x", str(readonly / "a.dcm"), cwd=work,
                          prefix=["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"])
    else:
        readonly.chmod(0o555)
        result = run_scan("-x", str(readonly / "a.dcm"), cwd=work)
        readonly.chmod(0o755)
    assert result.returncode == 0, result.stderr
    assert [p.name for p in work.glob("a.dcm_*.tiff")] == ["a.dcm_frame0.tiff"]
    assert not list(readonly.glob("*.tiff"))


def test_jobs_give_the_same_rows_in_the_same_order(corpus, tmp_path):
    files = [t.path for t in corpus[:8]]
    serial = run_scan("--ocr", "tesseract", "--pii", "spacy", "--rects", *files)
    parallel = run_scan("-j", "2", "--ocr", "tesseract", "--pii", "spacy", "--rects", *files)
    assert serial.returncode == parallel.returncode == 0, parallel.stderr
    assert parallel.stdout == serial.stdout
    assert len(parse(parallel.stdout)) > len(files)


def test_by_default_ocr_on_several_files_runs_one_worker_per_core_as_memory_allows(corpus, tmp_path):
    from scp_scanner.scan import available_memory, default_jobs, usable_cores, worker_memory

    files = [t.path for t in corpus[:4]]
    workers = default_jobs(usable_cores(), available_memory(), worker_memory("tesseract", "spacy"))
    several = run_scan("-v", "--ocr", "tesseract", "--pii", "spacy", "--rects", *files)
    one = run_scan("-v", "--ocr", "tesseract", "--pii", "spacy", "--rects", files[0])
    listing = run_scan("-v", *files)
    assert several.returncode == one.returncode == listing.returncode == 0, several.stderr
    expected = f"scanning in {workers} worker processes" if workers > 1 else "scanning in this process"
    assert expected in several.stderr, several.stderr
    assert "scanning in this process" in one.stderr and "scanning in this process" in listing.stderr
    serial = run_scan("-j", "1", "--ocr", "tesseract", "--pii", "spacy", "--rects", *files)
    assert several.stdout == serial.stdout and len(parse(serial.stdout)) > len(files)


def test_default_jobs_follow_cores_and_available_memory(tmp_path):
    from scp_scanner.scan import WORKER_MEMORY, available_memory, default_jobs, worker_memory

    assert default_jobs(8, None) == 8
    assert default_jobs(8, 3 * WORKER_MEMORY + 1) == 3
    assert default_jobs(2, 100 * WORKER_MEMORY) == 2
    assert default_jobs(4, WORKER_MEMORY // 2) == 1 and default_jobs(0, None) == 1
    # easyocr brings torch, flair its own models: fewer workers fit the same memory.
    assert worker_memory("rapidocr", "spacy") == worker_memory("tesseract", None) == WORKER_MEMORY
    assert worker_memory("easyocr", "spacy") >= 3 * WORKER_MEMORY
    assert worker_memory("rapidocr", "flair,/models/ner.pt") > WORKER_MEMORY
    four_gib = 4 << 30
    assert default_jobs(8, four_gib, worker_memory("rapidocr", "spacy")) == 8
    assert default_jobs(8, four_gib, worker_memory("easyocr", "spacy")) == 2
    meminfo = tmp_path / "meminfo"
    meminfo.write_text("MemTotal:       24000000 kB\nMemFree:  1000 kB\nMemAvailable:    2097152 kB\n")
    assert available_memory(str(meminfo)) == 2097152 * 1024
    meminfo.write_text("MemTotal:       24000000 kB\n")
    assert available_memory(str(meminfo)) is None
    assert available_memory(str(tmp_path / "missing")) is None


def test_jobs_report_bad_files_and_engine_errors_like_a_serial_scan(corpus, tmp_path):
    bad = tmp_path / "bad.dcm"
    bad.write_bytes(b"\0" * 128 + b"DICM" + b"\xff" * 64)
    result = run_scan("-j", "2", "--ocr", "tesseract", str(bad), corpus[0].path)
    assert result.returncode == 1
    assert f"scp-scanner: failed {bad}:" in result.stderr
    assert {r["filename"] for r in parse(result.stdout)} == {corpus[0].path}
    result = run_scan("-j", "2", "--ocr", "tesseract", "--pii", "spacy,no_such_model_pkg", corpus[0].path)
    assert result.returncode == 2 and "no_such_model_pkg" in result.stderr and result.stdout == ""


def test_config_file_sets_engine_options(corpus, tmp_path):
    config = tmp_path / "scan.yaml"
    config.write_text("processing:\n  tessdata_dir: /nowhere/tessdata\n")
    result = run_scan("--config", str(config), "--ocr", "tesseract", corpus[0].path)
    assert result.returncode == 2 and "/nowhere/tessdata" in result.stderr
    config.write_text("processing:\n  ocr_min_confidence: 250\n")
    result = run_scan("--config", str(config), "--ocr", "tesseract", corpus[0].path)
    assert result.returncode == 2 and "processing.ocr_min_confidence" in result.stderr


def test_paths_from_stdin_and_folders_walked_recursively(corpus, tmp_path):
    nested = tmp_path / "a" / "b"
    nested.mkdir(parents=True)
    shutil.copy(corpus[0].path, nested / "one.dcm")
    (nested / "notes.txt").write_text("not an image")
    (tmp_path / "DICOMDIR.bak").write_bytes(b"\0" * 300)
    result = run_scan(str(tmp_path))
    assert result.returncode == 0, result.stderr          # non-DICOM files in folders are skipped
    assert "skipped" in result.stderr and "notes.txt" in result.stderr
    assert {Path(r["filename"]).name for r in parse(result.stdout)} == {"one.dcm"}
    listed = "\n".join(t.path for t in corpus[:3]) + "\n"
    result = run_scan("-", stdin=listed)
    assert result.returncode == 0, result.stderr
    assert [r["filename"] for r in whole_rows_list(parse(result.stdout))] == \
        [t.path for t in corpus[:3] for _ in t.images]


def whole_rows_list(rows):
    return [r for r in rows if (r["left"], r["top"], r["right"], r["bottom"]) == WHOLE]


def test_verbose_and_debug_logging(corpus):
    quiet = run_scan(corpus[0].path)
    verbose = run_scan("-v", corpus[0].path)
    debug = run_scan("-d", corpus[0].path)
    assert "INFO" not in quiet.stderr
    assert "INFO" in verbose.stderr and "DEBUG" not in verbose.stderr
    assert "DEBUG" in debug.stderr


def test_no_progress_bar_when_not_a_terminal(corpus):
    result = run_scan(*[t.path for t in corpus[:4]])
    assert "files/s" not in result.stderr and "it/s" not in result.stderr and "%|" not in result.stderr
    assert result.stderr == ""


# ---------------------------------------------------------------------------------------------
# Bad input: one line naming the file and the reason; the scan goes on; exit status 1.
# ---------------------------------------------------------------------------------------------

def make_bad_files(source: str, folder: Path) -> dict[str, Path]:
    data = Path(source).read_bytes()
    bad = {}
    bad["not_dicom"] = folder / "not_dicom.dcm"
    bad["not_dicom"].write_text("hello, this is not DICOM\n" * 20)
    bad["truncated"] = folder / "truncated.dcm"
    bad["truncated"].write_bytes(data[: len(data) // 2])
    ds = pydicom.dcmread(source)
    del ds.PixelData
    for tag in [t for t in ds.keys() if 0x6000 <= t.group <= 0x601E]:
        del ds[tag]
    ds.SOPInstanceUID = generate_uid()
    bad["no_pixels"] = folder / "no_pixels.dcm"
    ds.save_as(bad["no_pixels"])
    ds = pydicom.dcmread(source)
    del ds.Rows
    bad["missing_rows"] = folder / "missing_rows.dcm"
    ds.save_as(bad["missing_rows"])
    ds = pydicom.dcmread(source)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 65535, 65535, 5000
    bad["absurd"] = folder / "absurd.dcm"
    ds.save_as(bad["absurd"])
    return bad


def test_each_bad_file_is_named_with_its_reason_and_the_rest_is_scanned(corpus, tmp_path):
    good = next(t for t in corpus if t.case == "ct_signed")
    bad = make_bad_files(good.path, tmp_path)
    jpeg = next(t for t in corpus if t.case == "us_jpeg_baseline")
    ds = pydicom.dcmread(jpeg.path)
    from pydicom.encaps import encapsulate
    frames = int(ds.get("NumberOfFrames", 1))
    ds.PixelData = encapsulate([b"\xff\xd8\xff\xe0garbage-not-a-jpeg" * 10] * frames)
    bad["undecodable"] = tmp_path / "undecodable.dcm"
    ds.save_as(bad["undecodable"])
    order = [bad["not_dicom"], Path(good.path), bad["truncated"], bad["no_pixels"],
             bad["missing_rows"], bad["absurd"], bad["undecodable"]]
    result = run_scan("--ocr", "tesseract", *map(str, order))
    assert result.returncode == 1
    errors = [line for line in result.stderr.splitlines() if line.startswith("scp-scanner: failed")]
    assert len(errors) == len(bad), result.stderr
    for name, path in bad.items():
        line = next((e for e in errors if str(path) in e), None)
        assert line is not None, f"{name} not reported: {result.stderr}"
        assert len(line) > len(f"scp-scanner: failed {path}: ") + 5      # a reason follows
        assert "Traceback" not in result.stderr
    rows = parse(result.stdout)
    assert {r["filename"] for r in rows} == {good.path}


def test_unknown_engines_and_missing_models_are_usage_errors(corpus):
    result = run_scan("--ocr", "nope", corpus[0].path)
    assert result.returncode == 2 and "unknown OCR engine 'nope'" in result.stderr
    result = run_scan("--ocr", "tesseract", "--pii", "spacy,no_such_model_pkg", corpus[0].path)
    assert result.returncode == 2 and "no_such_model_pkg" in result.stderr and "install" in result.stderr
    assert result.stdout == ""
    # The same with worker processes (forked from the scan, which builds the engines first).
    result = run_scan("-j", "2", "--ocr", "tesseract", "--pii", "spacy,no_such_model_pkg",
                      corpus[0].path, corpus[1].path)
    assert result.returncode == 2 and "no_such_model_pkg" in result.stderr and "install" in result.stderr
    assert result.stdout == ""


def test_missing_input_file_fails_but_others_go_on(corpus, tmp_path):
    result = run_scan(str(tmp_path / "gone.dcm"), corpus[0].path)
    assert result.returncode == 1
    assert "gone.dcm" in result.stderr
    assert {r["filename"] for r in parse(result.stdout)} == {corpus[0].path}


# ---------------------------------------------------------------------------------------------
# Real files (pydicom-data): real modality text, a real overlay.
# ---------------------------------------------------------------------------------------------

def test_real_overlay_and_ultrasound_text(real_data):
    files = [real_data / "MR-SIEMENS-DICOM-WithOverlays.dcm", real_data / "US1_UNCR.dcm",
             real_data / "gdcm-US-ALOKA-16.dcm"]
    result = run_scan("--ocr", "tesseract", "--pii", "spacy", *map(str, files))
    assert result.returncode == 0, result.stderr
    wholes = {(Path(r["filename"]).name, int(r["frame"]), int(r["overlay"])): r for r in parse(result.stdout)}
    overlay = wholes[("MR-SIEMENS-DICOM-WithOverlays.dcm", 0, 0)]
    assert "Tra" in overlay["ocr_text"].split()
    assert overlay["is_sensitive"] == "0"
    us = wholes[("US1_UNCR.dcm", 0, -1)]
    assert {"BAPTIST", "MED", "CTR", "LYMPH", "NODE"} <= set(us["ocr_text"].split())
    assert us["is_sensitive"] == "1"          # an institution's name
    aloka = wholes[("gdcm-US-ALOKA-16.dcm", 0, -1)]
    assert "*WESTWAY" in aloka["ocr_text"] and "3:PELVIS" in aloka["ocr_text"]
    assert aloka["is_sensitive"] == "1"        # WESTWAY MEDICAL and a date


def test_progress_bar_on_a_terminal(corpus, tmp_path):
    """stderr on a real pseudo-terminal (80 columns): tqdm draws its bar there."""
    from conftest import on_terminal

    out = tmp_path / "rows.csv"
    status, shown = on_terminal("scan", "-o", str(out), *[t.path for t in corpus[:6]])
    assert status == 0
    assert b"files/s" in shown or b" files [" in shown, shown
    assert len(parse(out.read_text())) > 6


@pytest.mark.parametrize("jobs", ["1", "2"])
def test_stderr_holds_one_line_per_bad_file_and_nothing_from_pydicom(corpus, jobs):
    """pydicom warns about values it reads past (badVR.dcm: NumberOfFrames '1A') and logs
    tracebacks for failed decoder plugins; the user sees the scanner's one line only."""
    from pydicom.data import get_testdata_file

    bad = get_testdata_file("badVR.dcm")
    result = run_scan("-j", jobs, "--ocr", "tesseract", bad, corpus[0].path)
    assert result.returncode == 1
    assert result.stderr.splitlines() == [f"scp-scanner: failed {bad}: invalid NumberOfFrames '1A'"]


# ---------------------------------------------------------------------------------------------
# The numbering contract in the CSV (README "CSV numbering"), with OCR reading each image.
# ---------------------------------------------------------------------------------------------

@pytest.fixture(scope="module")
def numbering_files(tmp_path_factory):
    import dicomgen

    folder = tmp_path_factory.mktemp("numbering")
    cases = ["mr_overlay_6002", "mr_overlay_6000_6004", "xa_overlay_origin2", "xa_legacy_overlays"]
    if dicomgen.dcmtk_available():
        cases.append("xa_legacy_overlays_jpeg_lossless")
    return {case: dicomgen.build_case(case, folder / f"{case}.dcm", seed=21) for case in cases}


@pytest.fixture(scope="module")
def numbering_rows(numbering_files, tmp_path_factory):
    out = tmp_path_factory.mktemp("numbering_scan") / "rows.csv"
    result = run_scan("--ocr", "tesseract", "--pii", "spacy", "--rects", "-o", str(out),
                      *[t.path for t in numbering_files.values()])
    assert result.returncode == 0, result.stderr
    return parse(out.read_text())


def _wholes_of(rows, truth):
    return {(int(r["frame"]), int(r["overlay"])): r for r in rows
            if r["filename"] == truth.path and (r["left"], r["top"], r["right"], r["bottom"]) == WHOLE}


@pytest.mark.parametrize("case", ["mr_overlay_6002", "mr_overlay_6000_6004", "xa_overlay_origin2"])
def test_csv_numbers_overlays_by_group_and_overlay_frames_within_the_overlay(
        numbering_files, numbering_rows, case):
    truth = numbering_files[case]
    wholes = _wholes_of(numbering_rows, truth)
    assert sorted(wholes) == sorted(i.key for i in truth.images)
    for image in truth.images:
        row = wholes[image.key]
        found = [w for w in image.words if word_found(w.text, row["ocr_text"])]
        assert len(found) >= 0.7 * len(image.words), (image.key, row["ocr_text"])
        if image.has_pii:
            assert row["is_sensitive"] == "1", (image.key, row["ocr_text"])
    # Rectangle rows carry the same numbers as their image's whole-text row.
    for row in numbering_rows:
        if row["filename"] == truth.path:
            assert (int(row["frame"]), int(row["overlay"])) in wholes


def test_csv_overlay_frame_counter_belongs_to_its_image_frame(numbering_files, numbering_rows):
    truth = numbering_files["xa_overlay_origin2"]
    wholes = _wholes_of(numbering_rows, truth)
    overlay_frames = sorted(k for k in wholes if k[1] == 0)
    assert [k[0] for k in overlay_frames] == list(range(len(overlay_frames)))
    for frame, _ in overlay_frames:
        # ImageFrameOrigin 2: overlay frame i is drawn for image frame i + 1 (1-based: i + 2).
        assert word_found(f"Fr {frame + 2}", wholes[(frame, 0)]["ocr_text"]), wholes[(frame, 0)]


@pytest.mark.parametrize("case", ["xa_legacy_overlays", "xa_legacy_overlays_jpeg_lossless"])
def test_legacy_overlays_are_listed_and_their_text_read(numbering_files, numbering_rows, case):
    if case not in numbering_files:
        pytest.skip("dcmtk's dcmcjpeg is not installed")
    truth = numbering_files[case]
    wholes = _wholes_of(numbering_rows, truth)
    assert sorted(wholes) == [(0, -1), (0, 0), (0, 1), (0, 2), (0, 3)]
    pii_image = truth.images[3]                       # group 6004, bit 10: name, ID, dates
    assert pii_image.key == (0, 2) and pii_image.has_pii
    row = wholes[(0, 2)]
    pii_words = [w for w in pii_image.words if w.pii]
    read = [w.text for w in pii_words if word_found(w.text, row["ocr_text"])]
    # Read exactly (OCR slips such as IAIN -> TAIN are the OCR's business, not this test's).
    assert len(read) >= 0.6 * len(pii_words), (row["ocr_text"], [w.text for w in pii_words])
    assert row["is_sensitive"] == "1"
    assert wholes[(0, 0)]["ocr_text"] == "" and wholes[(0, 1)]["ocr_text"] == ""
    assert wholes[(0, 0)]["manufacturer"] == "DL"


def test_extract_names_follow_the_csv_numbers(numbering_files, tmp_path):
    source = tmp_path / "x.dcm"
    shutil.copy(numbering_files["mr_overlay_6002"].path, source)
    result = run_scan("-x", str(source))
    assert result.returncode == 0, result.stderr
    assert sorted(p.name for p in tmp_path.glob("*.tiff")) == ["x.dcm_frame0.tiff",
                                                               "x.dcm_overlay1_frame0.tiff"]


def test_csv_imagetype_keeps_empty_values_joined_with_slash(real_data):
    result = run_scan(str(real_data / "MR-SIEMENS-DICOM-WithOverlays.dcm"))
    assert result.returncode == 0, result.stderr
    rows = parse(result.stdout)
    assert [(r["frame"], r["overlay"]) for r in rows] == [("0", "-1"), ("0", "0")]
    assert {r["imagetype"] for r in rows} == {"DERIVED/SECONDARY/MPR/CSA MPR//CSAPARALLEL/M/ND/NORM"}
    assert {r["manufacturer"] for r in rows} == {"Avanto"}


# ---------------------------------------------------------------------------------------------
# stdout is the CSV and nothing else, whatever the engines (flair's logger prints to stdout).
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("ocr", ["tesseract", "easyocr"])
@pytest.mark.parametrize("pii", ["spacy", "flair"])
def test_stdout_is_exactly_the_csv_with_every_engine_pair(numbering_files, flair_tagger, ocr, pii):
    truth = numbering_files["mr_overlay_6002"]
    spec = f"flair,{flair_tagger}" if pii == "flair" else pii
    result = run_scan("--ocr", ocr, "--pii", spec, "--rects", truth.path)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0] == ",".join(COLUMNS)
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows, result.stdout
    for row in rows:
        assert None not in row and None not in row.values(), row      # exactly 14 fields
        assert row["filename"] == truth.path
        assert row["ocr_engine"] == ocr and row["ner_engine"] == pii
        assert row["is_sensitive"] in ("0", "1")
    wholes = [r for r in rows if (r["left"], r["top"], r["right"], r["bottom"]) == WHOLE]
    assert [(int(r["frame"]), int(r["overlay"])) for r in wholes] == [i.key for i in truth.images]
    assert wholes[-1]["ocr_text"]                                      # the overlay was read


# ---------------------------------------------------------------------------------------------
# Walking folders: unreadable DICOM files fail, only non-DICOM files are skipped, links followed.
# ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("jobs", ["1", "2"])
def test_unreadable_dicom_in_a_walked_folder_fails_with_its_reason(corpus, shared_tmp, jobs):
    good = next(t for t in corpus if t.case == "ct_signed")
    folder = shared_tmp / "in"
    folder.mkdir()
    shutil.copy(good.path, folder / "a_good.dcm")
    # A dataset written without preamble and meta (read as DICOM), cut off in its pixel data.
    ds = pydicom.dcmread(good.path)
    ds.preamble = None
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    raw = io.BytesIO()
    ds.save_as(raw, enforce_file_format=False, implicit_vr=True, little_endian=True)
    assert raw.getvalue()[128:132] != b"DICM"
    (folder / "b_truncated_raw.dcm").write_bytes(raw.getvalue()[:3000])
    # A Part 10 file its reader may not open. Root reads 0000 files, so as root the scan runs
    # as 'nobody'; there, worker processes cannot start (multiprocessing's resource tracker
    # fails for that user), so the -j 2 run as root goes without this file.
    as_nobody = os.geteuid() == 0 and jobs == "1"
    locked = folder / "c_locked.dcm"
    if os.geteuid() != 0 or as_nobody:
        shutil.copy(good.path, locked)
        locked.chmod(0o000)
    (folder / "d_dangling.dcm").symlink_to(folder / "gone.dcm")
    (folder / "e_notes.txt").write_text("not an image")
    for path in [shared_tmp, folder, folder / "a_good.dcm", folder / "b_truncated_raw.dcm"]:
        path.chmod(0o755 if path.is_dir() else 0o644)
    prefix = ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"] if as_nobody else None
    result = run_scan("-j", jobs, str(folder), prefix=prefix, cwd=shared_tmp)
    assert result.returncode == 1, result.stderr
    lines = result.stderr.splitlines()
    truncated = [l for l in lines if l.startswith(f"scp-scanner: failed {folder / 'b_truncated_raw.dcm'}: ")]
    assert len(truncated) == 1 and ("truncated" in truncated[0] or "shorter" in truncated[0]), lines
    if locked.exists():
        assert f"scp-scanner: failed {locked}: cannot open: Permission denied" in lines, lines
    assert (f"scp-scanner: failed {folder / 'd_dangling.dcm'}: cannot open: No such file or directory"
            in lines), lines
    assert (f"scp-scanner: skipped {folder / 'e_notes.txt'}: not DICOM (not a DICOM file)" in lines), lines
    assert not any("skipped" in l and ".dcm" in l for l in lines), lines
    assert {r["filename"] for r in parse(result.stdout)} == {str(folder / "a_good.dcm")}


def test_symlinked_folders_are_followed_and_loops_reported(corpus, tmp_path):
    one, two = corpus[0].path, next(t for t in corpus if t.case == "mr_overlay").path
    outside = tmp_path / "elsewhere"
    outside.mkdir()
    shutil.copy(two, outside / "two.dcm")
    top = tmp_path / "top"
    (top / "a").mkdir(parents=True)
    shutil.copy(one, top / "a" / "one.dcm")
    (top / "a" / "linked").symlink_to(outside, target_is_directory=True)
    (top / "a" / "loop").symlink_to(top, target_is_directory=True)
    result = run_scan(str(top))
    assert result.returncode == 0, result.stderr
    files = [r["filename"] for r in parse(result.stdout)]
    assert sorted(set(files)) == sorted([str(top / "a" / "one.dcm"), str(top / "a" / "linked" / "two.dcm")])
    assert f"{top / 'a' / 'loop'}: already walked" in result.stderr
    unreadable_folder = top / "a" / "sub"
    unreadable_folder.mkdir()
    if os.geteuid() != 0:
        unreadable_folder.chmod(0o000)
        result = run_scan(str(top))
        unreadable_folder.chmod(0o700)
        assert result.returncode == 1
        assert f"scp-scanner: failed {unreadable_folder}: " in result.stderr
