"""Logging for the CLI and the bot: LOG_LEVEL, and LOG_FORMAT=json for services (one object a line)."""

from __future__ import annotations

import contextlib
import contextvars
import json
import logging
import os
import sys
import time
from collections.abc import Iterator, Mapping
from types import MappingProxyType
from typing import Any

from index.errors import SettingsError

LEVELS = ("DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"
# FAISS's loader logs nine INFO lines ("Could not load library with AVX512 support due to:
# ModuleNotFoundError ...") at every start, where nothing is wrong (issue 21): shown at DEBUG only.
CHATTY = ("faiss.loader", "faiss")
# What a JSON line adds when known: from the record (``log.info(..., extra={...})``), else from the
# context ``log_fields`` set (a question's guild, for every line logged while it is answered).
FIELDS = ("question_id", "guild", "generation")
_CONTEXT: contextvars.ContextVar[Mapping[str, Any]] = contextvars.ContextVar(
    "articlebot_log_fields", default=MappingProxyType({})
)


@contextlib.contextmanager
def log_fields(**fields: Any) -> Iterator[None]:
    """Add ``fields`` (of FIELDS) to the JSON lines logged inside the block (this task/thread)."""
    known = {k: v for k, v in fields.items() if v is not None}
    token = _CONTEXT.set(MappingProxyType({**_CONTEXT.get(), **known}))
    try:
        yield
    finally:
        _CONTEXT.reset(token)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time (UTC, ISO 8601), level, logger, message, the FIELDS
    known, exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "time": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created))
            + f".{int(record.msecs):03d}Z",
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
        }
        context = _CONTEXT.get()
        for name in FIELDS:
            value = getattr(record, name, context.get(name))
            if value is not None:
                entry[name] = value
        if record.exc_info:
            entry["exception"] = self.formatException(record.exc_info)
        return json.dumps(entry, ensure_ascii=False)


def configure_logging(default_level: str, env: Mapping[str, str] | None = None) -> None:
    """Root logging to stderr at LOG_LEVEL (else ``default_level``), as text or JSON (LOG_FORMAT)."""
    env = os.environ if env is None else env
    level = (env.get("LOG_LEVEL") or default_level).strip().upper()
    if level not in LEVELS:
        raise SettingsError(f"LOG_LEVEL must be one of {', '.join(LEVELS)}, got {level!r}")
    style = (env.get("LOG_FORMAT") or "text").strip().lower()
    if style not in ("text", "json"):
        raise SettingsError(f"LOG_FORMAT must be text or json, got {style!r}")
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter() if style == "json" else logging.Formatter(TEXT_FORMAT))
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)
    for name in CHATTY:  # libraries' chatter at start-up reads like errors to a newcomer
        logging.getLogger(name).setLevel(logging.NOTSET if level == "DEBUG" else logging.WARNING)
