"""`articlebot`: the command line over the engine (index, ask, search, chat, info, eval, bench, run)."""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import math
import os
import sqlite3
import sys
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, TextIO

from index.answer.explain import explain
from index.build.lock import build_lock
from index.cli import indexing
from index.cli.display import terminal_safe
from index.cli.indexing import ProgressBar, open_engine, print_report, say, update_index
from index.config import Settings, home_hint, load_dotenv_file
from index.errors import (
    EXIT_IO,
    ArticlebotError,
    CorpusError,
    NoIndexError,
    QuestionTooLong,
    UsageError,
    write_problem,
)
from index.process import gc_policy
from index.process.health import DEFAULT_MAX_AGE_S
from index.process.log_setup import configure_logging
from index.types import Answer, Passage

if TYPE_CHECKING:
    from index.engine import Engine

log = logging.getLogger("articlebot")

EXIT_BROKEN_PIPE = 141  # 128 + SIGPIPE
CHAT_CONTEXT_QUESTIONS = 2  # earlier questions a chat follow-up is read with


def build_parser() -> argparse.ArgumentParser:
    common = argparse.ArgumentParser(add_help=False)
    common.add_argument("--corpus", type=Path, help="folder of articles (env CORPUS_DIR)")
    common.add_argument("--index-dir", type=Path, help="where the index lives (env INDEX_DIR)")
    common.add_argument("--model", help="local sentence-transformers model (env EMBED_MODEL)")
    common.add_argument("-v", "--verbose", action="store_true", help="log more")
    parser = argparse.ArgumentParser(
        prog="articlebot", description="Answers questions about articles by quoting them."
    )
    parser.add_argument("--version", action="version", version=f"articlebot {_version()}")
    sub = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")

    p = sub.add_parser("index", parents=[common], help="build or update the index")
    p.add_argument("--full", action="store_true", help="re-embed everything (ignore the cache)")
    p.add_argument(
        "--allow-shrink",
        action="store_true",
        help="publish even if every article, or more than half, would be dropped",
    )
    p.add_argument(
        "--optimize",
        action="store_true",
        help="also merge the index's segments into one (drops deleted rows)",
    )
    p = sub.add_parser(
        "rollback", parents=[common], help="serve the generation that served before the last build"
    )
    p.add_argument(
        "--to", metavar="GENERATION", help="a kept generation (`info --json` lists them)"
    )
    p = sub.add_parser("health", parents=[common], help="exit 0 if the running bot is connected")
    p.add_argument(
        "--max-age", type=float, default=DEFAULT_MAX_AGE_S, help="seconds since its last heartbeat"
    )
    p.add_argument(
        "--live",
        action="store_true",
        help="with METRICS_PORT: ask /healthz (the event loop answers) instead of /readyz",
    )

    p = sub.add_parser("ask", parents=[common], help="answer a question with quotes")
    p.add_argument("question", nargs="?", help="the question (or use --batch)")
    p.add_argument("-k", type=int, default=5, help="passages to return (default 5)")
    p.add_argument("--json", action="store_true", help="one JSON object per question")
    p.add_argument(
        "--batch", metavar="FILE", help="JSON lines (id, question) or plain lines; - = stdin"
    )
    p.add_argument(
        "--explain",
        action="store_true",
        help="also say why: question words in the quote, the passage's rank, the confidence "
        "against the threshold and its inputs",
    )

    p = sub.add_parser("search", parents=[common], help="ranked passages for a query, with scores")
    p.add_argument("query")
    p.add_argument("-k", type=int, default=10, help="passages to return (default 10)")
    p.add_argument("--json", action="store_true")

    sub.add_parser("chat", parents=[common], help="interactive chat in the terminal")
    p = sub.add_parser("info", parents=[common], help="what is indexed")
    p.add_argument("--json", action="store_true")
    p = sub.add_parser(
        "verify", parents=[common], help="check every index file against its checksum"
    )
    p.add_argument("--all", action="store_true", help="every kept generation, not only CURRENT")

    from index.cli.corpus import add_add_arguments, add_remove_arguments

    add_add_arguments(
        sub.add_parser(
            "add", parents=[common], help="copy article files into the corpus, then index"
        )
    )
    add_remove_arguments(
        sub.add_parser(
            "remove", parents=[common], help="remove an article from the corpus, then index"
        )
    )
    from index.cli.web import add_feed_arguments

    add_feed_arguments(
        sub.add_parser("feed", help="follow RSS/Atom feeds: add, list, remove, poll"), common
    )
    from index.cli.servers import add_guilds_arguments, add_stats_arguments

    add_guilds_arguments(
        sub.add_parser("guilds", parents=[common], help="servers' own libraries and activity")
    )
    add_stats_arguments(
        sub.add_parser("stats", parents=[common], help="questions and feedback of every server")
    )
    from index.cli.backup import add_backup_commands

    add_backup_commands(sub, common)
    from index.bench.evaluate import add_eval_arguments

    add_eval_arguments(sub.add_parser("eval", parents=[common], help="measure answer quality"))
    from index.bench.run import add_bench_arguments

    add_bench_arguments(sub.add_parser("bench", parents=[common], help="measure speed and memory"))
    run_parser = sub.add_parser(
        "run",
        parents=[common],
        help="index, then start the Discord bot (or the chat without a token)",
    )
    run_parser.add_argument(
        "--serve-only",
        action="store_true",
        help="serve the published index as it is, without building first: a read-only replica "
        "beside the process that builds (docs/SCALING.md)",
    )
    sub.add_parser("sync-commands", parents=[common], help="publish slash commands globally")
    return parser


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("articlebot")
    except PackageNotFoundError:
        return "(not installed)"


