"""bench/real_files.py: the README's speed figures name 21 real files; the script prints each
installed one's path, and says which are missing (exit 1) instead of downloading them."""
from __future__ import annotations

from pathlib import Path

import pydicom
import pytest

from conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("real_files")


def test_prints_every_named_file_and_each_is_a_dicom_image(bench, capsys, real_data):
    assert bench.main() == 0
    paths = [Path(line) for line in capsys.readouterr().out.splitlines()]
    assert sorted(p.name for p in paths) == sorted(bench.REAL_FILES)
    assert len(set(bench.REAL_FILES)) == 21
    for path in paths:
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        assert "Rows" in ds and "Columns" in ds, path


def test_a_missing_file_is_named_and_not_downloaded(bench, capsys, monkeypatch):
    monkeypatch.setattr(bench, "REAL_FILES", ("CT_small.dcm", "no-such-file-here.dcm"))
    assert bench.main() == 1
    captured = capsys.readouterr()
    assert captured.out.strip().endswith("CT_small.dcm")
    assert "no-such-file-here.dcm" in captured.err and "pip install pydicom-data" in captured.err
