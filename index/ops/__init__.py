"""Running it in production: metrics, the health endpoints, backups (docs/OPERATIONS.md)."""