def settings_from(args: argparse.Namespace) -> Settings:
    return Settings.from_env(
        corpus_dir=args.corpus, index_dir=args.index_dir, embed_model=args.model
    )


def main(argv: Sequence[str] | None = None) -> int:
    try:
        code = _main(argv)
        sys.stdout.flush()  # inside the try: a reader that went away fails here, not at exit
        return code
    except BrokenPipeError:
        # `articlebot ... | head`: the reader has what it wanted. Quiet, like coreutils, and the
        # status a shell reports for a writer ended by SIGPIPE (so `set -o pipefail` sees it).
        os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return EXIT_BROKEN_PIPE


def _main(argv: Sequence[str] | None) -> int:
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")
    args = build_parser().parse_args(argv)
    gc_policy.serve_long_lived()
    try:
        load_dotenv_file()  # ARTICLEBOT_HOME/.env; the environment wins
        service = args.command in ("run", "sync-commands")
        configure_logging("INFO" if args.verbose or service else "WARNING")
        if args.verbose:
            logging.getLogger().setLevel(min(logging.getLogger().level, logging.INFO))
        return COMMANDS[args.command](args)
    except ArticlebotError as exc:
        return fail(exc.user_line(), exc.exit_code, not_found=isinstance(exc, NoIndexError))
    except FileNotFoundError as exc:
        return fail(str(exc), 2, not_found=True)
    except (OSError, sqlite3.OperationalError) as exc:
        # A disk that refuses a write no command expected (read-only, full): one line, no
        # traceback. Anything else is a bug and keeps its traceback.
        problem = write_problem(exc)
        if problem is None:
            raise
        where = getattr(exc, "filename", None) or "a file"
        return fail(f"cannot write to {where}: {problem}", EXIT_IO)
    except KeyboardInterrupt:
        return 130


def fail(line: str, code: int, *, not_found: bool = False) -> int:
    """One line on stderr; a 'not found' names where relative paths are looked up."""
    if not_found or " not found" in line:
        line = f"{line}; {home_hint()}"
    print(f"articlebot: error: {line}", file=sys.stderr)
    return code


