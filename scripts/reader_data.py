"""Training examples for the reader, from a SQuAD-style folder (``corpus/*.md`` + ``questions.jsonl``).

For each question: the sentence holding the answer is a positive (with the answer's character span in it);
the other sentences of its paragraph and the closest-worded sentences of other paragraphs of the same article
are negatives (on topic, no answer); and questions made unanswerable by a small edit (a name, number or year
swapped for another one of the article that the sentence does not contain, a negation inserted, a word
replaced by its opposite) are paired with the original answer sentence as negatives, so that "on topic but
not answered" is learned. Pure Python (uses the project's own sentence splitter); deterministic for a seed.
"""

from __future__ import annotations

import hashlib
import json
import random
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from index.text.chunking import split_sentences

_WORD = re.compile(r"[A-Za-z0-9][A-Za-z0-9'-]*")
_NAME = re.compile(r"\b[A-Z][a-zA-Z'-]+(?:\s+(?:of\s+|the\s+|de\s+)?[A-Z][a-zA-Z'-]+)*")
_NUMBER = re.compile(r"\b\d[\d,.]*\b")
_ORDINAL = re.compile(r"\b(\d+)(st|nd|rd|th)\b")
_ORDINAL_WORDS = (
    "first",
    "second",
    "third",
    "fourth",
    "fifth",
    "sixth",
    "seventh",
    "eighth",
    "ninth",
)
# "did"/"does" are left out: "When did not X happen" is not English.
_AUX = re.compile(
    r"\b(was|were|is|are|can|could|has|have|had|will|would|should|might)\b(?!\s+not\b)"
)
STOP = frozenset(
    [
        "a",
        "an",
        "the",
        "of",
        "in",
        "on",
        "at",
        "to",
        "for",
        "by",
        "with",
        "from",
        "and",
        "or",
        "is",
        "are",
        "was",
        "were",
        "be",
        "been",
        "being",
        "as",
        "that",
        "this",
        "these",
        "those",
        "it",
        "its",
        "what",
        "which",
        "who",
        "whom",
        "whose",
        "when",
        "where",
        "why",
        "how",
        "did",
        "does",
        "do",
        "many",
        "much",
        "there",
        "their",
        "they",
        "he",
        "she",
        "his",
        "her",
        "him",
        "i",
        "you",
        "we",
        "our",
        "not",
        "no",
        "into",
        "than",
        "then",
        "also",
        "can",
        "could",
        "has",
        "have",
        "had",
        "would",
        "should",
    ]
)
# Pairs of opposites for the "antonym" edit (our own list; both directions are used).
OPPOSITES = (
    ("first", "last"),
    ("largest", "smallest"),
    ("biggest", "smallest"),
    ("highest", "lowest"),
    ("most", "least"),
    ("before", "after"),
    ("earliest", "latest"),
    ("oldest", "youngest"),
    ("older", "younger"),
    ("longest", "shortest"),
    ("increase", "decrease"),
    ("increased", "decreased"),
    ("won", "lost"),
    ("north", "south"),
    ("east", "west"),
    ("northern", "southern"),
    ("eastern", "western"),
    ("maximum", "minimum"),
    ("more", "fewer"),
    ("major", "minor"),
    ("began", "ended"),
    ("start", "end"),
    ("opened", "closed"),
    ("rise", "fall"),
    ("accepted", "rejected"),
    ("supported", "opposed"),
    ("inside", "outside"),
    ("upper", "lower"),
    ("early", "late"),
    ("best", "worst"),
)
# More pairs, used only by the second edit set (``edits=2``; the shipped gpu recipe keeps the list above).
MORE_OPPOSITES = (
    ("born", "died"),
    ("birth", "death"),
    ("bought", "sold"),
    ("buy", "sell"),
    ("import", "export"),
    ("imports", "exports"),
    ("victory", "defeat"),
    ("winner", "loser"),
    ("allowed", "banned"),
    ("legal", "illegal"),
    ("success", "failure"),
    ("higher", "lower"),
    ("larger", "smaller"),
    ("greater", "smaller"),
    ("above", "below"),
    ("top", "bottom"),
    ("gain", "loss"),
    ("positive", "negative"),
    ("public", "private"),
    ("male", "female"),
    ("men", "women"),
    ("ancient", "modern"),
    ("arrived", "departed"),
    ("attacked", "defended"),
    ("created", "destroyed"),
    ("built", "demolished"),
    ("founded", "dissolved"),
    ("joined", "left"),
    ("cause", "result"),
    ("causes", "results"),
    ("average", "median"),
    ("inner", "outer"),
    ("always", "never"),
)
_OPPOSITE = {a: b for a, b in OPPOSITES} | {b: a for a, b in OPPOSITES}
_OPPOSITE_V2 = _OPPOSITE | {a: b for a, b in MORE_OPPOSITES} | {b: a for a, b in MORE_OPPOSITES}


