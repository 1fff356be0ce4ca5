#!/usr/bin/env python3
"""Write a corpus of synthetic DICOM files with known burned-in text, and its truth.json.

Why: bench/score_scan.py measures the scanner against these files; keeping the corpus a
command means any engineer can make the same corpus (same seed, same text) on any machine.

    .venv/bin/python bench/make_corpus.py /tmp/corpus --count 40 --seed 0
    .venv/bin/python bench/make_corpus.py /tmp/varied --style varied --fonts heldout --seed 23

--style varied draws the benchmark's corpus (bench/bench_engines.py): many fonts, 7-16 px,
anti-aliased or not, JPEG 40-95, colour, busy, palette and interlaced images, from the font
set --fonts (tuning: tune on seeds 1-9; heldout: report on seeds 23, 41, 97).
--sizes LOW-HIGH draws varied text at other sizes (e.g. 17-26 or 26-40: sizes the project
was not tuned on; 5-9 goes below the smallest it draws).
--style classic --fonts SET draws the classic cases in that set's faces at 9-16 px (bitmap
faces at their own size), whatever the image's width: the classic corpus in other fonts.
"""
from __future__ import annotations

import argparse
import sys
import time
from collections import Counter
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent / "tests"))

import dicomgen  # noqa: E402  (lives in tests/, shared with the test suite)


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("out_dir", type=Path, help="folder to write (made owner-only)")
    parser.add_argument("--count", type=int, default=40,
                        help="number of files, cases taken in turn (default 40)")
    parser.add_argument("--seed", type=int, default=0, help="seed for text and pixels (default 0)")
    parser.add_argument("--cases", default="",
                        help=f"comma-separated subset of: {', '.join(dicomgen.CASES)} "
                             f"(--style varied: {', '.join(dicomgen.VARIED_CASES)})")
    parser.add_argument("--style", choices=("classic", "varied"), default="classic",
                        help="classic (the unit tests' cases; default) or varied")
    parser.add_argument("--fonts", choices=dicomgen.FONT_SETS, default=None,
                        help="font set: --style varied draws from it (default heldout); "
                             "--style classic draws DejaVu unless it is given, then that "
                             "set's faces at 9-16 px, hard-edged")
    parser.add_argument("--sizes", type=font_sizes, default=None, metavar="LOW-HIGH",
                        help="--style varied: draw font sizes from LOW to HIGH px (default "
                             f"{dicomgen.VARIED_SIZES[0]}-{dicomgen.VARIED_SIZES[1]}; 5-64), to "
                             "score text of sizes the project is not tuned on")
    args = parser.parse_args(argv)
    if args.sizes is not None and args.style != "varied":
        parser.error("--sizes needs --style varied")
    return args


def font_sizes(text: str) -> tuple[int, int]:
    """`LOW-HIGH` (or one size) as a range of font sizes the generator can draw."""
    try:
        low, _, high = text.partition("-")
        sizes = (int(low), int(high or low))
        dicomgen.check_sizes(sizes)
    except ValueError as exc:
        raise argparse.ArgumentTypeError(str(exc) if "px" in str(exc) else
                                         f"{text!r}: give LOW-HIGH in px, e.g. 17-26") from None
    return sizes


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    cases = [c.strip() for c in args.cases.split(",") if c.strip()] or None
    known = dicomgen.VARIED_CASES if args.style == "varied" else dicomgen.CASES
    unknown = [c for c in cases or [] if c not in known]
    if unknown:
        print(f"unknown case(s): {', '.join(unknown)}; known: {', '.join(known)}",
              file=sys.stderr)
        return 2
    started = time.perf_counter()
    if args.style == "varied":
        truths = dicomgen.make_varied_corpus(args.out_dir, count=args.count, seed=args.seed,
                                             fonts=args.fonts or "heldout", cases=cases,
                                             sizes=args.sizes or dicomgen.VARIED_SIZES)
    else:
        truths = dicomgen.make_corpus(args.out_dir, seed=args.seed, cases=cases, count=args.count,
                                      fonts=args.fonts)
    elapsed = time.perf_counter() - started
    images = sum(len(t.images) for t in truths)
    words = sum(len(i.words) for t in truths for i in t.images)
    pii = sum(w.pii for t in truths for i in t.images for w in i.words)
    per_case = Counter(t.case for t in truths)
    print(f"wrote {len(truths)} files ({images} images, {words} words, {pii} identifying) "
          f"to {args.out_dir} in {elapsed:.1f} s; truth: {args.out_dir / dicomgen.TRUTH_FILENAME}")
    print("  " + ", ".join(f"{case} {n}" for case, n in per_case.items()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
