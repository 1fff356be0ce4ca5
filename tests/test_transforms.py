"""Pixel transforms on tiny hand-made arrays: bits, sign, rescale, window, masks, palette."""
from __future__ import annotations

import numpy as np
import pydicom
import pytest
from pydicom.dataset import Dataset, FileMetaDataset
from pydicom.uid import ExplicitVRLittleEndian

from scp_scanner.dicom.display import Display
from scp_scanner.dicom.reading import PixelLayout
from scp_scanner.dicom.transforms import (BULK_BOTTOM, BULK_TOP, bit_plane, extreme_masks,
                                          grey_text_mask, keep_stored_bits, lut_output_to_uint8,
                                          native_order, overlay_to_uint8, rescale, rgb_text_mask,
                                          rgb_to_uint8, unpack_overlay_bits, window_grey)


def _bulk_with_extremes(size: int = 40, seed: int = 1) -> np.ndarray:
    """A frame of 'anatomy' in 100..200 with a 2x6 'text' block at the top value 4095 and
    a 2x5 block at the bottom value -2000 (each well under 15 % of the frame)."""
    rng = np.random.default_rng(seed)
    frame = rng.integers(100, 201, size=(size, size)).astype(np.int16)
    frame[1:3, 1:7] = 4095
    frame[10:12, 1:6] = -2000
    return frame


class TestStoredBits:
    def test_signed_12_in_16_negative_values_sign_extend(self):
        # 12-bit two's complement in 16-bit cells, upper 4 bits NOT sign-extended, one with an
        # overlay bit (15) set: -1, -2048, 2047, 1.
        cells = np.array([0x0FFF, 0x0800, 0x07FF, 0x8001], dtype=np.uint16).view(np.int16)
        out = keep_stored_bits(cells, 12, signed=True)
        assert out.tolist() == [-1, -2048, 2047, 1]

    def test_signed_masking_would_turn_negatives_bright(self):
        # The wrong way (masking with 0x0FFF) gives 4095 for -1; ours gives -1, the darkest.
        cells = np.array([0x0FFF, 0x0005], dtype=np.uint16).view(np.int16)
        assert (cells.view(np.uint16) & 0x0FFF).tolist() == [4095, 5]
        assert keep_stored_bits(cells, 12, signed=True).tolist() == [-1, 5]

    def test_unsigned_drops_high_bits(self):
        cells = np.array([0xF123, 0x8FFF, 0x0001], dtype=np.uint16)
        assert keep_stored_bits(cells, 12, signed=False).tolist() == [0x123, 0xFFF, 1]

    def test_full_width_and_float_pass_through(self):
        cells = np.array([-5, 7], dtype=np.int16)
        assert keep_stored_bits(cells, 16, signed=True) is cells
        floats = np.array([1.5, -2.0], dtype=np.float32)
        assert keep_stored_bits(floats, 12, signed=True) is floats

    def test_big_endian_cells(self):
        cells = np.array([0x8001, 0x0FFF], dtype=">u2")
        assert keep_stored_bits(cells, 12, signed=False).tolist() == [1, 0xFFF]
        assert native_order(cells).dtype.isnative

    def test_bit_plane_reads_sign_bit_of_signed_cells(self):
        cells = np.array([[-1, 5], [0x4000, -32768]], dtype=np.int16)
        assert bit_plane(cells, 15).tolist() == [[True, False], [False, True]]
        assert bit_plane(cells, 14).tolist() == [[True, False], [True, False]]
        assert not bit_plane(cells.astype(np.uint8), 15).any()   # beyond the cell


