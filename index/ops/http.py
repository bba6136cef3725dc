"""The operator's HTTP port (METRICS_PORT): /metrics for Prometheus, /healthz and /readyz for
probes. A daemon thread serves it, so it answers even when the event loop does not: /healthz asks
the loop's own heartbeat (``Probes.alive``), which is what tells a stuck loop from a busy one.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from socketserver import ThreadingMixIn
from typing import Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

from prometheus_client import REGISTRY, make_wsgi_app

# A probe answers None when all is well, else the one line saying what is not.
Probe = Callable[[], "str | None"]
StartResponse = Callable[..., Any]


@dataclass(frozen=True)
class Probes:
    alive: Probe  # /healthz: the event loop answers
    ready: Probe  # /readyz: the index is open and the gateway connected


class _Server(ThreadingMixIn, WSGIServer):
    daemon_threads = True


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Probes every few seconds would flood the log."""


def make_app(probes: Probes) -> Callable[[dict[str, Any], StartResponse], Iterable[bytes]]:
    metrics = make_wsgi_app(REGISTRY)

    def app(environ: dict[str, Any], start_response: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        probe = {"/healthz": probes.alive, "/readyz": probes.ready}.get(path)
        if probe is None:
            if path in ("/metrics", "/"):
                return metrics(environ, start_response)  # type: ignore[no-any-return]
            return _text(start_response, "404 Not Found", "not found: /metrics, /healthz, /readyz")
        try:
            problem = probe()
        except Exception as exc:  # a probe that fails is a failed check, never a 500 traceback
            problem = f"the check failed: {type(exc).__name__}"
        if problem is None:
            return _text(start_response, "200 OK", "ok")
        return _text(start_response, "503 Service Unavailable", problem)

    return app


def _text(start_response: StartResponse, status: str, line: str) -> list[bytes]:
    body = (line + "\n").encode()
    start_response(
        status, [("Content-Type", "text/plain; charset=utf-8"), ("Content-Length", str(len(body)))]
    )
    return [body]


class OpsServer:
    """The port's server in its own daemon thread; ``port`` is the one bound (METRICS_PORT=0 picks
    a free one)."""

    def __init__(self, host: str, port: int, probes: Probes) -> None:
        self._server = make_server(
            host, port, make_app(probes), server_class=_Server, handler_class=_QuietHandler
        )
        self.host, self.port = host, int(self._server.server_port)
        self._thread = threading.Thread(
            target=self._server.serve_forever, name="articlebot-metrics", daemon=True
        )
        self._thread.start()

    def close(self) -> None:
        self._server.shutdown()
        self._server.server_close()
        self._thread.join(timeout=5)
