"""Entry points: `scp-scanner scan` (the reference pydicom_images.py's flags, offline) and `scp-scanner serve` (the SCP).

Exit statuses of `scan`:
  0  every file was processed
  1  at least one file failed (each named on stderr with the reason); the others were processed
  2  usage or set-up error (bad flag, unknown engine, missing model): nothing was processed
"""
from __future__ import annotations

import argparse
import logging
import sys
from typing import Sequence

from . import __version__
from .logs import quiet_pydicom
from .partitions import DEFAULT_PARTITION_SIZE
from .process import configure_process

log = logging.getLogger("scp_scanner")


def add_scan_arguments(parser: argparse.ArgumentParser) -> None:
    """The flags of the reference pydicom_images.py (README, `scp-scanner scan`), plus -o."""
    parser.add_argument("-v", "--verbose", action="store_true", help="more verbose (show INFO messages)")
    parser.add_argument("-d", "--debug", action="store_true", help="more verbose (show DEBUG messages)")
    parser.add_argument("-x", "--extract", action="store_true",
                        help="extract PNG/TIFF files to input dir (or current dir if input dir not writable)")
    parser.add_argument("-i", "--identify", action="store_true",
                        help="identify only: list each image (and the name -x would give it) on stderr and extract "
                             "nothing; OCR and PII still run when --ocr/--pii ask for them")
    parser.add_argument("--ocr", metavar="OCR", help='OCR using "rapidocr", "tesseract" or "easyocr", output to stdout')
    parser.add_argument("--pii", metavar="PII",
                        help='check OCR output for PII using "spacy" or "flair" (add ,model if needed)')
    parser.add_argument("--rects", action="store_true",
                        help="output each OCR rectangle separately with coordinates")
    parser.add_argument("--reasons", action="store_true",
                        help="add a 'reasons' column after the 14: why each box or image was judged "
                             "identifying (blank where nothing fired)")
    parser.add_argument("--no-overlays", action="store_true",
                        help="do not process any DICOM overlays (default processes overlays)")
    parser.add_argument("-f", "--format", default="tiff", choices=["png", "tiff"], type=str.lower,
                        help="image format png or tiff for -x (default tiff)")
    parser.add_argument("-o", "--output", metavar="FILE", default="-",
                        help="write the CSV to FILE (created owner-only) instead of stdout")
    parser.add_argument("-j", "--jobs", type=int, default=None, metavar="N",
                        help="scan N files at a time in worker processes (0 = one per core; 1 = in this "
                             "process; default: one per core, as memory allows, when OCR runs on more "
                             "than one file)")
    parser.add_argument("--config", metavar="FILE",
                        help="take engine options (processing.ocr_min_confidence, tessdata_dir, "
                             "easyocr_model_dir, rapidocr_model_dir, gpu, lexicon, header_words, "
                             "screen_words, frame_reuse, frame_reuse_exact, still_text) from this YAML file, as "
                             "serve does")
    parser.add_argument("--list", metavar="FILE", action="append", default=[], dest="lists",
                        help="read paths from FILE, one per line (may be repeated; - is stdin)")
    dask = parser.add_argument_group("on a Dask cluster (pip install 'scp-scanner[dask]')")
    dask.add_argument("--dask", metavar="ADDRESS",
                      help="scan on a Dask cluster: tcp://host:port of a scheduler, or local:N for N "
                           "local worker processes; needs --output-dir")
    dask.add_argument("--output-dir", metavar="DIR",
                      help="with --dask: write part-NNNNN.csv files, the manifest and the input lists here")
    dask.add_argument("--partition-size", type=int, default=DEFAULT_PARTITION_SIZE, metavar="N",
                      help="with --dask: files per partition, one task and one part each "
                           f"(default {DEFAULT_PARTITION_SIZE})")
    dask.add_argument("--no-resume", action="store_true",
                      help="with --dask: start over instead of resuming the scan in --output-dir")
    parser.add_argument("paths", nargs="*", metavar="files",
                        help="DICOM files, directories (walked recursively), or - to read paths from stdin")


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="scp-scanner",
        description="Find identifying text burned into DICOM images: offline scanner and Storage SCP.")
    parser.add_argument("--version", action="version", version=f"scp-scanner {__version__}")
    commands = parser.add_subparsers(dest="command", required=True, metavar="{scan,serve,report,rules}")
    scan = commands.add_parser(
        "scan", help="scan DICOM files and write CSV rows",
        description="Find all image frames, overlays and overlay frames in DICOM files; optionally OCR "
                    "them and check the text for PII; write CSV rows (columns: docs/design.md, 'The CSV contract').",
        epilog="exit status: 0 all files processed; 1 some files failed (named on stderr); "
               "2 usage or set-up error")
    add_scan_arguments(scan)
    serve = commands.add_parser("serve", help="run the DICOM Storage SCP",
                                description="Receive DICOM instances, scan them in worker processes, "
                                            "and append rows to rolling CSV files.")
    from .scp.arguments import add_serve_arguments
    add_serve_arguments(serve)
    from .report.arguments import add_report_arguments, add_rules_arguments
    add_report_arguments(commands.add_parser(
        "report", help="write an HTML page to review the flagged images of CSV files",
        description="Read CSV rows and the DICOM files they name; write one self-contained HTML "
                    "page (created owner-only) with a summary and one card per flagged image.",
        epilog="exit status: 0 written; 1 written, some DICOM files not found or unreadable; "
               "2 usage error"))
    add_rules_arguments(commands.add_parser(
        "rules", help="write a deid recipe of the identifying boxes per device and image size",
        description="Group the identifying rectangles of CSV rows by Manufacturer, "
                    "ManufacturerModelName, Rows and Columns (from each file's header) and write "
                    "them as pydicom/deid %filter rules.",
        epilog="exit status: 0 written; 1 written, some DICOM files not found or unreadable; "
               "2 usage error"))
    return parser


def configure_logging(verbose: bool, debug: bool) -> None:
    level = logging.DEBUG if debug else logging.INFO if verbose else logging.WARNING
    logging.basicConfig(level=level, format="%(asctime)s %(levelname)s %(name)s: %(message)s", stream=sys.stderr)
    quiet_pydicom(debug)


def main(argv: Sequence[str] | None = None) -> int:
    configure_process()
    parser = build_parser()
    args = parser.parse_args(argv)
    if args.command == "scan":
        configure_logging(args.verbose, args.debug)
        from .scan import run_scan
        return run_scan(args)
    if args.command in ("report", "rules"):
        configure_logging(False, False)
        from .report import commands
        return commands.run_report(args) if args.command == "report" else commands.run_rules(args)
    from .scp.service import run_serve
    return run_serve(args)
