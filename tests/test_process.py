"""Process-wide settings are made by the entry points, not by importing an engine."""
from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

SETTINGS = ("OMP_THREAD_LIMIT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")

PROBE = textwrap.dedent('''
    import os
    import sys

    import scp_scanner.ocr.tesseract, scp_scanner.pii.flair_engine   # importing changes nothing
    from scp_scanner.pipeline import PipelineSettings
    from scp_scanner.workers import Outcome, WorkerPool

    NAMES = ("OMP_THREAD_LIMIT", "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE")


    def settings() -> str:
        return ",".join(os.environ.get(name, "-") for name in NAMES)


    def probe(path: str) -> Outcome:
        return Outcome(settings())


    if __name__ == "__main__":
        print("imported:" + settings())
        pool = WorkerPool(PipelineSettings(), workers=1, nice=0)
        pool.start()
        try:
            pool.check()
            print("worker:" + pool.submit(probe, "-").result(120).uid)
        finally:
            pool.stop(wait=False)
        print("parent:" + settings())
''')


def test_engines_set_nothing_and_workers_get_the_settings(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["OMP_THREAD_LIMIT"] = "4"                 # a user's own value
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True,
                          timeout=300, env=env)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert lines["imported"] == "4,-,-"           # importing the engines set nothing
    assert lines["worker"] == "1,1,1"             # a worker: one thread, offline
    assert lines["parent"] == "4,-,-"             # the pool owner's process is left alone


def test_cli_keeps_a_users_thread_limit_and_goes_offline(tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k not in SETTINGS}
    env["OMP_THREAD_LIMIT"] = "3"
    code = ("import os, sys; from scp_scanner import cli; sys.argv = ['scp-scanner', '--version']\n"
            "try:\n    cli.main()\nexcept SystemExit:\n    pass\n"
            "print(','.join(os.environ.get(n, '-') for n in %r))" % (SETTINGS,))
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, env=env)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().splitlines()[-1] == "3,1,1"


def test_the_mmap_threshold_is_fixed_on_glibc() -> None:
    """configure_process fixes glibc's mmap threshold (large arrays mmapped and handed back
    when freed, not kept on the heap after the first large image); Debian's libc is glibc.
    In a fresh process (glibc's own threshold untouched), after the call a block of twice
    MMAP_THRESHOLD is mmapped and one of half of it is not, even after a 16 MB block was
    freed (which raises glibc's dynamic threshold to 16 MB)."""
    code = textwrap.dedent("""
        import ctypes
        from scp_scanner.process import MMAP_THRESHOLD, fixed_mmap_threshold, libc

        class MallInfo2(ctypes.Structure):
            _fields_ = [(name, ctypes.c_size_t) for name in (
                "arena", "ordblks", "smblks", "hblks", "hblkhd", "usmblks", "fsmblks",
                "uordblks", "fordblks", "keepcost")]

        c = libc()
        c.mallinfo2.restype = MallInfo2
        c.malloc.restype = ctypes.c_void_p
        c.free.argtypes = [ctypes.c_void_p]
        assert fixed_mmap_threshold() is True
        c.free(c.malloc(16 << 20))

        def mmapped(size):
            before = c.mallinfo2().hblks
            block = c.malloc(size)
            after = c.mallinfo2().hblks
            c.free(block)
            return after - before

        print(mmapped(2 * MMAP_THRESHOLD), mmapped(MMAP_THRESHOLD // 2))
    """)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["1", "0"]
