"""Instance -> Images on real DICOM files (pydicom's bundled test files and pydicom-data).

High-bit overlays are built from a real file: the real overlay of
MR-SIEMENS-DICOM-WithOverlays.dcm is moved from (6000,3000) into bit 15 of PixelData
(BitsStored 12), then stored natively, RLE-compressed (pydicom's encoder) and JPEG-lossless
compressed (dcmtk dcmcjpeg), and must come back out identical in each case.
"""
from __future__ import annotations

import copy
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pydicom
import pytest
from pydicom.data import get_testdata_file
from pydicom.pixels import apply_color_lut, iter_pixels, pack_bits, pixel_array
from pydicom.uid import JPEG2000Lossless, JPEGLosslessSV1, MPEG2MPML, RLELossless, generate_uid

from scp_scanner.dicom import DicomInputError, instance_info, iter_images, read_dataset
from scp_scanner.dicom.transforms import keep_stored_bits
from scp_scanner.model import SOURCE_FRAME, SOURCE_OVERLAY, SOURCE_OVERLAY_FRAME

OVERLAY_FILE = "MR-SIEMENS-DICOM-WithOverlays.dcm"


def data(name: str) -> str:
    """Path of a bundled test file (pydicom wheel or pydicom-data; never the network)."""
    path = get_testdata_file(name, download=False)
    assert path is not None, f"{name} not installed (pip install pydicom-data)"
    return str(path)


def images(path: str | Path, overlays: bool = True):
    return list(iter_images(read_dataset(path), overlays=overlays))


def save(ds: pydicom.Dataset, path: Path) -> Path:
    ds.SOPInstanceUID = generate_uid()
    ds.file_meta.MediaStorageSOPInstanceUID = ds.SOPInstanceUID
    ds.save_as(path, enforce_file_format=True)
    return path


def reference_overlay() -> np.ndarray:
    return pydicom.dcmread(data(OVERLAY_FILE)).overlay_array(0x6000).astype(bool)


def high_bit_overlay_file(tmp_path: Path) -> Path:
    """The real overlay moved into bit 15 of the real 12-bit PixelData, no OverlayData."""
    ds = pydicom.dcmread(data(OVERLAY_FILE))
    assert ds.BitsStored == 12 and ds.BitsAllocated == 16
    cells = ds.pixel_array.astype(np.uint16) | (reference_overlay().astype(np.uint16) << 15)
    ds.PixelData = cells.tobytes()
    del ds[0x6000, 0x3000]
    ds[0x6000, 0x0100].value = 16
    ds[0x6000, 0x0102].value = 15
    return save(ds, tmp_path / "highbit.dcm")


# --- frames and separate overlays -------------------------------------------------------

@pytest.mark.parametrize("name", [OVERLAY_FILE, "examples_overlay.dcm"])
def test_separate_overlay_follows_the_frame(name):
    found = images(data(name))
    assert len(found) == 2                                   # 1 frame + 1 overlay
    frame, overlay = found
    assert (frame.frame, frame.overlay, frame.source) == (0, -1, SOURCE_FRAME)
    assert (overlay.frame, overlay.overlay, overlay.source) == (0, 0, SOURCE_OVERLAY)
    expected = pydicom.dcmread(data(name)).overlay_array(0x6000).astype(bool)
    assert overlay.pixels.dtype == np.uint8 and set(np.unique(overlay.pixels)) == {0, 255}
    assert np.array_equal(overlay.pixels == 255, expected)
    assert overlay.text_mask is not None and np.array_equal(overlay.text_mask, expected)
    assert expected.sum() > 100


def test_no_overlays_option():
    found = images(data(OVERLAY_FILE), overlays=False)
    assert [(i.frame, i.overlay) for i in found] == [(0, -1)]


def test_multi_frame_separate_overlay_and_second_group(tmp_path):
    ds = pydicom.dcmread(data("emri_small.dcm"))
    frames, rows, cols = int(ds.NumberOfFrames), ds.Rows, ds.Columns
    planes = np.zeros((frames, rows, cols), dtype=np.uint8)
    for f in range(frames):
        planes[f, 2 + f, 3:3 + 10 + f] = 1                   # a different bar per frame
    ds.add_new((0x6000, 0x0010), "US", rows)
    ds.add_new((0x6000, 0x0011), "US", cols)
    ds.add_new((0x6000, 0x0015), "IS", frames)
    ds.add_new((0x6000, 0x0051), "US", 1)
    ds.add_new((0x6000, 0x0040), "CS", "G")
    ds.add_new((0x6000, 0x0050), "SS", [1, 1])
    ds.add_new((0x6000, 0x0100), "US", 1)
    ds.add_new((0x6000, 0x0102), "US", 0)
    ds.add_new((0x6000, 0x3000), "OW", pack_bits(planes.ravel()))
    single = np.zeros((rows, cols), dtype=np.uint8)
    single[40, 5:25] = 1
    ds.add_new((0x6002, 0x0010), "US", rows)
    ds.add_new((0x6002, 0x0011), "US", cols)
    ds.add_new((0x6002, 0x0040), "CS", "G")
    ds.add_new((0x6002, 0x0050), "SS", [1, 1])
    ds.add_new((0x6002, 0x0100), "US", 1)
    ds.add_new((0x6002, 0x0102), "US", 0)
    ds.add_new((0x6002, 0x3000), "OW", pack_bits(single.ravel()))
    found = images(save(ds, tmp_path / "mfov.dcm"))

    assert len(found) == frames + frames + 1
    assert [i.frame for i in found[:frames]] == list(range(frames))
    ov_frames = found[frames:2 * frames]
    assert all(i.source == SOURCE_OVERLAY_FRAME and i.overlay == 0 for i in ov_frames)
    assert [i.frame for i in ov_frames] == list(range(frames))
    for f, image in enumerate(ov_frames):
        assert np.array_equal(image.text_mask, planes[f].astype(bool))
    last = found[-1]
    assert (last.frame, last.overlay, last.source) == (0, 1, SOURCE_OVERLAY)
    assert np.array_equal(last.text_mask, single.astype(bool))