@dataclass(frozen=True)
class Example:
    question: str
    sentence: str
    previous: str
    title: str
    label: int  # 1: the sentence answers the question
    span: tuple[int, int] | None = None  # answer characters in the sentence (positives only)
    kind: str = (
        "positive"  # positive | paragraph | article | edited | other-question | impossible | news
        # | removed | lede
    )
    source: str = "squad1"  # squad1 | squad2 | news: where the question comes from


@dataclass
class Article:
    slug: str
    title: str
    paragraphs: list[list[str]]  # sentences of each paragraph
    names: list[str] = field(default_factory=list)  # capitalised names that are not common words
    numbers: list[str] = field(default_factory=list)
    bags: list[list[set[str]]] = field(default_factory=list)  # words() of each sentence

    def __post_init__(self) -> None:
        flat = [s for p in self.paragraphs for s in p]
        lower = {w for s in flat for w in _WORD.findall(s) if w.islower()}
        found = {m.group() for s in flat for m in _NAME.finditer(s)}
        self.names = sorted(n for n in found if " " in n or n.lower() not in lower)
        self.numbers = sorted({m.group() for s in flat for m in _NUMBER.finditer(s)})
        self.bags = [[words(s) for s in p] for p in self.paragraphs]


def read_articles(folder: Path, only: set[str] | None = None) -> dict[str, Article]:
    """The articles of a SQuAD-style folder (only the slugs in ``only`` when given)."""
    out: dict[str, Article] = {}
    for path in sorted((folder / "corpus").glob("*.md")):
        if only is not None and path.stem not in only:
            continue
        text = path.read_text(encoding="utf-8")
        head, _, body = text.partition("\n")
        blocks = [b.strip() for b in body.split("\n\n") if b.strip()]
        paras = [[s.text for s in split_sentences(b)] for b in blocks]
        out[path.stem] = Article(path.stem, head.lstrip("# ").strip(), paras)
    return out


def read_questions(folder: Path) -> list[dict[str, object]]:
    with (folder / "questions.jsonl").open(encoding="utf-8") as fh:
        return [json.loads(line) for line in fh if line.strip()]


def words(text: str) -> set[str]:
    return {w.lower() for w in _WORD.findall(text)} - STOP


def locate(sentences: Sequence[str], answers: Sequence[str], question: str) -> tuple[int, int, int]:
    """(sentence index, start, end) of the answer occurrence in the sentence closest to the question."""
    q = words(question)
    best: tuple[float, int, int, int] | None = None
    for answer in answers:
        for i, sent in enumerate(sentences):
            pos = sent.find(answer)
            if pos < 0 or not answer.strip():
                continue
            score = len(q & words(sent)) - 0.001 * i
            if best is None or score > best[0]:
                best = (score, i, pos, pos + len(answer))
        if best is not None:
            return best[1], best[2], best[3]
    return -1, 0, 0


def edited_questions(
    question: str,
    sentence: str,
    article: Article,
    rng: random.Random,
    paragraph: Sequence[str] = (),
    edits: int = 1,
) -> list[str]:
    """Unanswerable variants of ``question`` with respect to ``sentence`` (possibly none).

    ``edits`` 1: name, number, negation, opposite (the shipped gpu recipe). 2: also a name or an on-topic
    word taken from another sentence of the same ``paragraph``, ordinals shifted, and more opposites."""
    out: list[str] = []
    opposite = _OPPOSITE_V2 if edits >= 2 else _OPPOSITE
    out += _swap_name(question, sentence, article.names, rng)
    q_numbers = [m.group() for m in _NUMBER.finditer(question) if m.group() in sentence]
    if q_numbers:
        pool = [n for n in article.numbers if n not in sentence]
        old = rng.choice(q_numbers)
        new = (
            rng.choice(pool)
            if pool
            else str(int(re.sub(r"\D", "", old) or "1") + rng.randint(2, 9))
        )
        out.append(question.replace(old, new, 1))
    if " not " not in question and " never " not in question:
        aux = _AUX.search(question)
        if aux:
            out.append(question[: aux.end()] + " not" + question[aux.end() :])
    flips = [w for w in _WORD.findall(question) if w.lower() in opposite]
    if flips:
        word = rng.choice(flips)
        out.append(_replace_word(question, word, opposite[word.lower()]))
    if edits >= 2:
        out += _more_edits(question, sentence, paragraph, rng)
    return [q for q in out if q != question]


