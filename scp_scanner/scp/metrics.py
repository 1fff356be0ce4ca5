"""Live metrics and health of `serve`: prometheus-client metrics on an HTTP endpoint.

`metrics.port` (0 = off) and `metrics.host` (default 127.0.0.1) in the YAML. The endpoint
serves `/metrics` (Prometheus text format) and `/healthz` (200 "ok", or 503 with the reason
when no worker process is alive, the processing thread stopped, or the spool is not writable).

The service reports events through a `Metrics` object (the handlers and the processor call
its methods); `NO_METRICS` does nothing, so those call sites need no condition. Each Metrics
has its own registry (no process-global state). Gauges about the spool are computed when
scraped. Stage times are measured where they happen: receive in the C-STORE handler (checking
the received dataset and making it durable, after pynetdicom has streamed it to disk), decode,
OCR and NER in the worker processes (returned with each result, pipeline.StageTimes), write
(rows and done-list, fsync included) in the processor thread.
"""
from __future__ import annotations

import logging
import os
import socket
import tempfile
import threading
import time
from collections.abc import Callable
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram
from prometheus_client.exposition import CONTENT_TYPE_LATEST, generate_latest

log = logging.getLogger("scp_scanner.scp.metrics")

PREFIX = "scp_scanner"
STAGES = ("receive", "decode", "ocr", "ner", "write")
# From 1 ms (a small instance received without fsync) to 5 min (easyocr on a long cine).
BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0,
           60.0, 120.0, 300.0)


class NullMetrics:
    """Reports nothing (metrics off)."""

    def association_accepted(self) -> None: ...
    def association_rejected(self, reason: str) -> None: ...
    def instance_received(self, seconds: float) -> None: ...
    def instance_processed(self, images: int, flagged: int, stages, write_seconds: float) -> None: ...
    def instance_failed(self) -> None: ...
    def instance_deduplicated(self) -> None: ...
    def worker_restarted(self) -> None: ...


NO_METRICS = NullMetrics()


class Metrics(NullMetrics):
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        r = self.registry
        self.accepted = Counter(f"{PREFIX}_associations_accepted", "Associations accepted", registry=r)
        self.rejected = Counter(f"{PREFIX}_associations_rejected", "Associations rejected, by reason",
                                ["reason"], registry=r)
        self.received = Counter(f"{PREFIX}_instances_received",
                                "Instances stored durably in the spool and acknowledged", registry=r)
        self.processed = Counter(f"{PREFIX}_instances_processed", "Instances whose rows were written",
                                 registry=r)
        self.failed = Counter(f"{PREFIX}_instances_failed", "Instances moved to the spool's failed/",
                              registry=r)
        self.deduplicated = Counter(f"{PREFIX}_instances_deduplicated",
                                    "Instances received again after their rows were written, dropped",
                                    registry=r)
        self.images = Counter(f"{PREFIX}_images", "Images (frames, overlays, overlay frames) scanned",
                              registry=r)
        self.flagged = Counter(f"{PREFIX}_images_flagged", "Images whose text was judged identifying",
                               registry=r)
        self.restarts = Counter(f"{PREFIX}_worker_restarts", "Worker pool restarts after a worker died",
                                registry=r)
        self.stage = Histogram(f"{PREFIX}_stage_seconds", "Seconds per instance in each stage",
                               ["stage"], buckets=BUCKETS, registry=r)
        for stage in STAGES:
            self.stage.labels(stage=stage)           # every stage listed from the start
        self.spool_depth = Gauge(f"{PREFIX}_spool_depth",
                                 "Instances in the spool waiting for their rows", registry=r)
        self.spool_oldest = Gauge(f"{PREFIX}_spool_oldest_age_seconds",
                                  "Age of the oldest instance in the spool (0 when empty)", registry=r)
        self.spool_free = Gauge(f"{PREFIX}_spool_free_bytes",
                                "Free bytes on the spool's filesystem (for unprivileged users)",
                                registry=r)
        self.workers_alive = Gauge(f"{PREFIX}_workers_alive", "Worker processes running", registry=r)

    # -- events (called from the handler threads and the processor thread) ---------------
    def association_accepted(self) -> None:
        self.accepted.inc()

    def association_rejected(self, reason: str) -> None:
        self.rejected.labels(reason=reason).inc()

    def instance_received(self, seconds: float) -> None:
        self.received.inc()
        self.stage.labels(stage="receive").observe(seconds)

    def instance_processed(self, images: int, flagged: int, stages, write_seconds: float) -> None:
        self.processed.inc()
        self.images.inc(images)
        self.flagged.inc(flagged)
        self.stage.labels(stage="decode").observe(stages.decode)
        self.stage.labels(stage="ocr").observe(stages.ocr)
        self.stage.labels(stage="ner").observe(stages.ner)
        self.stage.labels(stage="write").observe(write_seconds)

    def instance_failed(self) -> None:
        self.failed.inc()

    def instance_deduplicated(self) -> None:
        self.deduplicated.inc()

    def worker_restarted(self) -> None:
        self.restarts.inc()

    # -- state read at scrape time --------------------------------------------------------
    def watch(self, spool_incoming: Path, spool_root: Path, workers_alive: Callable[[], int]) -> None:
        self.spool_depth.set_function(lambda: len(list(spool_incoming.glob("*.dcm"))))
        self.spool_oldest.set_function(lambda: oldest_age(spool_incoming))
        self.spool_free.set_function(lambda: free_bytes(spool_root))
        self.workers_alive.set_function(workers_alive)


