"""Offline input: files, directories walked recursively, or '-' (one path per line on stdin)."""
from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, TextIO

DICOM_MAGIC_OFFSET = 128
DICOM_MAGIC = b"DICM"


@dataclass(frozen=True)
class InputPath:
    path: str
    walked: bool   # found by walking a directory (a non-DICOM file there is skipped, not a failure)


def iter_inputs(arguments: Iterable[str], stdin: TextIO = sys.stdin) -> Iterator[InputPath]:
    """Expand the command-line paths in order; directories are walked in sorted order."""
    for argument in arguments:
        if argument == "-":
            for line in stdin:
                line = line.strip()
                if line:
                    yield from _expand(line)
        else:
            yield from _expand(argument)


def _expand(path: str) -> Iterator[InputPath]:
    if os.path.isdir(path):
        for root, dirs, files in os.walk(path):
            dirs.sort()
            for name in sorted(files):
                yield InputPath(os.path.join(root, name), walked=True)
    else:
        yield InputPath(path, walked=False)


def has_dicom_magic(path: str) -> bool:
    """True when the file carries the Part 10 preamble and 'DICM' prefix."""
    try:
        with open(path, "rb") as handle:
            handle.seek(DICOM_MAGIC_OFFSET)
            return handle.read(4) == DICOM_MAGIC
    except OSError:
        return False
