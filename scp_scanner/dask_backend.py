"""`scp-scanner scan --dask ADDRESS`: the same pipeline on the workers of a Dask cluster,
in partitions that survive killed workers, crashes and Ctrl-C.

- ADDRESS is `tcp://host:port` (an existing scheduler) or `local:N` (a LocalCluster of N
  one-thread worker processes on this machine).
- A worker plugin builds the Pipeline once when a worker starts (after the process-wide
  settings of scp_scanner/process.py, as in the local pool) and keeps it; a worker that
  cannot load an engine stops the scan with the engine's own error (exit status 2).
- The inputs are streamed into partition list files (partitions.py); each partition is one
  task. The task gets its paths as its argument and returns its rows; the client writes the
  part. So workers need read access to the input files only, never to the output folder, and
  the CSV (which may hold PII) is written on the client's machine only, owner-only.
- A task lost with its worker is run again by Dask. A partition that Dask gives up on
  (KilledWorker: its workers died allowed-failures times) is run again one file per task, so
  the file that kills workers is reported as failed and the others keep their rows.
- Re-running the same command resumes: only the parts not in the journal are computed.

This module is imported only with --dask: the local scan never imports dask.
"""
from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import itertools
import logging
import signal
import sys
import threading
import time
import uuid
from contextlib import ExitStack
from dataclasses import dataclass

from distributed import Client, LocalCluster, WorkerPlugin, as_completed, get_worker, wait
from distributed.scheduler import KilledWorker
from tqdm import tqdm

from .errors import ScannerError
from .logs import quiet_pydicom
from .output.csv_file import render
from .output.rows import Row
from .process import configure_process
from .partitions import OutputDir, PartCounts, PartitionError, read_list, settings_json, stream_lists, todo
from .pipeline import Pipeline, PipelineSettings, build_pipeline

log = logging.getLogger(__name__)

EXIT_OK, EXIT_FAILURES, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130
PLUGIN_PREFIX = "scp-scanner-pipeline-"
TASKS_PER_THREAD = 2          # partitions queued per worker thread (bounds the client's memory)
WAIT_FOR_WORKERS_S = 300.0

# --- on the workers ----------------------------------------------------------------------

# One pipeline per settings on each worker: two scans with different engines may share a
# cluster, and each task names the settings it was submitted with.
_pipelines: dict[PipelineSettings, Pipeline] = {}
_init_errors: dict[PipelineSettings, str] = {}
_pipeline_lock = threading.Lock()   # engines are not thread-safe: one file at a time per worker


class EngineSetupError(ScannerError):
    """A worker could not load the engines; the message is the engine's own."""


def plugin_name(settings: PipelineSettings) -> str:
    """Registering the same settings again replaces that plugin; other settings get their own."""
    digest = hashlib.sha256(json.dumps(settings_json(settings), sort_keys=True).encode()).hexdigest()
    return PLUGIN_PREFIX + digest[:16]


def _load_pipeline(settings: PipelineSettings, debug: bool) -> None:
    configure_process(worker=True)            # before any engine loads
    quiet_pydicom(debug)
    from .registry import EngineError
    try:
        _pipelines[settings] = build_pipeline(settings)
        _init_errors.pop(settings, None)
    except EngineError as exc:
        _pipelines.pop(settings, None)
        _init_errors[settings] = str(exc)


class PipelinePlugin(WorkerPlugin):
    """Builds the Pipeline when a worker starts (or when the plugin is registered) and keeps it
    for every task that worker runs. Loading runs off the worker's event loop, so heartbeats go
    on while models load."""

    def __init__(self, settings: PipelineSettings, debug: bool = False):
        self.settings = settings
        self.debug = debug

    async def setup(self, worker) -> None:
        await asyncio.get_running_loop().run_in_executor(None, _load_pipeline, self.settings, self.debug)

    def teardown(self, worker) -> None:
        _pipelines.pop(self.settings, None)
        _init_errors.pop(self.settings, None)


def worker_ready(settings: PipelineSettings) -> str:
    """'ok' once this worker's engines for `settings` are loaded, else the engine's error."""
    if settings in _pipelines:
        return "ok"
    return _init_errors.get(settings) or "the scp-scanner plugin has not run on this worker"


@dataclass(frozen=True)
class FileOutcome:
    path: str
    rows: list[Row] | None           # None: failed or skipped
    images: int = 0
    sensitive: int = 0
    error: str = ""
    skipped: bool = False            # walked and not DICOM: passed over, as the local scan does


