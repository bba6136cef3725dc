"""Fetch one web page or feed without opening a door to the server's own network (SSRF).

Only http and https, no credentials in the url; the host is resolved first and every address must be
public (not loopback, private, link-local, metadata, multicast or reserved), the connection goes to
the checked address itself (so a second DNS answer cannot swap it), the connected socket's address
is checked again, and each redirect is checked the same way. Bytes, time and redirects are capped.
"""

from __future__ import annotations

import contextlib
import http.client
import ipaddress
import math
import os
import socket
import ssl
import threading
import time
import zlib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from email.message import Message
from urllib.parse import urljoin, urlsplit

from index.errors import SettingsError
from index.web.errors import WebError

USER_AGENT = "Articlebot/0.1 (fetches one article or feed at an admin's request)"
REDIRECTS = frozenset({301, 302, 303, 307, 308})
MAX_URL_CHARS = 2048

IPAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
IPNetwork = ipaddress.IPv4Network | ipaddress.IPv6Network
Resolver = Callable[[str, int], list[str]]

# What FETCH_ALLOW_PRIVATE=1 lets through: loopback and private ranges. Link-local (and so the cloud
# metadata address 169.254.169.254) stays refused whatever the setting.
PRIVATE_NETWORKS: tuple[IPNetwork, ...] = tuple(
    ipaddress.ip_network(n)
    for n in (
        "127.0.0.0/8",
        "::1/128",
        "10.0.0.0/8",
        "172.16.0.0/12",
        "192.168.0.0/16",
        "100.64.0.0/10",
        "fc00::/7",
    )
)


@dataclass(frozen=True)
class FetchPolicy:
    """The caps of one fetch. ``allowed_networks`` are non-public networks let through (tests)."""

    max_bytes: int = 5_000_000
    timeout: float = 20.0  # seconds for the whole fetch, redirects included
    max_redirects: int = 5
    allowed_networks: tuple[IPNetwork, ...] = ()

    @classmethod
    def from_env(cls, env: Mapping[str, str] | None = None) -> FetchPolicy:
        """FETCH_ALLOW_PRIVATE (0/1, for tests), FETCH_MAX_BYTES, FETCH_TIMEOUT_SECONDS."""
        env = os.environ if env is None else env
        allow = env.get("FETCH_ALLOW_PRIVATE", "").strip()
        if allow not in ("", "0", "1"):
            raise SettingsError(f"FETCH_ALLOW_PRIVATE must be 0 or 1, got {allow!r}")
        policy = cls(
            max_bytes=int(_env_number(env, "FETCH_MAX_BYTES", cls.max_bytes)),
            timeout=_env_number(env, "FETCH_TIMEOUT_SECONDS", cls.timeout),
            allowed_networks=PRIVATE_NETWORKS if allow == "1" else (),
        )
        if policy.max_bytes < 1 or policy.timeout <= 0:
            raise SettingsError("FETCH_MAX_BYTES and FETCH_TIMEOUT_SECONDS must be positive")
        return policy


@dataclass(frozen=True)
class Response:
    url: str  # the url asked for
    final_url: str  # where the redirects ended
    status: int  # 200, or 304 for a conditional request whose resource did not change
    content_type: str  # the media type, lower case, without parameters ("" when not sent)
    charset: str | None
    body: bytes
    etag: str | None = None
    last_modified: str | None = None


def check_url(url: str) -> str:
    """``url`` stripped, if it is an absolute http(s) url without credentials; else WebError."""
    url = url.strip()
    if len(url) > MAX_URL_CHARS:
        raise WebError(url, f"the link is longer than {MAX_URL_CHARS} characters")
    parts = urlsplit(url)
    if parts.scheme.lower() not in ("http", "https"):
        raise WebError(url, "only http:// and https:// links can be fetched")
    if parts.username is not None or parts.password is not None:
        raise WebError(url, "links with a user name or password are refused")
    if not parts.hostname:
        raise WebError(url, "the link has no host name")
    try:
        parts.port  # noqa: B018 (raises on a bad port)
    except ValueError:
        raise WebError(url, "the link's port is not a number from 0 to 65535") from None
    return url


def check_address(url: str, address: str, policy: FetchPolicy) -> IPAddress:
    """The address, if a fetch may connect to it: public, or inside an allowed network."""
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    if any(ip in net for net in policy.allowed_networks):
        return ip
    inner = embedded_ipv4(ip)
    if inner and not all(_public(v4, policy) for v4 in inner):
        bad = next(v4 for v4 in inner if not _public(v4, policy))
        raise WebError(url, f"refused: {ip} carries the address {bad}, which is not public")
    if ip.is_global and not ip.is_multicast:
        return ip
    raise WebError(url, f"refused: {ip} is a private, loopback, link-local or reserved address")