# --- multi-frame and compressed frames --------------------------------------------------

def test_multi_frame_lossless_syntaxes_agree():
    names = ["emri_small.dcm", "emri_small_RLE.dcm", "emri_small_big_endian.dcm",
             "emri_small_jpeg_ls_lossless.dcm", "emri_small_jpeg_2k_lossless.dcm"]
    results = {name: images(data(name)) for name in names}
    reference = results[names[0]]
    assert len(reference) == 10
    assert [i.frame for i in reference] == list(range(10))
    for name in names[1:]:
        assert len(results[name]) == 10, name
        for ours, theirs in zip(reference, results[name]):
            assert np.array_equal(ours.pixels, theirs.pixels), name


def test_multi_frame_jpeg_baseline_colour_120_frames():
    found = images(data("color3d_jpeg_baseline.dcm"))
    assert len(found) == 120
    assert [i.frame for i in found] == list(range(120))
    assert all(i.pixels.shape == (480, 640, 3) and i.pixels.dtype == np.uint8 for i in found)
    # YBR_FULL_422 -> RGB by pydicom: the greyscale picture has near-equal channels.
    spread = np.abs(found[0].pixels.astype(int) - found[0].pixels.mean(axis=2, keepdims=True))
    assert spread.mean() < 3


def test_frames_are_produced_lazily():
    iterator = iter_images(read_dataset(data("color3d_jpeg_baseline.dcm")))
    first = next(iterator)
    assert first.frame == 0
    iterator.close()


@pytest.mark.parametrize("name", ["rtdose.dcm", "rtdose_rle.dcm", "liver.dcm", "OBXXXX1A_rle_2frame.dcm",
                                  "SC_rgb_rle_32bit_2frame.dcm", "examples_ybr_color.dcm"])
def test_frame_count_matches_header(name):
    ds = read_dataset(data(name))
    frames = int(ds.get("NumberOfFrames", 1) or 1)
    found = list(iter_images(ds))
    assert len(found) == frames
    assert all(i.pixels.dtype == np.uint8 and i.overlay == -1 for i in found)


# --- colour spaces ----------------------------------------------------------------------

def test_colour_spaces_give_the_same_rgb():
    reference = images(data("SC_rgb.dcm"))[0].pixels
    assert reference.shape == (100, 100, 3)
    exact = ["SC_rgb_rle.dcm", "SC_rgb_16bit.dcm", "SC_rgb_32bit.dcm", "SC_rgb_expb.dcm",
             "SC_rgb_jpeg_gdcm.dcm"]
    for name in exact:
        assert np.array_equal(images(data(name))[0].pixels, reference), name
    close = ["SC_ybr_full_uncompressed.dcm", "SC_ybr_full_422_uncompressed.dcm",
             "SC_rgb_dcmtk_+eb+cy+n1.dcm", "SC_rgb_dcmtk_+eb+cy+s2.dcm", "SC_rgb_gdcm_KY.dcm"]
    for name in close:
        pixels = images(data(name))[0].pixels
        assert pixels.shape == reference.shape, name
        assert np.abs(pixels.astype(int) - reference).mean() < 4, name


def _baseline_jpeg(progressive: bool = False) -> bytes:
    import io

    from PIL import Image as PILImage

    out = io.BytesIO()
    pixels = (np.add.outer(np.arange(48), np.arange(64)) * 3 % 251).astype(np.uint8)
    PILImage.fromarray(pixels).save(out, format="JPEG", quality=90, progressive=progressive)
    return out.getvalue()


def _scan_headers(stream: bytes) -> list[bytes]:
    """Ss, Se and Ah/Al of each scan header (SOS) of a JPEG codestream."""
    found, at = [], 0
    while (at := stream.find(b"\xff\xda", at)) >= 0:
        count = stream[at + 4]
        found.append(stream[at + 5 + 2 * count:at + 8 + 2 * count])
        at += 2
    return found


def test_scan_headers_of_sequential_jpeg_are_set_to_the_whole_spectrum():
    from scp_scanner.dicom.jpeg_scan import repaired_scan_headers

    good = _baseline_jpeg()
    assert _scan_headers(good) == [b"\x00\x3f\x00"]
    assert repaired_scan_headers(good) is None                 # nothing to repair
    broken = bytearray(good)
    sos = broken.find(b"\xff\xda")
    broken[sos + 5 + 2 * broken[sos + 4] + 1] = 0x00           # Se = 0, as old encoders wrote
    assert repaired_scan_headers(bytes(broken)) == good
    # Progressive scans select parts of the spectrum on purpose: never touched.
    progressive = _baseline_jpeg(progressive=True)
    assert len(_scan_headers(progressive)) > 1
    assert repaired_scan_headers(progressive) is None
    assert repaired_scan_headers(b"not a jpeg") is None