def cmd_index(args: argparse.Namespace) -> int:
    from index.build.builder import build_index
    from index.embedding.embedder import load_embedder

    settings = settings_from(args)
    with ProgressBar() as bar:
        report = build_index(
            settings,
            load_embedder(settings.embed_model, settings.embed_backend),
            full=args.full,
            progress=bar,
            allow_shrink=args.allow_shrink,
            optimize=args.optimize,
            wait=indexing.LOCK_WAIT_SECONDS,
            on_wait=say,
        )
    print_report(report)
    return 0


def cmd_rollback(args: argparse.Namespace) -> int:
    from index.build.rollback import rollback

    settings = settings_from(args)
    old, new = rollback(settings.index_dir, args.to)
    print(f"now serving generation {new} (was {old}); a running bot picks it up within 30 s")
    return 0


def cmd_health(args: argparse.Namespace) -> int:
    """With METRICS_PORT: the bot's /readyz (or /healthz); else its heartbeat file."""
    from index.ops.address import metrics_address
    from index.process.health import check_endpoint, check_heartbeat, heartbeat_path

    address = metrics_address()
    if address is not None:
        problem = check_endpoint(address.local_url + ("/healthz" if args.live else "/readyz"))
    else:
        problem = check_heartbeat(heartbeat_path(), args.max_age)
    if problem is not None:
        print(f"articlebot: unhealthy: {problem}", file=sys.stderr)
        return 1
    return 0


def cmd_ask(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UsageError("-k must be at least 1")
    if (args.question is None) == (args.batch is None):
        raise UsageError("give a QUESTION or --batch FILE (one of the two)")
    if args.question is not None and not args.question.strip():
        raise UsageError("the question is empty")
    engine = open_engine(settings_from(args), build=False)
    if args.batch is None:
        answer = engine.ask(args.question, k=args.k)
        if args.json:
            data = answer.to_json()
            if args.explain:
                data["explain"] = asdict(explain(answer, engine.min_confidence))
            print(json.dumps(data, ensure_ascii=False))
            return 0
        print(terminal_safe(format_answer(answer)))
        if args.explain:
            print("\nwhy:\n  " + "\n  ".join(explain(answer, engine.min_confidence).lines()))
        return 0
    failed = 0
    for qid, question in read_batch(args.batch):
        if isinstance(question, BatchProblem):  # one bad line does not stop the batch
            print(
                f"articlebot: error: {args.batch}, line {qid}: {question.reason}", file=sys.stderr
            )
            failed += 1
            continue
        try:
            answer = engine.ask(question, k=args.k)
        except QuestionTooLong as exc:  # one bad line does not stop the batch
            print(f"articlebot: error: question {qid}: {exc}", file=sys.stderr)
            failed += 1
            continue
        answer = Answer(**{**answer.__dict__, "id": qid})
        if args.json:
            print(json.dumps(answer.to_json(), ensure_ascii=False), flush=True)
        else:
            print(terminal_safe(format_answer(answer)) + "\n", flush=True)
    return 2 if failed else 0


@dataclass(frozen=True)
class BatchProblem:
    """A line of a --batch file that is not a question (it is reported and skipped)."""

    reason: str


def read_batch(source: str) -> Iterator[tuple[object, str | BatchProblem]]:
    """(id, question) pairs from JSON lines ({"id", "question"}) or plain lines; '-' is stdin.
    A line that is not valid UTF-8 or not a JSON object with a question comes back as a
    BatchProblem with the line's number as id: the lines around it are still answered."""
    for number, raw in enumerate(_batch_lines(source), start=1):
        try:
            line = raw.decode("utf-8").strip()
        except UnicodeDecodeError as exc:
            yield number, BatchProblem(f"not valid UTF-8 (byte {exc.start + 1})")
            continue
        if not line:
            continue
        if not line.startswith("{"):
            yield number, line
            continue
        try:
            item = json.loads(line)
            question = item["question"]
            qid = item.get("id", number)
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError) as exc:
            yield number, BatchProblem(f"not a JSON object with 'question': {exc}")
            continue
        except RecursionError:
            yield number, BatchProblem("JSON nested too deeply")
            continue
        if not isinstance(question, str):
            yield number, BatchProblem("'question' is not a string")
            continue
        try:
            question.encode("utf-8")
        except UnicodeEncodeError:
            yield number, BatchProblem("the question holds a lone surrogate (\\ud800-\\udfff)")
            continue
        yield qid, question


