"""Video transfer syntaxes (MPEG-2, H.264, HEVC): decoded through PyAV, read like any cine,
and accepted by the SCP as sent. The files are the generator's ultrasound cine (a clock and a
frame counter that change on every frame) encoded by FFmpeg's own encoders
(tests/dicomgen.py build_video_cine), sent by dcmtk's storescu."""
from __future__ import annotations

import csv
import io
import sys

import numpy as np
import pydicom
import pytest

import dicomgen
from conftest import run_scan
from scp_harness import Server, storescu
from scp_scanner.dicom import DicomInputError, iter_images, read_dataset
from scp_scanner.dicom.video import container_form
from scp_scanner.scp.contexts import decodable_transfer_syntaxes
from test_cli_scan import word_found

FRAMES = 6
SEED = 5
# storescu's option that proposes each codec's transfer syntax.
STORESCU = {"mpeg2": "-xm", "h264": "-xn", "hevc": "-x4"}


@pytest.fixture(scope="module")
def videos(tmp_path_factory) -> dict[str, tuple[object, np.ndarray]]:
    """Each codec's file with its truth, and the RGB frames it was encoded from."""
    folder = tmp_path_factory.mktemp("video")
    source = folder / "source.dcm"
    dicomgen.build_us_cine(source, SEED, n_frames=FRAMES)
    frames = pydicom.dcmread(source).pixel_array
    out = {}
    for codec in dicomgen.VIDEO_CODECS:
        truth = dicomgen.build_video_cine(folder / f"{codec}.dcm", SEED, codec=codec, n_frames=FRAMES)
        out[codec] = (truth, frames)
    return out


@pytest.mark.parametrize("codec", sorted(dicomgen.VIDEO_CODECS))
def test_every_picture_comes_out_in_order_close_to_what_was_encoded(videos, codec):
    truth, source = videos[codec]
    ds = read_dataset(truth.path)
    assert ds.file_meta.TransferSyntaxUID == dicomgen.VIDEO_CODECS[codec][0]
    assert len(ds.PixelData) < source.nbytes / 10              # really compressed
    images = list(iter_images(ds))
    assert [(i.frame, i.overlay) for i in images] == [(f, -1) for f in range(FRAMES)]
    for index, image in enumerate(images):
        assert image.pixels.shape == (480, 640, 3) and image.pixels.dtype == np.uint8
        errors = [np.abs(image.pixels.astype(int) - frame.astype(int)).mean() for frame in source]
        # Lossy, so not equal; but nearest its own frame (display order kept) and close to it.
        assert int(np.argmin(errors)) == index and errors[index] < 4, (index, errors)


def test_scan_reads_each_frames_text_from_h264_video(videos):
    truth, _ = videos["h264"]
    result = run_scan("--ocr", "rapidocr", "--pii", "spacy", truth.path)
    assert result.returncode == 0, result.stderr
    rows = [r for r in csv.DictReader(io.StringIO(result.stdout))]
    assert [r["frame"] for r in rows] == [str(f) for f in range(FRAMES)]
    for row, image in zip(rows, truth.images):
        missed = [w.text for w in image.words if not word_found(w.text, row["ocr_text"])]
        assert not missed, (row["frame"], row["ocr_text"], missed)    # each frame's own clock too
        assert row["is_sensitive"] == "1"


def test_scp_offers_the_video_syntaxes_and_reads_what_storescu_sends(videos, tmp_path):
    syntaxes = decodable_transfer_syntaxes()
    for codec, (syntax, _, _) in dicomgen.VIDEO_CODECS.items():
        assert syntax in syntaxes, codec
    server = Server(tmp_path).start()
    try:
        uids = {}
        for codec, (truth, _) in videos.items():
            result = storescu(server.port, [truth.path], STORESCU[codec])
            assert result.returncode == 0, f"{codec}: {result.stderr}"
            uids[str(pydicom.dcmread(truth.path, stop_before_pixels=True).SOPInstanceUID)] = codec
        rows = server.wait_rows(uids)
        for uid, codec in uids.items():
            assert sorted(int(r["frame"]) for r in rows if r["filename"] == uid) == list(range(FRAMES)), codec
        assert "failed" not in server.new_log().lower()
    finally:
        server.stop_quietly()


