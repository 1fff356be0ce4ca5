"""The base of scp-scanner's own errors: each message is the one line shown to the user.

`except ScannerError` catches every error the project raises on purpose (configuration,
engines, input files, the spool, partitions, access settings); anything else is a bug or a
library's surprise.
"""
from __future__ import annotations


class ScannerError(Exception):
    """An error scp-scanner raises on purpose; str() is the one-line reason."""
