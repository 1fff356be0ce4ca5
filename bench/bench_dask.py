#!/usr/bin/env python3
"""Scan speed on a Dask cluster against the local scan, and Dask's cost per partition task.

    .venv/bin/python bench/bench_dask.py [--count 40] [--seed 5] [--small 1000] [--workdir DIR]

What it measures, in one run:
1. the same synthetic corpus (tests/dicomgen.py, COUNT files, SEED) scanned with
   `scan --ocr tesseract --pii spacy --rects` by the real CLI: local `-j 1`, local `-j 2`, and
   `--dask local:2` (a 2-worker LocalCluster, partitions of --partition-size); files/s and
   s/image, wall time of the whole command (process start, engines loading and, for Dask, the
   cluster starting included); the sorted rows of the three runs must be equal;
2. Dask's per-task overhead for one partition of SMALL small files (64x64 MR, no OCR: almost
   nothing to compute, so what is left is the cost of the task): the same partition run
   (a) in this process by the task function itself, and (b) as one Dask task on a one-worker
   LocalCluster whose engines are already loaded (submit -> result: scheduling, sending 1,000
   paths, sending the rows back); overhead = (b) - (a), median of REPEAT runs; and the same for
   a partition of one file (the fixed cost of a task).
"""
from __future__ import annotations

import argparse
import csv
import os
import pickle
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian, MRImageStorage, generate_uid

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))
import dicomgen  # noqa: E402

SCANNER = [sys.executable, "-m", "scp_scanner", "scan"]
ENGINES = ["--ocr", "tesseract", "--pii", "spacy", "--rects"]


def rows_of(paths: list[Path]) -> list[tuple[str, ...]]:
    rows: list[tuple[str, ...]] = []
    for path in paths:
        with open(path, newline="") as handle:
            rows.extend(tuple(r) for r in list(csv.reader(handle))[1:])
    return sorted(rows)


def timed(command: list[str]) -> float:
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, cwd=ROOT,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    seconds = time.perf_counter() - started
    if result.returncode != 0:
        sys.exit(f"failed ({result.returncode}): {' '.join(command)}\n{result.stderr}")
    return seconds


def write_small_files(folder: Path, count: int) -> list[Path]:
    """COUNT 64x64 MR images with no text (16-bit, uncompressed, ~8.5 KB each)."""
    folder.mkdir(mode=0o700)
    rng = np.random.default_rng(0)
    paths = []
    for n in range(count):
        meta = FileMetaDataset()
        meta.MediaStorageSOPClassUID = MRImageStorage
        meta.MediaStorageSOPInstanceUID = generate_uid()
        meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds = Dataset()
        ds.file_meta = meta
        ds.SOPClassUID, ds.SOPInstanceUID = MRImageStorage, meta.MediaStorageSOPInstanceUID
        ds.Modality, ds.PatientName, ds.PatientID = "MR", "SMALL^FILE", f"{n:06d}"
        ds.Rows = ds.Columns = 64
        ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
        ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 16, 12, 11, 0
        ds.PixelData = rng.integers(0, 1000, (64, 64), dtype=np.uint16).tobytes()
        path = folder / f"small_{n:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        paths.append(path)
    return paths


