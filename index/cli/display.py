"""Text the command line prints from articles, pages and feeds: safe for a terminal.

An article or a feed's title may hold terminal escape sequences (clear the screen, set the window
title, write the clipboard with OSC 52); printed raw by `ask` or `feed list`, the terminal obeys
them. Control characters other than newline and tab are shown as visible escapes instead.
"""

from __future__ import annotations

import re

# C0 controls but \\t and \\n, DEL, and the C1 controls (0x80-0x9f: 0x9b is a one-byte CSI).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_safe(text: str) -> str:
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
