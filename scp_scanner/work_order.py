"""Which file a scan's workers take next: the largest job first, within a bounded look-ahead.

A scan in worker processes ends when its last worker ends. Taken in input order, a long
cine near the end of the list leaves the other workers idle while one reads it (21 real
files on 2 workers: one worker read the 120-frame echo for 6 s while the other had finished).
Taking the largest estimated job among the next few files first (longest processing time
first, the classic rule for this) starts such a file early and lets the short ones fill in
beside it. Rows still come out in input order (scan.py holds finished files until the ones
before them are written), and the look-ahead bounds how many files are held.

The estimate needs only the header: a further cine frame costs a tenth to a third of a first
one (README, "Multi-frame images"), so frames after the first count a quarter each.
"""
from __future__ import annotations

import os
import warnings

from .kept_out import import_pydicom

FURTHER_FRAME_SHARE = 0.25


def work_estimate(path: str) -> float:
    """Relative cost of scanning a file, from its header: rows x columns x (1 + a quarter per
    further frame). A file whose header cannot be read counts its size in bytes (it fails
    quickly, or is large and compressed)."""
    pydicom = import_pydicom()
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ds = pydicom.dcmread(path, stop_before_pixels=True, force=True,
                                 specific_tags=["Rows", "Columns", "NumberOfFrames"])
        rows, columns = int(ds.get("Rows") or 0), int(ds.get("Columns") or 0)
        frames = max(1, int(ds.get("NumberOfFrames") or 1))
    except Exception:  # a hostile or unreadable file: its worker reports why
        return _size(path)
    if rows <= 0 or columns <= 0:
        return _size(path)
    return rows * columns * (1.0 + FURTHER_FRAME_SHARE * (frames - 1))


def _size(path: str) -> float:
    """The file's size in bytes (0 for one that cannot be seen)."""
    try:
        return float(os.path.getsize(path))
    except OSError:
        return 0.0


def largest_first(waiting: list[tuple[float, int]]) -> int:
    """Index in `waiting` ((estimate, input position) pairs) of the job to start next: the
    largest estimate, the earliest in the input among equals."""
    return max(range(len(waiting)), key=lambda i: (waiting[i][0], -waiting[i][1]))
