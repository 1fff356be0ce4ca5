"""Feeds spooled instances to the worker pool and writes their rows: the single CSV writer.

One thread owns the RollingCsvWriter and the Ledger. For each finished instance, in order:
ledger `B` (durable) -> rows written together (durable) -> ledger `D` (durable) -> spool file
archived or removed. A crash at any point therefore loses nothing and duplicates nothing
(see ledger.py). Instances without images (structured reports, encapsulated PDFs, RT
objects) have nothing to scan: they are counted and logged as "no images" and archived or
removed like processed instances. Instances that cannot be processed go to the spool's
failed/ folder with a log line; the service goes on.
"""
from __future__ import annotations

import logging
import queue
import threading
import time
from concurrent.futures import FIRST_COMPLETED, Future, wait
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from pathlib import Path

from ..logs import printable
from ..output.rolling import RollingCsvWriter
from ..workers import Outcome, WorkerPool
from .ledger import Ledger
from .metrics import NO_METRICS, NullMetrics
from .spool import Spool, archive_path, finish, key_of
from .tasks import process_spooled

log = logging.getLogger("scp_scanner.scp.processed")

SWEEP_SECONDS = 60.0      # how often temp files of aborted transfers are looked for
STALE_TMP_SECONDS = 900.0 # far beyond any DIMSE/network timeout between two PDUs


@dataclass
class _Job:
    path: Path
    key: str


