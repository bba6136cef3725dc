"""What writes INDEX_DIR: the incremental build, its checks and lock, merging segments, rollback."""