def test_twelve_bit_jpeg_with_a_wrong_scan_header_is_decoded_as_dcmtk_decodes_it(tmp_path):
    """pydicom's JPEG-lossy.dcm (a real 12-bit JPEG Extended bone scan, 1024x256) says Se = 0
    in its sequential scan: pylibjpeg's libjpeg stops at it, Pillow and GDCM refuse 12 bits.
    dcmtk's dcmdjpeg (IJG) warns and decodes; ours must give its pixels (IDCTs differ by one
    level at most) instead of failing the file."""
    source = data("JPEG-lossy.dcm")
    ds = pydicom.dcmread(source)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.JPEGExtended12Bit and ds.BitsStored == 12
    with pytest.raises(Exception, match="misplaced marker|Unable to decode"):
        pixel_array(ds)                                         # what pydicom alone does
    native = tmp_path / "native.dcm"
    subprocess.run(["dcmdjpeg", source, str(native)], check=True, capture_output=True, timeout=120)
    expected = pydicom.dcmread(native).pixel_array.astype(int)
    found = images(source)
    assert [(i.source, i.frame) for i in found] == [(SOURCE_FRAME, 0)]
    from scp_scanner.dicom.frames import iter_raw_frames
    from scp_scanner.dicom.reading import pixel_layout

    raw = np.stack(list(iter_raw_frames(ds, pixel_layout(ds)))).astype(int)
    assert raw.shape == (1, 1024, 256)
    assert np.abs(raw[0] - expected).max() <= 1
    assert expected.max() > 200 and (raw[0] == expected).mean() > 0.95
    assert found[0].pixels.shape == (1024, 256) and found[0].pixels.std() > 5


def test_jpeg2000_ybr_rct_and_ict_become_rgb():
    plain = images(data("US1_UNCR.dcm"))[0].pixels
    assert np.array_equal(images(data("US1_J2KR.dcm"))[0].pixels, plain)      # YBR_RCT, lossless
    lossy = images(data("US1_J2KI.dcm"))[0].pixels                             # YBR_ICT, lossy
    assert np.abs(lossy.astype(int) - plain).mean() < 3


@pytest.mark.parametrize("name", ["OBXXXX1A.dcm", "gdcm-US-ALOKA-16.dcm", "examples_palette.dcm"])
def test_palette_colour(name):
    ds = read_dataset(data(name))
    found = list(iter_images(ds))
    assert len(found) == 1
    pixels = found[0].pixels
    assert pixels.shape == (ds.Rows, ds.Columns, 3) and pixels.dtype == np.uint8
    expected = apply_color_lut(pixel_array(ds), ds)
    expected = (expected >> 8).astype(np.uint8) if expected.max() > 255 else expected.astype(np.uint8)
    assert np.array_equal(pixels, expected)
    assert found[0].text_mask is not None          # white/green annotations of ultrasound


def test_ultrasound_text_mask_covers_white_text():
    image = images(data("US1_UNCR.dcm"))[0]
    assert image.text_mask is not None
    assert 0.005 < image.text_mask.mean() < 0.15
    # Every masked pixel is bright white/grey or a saturated colour (the yellow markers).
    assert (image.pixels[image.text_mask].max(axis=1) >= 200).all()
    white = image.pixels.min(axis=2) >= 245
    assert image.text_mask[white].all()


# --- grey: signed, rescale, MONOCHROME1 ---------------------------------------------------

@pytest.mark.parametrize("name", ["693_UNCR.dcm", "CT_small.dcm", "J2K_pixelrep_mismatch.dcm",
                                  "MR2_UNCR.dcm", "emri_small_big_endian.dcm"])
def test_our_bit_correction_equals_pydicoms(name):
    ds = read_dataset(data(name))
    raw = next(iter_pixels(ds, correct_unused_bits=False))
    ours = keep_stored_bits(raw, ds.BitsStored, bool(ds.PixelRepresentation))
    assert np.array_equal(ours, pixel_array(ds, index=0) if "NumberOfFrames" in ds else ds.pixel_array)


def test_signed_ct_darkest_and_brightest():
    ds = read_dataset(data("693_UNCR.dcm"))       # signed, 14 bits stored in 16
    assert ds.PixelRepresentation == 1
    stored = ds.pixel_array
    assert stored.min() < 0
    pixels = images(data("693_UNCR.dcm"))[0].pixels
    assert pixels[stored == stored.min()].max() <= 10
    assert pixels[stored == stored.max()].min() >= 200
    # Monotonic: a higher stored value is never darker.
    order = np.argsort(stored.ravel(), kind="stable")
    assert (np.diff(pixels.ravel()[order].astype(int)) >= 0).all()


def test_monochrome1_is_inverted():
    ds = read_dataset(data("RG3_UNCR.dcm"))
    assert ds.PhotometricInterpretation == "MONOCHROME1"
    stored = ds.pixel_array
    pixels = images(data("RG3_UNCR.dcm"))[0].pixels
    assert pixels[stored == stored.max()].max() <= 10        # high stored = dark on screen
    assert pixels[stored == stored.min()].min() >= 245