def _swap_name(question: str, sentence: str, names: Sequence[str], rng: random.Random) -> list[str]:
    """The question with a name it shares with ``sentence`` swapped for one of ``names`` that neither
    holds (nothing when there is no such pair)."""
    shared = [
        m.group() for m in _NAME.finditer(question) if m.start() > 0 and m.group() in sentence
    ]
    pool = [n for n in names if n not in sentence and n not in question]
    if shared and pool:
        return [question.replace(rng.choice(shared), rng.choice(pool), 1)]
    return []


def _replace_word(question: str, word: str, new: str) -> str:
    """The first whole-word ``word`` of the question replaced by ``new``, capitalised like it."""
    new = new.capitalize() if word[0].isupper() else new
    return re.sub(rf"\b{re.escape(word)}\b", new, question, count=1)


def _more_edits(
    question: str, sentence: str, paragraph: Sequence[str], rng: random.Random
) -> list[str]:
    """The second edit set: swaps with words of the same paragraph that the sentence lacks (the way
    SQuAD 2.0's writers made most of their unanswerable questions), and shifted ordinals."""
    out: list[str] = []
    rest = [p for p in paragraph if p != sentence]
    names = sorted({m.group() for p in rest for m in _NAME.finditer(p) if m.start() > 0})
    out += _swap_name(question, sentence, names, rng)
    s_words = words(sentence)
    q_words = [w for w in _WORD.findall(question) if w.islower() and len(w) >= 4 and w in s_words]
    topic = sorted(
        {w for p in rest for w in _WORD.findall(p) if w.islower() and len(w) >= 4}
        - s_words
        - words(question)
        - STOP
    )
    if q_words and topic:
        out.append(_replace_word(question, rng.choice(q_words), rng.choice(topic)))
    ordinal = _ORDINAL.search(question)
    if ordinal:
        n = int(ordinal.group(1)) + rng.choice((-2, -1, 1, 2))
        if n > 0:
            suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
            out.append(question[: ordinal.start()] + f"{n}{suffix}" + question[ordinal.end() :])
    spelled = [w for w in _WORD.findall(question) if w.lower() in _ORDINAL_WORDS]
    if spelled:
        word = rng.choice(spelled)
        out.append(
            _replace_word(
                question, word, rng.choice([o for o in _ORDINAL_WORDS if o != word.lower()])
            )
        )
    return out


