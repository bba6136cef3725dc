"""A picture of a real answer for the docs: the engine answers a question over the sample corpus,
bot/render.py makes the reply's embed and bot/views.py its buttons and menu, exactly as the bot
sends them; this script lays that embed out as HTML styled like Discord's dark theme and has
headless Chromium screenshot it. It is a rendering of the real embed's content, not a screenshot
of a Discord client (fonts, spacing and colours are approximations of Discord's).

    .venv/bin/python scripts/render_screenshot.py                      # docs/answer-embed.png
    .venv/bin/python scripts/render_screenshot.py --question "..." --out /tmp/a.png --html /tmp/a.html

Needs Debian's chromium (apt-get install chromium) and, for the 👍/👎 buttons, an emoji font
(apt-get install fonts-noto-color-emoji). The index is built into a temporary folder with the
default model, so the answer is the one `articlebot ask` gives on corpus/ (its index generation's
name, in the footer, is the build's time).
"""

from __future__ import annotations

import argparse
import asyncio
import html
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

QUESTION = "Which new fields did India and Japan agree to cooperate in?"
ASKER = "maya"
WIDTH = 660

CSS = """
body { margin: 0; background: #313338; color: #dbdee1; width: %(width)dpx;
  font: 15px/1.375 "Noto Sans", "Liberation Sans", "DejaVu Sans", Arial, sans-serif; }
.wrap { padding: 16px 16px 20px 0; }
.msg { display: flex; padding: 2px 0 2px 16px; }
.msg + .msg { margin-top: 14px; }
.avatar { width: 40px; height: 40px; border-radius: 50%%; flex: none; margin-right: 16px;
  color: #fff; font-weight: 700; display: flex; align-items: center; justify-content: center; }
.head { margin-bottom: 2px; }
.name { color: #f2f3f5; font-weight: 600; }
.app { background: #5865f2; color: #fff; font-size: 10px; font-weight: 600; border-radius: 3px;
  padding: 1px 4px; margin-left: 4px; vertical-align: 2px; }
.time { color: #949ba4; font-size: 12px; margin-left: 6px; }
.mention { background: rgba(88,101,242,.3); color: #c9cdfb; border-radius: 3px; padding: 0 2px; }
.embed { display: grid; max-width: 520px; background: #2b2d31; border-radius: 4px;
  border-left: 4px solid %(colour)s; padding: 8px 16px 16px 12px; margin-top: 4px;
  font-size: 14px; line-height: 1.375; }
.title { color: #f2f3f5; font-size: 16px; font-weight: 600; margin-top: 8px; }
.title a, .embed a { color: #00a8fc; text-decoration: none; }
.desc { margin-top: 8px; white-space: normal; }
.quote { border-left: 4px solid #4e5058; border-radius: 4px; padding: 0 8px 0 12px; margin: 2px 0; }
.field { margin-top: 8px; }
.fname { color: #f2f3f5; font-weight: 600; margin-bottom: 2px; }
.footer { color: #b5bac1; font-size: 12px; margin-top: 8px; }
.row { display: flex; gap: 8px; margin-top: 8px; }
.button { height: 32px; padding: 0 16px; border-radius: 8px; background: #4e5058; color: #fff;
  font-size: 14px; font-weight: 500; display: flex; align-items: center; white-space: nowrap; }
.button.primary { background: #5865f2; }
.select { width: 400px; height: 40px; border-radius: 8px; background: #1e1f22;
  border: 1px solid #1e1f22; color: #949ba4; display: flex; align-items: center;
  justify-content: space-between; padding: 0 12px; box-sizing: border-box; }
"""


