"""Runtime plumbing shared by the services: settings, logging, database, broker, outbox,
idempotent consumers, dead letters, HTTP health and metrics, embedded dev servers.

No business rules live here, and nothing here imports a service.
"""
