"""Importing a library without an optional module it would load for nothing.

Some libraries import a heavy package whenever it is installed and merely record when it is
not: spaCy's thinc imports torch, pydicom's test-data downloader imports requests. While
`kept_out(name)` is active, `import name` raises ImportError (a None entry in sys.modules, the
import system's own way of marking a module as unavailable), so the library takes its
"not installed" path; the entry is removed afterwards, and a later importer gets the real
module.
"""
from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from types import ModuleType


@contextmanager
def kept_out(name: str) -> Iterator[None]:
    """Make `import name` fail inside the block; nothing changes when it is already imported."""
    if name in sys.modules:
        yield
        return
    sys.modules[name] = None  # type: ignore[assignment]
    try:
        yield
    finally:
        if sys.modules.get(name, 0) is None:
            del sys.modules[name]


def import_pydicom() -> ModuleType:
    """pydicom, imported without the HTTP client of its test-data downloader.

    `pydicom.pixels` imports `pydicom.data`, whose downloader imports `requests` (and with it
    urllib3, charset_normalizer, idna) when it is installed, as spaCy's dependencies make it,
    to fetch pydicom's test files from GitHub: something scp-scanner never does. Kept out,
    the downloader records HAVE_REQUESTS = False (were it ever called it would use urllib).
    Measured on 4 December 2026: `import pydicom` 0.42 -> 0.37 s of CPU (medians of 8 runs),
    in scan's main process and in every worker. Then logs.pydicom_imported(), since pydicom's import resets
    its logger's level."""
    if "pydicom" in sys.modules:
        return sys.modules["pydicom"]
    from .logs import pydicom_imported

    with kept_out("requests"):
        import pydicom
    pydicom_imported()
    return pydicom
