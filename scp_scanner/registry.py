"""Engines chosen by name: one small registry shape shared by OCR and PII engines.

A registry maps a name to (module, class, how to install it). The module is imported only
when the engine is asked for, so an extra that is not installed costs nothing until used,
and then fails with a message that says how to install it.
"""
from __future__ import annotations

import importlib
from typing import Any

from .errors import ScannerError


class EngineError(ScannerError, RuntimeError):
    """An engine cannot be used: unknown name, missing package or model. The message says why."""


Registry = dict[str, tuple[str, str, str]]


def create(kind: str, registry: Registry, name: str, **options: Any) -> Any:
    """Build the engine `name` of `registry` with `options`; `kind` ("OCR", "PII") names it
    in errors."""
    try:
        module_name, class_name, install = registry[name.strip().lower()]
    except KeyError:
        raise EngineError(f"unknown {kind} engine {name!r}; choose one of: {', '.join(registry)}") from None
    try:
        module = importlib.import_module(module_name)
    except ImportError as exc:
        raise EngineError(f"{kind} engine {name!r} is not installed ({exc}); install it with: {install}") from exc
    return getattr(module, class_name)(**options)
