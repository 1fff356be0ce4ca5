"""`scp-scanner scan --dask`: the real CLI on real Dask clusters on 127.0.0.1 (a LocalCluster,
and `dask scheduler` + `dask worker` processes started here and stopped by PID), real
tesseract and spaCy, synthetic files from tests/dicomgen.py."""
from __future__ import annotations

import contextlib
import csv
import io
import json
import os
import re
import signal
import stat
import subprocess
import sys
import time
from pathlib import Path

import pytest

from conftest import SCANNER, on_terminal, run_scan
from scp_scanner.output.rows import COLUMNS
from scp_scanner.partitions import JOURNAL, MANIFEST, OutputDir, PartCounts, part_name, read_list, stream_lists
from scp_scanner.paths import InputPath

DASK = Path(sys.executable).with_name("dask")
ENGINES = ("--ocr", "tesseract", "--pii", "spacy", "--rects")
START_TIMEOUT_S = 180.0
SCAN_TIMEOUT_S = 600.0


def parse(text: str) -> list[tuple[str, ...]]:
    rows = list(csv.reader(io.StringIO(text)))
    assert tuple(rows[0]) == COLUMNS
    return [tuple(r) for r in rows[1:]]


def part_rows(out: Path) -> list[tuple[str, ...]]:
    """Every row of every part; each part starts with the header."""
    rows: list[tuple[str, ...]] = []
    for part in sorted(out.glob("part-*.csv")):
        rows.extend(parse(part.read_text()))
    return rows


def journal(out: Path) -> list[int]:
    return [json.loads(line)["part"] for line in (out / JOURNAL).read_text().splitlines()]


def summary(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if " files, " in line and " flagged, " in line]
    assert len(lines) == 1, stderr
    return lines[0]


def scan_command(*args: str) -> list[str]:
    return [str(SCANNER), "scan", *args] if SCANNER.exists() else [sys.executable, "-m", "scp_scanner", "scan", *args]


# Starts a command the way an interactive shell starts a foreground job: SIGINT at its default
# disposition. A process inherits an ignored SIGINT (pytest started as `cmd &` from a script,
# nohup), and Python keeps an inherited SIG_IGN: Ctrl-C would then never reach the scan. exec
# keeps SIG_DFL, and the scan's Python installs its KeyboardInterrupt handler over it.
FOREGROUND = ("import os, signal, sys; signal.signal(signal.SIGINT, signal.SIG_DFL); "
              "os.execv(sys.argv[1], sys.argv[1:])")


def as_foreground_job(command: list[str]) -> list[str]:
    return [sys.executable, "-c", FOREGROUND, *command]


@pytest.fixture(scope="module")
def inputs(corpus, tmp_path_factory):
    """The corpus folder (walked: its truth.json is skipped as not DICOM) and a truncated
    DICOM file named on the command line (fails)."""
    folder = Path(corpus[0].path).parent
    bad = tmp_path_factory.mktemp("bad") / "truncated.dcm"
    bad.write_bytes(Path(corpus[0].path).read_bytes()[:2000])
    return [str(folder), str(bad)]


@pytest.fixture(scope="module")
def local_rows(inputs, tmp_path_factory):
    """The rows of a local scan of the same inputs with the same settings."""
    out = tmp_path_factory.mktemp("local") / "rows.csv"
    result = run_scan(*ENGINES, "-o", str(out), *inputs)
    assert result.returncode == 1, result.stderr          # the truncated file fails
    assert "failed " in result.stderr and "truncated.dcm" in result.stderr
    rows = parse(out.read_text())
    assert len(rows) > 30
    return rows


def _stop(process: subprocess.Popen) -> None:
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=15)


