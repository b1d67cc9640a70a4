"""Parley's domain: aggregates, their events and rules. Imports only the eventsourcing domain API."""
