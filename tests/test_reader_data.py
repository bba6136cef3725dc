"""The reader's training examples (scripts/reader_data.py): edits that make a question unanswerable."""

from __future__ import annotations

import json
import random
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "scripts"))

import reader_data

PARAGRAPH = [
    "The bridge was opened in 1932 by Mayor Anna Holt after the 7th flood of the river.",
    "Its engineer, Pavel Brenner, later designed the harbour crane and the lighthouse.",
]
ARTICLE = reader_data.Article("bridge", "Bridge", [PARAGRAPH])


def edits(question: str, level: int, seed: int = 0) -> list[str]:
    return reader_data.edited_questions(
        question, PARAGRAPH[0], ARTICLE, random.Random(seed), PARAGRAPH, level
    )


def test_first_edit_set_is_unchanged_by_the_second() -> None:
    question = "Who opened the bridge in 1932?"
    first = edits(question, 1)
    second = edits(question, 2)
    assert second[: len(first)] == first
    assert all(q != question for q in second)


def test_second_set_takes_a_name_of_the_same_paragraph_that_the_sentence_lacks() -> None:
    variants = edits("When did Mayor Anna Holt open the bridge?", 2)
    swapped = [v for v in variants if "Pavel Brenner" in v]
    assert swapped, variants
    assert "Anna Holt" not in swapped[0]


def test_second_set_shifts_ordinals() -> None:
    variants = edits("The bridge opened after which 7th event?", 2)
    shifted = [
        v for v in variants if "7th" not in v and any(o in v for o in ("5th", "6th", "8th", "9th"))
    ]
    assert shifted, variants


def test_second_set_swaps_an_on_topic_word_the_sentence_lacks() -> None:
    variants = edits("Who opened the bridge?", 2)
    topic = {"engineer", "later", "designed", "harbour", "crane", "lighthouse"}
    assert any(set(v.lower().rstrip("?").split()) & topic for v in variants), variants


def test_first_set_knows_only_the_original_opposites() -> None:
    assert not edits("Who bought the bridge?", 1)
    assert any("sold" in v for v in edits("Who bought the bridge?", 2))


# --- chat-style questions --------------------------------------------------------------------------


def noisy(question: str, seed: int) -> str:
    return reader_data.chat_noise(question, random.Random(seed))


def test_chat_noise_is_deterministic_for_the_seed() -> None:
    question = "What is the name of the river that flows through the capital city?"
    assert [noisy(question, s) for s in range(20)] == [noisy(question, s) for s in range(20)]
    assert len({noisy(question, s) for s in range(20)}) > 5  # and the seeds differ


def test_chat_noise_lowers_case_and_mostly_drops_the_question_mark() -> None:
    question = "When did Tamsin Loveridge win the Hobart by-election?"
    variants = [noisy(question, s) for s in range(100)]
    assert all(v == v.lower() for v in variants)
    assert 60 <= sum(not v.endswith("?") for v in variants) < 100


def test_chat_noise_drops_the_function_words_of_the_opening() -> None:
    variants = {noisy("What is the capital of Norway?", s) for s in range(60)}
    assert any(v.startswith("what capital") or v.startswith("wat capital") for v in variants)
    assert any(
        v.startswith("when loveridge")
        for v in {noisy("When did Loveridge win?", s) for s in range(60)}
    )


def test_chat_noise_shortens_common_words() -> None:
    variants = [noisy("What did people say about the vote?", s) for s in range(60)]
    assert any(" ppl " in f" {v} " for v in variants)
    assert any(" abt " in f" {v} " for v in variants)
    assert any(v.startswith("wat ") for v in variants)


def test_chat_noise_makes_one_or_two_typos_in_longer_words() -> None:
    question = "how many residents were evacuated from durango"
    words = set(question.split())
    typo_counts = []
    for s in range(200):
        got = noisy(question + "?", s).rstrip("?")
        changed = [
            w for w in got.split() if w not in words and w not in reader_data.CHAT_WORDS.values()
        ]
        assert all(len(w) >= 4 for w in changed), got  # only words of 5+ letters get a typo
        typo_counts.append(len(changed))
    assert max(typo_counts) <= 2
    assert {0, 1, 2} <= set(typo_counts)


def test_a_typo_swaps_drops_or_doubles_one_letter_and_keeps_the_first() -> None:
    for s in range(50):
        got = reader_data.typo("evacuated", random.Random(s))
        assert got != "evacuated" and got[0] == "e"
        assert abs(len(got) - len("evacuated")) <= 1
        if len(got) == len("evacuated"):
            assert sorted(got) == sorted("evacuated")


