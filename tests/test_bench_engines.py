"""bench/bench_engines.py: every engine named runs on one corpus with the real scanner and is
scored by bench/score_scan.py; an engine that is not registered is skipped with a note."""
from __future__ import annotations

import json

import pytest

import dicomgen
from conftest import load_bench

@pytest.fixture(scope="module")
def bench():
    return load_bench("bench_engines")


def test_seed_policy_names_tuning_and_held_out_runs(bench):
    assert set(bench.TUNING_SEEDS).isdisjoint(bench.REPORT_SEEDS + bench.SEEN_SEEDS)
    assert set(bench.REPORT_SEEDS).isdisjoint(bench.SEEN_SEEDS)
    assert bench.corpus_kind("heldout", 131) == "held out, new"
    assert bench.corpus_kind("heldout", 59, "classic") == "held out, new"
    assert bench.corpus_kind("heldout", 41) == "held out, seen"
    assert bench.corpus_kind("heldout", 41, "classic") == "held out, seen"
    assert bench.corpus_kind("heldout", 131, "classic") == "other"
    assert bench.corpus_kind("tuning", 3) == "tuning"
    assert bench.corpus_kind("tuning", 131) == "other"         # a reporting seed, wrong fonts
    assert bench.corpus_kind("heldout", 3) == "other"


def test_a_corpus_at_other_font_sizes_is_named_so_and_is_no_held_out_run(bench, tmp_path, capsys):
    folder = tmp_path / "big"
    assert bench.main([str(folder), "--engines", "nosuch", "--seed", "131", "--count", "2",
                       "--fonts", "heldout", "--sizes", "26-40"]) == 1    # no engine ran
    styles = json.loads((folder / dicomgen.STYLES_FILENAME).read_text())
    assert styles["sizes"] == [26, 40] and all(26 <= s["size"] <= 40 for s in styles["files"].values())
    assert "seed 131, fonts heldout at 26-40 px (other), 2 files" in capsys.readouterr().out
    with pytest.raises(SystemExit):
        bench.parse_args(["--style", "classic", "--sizes", "9-12"])
    assert "--sizes needs --style varied" in capsys.readouterr().err


def test_runs_tesseract_on_a_new_corpus_and_skips_an_unknown_engine(bench, tmp_path, capsys):
    folder = tmp_path / "corpus"
    assert bench.main([str(folder), "--engines", "tesseract,nosuch", "--seed", "41",
                       "--count", "2", "--fonts", "heldout", "--per-case"]) == 0
    out = capsys.readouterr().out
    truths = dicomgen.read_truth(folder)
    assert [t.case for t in truths] == ["v_ct_busy", "v_mr"]
    styles = json.loads((folder / dicomgen.STYLES_FILENAME).read_text())
    assert styles["fonts"] == "heldout" and styles["seed"] == 41
    assert "seed 41, fonts heldout (held out, seen), 2 files, 2 images" in out
    rows = [line for line in out.splitlines() if line.startswith("| tesseract")]
    assert len(rows) == 1
    cells = [c.strip() for c in rows[0].strip("|").split("|")]
    assert cells[1] == "2/2 (100.0%)"                                   # every image listed
    words = sum(len(i.words) for t in truths for i in t.images)
    assert cells[2].split()[0].endswith(f"/{words}")
    assert float(cells[6]) > 0
    assert "nosuch: not registered" in out and "| nosuch" not in out
    assert "| v_ct_busy |" in out and "| v_mr |" in out
    # An existing corpus folder is used as it is, not written again.
    before = {p.name: p.stat().st_mtime_ns for p in folder.iterdir()}
    assert bench.main([str(folder), "--engines", "nosuch"]) == 1
    assert {p.name: p.stat().st_mtime_ns for p in folder.iterdir()} == before