def test_float_pixel_data(tmp_path):
    ds = pydicom.dcmread(data("CT_small.dcm"))
    values = np.linspace(-1.0, 1.0, 128 * 128, dtype=np.float32).reshape(128, 128)
    values[0, :4] = 10.0
    del ds.PixelData
    for keyword in ("BitsStored", "HighBit", "PixelRepresentation", "RescaleSlope", "RescaleIntercept"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.BitsAllocated = 32
    ds.FloatPixelData = values.tobytes()
    found = images(save(ds, tmp_path / "float.dcm"))
    assert len(found) == 1
    pixels = found[0].pixels
    assert (pixels[0, :4] == 255).all() and pixels[127, 127] > pixels[64, 0] > pixels[1, 0]



def test_one_bit_frames_packed_across_frame_boundaries(tmp_path):
    """1-bit frames follow one another with no padding (PS3.5 8.1.1): 3 frames of 5x5 are 75
    bits, 10 bytes, not 3 x 4. Each frame must come out whole and in place."""
    ds = pydicom.dcmread(data("CT_small.dcm"))
    rng = np.random.default_rng(7)
    bits = rng.integers(0, 2, size=(3, 5, 5), dtype=np.uint8)
    bits[:, 2, 2] = (1, 0, 1)        # each frame differs from its neighbour at the centre
    for keyword in ("RescaleSlope", "RescaleIntercept", "WindowCenter", "WindowWidth"):
        if keyword in ds:
            delattr(ds, keyword)
    ds.Rows, ds.Columns, ds.NumberOfFrames = 5, 5, 3
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.PixelData = pack_bits(bits.ravel())
    assert len(ds.PixelData) == 10
    found = images(save(ds, tmp_path / "onebit.dcm"), overlays=False)
    assert [(i.frame, i.overlay) for i in found] == [(0, -1), (1, -1), (2, -1)]
    for image, expected in zip(found, bits):
        assert np.array_equal(image.pixels > 127, expected.astype(bool))


# --- overlays in the high bits of PixelData ------------------------------------------------

def _check_high_bit(path: Path):
    found = images(path)
    assert len(found) == 2
    frame, overlay = found
    assert (overlay.frame, overlay.overlay, overlay.source) == (0, 0, SOURCE_OVERLAY)
    assert np.array_equal(overlay.text_mask, reference_overlay())
    assert np.array_equal(overlay.pixels == 255, reference_overlay())
    # The overlay bit does not leak into the frame: same pixels as the original file.
    original = images(data(OVERLAY_FILE), overlays=False)[0]
    assert np.array_equal(frame.pixels, original.pixels)


def test_high_bit_overlay_native(tmp_path):
    path = high_bit_overlay_file(tmp_path)
    ds = pydicom.dcmread(path)
    assert (0x6000, 0x3000) not in ds
    assert not (ds.pixel_array >> 12).any()          # pydicom's pixel_array hides it
    _check_high_bit(path)


@pytest.mark.parametrize("syntax", [RLELossless, JPEG2000Lossless])
def test_high_bit_overlay_pydicom_encoders(tmp_path, syntax):
    ds = pydicom.dcmread(high_bit_overlay_file(tmp_path))
    ds.BitsStored, ds.HighBit = 16, 15               # let the encoder keep all 16 bits
    cells = pixel_array(ds)
    ds.compress(syntax, cells)
    ds.BitsStored, ds.HighBit = 12, 11
    path = save(ds, tmp_path / "highbit_compressed.dcm")
    assert pydicom.dcmread(path).file_meta.TransferSyntaxUID == syntax
    _check_high_bit(path)


@pytest.mark.skipif(shutil.which("dcmcjpeg") is None, reason="dcmtk dcmcjpeg not installed")
def test_high_bit_overlay_jpeg_lossless(tmp_path):
    source = high_bit_overlay_file(tmp_path)
    target = tmp_path / "highbit_jpegll.dcm"
    # dcmtk's true-lossless codec encodes all BitsAllocated bits, so bit 15 survives.
    subprocess.run(["dcmcjpeg", "+e1", str(source), str(target)], check=True,
                   capture_output=True, timeout=120)
    ds = pydicom.dcmread(target)
    assert ds.file_meta.TransferSyntaxUID == JPEGLosslessSV1
    assert ds.BitsStored == 12
    _check_high_bit(target)


def _multi_frame_high_bit(tmp_path: Path, frames_in_overlay: int | None, origin: int | None,
                          codec: str = "") -> tuple[Path, np.ndarray]:
    ds = pydicom.dcmread(data("emri_small.dcm"))     # 10 frames, 12 of 16 bits
    cells = ds.pixel_array.astype(np.uint16)
    planes = np.zeros(cells.shape, dtype=bool)
    for f in range(cells.shape[0]):
        planes[f, 5, 2:2 + 3 * (f + 1)] = True       # a bar whose length names the frame
    cells |= planes.astype(np.uint16) << 14
    ds.PixelData = cells.tobytes()
    ds.add_new((0x6000, 0x0010), "US", ds.Rows)
    ds.add_new((0x6000, 0x0011), "US", ds.Columns)
    ds.add_new((0x6000, 0x0040), "CS", "G")
    ds.add_new((0x6000, 0x0050), "SS", [1, 1])
    ds.add_new((0x6000, 0x0100), "US", 16)
    ds.add_new((0x6000, 0x0102), "US", 14)
    if frames_in_overlay is not None:
        ds.add_new((0x6000, 0x0015), "IS", frames_in_overlay)
    if origin is not None:
        ds.add_new((0x6000, 0x0051), "US", origin)
    if codec == "rle":
        ds.BitsStored, ds.HighBit = 16, 15
        ds.compress(RLELossless, pixel_array(ds))
        ds.BitsStored, ds.HighBit = 12, 11
    path = save(ds, tmp_path / "mf_highbit.dcm")
    if codec == "jpeg-lossless":
        target = tmp_path / "mf_highbit_jpegll.dcm"
        subprocess.run(["dcmcjpeg", "+e1", str(path), str(target)], check=True,
                       capture_output=True, timeout=120)
        assert pydicom.dcmread(target).file_meta.TransferSyntaxUID == JPEGLosslessSV1
        path = target
    return path, planes


@pytest.mark.parametrize("codec", [
    "", "rle",
    pytest.param("jpeg-lossless", marks=pytest.mark.skipif(
        shutil.which("dcmcjpeg") is None, reason="dcmtk dcmcjpeg not installed")),
])
def test_high_bit_overlay_frames(tmp_path, codec):
    path, planes = _multi_frame_high_bit(tmp_path, frames_in_overlay=3, origin=2, codec=codec)
    found = images(path)
    assert len(found) == 10 + 3
    overlay_images = found[10:]
    # Overlay frames are numbered within the overlay; ImageFrameOrigin 2 says that overlay
    # frame 0 lives in image frame 1.
    assert [i.frame for i in overlay_images] == [0, 1, 2]
    assert all(i.source == SOURCE_OVERLAY_FRAME and i.overlay == 0 for i in overlay_images)
    for image in overlay_images:
        assert np.array_equal(image.text_mask, planes[1 + image.frame])
    plain = images(data("emri_small.dcm"))
    for ours, original in zip(found[:10], plain):
        assert np.array_equal(ours.pixels, original.pixels)


def test_high_bit_overlay_in_every_frame_when_frame_count_absent(tmp_path):
    path, planes = _multi_frame_high_bit(tmp_path, frames_in_overlay=None, origin=None)
    found = images(path)
    assert len(found) == 20
    assert [i.frame for i in found[10:]] == list(range(10))
    for image in found[10:]:
        assert np.array_equal(image.text_mask, planes[image.frame])


# --- header facts ------------------------------------------------------------------------

def test_instance_info_from_real_file():
    ds = read_dataset(data("CT_small.dcm"))
    info = instance_info(ds, "some/name.dcm")
    assert info.filename == "some/name.dcm"
    assert info.imagetype == "ORIGINAL/PRIMARY/AXIAL"
    assert info.manufacturer == "RHAPSODE"
    assert info.sop_instance_uid == ds.SOPInstanceUID
    assert ("PatientName", "CompressedSamples^CT1") in info.identifiers
    assert ("PatientID", "1CT1") in info.identifiers
    assert ("InstitutionName", "JFK IMAGING CENTER") in info.identifiers
    assert ("StudyDate", "20040119") in info.identifiers


def test_instance_info_fallbacks_and_multi_values():
    ds = pydicom.dcmread(data("CT_small.dcm"))
    ds.ManufacturerModelName = ""
    ds.SoftwareVersions = ["05", "B2"]
    ds.OtherPatientIDs = ["OTHER1", "OTHER2"]
    item = pydicom.Dataset()
    item.PatientID = "SEQID9"
    ds.OtherPatientIDsSequence = [item]
    ds.BurnedInAnnotation = "YES"
    ds.OperatorsName = ["SMITH^JOHN", "DOE^JANE"]
    info = instance_info(ds, "x")
    assert info.manufacturer == "GE MEDICAL SYSTEMS 05\\B2"
    assert info.burnedinannotation == "YES"
    ids = info.identifiers
    assert ("OtherPatientIDs", "OTHER1") in ids and ("OtherPatientIDs", "OTHER2") in ids
    assert ("OtherPatientIDs", "SEQID9") in ids
    assert ("OperatorsName", "SMITH^JOHN") in ids and ("OperatorsName", "DOE^JANE") in ids
    assert all(value for _, value in ids)


@pytest.mark.skipif(shutil.which("dcmconv") is None, reason="dcmtk dcmconv not installed")
def test_big_endian_overlay_data_words_are_swapped(tmp_path):
    # dcmtk writes OW OverlayData byte-swapped in Explicit VR Big Endian, as PS3.5 requires.
    target = tmp_path / "overlay_big_endian.dcm"
    subprocess.run(["dcmconv", "+tb", data(OVERLAY_FILE), str(target)], check=True,
                   capture_output=True, timeout=120)
    ds = read_dataset(target)
    assert ds.file_meta.TransferSyntaxUID == pydicom.uid.ExplicitVRBigEndian
    found = list(iter_images(ds))
    assert len(found) == 2
    assert np.array_equal(found[1].text_mask, reference_overlay())
    assert np.array_equal(found[0].pixels, images(data(OVERLAY_FILE))[0].pixels)


def test_file_without_preamble_and_meta(tmp_path):
    ds = pydicom.dcmread(data("CT_small.dcm"))
    ds.preamble = None
    ds.file_meta = pydicom.dataset.FileMetaDataset()
    path = tmp_path / "nometa.dcm"
    ds.save_as(path, implicit_vr=True, little_endian=True, enforce_file_format=False)
    assert path.read_bytes()[128:132] != b"DICM"
    found = images(path)
    assert len(found) == 1
    assert np.array_equal(found[0].pixels, images(data("CT_small.dcm"))[0].pixels)


# --- bad input ----------------------------------------------------------------------------

def _reason(path: Path) -> str:
    with pytest.raises(DicomInputError) as caught:
        ds = read_dataset(path)
        list(iter_images(ds))
    message = str(caught.value)
    assert message and "\n" not in message and "Traceback" not in message
    return message


def test_not_dicom(tmp_path):
    text = tmp_path / "notes.txt"
    text.write_text("Patient: John Smith\n" * 20)
    assert "not a DICOM file" in _reason(text)
    png = tmp_path / "image.png"
    png.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(300))
    assert "not a DICOM file" in _reason(png)
    empty = tmp_path / "empty.dcm"
    empty.write_bytes(b"")
    assert "empty" in _reason(empty)


