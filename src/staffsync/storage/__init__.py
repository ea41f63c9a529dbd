"""Storage: ORM models, migrations and all SQL."""
