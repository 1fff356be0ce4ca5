"""Helpers for the Storage SCP tests: run `scp-scanner serve` as a real subprocess on a free
127.0.0.1 port, drive real dcmtk peers at it, read its CSV output. Every wait is bounded and
every process is stopped by its own PID."""
from __future__ import annotations

import csv
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pydicom
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid

AE_TITLE = "SCANNER"
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return sock.getsockname()[1]


def wait_for(predicate, timeout: float, interval: float = 0.1, what: str = "condition"):
    """Poll `predicate` until it returns a truthy value; raise after `timeout` seconds."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout:.0f} s waiting for {what}")
        time.sleep(interval)


def stop_process(process: subprocess.Popen, grace: float = 60.0) -> None:
    """SIGTERM a process this test started, SIGKILL it if it outlives `grace` seconds."""
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(grace)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(30)


def serve_command() -> list[str]:
    script = Path(sys.executable).with_name("scp-scanner")
    if script.exists():
        return [str(script), "serve"]
    return [sys.executable, "-m", "scp_scanner", "serve"]


class Server:
    """One `scp-scanner serve` subprocess with its own spool and output folders."""

    def __init__(self, root: Path, *extra: str, port: int | None = None, ocr: str = "none",
                 workers: int = 1, ae_title: str = AE_TITLE):
        self.root = root
        self.spool = root / "spool"
        self.output = root / "output"
        self.port = port or free_port()
        self.ae_title = ae_title
        self.args = [*serve_command(), "--host", HOST, "--port", str(self.port),
                     "--ae-title", ae_title, "--spool-dir", str(self.spool),
                     "--output-dir", str(self.output), "--ocr", ocr, "--workers", str(workers),
                     *extra]
        self.log_path = root / "serve.log"
        self.process: subprocess.Popen | None = None
        self.starts = 0

    def start(self, timeout: float = 90.0) -> "Server":
        self.starts += 1
        self._log_offset = self.log_path.stat().st_size if self.log_path.exists() else 0
        log = open(self.log_path, "ab")
        env = dict(os.environ, PYTHONUNBUFFERED="1")
        self.process = subprocess.Popen(self.args, stdout=log, stderr=subprocess.STDOUT, env=env)
        log.close()
        try:
            wait_for(lambda: "listening on" in self.new_log() or self.process.poll() is not None,
                     timeout, what="the server to listen")
        except AssertionError:
            self.stop_quietly()
            raise
        assert self.process.poll() is None, f"server exited:\n{self.log()}"
        return self

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def new_log(self) -> str:
        return self.log()[self._log_offset:]

    def terminate(self, timeout: float = 60.0) -> int:
        assert self.process is not None
        self.process.send_signal(signal.SIGTERM)
        return self.process.wait(timeout)

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait(30)

    def stop_quietly(self) -> None:
        if self.process is not None:
            stop_process(self.process)

    def rows(self) -> list[dict]:
        return read_rows(self.output)

    def wait_rows(self, uids, timeout: float = 60.0) -> list[dict]:
        wanted = set(uids)
        wait_for(lambda: wanted <= {row["filename"] for row in self.rows()}, timeout,
                 what=f"rows for {len(wanted)} instance(s)")
        return self.rows()

    def wait_spool_empty(self, timeout: float = 60.0) -> None:
        incoming = self.spool / "incoming"
        wait_for(lambda: not any(incoming.glob("*.dcm")), timeout, what="the spool to drain")

    def rows_then_stop(self, uids, timeout: float = 300.0) -> list[dict]:
        """Wait for the rows of `uids` and an empty spool, then stop cleanly (exit status 0)."""
        rows = self.wait_rows(uids, timeout=timeout)
        self.wait_spool_empty(timeout=timeout)
        assert self.terminate() == 0
        return rows


def read_rows(output_dir: Path) -> list[dict]:
    """Every row of every CSV file (completed and in progress) in the output folder."""
    rows = []
    for path in sorted(output_dir.glob("*.csv")) + sorted(output_dir.glob("*.csv.part")):
        with open(path, newline="", encoding="utf-8") as handle:
            rows.extend(csv.DictReader(handle))
    return rows


def copies(name: str, count: int, folder: Path) -> list[tuple[Path, str]]:
    """`count` copies of a pydicom test file, each with a fresh SOP Instance UID."""
    source = get_testdata_file(name)
    assert source, name
    folder.mkdir(parents=True, exist_ok=True)
    result = []
    for i in range(count):
        ds = pydicom.dcmread(source)
        uid = generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = folder / f"{i:04d}_{name}"
        ds.save_as(path, enforce_file_format=True)
        result.append((path, uid))
    return result


def storescu(port: int, files, *options: str, calling: str = "STORESCU", called: str = AE_TITLE,
             timeout: float = 120.0) -> subprocess.CompletedProcess:
    assert shutil.which("storescu"), "dcmtk storescu is required"
    return subprocess.run(["storescu", "-aet", calling, "-aec", called, *options, HOST, str(port),
                           *[str(f) for f in files]], capture_output=True, text=True,
                          timeout=timeout)


def echoscu(port: int, *options: str, calling: str = "ECHOSCU", called: str = AE_TITLE,
            timeout: float = 30.0) -> subprocess.CompletedProcess:
    return subprocess.run(["echoscu", "-aet", calling, "-aec", called, *options, HOST, str(port)],
                          capture_output=True, text=True, timeout=timeout)
