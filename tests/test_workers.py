"""The worker pool starts all its workers at once, each with its engines loaded."""
from __future__ import annotations

from scp_scanner.pipeline import PipelineSettings
from scp_scanner.workers import WorkerPool


def test_check_starts_every_worker_at_once() -> None:
    # A 'spawn' pool starts processes only as tasks arrive; check() sends one per worker, so
    # every core loads its models at start-up instead of one model load after the first.
    pool = WorkerPool(PipelineSettings(), workers=2, nice=0)
    pool.start()
    try:
        pool.check(timeout=120)
        assert pool.alive_workers() == 2
    finally:
        pool.stop(wait=False)
