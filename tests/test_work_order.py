"""Workers take the largest file first within the look-ahead; rows still come out in input
order, equal to a scan in one process."""
from __future__ import annotations

import csv
import io
from concurrent.futures import Future, ThreadPoolExecutor

import pytest
from pydicom.data import get_testdata_file

import dicomgen
from conftest import run_scan
from scp_scanner.paths import InputPath
from scp_scanner.pipeline import PipelineSettings
from scp_scanner.scan import estimated, largest_first_in_order, rows_in_workers
from scp_scanner.work_order import largest_first, work_estimate


def data_file(name: str) -> str:
    return get_testdata_file(name) or pytest.fail(f"pydicom's {name} is missing")


def test_estimates_come_from_the_header():
    single = work_estimate(data_file("CT_small.dcm"))               # 128 x 128, one frame
    cine = work_estimate(data_file("emri_small.dcm"))               # 64 x 64, 10 frames
    assert single == 128 * 128
    assert cine == 64 * 64 * (1 + 0.25 * 9)
    assert work_estimate(data_file("US1_UNCR.dcm")) == 480 * 640


def test_a_file_without_a_readable_header_counts_its_size(tmp_path):
    junk = tmp_path / "junk.dcm"
    junk.write_bytes(b"\x00" * 300)
    assert work_estimate(str(junk)) == 300.0
    assert work_estimate(str(tmp_path / "missing.dcm")) == 0.0


def test_the_largest_job_goes_first_and_the_earliest_among_equals():
    assert largest_first([(10.0, 0), (50.0, 1), (20.0, 2)]) == 1
    assert largest_first([(5.0, 3), (5.0, 1), (5.0, 2)]) == 1
    assert largest_first([(1.0, 7)]) == 0


def test_a_free_worker_takes_the_largest_file_read_ahead_and_results_keep_input_order():
    """One worker (a real thread pool): each time it is free it starts the largest of the
    files read ahead; the results come back in input order all the same."""
    names = ["MR_small.dcm", "CT_small.dcm", "US1_UNCR.dcm", "emri_small.dcm", "SC_rgb.dcm"]
    items = [InputPath(data_file(name), False) for name in names]
    started: list[str] = []

    def task(path: str) -> str:
        started.append(path)
        return path

    with ThreadPoolExecutor(max_workers=1) as pool:
        def submit(item: InputPath) -> Future:
            return pool.submit(task, item.path)

        out = [(item.path, future.result())
               for item, future in largest_first_in_order(estimated(items), submit, workers=1, lookahead=len(items))]
    assert [path for path, _ in out] == [item.path for item in items]
    assert all(path == result for path, result in out)
    by_estimate = sorted((item.path for item in items), key=lambda p: -work_estimate(p))
    assert started == by_estimate and started[0].endswith("US1_UNCR.dcm")
    # A look-ahead of two: the largest of each pair read so far, never a file not yet read.
    started.clear()
    with ThreadPoolExecutor(max_workers=1) as pool:
        def submit(item: InputPath) -> Future:
            return pool.submit(task, item.path)

        assert [i.path for i, _ in largest_first_in_order(estimated(items), submit, workers=1, lookahead=2)] == \
            [item.path for item in items]
    assert started[0].endswith("CT_small.dcm")          # of MR_small and CT_small


def test_a_long_cine_last_in_the_list_is_started_early_and_rows_keep_input_order(tmp_path):
    """Eight single-frame files, then a cine whose estimate is the largest (so it is started
    out of turn): real worker processes give every file back in input order, and the CSV
    equals a scan in this process."""
    files = [dicomgen.build_case(case, tmp_path / f"{i}_{case}.dcm", seed=i).path
             for i, case in enumerate(["ct_signed", "cr_mono1", "us_rgb", "mr_overlay"] * 2)]
    cine = dicomgen.build_case("us_rgb_multiframe", tmp_path / "z_cine.dcm", seed=9).path
    files.append(cine)
    assert max(files, key=work_estimate) == cine
    settings = PipelineSettings(ocr="tesseract", rects=True)
    results = list(rows_in_workers(2, settings, [InputPath(f, False) for f in files]))
    assert [r.item.path for r in results] == files
    assert all(r.rows for r in results)
    parallel = run_scan("-j", "2", "--ocr", "tesseract", "--rects", *files)
    serial = run_scan("-j", "1", "--ocr", "tesseract", "--rects", *files)
    assert parallel.returncode == serial.returncode == 0, parallel.stderr
    assert parallel.stdout == serial.stdout
    names = [row["filename"] for row in csv.DictReader(io.StringIO(serial.stdout))]
    assert list(dict.fromkeys(names)) == files
