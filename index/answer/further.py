"""A second look in the leading story: when the reader believes none of the sentences it read, it
reads on in the first passage's article before the quote is chosen.

A wire story is split into many short chunks (about one paragraph each: 9 to 12 for the news set's
stories), and a question names the story ("the Leeds pharmacist") but seldom the words of the
paragraph that answers it. The retrieval then finds the right story and ranks its lede and the
paragraphs that repeat the question's words first; the answer's paragraph comes sixth or later, and
the per-article cap (5) keeps it out of the passages read. On the news set's measuring part, 31 of
the 36 questions whose answer's passage was not among the 5 read had it in the first passage's
article, ranked 6th to 15th (session 15, docs/EVALUATION.md).

Reading more of the story for every question costs as much as it wins: a held news set lost as many
right quotes as it gained, where the first reading was already right and confident. So the second look
is taken only when the best reading's logit is under LOOK_FURTHER_BELOW, then the choice is made again
over the first passages and STORY_MORE further chunks of the leading story. The reader keeps its
readings (index/reader/model.py), so the second look reads only the new sentences.
"""

from __future__ import annotations

import math

from index.answer.quotes import Choice

# Chosen on the fitting sets (session 15): with no abstention, the news set's fitting part, the news
# training questions t31-t36 (which cpu-news9 was not trained on) and squad1's fitting articles each
# gained 2-3 right quotes at 0, for a second look on about a fifth of the questions.
LOOK_FURTHER_BELOW = 0.0
STORY_MORE = 3
# The second look reads 2 candidates more than the first (10 where the first reads 8): it weighs the
# first passages' sentences and the further chunks' together. Chosen in session 16 with the bfloat16
# reader (scripts/fit_choice.py fit --second-look --read2 10, no abstention, the shipped weights):
# +2 / +5 / +1 right quotes on the fitting sets (news fitting part, t31-t36, squad1's fitting
# articles), +3 / +2 on the measuring ones (news measuring part, squad1's untouched articles).
SECOND_LOOK_EXTRA = 2


def second_look_budget(read: int) -> int:
    """The reader's budget on the second look, from the first look's."""
    return read + SECOND_LOOK_EXTRA if read > 0 else read


def looks_further(choice: Choice) -> bool:
    """The reader read something, and believed none of it."""
    best = choice.features.get("reader_best", math.inf)  # none without the reader
    return bool(choice.quotes) and best < LOOK_FURTHER_BELOW