def _scan_file(pipeline: Pipeline, path: str, walked: bool) -> FileOutcome:
    from .dicom import DicomInputError, NotDicomError

    not_dicom = False
    try:
        result = pipeline.process_file(path)
    except NotDicomError as exc:    # passed over in a walked folder, as the local scan does
        error, not_dicom = str(exc) or type(exc).__name__, True
    except DicomInputError as exc:
        error = str(exc) or type(exc).__name__
    except OSError as exc:
        error = exc.strerror or str(exc)
    except Exception as exc:        # a bug or a decoder crash on hostile data: report, go on
        error = f"{type(exc).__name__}: {exc}"
    else:
        return FileOutcome(path, result.rows, result.images, result.sensitive_images)
    return FileOutcome(path, None, error=error, skipped=walked and not_dicom)


def scan_partition(settings: PipelineSettings, entries: list[tuple[str, bool]],
                   progress: tuple[str, int] | None = None) -> list[FileOutcome]:
    """The task: one outcome per (path, walked) entry, in order. A failing file is an outcome,
    never an exception; only a worker without engines raises. `progress` (topic, partition
    index): after each file, an event on that topic so the client's bar counts files."""
    pipeline = _pipelines.get(settings)
    if pipeline is None:
        raise EngineSetupError(worker_ready(settings))
    worker = get_worker() if progress is not None else None
    outcomes = []
    with _pipeline_lock:
        for path, walked in entries:
            outcomes.append(_scan_file(pipeline, path, walked))
            if worker is not None:
                worker.log_event(progress[0], progress[1])
    return outcomes


# --- on the client -----------------------------------------------------------------------


def _usage(message: str) -> int:
    print(f"scp-scanner: {message}", file=sys.stderr)
    return EXIT_USAGE


def check_arguments(args: argparse.Namespace) -> str:
    """The flags that do not go with --dask, as a one-line error ('' when all is well)."""
    if not args.output_dir:
        return "--dask needs --output-dir DIR (the parts, the manifest and the input lists go there)"
    if args.output != "-":
        return "--dask writes part files to --output-dir, not -o"
    if args.extract or args.identify:
        return "-x and -i run locally only, not with --dask"
    if args.jobs not in (None, 1):
        return "-j does not apply with --dask: the cluster's workers scan"
    if args.partition_size < 1:
        return "--partition-size must be at least 1"
    address = args.dask
    if address.startswith("local:"):
        if not address[6:].isdigit() or int(address[6:]) < 1:
            return f"--dask {address}: expected local:N with N >= 1"
    elif "://" not in address:
        return f"--dask {address}: expected tcp://host:port or local:N"
    return ""


def _open_client(address: str, debug: bool, stack: ExitStack) -> Client:
    quiet = logging.DEBUG if debug else logging.WARNING
    logging.getLogger("distributed").setLevel(quiet)
    if address.startswith("local:"):
        # The worker processes inherit 'ignore SIGINT': a terminal's Ctrl-C reaches the whole
        # process group, and it is the client that stops them (with a line, not tracebacks).
        previous = signal.signal(signal.SIGINT, signal.SIG_IGN)
        try:
            cluster = stack.enter_context(LocalCluster(
                n_workers=int(address[6:]), threads_per_worker=1, processes=True,
                dashboard_address=None, silence_logs=quiet))
        finally:
            signal.signal(signal.SIGINT, previous)
        return stack.enter_context(Client(cluster))
    client = stack.enter_context(Client(address, timeout="20s"))
    client.wait_for_workers(1, timeout=WAIT_FOR_WORKERS_S)
    return client


def _prepare_workers(client: Client, settings: PipelineSettings, debug: bool) -> str:
    """Register the plugin (engines load on every worker now and on every later one); the
    first engine error, or ''."""
    client.register_plugin(PipelinePlugin(settings, debug), name=plugin_name(settings))
    for answer in client.run(worker_ready, settings).values():
        if answer != "ok":
            return answer
    return ""


