"""What a build checks before it publishes: is it losing articles?

(Whether anything changed at all is build_segments.plan_update's answer: then nothing is published.)
A corpus that lost every article or more than half of them (a wrong --corpus, an unmounted
volume) is refused unless the build is told that this is intended (`--allow-shrink`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from index.errors import ShrinkRefused


def check_shrink(
    previous: Sequence[str], current: Sequence[str], corpus_dir: Path, *, allow: bool
) -> None:
    """ShrinkRefused when the new generation would drop every previous article or more than half."""
    dropped = len(set(previous) - set(current))
    if allow or not previous or dropped * 2 <= len(previous):
        return
    raise ShrinkRefused(
        f"refusing to publish an index without {dropped} of the {len(previous)} articles it "
        f"serves ({corpus_dir} holds {len(current)}); the current index keeps serving. If that is "
        "intended, run `articlebot index --allow-shrink`"
    )