_NAT64 = (ipaddress.ip_network("64:ff9b::/96"), ipaddress.ip_network("64:ff9b:1::/48"))
_IPV4_COMPATIBLE = ipaddress.ip_network("::/96")


def embedded_ipv4(ip: IPAddress) -> list[ipaddress.IPv4Address]:
    """The IPv4 addresses an IPv6 address leads to: 6to4 (2002::/16), Teredo, NAT64
    (64:ff9b::/96, 64:ff9b:1::/48) and the old IPv4-compatible form (::a.b.c.d). A router or a
    translator would deliver such a packet to the IPv4 address inside."""
    if not isinstance(ip, ipaddress.IPv6Address):
        return []
    found = []
    if ip.sixtofour is not None:
        found.append(ip.sixtofour)
    if ip.teredo is not None:
        found.extend(ip.teredo)
    low = ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF)
    if any(ip in net for net in _NAT64) or (ip in _IPV4_COMPATIBLE and int(ip) > 1):
        found.append(low)
    return found


def _public(ip: ipaddress.IPv4Address, policy: FetchPolicy) -> bool:
    if any(ip in net for net in policy.allowed_networks):
        return True
    return ip.is_global and not ip.is_multicast


def resolve(host: str, port: int) -> list[str]:
    """Every address ``host`` resolves to (blocking DNS)."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return list(dict.fromkeys(str(info[4][0]) for info in infos))


def fetch(
    url: str,
    policy: FetchPolicy,
    *,
    accept: str = "text/html,application/xhtml+xml;q=0.9,*/*;q=0.1",
    headers: Mapping[str, str] | None = None,
    resolver: Resolver = resolve,
) -> Response:
    """GET ``url``, following at most ``policy.max_redirects`` checked redirects (blocking)."""
    first = current = check_url(url)
    deadline = time.monotonic() + policy.timeout
    for _ in range(policy.max_redirects + 1):
        try:
            response = _get_once(current, policy, deadline, accept, headers or {}, resolver)
        except TimeoutError:
            raise WebError(first, f"no complete answer within {policy.timeout:g} seconds") from None
        except (OSError, http.client.HTTPException) as exc:
            raise WebError(first, f"could not fetch {current}: {_os_reason(exc)}") from None
        if isinstance(response, str):  # a redirect: check the next hop as if it were the first
            current = check_url(urljoin(current, response))
            continue
        return Response(first, current, *response)
    raise WebError(first, f"more than {policy.max_redirects} redirects")


_Got = tuple[int, str, str | None, bytes, str | None, str | None]


def _get_once(
    url: str,
    policy: FetchPolicy,
    deadline: float,
    accept: str,
    headers: Mapping[str, str],
    resolver: Resolver,
) -> _Got | str:
    """One request: the response fields, or the Location of a redirect."""
    parts = urlsplit(url)
    https = parts.scheme.lower() == "https"
    port = parts.port or (443 if https else 80)
    host = parts.hostname or ""
    try:
        addresses = resolver(host, port)
    except (OSError, UnicodeError) as exc:
        raise WebError(
            url, f"the host name {host} cannot be resolved ({_os_reason(exc)})"
        ) from None
    if not addresses:
        raise WebError(url, f"the host name {host} cannot be resolved")
    checked = [check_address(url, a, policy) for a in addresses]  # every address, not only one
    watchdog = _Watchdog(_remaining(deadline))
    conn = _Pinned(host, port, str(checked[0]), https, _remaining(deadline), watchdog)
    try:
        conn.connect()
        check_address(url, conn.sock.getpeername()[0], policy)  # the socket really connected here
        target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        conn.putrequest("GET", target, skip_accept_encoding=True)
        for name, value in {
            "User-Agent": USER_AGENT,
            "Accept": accept,
            "Accept-Encoding": "gzip, identity",
            **headers,
        }.items():
            conn.putheader(name, value)
        conn.endheaders()
        sock = conn.sock  # http.client drops conn.sock once it knows the server will close
        sock.settimeout(_remaining(deadline))
        resp = conn.getresponse()
        if resp.status in REDIRECTS:
            location = resp.getheader("Location")
            if not location:
                raise WebError(url, f"redirect {resp.status} without a Location")
            return location
        if resp.status == 304:
            return (304, "", None, b"", resp.getheader("ETag"), resp.getheader("Last-Modified"))
        if resp.status != 200:
            raise WebError(url, f"the server answered {resp.status} {resp.reason}".rstrip())
        body = _read_body(url, resp, sock, deadline, policy.max_bytes)
        if watchdog.fired:  # the socket was cut at the deadline: what was read is not the page
            raise TimeoutError
        media, charset = _content_type(resp.getheader("Content-Type", ""))
        etag, modified = resp.getheader("ETag"), resp.getheader("Last-Modified")
        return (200, media, charset, body, etag, modified)
    except (OSError, http.client.HTTPException):
        if watchdog.fired:
            raise TimeoutError from None
        raise
    finally:
        watchdog.cancel()
        conn.close()


class _Watchdog:
    """Cuts the connection at the deadline. A socket timeout bounds each read, not the whole: a
    server that sends its status line or headers a byte a second would otherwise hold the fetch
    (and the build lock) for as long as it likes."""

    def __init__(self, seconds: float) -> None:
        self.fired = False
        self._sock: socket.socket | None = None
        self._timer = threading.Timer(seconds, self._cut)
        self._timer.daemon = True
        self._timer.start()

    def watch(self, sock: socket.socket) -> None:
        self._sock = sock
        if self.fired:
            self._cut()

    def _cut(self) -> None:
        self.fired = True
        if self._sock is not None:
            with contextlib.suppress(OSError):
                self._sock.shutdown(socket.SHUT_RDWR)

    def cancel(self) -> None:
        self._timer.cancel()


class _Pinned(http.client.HTTPSConnection):
    """A connection to one checked address, sending the host name in Host (and SNI for https)."""

    def __init__(
        self, host: str, port: int, address: str, https: bool, timeout: float, watchdog: _Watchdog
    ) -> None:
        self._tls = ssl.create_default_context()
        super().__init__(host, port, timeout=timeout, context=self._tls)
        self._address, self._https, self._watchdog = address, https, watchdog
        self.default_port = 443 if https else 80  # Host carries the port only when not the default

    def connect(self) -> None:
        sock = socket.create_connection((self._address, self.port), self.timeout)
        self._watchdog.watch(sock)  # the TLS handshake and everything after are under the deadline
        self.sock = self._tls.wrap_socket(sock, server_hostname=self.host) if self._https else sock


def _read_body(
    url: str, resp: http.client.HTTPResponse, sock: socket.socket, deadline: float, limit: int
) -> bytes:
    declared = resp.getheader("Content-Length", "")
    if declared.isdigit() and int(declared) > limit:
        raise WebError(
            url, f"the response is {int(declared):,} bytes, over the {limit:,}-byte limit"
        )
    encoding = resp.getheader("Content-Encoding", "identity").strip().lower()
    if encoding not in ("identity", "gzip", ""):
        raise WebError(url, f"the response uses the unsupported encoding {encoding}")
    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS) if encoding == "gzip" else None
    chunks: list[bytes] = []
    size = 0
    while True:
        sock.settimeout(_remaining(deadline))
        raw = resp.read1(65536)
        if not raw:
            break
        try:
            chunk = inflate.decompress(raw, limit + 1 - size) if inflate else raw
        except zlib.error as exc:
            raise WebError(url, f"the gzip-encoded response is damaged ({exc})") from None
        size += len(chunk)
        if size > limit:
            raise WebError(url, f"the response is over the {limit:,}-byte limit; stopped reading")
        chunks.append(chunk)
    if declared.isdigit() and encoding in ("identity", "") and size < int(declared):
        raise WebError(url, f"the response was cut short ({size:,} of {int(declared):,} bytes)")
    if inflate is not None and not inflate.eof:
        raise WebError(url, "the response was cut short (the gzip stream does not end)")
    return b"".join(chunks)


def _remaining(deadline: float) -> float:
    left = deadline - time.monotonic()
    if left <= 0:
        raise TimeoutError
    return left


def _content_type(header: str) -> tuple[str, str | None]:
    msg = Message()
    msg["Content-Type"] = header or "application/octet-stream"
    charset = msg.get_param("charset")
    return msg.get_content_type().lower(), charset if isinstance(charset, str) else None


def _os_reason(exc: BaseException) -> str:
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return " ".join(str(text).split())


def _env_number(env: Mapping[str, str], name: str, default: float) -> float:
    raw = env.get(name, "").strip() or str(default)
    try:
        value = float(raw)
    except ValueError:
        raise SettingsError(f"{name} must be a number, got {raw!r}") from None
    if not math.isfinite(value):
        raise SettingsError(f"{name} must be a finite number, got {raw!r}")
    return value
