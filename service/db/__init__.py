"""The database: engine per backend, metadata, column types, bulk inserts, migrations."""
