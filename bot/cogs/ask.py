"""Questions: mentions, Q&A channels, replies and threads, forum posts; `/ask`; the "Ask the
articles" menu."""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import discord
from discord import app_commands
from discord.ext import commands

from bot import render
from bot.asking import Asked, Refusal, clean_question, forum_question, join_context
from bot.feedback.working import working_reaction
from bot.views import PrivateAnswer, answer_view

if TYPE_CHECKING:
    from bot.client import ArticleBot

log = logging.getLogger(__name__)


def addressed_to_bot(bot: ArticleBot, message: discord.Message) -> tuple[bool, str | None]:
    """Whether ``message`` asks the bot something, and the earlier question it follows up on."""
    me = bot.user
    if me is None or message.author.bot or message.guild is None:
        return False, None
    if is_forum_post(bot, message):
        return False, None  # answered once, from its thread's creation (AskCog.on_thread_create)
    ref = message.reference.message_id if message.reference else None
    context = bot.memory.recall(ref)
    replied_to_bot = context is not None or _is_reply_to(message, me.id)
    thread_context = (
        bot.memory.recall(message.channel.id)
        if isinstance(message.channel, discord.Thread)
        else None
    )
    mentioned = me in message.mentions or f"<@{me.id}>" in message.content
    in_qa_channel = bot.reads_message_content and _channel_ids(message) & set(
        bot.bot_settings.qa_channel_ids
    )
    follow_up = replied_to_bot or (thread_context is not None and bot.reads_message_content)
    if not (mentioned or in_qa_channel or follow_up):
        return False, None
    return True, context or thread_context


def is_forum_post(bot: ArticleBot, message: discord.Message) -> bool:
    """Whether ``message`` opens a post (its thread has the message's id) in a configured forum."""
    parent = getattr(message.channel, "parent_id", None)
    return message.id == message.channel.id and parent in bot.bot_settings.forum_channel_ids


def message_surface(bot: ArticleBot, message: discord.Message) -> str:
    """How a message asked (for the metrics): a forum post, a mention, a Q&A channel, or a
    follow-up."""
    if is_forum_post(bot, message):
        return "forum"
    me = bot.user
    if me is not None and (me in message.mentions or f"<@{me.id}>" in message.content):
        return "mention"
    if bot.reads_message_content and _channel_ids(message) & set(bot.bot_settings.qa_channel_ids):
        return "channel"
    return "follow-up"


def _is_reply_to(message: discord.Message, user_id: int) -> bool:
    resolved = message.reference.resolved if message.reference else None
    return isinstance(resolved, discord.Message) and resolved.author.id == user_id


def _channel_ids(message: discord.Message) -> set[int]:
    ids = {message.channel.id}
    parent = getattr(message.channel, "parent_id", None)
    if parent is not None:
        ids.add(parent)
    return ids


