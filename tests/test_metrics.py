"""`serve` with metrics on: the real service on 127.0.0.1 (tesseract + spaCy workers), real
dcmtk storescu/echoscu senders, /metrics and /healthz scraped with a real HTTP client."""
from __future__ import annotations

import os
import signal
import urllib.error
import urllib.request
from pathlib import Path

import pydicom
import pytest
from prometheus_client.parser import text_string_to_metric_families

import dicomgen
from scp_harness import HOST, Server, copies, echoscu, free_port, storescu, wait_for


def scrape(port: int) -> dict[tuple[str, tuple], float]:
    with urllib.request.urlopen(f"http://{HOST}:{port}/metrics", timeout=10) as response:
        assert response.status == 200
        assert response.headers["Content-Type"].startswith("text/plain")
        text = response.read().decode()
    samples = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples[(sample.name, tuple(sorted(sample.labels.items())))] = sample.value
    return samples


def health(port: int) -> tuple[int, str]:
    try:
        with urllib.request.urlopen(f"http://{HOST}:{port}/healthz", timeout=10) as response:
            return response.status, response.read().decode()
    except urllib.error.HTTPError as exc:
        return exc.code, exc.read().decode()


def value(samples, name: str, **labels) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


def worker_pids(parent: int) -> list[int]:
    """The service's pipeline workers (spawned children running spawn_main)."""
    pids = []
    for task in Path(f"/proc/{parent}/task").iterdir():
        for child in (task / "children").read_text().split():
            cmdline = Path(f"/proc/{child}/cmdline").read_bytes().replace(b"\0", b" ")
            if b"spawn_main" in cmdline:
                pids.append(int(child))
    return pids


@pytest.fixture
def served(tmp_path):
    port = free_port()
    config = tmp_path / "serve.yaml"
    config.write_text(f"metrics:\n  port: {port}\n  host: {HOST}\nprocessing:\n  rects: true\n")
    server = Server(tmp_path, "--config", str(config), "--pii", "spacy", ocr="tesseract")
    server.start(timeout=180)
    yield server, port
    server.stop_quietly()


def test_metrics_count_what_was_sent(served, tmp_path):
    server, port = served
    assert "metrics on http://127.0.0.1:" in server.log()
    assert health(port) == (200, "ok\n")
    before = scrape(port)
    for stage in ("receive", "decode", "ocr", "ner", "write"):
        assert value(before, "scp_scanner_stage_seconds_count", stage=stage) == 0
    assert value(before, "scp_scanner_workers_alive") >= 1
    assert value(before, "scp_scanner_spool_free_bytes") > 0

    # Sent: 2 synthetic files with identifying text, 3 plain CT copies, 1 whose pixel data is
    # cut short (accepted, then fails), in two associations; one association is rejected.
    truths = dicomgen.make_corpus(tmp_path / "gen", n_per_case=1, seed=3, cases=["ct_signed", "cr_mono1"])
    plain = copies("CT_small.dcm", 3, tmp_path / "plain")
    (broken_path, broken_uid), = copies("CT_small.dcm", 1, tmp_path / "broken")
    ds = pydicom.dcmread(broken_path)
    ds.PixelData = ds.PixelData[:100]
    ds.save_as(broken_path, enforce_file_format=True)
    first = storescu(server.port, [t.path for t in truths])
    assert first.returncode == 0, first.stderr
    second = storescu(server.port, [p for p, _ in plain] + [broken_path])
    assert second.returncode == 0, second.stderr
    assert echoscu(server.port, called="NOT_ME").returncode != 0
    sent = len(truths) + len(plain) + 1
    uids = [str(pydicom.dcmread(t.path, stop_before_pixels=True).SOPInstanceUID) for t in truths]
    rows = server.wait_rows(uids + [u for _, u in plain], timeout=180)

    def settled():
        s = scrape(port)
        done = value(s, "scp_scanner_instances_processed_total") + value(s, "scp_scanner_instances_failed_total")
        return s if done == sent and value(s, "scp_scanner_spool_depth") == 0 else None

    samples = wait_for(settled, 180, interval=0.5, what="every instance counted")
    images = {(r["filename"], r["frame"], r["overlay"]) for r in rows}
    flagged = {(r["filename"], r["frame"], r["overlay"]) for r in rows
               if r["left"] == "-1" and r["is_sensitive"] == "1"}
    assert len(flagged) == 2                      # both synthetic files, and no plain CT
    assert value(samples, "scp_scanner_instances_received_total") == sent
    assert value(samples, "scp_scanner_instances_processed_total") == sent - 1
    assert value(samples, "scp_scanner_instances_failed_total") == 1
    assert value(samples, "scp_scanner_instances_deduplicated_total") == 0
    assert value(samples, "scp_scanner_images_total") == len(images)
    assert value(samples, "scp_scanner_images_flagged_total") == len(flagged)
    assert value(samples, "scp_scanner_associations_accepted_total") == 2
    assert value(samples, "scp_scanner_associations_rejected_total",
                 reason="called AE title not recognised") == 1
    assert value(samples, "scp_scanner_stage_seconds_count", stage="receive") == sent
    for stage in ("decode", "ocr", "ner", "write"):
        assert value(samples, "scp_scanner_stage_seconds_count", stage=stage) == sent - 1, stage
    assert value(samples, "scp_scanner_stage_seconds_sum", stage="ocr") > 0
    assert value(samples, "scp_scanner_stage_seconds_sum", stage="decode") > 0
    assert value(samples, "scp_scanner_spool_oldest_age_seconds") == 0
    assert value(samples, "scp_scanner_worker_restarts_total") == 0

    # Sent again after its rows were written: acknowledged, counted, dropped.
    again = storescu(server.port, [plain[0][0]])
    assert again.returncode == 0, again.stderr
    samples = wait_for(lambda: (s := scrape(port)) and
                       value(s, "scp_scanner_instances_deduplicated_total") == 1 and s,
                       60, interval=0.5, what="the repeated instance to be dropped")
    assert value(samples, "scp_scanner_instances_received_total") == sent + 1
    assert value(samples, "scp_scanner_instances_processed_total") == sent - 1
    assert value(samples, "scp_scanner_associations_accepted_total") == 3


def test_healthz_fails_without_workers_or_a_writable_spool(served, tmp_path):
    server, port = served
    assert health(port) == (200, "ok\n")
    # The spool's incoming/ folder gone: not writable.
    incoming = server.spool / "incoming"
    moved = server.spool / "incoming.away"
    incoming.rename(moved)
    try:
        status, body = wait_for(lambda: (h := health(port))[0] == 503 and h, 30, what="503")
        assert "spool" in body and "not writable" in body
    finally:
        moved.rename(incoming)
    wait_for(lambda: health(port) == (200, "ok\n"), 30, what="healthy again")
    # Every worker killed: unhealthy until the pool is restarted by the next instance.
    pids = worker_pids(server.process.pid)
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGKILL)
    status, body = wait_for(lambda: (h := health(port))[0] == 503 and h, 30, what="503 without workers")
    assert body == "no worker process is alive\n"
    (path, uid), = copies("CT_small.dcm", 1, tmp_path / "after")
    assert storescu(server.port, [path]).returncode == 0
    server.wait_rows([uid], timeout=180)
    wait_for(lambda: health(port) == (200, "ok\n"), 60, what="healthy after the restart")
    assert value(scrape(port), "scp_scanner_worker_restarts_total") == 1