class Processor:
    def __init__(self, spool: Spool, pool: WorkerPool, writer: RollingCsvWriter, ledger: Ledger,
                 archive_dir: Path | None = None, fsync: bool = True,
                 reasons: bool = False, metrics: NullMetrics = NO_METRICS):
        self.spool = spool
        self.pool = pool
        self.writer = writer
        self.ledger = ledger
        self.archive_dir = archive_dir
        self.fsync = fsync
        self.reasons = reasons            # write the opt-in reasons column (output.reasons)
        self.metrics = metrics
        self.max_in_flight = 2 * pool.workers
        self.inbox: queue.Queue[Path] = queue.Queue()
        self._in_flight: dict[Future, _Job] = {}
        self._keys_in_flight: set[str] = set()
        # After a worker dies, the instances it may have been running are suspects: each is
        # retried alone, and one that kills a worker while alone goes to failed/.
        self._suspects: list[Path] = []
        self._alone: str | None = None
        self._stop = threading.Event()
        self._drain_deadline = 0.0
        self._next_sweep = time.monotonic() + SWEEP_SECONDS
        self._thread = threading.Thread(target=self._run, name="processor", daemon=True)
        self.processed = 0
        self.failed = 0
        self.no_images = 0

    # -- public --------------------------------------------------------------------------
    def start(self, replay: list[Path]) -> None:
        for path in replay:
            self.inbox.put(path)
        if replay:
            log.info("replaying %d spooled instance(s) from a previous run", len(replay))
        self._thread.start()

    @property
    def alive(self) -> bool:
        return self._thread.is_alive()

    def enqueue(self, path: Path) -> None:
        """Called by the C-STORE handler once an instance is durable in the spool."""
        self.inbox.put(path)

    def stop(self, timeout: float) -> None:
        """Stop taking new work, let in-flight instances finish for up to `timeout` seconds
        (their rows are written), then stop the workers. Queued files stay in the spool."""
        self._drain_deadline = time.monotonic() + timeout
        self._stop.set()
        self._thread.join()
        self.pool.stop(wait=not self._in_flight)
        self.writer.close()
        self.ledger.close()

    # -- loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                if self._stop.is_set():
                    if not self._in_flight or time.monotonic() >= self._drain_deadline:
                        if self._in_flight:
                            log.warning("stopping with %d instance(s) unfinished; they stay in "
                                        "the spool for the next start", len(self._in_flight))
                        return
                else:
                    self._fill()
                self._collect(timeout=0.2)
                self.writer.maybe_roll()
                if time.monotonic() >= self._next_sweep:
                    self._next_sweep = time.monotonic() + SWEEP_SECONDS
                    self.spool.sweep_tmp(STALE_TMP_SECONDS)
        except Exception:  # last resort of the writer thread: log it, keep the spool
            log.exception("processor stopped by an unexpected error; spooled instances are kept")

    def _fill(self) -> None:
        if self._suspects or self._alone is not None:
            if not self._in_flight and self._suspects:
                path = self._suspects.pop(0)
                self._alone = key_of(path)
                self._submit(_Job(path, key_of(path)))
                if not self._in_flight:          # nothing to run after all (done or gone)
                    self._alone = None
            return
        deferred: list[Path] = []
        for _ in range(self.inbox.qsize()):
            if len(self._in_flight) >= self.max_in_flight:
                break
            try:
                path = self.inbox.get_nowait()
            except queue.Empty:
                break
            if key_of(path) in self._keys_in_flight:
                # Received again while its first copy is being processed: decide after that
                # run completes (with dedupe its rows then stand and this copy is dropped).
                deferred.append(path)
                continue
            self._submit(_Job(path, key_of(path)))
        for path in deferred:
            self.inbox.put(path)

    def _submit(self, job: _Job) -> None:
        if not job.path.exists():
            return
        if self.ledger.is_done(job.key):
            log.info("instance %s already has rows; dropping the repeated copy", job.key)
            self.metrics.instance_deduplicated()
            self._finish(job.path, None)
            return
        archive = str(self.archive_dir) if self.archive_dir else None
        try:
            future = self.pool.submit(process_spooled, str(job.path), archive)
        except BrokenProcessPool:
            self.pool.restart()
            self.metrics.worker_restarted()
            future = self.pool.submit(process_spooled, str(job.path), archive)
        self._in_flight[future] = job
        self._keys_in_flight.add(job.key)

    def _collect(self, timeout: float) -> None:
        if not self._in_flight:
            if self._stop.is_set() or self._suspects:
                return
            try:
                path = self.inbox.get(timeout=timeout)
            except queue.Empty:
                return
            self._submit(_Job(path, key_of(path)))
            return
        done, _ = wait(list(self._in_flight), timeout=timeout, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            job = self._in_flight.pop(future)
            self._keys_in_flight.discard(job.key)
            try:
                outcome: Outcome = future.result()
            except BrokenProcessPool:
                broken = True
                if self._alone == job.key:
                    self._fail(job, "a worker process died while processing it alone "
                                    "(decoder or engine crash)")
                else:
                    self._suspects.append(job.path)
                continue
            except Exception as exc:   # pickling problems and the like: keep the file
                self._fail(job, f"{type(exc).__name__}: {exc}")
                continue
            finally:
                if self._alone == job.key:
                    self._alone = None
            self._handle(job, outcome)
        if broken:
            self._restart_pool()

    def _restart_pool(self) -> None:
        log.error("a worker process died; restarting the pool and retrying its instances one "
                  "at a time")
        for future, job in list(self._in_flight.items()):
            self._in_flight.pop(future)
            self._keys_in_flight.discard(job.key)
            self._suspects.append(job.path)
        self.pool.restart()
        self.metrics.worker_restarted()

    def _handle(self, job: _Job, outcome: Outcome) -> None:
        if outcome.result is None and outcome.no_images:
            uid = outcome.uid or job.key
            archive_to = archive_path(self.archive_dir, uid) if self.archive_dir else None
            self._finish(job.path, archive_to)
            self.no_images += 1
            log.info("no images in %s (%s): nothing to scan; %s", uid, outcome.no_images,
                     f"archived as {archive_to}" if archive_to else "removed")
            return
        if outcome.result is None:
            self._fail(job, outcome.error)
            return
        result = outcome.result
        rows = [row.as_list(self.reasons) for row in result.rows]
        begun: list[int] = []

        def log_begin(path: Path, offset: int) -> None:
            self.ledger.begin(job.key, path.name, offset)
            begun.append(offset)

        writing = time.perf_counter()
        try:
            self.writer.write_rows(rows, before_write=log_begin)
            self.ledger.commit(job.key)
            write_seconds = time.perf_counter() - writing
        except OSError as exc:
            log.error("cannot write rows of %s (%s); it stays in the spool and is retried",
                      printable(outcome.uid or job.key), exc)
            if begun:
                self._undo_partial(job, begun[0])
            self.inbox.put(job.path)
            time.sleep(1.0)
            return
        except Exception as exc:      # rows that cannot be written at all: keep the instance
            if begun:
                self._undo_partial(job, begun[0])
            self._fail(job, f"cannot write its rows: {type(exc).__name__}: {exc}")
            return
        archive_to = archive_path(self.archive_dir, outcome.uid) if self.archive_dir else None
        self._finish(job.path, archive_to)
        self.processed += 1
        self.metrics.instance_processed(result.images, result.sensitive_images, result.stages,
                                        write_seconds)
        log.info("processed %s: %d image(s), %d row(s), PII found in %d image(s), %.2f s",
                 printable(outcome.uid), result.images, len(result.rows), result.sensitive_images,
                 result.seconds)

    def _undo_partial(self, job: _Job, offset: int) -> None:
        try:
            self.writer.truncate_to(offset)
            self.ledger.abandon(job.key)
        except OSError:
            pass   # recovery at the next start cuts the rows back using the ledger

    def _finish(self, path: Path, archive_to: Path | None) -> None:
        try:
            finish(path, archive_to, self.fsync)
        except OSError as exc:
            log.error("rows of %s are written but it cannot be %s: %s", path.name,
                      "archived" if archive_to else "removed", exc)

    def _fail(self, job: _Job, reason: str) -> None:
        self.failed += 1
        self.metrics.instance_failed()
        moved = self.spool.fail(job.path, reason)
        log.error("failed %s: %s (kept in %s)", job.key, printable(reason, 300), moved or job.path)
