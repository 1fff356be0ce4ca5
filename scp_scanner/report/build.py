"""`scp-scanner report`: CSV rows + the DICOM files they name -> the data of the review page.

Thumbnails are made only for flagged images, the first `max_thumbnails` per device model
(in CSV order); the others are cards without a picture. An image is found in its file by the
(frame, overlay) numbering of the Images that `iter_images` yields, so the report follows
whatever numbering the scanner writes.
"""
from __future__ import annotations

import logging
import sys
from collections import Counter, defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from tqdm import tqdm

from ..dicom import DicomInputError, iter_images, read_dataset
from .findings import Device, Finding, findings, locate, read_device
from .thumbnails import heat_map, thumbnail

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Card:
    finding: Finding
    path: str                        # where the file was found, else the CSV filename
    modality: str
    model: str
    thumbnail: bytes | None = None
    width: int = 0                   # the image's size (the boxes' coordinate space)
    height: int = 0


@dataclass(frozen=True)
class Heat:
    model: str
    png: bytes
    boxes: int
    images: int


@dataclass(frozen=True)
class Report:
    sources: tuple[str, ...]
    files: int
    missing: tuple[tuple[str, str], ...]          # (filename, why it could not be read)
    images: int
    flagged: int
    by_modality: tuple[tuple[str, int, int], ...]  # (value, images, flagged)
    by_model: tuple[tuple[str, int, int], ...]
    by_engine: tuple[tuple[str, int, int], ...]
    heat: tuple[Heat, ...]
    cards: tuple[Card, ...]                        # flagged images
    others: tuple[Card, ...]                       # images not flagged
    max_thumbnails: int


def _counts(cards: Sequence[Card], key) -> tuple[tuple[str, int, int], ...]:
    images, flagged = Counter(), Counter()
    for card in cards:
        images[key(card)] += 1
        flagged[key(card)] += int(card.finding.flagged)
    return tuple((k, images[k], flagged[k]) for k in sorted(images))


def _engines(card: Card) -> str:
    f = card.finding
    return " + ".join(e for e in (f.ocr_engine, f.ner_engine) if e) or "none (images listed only)"


def _fraction_boxes(card: Card, device: Device | None):
    width = card.width or (device.columns if device else 0)
    height = card.height or (device.rows if device else 0)
    if not width or not height:
        return []
    return [(b.left / width, b.top / height, b.right / width, b.bottom / height)
            for b in card.finding.boxes if b.sensitive == 1]


def build(csv_paths: Sequence[str], max_thumbnails: int = 20, thumb_side: int = 360,
          progress: bool | None = None) -> Report:
    """Read the CSV files and the DICOM files they name; raises FindingsError on bad CSVs."""
    found = findings(csv_paths)
    csv_dirs = list(dict.fromkeys(Path(p).resolve().parent for p in csv_paths))
    files = list(dict.fromkeys(f.filename for f in found))
    located: dict[str, Path] = {}
    devices: dict[str, Device] = {}
    missing: list[tuple[str, str]] = []
    for name in files:
        path = locate(name, csv_dirs)
        device = read_device(path) if path is not None else None
        if path is None:
            missing.append((name, "not found"))
        elif device is None:
            missing.append((name, "unreadable DICOM header"))
        else:
            located[name], devices[name] = path, device

    def model_of(f: Finding) -> str:
        device = devices.get(f.filename)
        return device.label if device else (f.manufacturer or "unknown")

    # Which flagged images get a thumbnail: the first N per model.
    wanted: dict[str, set[tuple[int, int]]] = defaultdict(set)
    per_model: Counter = Counter()
    for f in found:
        if f.flagged and f.filename in located and per_model[model_of(f)] < max_thumbnails:
            per_model[model_of(f)] += 1
            wanted[f.filename].add((f.frame, f.overlay))
    pictures: dict[tuple[str, int, int], tuple[bytes, int, int]] = {}
    # A bar on a terminal only (disable=None), as scan does; progress=False never draws one.
    bar = tqdm(list(wanted), unit=" files", desc="reading images", file=sys.stderr, leave=False,
               disable=None if progress is None else not progress)
    for name in bar:
        try:
            ds = read_dataset(located[name])
            for image in iter_images(ds, overlays=True):
                if (image.frame, image.overlay) in wanted[name]:
                    pictures[(name, image.frame, image.overlay)] = (
                        thumbnail(image, thumb_side), image.width, image.height)
        except (DicomInputError, OSError) as exc:
            missing.append((name, f"pixels unreadable: {exc}"))
        except Exception as exc:      # a decoder crash on hostile data: report it, go on
            missing.append((name, f"pixels unreadable: {type(exc).__name__}: {exc}"))
    bar.close()

    cards: list[Card] = []
    for f in found:
        device = devices.get(f.filename)
        picture = pictures.get(f.key)
        cards.append(Card(f, str(located.get(f.filename, f.filename)),
                          (device.modality if device else "") or "unknown", model_of(f),
                          picture[0] if picture else None,
                          picture[1] if picture else (device.columns if device else 0),
                          picture[2] if picture else (device.rows if device else 0)))
    flagged = [c for c in cards if c.finding.flagged]
    heat = []
    for model in sorted({c.model for c in flagged}):
        of_model = [c for c in flagged if c.model == model]
        boxes = [b for c in of_model for b in _fraction_boxes(c, devices.get(c.finding.filename))]
        if boxes:
            heat.append(Heat(model, heat_map(boxes), len(boxes), len(of_model)))
    return Report(tuple(map(str, csv_paths)), len(files), tuple(missing), len(cards), len(flagged),
                  _counts(cards, lambda c: c.modality), _counts(cards, lambda c: c.model),
                  _counts(cards, _engines), tuple(heat), tuple(flagged),
                  tuple(c for c in cards if not c.finding.flagged), max_thumbnails)
