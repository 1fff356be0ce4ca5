"""NER with a flair SequenceTagger, loaded offline from a file or flair's own cache.

flair's pretrained NER models come from a model hub that this tool never contacts (docs/design.md,
"Engines": nothing is downloaded at run time), so the model is either a .pt file the user gives
(`--pii flair,/path/to/tagger.pt`) or one that is already in flair's cache on this machine.
HF_HUB_OFFLINE / TRANSFORMERS_OFFLINE are set by each entry point (scp_scanner/process.py)
before flair is imported so that neither flair nor huggingface_hub tries the network, and the
cache is searched by us, locally, before flair is asked to load anything.

Labels are normalised (PER -> PERSON, LOCATION -> LOC...) so the judge reads spaCy and flair
entities alike. One torch thread: workers run one per core and must not fight over them.
"""
from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

from ..model import Entity
from ..registry import EngineError

# Friendly names flair itself accepts for its English and multilingual NER models, and the
# model-hub repositories they stand for (cached under <cache>/models/<repo name>/).
HUB_NAMES: dict[str, str] = {
    "ner": "flair/ner-english",
    "ner-fast": "flair/ner-english-fast",
    "ner-large": "flair/ner-english-large",
    "ner-ontonotes": "flair/ner-english-ontonotes",
    "ner-ontonotes-fast": "flair/ner-english-ontonotes-fast",
    "ner-ontonotes-large": "flair/ner-english-ontonotes-large",
    "ner-multi": "flair/ner-multi",
    "multi-ner": "flair/ner-multi",
    "ner-multi-fast": "flair/ner-multi-fast",
}
HUB_WEIGHTS = "pytorch_model.bin"
# What flair's trainer writes into its output folder.
TRAINED_FILES = ("final-model.pt", "best-model.pt")

# Tagger label -> the label the judge reads (CoNLL-03 PER/ORG/LOC/MISC, OntoNotes PERSON/...).
LABELS: dict[str, str] = {
    "PER": "PERSON",
    "PERS": "PERSON",
    "PERSON": "PERSON",
    "ORG": "ORG",
    "ORGANIZATION": "ORG",
    "ORGANISATION": "ORG",
    "LOC": "LOC",
    "LOCATION": "LOC",
    "MISC": "MISC",
    "DATE": "DATE",
}


def cache_root() -> Path:
    """flair's cache folder ($FLAIR_CACHE_ROOT, else ~/.flair), without importing flair."""
    return Path(os.environ.get("FLAIR_CACHE_ROOT") or Path.home() / ".flair")


def normalise_label(tag: str) -> str:
    """PER -> PERSON etc.; a stray BIO/BIOES prefix is dropped; unknown labels pass upper-cased."""
    tag = tag.strip()
    if len(tag) > 2 and tag[1] == "-" and tag[0] in "BIESLU":
        tag = tag[2:]
    upper = tag.upper()
    return LABELS.get(upper, upper)


def how_to_get_a_model() -> str:
    """The part of every 'no model' message that says what to do."""
    return (
        "pass a flair SequenceTagger file: --pii flair,/path/to/tagger.pt (the final-model.pt or "
        "best-model.pt that flair's ModelTrainer writes, or a folder holding one), or put a model "
        f"in flair's cache ({cache_root()}, set by FLAIR_CACHE_ROOT) and pass its name, e.g. "
        "--pii flair,ner. This tool never downloads: to get a pretrained model, on a machine "
        "with internet access run `python -c \"from flair.models import SequenceTagger; "
        "SequenceTagger.load('ner')\"` and copy its ~/.flair/models folder to "
        f"{cache_root() / 'models'} here, or train your own tagger with flair and pass its .pt"
    )


def _looks_like_path(model: str) -> bool:
    """A file name rather than a model name: has a weights suffix or starts like a path."""
    return model.endswith((".pt", ".bin", ".pth")) or model.startswith(("/", ".", "~")) or (
        os.sep in model and not _is_repo_id(model))


def _is_repo_id(model: str) -> bool:
    """'owner/name' (a model-hub repository id), not a filesystem path."""
    parts = model.split("/")
    return (len(parts) == 2 and all(parts) and not model.startswith((".", "/", "~"))
            and not model.endswith((".pt", ".bin", ".pth")))


def _trained_file(folder: Path) -> Path | None:
    for name in TRAINED_FILES:
        if (folder / name).is_file():
            return folder / name
    return None


