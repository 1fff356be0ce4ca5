"""`scp-scanner scan`: paths -> the pipeline -> CSV on stdout or a file.

Rows of one file are rendered together and written in one call, so they stay contiguous.
A file that cannot be processed is named on stderr with the reason and the scan goes on.
"""
from __future__ import annotations

import argparse
import itertools
import logging
import os
import sys
from collections import deque
from contextlib import nullcontext
from dataclasses import dataclass
from typing import IO, Iterable, Iterator

from tqdm import tqdm

from .dicom import DicomInputError, instance_info, iter_images, read_dataset
from .registry import EngineError
from .output.csv_file import open_private, render
from .output.export import export_dir, export_image, export_name
from .output.rows import Row, image_rows
from .paths import InputPath, has_dicom_magic, iter_inputs
from . import config
from .pipeline import Pipeline, PipelineSettings, build_pipeline
from .workers import WorkerPool

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
# Files handed to the workers ahead of the one being written (keeps memory bounded on
# archive-sized inputs while no worker waits).
IN_FLIGHT_PER_WORKER = 4


@dataclass
class Tally:
    files: int = 0
    images: int = 0
    sensitive: int = 0
    failed: int = 0
    skipped: int = 0


def settings_from_args(args: argparse.Namespace) -> PipelineSettings:
    """Engines and options from the flags (and the processing section of --config)."""
    options: tuple[tuple[str, object], ...] = ()
    limits = config.decode_limits(config.ProcessingConfig())
    if args.config:
        processing = config.load(args.config).processing
        options = config.ocr_options(processing)
        limits = config.decode_limits(processing)
    return PipelineSettings(ocr=None if args.identify else args.ocr,
                            pii=args.pii if (args.ocr and not args.identify) else None,
                            rects=args.rects, overlays=not args.no_overlays, ocr_options=options,
                            limits=limits)


def scan_one(pipeline: Pipeline, item: InputPath, args: argparse.Namespace) -> tuple[list[Row], int, int]:
    """Rows for one file, with its image and sensitive-image counts. Raises DicomInputError."""
    if not (args.extract or args.identify):
        result = pipeline.process_file(item.path)
        return result.rows, result.images, result.sensitive_images
    ds = read_dataset(item.path, pipeline.limits)
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


def rows_serially(args: argparse.Namespace, settings: PipelineSettings, items: Iterable[InputPath]
                  ) -> Iterator[tuple[InputPath, list[Row] | None, int, int, str]]:
    """(item, rows, images, sensitive images, error) for each input, in order, in this process."""
    pipeline = build_pipeline(settings)
    for item in items:
        try:
            rows, images, sensitive = scan_one(pipeline, item, args)
        except DicomInputError as exc:
            yield item, None, 0, 0, str(exc)
        except OSError as exc:
            yield item, None, 0, 0, exc.strerror or str(exc)
        else:
            yield item, rows, images, sensitive, ""


def rows_in_workers(jobs: int, settings: PipelineSettings, items: Iterable[InputPath]
                    ) -> Iterator[tuple[InputPath, list[Row] | None, int, int, str]]:
    """The same, with files scanned by `jobs` worker processes; results come back in input
    order, with a bounded number of files in flight."""
    pool = WorkerPool(settings, workers=jobs, nice=0)
    pool.start()
    try:
        pool.check()
    except RuntimeError as exc:
        pool.stop(wait=False)
        raise EngineError(str(exc)) from None
    pending: deque = deque()
    try:
        for item in items:
            pending.append((item, pool.submit_path(item.path)))
            if len(pending) >= IN_FLIGHT_PER_WORKER * pool.workers:
                yield _collect(*pending.popleft())
        while pending:
            yield _collect(*pending.popleft())
    finally:
        pool.stop(wait=False)


def _collect(item: InputPath, future) -> tuple[InputPath, list[Row] | None, int, int, str]:
    outcome = future.result()
    if outcome.result is None:
        return item, None, 0, 0, outcome.error
    result = outcome.result
    return item, result.rows, result.images, result.sensitive_images, ""


def run_scan(args: argparse.Namespace) -> int:
    if args.pii and not args.ocr:
        log.warning("--pii needs --ocr: without OCR there is no text to check; is_sensitive will be -1")
    jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
    parallel = jobs > 1 and not (args.extract or args.identify)
    try:
        settings = settings_from_args(args)
        items = iter_inputs(args.paths)
        results = (rows_in_workers(jobs, settings, items) if parallel
                   else rows_serially(args, settings, items))
        first = next(results, None)     # engines load here: a set-up error stops before any output
    except (EngineError, config.ConfigError) as exc:
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
        stream_of_results = itertools.chain([first], results) if first is not None else results
        progress = tqdm(stream_of_results, unit=" files", disable=None, file=sys.stderr, leave=False)
        for item, rows, images, sensitive, error in progress:
            if rows is None:
                if item.walked and not has_dicom_magic(item.path):
                    tally.skipped += 1
                    progress.write(f"scp-scanner: skipped {item.path}: not DICOM ({error})", file=sys.stderr)
                else:
                    tally.failed += 1
                    progress.write(f"scp-scanner: failed {item.path}: {error}", file=sys.stderr)
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
