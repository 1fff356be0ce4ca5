#!/usr/bin/env python3
"""Sweep one tunable over values and print bench/score_scan.py's scores for each.

The tunables are the fields of the frozen parameter dataclasses, one per stage:
  prepare    scp_scanner.ocr.prepare.PrepareParams     (locating and cropping text)
  tesseract  scp_scanner.ocr.tesseract.TesseractParams (which words count, re-reads)
  fixups     scp_scanner.ocr.fixups.FixupParams        (joining names, digit look-alikes)
  rules      scp_scanner.pii.rules.RuleParams          (header values in the text)
The scanner runs in this process, image by image as `scan` does (frame reuse, enclosing
rectangles, the judge), with the swept value passed to the stage's functions; the defaults
give the same scores as `bench/score_scan.py` (same corpus, same engines). The prepare,
tesseract and fixups stages act through the tesseract engine only.

    .venv/bin/python bench/make_corpus.py /tmp/c11 --count 45 --seed 11
    .venv/bin/python bench/sweep.py /tmp/c11 --set prepare.smear_reach=0.7,0.8,0.9
    .venv/bin/python bench/sweep.py /tmp/c11 --set rules.gap_every=2,3,4 --pii spacy
"""
from __future__ import annotations

import argparse
import dataclasses
import os
import sys
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO / "bench"))
sys.path.insert(0, str(REPO / "tests"))

import dicomgen  # noqa: E402  (lives in tests/, shared with the test suite)
from score_scan import WholeRow, format_table, image_key, score  # noqa: E402

from scp_scanner import ocr as ocr_engines  # noqa: E402
from scp_scanner import pii as pii_engines  # noqa: E402
from scp_scanner.dicom import instance_info, iter_images, read_dataset  # noqa: E402
from scp_scanner.enclose import enclose  # noqa: E402
from scp_scanner.ocr.fixups import FIXUPS  # noqa: E402
from scp_scanner.ocr.prepare import PREPARE  # noqa: E402
from scp_scanner.ocr.reuse import FrameReuse  # noqa: E402
from scp_scanner.ocr.tesseract import TESSERACT  # noqa: E402
from scp_scanner.output.rows import image_rows  # noqa: E402
from scp_scanner.pii.judge import judge  # noqa: E402
from scp_scanner.pii.rules import RULES  # noqa: E402
from scp_scanner.text import whole_text  # noqa: E402
from scp_scanner.process import configure_process  # noqa: E402

# stage -> (default parameters, engine keyword that takes them; None: the judge's)
STAGES = {
    "prepare": (PREPARE, "prepare"),
    "tesseract": (TESSERACT, "params"),
    "fixups": (FIXUPS, "fixups"),
    "rules": (RULES, None),
}


def parse_setting(text: str) -> tuple[str, str, list[str]]:
    """'prepare.smear_reach=0.7,0.8' -> ('prepare', 'smear_reach', ['0.7', '0.8'])."""
    name, _, values = text.partition("=")
    stage, _, field = name.strip().partition(".")
    if stage not in STAGES:
        raise SystemExit(f"unknown stage {stage!r}; one of: {', '.join(STAGES)}")
    defaults = STAGES[stage][0]
    known = {f.name for f in dataclasses.fields(defaults)}
    if field not in known:
        raise SystemExit(f"{stage} has no parameter {field!r}; it has: {', '.join(sorted(known))}")
    if not values.strip():
        raise SystemExit(f"give values: --set {stage}.{field}=V1,V2,...")
    return stage, field, [v.strip() for v in values.split(",") if v.strip()]


def typed(defaults, field: str, value: str):
    """value in the type of the default (int fields take whole numbers)."""
    kind = type(getattr(defaults, field))
    return kind(float(value)) if kind is int else kind(value)


def scan_rows(truths, engine, ner, rules) -> dict:
    """Whole-text rows by image, produced as `scan` produces them."""
    rows = {}
    for truth in truths:
        ds = read_dataset(truth.path)
        info = instance_info(ds, truth.path)
        reader = FrameReuse(engine)
        for image in iter_images(ds, overlays=True):
            boxes = enclose(image, reader.read(image))
            text = whole_text(boxes)
            verdict = judge(boxes, info, ner, rules) if ner is not None else None
            whole = image_rows(info, image, ocr_engine=engine.name, ner_engine=ner.name if ner else "",
                               boxes=boxes, whole_text=text, verdict=verdict)[-1]
            rows[image_key(whole.filename, whole.frame, whole.overlay)] = WholeRow(whole.ocr_text,
                                                                                  whole.is_sensitive)
    return rows


def main(argv: list[str] | None = None) -> int:
    configure_process()          # engines load in this process: the CLI's own settings
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter,
                                     epilog="\n".join(__doc__.splitlines()[1:]))
    parser.add_argument("corpus", type=Path, help="corpus folder (with truth.json) or a truth.json")
    parser.add_argument("--set", dest="setting", required=True,
                        help="STAGE.FIELD=V1,V2,... (e.g. prepare.smear_reach=0.7,0.8,0.9)")
    parser.add_argument("--ocr", default="tesseract", help="OCR engine (default tesseract)")
    parser.add_argument("--pii", default="spacy", help="PII engine (default spacy)")
    args = parser.parse_args(argv)
    stage, field, values = parse_setting(args.setting)
    defaults, keyword = STAGES[stage]
    if keyword is not None and args.ocr != "tesseract":
        print(f"{stage} parameters act through the tesseract engine only", file=sys.stderr)
        return 2
    truths = dicomgen.read_truth(args.corpus.resolve())
    if len({os.path.basename(t.path) for t in truths}) != len(truths):
        print("truth file names are not unique; rows are matched by file name", file=sys.stderr)
        return 2
    name, model = pii_engines.parse_spec(args.pii)
    ner = pii_engines.create(name, model)
    for value in values:
        params = dataclasses.replace(defaults, **{field: typed(defaults, field, value)})
        engine = ocr_engines.create(args.ocr, **({keyword: params} if keyword else {}))
        started = time.perf_counter()
        rows = scan_rows(truths, engine, ner, params if keyword is None else RULES)
        scores = score(truths, rows)
        scores.seconds = time.perf_counter() - started
        print(f"\n== {stage}.{field} = {getattr(params, field)!r}"
              f"{' (default)' if params == defaults else ''}")
        print(format_table(scores))
    return 0


if __name__ == "__main__":
    sys.exit(main())