def examples_for(
    q: dict[str, object],
    article: Article,
    rng: random.Random,
    *,
    article_negatives: int = 2,
    edited: int = 2,
    neighbours: Sequence[dict[str, object]] = (),
    other_questions: int = 0,
    paragraph_negatives: int | None = None,
    edits: int = 1,
    restating: bool = False,
    engine: Sequence[Sequence[str]] = (),
) -> Iterator[Example]:
    """All training examples of one question (nothing if its answer cannot be placed).

    ``restating`` adds the negatives a news question meets (see restating_negatives). ``engine``: the
    engine's own candidates for the question that hold no answer ([sentence, previous, title] each,
    scripts/engine_candidates.py), added to its group unless the group already pairs that sentence.

    ``neighbours`` are the other questions of the same paragraph: up to ``other_questions`` of them whose
    answers the gold sentence does not hold are paired with it as negatives (real questions, on topic,
    not answered by that sentence)."""
    question = str(q["question"])
    answers = [str(a) for a in q["answers"]]  # type: ignore[attr-defined]
    p_index = int(q["paragraph_index"])  # type: ignore[call-overload]
    if p_index >= len(article.paragraphs):
        return
    sents = article.paragraphs[p_index]
    gold, start, end = locate(sents, answers, question)
    if gold < 0:
        return
    prev = sents[gold - 1] if gold > 0 else ""
    gold_text = sents[gold]
    yield Example(question, gold_text, prev, article.title, 1, (start, end))
    holds_answer = {i for i, s in enumerate(sents) if any(a and a in s for a in answers)}
    others_in_paragraph = [i for i in range(len(sents)) if i not in holds_answer]
    if paragraph_negatives is not None:
        others_in_paragraph = sorted(
            rng.sample(others_in_paragraph, min(paragraph_negatives, len(others_in_paragraph)))
        )
    for i in others_in_paragraph:
        yield Example(
            question, sents[i], sents[i - 1] if i else "", article.title, 0, None, "paragraph"
        )
    q_words = words(question)
    pool = [
        (len(q_words & bag) + rng.random() * 0.5, pi, si)
        for pi, para in enumerate(article.bags)
        if pi != p_index
        for si, bag in enumerate(para)
        if not any(a and a in article.paragraphs[pi][si] for a in answers)
    ]
    pool.sort(reverse=True)
    picked = [(pi, si) for _, pi, si in pool[:article_negatives]]
    for pi, si in picked:
        para = article.paragraphs[pi]
        yield Example(
            question, para[si], para[si - 1] if si else "", article.title, 0, None, "article"
        )
    if restating:
        yield from restating_negatives(question, answers, article, p_index, gold, start, end)
    # Before the edited questions: those are other texts, so other groups (question_groups).
    paired = {gold_text, *(sents[i] for i in others_in_paragraph)}
    paired.update(article.paragraphs[pi][si] for pi, si in picked)
    yield from engine_examples(question, engine, paired)
    variants = edited_questions(question, gold_text, article, rng, sents, edits)
    rng.shuffle(variants)
    for variant in variants[:edited]:
        yield Example(variant, gold_text, prev, article.title, 0, None, "edited")
    if other_questions:
        others = [
            str(n["question"])
            for n in neighbours
            if n["question"] != question
            and not any(str(a) and str(a) in gold_text for a in n["answers"])  # type: ignore[attr-defined]
        ]
        for other in rng.sample(others, min(other_questions, len(others))):
            yield Example(other, gold_text, prev, article.title, 0, None, "other-question")


def engine_examples(
    question: str, engine: Sequence[Sequence[str]], paired: set[str], source: str = "squad1"
) -> Iterator[Example]:
    """Negatives of kind "engine" from the engine's candidates, skipping sentences in ``paired``."""
    seen = set(paired)
    for sentence, previous, title in engine:
        if sentence in seen:
            continue
        seen.add(sentence)
        yield Example(question, sentence, previous, title, 0, None, "engine", source)


def read_engine_negatives(paths: Sequence[Path]) -> dict[str, list[list[str]]]:
    """Question id -> its engine negatives, from scripts/engine_candidates.py's files."""
    out: dict[str, list[list[str]]] = {}
    for path in paths:
        with path.open(encoding="utf-8") as fh:
            for line in fh:
                if line.strip():
                    row = json.loads(line)
                    out[str(row["id"])] = [list(n) for n in row["negatives"]]
    return out


_LOOSE_PUNCT = re.compile(r"\s+([,.;:)])|([(])\s+")


def without_answer(sentence: str, start: int, end: int) -> str:
    """``sentence`` with the answer's characters taken out and the seam tidied (no doubled spaces, no
    space before a comma): the same words around it, so it restates what the question asks about."""
    text = f"{sentence[:start].rstrip()} {sentence[end:].lstrip()}".strip()
    text = _LOOSE_PUNCT.sub(lambda m: m.group(1) or m.group(2), " ".join(text.split()))
    return re.sub(r",\s*,", ",", text)


def restating_negatives(
    question: str,
    answers: Sequence[str],
    article: Article,
    p_index: int,
    gold: int,
    start: int,
    end: int,
) -> Iterator[Example]:
    """Sentences that restate the question without answering it, as news questions meet them: a news
    reader asks from the headline and the lede, so the lede shares the question's words and holds no
    answer (issue 22). Two kinds, both negatives: the answer sentence with the answer taken out
    ("removed", a minimal pair with the positive: what answers is the answer, not the shared words),
    and the article's first sentence when it holds no answer ("lede")."""
    sents = article.paragraphs[p_index]
    gold_text = sents[gold]
    removed = without_answer(gold_text, start, end)
    if len(words(removed)) >= 4 and not any(a and a in removed for a in answers):
        prev = sents[gold - 1] if gold > 0 else ""
        yield Example(question, removed, prev, article.title, 0, None, "removed")
    if article.paragraphs and article.paragraphs[0] and (p_index, gold) != (0, 0):
        lede = article.paragraphs[0][0]
        if not any(a and a in lede for a in answers):
            yield Example(question, lede, "", article.title, 0, None, "lede")


