"""`scp-scanner scan`: paths -> the pipeline -> CSV on stdout or a file.

Rows of one file are rendered together and written in one call, so they stay contiguous.
A file that cannot be processed is named on stderr with the reason and the scan goes on.
"""
from __future__ import annotations

import argparse
import logging
import sys
from contextlib import nullcontext
from dataclasses import dataclass
from typing import IO

from tqdm import tqdm

from .dicom import DicomInputError, instance_info, iter_images, read_dataset
from .ocr import EngineError
from .output.csv_file import open_private, render
from .output.export import export_dir, export_image, export_name
from .output.rows import Row, image_rows
from .paths import InputPath, has_dicom_magic, iter_inputs
from .pipeline import Pipeline, PipelineSettings, build_pipeline

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2


@dataclass
class Tally:
    files: int = 0
    images: int = 0
    sensitive: int = 0
    failed: int = 0
    skipped: int = 0


def settings_from_args(args: argparse.Namespace) -> PipelineSettings:
    return PipelineSettings(ocr=None if args.identify else args.ocr,
                            pii=args.pii if (args.ocr and not args.identify) else None,
                            rects=args.rects, overlays=not args.no_overlays)


def scan_one(pipeline: Pipeline, item: InputPath, args: argparse.Namespace) -> tuple[list[Row], int, int]:
    """Rows for one file, with its image and sensitive-image counts. Raises DicomInputError."""
    if not (args.extract or args.identify):
        result = pipeline.process_file(item.path)
        return result.rows, result.images, result.sensitive_images
    ds = read_dataset(item.path)
    info = instance_info(ds, item.path)
    rows: list[Row] = []
    images = sensitive = 0
    for image in iter_images(ds, overlays=pipeline.overlays):
        images += 1
        name = export_name(item.path, image, args.format)
        if args.identify:
            print(f"{item.path}: {image.describe()} -> {name}", file=sys.stderr)
            rows.extend(image_rows(info, image))
            continue
        target = export_dir(item.path) / name
        export_image(image, target, args.format)
        log.info("extracted %s", target)
        image_rows_, is_sensitive = pipeline.image_rows(info, image)
        rows.extend(image_rows_)
        sensitive += int(is_sensitive)
    return rows, images, sensitive


def run_scan(args: argparse.Namespace) -> int:
    if args.pii and not args.ocr:
        log.warning("--pii needs --ocr: without OCR there is no text to check; is_sensitive will be -1")
    try:
        pipeline = build_pipeline(settings_from_args(args))
    except EngineError as exc:
        print(f"scp-scanner: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        out: IO[str] = open_private(args.output) if args.output != "-" else nullcontext(sys.stdout)
    except OSError as exc:
        print(f"scp-scanner: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    tally = Tally()
    with out as stream:
        stream.write(render([], header=True))
        stream.flush()
        # tqdm shows a bar only when stderr is a terminal (disable=None), so pipes stay quiet.
        progress = tqdm(iter_inputs(args.paths), unit="file", disable=None, file=sys.stderr, leave=False)
        for item in progress:
            try:
                rows, images, sensitive = scan_one(pipeline, item, args)
            except DicomInputError as exc:
                if item.walked and not has_dicom_magic(item.path):
                    tally.skipped += 1
                    progress.write(f"scp-scanner: skipped {item.path}: not DICOM ({exc})", file=sys.stderr)
                else:
                    tally.failed += 1
                    progress.write(f"scp-scanner: failed {item.path}: {exc}", file=sys.stderr)
                continue
            except OSError as exc:
                tally.failed += 1
                progress.write(f"scp-scanner: failed {item.path}: {exc.strerror or exc}", file=sys.stderr)
                continue
            stream.write(render(rows))
            stream.flush()
            tally.files += 1
            tally.images += images
            tally.sensitive += sensitive
            log.info("%s: %d images, %d rows, %d with PII", item.path, images, len(rows), sensitive)
        progress.close()
    log.info("scanned %d files (%d images, %d with PII), %d failed, %d skipped as not DICOM",
             tally.files, tally.images, tally.sensitive, tally.failed, tally.skipped)
    return EXIT_FAILURES if tally.failed else EXIT_OK
