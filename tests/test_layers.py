"""Layers point one way: the offline scan and the generic worker pool load no SCP code, and a
process that only hands files to spawned workers (the service's) loads neither the pipeline
nor the engines. The scan builds the pipeline once itself and forks its workers with it."""
from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

PROBE = textwrap.dedent('''
    import sys

    from pydicom.data import get_testdata_file

    from scp_scanner.paths import InputPath
    from scp_scanner.pipeline_types import PipelineSettings
    from scp_scanner.scan import rows_in_workers
    from scp_scanner.workers import Outcome, WorkerPool


    def scp_modules() -> list[str]:
        return sorted(name for name in sys.modules if name.startswith("scp_scanner.scp"))


    def heavy_modules() -> list[str]:
        """What only a process that reads images needs: the pipeline, its image analysis
        (scipy), the engines (onnxruntime, OpenCV, spaCy), and the SCP's pynetdicom."""
        heavy = ("scp_scanner.pipeline", "scp_scanner.enclose", "scipy", "onnxruntime", "cv2",
                 "spacy", "pynetdicom")
        return sorted(name for name in heavy if name in sys.modules)


    def probe(path: str) -> Outcome:
        """A task: reports the SCP modules loaded in the worker that runs it."""
        return Outcome(",".join(scp_modules()))


    def probed(pool: WorkerPool, path: str) -> str:
        pool.start()
        try:
            pool.check()
            return pool.submit(probe, path).result(120).uid
        finally:
            pool.stop(wait=False)


    if __name__ == "__main__":
        path = get_testdata_file("CT_small.dcm")
        # A spawning pool, as the service's: this process loads nothing heavy.
        print("spawned worker:" + probed(WorkerPool(PipelineSettings(), workers=1, nice=0), path))
        print("main heavy:" + ",".join(heavy_modules()))
        # The scan builds the pipeline here and forks its workers with it: no SCP code anywhere.
        results = list(rows_in_workers(2, PipelineSettings(), [InputPath(path, False)]))
        assert results and results[0].rows, results
        print("forked worker:" + probed(WorkerPool(PipelineSettings(), workers=1, nice=0, fork=True), path))
        print("main:" + ",".join(scp_modules()))
''')


def test_scan_and_pool_load_no_scp_code(tmp_path: Path) -> None:
    script = tmp_path / "probe.py"
    script.write_text(PROBE)
    done = subprocess.run([sys.executable, str(script)], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    lines = dict(line.split(":", 1) for line in done.stdout.splitlines() if ":" in line)
    assert lines == {"spawned worker": "", "main heavy": "", "forked worker": "", "main": ""}, done.stdout


def test_the_cli_parser_and_scan_load_nothing_a_parallel_scan_leaves_to_workers() -> None:
    """Up to the start of its workers, a parallel scan's main process (the parser, the scan
    module, the settings) loads neither the engines nor image reading: pydicom, numpy and
    PIL come later, while the workers load their engines."""
    code = ("import sys\n"
            "from scp_scanner.cli import build_parser\n"
            "import scp_scanner.scan\n"
            "args = build_parser().parse_args(['scan', '--ocr', 'rapidocr', '--pii', 'spacy', 'x.dcm'])\n"
            "scp_scanner.scan.settings_from_args(args)\n"
            "print(sorted(n for n in ('scp_scanner.pipeline', 'scipy', 'onnxruntime', 'spacy', "
            "'pynetdicom', 'scp_scanner.scp.service', 'pydicom', 'numpy', 'PIL', 'cv2', "
            "'scp_scanner.dicom.instance') if n in sys.modules))\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]", done.stdout


def test_a_worker_reading_images_loads_no_scipy() -> None:
    """The image analysis runs on OpenCV (scp_scanner/masks.py): a worker that reads a cine and
    an overlay file with rapidocr or tesseract and judges them with spaCy never imports
    scipy (~0.3 s and ~14 MB a worker)."""
    code = textwrap.dedent('''
        import sys
        from pydicom.data import get_testdata_file
        from scp_scanner.pipeline import PipelineSettings, build_pipeline
        rows = 0
        for engine in ("rapidocr", "tesseract"):
            pipeline = build_pipeline(PipelineSettings(ocr=engine, pii="spacy", rects=True))
            for name in ("US1_UNCR.dcm", "MR-SIEMENS-DICOM-WithOverlays.dcm", "emri_small.dcm"):
                rows += len(pipeline.process_file(get_testdata_file(name)).rows)
        print(rows, sorted(n for n in sys.modules if n.split(".")[0] == "scipy"))
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    rows, loaded = done.stdout.strip().split(" ", 1)
    assert int(rows) > 20 and loaded == "[]", done.stdout


def test_pydicom_and_the_engines_load_without_an_http_client_that_stays_importable() -> None:
    """pydicom is imported with `requests` kept out (scp_scanner/kept_out.py: its test-data
    downloader would load it for nothing), then the engines load without it too; afterwards
    `import requests` gets the real package, and pydicom's logger keeps the quiet level."""
    code = textwrap.dedent('''
        import logging, sys
        from scp_scanner.kept_out import import_pydicom, kept_out
        from scp_scanner.logs import quiet_pydicom
        quiet_pydicom(False)
        import_pydicom()
        from scp_scanner.pipeline import PipelineSettings, build_pipeline
        build_pipeline(PipelineSettings(ocr="rapidocr", pii="spacy", rects=True))
        print("requests" in sys.modules, logging.getLogger("pydicom").level == logging.CRITICAL)
        import pydicom.data.download as download
        print(download.HAVE_REQUESTS)
        import requests
        print(requests.__name__, "requests" in sys.modules)
        with kept_out("tabnanny"):
            try:
                import tabnanny
            except ImportError:
                print("kept out")
        import tabnanny
        print(tabnanny.__name__)
    ''')
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split("\n")[:-1] == ["False True", "False", "requests True", "kept out", "tabnanny"], \
        done.stdout
