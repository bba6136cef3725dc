"""METRICS_PORT and METRICS_HOST: where the operator's HTTP port listens (off unless the port is set)."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass

from index.errors import SettingsError

DEFAULT_HOST = "127.0.0.1"  # reachable from this machine only, unless METRICS_HOST says otherwise


@dataclass(frozen=True)
class MetricsAddress:
    host: str
    port: int  # 0: any free port (the bot logs the one it bound)

    @property
    def local_url(self) -> str:
        """Where a check on this machine reaches it (a wildcard bind answers on loopback)."""
        host = "127.0.0.1" if self.host in ("0.0.0.0", "", "*") else self.host
        host = "::1" if host == "::" else host
        return f"http://[{host}]:{self.port}" if ":" in host else f"http://{host}:{self.port}"


def metrics_address(env: Mapping[str, str] | None = None) -> MetricsAddress | None:
    """None when METRICS_PORT is unset or empty (metrics and health endpoints off)."""
    env = os.environ if env is None else env
    raw = env.get("METRICS_PORT", "").strip()
    host = env.get("METRICS_HOST", "").strip() or DEFAULT_HOST
    if not raw:
        return None
    try:
        port = int(raw)
    except ValueError:
        raise SettingsError(
            f"METRICS_PORT must be a TCP port number (1-65535, or 0 for any free port), got {raw!r}"
        ) from None
    if not 0 <= port <= 65535:
        raise SettingsError(f"METRICS_PORT must be between 0 and 65535, got {port}")
    if any(c.isspace() or c in "/?#@" for c in host):
        raise SettingsError(
            f"METRICS_HOST must be an address or host name to listen on (e.g. 127.0.0.1 or "
            f"0.0.0.0), got {host!r}"
        )
    return MetricsAddress(host, port)
