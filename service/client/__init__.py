"""Clients of a running ledger (the `push` command)."""
