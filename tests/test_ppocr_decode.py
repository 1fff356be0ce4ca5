"""ppocr_decode reads the models' outputs exactly as RapidOCR's own post-processing does.

Real outputs: the real PP-OCRv6 models run on generated ultrasound, CT, overlay and JPEG
images and on one of pydicom's real ultrasound files; every detector map and every line's
probabilities go through both RapidOCR's `DBPostProcess` / `CTCLabelDecode` and ours, and the
boxes (values and types) and texts with scores must be equal.
"""
from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest
from pydicom.data import get_testdata_file

import dicomgen
from scp_scanner.dicom import iter_images, read_dataset
from scp_scanner.ocr import rapidocr_engine as engine_module
from scp_scanner.ocr.ppocr_decode import DbSettings, alphabet_of, ctc_greedy, db_boxes, sure_regions
from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine


@pytest.fixture(scope="module")
def outputs(tmp_path_factory):
    """(detector maps, recogniser probabilities) of a real engine's reads."""
    engine = RapidOcrEngine(model_cache=False)
    maps, lines = [], []
    det_run, rec_run = engine._det.run, engine._rec.run

    class Recording:
        def __init__(self, session, into):
            self.session, self.into = session, into

        def run(self, names, feed, *args):
            out = self.session.run(names, feed, *args)
            self.into.append(out[0])
            return out

        def __getattr__(self, name):
            return getattr(self.session, name)

    engine._det, engine._rec = Recording(engine._det, maps), Recording(engine._rec, lines)
    folder = tmp_path_factory.mktemp("decode")
    paths = [dicomgen.build_case(case, folder / f"{case}.dcm", seed=5).path
             for case in ("us_rgb", "ct_signed", "mr_overlay", "us_jpeg_baseline")]
    paths.append(get_testdata_file("US1_UNCR.dcm") or pytest.fail("pydicom's US1_UNCR.dcm is missing"))
    for path in paths:
        for image in iter_images(read_dataset(path)):
            engine.read(image)
    assert det_run and rec_run
    return maps, [probs for batch in lines for probs in batch], engine


def test_boxes_equal_rapidocrs_db_post_processing(outputs):
    from rapidocr.ch_ppocr_det.utils import DBPostProcess

    maps, _, _ = outputs
    theirs = DBPostProcess(thresh=engine_module.DB_THRESH, box_thresh=engine_module.DB_BOX_THRESH,
                           unclip_ratio=engine_module.DB_UNCLIP, use_dilation=True, score_mode="fast")
    settings = DbSettings(engine_module.DB_THRESH, engine_module.DB_BOX_THRESH, engine_module.DB_UNCLIP)
    boxes = 0
    for out in maps:
        expected, _ = theirs(out, out.shape[2:])
        got = db_boxes(out[0, 0], settings)
        assert len(got) == len(expected)
        for mine, their in zip(got, expected):
            assert mine.dtype == their.dtype and np.array_equal(mine, their)
        boxes += len(got)
    assert len(maps) >= 10 and boxes >= 40, (len(maps), boxes)


def test_texts_and_scores_equal_rapidocrs_ctc_decoding(outputs):
    from rapidocr.ch_ppocr_rec.utils import CTCLabelDecode

    _, lines, engine = outputs
    characters = engine._rec.get_modelmeta().custom_metadata_map["character"].splitlines()
    theirs = CTCLabelDecode(character=list(characters))
    alphabet = alphabet_of(characters)
    assert alphabet == theirs.character
    texts = 0
    for probs in lines:
        (expected, _) = theirs(probs[None])
        assert ctc_greedy(probs, alphabet) == expected[0]
        texts += bool(expected[0][0])
    assert texts >= 30, texts


def test_empty_inputs():
    assert db_boxes(np.zeros((64, 96), np.float32), DbSettings()) == []
    probs = np.zeros((5, 4), np.float32)
    probs[:, 0] = 1.0                              # blank at every step
    assert ctc_greedy(probs, ["blank", "a", "b", " "]) == ("", 0.0)
    probs = np.eye(4, dtype=np.float32)[[1, 1, 0, 1, 2]]
    assert ctc_greedy(probs, ["blank", "a", "b", " "]) == ("aab", 1.0)


def test_sure_regions_are_the_maps_regions_above_the_level():
    prob = np.zeros((40, 100), np.float32)
    prob[5:12, 10:60] = 0.8          # a line the map is sure of
    prob[20:26, 70:90] = 0.45        # a line it is not sure enough of
    prob[30:32, 20:30] = 0.9         # a short one, 2 rows high
    prob[35, 50] = 0.9               # a dot
    assert sure_regions(prob, 0.5) == [(10, 5, 60, 12), (20, 30, 30, 32)]
    assert sure_regions(prob, 0.4) == [(10, 5, 60, 12), (70, 20, 90, 26), (20, 30, 30, 32)]
    assert sure_regions(np.zeros((8, 8), np.float32), 0.5) == []


def test_building_the_engine_does_not_load_rapidocrs_pipeline():
    """Only the model files come from the rapidocr package: none of its pipeline modules
    (configuration, model resolver, download helpers and their HTTP client) is imported."""
    code = ("import json, sys; from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine; RapidOcrEngine(); "
            "print(json.dumps(sorted(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    loaded = json.loads(done.stdout.strip().splitlines()[-1])
    assert "onnxruntime" in loaded and "rapidocr" in loaded
    assert not [m for m in loaded if m.split(".")[0] in ("requests", "omegaconf")
                or m.startswith(("rapidocr.ch_ppocr", "rapidocr.inference_engine", "rapidocr.main"))]


def test_kept_columns_read_as_the_whole_output_with_the_others_zeroed(outputs):
    # The engine keeps only the Latin classes' columns of the recogniser's output; decoding
    # them gives what the whole output gives with every other class set to 0.
    _, lines, engine = outputs
    characters = engine._rec.get_modelmeta().custom_metadata_map["character"].splitlines()
    alphabet = alphabet_of(characters)
    zeroed = np.ones(len(alphabet), np.float32)
    zeroed[np.setdiff1d(np.arange(len(alphabet)), engine._classes)] = 0.0
    assert engine._alphabet[0] == "blank" and " " in engine._alphabet and len(engine._alphabet) < 300
    assert all(engine._alphabet[i] == ch for ch, i in engine._index.items())
    for probs in lines:
        assert probs.shape[1] == len(alphabet)
        assert ctc_greedy(probs[:, engine._classes], engine._alphabet) == ctc_greedy(probs * zeroed, alphabet)
