"""A real flair SequenceTagger, trained by the tests themselves in seconds.

flair's pretrained NER models live on a model hub that cannot be reached here, and no PyPI
package carries them (docs/facts.md, "NER"). So tests train a tiny tagger: ~300 synthetic clinical
sentences with PER/ORG/LOC spans, one-hot word embeddings built from that corpus, a 32-unit
BiLSTM-CRF, 10 epochs, one torch thread (~2-3 s; with torch's default thread count on a busy
2-core machine training took 70 s). It is saved as `final-model.pt`, exactly what flair's own
trainer writes, and loaded by the engine like any user's model.

Use `train_tiny_tagger(folder)` directly, or the session-scoped `flair_tagger` fixture
(register it in tests/conftest.py with `from flair_model import flair_tagger`).
"""
from __future__ import annotations

import os
import random
import warnings
from pathlib import Path

import pytest

# Nothing may be fetched: set before flair (and huggingface_hub through it) is imported.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ["TRANSFORMERS_OFFLINE"] = "1"

FIRST_NAMES = ("John", "Mary", "James", "Fiona", "David", "Susan", "Robert", "Karen", "Alan",
               "Helen", "Peter", "Morag", "Iain", "Elaine", "George", "Ruth")
LAST_NAMES = ("Smith", "Brown", "Wilson", "Campbell", "Stewart", "Robertson", "Thomson",
              "Anderson", "MacDonald", "Reid", "Murray", "Taylor", "Doe", "Clark", "Ross", "Young")
ORGS = ("Ninewells Hospital", "Royal Infirmary", "Western General", "Victoria Hospital",
        "Perth Royal Infirmary", "Stracathro Hospital", "NHS Tayside", "NHS Lothian")
PLACES = ("Dundee", "Edinburgh", "Glasgow", "Perth", "Aberdeen", "Kirkcaldy", "Forfar", "Arbroath")
# Text with no entity at all: what most burned-in annotation looks like.
PLAIN = ("CT ABDOMEN WITH CONTRAST", "L 25cm", "Series 3 Image 14", "W 400 L 40",
         "Axial 5.0 mm", "DOB 12/03/1961", "kVp 120 mA 200", "Study date 04/11/2019",
         "Left lateral view", "Gain 45 dB Depth 16 cm")

# (template, slots) where each slot is filled and labelled; {x} marks a slot.
TEMPLATES = (
    "Patient {PER} seen at {ORG} {LOC}",
    "Patient {PER} DOB 12/03/1961",
    "{PER} was referred by Dr {PER} from {ORG}",
    "Name {PER} Hospital {ORG}",
    "Referred to {ORG} in {LOC} by {PER}",
    "Report for {PER} , {ORG} , {LOC}",
    "Dr {PER} {ORG}",
    "{PER} CT ABDOMEN {LOC}",
    "Seen by {PER} at {ORG}",
    "Scanned in {LOC} at {ORG} for {PER}",
)

TAG_TYPE = "ner"
SENTENCES = 300
EPOCHS = 10
HIDDEN_SIZE = 32

_trained: dict[str, Path] = {}     # one training per process, however many fixtures ask


def _fill(template: str, rng: random.Random) -> tuple[str, list[tuple[int, int, str]]]:
    """One sentence from a template and the character spans of its entities."""
    text, spans = "", []
    rest = template
    while "{" in rest:
        before, _, after = rest.partition("{")
        label, _, rest = after.partition("}")
        text += before
        if label == "PER":
            value = f"{rng.choice(FIRST_NAMES)} {rng.choice(LAST_NAMES)}"
            if rng.random() < 0.3:
                value = value.upper()
        elif label == "ORG":
            value = rng.choice(ORGS)
        else:
            value = rng.choice(PLACES)
        spans.append((len(text), len(text) + len(value), label))
        text += value
    return text + rest, spans


def synthetic_sentences(count: int = SENTENCES, seed: int = 7):
    """`count` flair Sentences (flair's own tokenizer, as at inference) labelled PER/ORG/LOC."""
    from flair.data import Sentence

    rng = random.Random(seed)
    out = []
    for i in range(count):
        if i % 5 == 4:
            text, spans = rng.choice(PLAIN), []
        else:
            text, spans = _fill(rng.choice(TEMPLATES), rng)
        sentence = Sentence(text)
        for start, end, label in spans:
            inside = [t.idx - 1 for t in sentence if t.start_position >= start and t.end_position <= end]
            sentence[inside[0]:inside[-1] + 1].add_label(TAG_TYPE, label)
        out.append(sentence)
    return out


def train_tiny_tagger(out_dir: str | Path) -> Path:
    """Train a real flair SequenceTagger in a few seconds; returns out_dir/final-model.pt."""
    out_dir = Path(out_dir)
    cached = _trained.get(str(out_dir))
    if cached is not None and cached.is_file():
        return cached
    import flair
    import torch
    from flair.data import Corpus
    from flair.datasets import FlairDatapointDataset
    from flair.embeddings import OneHotEmbeddings
    from flair.models import SequenceTagger
    from flair.trainers import ModelTrainer

    torch.set_num_threads(1)
    flair.set_seed(7)
    sentences = synthetic_sentences()
    cut = int(len(sentences) * 0.8)
    corpus = Corpus(FlairDatapointDataset(sentences[:cut]), dev=FlairDatapointDataset(sentences[cut:]),
                    test=FlairDatapointDataset(sentences[cut:]), sample_missing_splits=False)
    tags = corpus.make_label_dictionary(label_type=TAG_TYPE, add_unk=False)
    embeddings = OneHotEmbeddings.from_corpus(corpus, min_freq=1)
    tagger = SequenceTagger(embeddings=embeddings, tag_dictionary=tags, tag_type=TAG_TYPE,
                            hidden_size=HIDDEN_SIZE, use_crf=True)
    out_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings():   # flair 0.15 calls torch.cuda.amp.GradScaler, deprecated
        warnings.filterwarnings("ignore", message=r".*GradScaler", category=FutureWarning)
        ModelTrainer(tagger, corpus).train(out_dir, max_epochs=EPOCHS, learning_rate=0.1,
                                           mini_batch_size=16, create_file_logs=False,
                                           create_loss_file=False, save_final_model=True)
    model = out_dir / "final-model.pt"
    if not model.is_file():
        raise RuntimeError(f"flair training finished without writing {model}")
    _trained[str(out_dir)] = model
    return model


@pytest.fixture(scope="session")
def flair_tagger(tmp_path_factory) -> Path:
    """Path to a tiny trained flair SequenceTagger (.pt), trained once per test session."""
    if "session" in _trained and _trained["session"].is_file():
        return _trained["session"]
    model = train_tiny_tagger(tmp_path_factory.mktemp("flair-tagger"))
    _trained["session"] = model
    return model
