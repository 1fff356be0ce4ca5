"""Process-wide settings, made once by each entry point and nowhere else.

Entry points: the CLI's `main` (scan, serve, report, rules), a pool worker's initialiser
(workers.py), a Dask worker's plugin (dask_backend.py), and scripts that build engines in their
own process (bench/, tests/conftest.py). Each calls `configure_process` before any engine
loads; `serve` also calls `owner_only_files`.
"""
from __future__ import annotations

import ctypes
import ctypes.util
import os


def configure_process(worker: bool = False) -> None:
    """Settings the engines read once, when they load:
    - OMP_THREAD_LIMIT=1: Debian's libtesseract uses OpenMP, and one thread is faster per call
      (docs/facts.md, "OCR": 85 ms instead of 210 ms). A worker always gets 1 (one worker per
      core); the CLI's own process keeps a value the user set.
    - HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE: flair and huggingface_hub never try the network
      (docs/design.md, "Engines": nothing is downloaded at run time).
    - glibc's mmap threshold fixed at 1 MiB (fixed_mmap_threshold).
    """
    if worker:
        os.environ["OMP_THREAD_LIMIT"] = "1"
    else:
        os.environ.setdefault("OMP_THREAD_LIMIT", "1")
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    fixed_mmap_threshold()


# glibc mallopt parameter M_MMAP_THRESHOLD, and the value it is fixed at.
_M_MMAP_THRESHOLD = -3
MMAP_THRESHOLD = 1 << 20


def libc() -> ctypes.CDLL | None:
    """The C library, for glibc's malloc controls; None where it cannot be loaded."""
    try:
        return ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6")
    except OSError:
        return None


def fixed_mmap_threshold() -> bool:
    """Keep glibc serving every block of MMAP_THRESHOLD or more with its own mmap, returned
    to the system when freed. By default glibc raises the threshold to the size of each
    mmapped block freed (up to 32 MB), so after the first large image a frame's arrays come
    from the heap, whose freed memory it keeps: a 2500x2000 CR then peaked at 467 MB RSS
    in `scan --ocr rapidocr --pii spacy --rects`, 454 MB with the threshold fixed at glibc's
    default, 128 KiB. Each block at or above the threshold costs fresh pages, zeroed by the
    kernel, every time: at 128 KiB every mask of a 640x480 frame (300 KB) did, and over the
    21 real files of bench/real_files.py, in one process, page faults were 882,000 and
    system time 1.8-2.1 s of ~11 s; at 1 MiB 345,000-354,000 faults and 0.8-0.9 s, for a peak
    RSS 3-8 MB higher (270 -> 272-277 MB; the 21 files then four 2500x2000 CRs 304 -> 312 MB,
    4 December 2026). A large image's arrays (a 2500x2000 plane is 5 MB) stay mmapped.
    False where the C library is not glibc (nothing to set)."""
    mallopt = getattr(libc(), "mallopt", None)
    return bool(mallopt(_M_MMAP_THRESHOLD, MMAP_THRESHOLD)) if mallopt is not None else False


def owner_only_files() -> None:
    """Every file and folder this process creates is owner-only unless made otherwise
    (`serve`: whatever a library writes beside the spool may hold PII too)."""
    os.umask(0o077)
