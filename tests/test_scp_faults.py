"""Hostile peers, full disks and bombs against a real `scp-scanner serve` on 127.0.0.1: every
C-STORE gets a status that names the reason, nothing stays in spool/tmp, slow peers cannot
lock others out, bombs fail before decoding, CSV cells cannot run as formulas. The peer is
tests/raw_peer.py (hand-written PDUs: dcmtk and pynetdicom refuse to send such requests) and
dcmtk's echoscu/storescu as the legitimate sender."""
from __future__ import annotations

import csv
import json
import os
import socket
import subprocess
import sys
import warnings
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.encaps import encapsulate
from pydicom.uid import RLELossless, generate_uid

from raw_peer import (CT, EXPLICIT_LE, MR, RawPeer, Rejected, associate_rq, c_store_rq,
                      closed_by_peer, dataset_bytes, pdata)
from scp_harness import AE_TITLE, HOST, Server, echoscu, storescu, wait_for

from scp_scanner.output.csv_file import safe_cell
from scp_scanner.scp import intake
from scp_scanner.scp.ae import configure_pynetdicom

ROOT = Path(__file__).resolve().parents[1]
CANNOT_UNDERSTAND, OUT_OF_RESOURCES, NOT_SUPPORTED = 0xC000, 0xA700, 0x0122


def ct(uid: str, extra: bytes = b"") -> pydicom.Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        if extra:
            ds.add_new(0x00091010, "OB", extra)
    return ds


def peer(server: Server) -> RawPeer:
    raw = RawPeer(HOST, server.port, timeout=30)
    raw.associate(AE_TITLE)
    return raw


def tmp_files(server: Server) -> list[str]:
    return sorted(p.name for p in (server.spool / "tmp").iterdir())


def config(tmp_path: Path, text: str) -> str:
    path = tmp_path / "scp.yaml"
    path.write_text(text)
    return str(path)


@pytest.fixture(scope="module")
def server(tmp_path_factory):
    srv = Server(tmp_path_factory.mktemp("faults")).start()
    yield srv
    srv.stop_quietly()


def test_hooks_are_installed(tmp_path):
    configure_pynetdicom(tmp_path, False)
    assert intake.installed()


@pytest.mark.parametrize("uid, reason", [
    ("", "AffectedSOPInstanceUID is empty"),
    ("\x00", "AffectedSOPInstanceUID is empty"),
    ("    ", "AffectedSOPInstanceUID is empty"),
    ("1." + "2" * 70, "AffectedSOPInstanceUID is longer than 64 characters"),
    ("1.2\n2026-12-01 00:00:00,000 INFO scp_scanner.scp.processed: processed 9.9",
     "AffectedSOPInstanceUID holds control or non-ASCII characters"),
    ("1.2\x003", "AffectedSOPInstanceUID holds control or non-ASCII characters"),
])
def test_unusable_uids_get_a_failure_status_and_leave_nothing(server, uid, reason):
    raw = peer(server)
    answer = raw.store(1, CT, uid, dataset_bytes(ct("1.2.3")))
    assert (answer.status, answer.comment) == (CANNOT_UNDERSTAND, reason)
    assert raw.echo().status == 0                    # the association goes on
    raw.release()
    assert tmp_files(server) == [] and not list((server.spool / "incoming").iterdir())
    log = server.new_log()
    assert "Traceback" not in log
    assert not any(line.startswith("2026-12-01 00:00:00") for line in log.splitlines())


def test_request_without_data_set_or_with_another_class_is_refused(server):
    raw = peer(server)
    uid = generate_uid()
    answer = raw.store(1, CT, uid, None)
    assert (answer.status, answer.comment) == (CANNOT_UNDERSTAND, "C-STORE request without a data set")
    answer = raw.store(1, MR, uid, dataset_bytes(ct(uid)))         # MR class on the CT context
    assert (answer.status, answer.comment) == (NOT_SUPPORTED,
                                               "SOP class differs from the presentation context's")
    raw.release()
    assert tmp_files(server) == [] and not list((server.spool / "incoming").iterdir())
    assert "Traceback" not in server.new_log()