def test_truncated_files(tmp_path):
    whole = Path(data("CT_small.dcm")).read_bytes()
    in_pixels = tmp_path / "cut_pixels.dcm"
    in_pixels.write_bytes(whole[: len(whole) - 20000])
    assert "truncated" in _reason(in_pixels)
    in_header = tmp_path / "cut_header.dcm"
    in_header.write_bytes(whole[:700])
    reason = _reason(in_header)
    assert "truncated" in reason or "no pixel data" in reason
    assert "truncated" in _reason(Path(data("MR_truncated.dcm")))
    compressed = tmp_path / "cut_j2k.dcm"
    jpeg = Path(data("emri_small_jpeg_2k_lossless.dcm")).read_bytes()
    compressed.write_bytes(jpeg[: len(jpeg) - 3000])
    assert "truncated" in _reason(compressed)


def test_no_pixel_data(tmp_path):
    assert "no pixel data" in _reason(Path(data("rtplan.dcm")))
    ds = pydicom.dcmread(data("CT_small.dcm"))
    del ds.PixelData
    assert "no pixel data" in _reason(save(ds, tmp_path / "nopixels.dcm"))


def test_absurd_sizes_and_short_pixel_data(tmp_path):
    ds = pydicom.dcmread(data("CT_small.dcm"))
    absurd = copy.deepcopy(ds)
    absurd.Rows = absurd.Columns = 65535
    absurd.NumberOfFrames = 5000
    assert "absurd" in _reason(save(absurd, tmp_path / "absurd.dcm"))
    short = copy.deepcopy(ds)
    short.Rows = 256                                  # header says twice the data there is
    assert "shorter than declared" in _reason(save(short, tmp_path / "short.dcm"))
    missing = copy.deepcopy(ds)
    del missing.Rows
    assert "Rows" in _reason(save(missing, tmp_path / "norows.dcm"))


