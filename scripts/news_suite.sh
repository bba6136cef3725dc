#!/bin/bash
# The measurements of issue 22 (docs/EVALUATION.md, "News"), one after the other, on the idle machine.
#
#   scripts/news_suite.sh lists WORK             # the article lists below, into WORK
#   scripts/news_suite.sh collect WORK NAME [READER.onnx]
#       each set's read candidates for scripts/fit_choice.py (var/choice/<set>-NAME.json); with
#       NEWS_HELD=QUESTIONS set, also those news training questions the reader was not trained on
#       (held-NAME, over tests/data/news-train/corpus; session 10 fit the choice on t16-t21 so); with
#       EMBED_MODEL set, with that embedder (WORK's indexes its own)
#   scripts/news_suite.sh evals WORK NAME [READER.onnx] [--news-held QUESTIONS]
#       refit the confidence (scripts/calibrate_reader.py; writes index/data/reader_confidence.json),
#       then the news, squad2 and squad1 evals, the lede check and the figures that differ, into WORK/out;
#       with EMBED_MODEL set, every index and the calibration use that embedder (WORK's indexes must be
#       its own: an index built with another model is refused)
#   scripts/news_suite.sh trial WORK NAME [READER.onnx]
#       a reader's whole end-to-end trial: WORK/t31-36.jsonl and WORK/t28-30.jsonl joined from
#       tests/data/news-train (t31-t36 join the confidence's fit, as for the shipped one; t28-t30 are
#       measured), then `evals ... --news-held WORK/t31-36.jsonl` and the t28-t30 eval
#       (WORK/out/t28-30-NAME.json). It rewrites index/data/reader_confidence*.json: `git checkout --
#       index/data/` undoes that when the reader is not shipped. scripts/compare_suites.py WORK NAME...
#       puts the trials side by side.
#
# WORK holds the article lists and the indexes (idx-news, idx-squad1, idx-squad2, idx-news-train), made
# on first use. The lists: squad1-measure.txt, the 14 squad1 articles outside squad2's training half
# (squad2's 18 articles are also squad1's); squad1-fit.txt, the 11 inside it; squad2-measure.txt,
# squad2's declared measuring half (scripts/calibrate_reader.py: squad2_half). Needs ../shared/eval.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=.venv/bin/python
A=.venv/bin/articlebot
EVAL=../shared/eval
MODE=$1
WORK=$2
mkdir -p "$WORK"

lists() {
    $PY - "$WORK" "$EVAL" <<'PY'
import json, sys
from pathlib import Path
sys.path.insert(0, "scripts")
from calibrate_reader import squad2_half
work, shared = Path(sys.argv[1]), Path(sys.argv[2])
def articles(name):
    lines = (shared / name / "questions.jsonl").read_text(encoding="utf-8").splitlines()
    return {json.loads(line)["article"] for line in lines if line.strip()}
squad1, squad2 = articles("squad1"), articles("squad2")
train = {a for a in squad2 if squad2_half(a) == "train"}
for name, slugs in (
    ("squad1-measure.txt", squad1 - train),
    ("squad1-fit.txt", squad1 & train),
    ("squad2-measure.txt", {a for a in squad2 if squad2_half(a) == "measure"}),
):
    (work / name).write_text("\n".join(sorted(slugs)) + "\n", encoding="utf-8")
    print(f"{work / name}: {len(slugs)} articles")
PY
}

case "$MODE" in
lists)
    lists
    ;;
