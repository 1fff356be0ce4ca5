"""config.py: defaults, the documented YAML, overrides, and errors that name the key."""
from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from scp_scanner import config as cfg

REPO = Path(__file__).resolve().parents[1]


def test_defaults_are_the_documented_ones():
    config = cfg.load(None)
    assert (config.network.port, config.network.ae_title, config.network.max_pdu) == (11112, "SCP_SCANNER", 131072)
    assert config.storage.spool_dir == "var/spool" and config.output.output_dir == "var/output"
    assert config.storage.archive_dir == ""
    assert (config.processing.ocr, config.processing.pii, config.processing.rects) == ("rapidocr", "spacy", True)


def test_bundled_yaml_equals_the_defaults_and_documents_every_key():
    path = REPO / "config" / "scp-scanner.yaml"
    assert cfg.load(path) == cfg.load(None)
    data = yaml.safe_load(path.read_text())
    text = path.read_text()
    for section_name, section in data.items():
        defaults = getattr(cfg.ServeConfig(), section_name)
        assert set(section) == set(vars(defaults)), section_name        # every key is present
        for key in section:
            # each key is explained by a comment line above it
            line_index = next(i for i, line in enumerate(text.splitlines())
                              if line.strip().startswith(f"{key}:"))
            assert text.splitlines()[line_index - 1].strip().startswith("#"), key


@pytest.mark.parametrize("data, message", [
    ({"network": {"port": "abc"}}, "network.port: must be an integer"),
    ({"network": {"port": 70000}}, "network.port: must be between 1 and 65535"),
    ({"network": {"ae_title": "A" * 17}}, "network.ae_title:"),
    ({"network": {"bogus": 1}}, "network.bogus: unknown key"),
    ({"nonsense": {}}, "nonsense: unknown section"),
    ({"storage": {"fsync": "yes"}}, "storage.fsync: must be true or false"),
    ({"access": {"client_addresses": ["10.0.0.0/8", "not-an-ip"]}}, "access.client_addresses[1]"),
    ({"tls": {"enabled": True}}, "tls.certificate: required"),
    ({"output": {"roll_interval": "weekly"}}, "output.roll_interval: must be daily, hourly"),
    ({"processing": {"nice": 40}}, "processing.nice: must be between 0 and 19"),
    ({"processing": {"ocr_min_confidence": 120}}, "processing.ocr_min_confidence: must be between 0 and 100"),
    ({"processing": {"gpu": "yes please"}}, "processing.gpu: must be auto, cpu, cuda or cuda:N"),
    ({"processing": {"gpu": True}}, "processing.gpu: must be a string"),
    ({"logging": {"level": "LOUD"}}, "logging.level: must be one of"),
    ([1, 2], "(top level)"),
])
def test_errors_name_the_key(data, message):
    with pytest.raises(cfg.ConfigError) as info:
        cfg.from_mapping(data)
    assert str(info.value).startswith(message)


def test_yaml_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("network: [unclosed\n")
    with pytest.raises(cfg.ConfigError, match="bad.yaml: not valid YAML"):
        cfg.load(bad)
    with pytest.raises(cfg.ConfigError, match="cannot read"):
        cfg.load(tmp_path / "missing.yaml")


def test_overrides_and_roll_interval():
    config = cfg.override(cfg.load(None), "network", port=4242, host=None)
    assert config.network.port == 4242 and config.network.host == "127.0.0.1"
    with pytest.raises(cfg.ConfigError, match="network.port"):
        cfg.override(config, "network", port=0)
    assert cfg.roll_seconds("daily") == 86400 and cfg.roll_seconds("never") is None
    assert cfg.roll_seconds("90") == 90.0
    assert cfg.engine_or_none("none") is None and cfg.engine_or_none("spacy") == "spacy"
    lists = cfg.from_mapping({"access": {"calling_ae_titles": ["PACS", "MODALITY"]}})
    assert lists.access.calling_ae_titles == ("PACS", "MODALITY")