def _batch_lines(source: str) -> Iterator[bytes]:
    if source != "-":
        yield from open_bytes(source)
        return
    stream = getattr(sys.stdin, "buffer", None)  # a test's StringIO has none
    if stream is not None:
        yield from stream
    else:
        yield from (line.encode("utf-8", "surrogatepass") for line in sys.stdin)


def open_bytes(path: str) -> BinaryIO:
    try:
        return open(path, "rb")
    except OSError as exc:
        raise UsageError(f"cannot read {path}: {exc.strerror}") from None


def format_answer(answer: Answer) -> str:
    lines = []
    if answer.answered:
        if answer.answer is not None:
            lines.append(
                f"Answer: {answer.answer.text} [chars {answer.answer.start}-{answer.answer.end}]"
            )
        if answer.differing:
            lines.append(
                "The articles differ (newest first): "
                + "; ".join(
                    f"{d.text} ({d.title}, {d.date or 'undated'})" for d in answer.differing
                )
            )
        for i, quote in enumerate(answer.quotes):
            where = quote.link or quote.url or quote.article
            page = f", page {quote.page}" if quote.page else ""
            page += f", {quote.date}" if quote.date else ""
            label = "" if i == 0 else "Also: "
            lines.append(f'{label}"{quote.text}"')
            lines.append(f"  — {quote.title} ({where}{page}) [chars {quote.start}-{quote.end}]")
        lines.append(f"confidence {answer.confidence:.2f} · index {answer.generation}")
    else:
        lines.append("The articles don't answer that. Closest I found:")
        lines.extend(format_passage(p, short=True) for p in answer.passages[:3])
    return "\n".join(lines)


def format_passage(p: Passage, *, short: bool = False) -> str:
    text = " ".join(p.text.split())
    if short and len(text) > 240:
        text = text[:240].rsplit(" ", 1)[0] + " …"
    # Scores rank the passages of one question; beside "closest I found" they would read as confidence.
    score = "" if short else f"[ranker {ranker_score(p.score):+.2f}] "
    return f"  {score}{p.title} ({p.url or p.article}) chars {p.start}-{p.end}\n    {text}"


def ranker_score(score: float) -> float:
    """The passage ranker's log-odds: the probabilities of good passages all print as 1.0000."""
    score = min(max(score, 1e-12), 1 - 1e-12)
    return math.log(score / (1 - score))


def cmd_search(args: argparse.Namespace) -> int:
    if args.k < 1:
        raise UsageError(f"-k must be at least 1, got {args.k}")
    if not args.query.strip():
        raise UsageError("the query is empty")
    engine = open_engine(settings_from(args), build=False)
    passages = engine.search(args.query, k=args.k)
    if args.json:
        print(json.dumps([p.__dict__ for p in passages], ensure_ascii=False))
    else:
        print(terminal_safe("\n".join(format_passage(p) for p in passages)) or "no passages")
    return 0


def cmd_chat(args: argparse.Namespace) -> int:
    return chat(open_engine(settings_from(args)))