class AskCog(commands.Cog):
    def __init__(self, bot: ArticleBot) -> None:
        self.bot = bot
        self.menu = app_commands.ContextMenu(name="Ask the articles", callback=self.ask_menu)

    async def cog_load(self) -> None:
        self.bot.tree.add_command(self.menu)

    async def cog_unload(self) -> None:
        self.bot.tree.remove_command(self.menu.name, type=self.menu.type)

    @commands.Cog.listener()
    async def on_message(self, message: discord.Message) -> None:
        addressed, context = addressed_to_bot(self.bot, message)
        if not addressed:
            return
        me = self.bot.user
        question = clean_question(message.content, me.id if me else None)
        if not question and me is not None and me not in message.mentions:
            return  # a reply whose text we cannot read (no message-content intent): stay quiet
        await self._answer_or_apologize(message, question, context)

    @commands.Cog.listener()
    async def on_thread_create(self, thread: discord.Thread) -> None:
        """A new post in a configured forum: its first message (with the title) is the question,
        answered in the post's thread (as a reply to that message)."""
        if thread.parent_id not in self.bot.bot_settings.forum_channel_ids:
            return
        starter = thread.starter_message
        try:
            starter = starter or await thread.fetch_message(thread.id)
        except discord.HTTPException:  # also what stops a reply: Read Message History
            log.warning("forum post %d: cannot read its first message; not answered", thread.id)
            return
        if starter.author.bot:
            return
        me = self.bot.user
        body = clean_question(starter.content, me.id if me else None)
        await self._answer_or_apologize(starter, *forum_question(thread.name, body))

    async def _answer_or_apologize(
        self, message: discord.Message, question: str, context: str | None
    ) -> None:
        try:
            await self._answer_message(message, question, context)
        except Exception:
            log.exception("failed to answer message %s", message.id)
            try:
                await message.reply("Sorry, something went wrong while answering that.")
            except discord.HTTPException:
                log.warning("could not send the error reply", exc_info=True)

    async def _answer_message(
        self, message: discord.Message, question: str, context: str | None
    ) -> None:
        guild_id = message.guild.id if message.guild else None
        surface = message_surface(self.bot, message)
        refusal = self.bot.asker.check(message.author.id, question, guild_id, surface)
        if refusal is not None:
            await message.reply(refusal.text, mention_author=False)
            return
        delay = self.bot.bot_settings.working_reaction_seconds
        async with working_reaction(message, delay, self.bot.user):
            async with message.channel.typing():
                asked = await self.bot.asker.answer(
                    question,
                    user_id=message.author.id,
                    guild_id=guild_id,
                    context=context,
                    surface=surface,
                )
            conversation = self._remember_thread(message.channel, question, context)
            reply = await message.reply(
                embed=render.render_answer(asked.answer),
                view=answer_view(asked.question_id, shown=asked.shown),
                mention_author=False,
            )
        asked.replied()
        self.bot.memory.remember(reply.id, conversation)

    def _remember_thread(self, channel: object, question: str, context: str | None) -> str:
        """Remember the conversation for the thread before replying: a follow-up may arrive
        before the reply's own request returns."""
        conversation = join_context(context, question) or question
        if isinstance(channel, discord.Thread):
            self.bot.memory.remember(channel.id, conversation)
        return conversation

    @app_commands.command(name="ask", description="Ask a question; the answer quotes the articles")
    @app_commands.describe(
        question="Your question about the articles",
        ephemeral="Only you see the answer (a button shares it in the channel)",
    )
    async def ask(
        self, interaction: discord.Interaction, question: str, ephemeral: bool = False
    ) -> None:
        await self._ask_interaction(
            interaction, " ".join(question.split()), "slash", private=ephemeral
        )

    async def ask_menu(self, interaction: discord.Interaction, message: discord.Message) -> None:
        await self._ask_interaction(interaction, " ".join(message.content.split()), "menu")

    async def _ask_interaction(
        self,
        interaction: discord.Interaction,
        question: str,
        surface: str,
        *,
        private: bool = False,
    ) -> None:
        outcome: Asked | Refusal | None = self.bot.asker.check(
            interaction.user.id, question, interaction.guild_id, surface
        )
        if isinstance(outcome, Refusal):
            await interaction.response.send_message(outcome.text, ephemeral=True)
            return
        await interaction.response.defer(thinking=True, ephemeral=private)
        asked = await self.bot.asker.answer(
            question, user_id=interaction.user.id, guild_id=interaction.guild_id, surface=surface
        )
        embed = render.render_answer(asked.answer)
        if private:
            view = PrivateAnswer(embed, asked.question_id, interaction.user.id, asked.shown)
            await interaction.followup.send(embed=embed, view=view, ephemeral=True)
            asked.replied()
            return
        conversation = self._remember_thread(interaction.channel, question, None)
        sent = await interaction.followup.send(
            embed=embed, view=answer_view(asked.question_id, shown=asked.shown), wait=True
        )
        asked.replied()
        self.bot.memory.remember(sent.id, conversation)


async def setup(bot: ArticleBot) -> None:
    await bot.add_cog(AskCog(bot))
