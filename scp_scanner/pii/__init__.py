"""PII detection: NER engines (spaCy, flair) behind one interface, plus rules (pii/rules.py).

A NER engine is a class with a `name` and `entities(text) -> list[Entity]` whose labels are
normalised to PERSON / ORG / LOC / DATE / MISC...; `create("spacy", model=None)` builds one.
Deciding what is sensitive is not the engine's job: pii/judge.py combines entities and rules.
"""
from __future__ import annotations

from typing import Protocol

from ..model import Entity
from .. import registry
from ..registry import EngineError


class NerEngine(Protocol):
    name: str

    def entities(self, text: str) -> list[Entity]:
        """Named entities in text, with character offsets into it and normalised labels."""
        ...


ENGINES: registry.Registry = {
    "spacy": ("scp_scanner.pii.spacy_engine", "SpacyEngine", "pip install 'scp-scanner'"),
    "flair": ("scp_scanner.pii.flair_engine", "FlairEngine", "pip install 'scp-scanner[flair]'"),
}


# Engines that may be loaded in a process that then forks its workers (ocr/__init__.py):
# spaCy runs on the CPU here, and flair brings torch.
FORK_SAFE = frozenset({"spacy"})


def parse_spec(spec: str) -> tuple[str, str | None]:
    """'spacy' -> ('spacy', None); 'flair,/models/ner.pt' -> ('flair', '/models/ner.pt')."""
    name, _, model = spec.partition(",")
    return name.strip().lower(), (model.strip() or None)


def create(name: str, model: str | None = None) -> NerEngine:
    return registry.create("PII", ENGINES, name, model=model)


__all__ = ["ENGINES", "FORK_SAFE", "EngineError", "NerEngine", "create", "parse_spec"]
