"""End to end with real OCR and NER: what `serve` writes equals what `scan` writes for the same
files (except the filename column: the SOP Instance UID instead of the path)."""
from __future__ import annotations

import csv
import io
import shutil
import subprocess
import sys
from pathlib import Path

import pydicom
import pytest

import dicomgen
from scp_harness import Server, storescu

pytestmark = pytest.mark.skipif(not shutil.which("tesseract"), reason="tesseract not installed")

CASES = ["ct_signed", "us_rgb_multiframe", "mr_overlay", "xa_highbit", "ct_rle"]
SYNTAX_OPTION = {"1.2.840.10008.1.2.5": "-xr"}


def scan_rows(paths: list[Path]) -> list[dict]:
    script = Path(sys.executable).with_name("scp-scanner")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "scp_scanner"]
    result = subprocess.run([*command, "scan", "--ocr", "tesseract", "--pii", "spacy", "--rects",
                             *map(str, paths)], capture_output=True, text=True, timeout=600)
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(result.stdout)))


def test_serve_rows_equal_offline_scan_rows(tmp_path):
    files = [tmp_path / "in" / f"{case}.dcm" for case in CASES]
    (tmp_path / "in").mkdir()
    for seed, (case, path) in enumerate(zip(CASES, files)):
        dicomgen.build_case(case, path, seed=seed)
    uid_of = {str(p): str(pydicom.dcmread(p, stop_before_pixels=True).SOPInstanceUID) for p in files}
    (tmp_path / "scp").mkdir()
    server = Server(tmp_path / "scp", "--pii", "spacy", "--rects", ocr="tesseract").start()
    try:
        for path in files:
            syntax = str(pydicom.dcmread(path, stop_before_pixels=True).file_meta.TransferSyntaxUID)
            options = [SYNTAX_OPTION[syntax]] if syntax in SYNTAX_OPTION else []
            result = storescu(server.port, [path], *options)
            assert result.returncode == 0, result.stderr
        served = server.rows_then_stop(uid_of.values())
    finally:
        server.stop_quietly()
    expected = scan_rows(files)
    for row in expected:
        row["filename"] = uid_of[row["filename"]]
    key = lambda r: (r["filename"], int(r["frame"]), int(r["overlay"]))  # noqa: E731
    assert sorted(served, key=key) == sorted(expected, key=key)
    assert any(row["ocr_engine"] == "tesseract" and row["ocr_text"] for row in served)
    assert any(row["is_sensitive"] == "1" for row in served)
    log = server.log()
    assert "PII found in" in log and "processed " in log
