"""`scp-scanner serve`: wire config, spool, ledger, CSV writer, workers and the AE together.

Start-up order matters for exactly-once output: the ledger cuts unconfirmed rows out of the
CSV *before* the writer repairs and resumes its `.part` file, and the spool is replayed
before the port opens. Shutdown (SIGTERM/SIGINT): stop listening, give open associations a
moment to finish, let C-STOREs in progress complete (new ones get 'out of resources'), abort
the rest, let in-flight instances finish writing their rows, complete the CSV, exit 0.
Whatever is still queued stays in the spool for the next start.
"""
from __future__ import annotations

import argparse
import logging
import signal
import sys
import threading
import time
from pathlib import Path

from .. import config as cfg
from ..output.rolling import HEADER, REASONS_HEADER, RollingCsvWriter, RollPolicy
from ..private_files import private_dir
from ..errors import ScannerError
from ..pipeline_types import PipelineSettings
from ..process import owner_only_files
from ..workers import WorkerPool
from .access import AddressPolicy
from ..logs import quiet_pydicom
from .ae import build_ae, configure_pynetdicom, quiet_pynetdicom, start_server
from .handlers import Handlers
from .intake import discard_all
from .ledger import Ledger, recover
from .metrics import NO_METRICS, Metrics, MetricsServer, spool_writable
from .processor import Processor
from .spool import Spool

log = logging.getLogger("scp_scanner.scp.service")

LEDGER_NAME = "done.log"
ASSOCIATION_GRACE_SECONDS = 5.0


def config_from_args(args: argparse.Namespace) -> cfg.ServeConfig:
    """The YAML file (or defaults) with command-line flags applied on top."""
    config = cfg.load(getattr(args, "config", None))
    get = lambda name: getattr(args, name, None)  # noqa: E731
    config = cfg.override(config, "network", host=get("host"), port=get("port"), ae_title=get("ae_title"))
    config = cfg.override(config, "storage", spool_dir=get("spool_dir"), archive_dir=get("archive_dir"),
                          fsync=get("fsync"))
    config = cfg.override(config, "output", output_dir=get("output_dir"), fsync=get("fsync"),
                          roll_size_mb=get("roll_size_mb"), roll_interval=get("roll_interval"))
    config = cfg.override(config, "processing", ocr=get("ocr"), pii=get("pii"), rects=get("rects"),
                          workers=get("workers"))
    if get("calling_ae"):
        config = cfg.override(config, "access", calling_ae_titles=tuple(get("calling_ae")))
    if get("debug"):
        config = cfg.override(config, "logging", level="DEBUG")
    return config


def pipeline_settings(config: cfg.ServeConfig) -> PipelineSettings:
    ocr = cfg.engine_or_none(config.processing.ocr)
    pii = cfg.engine_or_none(config.processing.pii) if ocr else None
    return PipelineSettings(ocr=ocr, pii=pii, rects=config.processing.rects,
                            overlays=config.processing.overlays,
                            ocr_options=cfg.ocr_options(config.processing),
                            frame_reuse=config.processing.frame_reuse,
                            frame_reuse_exact=config.processing.frame_reuse_exact,
                            still_text=config.processing.still_text,
                            limits=cfg.decode_limits(config.processing))