# --- chat-style questions ----------------------------------------------------------------------------
# How people type questions in a Discord channel (our own lists): short forms of common words, and the
# question openings whose function words they leave out ("what is the capital" -> "what capital").
CHAT_WORDS = {
    "people": "ppl",
    "about": "abt",
    "what": "wat",
    "you": "u",
    "are": "r",
    "because": "cuz",
    "though": "tho",
    "with": "w/",
    "without": "w/o",
    "before": "b4",
    "probably": "prob",
    "something": "smth",
    "government": "govt",
    "really": "rly",
    "please": "pls",
    "thanks": "thx",
    "number": "no.",
    "percent": "%",
    "and": "&",
}
_CHAT_OPENING = re.compile(
    r"^(what|who|which|where|when|how many|how much|how) (?:is|was|are|were|did|does|do) "
    r"(?:the |a |an )?"
)
_CHAT_ARTICLE = re.compile(r"\b(?:the|a|an) ")
_CHAT_DID = re.compile(r"^(when|where|why|how) (?:did|does|do) ")
_TYPO_WORD = re.compile(r"\b[a-z]{5,}\b")


def chat_noise(question: str, rng: random.Random) -> str:
    """``question`` rewritten the way people type in chat: lower case, the trailing question mark mostly
    dropped, function words of the opening dropped, common words shortened ("ppl", "abt", "wat"), and a
    typo (a swapped, dropped or doubled letter) in one or two longer words. Deterministic for ``rng``."""
    text = " ".join(question.split()).lower()
    if rng.random() < 0.85:
        text = text.rstrip("?").rstrip()
    if rng.random() < 0.6:
        cut = _CHAT_OPENING.sub(r"\1 ", text, count=1)
        cut = _CHAT_DID.sub(r"\1 ", cut, count=1) if cut == text else cut
        text = cut
    if rng.random() < 0.3:
        text = _CHAT_ARTICLE.sub("", text)
    swaps = [w for w in _WORD.findall(text) if w in CHAT_WORDS]
    for word in swaps:
        if rng.random() < 0.5:
            text = re.sub(rf"\b{re.escape(word)}\b", CHAT_WORDS[word], text, count=1)
    roll = rng.random()
    typos = 2 if roll < 0.25 else (1 if roll < 0.75 else 0)
    candidates = sorted({m.group() for m in _TYPO_WORD.finditer(text)})
    for word in rng.sample(candidates, min(typos, len(candidates))):
        text = re.sub(rf"\b{word}\b", typo(word, rng), text, count=1)
    text = text.strip()
    return text or question


def typo(word: str, rng: random.Random) -> str:
    """One slip of the fingers inside ``word`` (never its first letter): two letters swapped, a letter
    dropped, or a letter doubled."""
    if len(word) < 3:
        return word
    i = rng.randrange(1, len(word) - 1)
    kind = rng.randrange(3)
    if kind == 0 and word[i] != word[i + 1]:
        return word[:i] + word[i + 1] + word[i] + word[i + 2 :]
    if kind == 1:
        return word[:i] + word[i + 1 :]
    return word[:i] + word[i] + word[i:]


