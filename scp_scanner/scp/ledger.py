"""The done-list that makes rows exactly-once across crashes (a tiny write-ahead log).

For each instance the processor appends, in order:
  `B <key> <csv file name> <offset>`  fsync'd BEFORE its rows are written,
  the rows themselves (fsync'd),
  `D <key> <unix time>`              fsync'd BEFORE the spool file is removed.
After a crash, a `B` without its `D` means the rows may be half-written: the CSV is cut back
to the recorded offset and the instance (still in the spool) is processed again. A `D` means
the rows are complete: the spool file, if still there, is only archived or removed. With
dedupe on the key is the SOP Instance UID, so an instance re-sent after a crash gets no
second set of rows. Done keys are kept for `retention_days` (re-sends after a crash come
within hours), so memory and the file stay bounded on a service that runs for months.
"""
from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Protocol

from ..private_files import private_fd, replace_private

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class OpenEntry:
    """An instance whose rows were begun but not confirmed before a crash."""

    key: str
    csv_name: str
    offset: int


class Ledger:
    COMPACT_EVERY = 10000          # commits between in-service prunes of expired keys

    def __init__(self, path: str | os.PathLike, fsync: bool = True, retention_days: float = 30.0):
        self.path = Path(path)
        self.fsync = fsync
        self.retention_seconds = retention_days * 86400.0
        self.done: dict[str, int] = {}          # key -> unix time its rows were confirmed
        self.open_entries: list[OpenEntry] = []
        self._commits = 0
        self._load()
        fd = private_fd(self.path, "a")
        self._file = os.fdopen(fd, "ab", buffering=0)

    def _load(self) -> None:
        begun: dict[str, OpenEntry] = {}
        if not self.path.exists():
            return
        now = int(time.time())
        with open(self.path, "rb") as handle:
            for raw in handle:
                if not raw.endswith(b"\n"):
                    break                      # torn last line: never confirmed anything
                parts = raw.decode("utf-8", "replace").split()
                if len(parts) == 4 and parts[0] == "B" and parts[3].isdigit():
                    begun[parts[1]] = OpenEntry(parts[1], parts[2], int(parts[3]))
                elif len(parts) in (2, 3) and parts[0] in ("D", "X"):
                    begun.pop(parts[1], None)
                    if parts[0] == "D":
                        stamp = int(parts[2]) if len(parts) == 3 and parts[2].isdigit() else now
                        self.done[parts[1]] = stamp
        self.open_entries = list(begun.values())
        self._prune()

    def _prune(self) -> int:
        if self.retention_seconds <= 0:
            return 0
        horizon = time.time() - self.retention_seconds
        expired = [key for key, stamp in self.done.items() if stamp < horizon]
        for key in expired:
            del self.done[key]
        return len(expired)

    def _append(self, line: str, sync: bool) -> None:
        self._file.write(line.encode("utf-8"))
        if sync and self.fsync:
            os.fsync(self._file.fileno())

    def is_done(self, key: str) -> bool:
        return key in self.done

    def begin(self, key: str, csv_name: str, offset: int) -> None:
        self._append(f"B {key} {csv_name} {offset}\n", sync=True)

    def commit(self, key: str) -> None:
        stamp = int(time.time())
        self._append(f"D {key} {stamp}\n", sync=True)
        self.done[key] = stamp
        self._commits += 1
        if self._commits >= self.COMPACT_EVERY:
            self._commits = 0
            if self._prune():
                self.compact()

    def abandon(self, key: str) -> None:
        """The begun rows were cut back out; the instance will be processed again."""
        self._append(f"X {key}\n", sync=True)

    def compact(self) -> None:
        """Rewrite the log as just its done keys (atomic replace), after recovery."""
        data = "".join(f"D {key} {stamp}\n" for key, stamp in self.done.items()).encode("utf-8")
        self._file.close()
        replace_private(self.path, data, sync_dir=True)
        fd = private_fd(self.path, "a")
        self._file = os.fdopen(fd, "ab", buffering=0)
        self.open_entries = []

    def close(self) -> None:
        self._file.close()


class RowWriter(Protocol):
    """What write_rows_once needs of the CSV writer (output/rolling.py's RollingCsvWriter)."""

    def write_rows(self, rows: Sequence[Sequence[object]],
                   before_write: Callable[[Path, int], None] | None = None) -> tuple[Path, int]: ...

    def truncate_to(self, offset: int) -> None: ...


def write_rows_once(writer: RowWriter, ledger: Ledger, key: str,
                    rows: Sequence[Sequence[object]]) -> None:
    """Write one instance's rows exactly once: `B` (durable), the rows (durable), `D`.

    On an error the rows begun are cut back out and the ledger records `X` (so the instance is
    processed again), then the error is raised. If even that fails, recovery at the next start
    cuts them back using the `B` entry.
    """
    begun: list[int] = []

    def log_begin(path: Path, offset: int) -> None:
        ledger.begin(key, path.name, offset)
        begun.append(offset)

    try:
        writer.write_rows(rows, before_write=log_begin)
        ledger.commit(key)
    except Exception:   # any error: undo, then the caller decides (retry or failed/)
        if begun:
            try:
                writer.truncate_to(begun[0])
                ledger.abandon(key)
            except OSError:
                pass    # recovery at the next start cuts the rows back using the ledger
        raise


def recover(ledger: Ledger, output_dir: Path) -> list[str]:
    """Cut rows of unconfirmed instances out of their CSV; returns the keys to redo.

    Must run before the CSV writer opens (and repairs) the `.part` files.
    """
    redo = []
    for entry in ledger.open_entries:
        csv_path = output_dir / Path(entry.csv_name).name
        try:
            size = csv_path.stat().st_size
        except FileNotFoundError:
            size = -1
        if size > entry.offset:
            log.warning("recovery: removing %d bytes of unconfirmed rows of %s from %s",
                        size - entry.offset, entry.key, csv_path)
            with open(csv_path, "r+b") as handle:
                handle.truncate(entry.offset)
                os.fsync(handle.fileno())
        redo.append(entry.key)
    if ledger.open_entries or _worth_compacting(ledger):
        ledger.compact()
    return redo


def _worth_compacting(ledger: Ledger) -> bool:
    try:
        return ledger.path.stat().st_size > 2 * (sum(len(k) + 15 for k in ledger.done) + 4096)
    except FileNotFoundError:
        return False