def test_a_question_and_its_pairs_share_one_noise_draw() -> None:
    examples = [
        reader_data.Example(
            "Who opened the bridge in 1932?", PARAGRAPH[0], "", "Bridge", 1, (0, 3)
        ),
        reader_data.Example("Who opened the bridge in 1932?", PARAGRAPH[1], "", "Bridge", 0),
        reader_data.Example("Who opened the bridge in 1933?", PARAGRAPH[0], "", "Bridge", 0),
    ]
    out = reader_data.with_chat_noise(examples, 13, "q-1")
    assert out[0].question == out[1].question != examples[0].question
    assert out[0].span == (0, 3) and out[1].sentence == PARAGRAPH[1]
    assert out == reader_data.with_chat_noise(examples, 13, "q-1")


# --- SQuAD 2.0 halves and the news set -----------------------------------------------------------


def test_squad2_halves_go_by_the_first_byte_of_the_slugs_sha256() -> None:
    slugs = ["rhine", "normans", "geology", "prime-number", "huguenot"]
    train, measure = reader_data.squad2_halves(slugs)
    assert train == ["geology", "huguenot", "normans"]
    assert measure == ["prime-number", "rhine"]
    assert reader_data.squad2_halves(list(reversed(slugs))) == (train, measure)


NEWS_ARTICLE = """---
title: Harbour bridge reopens after repairs
date: 2025-01-02
url: https://news.example.org/bridge
---
Harbour bridge reopens after repairs

The harbour bridge reopened on Monday after six months of repairs. The work cost 12 million dollars.

Mayor Anna Holt cut the ribbon. Traffic returned within an hour.

The council said the bridge would be inspected again in 2027.
"""


def write_news(folder: Path) -> None:
    (folder / "corpus").mkdir(parents=True)
    (folder / "corpus" / "bridge.md").write_text(NEWS_ARTICLE, encoding="utf-8")
    rows = [
        {
            "id": "1",
            "question": "How much did the bridge repairs cost?",
            "answers": ["12 million dollars"],
            "article": "bridge",
            "is_impossible": False,
            "style": "plain",
            "split": "fit",
        },
        {
            "id": "2",
            "question": "who cut the ribbon",
            "answers": ["Anna Holt", "Mayor Anna Holt"],
            "article": "bridge",
            "is_impossible": False,
            "style": "chat",
            "split": "fit",
        },
        {
            "id": "3",
            "question": "Who designed the bridge?",
            "answers": [],
            "article": "bridge",
            "is_impossible": True,
            "style": "plain",
            "split": "fit",
        },
        {
            "id": "4",
            "question": "When will the bridge be inspected?",
            "answers": ["2027"],
            "article": "bridge",
            "is_impossible": False,
            "style": "plain",
            "split": "measure",
        },
    ]
    (folder / "dev.jsonl").write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")


def test_news_article_takes_its_title_from_the_front_matter_and_drops_the_headline(
    tmp_path: Path,
) -> None:
    write_news(tmp_path)
    article = reader_data.read_news_article(tmp_path / "corpus" / "bridge.md")
    assert article.title == "Harbour bridge reopens after repairs"
    assert article.paragraphs[0][0].startswith("The harbour bridge reopened")
    assert [len(p) for p in article.paragraphs] == [2, 2, 1]


def test_news_examples_use_fit_questions_only(tmp_path: Path) -> None:
    write_news(tmp_path)
    examples = reader_data.news_examples(tmp_path, negatives=2)
    assert {e.question for e in examples} == {
        "How much did the bridge repairs cost?",
        "who cut the ribbon",
        "Who designed the bridge?",
    }
    assert all(e.source == "news" and e.title.startswith("Harbour") for e in examples)
    cost = [e for e in examples if e.question.startswith("How much")]
    positive = [e for e in cost if e.label == 1]
    assert len(positive) == 1 and positive[0].sentence == "The work cost 12 million dollars."
    start, end = positive[0].span  # type: ignore[misc]
    assert positive[0].sentence[start:end] == "12 million dollars"
    assert positive[0].previous.startswith("The harbour bridge")
    negatives = [e for e in cost if e.label == 0]
    assert len(negatives) == 2 and all(e.kind == "news" for e in negatives)
    assert negatives[0].sentence.startswith("The harbour bridge")  # shares "bridge" and "repairs"
    ribbon = [e for e in examples if e.question == "who cut the ribbon" and e.label == 1]
    assert ribbon[0].sentence == "Mayor Anna Holt cut the ribbon."
    impossible = [e for e in examples if e.question == "Who designed the bridge?"]
    assert len(impossible) == 2 and all(e.label == 0 and e.kind == "impossible" for e in impossible)


