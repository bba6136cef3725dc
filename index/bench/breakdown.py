"""Where each question was won or lost (`articlebot eval --breakdown`): every question in exactly one
bin, so the table says which stage to work on (retrieval, the choice of passage or sentence, the
confidence).

Answerable questions ("passage" = one of the first ``TOP`` returned; "the answer's passage" = one of
the gold article's that contains an answer string):

- ``quote_hit``: answered, and the primary quote holds an answer string;
- ``wrong_sentence``: answered from the answer's passage, with a sentence that does not hold it;
- ``other_passage``: answered from another passage, though the answer's passage was among the TOP;
- ``missed_answered`` / ``missed_declined``: the answer's passage was not among the TOP (retrieval);
- ``declined_first``: declined, though the answer's passage came first;
- ``declined_top``: declined, the answer's passage among the TOP but not first.

Unanswerable and off-corpus questions: ``declined`` (right) or ``answered`` (wrong).

One detail inside a bin: of the ``other_passage`` questions, how many were answered from another
passage of the answer's own article (``same_article``; on news nearly all of them, which says the
story was found and the reader chose the wrong paragraph of it, not another story).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable, Sequence

from index.types import Answer, Passage, Quote

TOP = 5
ANSWERABLE_BINS = (
    "quote_hit",
    "wrong_sentence",
    "other_passage",
    "missed_answered",
    "missed_declined",
    "declined_first",
    "declined_top",
)
UNANSWERABLE_BINS = ("declined", "answered")
LABELS = {
    "quote_hit": "quote holds the answer",
    "wrong_sentence": "answered from the answer's passage, wrong sentence",
    "other_passage": f"answered from another passage (answer's passage in the {TOP})",
    "missed_answered": f"answer's passage not in the {TOP}: answered wrongly",
    "missed_declined": f"answer's passage not in the {TOP}: declined",
    "declined_first": "declined, though the answer's passage was first",
    "declined_top": f"declined, answer's passage in the {TOP}",
    "declined": "declined (right)",
    "answered": "answered (wrong)",
}


def _inside(quote: Quote, passage: Passage) -> bool:
    return (
        quote.article == passage.article and quote.start < passage.end and passage.start < quote.end
    )


def answerable_bin(answer: Answer, gold: Sequence[int], quote_hit: bool) -> str:
    """The bin of an answerable question; ``gold``: 1-based ranks of the returned passages that
    hold an answer in the right article."""
    top = [r for r in gold if r <= TOP]
    if answer.answered and quote_hit:
        return "quote_hit"
    if not top:
        return "missed_answered" if answer.answered else "missed_declined"
    if not answer.answered:
        return "declined_first" if top[0] == 1 else "declined_top"
    quote = answer.quotes[0]
    if any(_inside(quote, answer.passages[r - 1]) for r in top):
        return "wrong_sentence"
    return "other_passage"


def same_article(answer: Answer, article: str) -> bool:
    """The primary quote is from ``article`` (the answer's own)."""
    return bool(answer.quotes) and answer.quotes[0].article == article


def unanswerable_bin(answer: Answer) -> str:
    return "answered" if answer.answered else "declined"


def tally(bins: Iterable[str]) -> dict[str, dict[str, float | int]]:
    """{bin: {"n": count, "share": fraction of the group}} for the answerable bins and, separately,
    the unanswerable ones (bins never met are listed with 0)."""
    counts = Counter(bins)
    out: dict[str, dict[str, float | int]] = {}
    for group in (ANSWERABLE_BINS, UNANSWERABLE_BINS):
        total = sum(counts[b] for b in group)
        for b in group:
            out[b] = {"n": counts[b], "share": round(counts[b] / total, 4) if total else 0.0}
    return out


def format_breakdown(
    table: dict[str, dict[str, float | int]], kinds: dict[str, int], same: int | None = None
) -> str:
    """The table as text: answerable bins, then the unanswerable and off-corpus ones; ``same``: of
    the other-passage answers, those from the answer's own article (a line under that bin)."""
    width = max(len(label) for label in LABELS.values())
    lines = [f"where the {kinds.get('answerable', 0)} answerable questions went:"]
    for b in ANSWERABLE_BINS:
        lines.append(f"  {LABELS[b]:<{width}}  {table[b]['n']:>5}  {100 * table[b]['share']:5.1f}%")
        if b == "other_passage" and same is not None:
            label = "  of which from the answer's own article"
            lines.append(f"  {label:<{width}}  {same:>5}")
    others = kinds.get("impossible", 0) + kinds.get("off_corpus", 0)
    lines.append(f"the {others} unanswerable and off-corpus questions:")
    for b in UNANSWERABLE_BINS:
        lines.append(f"  {LABELS[b]:<{width}}  {table[b]['n']:>5}  {100 * table[b]['share']:5.1f}%")
    return "\n".join(lines)
