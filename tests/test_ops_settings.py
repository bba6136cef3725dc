"""METRICS_PORT, METRICS_HOST and LOG_FORMAT: read, checked, and errors that name the setting
(never the token)."""

from __future__ import annotations

import io
import json
import logging

import pytest

from bot.config import BotConfigError, BotSettings
from index.errors import SettingsError
from index.ops.address import MetricsAddress, metrics_address
from index.process.log_setup import JsonFormatter, configure_logging, log_fields

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_metrics_are_off_unless_the_port_is_set() -> None:
    assert metrics_address({}) is None
    assert metrics_address({"METRICS_PORT": " ", "METRICS_HOST": "0.0.0.0"}) is None


def test_the_port_binds_loopback_unless_the_host_says_otherwise() -> None:
    assert metrics_address({"METRICS_PORT": "9108"}) == MetricsAddress("127.0.0.1", 9108)
    wide = metrics_address({"METRICS_PORT": "9108", "METRICS_HOST": "0.0.0.0"})
    assert wide == MetricsAddress("0.0.0.0", 9108)
    assert wide.local_url == "http://127.0.0.1:9108"  # what `articlebot health` asks
    assert MetricsAddress("::", 9).local_url == "http://[::1]:9"
    assert metrics_address({"METRICS_PORT": "0"}) == MetricsAddress("127.0.0.1", 0)


@pytest.mark.parametrize(
    ("env", "named"),
    [
        ({"METRICS_PORT": "ninety"}, "METRICS_PORT must be a TCP port number"),
        ({"METRICS_PORT": "70000"}, "METRICS_PORT must be between 0 and 65535"),
        ({"METRICS_PORT": "-1"}, "METRICS_PORT must be between 0 and 65535"),
        ({"METRICS_PORT": "9108", "METRICS_HOST": "http://x/"}, "METRICS_HOST must be"),
        ({"METRICS_PORT": "9108", "METRICS_HOST": "a b"}, "METRICS_HOST must be"),
    ],
)
def test_bad_values_are_one_error_naming_the_setting(env: dict[str, str], named: str) -> None:
    with pytest.raises(SettingsError, match=named):
        metrics_address(env)
    with pytest.raises(BotConfigError, match=named) as caught:
        BotSettings.from_env({"DISCORD_TOKEN": TOKEN, **env})
    assert TOKEN not in str(caught.value) and TOKEN.split(".")[0] not in str(caught.value)


def test_the_bot_reads_the_address() -> None:
    settings = BotSettings.from_env({"DISCORD_TOKEN": TOKEN, "METRICS_PORT": "9300"})
    assert settings.metrics == MetricsAddress("127.0.0.1", 9300)
    assert BotSettings.from_env({"DISCORD_TOKEN": TOKEN}).metrics is None
    assert TOKEN not in repr(settings)


def test_log_format_is_text_or_json() -> None:
    with pytest.raises(SettingsError, match="LOG_FORMAT must be text or json, got 'xml'"):
        configure_logging("INFO", {"LOG_FORMAT": "xml"})


def test_json_lines_carry_the_fields_from_extra_or_the_context() -> None:
    out = io.StringIO()
    logger = logging.getLogger("test.ops.json")
    handler = logging.StreamHandler(out)
    handler.setFormatter(JsonFormatter())
    logger.addHandler(handler)
    logger.setLevel(logging.INFO)
    logger.propagate = False
    try:
        with log_fields(guild=7, generation=None):
            logger.info("inside", extra={"question_id": 3})
            with log_fields(generation="g1"):
                logger.warning("nested")
        logger.info("outside")
    finally:
        logger.removeHandler(handler)
    first, nested, outside = (json.loads(line) for line in out.getvalue().splitlines())
    assert first["guild"] == 7 and first["question_id"] == 3 and "generation" not in first
    assert nested["guild"] == 7 and nested["generation"] == "g1" and nested["level"] == "WARNING"
    assert outside.keys() == {"time", "level", "logger", "message"}
    assert outside["time"].endswith("Z") and outside["message"] == "outside"
