"""What tells people more than the answer itself: per-quote feedback under an answer (issue 20),
and the bot's own ⏳ reaction while it works on a slow question."""
