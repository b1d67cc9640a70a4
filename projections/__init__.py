"""Read models: built from the event log by a tracked projector, queried by the application."""
