"""The SCP's task for the worker pool: run the pipeline on one spooled instance.

It runs in a worker process (scp_scanner.workers) and returns an Outcome to the processor,
the single CSV writer.
"""
from __future__ import annotations

import time
from pathlib import Path

from ..dicom import DicomInputError, NoImagesError, read_dataset
from ..workers import Outcome, worker_pipeline
from .spool import archive_path


def _sop_instance_uid(ds) -> str:
    meta = getattr(ds, "file_meta", None)
    uid = str(getattr(meta, "MediaStorageSOPInstanceUID", "") or "") if meta is not None else ""
    return uid or str(getattr(ds, "SOPInstanceUID", "") or "")


def process_spooled(path: str, archive_dir: str | None) -> Outcome:
    """Run the pipeline on one spooled file (in a worker).

    The CSV `filename` is the archive path when archiving, else the SOP Instance UID.
    """
    pipeline = worker_pipeline()
    uid = ""
    try:
        started = time.perf_counter()
        ds = read_dataset(path, pipeline.limits)
        read_seconds = time.perf_counter() - started
        uid = _sop_instance_uid(ds)
        if not uid:
            return Outcome(uid, error="no SOP Instance UID in file meta or dataset")
        filename = str(archive_path(Path(archive_dir), uid)) if archive_dir else uid
        return Outcome(uid, result=pipeline.process_dataset(ds, filename, read_seconds))
    except NoImagesError as exc:
        # Nothing to scan (a structured report, an encapsulated PDF, an RT object): not a
        # failure; the processor archives or removes it like a processed instance.
        header = exc.dataset
        uid = _sop_instance_uid(header) if header is not None else uid
        sop_class = getattr(header, "SOPClassUID", None) if header is not None else None
        name = getattr(sop_class, "name", "") or str(sop_class or "unknown SOP class")
        return Outcome(uid, error=str(exc), no_images=name)
    except DicomInputError as exc:
        return Outcome(uid, error=str(exc) or type(exc).__name__)
    except Exception as exc:     # a bug or a decoder crash on hostile data: report, go on
        return Outcome(uid, error=f"{type(exc).__name__}: {exc}")