def test_damaged_elements(tmp_path):
    whole = Path(data("CT_small.dcm")).read_bytes()
    institution = b"\x08\x00\x80\x00LO"                # (0008,0080) InstitutionName, explicit LE
    assert whole.count(institution) == 1
    garbled = tmp_path / "garbled_description.dcm"
    garbled.write_bytes(whole.replace(institution, b"\x08\x00\x80\x00\x4c\xa1"))
    ds = read_dataset(garbled)                             # a damaged description is dropped
    assert "InstitutionName" not in ds
    assert len(list(iter_images(ds))) == 1
    rows = b"\x28\x00\x10\x00US"
    assert whole.count(rows) == 1
    bad_rows = tmp_path / "garbled_rows.dcm"
    bad_rows.write_bytes(whole.replace(rows, b"\x28\x00\x10\x00\x55\xee"))
    assert "corrupt element Rows" in _reason(bad_rows)


def test_undecodable_pixel_data(tmp_path):
    # Known-bad codestream shipped with pydicom: every plugin refuses it.
    assert "cannot decode frame 0" in _reason(Path(data("JPEG2000-embedded-sequence-delimiter.dcm")))
    ds = pydicom.dcmread(data("SC_rgb_jpeg_dcmtk.dcm"))
    ds.file_meta.TransferSyntaxUID = MPEG2MPML                 # a JPEG labelled MPEG-2 video:
    # read as the bare MPEG-2 stream it claims to be (dicom/video.py), which it is not.
    assert "cannot decode frame 0 (MPEG2 Main Profile" in _reason(save(ds, tmp_path / "mpeg.dcm"))
    ds.file_meta.TransferSyntaxUID = "1.2.3.4.5"               # not a transfer syntax at all
    assert "unsupported transfer syntax" in _reason(save(ds, tmp_path / "private.dcm"))


def test_undecodable_frames_still_yield_separate_overlays_then_raise(tmp_path):
    ds = pydicom.dcmread(data("JPEG2000-embedded-sequence-delimiter.dcm"))
    overlay = np.zeros((ds.Rows, ds.Columns), dtype=np.uint8)
    overlay[3, 3:30] = 1
    ds.add_new((0x6000, 0x0010), "US", ds.Rows)
    ds.add_new((0x6000, 0x0011), "US", ds.Columns)
    ds.add_new((0x6000, 0x0100), "US", 1)
    ds.add_new((0x6000, 0x0102), "US", 0)
    ds.add_new((0x6000, 0x3000), "OW", pack_bits(overlay.ravel()))
    produced = []
    with pytest.raises(DicomInputError, match="cannot decode"):
        for image in iter_images(read_dataset(save(ds, tmp_path / "bad_with_overlay.dcm"))):
            produced.append(image)
    assert [(i.frame, i.overlay) for i in produced] == [(0, 0)]
    assert produced[0].text_mask.sum() == 27


# --- the CSV numbering contract (README "CSV numbering") ------------------------------------