def test_engine_options_reach_the_pipeline_settings():
    from scp_scanner.scp.service import pipeline_settings

    config = cfg.from_mapping({"processing": {"ocr": "easyocr", "ocr_min_confidence": 55,
                                              "easyocr_model_dir": "/models/easyocr", "gpu": "cpu",
                                              "tessdata_dir": "/td"}})
    options = dict(pipeline_settings(config).ocr_options)
    assert options == {"min_confidence": 55.0, "gpu": "cpu", "model_dir": "/models/easyocr", "tessdata": "/td"}


def test_ocr_min_confidence_unset_leaves_the_engines_their_own_thresholds():
    default = cfg.from_mapping({})
    assert default.processing.ocr_min_confidence is None
    assert "min_confidence" not in dict(cfg.ocr_options(default.processing))
    assert cfg.from_mapping({"processing": {"ocr_min_confidence": None}}).processing.ocr_min_confidence is None
    shipped = Path(__file__).resolve().parent.parent / "config" / "scp-scanner.yaml"
    assert cfg.load(shipped).processing.ocr_min_confidence is None
    with pytest.raises(cfg.ConfigError, match="processing.ocr_min_confidence: must be a number"):
        cfg.from_mapping({"processing": {"ocr_min_confidence": "high"}})


def test_metrics_and_reasons_keys():
    config = cfg.load(None)
    assert (config.metrics.port, config.metrics.host, config.output.reasons) == (0, "127.0.0.1", False)
    assert cfg.from_mapping({"metrics": {"port": None}}).metrics.port == 0      # `port:` empty = off
    on = cfg.from_mapping({"metrics": {"port": 9464, "host": "::1"}, "output": {"reasons": True}})
    assert (on.metrics.port, on.metrics.host, on.output.reasons) == (9464, "::1", True)
    for data, message in [({"metrics": {"port": 70000}}, "metrics.port: must be 0 .off. or between"),
                          ({"metrics": {"port": 11112}}, "metrics.port: must differ from network.port"),
                          ({"metrics": {"port": 9464, "host": "bad host!"}}, "metrics.host"),
                          ({"metrics": {"port": "x"}}, "metrics.port: must be an integer"),
                          ({"output": {"reasons": "yes"}}, "output.reasons: must be true or false")]:
        with pytest.raises(cfg.ConfigError, match=message):
            cfg.from_mapping(data)


def test_hardening_keys_are_validated():
    with pytest.raises(cfg.ConfigError, match="processing.max_frames: must be at least 1"):
        cfg.from_mapping({"processing": {"max_frames": 0}})
    with pytest.raises(cfg.ConfigError, match="processing.worker_memory_mb: must be 0"):
        cfg.from_mapping({"processing": {"worker_memory_mb": 100}})
    with pytest.raises(cfg.ConfigError, match="network.max_pending_per_address: must be at least 1"):
        cfg.from_mapping({"network": {"max_pending_per_address": 0}})
    limits = cfg.decode_limits(cfg.from_mapping({"processing": {"max_decoded_mb": 10}}).processing)
    assert limits.max_decoded_bytes == 10 << 20 and limits.max_frames == 20000


@pytest.mark.parametrize("option", ["lexicon", "header_words", "screen_words"])
def test_rapidocrs_reading_aids_are_on_by_default_and_in_the_shipped_file_and_turn_off(option):
    """processing.lexicon, header_words and screen_words: on unless set false, and passed to
    the rapidocr engine, which takes each as a keyword, when off."""
    import inspect

    from scp_scanner.ocr.rapidocr_engine import RapidOcrEngine

    assert (option, False) not in cfg.ocr_options(cfg.ProcessingConfig())
    off = cfg.from_mapping({"processing": {option: False}}).processing
    assert (option, False) in cfg.ocr_options(off)
    shipped = Path(__file__).resolve().parent.parent / "config" / "scp-scanner.yaml"
    assert getattr(cfg.load(shipped).processing, option) is True
    assert option in inspect.signature(RapidOcrEngine).parameters
