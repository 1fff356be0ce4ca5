"""Process-wide settings, made once by each entry point and nowhere else.

Entry points: the CLI's `main` (scan, serve, report, rules), a pool worker's initialiser
(workers.py), a Dask worker's plugin (dask_backend.py), and scripts that build engines in their
own process (bench/, tests/conftest.py). Each calls `configure_process` before any engine
loads; `serve` also calls `owner_only_files`.
"""
from __future__ import annotations

import os


def configure_process(worker: bool = False) -> None:
    """Settings the engines read once, when they load:
    - OMP_THREAD_LIMIT=1: Debian's libtesseract uses OpenMP, and one thread is faster per call
      (docs/facts.md, "OCR": 85 ms instead of 210 ms). A worker always gets 1 (one worker per
      core); the CLI's own process keeps a value the user set.
    - HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: flair and huggingface_hub never try the network
      (docs/design.md, "Engines": nothing is downloaded at run time).
    """
    if worker:
        os.environ["OMP_THREAD_LIMIT"] = "1"
    else:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"


def owner_only_files() -> None:
    """Every file and folder this process creates is owner-only unless made otherwise
    (`serve`: whatever a library writes beside the spool may hold PII too)."""
    os.umask(0o077)
