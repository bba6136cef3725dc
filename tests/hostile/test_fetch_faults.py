"""Hostile servers, second round (issue 19): a server that drips its status line and headers, a
response cut short, a gzip stream that is damaged or does not end; FETCH_* settings of nan or inf."""

from __future__ import annotations

import contextlib
import gzip
import socket
import threading
import time
from collections.abc import Callable, Iterator

import pytest

from index.errors import SettingsError
from index.web.errors import WebError
from index.web.fetch import FetchPolicy, fetch
from tests.web.conftest import LOOPBACK_ONLY

PAGE = b"<html><body><p>" + b"Harbour news. " * 400 + b"</p></body></html>"


Serve = Callable[[Callable[[socket.socket], None]], str]


@pytest.fixture
def raw_server() -> Iterator[Serve]:
    """A TCP server on 127.0.0.1 that answers each connection with ``behave(conn)``."""
    servers: list[socket.socket] = []

    def start(behave: Callable[[socket.socket], None]) -> str:
        listener = socket.create_server(("127.0.0.1", 0))
        servers.append(listener)

        def serve() -> None:
            while True:
                try:
                    conn, _ = listener.accept()
                except OSError:
                    return
                with conn:
                    conn.recv(65536)
                    with contextlib.suppress(OSError):  # the client hung up: fine
                        behave(conn)

        threading.Thread(target=serve, daemon=True).start()
        return f"http://127.0.0.1:{listener.getsockname()[1]}/page"

    yield start
    for listener in servers:
        listener.close()


POLICY = FetchPolicy(timeout=2.0, allowed_networks=LOOPBACK_ONLY)


def test_a_server_dripping_its_headers_is_cut_at_the_deadline(raw_server: Serve) -> None:
    def drip(conn: socket.socket) -> None:
        for byte in b"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nX-Slow: " + b"a" * 100:
            conn.sendall(bytes([byte]))
            time.sleep(0.2)

    # Without the deadline over the whole fetch, the drip (23 s) ran to its end and the fetch then
    # failed on the closed connection, not on the time limit.
    with pytest.raises(WebError, match="no complete answer within 2 seconds"):
        fetch(raw_server(drip), POLICY)


def test_a_response_cut_short_is_not_taken_for_the_page(raw_server: Serve) -> None:
    def half(conn: socket.socket) -> None:
        head = f"HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: {len(PAGE)}\r\n\r\n"
        conn.sendall(head.encode() + PAGE[: len(PAGE) // 2])

    with pytest.raises(WebError, match="cut short"):
        fetch(raw_server(half), POLICY)


@pytest.mark.parametrize(
    ("body", "said"),
    [
        (gzip.compress(PAGE)[:-40], "cut short"),  # the stream does not end
        (b"\x1f\x8b\x08\x00" + b"\xff" * 64, "damaged"),  # not a deflate stream
    ],
)
def test_a_bad_gzip_body_is_one_line(raw_server: Serve, body: bytes, said: str) -> None:
    def send(conn: socket.socket) -> None:
        head = (
            "HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Encoding: gzip\r\n"
            "Connection: close\r\n\r\n"
        )
        conn.sendall(head.encode() + body)

    with pytest.raises(WebError, match=said):
        fetch(raw_server(send), POLICY)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf"])
def test_fetch_settings_must_be_finite(value: str) -> None:
    with pytest.raises(SettingsError, match="FETCH_TIMEOUT_SECONDS must be a finite number"):
        FetchPolicy.from_env({"FETCH_TIMEOUT_SECONDS": value})


@pytest.mark.parametrize(
    "address",
    ["64:ff9b::7f00:1", "64:ff9b:1::a00:1", "2002:a9fe:a9fe::1", "::127.0.0.1", "::c0a8:101"],
)
def test_ipv6_forms_that_carry_a_private_ipv4_address_are_refused(address: str) -> None:
    from index.web.fetch import check_address

    with pytest.raises(WebError, match="carries the address"):
        check_address("http://example.org/", address, FetchPolicy())


def test_ipv6_forms_that_carry_a_public_ipv4_address_pass() -> None:
    from index.web.fetch import check_address

    for address in ("64:ff9b::808:808", "2002:808:808::1", "2606:4700::1111"):
        assert str(check_address("http://example.org/", address, FetchPolicy())) == address
