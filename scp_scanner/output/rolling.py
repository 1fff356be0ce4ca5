"""Rolling CSV files for the service: one writer, header in every file, rolled by time and size.

The file being written is `PREFIX-YYYYmmddTHHMMSSZ[_NNN].csv.part` (names sort in time order); rolling renames it to `.csv`,
after which it is never touched again, so a downstream job may pick up every `*.csv` safely.
Rows of one instance go in one write, so a file never splits an instance. A crash can leave a
torn last record in the `.part`; opening the writer truncates it back to the last complete
record. Files are 0600 and the folder 0700: the rows hold identifying text.
"""
from __future__ import annotations

import calendar
import csv
import io
import logging
import os
import re
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

from ..private_files import fsync_dir, make_private, private_dir, private_fd
from .csv_file import safe_row
from .rows import columns

log = logging.getLogger(__name__)

PART_SUFFIX = ".csv.part"
DONE_SUFFIX = ".csv"
_STAMP = "%Y%m%dT%H%M%SZ"
_NAME_RE = re.compile(r"-(\d{8}T\d{6}Z)(?:_\d+)?\.csv\.part$")


def encode_rows(rows: Iterable[Sequence[object]]) -> bytes:
    """CSV bytes for rows (csv module quoting; '\\n' line ends so records are easy to find)."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerows(safe_row(row) for row in rows)      # formulas neutralised (csv_file.py)
    return buffer.getvalue().encode("utf-8", "replace")   # a lone surrogate must not stop the writer


HEADER = encode_rows([columns()])
REASONS_HEADER = encode_rows([columns(reasons=True)])     # with the opt-in reasons column
_HEADERS = (HEADER, REASONS_HEADER)


def file_header(data: bytes) -> bytes | None:
    """Which of the known headers `data` starts with (None: torn or foreign)."""
    return next((header for header in _HEADERS if data.startswith(header)), None)


def last_record_end(data: bytes) -> int:
    """Offset just past the last complete CSV record in `data` (0 when there is none).

    A newline ends a record only outside quotes; quotes inside fields are doubled, so the
    quote parity at each newline says whether it is inside a field.
    """
    end = 0
    position = 0
    in_quotes = False
    for segment in data.split(b"\n")[:-1]:
        if segment.count(b'"') % 2:
            in_quotes = not in_quotes
        position += len(segment) + 1
        if not in_quotes:
            end = position
    return end


@dataclass(frozen=True)
class RollPolicy:
    """When the active file is completed: a time window (seconds, None = never) and a size."""

    interval_seconds: float | None = 86400.0
    max_bytes: int = 0               # 0 = no size limit

    def window_end(self, started: float) -> float | None:
        """End of the window holding `started`; windows are aligned to the UTC epoch, so
        daily files cover UTC days and hourly files whole hours."""
        if self.interval_seconds is None:
            return None
        return (started // self.interval_seconds + 1) * self.interval_seconds


class RollingCsvWriter:
    """The single writer of the service's CSV output (not thread-safe: one owner thread)."""

    def __init__(self, directory: str | os.PathLike, prefix: str = "scp-scanner",
                 policy: RollPolicy = RollPolicy(), fsync: bool = True,
                 clock: Callable[[], float] = time.time, header: bytes = HEADER):
        self.directory = private_dir(Path(directory))
        self.header = header                  # HEADER, or REASONS_HEADER (output.reasons)
        self._header_len = len(header)        # of the active file (a resumed one may differ)
        self.prefix = prefix
        self.policy = policy
        self.fsync = fsync
        self.clock = clock
        self._file: io.BufferedWriter | None = None
        self._path: Path | None = None
        self._started = 0.0
        self._size = 0
        self._resume_or_roll_leftovers()

    # -- state ---------------------------------------------------------------------------
    @property
    def active_path(self) -> Path | None:
        return self._path

    def completed_files(self) -> list[Path]:
        return sorted(self.directory.glob(f"{self.prefix}-*{DONE_SUFFIX}"))

    # -- writing -------------------------------------------------------------------------
    def write_rows(self, rows: Sequence[Sequence[object]],
                   before_write: Callable[[Path, int], None] | None = None) -> tuple[Path, int]:
        """Append the rows of one instance together; durable on return when fsync is on.

        `before_write(file, offset)` is called once the target file and the offset where these
        rows start are known and before any byte is written, so a caller can log them durably
        first and cut a half-written instance back out after a crash.
        Returns (file, offset).
        """
        data = encode_rows(rows)
        self.maybe_roll(incoming=len(data))
        path, offset = self.position()
        if before_write is not None:
            before_write(path, offset)
        if data:
            assert self._file is not None
            self._file.write(data)
            self._file.flush()
            if self.fsync:
                os.fsync(self._file.fileno())
            self._size += len(data)
        return path, offset

    def position(self) -> tuple[Path, int]:
        """Where the next rows will go (opening a file when none is active)."""
        if self._file is None:
            self._open_new()
        assert self._path is not None
        return self._path, self._size

    def truncate_to(self, offset: int) -> None:
        """Cut the active file back to `offset` (undo a failed or partial instance write)."""
        if self._file is None or offset >= self._size:
            return
        self._file.flush()
        os.ftruncate(self._file.fileno(), offset)
        self._file.seek(offset)
        self._size = offset
        if self.fsync:
            os.fsync(self._file.fileno())

    def maybe_roll(self, incoming: int = 0) -> bool:
        """Complete the active file if its time window ended or `incoming` bytes would push it
        past the size limit (a file always takes at least one instance)."""
        if self._file is None:
            return False
        end = self.policy.window_end(self._started)
        too_old = end is not None and self.clock() >= end
        too_big = (self.policy.max_bytes > 0 and self._size > self._header_len
                   and self._size + incoming > self.policy.max_bytes)
        if too_old or too_big:
            self.roll()
            return True
        return False

    def roll(self) -> Path | None:
        """Close the active file and rename it to `.csv` (a header-only file is deleted)."""
        if self._file is None or self._path is None:
            return None
        self._file.flush()
        if self.fsync:
            os.fsync(self._file.fileno())
        self._file.close()
        part, self._file, self._path = self._path, None, None
        if self._size <= self._header_len:
            part.unlink(missing_ok=True)
            done = None
        else:
            done = self._free_name(part.name[: -len(PART_SUFFIX)], DONE_SUFFIX)
            os.rename(part, done)
            log.info("completed CSV %s (%d bytes)", done, self._size)
        if self.fsync:
            fsync_dir(self.directory)
        self._size = 0
        return done

    def close(self) -> None:
        """Flush and complete the active file (a clean stop leaves no `.part`)."""
        self.roll()

    # -- internals -----------------------------------------------------------------------
    def _free_name(self, stem: str, suffix: str) -> Path:
        candidate = self.directory / f"{stem}{suffix}"
        n = 1
        while candidate.exists():
            candidate = self.directory / f"{stem}_{n:03d}{suffix}"
            n += 1
        return candidate

    def _open_new(self) -> None:
        now = self.clock()
        stamp = time.strftime(_STAMP, time.gmtime(now))
        base = f"{self.prefix}-{stamp}"
        n = 0
        while True:
            stem = base if n == 0 else f"{base}_{n:03d}"   # sorts after base, in order
            if not (self.directory / f"{stem}{PART_SUFFIX}").exists() and \
                    not (self.directory / f"{stem}{DONE_SUFFIX}").exists():
                break
            n += 1
        path = self.directory / f"{stem}{PART_SUFFIX}"
        fd = private_fd(path, "x")
        self._file = os.fdopen(fd, "wb")
        self._file.write(self.header)
        self._file.flush()
        if self.fsync:
            os.fsync(fd)
            fsync_dir(self.directory)
        self._path, self._started, self._size = path, now, len(self.header)
        self._header_len = len(self.header)

    def _resume_or_roll_leftovers(self) -> None:
        """Repair `.part` files left by a crash; resume the newest if its window is current,
        complete the others."""
        leftovers = sorted(self.directory.glob(f"{self.prefix}-*{PART_SUFFIX}"))
        for i, part in enumerate(leftovers):
            size = repair_part(part, self.header)
            with open(part, "rb") as handle:
                found = file_header(handle.read(len(REASONS_HEADER)))
            self._header_len = len(found or self.header)
            match = _NAME_RE.search(part.name)
            started = (calendar.timegm(time.strptime(match.group(1), _STAMP))
                       if match else 0.0)
            self._path, self._started, self._size = part, started, size
            fd = os.open(part, os.O_WRONLY | os.O_APPEND)
            self._file = os.fdopen(fd, "ab")
            if i < len(leftovers) - 1 or found != self.header:   # reasons column switched: new file
                self.roll()
            else:
                self.maybe_roll()


def repair_part(path: Path, header: bytes = HEADER) -> int:
    """Truncate a `.part` to its last complete record (re-writing a torn header as `header`);
    its size. A file with either known header keeps it."""
    data = path.read_bytes()
    found = file_header(data)
    if found is None:
        keep = 0
    else:
        keep = len(found) + last_record_end(data[len(found):])
    if keep != len(data):
        log.warning("repairing %s: dropping %d bytes of a torn record", path, len(data) - keep)
        with open(path, "r+b") as handle:
            handle.truncate(keep)
            if keep == 0:
                handle.write(header)
                keep = len(header)
            handle.flush()
            os.fsync(handle.fileno())
    make_private(path)
    return keep