collect)
    NAME=$3
    M=()
    [ $# -ge 4 ] && M=(--reader-model "$4")
    [ -n "${EMBED_MODEL:-}" ] && M+=(--embed-model "$EMBED_MODEL")
    [ -f "$WORK/squad1-measure.txt" ] || lists
    P=("$PY" scripts/fit_choice.py collect)
    NEWS=tests/data/news
    "${P[@]}" "news-measure-$NAME" $NEWS/dev.jsonl $NEWS/corpus --index-dir "$WORK/idx-news" --split measure --read 10 "${M[@]}"
    "${P[@]}" "news-fit-$NAME" $NEWS/dev.jsonl $NEWS/corpus --index-dir "$WORK/idx-news" --split fit --read 10 "${M[@]}"
    "${P[@]}" "lede-$NAME" $NEWS/lede.jsonl $NEWS/corpus --index-dir "$WORK/idx-news" --split lede --read 10 "${M[@]}"
    "${P[@]}" "squad1-fit-$NAME" $EVAL/squad1/questions.jsonl $EVAL/squad1/corpus --index-dir "$WORK/idx-squad1" --articles "$WORK/squad1-fit.txt" --stride 3 --read 10 "${M[@]}"
    if [ -n "${NEWS_HELD:-}" ]; then
        "${P[@]}" "held-$NAME" "$NEWS_HELD" tests/data/news-train/corpus --index-dir "$WORK/idx-news-train" --split train --read 10 "${M[@]}"
    fi
    "${P[@]}" "squad1-$NAME" $EVAL/squad1/questions.jsonl $EVAL/squad1/corpus --index-dir "$WORK/idx-squad1" --articles "$WORK/squad1-measure.txt" --stride 3 --read 10 "${M[@]}"
    ;;
evals)
    NAME=$3
    shift 3
    CAL=()
    if [ $# -ge 1 ] && [ "$1" != "--news-held" ]; then
        export READER_MODEL="$PWD/$1"
        CAL=(--reader-model "$1")
        shift
    fi
    [ $# -ge 2 ] && [ "$1" = "--news-held" ] && CAL+=(--news-held "$2")
    [ -n "${EMBED_MODEL:-}" ] && CAL+=(--embed-model "$EMBED_MODEL")
    [ -f "$WORK/squad1-measure.txt" ] || lists
    OUT="$WORK/out"
    mkdir -p "$OUT"
    rm -rf "$WORK/calibration-$NAME"
    $PY scripts/calibrate_reader.py "${CAL[@]}" --data "$WORK/calibration-$NAME" > "$OUT/calibrate-$NAME.out"
    $A eval tests/data/news/dev.jsonl --corpus tests/data/news/corpus --index-dir "$WORK/idx-news" --split measure --off-topic $EVAL/squad1/questions.jsonl --breakdown --json > "$OUT/news-$NAME.json"
    $A eval $EVAL/squad2/questions.jsonl --corpus $EVAL/squad2/corpus --index-dir "$WORK/idx-squad2" --articles "$WORK/squad2-measure.txt" --breakdown --json > "$OUT/squad2-$NAME.json"
    $A eval $EVAL/squad1/questions.jsonl --corpus $EVAL/squad1/corpus --index-dir "$WORK/idx-squad1" --articles "$WORK/squad1-measure.txt" --breakdown --json > "$OUT/squad1-$NAME.json"
    $A eval tests/data/news/lede.jsonl --corpus tests/data/news/corpus --index-dir "$WORK/idx-news" --breakdown --json > "$OUT/lede-$NAME.json"
    $PY scripts/measure_differing.py > "$OUT/differing-$NAME.out"
    echo "figures in $OUT/*-$NAME.*"
    ;;
trial)
    NAME=$3
    T=tests/data/news-train
    cat $T/questions-t31.jsonl $T/questions-t32.jsonl $T/questions-t33.jsonl $T/questions-t34.jsonl \
        $T/questions-t35.jsonl $T/questions-t36.jsonl > "$WORK/t31-36.jsonl"
    cat $T/questions-t28.jsonl $T/questions-t29.jsonl $T/questions-t30.jsonl > "$WORK/t28-30.jsonl"
    R=()
    if [ $# -ge 4 ]; then
        R=("$4")
        export READER_MODEL="$PWD/$4"
    fi
    "$0" evals "$WORK" "$NAME" "${R[@]}" --news-held "$WORK/t31-36.jsonl"
    $A eval "$WORK/t28-30.jsonl" --corpus $T/corpus --index-dir "$WORK/idx-news-train" --breakdown --json > "$WORK/out/t28-30-$NAME.json"
    echo "t28-t30 in $WORK/out/t28-30-$NAME.json"
    ;;
*)
    echo "usage: scripts/news_suite.sh lists|collect|evals|trial WORK [NAME] [READER.onnx]" >&2
    exit 2
    ;;
esac
