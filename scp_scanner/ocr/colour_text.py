"""Coloured text over grey picture: found by its colour, shown to the engine on black.

Why: ultrasound writes its annotations in saturated colours (green, yellow, cyan, magenta)
and sometimes over the grey speckle of the picture. Speckle is as bright as the text and
as busy as glyphs, so the detector sees one texture (a green 8 px line over full-frame
speckle: the detector's text probability peaked at 0.06, against a 0.3 threshold). Colour
tells them apart where brightness cannot: grey picture has no chroma (max - min of the
channels), the text has plenty. So a colour frame's chromatic pixels that no line already
read covers, in clusters of a text line's height, are read again from the frame with every
neutral pixel set to black and the glyphs' partly coloured edges dimmed in proportion: the
coloured text on black, as a detector reads it best.

Glyph shapes are not asked for: JPEG halves the colour resolution, and an 8 px word's
letters melt into one coloured bar; its height (one text line) and its being left over by
the first read are the test. Colour Doppler is chromatic too, but in blobs taller than a
line or under lines already read; what is left is read, and the recogniser keeps only what
it reads as text (its confidence floor applies as to every line). Small lines set a few
pixels apart can be joined by the colour JPEG bleeds between them into one cluster taller
than a line; such a cluster is cut at the emptiest rows between its lines' bodies
(stacked_bands), and a band of it that is solid colour (a title bar round grey text) is
no line.

On black the detector still joins short lines set a few pixels apart (`Se:3 Im:45` over
`2/2` at the frame's edge) into one box, which the recogniser cannot read. The clusters are
the lines' own evidence, one per line by construction, so they cut such a box
(`lines_by_colour`): a detected box that holds two clusters or more stacked one above the
other is read as one line per cluster. The detector stays the judge of where text is: a
cluster it found no line in is not read alone. Tried and not kept: reading such clusters as
lines (`C+`, `5 mm` beside the sector, which the detector misses): on colour Doppler over
speckle (streaks of flow) it read `dec`, `the`, `D°O`, `40` on 10 of 12 frames, with
thirteen times the recogniser calls, and the strokes of 8 px text on black are no more regular
than a streak's edges.

What is left after that is text seen but not read: a cluster of the same kind that still no
line read covers, where the detector found a text line on black (a JPEG'd 8 px word over
speckle whose letters the recogniser reads at 26-45% confidence, under its floor). It is not
dropped: `unread_lines` makes it a box with no text, flagged (TextBox.unread), so that the
image reaches a reviewer and the redactor covers the line. Text that cannot be read cannot
be cleared. Such a cluster must be as long as five characters (UNREAD_MIN_ASPECT).
"""
from __future__ import annotations

from dataclasses import replace

import numpy as np
from ..model import SOURCE_FRAME, Image, TextBox
from .confusions import true_runs
from .prepare import overlap, stacked_rows

