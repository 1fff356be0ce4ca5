"""The Storage SCP against real dcmtk peers (echoscu, storescu) on 127.0.0.1."""
from __future__ import annotations

import collections
import re
import concurrent.futures
import stat
import subprocess

import pydicom
import pytest
from pydicom.data import get_testdata_file

from scp_harness import Server, copies, echoscu, storescu, wait_for

# (pydicom wheel file, storescu option that proposes its transfer syntax)
COMPRESSED = [
    ("SC_rgb_jpeg_dcmtk.dcm", "-xy"),          # JPEG baseline .50
    ("JPGExtended.dcm", "-xx"),                # JPEG extended .51
    ("SC_rgb_jpeg_gdcm.dcm", "-xs"),           # JPEG lossless SV1 .70
    ("MR_small_jpeg_ls_lossless.dcm", "-xt"),  # JPEG-LS lossless .80
    ("JPEGLSNearLossless_16.dcm", "-xu"),      # JPEG-LS near-lossless .81
    ("MR_small_jp2klossless.dcm", "-xv"),      # JPEG 2000 lossless .90
    ("JPEG2000.dcm", "-xw"),                   # JPEG 2000 .91
    ("MR_small_RLE.dcm", "-xr"),               # RLE .5
    ("SC_rgb_rle_2frame.dcm", "-xr"),          # RLE, multi-frame RGB
    ("image_dfl.dcm", "-xd"),                  # deflated explicit LE .99
    ("MR_small_bigendian.dcm", "-xb"),         # explicit big endian
]


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    srv.stop_quietly()


def test_echo_store_and_clean_stop(server, tmp_path):
    assert echoscu(server.port).returncode == 0
    files = copies("CT_small.dcm", 3, tmp_path / "in") + copies("MR_small.dcm", 2, tmp_path / "in")
    result = storescu(server.port, [p for p, _ in files])
    assert result.returncode == 0, result.stderr
    rows = server.wait_rows([uid for _, uid in files])
    per_uid = collections.Counter(row["filename"] for row in rows)
    assert all(per_uid[uid] == 1 for _, uid in files)       # one image each, no OCR: one row
    ct = next(row for row in rows if row["filename"] == files[0][1])
    assert ct["frame"] == "0" and ct["overlay"] == "-1" and ct["manufacturer"] == "RHAPSODE"
    server.wait_spool_empty()
    assert server.terminate() == 0
    log = server.log()
    assert "association from AE 'STORESCU' at 127.0.0.1" in log and "accepted" in log
    assert f"received 1.2.840.10008.5.1.4.1.1.2 {files[0][1]}" in log
    assert f"processed {files[0][1]}: 1 image(s), 1 row(s)" in log
    # A clean stop completes the CSV: no .part is left, files are owner-only.
    outputs = list(server.output.iterdir())
    assert outputs and all(p.name.endswith(".csv") for p in outputs)
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in outputs)
    for folder in (server.output, server.spool, server.spool / "incoming", server.spool / "tmp"):
        assert stat.S_IMODE(folder.stat().st_mode) == 0o700


def test_compressed_transfer_syntaxes_are_accepted_as_sent(server, tmp_path):
    expected = {}
    for name, option in COMPRESSED:
        # a copy with a fresh UID: some test files share one, and the SCP dedupes by UID
        (path, _), = copies(name, 1, tmp_path / "in")
        ds = pydicom.dcmread(path, stop_before_pixels=True)
        original = pydicom.dcmread(get_testdata_file(name), stop_before_pixels=True)
        assert ds.file_meta.TransferSyntaxUID == original.file_meta.TransferSyntaxUID
        result = storescu(server.port, [path], option)
        assert result.returncode == 0, f"{name}: {result.stderr}"
        expected[str(ds.SOPInstanceUID)] = (name, int(ds.get("NumberOfFrames", 1) or 1),
                                            str(ds.file_meta.TransferSyntaxUID), path.stat().st_size)
    rows = server.wait_rows(expected)
    for uid, (name, frames, _, _) in expected.items():
        frame_rows = [r for r in rows if r["filename"] == uid and r["overlay"] == "-1"]
        assert len(frame_rows) == frames, name
    # Received as sent, not transcoded: the spooled size is the file's own size.
    log = server.new_log()
    for uid, (name, frames, syntax, size) in expected.items():
        received = re.search(rf"received \S+ {re.escape(uid)} \((\d+) bytes", log)
        assert received, name
        assert abs(int(received.group(1)) - size) < 0.1 * size + 512, name
    assert "failed" not in server.new_log().lower()


