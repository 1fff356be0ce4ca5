"""Cine cost: a full read of every frame against frame reuse (scp_scanner/ocr/reuse.py).

For each file, in one run: the images are decoded once, then read twice with fresh engines,
(a) every image read whole by the engine (tesseract without its crop cache, rapidocr without
its model caches: the reading as it was before reuse), (b) through FrameReuse (with the
caches). Prints seconds for
the first frame and per further frame, the ratio further/first for each, and checks that both
give the same boxes (text and rectangle) on every image. Decoding is not timed.

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
from pathlib import Path

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
        print(f"engine {args.ocr}; s = seconds of OCR (decoding not timed)")
        print(f"{'file':<34} {'images':>6} {'full 1st':>9} {'full next':>9} {'ratio':>6} "
              f"{'reuse 1st':>9} {'reuse next':>10} {'ratio':>6} {'speed-up':>8} {'reads':>16} equal")
        all_equal = True
        for path in files:
            images = list(itertools.islice(iter_images(read_dataset(path)), args.max_images))
            full_s = reuse_s = None
            equal = True
            for _ in range(args.repeat):       # fresh engines each time; the least time per image
                seconds, full_boxes = timed(engine(args.ocr, baseline=True), images)
                full_s = seconds if full_s is None else list(map(min, full_s, seconds))
                reuse = FrameReuse(engine(args.ocr, baseline=False))
                seconds, reuse_boxes = timed(reuse, images)
                reuse_s = seconds if reuse_s is None else list(map(min, reuse_s, seconds))
                equal &= full_boxes == reuse_boxes
            all_equal &= equal
            rest = max(1, len(images) - 1)
            f1, fn = full_s[0], sum(full_s[1:]) / rest
            r1, rn = reuse_s[0], sum(reuse_s[1:]) / rest
            c = reuse.counts
            print(f"{path.name[:34]:<34} {len(images):>6} {f1:>9.3f} {fn:>9.3f} {fn / f1:>6.2f} "
                  f"{r1:>9.3f} {rn:>10.4f} {rn / r1:>6.3f} {sum(full_s) / sum(reuse_s):>7.1f}x "
                  f"{f'{c.full_reads}w {c.partial}p {c.reused}r {c.checks_failed}x':>16} {equal}")
        print("reads: w = images read whole, p = read in changed patches, r = reused whole, "
              "x = series whose crop check failed (then read whole)")
    return 0 if all_equal else 1


if __name__ == "__main__":
    sys.exit(main())
