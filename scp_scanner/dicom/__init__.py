"""Instance -> Images: every frame, overlay and overlay frame, made 8-bit and readable.

Public interface (used by pipeline.py and cli.py):
- read_dataset(path) -> pydicom.Dataset            raises DicomInputError(reason)
- instance_info(ds, filename) -> InstanceInfo
- iter_images(ds, overlays=True) -> Iterator[Image]  raises DicomInputError(reason)
"""
from .errors import DicomInputError, NoImagesError, NotDicomError
from .instance import instance_info, iter_images, read_dataset

__all__ = ["DicomInputError", "NoImagesError", "NotDicomError", "instance_info", "iter_images",
           "read_dataset"]