def _move_overlay(ds: pydicom.Dataset, source: int, target: int) -> None:
    """Move every element of overlay group `source` to group `target`."""
    for elem in [e for e in ds if e.tag.group == source]:
        ds.add_new((target, elem.tag.element), elem.VR, elem.value)
        del ds[elem.tag]


def test_overlay_number_is_its_group_lone_6002(tmp_path):
    """Only 6002 present: overlay 1, not 0 (the real overlay of the Siemens MR moved there)."""
    ds = pydicom.dcmread(data(OVERLAY_FILE))
    _move_overlay(ds, 0x6000, 0x6002)
    found = images(save(ds, tmp_path / "only6002.dcm"))
    assert [(i.frame, i.overlay) for i in found] == [(0, -1), (0, 1)]
    assert np.array_equal(found[1].text_mask, reference_overlay())


def test_overlay_number_is_its_group_6000_and_6004(tmp_path):
    ds = pydicom.dcmread(data(OVERLAY_FILE))
    for elem in [e for e in ds if e.tag.group == 0x6000]:
        ds.add_new((0x6004, elem.tag.element), elem.VR, elem.value)
    found = images(save(ds, tmp_path / "6000_6004.dcm"))
    assert [(i.frame, i.overlay) for i in found] == [(0, -1), (0, 0), (0, 2)]
    assert all(np.array_equal(i.text_mask, reference_overlay()) for i in found[1:])


@pytest.mark.parametrize("case, expected", [
    ("mr_overlay_6002", [(0, -1), (0, 1)]),
    ("mr_overlay_6000_6004", [(0, -1), (0, 0), (0, 2)]),
])
def test_sparse_overlay_groups_from_the_generator(tmp_path, case, expected):
    import dicomgen

    truth = dicomgen.build_case(case, tmp_path / f"{case}.dcm", seed=5)
    found = images(truth.path)
    assert [(i.frame, i.overlay) for i in found] == [i.key for i in truth.images] == expected
    ds = pydicom.dcmread(truth.path)
    for image in found[1:]:
        group = 0x6000 + 2 * image.overlay
        assert np.array_equal(image.text_mask, ds.overlay_array(group).astype(bool))


def test_separate_overlay_frames_are_numbered_within_the_overlay_origin_2(tmp_path):
    """NumberOfFramesInOverlay 3 with ImageFrameOrigin 2 on the real 10-frame emri_small:
    overlay frames 0, 1, 2 (they belong to image frames 1, 2, 3)."""
    ds = pydicom.dcmread(data("emri_small.dcm"))
    planes = np.zeros((3, ds.Rows, ds.Columns), dtype=np.uint8)
    for f in range(3):
        planes[f, 4, 2:2 + 4 * (f + 1)] = 1
    for element, vr, value in ((0x0010, "US", ds.Rows), (0x0011, "US", ds.Columns),
                               (0x0015, "IS", 3), (0x0051, "US", 2), (0x0040, "CS", "G"),
                               (0x0050, "SS", [1, 1]), (0x0100, "US", 1), (0x0102, "US", 0),
                               (0x3000, "OW", pack_bits(planes.ravel()))):
        ds.add_new((0x6000, element), vr, value)
    found = images(save(ds, tmp_path / "origin2.dcm"))
    assert [(i.frame, i.overlay) for i in found[:10]] == [(f, -1) for f in range(10)]
    overlay_frames = found[10:]
    assert [(i.frame, i.overlay, i.source) for i in overlay_frames] == [
        (0, 0, SOURCE_OVERLAY_FRAME), (1, 0, SOURCE_OVERLAY_FRAME), (2, 0, SOURCE_OVERLAY_FRAME)]
    for image in overlay_frames:
        assert np.array_equal(image.text_mask, planes[image.frame].astype(bool))


def test_generator_overlay_with_image_frame_origin_2(tmp_path):
    import dicomgen

    truth = dicomgen.build_case("xa_overlay_origin2", tmp_path / "o2.dcm", seed=1)
    ds = pydicom.dcmread(truth.path)
    assert int(ds[0x6000, 0x0051].value) == 2
    found = images(truth.path)
    assert [(i.frame, i.overlay) for i in found] == [i.key for i in truth.images]
    n = int(ds[0x6000, 0x0015].value)
    assert [i.frame for i in found if i.overlay == 0] == list(range(n))


def test_imagetype_joins_values_with_slash_keeping_empty_ones():
    info = instance_info(read_dataset(data(OVERLAY_FILE)), "x")
    # Stored as DERIVED\SECONDARY\MPR\CSA MPR\\CSAPARALLEL\M\ND\NORM (an empty 5th value).
    assert info.imagetype == "DERIVED/SECONDARY/MPR/CSA MPR//CSAPARALLEL/M/ND/NORM"


def test_manufacturer_falls_back_to_the_secondary_capture_device():
    ds = pydicom.dcmread(data("CT_small.dcm"))
    ds.ManufacturerModelName = ""
    ds.Manufacturer = ""
    del ds.SoftwareVersions
    assert instance_info(ds, "x").manufacturer == ""
    ds.SecondaryCaptureDeviceManufacturer = "ACME"
    ds.SecondaryCaptureDeviceSoftwareVersions = ["2.1", "b"]
    assert instance_info(ds, "x").manufacturer == "ACME 2.1\\b"
    ds.SecondaryCaptureDeviceManufacturerModelName = "GRABBER 9"
    assert instance_info(ds, "x").manufacturer == "GRABBER 9"
    ds.Manufacturer = "GE MEDICAL SYSTEMS"        # the device's own fields come first
    assert instance_info(ds, "x").manufacturer == "GE MEDICAL SYSTEMS"
    ds.ManufacturerModelName = "RHAPSODE"
    assert instance_info(ds, "x").manufacturer == "RHAPSODE"


