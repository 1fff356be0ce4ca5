#!/usr/bin/env python3
"""Print the paths of the 21 real files the README's speed figures use (pydicom's and
pydicom-data's test files, already installed with the test extra; nothing is downloaded).

Why: a benchmark over real files is only comparable when the same files are read; naming
them here keeps the set one command away:

    .venv/bin/python bench/bench_vs_reference.py $(.venv/bin/python bench/real_files.py)
"""
from __future__ import annotations

import sys

# The set of the README's figures since the fifth round: two echo cines (120 and 30 frames),
# a 10-frame MR, ultrasound from several vendors' toolkits (native, RLE, JPEG 2000), MR with
# overlays, palette and YBR colour (4:4:4 and 4:2:2), CT and a 1955x1841 CR.
REAL_FILES = (
    "693_UNCR.dcm", "CT_small.dcm", "MR-SIEMENS-DICOM-WithOverlays.dcm", "MR2_UNCR.dcm",
    "MR_small.dcm", "OBXXXX1A.dcm", "OBXXXX1A_2frame.dcm", "OBXXXX1A_rle.dcm", "RG1_UNCR.dcm",
    "SC_rgb.dcm", "SC_ybr_full_uncompressed.dcm", "SC_ybr_full_422_uncompressed.dcm",
    "US1_J2KI.dcm", "US1_UNCR.dcm", "color3d_jpeg_baseline.dcm", "emri_small.dcm",
    "examples_jpeg2k.dcm", "examples_overlay.dcm", "examples_palette.dcm",
    "examples_ybr_color.dcm", "gdcm-US-ALOKA-16.dcm",
)


def main() -> int:
    from pydicom.data import get_testdata_file

    missing = []
    for name in REAL_FILES:
        path = get_testdata_file(name, download=False)
        if path is None:
            missing.append(name)
        else:
            print(path)
    if missing:
        print(f"not installed: {', '.join(missing)} (pip install pydicom-data, or make test)",
              file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
