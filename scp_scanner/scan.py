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
from concurrent.futures import FIRST_COMPLETED, Future, wait
from contextlib import nullcontext
from dataclasses import dataclass
from typing import IO, TYPE_CHECKING, Callable, Iterable, Iterator

from tqdm import tqdm

from .dicom import DicomInputError, NotDicomError
from .kept_out import import_pydicom
from .registry import EngineError
from .output.csv_file import render
from .private_files import open_private
from .output.rows import Row
from .partitions import DEFAULT_PARTITION_SIZE
from .paths import InputPath, iter_inputs
from . import config
from .pipeline_types import PipelineSettings
from .work_order import largest_first, work_estimate
from .workers import WorkerPool, process_path

if TYPE_CHECKING:
    from .model import Image
    from .pipeline import Pipeline

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURES, EXIT_USAGE = 0, 1, 2
# Files read ahead of the one being written, per worker: the workers take the largest of them
# first (work_order.py); finished ones wait here to be written in input order, so memory
# stays bounded on archive-sized inputs. A file enters the look-ahead only once every file
# more than the look-ahead before it is written, so a long file late in a short list starts
# late: with 8 per worker, 2 workers over the 21 real files of bench/real_files.py started a
# 30-frame cine and a palette US last, and one worker ran on alone for 0.25 s at the end
# (16 per worker: the order of a look-ahead of the whole list; 4 December 2026).
LOOKAHEAD_PER_WORKER = 16


# What one worker may need at its peak, so that the default number of workers fits the free
# memory: rapidocr or tesseract with spaCy ~300-400 MB (models ~300 MB, a large image's
# arrays ~100 MB: docs/accuracy.md, "Memory on large images"); easyocr brings torch (1.26 GB measured
# with spaCy on an ultrasound frame); flair adds ~0.7 GB of its own.
WORKER_MEMORY = 512 << 20
ENGINE_MEMORY = {"easyocr": 1536 << 20}
FLAIR_MEMORY = 768 << 20


def worker_memory(ocr: str | None, pii: str | None) -> int:
    """Bytes one worker may need with these engines."""
    memory = ENGINE_MEMORY.get((ocr or "").strip().lower(), WORKER_MEMORY)
    if (pii or "").strip().lower().startswith("flair"):
        memory += FLAIR_MEMORY
    return memory


