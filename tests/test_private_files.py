"""Owner-only files and folders, whatever the umask."""
from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from scp_scanner.private_files import (open_private, private_dir, private_fd, replace_private)


@pytest.fixture
def open_umask():
    old = os.umask(0)
    yield
    os.umask(old)


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_files_and_folders_are_owner_only(tmp_path: Path, open_umask) -> None:
    folder = private_dir(tmp_path / "a" / "b")
    assert mode(folder) == 0o700
    os.chmod(folder, 0o755)
    assert mode(private_dir(folder)) == 0o700         # an existing loose folder is tightened
    os.close(private_fd(folder / "new", "x"))
    assert mode(folder / "new") == 0o600
    with pytest.raises(FileExistsError):
        private_fd(folder / "new", "x")
    loose = folder / "loose.csv"
    loose.write_text("old")
    os.chmod(loose, 0o644)
    with open_private(str(loose), "a") as handle:
        handle.write("+new")
    assert loose.read_text() == "old+new" and mode(loose) == 0o600
    replace_private(folder / "data.json", b"{}\n", sync_dir=True)
    assert (folder / "data.json").read_bytes() == b"{}\n" and mode(folder / "data.json") == 0o600
    assert not (folder / "data.json.tmp").exists()
