"""A small HTTP server on 127.0.0.1 for the web tests: routes set by the test, every request logged."""

from __future__ import annotations

import contextlib
import ssl
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

Handler = Callable[[BaseHTTPRequestHandler], None]


@dataclass
class Route:
    status: int = 200
    body: bytes = b""
    headers: dict[str, str] = field(default_factory=dict)


class LoopbackWeb:
    """``route(path, ...)`` answers GET ``path``; ``requests`` holds (path, headers) of each request."""

    def __init__(self, tls: tuple[str, str] | None = None) -> None:
        """``tls``: (certificate file, key file) to serve https instead of http."""
        self.routes: dict[str, Route | Handler] = {}
        self.requests: list[tuple[str, dict[str, str]]] = []
        self.release = threading.Event()  # slow handlers wait on it; set when the server stops
        web = self

        class _Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:
                web.requests.append((self.path, dict(self.headers.items())))
                route = web.routes.get(self.path)
                if route is None:
                    self.send_error(404, "Not Found")
                elif isinstance(route, Route):
                    web.answer(self, route)
                else:
                    route(self)

            def log_message(self, format: str, *args: object) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
        self.server.daemon_threads = True
        self.port = self.server.server_address[1]
        self.scheme = "https" if tls else "http"
        if tls:
            context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            context.load_cert_chain(*tls)
            self.server.socket = context.wrap_socket(self.server.socket, server_side=True)

    def url(self, path: str) -> str:
        return f"{self.scheme}://127.0.0.1:{self.port}{path}"

    def route(self, path: str, body: str | bytes = b"", status: int = 200, **headers: str) -> None:
        data = body.encode() if isinstance(body, str) else body
        self.routes[path] = Route(
            status, data, {k.replace("_", "-"): v for k, v in headers.items()}
        )

    def page(self, path: str, html: str, **headers: str) -> None:
        self.route(path, html, **{"Content_Type": "text/html; charset=utf-8", **headers})

    def redirect(self, path: str, location: str, status: int = 302) -> None:
        self.route(path, status=status, Location=location)

    @staticmethod
    def answer(handler: BaseHTTPRequestHandler, route: Route) -> None:
        handler.send_response(route.status)
        for name, value in route.headers.items():
            handler.send_header(name, value)
        handler.send_header("Content-Length", str(len(route.body)))
        handler.end_headers()
        handler.wfile.write(route.body)

    def paths(self) -> list[str]:
        return [path for path, _ in self.requests]

    @contextlib.contextmanager
    def running(self) -> Iterator[LoopbackWeb]:
        thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        thread.start()
        try:
            yield self
        finally:
            self.release.set()
            self.server.shutdown()
            self.server.server_close()
            thread.join(timeout=10)


def endless(chunk: int = 1 << 20, total: int = 50 << 20) -> Handler:
    """A handler sending ``total`` bytes of HTML with no Content-Length (the client must cut it off)."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        handler.send_response(200)
        handler.send_header("Content-Type", "text/html")
        handler.send_header("Connection", "close")
        handler.end_headers()
        block = b"<p>" + b"x" * (chunk - 7) + b"</p>\n"
        with contextlib.suppress(OSError):  # the client hangs up at its limit
            for _ in range(total // chunk):
                handler.wfile.write(block)

    return handle


def stalled(web: LoopbackWeb) -> Handler:
    """A handler that accepts the request and answers nothing until the server stops."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        web.release.wait(timeout=30)

    return handle


def conditional(
    body: str, content_type: str, *, etag: str | None = None, last_modified: str | None = None
) -> Handler:
    """A handler that honours If-None-Match / If-Modified-Since with 304 Not Modified."""

    def handle(handler: BaseHTTPRequestHandler) -> None:
        fresh = (etag and handler.headers.get("If-None-Match") == etag) or (
            last_modified and handler.headers.get("If-Modified-Since") == last_modified
        )
        headers = {"Content-Type": content_type}
        if etag:
            headers["ETag"] = etag
        if last_modified:
            headers["Last-Modified"] = last_modified
        if fresh:
            handler.send_response(304)
            handler.end_headers()
            return
        LoopbackWeb.answer(handler, Route(200, body.encode(), headers))

    return handle