def _rescue(client: Client, settings: PipelineSettings, entries: list[tuple[str, bool]],
            cause: BaseException, key: str) -> list[FileOutcome]:
    """A partition Dask gave up on: each file again in its own task; a file whose task fails
    too is reported with the reason."""
    log.warning("partition task failed (%s: %s); scanning its files one per task",
                type(cause).__name__, cause)
    futures = [client.submit(scan_partition, settings, [entry], key=f"{key}-file-{n}", pure=False)
               for n, entry in enumerate(entries)]
    wait(futures)
    outcomes: list[FileOutcome] = []
    for (path, _), future in zip(entries, futures):
        try:
            outcomes.extend(future.result())
        except EngineSetupError:
            raise
        except KilledWorker:
            outcomes.append(FileOutcome(path, None, error="the Dask workers scanning it died"))
        except Exception as exc:  # whatever a lone task raised becomes that file's error; the scan goes on
            outcomes.append(FileOutcome(path, None, error=f"{type(exc).__name__}: {exc}"))
    return outcomes


def _counts(index: int, outcomes: list[FileOutcome]) -> PartCounts:
    ok = [o for o in outcomes if o.rows is not None]
    return PartCounts(index, files=len(ok), images=sum(o.images for o in ok),
                      flagged=sum(o.sensitive for o in ok),
                      failed=sum(1 for o in outcomes if o.rows is None and not o.skipped),
                      skipped=sum(1 for o in outcomes if o.skipped))


def _part_text(outcomes: list[FileOutcome]) -> str:
    return render([], header=True) + "".join(render(o.rows) for o in outcomes if o.rows is not None)


def _resume_or_list(out: OutputDir, args: argparse.Namespace, settings: dict, items) -> tuple[dict, dict[int, PartCounts]]:
    """The manifest and completed parts to work from: the previous scan's when it matches
    this command, a new listing otherwise. Raises PartitionError on a mismatch."""
    manifest = None if args.no_resume else out.read_manifest()
    if manifest is not None:
        listing = stream_lists(items, args.partition_size, None)
        mismatch = []
        if manifest.get("format") != 1:
            mismatch.append(f"manifest format {manifest.get('format')}")
        if manifest.get("settings") != settings:
            mismatch.append(f"settings {manifest.get('settings')} then, {settings} now")
        if manifest.get("partition_size") != args.partition_size:
            mismatch.append(f"partition size {manifest.get('partition_size')} then, {args.partition_size} now")
        if manifest.get("input_sha256") != listing.digest:
            mismatch.append(f"input list of {manifest.get('files')} files then, {listing.files} now, "
                            "different paths or order")
        if mismatch:
            raise PartitionError(f"{out.path} holds another scan ({'; '.join(mismatch)}): run the same "
                                 "command to resume it, or add --no-resume to start over")
        return manifest, out.completed(manifest["partitions"])
    out.clear()
    listing = stream_lists(items, args.partition_size, out.path)
    return out.write_manifest(settings, args.partition_size, listing), {}


def run_dask_scan(args: argparse.Namespace, settings: PipelineSettings, items) -> int:
    """The whole --dask scan; exit status as for a local scan (0/1/2), 130 when interrupted."""
    try:
        return _run(args, settings, items)
    except KeyboardInterrupt:
        print(f"\nscp-scanner: interrupted; the parts complete in {args.output_dir} are kept: run the "
              "same command again to resume", file=sys.stderr)
        return EXIT_INTERRUPTED


def _run(args: argparse.Namespace, settings: PipelineSettings, items) -> int:
    started = time.monotonic()
    out = OutputDir(args.output_dir)
    with ExitStack() as stack:
        try:
            out.open()
            stack.callback(out.close)
            manifest, done = _resume_or_list(out, args, settings_json(settings), items)
        except PartitionError as exc:
            return _usage(str(exc))
        except OSError as exc:
            return _usage(f"cannot write to {out.path}: {exc.strerror or exc}")
        partitions, total = manifest["partitions"], manifest["files"]
        if done:
            print(f"scp-scanner: resuming {out.path}: {len(done)} of {partitions} parts complete, "
                  f"computing {partitions - len(done)}", file=sys.stderr)
        computed = 0
        try:
            if len(done) < partitions:
                try:
                    client = _open_client(args.dask, args.debug, stack)
                    error = _prepare_workers(client, settings, args.debug)
                except (OSError, TimeoutError) as exc:
                    return _usage(f"cannot reach the Dask cluster at {args.dask}: {exc}")
                except Exception as exc:     # e.g. scp_scanner missing on a worker
                    return _usage(f"the Dask workers cannot run scp-scanner ({type(exc).__name__}: {exc}); "
                                  "install the same scp-scanner, with its engines, on every worker")
                if error:
                    return _usage(error)
                computed = _compute(client, settings, out, partitions, total, done)
        except EngineSetupError as exc:
            return _usage(str(exc))
        except OSError as exc:         # a part could not be written (disk full), the scheduler went away
            return _usage(f"scan stopped ({type(exc).__name__}: {exc.strerror or exc}); the parts complete "
                          f"in {out.path} are kept: run the same command again to resume")
    parts = list(done.values())
    failed = sum(p.failed for p in parts)
    print(f"scp-scanner: {sum(p.files for p in parts)} files, {sum(p.images for p in parts)} images, "
          f"{sum(p.flagged for p in parts)} flagged, {failed} failed, {sum(p.skipped for p in parts)} "
          f"skipped, {time.monotonic() - started:.1f} s; {partitions} parts ({computed} computed now, "
          f"{partitions - computed} from an earlier run) in {out.path}", file=sys.stderr)
    return EXIT_FAILURES if failed else EXIT_OK


