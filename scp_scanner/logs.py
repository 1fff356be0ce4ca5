"""Logging policy shared by the CLI and the worker processes."""
from __future__ import annotations

import logging
import warnings


_pydicom_debug: bool | None = None      # the choice quiet_pydicom last made


def quiet_pydicom(debug: bool = False) -> None:
    """pydicom logs a traceback for every decoder plugin that fails on a frame and warns about
    odd values it reads past (padding, invalid VRs). scp-scanner reports each failure itself
    in one line, so pydicom's own account is kept for debugging (-d) only.

    Importing pydicom sets its logger back to WARNING: a process that imports it later than
    this call (scan's main process and its workers, which start before reading any file)
    imports it with kept_out.import_pydicom, which calls pydicom_imported() after the import."""
    global _pydicom_debug
    _pydicom_debug = debug
    logging.getLogger("pydicom").setLevel(logging.DEBUG if debug else logging.CRITICAL)
    if not debug:
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")


def pydicom_imported() -> None:
    """Make quiet_pydicom's choice again, after pydicom's import undid it (nothing to do
    when quiet_pydicom was never called)."""
    if _pydicom_debug is not None:
        logging.getLogger("pydicom").setLevel(logging.DEBUG if _pydicom_debug else logging.CRITICAL)


def printable(value: object, limit: int = 200) -> str:
    """A peer-supplied value as one safe log token: control characters, backslashes and
    non-ASCII escaped (\\n, \\x00, \\u2028...), so no value can start a forged log line;
    values longer than `limit` are cut and marked."""
    text = "" if value is None else str(value)
    cut = len(text) > limit
    escaped = text[:limit].encode("ascii", "backslashreplace").decode("ascii")
    escaped = "".join(c if 32 <= ord(c) < 127 else f"\\x{ord(c):02x}" for c in escaped)
    return escaped + (f"...({len(text)} chars)" if cut else "")
