"""Ingest benchmark: `scp-scanner serve` (workers busy with OCR) against pynetdicom's bundled
storescp app, on the same files, plus the receiver's peak memory for a ~90 MB instance.

    .venv/bin/python bench/bench_ingest.py [--count 400] [--big-mb 90] [--workdir DIR]

What it measures, in one run:
1. instances/s that dcmtk storescu achieves sending COUNT CT images (512x512x16, ~0.5 MB,
   burned-in text from tests/dicomgen.py, fresh UIDs) on one association to
   - `scp-scanner serve --ocr tesseract --pii spacy` (default settings: fsync on, workers
     one per core), after a warm-up batch so its workers are already loaded and busy;
   - `python -m pynetdicom storescp` (decodes and saves each dataset, no fsync);
   and the ratio serve / storescp (the goal is >= 1);
2. peak RSS (VmHWM) of the receiving process while it takes one ~90 MB multi-frame
   instance, for serve and for pynetdicom's storescp.
Every process it starts is stopped by PID; everything happens on 127.0.0.1.
"""
from __future__ import annotations

import argparse
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import pydicom
from pydicom.uid import ExplicitVRLittleEndian, generate_uid

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
import dicomgen  # noqa: E402

HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_port(port: int, called: str, timeout: float = 120.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        result = subprocess.run(["echoscu", "-aec", called, HOST, str(port)], capture_output=True)
        if result.returncode == 0:
            return
        time.sleep(0.2)
    raise RuntimeError(f"nothing answered C-ECHO on port {port}")


def make_files(folder: Path, count: int, templates: int = 8) -> list[Path]:
    """`count` CT files: a few dicomgen originals, cloned with fresh UIDs."""
    folder.mkdir(parents=True, exist_ok=True)
    originals = []
    for i in range(templates):
        path = folder / f"template_{i}.dcm"
        dicomgen.build_case("ct_signed", path, seed=i)
        originals.append(pydicom.dcmread(path))
    files = []
    for i in range(count):
        ds = originals[i % templates]
        uid = generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = folder / f"ct_{i:05d}.dcm"
        ds.save_as(path, enforce_file_format=True)
        files.append(path)
    for path in folder.glob("template_*.dcm"):
        path.unlink()
    return files


def make_big(path: Path, megabytes: int) -> Path:
    """One uncompressed multi-frame instance of about `megabytes` MB (8-bit 512x512 frames)."""
    frames = max(1, megabytes * 2**20 // (512 * 512))
    template = next(iter(sorted(path.parent.glob("ct_*.dcm"))))
    ds = pydicom.dcmread(template)
    rng = np.random.default_rng(0)
    ds.SOPInstanceUID = ds.file_meta.MediaStorageSOPInstanceUID = generate_uid()
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = "1.2.840.10008.5.1.4.1.1.7.2"  # MF grey SC
    ds.NumberOfFrames = frames
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    for keyword in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.PixelData = rng.integers(0, 40, size=(frames, 512, 512), dtype=np.uint8).tobytes()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.save_as(path, enforce_file_format=True)
    return path


def send(port: int, files: list[Path], called: str) -> float:
    started = time.perf_counter()
    result = subprocess.run(["storescu", "-aec", called, HOST, str(port), *map(str, files)],
                            capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0 or "Failed" in result.stderr:
        raise RuntimeError(f"storescu failed: {result.stderr[-2000:]}")
    return elapsed


def vm_hwm_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(60)
        except subprocess.TimeoutExpired:
            os.kill(process.pid, signal.SIGKILL)
            process.wait(10)


def start_serve(work: Path, port: int, ocr: str, log_name: str, *extra: str) -> subprocess.Popen:
    script = Path(sys.executable).with_name("scp-scanner")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "scp_scanner"]
    log = open(work / log_name, "wb")
    process = subprocess.Popen(
        [*command, "serve", "--host", HOST, "--port", str(port), "--ae-title", "SCANNER",
         "--spool-dir", str(work / f"spool-{port}"), "--output-dir", str(work / f"out-{port}"),
         "--ocr", ocr, "--pii", "spacy", *extra], stdout=log, stderr=subprocess.STDOUT)
    try:
        wait_port(port, "SCANNER")
    except BaseException:
        stop(process)
        raise
    return process


def start_storescp(work: Path, port: int) -> subprocess.Popen:
    out = work / f"storescp-{port}"
    out.mkdir()
    process = subprocess.Popen([sys.executable, "-m", "pynetdicom", "storescp", str(port),
                                "-od", str(out)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        wait_port(port, "ANY-SCP")
    except BaseException:
        stop(process)
        raise
    return process


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--count", type=int, default=400, help="instances per measured batch")
    parser.add_argument("--big-mb", type=int, default=90, help="size of the large instance")
    parser.add_argument("--workdir", help="keep files here (default: a temp folder, removed)")
    args = parser.parse_args()
    for tool in ("storescu", "echoscu", "tesseract"):
        if not shutil.which(tool):
            print(f"{tool} is required", file=sys.stderr)
            return 2
    work = Path(args.workdir or tempfile.mkdtemp(prefix="bench-ingest-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        print(f"making {args.count} + 40 CT instances and a {args.big_mb} MB one in {work} ...", flush=True)
        files = make_files(work / "files", args.count + 40)
        warmup, measured = files[:40], files[40:]
        big = make_big(work / "files" / "big.dcm", args.big_mb)
        megabytes = sum(p.stat().st_size for p in measured) / 2**20

        # 1a. serve, with OCR workers busy (default fsync on; then fsync off, like storescp)
        serve_seconds, backlog = {}, {}
        for label, extra in (("fsync on", ()), ("fsync off", ("--no-fsync",))):
            port = free_port()
            log_name = f"serve-{port}.log"
            serve = start_serve(work, port, "tesseract", log_name, *extra)
            try:
                send(port, warmup, "SCANNER")
                deadline = time.monotonic() + 180
                while "processed " not in (work / log_name).read_text() and time.monotonic() < deadline:
                    time.sleep(0.2)              # models loaded, workers now have a backlog
                serve_seconds[label] = send(port, measured, "SCANNER")
                backlog[label] = len(list((work / f"spool-{port}" / "incoming").glob("*.dcm")))
            finally:
                stop(serve)
        # 1b. pynetdicom's bundled storescp
        port = free_port()
        storescp = start_storescp(work, port)
        try:
            storescp_seconds = send(port, measured, "ANY-SCP")
        finally:
            stop(storescp)
        storescp_rate = len(measured) / storescp_seconds

        # 2. peak RSS of the receiver for one big instance
        port = free_port()
        serve = start_serve(work, port, "none", "serve-big.log")
        try:
            before = vm_hwm_mb(serve.pid)
            send(port, [big], "SCANNER")
            serve_hwm = vm_hwm_mb(serve.pid)
        finally:
            stop(serve)
        port = free_port()
        storescp = start_storescp(work, port)
        try:
            storescp_before = vm_hwm_mb(storescp.pid)
            send(port, [big], "ANY-SCP")
            storescp_hwm = vm_hwm_mb(storescp.pid)
        finally:
            stop(storescp)

        print(f"\n{len(measured)} CT instances ({megabytes:.0f} MB), one association, dcmtk storescu, "
              f"{os.cpu_count()} CPU(s)")
        for label, seconds in serve_seconds.items():
            rate = len(measured) / seconds
            print(f"  scp-scanner serve, OCR workers busy, {label + ':':10s} {rate:7.1f} instances/s "
                  f"({seconds:.2f} s; {backlog[label]} queued for OCR at the end), "
                  f"ratio to storescp {rate / storescp_rate:.2f}")
        print(f"  pynetdicom storescp app (no fsync):           {storescp_rate:7.1f} instances/s "
              f"({storescp_seconds:.2f} s)")
        print(f"\none {big.stat().st_size / 2**20:.0f} MB multi-frame instance: receiver peak RSS (VmHWM)")
        print(f"  scp-scanner serve: {serve_hwm:6.0f} MB (before: {before:.0f} MB)")
        print(f"  pynetdicom storescp app: {storescp_hwm:6.0f} MB (before: {storescp_before:.0f} MB)")
        return 0
    finally:
        if not args.workdir:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    raise SystemExit(main())
