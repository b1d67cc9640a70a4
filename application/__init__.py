"""Use cases: commands that change aggregates through the event store, and queries of the read models."""