def chat(engine: Engine, stdin: TextIO | None = None, out: TextIO | None = None) -> int:
    """Question in, quoted answer out, until end of input (the same answer the bot gives).

    Like a thread on Discord, each question is read in the context of the ones before it
    ("When?" after "Who invented the atmospheric engine?"); `new` starts a fresh conversation.
    """
    stdin = stdin or sys.stdin
    out = out or sys.stdout
    info = engine.info()
    print(
        f"Articlebot chat: {info.articles} articles, {info.chunks} chunks. "
        "Follow-ups keep the context; `new` starts over. Ctrl-D to quit.",
        file=out,
    )
    read = line_reader(stdin, out)
    earlier: list[str] = []
    while (line := read()) is not None:
        question = line.strip()
        if question in {"quit", "exit", ":q"}:
            break
        if question in {"new", ":new"}:
            earlier.clear()
            print("(new conversation)\n", file=out, flush=True)
            continue
        if not question:
            continue
        context = " ".join(earlier[-CHAT_CONTEXT_QUESTIONS:])[-1000:] or None
        try:
            answer = engine.ask(question, context=context)
        except QuestionTooLong as exc:
            print(f"{exc}\n", file=out, flush=True)
            continue
        earlier.append(question)
        print(terminal_safe(format_answer(answer)) + "\n", file=out, flush=True)
    return 0


def line_reader(stdin: TextIO, out: TextIO) -> Callable[[], str | None]:
    """Reads one line (None at the end); on a terminal with readline's editing and history."""
    if stdin is sys.stdin and out is sys.stdout and stdin.isatty():
        with contextlib.suppress(ImportError):  # not on every platform; input() works without
            import readline  # noqa: F401  (importing it gives input() line editing and history)

        def read_tty() -> str | None:
            try:
                return input("? ")
            except EOFError:
                print(file=out)
                return None

        return read_tty

    def read_stream() -> str | None:
        if stdin.isatty():
            print("? ", end="", file=out, flush=True)
        line = stdin.readline()
        return line or None

    return read_stream


def cmd_info(args: argparse.Namespace) -> int:
    from index.generations.generation import read_article_ids
    from index.generations.store import Manifest, current_generation, published_generations

    settings = settings_from(args)
    folder = current_generation(settings.index_dir)  # the manifest only: no model load
    manifest = Manifest.read(folder)
    data = {k: v for k, v in manifest.__dict__.items() if k != "checksums"}
    data["index_dir"] = str(settings.index_dir)
    data["kept_generations"] = [p.name for p in published_generations(settings.index_dir)]
    if args.json:  # the plain output reads the manifest alone
        data["article_ids"] = read_article_ids(folder)
        print(json.dumps(data, indent=2))
    else:
        print(
            f"generation {manifest.generation} built {manifest.created_at}\n"
            f"model {manifest.model} (dim {manifest.dim})\n"
            f"{manifest.articles} articles, {manifest.chunks} chunks, "
            f"{manifest.sentences} sentences\nindex {settings.index_dir}, corpus {manifest.corpus_dir}"
        )
    return 0


def cmd_verify(args: argparse.Namespace) -> int:
    from index.generations.store import (
        Manifest,
        current_generation,
        published_generations,
        verify_generation,
    )

    settings = settings_from(args)
    current = current_generation(settings.index_dir)
    folders = published_generations(settings.index_dir) if args.all else [current]
    for folder in folders:
        started = time.perf_counter()
        manifest = Manifest.read(folder)
        verify_generation(folder, manifest, full=True)  # CorruptIndex: one line naming the file
        size = sum((folder / rel).stat().st_size for rel in manifest.checksums)
        print(
            f"generation {folder.name}: {len(manifest.checksums)} files, {size / 1e6:,.0f} MB, "
            f"every checksum matches ({time.perf_counter() - started:.1f} s)"
        )
    return 0


def cmd_add(args: argparse.Namespace) -> int:
    from index.cli.web import add_sources
    from index.embedding.embedder import load_embedder

    settings = settings_from(args)
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    # The lock is held from before the corpus changes until the index is updated: a build running
    # elsewhere is waited for, or nothing is copied.
    with build_lock(settings.index_dir, wait=indexing.LOCK_WAIT_SECONDS, on_wait=say):
        try:
            lines = add_sources(settings, args.files, replace=args.replace)
        except OSError as exc:  # a full or read-only corpus disk: the batch is all or none
            raise CorpusError(
                f"cannot write to the corpus folder {settings.corpus_dir}: "
                f"{exc.strerror or exc}; nothing was added"
            ) from None
        for line in lines:
            print(line)
        update_index(settings, embedder, sys.stdout)
    return 0