def test_news_examples_leave_out_the_files_held_back(tmp_path: Path) -> None:
    write_news(tmp_path)
    dev = (tmp_path / "dev.jsonl").read_text(encoding="utf-8").splitlines()
    (tmp_path / "dev.jsonl").unlink()
    (tmp_path / "questions-t1.jsonl").write_text(dev[0] + "\n", encoding="utf-8")
    (tmp_path / "questions-t2.jsonl").write_text("\n".join(dev[1:]) + "\n", encoding="utf-8")
    every = reader_data.news_examples(tmp_path, files="questions-*.jsonl")
    kept = reader_data.news_examples(
        tmp_path, files="questions-*.jsonl", skip=("questions-t2.jsonl",)
    )
    assert {e.question for e in every} > {e.question for e in kept}
    assert {e.question for e in kept} == {"How much did the bridge repairs cost?"}


def test_build_without_the_new_options_is_unchanged(tmp_path: Path) -> None:
    corpus = tmp_path / "squad" / "corpus"
    corpus.mkdir(parents=True)
    for k in range(3):
        (corpus / f"a{k}.md").write_text(
            f"# Article {k}\n\n"
            + " ".join(PARAGRAPH)
            + "\n\nThe river rose in 1931. It fell in 1935.\n",
            encoding="utf-8",
        )
    questions = [
        {
            "id": f"q{k}",
            "question": "Who opened the bridge in 1932?",
            "answers": ["Mayor Anna Holt"],
            "article": f"a{k}",
            "paragraph_index": 0,
        }
        for k in range(3)
    ]
    (tmp_path / "squad" / "questions.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8"
    )
    write_news(tmp_path / "news")
    plain = reader_data.build(tmp_path / "squad", seed=5, holdout=1)
    again = reader_data.build(tmp_path / "squad", seed=5, holdout=1, chat_share=0.0)
    assert plain == again
    more = reader_data.build(
        tmp_path / "squad", seed=5, holdout=1, news=tmp_path / "news", news_repeat=3
    )
    assert more[0][: len(plain[0])] == plain[0] and more[1:] == plain[1:]
    news = more[0][len(plain[0]) :]
    assert len(news) == 3 * len(reader_data.news_examples(tmp_path / "news"))
    chat = reader_data.build(tmp_path / "squad", seed=5, holdout=1, chat_share=1.0)
    assert len(chat[0]) == len(plain[0]) and chat[1:] == plain[1:]
    assert [e.sentence for e in chat[0]] == [e.sentence for e in plain[0]]
    assert all(e.question == e.question.lower() for e in chat[0])


def test_stage_questions_are_those_build_reads(tmp_path: Path) -> None:
    """engine_candidates --stage collects for exactly the SQuAD 1.1 questions a stage trains on."""
    corpus = tmp_path / "squad" / "corpus"
    corpus.mkdir(parents=True)
    questions = []
    for k in range(4):
        (corpus / f"a{k}.md").write_text(f"# Article {k}\n\n" + " ".join(PARAGRAPH) + "\n")
        questions += [
            {"id": f"q{k}-{j}", "question": f"Who opened bridge {j}?", "answers": ["Mayor Anna Holt"],
             "article": f"a{k}", "paragraph_index": 0}
            for j in range(3)
        ]  # fmt: skip
    (tmp_path / "squad" / "questions.jsonl").write_text(
        "".join(json.dumps(q) + "\n" for q in questions), encoding="utf-8"
    )
    folder = tmp_path / "squad"
    staged = reader_data.stage_questions(
        folder, seed=5, holdout=1, question_offset=2, max_questions=4
    )
    assert len(staged) == 4
    train, _, held = reader_data.build(
        folder, seed=5, holdout=1, question_offset=2, max_questions=4, edited=0
    )
    positives = [e.question for e in train if e.label == 1]
    assert positives == [q["question"] for q in staged]
    assert not {q["article"] for q in staged} & set(held)
    rest = reader_data.stage_questions(
        folder, seed=5, holdout=1, question_offset=6, max_questions=None
    )
    assert len(rest) == 9 - 6 and not {q["id"] for q in rest} & {q["id"] for q in staged}


def test_restating_negatives_take_the_answer_out_and_add_the_lede() -> None:
    lede = "The city of Harrow sits on the river and has three bridges."
    article = reader_data.Article("harrow", "Harrow", [[lede], PARAGRAPH])
    start = PARAGRAPH[0].index("Mayor Anna Holt")
    end = start + len("Mayor Anna Holt")
    got = list(
        reader_data.restating_negatives(
            "Who opened the bridge?", ["Mayor Anna Holt"], article, 1, 0, start, end
        )
    )
    assert [(e.kind, e.label) for e in got] == [("removed", 0), ("lede", 0)]
    assert got[0].sentence == "The bridge was opened in 1932 by after the 7th flood of the river."
    assert got[1].sentence == lede
    # the lede is no negative when it holds the answer, and the gold sentence is never its own lede
    article_in_lede = reader_data.Article("b", "B", [PARAGRAPH])
    kinds = [
        e.kind
        for e in reader_data.restating_negatives(
            "Who opened the bridge?", ["Mayor Anna Holt"], article_in_lede, 0, 0, start, end
        )
    ]
    assert kinds == ["removed"]


