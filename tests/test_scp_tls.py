"""TLS with a test CA made here (openssl CLI): server certificate, required client certificates,
real dcmtk echoscu/storescu with +tls."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from scp_harness import Server, copies, echoscu, storescu

pytestmark = pytest.mark.skipif(not shutil.which("openssl"), reason="openssl CLI not installed")


def openssl(*args: str, cwd: Path) -> None:
    subprocess.run(["openssl", *args], cwd=cwd, check=True, capture_output=True, timeout=60)


def make_pki(folder: Path) -> Path:
    """A CA, a server certificate for 127.0.0.1 and a client certificate, all PEM, no passwords."""
    folder.mkdir()
    openssl("req", "-x509", "-newkey", "rsa:2048", "-nodes", "-keyout", "ca.key", "-out", "ca.crt",
            "-days", "2", "-subj", "/CN=scp-scanner test CA", cwd=folder)
    (folder / "server.ext").write_text("subjectAltName=IP:127.0.0.1,DNS:localhost\n")
    for name in ("server", "client"):
        openssl("req", "-newkey", "rsa:2048", "-nodes", "-keyout", f"{name}.key", "-out", f"{name}.csr",
                "-subj", f"/CN=scp-scanner test {name}", cwd=folder)
        extra = ["-extfile", "server.ext"] if name == "server" else []
        openssl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
                "-CAcreateserial", "-out", f"{name}.crt", "-days", "2", *extra, cwd=folder)
    return folder


@pytest.fixture
def tls_server(tmp_path):
    pki = make_pki(tmp_path / "pki")
    config = tmp_path / "tls.yaml"
    config.write_text(
        "tls:\n  enabled: true\n"
        f"  certificate: {pki / 'server.crt'}\n  private_key: {pki / 'server.key'}\n"
        f"  ca_certificates: {pki / 'ca.crt'}\n  require_client_certificate: true\n")
    (tmp_path / "scp").mkdir()
    server = Server(tmp_path / "scp", "--config", str(config)).start()
    yield server, pki
    server.stop_quietly()


def test_tls_with_client_certificate(tls_server, tmp_path):
    server, pki = tls_server
    tls = ["+tls", str(pki / "client.key"), str(pki / "client.crt"), "+cf", str(pki / "ca.crt")]
    echo = echoscu(server.port, *tls)
    assert echo.returncode == 0, echo.stdout + echo.stderr
    files = copies("CT_small.dcm", 3, tmp_path / "in")
    store = storescu(server.port, [p for p, _ in files], *tls)
    assert store.returncode == 0, store.stdout + store.stderr
    server.wait_rows([uid for _, uid in files])


def test_tls_refuses_plain_and_certificateless_peers(tls_server):
    server, pki = tls_server
    assert echoscu(server.port, timeout=60).returncode != 0                    # no TLS at all
    anonymous = echoscu(server.port, "+tla", "+cf", str(pki / "ca.crt"), timeout=60)
    assert anonymous.returncode != 0                                          # no client cert
    # The service survives both and still serves a proper client.
    tls = ["+tls", str(pki / "client.key"), str(pki / "client.crt"), "+cf", str(pki / "ca.crt")]
    assert echoscu(server.port, *tls).returncode == 0