@pytest.mark.parametrize("called, calling, reason", [
    (b" " * 16, "FUZZER", 0x07), (b"\x00" * 16, "FUZZER", 0x07), (AE_TITLE, b" " * 16, 0x03),
    (AE_TITLE, b"BAD\x01AE", 0x03)])
def test_blank_or_invalid_ae_titles_are_rejected(server, called, calling, reason):
    raw = RawPeer(HOST, server.port, timeout=30)
    with pytest.raises(Rejected) as rejected:
        raw.associate(called, calling)
    raw.close()
    assert (rejected.value.result, rejected.value.source, rejected.value.reason) == (1, 1, reason)
    assert "Traceback" not in server.new_log()


def test_formula_uids_are_neutralised_in_the_csv(server):
    raw = peer(server)
    uids = ["=1+2", "@SUM(1)", "+1.2.3", "-1.2.3"]
    for uid in uids:
        assert raw.store(1, CT, uid, dataset_bytes(ct(uid))).status == 0
    raw.release()
    wanted = {"'" + uid for uid in uids}
    wait_for(lambda: wanted <= {row["filename"] for row in server.rows()}, 60, what="rows")
    for path in server.output.glob("*.csv*"):
        with open(path, newline="", encoding="utf-8") as handle:
            for record in csv.reader(handle):
                assert len(record) == 14
                assert not record[0].startswith(("=", "+", "-", "@"))


def test_safe_cell_rule():
    assert [safe_cell(v) for v in ["=1+2", "@A1", "-R-", "+x", "\tx", "\rx", "-5.0", "+3", "-1",
                                    "1e5", "plain", -1, 0]] == \
        ["'=1+2", "'@A1", "'-R-", "'+x", "'\tx", "'\rx", "-5.0", "+3", "-1", "1e5", "plain", -1, 0]