def _cached_hub_model(repo_id: str) -> Path | None:
    """The weights of a hub repository as flair caches them, found without any network."""
    folder = cache_root() / "models" / repo_id.split("/", 1)[-1]
    try:
        from huggingface_hub import try_to_load_from_cache
    except ImportError:
        return None
    try:
        found = try_to_load_from_cache(repo_id=repo_id, filename=HUB_WEIGHTS, cache_dir=str(folder))
    except Exception:  # an invalid repository id is simply not cached
        return None
    return Path(found) if isinstance(found, str) and Path(found).is_file() else None


def _cached_file(name: str) -> Path | None:
    """A model file flair downloaded by URL: <cache>/models/<file name>."""
    for candidate in (cache_root() / "models" / name, cache_root() / "models" / f"{name}.pt"):
        if candidate.is_file():
            return candidate
    return None


@dataclass(frozen=True)
class ModelLocation:
    path: Path
    how: str            # "file", "folder" or "cache", for the log and error messages


def locate_model(model: str | None) -> ModelLocation:
    """Where the tagger's weights are on this machine. Raises EngineError saying what to do."""
    if not model or not model.strip():
        cached = _cached_hub_model(HUB_NAMES["ner"])
        if cached is not None:
            return ModelLocation(cached, "cache")
        raise EngineError("flair needs a NER model and none was given or found in its cache; "
                          + how_to_get_a_model())
    model = model.strip()
    path = Path(os.path.expanduser(model))
    if path.is_file():
        return ModelLocation(path, "file")
    if path.is_dir():
        found = _trained_file(path)
        if found is not None:
            return ModelLocation(found, "folder")
        raise EngineError(f"flair model folder {model} holds no {' or '.join(TRAINED_FILES)}; "
                          + how_to_get_a_model())
    repo_id = HUB_NAMES.get(model.lower(), model if _is_repo_id(model) else None)
    cached = _cached_hub_model(repo_id) if repo_id else None
    if cached is None and not _looks_like_path(model):
        cached = _cached_file(model)
    if cached is not None:
        return ModelLocation(cached, "cache")
    if _looks_like_path(model):
        raise EngineError(f"flair model file {model} does not exist; " + how_to_get_a_model())
    raise EngineError(f"flair model {model!r} is neither a file nor in flair's cache "
                      f"({cache_root() / 'models'}); " + how_to_get_a_model())


def quiet_flair_logger() -> None:
    """flair configures its own logger at import, with a handler on stdout, and logs a loaded
    tagger's whole vocabulary at INFO. stdout is `scan`'s CSV: flair's messages go to stderr,
    and below WARNING only when debugging (-d)."""
    import logging
    import sys

    logger = logging.getLogger("flair")
    for handler in logger.handlers:
        if isinstance(handler, logging.StreamHandler) and handler.stream in (sys.__stdout__, sys.stdout):
            handler.setStream(sys.stderr)
    if not logging.getLogger().isEnabledFor(logging.DEBUG):
        logger.setLevel(logging.WARNING)


class FlairEngine:
    """Named entities from a flair SequenceTagger, with character offsets into the text."""

    name = "flair"

    def __init__(self, model: str | None = None, *, threads: int | None = None):
        location = locate_model(model)
        try:
            import torch
            from flair.data import Sentence
            from flair.models import SequenceTagger
        except ImportError as exc:
            raise EngineError(f"flair is not installed ({exc}); install it with: "
                              "pip install 'scp-scanner[flair]'") from exc
        quiet_flair_logger()
        torch.set_num_threads(max(1, int(threads or 1)))
        try:
            tagger = SequenceTagger.load(str(location.path))
        except Exception as exc:  # a corrupt file, a pickle of something else, missing embeddings
            raise EngineError(f"flair could not load the model {location.path} ({type(exc).__name__}: "
                              f"{exc}); it must be a flair SequenceTagger. " + how_to_get_a_model()) from exc
        if not isinstance(tagger, SequenceTagger):
            raise EngineError(f"{location.path} is a {type(tagger).__name__}, not a flair SequenceTagger; "
                              + how_to_get_a_model())
        tagger.eval()
        self._tagger = tagger
        self._sentence = Sentence
        self.model_path = location.path
        self.label_type = tagger.label_type

    def entities(self, text: str) -> list[Entity]:
        if not text or not text.strip():
            return []
        sentence = self._sentence(text)      # flair's default tokenizer, as in training
        if len(sentence) == 0:
            return []
        self._tagger.predict(sentence)
        out = []
        for span in sentence.get_spans(self.label_type):
            start, end = span.start_position, span.end_position
            out.append(Entity(start, end, normalise_label(span.tag), text[start:end]))
        return out
