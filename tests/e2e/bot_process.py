"""`python -m tests.e2e.bot_process`: the bot's serving entry point in a process of its own, pointed
at a loopback Discord of tests/e2e.

discord.py has no setting for its base URLs: the in-process fixtures patch two class attributes
(tests/e2e/conftest.py, ``loopback``), which a test cannot do inside another process. This launcher
does the same patch from LOOPBACK_DISCORD (``http://127.0.0.1:PORT``, nothing else is accepted) and
then hands over to ``bot.main.main`` (what `python -m bot.main` runs). Chosen over a product setting
for the Discord address so that no setting of the shipped bot can send its token anywhere but Discord.
"""

from __future__ import annotations

import os
import sys
from urllib.parse import urlsplit

import discord
import yarl

from bot import main


def point_at_loopback(base: str) -> None:
    """Send discord.py's REST and gateway traffic to the loopback Discord at ``base``."""
    parts = urlsplit(base)
    if parts.scheme != "http" or parts.hostname != "127.0.0.1" or parts.port is None:
        raise SystemExit(f"LOOPBACK_DISCORD must be http://127.0.0.1:PORT, got {base!r}")
    discord.http.Route.BASE = f"http://127.0.0.1:{parts.port}/api/v10"
    discord.gateway.DiscordWebSocket.DEFAULT_GATEWAY = yarl.URL(
        f"ws://127.0.0.1:{parts.port}/gateway"
    )


if __name__ == "__main__":
    point_at_loopback(os.environ.get("LOOPBACK_DISCORD", ""))
    sys.exit(main.main())