@contextlib.contextmanager
def dask_cluster(folder: Path, workers: int, scheduler_env: dict[str, str] | None = None):
    """A `dask scheduler` and `workers` `dask worker` processes (one thread each, no nanny, so a
    worker's PID is the process that runs tasks) on 127.0.0.1; yields (address, {name: proc}).
    Their logs go to files in `folder`; every process is stopped by PID."""
    from distributed import Client

    processes: list[subprocess.Popen] = []
    scheduler_file = folder / "scheduler.json"
    logs = []
    try:
        log = open(folder / "scheduler.log", "w")
        logs.append(log)
        processes.append(subprocess.Popen(
            [str(DASK), "scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard",
             "--scheduler-file", str(scheduler_file)], stdout=log, stderr=subprocess.STDOUT,
            env={**os.environ, **(scheduler_env or {})}))
        deadline = time.monotonic() + START_TIMEOUT_S
        while not (scheduler_file.exists() and scheduler_file.stat().st_size > 0):
            assert processes[0].poll() is None, (folder / "scheduler.log").read_text()
            assert time.monotonic() < deadline, "scheduler did not start"
            time.sleep(0.1)
        address = json.loads(scheduler_file.read_text())["address"]
        assert address.startswith("tcp://127.0.0.1:")
        pids = {}
        for n in range(workers):
            log = open(folder / f"worker{n}.log", "w")
            logs.append(log)
            worker = subprocess.Popen(
                [str(DASK), "worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                 "--no-dashboard", "--no-nanny", "--name", f"w{n}"], stdout=log, stderr=subprocess.STDOUT)
            processes.append(worker)
            pids[f"w{n}"] = worker
        with Client(address, timeout="60s") as client:
            client.wait_for_workers(workers, timeout=START_TIMEOUT_S)
        yield address, pids
    finally:
        for process in reversed(processes):
            _stop(process)
        for log in logs:
            log.close()


def wait_for_parts(out: Path, count: int, process: subprocess.Popen) -> None:
    """Bounded wait until `count` parts are complete (the scan must still be running)."""
    deadline = time.monotonic() + SCAN_TIMEOUT_S
    while len(list(out.glob("part-*.csv"))) < count:
        assert process.poll() is None, process.communicate()[1]
        assert time.monotonic() < deadline, f"fewer than {count} parts after {SCAN_TIMEOUT_S} s"
        time.sleep(0.05)


# --- LocalCluster ------------------------------------------------------------------------


def test_local_cluster_gives_the_rows_of_a_local_scan(inputs, local_rows, tmp_path):
    out = tmp_path / "out"
    result = run_scan("--dask", "local:2", "--output-dir", str(out), "--partition-size", "4", *ENGINES, *inputs)
    assert result.returncode == 1, result.stderr           # exit status as locally: a file failed
    assert result.stdout == ""                              # nothing (dask's logs included) on stdout
    assert "failed " in result.stderr and "truncated.dcm" in result.stderr
    assert "skipped " in result.stderr and "truth.json" in result.stderr
    rows = part_rows(out)
    assert sorted(rows) == sorted(local_rows)
    # 15 DICOM files + truth.json + the truncated file = 17 entries in partitions of 4.
    manifest = json.loads((out / MANIFEST).read_text())
    assert (manifest["files"], manifest["partitions"], manifest["partition_size"]) == (17, 5, 4)
    assert manifest["settings"]["ocr"] == "tesseract" and manifest["settings"]["pii"] == "spacy"
    assert sorted(journal(out)) == list(range(5))
    assert sorted(p.name for p in out.glob("part-*")) == [part_name(i) for i in range(5)]
    # Rows of one file stay together, in one part.
    where: dict[str, str] = {}
    for part in out.glob("part-*.csv"):
        for row in parse(part.read_text()):
            assert where.setdefault(row[0], part.name) == part.name
    # Owner-only, as every file that may hold PII.
    assert stat.S_IMODE(out.stat().st_mode) == 0o700
    for path in [*out.glob("part-*.csv"), out / MANIFEST, out / JOURNAL, *(out / "lists").iterdir()]:
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    whole = [r for r in local_rows if r[7:11] == ("-1", "-1", "-1", "-1")]
    flagged = sum(r[13] == "1" for r in whole)
    files = len({r[0] for r in local_rows})
    assert summary(result.stderr).startswith(
        f"scp-scanner: {files} files, {len(whole)} images, {flagged} flagged, 1 failed, 1 skipped, ")
    assert "5 parts (5 computed now, 0 from an earlier run)" in summary(result.stderr)

    # The same command again: nothing left to compute, the same parts untouched.
    before = {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.csv")}
    again = run_scan("--dask", "local:2", "--output-dir", str(out), "--partition-size", "4", *ENGINES, *inputs)
    assert again.returncode == 1, again.stderr             # the earlier failure still counts
    assert "resuming " in again.stderr and "5 of 5 parts complete, computing 0" in again.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.csv")} == before

    # Other settings against that folder: a clear error, then --no-resume starts over.
    other = run_scan("--dask", "local:1", "--output-dir", str(out), "--partition-size", "4",
                     "--ocr", "tesseract", *inputs)
    assert other.returncode == 2
    assert "holds another scan" in other.stderr and "--no-resume" in other.stderr
    assert {p.name: p.stat().st_mtime_ns for p in out.glob("part-*.csv")} == before
    fresh = run_scan("--dask", "local:1", "--output-dir", str(out), "--partition-size", "9",
                     "--no-resume", "--ocr", "tesseract", *inputs)
    assert fresh.returncode == 1, fresh.stderr
    assert sorted(p.name for p in out.glob("part-*.csv")) == [part_name(0), part_name(1)]
    assert {r[6] for r in part_rows(out)} == {"tesseract"} and {r[12] for r in part_rows(out)} == {""}


def test_the_bar_counts_files_inside_a_partition(corpus, tmp_path):
    """On a terminal the client's bar moves file by file, not only when a part completes:
    with every file in ONE partition, a count between 0 and the total can only come from the
    workers' per-file events."""
    files = sorted(str(t.path) for t in corpus)
    total = len(files)
    status, shown = on_terminal("scan", "--dask", "local:1", "--output-dir", str(tmp_path / "out"),
                                "--partition-size", str(total), "--ocr", "tesseract", *files,
                                timeout=SCAN_TIMEOUT_S)
    text = shown.decode(errors="replace")
    assert status == 0, text
    counts = {int(n) for n in re.findall(rf"\b(\d+)/{total}\b", text)}
    assert counts & set(range(1, total)), text
    assert f"{total} files, " in text


def test_an_engine_that_cannot_load_stops_the_scan_with_its_error(corpus, tmp_path):
    result = run_scan("--dask", "local:1", "--output-dir", str(tmp_path / "out"),
                      "--ocr", "tesseract", "--pii", "spacy,no_such_model_pkg", corpus[0].path)
    assert result.returncode == 2
    assert "no_such_model_pkg" in result.stderr and "pip install" in result.stderr
    assert not list((tmp_path / "out").glob("part-*.csv"))


@pytest.mark.parametrize("args, message", [
    (["--dask", "local:1"], "--output-dir"),
    (["--dask", "local:0", "--output-dir", "OUT"], "local:N"),
    (["--dask", "somewhere:8786", "--output-dir", "OUT"], "tcp://host:port"),
    (["--dask", "local:1", "--output-dir", "OUT", "-o", "x.csv"], "-o"),
    (["--dask", "local:1", "--output-dir", "OUT", "-j", "2"], "-j"),
    (["--output-dir", "OUT"], "go with --dask"),
])
def test_flags_that_do_not_go_with_dask_are_usage_errors(corpus, tmp_path, args, message):
    args = [str(tmp_path / "out") if a == "OUT" else a for a in args]
    result = run_scan(*args, corpus[0].path)
    assert result.returncode == 2 and message in result.stderr, result.stderr
    assert not (tmp_path / "out").exists()


def test_an_unreachable_scheduler_is_a_usage_error(corpus, tmp_path):
    import socket

    with socket.socket() as probe:                       # a port nothing listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    result = run_scan("--dask", f"tcp://127.0.0.1:{port}", "--output-dir", str(tmp_path / "out"),
                      "--ocr", "tesseract", corpus[0].path, timeout=120)
    assert result.returncode == 2 and "cannot reach the Dask cluster" in result.stderr, result.stderr


# --- dask scheduler + dask worker processes ------------------------------------------------


@pytest.mark.parametrize("allowed_failures", [None, "0"], ids=["dask-retries", "partition-rescued"])
def test_a_worker_killed_mid_scan_loses_no_row_and_repeats_none(inputs, local_rows, tmp_path, allowed_failures):
    """Dask runs the lost task again; with allowed-failures 0 Dask gives the partition up at
    once (KilledWorker) and the client runs its files one per task instead."""
    from distributed import Client

    out = tmp_path / "out"
    env = {"DASK_DISTRIBUTED__SCHEDULER__ALLOWED_FAILURES": allowed_failures} if allowed_failures else {}
    with dask_cluster(tmp_path, workers=2, scheduler_env=env) as (address, workers):
        scan = subprocess.Popen(scan_command("--dask", address, "--output-dir", str(out), "--partition-size", "2",
                                             *ENGINES, *inputs),
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_parts(out, 1, scan)
            # Kill a worker that is running a partition now, as the scheduler sees it.
            with Client(address, timeout="30s") as client:
                deadline = time.monotonic() + 60
                busy = []
                while not busy and time.monotonic() < deadline:
                    busy = [a for a, keys in client.processing().items() if keys]
                    if not busy:
                        time.sleep(0.02)
                assert busy, "no worker was running a partition"
                victim = workers[client.scheduler_info()["workers"][busy[0]]["name"]]
            os.kill(victim.pid, signal.SIGKILL)
            victim.wait(timeout=30)
            stdout, stderr = scan.communicate(timeout=SCAN_TIMEOUT_S)
        finally:
            _stop(scan)
    assert scan.returncode == 1, stderr                    # the truncated file, as locally
    assert stdout == ""
    assert sorted(part_rows(out)) == sorted(local_rows)    # every row, exactly once
    assert sorted(journal(out)) == list(range(9))          # 17 entries in parts of 2
    assert "9 parts (9 computed now" in summary(stderr)
    rescued = "scanning its files one per task" in stderr
    assert rescued == (allowed_failures == "0"), stderr


def test_an_interrupted_scan_computes_only_the_missing_parts_when_run_again(inputs, local_rows, tmp_path):
    out = tmp_path / "out"
    listing = tmp_path / "inputs.txt"                     # inputs from a list file this time
    listing.write_text("".join(f"{path}\n" for path in inputs))
    command = scan_command("--dask", "", "--output-dir", str(out), "--partition-size", "1", *ENGINES,
                           "--list", str(listing))
    with dask_cluster(tmp_path, workers=1) as (address, _):
        command[command.index("--dask") + 1] = address
        first = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        try:
            wait_for_parts(out, 3, first)
            first.kill()                                   # the client dies (kill -9) mid-scan
            first.wait(timeout=30)
        finally:
            _stop(first)
        journaled = set(journal(out))
        kept = {p.name: (p.stat().st_ino, p.stat().st_mtime_ns) for p in out.glob("part-*.csv")}
        assert 3 <= len(journaled) < 17
        assert set(kept) <= {part_name(i) for i in journaled}
        again = subprocess.run(command, capture_output=True, text=True, timeout=SCAN_TIMEOUT_S)
    assert again.returncode == 1, again.stderr
    assert f"{len(journaled)} of 17 parts complete, computing {17 - len(journaled)}" in again.stderr
    assert f"17 parts ({17 - len(journaled)} computed now, {len(journaled)} from an earlier run)" in summary(again.stderr)
    for name, identity in kept.items():                    # finished parts were not redone
        path = out / name
        assert (path.stat().st_ino, path.stat().st_mtime_ns) == identity
    parts = journal(out)
    assert sorted(parts) == list(range(17))                # each part committed once
    assert sorted(part_rows(out)) == sorted(local_rows)


def test_two_scans_with_different_engines_share_a_cluster(inputs, local_rows, tmp_path):
    """Each settings gets its own pipeline on every worker; each task uses its scan's."""
    with dask_cluster(tmp_path, workers=2) as (address, _):
        scans = {
            name: subprocess.Popen(scan_command("--dask", address, "--output-dir", str(tmp_path / name),
                                                "--partition-size", "3", *engines, *inputs),
                                   stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
            for name, engines in (("with_pii", ENGINES), ("ocr_only", ("--ocr", "tesseract", "--rects")))}
        try:
            finished = {name: scan.communicate(timeout=SCAN_TIMEOUT_S) for name, scan in scans.items()}
        finally:
            for scan in scans.values():
                _stop(scan)
    for name, scan in scans.items():
        assert scan.returncode == 1, finished[name][1]
    assert sorted(part_rows(tmp_path / "with_pii")) == sorted(local_rows)
    without_ner = [(*r[:12], "", "-1") for r in local_rows]
    assert sorted(part_rows(tmp_path / "ocr_only")) == sorted(without_ner)


def test_ctrl_c_stops_a_local_cluster_scan_cleanly_and_the_same_command_resumes(inputs, local_rows, tmp_path):
    out = tmp_path / "out"
    command = scan_command("--dask", "local:1", "--output-dir", str(out), "--partition-size", "1", *ENGINES, *inputs)
    first = subprocess.Popen(as_foreground_job(command), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        wait_for_parts(out, 2, first)
        os.killpg(first.pid, signal.SIGINT)                # a terminal's Ctrl-C: the whole group
        stdout, stderr = first.communicate(timeout=120)
    finally:
        _stop(first)
    assert first.returncode == 130, stderr
    assert "interrupted; the parts complete" in stderr and "Traceback" not in stderr, stderr
    assert stdout == ""
    kept = len(set(journal(out)))
    assert 2 <= kept < 17
    again = subprocess.run(command, capture_output=True, text=True, timeout=SCAN_TIMEOUT_S)
    assert again.returncode == 1, again.stderr
    assert f"{kept} of 17 parts complete, computing {17 - kept}" in again.stderr
    assert sorted(journal(out)) == list(range(17))
    assert sorted(part_rows(out)) == sorted(local_rows)


def test_paths_from_a_list_file_scan_as_the_same_paths_given_as_arguments(inputs, tmp_path):
    listing = tmp_path / "inputs.txt"
    listing.write_text("".join(f"{path}\n" for path in reversed(inputs)))
    by_arguments = run_scan(*reversed(inputs))
    by_list = run_scan("--list", str(listing))
    assert by_list.returncode == by_arguments.returncode == 1
    assert by_list.stdout == by_arguments.stdout and len(parse(by_list.stdout)) > 15
    nothing = run_scan()
    assert nothing.returncode == 2 and "no input" in nothing.stderr
    missing = run_scan("--list", str(tmp_path / "absent.txt"))
    assert missing.returncode == 2 and "cannot read list file" in missing.stderr


# --- the partition files on their own ------------------------------------------------------


def test_inputs_are_streamed_into_partition_lists(tmp_path):
    out = OutputDir(tmp_path / "out")
    out.open()
    consumed = []

    def items():
        for n in range(7):
            consumed.append(n)
            yield InputPath(f"/archive/{n}\tname,with \"odd\" chars \u00e9 \udcff.dcm", walked=n % 2 == 0)

    listing = stream_lists(items(), 3, out.path)
    assert (listing.files, listing.partitions) == (7, 3)
    assert read_list(out.path, 2) == [("/archive/6\tname,with \"odd\" chars \u00e9 \udcff.dcm", True)]
    assert [len(read_list(out.path, i)) for i in range(3)] == [3, 3, 1]
    assert stream_lists(items(), 3, None).digest == listing.digest
    other = stream_lists((InputPath(f"/archive/{n}", False) for n in range(7)), 3, None)
    assert other.digest != listing.digest
    out.close()


def test_a_torn_commit_is_finished_or_redone(tmp_path):
    out = OutputDir(tmp_path / "out")
    out.open()
    counts = PartCounts(0, files=1, images=2, flagged=1, failed=0, skipped=0)
    out.commit_part(0, "header\n", counts)
    # Part 1 crashed after its journal line, before the rename: the rename is finished.
    (out.path / (part_name(1) + ".part")).write_text("header\nrow\n")
    # Part 2 crashed while being written: no journal line, removed and redone.
    (out.path / (part_name(2) + ".part")).write_text("head")
    with open(out.path / JOURNAL, "a") as handle:
        handle.write(PartCounts(1, 1, 1, 0, 0, 0).as_json() + "\n")
        handle.write('{"part": 3, "fil')                  # an append cut short
    done = out.completed(4)
    assert sorted(done) == [0, 1] and done[0] == counts
    assert (out.path / part_name(1)).read_text() == "header\nrow\n"
    assert not list(out.path.glob("*.part"))
    out.commit_part(2, "header\n", PartCounts(2, 0, 0, 0, 0, 0))
    assert sorted(out.completed(4)) == [0, 1, 2]
    out.close()
