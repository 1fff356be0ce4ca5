"""Offline input: files, directories walked recursively, or '-' (one path per line on stdin)."""
from __future__ import annotations

import logging
import os
import sys
from dataclasses import dataclass
from typing import Iterable, Iterator, TextIO

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class InputPath:
    path: str
    walked: bool   # found by walking a directory (a file there that is not DICOM at all is
                   # skipped, not a failure)


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
        yield from walk(path)
    else:
        yield InputPath(path, walked=False)


def walk(top: str) -> Iterator[InputPath]:
    """Every file under `top`, in sorted order, following symbolic links to directories.

    A directory reached a second time (a link loop, or two links to one folder) is named on
    stderr and not walked again. A directory that cannot be listed is yielded itself, so
    that the scan names it as failed with the reason (permission denied...), instead of
    os.walk passing over it in silence; so is a dangling link (as a file, it fails to open).
    """
    errors: list[OSError] = []
    seen: set[tuple[int, int]] = set()
    for root, dirs, files in os.walk(top, followlinks=True, onerror=errors.append):
        yield from _unlisted(errors)
        try:
            status = os.stat(root)
        except OSError as exc:
            errors.append(exc)
            dirs[:] = []
            continue
        key = (status.st_dev, status.st_ino)
        if key in seen:
            log.warning("%s: already walked (%s); a link loop or a second link to one folder "
                        "is not walked twice", root, os.path.realpath(root))
            dirs[:] = []
            continue
        seen.add(key)
        dirs.sort()
        for name in sorted(files):
            yield InputPath(os.path.join(root, name), walked=True)
    yield from _unlisted(errors)


def _unlisted(errors: list[OSError]) -> Iterator[InputPath]:
    while errors:
        exc = errors.pop(0)
        if exc.filename:
            yield InputPath(os.fspath(exc.filename), walked=True)
        else:
            log.warning("cannot walk a folder: %s", exc)
