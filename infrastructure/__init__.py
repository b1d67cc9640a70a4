"""Adapters to the outside world: settings, the event store, SQL, passwords, tokens, bootstrap."""
