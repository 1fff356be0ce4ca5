"""Malformed and hostile instances: a failure status or a failed/ entry, a log line, and the
service keeps running. The peer is pynetdicom's own SCU (dcmtk refuses to send such files)."""
from __future__ import annotations

import warnings

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.uid import generate_uid
from pynetdicom import AE, _config

from scp_harness import AE_TITLE, HOST, Server, copies, echoscu, wait_for

CT = "1.2.840.10008.5.1.4.1.1.2"


@pytest.fixture
def server(tmp_path):
    srv = Server(tmp_path).start()
    yield srv
    srv.stop_quietly()


def send(port: int, dataset_or_path, chunked: bool = False) -> int:
    ae = AE("HOSTILE")
    ae.add_requested_context(CT)
    previous = _config.STORE_SEND_CHUNKED_DATASET
    _config.STORE_SEND_CHUNKED_DATASET = chunked
    try:
        assoc = ae.associate(HOST, port, ae_title=AE_TITLE)
        assert assoc.is_established
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            status = assoc.send_c_store(dataset_or_path)
        assoc.release()
    finally:
        _config.STORE_SEND_CHUNKED_DATASET = previous
    assert status, "no response"
    return int(status.Status)


def ct(uid: str) -> pydicom.Dataset:
    ds = pydicom.dcmread(get_testdata_file("CT_small.dcm"))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
    return ds


def test_path_escaping_uid_is_refused(server, tmp_path):
    status = send(server.port, ct("1.2.3/../../../../evil"))
    assert status == 0xC000
    assert "unusable SOP Instance UID '1.2.3/../../../../evil'" in server.new_log()
    assert not list(tmp_path.rglob("*evil*"))
    assert echoscu(server.port).returncode == 0        # still serving


def test_odd_uid_gets_a_hashed_spool_name_and_rows(server):
    uid = "1.2.abc.4"
    assert send(server.port, ct(uid)) == 0x0000
    rows = server.wait_rows([uid])
    assert [row["filename"] for row in rows] == [uid]


def test_dataset_without_sop_instance_uid_is_refused(server, tmp_path):
    ds = ct(generate_uid())
    command_uid = ds.file_meta.MediaStorageSOPInstanceUID
    del ds.SOPInstanceUID
    path = tmp_path / "no-uid.dcm"
    ds.save_as(path, enforce_file_format=False)
    assert send(server.port, str(path), chunked=True) == 0xA900
    assert f"refused {command_uid}" in server.new_log()
    assert "no SOP Instance UID" in server.new_log()
    assert not list((server.spool / "incoming").iterdir())


def test_undecodable_instance_goes_to_failed_and_service_continues(server, tmp_path):
    bad_uid = generate_uid()
    ds = ct(bad_uid)
    ds.PixelData = ds.PixelData[: len(ds.PixelData) // 3]        # truncated pixel data
    assert send(server.port, ds) == 0x0000                        # stored: the header is fine
    failed = server.spool / "failed" / f"{bad_uid}.dcm"
    wait_for(failed.exists, 60, what="the bad instance to be moved to failed/")
    assert failed.with_name(failed.name + ".error").read_text().strip()
    assert f"failed {bad_uid}" in server.new_log()
    (good, uid), = copies("CT_small.dcm", 1, tmp_path / "in")
    assert send(server.port, str(good)) == 0x0000
    server.wait_rows([uid])
    assert bad_uid not in {row["filename"] for row in server.rows()}


def _send_private(port: int) -> tuple[bool, int | None]:
    private_class = "1.2.826.0.1.3680043.9.9999.1"     # a private SOP class
    ae = AE("HOSTILE")
    ae.add_requested_context(private_class)
    ds = ct(generate_uid())
    ds.SOPClassUID = ds.file_meta.MediaStorageSOPClassUID = private_class
    assoc = ae.associate(HOST, port, ae_title=AE_TITLE)
    try:
        if not assoc.accepted_contexts:
            return False, None
        status = assoc.send_c_store(ds)
        return True, int(status.Status)
    finally:
        assoc.release()


def test_private_sop_classes_are_configurable(tmp_path):
    (tmp_path / "off").mkdir()
    strict = Server(tmp_path / "off").start()
    try:
        assert _send_private(strict.port) == (False, None)
    finally:
        strict.stop_quietly()
    config = tmp_path / "scp.yaml"
    config.write_text("storage:\n  accept_unknown_sop_classes: true\n")
    (tmp_path / "on").mkdir()
    open_server = Server(tmp_path / "on", "--config", str(config)).start()
    try:
        assert _send_private(open_server.port) == (True, 0x0000)
        assert "received 1.2.826.0.1.3680043.9.9999.1" in open_server.new_log()
    finally:
        open_server.stop_quietly()
