"""Fetching over a loopback HTTP server: redirects, SSRF refusals, caps on bytes and time."""

from __future__ import annotations

import ipaddress
import shutil
import socket
import subprocess
from pathlib import Path

import pytest

from index.errors import SettingsError
from index.web.errors import WebError
from index.web.fetch import PRIVATE_NETWORKS, FetchPolicy, check_address, check_url, fetch
from tests.web.server import LoopbackWeb, endless, stalled

PAGE = "<html><body><p>Hello.</p></body></html>"


def test_fetches_a_page_with_a_clear_user_agent(web: LoopbackWeb, policy: FetchPolicy) -> None:
    web.page("/a", PAGE)
    response = fetch(web.url("/a"), policy)
    assert (response.status, response.content_type, response.charset) == (200, "text/html", "utf-8")
    assert response.body == PAGE.encode()
    [(_, headers)] = web.requests
    assert headers["User-Agent"].startswith("Articlebot/")


def test_redirects_are_followed_and_the_final_url_kept(
    web: LoopbackWeb, policy: FetchPolicy
) -> None:
    web.redirect("/old", "/middle", status=301)
    web.redirect("/middle", web.url("/new"), status=307)
    web.page("/new", PAGE)
    response = fetch(web.url("/old"), policy)
    assert response.final_url == web.url("/new") and response.url == web.url("/old")


@pytest.mark.parametrize(
    "target",
    [
        "http://10.1.2.3/admin",
        "http://169.254.169.254/latest/meta-data/",
        "http://[::ffff:192.168.0.1]/",
        "http://127.0.0.2/",
    ],
)
def test_a_redirect_to_a_private_address_is_refused_before_connecting(
    web: LoopbackWeb, policy: FetchPolicy, target: str
) -> None:
    web.redirect("/go", target)
    with pytest.raises(WebError, match=r"refused: .* is a private, loopback, link-local"):
        fetch(web.url("/go"), policy)
    assert web.paths() == ["/go"]


def test_loopback_is_refused_by_default(web: LoopbackWeb) -> None:
    web.page("/a", PAGE)
    with pytest.raises(WebError, match=r"refused: 127\.0\.0\.1"):
        fetch(web.url("/a"), FetchPolicy())
    assert web.requests == []


def test_every_address_of_a_host_must_be_public(policy: FetchPolicy) -> None:
    def resolver(host: str, port: int) -> list[str]:
        return ["93.184.216.34", "10.0.0.7"]  # a public and a private answer: refused

    with pytest.raises(WebError, match=r"10\.0\.0\.7"):
        fetch("http://mixed.example/", policy, resolver=resolver)


def test_too_many_redirects(web: LoopbackWeb, policy: FetchPolicy) -> None:
    web.redirect("/loop", "/loop")
    with pytest.raises(WebError, match="more than 5 redirects"):
        fetch(web.url("/loop"), policy)
    assert len(web.requests) == 6


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("file:///etc/passwd", "only http:// and https://"),
        ("ftp://example.org/a", "only http:// and https://"),
        ("http://user:secret@example.org/", "user name or password"),
        ("http:///nohost", "no host name"),
        ("http://example.org:99999/", "port"),
    ],
)
def test_only_plain_http_links(url: str, reason: str) -> None:
    with pytest.raises(WebError, match=reason):
        check_url(url)


def test_a_404_names_the_url_and_status(web: LoopbackWeb, policy: FetchPolicy) -> None:
    with pytest.raises(WebError) as caught:
        fetch(web.url("/missing"), policy)
    assert caught.value.user_line() == f"{web.url('/missing')}: the server answered 404 Not Found"


def test_a_dead_link_is_one_line(policy: FetchPolicy) -> None:
    with socket.socket() as sock:  # a port nothing listens on once this socket closes
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    with pytest.raises(WebError, match=r"could not fetch .*refused"):
        fetch(f"http://127.0.0.1:{port}/", policy)


def test_a_50_mb_response_is_cut_off_at_the_limit(web: LoopbackWeb, policy: FetchPolicy) -> None:
    web.routes["/huge"] = endless()
    with pytest.raises(WebError, match="over the 5,000,000-byte limit; stopped reading"):
        fetch(web.url("/huge"), policy)


def test_a_declared_length_over_the_limit_is_refused_unread(
    web: LoopbackWeb, policy: FetchPolicy
) -> None:
    web.page("/big", "x" * 2000)
    with pytest.raises(WebError, match="is 2,000 bytes, over the 1,000-byte limit"):
        fetch(
            web.url("/big"), FetchPolicy(max_bytes=1000, allowed_networks=policy.allowed_networks)
        )


def test_a_slow_server_times_out(web: LoopbackWeb, policy: FetchPolicy) -> None:
    web.routes["/slow"] = stalled(web)
    quick = FetchPolicy(timeout=0.5, allowed_networks=policy.allowed_networks)
    with pytest.raises(WebError, match=r"no complete answer within 0\.5 seconds"):
        fetch(web.url("/slow"), quick)


def test_gzip_bodies_are_inflated(web: LoopbackWeb, policy: FetchPolicy) -> None:
    import gzip

    web.route("/z", gzip.compress(PAGE.encode()), Content_Type="text/html", Content_Encoding="gzip")
    assert fetch(web.url("/z"), policy).body == PAGE.encode()


def test_metadata_address_stays_refused_with_private_allowed() -> None:
    allow = FetchPolicy(allowed_networks=PRIVATE_NETWORKS)
    assert check_address("u", "10.0.0.1", allow) == ipaddress.ip_address("10.0.0.1")
    with pytest.raises(WebError):
        check_address("u", "169.254.169.254", allow)
    assert check_address("u", "93.184.216.34", FetchPolicy())


def test_policy_from_env() -> None:
    assert FetchPolicy.from_env({}).allowed_networks == ()
    assert FetchPolicy.from_env({"FETCH_ALLOW_PRIVATE": "1"}).allowed_networks == PRIVATE_NETWORKS
    assert FetchPolicy.from_env({"FETCH_MAX_BYTES": "1000"}).max_bytes == 1000
    with pytest.raises(SettingsError, match="FETCH_ALLOW_PRIVATE must be 0 or 1"):
        FetchPolicy.from_env({"FETCH_ALLOW_PRIVATE": "yes"})
    with pytest.raises(SettingsError, match="FETCH_TIMEOUT_SECONDS must be a number"):
        FetchPolicy.from_env({"FETCH_TIMEOUT_SECONDS": "soon"})


@pytest.mark.skipif(shutil.which("openssl") is None, reason="needs the openssl command")
def test_https_is_verified(policy: FetchPolicy, tmp_path: Path) -> None:
    """TLS runs on the pinned connection and an untrusted certificate is refused, in one line."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    subprocess.run(
        ["openssl", "req", "-x509", "-newkey", "rsa:2048", "-nodes", "-days", "1", "-subj",
         "/CN=127.0.0.1", "-keyout", str(key), "-out", str(cert)],
        check=True,
        capture_output=True,
    )  # fmt: skip
    with LoopbackWeb(tls=(str(cert), str(key))).running() as secure:
        secure.page("/a", PAGE)
        with pytest.raises(WebError, match=r"could not fetch https://127\.0\.0\.1:.*certificate"):
            fetch(secure.url("/a"), policy)
