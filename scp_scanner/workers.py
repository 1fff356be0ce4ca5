"""A pool of worker processes that run the pipeline on files.

The pool is generic: it runs a task (a module-level callable, e.g. `process_path` here or
`scp.tasks.process_spooled`) on a path, in a worker that has built its Pipeline once; it knows
nothing of the SCP, and importing it loads no SCP code.

OCR is CPU-bound and holds the GIL, so it runs in worker processes, never in the receiving
process (docs/facts.md, "Storage SCP": a CPU-bound handler stalls every association).
Each worker:
- is started with 'spawn' in the service (the receiving process has network threads; forking
  it is unsafe); `scan`, which has none, builds the pipeline once and forks its workers from
  itself (`fork=True`): one model load instead of one per worker, and the models' pages
  shared (21 real files on 2 workers: 5.7 s instead of 5.8, 9.3 s of CPU instead of 10.3,
  peak RSS 226 MB instead of 268). Only engines that survive a fork are loaded so
  (ocr.FORK_SAFE, pii.FORK_SAFE: not torch's easyocr and flair) and only on the CPU (a GPU's
  context does not); otherwise the scan's workers are spawned too,
- lowers its priority (os.nice, then SCHED_IDLE) so the receiver always gets the CPU first,
- makes the process-wide settings (scp_scanner/process.py: OMP_THREAD_LIMIT=1, offline model
  hubs) before any engine loads,
- builds the Pipeline once and reuses its loaded models for every instance.
Workers return rows; they never write the CSV (one writer, in the main process).
"""
from __future__ import annotations

import logging
import multiprocessing
import os
import signal
import threading
import time
from concurrent.futures import Future, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Callable

from .kept_out import import_pydicom
from .logs import quiet_pydicom
from .process import configure_process
from .pipeline_types import InstanceResult, PipelineSettings
from .registry import EngineError

if TYPE_CHECKING:
    from .pipeline import Pipeline

_pipeline: Pipeline | None = None
_init_error = ""          # why this worker has no pipeline (an engine or model missing)
_built_for: PipelineSettings | None = None      # the settings _pipeline / _init_error are of


@dataclass(frozen=True)
class Outcome:
    """What a worker sends back for one file: a result, or the one-line reason."""

    uid: str
    result: InstanceResult | None = None
    error: str = ""
    not_dicom: bool = False       # the file is not DICOM at all (a walked folder skips it)
    no_images: str = ""           # a DICOM instance without images (SR, PDF, RT...): its SOP class


def _limit_memory(megabytes: int) -> None:
    """Cap this worker's address space (RLIMIT_AS): an allocation past it raises MemoryError
    in the worker (the instance goes to failed/) instead of taking the machine's memory."""
    if megabytes <= 0:
        return
    import resource

    limit = megabytes << 20
    _, hard = resource.getrlimit(resource.RLIMIT_AS)
    if hard != resource.RLIM_INFINITY:
        limit = min(limit, hard)
    resource.setrlimit(resource.RLIMIT_AS, (limit, hard))


def _init_worker(settings: PipelineSettings, nice: int, parent: int, memory_mb: int = 0) -> None:
    """A spawned worker's start: its process settings, then its own pipeline."""
    _prepare_worker(nice, parent, memory_mb)
    build_here(settings)


def _init_forked_worker(nice: int, parent: int, memory_mb: int = 0) -> None:
    """A forked worker's start: its process settings; its pipeline is the parent's, built
    before the fork (build_here) and shared page by page until written."""
    _prepare_worker(nice, parent, memory_mb)


def _prepare_worker(nice: int, parent: int, memory_mb: int) -> None:
    configure_process(worker=True)
    _limit_memory(memory_mb)
    # The service handles SIGINT/SIGTERM itself and drains its workers; a terminal's Ctrl-C
    # reaching the whole process group must not kill a worker mid-instance.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    if nice > 0:
        try:
            os.nice(nice)
        except OSError:
            pass
        # SCHED_IDLE: run only when the receiver does not want the CPU. Niceness alone is not
        # enough: with every core busy with OCR, a receiver that sleeps in fsync for each
        # instance lost most of its share on wake-up (2 cores: 90 instead of 240 instances/s).
        if hasattr(os, "SCHED_IDLE"):
            try:
                os.sched_setscheduler(0, os.SCHED_IDLE, os.sched_param(0))
            except OSError:
                pass
    _watch_parent(parent)


def may_fork(settings: PipelineSettings) -> bool:
    """Whether the settings' engines may be loaded in a process that forks its workers
    (ocr.FORK_SAFE, pii.FORK_SAFE)."""
    from . import ocr, pii

    return ((settings.ocr is None or settings.ocr.strip().lower() in ocr.FORK_SAFE)
            and (settings.pii is None or pii.parse_spec(settings.pii)[0] in pii.FORK_SAFE))


def on_cpu(pipeline: Pipeline | None) -> bool:
    """Whether the pipeline's engines run on the CPU (an engine with a `device` other than
    "cpu", rapidocr on CUDA, holds a GPU context that a forked process cannot use)."""
    if pipeline is None:
        return True
    engines = (pipeline.ocr, getattr(pipeline.ner, "engine", pipeline.ner))
    return all(str(getattr(engine, "device", "cpu")) == "cpu" for engine in engines if engine is not None)


def forget_here() -> None:
    """Drop this process's pipeline (its forked workers keep theirs)."""
    global _pipeline, _init_error, _built_for
    _pipeline, _init_error, _built_for = None, "", None


