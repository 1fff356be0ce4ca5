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
from concurrent.futures import FIRST_COMPLETED, wait
from concurrent.futures.process import BrokenProcessPool
from pathlib import Path

from ..logs import printable
from ..output.rolling import RollingCsvWriter
from ..workers import Outcome, WorkerPool
from .ledger import Ledger, write_rows_once
from .metrics import NO_METRICS, NullMetrics
from .scheduler import Job, Scheduler
from .spool import Spool, archive_path, finish, key_of
from .tasks import process_spooled

log = logging.getLogger("scp_scanner.scp.processed")

SWEEP_SECONDS = 60.0      # how often temp files of aborted transfers are looked for
STALE_TMP_SECONDS = 900.0 # far beyond any DIMSE/network timeout between two PDUs


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
        self.inbox: queue.Queue[Path] = queue.Queue()
        # In flight, and after a worker dies the suspects, each retried alone: one that kills
        # a worker while alone goes to failed/.
        self.scheduler = Scheduler(capacity=2 * pool.workers)
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
        self.pool.stop(wait=not self.scheduler.count())
        self.writer.close()
        self.ledger.close()

    # -- loop ----------------------------------------------------------------------------
    def _run(self) -> None:
        try:
            while True:
                if self._stop.is_set():
                    if not self.scheduler.count() or time.monotonic() >= self._drain_deadline:
                        if self.scheduler.count():
                            log.warning("stopping with %d instance(s) unfinished; they stay in "
                                        "the spool for the next start", self.scheduler.count())
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
        scheduler = self.scheduler
        if scheduler.isolating:
            job = scheduler.next_alone()
            if job is not None:
                self._submit(job)
                scheduler.settle()               # nothing to run after all (done or gone)
            return
        deferred: list[Path] = []
        for _ in range(self.inbox.qsize()):
            if not scheduler.has_room():
                break
            try:
                path = self.inbox.get_nowait()
            except queue.Empty:
                break
            if scheduler.is_running(key_of(path)):
                # Received again while its first copy is being processed: decide after that
                # run completes (with dedupe its rows then stand and this copy is dropped).
                deferred.append(path)
                continue
            self._submit(Job.of(path))
        for path in deferred:
            self.inbox.put(path)

    def _submit(self, job: Job) -> None:
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
        self.scheduler.started(future, job)

    def _collect(self, timeout: float) -> None:
        scheduler = self.scheduler
        if not scheduler.count():
            if self._stop.is_set() or scheduler.has_suspects:
                return
            try:
                path = self.inbox.get(timeout=timeout)
            except queue.Empty:
                return
            self._submit(Job.of(path))
            return
        done, _ = wait(scheduler.running(), timeout=timeout, return_when=FIRST_COMPLETED)
        broken = False
        for future in done:
            job = scheduler.take(future)
            try:
                outcome: Outcome = future.result()
            except BrokenProcessPool:
                broken = True
                if scheduler.crashed(job):
                    self._fail(job, "a worker process died while processing it alone "
                                    "(decoder or engine crash)")
                continue
            except Exception as exc:   # pickling problems and the like: keep the file
                self._fail(job, f"{type(exc).__name__}: {exc}")
                continue
            finally:
                scheduler.release(job)
            self._handle(job, outcome)
        if broken:
            self._restart_pool()

    def _restart_pool(self) -> None:
        log.error("a worker process died; restarting the pool and retrying its instances one "
                  "at a time")
        self.scheduler.suspect_all()
        self.pool.restart()
        self.metrics.worker_restarted()

    def _handle(self, job: Job, outcome: Outcome) -> None:
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
        writing = time.perf_counter()
        try:
            write_rows_once(self.writer, self.ledger, job.key, rows)
            write_seconds = time.perf_counter() - writing
        except OSError as exc:
            log.error("cannot write rows of %s (%s); it stays in the spool and is retried",
                      printable(outcome.uid or job.key), exc)
            self.inbox.put(job.path)
            time.sleep(1.0)
            return
        except Exception as exc:      # rows that cannot be written at all: keep the instance
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

    def _finish(self, path: Path, archive_to: Path | None) -> None:
        try:
            finish(path, archive_to, self.fsync)
        except OSError as exc:
            log.error("rows of %s are written but it cannot be %s: %s", path.name,
                      "archived" if archive_to else "removed", exc)

    def _fail(self, job: Job, reason: str) -> None:
        self.failed += 1
        self.metrics.instance_failed()
        moved = self.spool.fail(job.path, reason)
        log.error("failed %s: %s (kept in %s)", job.key, printable(reason, 300), moved or job.path)
