"""Logging policy shared by the CLI and the worker processes."""
from __future__ import annotations

import logging
import warnings


def quiet_pydicom(debug: bool = False) -> None:
    """pydicom logs a traceback for every decoder plugin that fails on a frame and warns about
    odd values it reads past (padding, invalid VRs). scp-scanner reports each failure itself
    in one line, so pydicom's own account is kept for debugging (-d) only."""
    logging.getLogger("pydicom").setLevel(logging.DEBUG if debug else logging.CRITICAL)
    if not debug:
        warnings.filterwarnings("ignore", category=UserWarning, module=r"pydicom(\.|$)")
