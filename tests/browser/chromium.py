"""Headless Chromium driven over the Chrome DevTools Protocol, to read what a text fragment highlights.

Page JavaScript cannot see a text fragment's match (no selection, no event, ``document.fragmentDirective``
is empty). What can be seen is its paint: the ``::target-text`` pseudo-element. So, after the page
loads, a style sheet adopted by the document (no DOM node added) paints ``::target-text`` in one
colour that nothing else on the page uses, glyphs included; a screenshot is taken; and each character
of the page's text is looked up at the centre of its box (``Range.getClientRects``) in that
screenshot. The characters painted in the highlight colour are the highlighted text.

A link whose text is not on the page paints nothing. To tell "not highlighted" from "not highlighted
yet" without a timed wait, a test can add a second directive for words known to be on the page
(``...&text=control``): directives are matched in order, so once the control is painted the first
one has been tried.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import aiohttp

BINARIES = ("chromium", "chromium-browser", "google-chrome", "google-chrome-stable")
MARK = (255, 0, 255)  # the highlight's colour, background and glyphs alike
LOAD_DEADLINE = 60.0  # seconds: generous, the machine may be busy; never reached when things work
WIDTH, HEIGHT = 1000, 4000  # tall enough for a whole article: every character is on the screenshot

# Run in the page after load: paint ::target-text in MARK, with no element added to the document.
_STYLE = """(() => {
  const sheet = new CSSStyleSheet();
  sheet.replaceSync('::target-text { background-color: rgb(255, 0, 255) !important;'
    + ' color: rgb(255, 0, 255) !important; text-shadow: none !important; }');
  document.adoptedStyleSheets = [...document.adoptedStyleSheets, sheet];
  return document.documentElement.scrollHeight;
})()"""

# Run in the page with a PNG screenshot: every visible character of the body's text, in document
# order, and whether the pixel at the centre of its box is MARK.
_READ = """(async (png) => {
  const img = new Image();
  img.src = 'data:image/png;base64,' + png;
  await img.decode();
  const canvas = new OffscreenCanvas(img.width, img.height);
  const g = canvas.getContext('2d', {willReadFrequently: true});
  g.drawImage(img, 0, 0);
  const pixels = g.getImageData(0, 0, img.width, img.height).data;
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  const range = document.createRange();
  let chars = '', marks = '';
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const text = node.data;
    for (let i = 0; i < text.length; i++) {
      range.setStart(node, i);
      range.setEnd(node, i + 1);
      const box = range.getClientRects()[0];
      if (!box || box.width < 1 || box.height < 1) {  // collapsed white space, a line's end, hidden
        if (/\\s/.test(text[i])) { chars += ' '; marks += '0'; }
        continue;
      }
      const x = Math.floor(box.left + box.width / 2), y = Math.floor(box.top + box.height / 2);
      if (x < 0 || y < 0 || x >= img.width || y >= img.height) throw new Error('off screen: ' + y);
      const at = (y * img.width + x) * 4;
      const hit = pixels[at] === 255 && pixels[at + 1] === 0 && pixels[at + 2] === 255;
      chars += text[i];
      marks += hit ? '1' : '0';
    }
    chars += '\\n';  // a node boundary: white space when the words are compared
    marks += '0';
  }
  return {chars, marks};
})"""


def find_chromium() -> str | None:
    """The path of a Chromium (or Chrome) binary on PATH, or None."""
    for name in BINARIES:
        path = shutil.which(name)
        if path:
            return path
    return None


@dataclass(frozen=True)
class Highlight:
    """What the browser painted as the text fragment's match."""

    chars: str  # the page's visible characters, in document order
    marks: str  # "1" where the character is painted in the highlight colour, else "0"

    @property
    def text(self) -> str:
        """The highlighted characters, each run's white space collapsed, runs joined by " | "."""
        return " | ".join(" ".join(self.chars[a:b].split()) for a, b in self.runs)

    @property
    def runs(self) -> list[tuple[int, int]]:
        """Highlighted stretches (start, end) of ``chars``; white space does not break a run."""
        found: list[tuple[int, int]] = []
        start = last = -1
        for i, (char, mark) in enumerate(zip(self.chars, self.marks, strict=True)):
            if mark == "1":
                if start < 0:
                    start = i
                last = i
            elif not char.isspace() and start >= 0:
                found.append((start, last + 1))
                start = -1
        if start >= 0:
            found.append((start, last + 1))
        return found

    def covers(self, words: str) -> bool:
        """Whether exactly one stretch is highlighted and it is ``words`` (white space aside)."""
        runs = self.runs
        return len(runs) == 1 and _squeeze(self.chars[slice(*runs[0])]) == _squeeze(words)


def _squeeze(text: str) -> str:
    return "".join(text.split())


