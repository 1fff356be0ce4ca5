"""The temperature that calibrates the recogniser's output, fitted on labelled line crops.

The word prior and the field forms (ocr/lexicon.py, ocr/fields.py) weigh the recogniser's
per-step probabilities against word frequencies, as a noisy channel. A network trained on
its own fonts is surer of itself than it is right on others, so its probabilities are
tempered first (temperature scaling: each step's distribution raised to 1/T, normalised).
This prints, for each T, the mean negative log likelihood of the lines' true text (the CTC
likelihood over the whole line) and the T that makes it least; the engine's
RECOGNISER_TEMPERATURE is that value. Fit it on crops of fonts the recogniser was not
trained on (`make_lines.py --fonts extra`), never on a reported corpus.

    .venv/bin/python scripts/recogniser/make_lines.py /tmp/cal.pkl 3001 3002 --files 12 --fonts extra
    .venv/bin/python scripts/recogniser/calibrate.py /tmp/cal.pkl
"""
from __future__ import annotations

import argparse
import pickle
import sys

import numpy as np

from scp_scanner.ocr.lexicon import calibrated, ctc_log_likelihood
from scp_scanner.ocr.ppocr_decode import ctc_greedy
from scp_scanner.ocr.rapidocr_engine import RECOGNISER_TEMPERATURE, RapidOcrEngine

TEMPERATURES = (1.0, 1.25, 1.5, 1.75, 2.0, 2.5, 3.0)


def mean_nll(outputs: list[tuple[np.ndarray, list[int]]], temperature: float) -> float:
    """Mean negative log likelihood of each line's labels under the tempered output."""
    return float(np.mean([-ctc_log_likelihood(calibrated(probs, temperature), labels)
                          for probs, labels in outputs]))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("lines", help="pickle of (crop, text, ...) tuples from make_lines.py")
    parser.add_argument("--limit", type=int, default=0, help="read only the first N lines")
    parser.add_argument("--model-dir", default=None,
                        help="a rapidocr model folder (default: the shipped recogniser)")
    args = parser.parse_args()
    engine = RapidOcrEngine(rapidocr_model_dir=args.model_dir, lexicon=False)
    with open(args.lines, "rb") as fh:
        lines = pickle.load(fh)
    if args.limit:
        lines = lines[:args.limit]
    outputs, wrong = [], 0
    for crop, text, *_ in lines:
        if any(ch not in engine._index for ch in text):
            continue
        probs = engine.line_outputs([crop])[0][0]
        labels = [engine._index[ch] for ch in text]
        if probs.shape[0] < len(labels):
            continue
        wrong += ctc_greedy(probs, engine._alphabet)[0] != text
        outputs.append((probs, labels))
    if not outputs:
        print("no line could be scored", file=sys.stderr)
        return 1
    print(f"{len(outputs)} lines, {wrong} read wrong by greedy decoding")
    scores = {t: mean_nll(outputs, t) for t in TEMPERATURES}
    for t, score in scores.items():
        print(f"T {t:<5} mean negative log likelihood per line {score:.3f}")
    best = min(scores, key=scores.get)
    print(f"best T {best} (the engine uses {RECOGNISER_TEMPERATURE})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
