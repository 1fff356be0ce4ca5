"""A small synthetic corpus and one real `scan --reasons --rects` of it, shared by the tests of
the review tools (reasons column, report, rules). Imported by module name (see conftest)."""
from __future__ import annotations

import csv
import io
from pathlib import Path

import dicomgen
from conftest import run_scan

# Two CT files of the same device and size (one rule group), a CR, a multi-frame US, an MR
# with an overlay, a multi-frame overlay, and two files without identifying text.
CASES = ("ct_signed", "ct_rle", "cr_mono1", "us_rgb_multiframe", "mr_overlay",
         "xa_multiframe_overlay", "no_text", "safe_text")


def make(folder: Path, seed: int = 7) -> list[dicomgen.Truth]:
    return dicomgen.make_corpus(folder, n_per_case=1, seed=seed, cases=CASES)


def made(tmp_path_factory, name: str) -> tuple[Path, list[dicomgen.Truth], Path]:
    """The corpus in a new folder NAME_corpus, and an empty folder NAME_out for CSVs."""
    folder = tmp_path_factory.mktemp(f"{name}_corpus")
    return folder, make(folder), tmp_path_factory.mktemp(f"{name}_out")


def scan(folder: Path, out: Path, *extra: str) -> list[dict]:
    """Real tesseract + spaCy over the folder; the rows as dicts (header checked by callers)."""
    result = run_scan("--ocr", "tesseract", "--pii", "spacy", "--rects", *extra, "-o", str(out),
                      str(folder))
    assert result.returncode == 0, result.stderr
    return list(csv.DictReader(io.StringIO(out.read_text())))