# Chroma (max - min channel, 0-255) above which a pixel is coloured: JPEG's noise on grey
# stays well under it (speckle of the generated and real ultrasound: 0 to ~20).
MIN_CHROMA = 40
# A frame whose own chroma says its noise is lower has its paler clusters too
# (coloured_level; rapidocr_engine._with_colour_text takes those apart from every cluster
# found at MIN_CHROMA): its 99th percentile is the picture's (text covers well under 1% of a
# frame), and a pixel is coloured at NOISE_TIMES that, never under LEAST_CHROMA (the
# speckle's ~20). Small pale text loses its colour to JPEG, whose chroma is stored at half
# resolution: 7 px light blue text over grey speckle (extra varied 661, quality 44) has
# chroma 15-51, two rows of it 40 or more, where the frame's 99th percentile is 8. On
# pydicom-data's real echoes it is 18-20, so they have none.
LEAST_CHROMA = 20
NOISE_TIMES = 3
# EDGES: a glyph's edge is partly coloured (anti-aliasing mixes the text's colour with the grey
# under it, and JPEG halves the colour resolution, spreading it over the next pixels), so the
# frame shown on black keeps each pixel in proportion to its chroma up to MIN_CHROMA rather
# than cutting at it: cut, 8-11 px glyphs lost their edges and thin strokes (`Erasathuro
# Hopitod` for `Stracathro Hospital`). On 96 frames of coloured text over speckle
# (tests/test_rapidocr_engine.py's speckle_with_coloured_text: 8-11 px, JPEG 50-90, four colours,
# two seeds) 440 of 672 words were read against 400 cut; on the tuning corpora (varied seeds
# 1-3, 5 and 6, classic 1-2) 5 more words, none lost. Ramps from 10 or 20 to MIN_CHROMA: 435
# and 418 of 672.
# A cluster of coloured pixels is a text line's height: at least MIN_HEIGHT, at most
# MAX_HEIGHT px, and holds at least MIN_PIXELS of them; and its coloured pixels span at least
# MIN_ASPECT times its height: three letters or more (a letter is about 0.6 of its line's
# height wide, with its spacing). Markers, icons, colour scales and single glyphs are not
# read again: on pydicom-data's colour ultrasound files every cluster left over by the first
# read spans 0.4 to 1.5 heights, except the echo's blue-framed `THI` label.
MIN_HEIGHT = 5
MAX_HEIGHT = 48
MIN_PIXELS = 20
MIN_ASPECT = 2
# A cluster of one line's height narrower than that, down to WORD_ASPECT heights, is a word
# of two glyphs (`C+`, `Fr`, `ID`: the detector, trained on words, misses two glyphs alone,
# and varied seed 1381's green `C+` over speckle was read on none of its three frames)
# where it is glyphs, not a box: no row of it is coloured across FRAME_ROW of its span (a
# label's frame, a bar or an underline is: the blue-framed `THI` of pydicom-data's 3-D echo),
# and it is not SOLID. It is read, not kept unread (UNREAD_MIN_ASPECT).
WORD_ASPECT = 1.2
FRAME_ROW = 0.8
# A cluster left unread is kept as text seen but not read (unread_lines) only where its
# coloured pixels span this many times its height: five characters or more (a character
# about 0.6 of the line's height), as many as the shortest identifier written (a date, an
# ID, a name). A boxed label of two or three letters (the blue-framed `THI` of pydicom-data's
# 3-D echo, which the recogniser reads as a lone `I`) is not.
UNREAD_MIN_ASPECT = 3
# A cluster taller than MAX_HEIGHT is split into its stacked lines (stacked_bands: 4 lines
# of 8 px green text 5 px apart over speckle at JPEG 4:2:2, joined into one 55 px cluster by
# the colour bleeding between them), and so is one spanning less than MIN_ASPECT times its
# height (4 short magenta lines of a 10 px bitmap face 12 px apart at JPEG 49: one cluster
# 48 px high, 73 px wide, dropped whole before, and the lines had no box at all). A band of
# such a cluster whose box is this share coloured or more is a strip of colour, not a line
# of glyphs: glyphs with their JPEG bleeding fill 37-55% of their band's box on the
# generator's colour ultrasound, the coloured title bar of pydicom-data's OBXXXX1A.dcm, its
# grey lines read, 93-98%.
SOLID = 0.75
# Clusters are joined across gaps of GAP px sideways (letters and words of one line).
GAP = 6
# Coloured pixels within this many px of a line already read (its box's columns, its own
# line's rows: own_rows) belong to it.
NEAR_READ = 4


def chroma(pixels: np.ndarray) -> np.ndarray:
    """max - min of the channels (uint8) of an RGB image."""
    red, green, blue = pixels[..., 0], pixels[..., 1], pixels[..., 2]
    return np.maximum(np.maximum(red, green), blue) - np.minimum(np.minimum(red, green), blue)


def is_colour_frame(image: Image) -> bool:
    return (image.source == SOURCE_FRAME and image.pixels.ndim == 3 and image.pixels.shape[2] >= 3
            and image.pixels.dtype == np.uint8)


def coloured_level(strength: np.ndarray) -> int:
    """The chroma at which a pixel of a frame whose chroma is `strength` is coloured:
    NOISE_TIMES its 99th percentile, between LEAST_CHROMA and MIN_CHROMA."""
    counts = np.cumsum(np.bincount(strength.ravel(), minlength=256))
    noise = int(np.searchsorted(counts, 0.99 * strength.size))
    return min(MIN_CHROMA, max(LEAST_CHROMA, NOISE_TIMES * noise))


