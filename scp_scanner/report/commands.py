"""`scp-scanner report` and `scp-scanner rules`: flags and what they run.

Exit statuses: 0 written; 1 written, but some files the CSV names could not be read (named on
stderr); 2 usage error (unreadable or foreign CSV, output not writable): nothing written.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from ..private_files import open_private
from .findings import FindingsError, findings, locate, read_device

EXIT_OK, EXIT_MISSING, EXIT_USAGE = 0, 1, 2


def _write(path: str, text: str) -> None:
    if path == "-":
        sys.stdout.write(text)
        return
    with open_private(path) as handle:
        handle.write(text)


def run_report(args: argparse.Namespace) -> int:
    from .build import build
    from .page import render

    if args.max_thumbnails < 0 or args.thumbnail_size < 16:
        print("scp-scanner report: --max-thumbnails must be >= 0 and --thumbnail-size >= 16",
              file=sys.stderr)
        return EXIT_USAGE
    try:
        report = build(args.csv, args.max_thumbnails, args.thumbnail_size)
        page = render(report)
        _write(args.output, page)
    except FindingsError as exc:
        print(f"scp-scanner report: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"scp-scanner report: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    for name, why in report.missing:
        print(f"scp-scanner report: {name}: {why}", file=sys.stderr)
    print(f"scp-scanner report: {report.images} image(s) from {report.files} file(s), "
          f"{report.flagged} flagged -> {args.output}", file=sys.stderr)
    return EXIT_MISSING if report.missing else EXIT_OK


def run_rules(args: argparse.Namespace) -> int:
    from .deid_rules import groups, recipe

    if args.margin < 0 or not args.section.strip() or any(c in args.section for c in "#%\n"):
        print("scp-scanner rules: --margin must be >= 0 and --section a plain name", file=sys.stderr)
        return EXIT_USAGE
    try:
        found = findings(args.csv)
    except FindingsError as exc:
        print(f"scp-scanner rules: {exc}", file=sys.stderr)
        return EXIT_USAGE
    csv_dirs = list(dict.fromkeys(Path(p).resolve().parent for p in args.csv))
    devices, missing = {}, []
    for name in dict.fromkeys(f.filename for f in found if any(b.sensitive == 1 for b in f.boxes)):
        path = locate(name, csv_dirs)
        device = read_device(path) if path is not None else None
        if device is None:
            missing.append(name)
        else:
            devices[name] = device
    without_rects = sum(1 for f in found if f.sensitive == 1 and not f.boxes)
    rule_groups = groups(found, devices, args.margin)
    try:
        _write(args.output, recipe(rule_groups, args.section.strip()))
    except OSError as exc:
        print(f"scp-scanner rules: cannot write {args.output}: {exc.strerror or exc}", file=sys.stderr)
        return EXIT_USAGE
    for name in missing:
        print(f"scp-scanner rules: {name}: not found or unreadable; its boxes are left out",
              file=sys.stderr)
    if without_rects:
        print(f"scp-scanner rules: {without_rects} flagged image(s) have no rectangle rows "
              "(scan with --rects)", file=sys.stderr)
    print(f"scp-scanner rules: {len(rule_groups)} filter(s), "
          f"{sum(len(g.boxes) for g in rule_groups)} rectangle(s) -> {args.output}", file=sys.stderr)
    return EXIT_MISSING if missing else EXIT_OK


__all__ = ["run_report", "run_rules"]