class TestOverlayBits:
    def test_lsb_first_packing(self):
        planes = unpack_overlay_bits(bytes([0b00000101]), 1, 8)
        assert planes.shape == (1, 1, 8)
        assert planes[0, 0].tolist() == [True, False, True, False, False, False, False, False]

    def test_frames_continue_in_one_bit_stream(self):
        # Two 2x2 frames in one byte: frame 0 = low nibble, frame 1 = high nibble.
        planes = unpack_overlay_bits(bytes([0b11110000]), 2, 2, frames=2)
        assert not planes[0].any()
        assert planes[1].all()

    def test_short_data_padded_with_blank(self):
        planes = unpack_overlay_bits(bytes([0xFF]), 4, 4)
        assert planes.reshape(-1)[:8].all() and not planes.reshape(-1)[8:].any()

    def test_pydicom_unpack_bits_is_lsb_first(self):
        """unpack_overlay_bits relies on pydicom.pixels.utils.unpack_bits giving one 0/1 per
        bit, bit 0 of byte 0 first (PS3.5 8.1.1): this fails loudly if pydicom changes that."""
        from pydicom.pixels.utils import unpack_bits
        data = np.random.default_rng(7).integers(0, 256, 37, dtype=np.uint8).tobytes()
        expected = [(byte >> bit) & 1 for byte in data for bit in range(8)]
        assert np.asarray(unpack_bits(data)).tolist() == expected
        planes = unpack_overlay_bits(data, 6, 7, frames=7)          # 294 of the 296 bits
        assert planes.reshape(-1).astype(int).tolist() == expected[:294]

    def test_overlay_to_uint8_is_white_on_black(self):
        plane = np.array([[True, False]])
        assert overlay_to_uint8(plane).tolist() == [[255, 0]]
        assert overlay_to_uint8(plane).dtype == np.uint8


class TestRescaleAndWindow:
    def test_rescale_is_float(self):
        out = rescale(np.array([1, 2], dtype=np.uint16), 2.0, -1024.0)
        assert out.dtype == np.float32
        assert out.tolist() == [-1022.0, -1020.0]

    def test_extremes_map_to_255_and_0_and_bulk_keeps_headroom(self):
        frame = _bulk_with_extremes()
        out, mask = window_grey(frame)
        assert out.dtype == np.uint8
        assert (out[1:3, 1:7] == 255).all()
        assert (out[10:12, 1:6] == 0).all()
        bulk = np.ones(frame.shape, dtype=bool)
        bulk[1:3, 1:7] = False
        bulk[10:12, 1:6] = False
        assert out[bulk].min() >= BULK_BOTTOM and out[bulk].max() <= BULK_TOP
        # The bulk keeps its contrast (not crushed into a few levels by the extremes).
        assert out[bulk].max() - out[bulk].min() > 120
        assert mask is not None and mask.sum() == 12 + 10

    def test_negative_values_stay_darker_than_positive(self):
        frame = np.tile(np.arange(-1000, 1000, 10, dtype=np.int16), (20, 1))
        out, _ = window_grey(frame)
        assert (np.diff(out[0].astype(int)) >= 0).all()
        assert out[0, 0] < out[0, -1]

    def test_rescale_slope_and_intercept_do_not_change_a_data_window(self):
        frame = _bulk_with_extremes()
        plain, _ = window_grey(frame)
        scaled, _ = window_grey(frame, slope=2.5, intercept=-1024.0)
        assert np.abs(plain.astype(int) - scaled.astype(int)).max() <= 1

    def test_negative_slope_swaps_bright_and_dark(self):
        frame = _bulk_with_extremes()
        out, _ = window_grey(frame, slope=-1.0)
        assert (out[1:3, 1:7] == 0).all()
        assert (out[10:12, 1:6] == 255).all()

    def test_monochrome1_inverts(self):
        frame = _bulk_with_extremes()
        normal, _ = window_grey(frame)
        inverted, mask = window_grey(frame, monochrome1=True)
        assert (inverted == 255 - normal).all()
        assert (inverted[1:3, 1:7] == 0).all()
        assert mask is not None

    def test_constant_frame(self):
        out, mask = window_grey(np.full((4, 4), 77, dtype=np.uint16))
        assert (out == 0).all() and mask is None

    def test_one_bit_frame(self):
        frame = np.zeros((10, 10), dtype=np.uint8)
        frame[2, :] = 1
        out, mask = window_grey(frame)
        assert set(np.unique(out).tolist()) == {0, 255}
        assert mask is not None and mask.sum() == 10

    def test_float_frame(self):
        frame = np.linspace(-1.0, 1.0, 100, dtype=np.float32).reshape(10, 10)
        frame[0, 0] = 9.0
        out, _ = window_grey(frame)
        assert out[0, 0] == 255 and out[9, 9] > out[5, 5] > out[1, 1]


