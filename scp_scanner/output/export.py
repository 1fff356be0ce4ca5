"""-x: each Image written as a PNG or TIFF file, named for where it came from."""
from __future__ import annotations

import os
from pathlib import Path

from PIL import Image as PILImage

from ..model import Image
from ..private_files import private_fd

FORMATS = {"png": "PNG", "tiff": "TIFF", "tif": "TIFF"}


def export_name(source: str | Path, image: Image, fmt: str) -> str:
    """The CSV numbers of the image, in the name: `scan.dcm_frame0.tiff` (frame 0 of PixelData),
    `scan.dcm_overlay1_frame0.tiff` (group 6002, a single-frame overlay),
    `scan.dcm_overlay1_frame3.tiff` (its 4th overlay frame); a part that is -1 is left out."""
    parts = [Path(source).name]
    if image.overlay >= 0:
        parts.append(f"overlay{image.overlay}")
    if image.frame >= 0:
        parts.append(f"frame{image.frame}")
    return "_".join(parts) + "." + fmt.lower()


def export_dir(source: str | Path) -> Path:
    """Next to the input when that folder is writable, else the current folder."""
    folder = Path(source).resolve().parent
    return folder if os.access(folder, os.W_OK) else Path.cwd()


def export_image(image: Image, path: Path, fmt: str) -> None:
    """Write one image owner-only (it may show PII)."""
    with os.fdopen(private_fd(path, "w"), "wb") as handle:
        PILImage.fromarray(image.pixels).save(handle, format=FORMATS[fmt.lower()])
