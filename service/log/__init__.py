"""The event log alone: append with locks, positions, hashes and idempotency; read,
head, verify, export and restore. It calls the read models through `AppendRules` only."""
