"""The one error type for input that cannot be read; its message is the one-line reason."""


class DicomInputError(Exception):
    """A file or dataset that cannot be processed: not DICOM, truncated, no or bad pixel data."""