def test_without_pyav_a_video_is_refused_with_how_to_install_it(videos, monkeypatch):
    truth, _ = videos["h264"]
    ds = read_dataset(truth.path)
    monkeypatch.setitem(sys.modules, "av", None)               # `import av` raises ImportError
    with pytest.raises(DicomInputError, match=r"no decoder installed for MPEG-4 AVC/H\.264.*pip install av"):
        list(iter_images(ds))
    assert dicomgen.VIDEO_CODECS["h264"][0] not in decodable_transfer_syntaxes()


def test_a_transport_stream_is_read_as_one(videos, tmp_path):
    _, source = videos["h264"]
    truth = dicomgen.build_video_cine(tmp_path / "ts.dcm", SEED, codec="h264", n_frames=FRAMES, form="mpegts")
    ds = read_dataset(truth.path)
    stream = ds.PixelData[8 + 8:]                               # after the empty offset table item
    assert container_form(stream, ds.file_meta.TransferSyntaxUID) == "mpegts"
    images = list(iter_images(ds))
    assert len(images) == FRAMES
    for index, image in enumerate(images):
        errors = [np.abs(image.pixels.astype(int) - frame.astype(int)).mean() for frame in source]
        assert int(np.argmin(errors)) == index and errors[index] < 4


def test_the_form_is_told_by_the_first_bytes_never_guessed():
    h264, mpeg2 = dicomgen.VIDEO_CODECS["h264"][0], dicomgen.VIDEO_CODECS["mpeg2"][0]
    assert container_form(b"\x47" + bytes(187) + b"\x47" + bytes(10), h264) == "mpegts"
    assert container_form(b"\x00\x00\x01\xba" + bytes(20), h264) == "mpeg"
    assert container_form(b"\x00\x00\x00\x01\x67" + bytes(20), h264) == "h264"
    assert container_form(b"\x00\x00\x01\xb3" + bytes(20), mpeg2) == "mpegvideo"
    # An HLS playlist (a demuxer that opens other files and URLs) is read as bare H.264.
    assert container_form(b"#EXTM3U\n#EXT-X-VERSION:3\nfile:///etc/passwd\n", h264) == "h264"


def test_video_of_another_codec_than_the_syntax_names_is_refused(videos, tmp_path):
    truth, _ = videos["mpeg2"]                                  # an MPEG-2 program stream...
    ds = pydicom.dcmread(truth.path)
    ds.file_meta.TransferSyntaxUID = dicomgen.VIDEO_CODECS["hevc"][0]   # ...labelled HEVC
    ds.save_as(tmp_path / "mislabelled.dcm")
    with pytest.raises(DicomInputError, match="holds mpeg2video, not the video its syntax names"):
        list(iter_images(read_dataset(tmp_path / "mislabelled.dcm")))


def test_ten_bit_hevc_comes_out_as_its_eight_bit_picture(videos, tmp_path):
    _, source = videos["hevc"]
    truth = dicomgen.build_video_cine(tmp_path / "main10.dcm", SEED, codec="hevc", n_frames=FRAMES, ten_bit=True)
    ds = read_dataset(truth.path)
    assert ds.file_meta.TransferSyntaxUID == dicomgen.HEVC_MAIN_10 and ds.BitsStored == 10
    images = list(iter_images(ds))
    assert len(images) == FRAMES
    for index, image in enumerate(images):
        assert image.pixels.dtype == np.uint8
        errors = [np.abs(image.pixels.astype(int) - frame.astype(int)).mean() for frame in source]
        assert int(np.argmin(errors)) == index and errors[index] < 4


def test_pictures_past_number_of_frames_are_named_in_a_warning(videos, tmp_path, caplog):
    truth, _ = videos["h264"]
    ds = pydicom.dcmread(truth.path)
    ds.NumberOfFrames = FRAMES - 2                              # the stream holds 2 more
    ds.save_as(tmp_path / "short_header.dcm")
    with caplog.at_level("WARNING", logger="scp_scanner.dicom.frames"):
        images = list(iter_images(read_dataset(tmp_path / "short_header.dcm")))
    assert [i.frame for i in images] == list(range(FRAMES - 2))
    assert f"more pictures than its NumberOfFrames ({FRAMES - 2})" in caplog.text
    caplog.clear()
    with caplog.at_level("WARNING", logger="scp_scanner.dicom.frames"):
        assert len(list(iter_images(read_dataset(truth.path)))) == FRAMES
    assert "NumberOfFrames" not in caplog.text                 # the header counts them all
