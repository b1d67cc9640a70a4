"""The HTTP API (contract section 1)."""
