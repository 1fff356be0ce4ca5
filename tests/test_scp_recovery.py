"""Never lose an acknowledged instance, never write one twice: kill -9, SIGTERM, full spool."""
from __future__ import annotations

import collections
import os
import signal
import stat
import subprocess
import time
from pathlib import Path

import pydicom
import pytest

import dicomgen
from scp_harness import AE_TITLE, HOST, Server, copies, read_rows, storescu, wait_for


def start_storescu(port: int, files) -> subprocess.Popen:
    """storescu -v in the background: its log says which files were acknowledged."""
    return subprocess.Popen(["storescu", "-v", "-aet", "STORESCU", "-aec", AE_TITLE, HOST, str(port),
                             *[str(p) for p in files]],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)


def acknowledged(storescu_output: str) -> set[str]:
    """Files for which storescu received a Success response."""
    done, current = set(), None
    for line in storescu_output.splitlines():
        if line.startswith("I: Sending file: "):
            current = line[len("I: Sending file: "):].strip()
        elif "Received Store Response (Success)" in line and current:
            done.add(current)
            current = None
    return done


def interrupted_batch(server: Server, files, interrupt) -> set[str]:
    """Send `files` on one association and call `interrupt()` about a third of the way in;
    returns the paths storescu saw acknowledged."""
    sender = start_storescu(server.port, [p for p, _ in files])
    third = len(files) // 3
    wait_for(lambda: server.new_log().count("received ") >= third or sender.poll() is not None,
             60, interval=0.01, what="a third of the batch to arrive")
    interrupt()
    output, _ = sender.communicate(timeout=120)
    return acknowledged(output)


def check_exactly_once(server: Server, files) -> None:
    uids = [uid for _, uid in files]
    rows = server.wait_rows(uids, timeout=120)
    counts = collections.Counter(row["filename"] for row in rows)
    assert {uid: counts[uid] for uid in uids} == {uid: 1 for uid in uids}
    assert len(rows) == len(uids)        # and nothing else (no stray or torn rows)


def test_kill9_mid_transfer_then_restart_loses_nothing_and_duplicates_nothing(tmp_path):
    files = copies("CT_small.dcm", 150, tmp_path / "in")
    by_path = {str(p): uid for p, uid in files}
    server = Server(tmp_path).start()
    try:
        acked = interrupted_batch(server, files, server.kill)
        assert 0 < len(acked) < len(files)
        server.start()
        # Re-send what was not acknowledged, as a PACS would.
        rest = [p for p, _ in files if str(p) not in acked]
        result = storescu(server.port, rest)
        assert result.returncode == 0, result.stderr
        check_exactly_once(server, files)
        assert all(by_path[p] for p in acked)
        server.wait_spool_empty()
        assert server.terminate() == 0
    finally:
        server.stop_quietly()


def test_sigterm_drains_and_exits_zero(tmp_path):
    files = copies("CT_small.dcm", 120, tmp_path / "in")
    server = Server(tmp_path).start()
    try:
        codes = []
        acked = interrupted_batch(server, files, lambda: codes.append(server.terminate()))
        assert codes == [0]
        assert "stopped:" in server.log()
        # No in-progress CSV is left behind, and what was queued is still in the spool.
        assert not list(server.output.glob("*.part"))
        server.start()
        rest = [p for p, _ in files if str(p) not in acked]
        if rest:    # open associations get a few seconds to finish; the rest is re-sent
            assert storescu(server.port, rest).returncode == 0
        check_exactly_once(server, files)
    finally:
        server.stop_quietly()


def test_unwritable_spool_answers_failure_not_success(tmp_path):
    server = Server(tmp_path).start()
    try:
        incoming = server.spool / "incoming"
        incoming.rmdir()
        incoming.write_text("not a folder")     # root ignores permissions; this cannot be written
        (path, uid), = copies("CT_small.dcm", 1, tmp_path / "in")
        result = subprocess.run(["storescu", "-v", "-aec", AE_TITLE, HOST, str(server.port), str(path)],
                                capture_output=True, text=True, timeout=60)
        output = result.stdout + result.stderr
        assert "Received Store Response" in output
        assert "Received Store Response (Success)" not in output
        assert "Refused: OutOfResources" in output          # 0xA7xx: the sender keeps it
        assert f"refused {uid}" in server.new_log()
        # Once the spool is usable again the same instance is accepted and processed.
        incoming.unlink()
        incoming.mkdir(mode=0o700)
        assert storescu(server.port, [path]).returncode == 0
        server.wait_rows([uid])
    finally:
        server.stop_quietly()


def test_spool_below_free_space_floor_refuses(tmp_path):
    config = tmp_path / "scp.yaml"
    config.write_text("storage:\n  min_free_mb: 1000000000\n")
    server = Server(tmp_path, "--config", str(config)).start()
    try:
        (path, uid), = copies("CT_small.dcm", 1, tmp_path / "in")
        result = subprocess.run(["storescu", "-v", "-aec", AE_TITLE, HOST, str(server.port), str(path)],
                                capture_output=True, text=True, timeout=60)
        assert "Received Store Response (Success)" not in result.stdout + result.stderr
        assert "below the" in server.new_log()
        assert not list((server.spool / "incoming").iterdir())
    finally:
        server.stop_quietly()


