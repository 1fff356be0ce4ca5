"""The flair NER engine with a real SequenceTagger trained by the tests (tests/flair_model.py).

No pretrained flair model can be fetched here, and none ever is: the engine finds its model in
a given file/folder or in flair's cache, offline.
"""
from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from scp_scanner import pii
from scp_scanner.ocr import EngineError
from scp_scanner.pii.flair_engine import FlairEngine, locate_model, normalise_label

TEXT = "Patient John Smith seen at Ninewells Hospital Dundee"


@pytest.fixture(scope="module")
def engine(flair_tagger) -> FlairEngine:
    return pii.create("flair", str(flair_tagger))


def test_finds_person_org_and_place_with_offsets_into_the_text(engine):
    found = engine.entities(TEXT)
    assert engine.name == "flair"
    by_label = {e.label: e for e in found}
    assert by_label["PERSON"].text == "John Smith"
    assert TEXT[by_label["PERSON"].start:by_label["PERSON"].end] == "John Smith"
    assert by_label["ORG"].text == "Ninewells Hospital"
    assert by_label["LOC"].text == "Dundee"
    assert all(TEXT[e.start:e.end] == e.text for e in found)


def test_offsets_survive_extra_spaces_and_upper_case(engine):
    text = "  Patient   MARY BROWN ,  Dundee"
    people = [e for e in engine.entities(text) if e.label == "PERSON"]
    assert [(text[e.start:e.end], e.text) for e in people] == [("MARY BROWN", "MARY BROWN")]


def test_text_without_entities_and_empty_text(engine):
    assert engine.entities("") == [] and engine.entities("   ") == []
    assert [e for e in engine.entities("CT ABDOMEN WITH CONTRAST") if e.label == "PERSON"] == []


def test_a_trainer_output_folder_is_accepted(flair_tagger):
    location = locate_model(str(flair_tagger.parent))
    assert location.path == flair_tagger and location.how == "folder"


def test_a_model_name_is_found_in_flairs_cache_offline(flair_tagger, tmp_path, monkeypatch):
    """`--pii flair,ner` loads flair/ner-english from the cache as flair's hub download
    stores it; nothing is fetched (here the cached weights are our tiny tagger)."""
    repo = tmp_path / "models" / "ner-english" / "models--flair--ner-english"
    snapshot = repo / "snapshots" / "0123456789abcdef"
    snapshot.mkdir(parents=True)
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("0123456789abcdef")
    shutil.copy(flair_tagger, snapshot / "pytorch_model.bin")
    monkeypatch.setenv("FLAIR_CACHE_ROOT", str(tmp_path))
    engine = FlairEngine("ner")
    assert engine.model_path == snapshot / "pytorch_model.bin"
    assert "PERSON" in {e.label for e in engine.entities(TEXT)}
    assert locate_model(None).how == "cache"      # no model named: the cached English one


def test_no_model_given_and_nothing_cached_says_what_to_pass(tmp_path, monkeypatch):
    monkeypatch.setenv("FLAIR_CACHE_ROOT", str(tmp_path / "empty-cache"))
    with pytest.raises(EngineError) as caught:
        pii.create("flair", None)
    message = str(caught.value)
    assert "--pii flair,/path/to/tagger.pt" in message
    assert str(tmp_path / "empty-cache") in message
    assert "never downloads" in message


def test_missing_file_and_uncached_name_are_named(tmp_path, monkeypatch):
    monkeypatch.setenv("FLAIR_CACHE_ROOT", str(tmp_path / "cache"))
    with pytest.raises(EngineError, match=r"flair model file .*nope\.pt does not exist.*--pii flair,"):
        pii.create("flair", str(tmp_path / "nope.pt"))
    with pytest.raises(EngineError, match=r"flair model 'ner-large' is neither a file nor in flair's cache"):
        pii.create("flair", "ner-large")
    with pytest.raises(EngineError, match=r"holds no final-model.pt or best-model.pt"):
        pii.create("flair", str(tmp_path))


def test_a_file_that_is_not_a_tagger_is_refused(tmp_path):
    bogus = tmp_path / "tagger.pt"
    bogus.write_bytes(b"this is not a model")
    with pytest.raises(EngineError, match="must be a flair SequenceTagger"):
        FlairEngine(str(bogus))


def test_labels_are_normalised():
    assert [normalise_label(t) for t in ("PER", "PERSON", "ORG", "LOC", "MISC", "DATE", "B-PER",
                                         "S-LOC", "location", "GPE")] == \
        ["PERSON", "PERSON", "ORG", "LOC", "MISC", "DATE", "PERSON", "LOC", "LOC", "GPE"]


def test_engine_runs_on_one_torch_thread(engine):
    import torch

    assert torch.get_num_threads() == 1
    assert isinstance(engine.model_path, Path)
