"""`scp-scanner rules`: the real CLI over a real scan (tesseract + spaCy) of synthetic files;
the recipe is loaded with the real `deid` package (DeidRecipe) and deid's own filter matching
(has_burned_pixels) is run against the DICOM files."""
from __future__ import annotations

import csv
import io
import os
import stat
from collections import defaultdict
from pathlib import Path

import numpy as np
import pydicom
import pytest

import review_corpus
from conftest import run_cli


@pytest.fixture(scope="module")
def scanned(tmp_path_factory):
    folder, truths, out = review_corpus.made(tmp_path_factory, "rules")
    rows = review_corpus.scan(folder, out / "rows.csv")
    return truths, rows, out


def device_key(path: str) -> tuple[str, str, int, int]:
    ds = pydicom.dcmread(path, stop_before_pixels=True)
    return (str(ds.get("Manufacturer", "")), str(ds.get("ManufacturerModelName", "")),
            int(ds.Rows), int(ds.Columns))


def load_recipe(path: Path):
    from deid.config import DeidRecipe

    return DeidRecipe(str(path), base=False)


def masks(recipe) -> dict[str, np.ndarray]:
    """Per filter LABEL: the pixels deid would blank (coordinates xmin,ymin,xmax,ymax)."""
    result = {}
    for item in recipe.get_filters()["scp-scanner"]:
        rows = int(next(f["value"][0] for f in item["filters"] if f["field"] == ["Rows"]))
        cols = int(next(f["value"][0] for f in item["filters"] if f["field"] == ["Columns"]))
        mask = np.zeros((rows, cols), dtype=bool)
        for value, coordinate in item["coordinates"]:
            assert value == 0                       # 'coordinates': pixels to clean
            x0, y0, x1, y1 = map(int, coordinate.split(","))
            mask[y0:y1, x0:x1] = True
        result[item["name"]] = mask
    return result


def fired(recipe, path: str) -> list[str]:
    from deid.dicom.pixels.detect import has_burned_pixels

    outcome = has_burned_pixels(path, deid=recipe)
    return [r["group"] for r in outcome["results"]] if outcome["flagged"] else []


def test_recipe_loads_in_deid_and_covers_every_identifying_box(scanned):
    truths, rows, out = scanned
    recipe_path = out / "rules.dicom"
    result = run_cli("rules", str(out / "rows.csv"), "-o", str(recipe_path))
    assert result.returncode == 0, result.stderr
    assert stat.S_IMODE(os.stat(recipe_path).st_mode) == 0o600
    recipe = load_recipe(recipe_path)
    boxes = defaultdict(list)
    for row in rows:
        if row["is_sensitive"] == "1" and row["left"] != "-1":
            boxes[device_key(row["filename"])].append(tuple(int(row[k]) for k in ("left", "top", "right", "bottom")))
    assert len(boxes) >= 3
    filters = recipe.get_filters()["scp-scanner"]
    assert len(filters) == len(boxes)          # one LABEL per device and size with findings
    by_name = masks(recipe)
    for item in filters:
        criteria = {f["field"][0]: f["value"][0] for f in item["filters"] if f["value"]}
        key = (criteria["Manufacturer"], criteria["ManufacturerModelName"],
               int(criteria["Rows"]), int(criteria["Columns"]))
        mask = by_name[item["name"]]
        for left, top, right, bottom in boxes[key]:
            assert mask[top:bottom, left:right].all(), (key, (left, top, right, bottom))
    # The two CT files share device and size: one filter for both.
    ct = [t.path for t in truths if t.case in ("ct_signed", "ct_rle")]
    assert device_key(ct[0]) == device_key(ct[1])


def test_deid_filter_matching_fires_for_the_devices_with_findings(scanned):
    truths, rows, out = scanned
    recipe_path = out / "rules2.dicom"
    assert run_cli("rules", str(out / "rows.csv"), "-o", str(recipe_path), "--margin", "2").returncode == 0
    recipe = load_recipe(recipe_path)
    with_findings = {device_key(r["filename"]) for r in rows if r["is_sensitive"] == "1" and r["left"] != "-1"}
    for truth in truths:
        expected = ["scp-scanner"] if device_key(truth.path) in with_findings else []
        assert fired(recipe, truth.path) == expected, truth.case


def test_values_deid_cannot_hold_verbatim_still_match(scanned, tmp_path):
    """deid splits filter lines on '+' and '||' and cuts at '#': such values are matched
    with `contains` on a fragment, and the filter still fires for that file only."""
    truths, rows, out = scanned
    source = next(t for t in truths if t.case == "cr_mono1").path
    ds = pydicom.dcmread(source)
    ds.Manufacturer = "ACME + Imaging #2"
    ds.ManufacturerModelName = "X||Y"
    odd = tmp_path / "odd.dcm"
    ds.save_as(odd)
    reader = csv.DictReader(io.StringIO((out / "rows.csv").read_text()))
    picked = [r for r in reader if r["filename"] == source]
    assert any(r["is_sensitive"] == "1" and r["left"] != "-1" for r in picked)
    table = tmp_path / "odd.csv"
    with open(table, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(picked[0]))
        writer.writeheader()
        writer.writerows({**r, "filename": str(odd)} for r in picked)
    recipe_path = tmp_path / "odd.dicom"
    result = run_cli("rules", str(table), "-o", str(recipe_path))
    assert result.returncode == 0, result.stderr
    text = recipe_path.read_text()
    assert r"contains Manufacturer ^acme\ .\ imaging\ .2$" in text, text
    assert "contains ManufacturerModelName ^x..y$" in text, text
    recipe = load_recipe(recipe_path)
    assert fired(recipe, str(odd)) == ["scp-scanner"]
    assert fired(recipe, source) == []


def test_rows_without_rectangles_are_reported(scanned, tmp_path):
    truths, rows, out = scanned
    whole_only = tmp_path / "whole.csv"
    with open(whole_only, "w", newline="") as handle:
        writer = csv.DictWriter(handle, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(r for r in rows if r["left"] == "-1")
    result = run_cli("rules", str(whole_only), "-o", str(tmp_path / "r.dicom"))
    assert result.returncode == 0
    assert "have no rectangle rows (scan with --rects)" in result.stderr
    assert "LABEL" not in (tmp_path / "r.dicom").read_text()