def test_without_answer_tidies_the_seam() -> None:
    assert (
        reader_data.without_answer("Built by Holt, a mason, in 1932.", 9, 13)
        == "Built by, a mason, in 1932."
    )
    text = "It cost (about $4) then."
    start = text.index("about")
    assert reader_data.without_answer(text, start, start + len("about $4")) == "It cost () then."


def test_question_groups_are_runs_of_one_question_text_with_its_positive_first(
    tmp_path: Path,
) -> None:
    write_news(tmp_path / "news")
    examples = reader_data.news_examples(tmp_path / "news") * 2
    groups = reader_data.question_groups(examples)
    assert sorted(i for g in groups for i in g) == list(range(len(examples)))
    for g in groups:
        assert len({examples[i].question for i in g}) == 1
        assert g == list(range(g[0], g[-1] + 1))
    answerable = [g for g in groups if any(examples[i].label for i in g)]
    assert answerable and all(examples[g[0]].label == 1 for g in answerable)
    assert all(sum(examples[i].label for i in g) == 1 for g in answerable)
    assert len(groups) % 2 == 0  # each copy of the repeated set keeps its own groups


def test_group_batches_never_split_a_group_and_cover_every_pair() -> None:
    groups = [list(range(k * 7, k * 7 + 3 + k % 5)) for k in range(200)]
    lengths = [10 + (i * 37) % 90 for i in range(groups[-1][-1] + 1)]
    out = reader_data.group_batches(groups, lengths, 32, random.Random(3))
    assert sorted(i for b in out for i in b) == sorted(i for g in groups for i in g)
    where = {i: n for n, b in enumerate(out) for i in b}
    assert all(len({where[i] for i in g}) == 1 for g in groups)
    assert all(len(b) < 32 + 7 for b in out)  # closed once full: at most one group over
    again = reader_data.group_batches(groups, lengths, 32, random.Random(3))
    assert again == out


def test_engine_negatives_join_the_question_group_before_its_edited_questions() -> None:
    q = {
        "id": "q1",
        "question": "Who opened the bridge in 1932?",
        "answers": ["Mayor Anna Holt"],
        "article": "bridge",
        "paragraph_index": 0,
    }
    engine = [
        ["The ferry was opened in 1930 by the harbour board.", "", "Ferries"],
        [PARAGRAPH[1], PARAGRAPH[0], "Bridge"],  # already the paragraph's negative: not twice
        ["The ferry was opened in 1930 by the harbour board.", "", "Ferries"],
    ]
    plain = list(reader_data.examples_for(q, ARTICLE, random.Random(3)))
    withe = list(reader_data.examples_for(q, ARTICLE, random.Random(3), engine=engine))
    added = [e for e in withe if e.kind == "engine"]
    assert [(e.sentence, e.title, e.label) for e in added] == [
        ("The ferry was opened in 1930 by the harbour board.", "Ferries", 0)
    ]
    assert [e for e in withe if e.kind != "engine"] == plain
    groups = reader_data.question_groups(withe)
    first = [withe[i] for i in groups[0]]
    assert first[0].label == 1 and added[0] in first  # one group: listwise compares them


def test_engine_negatives_in_news_groups_and_files(tmp_path: Path) -> None:
    write_news(tmp_path)
    cands = tmp_path / "cands.jsonl"
    rows = [
        {"id": "1", "question": "x", "negatives": [["Tolls rose by 2 dollars.", "", "Tolls"]]},
        {"id": "3", "question": "y", "negatives": [["The architect was unnamed.", "", "B"]]},
    ]
    cands.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    engine = reader_data.read_engine_negatives([cands])
    assert engine["1"] == [["Tolls rose by 2 dollars.", "", "Tolls"]]
    examples = reader_data.news_examples(tmp_path, negatives=2, engine=engine)
    cost = [e for e in examples if e.question.startswith("How much")]
    assert cost[-1].kind == "engine" and cost[-1].source == "news" and cost[-1].label == 0
    # an unanswerable question's group has no positive to choose: no engine negatives there
    assert all(e.kind != "engine" for e in examples if e.question == "Who designed the bridge?")
    groups = reader_data.question_groups(examples)
    assert all(sum(examples[i].label for i in g) <= 1 for g in groups)
