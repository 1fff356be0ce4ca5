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


def _pipeline_of_worker(path: str) -> tuple[int, int]:
    """A task: the worker's pid and the address of the pipeline it reads with."""
    import os

    from scp_scanner.workers import worker_pipeline

    return os.getpid(), id(worker_pipeline())


def test_a_forking_pool_builds_the_pipeline_once_and_its_workers_read_with_it(monkeypatch) -> None:
    import os

    from scp_scanner import workers

    for name in ("_pipeline", "_init_error", "_built_for"):       # this process's, put back after
        monkeypatch.setattr(workers, name, getattr(workers, name))
    pool = WorkerPool(PipelineSettings(), workers=2, nice=0, fork=True)
    pool.start()
    try:
        built = workers._pipeline
        assert built is not None and workers._built_for == PipelineSettings()
        pool.check(timeout=120)
        assert workers._pipeline is None        # the workers hold it now; this process let it go
        answers = [pool.submit(_pipeline_of_worker, "-").result(60) for _ in range(4)]
        # Each worker is another process reading with the object built here, not one of its own.
        assert {address for _, address in answers} == {id(built)}
        assert os.getpid() not in {pid for pid, _ in answers}
        assert pool.alive_workers() == 2
    finally:
        pool.stop(wait=False)
    # Another pool with other settings builds again.
    workers.build_here(PipelineSettings(rects=True))
    assert workers._pipeline is not built


def test_only_engines_without_torch_on_the_cpu_are_loaded_before_a_fork() -> None:
    from types import SimpleNamespace

    from scp_scanner.pipeline import Pipeline
    from scp_scanner.workers import may_fork, on_cpu

    assert may_fork(PipelineSettings()) and may_fork(PipelineSettings(ocr="rapidocr", pii="spacy"))
    assert may_fork(PipelineSettings(ocr="Tesseract", pii="spacy,en_core_web_sm"))
    # torch's engines: their workers are spawned, and this process loads nothing first.
    assert not may_fork(PipelineSettings(ocr="easyocr", pii="spacy"))
    assert not may_fork(PipelineSettings(ocr="rapidocr", pii="flair,/models/ner.pt"))
    assert not WorkerPool(PipelineSettings(ocr="easyocr"), workers=2, fork=True).fork
    # An engine on a GPU (rapidocr's `device` is "cuda:N" there; no GPU here) is not forked.
    assert on_cpu(None) and on_cpu(Pipeline()) and on_cpu(Pipeline(SimpleNamespace(device="cpu")))
    assert not on_cpu(Pipeline(SimpleNamespace(device="cuda:0")))
    from scp_scanner import ocr

    assert on_cpu(Pipeline(ocr.create("rapidocr", gpu="cpu")))
