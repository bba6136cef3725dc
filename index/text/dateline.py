"""A news story's dateline: "DURANGO, Colo., Sept. 3 (Articlebot Wire) — ", "WASHINGTON (CNN) -- ".

The dateline says where and when the story was filed, not what happened: an answer is never sought in
it (the reader took "Sept. 3" for the wildfire's name and "Articlebot Wire" for a painting's title, 11
of 12 times wrong on the news set; docs/EVALUATION.md, "Datelines").

A dateline opens the sentence with a place in capitals ("OSLO", "NEW YORK", "ST. JOHN'S") or an agency
in brackets ("(CNN)"), optionally a region and a date after commas, then a dash: "—", "–" or "--".
"""

from __future__ import annotations

import re

_PLACE = r"[A-Z][A-Z.'’-]+(?:\s+[A-Z][A-Z.'’-]*)*"  # OSLO, NEW YORK, ST. JOHN'S, PORT-AU-PRINCE
_AFTER_PLACE = r"(?:,\s*[^,()—–\n]{1,30}){0,3}"  # ", Colo.", ", Sept. 3"
_AGENCY = r"\([^()\n]{1,40}\)"  # "(Articlebot Wire)", "(CNN)"
_DASH = r"\s*(?:—|–|--)\s*"
_DATELINE = re.compile(
    rf"^\s*(?:{_PLACE}{_AFTER_PLACE}\s*(?:{_AGENCY})?|{_AGENCY}){_DASH}(?=\S)",
)


def dateline_end(sentence: str) -> int:
    """How many characters of ``sentence`` its dateline takes (0 when it opens with none)."""
    match = _DATELINE.match(sentence)
    if match is None:
        return 0
    return match.end()