class TestMaskFractions:
    def test_small_extreme_is_text(self):
        frame = np.zeros((20, 20), dtype=np.uint16)
        frame[:, :10] = 100
        frame[0, :12] = 4095                     # 3 % at the max
        high, low = extreme_masks(frame)
        assert high is not None and high.sum() == 12
        assert low is None                       # the minimum covers 47 %

    def test_lone_hot_pixel_is_not_text(self):
        frame = np.zeros((20, 20), dtype=np.uint16)
        frame[:, :10] = 100
        frame[5, 5] = 4095
        assert extreme_masks(frame)[0] is None

    def test_large_extreme_is_not_text(self):
        frame = np.zeros((10, 10), dtype=np.uint16)
        frame[:2, :] = 4095                      # 20 % at the max
        frame[5, 5] = 7
        assert grey_text_mask(frame) is None

    def test_min_and_max_both_small(self):
        frame = np.full((20, 20), 50, dtype=np.int16)
        frame[0, :12] = 1000
        frame[19, :10] = -1000
        mask = grey_text_mask(frame)
        assert mask is not None and mask.sum() == 22

    def test_rgb_white_text(self):
        rgb = np.zeros((20, 20, 3), dtype=np.uint8)
        rgb[5:15, 5:15] = (90, 60, 40)           # a brownish 'picture'
        rgb[1, 1:13] = (250, 250, 250)
        mask = rgb_text_mask(rgb)
        assert mask is not None and mask.sum() == 12 and mask[1, 1:13].all()

    def test_rgb_light_grey_text_after_lossy_compression(self):
        rgb = np.zeros((20, 20, 3), dtype=np.uint8)
        rgb[1, 1:13] = (214, 210, 218)
        mask = rgb_text_mask(rgb)
        assert mask is not None and mask[1, 1:13].all()

    def test_rgb_saturated_colour_text(self):
        rgb = np.full((20, 20, 3), 30, dtype=np.uint8)
        rgb[3, 2:12] = (0, 255, 0)               # green annotation
        mask = rgb_text_mask(rgb)
        assert mask is not None and mask.sum() == 10

    def test_rgb_mask_of_a_strided_view_equals_that_of_its_copy(self):
        rgb = np.zeros((40, 40, 3), dtype=np.uint8)
        rgb[2, 2:30] = (250, 250, 250)
        rgb[10, 4:24] = (255, 255, 0)            # yellow annotation
        view = rgb[::2, ::2]                     # not contiguous
        mask = rgb_text_mask(view)
        assert mask is not None and np.array_equal(mask, rgb_text_mask(view.copy()))
        assert mask.sum() == 14 + 10

    def test_rgb_large_white_area_is_not_text(self):
        rgb = np.zeros((10, 10, 3), dtype=np.uint8)
        rgb[:5] = 255                            # 50 %
        assert rgb_text_mask(rgb) is None


