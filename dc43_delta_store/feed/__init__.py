"""The change feed: what happened after a table version, for consumers that follow it."""
