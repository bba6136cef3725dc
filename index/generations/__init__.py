"""A published index generation on disk, and opened for serving: its segments laid end to end."""
