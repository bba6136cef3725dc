"""Feedback on answers beyond the 👍/👎 buttons of bot/views.py: per quote (issue 20)."""
