"""`serve` and instances without images: structured reports, encapsulated PDFs and RT objects
(what a PACS forwards besides images) are acknowledged, logged and counted as "no images",
then archived or removed like processed instances; spool/failed/ stays for real failures."""
from __future__ import annotations

from pathlib import Path

import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import EncapsulatedPDFStorage, ExplicitVRLittleEndian, generate_uid

from scp_harness import Server, copies, storescu, wait_for

REAL = ["reportsi.dcm", "test-SR.dcm", "rtplan.dcm"]     # Basic Text SR, Comprehensive SR, RT Plan


def encapsulated_pdf(path: Path) -> str:
    """A minimal Encapsulated PDF instance (no real file of this class ships with pydicom)."""
    ds = Dataset()
    ds.SOPClassUID = EncapsulatedPDFStorage
    ds.SOPInstanceUID = generate_uid()
    ds.StudyInstanceUID, ds.SeriesInstanceUID = generate_uid(), generate_uid()
    ds.Modality, ds.PatientName, ds.PatientID = "DOC", "DOE^JANE", "12345678"
    ds.MIMETypeOfEncapsulatedDocument = "application/pdf"
    ds.BurnedInAnnotation = "YES"
    ds.EncapsulatedDocument = b"%PDF-1.4\n1 0 obj<<>>endobj\ntrailer<<>>\n%%EOF\n"
    meta = FileMetaDataset()
    meta.MediaStorageSOPClassUID = ds.SOPClassUID
    meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.file_meta = meta
    ds.save_as(path, enforce_file_format=True)
    return ds.SOPInstanceUID


def documents(folder: Path) -> list[tuple[Path, str]]:
    folder.mkdir(parents=True, exist_ok=True)
    files = []
    for name in REAL:
        ds = pydicom.dcmread(get_testdata_file(name))
        assert "PixelData" not in ds
        uid = generate_uid()
        ds.SOPInstanceUID = uid
        ds.file_meta.MediaStorageSOPInstanceUID = uid
        path = folder / name
        ds.save_as(path, enforce_file_format=True)
        files.append((path, uid))
    pdf = folder / "report.pdf.dcm"
    files.append((pdf, encapsulated_pdf(pdf)))
    return files


@pytest.mark.parametrize("archive", [False, True])
def test_instances_without_images_are_acknowledged_counted_and_not_kept_as_failed(tmp_path, archive):
    archive_dir = tmp_path / "archive"
    extra = ["--archive-dir", str(archive_dir)] if archive else []
    server = Server(tmp_path, *extra).start()
    try:
        files = documents(tmp_path / "in")
        image, image_uid = copies("CT_small.dcm", 1, tmp_path / "in")[0]
        result = storescu(server.port, [p for p, _ in files] + [image])
        assert result.returncode == 0, result.stderr              # every one acknowledged
        wait_for(lambda: server.new_log().count("no images in ") >= len(files), 60,
                 what="every document to be logged as having no images")
        filename = str(archive_dir / f"{image_uid}.dcm") if archive else image_uid
        server.wait_rows([filename])
        server.wait_spool_empty()
        if archive:
            wait_for(lambda: all((archive_dir / f"{uid}.dcm").exists() for _, uid in files), 60,
                     what="the documents to be archived")
        log = server.new_log()
        for path, uid in files:
            assert f"no images in {uid} (" in log, log
            assert f"failed {uid}" not in log
        assert "(Encapsulated PDF Storage)" in log and "(RT Plan Storage)" in log
        failed = server.spool / "failed"
        assert not failed.exists() or not any(failed.iterdir())
        assert {r["filename"] for r in server.rows()} == {filename}  # documents write no rows
        assert server.terminate() == 0
    finally:
        server.stop_quietly()