def build_here(settings: PipelineSettings) -> None:
    """Build this process's pipeline (once): in a spawned worker, or in the process that
    forks its workers. An engine that cannot load leaves the reason for ready()."""
    global _pipeline, _init_error, _built_for
    if _built_for == settings:
        return
    _pipeline, _init_error, _built_for = None, "", settings
    import_pydicom()
    from .pipeline import build_pipeline      # the engines and image analysis: in workers only

    quiet_pydicom(logging.getLogger().isEnabledFor(logging.DEBUG))   # after pydicom's import

    try:
        _pipeline = build_pipeline(settings)
    except EngineError as exc:       # reported by ready(): the pool owner stops with this message
        _init_error = str(exc)


def _watch_parent(parent: int) -> None:
    """Exit when the service dies (kill -9 included): a worker blocked on its task queue would
    otherwise live on as an orphan, since it holds both ends of the queue's pipe."""
    def watch() -> None:
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(0)
    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def ready() -> str:
    """A no-op task: answers once a worker has built its pipeline (engines and models loaded)."""
    return "ok" if _pipeline is not None else (_init_error or "worker has no pipeline")


def worker_pipeline() -> Pipeline:
    """The pipeline this worker built at start-up, for a task running in it."""
    assert _pipeline is not None, "worker not initialised"
    return _pipeline


def process_path(path: str) -> Outcome:
    """Run the pipeline on one file of an offline scan (in a worker); the CSV filename is the
    path as given."""
    from .dicom import DicomInputError, NotDicomError

    if _pipeline is None:
        return Outcome("", error=_init_error or "worker has no pipeline")
    try:
        return Outcome("", result=_pipeline.process_file(path))
    except NotDicomError as exc:
        return Outcome("", error=str(exc), not_dicom=True)
    except DicomInputError as exc:
        return Outcome("", error=str(exc) or type(exc).__name__)
    except OSError as exc:
        return Outcome("", error=exc.strerror or str(exc))


class WorkerPool:
    """A restartable ProcessPoolExecutor of pipeline workers."""

    def __init__(self, settings: PipelineSettings, workers: int = 0, nice: int = 10,
                 memory_mb: int = 0, fork: bool = False):
        self.settings = settings
        self.workers = workers or os.cpu_count() or 1
        self.nice = nice
        self.memory_mb = memory_mb
        # fork: build the pipeline here once and fork the workers from this process, for an
        # owner with no threads of its own (`scan`; the service's receiver has network threads
        # and spawns). Where fork is not offered (not Linux), workers are spawned.
        self.fork = fork and "fork" in multiprocessing.get_all_start_methods() and may_fork(settings)
        self._executor: ProcessPoolExecutor | None = None

    def start(self) -> None:
        if self.fork:
            build_here(self.settings)
            if _init_error:
                raise EngineError(_init_error)
            if not on_cpu(_pipeline):          # a GPU's context does not survive a fork
                forget_here()
                self.fork = False
        if self.fork:
            self._executor = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=multiprocessing.get_context("fork"),
                initializer=_init_forked_worker, initargs=(self.nice, os.getpid(), self.memory_mb))
            return
        self._executor = ProcessPoolExecutor(
            max_workers=self.workers, mp_context=multiprocessing.get_context("spawn"),
            initializer=_init_worker, initargs=(self.settings, self.nice, os.getpid(), self.memory_mb))

    def check(self, timeout: float = 600.0) -> None:
        """Start every worker and wait until they have loaded their engines; raise EngineError
        when one cannot (an unknown engine or a missing model must stop the service at
        start-up, not send every instance to failed/).

        One `ready` task per worker: a 'spawn' ProcessPoolExecutor starts a process per task
        submitted while none is idle, so all of them load their models at once, each on its
        own core. With a single task the other workers started only with the first files, one
        model load (~2 s) later, while their cores stood idle."""
        if self._executor is None:
            self.start()
        assert self._executor is not None
        try:
            answers = [future.result(timeout)
                       for future in [self._executor.submit(ready) for _ in range(self.workers)]]
        except BrokenProcessPool as exc:
            raise EngineError("the worker processes could not load the OCR/PII engines "
                              "(their error is logged above)") from exc
        for answer in answers:
            if answer != "ok":
                raise EngineError(answer)
        if self.fork:
            # The workers hold the pipeline now; this process lets its own copy go while they
            # work, instead of freeing it when it exits, after the last file.
            forget_here()

    def submit(self, task: Callable[..., Outcome], path: str, *args: Any) -> Future:
        """Run `task(path, *args)` in a worker; the task reaches the worker's pipeline through
        worker_pipeline(). It must be a module-level function (it is pickled by name)."""
        if self._executor is None:
            self.start()
        assert self._executor is not None
        return self._executor.submit(task, path, *args)

    def alive_workers(self) -> int:
        """Worker processes running now (0 before the first task or after they all died)."""
        return sum(1 for process in _worker_processes(self._executor) if process.is_alive())

    def restart(self) -> None:
        """After a worker died (BrokenProcessPool): drop the pool and start a new one."""
        self.stop(wait=False)
        self.start()

    def stop(self, wait: bool = True) -> None:
        executor, self._executor = self._executor, None
        if executor is None:
            return
        if not wait:
            # Workers may be in the middle of an instance; they are killed, their instances
            # stay in the spool for the next start.
            for process in _worker_processes(executor):
                if process.is_alive():
                    process.terminate()
        executor.shutdown(wait=True, cancel_futures=True)


def _worker_processes(executor: ProcessPoolExecutor | None) -> list[multiprocessing.process.BaseProcess]:
    """The executor's worker processes. The standard library has no public way to get them:
    this is the one place that reads ProcessPoolExecutor's private `_processes` (a dict of
    pid -> Process); tests/test_private_apis.py fails when Python changes it."""
    processes = getattr(executor, "_processes", None) if executor is not None else None
    return list((processes or {}).values())