def test_concurrent_associations(server, tmp_path):
    batches = [copies("CT_small.dcm", 8, tmp_path / f"batch{i}") for i in range(4)]
    with concurrent.futures.ThreadPoolExecutor(4) as pool:
        results = list(pool.map(lambda batch: storescu(server.port, [p for p, _ in batch]), batches))
    assert all(r.returncode == 0 for r in results), [r.stderr for r in results]
    uids = [uid for batch in batches for _, uid in batch]
    rows = server.wait_rows(uids)
    counts = collections.Counter(row["filename"] for row in rows)
    assert {uid: counts[uid] for uid in uids} == {uid: 1 for uid in uids}
    assert server.new_log().count("accepted") == 4


def test_rejected_calling_ae_title(tmp_path):
    srv = Server(tmp_path, "--calling-ae", "GOODAE").start()
    try:
        refused = echoscu(srv.port, calling="BADAE")
        assert refused.returncode != 0
        assert "Association Rejected" in refused.stdout + refused.stderr
        assert echoscu(srv.port, calling="GOODAE").returncode == 0
        wrong_called = echoscu(srv.port, calling="GOODAE", called="NOTME")
        assert wrong_called.returncode != 0
        log = srv.new_log()
        assert "association from AE 'BADAE' at 127.0.0.1" in log
        assert "rejected: calling AE title not allowed" in log
        assert "rejected: called AE title not recognised" in log
        # The service is still up and well.
        assert echoscu(srv.port, calling="GOODAE").returncode == 0
    finally:
        srv.stop_quietly()


def test_resent_instance_gets_rows_once(server, tmp_path):
    files = copies("CT_small.dcm", 2, tmp_path / "in")
    assert storescu(server.port, [p for p, _ in files]).returncode == 0
    server.wait_rows([uid for _, uid in files])
    server.wait_spool_empty()
    assert storescu(server.port, [p for p, _ in files]).returncode == 0   # sent again
    server.wait_spool_empty()
    assert "already has rows" in server.new_log()
    counts = collections.Counter(row["filename"] for row in server.rows())
    assert [counts[uid] for _, uid in files] == [1, 1]


def test_client_address_allow_list(tmp_path):
    config = tmp_path / "scp.yaml"
    config.write_text("access:\n  client_addresses: [10.0.0.0/8]\n")
    (tmp_path / "a").mkdir()
    srv = Server(tmp_path / "a", "--config", str(config)).start()
    try:
        assert echoscu(srv.port).returncode != 0           # 127.0.0.1 is not in 10.0.0.0/8
        assert "at 127.0.0.1 rejected: address not allowed" in srv.new_log()
    finally:
        srv.stop_quietly()
    config.write_text("access:\n  client_addresses: [10.0.0.0/8, 127.0.0.1]\n")
    (tmp_path / "b").mkdir()
    srv = Server(tmp_path / "b", "--config", str(config)).start()
    try:
        assert echoscu(srv.port).returncode == 0
    finally:
        srv.stop_quietly()


def test_unknown_engine_stops_start_up_with_status_2(tmp_path):
    srv = Server(tmp_path, ocr="no-such-engine")
    process = subprocess.run(srv.args, capture_output=True, text=True, timeout=120)
    assert process.returncode == 2
    assert "unknown OCR engine 'no-such-engine'" in process.stderr
    assert "cannot start" in process.stderr


def test_maximum_associations(tmp_path):
    from pynetdicom import AE

    config = tmp_path / "scp.yaml"
    config.write_text("network:\n  max_associations: 1\n")
    srv = Server(tmp_path, "--config", str(config)).start()
    try:
        ae = AE("HOLDER")
        ae.add_requested_context("1.2.840.10008.1.1")
        held = ae.associate("127.0.0.1", srv.port, ae_title=srv.ae_title)
        assert held.is_established
        try:
            assert echoscu(srv.port).returncode != 0
            assert "rejected: too many associations" in srv.new_log()
        finally:
            held.release()
        # the released association's thread ends a moment later; then a new one is served
        wait_for(lambda: echoscu(srv.port).returncode == 0, 20, interval=0.2, what="a free slot")
    finally:
        srv.stop_quietly()
