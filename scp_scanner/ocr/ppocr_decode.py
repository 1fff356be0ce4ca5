"""What PP-OCR's two models' outputs mean: text boxes from the detector's probability map
(DB post-processing) and text from the recogniser's per-step class probabilities (greedy CTC).

These follow PaddleOCR's published post-processing, as RapidOCR applies it, step for step, so
the boxes and texts are the same as RapidOCR's own `DBPostProcess` and `CTCLabelDecode` give
(tests/test_ppocr_decode.py compares them on real model outputs). They live here rather than
being imported because RapidOCR's modules sit in packages whose import loads its whole
pipeline (configuration, model resolver, download helpers and their HTTP client): 0.6 s at
every process start, for two functions of a few lines.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Sequence

import numpy as np

MAX_CANDIDATES = 1000       # contours looked at per map
MIN_SIDE = 3                # a box's short side before unclipping must reach this
DILATION = np.ones((2, 2), np.uint8)


@dataclass(frozen=True)
class DbSettings:
    """thresh: a pixel is text above this probability; box_thresh: a box is kept when its
    mean probability reaches this; unclip_ratio: how far a box grows back (the model
    predicts shrunk text regions)."""

    thresh: float = 0.3
    box_thresh: float = 0.5
    unclip_ratio: float = 1.6


def db_boxes(prob: np.ndarray, settings: DbSettings) -> list[np.ndarray]:
    """Quadrilaterals (4x2 float32: top-left, top-right, bottom-right, bottom-left) of the text
    in one probability map (H x W, the detector's input size), in that map's pixels."""
    import cv2

    height, width = prob.shape
    mask = cv2.dilate((prob > settings.thresh).astype(np.uint8), DILATION)
    contours, _ = cv2.findContours(mask * 255, cv2.RETR_LIST, cv2.CHAIN_APPROX_SIMPLE)
    quads = []
    for contour in contours[:MAX_CANDIDATES]:
        points, short = _min_box(contour)
        if short < MIN_SIDE:
            continue
        if _mean_inside(prob, points) < settings.box_thresh:
            continue
        points, short = _min_box(_unclip(points, settings.unclip_ratio))
        if short < MIN_SIDE + 2:
            continue
        # RapidOCR maps the map's pixels to the input's (the same size here) by x / w * w,
        # which is x give or take a rounding step: done the same way, halves round alike.
        points[:, 0] = np.clip(np.round(points[:, 0] / width * width), 0, width)
        points[:, 1] = np.clip(np.round(points[:, 1] / height * height), 0, height)
        quad = _clockwise(points.astype(np.int32))
        quad[:, 0] = np.clip(quad[:, 0], 0, width - 1).astype(np.int32)
        quad[:, 1] = np.clip(quad[:, 1], 0, height - 1).astype(np.int32)
        if int(np.linalg.norm(quad[0] - quad[1])) <= 3 or int(np.linalg.norm(quad[0] - quad[3])) <= 3:
            continue
        quads.append(quad)
    return quads


def sure_regions(prob: np.ndarray, level: float) -> list[tuple[int, int, int, int]]:
    """(left, top, right, bottom) of each connected region of one probability map where the
    detector's probability exceeds `level`, in that map's pixels; regions under 2 rows or 4
    columns (a lone dot) are left out."""
    import cv2

    mask = (prob > level).astype(np.uint8)
    if not mask.any():
        return []
    count, _, stats, _ = cv2.connectedComponentsWithStats(mask, connectivity=8)
    return [(int(x), int(y), int(x + w), int(y + h)) for x, y, w, h, _ in stats[1:count] if h >= 2 and w >= 4]


def _min_box(contour: np.ndarray) -> tuple[np.ndarray, float]:
    """The contour's least-area rectangle as 4 points (the two leftmost first, each pair
    ordered top then bottom: tl, tr, br, bl) and its short side."""
    import cv2

    rect = cv2.minAreaRect(contour)
    points = sorted(list(cv2.boxPoints(rect)), key=lambda p: p[0])
    left_top, left_bottom = (0, 1) if points[1][1] > points[0][1] else (1, 0)
    right_top, right_bottom = (2, 3) if points[3][1] > points[2][1] else (3, 2)
    box = np.array([points[left_top], points[right_top], points[right_bottom], points[left_bottom]])
    return box, min(rect[1])


def _mean_inside(prob: np.ndarray, box: np.ndarray) -> float:
    """Mean probability inside the box (the 'fast' score: the box, not the contour)."""
    import cv2

    height, width = prob.shape
    left = int(np.clip(np.floor(box[:, 0].min()), 0, width - 1))
    right = int(np.clip(np.ceil(box[:, 0].max()), 0, width - 1))
    top = int(np.clip(np.floor(box[:, 1].min()), 0, height - 1))
    bottom = int(np.clip(np.ceil(box[:, 1].max()), 0, height - 1))
    mask = np.zeros((bottom - top + 1, right - left + 1), np.uint8)
    shifted = box - np.array([left, top], box.dtype)
    cv2.fillPoly(mask, shifted.reshape(1, -1, 2).astype(np.int32), 1)
    return cv2.mean(prob[top:bottom + 1, left:right + 1], mask)[0]


def _unclip(box: np.ndarray, ratio: float) -> np.ndarray:
    """The box grown outwards by area * ratio / perimeter, with rounded corners."""
    import pyclipper

    corners = box.astype(np.float64)
    x, y = corners[:, 0], corners[:, 1]
    area = abs(float(np.dot(x, np.roll(y, -1)) - np.dot(y, np.roll(x, -1)))) / 2.0
    perimeter = float(np.sum(np.hypot(*(np.roll(corners, -1, axis=0) - corners).T)))
    offset = pyclipper.PyclipperOffset()
    offset.AddPath(box, pyclipper.JT_ROUND, pyclipper.ET_CLOSEDPOLYGON)
    return np.array(offset.Execute(area * ratio / perimeter)).reshape((-1, 1, 2))


def _clockwise(points: np.ndarray) -> np.ndarray:
    """tl, tr, br, bl by x then y (float32, as the boxes are returned)."""
    by_x = points[np.argsort(points[:, 0]), :]
    left, right = by_x[:2], by_x[2:]
    top_left, bottom_left = left[np.argsort(left[:, 1]), :]
    top_right, bottom_right = right[np.argsort(right[:, 1]), :]
    return np.array([top_left, top_right, bottom_right, bottom_left], dtype=np.float32)


def ctc_greedy(probs: np.ndarray, alphabet: Sequence[str]) -> tuple[str, float]:
    """Text of one line from its (steps x classes) probabilities, class 0 the CTC blank:
    the best class at each step, repeats merged, blanks dropped; and the mean probability of
    the kept steps (each rounded to 5 places, as RapidOCR reports it; 0 for no text)."""
    best = probs.argmax(axis=1)
    keep = np.ones(len(best), bool)
    keep[1:] = best[1:] != best[:-1]
    keep &= best != 0
    text = "".join(alphabet[i] for i in best[keep])
    scores = [round(float(p), 5) for p in probs.max(axis=1)[keep]] or [0.0]
    return text, float(np.mean(scores).round(5))     # numpy's rounding, as RapidOCR's


def alphabet_of(characters: Sequence[str]) -> list[str]:
    """The recogniser's classes: the CTC blank, the model's characters, then a space."""
    return ["blank", *characters, " "]
