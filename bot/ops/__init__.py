"""The bot's side of running in production: its metrics state and health probes (index/ops)."""
