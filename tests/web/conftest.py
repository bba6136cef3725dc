"""Fixtures for the web tests: a loopback HTTP server and a fetch policy that lets only it through."""

from __future__ import annotations

import ipaddress
from collections.abc import Iterator

import pytest

from index.web.fetch import FetchPolicy
from tests.web.server import LoopbackWeb

# Only the test server's own address: a redirect to any other private address is still refused.
LOOPBACK_ONLY = (ipaddress.ip_network("127.0.0.1/32"),)


@pytest.fixture
def web() -> Iterator[LoopbackWeb]:
    with LoopbackWeb().running() as server:
        yield server


@pytest.fixture
def policy() -> FetchPolicy:
    return FetchPolicy(timeout=10.0, allowed_networks=LOOPBACK_ONLY)
