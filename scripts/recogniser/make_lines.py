"""Labelled line crops for fine-tuning the recogniser, cut exactly as the engine cuts them.

For each seed, writes the generator's varied and classic cases (40 files each, in the
`--fonts` set: `tuning` by default, `extra` or `training` for the families that only training
sees; never `heldout`) with line_text's text in a scratch folder, reads every image with the rapidocr engine,
and keeps each line crop the engine sends to its recogniser (view pixels, after its scaling)
labelled with the truth words wholly inside the crop's box; a crop that cuts a word, spans two
lines or holds a character the recogniser lacks is dropped. Identical crops are kept once.

    .venv/bin/python scripts/recogniser/make_lines.py /tmp/lines_a.pkl 1002 1003 ...
"""
from __future__ import annotations

import argparse
import os
import pickle
import shutil
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import line_text  # noqa: E402
import dicomgen  # noqa: E402  (the module line_text imported, and install() patches)

from scp_scanner.ocr import rapidocr_engine  # noqa: E402
from scp_scanner.pipeline import build_pipeline  # noqa: E402
from scp_scanner.pipeline_types import PipelineSettings  # noqa: E402


def label(box, words, alphabet) -> str | None:
    """The words wholly inside box (left, top, right, bottom), left to right, or None."""
    left, top, right, bottom = box
    inside = []
    for w in words:
        if w.right <= left or w.left >= right or w.bottom <= top or w.top >= bottom:
            continue
        if not (w.left >= left - 2 and w.right <= right + 2 and w.top >= top - 3 and w.bottom <= bottom + 3):
            return None                 # the crop cuts this word
        inside.append(w)
    if not inside:
        return None
    middles = [(w.top + w.bottom) / 2 for w in inside]
    if max(middles) - min(middles) > 0.6 * max(w.bottom - w.top for w in inside):
        return None                     # two lines
    text = " ".join(w.text for w in sorted(inside, key=lambda w: w.left))
    return text if all(ch in alphabet for ch in text) else None


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out", help="pickle of (crop, text, style, file name) tuples")
    parser.add_argument("seeds", nargs="+", type=int)
    parser.add_argument("--files", type=int, default=40, help="files per style and seed")
    parser.add_argument("--fonts", choices=("tuning", "extra", "training"), default="tuning",
                        help="the generator's font set to draw in (default: tuning)")
    args = parser.parse_args()
    line_text.install()
    # The stock recogniser, as the shipped model's crops were made (the crops are the
    # detector's; the recogniser only decides which lines the engine keeps).
    stock = (("rapidocr_model_dir", str(rapidocr_engine.stock_model_dir())),)
    pipeline = build_pipeline(PipelineSettings(ocr="rapidocr", rects=True, ocr_options=stock))
    alphabet = set(pipeline.ocr._alphabet[1:])
    captured = []
    line_boxes = rapidocr_engine.RapidOcrEngine._line_boxes

    def capture(self, image, view, rects):
        for r in rects:
            box = view.to_original(r.left, r.top, r.right, r.bottom, image.height, image.width)
            captured.append((image.frame, image.overlay, box, view.pixels[r.top:r.bottom, r.left:r.right].copy()))
        return line_boxes(self, image, view, rects)

    rapidocr_engine.RapidOcrEngine._line_boxes = capture
    samples, started = [], time.time()
    scratch = Path(tempfile.mkdtemp(prefix="lines-"))
    try:
        for seed in args.seeds:
            for style in ("varied", "classic"):
                folder = scratch / f"{style}_{seed}"
                if style == "varied":
                    truths = dicomgen.make_varied_corpus(folder, args.files, seed, fonts=args.fonts)
                else:
                    truths = dicomgen.make_corpus(folder, seed=seed, count=args.files, fonts=args.fonts)
                for truth in truths:
                    captured.clear()
                    pipeline.process_file(truth.path)
                    words_of = {(im.frame, im.overlay): im.words for im in truth.images}
                    seen = set()
                    for frame, overlay, box, crop in captured:
                        text = label(box, words_of.get((frame, overlay), ()), alphabet)
                        if text is not None and (crop.tobytes(), text) not in seen:
                            seen.add((crop.tobytes(), text))
                            samples.append((crop, text, style, os.path.basename(truth.path)))
                shutil.rmtree(folder)
                print(seed, style, len(samples), f"{time.time() - started:.0f} s", flush=True)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    fd = os.open(args.out, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "wb") as fh:
        pickle.dump(samples, fh)
    print("samples", len(samples))
    return 0


if __name__ == "__main__":
    sys.exit(main())
