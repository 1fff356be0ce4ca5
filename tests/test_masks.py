"""scp_scanner/masks.py gives scipy.ndimage's answers (label, find_objects, binary_dilation)
on OpenCV, exactly: the same numbering, the same boxes in the same order, the same pixels."""
from __future__ import annotations

import numpy as np
import pytest
from scipy import ndimage

from scp_scanner import masks

STRUCTURES = {4: None, 8: np.ones((3, 3), bool)}


def random_masks():
    rng = np.random.default_rng(11)
    for shape, density in (((37, 53), 0.3), ((64, 64), 0.55), ((120, 7), 0.5), ((1, 40), 0.5),
                           ((200, 300), 0.08), ((90, 160), 0.45)):
        yield rng.random(shape) < density
    # Glyph-like strokes: rows offset so OpenCV's two-rows-at-a-time scan meets components
    # in another order than a raster scan.
    strokes = np.zeros((40, 60), bool)
    strokes[1, 30:40] = True
    strokes[0, 45:50] = True
    strokes[2:9, 5] = True
    strokes[3, 2:9] = True
    strokes[21, 0:3] = True
    strokes[20, 10:12] = True
    yield strokes


@pytest.mark.parametrize("connectivity", [4, 8])
def test_label_numbers_and_boxes_as_ndimage(connectivity):
    for mask in random_masks():
        expected, count = ndimage.label(mask, structure=STRUCTURES[connectivity])
        labels, n, boxes = masks.label_with_boxes(mask, connectivity)
        assert n == count and np.array_equal(labels, expected)
        objects = ndimage.find_objects(expected)
        assert boxes.tolist() == [[s[0].start, s[1].start, s[0].stop, s[1].stop] for s in objects]
        # Unordered: the same partition into components, boxes in OpenCV's order.
        loose, n, loose_boxes = masks.label_with_boxes(mask, connectivity, ordered=False)
        assert n == count
        pairs = set(zip(expected[mask].tolist(), loose[mask].tolist()))
        assert len(pairs) == count and len({b for _, b in pairs}) == count
        assert sorted(map(tuple, loose_boxes.tolist())) == sorted(map(tuple, boxes.tolist()))
        assert sorted(map(tuple, masks.component_boxes(mask, connectivity).tolist())) == \
            sorted(map(tuple, boxes.tolist()))
        # label without statistics (OpenCV's plain labelling): the same partition too.
        plain, n = masks.label(mask, connectivity, ordered=False)
        pairs = set(zip(expected[mask].tolist(), plain[mask].tolist()))
        assert n == count and len(pairs) == count and len({b for _, b in pairs}) == count
        assert not plain[~mask].any()


@pytest.mark.parametrize("connectivity", [4, 8])
def test_label_renumbers_where_opencv_numbers_otherwise(connectivity):
    """OpenCV's 8-connected labelling (block-based, two rows at a time) numbers most small
    random masks otherwise than ndimage (101 of these 150; its 4-connected labelling, none):
    those are renumbered, and every one then equals ndimage's."""
    rng = np.random.default_rng(0)
    renumbered = 0
    for _ in range(150):
        mask = rng.random((int(rng.integers(1, 60)), int(rng.integers(1, 60)))) < rng.uniform(0.05, 0.6)
        expected, count = ndimage.label(mask, structure=STRUCTURES[connectivity])
        labels, n = masks.label(mask, connectivity)
        assert n == count and np.array_equal(labels, expected)
        renumbered += not np.array_equal(masks.label(mask, connectivity, ordered=False)[0], expected)
    assert renumbered > 100 if connectivity == 8 else renumbered == 0


def test_label_of_nothing_and_of_everything():
    empty = np.zeros((5, 6), bool)
    labels, count = masks.label(empty)
    assert count == 0 and not labels.any()
    full = np.ones((5, 6), bool)
    labels, count, boxes = masks.label_with_boxes(full, 8)
    assert count == 1 and (labels == 1).all() and boxes.tolist() == [[0, 0, 5, 6]]
    assert masks.component_boxes(np.zeros((0, 4), bool)).shape == (0, 4)


def test_many_components_fall_back_to_32_bit_labels():
    mask = np.zeros((600, 600), bool)
    mask[::2, ::2] = True                       # 90,000 single-pixel components
    labels, count = masks.label(mask)
    expected, n = ndimage.label(mask)
    assert count == n == 90000 and np.array_equal(labels, expected)
    plain, count = masks.label(mask, ordered=False)
    assert count == 90000 and plain.dtype == np.int32 and (plain[::2, ::2] > 0).all()
    assert len(np.unique(plain[::2, ::2])) == 90000


@pytest.mark.parametrize("size,iterations", [(3, 1), (3, 2), (5, 1), (7, 3)])
def test_dilate_as_binary_dilation(size, iterations):
    for mask in random_masks():
        sparse = mask & (np.random.default_rng(3).random(mask.shape) < 0.05)
        expected = ndimage.binary_dilation(sparse, np.ones((size, size), bool), iterations=iterations)
        got = masks.dilate(sparse, size, iterations)
        assert got.dtype == bool and np.array_equal(got, expected)
