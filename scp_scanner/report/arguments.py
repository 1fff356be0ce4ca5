"""The flags of `scp-scanner report` and `scp-scanner rules` (plain argparse: building the
CLI's parser for any command loads nothing the review tools read with, so `scan` does not
import pydicom before it starts its workers)."""
from __future__ import annotations

import argparse


def add_report_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", nargs="+", metavar="ROWS.csv", help="CSV files written by scan or serve")
    parser.add_argument("-o", "--output", metavar="FILE", default="report.html",
                        help="the HTML file to write (created owner-only; default report.html)")
    parser.add_argument("--max-thumbnails", type=int, default=20, metavar="N",
                        help="embed thumbnails of the first N flagged images per model; "
                             "the rest are listed as text (default 20)")
    parser.add_argument("--thumbnail-size", type=int, default=360, metavar="PX",
                        help="longest side of a thumbnail in pixels (default 360)")


def add_rules_arguments(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("csv", nargs="+", metavar="ROWS.csv",
                        help="CSV files written by scan --rects or serve (rectangle rows needed)")
    parser.add_argument("-o", "--output", metavar="FILE", default="-",
                        help="the deid recipe to write (created owner-only; default stdout)")
    parser.add_argument("--margin", type=int, default=0, metavar="PX",
                        help="grow each box by PX pixels on every side (default 0)")
    parser.add_argument("--section", default="scp-scanner",
                        help="name of the %%filter section (default scp-scanner)")
