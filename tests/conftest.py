"""Shared fixtures. tests/ has no __init__.py on purpose: flair installs a top-level `tests`
package of its own, so helpers here are imported by module name (dicomgen, flair_model)."""
from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

import dicomgen
from flair_model import flair_tagger  # noqa: F401  (session fixture: a real tiny flair tagger)
from scp_scanner.process import configure_process

configure_process()        # the tests build engines in this process: the CLI's own settings

SCANNER = Path(sys.executable).with_name("scp-scanner")


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """Under `make test` (SCP_SCANNER_NO_SKIP=1) every tool a test needs has been installed, so
    a test skipped for a missing tool is a failure there, never a silent pass. Run alone (a
    developer without dcmtk or Orthanc), such tests still skip with their reason."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("SCP_SCANNER_NO_SKIP") == "1" and not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        report.outcome = "failed"
        report.longrepr = f"skipped under make test, where nothing may be missing: {reason}"


def run_scan(*args: str, stdin: str | None = None, cwd: str | Path | None = None,
             timeout: float = 600, prefix: list[str] | None = None) -> subprocess.CompletedProcess:
    """Run the real `scp-scanner scan` console script; bounded in time. `prefix` runs it
    through another command (e.g. setpriv, to run as another user)."""
    command = [*(prefix or []), str(SCANNER) if SCANNER.exists() else sys.executable,
               *([] if SCANNER.exists() else ["-m", "scp_scanner"]), "scan", *args]
    return subprocess.run(command, input=stdin, capture_output=True, text=True, cwd=cwd,
                          timeout=timeout, env={**os.environ, "PYTHONUNBUFFERED": "1"})


def load_bench(name: str):
    """Import bench/NAME.py as the module NAME (bench scripts are not a package)."""
    import importlib.util

    path = Path(__file__).resolve().parent.parent / "bench" / f"{name}.py"
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


def run_cli(*args: str, timeout: float = 300) -> subprocess.CompletedProcess:
    """Run the real `scp-scanner` console script with any subcommand; bounded in time."""
    command = [str(SCANNER)] if SCANNER.exists() else [sys.executable, "-m", "scp_scanner"]
    return subprocess.run([*command, *args], capture_output=True, text=True, timeout=timeout)


def on_terminal(*args: str, timeout: float = 120) -> tuple[int, bytes]:
    """Run `scp-scanner ARGS` with stderr on a real pseudo-terminal (80 columns); its exit
    status and everything it showed there."""
    import fcntl
    import pty
    import struct
    import termios

    command = [str(SCANNER)] if SCANNER.exists() else [sys.executable, "-m", "scp_scanner"]
    master, slave = pty.openpty()
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 80, 0, 0))
    process = subprocess.Popen([*command, *args], stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL,
                               stderr=slave)
    os.close(slave)
    shown = b""
    while True:
        try:
            chunk = os.read(master, 4096)
        except OSError:          # the terminal closes when the command exits
            break
        if not chunk:
            break
        shown += chunk
    os.close(master)
    return process.wait(timeout=timeout), shown


@pytest.fixture(scope="session")
def corpus(tmp_path_factory) -> list[dicomgen.Truth]:
    """One synthetic file of every case, with known words (seed fixed: same pixels every run)."""
    folder = tmp_path_factory.mktemp("corpus")
    return dicomgen.make_corpus(folder, n_per_case=1, seed=11)


@pytest.fixture(scope="session")
def real_data() -> Path:
    """The folder of pydicom-data's real files (a test dependency, installed locally)."""
    import data_store

    folder = Path(data_store.__file__).parent / "data"
    assert (folder / "MR-SIEMENS-DICOM-WithOverlays.dcm").exists(), "pip install pydicom-data"
    return folder
