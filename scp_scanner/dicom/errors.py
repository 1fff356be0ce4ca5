"""The error types for input that cannot be read; each message is the one-line reason."""
from ..errors import ScannerError


class DicomInputError(ScannerError):
    """A file or dataset that cannot be processed: not DICOM, truncated, no or bad pixel data."""


class NotDicomError(DicomInputError):
    """The file is not DICOM at all (empty, or neither a Part 10 preamble nor a dataset start).
    In a walked directory such a file is skipped, not failed; a DICOM file that cannot be
    opened or read is a failure."""


class NoImagesError(DicomInputError):
    """A readable DICOM instance with no pixel data and no overlays (a structured report, an
    encapsulated PDF, an RT plan...): nothing to scan, and nothing wrong with it. `dataset`
    is its header, as read."""

    def __init__(self, message: str, dataset=None):
        super().__init__(message)
        self.dataset = dataset