def colour_lines(image: Image, read: list[TextBox], strength: np.ndarray | None = None,
                 least: int = MIN_CHROMA) -> list[tuple[int, int, int, int]]:
    """(top, left, bottom, right) of line-high clusters of coloured pixels (chroma `least` or
    more: coloured_level) that no line in `read` covers; [] for grey images, overlays and
    frames without such clusters. `strength`: the frame's chroma, when the caller has it."""
    import cv2

    if not is_colour_frame(image):
        return []
    strength = chroma(image.pixels) if strength is None else strength
    coloured = (strength >= least).view(np.uint8)
    height, width = coloured.shape
    for box in read:
        top, bottom = own_rows(coloured, box)
        coloured[max(0, top - NEAR_READ):min(height, bottom + NEAR_READ),
                 max(0, box.left - NEAR_READ):min(width, box.right + NEAR_READ)] = 0
    if int(np.count_nonzero(coloured)) < MIN_PIXELS:
        return []
    joined = cv2.dilate(coloured, np.ones((1, 2 * GAP + 1), np.uint8))
    count, labels, stats, _ = cv2.connectedComponentsWithStats(joined, connectivity=4)
    sizes = np.bincount(labels[coloured.astype(bool)], minlength=count)
    out = []
    for number in range(1, count):
        left, top, w, h = (int(v) for v in stats[number, :4])
        if sizes[number] < MIN_PIXELS or h < MIN_HEIGHT:
            continue
        own = (labels[top:top + h, left:left + w] == number) & (coloured[top:top + h, left:left + w] > 0)
        # A cluster not of one line's shape (taller than a line, or narrower than
        # MIN_ASPECT of its height: short lines stacked, a name over an ID over a date) may be
        # lines stacked, joined by JPEG's colour bleeding between them: each of its line
        # bands is a cluster of its own.
        spread = np.flatnonzero(own.any(axis=0))
        extent = int(spread[-1] - spread[0]) + 1
        one_line = h <= MAX_HEIGHT and extent >= MIN_ASPECT * h
        bands = [(0, h)] if one_line else stacked_bands(own.sum(axis=1, dtype=np.int32))
        word = (not bands and h <= MAX_HEIGHT and extent >= WORD_ASPECT * h
                and int(own.sum(axis=1).max()) < FRAME_ROW * extent
                and (strength[top:top + h, left:left + w] >= least).mean() < SOLID)
        if word:
            bands = [(0, h)]
        for start, end in bands:
            # The joined cluster reaches up to GAP px beyond its coloured pixels sideways.
            columns = np.flatnonzero(own[start:end].any(axis=0))
            if (not MIN_HEIGHT <= end - start <= MAX_HEIGHT or columns.size == 0
                    or np.count_nonzero(own[start:end]) < MIN_PIXELS):
                continue
            first, last = left + int(columns[0]), left + int(columns[-1]) + 1
            if last - first < (WORD_ASPECT if word else MIN_ASPECT) * (end - start):
                continue
            # A band of a stacked cluster that is mostly colour is a strip of it (a coloured
            # title bar whose grey lines were read), not glyphs: see SOLID.
            if len(bands) > 1 and (strength[top + start:top + end, first:last] >= least).mean() >= SOLID:
                continue
            out.append((top + start, first, top + end, last))
    return out


def paler_lines(image: Image, read: list[TextBox], strength: np.ndarray, least: int,
                found: list[tuple[int, int, int, int]]) -> list[tuple[int, int, int, int]]:
    """colour_lines at the frame's own level `least` (coloured_level), apart from every
    cluster in `found` (those at MIN_CHROMA): at that level JPEG's colour bleeding joins
    lines stacked 4 px apart into one cluster, so the clusters found at MIN_CHROMA keep it."""
    if least >= MIN_CHROMA:
        return []
    return [area for area in colour_lines(image, read, strength, least)
            if not any(area[0] < other[2] and other[0] < area[2] and area[1] < other[3] and other[1] < area[3]
                       for other in found)]


def stacked_bands(rows: np.ndarray) -> list[tuple[int, int]]:
    """[start, end) bands of a cluster taller than a line, one per text line stacked in it
    (`rows`: its coloured pixels per row), or none: the runs of rows holding at least half as
    many coloured pixels as its densest row (own_rows' test: a line's body), runs less than
    MIN_HEIGHT apart joined (one line's strokes), each band reaching to the emptiest row
    between it and the next. A blob of colour Doppler has one such run, and stays whole."""
    runs: list[tuple[int, int]] = []
    for start, end in true_runs(rows * 2 >= rows.max()):
        if runs and start - runs[-1][1] < MIN_HEIGHT:
            runs[-1] = (runs[-1][0], end)
        else:
            runs.append((start, end))
    if len(runs) < 2:
        return []
    cuts = [0] + [above + int(np.argmin(rows[above:below])) for (_, above), (below, _) in zip(runs, runs[1:])]
    return list(zip(cuts, cuts[1:] + [len(rows)]))


