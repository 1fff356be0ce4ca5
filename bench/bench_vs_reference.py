#!/usr/bin/env python3
"""Wall time of `scan --ocr ENGINE --pii spacy --rects` against a reference-style baseline.

Why: the reference tool (`pydicom_images.py`, tesseract + spaCy) is not installed here, so its
time cannot be measured directly. What it does per image is known from its documented
behaviour: every frame and every overlay becomes a picture that one `tesseract` process reads
whole (pytesseract: a subprocess and temporary files per call, `OMP_THREAD_LIMIT=1`, its best
setting), then spaCy reads the text. The baseline here does exactly that and nothing more
(`baseline` below: our own decoder gives it the pixels, so it does no more work than the
reference and no less OCR). Both run as fresh processes over the same files, rounds
alternating so that a shared machine's load falls on both alike; process start and model
loading count for both, as they do for a user. Prints seconds per image and the ratio.

    .venv/bin/python bench/bench_vs_reference.py FILES_OR_FOLDERS [--rounds 2] [--ocr rapidocr] [--split]

With --split, the comparison is also run on the files of at most two frames and on the
others apart: frame reuse makes a cine's further frames cheap while the baseline reads each
whole, so the ratio over a set depends on how many of its images are cine frames.

The baseline prints its own image count; a run whose two counts differ says so and fails.
"""
from __future__ import annotations

import argparse
import csv
import io
import os
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def baseline(paths: list[str]) -> int:
    """The reference's way: one whole-image tesseract call per image, then spaCy on its text.
    Prints one CSV line per image (file, frame, overlay, text) and returns the image count."""
    import numpy as np
    import pytesseract
    from PIL import Image as PILImage

    from scp_scanner.dicom import iter_images, read_dataset
    from scp_scanner.pii.spacy_engine import SpacyEngine   # our torch-free load: favours the baseline

    ner = SpacyEngine()
    out = csv.writer(sys.stdout)
    count = 0
    for path in paths:
        for image in iter_images(read_dataset(path)):
            pixels = image.pixels
            if pixels.dtype != np.uint8:
                pixels = pixels.astype(np.uint8)
            data = pytesseract.image_to_data(PILImage.fromarray(pixels), output_type=pytesseract.Output.DICT)
            text = " ".join(word for word in data["text"] if word.strip())
            if text:
                ner.entities(text)
            out.writerow([path, image.frame, image.overlay, text])
            count += 1
    return count


def timed(command: list[str], env: dict[str, str]) -> tuple[float, str]:
    started = time.perf_counter()
    done = subprocess.run(command, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                          text=True, check=False)
    seconds = time.perf_counter() - started
    if done.returncode not in (0,):
        sys.exit(f"{command[:4]} failed ({done.returncode}): {done.stderr[-2000:]}")
    return seconds, done.stdout


def images_in_scan(csv_text: str) -> int:
    """Images listed by `scan --rects`: one whole-image row (left == -1) each."""
    rows = csv.DictReader(io.StringIO(csv_text))
    return sum(1 for row in rows if row["left"] == "-1")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="DICOM files or folders")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    parser.add_argument("--ocr", default="rapidocr", help="our engine (default rapidocr)")
    parser.add_argument("--scan-args", default="", help="extra arguments for scan, e.g. '-j 1'")
    parser.add_argument("--split", action="store_true",
                        help=f"also compare the files of {SINGLE_MAX_FRAMES} frames or fewer and the "
                             "others apart (the ratio rests on the mix)")
    parser.add_argument("--baseline-worker", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    paths = sorted(str(p) for i in args.inputs for p in ([i] if i.is_file() else i.rglob("*.dcm")))
    if args.baseline_worker:
        print(f"# images {baseline(paths)}", file=sys.stderr)
        return 0
    if not paths:
        sys.exit("no DICOM files given")
    for title, group in groups(paths, args.split):
        compare(title, group, args)
    return 0


# --split: what the ratio rests on. Frame reuse (ocr/reuse.py) reads a cine's further frames
# at a fraction of a first frame's cost, while the baseline reads every frame whole, so a
# set rich in cine frames gives a larger ratio than one of single images.
SINGLE_MAX_FRAMES = 2


def frame_count(path: str) -> int:
    import pydicom

    ds = pydicom.dcmread(path, stop_before_pixels=True, force=True)
    try:
        return max(1, int(ds.get("NumberOfFrames") or 1))
    except (TypeError, ValueError):
        return 1


def groups(paths: list[str], split: bool) -> list[tuple[str, list[str]]]:
    """The sets of files compared: all of them, and with split, those of SINGLE_MAX_FRAMES
    frames or fewer and the others apart (an empty set is left out)."""
    out = [("all files", paths)]
    if split:
        single = [p for p in paths if frame_count(p) <= SINGLE_MAX_FRAMES]
        out += [(f"files of {SINGLE_MAX_FRAMES} frames or fewer", single),
                ("files of more frames", [p for p in paths if p not in single])]
    return [(title, group) for title, group in out if group]


def compare(title: str, paths: list[str], args: argparse.Namespace) -> None:
    env = dict(os.environ, OMP_THREAD_LIMIT="1")       # the reference at its best
    ours = [sys.executable, "-m", "scp_scanner", "scan", "--ocr", args.ocr, "--pii", "spacy", "--rects",
            *args.scan_args.split(), *paths]
    theirs = [sys.executable, str(Path(__file__).resolve()), "--baseline-worker", *paths]
    times: dict[str, list[float]] = {"ours": [], "baseline": []}
    counts: dict[str, int] = {}
    print(f"## {title}", flush=True)
    for round_ in range(args.rounds):
        for name, command in (("ours", ours), ("baseline", theirs)):
            seconds, stdout = timed(command, env)
            times[name].append(seconds)
            counts[name] = images_in_scan(stdout) if name == "ours" else len(stdout.splitlines())
            print(f"round {round_ + 1} {name}: {seconds:.2f} s, {counts[name]} images", flush=True)
    if counts["ours"] != counts["baseline"]:
        sys.exit(f"image counts differ: ours {counts['ours']}, baseline {counts['baseline']}")
    n = counts["ours"]
    best = {name: min(values) for name, values in times.items()}
    print(f"{len(paths)} files, {n} images, best of {args.rounds} rounds")
    print(f"| run | wall time | s per image |\n|---|---|---|")
    print(f"| reference-style baseline (tesseract per image, spaCy, OMP_THREAD_LIMIT=1) "
          f"| {best['baseline']:.2f} s | {best['baseline'] / n:.3f} |")
    print(f"| scan --ocr {args.ocr} --pii spacy --rects {args.scan_args} | {best['ours']:.2f} s | {best['ours'] / n:.3f} |")
    print(f"ratio (baseline / ours): {best['baseline'] / best['ours']:.2f}x", flush=True)


if __name__ == "__main__":
    sys.exit(main())
