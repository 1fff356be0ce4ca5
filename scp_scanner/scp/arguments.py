"""The flags of `scp-scanner serve` (plain argparse: building the CLI's parser for any command
loads nothing of the SCP itself, so `scan` does not import pynetdicom)."""
from __future__ import annotations

import argparse


def add_serve_arguments(parser: argparse.ArgumentParser) -> None:
    """Flags of `scp-scanner serve`; each overrides the same key of the YAML config."""
    parser.add_argument("--config", metavar="FILE",
                        help="YAML configuration (default: built-in defaults, as in config/scp-scanner.yaml)")
    parser.add_argument("--host", help="address to listen on (network.host, default 127.0.0.1; "
                                       "0.0.0.0 = every interface)")
    parser.add_argument("--port", type=int, help="TCP port (network.port, default 11112)")
    parser.add_argument("--ae-title", help="this SCP's AE title (network.ae_title, default SCP_SCANNER)")
    parser.add_argument("--spool-dir", help="spool folder (storage.spool_dir, default var/spool)")
    parser.add_argument("--output-dir", help="CSV output folder (output.output_dir, default var/output)")
    parser.add_argument("--archive-dir",
                        help="keep processed instances here as <SOPInstanceUID>.dcm (storage.archive_dir)")
    parser.add_argument("--ocr", metavar="ENGINE", help='"rapidocr", "tesseract", "easyocr" or "none" (processing.ocr)')
    parser.add_argument("--pii", metavar="ENGINE[,MODEL]",
                        help='"spacy[,MODEL]", "flair,PATH" or "none" (processing.pii)')
    parser.add_argument("--rects", action=argparse.BooleanOptionalAction, default=None,
                        help="one row per OCR rectangle as well as the whole text (processing.rects)")
    parser.add_argument("--workers", type=int, help="worker processes, 0 = one per core (processing.workers)")
    parser.add_argument("--calling-ae", action="append", metavar="AET",
                        help="allow this calling AE title (repeatable; access.calling_ae_titles)")
    parser.add_argument("--roll-size-mb", type=float, help="complete a CSV file at this size (output.roll_size_mb)")
    parser.add_argument("--roll-interval", help="daily, hourly, never or seconds (output.roll_interval)")
    parser.add_argument("--fsync", action=argparse.BooleanOptionalAction, default=None,
                        help="fsync spool files, ledger and CSV before acknowledging (storage/output.fsync)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log at INFO (the default for serve)")
    parser.add_argument("-d", "--debug", action="store_true", help="log at DEBUG, including pynetdicom")
