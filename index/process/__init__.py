"""Long-lived process setup: logging, the heartbeat, the collector and the allocator."""
