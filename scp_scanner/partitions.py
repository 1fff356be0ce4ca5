"""A partitioned scan on disk: the input list streamed into partition list files, the
manifest that pins the inputs and settings, the journal of completed parts, and the parts.

Layout of an output folder (0700; every file 0600, since paths and rows may hold PII):

    manifest.json              format, settings, partition size, file and partition counts,
                               the SHA-256 of the whole input list (written once listing ends)
    lists/part-NNNNN.jsonl     the files of partition N, one JSON line each: [path, walked]
    completed.jsonl            one JSON line per completed part, appended: its counts
    part-NNNNN.csv             the CSV of partition N (header + rows), complete or absent
    part-NNNNN.csv.part        a part being written

A part is committed in three steps: the `.csv.part` file is written and fsynced, a line is
appended to the journal and fsynced, the file is renamed to `.csv`. So a journaled part whose
`.csv` is missing has a complete `.csv.part` (the rename is finished on resume), and a
`.csv.part` without a journal line is a half-written part (deleted, recomputed).

Nothing here imports dask: it is plain files, testable on its own.
"""
from __future__ import annotations

import fcntl
import hashlib
import json
import os
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Iterable, Iterator

from .errors import ScannerError
from .private_files import PRIVATE_DIR, open_private, private_dir, replace_private
from .paths import InputPath

FORMAT = 1
DEFAULT_PARTITION_SIZE = 1000     # files per partition: one task and one part each
MANIFEST = "manifest.json"
JOURNAL = "completed.jsonl"
LISTS = "lists"
LOCK = ".lock"


class PartitionError(ScannerError):
    """The output folder cannot be used for this scan (one line, for the user)."""


def part_name(index: int) -> str:
    return f"part-{index:05d}.csv"


def list_file(out: Path, index: int) -> Path:
    return out / LISTS / f"part-{index:05d}.jsonl"


@dataclass(frozen=True)
class Listing:
    """What streaming the inputs produced: how many files, in how many partitions, and the
    digest of the whole list (paths and whether each was found by walking a folder)."""

    files: int
    partitions: int
    digest: str


@dataclass(frozen=True)
class PartCounts:
    """One completed part, as the journal records it."""

    part: int
    files: int          # files scanned (with rows)
    images: int
    flagged: int        # images judged sensitive
    failed: int
    skipped: int        # walked files that are not DICOM

    def as_json(self) -> str:
        return json.dumps({"part": self.part, "files": self.files, "images": self.images,
                           "flagged": self.flagged, "failed": self.failed, "skipped": self.skipped})


def _entry_line(item: InputPath) -> str:
    # ASCII JSON: names that are not UTF-8 (surrogate escapes from os.walk) survive the trip.
    return json.dumps([item.path, item.walked]) + "\n"


def stream_lists(items: Iterable[InputPath], size: int, out: Path | None) -> Listing:
    """Digest the input list in partitions of `size`; when `out` is given, write each
    partition's list file as its entries arrive. Holds one line at a time, never the list."""
    whole = hashlib.sha256()
    files = partitions = 0
    handle: IO[str] | None = None
    try:
        for item in items:
            if files % size == 0:
                partitions += 1
                if out is not None:
                    if handle is not None:
                        handle.close()
                    handle = open_private(str(list_file(out, partitions - 1)))
            line = _entry_line(item)
            whole.update(line.encode("ascii"))
            if handle is not None:
                handle.write(line)
            files += 1
    finally:
        if handle is not None:
            handle.close()
    return Listing(files, partitions, whole.hexdigest())


def read_list(out: Path, index: int) -> list[tuple[str, bool]]:
    """The (path, walked) entries of one partition, in input order."""
    with open(list_file(out, index), encoding="ascii") as handle:
        return [(str(path), bool(walked)) for path, walked in map(json.loads, handle)]


def settings_json(settings: object) -> dict:
    """Settings as the manifest stores them (JSON round trip, so tuples compare as lists)."""
    from dataclasses import asdict

    return json.loads(json.dumps(asdict(settings)))     # type: ignore[arg-type]


def _write_json_private(path: Path, value: dict) -> None:
    """Replace a JSON file atomically (written beside it, fsynced, renamed), owner-only."""
    replace_private(path, (json.dumps(value, indent=1, sort_keys=True) + "\n").encode("utf-8"))