def _compute(client: Client, settings: PipelineSettings, out: OutputDir, partitions: int, total: int,
             done: dict[int, PartCounts]) -> int:
    """Run every partition not in `done`, writing each part as it completes; `done` grows.
    Returns how many parts were computed."""
    threads = sum(client.nthreads().values()) or 1
    pending = todo(partitions, list(done))
    run = uuid.uuid4().hex[:8]            # task keys unique per run: nothing stale is reused
    in_flight: dict = {}
    results = as_completed()
    # tqdm draws only when stderr is a terminal (disable=None): pipes stay quiet.
    progress = tqdm(total=total, initial=sum(p.files + p.failed + p.skipped for p in done.values()),
                    unit=" files", disable=None, file=sys.stderr, leave=False)
    counter = FileCounter(progress)
    topic = f"scp-scanner-progress-{run}"
    if not progress.disable:          # per-file events only when a bar shows them
        client.subscribe_topic(topic, counter.on_event)

    def submit(index: int) -> None:
        entries = read_list(out.path, index)
        key = f"scp-scanner-{run}-part-{index:05d}"
        counter.expect(index, len(entries))
        future = client.submit(scan_partition, settings, entries,
                               None if progress.disable else (topic, index), key=key, pure=False)
        in_flight[future] = (index, entries, key)
        results.add(future)

    for index in itertools.islice(pending, TASKS_PER_THREAD * threads):
        submit(index)
    computed = 0
    try:
        for future in results:
            index, entries, key = in_flight.pop(future)
            try:
                outcomes = future.result()
            except EngineSetupError:
                raise
            except Exception as exc:       # KilledWorker, or a task that could not run at all
                outcomes = _rescue(client, settings, entries, exc, key)
            future.release()
            for outcome in outcomes:
                if outcome.rows is None:
                    verb = "skipped" if outcome.skipped else "failed"
                    why = f"not DICOM ({outcome.error})" if outcome.skipped else outcome.error
                    progress.write(f"scp-scanner: {verb} {outcome.path}: {why}", file=sys.stderr)
            counts = _counts(index, outcomes)
            out.commit_part(index, _part_text(outcomes), counts)
            done[index] = counts
            computed += 1
            counter.finish(index)
            log.info("part %05d: %d files, %d images, %d flagged, %d failed", index, counts.files,
                     counts.images, counts.flagged, counts.failed)
            following = next(pending, None)
            if following is not None:
                submit(following)
    except KeyboardInterrupt:
        # Workers busy with a file are killed as the cluster closes: expected, not worth a warning.
        logging.getLogger("distributed").setLevel(logging.ERROR)
        raise
    finally:
        if not progress.disable:
            client.unsubscribe_topic(topic)
        progress.close()
    return computed


class FileCounter:
    """The client's bar, counted in files: one per event a worker sends after each file, and
    the rest of a partition when its part is written (a lost event, a retried task or a
    rescued partition never counts a file twice or leaves one out)."""

    def __init__(self, progress: tqdm):
        self.progress = progress
        self._lock = threading.Lock()
        self._size: dict[int, int] = {}
        self._seen: dict[int, int] = {}

    def expect(self, index: int, files: int) -> None:
        with self._lock:
            self._size[index], self._seen[index] = files, 0

    def on_event(self, event) -> None:
        """A worker's event (time, partition index), on the client's event-loop thread."""
        index = event[1]
        with self._lock:
            if self._seen.get(index, 0) < self._size.get(index, 0):
                self._seen[index] += 1
                self.progress.update(1)

    def finish(self, index: int) -> None:
        with self._lock:
            self.progress.update(self._size.pop(index, 0) - self._seen.pop(index, 0))