class TestColour:
    def test_16_bit_rgb_scales_to_8_bit(self):
        rgb = np.array([[[65535, 0, 32768]]], dtype=np.uint16)
        assert rgb_to_uint8(rgb, 16).tolist() == [[[255, 0, 128]]]
        assert rgb_to_uint8(np.array([[[4095, 0, 0]]], dtype=np.uint16), 12).tolist() == [[[255, 0, 0]]]

    def test_lut_output(self):
        assert lut_output_to_uint8(np.array([65280, 256, 0], dtype=np.uint16)).tolist() == [255, 1, 0]
        # 16-bit entries that only hold 8-bit values are kept as they are.
        assert lut_output_to_uint8(np.array([255, 7], dtype=np.uint16)).tolist() == [255, 7]

    def test_palette_colour_through_pydicom_lut(self):
        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        ds.PhotometricInterpretation = "PALETTE COLOR"
        ds.SamplesPerPixel = 1
        ds.BitsAllocated = 8
        ds.BitsStored = 8
        ds.Rows, ds.Columns = 2, 2
        ds.PixelRepresentation = 0
        # 4-entry 16-bit LUTs: 0 black, 1 red, 2 green, 3 white.
        for colour, entries in (("Red", [0, 65535, 0, 65535]), ("Green", [0, 0, 65535, 65535]),
                                ("Blue", [0, 0, 0, 65535])):
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [4, 0, 16])
            setattr(ds, f"{colour}PaletteColorLookupTableData",
                    np.array(entries, dtype="<u2").tobytes())
        layout = PixelLayout("PixelData", pydicom.uid.UID(ExplicitVRLittleEndian), 2, 2, 1, 1,
                             8, 8, False, "PALETTE COLOR")
        pixels, mask = Display(layout).render(np.array([[0, 1], [2, 3]], dtype=np.uint8), ds)
        assert pixels.dtype == np.uint8 and pixels.shape == (2, 2, 3)
        assert pixels.tolist() == [[[0, 0, 0], [255, 0, 0]], [[0, 255, 0], [255, 255, 255]]]

    @pytest.mark.parametrize("first_map, bits", [(0, 8), (5, 8), (-3, 16), (100, 16)])
    def test_palette_table_maps_as_pydicom_does(self, first_map, bits):
        """The table built once per instance gives apply_color_lut's answer for every index,
        below the first mapped value and past the LUT's end included (hand-made 8-bit LUT of
        200 entries)."""
        from pydicom.pixels import apply_color_lut

        ds = Dataset()
        ds.file_meta = FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = ExplicitVRLittleEndian
        rng = np.random.default_rng(first_map + bits)
        for colour in ("Red", "Green", "Blue"):
            setattr(ds, f"{colour}PaletteColorLookupTableDescriptor", [200, first_map, 8])
            setattr(ds, f"{colour}PaletteColorLookupTableData",
                    rng.integers(0, 256, 200, dtype=np.uint8).tobytes())
        layout = PixelLayout("PixelData", pydicom.uid.UID(ExplicitVRLittleEndian), 1, 1, 1, 1,
                             bits, bits, False, "PALETTE COLOR")
        display = Display(layout)
        dtype = np.uint8 if bits == 8 else np.uint16
        indices = rng.integers(0, 1 << bits, (40, 50), dtype=dtype)
        indices[0, :6] = [0, 1, 199, 200, 201, (1 << bits) - 1]
        assert np.array_equal(display.palette_colours(indices, ds), apply_color_lut(indices, ds))
        table = display._tables[indices.dtype]
        assert np.array_equal(display.palette_colours(indices[::-1], ds), apply_color_lut(indices[::-1], ds))
        assert display._tables[indices.dtype] is table      # built once for the instance

    @pytest.mark.parametrize("name", ["gdcm-US-ALOKA-16.dcm", "OBXXXX1A.dcm", "examples_palette.dcm"])
    def test_real_palette_frames_render_as_pydicom_maps_them(self, name):
        """Real palette files (a 16-bit segmented LUT, 8-bit LUTs): frames rendered through the
        instance's table are the bytes of pydicom's LUT applied to each frame."""
        from pydicom.data import get_testdata_file
        from pydicom.pixels import apply_color_lut

        from scp_scanner.dicom import read_dataset
        from scp_scanner.dicom.instance import iter_images
        from scp_scanner.dicom.reading import pixel_layout

        path = get_testdata_file(name, download=False)
        if path is None:
            pytest.skip("pydicom-data is not installed (make test installs it)")
        ds = read_dataset(path)
        frames = [image.pixels for image in iter_images(ds, overlays=False)]
        layout = pixel_layout(ds)
        indices = keep_stored_bits(ds.pixel_array, layout.bits_stored, False)
        assert len(frames) == 1
        assert np.array_equal(frames[0], lut_output_to_uint8(apply_color_lut(indices, ds)))


@pytest.mark.parametrize("bits", [8, 16, 32])
def test_unsigned_full_range_windows_to_full_output(bits):
    dtype = {8: np.uint8, 16: np.uint16, 32: np.uint32}[bits]
    frame = np.tile(np.linspace(0, 2 ** bits - 1, 50).astype(dtype), (50, 1))
    out, _ = window_grey(keep_stored_bits(frame, bits, signed=False))
    assert out.min() == 0 and out.max() == 255