def half_a_transfer(srv: Server) -> RawPeer:
    """A peer that has sent half of a C-STORE's data set, once its temp file exists."""
    raw = peer(srv)
    uid = generate_uid()
    data = dataset_bytes(ct(uid))
    raw.send(pdata(1, 0x03, c_store_rq(1, CT, uid)))
    raw.send(pdata(1, 0x00, data[: len(data) // 2]))
    wait_for(lambda: tmp_files(srv), 30, what="the temp file of the transfer")
    return raw


def test_transfer_cut_off_mid_data_set_leaves_no_temp_file(server):
    raw = half_a_transfer(server)
    raw.sock.close()
    wait_for(lambda: not tmp_files(server), 30, what="the temp file to be deleted")


def test_refused_before_receiving_below_the_free_space_floor(tmp_path):
    srv = Server(tmp_path, "--config", config(tmp_path, "storage:\n  min_free_mb: 100000000\n")).start()
    try:
        raw = peer(srv)
        answer = raw.store(1, CT, "1.2.3.4", dataset_bytes(ct("1.2.3.4")))
        assert answer.status == OUT_OF_RESOURCES and "MiB free, below the 100000000 MiB floor" in answer.comment
        raw.release()
        assert tmp_files(srv) == [] and not list((srv.spool / "incoming").iterdir())
    finally:
        srv.stop_quietly()


@pytest.fixture
def tiny_spool(tmp_path):
    """A 2 MiB tmpfs as the spool (needs root, as `make test` runs)."""
    assert os.geteuid() == 0, "this test mounts a 2 MiB tmpfs: run it as root (make test does)"
    spool = tmp_path / "spool"
    spool.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(spool)], check=True)
    yield spool
    subprocess.run(["umount", "-l", str(spool)], check=False)


def test_full_spool_answers_out_of_resources_and_recovers(tmp_path, tiny_spool):
    srv = Server(tmp_path, "--config", config(tmp_path, "storage:\n  min_free_mb: 0\n")).start()
    try:
        raw = peer(srv)
        big = ct("1.2.3.100", os.urandom(3 << 20))           # larger than the filesystem
        answer = raw.store(1, CT, "1.2.3.100", dataset_bytes(big))
        assert answer.status == OUT_OF_RESOURCES
        assert answer.comment == "spool full: writing failed (No space left on device)"
        assert tmp_files(srv) == []                          # deleted at once
        answer = raw.store(1, CT, "1.2.3.101", dataset_bytes(ct("1.2.3.101")))
        assert answer.status == 0                            # space is back: served normally
        raw.release()
        srv.wait_rows(["1.2.3.101"])
        assert "Traceback" not in srv.log()
    finally:
        srv.stop_quietly()
    assert tmp_files(srv) == []


def test_half_open_and_slow_peers_do_not_lock_out_senders(tmp_path):
    yaml = ("network:\n  network_timeout: 2\n  acse_timeout: 2\n  max_associations: 2\n"
            "  max_pending_connections: 8\n  max_pending_per_address: 4\n")
    srv = Server(tmp_path, "--config", config(tmp_path, yaml)).start()
    hostile: list[socket.socket] = []
    try:
        request = associate_rq(AE_TITLE, "SLOW", [(1, CT, [EXPLICIT_LE])])
        for _ in range(12):                                   # half an A-ASSOCIATE-RQ each
            sock = socket.create_connection((HOST, srv.port), timeout=30)
            sock.sendall(request[:20])
            hostile.append(sock)
        stuck = peer(srv)                                     # associated, then half a PDU
        stuck.send(pdata(1, 0x03, b"x" * 100)[:30])
        hostile.append(stuck.sock)
        assert echoscu(srv.port).returncode == 0              # a sender still gets through
        assert storescu(srv.port, [get_testdata_file("CT_small.dcm")]).returncode == 0

        def all_closed() -> bool:
            return all(closed_by_peer(sock) for sock in hostile)
        wait_for(all_closed, 30, interval=0.5, what="the server to drop every half-open peer")
        assert srv.process.poll() is None and "Traceback" not in srv.log()
    finally:
        for sock in hostile:
            sock.close()
        srv.stop_quietly()


def _frames_bomb(path: Path) -> None:
    ds = ct(generate_uid())
    ds.Rows = ds.Columns = 1
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.NumberOfFrames = 300_000
    ds.PixelData = bytes(300_000)
    ds.save_as(path, enforce_file_format=True)


def _rle_bomb(path: Path) -> None:
    ds = ct(generate_uid())
    side = 16384
    segment = b"\x81\x00" * (side * side // 128)              # runs of 128 zero bytes
    header = (1).to_bytes(4, "little") + (64).to_bytes(4, "little") + bytes(56)
    ds.Rows = ds.Columns = side
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 8, 8, 7, 0
    ds.PixelData = encapsulate([header + segment])
    ds["PixelData"].VR = "OB"
    ds.file_meta.TransferSyntaxUID = RLELossless
    ds.save_as(path, enforce_file_format=True)


def test_bombs_fail_before_decoding_in_serve_and_scan(tmp_path, server):
    frames, rle = tmp_path / "frames.dcm", tmp_path / "rle.dcm"
    _frames_bomb(frames)
    _rle_bomb(rle)
    assert rle.stat().st_size < 5 << 20
    result = storescu(server.port, [frames, rle], "-xr")
    assert result.returncode == 0, result.stderr
    for path, key in ((frames, "processing.max_frames"), (rle, "processing.max_frame_pixels")):
        uid = pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID
        note = server.spool / "failed" / f"{uid}.dcm.error"
        wait_for(note.exists, 60, what=f"{path.name} in failed/")
        assert key in note.read_text()
        assert uid not in {row["filename"] for row in server.rows()}
    scan = subprocess.run([str(Path(sys.executable).with_name("scp-scanner")), "scan",
                           str(frames), str(rle)], capture_output=True, text=True, timeout=120)
    assert scan.returncode == 1
    assert "300000 frames, over the limit of 20000 (processing.max_frames)" in scan.stderr
    assert "16384x16384 pixels, over the limit" in scan.stderr


def test_clean_stop_leaves_no_temp_file(tmp_path):
    srv = Server(tmp_path).start()
    raw = half_a_transfer(srv)
    assert srv.terminate() == 0
    raw.close()
    assert tmp_files(srv) == []


def test_make_serve_takes_host_port_and_config():
    result = subprocess.run(["make", "-n", "serve", "HOST=0.0.0.0", "PORT=4242", "CONFIG=my.yaml"],
                            cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert 'serve --config "my.yaml" --host "0.0.0.0" --port "4242"' in result.stdout
    default = subprocess.run(["make", "-n", "serve"], cwd=ROOT, capture_output=True, text=True,
                             timeout=60)
    assert 'serve --config "config/scp-scanner.yaml"' in default.stdout
    assert "--host" not in default.stdout


def test_decode_limits_are_configurable_and_apply_to_scan(tmp_path):
    limits = tmp_path / "limits.yaml"
    limits.write_text("processing:\n  max_frame_pixels: 100\n")
    scan = subprocess.run([str(Path(sys.executable).with_name("scp-scanner")), "scan", "--config",
                           str(limits), get_testdata_file("CT_small.dcm")],
                          capture_output=True, text=True, timeout=120)
    assert scan.returncode == 1
    assert "frame of 128x128 pixels, over the limit of 100 (processing.max_frame_pixels)" in scan.stderr


def test_worker_memory_limit_turns_a_huge_allocation_into_memory_error():
    code = ("import resource\n"
            "from scp_scanner.workers import _limit_memory\n"
            "_limit_memory(1024)\n"
            "print(resource.getrlimit(resource.RLIMIT_AS)[0] >> 20)\n"
            "try:\n    bytearray(2 << 30)\nexcept MemoryError:\n    print('MemoryError')\n")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60,
                            env={**os.environ, "PYTHONPATH": str(ROOT)})
    assert result.stdout.split() == ["1024", "MemoryError"], result.stderr


def test_pdu_announcing_gigabytes_is_dropped_without_reading_it(server):
    raw = peer(server)
    raw.send(b"\x04\x00\xff\xff\xff\xf0" + bytes(64))       # P-DATA-TF of ~4 GiB
    raw.sock.settimeout(30)
    data = b"x"
    while data and data[:1] != b"\x07":                      # closed, or an A-ABORT
        data = raw.sock.recv(4096)
    raw.close()
    assert echoscu(server.port).returncode == 0
    assert "PDU, more than this SCP accepts" in server.new_log()


def test_twenty_pynetdicom_associations_in_one_process_all_get_a_status(tmp_path):
    """20 pynetdicom associations as threads of one sending process (issue 9's concurrency
    case). The SCP answers every C-STORE; pynetdicom's requestor could drop an answer in
    its own reactor thread, which tests/pynetdicom_scu.py closes for the sender."""
    srv = Server(tmp_path, "--config", config(tmp_path, "network:\n  max_associations: 20\n"))
    srv.start()
    try:
        sender = subprocess.run(
            [sys.executable, str(ROOT / "tests" / "pynetdicom_scu.py"), HOST, str(srv.port),
             AE_TITLE, "20", "10"], capture_output=True, text=True, timeout=900,
            env=dict(os.environ, PYTHONPATH=os.pathsep.join(
                [str(ROOT), str(ROOT / "tests"), os.environ.get("PYTHONPATH", "")])))
        assert sender.returncode == 0, sender.stderr[-2000:]
        result = json.loads(sender.stdout.strip().splitlines()[-1])
        assert result["statuses"] == [[0] * 10] * 20, (result["statuses"], srv.new_log()[-2000:])
        rows = srv.wait_rows(result["uids"], timeout=300)
        names = [row["filename"] for row in rows]
        assert all(names.count(uid) == 1 for uid in result["uids"])
        assert "Network timeout reached" not in srv.log()
    finally:
        srv.stop_quietly()
