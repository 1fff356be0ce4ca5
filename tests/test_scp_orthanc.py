"""Orthanc (the Debian package) as a real PACS forwarding to the SCP: REST store and a Lua
auto-forward rule on OnStoredInstance. Rows must appear for every forwarded instance."""
from __future__ import annotations

import collections
import re
import json
import shutil
import subprocess
import urllib.request
from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file

from scp_harness import HOST, Server, copies, free_port, stop_process, storescu, wait_for

ORTHANC = "/usr/sbin/Orthanc"
pytestmark = pytest.mark.skipif(not Path(ORTHANC).exists(), reason="Debian orthanc not installed")

LUA_FORWARD = """
function OnStoredInstance(instanceId, tags, metadata, origin)
  if origin['RequestOrigin'] ~= 'Lua' then
    RestApiPost('/modalities/scanner/store',
                '{"Resources":["' .. instanceId .. '"],"Asynchronous":true}', true)
  end
end
"""


class Orthanc:
    def __init__(self, root: Path, scp_port: int, lua: bool):
        self.root = root
        self.http_port = free_port()
        self.dicom_port = free_port()
        config = {
            "Name": "test-pacs", "StorageDirectory": str(root / "storage"),
            "IndexDirectory": str(root / "index"), "HttpPort": self.http_port,
            "DicomPort": self.dicom_port, "DicomAet": "ORTHANC",
            "RemoteAccessAllowed": False, "AuthenticationEnabled": False, "Plugins": [],
            "DicomModalities": {"scanner": ["SCANNER", HOST, scp_port]},
            "LuaScripts": [],
        }
        root.mkdir(parents=True, exist_ok=True)
        if lua:
            script = root / "forward.lua"
            script.write_text(LUA_FORWARD)
            config["LuaScripts"] = [str(script)]
        (root / "orthanc.json").write_text(json.dumps(config))
        self.log = open(root / "orthanc.log", "wb")
        self.process = subprocess.Popen([ORTHANC, str(root / "orthanc.json")], stdout=self.log,
                                        stderr=subprocess.STDOUT)
        wait_for(self._ready, 30, what="Orthanc to answer")

    def _ready(self) -> bool:
        try:
            self.get("/system")
            return True
        except OSError:
            assert self.process.poll() is None, (self.root / "orthanc.log").read_text()
            return False

    def url(self, path: str) -> str:
        return f"http://{HOST}:{self.http_port}{path}"

    def get(self, path: str):
        with urllib.request.urlopen(self.url(path), timeout=10) as response:
            return json.loads(response.read())

    def post(self, path: str, body: bytes | str):
        data = body.encode() if isinstance(body, str) else body
        request = urllib.request.Request(self.url(path), data=data, method="POST")
        with urllib.request.urlopen(request, timeout=60) as response:
            return json.loads(response.read() or b"null")

    def stop(self) -> None:
        stop_process(self.process, grace=30)
        self.log.close()


@pytest.fixture
def scp(tmp_path):
    (tmp_path / "scp").mkdir()
    server = Server(tmp_path / "scp").start()
    yield server
    server.stop_quietly()


def test_orthanc_rest_store_forwards_to_scp(tmp_path, scp):
    orthanc = Orthanc(tmp_path / "orthanc", scp.port, lua=False)
    try:
        assert orthanc.post("/modalities/scanner/echo", "{}") == {}
        files = copies("CT_small.dcm", 2, tmp_path / "in") + [
            (Path(get_testdata_file("JPEG2000.dcm")), None), (Path(get_testdata_file("MR_small_RLE.dcm")), None)]
        uids = []
        for path, uid in files:
            uids.append(uid or str(pydicom.dcmread(path, stop_before_pixels=True).SOPInstanceUID))
            instance = orthanc.post("/instances", path.read_bytes())
            orthanc.post("/modalities/scanner/store", instance["ID"])        # synchronous
        rows = scp.wait_rows(uids)
        counts = collections.Counter(row["filename"] for row in rows)
        assert all(counts[uid] >= 1 for uid in uids)
        log = scp.log()
        assert "association from AE 'ORTHANC'" in log
        # Orthanc sent the compressed instances as they were: no transcoding was needed, so
        # the received size is the compressed file's, not the decompressed one.
        for path, uid in files[2:]:
            received = re.search(rf"received \S+ {re.escape(uids[files.index((path, uid))])} \((\d+) bytes", log)
            assert received, log
            assert int(received.group(1)) < path.stat().st_size * 1.2
    finally:
        orthanc.stop()


def test_orthanc_lua_auto_forward(tmp_path, scp):
    if not shutil.which("storescu"):
        pytest.skip("dcmtk storescu not installed")
    orthanc = Orthanc(tmp_path / "orthanc", scp.port, lua=True)
    try:
        files = copies("CT_small.dcm", 4, tmp_path / "in") + copies("MR_small.dcm", 2, tmp_path / "in2")
        # Modality -> Orthanc by C-STORE; the Lua rule forwards each instance to the SCP.
        result = storescu(orthanc.dicom_port, [p for p, _ in files], called="ORTHANC")
        assert result.returncode == 0, result.stderr
        rows = scp.wait_rows([uid for _, uid in files], timeout=90)
        counts = collections.Counter(row["filename"] for row in rows)
        assert {uid: counts[uid] for _, uid in files} == {uid: 1 for _, uid in files}
        # Orthanc may still be closing a job when its instance's rows appear: wait for the
        # jobs' final state rather than reading it once.
        def ended_jobs():
            jobs = orthanc.get("/jobs?expand")
            return jobs if jobs and all(j["State"] in ("Success", "Failure") for j in jobs) else None

        jobs = wait_for(ended_jobs, 60, what="Orthanc's forwarding jobs to end")
        assert all(job["State"] == "Success" for job in jobs), jobs
    finally:
        orthanc.stop()
