"""Feedback per quote (issue 20): a select menu under an answer, one "wrong" and one "helpful"
choice for each quote the reply shows (the primary quote, then the supporting passages).

Like the buttons, it keeps no state: its id ``ab:qfb:QUESTION`` carries the question, a choice's
value ``POSITION:wrong|helpful`` the quote, so it works after a restart (registered as a dynamic
item by the client). The store checks that the question was asked in the server of the click.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from typing import Any, Protocol, cast

import discord

from bot import render
from bot.errors import UserFacingError, guarded
from bot.stats import StatsStore
from bot.workers import Workers
from index.types import ArticleSpan

MAX_OPTION_TEXT = 100  # Discord's limit on a select option's label, value and description
PLACEHOLDER = "Mark a quote wrong or helpful…"
_CHOICE = re.compile(r"(?P<pos>\d{1,2}):(?P<verdict>wrong|helpful)")


class FeedbackHost(Protocol):
    """What the menu needs from the bot (ArticleBot has it)."""

    workers: Workers
    store: StatsStore


def quote_options(shown: Sequence[ArticleSpan]) -> list[discord.SelectOption]:
    """Two choices per shown quote; labels are plain text (a select shows no markdown)."""
    options = []
    for i, quote in enumerate(shown):
        where = "the answer's quote" if i == 0 else f"supporting passage {i}"
        title = render.plain_text(quote.title or quote.article)
        for verdict, emoji in (("wrong", "👎"), ("helpful", "👍")):
            label = render.shorten(f"{verdict.capitalize()}: {title}", MAX_OPTION_TEXT)
            options.append(
                discord.SelectOption(
                    label=label,
                    value=f"{i}:{verdict}",
                    description=f"Quote {i + 1}, {where}",
                    emoji=emoji,
                )
            )
    return options


class QuoteFeedback(discord.ui.DynamicItem[discord.ui.Select[Any]], template=r"ab:qfb:(?P<q>\d+)"):
    def __init__(self, question_id: int, options: Sequence[discord.SelectOption]) -> None:
        super().__init__(
            discord.ui.Select(
                custom_id=f"ab:qfb:{question_id}",
                placeholder=PLACEHOLDER,
                options=list(options),
                min_values=1,
                max_values=1,
            )
        )
        self.question_id = question_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> QuoteFeedback:
        options = item.options if isinstance(item, discord.ui.Select) else []
        return cls(int(match["q"]), options)

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await guarded(interaction, self._record(interaction))

    async def _record(self, interaction: discord.Interaction) -> None:
        choice = _CHOICE.fullmatch(self.item.values[0] if self.item.values else "")
        if choice is None:
            raise UserFacingError("Pick one of the menu's choices.")
        bot = cast(FeedbackHost, interaction.client)
        wrong = choice["verdict"] == "wrong"
        quote = await bot.workers.io(
            bot.store.record_quote_feedback,
            self.question_id,
            int(choice["pos"]),
            interaction.user.id,
            -1 if wrong else 1,
            guild_id=interaction.guild_id,
        )
        if quote is None:
            raise UserFacingError("I no longer know that quote, so I couldn't record feedback.")
        title = render.fit(quote.title or quote.article, 200, render.escape_inline)
        await interaction.response.send_message(
            f"Thanks: quote {int(choice['pos']) + 1} (*{title}*) is recorded as "
            f"{'wrong 👎' if wrong else 'helpful 👍'}.",
            ephemeral=True,
        )