class OutputDir:
    """The output folder of one partitioned scan, locked against a second writer."""

    def __init__(self, path: str | os.PathLike):
        self.path = Path(path)
        self._lock: IO[str] | None = None

    def open(self) -> None:
        """Create (0700) and lock the folder; raise PartitionError when it cannot be used."""
        try:
            # The folder the user named is not re-moded if it exists (it may be shared).
            self.path.mkdir(mode=PRIVATE_DIR, parents=True, exist_ok=True)
            private_dir(self.path / LISTS)
            self._lock = open_private(str(self.path / LOCK), "a")
        except OSError as exc:
            raise PartitionError(f"cannot use output folder {self.path}: {exc.strerror or exc}") from None
        try:
            fcntl.flock(self._lock.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError:
            raise PartitionError(f"another scan is writing to {self.path}") from None

    def close(self) -> None:
        if self._lock is not None:
            self._lock.close()
            self._lock = None

    # --- manifest ------------------------------------------------------------------------

    def read_manifest(self) -> dict | None:
        try:
            with open(self.path / MANIFEST, encoding="utf-8") as handle:
                return json.load(handle)
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise PartitionError(f"cannot read {self.path / MANIFEST}: {exc}") from None

    def write_manifest(self, settings: dict, size: int, listing: Listing) -> dict:
        manifest = {"format": FORMAT, "settings": settings, "partition_size": size,
                    "files": listing.files, "partitions": listing.partitions,
                    "input_sha256": listing.digest, "lists": f"{LISTS}/part-NNNNN.jsonl",
                    "parts": "part-NNNNN.csv", "completed": JOURNAL}
        _write_json_private(self.path / MANIFEST, manifest)
        return manifest

    def clear(self) -> None:
        """Forget a previous scan (--no-resume, or a listing that never finished): remove the
        files this module writes, nothing else."""
        for name in (MANIFEST, MANIFEST + ".tmp", JOURNAL):
            (self.path / name).unlink(missing_ok=True)
        for pattern in ("part-*.csv", "part-*.csv.part"):
            for stale in self.path.glob(pattern):
                stale.unlink()
        for stale in (self.path / LISTS).glob("part-*.jsonl"):
            stale.unlink()

    # --- journal and parts --------------------------------------------------------------

    def completed(self, partitions: int) -> dict[int, PartCounts]:
        """The journaled parts, with the three-step commit finished where a crash cut it
        short; half-written parts are removed."""
        done: dict[int, PartCounts] = {}
        self._drop_torn_line()
        try:
            with open(self.path / JOURNAL, encoding="utf-8") as handle:
                for line in handle:
                    try:
                        counts = PartCounts(**json.loads(line))
                    except (ValueError, TypeError):
                        continue        # a line cut short by a crash: that part is redone
                    if 0 <= counts.part < partitions:
                        done[counts.part] = counts
        except FileNotFoundError:
            pass
        for index in list(done):
            final = self.path / part_name(index)
            partial = final.with_name(final.name + ".part")
            if not final.exists():
                if partial.exists():
                    os.replace(partial, final)
                else:
                    del done[index]
        for partial in self.path.glob("part-*.csv.part"):
            partial.unlink()
        return done

    def _drop_torn_line(self) -> None:
        """A crash during an append leaves a line without its newline: cut it off, so the
        next append starts a line of its own."""
        try:
            with open(self.path / JOURNAL, "rb+") as handle:
                data = handle.read()
                if data and not data.endswith(b"\n"):
                    handle.truncate(data.rfind(b"\n") + 1)
        except FileNotFoundError:
            pass

    def commit_part(self, index: int, csv_text: str, counts: PartCounts) -> None:
        final = self.path / part_name(index)
        partial = final.with_name(final.name + ".part")
        with open_private(str(partial)) as handle:
            handle.write(csv_text)
            handle.flush()
            os.fsync(handle.fileno())
        with open_private(str(self.path / JOURNAL), "a") as journal:
            journal.write(counts.as_json() + "\n")
            journal.flush()
            os.fsync(journal.fileno())
        os.replace(partial, final)


def todo(partitions: int, done: Iterable[int]) -> Iterator[int]:
    finished = set(done)
    return (index for index in range(partitions) if index not in finished)