def test_csv_rolls_by_size_and_is_owner_only(tmp_path):
    server = Server(tmp_path, "--roll-size-mb", "0.0005").start()     # ~500 bytes per file
    try:
        first = copies("CT_small.dcm", 12, tmp_path / "a")
        assert storescu(server.port, [p for p, _ in first]).returncode == 0
        server.wait_rows([uid for _, uid in first])
        completed = sorted(server.output.glob("*.csv"))
        assert len(completed) >= 2
        before = {p: (p.stat().st_size, p.stat().st_mtime_ns, p.read_bytes()) for p in completed}
        second = copies("CT_small.dcm", 6, tmp_path / "b")
        assert storescu(server.port, [p for p, _ in second]).returncode == 0
        server.wait_rows([uid for _, uid in second])
        time.sleep(0.5)
        for path, (size, mtime, data) in before.items():         # completed files never change
            assert (path.stat().st_size, path.stat().st_mtime_ns, path.read_bytes()) == (size, mtime, data)
        header = server.output.glob("*.csv")
        for path in list(header) + list(server.output.glob("*.csv.part")):
            assert path.read_text().startswith("filename,frame,overlay,imagetype,")
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(server.output.stat().st_mode) == 0o700
    finally:
        server.stop_quietly()


def test_archive_names_and_filename_column(tmp_path):
    archive = tmp_path / "archive"
    server = Server(tmp_path, "--archive-dir", str(archive)).start()
    try:
        files = copies("MR_small.dcm", 2, tmp_path / "in")
        assert storescu(server.port, [p for p, _ in files]).returncode == 0
        rows = server.wait_rows([str(archive / f"{uid}.dcm") for _, uid in files])
        # An instance is archived just after its rows are written: wait for that state.
        kept = [archive / f"{uid}.dcm" for _, uid in files]
        wait_for(lambda: all(path.exists() for path in kept), 60, what="both instances archived")
        for path in kept:
            assert stat.S_IMODE(path.stat().st_mode) == 0o600
        assert stat.S_IMODE(archive.stat().st_mode) == 0o700
        assert len(rows) == 2
    finally:
        server.stop_quietly()


UNCOMPRESSED_CASES = ["ct_signed", "cr_mono1", "us_rgb", "us_rgb_multiframe", "mr_overlay",
                      "xa_highbit", "xa_multiframe_overlay", "no_text", "safe_text"]


@pytest.mark.slow
def test_kill9_during_ocr_then_resend_writes_every_image_once(tmp_path):
    """The acceptance scenario with real OCR/NER: a first batch, kill -9 a third of the way
    into a second one, restart, re-send what was not acknowledged."""
    truths = dicomgen.make_corpus(tmp_path / "corpus", count=27, seed=7, cases=UNCOMPRESSED_CASES)
    uid_of = {t.path: str(pydicom.dcmread(t.path, stop_before_pixels=True).SOPInstanceUID) for t in truths}
    first, second = truths[:9], truths[9:]
    (tmp_path / "scp").mkdir()
    server = Server(tmp_path / "scp", "--pii", "spacy", "--rects", ocr="tesseract", workers=2).start()
    try:
        assert storescu(server.port, [t.path for t in first]).returncode == 0
        files = [(Path(t.path), uid_of[t.path]) for t in second]
        acked = interrupted_batch(server, files, server.kill)
        server.start()
        rest = [p for p, _ in files if str(p) not in acked]
        if rest:
            assert storescu(server.port, rest).returncode == 0
        rows = server.rows_then_stop(uid_of.values())
    finally:
        server.stop_quietly()
    rows = read_rows(server.output)
    whole = collections.Counter((r["filename"], r["frame"], r["overlay"]) for r in rows
                                if (r["left"], r["top"], r["right"], r["bottom"]) == ("-1",) * 4)
    assert max(whole.values()) == 1                               # no image written twice
    for truth in truths:
        listed = {(frame, overlay) for (uid, frame, overlay) in whole if uid == uid_of[truth.path]}
        assert {(str(i.frame), str(i.overlay)) for i in truth.images} <= listed, truth.case
    rows_per_image = collections.Counter((r["filename"], r["frame"], r["overlay"], r["left"], r["top"],
                                          r["ocr_text"]) for r in rows)
    assert max(rows_per_image.values()) == 1                      # no rectangle row twice either


def worker_pids(server_pid: int) -> list[int]:
    """The server's pool workers (children running multiprocessing's spawn_main)."""
    pids = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat_fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
            cmdline = (entry / "cmdline").read_bytes()
        except OSError:
            continue
        if int(stat_fields[1]) == server_pid and b"spawn_main" in cmdline:
            pids.append(int(entry.name))
    return pids


@pytest.mark.slow
def test_a_worker_dying_mid_instance_loses_and_duplicates_nothing(tmp_path):
    truths = dicomgen.make_corpus(tmp_path / "corpus", count=12, seed=3, cases=["ct_signed", "us_rgb"])
    uids = [str(pydicom.dcmread(t.path, stop_before_pixels=True).SOPInstanceUID) for t in truths]
    (tmp_path / "scp").mkdir()
    server = Server(tmp_path / "scp", "--pii", "spacy", ocr="tesseract", workers=1).start()
    try:
        assert storescu(server.port, [t.path for t in truths]).returncode == 0
        workers = wait_for(lambda: worker_pids(server.process.pid), 30, what="the worker process")
        os.kill(workers[0], signal.SIGKILL)          # a worker crash, as a decoder segfault would
        rows = server.wait_rows(uids, timeout=300)
        server.wait_spool_empty(timeout=120)
        assert "a worker process died" in server.new_log()
        whole = collections.Counter((r["filename"], r["frame"], r["overlay"]) for r in rows
                                    if r["left"] == "-1")
        assert max(whole.values()) == 1 and {uid for uid, _, _ in whole} == set(uids)
        assert not list((server.spool / "failed").glob("*.dcm"))   # the innocent are retried
        assert server.terminate() == 0
    finally:
        server.stop_quietly()
