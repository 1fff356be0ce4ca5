"""bench/bench_vs_reference.py --split: the ratio over a set rests on how many of its images
are cine frames, so the files of one or two frames and the others are compared apart too."""
from __future__ import annotations

import pytest
from pydicom.data import get_testdata_file

from conftest import load_bench


@pytest.fixture(scope="module")
def bench():
    return load_bench("bench_vs_reference")


def test_split_puts_single_images_and_cines_apart(bench, real_data):
    single = get_testdata_file("CT_small.dcm")                    # one frame
    two = str(real_data / "OBXXXX1A_2frame.dcm")                  # two frames
    cine = str(real_data / "emri_small.dcm")                      # ten frames
    assert [bench.frame_count(p) for p in (single, two, cine)] == [1, 2, 10]
    paths = [single, two, cine]
    assert bench.groups(paths, split=False) == [("all files", paths)]
    assert bench.groups(paths, split=True) == [
        ("all files", paths),
        ("files of 2 frames or fewer", [single, two]),
        ("files of more frames", [cine]),
    ]
    # A set without cines compares nothing twice under another name.
    assert [title for title, _ in bench.groups([single, two], split=True)] == [
        "all files", "files of 2 frames or fewer"]


def test_a_file_with_an_unreadable_frame_count_counts_as_one_frame(bench):
    path = get_testdata_file("badVR.dcm")                         # NumberOfFrames '1A'
    with pytest.warns(UserWarning, match="1A"):                   # pydicom's word on it
        assert bench.frame_count(path) == 1