def _setup_logging(level: str) -> None:
    logging.basicConfig(level=level, stream=sys.stderr,
                        format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    logging.getLogger().setLevel(level)
    quiet_pynetdicom(level == "DEBUG")
    quiet_pydicom(level == "DEBUG")


class Service:
    """The running SCP; `start()` then `stop()`. Tests and the CLI use the same object."""

    def __init__(self, config: cfg.ServeConfig):
        self.config = config
        storage, output = config.storage, config.output
        self.spool = Spool(Path(storage.spool_dir), fsync=storage.fsync, dedupe=storage.dedupe,
                           min_free_bytes=storage.min_free_mb * 2**20)
        self.archive_dir = Path(storage.archive_dir).resolve() if storage.archive_dir else None
        self.output_dir = Path(output.output_dir)
        self.server = None
        self.metrics = Metrics() if config.metrics.port else NO_METRICS
        self.metrics_server: MetricsServer | None = None

    def start(self) -> None:
        config = self.config
        self.spool.prepare()
        private_dir(self.output_dir)
        if self.archive_dir is not None:
            private_dir(self.archive_dir)
        self.ledger = Ledger(self.spool.root / LEDGER_NAME, fsync=config.output.fsync,
                             retention_days=config.storage.dedupe_days)
        redo = recover(self.ledger, self.output_dir)
        if redo:
            log.warning("recovered %d instance(s) whose rows were interrupted; processing them again",
                        len(redo))
        policy = RollPolicy(cfg.roll_seconds(config.output.roll_interval),
                            int(config.output.roll_size_mb * 2**20))
        self.writer = RollingCsvWriter(self.output_dir, config.output.prefix, policy,
                                       fsync=config.output.fsync,
                                       header=REASONS_HEADER if config.output.reasons else HEADER)
        self.pool = WorkerPool(pipeline_settings(config), config.processing.workers,
                               config.processing.nice, config.processing.worker_memory_mb)
        self.pool.start()
        self.pool.check()
        self.processor = Processor(self.spool, self.pool, self.writer, self.ledger,
                                   self.archive_dir, fsync=config.storage.fsync,
                                   reasons=config.output.reasons, metrics=self.metrics)
        self.processor.start(self.spool.pending())
        configure_pynetdicom(self.spool.tmp.resolve(), config.storage.accept_unknown_sop_classes,
                             self.spool.min_free_bytes, config.network.max_pdu)
        self.handlers = Handlers(self.spool, self.processor.enqueue,
                                 AddressPolicy.from_config(config.access),
                                 verify_dataset=config.storage.verify_dataset,
                                 metrics=self.metrics,
                                 max_associations=config.network.max_associations)
        self._start_metrics()
        self.ae = build_ae(config)
        self.server = start_server(self.ae, config, self.handlers)
        host, port = self.server.server_address[:2]
        log.info("listening on %s:%d as AE %r (TLS %s), %d worker(s), OCR %s, PII %s; spool %s, "
                 "output %s", host, port, config.network.ae_title,
                 "on" if config.tls.enabled else "off", self.pool.workers,
                 config.processing.ocr, pipeline_settings(config).pii or "none", self.spool.root,
                 self.output_dir)

    def _start_metrics(self) -> None:
        if not isinstance(self.metrics, Metrics):
            return
        self.metrics.watch(self.spool.incoming, self.spool.root, self.pool.alive_workers)
        self.metrics_server = MetricsServer(self.metrics, self.config.metrics.host,
                                            self.config.metrics.port, self.health_problem)
        self.metrics_server.start()
        log.info("metrics on http://%s:%d/metrics, health on /healthz", *self.metrics_server.address)

    def health_problem(self) -> str:
        """'' when healthy, else why not (served as /healthz 503)."""
        if not self.processor.alive:
            return "the processing thread stopped"
        if self.pool.alive_workers() == 0:
            return "no worker process is alive"
        return spool_writable(self.spool.incoming)

    def abandon(self) -> None:
        """Undo a start that failed half-way (nothing was acknowledged yet)."""
        if self.metrics_server is not None:
            self.metrics_server.stop()
        if self.server is not None:
            self.server.shutdown()
        if getattr(self, "processor", None) is not None:
            self.processor.stop(0)
        elif getattr(self, "pool", None) is not None:
            self.pool.stop(wait=False)

    @property
    def healthy(self) -> bool:
        return self.processor.alive

    def stop(self) -> None:
        timeout = self.config.processing.shutdown_timeout
        log.info("stopping: no new associations")
        if self.server is not None:
            self.server.shutdown()
        deadline = time.monotonic() + min(ASSOCIATION_GRACE_SECONDS, timeout)
        while self.ae.active_associations and time.monotonic() < deadline:
            time.sleep(0.05)
        if not self.handlers.gate.close_and_wait(timeout):
            log.warning("C-STOREs still in progress after %.0f s", timeout)
        remaining = self.ae.active_associations
        if remaining:
            log.info("aborting %d open association(s); unacknowledged instances will be re-sent",
                     len(remaining))
        self.ae.shutdown()
        discard_all()                  # temp files of transfers cut short: nothing stays in tmp/
        self.spool.sweep_tmp(0)
        self.processor.stop(timeout)
        if self.metrics_server is not None:
            self.metrics_server.stop()
        log.info("stopped: %d received, %d processed, %d failed, %d left in the spool",
                 self.handlers.stored, self.processor.processed, self.processor.failed,
                 len(self.spool.pending()))


def run_serve(args: argparse.Namespace) -> int:
    """Run the SCP until SIGTERM/SIGINT; exit status 0 on a clean stop, 2 on set-up errors."""
    try:
        config = config_from_args(args)
    except cfg.ConfigError as exc:
        print(f"scp-scanner serve: configuration error: {exc}", file=sys.stderr)
        return 2
    _setup_logging(config.logging.level.upper())
    owner_only_files()
    stop = threading.Event()

    def on_signal(signum, frame) -> None:
        log.info("received %s", signal.Signals(signum).name)
        stop.set()

    signal.signal(signal.SIGTERM, on_signal)
    signal.signal(signal.SIGINT, on_signal)
    service = Service(config)
    try:
        service.start()
    except (OSError, ScannerError, ValueError, RuntimeError) as exc:
        log.error("cannot start: %s", exc)
        service.abandon()
        return 2
    status = 0
    while not stop.wait(1.0):
        if not service.healthy:
            log.critical("the processing thread stopped; shutting down so the service restarts")
            status = 1
            break
    service.stop()
    return status
