"""PII detection: NER engines (spaCy, flair) behind one interface, plus rules (pii/rules.py).

A NER engine is a class with a `name` and `entities(text) -> list[Entity]` whose labels are
normalised to PERSON / ORG / LOC / DATE / MISC...; `create("spacy", model=None)` builds one.
Deciding what is sensitive is not the engine's job: pii/judge.py combines entities and rules.
"""
from __future__ import annotations

import importlib
from typing import Protocol

from ..model import Entity
from ..ocr import EngineError


class NerEngine(Protocol):
    name: str

    def entities(self, text: str) -> list[Entity]:
        """Named entities in text, with character offsets into it and normalised labels."""
        ...


ENGINES: dict[str, tuple[str, str, str]] = {
    "spacy": ("scp_scanner.pii.spacy_engine", "SpacyEngine", "pip install 'scp-scanner'"),
    "flair": ("scp_scanner.pii.flair_engine", "FlairEngine", "pip install 'scp-scanner[flair]'"),
}


def parse_spec(spec: str) -> tuple[str, str | None]:
    """'spacy' -> ('spacy', None); 'flair,/models/ner.pt' -> ('flair', '/models/ner.pt')."""
    name, _, model = spec.partition(",")
    return name.strip().lower(), (model.strip() or None)


def create(name: str, model: str | None = None) -> NerEngine:
    try:
        module_name, class_name, install = ENGINES[name.strip().lower()]
    except KeyError:
        raise EngineError(f"unknown PII engine {name!r}; choose one of: {', '.join(ENGINES)}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineError(f"PII engine {name!r} is not installed ({exc}); install it with: {install}") from exc
    return getattr(module, class_name)(model=model)
