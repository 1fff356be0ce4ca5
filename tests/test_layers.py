"""Layers point one way: the offline scan and the generic worker pool load no SCP code."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent('''
    import sys

    from pydicom.data import get_testdata_file

    from scp_scanner.paths import InputPath
    from scp_scanner.pipeline import PipelineSettings
    from scp_scanner.scan import rows_in_workers
    from scp_scanner.workers import Outcome, WorkerPool


    def scp_modules() -> list[str]:
        return sorted(name for name in sys.modules if name.startswith("scp_scanner.scp"))


    def probe(path: str) -> Outcome:
        """A task: reports the SCP modules loaded in the worker that runs it."""
        return Outcome(",".join(scp_modules()))


    if __name__ == "__main__":
        path = get_testdata_file("CT_small.dcm")
        results = list(rows_in_workers(2, PipelineSettings(), [InputPath(path, False)]))
        assert results and results[0].rows, results
        pool = WorkerPool(PipelineSettings(), workers=1, nice=0)
        pool.start()
        try:
            pool.check()
            in_worker = pool.submit(probe, path).result(120).uid
        finally:
            pool.stop(wait=False)
        print("main:" + ",".join(scp_modules()))
        print("worker:" + in_worker)
''')


def test_scan_and_pool_load_no_scp_code(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert lines == {"main": "", "worker": ""}, done.stdout