def cmd_remove(args: argparse.Namespace) -> int:
    from index.cli.corpus import remove_file
    from index.embedding.embedder import load_embedder

    settings = settings_from(args)
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    with build_lock(
        settings.index_dir, wait=indexing.LOCK_WAIT_SECONDS, on_wait=say
    ):  # as in cmd_add
        removed = remove_file(settings, args.article)
        print(f"removed {removed.relative_to(settings.corpus_dir).as_posix()}")
        update_index(settings, embedder, sys.stdout, allow_shrink=True)  # asked for by name
    return 0


def cmd_feed(args: argparse.Namespace) -> int:
    from index.cli.web import run_feed_command

    return run_feed_command(args, settings_from(args))


def cmd_guilds(args: argparse.Namespace) -> int:
    from index.cli.servers import run_guilds

    return run_guilds(args, settings_from(args), sys.stdout)


def cmd_stats(args: argparse.Namespace) -> int:
    from index.cli.servers import run_stats

    return run_stats(args, sys.stdout)


def cmd_backup(args: argparse.Namespace) -> int:
    from index.cli.backup import run_backup

    return run_backup(args, settings_from(args))


def cmd_restore(args: argparse.Namespace) -> int:
    from index.cli.backup import run_restore

    return run_restore(args, settings_from(args))


def cmd_eval(args: argparse.Namespace) -> int:
    from index.bench.evaluate import run_eval_command

    return run_eval_command(args, settings_from(args))


def cmd_bench(args: argparse.Namespace) -> int:
    from index.bench.run import run_bench_command

    return run_bench_command(args, settings_from(args))


def cmd_run(args: argparse.Namespace) -> int:
    settings = settings_from(args)
    if not os.environ.get("DISCORD_TOKEN"):  # main() has loaded .env into the environment
        print(
            "No DISCORD_TOKEN set: starting the terminal chat. To connect Discord, put "
            "DISCORD_TOKEN=... in .env (see docs/DISCORD.md) and run `make run` again.",
            file=sys.stderr,
        )
        return chat(open_engine(settings, build=not args.serve_only))
    from bot.config import BotConfigError, BotSettings
    from bot.main import run
    from index.embedding.embedder import load_embedder
    from index.engine import Engine

    try:
        BotSettings.from_env()  # a bad token or setting fails now, not after indexing
    except BotConfigError as exc:
        print(f"articlebot: error: {exc}", file=sys.stderr)
        return 2
    embedder = load_embedder(settings.embed_model, settings.embed_backend)
    if not args.serve_only:
        update_index(settings, embedder, serving=True)
    return run(settings, engine_factory=lambda s: Engine.open(s, embedder))


def cmd_sync_commands(args: argparse.Namespace) -> int:
    from bot.main import sync_commands

    return sync_commands(settings_from(args))


COMMANDS = {
    "index": cmd_index,
    "ask": cmd_ask,
    "search": cmd_search,
    "chat": cmd_chat,
    "info": cmd_info,
    "verify": cmd_verify,
    "add": cmd_add,
    "remove": cmd_remove,
    "eval": cmd_eval,
    "bench": cmd_bench,
    "rollback": cmd_rollback,
    "health": cmd_health,
    "run": cmd_run,
    "sync-commands": cmd_sync_commands,
    "feed": cmd_feed,
    "guilds": cmd_guilds,
    "stats": cmd_stats,
    "backup": cmd_backup,
    "restore": cmd_restore,
}

if __name__ == "__main__":
    raise SystemExit(main())
