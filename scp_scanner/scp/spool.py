"""The spool: where received instances wait, durable, until their rows are written.

Layout under the spool folder (all 0700, files 0600, they hold PII):
  tmp/       pynetdicom streams each incoming dataset here (same filesystem, so the handler
             can os.replace it into incoming/ without copying); leftovers are unacknowledged
             and are deleted at start-up
  incoming/  received and acknowledged, not yet processed; replayed at start-up
  failed/    instances that could not be processed, each with a `.error` note beside it

File names come from SOP Instance UIDs, sanitised: a UID of digits and dots (at most 64
characters) is used as is; anything else becomes a hash, so no name can leave its folder.
"""
from __future__ import annotations

import hashlib
import logging
import os
import re
import shutil
import time
from dataclasses import dataclass
from pathlib import Path

from ..errors import ScannerError
from ..private_files import fsync_dir, fsync_file, make_private, private_dir, private_fd

log = logging.getLogger(__name__)

_UID_RE = re.compile(r"^[0-9]+(\.[0-9]+)*$")
MAX_UID_LENGTH = 64
SUFFIX = ".dcm"


class SpoolError(ScannerError, OSError):
    """The spool cannot take an instance (unwritable, full); the sender must retry."""


def is_plain_uid(uid: str) -> bool:
    return len(uid) <= MAX_UID_LENGTH and bool(_UID_RE.match(uid))


def is_hostile_uid(uid: str) -> bool:
    """Empty or carrying path syntax / control characters: refuse the instance outright."""
    return (not uid.strip() or "/" in uid or "\\" in uid or ".." in uid
            or any(ord(c) < 32 for c in uid))


def safe_name(uid: str) -> str:
    """A file-name stem for a UID: the UID itself when it is plain, else a hash of it."""
    if is_plain_uid(uid):
        return uid
    return "h-" + hashlib.sha256(uid.encode("utf-8", "surrogateescape")).hexdigest()[:40]


def key_of(path: Path) -> str:
    """The ledger key of a spooled file: its name without `.dcm`."""
    return path.name[: -len(SUFFIX)] if path.name.endswith(SUFFIX) else path.name


@dataclass(frozen=True)
class Spool:
    root: Path
    fsync: bool = True
    dedupe: bool = True
    min_free_bytes: int = 0

    @property
    def tmp(self) -> Path:
        return self.root / "tmp"

    @property
    def incoming(self) -> Path:
        return self.root / "incoming"

    @property
    def failed(self) -> Path:
        return self.root / "failed"

    def prepare(self) -> None:
        """Create the folders (0700) and delete unacknowledged temp files from a crash."""
        for folder in (self.root, self.tmp, self.incoming, self.failed):
            private_dir(folder)
        for leftover in self.tmp.iterdir():
            try:
                leftover.unlink()
            except OSError as exc:
                log.warning("cannot remove leftover temp file %s: %s", leftover, exc)

    def sweep_tmp(self, older_than: float) -> int:
        """Delete temp files of transfers that were aborted mid-dataset (pynetdicom leaves
        them behind); a transfer in progress touches its file with every PDU."""
        horizon = time.time() - older_than
        removed = 0
        for leftover in self.tmp.iterdir():
            try:
                if leftover.stat().st_mtime < horizon:
                    leftover.unlink()
                    removed += 1
            except OSError:
                continue
        if removed:
            log.info("removed %d temp file(s) of aborted transfers from %s", removed, self.tmp)
        return removed

    def pending(self) -> list[Path]:
        """Spooled instances waiting for processing, oldest first."""
        entries = []
        for path in self.incoming.glob(f"*{SUFFIX}"):
            try:
                entries.append((path.stat().st_mtime_ns, path.name, path))
            except FileNotFoundError:
                continue
        return [path for _, _, path in sorted(entries)]

    def check_space(self) -> None:
        """Raise SpoolError when the spool filesystem is below its free-space floor."""
        if self.min_free_bytes <= 0:
            return
        stats = os.statvfs(self.incoming)
        free = stats.f_bavail * stats.f_frsize
        if free < self.min_free_bytes:
            raise SpoolError(f"spool {self.root} has {free // 2**20} MiB free, "
                             f"below the {self.min_free_bytes // 2**20} MiB floor")

    def entry_name(self, uid: str) -> str:
        """Name in incoming/: one per UID when deduplicating, else one per reception."""
        stem = safe_name(uid)
        if not self.dedupe:
            stem = f"{stem}~{time.time_ns()}"
        return stem + SUFFIX

    def accept(self, received: Path, uid: str) -> Path:
        """Make a received file durable in incoming/ (fsync, atomic rename, fsync folder).

        Raises SpoolError on any failure, so the handler answers 'out of resources'.
        """
        target = self.incoming / self.entry_name(uid)
        try:
            if self.fsync:
                fsync_file(received)
            make_private(received)
            os.replace(received, target)
            if self.fsync:
                fsync_dir(self.incoming)
        except OSError as exc:
            raise SpoolError(f"cannot store {uid} in {self.incoming}: {exc.strerror or exc}") from exc
        return target

    def fail(self, path: Path, reason: str) -> Path | None:
        """Move an instance that cannot be processed to failed/ with a note; never delete it.
        The note is written in tmp/ and renamed into failed/ before the instance is moved
        there, so whoever sees the instance in failed/ (an operator's script, a monitor)
        finds its note, whole."""
        target = self.failed / path.name
        note = target.with_name(target.name + ".error")
        try:
            if not path.exists():
                return None
            partial = self.tmp / (note.name + ".part")
            with os.fdopen(private_fd(partial, "w"), "w", encoding="utf-8") as handle:
                handle.write(reason.rstrip() + "\n")
            os.replace(partial, note)
            os.replace(path, target)
            return target
        except FileNotFoundError:
            if not target.exists():         # gone before it could be moved: no note alone
                note.unlink(missing_ok=True)
            return None
        except OSError as exc:
            log.error("cannot move %s to %s: %s", path, self.failed, exc)
            return None


def archive_path(archive_dir: Path, uid: str) -> Path:
    """Where an instance is archived: <archive>/<SOPInstanceUID>.dcm (sanitised)."""
    return archive_dir / (safe_name(uid) + SUFFIX)


def finish(path: Path, archive_to: Path | None, fsync: bool) -> None:
    """After an instance's rows are durable: archive it (rename) or delete it."""
    try:
        if archive_to is not None:
            try:
                os.replace(path, archive_to)
            except OSError as exc:
                if exc.errno != 18:      # EXDEV: archive on another filesystem
                    raise
                shutil.copy2(path, archive_to)
                path.unlink()
            make_private(archive_to)
            if fsync:
                fsync_dir(archive_to.parent)
        else:
            path.unlink()
    except FileNotFoundError:
        pass
