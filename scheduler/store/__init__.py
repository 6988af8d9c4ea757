"""The store: publications, attempts, channel states and alerts in SQLite or PostgreSQL."""