class Chromium:
    """One headless Chromium process; ``highlight(url)`` opens ``url`` in a fresh tab and reads it."""

    def __init__(self, binary: str) -> None:
        self.binary = binary
        self.profile = Path(tempfile.mkdtemp(prefix="articlebot-chromium-"))
        self.process: subprocess.Popen[bytes] | None = None
        self.endpoint = ""

    @contextlib.contextmanager
    def running(self) -> Iterator[Chromium]:
        args = [
            self.binary,
            "--headless",
            "--no-sandbox",  # tests run as root in CI containers
            "--disable-gpu",
            "--disable-dev-shm-usage",
            "--no-first-run",
            "--no-default-browser-check",
            "--disable-extensions",
            "--disable-background-networking",
            "--disable-component-update",
            "--hide-scrollbars",
            "--force-device-scale-factor=1",
            "--remote-debugging-address=127.0.0.1",
            "--remote-debugging-port=0",
            f"--user-data-dir={self.profile}",
            "about:blank",
        ]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True
        )
        try:
            self.endpoint = self._wait_for_port()
            yield self
        finally:
            # The launcher script and the browser's helpers share the session started above.
            with contextlib.suppress(ProcessLookupError):
                os.killpg(self.process.pid, signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(self.process.pid, signal.SIGKILL)
                self.process.wait()
            shutil.rmtree(self.profile, ignore_errors=True)

    def _wait_for_port(self) -> str:
        """``127.0.0.1:PORT`` from the DevToolsActivePort file Chromium writes once it listens."""
        port_file = self.profile / "DevToolsActivePort"
        deadline = time.monotonic() + LOAD_DEADLINE
        while time.monotonic() < deadline:
            assert self.process is not None
            if self.process.poll() is not None:
                raise RuntimeError(f"chromium exited with code {self.process.returncode}")
            lines = port_file.read_text().split() if port_file.exists() else []
            if lines:
                return f"127.0.0.1:{lines[0]}"
            time.sleep(0.1)
        raise RuntimeError("chromium did not open its DevTools port")

    def highlight(self, url: str) -> Highlight:
        """Open ``url`` in a new tab (a browser-initiated navigation, as a click from Discord is) and
        read what its text fragment highlights, once anything is highlighted (or the deadline)."""
        return asyncio.run(self._highlight(url))

    async def _highlight(self, url: str) -> Highlight:
        async with aiohttp.ClientSession() as http:
            async with http.put(f"http://{self.endpoint}/json/new?about:blank") as reply:
                target = await reply.json()
            try:
                async with http.ws_connect(target["webSocketDebuggerUrl"], max_msg_size=0) as ws:
                    return await _Tab(ws).highlight(url)
            finally:
                async with http.get(f"http://{self.endpoint}/json/close/{target['id']}"):
                    pass


class _Tab:
    """The CDP session of one tab: commands by id, events kept for whoever waits for them."""

    def __init__(self, ws: aiohttp.ClientWebSocketResponse) -> None:
        self.ws = ws
        self.next_id = 0
        self.events: list[str] = []

    async def call(self, method: str, **params: Any) -> dict[str, Any]:
        self.next_id += 1
        ident = self.next_id
        await self.ws.send_json({"id": ident, "method": method, "params": params})
        while True:
            message = await self.ws.receive_json(timeout=LOAD_DEADLINE)
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"{method}: {message['error']}")
                return dict(message.get("result", {}))
            if "method" in message:
                self.events.append(message["method"])

    async def wait_for(self, event: str) -> None:
        while event not in self.events:
            message = await self.ws.receive_json(timeout=LOAD_DEADLINE)
            if "method" in message:
                self.events.append(message["method"])

    async def evaluate(self, expression: str) -> Any:
        result = await self.call(
            "Runtime.evaluate", expression=expression, awaitPromise=True, returnByValue=True
        )
        if "exceptionDetails" in result:
            raise RuntimeError(f"page script failed: {result['exceptionDetails']}")
        return result["result"].get("value")

    async def highlight(self, url: str) -> Highlight:
        await self.call(
            "Emulation.setDeviceMetricsOverride",
            width=WIDTH,
            height=HEIGHT,
            deviceScaleFactor=1,
            mobile=False,
        )
        await self.call("Page.enable")
        await self.call("Page.navigate", url=url)
        await self.wait_for("Page.loadEventFired")
        height = await self.evaluate(_STYLE)
        if height > HEIGHT:
            raise RuntimeError(f"the page is {height}px tall, taller than the {HEIGHT}px viewport")
        deadline = time.monotonic() + LOAD_DEADLINE
        while True:
            # Chromium looks for the fragment's text after load, then paints: read until it shows.
            shot = await self.call("Page.captureScreenshot", format="png")
            read = await self.evaluate(f"{_READ}({json.dumps(shot['data'])})")
            found = Highlight(read["chars"], read["marks"])
            if "1" in found.marks or time.monotonic() > deadline:
                return found
            await asyncio.sleep(0.2)
