"""Every error scp-scanner raises on purpose derives from ScannerError; messages unchanged."""
from __future__ import annotations

from pathlib import Path

import pytest

from scp_scanner.config import ConfigError, TlsConfig
from scp_scanner.dask_backend import EngineSetupError
from scp_scanner.dicom import DicomInputError, NoImagesError, NotDicomError
from scp_scanner.errors import ScannerError
from scp_scanner.partitions import PartitionError
from scp_scanner.pipeline import PipelineSettings
from scp_scanner.registry import EngineError
from scp_scanner.report.findings import FindingsError
from scp_scanner.scp.access import AccessConfigError, server_ssl_context
from scp_scanner.scp.spool import SpoolError
from scp_scanner.workers import WorkerPool


@pytest.mark.parametrize("error, also", [
    (ConfigError, ValueError), (EngineError, RuntimeError), (DicomInputError, Exception),
    (NotDicomError, DicomInputError), (NoImagesError, DicomInputError),
    (PartitionError, Exception), (FindingsError, ValueError), (EngineSetupError, Exception),
    (SpoolError, OSError), (AccessConfigError, ValueError)])
def test_own_errors_share_one_base(error, also) -> None:
    assert issubclass(error, ScannerError) and issubclass(error, also)


def test_unloadable_certificate_is_an_access_error(tmp_path: Path) -> None:
    missing = tmp_path / "missing.pem"
    with pytest.raises(AccessConfigError, match=r"^tls\.certificate/tls\.private_key: cannot load "):
        server_ssl_context(TlsConfig(enabled=True, certificate=str(missing), private_key=str(missing)))


def test_pool_that_cannot_load_its_engines_raises_engine_error() -> None:
    pool = WorkerPool(PipelineSettings(ocr="no-such-engine"), workers=1, nice=0)
    pool.start()
    try:
        with pytest.raises(EngineError, match="no-such-engine"):
            pool.check(timeout=120)
    finally:
        pool.stop(wait=False)