# --- the legacy embedded form: OverlayBitsAllocated 1, no OverlayData ------------------------

def test_legacy_overlay_declared_one_bit_is_read_from_the_high_bits(tmp_path):
    """The real Siemens overlay in bit 15, declared OverlayBitsAllocated 1 (the form GE XA
    files use): read from PixelData, not skipped."""
    path = high_bit_overlay_file(tmp_path)
    ds = pydicom.dcmread(path)
    ds[0x6000, 0x0100].value = 1
    _check_high_bit(save(ds, tmp_path / "legacy.dcm"))


def test_legacy_overlay_at_a_stored_bit_is_still_skipped(tmp_path, caplog):
    ds = pydicom.dcmread(high_bit_overlay_file(tmp_path))
    ds[0x6000, 0x0100].value = 1
    ds[0x6000, 0x0102].value = 3                      # inside the 12 stored bits: not an overlay
    found = images(save(ds, tmp_path / "legacy_bad.dcm"))
    assert [(i.frame, i.overlay) for i in found] == [(0, -1)]
    assert "not among the unused bits 12-15" in caplog.text


@pytest.mark.parametrize("case", [
    "xa_legacy_overlays",
    pytest.param("xa_legacy_overlays_jpeg_lossless", marks=pytest.mark.skipif(
        shutil.which("dcmcjpeg") is None, reason="dcmtk dcmcjpeg not installed")),
])
def test_legacy_overlays_from_the_generator(tmp_path, case):
    import dicomgen

    truth = dicomgen.build_case(case, tmp_path / f"{case}.dcm", seed=4)
    ds = pydicom.dcmread(truth.path)
    assert (ds.BitsAllocated, ds.BitsStored) == (16, 8)
    groups = sorted({t.group for t in ds.keys() if 0x6000 <= t.group <= 0x601E})
    assert len(groups) == 4
    for group in groups:
        assert ds[group, 0x0100].value == 1 and (group, 0x3000) not in ds
        assert ds[group, 0x0102].value == 8 + (group - 0x6000) // 2
    found = images(truth.path)
    assert [(i.frame, i.overlay) for i in found] == [i.key for i in truth.images]
    for image, expected in zip(found[1:], truth.images[1:]):
        mask = image.text_mask if image.text_mask is not None else np.zeros((512, 512), bool)
        inside = np.zeros_like(mask)
        for word in expected.words:
            inside[word.top:word.bottom, word.left:word.right] = True
            assert mask[word.top:word.bottom, word.left:word.right].any(), word.text
        assert not (mask & ~inside).any()
    assert any(w.pii for w in truth.images[3].words)         # group 6004 holds name, ID, dates
    # The frame shows the 8 stored bits only.
    assert found[0].pixels.shape == (512, 512)


# --- pydicom's public pixel helpers against our own layout ----------------------------------

@pytest.mark.parametrize("name", ["CT_small.dcm", "MR_small.dcm", "US1_UNCR.dcm", "emri_small.dcm",
                                  "SC_rgb_2frame.dcm", "rtdose.dcm"])
def test_layout_agrees_with_pydicom_expected_length_and_frames(name):
    """reading.pixel_layout validates NumberOfFrames and the native data length itself
    (it needs its own errors); for whole-byte native data it must agree with pydicom's public
    get_nr_frames and get_expected_length, or this fails loudly when pydicom changes."""
    from pydicom.pixels.utils import get_expected_length, get_nr_frames
    from scp_scanner.dicom.reading import pixel_layout
    ds = pydicom.dcmread(get_testdata_file(name))
    layout = pixel_layout(ds)
    assert layout is not None and layout.bits_allocated >= 8
    assert layout.frames == get_nr_frames(ds, warn=False)
    assert layout.frame_bytes * layout.frames == get_expected_length(ds, "bytes")


def test_layout_of_one_bit_frames_rounds_each_frame():
    """Where the two differ: for BitsAllocated 1 pydicom packs all frames in one bit stream
    (3 frames of 5x5 = 75 bits -> 10 bytes) while PixelLayout.frame_bytes rounds each frame
    up to whole bytes (4 bytes a frame), so the native length check asks for 12 bytes."""
    from pydicom.dataset import Dataset, FileMetaDataset
    from pydicom.pixels.utils import get_expected_length
    from pydicom.uid import ExplicitVRLittleEndian
    from scp_scanner.dicom.reading import pixel_layout
    ds = Dataset()
    ds.file_meta = FileMetaDataset()
    ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
    ds.Rows, ds.Columns, ds.NumberOfFrames = 5, 5, 3
    ds.SamplesPerPixel, ds.PhotometricInterpretation = 1, "MONOCHROME2"
    ds.BitsAllocated, ds.BitsStored, ds.HighBit, ds.PixelRepresentation = 1, 1, 0, 0
    ds.PixelData = bytes(12)
    layout = pixel_layout(ds)
    assert (layout.frame_bytes, layout.frames) == (4, 3)
    assert get_expected_length(ds, "bytes") == 10
