"""Buttons: under answers (stateless, survive restarts) and pagers for lookups (in memory)."""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from typing import Any, ClassVar, Protocol, Self, cast

import discord

from bot import render
from bot.errors import UserFacingError, guarded
from bot.feedback.quotes import QuoteFeedback, quote_options
from bot.stats import AskedQuestion, StatsStore
from bot.workers import Workers
from index.answer.explain import explain
from index.library.scoped import ScopedLibrary
from index.types import ArticleSpan

MORE_PASSAGES_K = 15


class ButtonHost(Protocol):
    """What the buttons need from the bot (ArticleBot has it; this module never imports the client)."""

    workers: Workers
    store: StatsStore

    def reader_for(self, guild_id: int | None) -> ScopedLibrary: ...


def _bot(interaction: discord.Interaction) -> ButtonHost:
    return cast(ButtonHost, interaction.client)


async def _asked_here(
    bot: ButtonHost, interaction: discord.Interaction, question_id: int
) -> AskedQuestion | None:
    """The stored question, only when it was asked in the server the click comes from (a
    button's id never reads another server's question)."""
    asked = await bot.workers.io(bot.store.question, question_id)
    if asked is None or asked.guild_id != interaction.guild_id:
        return None
    return asked


def answer_view(
    question_id: int, view: discord.ui.View | None = None, shown: Sequence[ArticleSpan] = ()
) -> discord.ui.View:
    """The buttons under an answer, and the per-quote feedback menu for the ``shown`` quotes
    (render.shown_quotes); their ids carry the question id, so no state is kept."""
    view = view or discord.ui.View(timeout=None)
    view.add_item(MorePassages(question_id, 0))
    view.add_item(FullParagraph(question_id))
    view.add_item(Feedback(question_id, "up"))
    view.add_item(Feedback(question_id, "down"))
    view.add_item(WhyThisQuote(question_id))
    if shown:
        view.add_item(QuoteFeedback(question_id, quote_options(shown)))
    return view