def _window_per_pixel(stored, slope, intercept, monochrome1):
    """The window worked out pixel by pixel in float32 (as window_grey did before it used a
    table for 8- and 16-bit integers): the table must give these bytes exactly."""
    from scp_scanner.dicom.transforms import TRANSFORMS, rescale

    high, low = extreme_masks(stored)
    values = rescale(stored, slope, intercept)
    if slope < 0:
        high, low = low, high
    masks = [m for m in (high, low) if m is not None]
    text = (masks[0] | masks[1]) if len(masks) == 2 else (masks[0] if masks else None)
    bulk = values[~text] if text is not None else values.ravel()
    out_low = TRANSFORMS.bulk_bottom if low is not None else 0
    out_high = TRANSFORMS.bulk_top if high is not None else 255
    out = np.zeros(values.shape, np.uint8)
    if bulk.size:
        sample = bulk[::max(1, bulk.size // TRANSFORMS.percentile_samples)]
        lo, hi = np.percentile(sample, [TRANSFORMS.bulk_low_percentile, TRANSFORMS.bulk_high_percentile])
        if hi <= lo:
            lo, hi = float(sample.min()), float(sample.max())
        if hi > lo:
            scaled = (values - np.float32(lo)) * np.float32((out_high - out_low) / (hi - lo))
            scaled += np.float32(out_low)
            np.clip(scaled, out_low, out_high, out=scaled)
            out = (scaled + np.float32(0.5)).astype(np.uint8)
        else:
            out[...] = out_low
    if high is not None:
        out[high] = 255
    if low is not None:
        out[low] = 0
    return np.uint8(255) - out if monochrome1 else out


@pytest.mark.parametrize("dtype, low, high, text", [
    (np.uint16, 100, 3000, 4095), (np.int16, -1000, 2000, 3000), (np.int16, -32768, 32767, 32767),
    (np.uint8, 0, 200, 255), (np.int8, -100, 100, 127), (np.uint16, 0, 65535, 65535)])
@pytest.mark.parametrize("shape", [(61, 67), (700, 1100), (2, 90, 70)])
def test_the_window_table_gives_the_bytes_of_the_per_pixel_window(dtype, low, high, text, shape):
    """Integers of 16 bits or fewer are windowed through a table of their values (no float32
    copy of the frame); every byte equals the per-pixel float32 window's, with and without
    text at the extreme value, slopes of either sign, MONOCHROME1, a view that is not
    contiguous. (700x1100: more pixels than the bulk sample, so sampling is exercised.)"""
    rng = np.random.default_rng(abs(low) + len(shape))
    stored = rng.integers(low, high, shape, endpoint=True).astype(dtype)
    for share in (0.0, 0.01):
        stored[rng.random(shape) < share] = text
        for slope, intercept, mono in ((1.0, 0.0, False), (2.5, -1024.0, True), (-1.0, 0.0, False)):
            got, mask = window_grey(stored.copy(), slope, intercept, mono)
            assert got.tobytes() == _window_per_pixel(stored, slope, intercept, mono).tobytes()
    view = stored[..., ::3]
    assert window_grey(view)[0].tobytes() == _window_per_pixel(view, 1.0, 0.0, False).tobytes()


@pytest.mark.parametrize("signed", [False, True])
def test_stored_bits_dropped_in_place_only_in_an_array_the_caller_owns(signed):
    cells = np.array([0x1FFF, 0xF123, 0x0800, 5], dtype=np.uint16)
    expected = keep_stored_bits(cells, 12, signed)
    owned = cells.copy()
    out = keep_stored_bits(owned, 12, signed, in_place=True)
    assert out.tolist() == expected.tolist() and np.shares_memory(out, owned)
    # A view of someone else's memory (the dataset's bytes) is never written.
    buffer = bytearray(cells.tobytes())
    view = np.frombuffer(buffer, dtype=np.uint16)
    out = keep_stored_bits(view, 12, signed, in_place=True)
    assert out.tolist() == expected.tolist() and bytes(buffer) == cells.tobytes()


def test_ybr_to_rgb_swaps_cb_and_cr_for_opencv_exactly() -> None:
    import cv2

    from scp_scanner.dicom.frames import _ybr_to_rgb

    rng = np.random.default_rng(3)
    frame = rng.integers(0, 256, (37, 53, 3), dtype=np.uint8)
    expected = cv2.cvtColor(np.ascontiguousarray(frame[..., (0, 2, 1)]), cv2.COLOR_YCrCb2RGB)
    assert np.array_equal(_ybr_to_rgb(frame), expected)
    view = frame[::2, 1:]                        # a frame that is not contiguous
    assert np.array_equal(_ybr_to_rgb(view),
                          cv2.cvtColor(np.ascontiguousarray(view[..., (0, 2, 1)]), cv2.COLOR_YCrCb2RGB))
    grey = np.full((4, 4, 3), 128, np.uint8)     # Cb = Cr = 128: neutral
    assert np.array_equal(_ybr_to_rgb(grey), grey)
