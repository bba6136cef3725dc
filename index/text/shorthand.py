"""Chat shorthand spelled out before a question is searched and read ("y r ppl leaving" -> "why are
people leaving"): the short forms people type in a Discord channel match no article word, so BM25,
the embedding and the reader (trained mostly on written questions) all miss what they stand for.

Only whole lower-case words are expanded, never a word with a capital ("U.S.", "R&B" stay), nor one
that touches a dot, an apostrophe, an ampersand or a slash ("u.s.", "r's"). One-letter forms are
ambiguous ("u" and "r" are also letters, "y" an axis): "y" is read as "why" only when it opens the
question, "u" and "r" only between two words. The list is our own, of forms common in chat; it
leaves out forms that are also names or words of their own ("st" for saint or street, "co",
"nz", "er").
"""

from __future__ import annotations

import re

SHORTHAND = {
    "ppl": "people",
    "govt": "government",
    "gov't": "government",
    "abt": "about",
    "wat": "what",
    "wats": "what's",
    "wut": "what",
    "wht": "what",
    "wen": "when",
    "whn": "when",
    "wher": "where",
    "whos": "who is",
    "hw": "how",
    "cuz": "because",
    "bc": "because",
    "tho": "though",
    "thru": "through",
    "b4": "before",
    "nite": "night",
    "tmrw": "tomorrow",
    "tmr": "tomorrow",
    "yr": "year",
    "yrs": "years",
    "uni": "university",
    "intl": "international",
    "bldg": "building",
    "dept": "department",
    "hosp": "hospital",
    "prez": "president",
    "pres": "president",
    "mgr": "manager",
    "mins": "minutes",
    "hrs": "hours",
    "ur": "your",
    "w/o": "without",
    "w/": "with",
    "u": "you",
    "r": "are",
    "y": "why",
}
_OPENING_ONLY = {"y"}
_BETWEEN_WORDS = {"u", "r"}
# A run of word characters with the few marks the short forms contain; what touches it decides.
_TOKEN = re.compile(r"(?<![\w.'’&/])([a-z0-9]+(?:'[a-z]+|/o|/)?)(?![\w.'’&/])")


def expand(question: str) -> str:
    """``question`` with chat shorthand spelled out (the same string when it has none)."""
    if not any(ch.islower() for ch in question):
        return question
    out: list[str] = []
    last = 0
    for m in _TOKEN.finditer(question):
        word = m.group(1)
        full = SHORTHAND.get(word)
        if full is None or not _fits(question, m.start(), m.end(), word):
            continue
        out.append(question[last : m.start()])
        out.append(full)
        last = m.end()
    if not out:
        return question
    out.append(question[last:])
    return "".join(out)


def _fits(text: str, start: int, end: int, word: str) -> bool:
    if word in _OPENING_ONLY:
        return not text[:start].strip()
    if word in _BETWEEN_WORDS:
        before, after = text[:start].rstrip(), text[end:].lstrip()
        return bool(before) and bool(after) and before[-1].isalnum() and after[0].isalnum()
    return True