def own_rows(coloured: np.ndarray, box: TextBox) -> tuple[int, int]:
    """[top, bottom) of the rows of a read line's box that hold its own coloured line: of the
    runs of rows holding at least half as many coloured pixels as its densest row, the one
    nearest the box's middle (the detector widens its outline evenly round its line). The
    box reaches past its line, sometimes over the top rows of the next line, whose coloured
    pixels are left for the pass on black. The whole box when it holds none."""
    first = max(0, box.top)
    rows = coloured[first:box.bottom, max(0, box.left):box.right].sum(axis=1, dtype=np.int32)
    if rows.size == 0 or not rows.any():
        return box.top, box.bottom
    middle = (box.top + box.bottom) / 2 - first
    runs = true_runs(rows * 2 >= rows.max())
    start, end = min(runs, key=lambda run: max(run[0] - middle, middle - run[1], 0))
    return first + start, first + end


def lines_by_colour(detected: list[tuple[int, int, int, int]], clusters: list[tuple[int, int, int, int]]
                    ) -> list[tuple[int, int, int, int]]:
    """The lines to recognise on black, all (top, left, bottom, right) in one pixel space:
    the `detected` lines, each one that holds two clusters or more stacked one above the
    other (`clusters`: colour_lines) cut into one line per cluster, with a margin of a
    quarter of its height (twice that sideways), up to halfway to the next cluster of its
    box. A cluster that no detected line reaches is not read (see the module's notes)."""
    out: list[tuple[int, int, int, int]] = []
    for top, left, bottom, right in detected:
        inside = sorted(c for c in clusters if top <= (c[0] + c[2]) / 2 < bottom and c[1] < right and left < c[3])
        stacked = len(inside) >= 2 and all(a[2] <= b[0] for a, b in zip(inside, inside[1:]))
        if not stacked:
            out.append((top, left, bottom, right))
            continue
        bands = [(c[0], c[2]) for c in inside]
        for i, (_, c_left, _, c_right) in enumerate(inside):
            row_top, row_bottom, pad = stacked_rows(bands, i)
            out.append((row_top, max(left, c_left - 2 * pad), row_bottom, min(right, c_right + 2 * pad)))
    return out


def unread_lines(left: list[tuple[int, int, int, int]], detected: list[TextBox]) -> list[TextBox]:
    """Boxes of text seen but not read (TextBox.unread): each cluster `left` ((top, left,
    bottom, right): colour_lines after every read) as long as UNREAD_MIN_ASPECT heights that a
    line the detector found (`detected`, image pixels) overlaps, as the two together, each
    box once. A detected box taller than a line can be (MAX_HEIGHT) is no line: on colour
    Doppler over speckle the detector, on black, drew one box 130 px high round streaks of
    flow."""
    lines_found = [d for d in detected if d.bottom - d.top <= MAX_HEIGHT]
    out: dict[TextBox, None] = {}
    for top, left_, bottom, right in left:
        if right - left_ < UNREAD_MIN_ASPECT * (bottom - top):
            continue
        cluster = TextBox("", left_, top, right, bottom)
        lines = [cluster] + [d for d in lines_found if overlap(cluster, d) > 0]
        if len(lines) > 1:
            out[TextBox("", min(b.left for b in lines), min(b.top for b in lines),
                        max(b.right for b in lines), max(b.bottom for b in lines), unread=True)] = None
    return list(out)


def on_black(image: Image, strength: np.ndarray | None = None, least: int = MIN_CHROMA) -> Image:
    """The frame with each pixel dimmed by its share of `least` (the chroma of a coloured
    pixel: coloured_level): a neutral (grey) pixel black, a coloured one as it is, and the
    partly coloured edges of glyphs in between, in proportion (see EDGES). `strength`: the
    frame's chroma, when the caller has it. One channel at a time: a float copy of a whole
    large colour frame would be three times the memory of its weights."""
    weight = (chroma(image.pixels) if strength is None else strength).astype(np.float32)
    np.minimum(weight / least, 1.0, out=weight)
    pixels = np.empty_like(image.pixels)
    for channel in range(image.pixels.shape[2]):
        pixels[..., channel] = np.rint(image.pixels[..., channel] * weight)
    return replace(image, pixels=pixels, text_mask=None)