def default_jobs(cores: int, available: int | None, per_worker: int = WORKER_MEMORY) -> int:
    """Workers for a scan that does not say: one per core, no more than the available memory
    holds at `per_worker` bytes each (all cores when it is not known), and at least one."""
    workers = max(1, cores)
    if available is not None:
        workers = min(workers, available // per_worker)
    return max(1, workers)


def usable_cores() -> int:
    """Cores this process may run on (its CPU affinity, where the system tells it)."""
    try:
        return len(os.sched_getaffinity(0)) or 1
    except (AttributeError, OSError):
        return os.cpu_count() or 1


def available_memory(meminfo: str = "/proc/meminfo") -> int | None:
    """Bytes the kernel can give without swapping (MemAvailable), None where not known."""
    try:
        with open(meminfo, encoding="ascii") as handle:
            for line in handle:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        return None
    return None


@dataclass
class Tally:
    files: int = 0
    images: int = 0
    sensitive: int = 0
    failed: int = 0
    skipped: int = 0


def csv_stdout() -> IO[str]:
    """stdout is the CSV, and nothing else may reach it: the CSV gets its own duplicate of the
    real stdout, and file descriptor 1 and sys.stdout are pointed at stderr, so whatever an
    engine or library prints (flair's logger writes its vocabulary to stdout; C libraries
    write to fd 1) lands on stderr. Worker processes inherit the redirected fd 1."""
    sys.stdout.flush()
    encoding, errors = sys.stdout.encoding or "utf-8", sys.stdout.errors or "strict"
    fd = os.dup(1)
    os.dup2(2, 1)
    sys.stdout = sys.stderr
    return os.fdopen(fd, "w", encoding=encoding, errors=errors, newline="")


def settings_from_args(args: argparse.Namespace) -> PipelineSettings:
    """Engines and options from the flags (and the processing section of --config)."""
    options: tuple[tuple[str, object], ...] = ()
    frame_reuse, exact, still_text = True, False, True
    limits = config.decode_limits(config.ProcessingConfig())
    if args.config:
        processing = config.load(args.config).processing
        options, frame_reuse = config.ocr_options(processing), processing.frame_reuse
        exact, still_text = processing.frame_reuse_exact, processing.still_text
        limits = config.decode_limits(processing)
    # -i only stops extraction (as in the reference): OCR and PII still run when asked.
    return PipelineSettings(ocr=args.ocr, pii=args.pii if args.ocr else None,
                            rects=args.rects, overlays=not args.no_overlays, ocr_options=options,
                            frame_reuse=frame_reuse, frame_reuse_exact=exact, still_text=still_text,
                            limits=limits)


@dataclass(frozen=True)
class Result:
    """What scanning one input gave: its rows (None when it failed), its image and
    sensitive-image counts, or the error and whether the file is not DICOM at all."""

    item: InputPath
    rows: list[Row] | None
    images: int = 0
    sensitive: int = 0
    error: str = ""
    not_dicom: bool = False


def scan_one(pipeline: Pipeline, item: InputPath, args: argparse.Namespace) -> Result:
    """Rows for one file, with its image and sensitive-image counts. Raises DicomInputError."""
    if not (args.extract or args.identify):
        result = pipeline.process_file(item.path)
        return Result(item, result.rows, result.images, result.sensitive_images)
    # Image reading is imported where images are read (here, or in workers): a parallel
    # scan's main process starts its workers without it.
    from .dicom import read_dataset
    from .output.export import export_dir, export_image, export_name

    def export(image: Image) -> None:
        name = export_name(item.path, image, args.format)
        if args.identify:
            print(f"{item.path}: {image.describe()} -> {name}", file=sys.stderr)
        else:
            target = export_dir(item.path) / name
            export_image(image, target, args.format)
            log.info("extracted %s", target)

    # The same pass as a plain scan's (frame reuse, still text), each image written as read.
    result = pipeline.process_dataset(read_dataset(item.path, pipeline.limits), item.path, on_image=export)
    return Result(item, result.rows, result.images, result.sensitive_images)


def rows_serially(args: argparse.Namespace, settings: PipelineSettings, items: Iterable[InputPath]
                  ) -> Iterator[Result]:
    """The Result of each input, in order, in this process."""
    import_pydicom()
    from .pipeline import build_pipeline      # loaded only where images are read (workers.py)

    pipeline = build_pipeline(settings)
    for item in items:
        try:
            result = scan_one(pipeline, item, args)
        except NotDicomError as exc:
            result = Result(item, None, error=str(exc), not_dicom=True)
        except DicomInputError as exc:
            result = Result(item, None, error=str(exc))
        except OSError as exc:
            result = Result(item, None, error=exc.strerror or str(exc))
        yield result


def rows_in_workers(jobs: int, settings: PipelineSettings, items: Iterable[InputPath]
                    ) -> Iterator[Result]:
    """The same, with files scanned by `jobs` worker processes, the largest of the files read
    ahead first; results come back in input order, with a bounded number of files held."""
    pool = WorkerPool(settings, workers=jobs, nice=0, fork=True)
    lookahead = LOOKAHEAD_PER_WORKER * pool.workers
    queue = estimated(items)
    try:
        # The first files' headers are read (pydicom imported) first; then the pipeline is
        # built here once and the workers are forked with it (WorkerPool's fork).
        ahead = list(itertools.islice(queue, lookahead))
        pool.start()
        pool.check()
    except BaseException:       # an engine error, an unreadable --list, Ctrl-C: no worker is left
        pool.stop(wait=False)
        raise

    def submit(item: InputPath) -> Future:
        return pool.submit(process_path, item.path)

    try:
        for item, future in largest_first_in_order(itertools.chain(ahead, queue), submit,
                                                   pool.workers, lookahead):
            yield _collect(item, future)
    finally:
        pool.stop(wait=False)


def estimated(items: Iterable[InputPath]) -> Iterator[tuple[float, InputPath]]:
    """Each item with its work estimate (work_order.py), read from its header as it comes."""
    for item in items:
        yield work_estimate(item.path), item


def largest_first_in_order(items: Iterable[tuple[float, InputPath]], submit: Callable[[InputPath], Future],
                           workers: int, lookahead: int) -> Iterator[tuple[InputPath, Future]]:
    """Each item (given with its work estimate: `estimated`) with its finished future, in
    input order. Up to `lookahead` items are read ahead; whenever fewer than `workers` run,
    the one with the largest estimate among those not started is submitted (work_order.py)."""
    inputs = enumerate(items)
    waiting: list[tuple[float, int, InputPath]] = []      # read from the input, not started
    running: set[Future] = set()
    started: dict[int, tuple[InputPath, Future]] = {}     # by input position, until yielded
    ended = False
    written = 0
    while True:
        while not ended and len(waiting) + len(started) < lookahead:
            nxt = next(inputs, None)
            if nxt is None:
                ended = True
            else:
                position, (estimate, item) = nxt
                waiting.append((estimate, position, item))
        while waiting and len(running) < workers:
            _, position, item = waiting.pop(largest_first([(w[0], w[1]) for w in waiting]))
            future = submit(item)
            running.add(future)
            started[position] = (item, future)
        if written in started and started[written][1].done():
            item, future = started.pop(written)
            running.discard(future)
            written += 1
            yield item, future
            continue
        if not running:
            return
        finished, _ = wait(list(running), return_when=FIRST_COMPLETED)
        running -= finished


def _collect(item: InputPath, future) -> Result:
    outcome = future.result()
    if outcome.result is None:
        return Result(item, None, error=outcome.error, not_dicom=outcome.not_dicom)
    result = outcome.result
    return Result(item, result.rows, result.images, result.sensitive_images)


def input_items(args: argparse.Namespace) -> Iterator[InputPath]:
    """The command's paths, then the lines of each --list file, streamed."""
    yield from iter_inputs(args.paths)
    for name in args.lists:
        if name == "-":
            yield from iter_inputs(["-"])
        else:
            with open(name, encoding="utf-8", errors="surrogateescape") as handle:
                yield from iter_inputs(["-"], stdin=handle)


def run_scan(args: argparse.Namespace) -> int:
    if args.pii and not args.ocr:
        log.warning("--pii needs --ocr: without OCR there is no text to check; is_sensitive will be -1")
    if not (args.paths or args.lists):
        print("scp-scanner: no input: give files, folders, - or --list FILE", file=sys.stderr)
        return EXIT_USAGE
    for name in args.lists:
        if name != "-" and (os.path.isdir(name) or not os.access(name, os.R_OK)):
            print(f"scp-scanner: cannot read list file {name}", file=sys.stderr)
            return EXIT_USAGE
    if args.dask:
        return _run_on_dask(args)
    if args.output_dir or args.no_resume or args.partition_size != DEFAULT_PARTITION_SIZE:
        print("scp-scanner: --output-dir, --partition-size and --no-resume go with --dask", file=sys.stderr)
        return EXIT_USAGE
    # Before any engine loads: libraries that print at import or load must not reach the CSV.
    csv_stream = csv_stdout() if args.output == "-" else None
    try:
        settings = settings_from_args(args)
        items = input_items(args)
        if args.jobs is None:
            first_two = list(itertools.islice(items, 2))
            items = itertools.chain(first_two, items)
            jobs = default_jobs(usable_cores(), available_memory(), worker_memory(args.ocr, args.pii)) if (
                args.ocr and len(first_two) > 1) else 1
        else:
            jobs = args.jobs if args.jobs > 0 else (os.cpu_count() or 1)
        parallel = jobs > 1 and not (args.extract or args.identify)
        log.info("scanning %s", f"in {jobs} worker processes" if parallel else "in this process")
        results = (rows_in_workers(jobs, settings, items) if parallel
                   else rows_serially(args, settings, items))
        first = next(results, None)     # engines load here: a set-up error stops before any output
    except (EngineError, config.ConfigError) as exc:
        print(f"scp-scanner: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        out: IO[str] = open_private(args.output) if csv_stream is None else nullcontext(csv_stream)
    except OSError as exc:
        print(f"scp-scanner: cannot write {args.output}: {exc.strerror}", file=sys.stderr)
        return EXIT_USAGE
    tally = Tally()
    with out as stream:
        stream.write(render([], header=True, reasons=args.reasons))
        stream.flush()
        # tqdm shows a bar only when stderr is a terminal (disable=None), so pipes stay quiet.
        stream_of_results = itertools.chain([first], results) if first is not None else results
        progress = tqdm(stream_of_results, unit=" files", disable=None, file=sys.stderr, leave=False)
        for result in progress:
            item = result.item
            if result.rows is None:
                # Only a file that is not DICOM at all is passed over in a walked folder; a
                # DICOM file that cannot be opened or read is a failure like any other.
                if item.walked and result.not_dicom:
                    tally.skipped += 1
                    progress.write(f"scp-scanner: skipped {item.path}: not DICOM ({result.error})",
                                   file=sys.stderr)
                else:
                    tally.failed += 1
                    progress.write(f"scp-scanner: failed {item.path}: {result.error}", file=sys.stderr)
                continue
            stream.write(render(result.rows, reasons=args.reasons))
            stream.flush()
            tally.files += 1
            tally.images += result.images
            tally.sensitive += result.sensitive
            log.info("%s: %d images, %d rows, %d with PII", item.path, result.images, len(result.rows),
                     result.sensitive)
        progress.close()
    log.info("scanned %d files (%d images, %d with PII), %d failed, %d skipped as not DICOM",
             tally.files, tally.images, tally.sensitive, tally.failed, tally.skipped)
    return EXIT_FAILURES if tally.failed else EXIT_OK


def _run_on_dask(args: argparse.Namespace) -> int:
    """--dask: the scan on a Dask cluster (dask_backend.py); dask is imported only here."""
    try:
        from . import dask_backend
    except ImportError as exc:
        print(f"scp-scanner: --dask needs dask.distributed: pip install 'scp-scanner[dask]' ({exc})",
              file=sys.stderr)
        return EXIT_USAGE
    problem = dask_backend.check_arguments(args)
    if problem:
        print(f"scp-scanner: {problem}", file=sys.stderr)
        return EXIT_USAGE
    try:
        settings = settings_from_args(args)
    except config.ConfigError as exc:
        print(f"scp-scanner: {exc}", file=sys.stderr)
        return EXIT_USAGE
    return dask_backend.run_dask_scan(args, settings, input_items(args))
