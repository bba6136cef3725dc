"""Libraries: the operator's corpus and each server's own, opened on demand and read together."""