def chat_rng(seed: int, key: str) -> random.Random:
    """The noise draw of one question: the same for a question and its edited variants, whatever the
    order in which questions are expanded."""
    digest = hashlib.sha256(f"chat:{seed}:{key}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def with_chat_noise(examples: Sequence[Example], seed: int, key: str) -> list[Example]:
    """The examples of one question with every question text in chat style (one draw per question)."""
    cache: dict[str, str] = {}
    out = []
    for e in examples:
        if e.question not in cache:
            cache[e.question] = chat_noise(e.question, chat_rng(seed, key))
        out.append(replace(e, question=cache[e.question]))
    return out


def question_groups(examples: Sequence[Example]) -> list[list[int]]:
    """Indexes of ``examples`` in runs that pair one question text with its candidate sentences.

    Every builder here emits a question's pairs one after another (its positive first), and an edited
    question is another text, so a run of equal question texts is one question's candidates: the
    group a listwise loss compares. A data set repeated (``news_repeat``) gives each copy its own run."""
    groups: list[list[int]] = []
    for i, e in enumerate(examples):
        if groups and examples[groups[-1][0]].question == e.question:
            groups[-1].append(i)
        else:
            groups.append([i])
    return groups


def group_batches(
    groups: Sequence[Sequence[int]], lengths: Sequence[int], batch: int, rng: random.Random
) -> list[list[int]]:
    """Batches of whole question groups, about ``batch`` pairs each (a group is never split; a batch
    is closed once it reaches ``batch``): groups shuffled, sorted by their longest pair inside
    windows of 50 batches (so padding stays short), then the batches shuffled."""
    order = list(range(len(groups)))
    rng.shuffle(order)
    out: list[list[int]] = []
    window: list[int] = []
    size = 0

    def flush() -> None:
        window.sort(key=lambda g: max(lengths[i] for i in groups[g]))
        current: list[int] = []
        for g in window:
            current.extend(groups[g])
            if len(current) >= batch:
                out.append(current)
                current = []
        if current:
            out.append(current)

    for g in order:
        window.append(g)
        size += len(groups[g])
        if size >= batch * 50:
            flush()
            window, size = [], 0
    if window:
        flush()
    rng.shuffle(out)
    return out


# --- SQuAD 2.0: real unanswerable questions ----------------------------------------------------------


def squad2_halves(slugs: Sequence[str]) -> tuple[list[str], list[str]]:
    """(TRAIN half, MEASURE half) of SQuAD 2.0 articles: an article trains when the first byte of the
    SHA-256 of its slug is even. Fixed by the slugs alone, so any script can tell the halves apart."""
    train: list[str] = []
    measure: list[str] = []
    for slug in sorted(slugs):
        (train if hashlib.sha256(slug.encode()).digest()[0] % 2 == 0 else measure).append(slug)
    return train, measure


def squad2_examples(
    folder: Path,
    rng: random.Random,
    *,
    article_negatives: int = 1,
    edited: int = 1,
    paragraph_negatives: int | None = None,
    edits: int = 1,
) -> list[Example]:
    """Examples from the TRAIN half of a SQuAD 2.0-style folder: every unanswerable question paired with
    each sentence of its paragraph (negatives of kind "impossible"); answerable ones as SQuAD 1.1's."""
    questions = read_questions(folder)
    train, _ = squad2_halves(sorted({str(q["article"]) for q in questions}))
    keep = set(train)
    articles = read_articles(folder, only=keep)
    out: list[Example] = []
    for q in questions:
        if q["article"] not in keep:
            continue
        article = articles[str(q["article"])]
        p_index = int(q["paragraph_index"])  # type: ignore[call-overload]
        if q.get("is_impossible"):
            if p_index >= len(article.paragraphs):
                continue
            sents = article.paragraphs[p_index]
            for i, sent in enumerate(sents):
                out.append(
                    Example(
                        str(q["question"]),
                        sent,
                        sents[i - 1] if i else "",
                        article.title,
                        0,
                        None,
                        "impossible",
                        "squad2",
                    )
                )
            continue
        for e in examples_for(
            q,
            article,
            rng,
            article_negatives=article_negatives,
            edited=edited,
            paragraph_negatives=paragraph_negatives,
            edits=edits,
        ):
            out.append(replace(e, source="squad2"))
    return out


# --- news: the fitting part of tests/data/news ---------------------------------------------------------

_FRONT = re.compile(r"\A---[ \t]*\r?\n(.*?)\r?\n---[ \t]*(?:\r?\n|\Z)", re.DOTALL)


def read_news_article(path: Path) -> Article:
    """A news article: YAML front matter (its ``title``), then paragraphs separated by blank lines. A
    first paragraph that repeats the title (the headline) is left out: the title is every pair's context."""
    import yaml

    text = path.read_text(encoding="utf-8")
    title = ""
    match = _FRONT.match(text)
    if match:
        meta = yaml.safe_load(match.group(1)) or {}
        title = str(meta.get("title") or "") if isinstance(meta, dict) else ""
        text = text[match.end() :]
    blocks = [b.strip() for b in text.split("\n\n") if b.strip()]
    if blocks and title and blocks[0].lstrip("# ").strip() == title.strip():
        blocks = blocks[1:]
    paras = [[s.text for s in split_sentences(" ".join(b.split()))] for b in blocks]
    return Article(path.stem, title or path.stem, [p for p in paras if p])


def news_examples(
    folder: Path,
    *,
    negatives: int = 6,
    split: str = "fit",
    files: str = "dev.jsonl",
    skip: tuple[str, ...] = (),
    engine: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> list[Example]:
    """Examples from a news set (``files``, a glob of JSON-lines files in ``folder``, +
    ``corpus/<article>.md``), questions of ``split`` only: the sentence holding the answer as the
    positive, and the ``negatives`` other sentences of the article sharing most words with the question
    (none holding an answer); an unanswerable question with its ``negatives`` most similar sentences.
    Files named in ``skip`` are left out (held back for measuring)."""
    questions = []
    for path in sorted(folder.glob(files)):
        if path.name in skip:
            continue
        with path.open(encoding="utf-8") as fh:
            questions += [json.loads(line) for line in fh if line.strip()]
    out: list[Example] = []
    articles: dict[str, Article] = {}
    for q in questions:
        if q.get("split") != split:
            continue
        slug = str(q["article"])
        if slug not in articles:
            articles[slug] = read_news_article(folder / "corpus" / f"{slug}.md")
        found = (engine or {}).get(str(q.get("id")), ())
        out.extend(_news_question(q, articles[slug], negatives, found))
    return out


def _news_question(
    q: dict[str, object],
    article: Article,
    negatives: int,
    engine: Sequence[Sequence[str]] = (),
) -> list[Example]:
    flat = [(pi, si) for pi, p in enumerate(article.paragraphs) for si in range(len(p))]
    sents = [article.paragraphs[pi][si] for pi, si in flat]
    question = str(q["question"])
    answers = [str(a) for a in q.get("answers") or []]  # type: ignore[attr-defined]
    out: list[Example] = []

    def example(k: int, label: int, kind: str, span: tuple[int, int] | None = None) -> Example:
        pi, si = flat[k]
        para = article.paragraphs[pi]
        previous = para[si - 1] if si else ""
        return Example(question, para[si], previous, article.title, label, span, kind, "news")

    gold = -1
    if not q.get("is_impossible"):
        gold, start, end = locate(sents, answers, question)
        if gold < 0:
            return []  # the answer runs across sentences: no single positive
        out.append(example(gold, 1, "positive", (start, end)))
    q_words = words(question)
    ranked = sorted(
        (-len(q_words & article.bags[pi][si]), k)
        for k, (pi, si) in enumerate(flat)
        if k != gold and not any(a and a in sents[k] for a in answers)
    )
    kind = "news" if gold >= 0 else "impossible"
    out.extend(example(k, 0, kind) for _, k in ranked[:negatives])
    if gold >= 0:  # an unanswerable question has no positive for its group to choose
        out.extend(engine_examples(question, engine, {e.sentence for e in out}, "news"))
    return out


def draw(
    rng: random.Random, slugs: Sequence[str], questions: list[dict[str, object]], holdout: int
) -> tuple[set[str], list[dict[str, object]], list[dict[str, object]]]:
    """(held-out slugs, training questions in the seeded order, held-out questions): ``holdout``
    articles drawn from ``slugs``, then the rest's questions shuffled, both from ``rng``."""
    held = set(rng.sample(list(slugs), holdout)) if holdout else set()
    train_q = [q for q in questions if q["article"] not in held]
    test_q = [q for q in questions if q["article"] in held]
    rng.shuffle(train_q)
    return held, train_q, test_q


def stage_questions(
    folder: Path, *, seed: int, holdout: int, question_offset: int, max_questions: int | None
) -> list[dict[str, object]]:
    """The SQuAD 1.1 training questions a stage reads (build's draw, offset and count): what
    scripts/engine_candidates.py --stage collects candidates for."""
    slugs = sorted(p.stem for p in (folder / "corpus").glob("*.md"))
    _, train_q, _ = draw(random.Random(seed), slugs, read_questions(folder), holdout)
    end = None if max_questions is None else question_offset + max_questions
    return train_q[question_offset:end]


def build(
    folder: Path,
    *,
    seed: int,
    holdout: int,
    max_questions: int | None = None,
    article_negatives: int = 2,
    edited: int = 2,
    other_questions: int = 0,
    paragraph_negatives: int | None = None,
    edits: int = 1,
    chat_share: float = 0.0,
    squad2: Path | None = None,
    squad2_repeat: int = 1,
    news: Path | None = None,
    news_repeat: int = 1,
    question_offset: int = 0,
    restating: bool = False,
    news_train: Path | None = None,
    news_train_repeat: int = 1,
    news_train_skip: tuple[str, ...] = (),
    engine_negatives: Mapping[str, Sequence[Sequence[str]]] | None = None,
) -> tuple[list[Example], list[Example], list[str]]:
    """(training examples, held-out examples, held-out article slugs): articles split by a seeded draw.

    Options off by default (the presets before cpu-news use none of them, and get the same data as
    before): ``chat_share`` of the training questions rewritten in chat style (chat_noise), with all
    their pairs; ``squad2``, a SQuAD 2.0-style folder whose TRAIN half (squad2_halves) is added ``squad2_repeat``
    times; ``news``,
    a news set whose "fit" questions are added ``news_repeat`` times. Each draws from its own random
    stream, so the SQuAD 1.1 pairs stay the same whichever is on. ``question_offset`` skips the first
    questions of the seeded order (a second stage reads questions the first did not); ``restating``
    adds restating_negatives to the SQuAD 1.1 questions; ``news_train``, a news training set
    (``questions-*.jsonl`` + ``corpus/``, tests/data/news-train) whose questions are added
    ``news_train_repeat`` times, each with 8 negatives, but for the files named in ``news_train_skip``;
    ``engine_negatives`` (question id -> the engine's candidates, read_engine_negatives) adds each
    training question's to its group (SQuAD 1.1 and the news training set; never the held-out set)."""
    rng = random.Random(seed)
    articles = read_articles(folder)
    questions = read_questions(folder)
    held, train_q, test_q = draw(rng, sorted(articles), questions, holdout)
    train_q = train_q[question_offset:]
    if max_questions is not None:
        train_q = train_q[:max_questions]
    by_paragraph: dict[tuple[object, object], list[dict[str, object]]] = {}
    for q in questions:
        by_paragraph.setdefault((q["article"], q["paragraph_index"]), []).append(q)

    engine = engine_negatives or {}

    def expand(
        qs: list[dict[str, object]],
        per_paragraph: int | None,
        restate: bool = False,
        use_engine: bool = True,
    ) -> list[Example]:
        out: list[Example] = []
        for q in qs:
            out.extend(
                examples_for(
                    q,
                    articles[str(q["article"])],
                    rng,
                    article_negatives=article_negatives,
                    edited=edited,
                    neighbours=by_paragraph[(q["article"], q["paragraph_index"])],
                    other_questions=other_questions,
                    paragraph_negatives=per_paragraph,
                    edits=edits,
                    restating=restate,
                    engine=engine.get(str(q.get("id")), ()) if use_engine else (),
                )
            )
        return out

    # The held-out set always pairs each question with every sentence of its paragraph, so that its
    # sentence-choice figure means the same for every preset.
    if chat_share > 0:
        train = []
        pick = random.Random(f"chat-share:{seed}")
        for q in train_q:
            one = expand([q], paragraph_negatives, restating)
            noisy = pick.random() < chat_share
            train.extend(
                with_chat_noise(one, seed, str(q.get("id", q["question"]))) if noisy else one
            )
    else:
        train = expand(train_q, paragraph_negatives, restating)
    test = expand(test_q, None, use_engine=False)
    if squad2 is not None:
        train += (
            squad2_examples(
                squad2,
                random.Random(f"squad2:{seed}"),
                article_negatives=article_negatives,
                edited=edited,
                paragraph_negatives=paragraph_negatives,
                edits=edits,
            )
            * squad2_repeat
        )
    if news is not None:
        train += news_examples(news) * news_repeat
    if news_train is not None:
        more = news_examples(
            news_train,
            negatives=8,
            split="train",
            files="questions-*.jsonl",
            skip=news_train_skip,
            engine=engine,
        )
        train += more * news_train_repeat
    return train, test, sorted(held)