def answer_parts(question: str) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The embed (as Discord receives it) and the components the bot sends for ``question``."""
    from bot.render import render_answer, shown_quotes
    from bot.views import answer_view
    from index.build.builder import build_index
    from index.config import Settings
    from index.embedding.embedder import load_embedder
    from index.engine import Engine

    with tempfile.TemporaryDirectory() as folder:
        settings = Settings.from_env(
            {}, corpus_dir=REPO / "corpus", index_dir=Path(folder) / "index"
        )
        embedder = load_embedder(settings.embed_model, settings.embed_backend)
        build_index(settings, embedder)
        answer = Engine.open(settings, embedder).ask(question)
    embed = render_answer(answer).to_dict()

    async def components() -> list[dict[str, Any]]:  # a View wants a running event loop
        return list(answer_view(1, shown=shown_quotes(answer)).to_components())

    return dict(embed), asyncio.run(components())


def markdown(text: str) -> str:
    """The Discord markdown the renderer writes (escapes, **bold**, *italic*, [masked](<links>),
    "> " block quotes) as HTML."""
    kept: list[str] = []

    def keep(match: re.Match[str]) -> str:  # escaped characters are taken literally
        kept.append(match.group(1))
        return f"\x00{len(kept) - 1}\x00"

    text = html.escape(re.sub(r"\\(.)", keep, text), quote=False)
    text = re.sub(
        r"\[([^\]]+)\]\(&lt;(\S+?)&gt;\)",
        lambda m: f'<a href="{html.escape(m.group(2))}">{m.group(1)}</a>',
        text,
    )
    text = re.sub(r"\*\*(.+?)\*\*", r"<strong>\1</strong>", text)
    text = re.sub(r"\*(.+?)\*", r"<em>\1</em>", text)
    text = re.sub("\x00(\\d+)\x00", lambda m: html.escape(kept[int(m.group(1))]), text)
    out: list[str] = []
    quote: list[str] = []
    for line in text.split("\n"):
        if line.startswith("&gt; "):
            quote.append(line[5:])
            continue
        if quote:
            out.append(f'<div class="quote">{"<br>".join(quote)}</div>')
            quote = []
        out.append(line + "<br>")
    if quote:
        out.append(f'<div class="quote">{"<br>".join(quote)}</div>')
    return "".join(out).removesuffix("<br>")


def component_html(row: dict[str, Any]) -> str:
    items = []
    for item in row.get("components", []):
        if item["type"] == 2:  # a button
            emoji = (item.get("emoji") or {}).get("name", "")
            label = html.escape(" ".join(x for x in (emoji, item.get("label") or "") if x))
            primary = " primary" if item.get("style") == 1 else ""
            items.append(f'<div class="button{primary}">{label}</div>')
        elif item["type"] == 3:  # a select menu
            placeholder = html.escape(item.get("placeholder") or "")
            items.append(f'<div class="select"><span>{placeholder}</span><span>⌄</span></div>')
    return f'<div class="row">{"".join(items)}</div>'


def page(question: str, embed: dict[str, Any], rows: list[dict[str, Any]]) -> str:
    colour = f"#{embed.get('color', 0x2E8B57):06x}"
    title = html.escape(embed.get("title", ""))
    if embed.get("url"):
        title = f'<a href="{html.escape(embed["url"])}">{title}</a>'
    fields = "".join(
        f'<div class="field"><div class="fname">{markdown(f["name"])}</div>'
        f"<div>{markdown(f['value'])}</div></div>"
        for f in embed.get("fields", [])
    )
    footer = html.escape(embed.get("footer", {}).get("text", ""))
    return f"""<!DOCTYPE html><html><head><meta charset="utf-8">
<style>{CSS % {"width": WIDTH, "colour": colour}}</style></head><body><div class="wrap">
<div class="msg"><div class="avatar" style="background:#c27c0e">{ASKER[0].upper()}</div><div>
  <div class="head"><span class="name">{ASKER}</span><span class="time">Today at 10:24</span></div>
  <div><span class="mention">@Articlebot</span> {html.escape(question)}</div></div></div>
<div class="msg"><div class="avatar" style="background:#2e8b57">A</div><div>
  <div class="head"><span class="name">Articlebot</span><span class="app">APP</span>
  <span class="time">Today at 10:24</span></div>
  <div class="embed"><div class="title">{title}</div>
    <div class="desc">{markdown(embed.get("description", ""))}</div>{fields}
    <div class="footer">{footer}</div></div>
  {"".join(component_html(r) for r in rows)}
</div></div></div>
<script>
document.body.dataset.height = Math.ceil(document.querySelector(".wrap").getBoundingClientRect().bottom);
</script>
</body></html>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        if found := shutil.which(name):
            return found
    raise SystemExit("chromium not installed: apt-get install chromium")


def screenshot(html_file: Path, out: Path) -> None:
    """Two runs of headless Chromium: one to measure the page's height, one to shoot it."""
    flags = [
        "--headless",
        "--disable-gpu",
        "--hide-scrollbars",
        "--force-device-scale-factor=1",
        "--no-first-run",
        f"--user-data-dir={tempfile.mkdtemp(prefix='articlebot-shot-')}",
    ]
    if os.geteuid() == 0:
        flags.append("--no-sandbox")
    url = html_file.resolve().as_uri()
    dom = subprocess.run(
        [chromium(), *flags, f"--window-size={WIDTH},2000", "--dump-dom", url],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    found = re.search(r'data-height="(\d+)"', dom)
    if not found:
        raise SystemExit("could not measure the page")
    subprocess.run(
        [
            chromium(),
            *flags,
            f"--window-size={WIDTH},{found.group(1)}",
            f"--screenshot={out.resolve()}",
            url,
        ],
        capture_output=True,
        check=True,
        timeout=120,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--question", default=QUESTION)
    parser.add_argument("--out", type=Path, default=REPO / "docs" / "answer-embed.png")
    parser.add_argument("--html", type=Path, help="also keep the HTML page here")
    args = parser.parse_args()
    embed, rows = answer_parts(args.question)
    with tempfile.TemporaryDirectory() as folder:
        html_file = args.html or Path(folder) / "answer.html"
        html_file.write_text(page(args.question, embed, rows), encoding="utf-8")
        screenshot(html_file, args.out)
    print(f"{args.out}: {args.out.stat().st_size} bytes")


if __name__ == "__main__":
    main()