class MorePassages(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ab:more:(?P<q>\d+):(?P<page>\d+)"
):
    def __init__(self, question_id: int, page: int, label: str = "More passages") -> None:
        super().__init__(
            discord.ui.Button(
                label=label,
                style=discord.ButtonStyle.secondary,
                custom_id=f"ab:more:{question_id}:{page}",
            )
        )
        self.question_id, self.page = question_id, page

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> MorePassages:
        return cls(int(match["q"]), int(match["page"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await guarded(interaction, self._show(interaction))

    async def _show(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        asked = await _asked_here(bot, interaction, self.question_id)
        if asked is None:
            raise UserFacingError("I no longer know that question; please ask it again.")
        answer = await bot.workers.query(
            bot.reader_for(interaction.guild_id).ask,
            asked.question,
            k=MORE_PASSAGES_K,
            context=asked.context,
        )
        passages = answer.passages
        embed = render.render_passages(
            passages,
            title=f"Passages for: {asked.question}",
            page=self.page,
            question=asked.question,
        )
        view = discord.ui.View(timeout=None)
        if self.page + 1 < render.page_count(len(passages)):
            view.add_item(MorePassages(self.question_id, self.page + 1, "Next page"))
        message = interaction.message
        if message is not None and message.flags.ephemeral:
            await interaction.response.edit_message(embed=embed, view=view)
        else:
            await interaction.response.send_message(embed=embed, view=view, ephemeral=True)


class _QuestionButton(discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"(?!)"):
    """A button that acts on one stored question, its id ``ab:PREFIX:QUESTION``. The base's own
    template matches nothing; each subclass gives its own (and is registered by the client)."""

    PREFIX: ClassVar[str]
    LABEL: ClassVar[str]

    def __init__(self, question_id: int) -> None:
        super().__init__(
            discord.ui.Button(
                label=self.LABEL,
                style=discord.ButtonStyle.secondary,
                custom_id=f"ab:{self.PREFIX}:{question_id}",
            )
        )
        self.question_id = question_id

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Self:
        return cls(int(match["q"]))

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await guarded(interaction, self._show(interaction))

    async def _show(self, interaction: discord.Interaction) -> None:
        raise NotImplementedError


class FullParagraph(_QuestionButton, template=r"ab:para:(?P<q>\d+)"):
    PREFIX, LABEL = "para", "Show full paragraph"

    async def _show(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        asked = await _asked_here(bot, interaction, self.question_id)
        if asked is None or asked.article is None or asked.quote is None:
            raise UserFacingError("That answer quoted nothing, so there is no paragraph to show.")
        found = await bot.workers.query(bot.reader_for(interaction.guild_id).article, asked.article)
        title, url, text = asked.article, None, asked.passage or asked.quote
        if found is not None:
            info, article_text = found
            title, url = info.title, info.url
            located = render.paragraph_around(
                article_text, asked.quote, asked.quote_start or 0, asked.quote_end or 0
            )
            text = located or text
        embed = render.render_paragraph(title, url, text)
        await interaction.response.send_message(embed=embed, ephemeral=True)


class WhyThisQuote(_QuestionButton, template=r"ab:why:(?P<q>\d+)"):
    """Shows, privately, why the answer quoted what it did (index/answer/explain.py)."""

    PREFIX, LABEL = "why", "Why this quote?"

    async def _show(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        asked = await _asked_here(bot, interaction, self.question_id)
        if asked is None:
            raise UserFacingError("I no longer know that question; please ask it again.")
        view = bot.reader_for(interaction.guild_id)
        answer = await bot.workers.query(view.ask, asked.question, context=asked.context)
        why = explain(answer, view.min_confidence)
        await interaction.response.send_message(
            embed=render.render_explanation(why, asked.question), ephemeral=True
        )


class Feedback(
    discord.ui.DynamicItem[discord.ui.Button[Any]], template=r"ab:fb:(?P<q>\d+):(?P<vote>up|down)"
):
    def __init__(self, question_id: int, vote: str) -> None:
        super().__init__(
            discord.ui.Button(
                emoji="👍" if vote == "up" else "👎",
                style=discord.ButtonStyle.secondary,
                custom_id=f"ab:fb:{question_id}:{vote}",
            )
        )
        self.question_id, self.vote = question_id, vote

    @classmethod
    async def from_custom_id(
        cls, interaction: discord.Interaction, item: discord.ui.Item[Any], match: re.Match[str]
    ) -> Feedback:
        return cls(int(match["q"]), match["vote"])

    async def callback(self, interaction: discord.Interaction) -> None:  # type: ignore[override]
        await guarded(interaction, self._record(interaction))

    async def _record(self, interaction: discord.Interaction) -> None:
        bot = _bot(interaction)
        vote = 1 if self.vote == "up" else -1
        asked = await _asked_here(bot, interaction, self.question_id)
        ok = asked is not None and await bot.workers.io(
            bot.store.record_feedback, self.question_id, interaction.user.id, vote
        )
        if not ok:
            raise UserFacingError("I no longer know that answer, so I couldn't record feedback.")
        await interaction.response.send_message(
            f"Thanks, your {'👍' if vote > 0 else '👎'} is recorded.", ephemeral=True
        )


class Pager(discord.ui.View):
    """Previous/next over pages rendered on demand; optionally a button to share the page."""

    def __init__(
        self,
        render_page: Callable[[int], discord.Embed],
        pages: int,
        *,
        owner_id: int,
        shareable: bool = False,
        timeout: float = 900,
    ) -> None:
        super().__init__(timeout=timeout)
        self.render_page, self.pages, self.owner_id, self.page = render_page, pages, owner_id, 0
        if not shareable:
            self.remove_item(self.share)
        self._sync_buttons()

    def _sync_buttons(self) -> None:
        self.previous.disabled = self.page <= 0
        self.next.disabled = self.page >= self.pages - 1

    async def interaction_check(self, interaction: discord.Interaction) -> bool:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "These buttons belong to whoever ran the command.", ephemeral=True
            )
            return False
        return True

    async def _turn(self, interaction: discord.Interaction, step: int) -> None:
        self.page = max(0, min(self.pages - 1, self.page + step))
        self._sync_buttons()
        await interaction.response.edit_message(embed=self.render_page(self.page), view=self)

    @discord.ui.button(label="Previous", style=discord.ButtonStyle.secondary)
    async def previous(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await guarded(interaction, self._turn(interaction, -1))

    @discord.ui.button(label="Next", style=discord.ButtonStyle.secondary)
    async def next(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        await guarded(interaction, self._turn(interaction, 1))

    @discord.ui.button(label="Share in channel", style=discord.ButtonStyle.primary)
    async def share(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        embed = self.render_page(self.page)
        await guarded(
            interaction,
            interaction.response.send_message(
                f"Shared by {render.escape(interaction.user.display_name)}:", embed=embed
            ),
        )


class PrivateAnswer(discord.ui.View):
    """An answer only its asker sees (`/ask ephemeral: True`): the usual buttons, and one that
    posts it in the channel for everyone, with the buttons anyone may use."""

    def __init__(
        self,
        embed: discord.Embed,
        question_id: int,
        owner_id: int,
        shown: Sequence[ArticleSpan] = (),
    ) -> None:
        super().__init__(timeout=900)
        self.embed, self.question_id, self.owner_id = embed, question_id, owner_id
        self.shown = tuple(shown)
        answer_view(question_id, self, self.shown)
        self.remove_item(self.share)
        self.add_item(self.share)  # last: on the second row, after the answer's own buttons

    @discord.ui.button(label="Share in channel", style=discord.ButtonStyle.primary)
    async def share(self, interaction: discord.Interaction, _: discord.ui.Button[Any]) -> None:
        if interaction.user.id != self.owner_id:
            await interaction.response.send_message(
                "Only whoever asked can share this answer.", ephemeral=True
            )
            return
        await guarded(
            interaction,
            interaction.response.send_message(
                f"Shared by {render.escape(interaction.user.display_name)}:",
                embed=self.embed,
                view=answer_view(self.question_id, shown=self.shown),
            ),
        )
