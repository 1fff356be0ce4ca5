#!/usr/bin/env python3
"""Seconds per image of `--ocr rapidocr` against an untouched RapidOCR call, in one run.

Why: the rapidocr engine reads each image at its own size, in bounded pieces, recognises
crops one by one with a cache; this shows what that buys against the plain library call
(`RapidOCR(...)(rgb)`, one thread, no angle classifier) on the same images, in the same
process, rounds alternating so that the load of a shared machine falls on both alike. The
engine's crop cache is emptied before each of its rounds (within a round it works as in a
scan: the same text on several frames is recognised once).

    .venv/bin/python bench/make_corpus.py /tmp/corpus --count 40 --seed 1
    .venv/bin/python bench/bench_ocr_speed.py /tmp/corpus --images 60 --rounds 2
"""
from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

import numpy as np

from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.model import SOURCE_FRAME, Image
from scp_scanner.ocr.rapidocr_engine import DETECTOR_FILE, RECOGNISER_FILE, RapidOcrEngine
from scp_scanner.process import configure_process


def load_images(paths: list[Path], limit: int) -> list[Image]:
    images: list[Image] = []
    for path in paths:
        try:
            images.extend(iter_images(read_dataset(path)))
        except Exception as exc:  # a bench skips what it cannot read, and says so
            print(f"skipped {path}: {exc}", file=sys.stderr)
        if len(images) >= limit:
            break
    return images[:limit]


def plain_rgb(image: Image) -> np.ndarray:
    """What a plain RapidOCR user passes: the image as RGB (overlays as white text on black)."""
    pixels = image.pixels
    if image.source != SOURCE_FRAME:
        pixels = np.where(pixels > 0, 255, 0).astype(np.uint8)
    if pixels.ndim == 2:
        pixels = np.repeat(pixels[:, :, None], 3, axis=2)
    return np.ascontiguousarray(pixels)


def main(argv: list[str] | None = None) -> int:
    configure_process()          # engines load in this process: the CLI's own settings
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("inputs", nargs="+", type=Path, help="DICOM files or folders")
    parser.add_argument("--images", type=int, default=60, help="images to read (default 60)")
    parser.add_argument("--rounds", type=int, default=2, help="alternating rounds (default 2)")
    args = parser.parse_args(argv)
    paths = sorted(p for i in args.inputs for p in ([i] if i.is_file() else i.rglob("*.dcm")))
    images = load_images(paths, args.images)
    if not images:
        print("no images", file=sys.stderr)
        return 1

    from rapidocr import RapidOCR

    ours = RapidOcrEngine()
    plain = RapidOCR(params={
        "EngineConfig.onnxruntime.intra_op_num_threads": 1,
        "EngineConfig.onnxruntime.inter_op_num_threads": 1,
        "Global.use_cls": False, "Global.log_level": "critical",
        # the same files RapidOCR would find by itself, named so that nothing is looked up
        "Det.model_path": str(ours.model_dir / DETECTOR_FILE),
        "Rec.model_path": str(ours.model_dir / RECOGNISER_FILE)})
    plain(plain_rgb(images[0]))                      # both warmed up on one image
    ours.read(images[0])

    totals = {"untouched RapidOCR": 0.0, "scp-scanner rapidocr": 0.0}
    lines = {"untouched RapidOCR": 0, "scp-scanner rapidocr": 0}
    for _ in range(args.rounds):
        started = time.perf_counter()
        for image in images:
            result = plain(plain_rgb(image))
            lines["untouched RapidOCR"] += len(result.txts or ())
        totals["untouched RapidOCR"] += time.perf_counter() - started
        ours._cache.clear()
        started = time.perf_counter()
        for image in images:
            lines["scp-scanner rapidocr"] += len(ours.read(image))
        totals["scp-scanner rapidocr"] += time.perf_counter() - started

    count = len(images) * args.rounds
    print(f"{len(images)} images from {len(paths)} files, {args.rounds} rounds, one thread each")
    print(f"{'reader':24} {'s per image':>12} {'lines read per image':>22}")
    for name, seconds in totals.items():
        print(f"{name:24} {seconds / count:12.3f} {lines[name] / count:22.1f}")
    ratio = totals["untouched RapidOCR"] / max(totals["scp-scanner rapidocr"], 1e-9)
    print(f"speed-up: {ratio:.2f}x")
    return 0


if __name__ == "__main__":
    sys.exit(main())
