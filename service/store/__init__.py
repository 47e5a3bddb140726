"""The event store: append with locks, positions, hashes and idempotency; read back."""
