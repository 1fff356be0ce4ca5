"""Cine cost: a full read of every frame against frame reuse (scp_scanner/ocr/reuse.py).

For each file, in one run: the images are decoded once, then read three ways with fresh
engines: (full) every image read whole by the engine (tesseract without its crop cache,
rapidocr without its model caches: the reading as it was before reuse); (exact) through
FrameReuse(exact=True): changed frames read whole with the engine's caches; (areas) through
FrameReuse: an engine with read_in (rapidocr) reads only a further frame's changed areas.
Prints seconds for the first frame and per further frame, a further frame's time against a
full read's first frame, checks that exact gives the same boxes (text and rectangle) as full
on every image (the exit status), and counts the frames where areas does. Decoding is not
timed.

    .venv/bin/python bench/bench_cine.py                       # synthetic cines, tesseract
    .venv/bin/python bench/bench_cine.py --ocr rapidocr
    .venv/bin/python bench/bench_cine.py --ocr easyocr --frames 6
    .venv/bin/python bench/bench_cine.py FILE.dcm --max-images 10

Synthetic cines (tests/dicomgen.py build_us_cine, 640x480): RGB, 8-bit grey, JPEG baseline
RGB, and RGB with every frame stored twice ("held"); new speckle, a moving blob, a clock and
a frame counter on every frame.
"""
from __future__ import annotations

import argparse
import itertools
import sys
import tempfile
import time
from dataclasses import replace
from pathlib import Path

import numpy as np

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / "tests"))      # dicomgen, the synthetic file generator

from pydicom.uid import JPEGBaseline8Bit  # noqa: E402

from scp_scanner import ocr  # noqa: E402
from scp_scanner.dicom import iter_images, read_dataset  # noqa: E402
from scp_scanner.ocr.reuse import FrameReuse, box_key  # noqa: E402
from scp_scanner.process import configure_process  # noqa: E402


def synthetic(folder: Path, frames: int, seed: int) -> list[Path]:
    import dicomgen

    out = []
    for name, kwargs in (("rgb", {}), ("grey", {"grey": True}),
                         ("jpeg", {"opts": dicomgen.CaseOptions(syntax=JPEGBaseline8Bit)}),
                         ("held", {"hold": 2})):
        path = folder / f"cine_{name}_seed{seed}.dcm"
        hold = kwargs.get("hold", 1)
        dicomgen.build_us_cine(path, seed, n_frames=max(1, frames // hold), **kwargs)
        out.append(path)
    return out


def timed(reader, images) -> tuple[list[float], list[list[tuple]]]:
    seconds, boxes = [], []
    for image in images:
        started = time.perf_counter()
        found = reader.read(image)
        seconds.append(time.perf_counter() - started)
        boxes.append([box_key(b) for b in found])
    return seconds, boxes


# The baseline reads every input afresh: tesseract without its crop cache, rapidocr without
# its detector and recogniser caches.
BASELINE_OPTIONS = {"tesseract": {"crop_cache": 0}, "rapidocr": {"model_cache": False}}


def engine(name: str, baseline: bool):
    return ocr.create(name, **(BASELINE_OPTIONS.get(name, {}) if baseline else {}))


def warm(reader, image):
    """One read of a blank image of the same size, so no mode pays the models' first-call
    set-up in its first frame (its inputs are in no cine, so no cache is seeded)."""
    blank = replace(image, pixels=np.zeros_like(image.pixels),
                    text_mask=None if image.text_mask is None else np.zeros_like(image.text_mask))
    getattr(reader, "engine", reader).read(blank)
    return reader


MODES = ("full", "exact", "areas")


def main() -> int:
    configure_process(worker=True)       # one OpenMP thread, as in a scan's workers
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("files", nargs="*", type=Path,
                        help="multi-frame DICOM files (default: synthetic cines)")
    parser.add_argument("--ocr", default="tesseract")
    parser.add_argument("--frames", type=int, default=12, help="frames of each synthetic cine")
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--max-images", type=int, default=20, help="images read per file")
    parser.add_argument("--repeat", type=int, default=3,
                        help="runs of each mode; the least time per image is kept "
                             "(a shared machine is noisy)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        files = args.files or synthetic(Path(tmp), args.frames, args.seed)
        print(f"engine {args.ocr}; seconds of OCR per image (decoding not timed), least of {args.repeat} runs")
        print("full: every frame read whole, no caches; exact: changed frames read whole with the "
              "engine's caches (processing.frame_reuse_exact); areas: changed areas only (the default)")
        print(f"{'file':<30} {'imgs':>4} " + " ".join(f"{m + ' 1st/next':>17}" for m in MODES)
              + f" {'next/1st':>15} {'reads (areas)':>14} {'exact=full':>10} {'areas=full':>10}")
        all_equal = True
        for path in files:
            images = list(itertools.islice(iter_images(read_dataset(path)), args.max_images))
            best: dict[str, list[float]] = {}
            boxes: dict[str, list] = {}
            counts = None
            for _ in range(args.repeat):       # fresh engines each time; the least time per image
                readers = {"full": warm(engine(args.ocr, baseline=True), images[0]),
                           "exact": warm(FrameReuse(engine(args.ocr, baseline=False), exact=True), images[0]),
                           "areas": warm(FrameReuse(engine(args.ocr, baseline=False)), images[0])}
                for mode, reader in readers.items():
                    seconds, boxes[mode] = timed(reader, images)
                    best[mode] = seconds if mode not in best else list(map(min, best[mode], seconds))
                counts = readers["areas"].counts
            exact_equal = boxes["exact"] == boxes["full"]
            areas_equal = sum(a == b for a, b in zip(boxes["areas"], boxes["full"]))
            all_equal &= exact_equal
            rest = max(1, len(images) - 1)
            cells, ratios = [], []
            for mode in MODES:
                first, nxt = best[mode][0], sum(best[mode][1:]) / rest
                cells.append(f"{first:>8.3f}/{nxt:<8.4f}")
                ratios.append(nxt / best["full"][0])
            print(f"{path.name[:30]:<30} {len(images):>4} " + " ".join(cells)
                  + f" {'/'.join(f'{r:.0%}' for r in ratios):>15}"
                  + f" {f'{counts.full_reads}w {counts.partial}p {counts.reused}r':>14}"
                  + f" {str(exact_equal):>10} {f'{areas_equal}/{len(images)}':>10}")
        print("next/1st: a further frame's time against the first frame of a full read (full, "
              "exact, areas); reads: w = images read whole, p = read in changed areas, "
              "r = repeated frames reused whole; areas=full: frames whose boxes equal a full read's")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
