"""Owner-only files and folders: everything that may hold PII (CSV, spool, ledger, exported
images, partition lists) is created 0600 in folders made 0700."""
from __future__ import annotations

import os
from pathlib import Path
from typing import IO

PRIVATE_FILE = 0o600
PRIVATE_DIR = 0o700

_FLAGS = {
    "x": os.O_WRONLY | os.O_CREAT | os.O_EXCL,     # a new file; fails if the name exists
    "w": os.O_WRONLY | os.O_CREAT | os.O_TRUNC,    # created or emptied
    "a": os.O_WRONLY | os.O_CREAT | os.O_APPEND,   # created or appended to
}


def private_fd(path: str | os.PathLike, mode: str = "w") -> int:
    """Open `path` for writing, creating it 0600; `mode` is "x" (exclusive), "w" or "a"."""
    return os.open(path, _FLAGS[mode], PRIVATE_FILE)


def open_private(path: str, mode: str = "w") -> IO[str]:
    """Open a text file that only its owner can read or write (created 0600, and made 0600
    if it existed)."""
    fd = private_fd(path, "a" if "a" in mode else "w")
    os.fchmod(fd, PRIVATE_FILE)
    return os.fdopen(fd, mode, newline="", encoding="utf-8")


def make_private(path: str | os.PathLike) -> None:
    """Make an existing file owner-only (a received or archived instance, a repaired CSV)."""
    os.chmod(path, PRIVATE_FILE)


def private_dir(path: Path) -> Path:
    """Create `path` (and parents) and make it owner-only."""
    path.mkdir(parents=True, exist_ok=True, mode=PRIVATE_DIR)
    if path.stat().st_mode & 0o077:
        os.chmod(path, PRIVATE_DIR)
    return path


def fsync_dir(path: Path) -> None:
    """Make the names in a folder durable (after a create, rename or unlink in it)."""
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def fsync_file(path: Path) -> None:
    """Make a file's content durable (one written by someone else, e.g. pynetdicom)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def replace_private(path: Path, data: bytes, sync_dir: bool = False) -> None:
    """Replace `path` atomically with `data`, owner-only: written beside it (`.tmp`), fsynced,
    renamed over it; `sync_dir` makes the rename durable too."""
    temporary = path.with_name(path.name + ".tmp")
    with os.fdopen(private_fd(temporary, "w"), "wb") as handle:
        handle.write(data)
        handle.flush()
        os.fsync(handle.fileno())
    os.replace(temporary, path)
    if sync_dir:
        fsync_dir(path.parent)