def oldest_age(folder: Path) -> float:
    oldest = None
    for path in folder.glob("*.dcm"):
        try:
            mtime = path.stat().st_mtime
        except FileNotFoundError:        # processed while we looked
            continue
        oldest = mtime if oldest is None else min(oldest, mtime)
    return max(0.0, time.time() - oldest) if oldest is not None else 0.0


def free_bytes(folder: Path) -> float:
    try:
        stats = os.statvfs(folder)
    except OSError:
        return 0.0
    return float(stats.f_bavail * stats.f_frsize)


def spool_writable(folder: Path) -> str:
    """'' when a file can be created, written and removed in `folder`, else why not."""
    try:
        with tempfile.NamedTemporaryFile(dir=folder, prefix=".healthz-", delete=True) as handle:
            handle.write(b"ok")
            handle.flush()
    except OSError as exc:
        return f"spool {folder} is not writable: {exc.strerror or exc}"
    return ""


class _IPv6Server(ThreadingHTTPServer):
    address_family = socket.AF_INET6


class MetricsServer:
    """/metrics and /healthz over HTTP, in a daemon thread; `health()` returns '' when healthy
    or the reason it is not."""

    def __init__(self, metrics: Metrics, host: str, port: int, health: Callable[[], str]):
        registry = metrics.registry

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:                      # noqa: N802 (http.server's name)
                path = self.path.split("?", 1)[0]
                if path == "/metrics":
                    self._answer(200, generate_latest(registry), CONTENT_TYPE_LATEST)
                elif path == "/healthz":
                    problem = health()
                    self._answer(503 if problem else 200, ((problem or "ok") + "\n").encode(),
                                 "text/plain; charset=utf-8")
                else:
                    self._answer(404, b"not found: try /metrics or /healthz\n", "text/plain; charset=utf-8")

            def _answer(self, status: int, body: bytes, content_type: str) -> None:
                self.send_response(status)
                self.send_header("Content-Type", content_type)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, format: str, *args) -> None:   # scrapes would flood the log
                log.debug("%s " + format, self.address_string(), *args)

        server_class = _IPv6Server if ":" in host else ThreadingHTTPServer
        self.httpd = server_class((host, port), Handler)
        self.httpd.daemon_threads = True
        self._thread = threading.Thread(target=self.httpd.serve_forever, name="metrics", daemon=True)

    @property
    def address(self) -> tuple[str, int]:
        return self.httpd.server_address[:2]

    def start(self) -> None:
        self._thread.start()

    def stop(self) -> None:
        self.httpd.shutdown()
        self.httpd.server_close()
