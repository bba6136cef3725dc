"""The running bot's heartbeat file, and the check a container or a service manager runs on it.

The bot rewrites the file every HEARTBEAT_EVERY_S seconds while it is connected to Discord; `articlebot
health` exits 0 when the file is fresh, 1 (with one line saying why) when it is missing or stale.
"""

from __future__ import annotations

import os
import time
from collections.abc import Mapping
from pathlib import Path

from index.config import under_home

HEARTBEAT_EVERY_S = 30.0
DEFAULT_MAX_AGE_S = 120.0  # four missed beats: stuck or disconnected
DEFAULT_FILE = "var/bot.heartbeat"


def heartbeat_path(env: Mapping[str, str] | None = None) -> Path:
    """BOT_HEARTBEAT_FILE, default var/bot.heartbeat below ARTICLEBOT_HOME."""
    env = os.environ if env is None else env
    return under_home(env.get("BOT_HEARTBEAT_FILE") or DEFAULT_FILE, env)


def write_heartbeat(path: Path, now: float | None = None) -> None:
    """Record ``now`` (default: the time) atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp")
    tmp.write_text(f"{time.time() if now is None else now:.3f}\n", encoding="utf-8")
    os.replace(tmp, path)


def check_heartbeat(path: Path, max_age_s: float, now: float | None = None) -> str | None:
    """None when the bot beat within ``max_age_s``; else the one line saying what is wrong."""
    try:
        beat = float(path.read_text(encoding="utf-8").strip())
    except FileNotFoundError:
        return f"no heartbeat file {path}: the bot is not running (or not connected yet)"
    except (OSError, ValueError) as exc:
        return f"heartbeat file {path} is unreadable: {exc}"
    age = (time.time() if now is None else now) - beat
    if age > max_age_s:
        return (
            f"the bot's last heartbeat was {age:.0f} s ago (limit {max_age_s:.0f} s): "
            "stuck or disconnected"
        )
    return None


def check_endpoint(url: str, timeout_s: float = 5.0) -> str | None:
    """None when ``url`` (the bot's /healthz or /readyz, METRICS_PORT) answers 200; else the line
    saying why not (the endpoint's own one-line reason for a 503)."""
    import urllib.error
    import urllib.request

    try:
        with urllib.request.urlopen(url, timeout=timeout_s) as response:
            if response.status == 200:
                return None
            return f"{url} answered {response.status}"
    except urllib.error.HTTPError as exc:
        said = exc.read().decode("utf-8", "replace").strip()[:200]
        return f"{url} answered {exc.code}: {said}"
    except (urllib.error.URLError, OSError) as exc:
        reason: object = exc.reason if isinstance(exc, urllib.error.URLError) else exc
        return f"cannot reach {url}: {reason} (is the bot running with this METRICS_PORT?)"