def task_overhead(paths: list[Path], repeat: int) -> None:
    """(b) one Dask task on a warm one-worker LocalCluster against (a) the task in-process."""
    from distributed import Client, LocalCluster

    from scp_scanner import dask_backend
    from scp_scanner.pipeline import PipelineSettings

    settings = PipelineSettings()                 # no OCR: the images are listed, nothing read
    dask_backend._load_pipeline(settings, False)
    for size in (len(paths), 1):
        entries = [(str(p), False) for p in paths[:size]]
        local = []
        for _ in range(repeat):
            started = time.perf_counter()
            assert all(o.rows for o in dask_backend.scan_partition(settings, entries))
            local.append(time.perf_counter() - started)
        with LocalCluster(n_workers=1, threads_per_worker=1, processes=True, dashboard_address=None) as cluster, \
                Client(cluster) as client:
            client.register_plugin(dask_backend.PipelinePlugin(settings), name=dask_backend.plugin_name(settings))
            client.submit(dask_backend.scan_partition, settings, entries[:1], pure=False).result()   # warm
            remote = []
            for _ in range(repeat):
                started = time.perf_counter()
                outcomes = client.submit(dask_backend.scan_partition, settings, entries, pure=False).result()
                remote.append(time.perf_counter() - started)
                assert len(outcomes) == size and all(o.rows for o in outcomes)
        client_side = []                  # what the client does per part: unpickle, render, write
        for _ in range(repeat):
            wire = pickle.dumps(outcomes)
            started = time.perf_counter()
            text = dask_backend._part_text(pickle.loads(wire))
            with open(os.devnull, "w") as sink:
                sink.write(text)
            client_side.append(time.perf_counter() - started)
        rows = sum(len(o.rows) for o in outcomes)
        a, b = statistics.median(local), statistics.median(remote)
        print(f"partition of {size:5d} small files: client side (unpickle {len(wire)} bytes, render "
              f"{rows} rows) {statistics.median(client_side) * 1000:.1f} ms")
        print(f"partition of {size:5d} small files, no OCR: in-process {a * 1000:8.1f} ms, "
              f"one Dask task {b * 1000:8.1f} ms, overhead {(b - a) * 1000:7.1f} ms per task "
              f"({(b - a) / size * 1000:.3f} ms per file), median of {repeat}")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=40, help="files in the OCR corpus (default 40)")
    parser.add_argument("--seed", type=int, default=5)
    parser.add_argument("--small", type=int, default=1000, help="small files in the overhead partition")
    parser.add_argument("--partition-size", type=int, default=5,
                        help="files per partition for the Dask scan of the corpus (default 5)")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--workdir", type=Path, default=None)
    args = parser.parse_args()
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench_dask_"))
    corpus = work / "corpus"
    truths = dicomgen.make_corpus(corpus, count=args.count, seed=args.seed)
    files = [t.path for t in truths]
    images = sum(len(t.images) for t in truths)
    print(f"corpus: {len(files)} files, {images} images (seed {args.seed}), {os.cpu_count()} cores")

    runs = {
        "local -j 1": (["-j", "1", "-o", str(work / "j1.csv")], [work / "j1.csv"]),
        "local -j 2": (["-j", "2", "-o", str(work / "j2.csv")], [work / "j2.csv"]),
        "dask local:2": (["--dask", "local:2", "--output-dir", str(work / "dask"),
                          "--partition-size", str(args.partition_size), "--no-resume"], None),
    }
    results = {}
    for name, (flags, outputs) in runs.items():
        seconds = timed([*SCANNER, *ENGINES, *flags, *files])
        outputs = outputs or sorted((work / "dask").glob("part-*.csv"))
        results[name] = (seconds, rows_of(outputs))
        print(f"{name:13s} {seconds:6.1f} s  {len(files) / seconds:5.2f} files/s  "
              f"{seconds / images:.3f} s/image")
    baseline = results["local -j 1"][1]
    assert all(rows == baseline for _, rows in results.values()), "the runs gave different rows"
    print(f"same rows in the three runs ({len(baseline)} rows); dask local:2 / local -j 2 speed: "
          f"{results['local -j 2'][0] / results['dask local:2'][0]:.2f}")

    small = write_small_files(work / "small", args.small)
    seconds = timed([*SCANNER, "-o", str(work / "small.csv"), str(work / "small")])
    print(f"local -j 1, {args.small} small files, no OCR: {seconds:.1f} s ({args.small / seconds:.0f} files/s)")
    task_overhead(small, args.repeat)
    print(f"work folder: {work}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
