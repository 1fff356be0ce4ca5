"""Instance -> Images: every frame, overlay and overlay frame, made 8-bit and readable.

Public interface (used by pipeline.py and cli.py):
- read_dataset(path) -> pydicom.Dataset            raises DicomInputError(reason)
- instance_info(ds, filename) -> InstanceInfo
- iter_images(ds, overlays=True) -> Iterator[Image]  raises DicomInputError(reason)

The errors load with the package; the three functions load on first use (PEP 562), so a
process that only needs the errors or the decode limits (`scan`'s main process, which hands
files to workers) does not import pydicom's pixel machinery, PIL and OpenCV (~0.25 s) before
it starts its workers.
"""
from __future__ import annotations

from typing import TYPE_CHECKING, Any

from .errors import DicomInputError, NoImagesError, NotDicomError

if TYPE_CHECKING:
    from .instance import instance_info, iter_images, read_dataset

__all__ = ["DicomInputError", "NoImagesError", "NotDicomError", "instance_info", "iter_images",
           "read_dataset"]

_FROM_INSTANCE = ("instance_info", "iter_images", "read_dataset")


def __getattr__(name: str) -> Any:
    if name in _FROM_INSTANCE:
        from . import instance

        return getattr(instance, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
