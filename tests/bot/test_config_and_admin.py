"""config parsing and the admin rules (permissions, safe file names, corpus writes)."""

from __future__ import annotations

from pathlib import Path

import pytest

from bot.admin_logic import is_admin, remove_article, safe_article_name, save_article
from bot.config import BotConfigError, BotSettings
from bot.errors import UserFacingError

TOKEN = "MTEwMDAwMDAwMDAwMDAwMDAwMA.GhIjKl.abcdefghijklmnopqrstuvwxyz0123456789AB"


def test_settings_from_env() -> None:
    s = BotSettings.from_env(
        {
            "DISCORD_TOKEN": f"  {TOKEN} ",
            "DISCORD_QA_CHANNEL_IDS": "1, 2 3",
            "DISCORD_FORUM_CHANNEL_IDS": "7,8",
            "DISCORD_ADMIN_ROLE_IDS": "4",
            "DISCORD_DEV_GUILD_ID": "9",
            "BOT_COOLDOWN_SECONDS": "2.5",
            "BOT_DB_PATH": "x/y.db",
        }
    )
    assert s.token == TOKEN and s.qa_channel_ids == {1, 2, 3} and s.admin_role_ids == {4}
    assert (
        s.dev_guild_id == 9 and s.cooldown_seconds == 2.5 and s.db_path == Path.cwd() / "x/y.db"
    )  # below ARTICLEBOT_HOME
    assert s.wants_message_content and TOKEN not in repr(s)
    assert s.forum_channel_ids == {7, 8}
    forums_only = BotSettings.from_env({"DISCORD_TOKEN": TOKEN, "DISCORD_FORUM_CHANNEL_IDS": "7"})
    assert forums_only.wants_message_content and not forums_only.qa_channel_ids


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({}, "DISCORD_TOKEN is not set"),
        ({"DISCORD_TOKEN": "secret"}, "does not look like a bot token"),
        ({"DISCORD_TOKEN": TOKEN, "DISCORD_ADMIN_ROLE_IDS": "admins"}, "DISCORD_ADMIN_ROLE_IDS"),
        ({"DISCORD_TOKEN": TOKEN, "DISCORD_DEV_GUILD_ID": "1,2"}, "takes one"),
        ({"DISCORD_TOKEN": TOKEN, "BOT_MAX_QUESTION_CHARS": "lots"}, "BOT_MAX_QUESTION_CHARS"),
        ({"DISCORD_TOKEN": TOKEN, "BOT_MAX_QUESTION_CHARS": "5"}, "between 10 and 4000"),
        ({"DISCORD_TOKEN": TOKEN, "DISCORD_OPERATOR_USER_IDS": "me"}, "OPERATOR_USER_IDS"),
        ({"DISCORD_TOKEN": TOKEN, "OPERATOR_LIBRARY_IN_SERVERS": "maybe"}, "on or off"),
        ({"DISCORD_TOKEN": TOKEN, "SERVER_KEEP_DAYS": "-1"}, "SERVER_KEEP_DAYS"),
        ({"DISCORD_TOKEN": TOKEN, "SERVER_KEEP_DAYS": "nan"}, "SERVER_KEEP_DAYS"),
        ({"DISCORD_TOKEN": TOKEN, "SERVER_LIBRARIES_OPEN": "0"}, "SERVER_LIBRARIES_OPEN"),
        ({"DISCORD_TOKEN": TOKEN, "BOT_WORKING_REACTION_SECONDS": "-1"}, "0 or more, or off"),
        ({"DISCORD_TOKEN": TOKEN, "BOT_WORKING_REACTION_SECONDS": "soon"}, "REACTION_SECONDS"),
    ],
)
def test_bad_settings_name_the_setting(env: dict[str, str], message: str) -> None:
    with pytest.raises(BotConfigError, match=message):
        BotSettings.from_env(env)


def test_server_library_settings() -> None:
    s = BotSettings.from_env(
        {
            "DISCORD_TOKEN": TOKEN,
            "DISCORD_OPERATOR_USER_IDS": "11 12",
            "DISCORD_ALLOWED_SERVER_IDS": "21",
            "OPERATOR_LIBRARY_IN_SERVERS": "off",
            "SERVER_KEEP_DAYS": "7",
            "SERVER_LIBRARIES_OPEN": "3",
            "SERVERS_DIR": "libs",
        }
    )
    assert s.operator_user_ids == {11, 12} and s.allowed_server_ids == {21}
    assert not s.operator_library_in_servers and s.keep_left_days == 7
    assert s.max_open_libraries == 3 and s.servers_dir == Path.cwd() / "libs"
    default = BotSettings.from_env({"DISCORD_TOKEN": TOKEN})
    assert default.operator_library_in_servers and default.keep_left_days == 30
    assert default.allowed_server_ids == frozenset() and default.servers_dir.name == "servers"


def test_is_admin() -> None:
    base = {"admin_user_ids": frozenset({5}), "admin_role_ids": frozenset({7})}
    assert is_admin(user_id=1, role_ids=[], manage_guild=True, **base)
    assert is_admin(user_id=5, role_ids=[], manage_guild=False, **base)
    assert is_admin(user_id=1, role_ids=[3, 7], manage_guild=False, **base)
    assert not is_admin(user_id=1, role_ids=[3], manage_guild=False, **base)


@pytest.mark.parametrize(
    "name",
    ["../x.md", "a/b.md", "..\\x.md", ".env.md", "x.exe", "x", "..md", "a\x00.md", "\u202egpj.md"],
)
def test_unsafe_names_are_refused(name: str) -> None:
    with pytest.raises(UserFacingError, match="Refused"):
        safe_article_name(name)


def test_save_and_remove_article(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    path = save_article(corpus, "My Notes (1).md", b"# Notes\n", replace=False)
    assert path.read_bytes() == b"# Notes\n" and not list(corpus.glob(".upload-*"))
    with pytest.raises(UserFacingError, match="already exists"):
        save_article(corpus, "My Notes (1).md", b"x", replace=False)
    save_article(corpus, "My Notes (1).md", b"y", replace=True)
    assert path.read_bytes() == b"y"
    with pytest.raises(UserFacingError):
        remove_article(corpus, "../outside.md")
    remove_article(corpus, "My Notes (1).md")
    assert not path.exists()


@pytest.mark.parametrize(("raw", "seconds"), [("", 1.0), ("0", 0.0), ("2.5", 2.5), ("OFF", None)])
def test_the_working_reaction_delay(raw: str, seconds: float | None) -> None:
    env = {"DISCORD_TOKEN": TOKEN, "BOT_WORKING_REACTION_SECONDS": raw}
    assert BotSettings.from_env(env).working_reaction_seconds == seconds
